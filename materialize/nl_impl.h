/* nl_impl: what the files of the nl module share and nothing else sees:
 * the socket's state, the request builder, the ack reader and the veth
 * peers brought up after their creation. Only materialize/nl_*.c include
 * this; everyone else uses nl.h.
 *
 *   nl_sock.c    the socket, the errors, reading acks
 *   nl_req.c     building, queueing and submitting requests; batches;
 *                veth peers brought up once created
 *   nl_link.c    creating, changing and deleting links
 *   nl_lookup.c  finding links: by name, by group, by address, their MTU,
 *                waiting for one to go
 *   nl_addr.c    addresses and routes
 *   nl_vxlan.c   VXLAN devices, their forwarding entries, the MTU rule
 *   nl_tc.c      a BPF program on a link's ingress */
#ifndef VTB_NL_IMPL_H
#define VTB_NL_IMPL_H

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nl.h"

#define NL_MSG_MAX (4 * 1024)       /* the largest request we build */
#define NL_BATCH_BUF (256 * 1024)   /* the send buffer while batching */
#define NL_RECV_BUF (32 * 1024)     /* one GETLINK answer fits with room */
#define NL_QUEUE_MAX 1024           /* requests per sendto */
#define NL_RCVBUF (4 * 1024 * 1024) /* holds NL_QUEUE_MAX acks with room */
#define NL_ACK_COST 2048            /* what one queued ack may cost in rcvbuf */
#define NL_DEFER_MAX 64             /* veth peers waiting to be brought up */
/* A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the table changed
 * while it was read, e.g. other experiments' teardowns) is read to its end
 * and asked again; past this many tries the table is changing too fast to
 * get a consistent copy, and the caller hears -EAGAIN. Twenty teardowns at
 * once needed at most 3. */
#define NL_DUMP_TRIES 8

struct nl_sock;

/* How a socket sends and receives: the mnl socket (nl_sock.c), or a unit
 * test's script (tests/unit/test_nl_dump.c). Both return what sendto and
 * recvfrom return, with errno. */
struct nl_io {
	ssize_t (*send)(struct nl_sock *s, const void *buf, size_t len);
	ssize_t (*recv)(struct nl_sock *s, void *buf, size_t len);
};

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
	const struct nl_io *io; /* &nl_mnl_io unless a test says otherwise */
	unsigned portid;
	int ns_fd;          /* the socket's namespace, held (nl_link_wait_gone) */
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

/* ---- errors (nl_sock.c) ---- */

void nl_err_clear(struct nl_err *err);
/* err, or dummy when the caller gave none, cleared: the start of every
 * public request function. */
struct nl_err *nl_err_start(struct nl_err *err, struct nl_err *dummy);
/* Record a failure in err unless it already holds one of a lower index
 * (the first failure of a batch wins, whatever order it was found in). */
void nl_err_record(struct nl_err *err, int code, size_t index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- sending and acks (nl_sock.c) ---- */

/* Send len bytes of requests from buf and wait for their w->n acks.
 * Returns 0 or a negative errno (recorded in w->err too). */
int nl_send_and_wait(struct nl_sock *s, const void *buf, size_t len, struct nl_wait *w);

/* The socket's own I/O, through the mnl socket. */
extern const struct nl_io nl_mnl_io;
/* Send len bytes through s->io, again after EINTR. sendto's return. */
ssize_t nl_sock_send(struct nl_sock *s, const void *buf, size_t len);
/* Receive one datagram into s->rbuf through s->io, again after EINTR. */
ssize_t nl_sock_recv(struct nl_sock *s);

/* ---- dumps (nl_lookup.c) ---- */

/* One round of a dump being read: its messages go to cb (0 or a negative
 * errno; after a failure the rest are read and dropped), an interruption
 * is noted, and the round ends at NLMSG_DONE or the kernel's error. */
struct nl_dump {
	uint32_t seq;
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
	bool intr; /* a message carried NLM_F_DUMP_INTR: ask again */
	bool done; /* NLMSG_DONE (or the dump's error) arrived */
	int err;   /* the kernel's error for the dump, or cb's first failure */
};

/* Feed one received datagram of len bytes to d. Messages of another
 * sequence number (a stale answer) are skipped. Returns 1 when the round
 * is done, 0 when more is to come. Never gives up early: a dump is always
 * read to its end, so nothing of it is left for the next reader. */
int nl_dump_feed(struct nl_dump *d, const void *buf, size_t len);

/* Ask for a dump of type (RTM_GETLINK, RTM_GETADDR) of family and read
 * all of it through d. 0 (the outcome is in d), or a negative errno when
 * sending or receiving failed. One round: the caller asks again when
 * d->intr says the table changed meanwhile. */
int nl_dump_round(struct nl_sock *s, uint16_t type, uint8_t family, struct nl_dump *d);

/* ---- addresses (nl_addr.c) ---- */

/* The bytes of an address of family: 4, 16, or 0 for another family. */
size_t nl_addr_len(int family);

/* ---- links (nl_link.c) ---- */

/* Put the attributes of o (NULL: none) into r; IFF_UP goes into ifi's
 * flags when ifi is given (a creation or change, not a veth peer). */
void nl_link_put_opts(struct nl_req *r, struct ifinfomsg *ifi, const struct nl_link_opts *o);
/* Start the creation of link name of kind (IFLA_INFO_KIND) in the
 * namespace ns_fd (-1: the socket's; IFLA_NET_NS_FD) with opts. Returns
 * the open IFLA_LINKINFO nest, for the kind's IFLA_INFO_DATA: the caller
 * ends it (nl_req_nest_end) and submits r. */
struct nlattr *nl_link_create_start(struct nl_sock *s, struct nl_req *r, const char *name,
				    int ns_fd, const struct nl_link_opts *opts, const char *kind);

/* ---- requests (nl_req.c) ---- */

/* Start a request at the tail of the send buffer and return its fixed
 * header of hdrlen bytes, zeroed. */
void *nl_req_init(struct nl_sock *s, struct nl_req *r, uint16_t type, uint16_t flags,
		  size_t hdrlen);
/* nl_req_init, flushing the queue first in a batch when needed. */
void *nl_req_start(struct nl_sock *s, struct nl_req *r, uint16_t type, uint16_t flags,
		   size_t hdrlen);
void nl_req_put(struct nl_req *r, uint16_t type, size_t len, const void *data);
void nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v);
void nl_req_put_u8(struct nl_req *r, uint16_t type, uint8_t v);
void nl_req_put_str(struct nl_req *r, uint16_t type, const char *s);
struct nlattr *nl_req_nest_start(struct nl_req *r, uint16_t type);
void nl_req_nest_end(struct nl_req *r, struct nlattr *n);
/* Room for a struct ifinfomsg inside a nest (VETH_INFO_PEER), zeroed. */
struct ifinfomsg *nl_req_put_ifinfo(struct nl_req *r);
/* A request that failed before reaching the kernel. In a batch it still
 * takes an index and counts as the batch's failure. Returns code. */
int nl_req_fail(struct nl_sock *s, struct nl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Send r now and wait for its ack (and, with reply, its answers). ok: a
 * negative errno that counts as success; a failure is recorded at index.
 * Returns 0 or err->code. */
int nl_req_transact(struct nl_sock *s, struct nl_req *r, int ok, size_t index,
		    struct nl_err *err, void (*reply)(const struct nlmsghdr *, void *),
		    void *reply_data);
/* Queue r (in a batch: returns 0, its outcome comes with the flush) or
 * send it now. ok: a negative errno that counts as success. */
int nl_req_submit(struct nl_sock *s, struct nl_req *r, int ok, struct nl_err *err);
/* Send the queued requests, read their acks, bring up the deferred veth
 * peers; failures go to the batch's error. The queue is empty afterwards. */
void nl_queue_flush(struct nl_sock *s);

/* ---- veth peers brought up after their creation (nl_req.c) ---- */

int nl_defer_add(struct nl_sock *s, const char *name, int ns_fd, struct nl_err *err);
void nl_defer_run(struct nl_sock *s, struct nl_err *err);
void nl_defer_drop(struct nl_sock *s);

/* ---- names (nl_lookup.c) ---- */

/* Is name acceptable as a lookup key? (The kernel judges names we create.) */
bool nl_name_ok(const char *name);

#endif
