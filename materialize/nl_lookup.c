/* nl_lookup: finding links (see nl.h): by name (nl_ifindex,
 * nl_link_exists, nl_link_mtu), by netdev group (a dump), by the address
 * they hold (a dump), and waiting for one to go away (an RTM_DELLINK
 * event, not a poll). */
#include "nl_impl.h"
#include "ns.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- by name ------------------------------------------------------------ */

/* Is name acceptable as a lookup key? (The kernel judges names we create.) */
bool nl_name_ok(const char *name)
{
	return name && *name && strlen(name) < IFNAMSIZ;
}

/* An attribute table being filled: tb has max + 1 slots. */
struct attr_tab {
	const struct nlattr **tb;
	uint16_t max;
};

/* mnl_attr_parse callback: index an attribute by type. */
static int attr_index(const struct nlattr *a, void *data)
{
	struct attr_tab *t = data;

	if (mnl_attr_type_valid(a, t->max) >= 0)
		t->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* Index the attributes of nlh, which follow a fixed header of hdrlen
 * bytes, into tb (max + 1 slots, zeroed by the caller). 0 or -1. */
static int attr_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
		      uint16_t max)
{
	struct attr_tab t = { .tb = tb, .max = max };

	return mnl_attr_parse(nlh, (unsigned)hdrlen, attr_index, &t) < 0 ? -1 : 0;
}

/* Fill e from a link message: name, ifindex, group, MTU. false when it is
 * not one (another type, too short, no name). */
static bool link_ent_parse(const struct nlmsghdr *nlh, struct nl_link_ent *e)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return false;
	if (attr_parse(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX))
		return false;
	if (!tb[IFLA_IFNAME] || mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
		return false;
	*e = (struct nl_link_ent){ .ifindex = ifi->ifi_index };
	if (tb[IFLA_GROUP] && mnl_attr_get_payload_len(tb[IFLA_GROUP]) >= 4)
		e->group = mnl_attr_get_u32(tb[IFLA_GROUP]);
	if (tb[IFLA_MTU] && mnl_attr_get_payload_len(tb[IFLA_MTU]) >= 4)
		e->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	snprintf(e->name, sizeof(e->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	return true;
}

struct link_get {
	struct nl_link_ent *e;
	bool found;
};

static void on_link_get(const struct nlmsghdr *nlh, void *data)
{
	struct link_get *g = data;

	if (link_ent_parse(nlh, g->e))
		g->found = true;
}

/* The record of the link named name, or (name NULL) of index ifindex, by
 * an immediate RTM_GETLINK (a read: never queued, even in a batch). In a
 * batch, queued link creations and deletions are flushed first so that
 * the answer includes them; other queued requests are not, so a run of
 * address adds stays in one sendto. 0, -ENODEV when there is no such
 * link, or a negative errno. */
static int link_get(struct nl_sock *s, const char *name, int ifindex, struct nl_link_ent *out)
{
	struct link_get g = { .e = out };
	struct ifinfomsg *ifi;
	struct nl_err err;
	struct nl_req r;

	if (s->batching && s->nlinks)
		nl_queue_flush(s);
	nl_err_clear(&err);
	ifi = nl_req_start(s, &r, RTM_GETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (name)
		nl_req_put_str(&r, IFLA_IFNAME, name);
	else
		ifi->ifi_index = ifindex;
	nl_req_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (r.full)
		return -EMSGSIZE;
	if (nl_req_transact(s, &r, 0, 0, &err, on_link_get, &g))
		return err.code;
	return g.found ? 0 : -ENODEV;
}

/* The ifindex of name (see link_get). Returns the index, -ENODEV when
 * there is no such link, -EINVAL for a name no link can have, or a
 * negative errno. */
int nl_ifindex(struct nl_sock *s, const char *name)
{
	struct nl_link_ent e;
	int r;

	if (!nl_name_ok(name))
		return -EINVAL;
	r = link_get(s, name, 0, &e);
	return r ? r : e.ifindex;
}

/* 1, 0, or the lookup's failure: a failed lookup is not "gone". */
int nl_link_exists(struct nl_sock *s, const char *name)
{
	int r = nl_ifindex(s, name);

	if (r == -ENODEV)
		return 0;
	return r < 0 ? r : 1;
}

/* See nl.h. */
int nl_link_mtu(struct nl_sock *s, const char *name)
{
	struct nl_link_ent e;
	int r;

	if (!nl_name_ok(name))
		return -EINVAL;
	r = link_get(s, name, 0, &e);
	if (r)
		return r;
	return e.mtu > INT32_MAX ? -ERANGE : (int)e.mtu;
}

/* ---- by group ----------------------------------------------------------- */

struct link_dump {
	struct nl_link_ent *v;
	size_t n, cap;
};

/* nl_dump's callback: keep every link's name, ifindex, group and MTU. */
static int on_link_ent(const struct nlmsghdr *nlh, void *data)
{
	struct link_dump *g = data;
	struct nl_link_ent e;

	if (!link_ent_parse(nlh, &e))
		return 0;
	return UTIL_PUSH(g->v, g->n, g->cap, e);
}

/* The kernel's error in a NLMSG_DONE or NLMSG_ERROR that ends a dump (0
 * when it reports none). */
static int dump_end_error(const struct nlmsghdr *nlh)
{
	int e;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(e))
		return nlh->nlmsg_type == NLMSG_ERROR ? -EPROTO : 0;
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	return e < 0 ? e : 0;
}

/* See nl_impl.h. Not mnl_cb_run: it stops at the first message flagged
 * NLM_F_DUMP_INTR and leaves the rest of the dump in the socket, where the
 * next request's reader meets it. */
int nl_dump_feed(struct nl_dump *d, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len, r;

	for (; mnl_nlmsg_ok(nlh, left) && !d->done; nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_seq != d->seq)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			d->intr = true;
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
			r = dump_end_error(nlh);
			if (r && !d->err)
				d->err = r;
			d->done = true;
		} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && !d->err) {
			d->err = d->cb(nlh, d->data);
		}
	}
	return d->done;
}

/* See nl_impl.h. */
int nl_dump_round(struct nl_sock *s, uint16_t type, uint8_t family, struct nl_dump *d)
{
	struct nl_req r;
	uint8_t *fam;
	ssize_t got;

	/* ifinfomsg and ifaddrmsg both begin with their family byte */
	fam = nl_req_init(s, &r, type, 0,
			  type == RTM_GETLINK ? sizeof(struct ifinfomsg) : sizeof(struct ifaddrmsg));
	r.nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP; /* a dump ends with DONE, not an ack */
	*fam = family;
	if (type == RTM_GETLINK)
		nl_req_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	d->seq = r.nlh->nlmsg_seq;
	if (nl_sock_send(s, r.nlh, r.nlh->nlmsg_len) < 0)
		return -errno;
	do {
		got = nl_sock_recv(s);
		if (got < 0)
			return -errno;
	} while (!nl_dump_feed(d, s->rbuf, (size_t)got));
	return 0;
}

/* A consistent dump of type and family through cb(data): a round the
 * kernel marks interrupted (links come and go: other experiments'
 * teardowns) is asked again, up to NL_DUMP_TRIES times, with *count (what
 * cb gathered) reset to 0 first; then -EAGAIN. 0 or a negative errno (the
 * kernel's, or cb's). Not inside a batch (-EBUSY). */
static int dump_whole(struct nl_sock *s, uint16_t type, uint8_t family,
		      int (*cb)(const struct nlmsghdr *nlh, void *data), void *data, size_t *count)
{
	struct nl_dump d;
	int r = -EAGAIN, tries;

	if (s->batching)
		return -EBUSY;
	for (tries = 0; tries < NL_DUMP_TRIES; tries++) {
		d = (struct nl_dump){ .cb = cb, .data = data };
		*count = 0;
		r = nl_dump_round(s, type, family, &d);
		if (!r)
			r = d.err;
		if (r || !d.intr)
			return r;
	}
	return -EAGAIN;
}

/* See nl.h. One dump of every link (see dump_whole). */
int nl_link_list(struct nl_sock *s, struct nl_link_ent **v, size_t *n)
{
	struct link_dump g = { 0 };
	int r;

	*v = NULL;
	*n = 0;
	r = dump_whole(s, RTM_GETLINK, AF_UNSPEC, on_link_ent, &g, &g.n);
	if (r) {
		free(g.v);
		return r;
	}
	*v = g.v;
	*n = g.n;
	return 0;
}

/* See nl.h. The kernel's own group filter for dumps (IFLA_GROUP in the
 * request) is newer than some hosts: one dump of every link, filtered
 * here. */
int nl_group_links(struct nl_sock *s, uint32_t group, char (**names)[16], size_t *n)
{
	struct nl_link_ent *v;
	size_t nv, i;
	int r;

	*names = NULL;
	*n = 0;
	r = nl_link_list(s, &v, &nv);
	if (r)
		return r;
	*names = calloc(nv ? nv : 1, sizeof(**names));
	if (!*names)
		r = -ENOMEM;
	for (i = 0; !r && i < nv; i++)
		if (v[i].group == group)
			memcpy((*names)[(*n)++], v[i].name, sizeof(v[i].name));
	free(v);
	return r;
}

/* ---- by address --------------------------------------------------------- */

/* What an address dump looks for: the index of the link holding want. */
struct addr_find {
	const struct addr_prefix *want;
	size_t alen;
	int ifindex;
	size_t found; /* 1 once found (reset by dump_whole) */
};

/* nl_dump's callback: note the link whose local address is f->want. The
 * local address is IFA_LOCAL (IPv4; it differs from IFA_ADDRESS on a
 * point-to-point link), else IFA_ADDRESS (IPv6). */
static int on_addr(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_find *f = data;
	const struct nlattr *a;

	if (f->found || nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    attr_parse(nlh, sizeof(*ifa), tb, IFA_MAX))
		return 0;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || ifa->ifa_family != f->want->family || mnl_attr_get_payload_len(a) != f->alen ||
	    memcmp(mnl_attr_get_payload(a), f->want->bytes, f->alen))
		return 0;
	f->ifindex = (int)ifa->ifa_index;
	f->found = 1;
	return 0;
}

/* See nl.h. One address dump of a's family (asked again while the kernel
 * marks it interrupted), then the link by its index. */
int nl_addr_link(struct nl_sock *s, const struct addr_prefix *a, struct nl_link_ent *out)
{
	struct addr_find f = { .want = a };
	int r;

	f.alen = a ? nl_addr_len(a->family) : 0;
	if (!f.alen)
		return -EAFNOSUPPORT;
	r = dump_whole(s, RTM_GETADDR, (uint8_t)a->family, on_addr, &f, &f.found);
	if (r)
		return r;
	if (!f.found)
		return -EADDRNOTAVAIL;
	return link_get(s, NULL, f.ifindex, out);
}

/* ---- waiting for a link to go ------------------------------------------- */

/* What the event reader looks for: the deletion of one link by name. */
struct link_watch {
	const char *name;
	bool gone;
};

/* Open a socket subscribed to RTNLGRP_LINK in the calling thread's
 * namespace, non-blocking (the wait polls it). The caller owns *out. */
static int watch_socket(struct mnl_socket **out)
{
	unsigned group = RTNLGRP_LINK;
	struct mnl_socket *m;
	int r;

	m = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!m)
		return -errno;
	if (mnl_socket_bind(m, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(m, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		mnl_socket_close(m);
		return r;
	}
	*out = m;
	return 0;
}

static int watch_socket_cb(void *arg)
{
	return watch_socket(arg);
}

/* watch_socket in s's namespace: directly when the calling thread is in it
 * already (the usual case: a socket of the root namespace), else with the
 * thread switched there for the call. */
static int watch_open(struct nl_sock *s, struct mnl_socket **out)
{
	struct stat want, self;

	if (!fstat(s->ns_fd, &want) && !stat("/proc/thread-self/ns/net", &self) &&
	    want.st_dev == self.st_dev && want.st_ino == self.st_ino)
		return watch_socket(out);
	return ns_run_in(s->ns_fd, watch_socket_cb, out);
}

/* mnl_cb_run callback: stop at the RTM_DELLINK of w->name. Only a message
 * of family AF_UNSPEC says the device is gone: a bridge also sends an
 * RTM_DELLINK (AF_BRIDGE) for a port that merely leaves it. */
static int on_watch_event(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct link_watch *w = data;
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_DELLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_family != AF_UNSPEC ||
	    attr_parse(nlh, sizeof(*ifi), tb, IFLA_MAX) || !tb[IFLA_IFNAME] ||
	    mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0 ||
	    strcmp(mnl_attr_get_str(tb[IFLA_IFNAME]), w->name))
		return MNL_CB_OK;
	w->gone = true;
	return MNL_CB_STOP;
}

/* Read events from m until w->name's deletion or the deadline (monotonic
 * ms). When the socket overflowed (ENOBUFS: events were dropped, perhaps
 * the one awaited) the link is looked up again through s instead. Returns
 * 0 gone, -ETIMEDOUT, or a negative errno. */
static int watch_wait(struct nl_sock *s, struct mnl_socket *m, struct link_watch *w,
		      int64_t deadline)
{
	struct pollfd pf = { .fd = mnl_socket_get_fd(m), .events = POLLIN };
	int64_t left;
	ssize_t got;
	int r;

	while (!w->gone) {
		left = deadline - util_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pf, 1, (int)(left > INT32_MAX ? INT32_MAX : left));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		got = mnl_socket_recvfrom(m, s->rbuf, NL_RECV_BUF);
		if (got < 0 && errno == ENOBUFS) {
			r = nl_link_exists(s, w->name);
			if (r <= 0)
				return r;
			continue;
		}
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return -errno;
		if (mnl_cb_run(s->rbuf, (size_t)got, 0, 0, on_watch_event, w) < 0)
			return -errno;
	}
	return 0;
}

/* See nl.h. The event socket subscribes before the one lookup, so a
 * deletion after the lookup cannot be missed: it is an event. */
int nl_link_wait_gone(struct nl_sock *s, const char *name, int timeout_ms)
{
	struct link_watch w = { .name = name };
	int64_t deadline = util_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct mnl_socket *m;
	int r;

	if (!nl_name_ok(name))
		return -EINVAL;
	r = watch_open(s, &m);
	if (r)
		return r;
	r = nl_link_exists(s, name);
	if (r > 0)
		r = watch_wait(s, m, &w, deadline);
	mnl_socket_close(m);
	return r;
}
