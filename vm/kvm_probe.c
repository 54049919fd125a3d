/* kvm_probe: whether KVM really runs a guest here (qemu_probe_kvm) and
 * the accelerator to use (qemu_accel_auto); see qemu.h. */
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

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
