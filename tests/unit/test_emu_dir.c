/* test_emu_dir: one direction of the link emulator, on virtual time. Seeds
 * are fixed, so the statistical checks are deterministic; their bounds are
 * wide (5 sigma or more) but fail if the model is wrong. */
#include "unit.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "emu_dir.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

/* Where drained frames go: stored if v is set, always counted. */
struct sink {
	struct emu_pkt *v;
	size_t n, cap;
	uint64_t bytes_by; /* bytes departing at or before 'until' */
	uint64_t until;
};

static void sink_init(struct sink *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->cap = cap;
	if (cap) {
		s->v = calloc(cap, sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->until = UINT64_MAX;
}

static void sink_free(struct sink *s)
{
	free(s->v);
}

/* Everything the emulator holds or has counted adds up. */
static void check_accounting(const struct emu_dir *d)
{
	const struct emu_stats *st = &d->stats;

	assert_int_equal(st->rx_pkts + st->duplicated,
	                 st->tx_pkts + st->drop_loss + st->drop_queue + st->drop_ring + st->ring_used);
	assert_true(st->ring_used <= d->capacity);
	assert_true(st->ring_peak <= d->capacity);
}

/* Take every frame due at now into s, checking that departures come out
 * in order and not early. */
static void drain(struct emu_dir *d, uint64_t now, struct sink *s)
{
	struct emu_pkt batch[32];
	size_t k;

	do {
		k = emu_dir_due(d, now, batch, 32);
		for (size_t i = 0; i < k; i++) {
			assert_true(batch[i].depart_ns <= now);
			if (s->n > 0 && s->v)
				assert_true(batch[i].depart_ns >= s->v[s->n - 1].depart_ns);
			if (batch[i].depart_ns <= s->until)
				s->bytes_by += batch[i].len;
			if (s->v) {
				assert_true(s->n < s->cap);
				s->v[s->n] = batch[i];
			}
			s->n++;
		}
	} while (k == 32);
	assert_true(now == UINT64_MAX || emu_dir_next_deadline(d) > now);
	check_accounting(d);
}

/* Offer n frames of len bytes, frame i at t0 + i * gap with cookie i,
 * draining before each. Verdicts go to verdict[] if given. Returns the
 * number queued. */
static size_t offer_run(struct emu_dir *d, uint64_t t0, uint64_t gap, size_t n, uint32_t len,
                        struct sink *s, enum emu_verdict *verdict)
{
	size_t queued = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t now = t0 + i * gap;
		enum emu_verdict v;

		drain(d, now, s);
		v = emu_dir_offer(d, now, len, i, NULL);
		if (verdict)
			verdict[i] = v;
		queued += v == EMU_QUEUED;
	}
	return queued;
}

static void setup(struct emu_dir *d, const struct emu_params *p, uint32_t cap, uint64_t seed)
{
	assert_int_equal(emu_dir_init(d, p, cap, seed), 0);
}

/* Latency only: every frame departs exactly latency after it arrives, in
 * order, and next_deadline tells when. */
static void test_latency_exact(void **state)
{
	struct emu_params p = { .latency_ns = 10 * MS };
	struct emu_dir d;
	struct sink s;
	uint64_t dep;

	(void)state;
	setup(&d, &p, 64, 1);
	sink_init(&s, 1000);
	assert_int_equal(emu_dir_next_deadline(&d), UINT64_MAX);
	assert_int_equal(emu_dir_offer(&d, 5, 100, 77, &dep), EMU_QUEUED);
	assert_int_equal(dep, 5 + 10 * MS);
	assert_int_equal(emu_dir_next_deadline(&d), 5 + 10 * MS);
	drain(&d, 5 + 10 * MS - 1, &s);
	assert_int_equal(s.n, 0);
	drain(&d, 5 + 10 * MS, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].cookie, 77);
	s.n = 0;

	assert_int_equal(offer_run(&d, SEC, MS / 3, 999, 60, &s, NULL), 999);
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(s.n, 999);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_equal(s.v[i].cookie, i);
		assert_int_equal(s.v[i].depart_ns, SEC + i * (MS / 3) + 10 * MS);
		assert_int_equal(s.v[i].flags, 0);
	}
	assert_int_equal(d.stats.tx_bytes, 100 + 999 * 60);
	assert_int_equal(d.stats.backlog_pkts, 0); /* no rate: nothing ever waits */
	assert_true(d.stats.ring_peak >= 29 && d.stats.ring_peak <= 31);
	sink_free(&s);
	emu_dir_free(&d);
}

/* Jitter at close spacing: 100k frames at 10 kpps, jitter 5 ms: never
 * reordered; the clamp makes the mean extra delay high but below jitter. */
static void test_jitter_no_reorder(void **state)
{
	struct emu_params p = { .latency_ns = 20 * MS, .jitter_ns = 5 * MS };
	const size_t n = 100000;
	const uint64_t gap = 100000; /* 10 kpps */
	struct emu_dir d;
	struct sink s;
	double sum = 0;

	(void)state;
	setup(&d, &p, 1024, 2);
	sink_init(&s, n);
	offer_run(&d, 0, gap, n, 100, &s, NULL);
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(s.n, n);
	for (size_t i = 0; i < n; i++) {
		int64_t extra = (int64_t)(s.v[i].depart_ns - s.v[i].cookie * gap) - 20 * (int64_t)MS;

		assert_int_equal(s.v[i].cookie, i);
		assert_true(extra >= -5 * (int64_t)MS && extra <= 5 * (int64_t)MS);
		sum += (double)extra;
	}
	/* Expected about 4.6 ms: the running max of ~50 overlapping samples. */
	sum /= (double)n;
	assert_true(sum > 3.5 * MS && sum < 5.0 * MS);
	assert_int_equal(d.stats.reordered, 0);
	sink_free(&s);
	emu_dir_free(&d);
}

/* Jitter at wide spacing (100 ms apart, jitter 5 ms): the clamp never
 * binds, so the extra delay is uniform in +-5 ms with mean 0. */
static void test_jitter_centred(void **state)
{
	struct emu_params p = { .latency_ns = 20 * MS, .jitter_ns = 5 * MS };
	const size_t n = 4000;
	struct emu_dir d;
	struct sink s;
	double sum = 0;
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	(void)state;
	setup(&d, &p, 16, 3);
	sink_init(&s, n);
	offer_run(&d, 0, 100 * MS, n, 100, &s, NULL);
	drain(&d, UINT64_MAX, &s);
	for (size_t i = 0; i < n; i++) {
		int64_t extra = (int64_t)(s.v[i].depart_ns - s.v[i].cookie * 100 * MS) - 20 * (int64_t)MS;

		sum += (double)extra;
		lo = extra < lo ? extra : lo;
		hi = extra > hi ? extra : hi;
	}
	/* sd of the mean: 2.89 ms / sqrt(4000) = 0.046 ms; allow 0.4 ms. */
	assert_true(fabs(sum / (double)n) < 0.4 * MS);
	assert_true(lo >= -5 * (int64_t)MS && lo < -4 * (int64_t)MS);
	assert_true(hi <= 5 * (int64_t)MS && hi > 4 * (int64_t)MS);
	sink_free(&s);
	emu_dir_free(&d);
}

/* Count frames delivered after a frame that arrived later. */
static size_t overtakes(const struct sink *s)
{
	size_t count = 0;
	uint64_t max_cookie = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (i > 0 && s->v[i].cookie < max_cookie)
			count++;
		if (s->v[i].cookie > max_cookie)
			max_cookie = s->v[i].cookie;
	}
	return count;
}

/* reorder > 0: reordered frames skip the delay line and overtake;
 * reorder 0 (with the same jitter): never. */
static void test_reorder(void **state)
{
	struct emu_params p = { .latency_ns = 10 * MS, .jitter_ns = 2 * MS, .reorder = 0.1 };
	const size_t n = 20000;
	struct emu_dir d;
	struct sink s;
	size_t flagged = 0;

	(void)state;
	setup(&d, &p, 256, 4);
	sink_init(&s, n);
	offer_run(&d, 0, MS, n, 100, &s, NULL);
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(s.n, n);
	for (size_t i = 0; i < n; i++) {
		if (s.v[i].flags & EMU_PKT_REORDERED) {
			flagged++;
			assert_int_equal(s.v[i].depart_ns, s.v[i].cookie * MS);
		}
	}
	assert_int_equal(flagged, d.stats.reordered);
	/* mean 2000, sd 42 */
	assert_true(flagged > 1780 && flagged < 2220);
	/* Each reordered frame overtakes the ~8 to 12 frames in the delay line. */
	assert_true(overtakes(&s) >= flagged * 9 / 10);
	sink_free(&s);
	emu_dir_free(&d);

	p.reorder = 0;
	setup(&d, &p, 256, 4);
	sink_init(&s, n);
	offer_run(&d, 0, MS, n, 100, &s, NULL);
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(overtakes(&s), 0);
	assert_int_equal(d.stats.reordered, 0);
	sink_free(&s);
	emu_dir_free(&d);
}

/* Bernoulli loss: 0.2 within 5 sigma over 100k; 0 drops none; 1 drops all. */
static void test_loss(void **state)
{
	struct emu_params p = { .loss = 0.2 };
	const size_t n = 100000;
	struct emu_dir d;
	struct sink s;
	double sigma = sqrt(n * 0.2 * 0.8);

	(void)state;
	setup(&d, &p, 64, 5);
	sink_init(&s, 0);
	offer_run(&d, 0, 1000, n, 100, &s, NULL);
	drain(&d, UINT64_MAX, &s);
	assert_true(fabs((double)d.stats.drop_loss - 0.2 * n) < 5 * sigma);
	assert_int_equal(s.n, n - d.stats.drop_loss);
	assert_int_equal(d.stats.drop_queue + d.stats.drop_ring, 0);
	emu_dir_free(&d);

	p.loss = 0;
	setup(&d, &p, 64, 5);
	offer_run(&d, 0, 1000, n, 100, &s, NULL);
	assert_int_equal(d.stats.drop_loss, 0);
	emu_dir_free(&d);

	p.loss = 1;
	setup(&d, &p, 64, 5);
	s.n = 0;
	offer_run(&d, 0, 1000, n, 100, &s, NULL);
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(d.stats.drop_loss, n);
	assert_int_equal(s.n, 0);
	emu_dir_free(&d);
}

/* Gilbert-Elliott with loss_bad 1, loss_good 0: losses come in bursts of
 * mean length 1/p_bg, and the loss rate is p_gb / (p_gb + p_bg). */
static void test_gilbert_elliott(void **state)
{
	struct emu_params p = { .ge = { .p_gb = 0.01, .p_bg = 0.25, .loss_bad = 1, .on = true } };
	const size_t n = 100000;
	enum emu_verdict *v = calloc(n, sizeof(*v));
	size_t bursts = 0, lost = 0;
	double mean, rate;
	struct emu_dir d;
	struct sink s;

	(void)state;
	assert_non_null(v);
	setup(&d, &p, 64, 6);
	sink_init(&s, 0);
	offer_run(&d, 0, 1000, n, 100, &s, v);
	for (size_t i = 0; i < n; i++) {
		if (v[i] != EMU_DROP_LOSS)
			continue;
		lost++;
		bursts += i == 0 || v[i - 1] != EMU_DROP_LOSS;
	}
	assert_int_equal(lost, d.stats.drop_loss);
	assert_true(bursts > 500);
	mean = (double)lost / (double)bursts;
	assert_true(fabs(mean - 4.0) < 0.8);
	rate = (double)lost / (double)n;
	assert_true(fabs(rate - 0.01 / 0.26) < 0.25 * 0.01 / 0.26);
	free(v);
	emu_dir_free(&d);
}

/* Rate: 2x overload for 10 s with a queue large enough: exactly the line
 * rate comes out, frames back to back, none dropped. */
static void test_rate_large_queue(void **state)
{
	struct emu_params p = { .rate_bps = 10000000, .queue_pkts = 20000 };
	struct emu_dir d;
	struct sink s;
	double got;

	(void)state;
	setup(&d, &p, 16384, 7);
	sink_init(&s, 0);
	s.until = 10 * SEC;
	/* 1000-byte frames at 2500 pps = 20 Mbit/s, for 10 s */
	offer_run(&d, 0, 400000, 25000, 1000, &s, NULL);
	drain(&d, 10 * SEC, &s);
	got = (double)s.bytes_by * 8 / 10.0;
	assert_true(fabs(got - 1e7) < 0.005 * 1e7);
	assert_int_equal(d.stats.drop_queue + d.stats.drop_ring + d.stats.drop_loss, 0);
	/* 1250 pps in, 1250 out: about 12500 frames still waiting. */
	assert_true(d.stats.backlog_pkts > 12400 && d.stats.backlog_pkts < 12600);
	assert_int_equal(d.stats.backlog_bytes, (uint64_t)d.stats.backlog_pkts * 1000);
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(s.n, 25000);
	assert_int_equal(d.stats.backlog_pkts, 0);
	assert_int_equal(d.stats.backlog_bytes, 0);
	/* the last frame ends 25000 * 800 us after the first started */
	assert_int_equal(d.busy_until_ns, 25000ULL * 800000);
	emu_dir_free(&d);
}

/* Rate with a small queue and latency: tail drops are "queue", the backlog
 * never passes the bound, the ring never passes its capacity, and the line
 * still runs at rate. */
static void test_rate_small_queue(void **state)
{
	struct emu_params p = { .rate_bps = 10000000, .queue_pkts = 20, .latency_ns = 5 * MS };
	struct emu_dir d;
	struct sink s;
	double got;

	(void)state;
	setup(&d, &p, 64, 8);
	sink_init(&s, 0);
	s.until = 10 * SEC;
	for (size_t i = 0; i < 25000; i++) {
		uint64_t now = i * 400000;

		drain(&d, now, &s);
		emu_dir_offer(&d, now, 1000, i, NULL);
		assert_true(d.stats.backlog_pkts <= 20);
		assert_true(d.stats.ring_used <= 64);
	}
	drain(&d, 10 * SEC, &s);
	got = (double)s.bytes_by * 8 / 10.0;
	assert_true(fabs(got - 1e7) < 0.005 * 1e7);
	assert_int_equal(d.stats.drop_ring, 0);
	assert_true(d.stats.drop_queue > 12400 && d.stats.drop_queue < 12600);
	/* 20 waiting + 1 on the wire + ~7 in the 5 ms delay line */
	assert_true(d.stats.ring_peak >= 26 && d.stats.ring_peak <= 30);
	emu_dir_free(&d);
}

/* Fractional serialization times add up exactly: 64-byte frames at
 * 10 Gbit/s take 51.2 ns each. */
static void test_rate_fraction(void **state)
{
	struct emu_params p = { .rate_bps = 10000000000ULL, .queue_pkts = 10000 };
	struct emu_dir d;

	(void)state;
	setup(&d, &p, 10000, 9);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(emu_dir_offer(&d, 1000, 64, (uint64_t)i, NULL), EMU_QUEUED);
	assert_int_equal(d.busy_until_ns, 1000 + 512000);
	assert_int_equal(d.stats.backlog_pkts, 9999);
	emu_dir_free(&d);
}

/* The queue bound in frames and in bytes; the frame on the wire is not in
 * the queue; the ring bound when the delay line is long. */
static void test_queue_bounds(void **state)
{
	struct emu_params p = { .rate_bps = 1000000, .queue_pkts = 5 };
	struct emu_dir d;
	int queued = 0;

	(void)state;
	setup(&d, &p, 64, 10);
	assert_int_equal(emu_dir_offer(&d, 0, 1000, 0, NULL), EMU_QUEUED);
	assert_int_equal(d.stats.backlog_pkts, 0); /* straight onto the idle wire */
	queued = 1;
	for (int i = 1; i < 10; i++)
		queued += emu_dir_offer(&d, 0, 1000, (uint64_t)i, NULL) == EMU_QUEUED;
	assert_int_equal(queued, 6); /* 1 on the wire + 5 waiting */
	assert_int_equal(d.stats.drop_queue, 4);
	assert_int_equal(d.stats.backlog_pkts, 5);
	/* 8 ms per frame: at 8 ms the second has started, so one more fits */
	assert_int_equal(emu_dir_offer(&d, 8 * MS, 1000, 10, NULL), EMU_QUEUED);
	assert_int_equal(emu_dir_offer(&d, 8 * MS, 1000, 11, NULL), EMU_DROP_QUEUE);
	emu_dir_free(&d);

	p.queue_pkts = 1000;
	p.queue_bytes = 3000;
	setup(&d, &p, 64, 10);
	queued = 0;
	for (int i = 0; i < 10; i++)
		queued += emu_dir_offer(&d, 0, 1000, (uint64_t)i, NULL) == EMU_QUEUED;
	assert_int_equal(queued, 4); /* 1 on the wire + 3000 bytes waiting */
	assert_int_equal(d.stats.backlog_bytes, 3000);
	emu_dir_free(&d);
	setup(&d, &p, 64, 10);
	queued = 0;
	for (int i = 0; i < 10; i++)
		queued += emu_dir_offer(&d, 0, 1500, (uint64_t)i, NULL) == EMU_QUEUED;
	assert_int_equal(queued, 3); /* 1 on the wire + 2 * 1500 waiting */
	assert_int_equal(emu_dir_offer(&d, 0, 1500, 99, NULL), EMU_DROP_QUEUE);
	emu_dir_free(&d);

	/* Ring: 8 slots, 1 s of latency, no rate: the ninth frame is a ring drop. */
	p = (struct emu_params){ .latency_ns = (int64_t)SEC };
	setup(&d, &p, 8, 10);
	for (int i = 0; i < 8; i++)
		assert_int_equal(emu_dir_offer(&d, (uint64_t)i, 100, (uint64_t)i, NULL), EMU_QUEUED);
	assert_int_equal(emu_dir_offer(&d, 8, 100, 8, NULL), EMU_DROP_RING);
	assert_int_equal(d.stats.drop_ring, 1);
	assert_int_equal(d.stats.backlog_pkts, 0);
	check_accounting(&d);
	emu_dir_free(&d);
}

/* set_params: a lower latency applies to later frames, which wait for the
 * earlier ones (no reordering) and then run at the new latency. */
static void test_set_params(void **state)
{
	struct emu_params p = { .latency_ns = 50 * MS };
	struct emu_dir d;
	struct sink s;

	(void)state;
	setup(&d, &p, 256, 11);
	sink_init(&s, 200);
	offer_run(&d, 0, MS, 100, 100, &s, NULL); /* last departs at 149 ms */
	p.latency_ns = MS;
	assert_int_equal(emu_dir_set_params(&d, 99 * MS, &p, NULL, NULL), 0);
	for (size_t i = 100; i < 200; i++) {
		drain(&d, i * MS, &s);
		assert_int_equal(emu_dir_offer(&d, i * MS, 100, i, NULL), EMU_QUEUED);
	}
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(s.n, 200);
	for (size_t i = 0; i < 200; i++) {
		uint64_t want = i < 100 ? i * MS + 50 * MS : i * MS + MS;

		assert_int_equal(s.v[i].cookie, i);
		if (i >= 100 && want < 149 * MS)
			want = 149 * MS; /* held behind frame 99 */
		assert_int_equal(s.v[i].depart_ns, want);
	}
	/* bad params leave the direction unchanged */
	p.loss = 1.5;
	assert_int_equal(emu_dir_set_params(&d, 99 * MS, &p, NULL, NULL), -EINVAL);
	assert_int_equal(d.p.loss, 0);
	sink_free(&s);
	emu_dir_free(&d);
}

/* duplicate 1.0 doubles deliveries; each cookie comes out twice, the
 * second flagged; the copy takes wire time and queue space. */
static void test_duplicate(void **state)
{
	struct emu_params p = { .latency_ns = MS, .duplicate = 1.0 };
	struct emu_dir d;
	struct sink s;

	(void)state;
	setup(&d, &p, 64, 12);
	sink_init(&s, 2000);
	offer_run(&d, 0, MS, 1000, 100, &s, NULL);
	drain(&d, UINT64_MAX, &s);
	assert_int_equal(s.n, 2000);
	assert_int_equal(d.stats.duplicated, 1000);
	for (size_t i = 0; i < 2000; i++) {
		assert_int_equal(s.v[i].cookie, i / 2);
		assert_int_equal(s.v[i].flags, i % 2 ? EMU_PKT_DUP : 0);
	}
	sink_free(&s);
	emu_dir_free(&d);

	/* the copy counts in the queue bound */
	p = (struct emu_params){ .rate_bps = 1000000, .queue_pkts = 2, .duplicate = 1.0 };
	setup(&d, &p, 64, 12);
	assert_int_equal(emu_dir_offer(&d, 0, 1000, 0, NULL), EMU_QUEUED); /* wire + 1 */
	assert_int_equal(emu_dir_offer(&d, 0, 1000, 1, NULL), EMU_QUEUED); /* 2, copy dropped */
	assert_int_equal(d.stats.backlog_pkts, 2);
	assert_int_equal(d.stats.drop_queue, 1);
	check_accounting(&d);
	emu_dir_free(&d);
}

/* Corrupt flags about the asked share of frames; the same seed replays the
 * same run. */
static void test_corrupt_and_seed(void **state)
{
	struct emu_params p = { .corrupt = 0.3, .loss = 0.1, .jitter_ns = MS, .latency_ns = MS };
	struct emu_dir a, b;
	struct sink sa, sb;
	size_t flagged = 0;

	(void)state;
	setup(&a, &p, 256, 13);
	setup(&b, &p, 256, 13);
	sink_init(&sa, 10000);
	sink_init(&sb, 10000);
	offer_run(&a, 0, 10000, 10000, 100, &sa, NULL);
	offer_run(&b, 0, 10000, 10000, 100, &sb, NULL);
	drain(&a, UINT64_MAX, &sa);
	drain(&b, UINT64_MAX, &sb);
	assert_int_equal(sa.n, sb.n);
	assert_memory_equal(sa.v, sb.v, sa.n * sizeof(*sa.v));
	for (size_t i = 0; i < sa.n; i++)
		flagged += (sa.v[i].flags & EMU_PKT_CORRUPT) != 0;
	assert_int_equal(flagged, a.stats.corrupted);
	/* about 9000 delivered, 30 % of them: 2700, sd 43 */
	assert_true(fabs((double)flagged - 0.3 * (double)sa.n) < 5 * sqrt(sa.n * 0.3 * 0.7));
	sink_free(&sa);
	sink_free(&sb);
	emu_dir_free(&a);
	emu_dir_free(&b);
}

/* Parameters and capacity are checked. */
static void test_params_check(void **state)
{
	struct emu_params ok = { .latency_ns = MS };
	struct emu_params p;
	struct emu_dir d;

	(void)state;
	assert_int_equal(emu_dir_init(&d, &ok, 0, 1), -EINVAL);
	emu_dir_free(&d);
	assert_int_equal(emu_dir_init(&d, &ok, EMU_CAPACITY_MAX + 1, 1), -EINVAL);
	emu_dir_free(&d);
	emu_dir_free(NULL);
	p = ok, p.latency_ns = -1;
	assert_int_equal(emu_params_check(&p), -EINVAL);
	p = ok, p.jitter_ns = EMU_DELAY_MAX_NS;
	assert_int_equal(emu_params_check(&p), -EINVAL);
	p = ok, p.reorder = NAN;
	assert_int_equal(emu_params_check(&p), -EINVAL);
	p = ok, p.ge.on = true, p.ge.p_bg = -0.1;
	assert_int_equal(emu_params_check(&p), -EINVAL);
	p = ok, p.ge.p_bg = -0.1; /* ignored while ge is off */
	assert_int_equal(emu_params_check(&p), 0);
	assert_int_equal(emu_params_check(NULL), -EINVAL);
	assert_string_equal(emu_verdict_name(EMU_DROP_QUEUE), "queue");
}

/* Only a direction that imposes nothing at all may bypass the emulator:
 * every property, alone, takes it out of the kernel's bypass. */
static void test_params_none(void **state)
{
	struct emu_params p = { 0 };

	(void)state;
	assert_true(emu_params_none(&p));
	p.queue_pkts = 10; /* no rate, so no backlog: the queue bound imposes nothing */
	p.queue_bytes = 1000;
	assert_true(emu_params_none(&p));
#define ONLY(field, v) do { struct emu_params q = { 0 }; q.field = v; assert_false(emu_params_none(&q)); } while (0)
	ONLY(latency_ns, 1);
	ONLY(jitter_ns, 1);
	ONLY(loss, 0.001);
	ONLY(duplicate, 0.001);
	ONLY(reorder, 0.001);
	ONLY(corrupt, 0.001);
	ONLY(rate_bps, 1000000);
#undef ONLY
	assert_int_equal(emu_params_set_loss(&p, 0.01, 3), 0);
	assert_false(emu_params_none(&p));
	assert_int_equal(emu_params_set_loss(&p, 0, 0), 0);
	assert_true(emu_params_none(&p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency_exact),     cmocka_unit_test(test_jitter_no_reorder),
		cmocka_unit_test(test_jitter_centred),    cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_loss),              cmocka_unit_test(test_gilbert_elliott),
		cmocka_unit_test(test_rate_large_queue),  cmocka_unit_test(test_rate_small_queue),
		cmocka_unit_test(test_rate_fraction),     cmocka_unit_test(test_queue_bounds),
		cmocka_unit_test(test_set_params),        cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_corrupt_and_seed),  cmocka_unit_test(test_params_check),
		cmocka_unit_test(test_params_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
