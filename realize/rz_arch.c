/* rz_arch: the guest architecture of each VM (rule 1): `arch == arm64`
 * (or aarch64) and `arch == riscv64` boot a guest of that architecture
 * under QEMU's TCG; without an arch constraint, or with `arch ==
 * x86_64`, the guest is the host's architecture. The rows are vm/arch.c's.
 * Each NIC of such a VM must be a model its guest can drive; the error
 * names the device, the link and the model. A Debian tree (image ==) is
 * of the host's architecture: not for another's guests. */
#include "rz_int.h"

#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "diag.h"
#include "xir_fmt.h"

/* The row asked for by cs (the last arch == on a row vtb has), or the
 * host's. */
static const struct vm_arch *cset_arch(const struct xir_cset *cs)
{
	const struct vm_arch *a = vm_arch_host(), *f;
	size_t k;

	for (k = 0; k < cs->n; k++)
		if (rz_prop_is(&cs->v[k], "arch") && cs->v[k].op == XIR_EQ &&
		    cs->v[k].value.type == XV_ENUM && (f = vm_arch_find(cs->v[k].value.s)))
			a = f;
	return a;
}

const char *rz_arch_refusal(const struct xir_constraint *k, char *why, size_t len)
{
	char list[128];

	if (k->op == XIR_EQ && k->value.type == XV_ENUM && vm_arch_find(k->value.s))
		return NULL;
	snprintf(why, len, "VMs are of one of these architectures, asked with arch == "
		 "NAME: %s", vm_arch_list(list, sizeof(list)));
	return why;
}

/* The NICs of VM node i: each one's model must be one its guest drives. */
static void node_nics(struct rz_ctx *c, size_t i, const struct vm_arch *a)
{
	const struct rz_node *n = &c->r->nodes[i];
	char name[XIR_NAME_BUF], label[XIR_LABEL_BUF], list[128];
	size_t f;

	for (f = 0; f < n->nifs; f++) {
		const struct rz_iface *ifc = &n->ifs[f];

		if (vm_arch_has_nic(a, ifc->nic))
			continue;
		diag_error(c->d, c->x->links[ifc->link].loc, "use one of its NIC models",
			   "%s, endpoint '%s': nic == %s: a %s VM cannot have it (QEMU's %s machine "
			   "takes it, but the guest's kernel has no driver for it); its NIC models: "
			   "%s",
			   xir_fmt_link(c->x, ifc->link, label), xir_fmt_node(c->x, (uint32_t)i, name),
			   ifc->nic, a->name, a->machine, vm_arch_nic_list(a, list, sizeof(list)));
	}
}

void realize_vm_arch(struct rz_ctx *c)
{
	size_t i;

	for (i = 0; i < c->x->nnodes; i++) {
		struct rz_node *n = &c->r->nodes[i];
		const struct vm_arch *a;

		if (n->kind != RZ_VM)
			continue;
		a = cset_arch(&c->x->nodes[i].cons);
		snprintf(n->vm_arch, sizeof(n->vm_arch), "%s", a->name);
		node_nics(c, i, a);
		if (n->image && !a->host_share) {
			char name[XIR_NAME_BUF];

			diag_error(c->d, c->x->nodes[i].loc, "drop the image or the arch",
				   "%s: image == '%s' is a tree of %s programs; a %s VM runs "
				   "busybox only", xir_fmt_node(c->x, (uint32_t)i, name), n->image,
				   vm_arch_host()->name, a->name);
		}
	}
}
