/* emu_bypass: a direction of a point-to-point emulated link whose
 * parameters impose nothing (emu_params_none) is carried by the kernel: a
 * BPF program on its in port's ingress (tcx, or tc's clsact where the
 * kernel has no tcx) redirects every frame into the other port's veth peer
 * (bpf_redirect_peer; to the other port's egress for a tap), as the VM
 * shortbridge does (materialize/redirect.c), and counts it. Private to emu/.
 *
 * One switch per direction, read per frame: the socket filter on the in
 * port's emulator socket reads the direction's mode (an array map the
 * data-plane thread writes), keeps the frame only when it is emulated, and
 * leaves its decision in a per-CPU slot; the redirect program, which the
 * kernel runs after the packet taps for the same frame on the same CPU,
 * takes that decision, or follows the mode for a frame the filter did not
 * see. So every frame goes one way or the other, never both and never
 * neither, even when the mode changes under it.
 *
 * The switch goes on only between two loop iterations, when the direction
 * holds no frame and its receive ring is empty (no frame of it can be
 * overtaken by a redirected one); the socket then leaves the port's taps
 * (bound to an EtherType no frame has: the kernel delivers it nothing, and
 * still reports the port going down). It goes off at once when the
 * direction gets an impairment (emu_set, before it returns) or either port
 * goes down or away: the socket back on the taps, a grace period for the
 * frames received meanwhile, then the mode. The counters of redirected
 * frames (packets, bytes, per CPU) are added to the direction's rx and tx
 * in emu_snapshot. */
#ifndef VTB_EMU_BYPASS_H
#define VTB_EMU_BYPASS_H

#include <stdint.h>

#include "emu.h"

/* Set up e->bp when a segment of e allows bypass (NULL otherwise) and mark
 * every port of those segments to be looked at. 0 or -ENOMEM. */
int emu_bypass_new(struct emu *e);
/* Switch every bypass off, remove the tc programs from the ports that
 * still exist, and free e->bp. The thread has stopped. Accepts e->bp NULL. */
void emu_bypass_free(struct emu *e);
/* Look at port's direction, and its peer's (whose frames leave by port),
 * at the next emu_bypass_run: its parameters or a port's state changed.
 * No-op without e->bp. */
void emu_bypass_mark_link(struct emu *e, uint32_t port);
/* Look at port's direction alone (it has just emptied). */
void emu_bypass_mark(struct emu *e, uint32_t port);
/* Between two iterations: switch the marked directions on or off. A
 * direction that may go on but still holds frames stays marked. */
void emu_bypass_run(struct emu *e);
/* Add what the kernel carried for port's direction to s (rx and tx) and
 * say whether it is bypassed now. */
void emu_bypass_stats(struct emu *e, uint32_t port, struct emu_port_stats *s);

/* The timer of the steered ports fired (EMU_EV_TICK): steer a bypassed
 * direction that carries BP_STEER_ON_PPS frames a second or more to its
 * port's core, and one that fell under BP_STEER_OFF_PPS back to the
 * sender's (emu_port_cfg's steer). */
void emu_bypass_tick(struct emu *e);

#endif
