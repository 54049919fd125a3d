/* vms: the supervisor's VMs. For every VM node of the experiment it writes
 * the per-VM initrd (the guest's addresses, routes and hostname, see
 * vm/image.h), opens the node's taps (made by build, one per endpoint) and
 * starts QEMU with them, its serial console and QMP on unix sockets in the
 * state directory; a thread per VM then waits for the guest's shell to
 * answer (the readiness of the Qemunet shell proxy). Commands run one at a
 * time per console through that proxy.
 *
 * Every file and process is journaled before (files) or right after
 * (processes: a pid is only known then) it is created, so teardown and
 * vtb clean remove them like every other object. QEMU dies with the
 * supervisor (a parent-death signal): a supervisor killed with -9 leaves no
 * QEMU behind. */
#ifndef VTB_VMS_H
#define VTB_VMS_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

struct sup_vms;

#define VMS_BOOT_TIMEOUT_MS 120000 /* VTB_VM_BOOT_TIMEOUT (seconds) changes it */
/* How long QEMU may take to create its console and QMP sockets after it
 * starts: it does so before the guest runs, in well under a second even
 * with eight QEMUs starting at once under TCG on two cores. */
#define VMS_SOCKET_WAIT_MS 10000
/* A guest whose console loses early input (vm/arch.h, console_hold) is
 * poked only once it printed its ready line, or after this long: the
 * supervisor connects to the console within milliseconds of QEMU's start,
 * long before a boot of 2-5 s prints that line, so the time only matters
 * if the line was missed, and then the guest is long past its boot. */
#define VMS_POKE_HOLD_MS 30000
/* How long a VM gets to quit over QMP before it is killed: nothing in the
 * guest needs saving, so this only has to cover QEMU's own exit. */
#define VMS_QUIT_MS 3000

/* Start every VM of experiment id (QEMU launched here, in the calling
 * thread, which must live as long as the VMs: the parent-death signal is
 * tied to it). The guest image must exist (img_ensure). Returns at once;
 * boots go on in the background. With no VM, *out is a valid empty set.
 * Returns 0 or a negative errno with err naming the VM. */
int vms_start(const char *id, struct sup_vms **out, char *err, size_t errlen);
/* Quit every QEMU (QMP quit, then SIGKILL), wait for the holds to be
 * released, and free everything. NULL is fine. */
void vms_stop(struct sup_vms *v);
/* A client thread that will call vms_exec or vms_attach takes a hold
 * before it starts (in the thread that will later call vms_stop) and
 * releases it when done. */
void vms_hold(struct sup_vms *v);
void vms_release(struct sup_vms *v);

/* {"accel": "tcg", "accel_note": "...", "vms": [{"name", "state", "boot_s",
 * "error"}]}: state is "booting", "ready" or "failed"; a VM whose QEMU
 * exited or whose guest panicked is failed, with the reason. */
json_t *vms_json(struct sup_vms *v);
/* Wait until the VMs' state version (vms_json's "version": it goes up on
 * every boot that ends and every failure) differs from since, at most
 * timeout_ms. Returns the version then. */
uint64_t vms_wait(struct sup_vms *v, uint64_t since, int timeout_ms);
/* Add "vm": {accel, state, boot_s, pid, error} to every VM node of status
 * (status_json's document) and set the node's "state" to the VM's. */
void vms_annotate(struct sup_vms *v, json_t *status);

/* Run cmd on VM node through its console: output appended to out, exit
 * status in *status. -ENOENT (no such VM), -EAGAIN (still booting),
 * -EHOSTDOWN (failed: err says why), -ETIMEDOUT, or another errno; err
 * says it in words. Safe to call from several threads (one command at a
 * time per VM; others wait). */
int vms_exec(struct sup_vms *v, const char *node, const char *cmd, int timeout_ms,
	     struct util_buf *out, int *status, char *err, size_t errlen);
/* Whether node is a VM of the experiment ready for commands: 0, or the
 * errors of vms_exec (-ENOENT, -EAGAIN, -EHOSTDOWN) with err in words. */
int vms_check(struct sup_vms *v, const char *node, char *err, size_t errlen);
/* Pause (action "stop") or resume ("cont") VM node over QMP (vtb node
 * stop, start): the guest's clock and CPUs stop, QEMU stays. Waits for a
 * command on its console to end. A stopped VM takes no command (-EAGAIN)
 * and vms_annotate marks it "stopped". Returns 0, 1 when it was so
 * already, or the errors of vms_exec (-EINVAL: another action) with err. */
int vms_power(struct sup_vms *v, const char *node, const char *action, char *err, size_t errlen);

/* Connect fd (a client's connection) to node's console until fd closes:
 * the interactive console. Same errors as vms_exec. */
int vms_attach(struct sup_vms *v, const char *node, int fd, char *err, size_t errlen);

#endif
