/* dynlib: shared libraries vtb opens when a command first needs them.
 *
 * libcurl (etcd), libpcap (vtb capture), Graphviz (vtb graph), METIS
 * (placement across hosts) and OpenSSL (TLS between hosts) pull in some forty further libraries; linked
 * into the binary, the dynamic loader maps and relocates them for every vtb
 * process: 20 ms of each start instead of 2.6 (vtb up, its supervisor, vtb
 * down, every vtb exec of a task). So they are not linked: dynlib_fns.c
 * defines each function vtb calls under the library's own name, and the
 * first call opens the library (dlopen) and looks the function up.
 *
 * The code that starts using a library calls dynlib_open() first, which
 * turns a missing library into an error naming it and its Debian package;
 * after that a missing function is a broken installation, and the call
 * aborts with a message (there is no value a caller could handle). */
#ifndef VTB_DYNLIB_H
#define VTB_DYNLIB_H

#include <stddef.h>

struct dynlib {
	const char *soname;  /* "libcurl.so.4" */
	const char *package; /* Debian's package that has it */
	void *handle;        /* dlopen's, read and written atomically */
};

extern struct dynlib dynlib_curl, dynlib_pcap, dynlib_gvc, dynlib_cgraph, dynlib_metis, dynlib_ssl,
	dynlib_crypto;

/* Open l (once: later calls return at once). 0, or -ENOENT with err (of
 * errlen bytes) saying which library could not be opened, dlerror()'s
 * words and the package to install. Thread-safe. */
int dynlib_open(struct dynlib *l, char *err, size_t errlen);

/* The address of l's function name, opening l if needed. Never NULL:
 * aborts with a message on standard error when l or name is missing. */
void *dynlib_sym(struct dynlib *l, const char *name);

/* Define the function name of library lib: ret name params, calling the
 * library's through a pointer looked up on the first call. args are the
 * parameters' names in parentheses. The name is parenthesized so that a
 * header's function-like macro of the same name does not expand. */
#define DYNLIB_FN(lib, ret, name, params, args)                                                    \
	ret(name) params                                                                           \
	{                                                                                          \
		static ret(*fn_) params;                                                           \
		ret(*f_) params = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);                         \
                                                                                                   \
		if (!f_) {                                                                         \
			f_ = (ret(*) params)dynlib_sym(&(lib), #name);                             \
			__atomic_store_n(&fn_, f_, __ATOMIC_RELEASE);                              \
		}                                                                                  \
		return f_ args;                                                                    \
	}

#endif
