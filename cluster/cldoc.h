/* cldoc: an experiment's fragment document in etcd, once per experiment
 * (docs/cluster.md, "Scale"). Every host's fragment is the same document
 * but for its "host" member: the XIR, each node's host, each link's VNI,
 * the hosts' underlays. So it is stored once, without "host", compressed
 * (zlib) and cut into pieces that each fit in an etcd request:
 *
 *   /vtb/exp/ID/doc/NNNN   piece NNNN (0000, 0001, ...), at most
 *                          CLDOC_PIECE_MAX bytes of the compressed document
 *   /vtb/exp/ID/frag/HOST  {"host", "parts", "bytes", "zbytes", "crc32"}:
 *                          HOST's head, written after the pieces
 *
 * A reader takes HOST's head, then the pieces, and checks the compressed
 * size, the size and the CRC-32 of the document before it trusts it; the
 * document it returns is the fragment of HOST, as `vtb __fragment-up`
 * reads it (realize/fragment.h). */
#ifndef VTB_CLDOC_H
#define VTB_CLDOC_H

#include <stddef.h>
#include <stdint.h>

#include "clconf.h"

struct etcd;

/* A piece's size: etcd refuses a request over 1.5 MiB by default
 * (--max-request-bytes, 1,572,864); a piece of 1 MiB leaves room for the
 * key and the request's framing, and a document of 100,000 nodes (about
 * 1.3 MB compressed) takes two. */
#define CLDOC_PIECE_MAX (1u << 20)
/* The largest document (uncompressed) a reader accepts: a few million
 * nodes, far past what a cluster is planned for; it bounds what a head
 * read from etcd can make a reader allocate. */
#define CLDOC_MAX (1u << 30)
/* The most pieces: CLDOC_MAX compressed no better than 1:1. */
#define CLDOC_PARTS_MAX (CLDOC_MAX / CLDOC_PIECE_MAX)

struct cldoc_head {
	char host[CLCONF_HOST_MAX];
	uint32_t parts;  /* how many pieces */
	uint64_t bytes;  /* the document's size */
	uint64_t zbytes; /* compressed: the pieces' sizes added up */
	uint32_t crc32;  /* the document's CRC-32 (zlib's) */
};

/* Compress the document doc (len bytes, a JSON object of one member at
 * least, without "host"):
 * *z (the caller's, free) of *zlen bytes, and h's sizes, parts (of at
 * most piece bytes each) and CRC. 0, -EINVAL (not an object, too large)
 * or -ENOMEM. */
int cldoc_pack(const char *doc, size_t len, size_t piece, uint8_t **z, size_t *zlen,
	       struct cldoc_head *h);

/* h as JSON text (the caller's, free); NULL when out of memory. */
char *cldoc_head_dump(const struct cldoc_head *h);

/* Parse a head read from etcd (len bytes): every field, of its type and
 * in range, none other. 0 or -EPROTO with err. */
int cldoc_head_parse(const char *text, size_t len, struct cldoc_head *h, char *err);

/* The fragment of h->host from the compressed document z (zlen bytes, the
 * pieces in order): *doc (NUL-terminated, the caller's) of *len bytes,
 * once its sizes and CRC are h's. 0, -EBADMSG with err when they are
 * not, or -ENOMEM. */
int cldoc_unpack(const struct cldoc_head *h, const uint8_t *z, size_t zlen, char **doc,
		 size_t *len, char *err);

/* Store the document doc (len bytes, without "host") of experiment id
 * for hosts: the pieces, then one head per host. 0 or a negative errno
 * with err. */
int cldoc_put(struct etcd *e, const char *id, const char *doc, size_t len,
	      const char (*hosts)[CLCONF_HOST_MAX], size_t nhosts, char *err);

/* Read host's fragment of experiment id back (cldoc_unpack): 0, -ENOENT
 * when host has none, -EBADMSG when what etcd holds does not check out,
 * or another negative errno, with err. */
int cldoc_get(struct etcd *e, const char *id, const char *host, char **doc, size_t *len,
	      char *err);

#endif
