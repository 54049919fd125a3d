/* emu_dir: one direction of an emulated link (the model is in emu_dir.h). */
#include "emu_dir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64 so that any
 * seed, 0 included, gives a good state. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* True with probability p. p <= 0 and p >= 1 draw nothing, so a link
 * without a property keeps the same random stream for the others. */
static bool rng_chance(struct emu_dir *d, double p)
{
	if (p <= 0)
		return false;
	if (p >= 1)
		return true;
	return (double)(rng_next(d->rng) >> 11) * 0x1.0p-53 < p;
}

/* Uniform in [-j, j]. The modulo bias is below 2^-20 for j <= 1 h. */
static int64_t rng_jitter(struct emu_dir *d, int64_t j)
{
	uint64_t span = 2 * (uint64_t)j + 1;

	return (int64_t)(rng_next(d->rng) % span) - j;
}

static bool prob_ok(double p)
{
	return p >= 0 && p <= 1; /* false for NaN */
}

int emu_params_check(const struct emu_params *p)
{
	if (!p || p->latency_ns < 0 || p->jitter_ns < 0 || p->latency_ns > EMU_DELAY_MAX_NS ||
	    p->jitter_ns > EMU_DELAY_MAX_NS - p->latency_ns)
		return -EINVAL;
	if (!prob_ok(p->loss) || !prob_ok(p->duplicate) || !prob_ok(p->reorder) ||
	    !prob_ok(p->corrupt))
		return -EINVAL;
	if (p->ge.on && (!prob_ok(p->ge.p_gb) || !prob_ok(p->ge.p_bg) ||
	                 !prob_ok(p->ge.loss_good) || !prob_ok(p->ge.loss_bad)))
		return -EINVAL;
	return 0;
}

bool emu_params_none(const struct emu_params *p)
{
	/* rate 0 also means no backlog, so the queue bounds impose nothing;
	 * Gilbert-Elliott is only on with a loss (emu_params_set_loss) */
	return p->latency_ns == 0 && p->jitter_ns == 0 && p->loss == 0 && !p->ge.on &&
	       p->duplicate == 0 && p->reorder == 0 && p->corrupt == 0 && p->rate_bps == 0;
}

/* The heap and the backlog's FIFO are mapped, not allocated: a page is
 * memory only once a frame used it, so a direction sized for a long queue
 * costs nothing while the queue is short. NULL when the kernel refuses. */
static void *arr_map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void arr_unmap(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

int emu_dir_init(struct emu_dir *d, const struct emu_params *p, uint32_t capacity, uint64_t seed)
{
	memset(d, 0, sizeof(*d));
	if (emu_params_check(p) || capacity == 0 || capacity > EMU_CAPACITY_MAX)
		return -EINVAL;
	d->p = *p;
	d->capacity = capacity;
	d->heap = arr_map(capacity * sizeof(*d->heap));
	d->wait = arr_map(capacity * sizeof(*d->wait));
	if (!d->heap || !d->wait) {
		emu_dir_free(d);
		return -ENOMEM;
	}
	for (int i = 0; i < 4; i++)
		d->rng[i] = splitmix64(&seed);
	return 0;
}

uint32_t emu_dir_slots(const struct emu_params *p, uint32_t frame_len)
{
	uint64_t n, delay = (uint64_t)p->latency_ns + (uint64_t)p->jitter_ns;

	if (p->rate_bps == 0) {
		n = delay ? EMU_SLOTS_UNBOUNDED : 0;
	} else {
		unsigned __int128 bits = (unsigned __int128)p->rate_bps * delay;

		n = (p->queue_pkts ? p->queue_pkts : EMU_QUEUE_PKTS_DEFAULT) + 1u;
		n += (uint64_t)(bits / (8u * 1000000000ull * (frame_len ? frame_len : 1)));
	}
	if (p->duplicate > 0)
		n *= 2;
	return n < EMU_SLOTS_MIN ? EMU_SLOTS_MIN : n > EMU_CAPACITY_MAX ? EMU_CAPACITY_MAX : (uint32_t)n;
}

int emu_dir_grow(struct emu_dir *d, uint32_t capacity)
{
	struct emu_wait *wait;
	struct emu_pkt *heap;

	if (capacity <= d->capacity)
		return 0;
	if (capacity > EMU_CAPACITY_MAX)
		return -EINVAL;
	wait = arr_map(capacity * sizeof(*wait));
	if (!wait)
		return -ENOMEM;
	heap = mremap(d->heap, d->capacity * sizeof(*heap), capacity * sizeof(*heap), MREMAP_MAYMOVE);
	if (heap == MAP_FAILED) {
		arr_unmap(wait, capacity * sizeof(*wait));
		return -ENOMEM;
	}
	d->heap = heap;
	/* the backlog's FIFO starts over at slot 0 */
	for (uint32_t i = 0; i < d->wait_n; i++)
		wait[i] = d->wait[(d->wait_head + i) % d->capacity];
	arr_unmap(d->wait, d->capacity * sizeof(*wait));
	d->wait = wait;
	d->wait_head = 0;
	d->capacity = capacity;
	return 0;
}

void emu_dir_free(struct emu_dir *d)
{
	if (!d)
		return;
	arr_unmap(d->heap, d->capacity * sizeof(*d->heap));
	arr_unmap(d->wait, d->capacity * sizeof(*d->wait));
	d->heap = NULL;
	d->wait = NULL;
	d->capacity = 0;
	d->stats.ring_used = 0;
	d->wait_n = 0;
}

const char *emu_verdict_name(enum emu_verdict v)
{
	switch (v) {
	case EMU_QUEUED: return "queued";
	case EMU_DROP_LOSS: return "loss";
	case EMU_DROP_QUEUE: return "queue";
	case EMU_DROP_RING: return "ring";
	}
	return "?";
}

/* Heap order: earlier departure first, then earlier arrival. */
static bool pkt_before(const struct emu_pkt *a, const struct emu_pkt *b)
{
	return a->depart_ns < b->depart_ns || (a->depart_ns == b->depart_ns && a->seq < b->seq);
}

static void heap_push(struct emu_dir *d, const struct emu_pkt *pkt)
{
	uint32_t i = d->stats.ring_used++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!pkt_before(pkt, &d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = *pkt;
	if (d->stats.ring_used > d->stats.ring_peak)
		d->stats.ring_peak = d->stats.ring_used;
}

/* Put pkt at slot i of the heap's first n slots, moving it down past
 * smaller children: the subtrees under i are heaps. */
static void sift_down(struct emu_dir *d, uint32_t i, uint32_t n, const struct emu_pkt *pkt)
{
	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && pkt_before(&d->heap[c + 1], &d->heap[c]))
			c++;
		if (!pkt_before(&d->heap[c], pkt))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	d->heap[i] = *pkt;
}

static struct emu_pkt heap_pop(struct emu_dir *d)
{
	struct emu_pkt top = d->heap[0];
	uint32_t n = --d->stats.ring_used;

	if (n > 0)
		sift_down(d, 0, n, &d->heap[n]);
	return top;
}

/* Advance the clock to now (never backwards) and drop from the backlog the
 * frames whose serialization has started by then. */
static uint64_t advance(struct emu_dir *d, uint64_t now)
{
	if (now < d->now_ns)
		now = d->now_ns;
	d->now_ns = now;
	while (d->wait_n > 0 && d->wait[d->wait_head].start_ns <= now) {
		d->stats.backlog_pkts--;
		d->stats.backlog_bytes -= d->wait[d->wait_head].len;
		d->wait_head = (d->wait_head + 1) % d->capacity;
		d->wait_n--;
	}
	return now;
}

/* Loss decision for one offered frame: Bernoulli, or one step of the
 * Gilbert-Elliott chain (decide in the current state, then move). */
static bool lose(struct emu_dir *d)
{
	bool lost;

	if (!d->p.ge.on)
		return rng_chance(d, d->p.loss);
	lost = rng_chance(d, d->ge_bad ? d->p.ge.loss_bad : d->p.ge.loss_good);
	if (d->ge_bad ? rng_chance(d, d->p.ge.p_bg) : rng_chance(d, d->p.ge.p_gb))
		d->ge_bad = !d->ge_bad;
	return lost;
}

/* When the wire is free for a frame arriving at now. */
static uint64_t wire_start(const struct emu_dir *d, uint64_t now)
{
	if (d->p.rate_bps == 0 || now > d->busy_until_ns)
		return now;
	return d->busy_until_ns;
}

/* Occupy the wire from start for len bytes; returns the end of
 * serialization. The sub-ns remainder carries to the next frame while the
 * wire stays busy. */
static uint64_t wire_take(struct emu_dir *d, uint64_t start, uint32_t len)
{
	unsigned __int128 bits_ns = (unsigned __int128)len * 8u * 1000000000u;
	uint64_t rate = d->p.rate_bps, end;

	if (rate == 0)
		return start;
	if (start > d->busy_until_ns)
		d->busy_frac = 0;
	end = start + (uint64_t)(bits_ns / rate);
	d->busy_frac += (uint64_t)(bits_ns % rate);
	if (d->busy_frac >= rate) {
		d->busy_frac -= rate;
		end++;
	}
	d->busy_until_ns = end;
	return end;
}

/* The departure of a frame whose serialization ends at end: a reordered
 * frame leaves then; any other after latency and jitter, and no earlier
 * than the latest departure so far (jitter never reorders). */
static uint64_t delay_line(struct emu_dir *d, uint64_t end, uint32_t flags)
{
	uint64_t dep = end;

	if (!(flags & EMU_PKT_REORDERED)) {
		int64_t delay = d->p.latency_ns;

		if (d->p.jitter_ns > 0)
			delay += rng_jitter(d, d->p.jitter_ns);
		dep = end + (uint64_t)(delay > 0 ? delay : 0);
		if (dep < d->last_depart_ns)
			dep = d->last_depart_ns;
	}
	if (dep > d->last_depart_ns)
		d->last_depart_ns = dep;
	return dep;
}

/* Queue one copy of a frame (the original or its duplicate). */
static enum emu_verdict enqueue(struct emu_dir *d, uint64_t now, uint32_t len, uint64_t cookie,
                                uint32_t flags, uint64_t *depart_ns)
{
	uint32_t qp = d->p.queue_pkts ? d->p.queue_pkts : EMU_QUEUE_PKTS_DEFAULT;
	uint64_t qb = d->p.queue_bytes ? d->p.queue_bytes : UINT64_MAX;
	uint64_t start = wire_start(d, now), end;
	struct emu_pkt pkt = { .seq = d->seq, .cookie = cookie, .len = len, .flags = flags };
	bool waits = start > now;

	if (waits && ((uint64_t)d->stats.backlog_pkts + 1 > qp ||
	              d->stats.backlog_bytes + len > qb || d->stats.backlog_bytes + len < len)) {
		d->stats.drop_queue++;
		return EMU_DROP_QUEUE;
	}
	if (d->stats.ring_used >= d->capacity || (waits && d->wait_n >= d->capacity)) {
		d->stats.drop_ring++;
		return EMU_DROP_RING;
	}
	end = wire_take(d, start, len);
	if (waits) {
		d->wait[(d->wait_head + d->wait_n) % d->capacity] =
			(struct emu_wait){ .start_ns = start, .len = len };
		d->wait_n++;
		d->stats.backlog_pkts++;
		d->stats.backlog_bytes += len;
	}
	if (rng_chance(d, d->p.corrupt)) {
		pkt.flags |= EMU_PKT_CORRUPT;
		d->stats.corrupted++;
	}
	if (rng_chance(d, d->p.reorder)) {
		pkt.flags |= EMU_PKT_REORDERED;
		d->stats.reordered++;
	}
	pkt.ser_end_ns = end;
	pkt.depart_ns = delay_line(d, end, pkt.flags);
	d->seq++;
	heap_push(d, &pkt);
	if (depart_ns)
		*depart_ns = pkt.depart_ns;
	return EMU_QUEUED;
}

enum emu_verdict emu_dir_offer(struct emu_dir *d, uint64_t now_ns, uint32_t frame_len,
                               uint64_t cookie, uint64_t *depart_ns)
{
	uint64_t now = advance(d, now_ns);
	enum emu_verdict v;

	d->stats.rx_pkts++;
	d->stats.rx_bytes += frame_len;
	if (lose(d)) {
		d->stats.drop_loss++;
		return EMU_DROP_LOSS;
	}
	v = enqueue(d, now, frame_len, cookie, 0, depart_ns);
	if (v == EMU_QUEUED && rng_chance(d, d->p.duplicate)) {
		d->stats.duplicated++;
		enqueue(d, now, frame_len, cookie, EMU_PKT_DUP, NULL);
	}
	return v;
}

size_t emu_dir_due(struct emu_dir *d, uint64_t now_ns, struct emu_pkt *out, size_t max)
{
	uint64_t now = advance(d, now_ns);
	size_t n = 0;

	while (n < max && d->stats.ring_used > 0 && d->heap[0].depart_ns <= now) {
		out[n] = heap_pop(d);
		d->stats.tx_pkts++;
		d->stats.tx_bytes += out[n].len;
		n++;
	}
	return n;
}

uint32_t emu_dir_flush(struct emu_dir *d)
{
	uint32_t n = d->stats.ring_used;

	d->stats.drop_flush += n;
	d->stats.ring_used = 0;
	d->stats.backlog_pkts = 0;
	d->stats.backlog_bytes = 0;
	d->wait_head = 0;
	d->wait_n = 0;
	/* the wire and the delay line are empty: a later frame waits for nothing */
	d->busy_until_ns = d->now_ns;
	d->busy_frac = 0;
	d->last_depart_ns = d->now_ns;
	return n;
}

uint64_t emu_dir_next_deadline(const struct emu_dir *d)
{
	return d->stats.ring_used > 0 ? d->heap[0].depart_ns : UINT64_MAX;
}

int emu_params_set_loss(struct emu_params *p, double loss, double burst)
{
	if (burst != 0 && (burst < 1 || loss >= 1))
		return -EINVAL;
	memset(&p->ge, 0, sizeof(p->ge));
	p->loss = loss;
	if (burst != 0 && loss > 0) {
		p->ge.on = true;
		p->ge.p_bg = 1.0 / burst;
		p->ge.p_gb = loss / (burst * (1.0 - loss));
		if (p->ge.p_gb > 1)
			p->ge.p_gb = 1;
		p->ge.loss_bad = 1;
	}
	return 0;
}

double emu_params_loss(const struct emu_params *p)
{
	return p->ge.on ? p->ge.p_gb / (p->ge.p_gb + p->ge.p_bg) : p->loss;
}

double emu_params_burst(const struct emu_params *p)
{
	return p->ge.on ? 1.0 / p->ge.p_bg : 0;
}

/* Arrival order, for the frames a change puts back on the wire. */
static int pkt_cmp_seq(const void *a, const void *b)
{
	const struct emu_pkt *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Move the frames not past their serialization end at now to the tail of
 * the heap array, in arrival order; returns where the tail starts. Sets
 * last_depart_ns to the latest departure of the frames that stay. */
static uint32_t split_unsent(struct emu_dir *d, uint64_t now)
{
	uint32_t n = d->stats.ring_used, k = n, i = 0;
	uint64_t last = 0;

	while (i < k) {
		if (d->heap[i].ser_end_ns > now) {
			struct emu_pkt t = d->heap[i];

			d->heap[i] = d->heap[--k];
			d->heap[k] = t;
			continue;
		}
		if (d->heap[i].depart_ns > last)
			last = d->heap[i].depart_ns;
		i++;
	}
	qsort(d->heap + k, n - k, sizeof(*d->heap), pkt_cmp_seq);
	d->last_depart_ns = last;
	return k;
}

/* Drop the newest waiting frames until the backlog fits the queue bound
 * of d->p; the tail of the heap array from k holds them last. */
static void trim_backlog(struct emu_dir *d, uint32_t k, emu_dir_drop_fn *drop, void *ctx)
{
	uint32_t qp = d->p.queue_pkts ? d->p.queue_pkts : EMU_QUEUE_PKTS_DEFAULT;
	uint64_t qb = d->p.queue_bytes ? d->p.queue_bytes : UINT64_MAX;

	while (d->wait_n > 0 && d->stats.ring_used > k &&
	       (d->stats.backlog_pkts > qp || d->stats.backlog_bytes > qb)) {
		const struct emu_pkt *pk = &d->heap[--d->stats.ring_used];

		d->wait_n--;
		d->stats.backlog_pkts--;
		d->stats.backlog_bytes -= pk->len;
		d->stats.drop_queue++;
		if (drop)
			drop(ctx, pk->cookie);
	}
}

/* Put the frames of the heap array's tail (from k, in arrival order: the
 * frame on the wire, if any, then the backlog) back on the wire at d's
 * rate from now, then restore the heap order. */
static void reserialize(struct emu_dir *d, uint32_t k, uint64_t now, uint64_t old_rate)
{
	uint32_t n = d->stats.ring_used, i = k, w = d->wait_head;

	d->busy_until_ns = now;
	d->busy_frac = 0;
	if (n - k > d->wait_n) {
		/* the frame on the wire: its remaining bits at the new rate */
		struct emu_pkt *pk = &d->heap[i++];
		unsigned __int128 left = (unsigned __int128)(pk->ser_end_ns - now) * old_rate;

		if (d->p.rate_bps)
			d->busy_until_ns = now + (uint64_t)((left + d->p.rate_bps - 1) / d->p.rate_bps);
		pk->ser_end_ns = d->busy_until_ns;
		pk->depart_ns = delay_line(d, pk->ser_end_ns, pk->flags);
	}
	for (; i < n; i++, w = (w + 1) % d->capacity) {
		struct emu_pkt *pk = &d->heap[i];
		uint64_t start = wire_start(d, now);

		d->wait[w].start_ns = start;
		pk->ser_end_ns = wire_take(d, start, pk->len);
		pk->depart_ns = delay_line(d, pk->ser_end_ns, pk->flags);
	}
	/* heapify: sift every inner node down */
	for (i = n / 2; i-- > 0;) {
		struct emu_pkt t = d->heap[i];

		sift_down(d, i, n, &t);
	}
}

int emu_dir_set_params(struct emu_dir *d, uint64_t now_ns, const struct emu_params *p,
                       emu_dir_drop_fn *drop, void *ctx)
{
	uint64_t now, old_rate = d->p.rate_bps;
	uint32_t k;

	if (emu_params_check(p))
		return -EINVAL;
	now = advance(d, now_ns);
	d->p = *p;
	k = split_unsent(d, now);
	if (k == d->stats.ring_used) {
		/* nothing on the wire: the delay line's latest departure stays */
		if (old_rate != p->rate_bps)
			d->busy_frac = 0; /* it was in units of the old rate */
		d->last_depart_ns = d->last_depart_ns > now ? d->last_depart_ns : now;
		return 0;
	}
	trim_backlog(d, k, drop, ctx);
	reserialize(d, k, now, old_rate);
	advance(d, now); /* unlimited now: the backlog has started */
	return 0;
}
