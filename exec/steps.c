/* steps: the host side's task steps and what --repeat puts back (steps.h). */
#include "steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkside.h"
#include "linkstate.h"
#include "nodeop.h"
#include "sweep.h"
#include "util.h"
#include "xir_fmt.h"

/* link_down or link_up c: every endpoint's side, as vtb link down/up
 * without --from. */
static int steps_link_state(const struct xir *x, const struct realization *rz, size_t li, bool up,
			    char *what, size_t whatlen, char *err, size_t errlen)
{
	int r = linkstate_set(rz, li, -1, up, err, errlen);

	if (r >= 0)
		util_fmt(what, whatlen, "link '%s' %s (%d interface%s)", x->links[li].name,
			 up ? "restored" : "cut", r, r == 1 ? "" : "s");
	return r < 0 ? r : 0;
}

/* node_stop or node_start of node ni, as vtb node stop/start does it. */
static int steps_node(struct db *db, const struct db_exp *e, const struct xir *x,
		      const struct realization *rz, uint32_t ni, enum nodeop_verb v, char *what,
		      size_t whatlen, char *err, size_t errlen)
{
	struct db_obj *rows = NULL;
	size_t nrows = 0;
	int r = db_journal_list(db, e->id, &rows, &nrows);

	if (r) {
		util_fmt(err, errlen, "cannot read the journal: %s", strerror(-r));
		return r;
	}
	r = nodeop_run(db, e, rz, rows, nrows, ni, v, err, errlen);
	free(rows);
	if (r >= 0)
		util_fmt(what, whatlen, "device '%s' %s", x->nodes[ni].name,
			 r ? (v == NODEOP_STOP ? "already stopped" : "not stopped")
			   : (v == NODEOP_STOP ? "stopped" : "started"));
	return r < 0 ? r : 0;
}

/* The endpoint a link_set of link li sets on this host: on a link between
 * hosts, each host sets the direction leaving its own endpoint (each
 * direction is emulated on its sending host, as vtb link set --from does
 * through the relay); NULL (every direction) on a link of one host. */
static const char *steps_set_from(const struct xir *x, const struct realization *rz, size_t li)
{
	size_t j;

	if (!rz->cluster || !realize_link_dispersed(rz, li))
		return NULL;
	for (j = 0; j < x->links[li].nep; j++)
		if (realize_ep_here(rz, li, j))
			return x->nodes[x->links[li].ep[j].node].name;
	return NULL;
}

int steps_do(struct db *db, const struct db_exp *e, const struct xir *x,
	     const struct realization *rz, const struct xir_command *c, char *what, size_t whatlen,
	     char *err, size_t errlen)
{
	int li = xir_step_on_link(c->step) ? linkside_find(x, c->link ? c->link : "") : 0;
	int r;

	if (li < 0) {
		util_fmt(err, errlen, "the experiment has no link '%s'", c->link ? c->link : "");
		return -ENOENT;
	}
	switch (c->step) {
	case XSTEP_LINK_SET:
		r = sweep_link_set_cset(e->id, c->link, steps_set_from(x, rz, (size_t)li), &c->set,
					 err, errlen);
		if (!r)
			util_fmt(what, whatlen, "link '%s' set", c->link);
		return r;
	case XSTEP_LINK_DOWN:
	case XSTEP_LINK_UP:
		return steps_link_state(x, rz, (size_t)li, c->step == XSTEP_LINK_UP, what, whatlen,
					err, errlen);
	case XSTEP_NODE_STOP:
	case XSTEP_NODE_START:
		if (c->node >= x->nnodes)
			return -EINVAL;
		return steps_node(db, e, x, rz, c->node,
				  c->step == XSTEP_NODE_STOP ? NODEOP_STOP : NODEOP_START, what,
				  whatlen, err, errlen);
	default:
		util_fmt(err, errlen, "%s is not a step of the host", xir_step_name(c->step));
		return -EINVAL;
	}
}

int steps_restore(struct db *db, const struct db_exp *e, const struct xir *x,
		  const struct realization *rz, size_t *nodes, size_t *links, char *err,
		  size_t errlen)
{
	char what[UTIL_ERR_LEN];
	size_t i;
	int r;

	*nodes = *links = 0;
	for (i = 0; i < x->nnodes; i++) {
		r = nodeop_is_stopped(e->id, x->nodes[i].name);
		if (r < 0) {
			util_fmt(err, errlen, "device '%s': cannot tell whether it is stopped: %s",
				 x->nodes[i].name, strerror(-r));
			return r;
		}
		if (!r)
			continue;
		r = steps_node(db, e, x, rz, (uint32_t)i, NODEOP_START, what, sizeof(what), err,
			       errlen);
		if (r)
			return r;
		(*nodes)++;
	}
	for (i = 0; i < x->nlinks; i++) {
		r = linkstate_is_down(rz, i);
		if (r < 0) {
			util_fmt(err, errlen, "link '%s': cannot read its state: %s", x->links[i].name,
				 strerror(-r));
			return r;
		}
		if (!r)
			continue;
		r = steps_link_state(x, rz, i, true, what, sizeof(what), err, errlen);
		if (r)
			return r;
		(*links)++;
	}
	return 0;
}

/* ns as seconds with three decimals, for sleep(1): "0.200". */
static void steps_secs(char *buf, size_t len, int64_t ns)
{
	snprintf(buf, len, "%lld.%03lld", (long long)(ns / 1000000000),
		 (long long)(ns % 1000000000 / 1000000));
}

char *steps_wait_script(const struct xir_command *c)
{
	struct util_buf b;
	char every[32], tmo[32];

	steps_secs(every, sizeof(every), c->every_ns);
	steps_secs(tmo, sizeof(tmo), c->timeout_ns);
	util_buf_init(&b);
	/* the clock in ms: date's %N where it has it, whole seconds where not */
	util_buf_puts(&b, "vtb_ms() { t=$(date +%s%N); case $t in *N) t=${t%N}000000000;; esac; "
			  "echo $((t / 1000000)); }; vtb_c=");
	util_buf_sh_quote(&b, c->cmd);
	util_buf_printf(&b, "; vtb_end=$(( $(vtb_ms) + %lld )); vtb_n=0; "
			    "while :; do vtb_n=$((vtb_n + 1)); "
			    "vtb_out=$(/bin/sh -c \"$vtb_c\" 2>&1 </dev/null); vtb_st=$?; "
			    "if [ $vtb_st = 0 ]; then printf '%%s\\n' \"$vtb_out\"; exit 0; fi; "
			    "if [ $(vtb_ms) -ge $vtb_end ]; then "
			    "printf 'wait_until: %%s did not succeed within %s s (%%d tries); "
			    "it exited %%d the last time, with this output:\\n%%s\\n' "
			    "\"'$vtb_c'\" $vtb_n $vtb_st \"$vtb_out\" >&2; exit 1; fi; "
			    "sleep %s; done",
			(long long)(c->timeout_ns / 1000000), tmo, every);
	return util_buf_take(&b);
}
