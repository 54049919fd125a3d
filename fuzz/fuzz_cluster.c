/* fuzz_cluster: libFuzzer target for the cluster's own records read back
 * from outside: a host's configuration file (cluster/clconf.c) and a host
 * record from etcd (cluster/clhost_parse.c). Each must accept the bytes
 * with well-formed fields or refuse them with -EINVAL and a sentence. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clconf.h"
#include "clhost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[UTIL_ERR_LEN] = "";
	struct clconf c;
	struct clhost h;
	int r;

	r = clconf_parse((const char *)data, size, &c, err);
	if (r && (r != -EINVAL || !err[0]) && r != -ENOMEM)
		abort();
	if (!r && (clconf_host_check(c.host) || !c.etcd[0] || !c.underlay[0]))
		abort();
	err[0] = '\0';
	r = clhost_parse((const char *)data, size, &h, err);
	if (r && (r != -EINVAL || !err[0]))
		abort();
	if (!r && clconf_host_check(h.name))
		abort();
	return 0;
}
