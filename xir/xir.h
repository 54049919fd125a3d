/* xir: the experiment intermediate representation. The evaluator builds it
 * from a model, xir_json reads and writes it, the checks read it, and the
 * later stages (realize, materialize, run) consume it.
 *
 * Every quantity is an integer in base units (bytes, bits/s, nanoseconds,
 * hertz). Nodes are referred to by index. The xir owns every string in it. */
#ifndef VTB_XIR_H
#define VTB_XIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "util.h"
#include "xir_prop.h"

#define XIR_VERSION 1
#define XIR_DEFAULT_TIMEOUT_NS (60LL * 1000000000LL)
/* wait_until's defaults: 30 s is what a routing protocol takes to
 * converge with its default timers (OSPF's 10 s hello, 40 s dead), and
 * 200 ms between tries answers within a fifth of a second without
 * running the command more than five times a second. */
#define XIR_WAIT_TIMEOUT_NS (30LL * 1000000000LL)
#define XIR_WAIT_EVERY_NS (200LL * 1000000LL)

enum xir_op { XIR_EQ, XIR_NE, XIR_LT, XIR_LE, XIR_GT, XIR_GE };

enum xir_vtype { XV_INT, XV_FLOAT, XV_BOOL, XV_STR, XV_ENUM };

struct xir_value {
	enum xir_vtype type;
	enum xir_unit unit; /* for XV_INT/XV_FLOAT; XU_NONE otherwise */
	union {
		int64_t i;
		double f;
		bool b;
		char *s; /* XV_STR, XV_ENUM: owned */
	};
};

struct xir_constraint {
	const struct xir_prop *prop;
	enum xir_op op;
	struct xir_value value;
	struct src_loc loc; /* the whole comparison */
};

struct xir_cset {
	struct xir_constraint *v;
	size_t n, cap;
};

struct xir_node {
	char *name;
	struct xir_cset cons;
	struct src_loc loc;
};

struct xir_endpoint {
	uint32_t node;
	struct xir_cset cons; /* from link[node].spec(...) */
	struct src_loc loc;
};

struct xir_link {
	char *name; /* NULL until xir_finish names it */
	struct xir_endpoint *ep;
	size_t nep, cap;
	struct xir_cset cons;
	struct src_loc loc;
};

/* A measurement a command declares: the first group of regex re over its
 * output, named name (vtb results). */
struct xir_measure {
	char *name, *re;
};

/* What a step of a task does (docs/model-language.md, "Tasks"): a
 * command on a node, a command retried until it succeeds, or a change vtb
 * run makes itself (on the host side) at an offset from the task's start. */
enum xir_step {
	XSTEP_RUN,        /* run(node, cmd) */
	XSTEP_WAIT_UNTIL, /* wait_until(node, cmd, timeout=, every=) */
	XSTEP_FILE,       /* a file() written at a run's start (vtb run's own, never in JSON) */
	XSTEP_LINK_SET,   /* link_set(link, latency == ..., at=): host side from here on */
	XSTEP_LINK_DOWN,
	XSTEP_LINK_UP,
	XSTEP_NODE_STOP,
	XSTEP_NODE_START,
	XSTEP_COUNT,
};

/* "run", "wait_until", "link_set", ...; NULL past the table. */
const char *xir_step_name(enum xir_step s);
/* Parse a step's name. Returns 0 or -EINVAL. */
int xir_step_parse(const char *s, enum xir_step *out);

/* Whether vtb run does step s itself rather than a node. */
static inline bool xir_step_on_host(enum xir_step s)
{
	return s >= XSTEP_LINK_SET;
}

/* Whether step s acts on a link (and has no node). */
static inline bool xir_step_on_link(enum xir_step s)
{
	return s == XSTEP_LINK_SET || s == XSTEP_LINK_DOWN || s == XSTEP_LINK_UP;
}

struct xir_command {
	enum xir_step step;
	uint32_t node;   /* run, wait_until, node_stop and node_start: the device */
	char *cmd;       /* run, wait_until, file: the command line; NULL for host steps */
	char *path;      /* file: the file's path in the node */
	bool background;
	char *expect; /* POSIX extended regex or NULL */
	struct xir_measure *measure;
	size_t nmeasure, cap_measure;
	char *link;        /* link steps: the link's name (NULL until xir_finish
			      names one given by value) */
	uint32_t link_idx; /* link steps: the link given by value; UINT32_MAX: by name */
	struct xir_cset set; /* link_set: the link parameters (== only) */
	int64_t at_ns;     /* host steps: when, from the task's start */
	int64_t timeout_ns, every_ns; /* wait_until: give up after; retry every */
	struct src_loc loc;
};

struct xir_task {
	char *name;
	struct xir_command *cmd;
	size_t ncmd, cap;
	int64_t timeout_ns;
	struct src_loc loc;
};

/* A file written into a node before the tasks run: file(node, path,
 * text); text holds {{...}} placeholders (xir_file_next). */
struct xir_file {
	uint32_t node;
	char *path, *text;
	struct src_loc loc;
};

/* The most a file's text may hold: it goes to its node as an argument of
 * a command, which Linux bounds at 128 KiB (MAX_ARG_STRLEN); half that
 * leaves room for quoting. */
#define XIR_FILE_MAX (64u * 1024u)

struct xir {
	char *name;
	struct xir_cset cons; /* experiment-wide, from topo.spec(...) */
	struct xir_node *nodes;
	size_t nnodes, cap_nodes;
	struct xir_link *links;
	size_t nlinks, cap_links;
	struct xir_task *tasks;
	size_t ntasks, cap_tasks;
	struct xir_file *files;
	size_t nfiles, cap_files;
	struct util_map node_map; /* name -> index of the first node so named */
};

static inline struct src_loc xir_noloc(void)
{
	return (struct src_loc){ 0, 0, 0 };
}

/* The one rule for device, link, task and experiment names, from a model
 * or from JSON: 1 to XIR_NAME_MAX letters, digits, '-', '_' and '.', not
 * starting with '-' or '.'. Names become parts of namespace, file and
 * interface-alias names and are printed on terminals, so nothing else. */
#define XIR_NAME_MAX 63
#define XIR_NAME_RULE "use letters, digits, '-', '_' and '.', at most 63 characters, not starting with '-' or '.'"

/* 0 when s[0..len) follows the name rule; otherwise -EINVAL, with why
 * (cap bytes; may be NULL) saying what breaks it: "it is empty", "it is
 * 70 characters long", "it starts with '.'", "'/' is not allowed". */
int xir_name_check(const char *s, size_t len, char *why, size_t cap);

/* Returns NULL when out of memory. */
struct xir *xir_new(const char *name);
void xir_free(struct xir *x);
int xir_set_name(struct xir *x, const char *name);

/* Append a node. Names need not be unique here (the checks report
 * duplicates); xir_find_node returns the first node with a name. */
int xir_add_node(struct xir *x, const char *name, struct src_loc loc, uint32_t *idx);
bool xir_find_node(const struct xir *x, const char *name, uint32_t *idx);

/* Append a link; name may be NULL to have xir_finish choose one. */
int xir_add_link(struct xir *x, const char *name, struct src_loc loc, uint32_t *idx);
int xir_link_add_endpoint(struct xir *x, uint32_t link, uint32_t node, struct src_loc loc);
/* The endpoint of link on node, or NULL if node is not on that link. */
struct xir_endpoint *xir_link_endpoint(struct xir *x, uint32_t link, uint32_t node);

int xir_add_task(struct xir *x, const char *name, int64_t timeout_ns, struct src_loc loc,
		 uint32_t *idx);
int xir_task_add_command(struct xir *x, uint32_t task, uint32_t node, const char *cmd,
			 bool background, const char *expect, struct src_loc loc);
/* Append step c to task: the task takes c's strings and constraint set
 * (freed here when it fails). Returns 0 or -ENOMEM. */
int xir_task_add_step(struct xir *x, uint32_t task, struct xir_command *c);
/* Append file(node, path, text). Returns 0 or -ENOMEM. */
int xir_add_file(struct xir *x, uint32_t node, const char *path, const char *text,
		 struct src_loc loc);
/* The next placeholder of a file's text from *pos on: "{{NAME}}" (NAME
 * up to XIR_PLACEHOLDER_MAX letters, digits, '_' and '.'). Returns true
 * with *at its offset, *len its length with the braces and name/nlen its
 * NAME, *pos past it; false when there is none. */
#define XIR_PLACEHOLDER_MAX 40
bool xir_file_next(const char *text, size_t *pos, size_t *at, size_t *len, const char **name,
		   size_t *nlen);
/* What a placeholder of a file's text stands for: {{node}} the node's
 * name, {{ip.ethN}} the address of its interface ethN, {{cidr.ethN}} the
 * same with its prefix length (10.0.0.1/24). */
enum xir_ph { XPH_NODE, XPH_IP, XPH_CIDR };
#define XIR_PLACEHOLDERS "{{node}}, {{ip.ethN}}, {{cidr.ethN}}"
/* Parse placeholder name[0..nlen). Returns 0 with *kind and *ifidx (N of
 * ethN), or -EINVAL. */
int xir_placeholder_parse(const char *name, size_t nlen, enum xir_ph *kind, unsigned *ifidx);
/* Add measurement name (regex re) to command cmd of task. 0 or -ENOMEM. */
int xir_command_add_measure(struct xir *x, uint32_t task, size_t cmd, const char *name,
			    const char *re);

/* Add a constraint; the set takes ownership of value's string. */
int xir_cset_add(struct xir_cset *cs, const struct xir_prop *prop, enum xir_op op,
		 struct xir_value value, struct src_loc loc);
/* Free cs's constraints (cs itself is the caller's). */
void xir_cset_free(struct xir_cset *cs);
/* The first constraint on prop in cs, or NULL. */
const struct xir_constraint *xir_cset_find(const struct xir_cset *cs, const struct xir_prop *prop);

/* Give every unnamed link a name: "a-b" for two endpoints, "lanN" otherwise,
 * suffixed with ".2", ".3"... where that name is taken. */
int xir_finish(struct xir *x);

void xir_value_free(struct xir_value *v);
int xir_value_copy(struct xir_value *dst, const struct xir_value *src);
bool xir_value_equal(const struct xir_value *a, const struct xir_value *b);

const char *xir_op_str(enum xir_op op);
/* Parse "==", "!=", ... Returns 0 or -EINVAL. */
int xir_op_parse(const char *s, enum xir_op *op);

/* True when the link has any property that makes it emulated. */
bool xir_link_is_emulated(const struct xir *x, const struct xir_link *l);
/* True for a constraint only a VM can meet (kernel, image, dilation, a
 * non-x86_64 arch, a QEMU NIC model); virt itself is not counted. */
bool xir_constraint_needs_vm(const struct xir_constraint *c);
/* True when the node needs a VM: virt == true, or a constraint only a VM
 * can meet (kernel, image, arch, dilation, a QEMU NIC model on an endpoint). */
bool xir_node_wants_vm(const struct xir *x, uint32_t node);
/* The same for every node at once, in one pass: *out is an array of nnodes
 * flags the caller frees. Returns 0 or -ENOMEM. */
int xir_vm_nodes(const struct xir *x, bool **out);

#endif
