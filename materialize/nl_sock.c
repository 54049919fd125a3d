/* nl_sock: the rtnetlink socket of the nl module (see nl.h, nl_impl.h):
 * opening it in a namespace, the errors it reports, and reading the acks
 * of what was sent.
 *
 * Acks are matched to requests by sequence number; an ack for an older
 * sequence (one abandoned after a receive error) is ignored. */
#include "nl_impl.h"
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What a sendto leaves unused of the send buffer: the kernel's 32 bytes
 * (see sock_setup) and as many again for the skb's own alignment. */
#define NL_SNDBUF_SLACK 64

/* ---- errors ------------------------------------------------------------ */

void nl_err_clear(struct nl_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
	err->index = 0;
}

void nl_err_record(struct nl_err *err, int code, size_t index, const char *fmt, ...)
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

struct nl_err *nl_err_start(struct nl_err *err, struct nl_err *dummy)
{
	if (!err)
		err = dummy;
	nl_err_clear(err);
	return err;
}

/* ---- the socket ------------------------------------------------------- */

static ssize_t mnl_send(struct nl_sock *s, const void *buf, size_t len)
{
	return mnl_socket_sendto(s->mnl, buf, len);
}

static ssize_t mnl_recv(struct nl_sock *s, void *buf, size_t len)
{
	return mnl_socket_recvfrom(s->mnl, buf, len);
}

const struct nl_io nl_mnl_io = { .send = mnl_send, .recv = mnl_recv };

ssize_t nl_sock_send(struct nl_sock *s, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = s->io->send(s, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t nl_sock_recv(struct nl_sock *s)
{
	ssize_t n;

	do
		n = s->io->recv(s, s->rbuf, NL_RECV_BUF);
	while (n < 0 && errno == EINTR);
	return n;
}

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
	s->send_max = snd > NL_SNDBUF_SLACK ? snd - NL_SNDBUF_SLACK : 0;
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

/* Hold the namespace the socket lives in (a dup of ns_fd, or the calling
 * thread's), so that nl_link_wait_gone can open its event socket there. */
static int sock_hold_ns(struct nl_sock *s, int ns_fd)
{
	s->ns_fd = ns_fd >= 0 ? fcntl(ns_fd, F_DUPFD_CLOEXEC, 0) : ns_open_self();
	if (s->ns_fd < 0)
		return ns_fd >= 0 ? -errno : s->ns_fd;
	return 0;
}

/* Open a socket in ns_fd's namespace (-1: the caller's). The socket keeps
 * its namespace for life; the thread is switched back before returning.
 * ns_fd stays the caller's (we keep our own dup). The caller owns *out
 * (nl_close). Returns 0 or a negative errno. */
int nl_open(struct nl_sock **out, int ns_fd)
{
	struct nl_sock *s;
	int r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ns_fd = -1;
	s->io = &nl_mnl_io;
	s->cap = NL_MSG_MAX;
	s->buf = malloc(s->cap);
	s->rbuf = malloc(NL_RECV_BUF);
	if (!s->buf || !s->rbuf) {
		r = -ENOMEM;
		goto out_close;
	}
	r = sock_hold_ns(s, ns_fd);
	if (r)
		goto out_close;
	if (ns_fd >= 0)
		r = ns_run_in(ns_fd, sock_setup_cb, s);
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

/* Close s; requests still queued are dropped unsent. Accepts NULL. */
void nl_close(struct nl_sock *s)
{
	if (!s)
		return;
	nl_defer_drop(s);
	if (s->mnl)
		mnl_socket_close(s->mnl);
	if (s->ns_fd >= 0)
		close(s->ns_fd);
	free(s->buf);
	free(s->rbuf);
	free(s);
}

/* ---- acks ------------------------------------------------------------- */

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

static void on_ack(const struct nlmsghdr *nlh, void *data)
{
	struct nl_wait *w = data;
	struct nl_pending *p;
	const struct nlmsgerr *e;
	struct ext_ack x;
	size_t at;

	p = wait_find(w, nlh->nlmsg_seq, &at);
	if (!p)
		return;
	w->next = at + 1;
	w->acked++;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		nl_err_record(w->err, -EPROTO, p->index, "a truncated acknowledgement from the kernel");
		return;
	}
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error >= 0 || e->error == p->ok) {
		p->done = true;
		return;
	}
	x = ext_ack_parse(nlh, e);
	if (x.msg && x.len)
		nl_err_record(w->err, e->error, p->index, "%.*s", (int)x.len, x.msg);
	else
		nl_err_record(w->err, e->error, p->index, "%s", strerror(-e->error));
}

static void on_data(const struct nlmsghdr *nlh, void *data)
{
	struct nl_wait *w = data;
	size_t at;

	if (w->reply && wait_find(w, nlh->nlmsg_seq, &at))
		w->reply(nlh, w->reply_data);
}

/* Hand each message of one receive to on_ack or on_data. Not through
 * mnl_cb_run: it gives up on the first message flagged NLM_F_DUMP_INTR
 * (errno EINTR), and such a message here is only the stale rest of a dump
 * someone else left unread, to skip like any other stale message. */
static void acks_run(const void *buf, size_t len, struct nl_wait *w)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR)
			on_ack(nlh, w);
		else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			on_data(nlh, w);
	}
}

/* Read until every request of w is acknowledged. A receive may hold many
 * messages; each goes through on_ack or on_data. Returns 0 (failures of
 * requests are in w->err) or a negative errno when receiving failed, in
 * which case the acks of pend[w->next..] are unknown. */
static int wait_acks(struct nl_sock *s, struct nl_wait *w)
{
	ssize_t got;

	while (w->acked < w->n) {
		got = nl_sock_recv(s);
		if (got < 0)
			return -errno;
		acks_run(s->rbuf, (size_t)got, w);
	}
	return 0;
}

/* Send len bytes of requests from buf and wait for their n acks. */
int nl_send_and_wait(struct nl_sock *s, const void *buf, size_t len, struct nl_wait *w)
{
	ssize_t sent;
	int r;

	sent = nl_sock_send(s, buf, len);
	if (sent < 0) {
		r = -errno;
		nl_err_record(w->err, r, w->pend[0].index, "cannot send to the kernel: %s", strerror(-r));
		return r;
	}
	r = wait_acks(s, w);
	if (r < 0)
		nl_err_record(w->err, r, w->pend[w->next < w->n ? w->next : w->n - 1].index,
			      "no acknowledgement from the kernel: %s", strerror(-r));
	return r;
}
