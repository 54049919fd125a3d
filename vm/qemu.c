/* qemu: KVM probe, QEMU launch, QMP client. */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* pc or q35 under TCG: measured on this 2-core machine with vtb's image (a
 * PVH vmlinux and a busybox initramfs), 10 alternating boots each to
 * "vtb-guest-ready": QEMU's CPU time 3.28 s (pc) vs 3.37 s (q35), within the
 * noise; with a bzImage through SeaBIOS, pc booted in 2.2-2.7 s against
 * 2.7-3.2 s for q35. pc it is: never slower, and every NIC model we offer
 * is a PCI device that works on both. */
#define QEMU_MACHINE "pc"
#define QEMU_START_WAIT_MS 10000
#define QEMU_QMP_GREET_MS 250 /* a live QEMU greets within milliseconds */

static void sleep_ms(int ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* ---- KVM probe ----------------------------------------------------------
 *
 * What goes wrong on this machine (host kernel 6.18, /dev/kvm provided by
 * the kvm_pvm module, an AMD EPYC without hardware virtualisation exposed):
 *
 *  - /dev/kvm opens and KVM_CREATE_VM / KVM_CREATE_VCPU / KVM_RUN work.
 *  - QEMU with -accel kvm -cpu host or -cpu max aborts at once ("failed to
 *    set MSR 0x10a"); with -cpu qemu64 SeaBIOS prints its banner, then the
 *    Debian cloud kernel crawls: a minute after start it is still
 *    decompressing itself (QMP/monitor "info registers": RIP in the
 *    decompressor), and within 2.5 minutes (31 s of guest time) it has
 *    printed its boot messages up to "Memory: 213748K/261624K available"
 *    and QEMU stops with "KVM internal error. Suberror: 1 ... emulation
 *    failure" at `lock cmpxchg16b` (code bytes f0 48 0f c7 4d 20).
 *  - A 64-bit ring-0 guest run through the ioctl API executes a dec/jnz loop
 *    at about 1.3 us per iteration (1.5 M instructions/s; a CPU does
 *    1e9/s or more, TCG some 1e8/s): the PVM hypervisor does not run a
 *    stock kernel's ring-0 code on the CPU, it emulates it instruction by
 *    instruction with KVM's x86 emulator, which lacks cmpxchg16b.
 *
 * So "the kernel hangs" is a guest that is emulated 1000 times too slowly
 * and then dies at the first instruction the emulator does not know. The
 * probe runs the same kind of code a kernel runs, in a child process so
 * that a stuck KVM_RUN is simply killed at the deadline:
 *
 *   64-bit long mode, paging on, ring 0 (set up with KVM_SET_SREGS)
 *   0. OUT (the guest started);
 *   1. 10 000 iterations of dec/jnz, then OUT: calibrates the speed;
 *   2. lock cmpxchg16b on guest memory, then OUT (the value is checked);
 *   3. 20 000 000 iterations of dec/jnz, then OUT, then HLT.
 *
 * Here step 2 ends with KVM_EXIT_INTERNAL_ERROR (emulation failure) about
 * 15 ms after the start, and a host whose emulator knew cmpxchg16b would
 * still fail step 3, which needs some 25 s at this speed. On a healthy KVM
 * host (VMX or SVM, nested or not) all three steps run natively: the loops
 * take 10 us and 5-20 ms (one macro-fused dec/jnz per cycle at 1-4 GHz) and
 * cmpxchg16b is an ordinary instruction, so the probe finishes in tens of
 * milliseconds, an order of magnitude inside a 300 ms deadline. */

#define PROBE_MEM 0x200000ULL   /* one 2 MiB page, identity-mapped */
#define PROBE_PML4 0x1000
#define PROBE_PDPT 0x2000
#define PROBE_PD 0x3000
#define PROBE_DATA 0x4000       /* 16-byte aligned, for cmpxchg16b */
#define PROBE_CODE 0x8000
#define PROBE_PORT 0x80
#define PROBE_CALIBRATE 10000u
#define PROBE_LOOP 20000000u

/* What the probe child tells the parent, one message per event. */
enum probe_ev { EV_START = 1, EV_CALIBRATED, EV_CX16, EV_LOOP, EV_FAIL };
struct probe_msg {
	int ev;
	int code;          /* EV_FAIL: the step that failed (what), below */
	long long value;   /* ns since the first KVM_RUN, or an errno / exit reason */
	long long extra;   /* EV_FAIL: internal-error suberror */
};
enum probe_fail { PF_CREATE_VM = 1, PF_VCPU, PF_SETUP, PF_RUN, PF_EXIT, PF_INTERNAL, PF_CX16 };

static size_t probe_code(uint8_t *c)
{
	static const uint8_t prog[] = {
		0xb0, EV_START, 0xe6, PROBE_PORT, /* mov al, ev; out PORT, al */
		0xb9, 0, 0, 0, 0,               /* mov ecx, PROBE_CALIBRATE */
		0xff, 0xc9, 0x75, 0xfc,         /* 1: dec ecx; jnz 1b */
		0xb0, EV_CALIBRATED, 0xe6, PROBE_PORT,
		0xbf, 0, 0, 0, 0,               /* mov edi, PROBE_DATA */
		0x31, 0xc0, 0x31, 0xd2,         /* xor eax, eax; xor edx, edx */
		0xbb, 1, 0, 0, 0, 0x31, 0xc9,   /* mov ebx, 1; xor ecx, ecx */
		0xf0, 0x48, 0x0f, 0xc7, 0x0f,   /* lock cmpxchg16b [rdi] */
		0xb0, EV_CX16, 0xe6, PROBE_PORT,
		0xb9, 0, 0, 0, 0,               /* mov ecx, PROBE_LOOP */
		0xff, 0xc9, 0x75, 0xfc,
		0xb0, EV_LOOP, 0xe6, PROBE_PORT,
		0xf4,                           /* hlt */
	};
	uint32_t cal = PROBE_CALIBRATE, loop = PROBE_LOOP, data = PROBE_DATA;

	memcpy(c, prog, sizeof(prog));
	memcpy(c + 5, &cal, 4);
	memcpy(c + 18, &data, 4);
	memcpy(c + 43, &loop, 4);
	return sizeof(prog);
}

static void probe_send(int fd, int ev, int code, long long value, long long extra)
{
	struct probe_msg m = { .ev = ev, .code = code, .value = value, .extra = extra };
	ssize_t r;

	do
		r = write(fd, &m, sizeof(m));
	while (r < 0 && errno == EINTR);
}

/* Put the vcpu in 64-bit mode with paging, ring 0, at PROBE_CODE. */
static int probe_setup_vcpu(int kvm, int vcpu, uint8_t *mem)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[256];
	} cpuid;
	struct kvm_segment cs = { .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
				  .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = { .limit = 0xffffffff, .selector = 16, .type = 3, .present = 1,
				  .s = 1, .db = 1, .g = 1 };
	struct kvm_sregs sr;
	struct kvm_regs regs;
	uint64_t *pml4 = (uint64_t *)(mem + PROBE_PML4);
	uint64_t *pdpt = (uint64_t *)(mem + PROBE_PDPT);
	uint64_t *pd = (uint64_t *)(mem + PROBE_PD);

	/* the CPUID QEMU would give (long mode, cx16), as a real VMM does */
	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.h.nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) == 0)
		(void)ioctl(vcpu, KVM_SET_CPUID2, &cpuid);

	pml4[0] = PROBE_PDPT | 3;
	pdpt[0] = PROBE_PD | 3;
	pd[0] = 0x83; /* present, writable, 2 MiB page at 0 */
	probe_code(mem + PROBE_CODE);

	if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sr.cr3 = PROBE_PML4;
	sr.cr4 = 0x20;          /* PAE */
	sr.cr0 = 0x80050033;    /* PG, AM, WP, NE, ET, MP, PE: what Linux runs with */
	sr.efer = 0x500;        /* LME, LMA */
	sr.cs = cs;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = ds;
	if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = PROBE_CODE;
	regs.rsp = PROBE_CODE;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* Run the vcpu, reporting each OUT to out_fd, until HLT or a failure. */
static void probe_run(int vcpu, struct kvm_run *run, const uint8_t *mem, int out_fd)
{
	long long t0 = util_clock_ns(CLOCK_MONOTONIC);

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			probe_send(out_fd, EV_FAIL, PF_RUN, errno, 0);
			return;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			int ev = *((const uint8_t *)run + run->io.data_offset);

			if (ev == EV_CX16 && mem[PROBE_DATA] != 1) {
				probe_send(out_fd, EV_FAIL, PF_CX16, 0, 0);
				return;
			}
			probe_send(out_fd, ev, 0, util_clock_ns(CLOCK_MONOTONIC) - t0, 0);
			break;
		}
		case KVM_EXIT_HLT:
			return;
		case KVM_EXIT_INTERNAL_ERROR:
			probe_send(out_fd, EV_FAIL, PF_INTERNAL, KVM_EXIT_INTERNAL_ERROR,
				   run->internal.suberror);
			return;
		default:
			probe_send(out_fd, EV_FAIL, PF_EXIT, run->exit_reason, 0);
			return;
		}
	}
}

/* The probe child: only system calls, no allocation (the parent may have
 * threads). Reports to out_fd and exits. */
static void __attribute__((noreturn)) probe_child(int kvm, int out_fd)
{
	struct kvm_userspace_memory_region region = { .slot = 0, .memory_size = PROBE_MEM };
	struct kvm_run *run;
	uint8_t *mem;
	int vm, vcpu, r, runsz;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		probe_send(out_fd, EV_FAIL, PF_CREATE_VM, errno, 0);
		_exit(1);
	}
	mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (mem == MAP_FAILED) {
		probe_send(out_fd, EV_FAIL, PF_SETUP, errno, 0);
		_exit(1);
	}
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		probe_send(out_fd, EV_FAIL, PF_SETUP, errno, 0);
		_exit(1);
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || runsz <= 0) {
		probe_send(out_fd, EV_FAIL, PF_VCPU, errno, 0);
		_exit(1);
	}
	run = mmap(NULL, (size_t)runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		probe_send(out_fd, EV_FAIL, PF_VCPU, errno, 0);
		_exit(1);
	}
	r = probe_setup_vcpu(kvm, vcpu, mem);
	if (r < 0) {
		probe_send(out_fd, EV_FAIL, PF_SETUP, -r, 0);
		_exit(1);
	}
	probe_run(vcpu, run, mem, out_fd);
	_exit(0);
}

/* Explain a failure message of the child. */
static void probe_explain(const struct probe_msg *m, double mips, char *why, size_t whylen)
{
	char speed[96] = "";

	if (mips > 0)
		snprintf(speed, sizeof(speed), " (guest code runs at %.1f M instructions/s: emulated)", mips);
	switch (m->code) {
	case PF_CREATE_VM:
		util_fmt(why, whylen, "KVM_CREATE_VM: %s", strerror((int)m->value));
		break;
	case PF_VCPU:
		util_fmt(why, whylen, "KVM_CREATE_VCPU: %s", strerror((int)m->value));
		break;
	case PF_SETUP:
		util_fmt(why, whylen, "cannot set up a KVM guest: %s", strerror((int)m->value));
		break;
	case PF_RUN:
		util_fmt(why, whylen, "KVM_RUN: %s", strerror((int)m->value));
		break;
	case PF_INTERNAL:
		util_fmt(why, whylen,
			 "KVM cannot run lock cmpxchg16b in a 64-bit guest (KVM internal error, suberror %lld%s)%s, "
			 "so a stock kernel stops early in its boot",
			 m->extra, m->extra == KVM_INTERNAL_ERROR_EMULATION ? ": emulation failure" : "",
			 speed);
		break;
	case PF_CX16:
		util_fmt(why, whylen, "lock cmpxchg16b in a KVM guest did not store its value");
		break;
	default:
		util_fmt(why, whylen, "a 64-bit KVM guest stopped with exit reason %lld", m->value);
		break;
	}
}

/* Read the child's reports until it succeeds, fails or the deadline.
 * Returns 1, 0 (why filled) or a negative errno. */
static int probe_wait(int fd, int timeout_ms, char *why, size_t whylen)
{
	long long deadline = util_mono_ms() + timeout_ms;
	long long start_ns = 0;
	double mips = 0;
	int stage = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - util_mono_ms();
		struct probe_msg m;
		ssize_t n;
		int r;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			const char *step = stage < EV_CALIBRATED ? "10 000 instructions"
				: stage == EV_CALIBRATED ? "a lock cmpxchg16b" : "20 M instructions";
			util_fmt(why, whylen,
				 "a 64-bit KVM guest did not run %s within %d ms (a CPU needs a few ms)%s",
				 step, timeout_ms,
				 mips > 0 ? ": KVM emulates guest code instead of running it" : "");
			if (mips > 0 && why && whylen)
				snprintf(why + strlen(why), whylen - strlen(why),
					 ", at %.1f M instructions/s", mips);
			return 0;
		}
		n = read(fd, &m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m)) {
			util_fmt(why, whylen, "the KVM probe ended without an answer");
			return 0;
		}
		if (m.ev == EV_FAIL) {
			probe_explain(&m, mips, why, whylen);
			return 0;
		}
		stage = m.ev;
		if (m.ev == EV_START)
			start_ns = m.value;
		if (m.ev == EV_CALIBRATED && m.value - start_ns > 1000000) /* slow: say how slow */
			mips = 2.0 * PROBE_CALIBRATE / ((double)(m.value - start_ns) / 1e3);
		if (m.ev == EV_LOOP) {
			util_fmt(why, whylen, "a KVM guest ran 20 M instructions in %.1f ms",
				 (double)m.value / 1e6);
			return 1;
		}
	}
}

int qemu_probe_kvm(int timeout_ms, char *why, size_t whylen)
{
	int kvm, p[2], r, st;
	pid_t pid;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		util_fmt(why, whylen, "/dev/kvm: %s", strerror(errno));
		return 0;
	}
	r = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		util_fmt(why, whylen, "/dev/kvm: KVM API version %d, not %d", r, KVM_API_VERSION);
		close(kvm);
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		close(kvm);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out_close;
	}
	if (pid == 0) {
		close(p[0]);
		probe_child(kvm, p[1]);
	}
	close(p[1]);
	p[1] = -1;
	r = probe_wait(p[0], timeout_ms, why, whylen);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
out_close:
	close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	close(kvm);
	return r;
}

static pthread_mutex_t accel_lock = PTHREAD_MUTEX_INITIALIZER;
static int accel_state = -1; /* -1 unknown, else an enum qemu_accel */
static bool accel_said;
static char accel_why[256];

enum qemu_accel qemu_accel_auto(int *fell_back, char *why, size_t whylen)
{
	enum qemu_accel a;

	pthread_mutex_lock(&accel_lock);
	if (accel_state < 0) {
		int r = qemu_probe_kvm(300, accel_why, sizeof(accel_why));

		if (r < 0)
			snprintf(accel_why, sizeof(accel_why), "the KVM probe failed: %s", strerror(-r));
		accel_state = r == 1 ? QEMU_KVM : QEMU_TCG;
	}
	a = (enum qemu_accel)accel_state;
	if (fell_back)
		*fell_back = a == QEMU_TCG && !accel_said;
	if (a == QEMU_TCG)
		accel_said = true;
	util_fmt(why, whylen, "%s", accel_why);
	pthread_mutex_unlock(&accel_lock);
	return a;
}

/* ---- launch -------------------------------------------------------------- */

static const struct {
	const char *model, *device;
} nic_devices[] = {
	{ "virtio", "virtio-net-pci" },
	{ "e1000", "e1000" },
	{ "e1000e", "e1000e" },
	{ "rtl8139", "rtl8139" },
	{ "vmxnet3", "vmxnet3" },
};

const char *qemu_nic_device(const char *model)
{
	if (!model)
		return NULL;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(nic_devices); i++)
		if (!strcmp(nic_devices[i].model, model))
			return nic_devices[i].device;
	return NULL;
}

/* A NULL-terminated argv under construction; a failed add sets oom. */
struct argv {
	char **v;
	size_t n, cap;
	bool oom;
};

static void argv_add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argv_add(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (a->oom)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || util_grow((void **)&a->v, &a->cap, a->n + 2, sizeof(*a->v))) {
		if (n >= 0)
			free(s);
		a->oom = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void argv_free(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* The program to run: $VTB_QEMU, or qemu-system-x86_64 from $PATH. */
static int qemu_binary(char *buf, size_t len)
{
	const char *env = getenv("VTB_QEMU");
	const char *path = getenv("PATH");

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK) ? -errno : 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && (int)snprintf(buf, len, "%.*s/qemu-system-x86_64", (int)n, path) < (int)len &&
		    access(buf, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

static bool has_comma(const char *s)
{
	return s && strchr(s, ',');
}

/* Check s; err says what is wrong. */
static int spec_check(const struct qemu_spec *s, char *err, size_t errlen)
{
	if (!s->name || !s->kernel || !s->console_path || !s->qmp_path || !s->log_path ||
	    !s->cores || !s->memory_mib) {
		util_fmt(err, errlen, "incomplete VM spec");
		return -EINVAL;
	}
	if (has_comma(s->name) || has_comma(s->console_path) || has_comma(s->qmp_path)) {
		util_fmt(err, errlen, "VM %s: a comma in its name or socket paths", s->name);
		return -EINVAL;
	}
	if (strlen(s->console_path) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(s->qmp_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		util_fmt(err, errlen, "VM %s: socket path too long", s->name);
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < s->nnics; i++) {
		if (!qemu_nic_device(s->nics[i].model)) {
			util_fmt(err, errlen, "VM %s: unknown NIC model '%s'", s->name,
				 s->nics[i].model ? s->nics[i].model : "(none)");
			return -EINVAL;
		}
		if (s->nics[i].tap_fd < 3) {
			util_fmt(err, errlen, "VM %s: NIC %zu has no tap fd", s->name, i);
			return -EINVAL;
		}
	}
	return 0;
}

static void build_argv(struct argv *a, const char *bin, const struct qemu_spec *s)
{
	argv_add(a, "%s", bin);
	argv_add(a, "-name");
	argv_add(a, "%s", s->name);
	argv_add(a, "-nodefaults");
	argv_add(a, "-no-user-config");
	argv_add(a, "-display");
	argv_add(a, "none");
	argv_add(a, "-machine");
	argv_add(a, QEMU_MACHINE);
	argv_add(a, "-accel");
	argv_add(a, s->accel == QEMU_KVM ? "kvm" : "tcg");
	argv_add(a, "-cpu");
	argv_add(a, s->accel == QEMU_KVM ? "host" : "max");
	argv_add(a, "-smp");
	argv_add(a, "%u", s->cores);
	argv_add(a, "-m");
	argv_add(a, "%llu", s->memory_mib);
	argv_add(a, "-kernel");
	argv_add(a, "%s", s->kernel);
	if (s->initrd) {
		argv_add(a, "-initrd");
		argv_add(a, "%s", s->initrd);
	}
	if (s->cmdline) {
		argv_add(a, "-append");
		argv_add(a, "%s", s->cmdline);
	}
	for (size_t i = 0; i < s->nnics; i++) {
		const struct qemu_nic *n = &s->nics[i];
		const unsigned char *m = n->mac;

		argv_add(a, "-netdev");
		argv_add(a, "tap,id=net%zu,fd=%d", i, n->tap_fd);
		argv_add(a, "-device");
		/* an e1000 negotiating its link takes ~2 s of a TCG guest's boot:
		 * a virtual link has nothing to negotiate */
		argv_add(a, "%s,netdev=net%zu,mac=%02x:%02x:%02x:%02x:%02x:%02x%s",
			 qemu_nic_device(n->model), i, m[0], m[1], m[2], m[3], m[4], m[5],
			 !strcmp(n->model, "e1000") ? ",autonegotiation=off" : "");
	}
	argv_add(a, "-chardev");
	argv_add(a, "socket,id=console,path=%s,server=on,wait=off", s->console_path);
	argv_add(a, "-serial");
	argv_add(a, "chardev:console");
	argv_add(a, "-qmp");
	argv_add(a, "unix:%s,server=on,wait=off", s->qmp_path);
	/* a panicking guest (with a pvpanic driver) stays, paused, as
	 * guest-panicked; a rebooting one makes QEMU exit */
	argv_add(a, "-device");
	argv_add(a, "pvpanic");
	argv_add(a, "-action");
	argv_add(a, "panic=pause");
	argv_add(a, "-no-reboot");
}

/* The QEMU child: only system calls between fork and exec. */
static void __attribute__((noreturn))
qemu_child(char **argv, int null_fd, int log_fd, const struct qemu_spec *s)
{
	static const int sigs[] = { SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (s->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
		_exit(127);
	/* only 0-2 and the taps cross exec, whoever forgot O_CLOEXEC */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3; fd < 4096; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	for (size_t i = 0; i < s->nnics; i++)
		if (fcntl(s->nics[i].tap_fd, F_SETFD, 0) < 0)
			_exit(127);
	execv(argv[0], argv);
	{
		static const char msg[] = "vtb: cannot execute QEMU\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);

		(void)w;
	}
	_exit(127);
}

/* The last non-empty line of the file at path, for error messages. */
static void log_last_line(const char *path, char *buf, size_t len)
{
	char tail[2048];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	char *end, *start;

	if (buf && len)
		buf[0] = '\0';
	if (fd < 0 || !buf || !len) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size > 0)
		n = pread(fd, tail, sizeof(tail) - 1, size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	end = tail + n;
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	start = strrchr(tail, '\n');
	start = start ? start + 1 : tail;
	n = (ssize_t)strlen(start);
	if ((size_t)n >= len)
		n = (ssize_t)len - 1;
	memcpy(buf, start, (size_t)n);
	buf[n] = '\0';
}

static bool is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int unlink_stale(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* QEMU (pid) exited: explain with the last line of its log. */
static int start_failed(const struct qemu_spec *s, int st, char *err, size_t errlen)
{
	char line[512];

	log_last_line(s->log_path, line, sizeof(line));
	util_fmt(err, errlen, "QEMU of VM %s exited at start (%s %d): %s", s->name,
		 WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
		 line[0] ? line : "(no message)");
	return -EIO;
}

static int kill_reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Wait until QEMU (pid) has created both sockets and answers on QMP, or
 * has exited. QEMU creates the sockets before it builds the machine (and
 * fails on a missing kernel, say); its QMP greeting comes from the main
 * loop, so an answer means the guest runs. */
static int wait_started(const struct qemu_spec *s, pid_t pid, char *err, size_t errlen)
{
	long long deadline = util_mono_ms() + QEMU_START_WAIT_MS;
	int st, fd;

	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return start_failed(s, st, err, errlen);
		if (is_socket(s->console_path) && is_socket(s->qmp_path))
			break;
		if (util_mono_ms() >= deadline)
			goto out_timeout;
		sleep_ms(5);
	}
	fd = qemu_qmp_open(s->qmp_path, (int)(deadline - util_mono_ms() > 0 ? deadline - util_mono_ms() : 0));
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	/* QMP went away: QEMU is exiting; give it a moment to do so */
	for (long long end = util_mono_ms() + 2000; util_mono_ms() < end; sleep_ms(5))
		if (waitpid(pid, &st, WNOHANG) == pid)
			return start_failed(s, st, err, errlen);
	if (fd != -ETIMEDOUT) {
		kill_reap(pid);
		util_fmt(err, errlen, "QEMU of VM %s does not answer on QMP: %s", s->name, strerror(-fd));
		return -EIO;
	}
out_timeout:
	kill_reap(pid);
	util_fmt(err, errlen, "QEMU of VM %s did not start within %d s", s->name, QEMU_START_WAIT_MS / 1000);
	return -ETIMEDOUT;
}

int qemu_start(const struct qemu_spec *s, pid_t *pid, char *err, size_t errlen)
{
	struct argv a = { 0 };
	char bin[PATH_MAX];
	int r, null_fd = -1, log_fd = -1;
	pid_t child;

	r = spec_check(s, err, errlen);
	if (r)
		return r;
	r = qemu_binary(bin, sizeof(bin));
	if (r) {
		util_fmt(err, errlen, "cannot find QEMU (qemu-system-x86_64, or $VTB_QEMU): %s", strerror(-r));
		return r;
	}
	if ((r = unlink_stale(s->console_path)) || (r = unlink_stale(s->qmp_path))) {
		util_fmt(err, errlen, "VM %s: cannot remove an old socket: %s", s->name, strerror(-r));
		return r;
	}
	build_argv(&a, bin, s);
	if (a.oom) {
		r = -ENOMEM;
		goto out_argv;
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (null_fd < 0 || log_fd < 0) {
		r = -errno;
		util_fmt(err, errlen, "VM %s: %s: %s", s->name, null_fd < 0 ? "/dev/null" : s->log_path,
			 strerror(-r));
		goto out_close;
	}
	child = fork();
	if (child < 0) {
		r = -errno;
		util_fmt(err, errlen, "VM %s: fork: %s", s->name, strerror(-r));
		goto out_close;
	}
	if (child == 0)
		qemu_child(a.v, null_fd, log_fd, s);
	r = wait_started(s, child, err, errlen);
	if (r == 0)
		*pid = child;
out_close:
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
out_argv:
	argv_free(&a);
	return r;
}

/* ---- QMP ----------------------------------------------------------------- */

static int unix_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = util_mono_ms() + timeout_ms;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		e = errno;
		close(fd);
		if (e == EINTR)
			continue;
		if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) || util_mono_ms() >= deadline)
			return -e;
		sleep_ms(10);
	}
}

/* Read one newline-terminated QMP message (parsed) within the deadline.
 * Never reads past the newline, so the fd keeps no state between calls. */
static int qmp_read(int fd, long long deadline, json_t **msg)
{
	struct util_buf line;
	char peek[16384];
	int r = 0;

	util_buf_init(&line);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - util_mono_ms();
		ssize_t n;
		char *nl;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			break;
		}
		if (r == 0) {
			r = -ETIMEDOUT;
			break;
		}
		n = recv(fd, peek, sizeof(peek), MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 || errno == ECONNRESET ? -EPIPE : -errno;
			break;
		}
		nl = memchr(peek, '\n', (size_t)n);
		if (nl)
			n = nl - peek + 1;
		n = recv(fd, peek, (size_t)n, 0);
		if (n <= 0) {
			r = n == 0 ? -EPIPE : -errno;
			break;
		}
		util_buf_append(&line, peek, (size_t)n);
		if (line.oom || line.len > (16u << 20)) {
			r = line.oom ? -ENOMEM : -EMSGSIZE;
			break;
		}
		if (nl) {
			json_error_t je;

			*msg = json_loadb(line.s, line.len, 0, &je);
			r = *msg && json_is_object(*msg) ? 0 : -EPROTO;
			if (r && *msg) {
				json_decref(*msg);
				*msg = NULL;
			}
			break;
		}
	}
	util_buf_free(&line);
	return r;
}

static int qmp_send(int fd, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;
	int r = 0;

	if (!s)
		return -ENOMEM;
	len = strlen(s);
	s[len] = '\n'; /* replaces the NUL; the length is known */
	while (off < len + 1) {
		ssize_t n = send(fd, s + off, len + 1 - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errno == ECONNRESET ? -EPIPE : -errno;
			break;
		}
		off += (size_t)n;
	}
	free(s);
	return r;
}

int qemu_qmp_cmd(int fd, const char *cmd, json_t *args, json_t **ret, int timeout_ms)
{
	static unsigned long long next_id;
	long long deadline = util_mono_ms() + timeout_ms;
	unsigned long long id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	json_t *req;
	int r;

	if (ret)
		*ret = NULL;
	req = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (!req)
		return -ENOMEM;
	if (args && json_object_set(req, "arguments", args)) {
		json_decref(req);
		return -ENOMEM;
	}
	r = qmp_send(fd, req);
	json_decref(req);
	if (r)
		return r;
	for (;;) {
		json_t *msg = NULL, *val;

		r = qmp_read(fd, deadline, &msg);
		if (r)
			return r;
		val = json_object_get(msg, "id");
		if (json_object_get(msg, "event") || !json_is_integer(val) ||
		    (unsigned long long)json_integer_value(val) != id) {
			json_decref(msg);
			continue;
		}
		if ((val = json_object_get(msg, "return")))
			r = 0;
		else if ((val = json_object_get(msg, "error")))
			r = -EREMOTEIO;
		else
			r = -EPROTO;
		if (ret && val)
			*ret = json_incref(val);
		json_decref(msg);
		return r;
	}
}

int qemu_qmp_open(const char *path, int timeout_ms)
{
	long long deadline = util_mono_ms() + timeout_ms;
	json_t *greeting = NULL;
	int fd, r;

	fd = unix_connect(path, timeout_ms);
	if (fd < 0)
		return fd;
	r = qmp_read(fd, deadline, &greeting);
	if (r == 0 && !json_object_get(greeting, "QMP"))
		r = -EPROTO;
	json_decref(greeting);
	if (r == 0) {
		long long left = deadline - util_mono_ms();

		r = qemu_qmp_cmd(fd, "qmp_capabilities", NULL, NULL, left > 0 ? (int)left : 0);
	}
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

int qemu_qmp_status(int fd, char *status, size_t len)
{
	json_t *ret = NULL;
	const char *st;
	int r;

	r = qemu_qmp_cmd(fd, "query-status", NULL, &ret, 2000);
	if (r) {
		json_decref(ret);
		return r;
	}
	st = json_string_value(json_object_get(ret, "status"));
	if (!st) {
		json_decref(ret);
		return -EPROTO;
	}
	snprintf(status, len, "%s", st);
	json_decref(ret);
	return 0;
}

/* ---- quit ---------------------------------------------------------------- */

/* The state letter of /proc/PID/stat, 0 when the process does not exist. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Whether pid is gone: reaped (when it is our child), a zombie or absent. */
static bool proc_gone(pid_t pid)
{
	int st;
	pid_t w = waitpid(pid, &st, WNOHANG);
	char s;

	if (w == pid)
		return true;
	if (w == 0)
		return false;
	s = proc_state(pid); /* not our child */
	return s == 0 || s == 'Z' || s == 'X';
}

static bool wait_gone(pid_t pid, long long deadline)
{
	for (;;) {
		if (proc_gone(pid))
			return true;
		if (util_mono_ms() >= deadline)
			return false;
		sleep_ms(10);
	}
}

/* Whether pid runs a QEMU (so that a reused pid is never killed). */
static bool is_qemu(pid_t pid)
{
	char path[64], comm[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return !strncmp(comm, "qemu", 4);
}

/* Ask QEMU to quit over QMP. False when QMP does not answer: QEMU serves
 * one QMP client at a time, so a socket that another process holds
 * connects but never greets. */
static bool qmp_quit(const char *qmp_path, long long deadline)
{
	int left = (int)(deadline - util_mono_ms()), fd, r;

	fd = qemu_qmp_open(qmp_path, left < QEMU_QMP_GREET_MS ? left : QEMU_QMP_GREET_MS);
	if (fd < 0)
		return false;
	left = (int)(deadline - util_mono_ms());
	r = qemu_qmp_cmd(fd, "quit", NULL, NULL, left > 0 ? left : 0);
	close(fd);
	return r == 0 || r == -EPIPE; /* it may close before it answers */
}

int qemu_quit(const char *qmp_path, pid_t pid, int timeout_ms)
{
	long long deadline = util_mono_ms() + timeout_ms;

	if (pid <= 0)
		return -EINVAL;
	if (proc_gone(pid) || !is_qemu(pid))
		return 0; /* a pid that is not a QEMU is not ours any more */
	/* SIGTERM makes QEMU shut down as cleanly as quit does */
	if (!qmp_path || !qmp_quit(qmp_path, deadline))
		kill(pid, SIGTERM);
	if (wait_gone(pid, deadline))
		return 0;
	if (!is_qemu(pid))
		return 0;
	kill(pid, SIGKILL);
	return wait_gone(pid, util_mono_ms() + 1000) ? 0 : -ETIMEDOUT;
}
