/* rz_limits: rule 9, the limits each node is held to (docs/limits.md).
 *
 * - cores == n is a CPU bandwidth of n cores (rz_node.cpu_milli = 1000 n);
 *   cpufreq == f alone is one core's; with cpufreq the bandwidth is scaled
 *   by f / the host's frequency (rz_host.cpu_hz): cpufreq == ghz(1.1) on a
 *   2.2 GHz host gives half a core per core. A frequency above the host's
 *   is an error naming the device and both values. cpufreq takes its value
 *   from == (or >=, >), else from <= or < (a limit).
 * - memory == m is a hard limit of m bytes with swap off (mem_limit).
 * - cpuset == true pins the node to ceil(bandwidth) cores; without it the
 *   node runs on any core, only its bandwidth is limited.
 * - A VM's QEMU is held to its vCPUs' bandwidth plus RZ_VM_CPU_OVERHEAD
 *   (when cores or cpufreq is asked) and to its guest memory plus
 *   RZ_VM_MEM_OVERHEAD (when memory is asked).
 * A node without cores, cpufreq and memory has no limits (no cgroup). */
#include "rz_int.h"
#include "xir_fmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MILLI 1000ULL

/* The frequency asked of node i (Hz), 0 when none; *why its constraint. */
static uint64_t node_cpufreq(const struct xir_cset *cs, const struct xir_constraint **why)
{
	struct ibound b;

	rz_ibound_collect(cs, "cpufreq", &b);
	*why = b.lo_c ? b.lo_c : b.first;
	if (!b.any)
		return 0;
	if (b.lo_set && b.lo > 0)
		return (uint64_t)b.lo;
	return b.hi_set && b.hi > 0 ? (uint64_t)b.hi : 0;
}

/* Whether cpuset == true (or != false) is asked. */
static bool node_cpuset(const struct xir_cset *cs)
{
	bool on = false;
	size_t k;

	for (k = 0; k < cs->n; k++)
		if (rz_prop_is(&cs->v[k], "cpuset") && cs->v[k].value.type == XV_BOOL)
			on = cs->v[k].op == XIR_EQ ? cs->v[k].value.b : !cs->v[k].value.b;
	return on;
}

uint64_t realize_cpu_milli(uint64_t cores, uint64_t freq, uint64_t host_hz, bool vm)
{
	long double v = (long double)cores * MILLI;

	if (freq && host_hz)
		v = v * (long double)freq / (long double)host_hz;
	return (v < 1 ? 1 : (uint64_t)(v + 0.5L)) + (vm ? RZ_VM_CPU_OVERHEAD : 0);
}

/* cpufreq above the host's: an error naming both. */
static void freq_error(struct rz_ctx *c, size_t i, const struct xir_constraint *why,
		       uint64_t f)
{
	char name[XIR_NAME_BUF], k[XIR_CONS_BUF];
	uint64_t h = c->host->cpu_hz;

	if (!h)
		diag_error(c->d, rz_pick_loc(why->loc, c->x->nodes[i].loc),
			   "set VTB_HOST_CPUFREQ (e.g. 2.2ghz) to the host CPU's frequency",
			   "device '%s': %s: this host's CPU frequency is unknown",
			   xir_fmt_node(c->x, (uint32_t)i, name), xir_fmt_cons(k, why));
	else
		diag_error(c->d, rz_pick_loc(why->loc, c->x->nodes[i].loc),
			   "ask for at most the host's frequency (VTB_HOST_CPUFREQ overrides "
			   "what is read from the system)",
			   "device '%s': %s is above this host's CPU frequency (%.3f GHz, asked "
			   "%.3f GHz)",
			   xir_fmt_node(c->x, (uint32_t)i, name), xir_fmt_cons(k, why), h / 1e9,
			   f / 1e9);
}

void realize_limits(struct rz_ctx *c)
{
	const struct xir_constraint *why = NULL;
	size_t i;

	for (i = 0; i < c->x->nnodes; i++) {
		const struct xir_cset *cs = &c->x->nodes[i].cons;
		struct rz_node *n = &c->r->nodes[i];
		uint64_t f = node_cpufreq(cs, &why), cores;

		n->cpufreq = f;
		n->cpuset = node_cpuset(cs);
		if (f && (!c->host->cpu_hz || f > c->host->cpu_hz)) {
			freq_error(c, i, why, f);
			continue;
		}
		cores = n->kind == RZ_VM ? n->vm_cores : (n->cores ? n->cores : 1);
		if (n->cores || f)
			n->cpu_milli = realize_cpu_milli(cores, f, c->host->cpu_hz, n->kind == RZ_VM);
		if (n->memory)
			n->mem_limit = n->kind == RZ_VM ? (n->vm_memory_mib << 20) + RZ_VM_MEM_OVERHEAD
							: n->memory;
	}
}
