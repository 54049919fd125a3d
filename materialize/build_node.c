/* build_node: the node kinds. A container is an init process in
 * namespaces of its own (noderun.h) whose network namespace is bound under
 * its name, whose interfaces are veth ends and which is configured from
 * the host over netlink; a VM has no namespace: its NICs are taps in the
 * experiment's substrate namespace, QEMU is started by the supervisor
 * (there too) and the guest configures itself from its initrd. */
#include "build_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"
#include "noderun.h"
#include "ns.h"
#include "proc.h"
#include "util.h"

struct tap_job {
	const char *name;
	bool persist, vnet_hdr;
	int fd;
};

/* Open (or create) the tap in the calling thread's namespace. */
static int tap_open_here(void *arg)
{
	struct tap_job *j = arg;
	/* creating: IFF_TUN_EXCL fails (EBUSY) on a tap that exists, which
	 * TUNSETIFF would otherwise attach to and make ours */
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | (j->persist ? IFF_TUN_EXCL : 0) |
					  (j->vnet_hdr ? IFF_VNET_HDR : 0) };
	int fd, r;

	if (strlen(j->name) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	strcpy(ifr.ifr_name, j->name);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) || (j->persist && ioctl(fd, TUNSETPERSIST, 1))) {
		r = -errno;
		close(fd);
		return r;
	}
	j->fd = fd;
	return 0;
}

/* See build.h. A tap belongs to the namespace /dev/net/tun was opened in. */
int build_tap_open(const char *name, bool persist, bool vnet_hdr, int ns_fd)
{
	struct tap_job j = { .name = name, .persist = persist, .vnet_hdr = vnet_hdr, .fd = -1 };
	int r = ns_fd < 0 ? tap_open_here(&j) : ns_run_in(ns_fd, tap_open_here, &j);

	if (r && j.fd >= 0)
		close(j.fd); /* opened, but the thread could not come back: fatal */
	return r ? r : j.fd;
}

/* Whether node i has limits to enforce (rule 9 of realize). */
static bool build_node_limited(const struct build_ctx *c, uint32_t i)
{
	const struct rz_node *n = &c->rz->nodes[i];

	return c->cg.n && (n->cpu_milli || n->mem_limit) && realize_node_here(c->rz, i);
}

int build_limits_plan(struct build_ctx *c)
{
	struct cg_host h;
	uint32_t i;
	size_t k;
	int r = 0;

	for (i = 0; i < c->x->nnodes; i++)
		if ((c->rz->nodes[i].cpu_milli || c->rz->nodes[i].mem_limit) &&
		    realize_node_here(c->rz, i))
			break;
	if (i == c->x->nnodes)
		return 0;
	r = cg_detect("/proc/self/mountinfo", "/proc/self/cgroup", &h);
	if (!r)
		r = cg_exp_of(&h, c->id, &c->cg);
	if (r) {
		c->cg.n = 0;
		build_fail(c, r == -ENOTSUP ? "this host has no cgroup cpu and memory controllers"
					    : strerror(-r),
			   "cannot enforce the limits of device '%s'", c->x->nodes[i].name);
		return r;
	}
	for (k = 0; k < c->cg.n && !r; k++) {
		if (strlen(c->cg.d[k].path) >= sizeof(((struct db_obj *)0)->name))
			r = -ENAMETOOLONG;
		else
			r = build_journal(c, DB_CGROUP, c->cg.d[k].path, NULL);
	}
	if (r)
		build_fail(c, strerror(-r), "cannot journal the cgroup %s", c->cg.d[0].path);
	return r;
}

/* The cgroup limits of realized node n (the i-th): its bandwidth and
 * memory, and its cores when it asks to be pinned. 0 or -errno. */
static int node_limits(const struct rz_node *n, uint32_t i, struct cg_limits *l)
{
	*l = (struct cg_limits){ .cpu_milli = n->cpu_milli, .memory = n->mem_limit };
	if (!n->cpuset || !n->cpu_milli)
		return 0;
	return cg_pick_cpus((unsigned)((n->cpu_milli + 999) / 1000), i, l->cpus, sizeof(l->cpus));
}

int build_limits_create(struct build_ctx *c)
{
	char err[UTIL_ERR_LEN];
	struct cg_limits l;
	uint32_t i;
	size_t k;
	int r;

	if (!c->cg.n)
		return 0;
	r = cg_exp_create(&c->cg, err, sizeof(err));
	/* the one that was there is not ours; those made before it are */
	for (k = 0; r == -EEXIST && k < c->cg.n; k++)
		if (strstr(err, c->cg.d[k].path))
			build_not_ours(c, DB_CGROUP, c->cg.d[k].path);
	if (r) {
		build_fail(c, err, "cannot create the experiment's cgroup");
		return r;
	}
	for (i = 0; i < c->x->nnodes && !r; i++) {
		if (!build_node_limited(c, i))
			continue;
		r = node_limits(&c->rz->nodes[i], i, &l);
		if (!r)
			r = cg_node_create(&c->cg, c->x->nodes[i].name, &l, err, sizeof(err));
		else
			util_fmt(err, sizeof(err), "cannot pick its cores: %s", strerror(-r));
		if (r)
			build_fail(c, err, "cannot set the limits of device '%s'", c->x->nodes[i].name);
	}
	return r;
}

static bool node_has_v6(const struct rz_node *n)
{
	size_t i;

	for (i = 0; i < n->nifs; i++)
		if (n->ifs[i].v6.family)
			return true;
	return false;
}

/* A container: its init and namespaces (noderun_spawn, which sets its
 * forwarding too), bound under its name for `ip netns`, and its network
 * namespace held for the build. */
static int container_create(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	const char *node = c->x->nodes[t->node].name;
	const struct rz_node *rn = &c->rz->nodes[t->node];
	char name[128], err[UTIL_ERR_LEN];
	struct noderun_pending pend;
	struct noderun_spec s;
	pid_t init;
	int r, fd;

	(void)worker;
	build_netns_name(c->id, node, name, sizeof(name));
	s = (struct noderun_spec){ .init_path = c->init_path, .factory = c->factory.sock,
				   .id = c->id, .name = name,
				   .hostname = node, .privileged = rn->privileged,
				   .forwarding = rn->forwarding, .ipv6 = node_has_v6(rn),
				   .limited = build_node_limited(c, t->node),
				   .priv = rn->priv, .npriv = rn->npriv,
				   .mnt_tmpl = c->mnt_tmpl[rn->privileged], .log_fd = c->log_fd };
	r = noderun_spawn(&s, &init, &pend, err, sizeof(err));
	if (r) {
		build_fail(c, err, "cannot create device '%s' (%s)", node, name);
		return r;
	}
	c->init[t->node] = (struct build_init){ .pid = init, .start = proc_start_time(init) };
	/* into its limits before anything of the user's runs: the init only
	 * reaps until a command enters (and joins its cgroups, cg_join) */
	r = build_node_limited(c, t->node) ? cg_node_attach(&c->cg, node, init) : 0;
	if (r) {
		noderun_settle(&pend, false);
		build_fail(c, strerror(-r), "cannot move device '%s' into its cgroup", node);
		return r;
	}
	r = netns_bind(name, init);
	/* bound, teardown finds the init by its namespace even if vtb up
	 * dies before the init is journaled; not bound, it goes now */
	noderun_settle(&pend, r == 0);
	if (r == -EEXIST)
		build_not_ours(c, DB_NETNS, name);
	if (r) {
		build_fail(c, strerror(-r), "cannot bind the namespace of device '%s' (%s)", node,
			  name);
		return r;
	}
	fd = netns_open(name);
	if (fd < 0) {
		build_fail(c, strerror(-fd), "cannot open the namespace of device '%s' (%s)", node,
			  name);
		return fd;
	}
	c->ns_fd[t->node] = fd;
	return 0;
}

/* The emulator reads the frames a node sends from the root end and
 * writes them to the other ends as they are: checksums must be complete
 * when they leave the node, so the node end computes them itself (no
 * checksum offload, and without it no TSO: the stack segments in software
 * and every frame is at most MTU-sized). */
static int no_offload(void *arg)
{
	struct ethtool_value v = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr = { 0 };
	int fd, r = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", (const char *)arg);
	ifr.ifr_data = (void *)&v;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		r = -errno;
	close(fd);
	return r;
}

/* A container's endpoint with a port: a veth whose substrate end (made in
 * the socket's namespace) is a port of a direct LAN (switched once all of
 * them exist: build_link.c), of the link emulator (the supervisor opens
 * it; the node end then computes its checksums itself), of a shortbridge
 * to a VM, or of a dispersed link's bridge, which it joins by name. The
 * node end comes up with the node's addresses (container_config). */
static int container_attach(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	uint32_t node = c->x->links[t->link].ep[t->ep].node;
	const struct rz_iface *ifc = build_ep_iface(c, t->link, t->ep);
	unsigned mtu = c->rz->links[t->link].mtu;
	struct nl_link_opts host = { .mtu = mtu, .up = true, .group = c->rz->group };
	struct nl_link_opts node_o = { .mtu = mtu, .mac = ifc->mac };
	struct nl_err e = { 0 };
	struct nl_sock *s;
	const struct rz_link *rl = &c->rz->links[t->link];
	const char *port = ifc->port_name;
	char ifname[16];
	int r;

	s = build_root_sock(c, worker, &r);
	if (s)
		r = nl_veth_create(s, port, -1, &host, ifc->name, c->ns_fd[node], &node_o, &e);
	/* the node's end is new in a new namespace: an existing name is the port's */
	if (r == -EEXIST)
		build_not_ours(c, DB_LINK, port);
	if (!r && rl->bridge[0]) /* a dispersed link's */
		r = nl_link_set_master(s, port, rl->bridge, &e);
	if (r) {
		build_fail(c, s ? e.msg : strerror(-r),
			  "cannot connect device '%s' to link '%s' (veth %s, %s)",
			  c->x->nodes[node].name, build_link_label(c, t->link), port, ifc->name);
		return r;
	}
	if (rl->cls == RZ_LC_EMULATED) {
		snprintf(ifname, sizeof(ifname), "%s", ifc->name);
		r = ns_run_in(c->ns_fd[node], no_offload, ifname);
		if (r)
			build_fail(c, strerror(-r),
				  "cannot turn checksum offload off on %s in device '%s'", ifc->name,
				  c->x->nodes[node].name);
	}
	return r;
}

/* A VM's endpoint: a persistent tap in the substrate, named like a
 * port; the supervisor opens it for QEMU. On a direct LAN it is switched
 * with the LAN's other ports, on a dispersed link it joins the bridge; on
 * an emulated link it is the emulator's port; on a direct point-to-point
 * link a redirect joins it to the other end (build_link_short). */
static int vm_attach(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	uint32_t node = c->x->links[t->link].ep[t->ep].node;
	const struct rz_link *rl = &c->rz->links[t->link];
	struct nl_link_opts o = { .mtu = rl->mtu, .up = true, .group = c->rz->group };
	const char *port = build_ep_iface(c, t->link, t->ep)->port_name;
	struct nl_err e = { 0 };
	struct nl_sock *s;
	int r, fd;

	fd = build_tap_open(port, true, false, c->sub_fd);
	if (fd == -EBUSY)
		build_not_ours(c, DB_LINK, port);
	if (fd < 0) {
		build_fail(c, strerror(-fd), "cannot create the tap %s of device '%s' on link '%s'",
			  port, c->x->nodes[node].name, build_link_label(c, t->link));
		return fd;
	}
	close(fd);
	s = build_root_sock(c, worker, &r);
	if (s)
		r = nl_link_set(s, port, &o, &e);
	if (!r && rl->bridge[0]) /* a dispersed link's */
		r = nl_link_set_master(s, port, rl->bridge, &e);
	if (r)
		build_fail(c, s ? e.msg : strerror(-r),
			  "cannot set up the tap %s of device '%s' on link '%s'", port,
			  c->x->nodes[node].name, build_link_label(c, t->link));
	return r;
}

/* Queue node n's interfaces up in the batch on s: those of its links
 * realized here (a veth's ends and ports are made down: bringing a peer up
 * in its creating request fails, see nl_veth_create). Returns how many. */
static size_t config_links_up(struct build_ctx *c, const struct rz_node *n, struct nl_sock *s,
			      struct nl_err *e)
{
	const struct nl_link_opts up = { .up = true };
	size_t i, nreq = 0;

	for (i = 0; i < n->nifs; i++)
		if (realize_link_here(c->rz, n->ifs[i].link)) {
			nl_link_set(s, n->ifs[i].name, &up, e);
			nreq++;
		}
	return nreq;
}

/* The node's interfaces up, then its addresses and routes, in one netlink
 * batch. */
static int container_config(struct build_ctx *c, unsigned worker, const struct btask *t)
{
	const struct rz_node *n = &c->rz->nodes[t->node];
	const char *node = c->x->nodes[t->node].name;
	struct nl_err e = { 0 };
	struct nl_sock *s = NULL;
	size_t i, nup, nreq;
	int r;

	(void)worker;
	r = nl_open(&s, c->ns_fd[t->node]);
	if (r) {
		build_fail(c, strerror(-r), "cannot open netlink in device '%s'", node);
		return r;
	}
	nl_batch_begin(s);
	nup = config_links_up(c, n, s, &e);
	nreq = nup;
	for (i = 0; i < n->nifs; i++) {
		if (n->ifs[i].v4.family) {
			nl_addr_add(s, n->ifs[i].name, &n->ifs[i].v4, &e);
			nreq++;
		}
		if (n->ifs[i].v6.family) {
			nl_addr_add(s, n->ifs[i].name, &n->ifs[i].v6, &e);
			nreq++;
		}
	}
	for (i = 0; i < n->nroutes; i++)
		nl_route_add(s, &n->routes[i].dst, &n->routes[i].via, &e);
	r = nl_batch_flush(s, &e);
	if (r) {
		char dst[64];

		if (e.index < nup)
			build_fail(c, e.msg, "cannot bring up the interfaces of device '%s'", node);
		else if (e.index < nreq)
			build_fail(c, e.msg, "cannot add an address in device '%s'", node);
		else
			build_fail(c, e.msg, "cannot add the route to %s in device '%s'",
				  addr_format(&n->routes[e.index - nreq].dst, dst, sizeof(dst)),
				  node);
	}
	nl_close(s);
	return r;
}

const struct build_node_kind build_container = {
	.name = "container",
	.netns = true,
	.create = container_create,
	.attach = container_attach,
	.config = container_config,
};

const struct build_node_kind build_vm = {
	.name = "vm",
	.attach = vm_attach,
};

const struct build_node_kind *build_node_kind_of(const struct build_ctx *c, uint32_t node)
{
	return c->rz->nodes[node].kind == RZ_VM ? &build_vm : &build_container;
}
