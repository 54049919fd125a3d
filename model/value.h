/* value: the run-time values of the model language. Small values (numbers,
 * booleans, devices, links, endpoints, properties) live inline; strings,
 * lists, ranges, constraints and run() commands are reference-counted heap
 * objects registered in a vheap, which accounts their bytes (so a hostile
 * model hits a memory cap instead of the machine's) and frees whatever is
 * left (cycles included) at the end. */
#ifndef VTB_VALUE_H
#define VTB_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "xir.h"

enum vkind {
	V_NONE, V_ERR, /* V_ERR: the result of an error already reported; absorbs everything */
	V_INT, V_FLOAT, V_BOOL, V_STR, V_LIST, V_RANGE,
	V_DEVICE, V_LINK, V_ENDPOINT, V_PROP, V_ENUM, V_CONS, V_RUN, V_BUILTIN, V_TOPO,
};

struct vobj;

struct value {
	uint8_t kind;
	uint8_t unit;  /* enum xir_unit, for V_INT and V_FLOAT */
	uint32_t aux;  /* V_ENDPOINT: the node */
	union {
		int64_t i;
		double f;
		bool b;
		uint32_t idx; /* V_DEVICE node, V_LINK and V_ENDPOINT link */
		int fn;       /* V_BUILTIN */
		const struct xir_prop *prop;
		const struct xir_enum *en;
		struct vobj *o;
	};
};

struct vobj {
	uint32_t ref;
	uint8_t kind; /* V_STR, V_LIST, V_RANGE, V_CONS, V_RUN */
	size_t bytes;
	struct vobj *prev, *next;
};

struct vstr {
	struct vobj h;
	size_t len;
	char s[];
};

struct vlist {
	struct vobj h;
	struct value *v;
	size_t n, cap;
};

struct vrange {
	struct vobj h;
	int64_t start, stop, step;
};

struct vcons {
	struct vobj h;
	const struct xir_prop *prop;
	enum xir_op op;
	struct value val;
	struct src_loc loc;
};

/* A run() command or another task step (step: an enum xir_step). */
struct vrun {
	struct vobj h;
	uint8_t step;
	uint32_t node;
	struct value cmd, expect; /* V_STR; expect may be V_NONE; cmd V_NONE for host steps */
	struct value measure;     /* V_NONE, or V_LIST: a [name, regex] pair or a list of them */
	struct value link;        /* link steps: V_LINK or V_STR (its name) */
	struct value set;         /* link_set: V_LIST of constraints */
	int64_t at_ns, timeout_ns, every_ns;
	bool background;
	struct src_loc loc;
};

struct vheap {
	struct vobj *all;
	size_t bytes, max_bytes;
	bool over; /* an allocation was refused by the cap or by malloc */
	bool malloc_failed; /* ... by malloc itself: the system is out of memory */
};

#define VSTR(v) ((struct vstr *)(v).o)
#define VLIST(v) ((struct vlist *)(v).o)
#define VRANGE(v) ((struct vrange *)(v).o)
#define VCONS(v) ((struct vcons *)(v).o)
#define VRUN(v) ((struct vrun *)(v).o)

static inline bool v_is_heap(const struct value *v)
{
	return v->kind == V_STR || v->kind == V_LIST || v->kind == V_RANGE || v->kind == V_CONS ||
	       v->kind == V_RUN;
}

static inline struct value v_none(void) { return (struct value){ .kind = V_NONE }; }
static inline struct value v_err(void) { return (struct value){ .kind = V_ERR }; }
static inline struct value v_bool(bool b) { return (struct value){ .kind = V_BOOL, .b = b }; }
static inline struct value v_int(int64_t i, uint8_t unit)
{
	return (struct value){ .kind = V_INT, .unit = unit, .i = i };
}
static inline struct value v_float(double f, uint8_t unit)
{
	return (struct value){ .kind = V_FLOAT, .unit = unit, .f = f };
}

void vheap_init(struct vheap *h, size_t max_bytes);
/* Free every object still registered, cycles included. */
void vheap_free(struct vheap *h);

/* Allocate a heap object of size bytes (header included) with one
 * reference; NULL (and h->over) past the cap or when malloc fails. */
struct vobj *vheap_alloc(struct vheap *h, uint8_t kind, size_t size);
/* Grow a vlist's array to hold need items, accounting the bytes. 0 or -ENOMEM. */
int vheap_list_reserve(struct vheap *h, struct vlist *l, size_t need);

struct value v_ref(struct value v);
void v_unref(struct vheap *h, struct value v);

/* Strings: V_STR or V_ERR (when the heap refused). */
struct value v_str(struct vheap *h, const char *s, size_t len);
struct value v_list(struct vheap *h, size_t cap);

/* The number of items in a range, without overflow (up to 2^64 - 1). */
uint64_t v_range_len(const struct vrange *r);

/* Append src to b the way str() shows it; quote strings inside lists. */
void v_format(const struct xir *x, const struct value *v, bool quote, struct util_buf *b);
/* A short name of the value's type for messages: "a string", "a list"... */
const char *v_kind_name(const struct value *v);
bool v_truthy(const struct value *v);
/* Shortest text that reads back as the same double ("0.1", "2.0"). */
void v_format_float(double f, char *buf, size_t len);

#endif
