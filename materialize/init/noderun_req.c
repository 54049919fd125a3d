/* noderun_req: the factory's request parser (docs/nodes.md): the bytes
 * that arrive on vtb-init's socket (noderun_int.h), split into the node's
 * arguments. No system calls: fuzz/fuzz_nr_request.c runs it on any bytes. */
#include "noderun_int.h"

#include <errno.h>
#include <string.h>

/* Split buf (len bytes, each argument NUL-terminated) into argv (at most
 * max, NULL-terminated) and *argc. Returns 0, or -EINVAL for a request
 * that does not end in a NUL. */
static int nrq_split(char *buf, size_t len, char **argv, size_t max, int *argc)
{
	size_t i, k = 0;

	*argc = 0;
	if (!len || buf[len - 1])
		return -EINVAL;
	for (i = 0; i < len && k < max; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	argv[k] = NULL;
	*argc = (int)k;
	return 0;
}

/* Parse the node's arguments (noderun_int.h) into a, its private
 * directories into priv (room for argc / 2). Returns 0 or -EINVAL. */
static int nrq_parse_args(int argc, char **argv, struct rz_private *priv, struct nr_args *a)
{
	char *eq;
	int i;

	if (argc < 2)
		return -EINVAL;
	a->s.id = argv[0];
	a->s.hostname = argv[1];
	a->s.priv = priv;
	for (i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (o[0] != '-' || !o[1] || o[2])
			return -EINVAL;
		if (strchr("Pf6l", o[1])) {
			*(o[1] == 'P'   ? &a->s.privileged
			  : o[1] == 'f' ? &a->s.forwarding
			  : o[1] == '6' ? &a->s.ipv6
					: &a->s.limited) = true;
			continue;
		}
		if (++i == argc)
			return -EINVAL;
		if (o[1] == 'n') {
			a->s.name = argv[i];
		} else if (o[1] == 'd') {
			eq = strchr(argv[i], '=');
			if (eq)
				*eq = '\0';
			priv[a->s.npriv++] = (struct rz_private){ .path = argv[i],
								  .seed = eq ? eq + 1 : NULL };
		} else {
			return -EINVAL;
		}
	}
	return a->s.name ? 0 : -EINVAL;
}

/* See noderun_int.h. */
int nr_request_parse(const struct nr_kreq *k, struct nr_args *a)
{
	int argc, r;

	*a = (struct nr_args){ .s = { .mnt_tmpl = -1, .log_fd = -1, .factory = -1 }, .rep = -1,
			       .ack = -1 };
	if (k->nfd >= 1)
		a->rep = k->fds[0];
	if (k->nfd < NR_REQ_FDS - 1 || k->nfd > NR_REQ_FDS)
		return -EINVAL;
	a->ack = k->fds[1];
	a->s.mnt_tmpl = k->fds[2];
	a->s.log_fd = k->nfd == NR_REQ_FDS ? k->fds[3] : -1;
	r = nrq_split(k->buf, k->len, k->argv, k->nargs, &argc);
	return r ? r : nrq_parse_args(argc, k->argv, k->priv, a);
}
