/* test_nl_fdb: the forwarding entries per MAC of a LAN's VXLAN device
 * (nl_fdb_add_macs, materialize/nl_vxlan.c) against the bytes the kernel
 * must get: one lookup of the device, then one batch of RTM_NEWNEIGH, each
 * a permanent NTF_SELF entry of AF_BRIDGE with the MAC and the remote
 * VTEP, created or replaced; and what is refused before anything is sent.
 * The socket's I/O is a script (struct nl_io): no kernel, no privileges.
 * White-box: it includes materialize/nl_impl.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "unit.h"
#include "nl_impl.h"

#define IFINDEX 9
#define MAX_REQS 8

/* What the script saw, and its answer (one datagram). */
struct script {
	size_t sends, getlinks;
	size_t nneigh;
	struct ndmsg ndm[MAX_REQS];
	uint16_t flags[MAX_REQS];
	uint8_t mac[MAX_REQS][6];
	uint8_t dst[MAX_REQS][4];
	uint8_t answer[4096];
	size_t len;
	bool pending;
};

static struct script sc;

/* Append an ack (error 0) of request seq to the answer. */
static void put_ack(uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(sc.answer + sc.len);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = 0;
	sc.len += nlh->nlmsg_len;
}

/* Append the device's RTM_NEWLINK (ifindex IFINDEX) to the answer. */
static void put_link(uint32_t seq, const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(sc.answer + sc.len);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = IFINDEX;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	sc.len += nlh->nlmsg_len;
}

/* Record one RTM_NEWNEIGH: its header, flags, MAC and destination. */
static void record_neigh(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	size_t k = sc.nneigh++;

	assert_true(k < MAX_REQS);
	memcpy(&sc.ndm[k], mnl_nlmsg_get_payload(nlh), sizeof(sc.ndm[k]));
	sc.flags[k] = nlh->nlmsg_flags;
	mnl_attr_for_each(a, nlh, sizeof(struct ndmsg)) {
		if (mnl_attr_get_type(a) == NDA_LLADDR) {
			assert_int_equal(mnl_attr_get_payload_len(a), 6);
			memcpy(sc.mac[k], mnl_attr_get_payload(a), 6);
		} else if (mnl_attr_get_type(a) == NDA_DST) {
			assert_int_equal(mnl_attr_get_payload_len(a), 4);
			memcpy(sc.dst[k], mnl_attr_get_payload(a), 4);
		} else {
			fail_msg("unexpected attribute %u", mnl_attr_get_type(a));
		}
	}
}

/* A datagram of requests: a lookup of the device is answered with it,
 * every entry is recorded; each gets its ack. */
static ssize_t fake_send(struct nl_sock *s, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	(void)s;
	sc.sends++;
	sc.len = 0;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == RTM_GETLINK) {
			sc.getlinks++;
			put_link(nlh->nlmsg_seq, "vtb3a7fx0");
		} else {
			assert_int_equal(nlh->nlmsg_type, RTM_NEWNEIGH);
			record_neigh(nlh);
		}
		put_ack(nlh->nlmsg_seq);
	}
	sc.pending = true;
	return (ssize_t)len;
}

static ssize_t fake_recv(struct nl_sock *s, void *buf, size_t len)
{
	(void)s;
	if (!sc.pending) {
		errno = EAGAIN; /* the test would hang on a real socket */
		return -1;
	}
	assert_true(sc.len <= len);
	memcpy(buf, sc.answer, sc.len);
	sc.pending = false;
	return (ssize_t)sc.len;
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
	s->send_max = NL_BATCH_BUF;
	s->queue_max = NL_QUEUE_MAX;
	assert_non_null(s->buf);
	assert_non_null(s->rbuf);
	return s;
}

static struct nl_fdb_mac ent(uint8_t last, const char *dst)
{
	struct nl_fdb_mac m = { .mac = { 0x02, 0, 0, 0, 0, last },
				.remote = { .family = AF_INET, .plen = 32 } };

	assert_int_equal(inet_pton(AF_INET, dst, m.remote.bytes), 1);
	return m;
}

/* Three entries: one lookup, then one batch of three permanent entries. */
static void test_add_macs_bytes(void **state)
{
	struct nl_fdb_mac v[3] = { ent(1, "10.99.0.2"), ent(2, "10.99.0.3"), ent(3, "10.99.0.2") };
	struct nl_sock *s = fake_sock();
	struct nl_err e;
	size_t k;

	(void)state;
	sc = (struct script){ 0 };
	assert_int_equal(nl_fdb_add_macs(s, "vtb3a7fx0", v, 3, &e), 0);
	assert_int_equal(sc.getlinks, 1);
	assert_int_equal(sc.sends, 2); /* the lookup, then the batch in one sendto */
	assert_int_equal(sc.nneigh, 3);
	for (k = 0; k < 3; k++) {
		assert_int_equal(sc.ndm[k].ndm_family, AF_BRIDGE);
		assert_int_equal(sc.ndm[k].ndm_ifindex, IFINDEX);
		assert_int_equal(sc.ndm[k].ndm_state, NUD_NOARP | NUD_PERMANENT);
		assert_int_equal(sc.ndm[k].ndm_flags, NTF_SELF);
		assert_int_equal(sc.flags[k] & (NLM_F_CREATE | NLM_F_REPLACE | NLM_F_APPEND),
				 NLM_F_CREATE | NLM_F_REPLACE);
		assert_true(sc.flags[k] & NLM_F_ACK);
		assert_memory_equal(sc.mac[k], v[k].mac, 6);
		assert_memory_equal(sc.dst[k], v[k].remote.bytes, 4);
	}
	assert_false(s->batching); /* its own batch, ended */
	nl_close(s);
}

/* A multicast MAC, an IPv6 remote: refused, nothing sent; none: nothing. */
static void test_add_macs_refused(void **state)
{
	struct nl_fdb_mac v[2] = { ent(1, "10.99.0.2"), ent(2, "10.99.0.3") };
	struct nl_sock *s = fake_sock();
	struct nl_err e;

	(void)state;
	sc = (struct script){ 0 };
	v[1].mac[0] = 0x01;
	assert_int_equal(nl_fdb_add_macs(s, "vtb3a7fx0", v, 2, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unicast MAC"));
	v[1].mac[0] = 0x02;
	v[1].remote.family = AF_INET6;
	assert_int_equal(nl_fdb_add_macs(s, "vtb3a7fx0", v, 2, &e), -EAFNOSUPPORT);
	assert_int_equal(nl_fdb_add_macs(s, "vtb3a7fx0", v, 0, &e), 0);
	assert_int_equal(sc.sends, 0);
	nl_close(s);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_macs_bytes),
		cmocka_unit_test(test_add_macs_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
