/* noderun_helper: how the factory starts each node's helper K (docs/nodes.md,
 * "Lifetime"). On x86-64 K is a clone(CLONE_VM) child of the factory: it
 * shares the factory's address space, so starting it copies no page table
 * and takes no copy-on-write fault, and its exit frees none (a fork of the
 * factory cost about 1 ms of CPU per node on a PVM guest). What K writes
 * is its own: one mapping per K holds its stack, a copy of the factory's
 * thread-local storage and thread control block (K's thread pointer:
 * errno and glibc's other per-thread state) and its request. The mapping
 * is never unmapped: the init runs on it until the node ends, and the
 * address space goes with the last process that shares it. Every process
 * sharing it is kept out of the OOM killer's choice (it kills every
 * process that shares its victim's address space: one node's memory limit
 * would end every node of the experiment). Elsewhere, or when the thread
 * block is not laid out as glibc's x86-64 one, K is a fork of the factory
 * with the same mapping (then a copy of its own). */
#include "noderun_int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

/* K's stack: the deepest path is a seed's copy, NR_SEED_DEPTH (32) levels
 * of about 8.5 KiB each (a directory buffer and a symlink's target), with
 * the child A's 16 KiB stack and libc's frames above it: 512 KiB holds it
 * with room. Untouched pages cost nothing; a guard page below it turns an
 * overflow into a fault instead of another node's memory. */
#define NH_STACK (512u * 1024)
/* The alignment of glibc's thread control block (struct pthread) on
 * x86-64, and of everything placed in the mapping. */
#define NH_ALIGN 64u
/* The largest thread control block believed: glibc's is about 2.3 KiB. */
#define NH_TCB_MAX (64u * 1024)

#if defined(__x86_64__)
/* sizeof(struct pthread), which glibc publishes for libthread_db. */
extern const uint32_t _thread_db_sizeof_pthread;
#endif

/* The factory's thread block, when K can have a copy: the TLS block of the
 * executable below the thread pointer (x86-64's TLS variant II), the
 * thread control block above it. nh_tp NULL: K is a fork. */
static char *nh_tp;
static size_t nh_tls_below, nh_tcb;
static long nh_page;
/* Whether a limited node's helper gets an address space of its own: its
 * init goes into the node's cgroups, where an OOM kill of it would kill
 * every process sharing its address space, unless the factory could set
 * its oom_score_adj to -1000, which every process sharing it inherits. The
 * other inits stay in vtb up's cgroup, where they share the OOM killer's
 * choice with the host's processes: their shared memory is about 16 KiB
 * a node (a bigger process is chosen first). */
static bool nh_limited_own;

static size_t nh_round(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

/* Find the factory's thread block (nh_tp, nh_tls_below, nh_tcb), or leave
 * nh_tp NULL when it is not the layout K's copy assumes: the thread
 * pointer's first and third words (glibc's tcbhead_t tcb and self) point
 * at itself, and the executable's PT_TLS segment ends at it. */
static void nh_find_tls(void)
{
#if defined(__x86_64__)
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	size_t n = getauxval(AT_PHNUM), i;
	char *tp;

	for (i = 0; ph && i < n && ph[i].p_type != PT_TLS; i++)
		;
	if (!ph || i == n)
		return;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	if (((char **)tp)[0] != tp || ((char **)tp)[2] != tp || (uintptr_t)tp % NH_ALIGN ||
	    _thread_db_sizeof_pthread < 3 * sizeof(void *) || _thread_db_sizeof_pthread > NH_TCB_MAX)
		return;
	nh_tls_below = nh_round(ph[i].p_memsz, ph[i].p_align ? ph[i].p_align : 1);
	nh_tcb = _thread_db_sizeof_pthread;
	nh_tp = tp;
#endif
}

/* See noderun_int.h. Without CAP_SYS_RESOURCE (a container's root) the
 * factory cannot keep its address space out of the OOM killer's choice:
 * then a limited node's helper gets one of its own (nh_limited_own). */
void nr_helper_setup(void)
{
	static const char never[] = "-1000";
	int fd;

	nh_page = sysconf(_SC_PAGESIZE);
	nh_find_tls();
	if (!nh_tp)
		return;
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	nh_limited_own = fd < 0 || write(fd, never, sizeof(never) - 1) != (ssize_t)sizeof(never) - 1;
	if (fd >= 0)
		close(fd);
}

/* The number of arguments in request buf (each ends in a NUL). */
static size_t nh_nargs(const char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += !buf[i];
	return n;
}

/* Lay K's mapping out at base: the stack above the guard page, then the
 * thread block, the request (k) and its copy of buf. Returns k, in the
 * mapping; *tp is K's thread pointer (NULL: the factory's). */
static struct nr_kreq *nh_layout(char *base, const char *buf, size_t len, size_t nargs,
				 bool share, void **tp)
{
	char *p = base + nh_page + NH_STACK;
	struct nr_kreq *k;

	*tp = NULL;
	if (share) {
		p += nh_round(nh_tls_below, NH_ALIGN);
		memcpy(p - nh_tls_below, nh_tp - nh_tls_below, nh_tls_below + nh_tcb);
		((char **)p)[0] = p;
		((char **)p)[2] = p;
		*tp = p;
		p += nh_round(nh_tcb, NH_ALIGN);
	}
	k = (struct nr_kreq *)p;
	p += nh_round(sizeof(*k), NH_ALIGN);
	*k = (struct nr_kreq){ .argv = (char **)p, .nargs = nargs, .len = len };
	p += nh_round((nargs + 1) * sizeof(char *), NH_ALIGN);
	k->priv = (struct rz_private *)p;
	p += nh_round((nargs / 2 + 1) * sizeof(struct rz_private), NH_ALIGN);
	k->buf = memcpy(p, buf, len);
	return k;
}

/* See noderun_int.h. */
pid_t nr_helper_start(const char *buf, size_t len, const int *fds, size_t nfd, int sock,
		      bool own_mm, int (*fn)(void *))
{
	bool share = nh_tp && !(own_mm && nh_limited_own);
	size_t nargs = nh_nargs(buf, len), size;
	struct nr_kreq *k;
	char *base;
	void *tp;
	pid_t pid;

	size = nh_page + NH_STACK + nh_round(nh_tls_below, NH_ALIGN) + nh_round(nh_tcb, NH_ALIGN) +
	       nh_round(sizeof(*k), NH_ALIGN) + nh_round((nargs + 1) * sizeof(char *), NH_ALIGN) +
	       nh_round((nargs / 2 + 1) * sizeof(struct rz_private), NH_ALIGN) + len;
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	if (mprotect(base, (size_t)nh_page, PROT_NONE)) {
		pid = -errno;
		goto out_unmap;
	}
	k = nh_layout(base, buf, len, nargs, share, &tp);
	memcpy(k->fds, fds, nfd * sizeof(int));
	k->nfd = nfd;
	k->sock = sock;
	/* like fork, or sharing the address space with its own thread
	 * pointer: K in a new pid namespace whose pid 1 it is */
	pid = clone(fn, base + nh_page + NH_STACK,
		    CLONE_NEWPID | SIGCHLD | (tp ? CLONE_VM | CLONE_SETTLS : 0), k, NULL, tp, NULL);
	if (pid < 0)
		pid = -errno;
	if (pid > 0 && tp)
		return pid; /* the mapping is K's now */
out_unmap:
	munmap(base, size);
	return pid;
}
