/* nl_lookup: finding links (see nl.h): by name (nl_ifindex,
 * nl_link_exists), by netdev group (a dump), and waiting for one to go away
 * (an RTM_DELLINK event, not a poll). */
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

static void on_link_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;
	int *ifindex = data;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return;
	ifi = mnl_nlmsg_get_payload(nlh);
	*ifindex = ifi->ifi_index;
}

/* The ifindex of name, by an immediate RTM_GETLINK (a read: never queued,
 * even in a batch). In a batch, queued link creations and deletions are
 * flushed first so that the answer includes them; other queued requests
 * are not, so a run of address adds stays in one sendto. Returns the
 * index, -ENODEV when there is no such link, -EINVAL for a name no link
 * can have, or a negative errno. */
int nl_ifindex(struct nl_sock *s, const char *name)
{
	struct ifinfomsg *ifi;
	struct nl_err err;
	struct nl_req r;
	int ifindex = 0;

	if (!nl_name_ok(name))
		return -EINVAL;
	if (s->batching && s->nlinks)
		nl_queue_flush(s);
	nl_err_clear(&err);
	ifi = nl_req_start(s, &r, RTM_GETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	nl_req_put_str(&r, IFLA_IFNAME, name);
	nl_req_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (r.full)
		return -EMSGSIZE;
	if (nl_req_transact(s, &r, 0, 0, &err, on_link_reply, &ifindex))
		return err.code;
	return ifindex > 0 ? ifindex : -ENODEV;
}

/* 1, 0, or the lookup's failure: a failed lookup is not "gone". */
int nl_link_exists(struct nl_sock *s, const char *name)
{
	int r = nl_ifindex(s, name);

	if (r == -ENODEV)
		return 0;
	return r < 0 ? r : 1;
}

/* ---- by group ----------------------------------------------------------- */

struct link_dump {
	struct nl_link_ent *v;
	size_t n, cap;
};

/* mnl_attr_parse callback: index the attributes of a link message by type. */
static int link_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_MAX) >= 0)
		tb[type] = a;
	return MNL_CB_OK;
}

/* nl_dump's callback: keep every link's name, ifindex and group. */
static int on_link_ent(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_dump *g = data;
	struct nl_link_ent e = { .ifindex = ifi->ifi_index };

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, tb) < 0)
		return 0;
	if (!tb[IFLA_IFNAME])
		return 0;
	if (tb[IFLA_GROUP] && mnl_attr_get_payload_len(tb[IFLA_GROUP]) >= 4)
		e.group = mnl_attr_get_u32(tb[IFLA_GROUP]);
	snprintf(e.name, sizeof(e.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
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

/* Ask for a dump of every link and read all of it through d. 0 (the
 * outcome is in d), or a negative errno when sending or receiving failed. */
static int dump_links(struct nl_sock *s, struct nl_dump *d)
{
	struct ifinfomsg *ifi;
	struct nl_req r;
	ssize_t got;

	ifi = nl_req_init(s, &r, RTM_GETLINK, 0, sizeof(*ifi));
	r.nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP; /* a dump ends with DONE, not an ack */
	ifi->ifi_family = AF_UNSPEC;
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

/* See nl.h. One dump of every link. An interrupted dump (links come and
 * go: other experiments' teardowns) is asked again, up to NL_DUMP_TRIES
 * times; then -EAGAIN. */
int nl_link_list(struct nl_sock *s, struct nl_link_ent **v, size_t *n)
{
	struct link_dump g = { 0 };
	struct nl_dump d;
	int r = -EAGAIN, tries;

	*v = NULL;
	*n = 0;
	if (s->batching)
		return -EBUSY;
	for (tries = 0; tries < NL_DUMP_TRIES; tries++) {
		d = (struct nl_dump){ .cb = on_link_ent, .data = &g };
		g.n = 0;
		r = dump_links(s, &d);
		if (!r)
			r = d.err;
		if (r || !d.intr)
			break;
		r = -EAGAIN;
	}
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
	    mnl_attr_parse(nlh, sizeof(*ifi), link_attr, tb) < 0 || !tb[IFLA_IFNAME] ||
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
