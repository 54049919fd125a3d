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

/* The longest directory path a property takes (private == ...). */
#define XIR_DIR_MAX 255

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
	XP_DIR,      /* a directory: "/path", or "/path=/host/seed" (seeded) */
	XP_SWITCH,   /* true, false, or one of the enumerated modes: routing == hosts */
	XP_HOST,     /* a cluster host's name (the name rule of xir_name_check): host == 'h1' */
	XP_IMAGE,    /* a userland of xir_images: image == 'debian:bookworm' */
	XP_PKG,      /* a Debian package name (xir_pkg_name_ok): packages == ['frr'] */
};

/* Where a link property's value goes in the link emulator's parameters of
 * a direction (struct emu_params, emu/emu_dir.h), and which bound of a
 * constraint gives it. This makes the property table the one table of link
 * parameters: realization, vtb link set and the supervisor all apply
 * values through it (realize/rz_params.h). */
enum xir_emu_kind {
	XE_NONE,  /* not an emulator parameter */
	XE_I64,   /* int64_t at off */
	XE_U64,   /* uint64_t at off */
	XE_F64,   /* double at off */
	XE_QUEUE, /* queue_pkts (a count) or queue_bytes (a byte unit) */
	XE_LOSS,  /* the mean loss, set with the burst (emu_params_set_loss) */
	XE_BURST, /* the mean loss burst length in frames */
};

struct xir_emu_field {
	enum xir_emu_kind kind;
	size_t off;  /* offsetof(struct emu_params, ...) for XE_I64/U64/F64 */
	bool upper;  /* the value is a constraint's upper bound (capacity <= x is
	              * a limit: ==, <= and < give it; a link with one is
	              * emulated, as the one rate limiter); otherwise its lower
	              * bound (latency >= x is at least x: ==, >= and > give it) */
};

struct xir_prop {
	const char *name;
	unsigned scope;      /* enum xir_scope mask */
	enum xir_ptype type;
	int64_t min, max;    /* inclusive range for integer types */
	bool eq_only;        /* only == and != make sense (addresses, strings...) */
	bool emulated;       /* on a link: makes it emulated */
	const char *summary; /* one line for docs and hints */
	struct xir_emu_field emu; /* link properties the emulator applies */
	bool multi;          /* a set: each == adds a value (private == [...]) */
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

/* The userlands a VM node can run instead of the host's (image ==
 * 'debian:bookworm'): "debian:SUITE", one per Debian release vtb builds
 * with mmdebstrap (vm/rootfs.c). Whether s is one of them. */
bool xir_image_known(const char *s);
/* The known userlands, quoted and comma-separated, into buf:
 * "'debian:bookworm', 'debian:trixie'". */
const char *xir_image_list(char *buf, size_t len);
/* Whether s is a Debian package name (Debian policy 5.6.1: at least two
 * characters of [a-z0-9+.-], the first a letter or digit). */
bool xir_pkg_name_ok(const char *s);

/* A unit function of the model language: kb(4) is 4 * 1024 bytes. This is
 * the one table of units: the same names mean the same amounts as suffixes
 * on the command line (vtb link set queue=64kb is 65536 bytes) and in the
 * docs. */
struct xir_unit_fn {
	const char *name;
	double scale;       /* base units in one */
	enum xir_unit unit;
};

#define XIR_UNIT_FNS 14 /* the size of the table */

const struct xir_unit_fn *xir_unit_fn_at(size_t i); /* NULL past the end */
/* The link emulator's parameters (the properties with an emu field),
 * space-separated into buf, for hints ("latency jitter loss..."). */
const char *xir_prop_emu_names(char *buf, size_t len);
const struct xir_unit_fn *xir_unit_fn_find(const char *name);

/* The unit names of unit u, space-separated into buf ("ns us ms s"). */
const char *xir_unit_fn_names(enum xir_unit u, char *buf, size_t len);

/* Parse a value of type t as written on the command line: a number with
 * one of the unit names of t's unit ("20ms", "1.5gbps", "64kb"), a bare 0
 * for any unit, a bare number for unitless types (a packet count for
 * XP_QUEUE, which also takes a byte size), a fraction or percentage for
 * XP_FRACTION ("0.01", "1%"). Returns 0 with *v in base units and *unit
 * (XU_NONE for unitless values); -EINVAL when s is not of that form,
 * -ERANGE when a fraction is outside [0, 1] or a value is negative. */
int xir_value_parse(const char *s, enum xir_ptype t, double *v, enum xir_unit *unit);

/* The most packets a queue bound counts (the emulator's 32-bit field). */
#define XIR_QUEUE_PKTS_MAX 4294967295LL

/* The inclusive range of an integer value of prop in unit (a queue's
 * packets and bytes differ): what the model and vtb link set both allow. */
void xir_prop_bounds(const struct xir_prop *prop, enum xir_unit unit, int64_t *min, int64_t *max);

/* The unit an integer of this type carries (XU_NONE for the unitless ones). */
enum xir_unit xir_ptype_unit(enum xir_ptype t);
const char *xir_unit_name(enum xir_unit u); /* "bytes", "bits/s", "ns", "Hz", "" */
const char *xir_scope_name(unsigned scope_bit); /* "device", "link", "endpoint", "experiment" */
const char *xir_ptype_name(enum xir_ptype t); /* "a byte size", "a time", ... */

#endif
