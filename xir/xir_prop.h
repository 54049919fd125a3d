/* xir_prop: the property schema of the model language and the XIR: which
 * properties exist, what they apply to, the type and unit of their values,
 * and the enumerated values the language knows. */
#ifndef VTB_XIR_PROP_H
#define VTB_XIR_PROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xir_unit { XU_NONE, XU_BYTES, XU_BPS, XU_NS, XU_HZ };

/* Where a property may appear (a mask). */
enum xir_scope {
	XS_NODE = 1,     /* topo.device(...) */
	XS_LINK = 2,     /* topo.connect(...) */
	XS_ENDPOINT = 4, /* link[node].spec(...) */
	XS_TOPO = 8,     /* topo.spec(...) */
};

enum xir_ptype {
	XP_COUNT,    /* integer, no unit: cores, mtu, vlan */
	XP_BYTES,    /* integer bytes: memory, disk */
	XP_BPS,      /* integer bits/s: capacity */
	XP_TIME,     /* integer ns: latency, jitter */
	XP_FREQ,     /* integer Hz: cpufreq */
	XP_FRACTION, /* number in [0, 1]: loss, duplicate, reorder, corrupt */
	XP_FACTOR,   /* number > 0: dilation */
	XP_QUEUE,    /* integer packets (no unit) or bytes (a byte unit) */
	XP_BOOL,
	XP_STRING,
	XP_ENUM,     /* one of the enumerated values with this property */
	XP_ADDR,     /* interface address with prefix: "10.0.0.1/24", "fd00::1/64" */
	XP_NET,      /* network with prefix, host bits zero: "10.0.0.0/16" */
	XP_MAC,      /* "02:00:00:00:00:01" */
};

struct xir_prop {
	const char *name;
	unsigned scope;      /* enum xir_scope mask */
	enum xir_ptype type;
	int64_t min, max;    /* inclusive range for integer types */
	bool eq_only;        /* only == and != make sense (addresses, strings...) */
	bool emulated;       /* on a link: makes it emulated */
	const char *summary; /* one line for docs and hints */
};

/* An enumerated value. Values of one family with rank > 0 are ordered
 * (connect4 < connect5), so nic >= connect4 means "ConnectX-4 or newer". */
struct xir_enum {
	const char *name;
	const char *prop;   /* the property it belongs to */
	const char *family;
	int rank;           /* 0: not ordered */
	bool vm_only;       /* a QEMU device model: only a VM has it */
};

const struct xir_prop *xir_prop_find(const char *name);
const struct xir_prop *xir_prop_at(size_t i); /* NULL past the end */
size_t xir_prop_count(void);

const struct xir_enum *xir_enum_find(const char *prop, const char *name);
const struct xir_enum *xir_enum_at(size_t i); /* NULL past the end */
/* An enumerated value of any property, by name. */
const struct xir_enum *xir_enum_any(const char *name);

/* The unit an integer of this type carries (XU_NONE for the unitless ones). */
enum xir_unit xir_ptype_unit(enum xir_ptype t);
const char *xir_unit_name(enum xir_unit u); /* "bytes", "bits/s", "ns", "Hz", "" */
const char *xir_scope_name(unsigned scope_bit); /* "device", "link", "endpoint", "experiment" */
const char *xir_ptype_name(enum xir_ptype t); /* "a byte size", "a time", ... */

#endif
