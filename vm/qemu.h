/* qemu: the QEMU start helper and the QEMU proxy of Qemunet (qemu.c
 * launches and stops, kvm_probe.c probes, qmp.c is the QMP client over the
 * stream parser of qmp_stream.h). It probes
 * whether KVM really runs a guest, starts QEMU (qemu-system-x86_64, or the
 * program of another guest architecture, vm/arch.h) detached
 * (its own session, so it outlives `vtb up`) with the serial console and
 * QMP on unix sockets that the supervisor connects to later, and drives
 * the lifecycle over QMP.
 *
 * Every function returns 0 (or a count, or an fd) or a negative errno.
 * Nothing here prints: the explanations go to the caller's why/err buffers. */
#ifndef VTB_QEMU_H
#define VTB_QEMU_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Probe whether KVM really runs a guest: open /dev/kvm and run a tiny
 * 64-bit guest through the KVM ioctl API in a child process, which is
 * killed when it does not finish within timeout_ms (300 is plenty on a
 * healthy host, which needs a few milliseconds). Returns 1 when KVM works,
 * 0 when it does not (why says why), or a negative errno for an internal
 * failure (fork, pipe). why may be NULL. See qemu.c for what is tested and
 * the evidence behind it. */
int qemu_probe_kvm(int timeout_ms, char *why, size_t whylen);

enum qemu_accel { QEMU_TCG, QEMU_KVM };

/* The accelerator to use, from qemu_probe_kvm(300) run once per process
 * (later calls return the cached answer). *fell_back is set to 1 only for
 * the first call that found KVM unusable, so the caller says "KVM does not
 * work here (why); using TCG" once; why is filled on every call. */
enum qemu_accel qemu_accel_auto(int *fell_back, char *why, size_t whylen);

struct qemu_nic {
	const char *model;      /* "virtio", "e1000", "e1000e", "rtl8139", "vmxnet3" */
	unsigned char mac[6];
	int tap_fd;             /* an open tap (IFF_TAP | IFF_NO_PI, and IFF_VNET_HDR for
				 * offloads, which QEMU finds by itself); QEMU inherits it */
};

struct vm_arch;

struct qemu_spec {
	const char *name;                /* shown by ps and in QEMU's messages; no commas */
	const struct vm_arch *arch;      /* the guest's architecture (vm/arch.h); NULL: the host's */
	const char *kernel, *initrd, *cmdline;
	unsigned cores;
	unsigned long long memory_mib;
	enum qemu_accel accel;
	const struct qemu_nic *nics;
	size_t nnics;
	const char *console_path;        /* unix socket (server) for the serial console; no commas */
	const char *qmp_path;            /* unix socket (server) for QMP; no commas */
	const char *log_path;            /* QEMU's stdout and stderr (truncated) */
	const char *share;               /* host directory the guest mounts read-only (virtio-9p,
					  * tag vtbhost), or NULL; no commas */
	bool die_with_parent;            /* SIGKILL QEMU when the thread that started it ends */
	const int *cg_fds;               /* cgroup.procs QEMU joins before exec (its limits) */
	size_t ncg_fds;
};

/* Fork and exec the QEMU of s's architecture (qemu-system-x86_64 for the
 * host's, whose program VTB_QEMU overrides; vm/arch.h) for s.
 * QEMU runs in its own session and does not die with the caller. The tap
 * fds stay the caller's (QEMU gets its own copies); every other fd of the
 * caller is closed in QEMU. Stale sockets at console_path and qmp_path are
 * removed first. Returns 0 and *pid once both sockets exist and QMP has
 * answered (QEMU greets from its main loop, so the machine is built and the
 * guest runs: a missing kernel is caught here); when QEMU exits first,
 * -EIO with the last line of its log in err ("qemu: could not open kernel
 * file ..."); -ETIMEDOUT (QEMU killed) when it is not up within 10 s;
 * -EINVAL for a bad spec (unknown NIC model or one the architecture's
 * guest cannot drive, KVM for another architecture, a comma in the name
 * or a socket path). err may be NULL. The caller reaps *pid (or qemu_quit does).
 *
 * A guest panic stays visible: QEMU has a pvpanic device and pauses on
 * panic (query-status says "guest-panicked") when the guest kernel drives
 * it; a guest that reboots (panic=-1 on its command line without pvpanic,
 * a triple fault) makes QEMU exit (-no-reboot), which its console reports
 * as -EPIPE. */
int qemu_start(const struct qemu_spec *s, pid_t *pid, char *err, size_t errlen);

/* The QEMU device for a NIC model of the language ("virtio" ->
 * "virtio-net-pci"), NULL when the model is unknown. */
const char *qemu_nic_device(const char *model);

/* Connect to the QMP socket at path (waiting, on inotify events, until it
 * exists and accepts, up to timeout_ms), read the greeting and leave
 * negotiation mode with
 * qmp_capabilities. Returns the connected fd (the caller closes it) or a
 * negative errno: -ENOENT / -ECONNREFUSED when nothing listens there,
 * -ETIMEDOUT, -EPIPE when QEMU closed the connection. */
int qemu_qmp_open(const char *path, int timeout_ms);

/* Run QMP command cmd with arguments args (may be NULL; not taken) on fd
 * and wait up to timeout_ms for its answer, skipping asynchronous events.
 * On success *ret (when ret is not NULL) holds the "return" value, which
 * the caller json_decref()s. When QEMU answers with an error: -EREMOTEIO,
 * and *ret holds the "error" object ({"class", "desc"}). -EPIPE when the
 * connection closed (QEMU died), -ETIMEDOUT, -EPROTO for a malformed
 * answer. */
int qemu_qmp_cmd(int fd, const char *cmd, json_t *args, json_t **ret, int timeout_ms);

/* query-status: copy the run state ("running", "paused", "internal-error",
 * "guest-panicked", "shutdown", ...) into status. Waits up to 2 s. */
int qemu_qmp_status(int fd, char *status, size_t len);

/* Stop the QEMU with QMP socket qmp_path and process id pid: QMP quit (or
 * SIGTERM, which QEMU handles the same way, when qmp_path is NULL or QMP
 * does not greet within 250 ms: QEMU serves one QMP client at a time, so
 * a caller holding a QMP connection should send "quit" on it itself or
 * pass NULL), then SIGKILL when it has not exited within timeout_ms. pid
 * is reaped when it is the caller's child; otherwise this waits until
 * /proc/PID is gone or a zombie. A pid that is not (any more) a QEMU is
 * never signalled. Returns 0 once the process is gone (also when it was
 * gone already), or -ETIMEDOUT when even SIGKILL did not end it within a
 * second. */
int qemu_quit(const char *qmp_path, pid_t pid, int timeout_ms);

#endif
