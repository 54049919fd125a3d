/* nl_req: building, queueing and submitting rtnetlink requests (see nl.h,
 * nl_impl.h).
 *
 * Every request is built at the tail of one send buffer. Outside a batch it
 * is sent at once and its ack awaited. In a batch it stays queued; the queue
 * is sent with one sendto when it is flushed, or when the buffer or the ack
 * budget (NL_QUEUE_MAX) is full, and every ack is then read before going on.
 * So at most one sendto's acks are ever outstanding, and a lookup (a read,
 * nl_ifindex) can always be made as its own immediate request, even in the
 * middle of a batch. */
#include "nl_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- building and submitting requests --------------------------------- */

/* Start a request at the tail of the send buffer and return its fixed
 * header of hdrlen bytes, zeroed. */
void *nl_req_init(struct nl_sock *s, struct nl_req *r, uint16_t type, uint16_t flags,
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
void *nl_req_start(struct nl_sock *s, struct nl_req *r, uint16_t type, uint16_t flags,
		   size_t hdrlen)
{
	size_t room = s->cap < s->send_max ? s->cap : s->send_max;

	if (s->batching && (room - s->len < NL_MSG_MAX || s->nq >= s->queue_max ||
			    s->ndefer >= NL_DEFER_MAX))
		nl_queue_flush(s);
	return nl_req_init(s, r, type, flags, hdrlen);
}

void nl_req_put(struct nl_req *r, uint16_t type, size_t len, const void *data)
{
	if (!r->full && !mnl_attr_put_check(r->nlh, r->cap, type, len, data))
		r->full = true;
}

void nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	nl_req_put(r, type, sizeof(v), &v);
}

void nl_req_put_u8(struct nl_req *r, uint16_t type, uint8_t v)
{
	nl_req_put(r, type, sizeof(v), &v);
}

void nl_req_put_str(struct nl_req *r, uint16_t type, const char *s)
{
	if (!r->full && !mnl_attr_put_strz_check(r->nlh, r->cap, type, s))
		r->full = true;
}

struct nlattr *nl_req_nest_start(struct nl_req *r, uint16_t type)
{
	struct nlattr *n = NULL;

	if (!r->full && !(n = mnl_attr_nest_start_check(r->nlh, r->cap, type)))
		r->full = true;
	return n;
}

void nl_req_nest_end(struct nl_req *r, struct nlattr *n)
{
	if (n)
		mnl_attr_nest_end(r->nlh, n);
}

/* Room for a struct ifinfomsg inside a nest (VETH_INFO_PEER), zeroed. */
struct ifinfomsg *nl_req_put_ifinfo(struct nl_req *r)
{
	if (r->full || r->nlh->nlmsg_len + MNL_ALIGN(sizeof(struct ifinfomsg)) > r->cap) {
		r->full = true;
		return NULL;
	}
	return mnl_nlmsg_put_extra_header(r->nlh, sizeof(struct ifinfomsg));
}

int nl_req_fail(struct nl_sock *s, struct nl_err *err, int code, const char *fmt, ...)
{
	size_t index = s->batching ? s->bcount++ : 0;
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nl_err_clear(err);
	nl_err_record(err, code, index, "%s", msg);
	if (s->batching)
		nl_err_record(&s->berr, code, index, "%s", msg);
	return code;
}

/* Send r now and wait for its ack (and, with reply, its answers).
 * ok: a negative errno that counts as success; a failure is recorded at
 * index. Returns 0 or err->code. */
int nl_req_transact(struct nl_sock *s, struct nl_req *r, int ok, size_t index,
		    struct nl_err *err, void (*reply)(const struct nlmsghdr *, void *),
		    void *reply_data)
{
	struct nl_pending p = { .seq = r->nlh->nlmsg_seq, .index = (uint32_t)index, .ok = ok };
	struct nl_wait w = { .pend = &p, .n = 1, .err = err, .reply = reply,
			     .reply_data = reply_data };

	(void)nl_send_and_wait(s, r->nlh, r->nlh->nlmsg_len, &w);
	return err->code;
}

/* Queue r (in a batch: returns 0, its outcome comes with the flush) or
 * send it now. ok: a negative errno that counts as success. */
int nl_req_submit(struct nl_sock *s, struct nl_req *r, int ok, struct nl_err *err)
{
	struct nlmsghdr *nlh = r->nlh;

	if (r->full)
		return nl_req_fail(s, err, -EMSGSIZE, "the request does not fit in %d bytes",
				   NL_MSG_MAX);
	if (!s->batching)
		return nl_req_transact(s, r, ok, 0, err, NULL, NULL);
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

/* Send the queued requests and read their acks, then bring up the veth
 * peers created among them; failures go to the batch's error. The queue
 * is empty afterwards. */
void nl_queue_flush(struct nl_sock *s)
{
	struct nl_wait w = { .pend = s->pend, .n = s->nq, .err = &s->berr };

	if (s->nq)
		(void)nl_send_and_wait(s, s->buf, s->len, &w);
	s->len = 0;
	s->nq = 0;
	s->nlinks = 0;
	nl_defer_run(s, &s->berr);
}

/* ---- veth peers brought up after their creation ------------------------ */

/* Remember to bring peer name up (in ns_fd's namespace, -1: the socket's)
 * once the creation just submitted is acknowledged. We keep our own dup of
 * ns_fd, so the caller may close its fd before the batch is flushed. */
int nl_defer_add(struct nl_sock *s, const char *name, int ns_fd, struct nl_err *err)
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
		nl_err_record(err, r, d->index, "cannot keep the namespace of %s: %s", name, strerror(-r));
		if (s->batching)
			nl_err_record(&s->berr, r, d->index, "%s", err->msg);
		return r;
	}
	memcpy(d->name, name, strlen(name) + 1);
	s->ndefer++;
	return 0;
}

void nl_defer_drop(struct nl_sock *s)
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

	ifi = nl_req_init(h, &r, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	nl_req_put_str(&r, IFLA_IFNAME, d->name);
	if (!r.full)
		(void)nl_req_transact(h, &r, 0, d->index, err, NULL, NULL);
}

/* Bring up the deferred peers whose creation succeeded, each from a socket
 * in its own namespace: s itself for s's, else a helper socket shared by
 * consecutive peers in one namespace. Failures go to err at the index of
 * the creation. Empties the list. */
void nl_defer_run(struct nl_sock *s, struct nl_err *err)
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
			nl_err_record(err, r, d->index, "cannot bring %s up: %s", d->name, strerror(-r));
			continue;
		}
		if (!h || st.st_dev != cur.st_dev || st.st_ino != cur.st_ino) {
			nl_close(h);
			h = NULL;
			r = nl_open(&h, d->ns_fd);
			if (r) {
				nl_err_record(err, r, d->index, "cannot bring %s up: %s: %s", d->name,
					      "no netlink socket in its namespace", strerror(-r));
				continue;
			}
			cur = st;
		}
		link_up_now(h, d, err);
	}
	nl_close(h);
	nl_defer_drop(s);
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
	nl_err_clear(&s->berr);
}

/* Send what is queued, read every ack, and end the batch. Returns 0 or the
 * batch's first failure (copied to err with its index). */
int nl_batch_flush(struct nl_sock *s, struct nl_err *err)
{
	struct nl_err dummy;

	if (!err)
		err = &dummy;
	nl_err_clear(err);
	if (!s->batching)
		return 0;
	nl_queue_flush(s);
	*err = s->berr;
	s->batching = false;
	s->bcount = 0;
	nl_err_clear(&s->berr);
	return err->code;
}
