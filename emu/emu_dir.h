/* emu_dir: one direction of one emulated link, as a pure state machine.
 *
 * No clock, no sockets, no allocation per packet: the data plane offers each
 * frame with the current time (emu_dir_offer), arms a timer for
 * emu_dir_next_deadline, and collects the frames that are due
 * (emu_dir_due). The state is deterministic given the seed, so tests replay
 * exactly.
 *
 * The model, per frame, in this order:
 *   1. loss: Bernoulli(loss), or Gilbert-Elliott when ge.on (a 2-state
 *      Markov chain: a frame is lost with the current state's loss
 *      probability, then the state moves good->bad with p_gb, bad->good with
 *      p_bg). A lost frame never reaches the queue (drop "loss").
 *   2. duplicate: with probability duplicate a second copy is queued right
 *      behind the original; it takes its own wire time and queue space.
 *   3. each copy: corrupt with probability corrupt (a flag; the data plane
 *      flips a bit), then the queue:
 *        serialization: the wire is FIFO in arrival order. A frame of L bytes
 *        (Ethernet frame bytes, as given) occupies it for L*8*1e9/rate_bps ns,
 *        starting at max(arrival, busy_until). Fractions of a ns carry over,
 *        so the long-run rate is exact.
 *        queue: the backlog is the frames that have arrived but whose
 *        serialization has not started yet. A frame that would have to wait
 *        is dropped at the tail (drop "queue") if the backlog would then
 *        exceed queue_pkts frames or queue_bytes bytes.
 *        delay line: departure = serialization end + latency + jitter, the
 *        jitter uniform in [-jitter_ns, +jitter_ns] (delay clamped at >= 0),
 *        then raised to the latest departure so far: jitter never reorders,
 *        it only spreads. (At frame spacing well above 2*jitter the delay is
 *        latency +- jitter with mean latency; at close spacing the clamp
 *        pushes the mean delay towards latency + jitter.)
 *        reorder (netem's model): with probability reorder a frame skips the
 *        delay line (latency, jitter and clamp) and departs at its
 *        serialization end, so it overtakes the frames still in the delay
 *        line. With latency and jitter 0 there is nothing to overtake.
 *        ring: every queued frame (waiting, on the wire or in the delay line)
 *        takes one slot of a ring of capacity slots (emu_dir_slots: sized to
 *        the link, grown by emu_dir_grow); when it is full the frame is
 *        dropped (drop "ring"). That is the memory bound.
 *
 * Times are nanoseconds on any monotonic clock; a now earlier than one seen
 * before is treated as the latest one seen. */
#ifndef VTB_EMU_DIR_H
#define VTB_EMU_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults for a queue bound of 0, and the limits emu_dir_set_params accepts. */
#define EMU_QUEUE_PKTS_DEFAULT 1000u
#define EMU_DELAY_MAX_NS       (3600LL * 1000000000LL) /* latency + jitter <= 1 h */
#define EMU_CAPACITY_MAX       (1u << 24)

/* The properties of one direction. Probabilities are in [0, 1]. */
struct emu_params {
	int64_t latency_ns; /* one-way delay added after serialization */
	int64_t jitter_ns;  /* uniform +-jitter_ns around latency_ns */
	double loss;        /* Bernoulli loss; ignored when ge.on */
	struct {
		double p_gb, p_bg;          /* per-frame transition probabilities */
		double loss_good, loss_bad; /* loss probability in each state */
		bool on;
	} ge;
	double duplicate, reorder, corrupt;
	uint64_t rate_bps;    /* 0 = unlimited: no serialization delay, no backlog */
	uint32_t queue_pkts;  /* 0 = EMU_QUEUE_PKTS_DEFAULT */
	uint64_t queue_bytes; /* 0 = no byte bound (queue_pkts and the ring still bound) */
};

/* What emu_dir_offer did with a frame. */
enum emu_verdict {
	EMU_QUEUED,     /* queued (with its duplicate, if any) */
	EMU_DROP_LOSS,  /* lost by the loss model */
	EMU_DROP_QUEUE, /* backlog past queue_pkts / queue_bytes */
	EMU_DROP_RING,  /* ring full (the memory bound) */
};

/* Flags of a queued frame. */
#define EMU_PKT_CORRUPT   0x1u /* flip a bit before sending */
#define EMU_PKT_DUP       0x2u /* this is the duplicate copy (same cookie twice) */
#define EMU_PKT_REORDERED 0x4u /* skipped the delay line */

/* One queued frame. cookie is the data plane's handle on the frame's
 * buffer; emu_dir never looks at it. With a duplicate the same cookie comes
 * out of emu_dir_due twice, the second time with EMU_PKT_DUP. */
struct emu_pkt {
	uint64_t depart_ns;
	uint64_t ser_end_ns; /* end of its serialization: a change of capacity or
	                      * latency recomputes frames not past it yet */
	uint64_t seq; /* arrival order of the copy; breaks departure ties */
	uint64_t cookie;
	uint32_t len;
	uint32_t flags;
};

/* Counters, for vtb status. rx counts offered frames; tx counts frames
 * handed out by emu_dir_due (copies included). duplicated counts copies
 * made, reordered and corrupted count copies queued with the flag;
 * drop_flush counts copies forgotten by emu_dir_flush. At any time
 * rx_pkts + duplicated == tx_pkts + drop_loss + drop_queue + drop_ring
 * + drop_flush + ring_used. backlog_* is the queue depth as of the last call. */
struct emu_stats {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t drop_loss, drop_queue, drop_ring, drop_flush;
	uint64_t duplicated, reordered, corrupted;
	uint64_t backlog_bytes;
	uint32_t backlog_pkts;
	uint32_t ring_used, ring_peak;
};

/* The backlog in arrival order: when each waiting frame starts on the wire. */
struct emu_wait {
	uint64_t start_ns;
	uint32_t len;
};

/* One direction. Fields are private to emu_dir.c except through the
 * functions below; stats may be read directly. */
struct emu_dir {
	struct emu_params p;
	uint64_t rng[4];    /* xoshiro256** */
	bool ge_bad;        /* Gilbert-Elliott state */
	uint64_t now_ns;    /* latest time seen */
	uint64_t busy_until_ns, busy_frac; /* wire free at busy_until + busy_frac/rate ns */
	uint64_t last_depart_ns;           /* latest departure: the no-reorder clamp */
	uint64_t seq;
	struct emu_pkt *heap; /* min-heap on (depart_ns, seq), capacity slots */
	struct emu_wait *wait; /* FIFO ring of the backlog, capacity slots */
	uint32_t capacity, wait_head, wait_n;
	struct emu_stats stats;
};

/* Frames a direction holds at least, and when its delay line has no bound
 * (an unlimited rate with a delay): before slots followed the link, every
 * direction had 8192. */
#define EMU_SLOTS_MIN       128u  /* two batches of EMU_BATCH: one in, one out */
#define EMU_SLOTS_UNBOUNDED 8192u

/* The frames a direction with params p can hold, frames of frame_len
 * bytes (the MTU's) at its rate: the queue bound (waiting), one on the
 * wire, and the bandwidth-delay product rate x (latency + jitter) in the
 * delay line; twice that with duplicates; at least EMU_SLOTS_MIN, at most
 * EMU_CAPACITY_MAX. An unlimited rate holds no backlog, and with a delay
 * EMU_SLOTS_UNBOUNDED. */
uint32_t emu_dir_slots(const struct emu_params *p, uint32_t frame_len);

/* Set up d with params p (see emu_dir_set_params), a ring of capacity frames
 * (1..EMU_CAPACITY_MAX; mapped here, memory once used) and the PRNG seed. Returns 0,
 * -EINVAL (bad params or capacity; d is then safe to emu_dir_free) or
 * -ENOMEM. */
int emu_dir_init(struct emu_dir *d, const struct emu_params *p, uint32_t capacity, uint64_t seed);

/* Make room for capacity frames (more than now; the frames held stay).
 * 0, -EINVAL (capacity past EMU_CAPACITY_MAX) or -ENOMEM (d unchanged). */
int emu_dir_grow(struct emu_dir *d, uint32_t capacity);

/* Release d's memory; queued frames are forgotten (their cookies stay the
 * caller's). Accepts NULL and a d whose init failed. */
void emu_dir_free(struct emu_dir *d);

/* Called for each queued copy a change drops: its cookie is the caller's
 * again. */
typedef void emu_dir_drop_fn(void *ctx, uint64_t cookie);

/* Check p, and on success apply it at now_ns, to the frames already queued
 * as well as to later ones (the rules, docs/link-emulator.md "Changing a
 * running link"):
 *   - frames past their serialization end (in the delay line) keep their
 *     departure: they have left the wire, they propagate as they started;
 *   - the frame on the wire sends its remaining bits at the new rate: its
 *     end moves to now + (old end - now) * old rate / new rate;
 *   - the backlog follows it, back to back, at the new rate, and each of
 *     these frames gets the new latency and jitter (drawn again) after its
 *     new serialization end, raised to the latest departure before it
 *     (no reordering) unless it is flagged reordered;
 *   - a backlog past the new queue bound loses its newest frames at once:
 *     each copy counted in drop_queue and handed to drop(ctx, cookie).
 * Returns 0 or -EINVAL (d unchanged). drop may be NULL when nothing can be
 * queued. */
int emu_dir_set_params(struct emu_dir *d, uint64_t now_ns, const struct emu_params *p,
                       emu_dir_drop_fn *drop, void *ctx);

/* Check p alone: 0 or -EINVAL. */
int emu_params_check(const struct emu_params *p);

/* Does p impose nothing on a frame: no delay, loss, duplicate, reorder,
 * corruption or rate limit (and so no queue)? Such a direction may bypass
 * the emulator (docs/link-emulator.md, "Bypass"). */
bool emu_params_none(const struct emu_params *p);

/* Set p's loss from a mean loss rate and a mean burst length in frames (0:
 * Bernoulli). With burst >= 1 and loss > 0 it is Gilbert-Elliott with the
 * same mean: every frame in the bad state is lost, none in the good one,
 * p_bg = 1/burst, p_gb = loss / (burst (1 - loss)) (at most 1). -EINVAL
 * (p unchanged) for a burst below 1, or a burst with a loss of 1. */
int emu_params_set_loss(struct emu_params *p, double loss, double burst);
/* The mean loss rate of p, and its mean burst length (0 for Bernoulli). */
double emu_params_loss(const struct emu_params *p);
double emu_params_burst(const struct emu_params *p);

/* Offer a frame of frame_len bytes arriving at now_ns. On EMU_QUEUED,
 * *depart_ns (if not NULL) is when the original leaves. The cookie comes
 * back from emu_dir_due; on a drop it is the caller's again at once. A
 * duplicate that cannot be queued is counted as a drop by its cause but
 * does not change the verdict. */
enum emu_verdict emu_dir_offer(struct emu_dir *d, uint64_t now_ns, uint32_t frame_len,
                               uint64_t cookie, uint64_t *depart_ns);

/* Move up to max frames whose departure time is <= now_ns into out, in
 * departure order (ties in arrival order). Returns how many. Call again
 * while it returns max. */
size_t emu_dir_due(struct emu_dir *d, uint64_t now_ns, struct emu_pkt *out, size_t max);

/* Forget every queued frame (the direction's port went away): they are
 * counted in drop_flush, the backlog and the wire are empty afterwards, and
 * their cookies are the caller's again. Returns how many were forgotten. */
uint32_t emu_dir_flush(struct emu_dir *d);

/* The earliest queued departure time, or UINT64_MAX when nothing is queued. */
uint64_t emu_dir_next_deadline(const struct emu_dir *d);

/* Name of a verdict for status output: "queued", "loss", "queue", "ring". */
const char *emu_verdict_name(enum emu_verdict v);

#endif
