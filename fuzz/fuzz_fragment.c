/* fuzz_fragment: libFuzzer target for the parser of fragment documents
 * (realize/fragment.c), what a host of a cluster reads from etcd to build
 * its part of an experiment. Every input must be accepted with a fragment
 * whose every field holds together (each node on one of the hosts, this
 * host among them, a VNI exactly where a link's devices are on more than
 * one host, the XIR named as the fragment) or refused with -EINVAL or
 * -EFBIG and a sentence, and nothing returned. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fragment.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether link l's devices are on more than one host of f. */
static int spread(const struct frag *f, size_t l)
{
	const struct xir_link *xl = &f->x->links[l];
	size_t j;

	for (j = 1; j < xl->nep; j++)
		if (f->cl.host_of[xl->ep[j].node] != f->cl.host_of[xl->ep[0].node])
			return 1;
	return 0;
}

static void check(const struct frag *f)
{
	size_t i;

	if (!f->x || strcmp(f->x->name, f->name) || strlen(f->id) != FRAG_ID_LEN)
		abort();
	if (!f->cl.nhosts || f->cl.here >= f->cl.nhosts || strcmp(f->cl.host[f->cl.here], f->host))
		abort();
	for (i = 0; i < f->cl.nhosts; i++)
		if (!memchr(f->cl.host[i], 0, RZ_HOST_LEN) || !memchr(f->cl.underlay[i], 0, RZ_ADDR4_LEN))
			abort();
	for (i = 0; i < f->x->nnodes; i++)
		if (f->cl.host_of[i] >= f->cl.nhosts)
			abort();
	for (i = 0; i < f->x->nlinks; i++)
		if ((f->cl.vni[i] != 0) != spread(f, i) || f->cl.vni[i] > 0xffffff)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[UTIL_ERR_LEN] = "";
	struct frag *f = (struct frag *)1;
	int r = frag_parse(data, size, &f, err);

	if (r == 0) {
		if (!f || err[0])
			abort();
		check(f);
		frag_free(f);
	} else if ((r != -EINVAL && r != -EFBIG && r != -ENOMEM) || f || !err[0]) {
		abort();
	}
	return 0;
}
