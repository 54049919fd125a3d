/* nl: rtnetlink requests over libmnl (see nl.h).
 *
 * Every request is built at the tail of one send buffer. Outside a batch it
 * is sent at once and its ack awaited. In a batch it stays queued; the queue
 * is sent with one sendto when it is flushed, or when the buffer or the ack
 * budget (NL_QUEUE_MAX) is full, and every ack is then read before going on.
 * So at most one sendto's acks are ever outstanding, and a lookup (a read,
 * nl_ifindex) can always be made as its own immediate request, even in the
 * middle of a batch.
 *
 * Acks are matched to requests by sequence number; an ack for an older
 * sequence (one abandoned after a receive error) is ignored. */
#include "nl.h"
#include "util.h"
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NL_MSG_MAX (4 * 1024)       /* the largest request we build */
#define NL_BATCH_BUF (256 * 1024)   /* the send buffer while batching */
#define NL_RECV_BUF (32 * 1024)     /* one GETLINK answer fits with room */
#define NL_QUEUE_MAX 1024           /* requests per sendto */
#define NL_RCVBUF (4 * 1024 * 1024) /* holds NL_QUEUE_MAX acks with room */
#define NL_ACK_COST 2048            /* what one queued ack may cost in rcvbuf */
#define NL_DEFER_MAX 64             /* veth peers waiting to be brought up */

struct nl_pending {
	uint32_t seq;
	uint32_t index; /* in the batch (0 outside one) */
	int ok;         /* a negative errno that counts as success, or 0 */
	bool done;      /* acknowledged as a success */
};

/* A veth peer to bring up once its creation is acknowledged (see
 * nl_veth_create for why it cannot be done in the creation itself). */
struct nl_defer {
	int ns_fd;       /* our dup of the peer's namespace, or -1: the socket's */
	size_t slot;     /* the creation's place in the queue (pend) */
	uint32_t index;  /* the creation's index in the batch */
	char name[IFNAMSIZ];
};

struct nl_sock {
	struct mnl_socket *mnl;
	unsigned portid;
	uint32_t seq;       /* of the last request built */
	uint8_t *buf;       /* queued requests, then the one being built */
	size_t cap;         /* allocated bytes of buf */
	size_t len;         /* bytes queued */
	size_t send_max;    /* bytes one sendto may carry (the socket's sndbuf) */
	size_t queue_max;   /* requests one sendto may carry (the socket's rcvbuf) */
	uint8_t *rbuf;      /* NL_RECV_BUF bytes */
	bool batching;
	size_t nq;          /* requests queued */
	size_t nlinks;      /* of them, link creations and deletions (see nl_ifindex) */
	uint32_t bcount;    /* requests in this batch so far */
	struct nl_err berr; /* this batch's first failure */
	struct nl_pending pend[NL_QUEUE_MAX];
	size_t ndefer;
	struct nl_defer defer[NL_DEFER_MAX];
};

/* One request being built: the libmnl helpers are checked against cap, and
 * a failed put marks the request full (checked once, at submit). */
struct nl_req {
	struct nlmsghdr *nlh;
	size_t cap;
	bool full;
};

static void err_clear(struct nl_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
	err->index = 0;
}

/* Record a failure in err unless it already holds one of a lower index
 * (the first failure of a batch wins, whatever order it was found in). */
static void err_record(struct nl_err *err, int code, size_t index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void err_record(struct nl_err *err, int code, size_t index, const char *fmt, ...)
{
	va_list ap;

	if (err->code && err->index <= index)
		return;
	err->code = code;
	err->index = index;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* ---- the socket ------------------------------------------------------- */

/* Raise a socket buffer to want (forcing past the sysctl limit when we may)
 * and return what the kernel granted (it doubles the request and reports
 * the doubled value). */
static size_t sock_buf_set(int fd, int force_opt, int opt, int want)
{
	int got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof(want)))
		(void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) || got <= 0)
		return 0;
	return (size_t)got;
}

/* Open, bind and configure a socket in the calling thread's namespace. */
static int sock_setup(struct nl_sock *s)
{
	int one = 1, fd;
	size_t snd, rcv;

	s->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!s->mnl)
		return -errno;
	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	s->portid = mnl_socket_get_portid(s->mnl);
	/* The kernel's words in acks, and no copy of our request in them. */
	if (mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof(one)) < 0)
		return -errno;
	fd = mnl_socket_get_fd(s->mnl);
	/* netlink_sendmsg refuses a message longer than sk_sndbuf - 32. */
	snd = sock_buf_set(fd, SO_SNDBUFFORCE, SO_SNDBUF, NL_BATCH_BUF);
	s->send_max = snd > 64 ? snd - 64 : 0;
	if (s->send_max > NL_BATCH_BUF)
		s->send_max = NL_BATCH_BUF;
	if (s->send_max < NL_MSG_MAX)
		s->send_max = NL_MSG_MAX;
	/* Every request of a sendto gets its own ack skb, queued on this
	 * socket before we read any: a full receive queue drops acks
	 * (ENOBUFS), so a sendto carries no more requests than fit. */
	rcv = sock_buf_set(fd, SO_RCVBUFFORCE, SO_RCVBUF, NL_RCVBUF);
	s->queue_max = rcv / NL_ACK_COST;
	if (s->queue_max > NL_QUEUE_MAX)
		s->queue_max = NL_QUEUE_MAX;
	if (s->queue_max < 1)
		s->queue_max = 1;
	return 0;
}

static int sock_setup_cb(void *arg)
{
	return sock_setup(arg);
}

/* Open a socket in ns_fd's namespace (-1: the caller's). The socket keeps
 * its namespace for life; the thread is switched back before returning.
 * The caller owns *out (nl_close). Returns 0 or a negative errno. */
int nl_open(struct nl_sock **out, int ns_fd)
{
	struct nl_sock *s;
	int r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cap = NL_MSG_MAX;
	s->buf = malloc(s->cap);
	s->rbuf = malloc(NL_RECV_BUF);
	if (!s->buf || !s->rbuf) {
		r = -ENOMEM;
		goto out_close;
	}
	if (ns_fd >= 0)
		r = netns_run_in(ns_fd, sock_setup_cb, s);
	else
		r = sock_setup(s);
	if (r)
		goto out_close;
	*out = s;
	return 0;
out_close:
	nl_close(s);
	return r;
}

static void defer_drop(struct nl_sock *s);

/* Close s; requests still queued are dropped unsent. Accepts NULL. */
void nl_close(struct nl_sock *s)
{
	if (!s)
		return;
	defer_drop(s);
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s->buf);
	free(s->rbuf);
	free(s);
}

/* ---- acks ------------------------------------------------------------- */

/* What a receive waits for: n requests (pend), their acks counted. */
struct nl_wait {
	struct nl_pending *pend;
	size_t n;
	size_t next;  /* acks arrive in order: where to look first */
	size_t acked;
	struct nl_err *err;
	void (*reply)(const struct nlmsghdr *nlh, void *data);
	void *reply_data;
};

/* The awaited request with this seq, or NULL (a stale message). */
static struct nl_pending *wait_find(struct nl_wait *w, uint32_t seq, size_t *at)
{
	size_t i;

	for (i = w->next; i < w->n; i++) {
		if (w->pend[i].seq == seq) {
			*at = i;
			return &w->pend[i];
		}
	}
	return NULL;
}

struct ext_ack {
	const char *msg;
	size_t len;
};

static int ext_ack_attr(const struct nlattr *a, void *data)
{
	struct ext_ack *x = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
		x->msg = mnl_attr_get_str(a);
		x->len = strnlen(x->msg, mnl_attr_get_payload_len(a));
	}
	return MNL_CB_OK;
}

/* The kernel's own message in an error ack (NLMSGERR_ATTR_MSG), if any.
 * The TLVs follow struct nlmsgerr, and the echoed request's payload too
 * unless the ack is capped (NLM_F_CAPPED, which NETLINK_CAP_ACK asks for). */
static struct ext_ack ext_ack_parse(const struct nlmsghdr *nlh, const struct nlmsgerr *e)
{
	struct ext_ack x = { NULL, 0 };
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return x;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return x;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return x;
	mnl_attr_parse(nlh, (unsigned)off, ext_ack_attr, &x);
	return x;
}

static int on_ack(const struct nlmsghdr *nlh, void *data)
{
	struct nl_wait *w = data;
	struct nl_pending *p;
	const struct nlmsgerr *e;
	struct ext_ack x;
	size_t at;

	p = wait_find(w, nlh->nlmsg_seq, &at);
	if (!p)
		return MNL_CB_OK;
	w->next = at + 1;
	w->acked++;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		err_record(w->err, -EPROTO, p->index, "a truncated acknowledgement from the kernel");
		return MNL_CB_OK;
	}
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error >= 0 || e->error == p->ok) {
		p->done = true;
		return MNL_CB_OK;
	}
	x = ext_ack_parse(nlh, e);
	if (x.msg && x.len)
		err_record(w->err, e->error, p->index, "%.*s", (int)x.len, x.msg);
	else
		err_record(w->err, e->error, p->index, "%s", strerror(-e->error));
	return MNL_CB_OK;
}

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct nl_wait *w = data;
	size_t at;

	if (w->reply && wait_find(w, nlh->nlmsg_seq, &at))
		w->reply(nlh, w->reply_data);
	return MNL_CB_OK;
}

/* Read until every request of w is acknowledged. A receive may hold many
 * messages; each goes through on_ack or on_data. Returns 0 (failures of
 * requests are in w->err) or a negative errno when receiving failed, in
 * which case the acks of pend[w->next..] are unknown. */
static int wait_acks(struct nl_sock *s, struct nl_wait *w)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = on_ack };
	ssize_t got;

	while (w->acked < w->n) {
		got = mnl_socket_recvfrom(s->mnl, s->rbuf, NL_RECV_BUF);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (mnl_cb_run2(s->rbuf, (size_t)got, 0, s->portid, on_data, w, ctl,
				NLMSG_MIN_TYPE) < 0)
			return -errno;
	}
	return 0;
}

/* Send len bytes of requests from buf and wait for their n acks. */
static int send_and_wait(struct nl_sock *s, const void *buf, size_t len, struct nl_wait *w)
{
	ssize_t sent;
	int r;

	do
		sent = mnl_socket_sendto(s->mnl, buf, len);
	while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		r = -errno;
		err_record(w->err, r, w->pend[0].index, "cannot send to the kernel: %s", strerror(-r));
		return r;
	}
	r = wait_acks(s, w);
	if (r < 0)
		err_record(w->err, r, w->pend[w->next < w->n ? w->next : w->n - 1].index,
			   "no acknowledgement from the kernel: %s", strerror(-r));
	return r;
}

static void defer_run(struct nl_sock *s, struct nl_err *err);

/* Send the queued requests and read their acks, then bring up the veth
 * peers created among them; failures go to the batch's error. The queue
 * is empty afterwards. */
static void queue_flush(struct nl_sock *s)
{
	struct nl_wait w = { .pend = s->pend, .n = s->nq, .err = &s->berr };

	if (s->nq)
		(void)send_and_wait(s, s->buf, s->len, &w);
	s->len = 0;
	s->nq = 0;
	s->nlinks = 0;
	defer_run(s, &s->berr);
}

/* ---- building and submitting requests --------------------------------- */

/* Start a request at the tail of the send buffer and return its fixed
 * header of hdrlen bytes, zeroed. */
static void *req_init(struct nl_sock *s, struct nl_req *r, uint16_t type, uint16_t flags,
		      size_t hdrlen)
{
	r->nlh = mnl_nlmsg_put_header(s->buf + s->len);
	r->nlh->nlmsg_type = type;
	r->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	if (++s->seq == 0)
		s->seq = 1;
	r->nlh->nlmsg_seq = s->seq;
	r->cap = NL_MSG_MAX;
	r->full = false;
	return mnl_nlmsg_put_extra_header(r->nlh, hdrlen);
}

/* req_init, flushing the queue first in a batch when a largest request
 * might not fit behind it, or its ack or a veth peer to bring up might not
 * fit in the budgets. */
static void *req_start(struct nl_sock *s, struct nl_req *r, uint16_t type, uint16_t flags,
		       size_t hdrlen)
{
	size_t room = s->cap < s->send_max ? s->cap : s->send_max;

	if (s->batching && (room - s->len < NL_MSG_MAX || s->nq >= s->queue_max ||
			    s->ndefer >= NL_DEFER_MAX))
		queue_flush(s);
	return req_init(s, r, type, flags, hdrlen);
}

static void req_put(struct nl_req *r, uint16_t type, size_t len, const void *data)
{
	if (!r->full && !mnl_attr_put_check(r->nlh, r->cap, type, len, data))
		r->full = true;
}

static void req_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	req_put(r, type, sizeof(v), &v);
}

static void req_put_u8(struct nl_req *r, uint16_t type, uint8_t v)
{
	req_put(r, type, sizeof(v), &v);
}

static void req_put_str(struct nl_req *r, uint16_t type, const char *s)
{
	if (!r->full && !mnl_attr_put_strz_check(r->nlh, r->cap, type, s))
		r->full = true;
}

static struct nlattr *req_nest_start(struct nl_req *r, uint16_t type)
{
	struct nlattr *n = NULL;

	if (!r->full && !(n = mnl_attr_nest_start_check(r->nlh, r->cap, type)))
		r->full = true;
	return n;
}

static void req_nest_end(struct nl_req *r, struct nlattr *n)
{
	if (n)
		mnl_attr_nest_end(r->nlh, n);
}

/* Room for a struct ifinfomsg inside a nest (VETH_INFO_PEER), zeroed. */
static struct ifinfomsg *req_put_ifinfo(struct nl_req *r)
{
	if (r->full || r->nlh->nlmsg_len + MNL_ALIGN(sizeof(struct ifinfomsg)) > r->cap) {
		r->full = true;
		return NULL;
	}
	return mnl_nlmsg_put_extra_header(r->nlh, sizeof(struct ifinfomsg));
}

/* A request that failed before reaching the kernel. In a batch it still
 * takes an index and counts as the batch's failure. Returns code. */
static int req_fail(struct nl_sock *s, struct nl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int req_fail(struct nl_sock *s, struct nl_err *err, int code, const char *fmt, ...)
{
	size_t index = s->batching ? s->bcount++ : 0;
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_clear(err);
	err_record(err, code, index, "%s", msg);
	if (s->batching)
		err_record(&s->berr, code, index, "%s", msg);
	return code;
}

/* Send r now and wait for its ack (and, with reply, its answers).
 * ok: a negative errno that counts as success; a failure is recorded at
 * index. Returns 0 or err->code. */
static int req_transact(struct nl_sock *s, struct nl_req *r, int ok, size_t index,
			struct nl_err *err, void (*reply)(const struct nlmsghdr *, void *),
			void *reply_data)
{
	struct nl_pending p = { .seq = r->nlh->nlmsg_seq, .index = (uint32_t)index, .ok = ok };
	struct nl_wait w = { .pend = &p, .n = 1, .err = err, .reply = reply,
			     .reply_data = reply_data };

	(void)send_and_wait(s, r->nlh, r->nlh->nlmsg_len, &w);
	return err->code;
}

/* Queue r (in a batch: returns 0, its outcome comes with the flush) or
 * send it now. ok: a negative errno that counts as success. */
static int req_submit(struct nl_sock *s, struct nl_req *r, int ok, struct nl_err *err)
{
	struct nlmsghdr *nlh = r->nlh;

	if (r->full)
		return req_fail(s, err, -EMSGSIZE, "the request does not fit in %d bytes",
				NL_MSG_MAX);
	if (!s->batching)
		return req_transact(s, r, ok, 0, err, NULL, NULL);
	s->pend[s->nq].seq = nlh->nlmsg_seq;
	s->pend[s->nq].index = s->bcount++;
	s->pend[s->nq].ok = ok;
	s->pend[s->nq].done = false;
	s->nq++;
	s->len += MNL_ALIGN(nlh->nlmsg_len);
	if ((nlh->nlmsg_type == RTM_NEWLINK && (nlh->nlmsg_flags & NLM_F_CREATE)) ||
	    nlh->nlmsg_type == RTM_DELLINK)
		s->nlinks++;
	return 0;
}

/* ---- veth peers brought up after their creation ------------------------ */

/* Remember to bring peer name up (in ns_fd's namespace, -1: the socket's)
 * once the creation just submitted is acknowledged. We keep our own dup of
 * ns_fd, so the caller may close its fd before the batch is flushed. */
static int defer_add(struct nl_sock *s, const char *name, int ns_fd, struct nl_err *err)
{
	struct nl_defer *d = &s->defer[s->ndefer];
	int r;

	if (strlen(name) >= IFNAMSIZ)
		return 0; /* the kernel refuses the creation itself */
	d->slot = s->batching ? s->nq - 1 : SIZE_MAX;
	d->index = s->batching ? s->pend[s->nq - 1].index : 0;
	d->ns_fd = -1;
	if (ns_fd >= 0 && (d->ns_fd = fcntl(ns_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		r = -errno;
		err_record(err, r, d->index, "cannot keep the namespace of %s: %s", name, strerror(-r));
		if (s->batching)
			err_record(&s->berr, r, d->index, "%s", err->msg);
		return r;
	}
	memcpy(d->name, name, strlen(name) + 1);
	s->ndefer++;
	return 0;
}

static void defer_drop(struct nl_sock *s)
{
	size_t i;

	for (i = 0; i < s->ndefer; i++)
		if (s->defer[i].ns_fd >= 0)
			close(s->defer[i].ns_fd);
	s->ndefer = 0;
}

/* Set d's link up through h, a socket in its namespace whose queue is empty. */
static void link_up_now(struct nl_sock *h, const struct nl_defer *d, struct nl_err *err)
{
	struct ifinfomsg *ifi;
	struct nl_req r;

	ifi = req_init(h, &r, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	req_put_str(&r, IFLA_IFNAME, d->name);
	if (!r.full)
		(void)req_transact(h, &r, 0, d->index, err, NULL, NULL);
}

/* Bring up the deferred peers whose creation succeeded, each from a socket
 * in its own namespace: s itself for s's, else a helper socket shared by
 * consecutive peers in one namespace. Failures go to err at the index of
 * the creation. Empties the list. */
static void defer_run(struct nl_sock *s, struct nl_err *err)
{
	struct stat cur = { 0 }, st;
	struct nl_sock *h = NULL;
	struct nl_defer *d;
	size_t i;
	int r;

	for (i = 0; i < s->ndefer; i++) {
		d = &s->defer[i];
		if (d->slot != SIZE_MAX && !s->pend[d->slot].done)
			continue; /* not created: its failure is recorded */
		if (d->ns_fd < 0) {
			link_up_now(s, d, err);
			continue;
		}
		if (fstat(d->ns_fd, &st)) {
			r = -errno;
			err_record(err, r, d->index, "cannot bring %s up: %s", d->name, strerror(-r));
			continue;
		}
		if (!h || st.st_dev != cur.st_dev || st.st_ino != cur.st_ino) {
			nl_close(h);
			h = NULL;
			r = nl_open(&h, d->ns_fd);
			if (r) {
				err_record(err, r, d->index,
					   "cannot bring %s up: no netlink socket in its namespace: %s",
					   d->name, strerror(-r));
				continue;
			}
			cur = st;
		}
		link_up_now(h, d, err);
	}
	nl_close(h);
	defer_drop(s);
}

/* ---- batches ---------------------------------------------------------- */

/* Start queueing. The send buffer grows to NL_BATCH_BUF here; if that
 * allocation fails the batch still works, in smaller sendtos. A begin
 * inside a batch does nothing. */
void nl_batch_begin(struct nl_sock *s)
{
	uint8_t *big;

	if (s->batching)
		return;
	if (s->cap < NL_BATCH_BUF) {
		big = realloc(s->buf, NL_BATCH_BUF);
		if (big) {
			s->buf = big;
			s->cap = NL_BATCH_BUF;
		}
	}
	s->batching = true;
	s->bcount = 0;
	err_clear(&s->berr);
}

/* Send what is queued, read every ack, and end the batch. Returns 0 or the
 * batch's first failure (copied to err with its index). */
int nl_batch_flush(struct nl_sock *s, struct nl_err *err)
{
	struct nl_err dummy;

	if (!err)
		err = &dummy;
	err_clear(err);
	if (!s->batching)
		return 0;
	queue_flush(s);
	*err = s->berr;
	s->batching = false;
	s->bcount = 0;
	err_clear(&s->berr);
	return err->code;
}

/* ---- links ------------------------------------------------------------ */

/* Is name acceptable as a lookup key? (The kernel judges names we create.) */
static bool name_ok(const char *name)
{
	return name && *name && strlen(name) < IFNAMSIZ;
}

static void link_put_opts(struct nl_req *r, struct ifinfomsg *ifi, const struct nl_link_opts *o)
{
	if (!o)
		return;
	if (o->mtu)
		req_put_u32(r, IFLA_MTU, o->mtu);
	if (o->mac)
		req_put(r, IFLA_ADDRESS, 6, o->mac);
	if (o->group)
		req_put_u32(r, IFLA_GROUP, o->group);
	if (o->up && ifi) {
		/* Applied by rtnl_configure_link once the device is
		 * registered (not for a veth peer: see nl_veth_create). */
		ifi->ifi_flags |= IFF_UP;
		ifi->ifi_change |= IFF_UP;
	}
}

/* IFLA_INFO_DATA of a veth: the peer, as a whole ifinfomsg + attributes. */
static void veth_put_peer(struct nl_req *r, const char *peer, int peer_ns_fd,
			  const struct nl_link_opts *peer_opts)
{
	struct nlattr *data, *p;
	struct ifinfomsg *ifi;

	data = req_nest_start(r, IFLA_INFO_DATA);
	p = req_nest_start(r, VETH_INFO_PEER);
	ifi = req_put_ifinfo(r);
	if (ifi)
		ifi->ifi_family = AF_UNSPEC;
	req_put_str(r, IFLA_IFNAME, peer);
	if (peer_ns_fd >= 0)
		req_put_u32(r, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	link_put_opts(r, NULL, peer_opts); /* not up: see nl_veth_create */
	req_nest_end(r, p);
	req_nest_end(r, data);
}

/* One RTM_NEWLINK creates both ends, each directly in its namespace.
 *
 * Kernel quirk: IFF_UP cannot be asked for the peer in VETH_INFO_PEER's
 * ifinfomsg. veth_newlink applies it (rtnl_configure_link) before the two
 * ends are linked to each other, so veth_open finds no peer and the whole
 * creation fails with ENOTCONN. name's IFF_UP is applied after the pair is
 * complete and works. So the peer is brought up by a second request once
 * the creation is acknowledged, from a socket in the peer's namespace (see
 * defer_run); in a batch that happens when the queue is flushed, and a
 * failure is reported at the creation's index. */
int nl_veth_create(struct nl_sock *s, const char *name, int ns_fd, const struct nl_link_opts *opts,
		   const char *peer, int peer_ns_fd, const struct nl_link_opts *peer_opts,
		   struct nl_err *err)
{
	struct nl_err dummy;
	struct ifinfomsg *ifi;
	struct nlattr *info;
	struct nl_req r;
	int ret;

	if (!err)
		err = &dummy;
	err_clear(err);
	if (!name || !peer)
		return req_fail(s, err, -EINVAL, "a veth needs a name for each end");
	ifi = req_start(s, &r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	req_put_str(&r, IFLA_IFNAME, name);
	if (ns_fd >= 0)
		req_put_u32(&r, IFLA_NET_NS_FD, (uint32_t)ns_fd);
	link_put_opts(&r, ifi, opts);
	info = req_nest_start(&r, IFLA_LINKINFO);
	req_put_str(&r, IFLA_INFO_KIND, "veth");
	veth_put_peer(&r, peer, peer_ns_fd, peer_opts);
	req_nest_end(&r, info);
	ret = req_submit(s, &r, 0, err);
	if (ret || !peer_opts || !peer_opts->up)
		return ret;
	/* Queued (batch) or created (now): the peer goes up after the ack. */
	ret = defer_add(s, peer, peer_ns_fd, err);
	if (ret || s->batching)
		return ret;
	defer_run(s, err);
	return err->code;
}

/* The bridge is always brought up (opts->up is not consulted). STP off and
 * forward delay 0 make ports forward as soon as they are up; multicast
 * snooping off sends multicast to every port, as a plain switch does. */
int nl_bridge_create(struct nl_sock *s, const char *name, const struct nl_link_opts *opts,
		     struct nl_err *err)
{
	struct nl_err dummy;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;
	struct nl_req r;

	if (!err)
		err = &dummy;
	err_clear(err);
	if (!name)
		return req_fail(s, err, -EINVAL, "a bridge needs a name");
	ifi = req_start(s, &r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	req_put_str(&r, IFLA_IFNAME, name);
	link_put_opts(&r, NULL, opts);
	info = req_nest_start(&r, IFLA_LINKINFO);
	req_put_str(&r, IFLA_INFO_KIND, "bridge");
	data = req_nest_start(&r, IFLA_INFO_DATA);
	req_put_u32(&r, IFLA_BR_FORWARD_DELAY, 0);
	req_put_u32(&r, IFLA_BR_STP_STATE, 0);
	req_put_u8(&r, IFLA_BR_MCAST_SNOOPING, 0);
	req_nest_end(&r, data);
	req_nest_end(&r, info);
	return req_submit(s, &r, 0, err);
}

/* Start an RTM_NEWLINK that changes the existing link name. The kernel
 * finds it by IFLA_IFNAME (ifi_index 0), so no lookup is needed and the
 * request can follow the link's creation in the same batch. */
static struct ifinfomsg *link_change_start(struct nl_sock *s, struct nl_req *r, const char *name)
{
	struct ifinfomsg *ifi = req_start(s, r, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	req_put_str(r, IFLA_IFNAME, name);
	return ifi;
}

/* Look up master's index (an immediate request, see nl_ifindex), then
 * queue or send the change of name's IFLA_MASTER. */
int nl_link_set_master(struct nl_sock *s, const char *name, const char *master, struct nl_err *err)
{
	struct nl_err dummy;
	struct nl_req r;
	int m;

	if (!err)
		err = &dummy;
	err_clear(err);
	if (!name)
		return req_fail(s, err, -EINVAL, "no link name");
	m = nl_ifindex(s, master);
	if (m < 0)
		return req_fail(s, err, m, "cannot find the bridge %s: %s", master ? master : "(null)",
				strerror(-m));
	link_change_start(s, &r, name);
	req_put_u32(&r, IFLA_MASTER, (uint32_t)m);
	return req_submit(s, &r, 0, err);
}

/* Set name up or down (always, as opts->up says), and its MTU and MAC when
 * given. opts must not be NULL. */
int nl_link_set(struct nl_sock *s, const char *name, const struct nl_link_opts *opts,
		struct nl_err *err)
{
	struct nl_err dummy;
	struct ifinfomsg *ifi;
	struct nl_req r;

	if (!err)
		err = &dummy;
	err_clear(err);
	if (!name || !opts)
		return req_fail(s, err, -EINVAL, "no link name or settings");
	ifi = link_change_start(s, &r, name);
	link_put_opts(&r, ifi, opts);
	ifi->ifi_change |= IFF_UP; /* down too, when opts->up is false */
	return req_submit(s, &r, 0, err);
}

/* Delete name (found by the kernel by name); -ENODEV counts as success. */
int nl_link_del(struct nl_sock *s, const char *name, struct nl_err *err)
{
	struct nl_err dummy;
	struct ifinfomsg *ifi;
	struct nl_req r;

	if (!err)
		err = &dummy;
	err_clear(err);
	if (!name)
		return req_fail(s, err, -EINVAL, "no link name");
	ifi = req_start(s, &r, RTM_DELLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	req_put_str(&r, IFLA_IFNAME, name);
	return req_submit(s, &r, -ENODEV, err);
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
 * index, -ENODEV, or a negative errno. */
int nl_ifindex(struct nl_sock *s, const char *name)
{
	struct ifinfomsg *ifi;
	struct nl_err err;
	struct nl_req r;
	int ifindex = 0;

	if (!name_ok(name))
		return -ENODEV;
	if (s->batching && s->nlinks)
		queue_flush(s);
	err_clear(&err);
	ifi = req_start(s, &r, RTM_GETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	req_put_str(&r, IFLA_IFNAME, name);
	req_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (r.full)
		return -EMSGSIZE;
	if (req_transact(s, &r, 0, 0, &err, on_link_reply, &ifindex))
		return err.code;
	return ifindex > 0 ? ifindex : -ENODEV;
}

bool nl_link_exists(struct nl_sock *s, const char *name)
{
	return nl_ifindex(s, name) > 0;
}

struct group_dump {
	uint32_t group;
	char (*names)[16];
	size_t n, cap;
	int err;
};

static int group_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_MAX) >= 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int on_group_link(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct group_dump *g = data;
	char name[16];

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), group_attr, tb) < 0)
		return MNL_CB_OK;
	if (!tb[IFLA_GROUP] || !tb[IFLA_IFNAME] ||
	    mnl_attr_get_payload_len(tb[IFLA_GROUP]) < 4 ||
	    mnl_attr_get_u32(tb[IFLA_GROUP]) != g->group)
		return MNL_CB_OK;
	snprintf(name, sizeof(name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (util_grow((void **)&g->names, &g->cap, g->n + 1, sizeof(*g->names))) {
		g->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	memcpy(g->names[g->n++], name, sizeof(name));
	return MNL_CB_OK;
}

int nl_group_links(struct nl_sock *s, uint32_t group, char (**names)[16], size_t *n)
{
	struct group_dump g = { .group = group };
	struct ifinfomsg *ifi;
	struct nl_req r;
	uint32_t seq;
	ssize_t got;
	int rc = MNL_CB_OK; /* an interrupted receive goes round again */

	if (s->batching)
		return -EBUSY;
	ifi = req_init(s, &r, RTM_GETLINK, 0, sizeof(*ifi));
	r.nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP; /* a dump ends with DONE, not an ack */
	ifi->ifi_family = AF_UNSPEC;
	req_put_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	seq = r.nlh->nlmsg_seq;
	if (mnl_socket_sendto(s->mnl, r.nlh, r.nlh->nlmsg_len) < 0)
		return -errno;
	do {
		got = mnl_socket_recvfrom(s->mnl, s->rbuf, NL_RECV_BUF);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out_fail;
		}
		rc = mnl_cb_run(s->rbuf, (size_t)got, seq, s->portid, on_group_link, &g);
	} while (rc > MNL_CB_STOP);
	if (rc < 0) {
		rc = g.err ? g.err : -errno;
		goto out_fail;
	}
	*names = g.names;
	*n = g.n;
	return 0;
out_fail:
	free(g.names);
	return rc;
}

int nl_group_del(struct nl_sock *s, uint32_t group, struct nl_err *err)
{
	struct nl_err dummy;
	struct ifinfomsg *ifi;
	struct nl_req r;

	if (!err)
		err = &dummy;
	err_clear(err);
	if (!group)
		return req_fail(s, err, -EINVAL, "refusing to delete the default group");
	ifi = req_start(s, &r, RTM_DELLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	req_put_u32(&r, IFLA_GROUP, group);
	return req_submit(s, &r, -ENODEV, err);
}

/* ---- addresses and routes --------------------------------------------- */

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Add a to ifname (looked up by an immediate request, see nl_ifindex).
 * NLM_F_EXCL, and -EEXIST (the same address is there) counts as success. */
int nl_addr_add(struct nl_sock *s, const char *ifname, const struct addr_prefix *a,
		struct nl_err *err)
{
	struct nl_err dummy;
	struct ifaddrmsg *ifa;
	struct nl_req r;
	size_t alen;
	int ifindex;

	if (!err)
		err = &dummy;
	err_clear(err);
	alen = a ? family_len(a->family) : 0;
	if (!alen)
		return req_fail(s, err, -EAFNOSUPPORT, "not an IPv4 or IPv6 address");
	ifindex = nl_ifindex(s, ifname);
	if (ifindex < 0)
		return req_fail(s, err, ifindex, "cannot find the link %s: %s",
				ifname ? ifname : "(null)", strerror(-ifindex));
	ifa = req_start(s, &r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)(a->plen > 255 ? 255 : a->plen);
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	req_put(&r, IFA_LOCAL, alen, a->bytes);
	req_put(&r, IFA_ADDRESS, alen, a->bytes);
	return req_submit(s, &r, -EEXIST, err);
}

/* A static unicast route in the main table. The kernel picks the device
 * from the gateway, so no lookup is needed. dst's host bits are cleared.
 * NLM_F_EXCL, and -EEXIST counts as success: note the kernel says EEXIST
 * for any route to the same destination and metric, whatever its gateway. */
int nl_route_add(struct nl_sock *s, const struct addr_prefix *dst, const struct addr_prefix *gw,
		 struct nl_err *err)
{
	struct addr_prefix net;
	struct nl_err dummy;
	struct rtmsg *rt;
	struct nl_req r;
	size_t alen;

	if (!err)
		err = &dummy;
	err_clear(err);
	alen = dst ? family_len(dst->family) : 0;
	if (!alen || !gw || gw->family != dst->family)
		return req_fail(s, err, -EAFNOSUPPORT,
				"the destination and the gateway must be both IPv4 or both IPv6");
	if (dst->plen > alen * 8)
		return req_fail(s, err, -EINVAL, "prefix length %u is out of range", dst->plen);
	net = addr_network(dst);
	rt = req_start(s, &r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
	rt->rtm_family = (uint8_t)dst->family;
	rt->rtm_dst_len = (uint8_t)dst->plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	if (dst->plen)
		req_put(&r, RTA_DST, alen, net.bytes);
	req_put(&r, RTA_GATEWAY, alen, gw->bytes);
	return req_submit(s, &r, -EEXIST, err);
}
