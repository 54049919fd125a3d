/* test_emu_change: a change of parameters acts on the frames already queued
 * in one direction (emu_dir_set_params), on virtual time. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "emu_dir.h"

#define MS  1000000ULL
#define US  1000ULL
#define LEN 1250u /* bytes: 10 ms at 1 Mbit/s, 0.5 ms at 20 Mbit/s */

/* The cookies a change dropped. */
struct dropped {
	uint64_t cookie[64];
	size_t n;
};

static void on_drop(void *ctx, uint64_t cookie)
{
	struct dropped *dr = ctx;

	assert_true(dr->n < 64);
	dr->cookie[dr->n++] = cookie;
}

/* Offer n frames of LEN bytes at t = 0 to d, cookies 0..n-1. */
static void offer_burst(struct emu_dir *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(emu_dir_offer(d, 0, LEN, i, NULL), EMU_QUEUED);
}

/* Take every frame out of d (due at the end of time) into out[max];
 * returns how many, in departure order. */
static size_t take_all(struct emu_dir *d, struct emu_pkt *out, size_t max)
{
	size_t n = emu_dir_due(d, UINT64_MAX, out, max);

	assert_int_equal(d->stats.ring_used, 0);
	return n;
}

/* 20 frames at 1 Mbit/s (10 ms each); at 25 ms (frame 2 half sent) the
 * rate goes to 20 Mbit/s: frame 2 sends its remaining half in 0.25 ms, the
 * rest follow 0.5 ms apart from then, and the latency is added after. */
static void test_capacity_raise(void **state)
{
	struct emu_params p = { .rate_bps = 1000000, .latency_ns = 5 * MS };
	struct emu_pkt out[32];
	struct emu_dir d;
	size_t n;

	(void)state;
	assert_int_equal(emu_dir_init(&d, &p, 64, 1), 0);
	offer_burst(&d, 20);
	assert_int_equal(emu_dir_next_deadline(&d), 15 * MS);
	p.rate_bps = 20000000;
	assert_int_equal(emu_dir_set_params(&d, 25 * MS, &p, NULL, NULL), 0);
	assert_int_equal(d.stats.backlog_pkts, 17);
	n = take_all(&d, out, 32);
	assert_int_equal(n, 20);
	for (size_t i = 0; i < n; i++) {
		uint64_t ser_end = i < 2   ? (i + 1) * 10 * MS
		                   : i == 2 ? 25 * MS + 250 * US
		                            : 25 * MS + 250 * US + (i - 2) * 500 * US;

		assert_int_equal(out[i].cookie, i);
		assert_int_equal(out[i].ser_end_ns, ser_end);
		assert_int_equal(out[i].depart_ns, ser_end + 5 * MS);
	}
	emu_dir_free(&d);
}

/* A lower rate stretches the backlog the same way; frames already past
 * serialization (in the delay line) keep their departure. */
static void test_capacity_lower(void **state)
{
	struct emu_params p = { .rate_bps = 20000000, .latency_ns = 50 * MS };
	struct emu_pkt out[32];
	struct emu_dir d;
	uint64_t t;

	(void)state;
	assert_int_equal(emu_dir_init(&d, &p, 64, 1), 0);
	offer_burst(&d, 10); /* ser ends every 0.5 ms */
	p.rate_bps = 1000000;
	assert_int_equal(emu_dir_set_params(&d, 1 * MS, &p, NULL, NULL), 0);
	assert_int_equal(take_all(&d, out, 32), 10);
	assert_int_equal(out[0].depart_ns, 500 * US + 50 * MS);
	assert_int_equal(out[1].depart_ns, 1 * MS + 50 * MS);
	/* frame 2 was not started at 1 ms: everything from it at 10 ms a frame */
	for (size_t i = 2; i < 10; i++) {
		t = 1 * MS + (i - 1) * 10 * MS;
		assert_int_equal(out[i].ser_end_ns, t);
		assert_int_equal(out[i].depart_ns, t + 50 * MS);
	}
	emu_dir_free(&d);
}

/* A new latency applies to frames not past serialization; those in the
 * delay line keep theirs, and nothing overtakes them. */
static void test_latency_change(void **state)
{
	struct emu_params p = { .rate_bps = 1000000, .latency_ns = 100 * MS };
	struct emu_pkt out[32];
	struct emu_dir d;

	(void)state;
	assert_int_equal(emu_dir_init(&d, &p, 64, 1), 0);
	offer_burst(&d, 5); /* ser ends 10, 20, 30, 40, 50 ms */
	p.latency_ns = 1 * MS;
	assert_int_equal(emu_dir_set_params(&d, 25 * MS, &p, NULL, NULL), 0);
	assert_int_equal(take_all(&d, out, 32), 5);
	assert_int_equal(out[0].depart_ns, 110 * MS);
	assert_int_equal(out[1].depart_ns, 120 * MS);
	/* frames 2..4 would leave at 31, 41, 51 ms: held behind frame 1 */
	for (size_t i = 2; i < 5; i++)
		assert_int_equal(out[i].depart_ns, 120 * MS);
	/* and a higher latency delays the frames still on the wire or waiting */
	emu_dir_free(&d);
	p = (struct emu_params){ .rate_bps = 1000000, .latency_ns = MS };
	assert_int_equal(emu_dir_init(&d, &p, 64, 1), 0);
	offer_burst(&d, 3);
	p.latency_ns = 30 * MS;
	assert_int_equal(emu_dir_set_params(&d, 15 * MS, &p, NULL, NULL), 0);
	assert_int_equal(take_all(&d, out, 32), 3);
	assert_int_equal(out[0].depart_ns, 11 * MS);
	assert_int_equal(out[1].depart_ns, 50 * MS);
	assert_int_equal(out[2].depart_ns, 60 * MS);
	emu_dir_free(&d);
}

/* A smaller queue drops the newest waiting frames at once, counted, their
 * cookies handed back; the frame on the wire and the rest stay. */
static void test_queue_shrink(void **state)
{
	struct emu_params p = { .rate_bps = 1000000, .queue_pkts = 100 };
	struct emu_pkt out[64];
	struct dropped dr = { .n = 0 };
	struct emu_dir d;
	size_t n;

	(void)state;
	assert_int_equal(emu_dir_init(&d, &p, 64, 1), 0);
	offer_burst(&d, 40);
	assert_int_equal(d.stats.backlog_pkts, 39);
	p.queue_pkts = 10;
	assert_int_equal(emu_dir_set_params(&d, 5 * MS, &p, on_drop, &dr), 0);
	assert_int_equal(dr.n, 29);
	for (size_t i = 0; i < dr.n; i++)
		assert_int_equal(dr.cookie[i], 39 - i);
	assert_int_equal(d.stats.drop_queue, 29);
	assert_int_equal(d.stats.backlog_pkts, 10);
	assert_int_equal(d.stats.backlog_bytes, 10 * LEN);
	assert_int_equal(d.stats.ring_used, 11);
	/* the kept frames keep their times; the next arrival waits behind them */
	assert_int_equal(emu_dir_offer(&d, 5 * MS, LEN, 99, NULL), EMU_DROP_QUEUE);
	n = take_all(&d, out, 64);
	assert_int_equal(n, 11);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i].depart_ns, (i + 1) * 10 * MS);
	assert_int_equal(d.stats.rx_pkts, d.stats.tx_pkts + d.stats.drop_queue);
	/* a byte bound trims too */
	emu_dir_free(&d);
	p = (struct emu_params){ .rate_bps = 1000000 };
	dr.n = 0;
	assert_int_equal(emu_dir_init(&d, &p, 64, 1), 0);
	offer_burst(&d, 8);
	p.queue_bytes = 3 * LEN;
	assert_int_equal(emu_dir_set_params(&d, 0, &p, on_drop, &dr), 0);
	assert_int_equal(dr.n, 4);
	assert_int_equal(d.stats.backlog_pkts, 3);
	emu_dir_free(&d);
}

/* Unlimited from now: the backlog leaves at once (plus latency), and bad
 * params change nothing. */
static void test_capacity_off(void **state)
{
	struct emu_params p = { .rate_bps = 1000000, .latency_ns = MS };
	struct emu_pkt out[16];
	struct emu_dir d;

	(void)state;
	assert_int_equal(emu_dir_init(&d, &p, 16, 1), 0);
	offer_burst(&d, 5);
	p.loss = 2;
	assert_int_equal(emu_dir_set_params(&d, 15 * MS, &p, NULL, NULL), -EINVAL);
	assert_int_equal(d.stats.backlog_pkts, 4);
	p.loss = 0;
	p.rate_bps = 0;
	assert_int_equal(emu_dir_set_params(&d, 15 * MS, &p, NULL, NULL), 0);
	assert_int_equal(d.stats.backlog_pkts, 0);
	assert_int_equal(take_all(&d, out, 16), 5);
	assert_int_equal(out[0].depart_ns, 11 * MS);
	for (size_t i = 1; i < 5; i++)
		assert_int_equal(out[i].depart_ns, 16 * MS);
	emu_dir_free(&d);
}

/* Slots follow the link: queue bound + 1 + the bandwidth-delay product in
 * MTU frames, doubled with duplicates, within [EMU_SLOTS_MIN,
 * EMU_CAPACITY_MAX]; an unlimited rate holds no backlog. */
static void test_slots(void **state)
{
	struct emu_params p = { .rate_bps = 100000000, .latency_ns = MS };

	(void)state;
	/* 100 Mbit/s x 1 ms = 12,500 bytes: 8 frames of 1514 */
	assert_int_equal(emu_dir_slots(&p, 1514), EMU_QUEUE_PKTS_DEFAULT + 1 + 8);
	p.queue_pkts = 10;
	assert_int_equal(emu_dir_slots(&p, 1514), EMU_SLOTS_MIN);
	p.latency_ns = 100 * MS, p.jitter_ns = 20 * MS; /* 1,500,000 bytes: 990 frames */
	assert_int_equal(emu_dir_slots(&p, 1514), 10 + 1 + 990);
	p.duplicate = 0.1;
	assert_int_equal(emu_dir_slots(&p, 1514), 2 * (10 + 1 + 990));
	p = (struct emu_params){ .latency_ns = MS };
	assert_int_equal(emu_dir_slots(&p, 1514), EMU_SLOTS_UNBOUNDED);
	p.latency_ns = 0;
	assert_int_equal(emu_dir_slots(&p, 1514), EMU_SLOTS_MIN);
	p = (struct emu_params){ .rate_bps = 1000000000000ULL, .latency_ns = EMU_DELAY_MAX_NS };
	assert_int_equal(emu_dir_slots(&p, 1514), EMU_CAPACITY_MAX);
}

/* A ring holds what the link carries in EMU_RING_HOLD_NS, in whole ring
 * frames, at least EMU_RING_MIN_FRAMES, at most the experiment's bound. */
static void test_ring_bytes(void **state)
{
	struct emu_params p = { .rate_bps = 100000000 };

	(void)state;
	assert_int_equal(emu_port_ring_bytes(&p, 2048, 2), EMU_RING_MIN_FRAMES * 2048);
	p.rate_bps = 1000000000; /* 250,000 bytes: 123 frames, rounded up */
	assert_int_equal(emu_port_ring_bytes(&p, 2048, 2), 123 * 2048);
	p.rate_bps = 10000000000ULL;
	assert_int_equal(emu_port_ring_bytes(&p, 2048, 2000), emu_ring_bytes(2000));
	p.rate_bps = 0;
	assert_int_equal(emu_port_ring_bytes(&p, 2048, 2), emu_ring_bytes(2));
}

/* Growing keeps the frames held and the backlog's order, wherever the
 * FIFO had wrapped. */
static void test_grow(void **state)
{
	struct emu_params p = { .rate_bps = 1000000 };
	struct emu_pkt out[64];
	struct emu_dir d;
	size_t n;

	(void)state;
	assert_int_equal(emu_dir_init(&d, &p, 8, 1), 0);
	offer_burst(&d, 8);
	/* 3 frames out, 3 more in: the FIFO wraps */
	assert_int_equal(emu_dir_due(&d, 30 * MS, out, 64), 3);
	for (size_t i = 8; i < 11; i++)
		assert_int_equal(emu_dir_offer(&d, 30 * MS, LEN, i, NULL), EMU_QUEUED);
	assert_int_equal(emu_dir_offer(&d, 30 * MS, LEN, 99, NULL), EMU_DROP_RING);
	assert_int_equal(emu_dir_grow(&d, 4), 0); /* smaller: nothing to do */
	assert_int_equal(emu_dir_grow(&d, EMU_CAPACITY_MAX + 1), -EINVAL);
	assert_int_equal(emu_dir_grow(&d, 32), 0);
	assert_int_equal(d.capacity, 32);
	for (size_t i = 11; i < 20; i++)
		assert_int_equal(emu_dir_offer(&d, 30 * MS, LEN, i, NULL), EMU_QUEUED);
	p.rate_bps = 20000000; /* the backlog re-serialized through the new FIFO */
	assert_int_equal(emu_dir_set_params(&d, 35 * MS, &p, NULL, NULL), 0);
	n = take_all(&d, out, 64);
	assert_int_equal(n, 17);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i].cookie, i + 3);
	assert_int_equal(out[1].ser_end_ns, 35 * MS + 250 * US + 500 * US);
	emu_dir_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_raise), cmocka_unit_test(test_capacity_lower),
		cmocka_unit_test(test_latency_change), cmocka_unit_test(test_queue_shrink),
		cmocka_unit_test(test_capacity_off),   cmocka_unit_test(test_slots),
		cmocka_unit_test(test_ring_bytes),     cmocka_unit_test(test_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
