/* vms: the supervisor's VMs (see vms.h). */
#include "vms.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "build.h"
#include "cgroup.h"
#include "console.h"
#include "db.h"
#include "image.h"
#include "qemu.h"
#include "rootfs.h"
#include "status.h"
#include "proc.h"

enum vm_state { VM_BOOTING, VM_READY, VM_FAILED };

static const char *const state_names[] = { "booting", "ready", "failed" };

struct vm {
	struct sup_vms *owner;
	uint32_t node;
	const char *name;
	const struct vm_arch *arch; /* the guest's (vm/arch.h) */
	enum qemu_accel accel;      /* KVM only for the host's architecture */
	pid_t pid;
	enum vm_state state;
	char error[1024];
	double t_start, boot_s;
	struct con *con;
	int qmp;
	pthread_t thread;
	bool thread_started;
	bool paused; /* by vms_power (under the owner's mu) */
	pthread_mutex_t cmd_lock; /* one command (or attach) at a time */
	char con_path[108], qmp_path[108], log_path[108], initrd[108];
};

struct sup_vms {
	struct xir *x;
	struct realization *rz;
	struct vm *v;
	size_t n;
	enum qemu_accel accel;
	char accel_note[256];
	int boot_timeout_ms;
	pthread_mutex_t mu; /* the state fields of every vm, and holds */
	pthread_cond_t cv;  /* holds dropped, or a state changed */
	int holds;          /* client threads that may still use this */
	uint64_t version;   /* goes up on every change of a VM's state */
};

static void set_failed(struct sup_vms *s, struct vm *m, const char *fmt, const char *detail)
{
	pthread_mutex_lock(&s->mu);
	if (m->state != VM_FAILED) {
		m->state = VM_FAILED;
		snprintf(m->error, sizeof(m->error), fmt, detail);
		s->version++;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

/* Has QEMU gone (exited, or a guest panic)? Marks the VM failed. */
static void check_alive(struct sup_vms *s, struct vm *m)
{
	char st[64];
	int ws;

	if (m->pid > 0 && waitpid(m->pid, &ws, WNOHANG) == m->pid) {
		char why[64];

		m->pid = -m->pid; /* reaped: never signal that number again */
		if (WIFSIGNALED(ws))
			snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(ws));
		else
			snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(ws));
		set_failed(s, m, "QEMU exited (%s)", why);
		return;
	}
	if (m->qmp >= 0 && pthread_mutex_trylock(&m->cmd_lock) == 0) {
		int fd;

		pthread_mutex_lock(&s->mu);
		fd = m->qmp;
		pthread_mutex_unlock(&s->mu);
		if (fd >= 0 && !qemu_qmp_status(fd, st, sizeof(st)) &&
		    (!strcmp(st, "guest-panicked") || !strcmp(st, "internal-error") ||
		     !strcmp(st, "shutdown")))
			set_failed(s, m, "the guest stopped: %s", st);
		pthread_mutex_unlock(&m->cmd_lock);
	}
}

/* The boot of one VM: console, QMP, then the shell's answer. */
static void *boot_thread(void *arg)
{
	struct vm *m = arg;
	struct sup_vms *s = m->owner;
	char tail[800], echoed[100] = "", msg[sizeof(m->error)];
	unsigned pokes;
	int r, qmp;

	r = con_connect(m->con_path, VMS_SOCKET_WAIT_MS, &m->con);
	if (r) {
		set_failed(s, m, "cannot connect to the serial console: %s", strerror(-r));
		return NULL;
	}
	if (m->arch->console_hold)
		con_hold_pokes(m->con, "vtb-guest-ready", VMS_POKE_HOLD_MS);
	qmp = qemu_qmp_open(m->qmp_path, VMS_SOCKET_WAIT_MS);
	pthread_mutex_lock(&s->mu);
	m->qmp = qmp >= 0 ? qmp : -1;
	pthread_mutex_unlock(&s->mu);
	r = con_wait_ready(m->con, s->boot_timeout_ms);
	if (!r) {
		pthread_mutex_lock(&s->mu);
		if (m->state == VM_BOOTING) {
			m->state = VM_READY;
			m->boot_s = util_clock_s(CLOCK_MONOTONIC) - m->t_start;
			s->version++;
			pthread_cond_broadcast(&s->cv);
		}
		pthread_mutex_unlock(&s->mu);
		return NULL;
	}
	con_tail_guest(m->con, tail, sizeof(tail), &pokes);
	if (pokes)
		snprintf(echoed, sizeof(echoed),
			 " (%u lines of vtb's setup line and Ctrl-C, echoed by the guest's tty, left out)",
			 pokes);
	if (r == -ETIMEDOUT)
		snprintf(msg, sizeof(msg), "boot timed out after %d s; the console's last lines%s:\n%s",
			 s->boot_timeout_ms / 1000, echoed, tail);
	else
		snprintf(msg, sizeof(msg),
			 "the console closed while booting (QEMU died); its last lines%s:\n%s", echoed,
			 tail);
	set_failed(s, m, "%s", msg);
	return NULL;
}

/* The guest's configuration, from the realization. */
static int vm_conf(const struct sup_vms *s, uint32_t node, struct img_if *ifs,
		   struct img_route *routes, struct img_private *privs, struct img_vm_conf *conf)
{
	const struct rz_node *n = &s->rz->nodes[node];
	size_t i;

	memset(conf, 0, sizeof(*conf));
	snprintf(conf->hostname, sizeof(conf->hostname), "%s", s->x->nodes[node].name);
	for (i = 0; i < n->nifs; i++) {
		const struct rz_iface *f = &n->ifs[i];

		memset(&ifs[i], 0, sizeof(ifs[i]));
		snprintf(ifs[i].name, sizeof(ifs[i].name), "%s", f->name);
		memcpy(ifs[i].mac, f->mac, 6);
		if (f->v4.family)
			addr_format(&f->v4, ifs[i].v4, sizeof(ifs[i].v4));
		if (f->v6.family)
			addr_format(&f->v6, ifs[i].v6, sizeof(ifs[i].v6));
		ifs[i].mtu = s->rz->links[f->link].mtu;
	}
	for (i = 0; i < n->nroutes; i++) {
		if (n->routes[i].dst.plen == 0)
			snprintf(routes[i].dst, sizeof(routes[i].dst), "default");
		else
			addr_format(&n->routes[i].dst, routes[i].dst, sizeof(routes[i].dst));
		addr_format(&n->routes[i].via, routes[i].via, sizeof(routes[i].via));
		routes[i].via[strcspn(routes[i].via, "/")] = '\0'; /* a host address */
	}
	for (i = 0; i < n->npriv; i++)
		privs[i] = (struct img_private){ .path = n->priv[i].path, .seed = n->priv[i].seed };
	conf->privs = privs;
	conf->nprivs = n->npriv;
	conf->ifs = ifs;
	conf->nifs = n->nifs;
	conf->routes = routes;
	conf->nroutes = n->nroutes;
	conf->forwarding = n->forwarding;
	return 0;
}

/* The cgroup.procs of node's limits (docs/limits.md) into fds, *n of them
 * (0: the node has none). 0 or a negative errno. */
static int vm_cgroup_open(struct db *db, const char *id, const char *node, int *fds, size_t *n)
{
	struct db_obj *rows = NULL;
	struct cg_exp cg;
	size_t nrows = 0;
	int r;

	*n = 0;
	r = db_journal_list(db, id, &rows, &nrows);
	if (!r && !cg_exp_from_rows(rows, nrows, &cg)) {
		r = cg_node_procs_open(&cg, node, fds, n);
		if (r == -ENOENT)
			r = 0; /* this VM has no limits */
	}
	free(rows);
	return r;
}

/* The directory the guest mounts as its userland (docs/vms.md): the
 * host's /, or the Debian tree the model asked for (built by vtb up, so
 * found in the cache here). 0 or a negative errno with err. */
static int vm_share(const struct rz_node *n, char *share, size_t len, char *err, size_t errlen)
{
	struct rootfs_req q = { .image = n->image, .pkgs = n->pkgs, .npkgs = n->npkgs };

	if (!n->image) {
		snprintf(share, len, "/");
		return 0;
	}
	return rootfs_ensure(NULL, &q, NULL, NULL, share, len, err, errlen);
}

/* Start the QEMU of VM k: files journaled, taps opened, QEMU started (in
 * its limits) and journaled. */
static int start_one(struct sup_vms *s, struct db *db, const char *id, size_t k, char *err,
		     size_t errlen)
{
	struct vm *m = &s->v[k];
	const struct rz_node *n = &s->rz->nodes[m->node];
	struct img_if *ifs = calloc(n->nifs ? n->nifs : 1, sizeof(*ifs));
	struct img_route *routes = calloc(n->nroutes ? n->nroutes : 1, sizeof(*routes));
	struct qemu_nic *nics = calloc(n->nifs ? n->nifs : 1, sizeof(*nics));
	struct img_private *privs = calloc(n->npriv ? n->npriv : 1, sizeof(*privs));
	struct db_obj files[4] = { { .kind = DB_FILE }, { .kind = DB_FILE }, { .kind = DB_FILE },
				   { .kind = DB_FILE } };
	struct db_obj proc = { .kind = DB_PROCESS };
	struct img_vm_conf conf;
	struct img_paths image, *img = &image;
	struct qemu_spec spec;
	char qerr[512], share[512];
	int cg[CG_MAXH];
	size_t i, ncg = 0;
	int r = 0;

	if (!ifs || !routes || !nics || !privs) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n->nifs; i++)
		nics[i].tap_fd = -1;
	if (strlen(db_state_dir()) + strlen(id) + 32 > sizeof(m->con_path)) {
		snprintf(err, errlen, "the state directory's name is too long for QEMU's sockets");
		r = -ENAMETOOLONG;
		goto out;
	}
	snprintf(m->con_path, sizeof(m->con_path), "%s/%s.vm%zu.con", db_state_dir(), id, k);
	snprintf(m->qmp_path, sizeof(m->qmp_path), "%s/%s.vm%zu.qmp", db_state_dir(), id, k);
	snprintf(m->log_path, sizeof(m->log_path), "%s/%s.vm%zu.log", db_state_dir(), id, k);
	snprintf(m->initrd, sizeof(m->initrd), "%s/%s.vm%zu.initrd", db_state_dir(), id, k);
	memcpy(files[0].name, m->con_path, sizeof(m->con_path));
	memcpy(files[1].name, m->qmp_path, sizeof(m->qmp_path));
	memcpy(files[2].name, m->log_path, sizeof(m->log_path));
	memcpy(files[3].name, m->initrd, sizeof(m->initrd));
	r = db_journal_add(db, id, files, 4);
	if (r) {
		snprintf(err, errlen, "VM '%s': cannot write the journal: %s", m->name,
			 strerror(-r));
		goto out;
	}
	/* a cache hit: vtb up built every architecture's image beforehand */
	r = img_ensure_arch(NULL, m->arch, false, NULL, NULL, img, qerr, sizeof(qerr));
	if (r) {
		snprintf(err, errlen, "VM '%s': the %s guest image is missing and cannot be built: %s",
			 m->name, m->arch->name, qerr);
		goto out;
	}
	vm_conf(s, m->node, ifs, routes, privs, &conf);
	r = img_write_vm_initrd(img->initrd, &conf, m->initrd);
	if (r) {
		snprintf(err, errlen, "VM '%s': cannot write its initrd %s (with its private "
			 "directories' seeds): %s", m->name, m->initrd, strerror(-r));
		goto out;
	}
	r = vm_share(n, share, sizeof(share), qerr, sizeof(qerr));
	if (r) {
		snprintf(err, errlen, "VM '%s': its userland %s: %s", m->name, n->image, qerr);
		goto out;
	}
	for (i = 0; i < n->nifs; i++) {
		const struct rz_iface *f = &n->ifs[i];
		const char *tap = f->port_name; /* a VM's port is its tap */

		nics[i].model = f->nic;
		memcpy(nics[i].mac, f->mac, 6);
		/* a virtio-net header on every tap: the link emulator cuts GSO
		 * frames into wire frames (docs/vms.md, "Offloads") */
		nics[i].tap_fd = build_tap_open(tap, false, true, -1); /* we are in the substrate */
		if (nics[i].tap_fd < 0) {
			r = nics[i].tap_fd;
			snprintf(err, errlen, "VM '%s': cannot open its tap %s: %s", m->name, tap,
				 strerror(-r));
			goto out;
		}
	}
	r = vm_cgroup_open(db, id, s->x->nodes[m->node].name, cg, &ncg);
	if (r) {
		snprintf(err, errlen, "VM '%s': cannot open its cgroup: %s", m->name, strerror(-r));
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	spec.cg_fds = cg;
	spec.ncg_fds = ncg;
	spec.name = m->name;
	spec.arch = m->arch;
	spec.kernel = img->kernel;
	spec.initrd = m->initrd;
	spec.cmdline = m->arch->cmdline;
	spec.cores = n->vm_cores;
	spec.memory_mib = n->vm_memory_mib;
	spec.accel = m->accel;
	spec.nics = nics;
	spec.nnics = n->nifs;
	spec.console_path = m->con_path;
	spec.qmp_path = m->qmp_path;
	spec.log_path = m->log_path;
	/* the host's userland, or the model's Debian tree, in the guest
	 * (docs/vms.md); another architecture's guest could run none of
	 * their programs */
	spec.share = m->arch->host_share ? share : NULL;
	spec.die_with_parent = true;
	m->t_start = util_clock_s(CLOCK_MONOTONIC);
	r = qemu_start(&spec, &m->pid, qerr, sizeof(qerr));
	if (r) {
		snprintf(err, errlen, "VM '%s': QEMU did not start: %s", m->name, qerr);
		goto out;
	}
	proc.pid = m->pid;
	proc.start = proc_start_time(m->pid);
	snprintf(proc.name, sizeof(proc.name), "qemu %s", m->name);
	r = db_journal_add(db, id, &proc, 1);
	if (r) {
		snprintf(err, errlen, "VM '%s': cannot journal QEMU: %s", m->name, strerror(-r));
		goto out;
	}
out:
	for (i = 0; i < ncg; i++)
		close(cg[i]);
	for (i = 0; nics && i < n->nifs; i++)
		if (nics[i].tap_fd >= 0)
			close(nics[i].tap_fd);
	free(ifs);
	free(routes);
	free(nics);
	free(privs);
	return r;
}

void vms_hold(struct sup_vms *s)
{
	pthread_mutex_lock(&s->mu);
	s->holds++;
	pthread_mutex_unlock(&s->mu);
}

void vms_release(struct sup_vms *s)
{
	pthread_mutex_lock(&s->mu);
	if (--s->holds == 0)
		pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void vms_stop(struct sup_vms *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		struct vm *m = &s->v[i];
		int fd;

		/* QEMU serves one QMP client at a time: ours goes first */
		pthread_mutex_lock(&s->mu);
		fd = m->qmp;
		m->qmp = -1;
		pthread_mutex_unlock(&s->mu);
		if (fd >= 0)
			close(fd);
		if (m->pid > 0)
			qemu_quit(m->qmp_path, m->pid, VMS_QUIT_MS);
	}
	/* commands in flight end with their console (-EPIPE); waiters of
	 * vms_wait wake to a new version and answer */
	pthread_mutex_lock(&s->mu);
	s->version++;
	pthread_cond_broadcast(&s->cv);
	while (s->holds > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < s->n; i++) {
		struct vm *m = &s->v[i];

		if (m->thread_started)
			pthread_join(m->thread, NULL);
		if (m->qmp >= 0)
			close(m->qmp); /* opened by a boot thread after the quit */
		con_close(m->con);
		pthread_mutex_destroy(&m->cmd_lock);
		unlink(m->con_path);
		unlink(m->qmp_path);
		unlink(m->initrd);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->v);
	realize_free(s->rz);
	xir_free(s->x);
	free(s);
}

int vms_start(const char *id, struct sup_vms **out, char *err, size_t errlen)
{
	struct sup_vms *s = calloc(1, sizeof(*s));
	struct db *db = NULL;
	const char *bt = getenv("VTB_VM_BOOT_TIMEOUT");
	char ierr[512];
	size_t i, k;
	int fell = 0, r;

	*out = NULL;
	err[0] = '\0';
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->boot_timeout_ms = bt && atoi(bt) > 0 ? atoi(bt) * 1000 : VMS_BOOT_TIMEOUT_MS;
	r = status_load_id(id, &s->x, &s->rz);
	if (r) {
		snprintf(err, errlen, "cannot load the experiment: %s", strerror(-r));
		goto out;
	}
	for (i = 0; i < s->x->nnodes; i++)
		s->n += s->rz->nodes[i].kind == RZ_VM && realize_node_here(s->rz, i);
	if (!s->n)
		goto out;
	s->v = calloc(s->n, sizeof(*s->v));
	if (!s->v) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0, k = 0; i < s->x->nnodes; i++) {
		if (s->rz->nodes[i].kind != RZ_VM || !realize_node_here(s->rz, i))
			continue; /* a fragment's remote VMs run on their hosts */
		s->v[k].owner = s;
		s->v[k].node = (uint32_t)i;
		s->v[k].name = s->x->nodes[i].name;
		s->v[k].arch = vm_arch_find(s->rz->nodes[i].vm_arch);
		if (!s->v[k].arch)
			s->v[k].arch = vm_arch_host();
		s->v[k].qmp = -1;
		pthread_mutex_init(&s->v[k].cmd_lock, NULL);
		k++;
	}
	s->accel = qemu_accel_auto(&fell, s->accel_note, sizeof(s->accel_note));
	for (k = 0; k < s->n; k++)
		s->v[k].accel = s->v[k].arch->kvm ? s->accel : QEMU_TCG;
	r = db_open(db_state_dir(), &db, ierr, sizeof(ierr));
	if (r)
		snprintf(err, errlen, "cannot open the state database: %s", ierr);
	for (k = 0; k < s->n && !r; k++) {
		r = start_one(s, db, id, k, err, errlen);
		if (!r) {
			r = -pthread_create(&s->v[k].thread, NULL, boot_thread, &s->v[k]);
			s->v[k].thread_started = !r;
			if (r)
				snprintf(err, errlen, "VM '%s': %s", s->v[k].name, strerror(-r));
		}
	}
out:
	db_close(db);
	if (r) {
		vms_stop(s);
		return r;
	}
	*out = s;
	return 0;
}

static struct vm *find_vm(struct sup_vms *s, const char *node)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].name, node))
			return &s->v[i];
	return NULL;
}

json_t *vms_json(struct sup_vms *s)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	json_object_set_new(o, "accel", json_string(s && s->accel == QEMU_KVM ? "kvm" : "tcg"));
	json_object_set_new(o, "accel_note", json_string(s ? s->accel_note : ""));
	for (i = 0; s && i < s->n; i++) {
		struct vm *m = &s->v[i];

		check_alive(s, m);
		pthread_mutex_lock(&s->mu);
		json_array_append_new(a, json_pack("{s:s,s:s,s:f,s:s}", "name", m->name, "state",
						   state_names[m->state], "boot_s", m->boot_s,
						   "error", m->error));
		pthread_mutex_unlock(&s->mu);
	}
	json_object_set_new(o, "vms", a);
	if (s) {
		pthread_mutex_lock(&s->mu);
		json_object_set_new(o, "version", json_integer((json_int_t)s->version));
		pthread_mutex_unlock(&s->mu);
	}
	return o;
}

uint64_t vms_wait(struct sup_vms *s, uint64_t since, int timeout_ms)
{
	struct timespec until;
	uint64_t v;

	clock_gettime(CLOCK_REALTIME, &until); /* the condition's clock */
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (s->version == since && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
		;
	v = s->version;
	pthread_mutex_unlock(&s->mu);
	return v;
}

void vms_annotate(struct sup_vms *s, json_t *status)
{
	json_t *nodes = json_object_get(status, "nodes");
	size_t i;

	for (i = 0; s && i < s->n; i++) {
		struct vm *m = &s->v[i];
		json_t *jn = json_array_get(nodes, m->node);

		if (!jn)
			continue;
		check_alive(s, m);
		pthread_mutex_lock(&s->mu);
		json_object_set_new(jn, "state", json_string(state_names[m->state]));
		json_object_set_new(jn, "stopped", json_boolean(m->paused));
		json_object_set_new(jn, "netns", json_null());
		json_object_set_new(jn, "vm",
				    json_pack("{s:s,s:s,s:s,s:f,s:i,s:s,s:i,s:I}", "accel",
					      m->accel == QEMU_KVM ? "kvm" : "tcg", "arch",
					      m->arch->name, "state",
					      state_names[m->state], "boot_s", m->boot_s, "pid",
					      m->pid > 0 ? (int)m->pid : 0, "error", m->error,
					      "cores", (int)s->rz->nodes[m->node].vm_cores,
					      "memory_mib",
					      (json_int_t)s->rz->nodes[m->node].vm_memory_mib));
		pthread_mutex_unlock(&s->mu);
	}
}

/* The VM named node, ready (and, unless paused_ok, not paused) for a
 * command, or why not. */
static int usable_vm(struct sup_vms *s, const char *node, bool paused_ok, struct vm **out,
		     char *err, size_t errlen)
{
	struct vm *m = find_vm(s, node);
	int r = 0;

	*out = m;
	if (!m) {
		snprintf(err, errlen, "'%s' is not a VM of this experiment", node);
		return -ENOENT;
	}
	check_alive(s, m);
	pthread_mutex_lock(&s->mu);
	if (m->state == VM_BOOTING) {
		snprintf(err, errlen, "VM '%s' is still booting", node);
		r = -EAGAIN;
	} else if (m->state == VM_FAILED) {
		snprintf(err, errlen, "VM '%s' failed: %s", node, m->error);
		r = -EHOSTDOWN;
	} else if (m->paused && !paused_ok) {
		snprintf(err, errlen, "VM '%s' is stopped (vtb node start)", node);
		r = -EAGAIN;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int usable(struct sup_vms *s, const char *node, struct vm **out, char *err, size_t errlen)
{
	return usable_vm(s, node, false, out, err, errlen);
}

/* How long QEMU may take to answer stop or cont: it acts between two
 * instructions of the guest, well under a second even under TCG. */
#define VMS_QMP_MS 5000

int vms_power(struct sup_vms *s, const char *node, const char *action, char *err, size_t errlen)
{
	bool run = action && !strcmp(action, "cont");
	json_t *ret = NULL;
	struct vm *m;
	int r, fd;

	if (!run && (!action || strcmp(action, "stop"))) {
		util_fmt(err, errlen, "vm_power: no action '%s' (stop, cont)", action ? action : "");
		return -EINVAL;
	}
	r = usable_vm(s, node, true, &m, err, errlen);
	if (r)
		return r;
	pthread_mutex_lock(&m->cmd_lock);
	pthread_mutex_lock(&s->mu);
	fd = m->paused == !run ? -2 : m->qmp;
	pthread_mutex_unlock(&s->mu);
	r = fd == -2 ? 1 : fd < 0 ? -ENOTCONN : qemu_qmp_cmd(fd, action, NULL, &ret, VMS_QMP_MS);
	if (!r) {
		pthread_mutex_lock(&s->mu);
		m->paused = !run;
		s->version++;
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&m->cmd_lock);
	json_decref(ret);
	if (r < 0)
		util_fmt(err, errlen, "QMP %s on VM '%s': %s", action, node, strerror(-r));
	return r;
}

int vms_check(struct sup_vms *s, const char *node, char *err, size_t errlen)
{
	struct vm *m;

	return usable(s, node, &m, err, errlen);
}

/* One use of a VM's console: an exec (cmd) or an attach (cmd NULL). */
struct con_use {
	const char *cmd;
	int timeout_ms, fd, *status;
	struct util_buf *out;
};

/* The key that leaves an attached console: Ctrl-] (as telnet's). */
#define VMS_DETACH_KEY 0x1d

/* Use node's console, one user at a time; a console that closes under us
 * means QEMU died: the VM is marked failed. Returns con_exec's or
 * con_attach's result, or usable's error with err. */
static int use_console(struct sup_vms *s, const char *node, const struct con_use *u, char *err,
		       size_t errlen)
{
	struct vm *m;
	int r;

	err[0] = '\0';
	r = usable(s, node, &m, err, errlen);
	if (r)
		return r;
	pthread_mutex_lock(&m->cmd_lock);
	r = u->cmd ? con_exec(m->con, u->cmd, u->timeout_ms, u->out, u->status)
		   : con_attach(m->con, u->fd, u->fd, VMS_DETACH_KEY);
	pthread_mutex_unlock(&m->cmd_lock);
	if (r == -EPIPE) {
		check_alive(s, m);
		set_failed(s, m, "%s", "the console closed (QEMU died)");
	}
	return r;
}

int vms_exec(struct sup_vms *s, const char *node, const char *cmd, int timeout_ms,
	     struct util_buf *out, int *status, char *err, size_t errlen)
{
	struct con_use u = { .cmd = cmd, .timeout_ms = timeout_ms, .out = out, .status = status };
	int r = use_console(s, node, &u, err, errlen);

	if (r == -EPIPE) {
		util_fmt(err, errlen, "VM '%s' died during the command", node);
		r = -EHOSTDOWN;
	} else if (r == -ETIMEDOUT) {
		util_fmt(err, errlen, "the command did not end within %d s (interrupted)",
			 timeout_ms / 1000);
	} else if (r == -EINVAL || r == -E2BIG) {
		util_fmt(err, errlen, "a command for a VM is one line of at most %d bytes",
			 CON_CMD_MAX);
	} else if (r && !err[0]) {
		util_fmt(err, errlen, "%s", strerror(-r));
	}
	return r;
}

int vms_attach(struct sup_vms *s, const char *node, int fd, char *err, size_t errlen)
{
	struct con_use u = { .fd = fd };

	return use_console(s, node, &u, err, errlen);
}
