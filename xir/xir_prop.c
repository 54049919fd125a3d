/* xir_prop: the tables of properties and enumerated values. */
#include "xir_prop.h"

#include <string.h>

#include "util.h"

#define N XS_NODE
#define L XS_LINK
#define E XS_ENDPOINT
#define T XS_TOPO
#define BIG INT64_MAX

/* Link properties are allowed on an endpoint too: link[x].spec(latency ==
 * ms(5)) sets the direction that leaves x (see docs/model-language.md). */
static const struct xir_prop props[] = {
	{ "cores", N, XP_COUNT, 1, 4096, false, false, "CPU cores" },
	{ "memory", N, XP_BYTES, 1, BIG, false, false, "memory size" },
	{ "virt", N, XP_BOOL, 0, 1, true, false, "true: a VM; false: never a VM" },
	{ "cpufreq", N, XP_FREQ, 1, BIG, false, false, "CPU bandwidth per core" },
	{ "image", N, XP_STRING, 0, 0, true, false, "guest disk image" },
	{ "kernel", N, XP_STRING, 0, 0, true, false, "guest kernel" },
	{ "arch", N, XP_ENUM, 0, 0, true, false, "CPU architecture" },
	{ "dilation", N, XP_FACTOR, 0, 0, false, false, "time dilation factor" },
	{ "disk", N, XP_BYTES, 1, BIG, false, false, "disk size" },
	{ "latency", L | E, XP_TIME, 0, BIG, false, true, "one-way delay" },
	{ "jitter", L | E, XP_TIME, 0, BIG, false, true, "delay variation" },
	{ "loss", L | E, XP_FRACTION, 0, 0, false, true, "packet loss probability" },
	{ "capacity", L | E, XP_BPS, 1, BIG, false, false, "rate limit" },
	{ "queue", L | E, XP_QUEUE, 1, BIG, false, false, "backlog bound, packets or bytes" },
	{ "duplicate", L | E, XP_FRACTION, 0, 0, false, true, "duplication probability" },
	{ "reorder", L | E, XP_FRACTION, 0, 0, false, true, "reordering probability" },
	{ "corrupt", L | E, XP_FRACTION, 0, 0, false, true, "corruption probability" },
	{ "burst", L | E, XP_FACTOR, 0, 0, false, false, "mean loss burst length, frames" },
	{ "mtu", L | E, XP_COUNT, 68, 65535, false, false, "MTU in bytes" },
	{ "nic", E, XP_ENUM, 0, 0, false, false, "NIC model or family" },
	{ "ip", E, XP_ADDR, 0, 0, true, false, "interface address with prefix" },
	{ "mac", E, XP_MAC, 0, 0, true, false, "interface MAC address" },
	{ "vlan", E, XP_COUNT, 1, 4094, true, false, "VLAN id" },
	{ "islands", T, XP_BOOL, 0, 1, true, false, "true: allow islanded networks" },
	{ "routing", T, XP_BOOL, 0, 1, true, false, "false: install no static routes" },
	{ "pool", T, XP_NET, 0, 0, true, false, "address pool for links" },
	{ "name", T, XP_STRING, 0, 0, true, false, "experiment name" },
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
	/* architectures */
	{ "x86_64", "arch", "arch", 0, false },
	{ "i386", "arch", "arch", 0, false },
	{ "aarch64", "arch", "arch", 0, false },
	{ "arm", "arch", "arch", 0, false },
	{ "riscv64", "arch", "arch", 0, false },
	{ "ppc64le", "arch", "arch", 0, false },
	{ "s390x", "arch", "arch", 0, false },
	{ "mips64el", "arch", "arch", 0, false },
};

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
	};

	return t < UTIL_ARRAY_SIZE(names) ? names[t] : "?";
}
