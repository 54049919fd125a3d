/* xir_prop: the tables of properties and enumerated values. */
#include "xir_prop.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_dir.h"
#include "util.h"

#define N XS_NODE
#define L XS_LINK
#define E XS_ENDPOINT
#define T XS_TOPO
#define BIG INT64_MAX
/* The last two fields of a row: the emulator's field and multi. */
#define NO_EMU { XE_NONE, 0, false }, false
#define EMU(kind, field, upper) { XE_##kind, offsetof(struct emu_params, field), upper }, false
#define SET_OF_VALUES { XE_NONE, 0, false }, true

/* Link properties are allowed on an endpoint too: link[x].spec(latency ==
 * ms(5)) sets the direction that leaves x (see docs/model-language.md). */
static const struct xir_prop props[] = {
	{ "cores", N, XP_COUNT, 1, 4096, false, false, "CPU cores", NO_EMU },
	{ "memory", N, XP_BYTES, 1, BIG, false, false, "memory size", NO_EMU },
	{ "virt", N, XP_BOOL, 0, 1, true, false, "true: a VM; false: never a VM", NO_EMU },
	{ "cpufreq", N, XP_FREQ, 1, BIG, false, false, "CPU bandwidth per core", NO_EMU },
	{ "image", N, XP_IMAGE, 0, 0, true, false, "the VM's userland instead of the host's",
	  NO_EMU },
	{ "packages", N, XP_PKG, 0, 0, true, false, "Debian packages installed in the image",
	  SET_OF_VALUES },
	{ "kernel", N, XP_STRING, 0, 0, true, false, "guest kernel", NO_EMU },
	{ "arch", N, XP_ENUM, 0, 0, true, false, "CPU architecture", NO_EMU },
	{ "dilation", N, XP_FACTOR, 0, 0, false, false, "time dilation factor", NO_EMU },
	{ "disk", N, XP_BYTES, 1, BIG, false, false, "disk size", NO_EMU },
	{ "cpuset", N, XP_BOOL, 0, 1, true, false, "true: pinned to its cores", NO_EMU },
	{ "privileged", N, XP_BOOL, 0, 1, true, false, "true: a container with the host's full root",
	  NO_EMU },
	{ "host", N, XP_HOST, 0, 0, true, false, "the cluster host it runs on (ignored on one host)",
	  NO_EMU },
	{ "private", N, XP_DIR, 0, 0, true, false, "directories of the node's own", SET_OF_VALUES },
	{ "latency", L | E, XP_TIME, 0, BIG, false, true, "one-way delay",
	  EMU(I64, latency_ns, false) },
	{ "jitter", L | E, XP_TIME, 0, BIG, false, true, "delay variation",
	  EMU(I64, jitter_ns, false) },
	{ "loss", L | E, XP_FRACTION, 0, 0, false, true, "packet loss probability",
	  EMU(LOSS, loss, false) },
	{ "capacity", L | E, XP_BPS, 1, BIG, false, false, "rate limit",
	  EMU(U64, rate_bps, true) },
	{ "queue", L | E, XP_QUEUE, 1, BIG, false, false, "backlog bound, packets or bytes",
	  EMU(QUEUE, queue_pkts, true) },
	{ "duplicate", L | E, XP_FRACTION, 0, 0, false, true, "duplication probability",
	  EMU(F64, duplicate, false) },
	{ "reorder", L | E, XP_FRACTION, 0, 0, false, true, "reordering probability",
	  EMU(F64, reorder, false) },
	{ "corrupt", L | E, XP_FRACTION, 0, 0, false, true, "corruption probability",
	  EMU(F64, corrupt, false) },
	{ "burst", L | E, XP_FACTOR, 0, 0, false, false, "mean loss burst length, frames",
	  EMU(BURST, loss, false) },
	{ "mtu", L | E, XP_COUNT, 68, 65535, false, false, "MTU in bytes", NO_EMU },
	{ "nic", E, XP_ENUM, 0, 0, false, false, "NIC model or family", NO_EMU },
	{ "ip", E, XP_ADDR, 0, 0, true, false, "interface address with prefix", NO_EMU },
	{ "mac", E, XP_MAC, 0, 0, true, false, "interface MAC address", NO_EMU },
	{ "vlan", E, XP_COUNT, 1, 4094, true, false, "VLAN id", NO_EMU },
	{ "islands", T, XP_BOOL, 0, 1, true, false, "true: allow islanded networks", NO_EMU },
	{ "routing", T, XP_SWITCH, 0, 0, true, false,
	  "false: no static routes; hosts: only hosts' default routes", NO_EMU },
	{ "pool", T, XP_NET, 0, 0, true, false, "address pool for links", NO_EMU },
	{ "name", T, XP_STRING, 0, 0, true, false, "experiment name", NO_EMU },
};

static const struct xir_enum enums[] = {
	/* QEMU device models */
	{ "virtio", "nic", "qemu", 0, true },
	{ "e1000", "nic", "qemu", 0, true },
	{ "e1000e", "nic", "qemu", 0, true },
	{ "rtl8139", "nic", "qemu", 0, true },
	{ "vmxnet3", "nic", "qemu", 0, true },
	/* physical NIC families, for passthrough and SR-IOV */
	{ "connect3", "nic", "connectx", 3, false },
	{ "connect4", "nic", "connectx", 4, false },
	{ "connect5", "nic", "connectx", 5, false },
	{ "connect6", "nic", "connectx", 6, false },
	{ "connect7", "nic", "connectx", 7, false },
	{ "x520", "nic", "intel", 1, false },
	{ "x710", "nic", "intel", 2, false },
	{ "e810", "nic", "intel", 3, false },
	/* routing modes besides true (every route) and false (none) */
	{ "hosts", "routing", "routing", 0, false },
	/* architectures */
	{ "x86_64", "arch", "arch", 0, false },
	{ "i386", "arch", "arch", 0, false },
	{ "aarch64", "arch", "arch", 0, false },
	{ "arm64", "arch", "arch", 0, false }, /* Debian's name of aarch64 */
	{ "arm", "arch", "arch", 0, false },
	{ "riscv64", "arch", "arch", 0, false },
	{ "ppc64le", "arch", "arch", 0, false },
	{ "s390x", "arch", "arch", 0, false },
	{ "mips64el", "arch", "arch", 0, false },
};

/* The userlands of image ==: Debian releases with a merged /usr (the
 * guest mounts the tree's /usr over its own, docs/vms.md), whose programs
 * run on the guest's bookworm kernel. */
static const char *const images[] = { "debian:bookworm", "debian:trixie" };

bool xir_image_known(const char *s)
{
	for (size_t i = 0; s && i < UTIL_ARRAY_SIZE(images); i++)
		if (!strcmp(images[i], s))
			return true;
	return false;
}

const char *xir_image_list(char *buf, size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(images) && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s'%s'", i ? ", " : "", images[i]);
	return buf;
}

bool xir_pkg_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 2 || n > 128 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == n;
}

/* The order is the model's builtin order (model/eval_int.h, B_KB...). */
static const struct xir_unit_fn unit_fns[XIR_UNIT_FNS] = {
	{ "kb", 1024.0, XU_BYTES },
	{ "mb", 1024.0 * 1024, XU_BYTES },
	{ "gb", 1024.0 * 1024 * 1024, XU_BYTES },
	{ "tb", 1024.0 * 1024 * 1024 * 1024, XU_BYTES },
	{ "kbps", 1e3, XU_BPS },
	{ "mbps", 1e6, XU_BPS },
	{ "gbps", 1e9, XU_BPS },
	{ "ns", 1, XU_NS },
	{ "us", 1e3, XU_NS },
	{ "ms", 1e6, XU_NS },
	{ "s", 1e9, XU_NS },
	{ "khz", 1e3, XU_HZ },
	{ "mhz", 1e6, XU_HZ },
	{ "ghz", 1e9, XU_HZ },
};

const struct xir_unit_fn *xir_unit_fn_at(size_t i)
{
	return i < XIR_UNIT_FNS ? &unit_fns[i] : NULL;
}

const struct xir_unit_fn *xir_unit_fn_find(const char *name)
{
	size_t i;

	for (i = 0; i < XIR_UNIT_FNS; i++)
		if (!strcmp(unit_fns[i].name, name))
			return &unit_fns[i];
	return NULL;
}

const char *xir_unit_fn_names(enum xir_unit u, char *buf, size_t len)
{
	size_t i, at = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < XIR_UNIT_FNS && at < len; i++)
		if (unit_fns[i].unit == u)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? " " : "",
					       unit_fns[i].name);
	return buf;
}

/* A number with a unit of u, or a bare 0. */
static int parse_quantity(const char *num, const char *end, enum xir_unit u, double x, double *v)
{
	const struct xir_unit_fn *f;

	if (!*end) {
		*v = x;
		return x == 0 ? 0 : -EINVAL;
	}
	f = xir_unit_fn_find(end);
	if (!f || f->unit != u || end == num)
		return -EINVAL;
	*v = x * f->scale;
	return 0;
}

void xir_prop_bounds(const struct xir_prop *prop, enum xir_unit unit, int64_t *min, int64_t *max)
{
	*min = prop->min;
	*max = prop->type == XP_QUEUE && unit == XU_NONE ? XIR_QUEUE_PKTS_MAX : prop->max;
}

/* Integers of the XIR are int64: a larger quantity is out of range. */
#define XIR_INT_LIMIT 9.2e18

int xir_value_parse(const char *s, enum xir_ptype t, double *v, enum xir_unit *unit)
{
	char *end;
	double x = strtod(s, &end);
	int r;

	*unit = XU_NONE;
	if (end == s || x != x)
		return -EINVAL;
	if (x < 0 || isinf(x))
		return -ERANGE;
	switch (t) {
	case XP_FRACTION:
		if (!strcmp(end, "%"))
			x /= 100;
		else if (*end)
			return -EINVAL;
		*v = x;
		return x <= 1 ? 0 : -ERANGE;
	case XP_COUNT:
	case XP_FACTOR:
		*v = x;
		return *end ? -EINVAL : 0;
	case XP_QUEUE:
		*v = x;
		if (*end) {
			*unit = XU_BYTES;
			r = parse_quantity(s, end, XU_BYTES, x, v);
		} else {
			r = 0;
		}
		break;
	default:
		*unit = xir_ptype_unit(t);
		r = *unit == XU_NONE ? -EINVAL : parse_quantity(s, end, *unit, x, v);
		break;
	}
	return !r && *v >= XIR_INT_LIMIT ? -ERANGE : r;
}

const struct xir_prop *xir_prop_find(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_SIZE(props); i++)
		if (!strcmp(props[i].name, name))
			return &props[i];
	return NULL;
}

const struct xir_prop *xir_prop_at(size_t i)
{
	return i < UTIL_ARRAY_SIZE(props) ? &props[i] : NULL;
}

size_t xir_prop_count(void)
{
	return UTIL_ARRAY_SIZE(props);
}

const struct xir_enum *xir_enum_find(const char *prop, const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_SIZE(enums); i++)
		if (!strcmp(enums[i].prop, prop) && !strcmp(enums[i].name, name))
			return &enums[i];
	return NULL;
}

const struct xir_enum *xir_enum_at(size_t i)
{
	return i < UTIL_ARRAY_SIZE(enums) ? &enums[i] : NULL;
}

const struct xir_enum *xir_enum_any(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_SIZE(enums); i++)
		if (!strcmp(enums[i].name, name))
			return &enums[i];
	return NULL;
}

enum xir_unit xir_ptype_unit(enum xir_ptype t)
{
	switch (t) {
	case XP_BYTES:
		return XU_BYTES;
	case XP_BPS:
		return XU_BPS;
	case XP_TIME:
		return XU_NS;
	case XP_FREQ:
		return XU_HZ;
	default:
		return XU_NONE;
	}
}

const char *xir_unit_name(enum xir_unit u)
{
	static const char *const names[] = { "", "bytes", "bits/s", "ns", "Hz" };

	return u < UTIL_ARRAY_SIZE(names) ? names[u] : "?";
}

const char *xir_scope_name(unsigned scope_bit)
{
	switch (scope_bit) {
	case XS_NODE:
		return "device";
	case XS_LINK:
		return "link";
	case XS_ENDPOINT:
		return "endpoint";
	default:
		return "experiment";
	}
}

const char *xir_ptype_name(enum xir_ptype t)
{
	static const char *const names[] = {
		[XP_COUNT] = "a whole number",
		[XP_BYTES] = "a size (kb(), mb(), gb())",
		[XP_BPS] = "a rate (kbps(), mbps(), gbps())",
		[XP_TIME] = "a time (us(), ms(), s())",
		[XP_FREQ] = "a frequency (mhz(), ghz())",
		[XP_FRACTION] = "a fraction between 0 and 1",
		[XP_FACTOR] = "a positive number",
		[XP_QUEUE] = "a packet count or a size (kb(), mb())",
		[XP_BOOL] = "true or false",
		[XP_STRING] = "a string",
		[XP_ENUM] = "a known name",
		[XP_ADDR] = "an address with prefix, like '10.0.0.1/24'",
		[XP_NET] = "a network with prefix, like '10.0.0.0/16'",
		[XP_MAC] = "a MAC address, like '02:00:00:00:00:01'",
		[XP_DIR] = "a directory, like '/etc/frr' or '/etc/frr=/srv/frr' (seeded)",
		[XP_SWITCH] = "true, false or a mode",
		[XP_HOST] = "a host name, like 'h1'",
		[XP_IMAGE] = "a userland, like 'debian:bookworm'",
		[XP_PKG] = "a Debian package name, like 'iperf3'",
	};

	return t < UTIL_ARRAY_SIZE(names) ? names[t] : "?";
}

const char *xir_prop_emu_names(char *buf, size_t len)
{
	const struct xir_prop *prop;
	size_t i, at = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; (prop = xir_prop_at(i)) && at < len; i++)
		if (prop->emu.kind != XE_NONE)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? " " : "", prop->name);
	return buf;
}
