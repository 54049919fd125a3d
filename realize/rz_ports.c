/* rz_ports: rule 7 of realization (see realize.c): each link's class and
 * the port map, and the names of the root-side objects. */
#include "rz_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The class of link li: a VM on a direct point-to-point link makes it a
 * shortbridge, since a tap cannot be one end of a veth. */
static enum rz_link_class link_class(const struct realization *r, size_t li)
{
	const struct xir_link *l = &r->x->links[li];
	size_t j;

	if (r->links[li].emulated)
		return RZ_LC_EMULATED;
	if (realize_link_dispersed(r, li))
		return RZ_LC_DISPERSED;
	if (r->links[li].kind == RZ_LAN)
		return RZ_LC_SWITCH;
	for (j = 0; j < l->nep; j++)
		if (r->nodes[l->ep[j].node].kind == RZ_VM)
			return RZ_LC_SHORT;
	return RZ_LC_VETH;
}

void realize_ports(struct realization *r)
{
	uint32_t port = 0;
	size_t i, j;

	for (i = 0; i < r->x->nlinks; i++) {
		struct rz_link *rl = &r->links[i];

		rl->cls = link_class(r, i);
		rl->first_port = rl->cls == RZ_LC_VETH ? RZ_NO_PORT : port;
		for (j = 0; j < r->x->links[i].nep; j++)
			rz_ep_iface(r, i, j)->port = rl->cls == RZ_LC_VETH ? RZ_NO_PORT : port++;
	}
	r->nports = port;
}

/* base 36, so an index fits in the 15 bytes of an interface name */
static void b36(unsigned long v, char *buf, size_t len)
{
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
		v /= 36;
	} while (v && n < sizeof(tmp));
	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = tmp[n - 1 - i];
	buf[i] = '\0';
}

/* "vtb" id kind index into buf (RZ_NAME_LEN): 0 or -ENAMETOOLONG. */
static int root_name(const char *id, char kind, uint32_t n, char *buf)
{
	char idx[16];
	int w;

	b36(n, idx, sizeof(idx));
	w = snprintf(buf, RZ_NAME_LEN, "vtb%s%c%s", id, kind, idx);
	return w < 0 || w >= RZ_NAME_LEN ? -ENAMETOOLONG : 0;
}

/* "vt" and the 16-bit id: teardown deletes the group with one request. */
uint32_t realize_group_of(const char *id)
{
	return 0x76740000u | ((uint32_t)strtoul(id, NULL, 16) & 0xffff);
}

int realize_name(struct realization *r, const char *id)
{
	size_t i, j;
	int e = 0;

	if (strlen(id) >= sizeof(r->id))
		return -ENAMETOOLONG;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->group = realize_group_of(id);
	for (i = 0; i < r->x->nlinks && !e; i++) {
		/* a direct LAN here has no bridge: its ports are switched by
		 * tc programs (materialize/lanswitch.h) */
		if (r->links[i].cls == RZ_LC_DISPERSED)
			e = root_name(id, 'b', (uint32_t)i, r->links[i].bridge);
		if (!e && (r->links[i].cls == RZ_LC_DISPERSED || realize_link_lan_spread(r, i)))
			e = root_name(id, 'x', (uint32_t)i, r->links[i].vtep);
		for (j = 0; j < r->x->links[i].nep && !e; j++) {
			struct rz_iface *f = rz_ep_iface(r, i, j);

			if (f->port != RZ_NO_PORT)
				e = root_name(id, 'p', f->port, f->port_name);
			/* emulated and dispersed: the emulator's port of the
			 * remote endpoint is this host's VXLAN device */
			if (!e && r->links[i].cls == RZ_LC_EMULATED &&
			    realize_link_dispersed(r, i) && !realize_link_lan_spread(r, i) &&
			    !realize_ep_here(r, i, j))
				snprintf(r->links[i].vtep, RZ_NAME_LEN, "%s", f->port_name);
		}
	}
	return e;
}

const struct rz_iface *realize_ep_iface(const struct realization *r, size_t link, size_t j)
{
	return rz_ep_iface(r, link, j);
}

const char *realize_class_name(enum rz_link_class c)
{
	static const char *const names[RZ_LC_COUNT] = {
		[RZ_LC_VETH] = "veth",
		[RZ_LC_SWITCH] = "switch",
		[RZ_LC_EMULATED] = "emulated",
		[RZ_LC_SHORT] = "shortbridge",
		[RZ_LC_DISPERSED] = "dispersed",
	};

	return (unsigned)c < RZ_LC_COUNT ? names[c] : "?";
}
