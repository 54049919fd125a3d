/* test_nl_dump: an interrupted netlink dump (NLM_F_DUMP_INTR, the link
 * table changed while the kernel walked it) is read to its end and asked
 * again, and a reader meeting the stale rest of one does not fail. The
 * socket's I/O is a script here (struct nl_io): no kernel, no privileges.
 * White-box: it includes materialize/nl_impl.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "nl_impl.h"

#define GROUP 0x7d01
#define MAX_DGRAMS 16

/* The kernel as a script: the datagrams each dump request is answered
 * with, round after round; what was asked is counted. */
struct script {
	uint8_t dgram[MAX_DGRAMS][1024];
	size_t len[MAX_DGRAMS];
	size_t n, next;
	size_t rounds_intr; /* the first this many rounds are interrupted */
	size_t sends, recvs;
	uint32_t seq;
};

static struct script sc;

/* Append a message to datagram i of the script. */
static struct nlmsghdr *put_msg(size_t i, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(sc.dgram[i] + sc.len[i]);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_MULTI | flags;
	nlh->nlmsg_seq = sc.seq;
	return nlh;
}

static void put_link(size_t i, const char *name, uint32_t group, uint16_t flags)
{
	struct nlmsghdr *nlh = put_msg(i, RTM_NEWLINK, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 7;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	sc.len[i] += nlh->nlmsg_len;
}

static void put_done(size_t i, uint16_t flags)
{
	struct nlmsghdr *nlh = put_msg(i, NLMSG_DONE, flags);
	int *e = mnl_nlmsg_put_extra_header(nlh, sizeof(int));

	*e = 0;
	sc.len[i] += nlh->nlmsg_len;
}

/* A dump request: script this round's answer (links a and x in one
 * datagram, DONE in another; b appears in a consistent round), flagged
 * interrupted while rounds_intr lasts. */
static ssize_t fake_send(struct nl_sock *s, const void *buf, size_t len)
{
	const struct nlmsghdr *req = buf;
	uint16_t f = sc.sends < sc.rounds_intr ? NLM_F_DUMP_INTR : 0;

	(void)s;
	assert_true(len >= sizeof(*req));
	assert_true(req->nlmsg_flags & NLM_F_DUMP);
	sc.sends++;
	sc.seq = req->nlmsg_seq;
	memset(sc.len, 0, sizeof(sc.len));
	sc.next = 0;
	put_link(0, "a", GROUP, f);
	put_link(0, "x", GROUP + 1, f);
	if (!f)
		put_link(0, "b", GROUP, 0);
	put_done(1, f);
	sc.n = 2;
	return (ssize_t)len;
}

static ssize_t fake_recv(struct nl_sock *s, void *buf, size_t len)
{
	(void)s;
	if (sc.next >= sc.n) {
		errno = EAGAIN; /* the test would hang on a real socket */
		return -1;
	}
	assert_true(sc.len[sc.next] <= len);
	memcpy(buf, sc.dgram[sc.next], sc.len[sc.next]);
	sc.recvs++;
	return (ssize_t)sc.len[sc.next++];
}

static const struct nl_io fake_io = { .send = fake_send, .recv = fake_recv };

/* A socket with no kernel behind it. */
static struct nl_sock *fake_sock(void)
{
	struct nl_sock *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->io = &fake_io;
	s->ns_fd = -1;
	s->cap = NL_MSG_MAX;
	s->buf = malloc(s->cap);
	s->rbuf = malloc(NL_RECV_BUF);
	assert_non_null(s->buf);
	assert_non_null(s->rbuf);
	return s;
}

static void test_interrupted_dump_is_retried(void **state)
{
	struct nl_sock *s = fake_sock();
	char (*names)[16] = NULL;
	size_t n = 0;

	(void)state;
	sc = (struct script){ .rounds_intr = 2 };
	assert_int_equal(nl_group_links(s, GROUP, &names, &n), 0);
	assert_int_equal(sc.sends, 3);     /* two interrupted rounds, then one whole */
	assert_int_equal(sc.recvs, 3 * 2); /* every round read to its DONE */
	assert_int_equal(n, 2);            /* this round's names only, no duplicates */
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "b");
	free(names);
	nl_close(s);
}

static void test_always_interrupted_gives_eagain(void **state)
{
	struct nl_sock *s = fake_sock();
	char (*names)[16] = NULL;
	size_t n = 0;

	(void)state;
	sc = (struct script){ .rounds_intr = 1000 };
	assert_int_equal(nl_group_links(s, GROUP, &names, &n), -EAGAIN);
	assert_int_equal(sc.sends, NL_DUMP_TRIES);
	assert_int_equal(sc.recvs, NL_DUMP_TRIES * 2);
	assert_null(names);
	nl_close(s);
}

/* The parser alone: an interrupted datagram goes on to DONE (libmnl's
 * mnl_cb_run would stop at the first flagged message with EINTR). */
static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
	return 0;
}

static void test_feed_reads_past_intr(void **state)
{
	int count = 0;
	struct nl_dump d = { .cb = count_cb, .data = &count };

	(void)state;
	sc = (struct script){ .seq = 42 };
	d.seq = 42;
	put_link(0, "a", GROUP, NLM_F_DUMP_INTR);
	put_link(0, "b", GROUP, NLM_F_DUMP_INTR);
	put_done(0, NLM_F_DUMP_INTR);
	assert_int_equal(nl_dump_feed(&d, sc.dgram[0], sc.len[0]), 1);
	assert_true(d.intr);
	assert_int_equal(d.err, 0);
	assert_int_equal(count, 2);

	/* another sequence's messages (a stale dump) are skipped */
	d = (struct nl_dump){ .seq = 43, .cb = count_cb, .data = &count };
	assert_int_equal(nl_dump_feed(&d, sc.dgram[0], sc.len[0]), 0);
	assert_false(d.intr);
	assert_int_equal(count, 2);
}

/* A lookup's request: answered after the stale, interrupted rest of an
 * older dump (what an aborted reader used to leave in the socket). */
static ssize_t stale_send(struct nl_sock *s, const void *buf, size_t len)
{
	const struct nlmsghdr *req = buf;
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;
	uint32_t seq = req->nlmsg_seq;

	(void)s;
	sc.sends++;
	memset(sc.len, 0, sizeof(sc.len));
	sc.next = 0;
	sc.seq = seq - 1; /* the older dump's */
	put_link(0, "old", GROUP, NLM_F_DUMP_INTR);
	put_done(0, NLM_F_DUMP_INTR);
	sc.seq = seq;
	put_link(1, "a", GROUP, 0);
	nlh = mnl_nlmsg_put_header(sc.dgram[1] + sc.len[1]);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = 0;
	sc.len[1] += nlh->nlmsg_len;
	sc.n = 2;
	return (ssize_t)len;
}

static const struct nl_io stale_io = { .send = stale_send, .recv = fake_recv };

/* The ack reader skips a stale interrupted dump instead of failing with
 * "no acknowledgement from the kernel: Interrupted system call". */
static void test_acks_skip_stale_dump(void **state)
{
	struct nl_sock *s = fake_sock();

	(void)state;
	sc = (struct script){ 0 };
	s->io = &stale_io;
	s->seq = 100;
	assert_int_equal(nl_link_exists(s, "a"), 1);
	assert_int_equal(sc.recvs, 2);
	nl_close(s);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interrupted_dump_is_retried),
		cmocka_unit_test(test_always_interrupted_gives_eagain),
		cmocka_unit_test(test_feed_reads_past_intr),
		cmocka_unit_test(test_acks_skip_stale_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
