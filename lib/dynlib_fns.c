/* dynlib_fns: every function vtb calls in the libraries it opens on first
 * use (dynlib.h), defined under the library's own name so callers read as
 * if the library were linked. A function vtb starts calling goes here. */
#include "dynlib.h"

#include <curl/curl.h>
#include <gvc.h>
#include <metis.h>
#include <pcap/pcap.h>
#include <stdarg.h>

/* libcurl (cluster/etcd.c) */
DYNLIB_FN(dynlib_curl, CURLcode, curl_global_init, (long flags), (flags))
DYNLIB_FN(dynlib_curl, CURL *, curl_easy_init, (void), ())
DYNLIB_FN(dynlib_curl, CURLcode, curl_easy_perform, (CURL *c), (c))
DYNLIB_FN(dynlib_curl, void, curl_easy_cleanup, (CURL *c), (c))
DYNLIB_FN(dynlib_curl, void, curl_easy_reset, (CURL *c), (c))
DYNLIB_FN(dynlib_curl, const char *, curl_easy_strerror, (CURLcode rc), (rc))

/* curl_easy_setopt's value is a long, a pointer (data or function) or a
 * curl_off_t, as the option's number says (curl.h, CURLOPTTYPE_*): pass it
 * on as the type it was given. */
CURLcode(curl_easy_setopt)(CURL *c, CURLoption opt, ...)
{
	static CURLcode (*fn)(CURL *, CURLoption, ...);
	CURLcode (*f)(CURL *, CURLoption, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	CURLcode rc;
	va_list ap;

	if (!f) {
		f = (CURLcode(*)(CURL *, CURLoption, ...))dynlib_sym(&dynlib_curl,
								     "curl_easy_setopt");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = f(c, opt, va_arg(ap, long));
	else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
		rc = f(c, opt, va_arg(ap, curl_off_t));
	else
		rc = f(c, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* curl_easy_getinfo's third argument is always a pointer. */
CURLcode(curl_easy_getinfo)(CURL *c, CURLINFO info, ...)
{
	static CURLcode (*fn)(CURL *, CURLINFO, ...);
	CURLcode (*f)(CURL *, CURLINFO, ...) = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	CURLcode rc;
	va_list ap;

	if (!f) {
		f = (CURLcode(*)(CURL *, CURLINFO, ...))dynlib_sym(&dynlib_curl,
								   "curl_easy_getinfo");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	va_start(ap, info);
	rc = f(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* libpcap (exec/capture.c) */
DYNLIB_FN(dynlib_pcap, pcap_t *, pcap_create, (const char *dev, char *ebuf), (dev, ebuf))
DYNLIB_FN(dynlib_pcap, pcap_t *, pcap_open_dead, (int link, int snap), (link, snap))
DYNLIB_FN(dynlib_pcap, int, pcap_set_snaplen, (pcap_t *p, int n), (p, n))
DYNLIB_FN(dynlib_pcap, int, pcap_set_immediate_mode, (pcap_t *p, int on), (p, on))
DYNLIB_FN(dynlib_pcap, int, pcap_set_buffer_size, (pcap_t *p, int n), (p, n))
DYNLIB_FN(dynlib_pcap, int, pcap_activate, (pcap_t *p), (p))
DYNLIB_FN(dynlib_pcap, void, pcap_close, (pcap_t *p), (p))
DYNLIB_FN(dynlib_pcap, int, pcap_dispatch, (pcap_t *p, int n, pcap_handler cb, u_char *user),
	  (p, n, cb, user))
DYNLIB_FN(dynlib_pcap, int, pcap_stats, (pcap_t *p, struct pcap_stat *st), (p, st))
DYNLIB_FN(dynlib_pcap, int, pcap_setfilter, (pcap_t *p, struct bpf_program *prog), (p, prog))
DYNLIB_FN(dynlib_pcap, int, pcap_setdirection, (pcap_t *p, pcap_direction_t d), (p, d))
DYNLIB_FN(dynlib_pcap, int, pcap_setnonblock, (pcap_t *p, int on, char *ebuf), (p, on, ebuf))
DYNLIB_FN(dynlib_pcap, char *, pcap_geterr, (pcap_t *p), (p))
DYNLIB_FN(dynlib_pcap, int, pcap_compile,
	  (pcap_t *p, struct bpf_program *prog, const char *s, int opt, bpf_u_int32 mask),
	  (p, prog, s, opt, mask))
DYNLIB_FN(dynlib_pcap, void, pcap_freecode, (struct bpf_program *prog), (prog))
DYNLIB_FN(dynlib_pcap, pcap_dumper_t *, pcap_dump_fopen, (pcap_t *p, FILE *fp), (p, fp))
DYNLIB_FN(dynlib_pcap, int, pcap_dump_flush, (pcap_dumper_t *d), (d))
DYNLIB_FN(dynlib_pcap, void, pcap_dump_close, (pcap_dumper_t *d), (d))
DYNLIB_FN(dynlib_pcap, void, pcap_dump,
	  (u_char *user, const struct pcap_pkthdr *h, const u_char *bytes), (user, h, bytes))
DYNLIB_FN(dynlib_pcap, int, pcap_get_selectable_fd, (pcap_t *p), (p))

/* Graphviz: libgvc and libcgraph (cli/graph.c) */
DYNLIB_FN(dynlib_gvc, GVC_t *, gvContext, (void), ())
DYNLIB_FN(dynlib_gvc, int, gvFreeContext, (GVC_t *gvc), (gvc))
DYNLIB_FN(dynlib_gvc, int, gvLayout, (GVC_t *gvc, graph_t *g, const char *engine),
	  (gvc, g, engine))
DYNLIB_FN(dynlib_gvc, int, gvFreeLayout, (GVC_t *gvc, graph_t *g), (gvc, g))
DYNLIB_FN(dynlib_gvc, int, gvRender, (GVC_t *gvc, graph_t *g, const char *format, FILE *out),
	  (gvc, g, format, out))
DYNLIB_FN(dynlib_gvc, char **, gvPluginList, (GVC_t *gvc, const char *kind, int *sz, char *s),
	  (gvc, kind, sz, s))
DYNLIB_FN(dynlib_cgraph, Agraph_t *, agopen, (char *name, Agdesc_t desc, Agdisc_t *disc),
	  (name, desc, disc))
DYNLIB_FN(dynlib_cgraph, int, agclose, (Agraph_t *g), (g))
DYNLIB_FN(dynlib_cgraph, int, agwrite, (Agraph_t *g, void *chan), (g, chan))
DYNLIB_FN(dynlib_cgraph, Agnode_t *, agnode, (Agraph_t *g, char *name, int create),
	  (g, name, create))
DYNLIB_FN(dynlib_cgraph, Agedge_t *, agedge,
	  (Agraph_t *g, Agnode_t *t, Agnode_t *h, char *name, int create), (g, t, h, name, create))
DYNLIB_FN(dynlib_cgraph, Agsym_t *, agattr, (Agraph_t *g, int kind, char *name, char *value),
	  (g, kind, name, value))
DYNLIB_FN(dynlib_cgraph, int, agsafeset, (void *obj, char *name, char *value, char *def),
	  (obj, name, value, def))
DYNLIB_FN(dynlib_cgraph, agusererrf, agseterrf, (agusererrf f), (f))

/* METIS (realize/place.c) */
DYNLIB_FN(dynlib_metis, int, METIS_SetDefaultOptions, (idx_t *options), (options))
DYNLIB_FN(dynlib_metis, int, METIS_PartGraphKway,
	  (idx_t *nv, idx_t *ncon, idx_t *xadj, idx_t *adj, idx_t *vw, idx_t *vsize, idx_t *ew,
	   idx_t *nparts, real_t *tp, real_t *ub, idx_t *opt, idx_t *cut, idx_t *part),
	  (nv, ncon, xadj, adj, vw, vsize, ew, nparts, tp, ub, opt, cut, part))
