/* fuzz_nr_request: libFuzzer target for the node factory's request parser
 * (materialize/init/noderun_req.c), which parses the bytes vtb up sends on
 * vtb-init's socket. The first byte is the number of descriptors that came
 * with the request (mod NR_REQ_FDS + 2), the rest the request, laid out as
 * the helper K has it (argv and priv sized from its NULs). Any bytes must be
 * accepted or refused with -EINVAL, never crash or read past the request; an
 * accepted request names the experiment, the node and its namespaces, every
 * string inside the request, the descriptors in their places. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noderun_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether s is a NUL-terminated string inside [buf, buf + len). */
static int in_req(const char *s, const char *buf, size_t len)
{
	return s && s >= buf && s < buf + len && memchr(s, 0, (size_t)(buf + len - s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nr_kreq k = { .sock = -1 };
	struct nr_args a;
	size_t i, nargs = 0;
	int r;

	if (!size || size - 1 > NR_REQ_MAX)
		return 0;
	k.nfd = data[0] % (NR_REQ_FDS + 2);
	for (i = 0; i < k.nfd && i < NR_REQ_FDS; i++)
		k.fds[i] = 100 + (int)i;
	k.len = size - 1;
	for (i = 1; i < size; i++)
		nargs += !data[i];
	k.nargs = nargs;
	k.buf = malloc(k.len ? k.len : 1);
	k.argv = calloc(nargs + 1, sizeof(*k.argv));
	k.priv = calloc(nargs / 2 + 1, sizeof(*k.priv));
	if (!k.buf || !k.argv || !k.priv)
		goto out;
	memcpy(k.buf, data + 1, k.len);
	r = nr_request_parse(&k, &a);
	if (r) {
		if (r != -EINVAL)
			abort(); /* the only refusal */
		goto out;
	}
	if (k.nfd < NR_REQ_FDS - 1 || k.nfd > NR_REQ_FDS || a.rep != 100 || a.ack != 101 ||
	    a.s.mnt_tmpl != 102 || a.s.log_fd != (k.nfd == NR_REQ_FDS ? 103 : -1))
		abort(); /* the descriptors in their order */
	if (!in_req(a.s.id, k.buf, k.len) || !in_req(a.s.hostname, k.buf, k.len) ||
	    !in_req(a.s.name, k.buf, k.len) || a.s.priv != k.priv || a.s.npriv > nargs / 2)
		abort();
	for (i = 0; i < a.s.npriv; i++)
		if (!in_req(a.s.priv[i].path, k.buf, k.len) ||
		    (a.s.priv[i].seed && !in_req(a.s.priv[i].seed, k.buf, k.len)))
			abort();
out:
	free(k.priv);
	free(k.argv);
	free(k.buf);
	return 0;
}
