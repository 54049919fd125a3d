/* test_arch: the guest architectures (vm/arch.c) and their realization:
 * arch == arm64 (or aarch64) and riscv64 make VMs of that architecture,
 * NIC models their guests cannot drive and other architectures are
 * errors naming the device, and time dilation is refused with the reason.
 * Also the private apt configuration of another architecture's packages
 * (vm/image_apt.c) and the console's hold of its pokes until an arm64
 * guest is up (vm/console.c). */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <unistd.h>

#include "arch.h"
#include "compile.h"
#include "console.h"
#include "image_impl.h"
#include "realize.h"

#define GIB (1ULL << 30)

static const struct rz_host host = { .cores = 64, .memory = 256 * GIB };

struct run {
	struct xir *x;
	struct realization *r;
	struct diag_list d;
	int rc;
};

/* Compile src (which must compile cleanly) and realize it. */
static void run_model(struct run *t, const char *src)
{
	struct diag_list cd;

	memset(t, 0, sizeof(*t));
	diag_init(&cd, "t.vtb", src, strlen(src));
	assert_int_equal(compile_source("t.vtb", src, strlen(src), NULL, &t->x, &cd, NULL), 0);
	diag_free(&cd);
	diag_init(&t->d, "t.vtb", src, strlen(src));
	t->rc = realize(t->x, &host, &t->r, &t->d);
}

static void run_free(struct run *t)
{
	realize_free(t->r);
	diag_free(&t->d);
	xir_free(t->x);
}

/* Whether an error of t contains every one of the NULL-terminated words. */
static bool has_error(const struct run *t, const char *const *words)
{
	size_t i, k;

	for (i = 0; i < t->d.n; i++) {
		if (t->d.v[i].level != DIAG_ERROR)
			continue;
		for (k = 0; words[k] && strstr(t->d.v[i].msg, words[k]); k++)
			;
		if (!words[k])
			return true;
	}
	for (i = 0; i < t->d.n; i++)
		fprintf(stderr, "have: %s\n", t->d.v[i].msg);
	return false;
}

static const struct rz_node *node_of(const struct run *t, const char *name)
{
	uint32_t i;

	assert_true(xir_find_node(t->x, name, &i));
	return &t->r->nodes[i];
}

static void test_table(void **state)
{
	char buf[128];

	(void)state;
	assert_ptr_equal(vm_arch_find("aarch64"), vm_arch_find("arm64"));
	assert_non_null(vm_arch_find("riscv64"));
	assert_ptr_equal(vm_arch_find("x86_64"), vm_arch_host());
	assert_null(vm_arch_find("s390x"));
	assert_null(vm_arch_find(NULL));
	assert_string_equal(vm_arch_find("arm64")->qemu, "qemu-system-aarch64");
	assert_string_equal(vm_arch_find("arm64")->console, "ttyAMA0");
	assert_string_equal(vm_arch_find("riscv64")->suite, "trixie");
	assert_null(vm_arch_host()->suite);
	assert_true(vm_arch_has_nic(vm_arch_find("riscv64"), "virtio"));
	assert_false(vm_arch_has_nic(vm_arch_find("riscv64"), "rtl8139"));
	assert_true(vm_arch_has_nic(vm_arch_host(), "vmxnet3"));
	assert_string_equal(vm_arch_list(buf, sizeof(buf)), "x86_64, arm64 (aarch64), riscv64");
	/* the console of each row is the one of its kernel command line */
	for (const char *const *n = (const char *const[]){ "x86_64", "arm64", "riscv64", NULL }; *n;
	     n++) {
		const struct vm_arch *a = vm_arch_find(*n);

		snprintf(buf, sizeof(buf), "console=%s ", a->console);
		assert_non_null(strstr(a->cmdline, buf));
	}
	/* the x86_64 guest under TCG: no rep movsb copies, no page zeroing
	 * on allocation (issue 13: both cost the guest its throughput) */
	assert_non_null(strstr(vm_arch_host()->cpu_tcg, "erms=off"));
	assert_non_null(strstr(vm_arch_host()->cmdline, " init_on_alloc=0"));
	/* virtio_net loads without TX interrupts, on every architecture */
	assert_non_null(strstr(img_init_script, "*/virtio_net.ko) args=napi_tx=0 ;;"));
	assert_non_null(strstr(img_init_script, "insmod \"$m\" $args"));
}

/* arm64, aarch64 and riscv64 make VMs of that architecture; a plain VM
 * is the host's. */
static void test_realize_arch(void **state)
{
	struct run t;

	(void)state;
	run_model(&t, "a = topo.device('a', arch == arm64)\n"
		      "b = topo.device('b', arch == aarch64)\n"
		      "r = topo.device('r', arch == riscv64)\n"
		      "v = topo.device('v', virt == true)\n"
		      "c = topo.device('c')\n"
		      "topo.connect([a, c])\n"
		      "l = topo.connect([r, c], latency == ms(5))\n"
		      "l[r].spec(nic == e1000)\n"
		      "topo.connect([b, v, c])\n");
	assert_int_equal(t.rc, 0);
	assert_int_equal(node_of(&t, "a")->kind, RZ_VM);
	assert_string_equal(node_of(&t, "a")->vm_arch, "arm64");
	assert_string_equal(node_of(&t, "b")->vm_arch, "arm64");
	assert_string_equal(node_of(&t, "r")->vm_arch, "riscv64");
	assert_string_equal(node_of(&t, "v")->vm_arch, "x86_64");
	assert_int_equal(node_of(&t, "c")->kind, RZ_CONTAINER);
	run_free(&t);
}

/* A NIC model the guest has no driver for, and an architecture vtb has
 * no guest of, are errors naming the device and the model. */
static void test_refused(void **state)
{
	struct run t;

	(void)state;
	run_model(&t, "r = topo.device('r', arch == riscv64)\n"
		      "s = topo.device('s', arch == s390x)\n"
		      "c = topo.device('c')\n"
		      "l = topo.connect([r, c])\n"
		      "l[r].spec(nic == rtl8139)\n"
		      "topo.connect([s, c])\n");
	assert_int_equal(t.rc, -EINVAL);
	assert_true(has_error(&t, (const char *const[]){ "endpoint 'r'", "nic == rtl8139",
							 "riscv64 VM", "virtio, e1000, e1000e", NULL }));
	assert_true(has_error(&t, (const char *const[]){ "device 's'", "arch == s390x",
							 "x86_64, arm64 (aarch64), riscv64", NULL }));
	run_free(&t);
}

/* Time dilation stays refused, and the refusal says why. */
static void test_dilation(void **state)
{
	struct run t;

	(void)state;
	run_model(&t, "v = topo.device('v', dilation == 10)\n"
		      "c = topo.device('c')\n"
		      "topo.connect([v, c])\n");
	assert_int_equal(t.rc, -EINVAL);
	assert_true(has_error(&t, (const char *const[]){ "device 'v'", "dilation == 10", "-icount",
							 "not slowed by a fixed factor", NULL }));
	run_free(&t);
}

/* The private apt of another architecture: its own sources, lists, cache
 * and architecture; the host's arch gets none of it. */
static void test_apt_argv(void **state)
{
	static const char *const args[] = { "show", "busybox-static", NULL };
	struct img_inputs in = { .arch = vm_arch_find("riscv64") };
	struct img_apt t;
	char joined[4096] = "";
	size_t i;

	(void)state;
	snprintf(in.cache, sizeof(in.cache), "/c");
	img_apt_argv(&t, &in, "apt-cache", args);
	for (i = 0; t.argv[i]; i++)
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s ", t.argv[i]);
	assert_non_null(strstr(joined, "APT::Architectures::=riscv64 "));
	assert_non_null(strstr(joined, "Dir::Etc::SourceList=/c/apt-riscv64/sources.list "));
	assert_non_null(strstr(joined, "Dir::Etc::SourceParts=/dev/null "));
	assert_non_null(strstr(joined, "Dir::State::Lists=/c/apt-riscv64/lists "));
	assert_non_null(strstr(joined, "Dir::State::status=/dev/null "));
	assert_non_null(strstr(joined, "Dir::Cache=/c/apt-riscv64/cache "));
	assert_non_null(strstr(joined, "show busybox-static "));
	assert_string_equal(t.argv[0], "apt-cache");
	in.arch = vm_arch_host();
	img_apt_argv(&t, &in, "apt-get", args);
	for (i = 0; t.argv[i]; i++)
		assert_null(strstr(t.argv[i], "Dir::"));
}

/* How long a wait for a shell that never answers runs in test_hold. */
#define HOLD_WAIT_MS 300

/* Bytes the console sent to the guest's end (sv1) so far. */
static ssize_t sent_to_guest(int sv1, char *buf, size_t len)
{
	ssize_t n = recv(sv1, buf, len - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* con_hold_pokes: nothing goes to the guest before its ready line, the
 * setup line does once it came; without a hold it goes at once. */
static void test_hold(void **state)
{
	char buf[4096];
	struct con *c;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(con_open_fd(sv[0], &c), 0);
	con_hold_pokes(c, "vtb-guest-ready", 60000);
	assert_int_equal(con_wait_ready(c, HOLD_WAIT_MS), -ETIMEDOUT);
	assert_true(sent_to_guest(sv[1], buf, sizeof(buf)) < 0);
	assert_int_equal(write(sv[1], "[ 1.0] x\nvtb-guest-ready\n", 26), 26);
	assert_int_equal(con_wait_ready(c, HOLD_WAIT_MS), -ETIMEDOUT);
	assert_true(sent_to_guest(sv[1], buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "PS1="));
	con_close(c);
	close(sv[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(con_open_fd(sv[0], &c), 0);
	assert_int_equal(con_wait_ready(c, HOLD_WAIT_MS), -ETIMEDOUT);
	assert_true(sent_to_guest(sv[1], buf, sizeof(buf)) > 0);
	con_close(c);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_realize_arch),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_dilation),
		cmocka_unit_test(test_apt_argv),
		cmocka_unit_test(test_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
