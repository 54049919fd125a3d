/* dynlib: open a shared library on first use and look up its functions
 * (dynlib.h says why). */
#include "dynlib.h"

#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct dynlib dynlib_curl = { .soname = "libcurl.so.4", .package = "libcurl4" };
struct dynlib dynlib_pcap = { .soname = "libpcap.so.0.8", .package = "libpcap0.8" };
struct dynlib dynlib_gvc = { .soname = "libgvc.so.6", .package = "libgvc6" };
struct dynlib dynlib_cgraph = { .soname = "libcgraph.so.6", .package = "libcgraph6" };
struct dynlib dynlib_metis = { .soname = "libmetis.so.5", .package = "libmetis5" };
struct dynlib dynlib_ssl = { .soname = "libssl.so.3", .package = "libssl3" };
struct dynlib dynlib_crypto = { .soname = "libcrypto.so.3", .package = "libssl3" };

/* one lock for every library's first open: opens are rare and short */
static pthread_mutex_t dynlib_lock = PTHREAD_MUTEX_INITIALIZER;

int dynlib_open(struct dynlib *l, char *err, size_t errlen)
{
	void *h;
	int r = 0;

	if (__atomic_load_n(&l->handle, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&dynlib_lock);
	if (!l->handle) {
		h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
		if (h) {
			__atomic_store_n(&l->handle, h, __ATOMIC_RELEASE);
		} else {
			util_fmt(err, errlen, "cannot open %s (%s): install Debian's %s (make deps)",
				 l->soname, dlerror(), l->package);
			r = -ENOENT;
		}
	}
	pthread_mutex_unlock(&dynlib_lock);
	return r;
}

void *dynlib_sym(struct dynlib *l, const char *name)
{
	char err[UTIL_ERR_LEN];
	void *f;

	if (dynlib_open(l, err, sizeof(err)) < 0) {
		fprintf(stderr, "vtb: %s\n", err);
		abort();
	}
	f = dlsym(__atomic_load_n(&l->handle, __ATOMIC_ACQUIRE), name);
	if (!f) {
		fprintf(stderr, "vtb: %s has no %s (%s): a broken installation\n", l->soname, name,
			dlerror());
		abort();
	}
	return f;
}
