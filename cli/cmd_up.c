/* vtb up: compile, realize and build an experiment, and leave its supervisor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "build.h"
#include "image.h"
#include "rootfs.h"
#include "cli.h"
#include "clup.h"
#include "compile.h"
#include "db.h"
#include "esc.h"
#include "realize.h"
#include "sup_log.h"
#include "supervisor.h"
#include "xir_fmt.h"
#include "xir_json.h"
#include "proc.h"

#define SUMMARY_MAX 40

/* How long the supervisor may take to open the link emulator's ports and
 * start it: an AF_PACKET ring per port, about a millisecond each, so a
 * thousand emulated ports fit with room for a loaded machine. */
#define UP_LINKS_START_MS 30000
/* How long the supervisor may take to start every QEMU (not to boot them:
 * that is waited for after): it may first build the guest image. */
#define UP_VMS_START_MS 60000

/* Without a terminal: a plain line at every quarter. */
static void progress_lines(void *arg, size_t done, size_t total)
{
	int *last = arg, q = total ? (int)(done * 4 / total) : 4;

	if (q == *last)
		return;
	*last = q;
	fprintf(stderr, "vtb: building: %zu of %zu tasks done\n", done, total);
}

/* A progress bar on a terminal. */
static void progress(void *arg, size_t done, size_t total)
{
	int *last = arg, pct = total ? (int)(done * 100 / total) : 100, i;
	char bar[41];

	if (pct == *last)
		return;
	*last = pct;
	for (i = 0; i < 40; i++)
		bar[i] = i < pct * 40 / 100 ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r  building [%s] %zu/%zu%s", bar, done, total, done == total ? "\n" : "");
	fflush(stderr);
}

/* MemAvailable from /proc/meminfo in bytes, or 0 when it cannot be read
 * (then realization does not check the host's memory). */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;
	char line[128];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb << 10;
}

static int host_inventory(struct db *db, struct rz_host *h)
{
	struct sysinfo si;
	int r;

	memset(h, 0, sizeof(*h));
	h->cores = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN);
	if (sysinfo(&si))
		return -errno;
	h->memory = (uint64_t)si.totalram * si.mem_unit;
	h->available = mem_available();
	r = cli_host_cpu_hz(&h->cpu_hz);
	if (r)
		return r;
	r = db_alloc_used(db, NULL, &h->used_cores, &h->used_memory);
	return r;
}

void cli_diag_print(struct diag_list *d)
{
	char *text;

	diag_sort(d);
	text = diag_format(d);
	if (text && *text)
		fputs(text, stderr);
	free(text);
	diag_free(d);
}

int cli_up_realize(const char *file, const char *src, size_t len, const struct xir *x,
		   const struct rz_host *host, struct realization **rz)
{
	struct diag_list d;
	int r;

	diag_init(&d, file, src, len);
	r = realize(x, host, rz, &d);
	cli_diag_print(&d);
	if (r == -ENOMEM)
		return CLI_SYSTEM;
	return r ? CLI_USER : CLI_OK;
}

/* Realize x on this host (its inventory and what experiments hold). */
static int do_realize(struct db *db, const char *file, const char *src, size_t len,
		      const struct xir *x, struct realization **rz)
{
	struct rz_host host;
	int r;

	r = host_inventory(db, &host);
	if (r) {
		cli_err("cannot take the host's inventory: %s", strerror(-r));
		return CLI_SYSTEM;
	}
	return cli_up_realize(file, src, len, x, &host, rz);
}

static int vms_ask(const char *id, json_int_t since, json_t **reply);

/* What node i is, for the summary: its namespace, or "VM (QEMU, tcg)"
 * with the accelerator the supervisor chose (accel, NULL: unknown). */
static const char *node_what(const struct db_exp *e, const struct xir *x,
			     const struct realization *rz, size_t i, const char *accel, char *buf,
			     size_t len)
{
	const struct vm_arch *a = vm_arch_find(rz->nodes[i].vm_arch);

	if (rz->nodes[i].kind == RZ_VM && a && a != vm_arch_host())
		/* the host's programs are of another architecture: docs/vms.md */
		snprintf(buf, len, "VM (QEMU, %s, tcg; busybox only)", a->name);
	else if (rz->nodes[i].kind == RZ_VM)
		snprintf(buf, len, "VM (QEMU, %s)", accel ? accel : "?");
	else
		build_netns_name(e->id, x->nodes[i].name, buf, len);
	return buf;
}

void cli_up_summary(const struct db_exp *e, const struct xir *x, const struct realization *rz,
		    double secs)
{
	const struct rz_cluster *cl = rz->cluster;
	json_t *vms = NULL;
	size_t i, k, shown = 0, here = 0;
	char ns[160], a[64];
	const char *accel = NULL;

	for (i = 0; i < x->nnodes && !vms; i++)
		if (rz->nodes[i].kind == RZ_VM && realize_node_here(rz, i) &&
		    !vms_ask(e->id, -1, &vms))
			accel = json_string_value(
				json_object_get(json_object_get(vms, "vms"), "accel"));

	for (i = 0; i < x->nnodes; i++)
		here += realize_node_here(rz, i);
	printf("experiment '%s' is up (id %s) in %.2f s: %zu node%s, %zu link%s", cli_esc(e->name), e->id,
	       secs, x->nnodes, x->nnodes == 1 ? "" : "s", x->nlinks, x->nlinks == 1 ? "" : "s");
	if (cl)
		printf("; on host %s: %zu node%s", cl->host[cl->here], here, here == 1 ? "" : "s");
	printf("\n");
	for (i = 0; i < x->nnodes && shown < SUMMARY_MAX; i++) {
		if (!realize_node_here(rz, i))
			continue; /* on its own host, whose summary shows it */
		shown++;
		printf("  %-12s ", cli_esc(x->nodes[i].name));
		if (cl)
			printf("%-8s ", cli_esc(cl->host[cl->here]));
		printf("%-20s", cli_esc(node_what(e, x, rz, i, accel, ns, sizeof(ns))));
		for (k = 0; k < rz->nodes[i].nifs; k++) {
			const struct rz_iface *f = &rz->nodes[i].ifs[k];

			printf("  %s %s", f->name, f->v4.family ? addr_format(&f->v4, a, sizeof(a)) : "-");
			if (f->v6.family)
				printf(" %s", addr_format(&f->v6, a, sizeof(a)));
		}
		printf("\n");
	}
	if (shown < here)
		printf("  ... and %zu more (vtb status %s)\n", here - shown, cli_esc(e->name));
	printf("run: vtb exec %s NODE -- CMD    status: vtb status %s    remove: vtb down %s\n",
	       cli_esc(e->name), cli_esc(e->name), cli_esc(e->name));
	json_decref(vms);
}

/* Record what the experiment holds of this host. */
static int record_allocations(struct db *db, const struct db_exp *e, const struct xir *x,
			      const struct realization *rz)
{
	size_t i;
	int r = 0;

	for (i = 0; i < x->nnodes && !r; i++)
		if ((rz->nodes[i].cores || rz->nodes[i].memory) && realize_node_here(rz, i))
			r = db_alloc_add(db, e->id, x->nodes[i].name, rz->nodes[i].cores,
					 rz->nodes[i].memory);
	return r;
}

/* Start the supervisor, journal it, then let it serve. The experiment
 * stays this process's (its owner in the database) until it is up: should
 * vtb up die before, vtb clean takes it over, supervisor included. *e gets
 * the supervisor's pid and start time. */
static int start_supervisor(struct db *db, struct db_exp *e, struct build_error *err)
{
	struct db_obj objs[4] = { { .kind = DB_PROCESS }, { .kind = DB_FILE }, { .kind = DB_FILE },
				  { .kind = DB_FILE } };
	int release = -1, r, i;
	struct stat st;
	pid_t pid;

	r = sup_start(e->id, &pid, &release);
	if (r) {
		snprintf(err->what, sizeof(err->what), "cannot start the supervisor");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
		return r;
	}
	objs[0].pid = pid;
	objs[0].start = proc_start_time(pid);
	snprintf(objs[0].name, sizeof(objs[0].name), CLI_SUP_JOURNAL_NAME);
	sup_socket_path(e->id, objs[1].name, sizeof(objs[1].name));
	/* its log (and the log rotated once): teardown removes them with the
	 * experiment; until then vtb status points at a dead supervisor's */
	sup_log_path(e->id, objs[2].name, sizeof(objs[2].name));
	snprintf(objs[3].name, sizeof(objs[3].name), "%.*s.1", (int)sizeof(objs[3].name) - 3,
		 objs[2].name);
	/* the socket and the log exist now (the supervisor made them before
	 * it said it was ready): teardown checks it removes these */
	for (i = 1; i < 3; i++)
		objs[i].ident = lstat(objs[i].name, &st) ? 0 : (uint64_t)st.st_ino;
	r = db_journal_add(db, e->id, objs, 4);
	if (!r)
		r = sup_release(release);
	else
		close(release); /* the supervisor sees EOF and exits */
	if (!r) {
		e->owner_pid = pid;
		e->owner_start = objs[0].start;
	} else {
		snprintf(err->what, sizeof(err->what), "cannot hand the experiment to its supervisor");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
	}
	return r;
}

/* Have the supervisor open the emulated links' ports and start the
 * emulator, once they exist. */
static int start_links(const struct db_exp *e, const struct realization *rz,
		       struct build_error *err)
{
	json_t *reply = NULL;
	size_t i;
	int r;

	for (i = 0; i < rz->x->nlinks && !(rz->links[i].emulated && realize_link_here(rz, i)); i++)
		;
	if (i == rz->x->nlinks)
		return 0;
	r = sup_request(e->id, "links_start", UP_LINKS_START_MS, &reply);
	if (!r && !json_is_true(json_object_get(reply, "ok"))) {
		const char *m = json_string_value(json_object_get(reply, "error"));

		snprintf(err->what, sizeof(err->what), "cannot start the link emulator");
		snprintf(err->msg, sizeof(err->msg), "%s", m ? m : "no reason given");
		r = -EIO;
	} else if (r) {
		snprintf(err->what, sizeof(err->what), "cannot reach the supervisor");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
	}
	json_decref(reply);
	return r;
}

static size_t count_vms(const struct realization *rz)
{
	size_t i, n = 0;

	for (i = 0; i < rz->x->nnodes; i++)
		n += rz->nodes[i].kind == RZ_VM && realize_node_here(rz, i);
	return n;
}

static void image_step(void *arg, const char *step)
{
	(void)arg;
	fprintf(stderr, "vtb: guest image: %s\n", step);
}

/* The Debian trees of the VMs that ask for one (image == 'debian:...'),
 * built once (cached) before anything is created. A package that does not
 * exist names the device. */
static int up_userlands(const struct realization *rz)
{
	char err[UTIL_ERR_LEN] = "", root[512], name[XIR_NAME_BUF];
	size_t i;
	int r;

	for (i = 0; i < rz->x->nnodes; i++) {
		const struct rz_node *n = &rz->nodes[i];
		struct rootfs_req q = { .image = n->image, .pkgs = n->pkgs, .npkgs = n->npkgs };

		if (n->kind != RZ_VM || !n->image || !realize_node_here(rz, i))
			continue;
		r = rootfs_ensure(NULL, &q, image_step, NULL, root, sizeof(root), err, sizeof(err));
		if (r) {
			cli_err("cannot build the userland of device '%s' (image == '%s'): %s",
				xir_fmt_node(rz->x, i, name), n->image,
				err[0] ? err : strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The guest image of every architecture the VMs here have, and the
 * Debian trees VMs ask for, each built once (cached) before anything is
 * created. */
int cli_up_image(const struct realization *rz)
{
	const struct vm_arch *done[8];
	struct img_paths p;
	char err[512] = "";
	size_t i, k, ndone = 0;
	int r = 0;

	if (!count_vms(rz))
		return 0;
	for (i = 0; i < rz->x->nnodes && !r; i++) {
		const struct vm_arch *a = vm_arch_find(rz->nodes[i].vm_arch);

		if (rz->nodes[i].kind != RZ_VM || !realize_node_here(rz, i))
			continue;
		a = a ? a : vm_arch_host();
		for (k = 0; k < ndone && done[k] != a; k++)
			;
		if (k < ndone)
			continue;
		r = img_ensure_arch(NULL, a, false, image_step, NULL, &p, err, sizeof(err));
		if (r)
			cli_err("cannot build the %s guest image of the VMs: %s", a->name,
				err[0] ? err : strerror(-r));
		else if (ndone < UTIL_ARRAY_SIZE(done))
			done[ndone++] = a;
	}
	return r ? r : up_userlands(rz);
}

/* vtb up waits for the VMs' state to change (a boot ends, a VM fails) with
 * the supervisor's vms_wait, each wait at most this long: the supervisor
 * answers at the change, so this only bounds how long a lost supervisor
 * goes unnoticed. The request's own timeout adds a margin for the reply. */
#define UP_VM_WAIT_MS 5000
#define UP_VM_REPLY_MS (UP_VM_WAIT_MS + 5000)

/* The VMs' states: at once (since < 0), or once they differ from version
 * since. 0 with *reply (the caller's), or a negative errno. */
static int vms_ask(const char *id, json_int_t since, json_t **reply)
{
	json_t *req = since < 0 ? json_pack("{s:s}", "op", "vms")
				: json_pack("{s:s,s:I,s:i}", "op", "vms_wait", "since", since,
					    "wait_ms", UP_VM_WAIT_MS);
	int r = req ? sup_call(id, req, UP_VM_REPLY_MS, reply) : -ENOMEM;

	json_decref(req);
	return r;
}

/* Count the ready VMs of a "vms" object into *ready; the number of failed
 * ones, the last of them explained in err. */
static size_t vms_count(json_t *vms, size_t *ready, struct build_error *err)
{
	size_t failed = 0, i;
	json_t *v;

	*ready = 0;
	json_array_foreach(json_object_get(vms, "vms"), i, v) {
		const char *st = json_string_value(json_object_get(v, "state"));

		if (st && !strcmp(st, "ready")) {
			(*ready)++;
		} else if (st && !strcmp(st, "failed")) {
			failed++;
			snprintf(err->what, sizeof(err->what), "VM '%s' did not come up",
				 json_string_value(json_object_get(v, "name")));
			snprintf(err->msg, sizeof(err->msg), "%s",
				 json_string_value(json_object_get(v, "error")));
		}
	}
	return failed;
}

/* Start the VMs in the supervisor and wait until every one is ready or
 * has failed, showing progress. A VM that failed fails vtb up, with the
 * reason (for a boot timeout, the console's last lines). */
static int start_vms(const struct db_exp *e, const struct realization *rz,
		     struct build_error *err)
{
	size_t nvm = count_vms(rz), ready = 0, failed = 0, last = SIZE_MAX;
	json_int_t version = -1;
	json_t *reply = NULL;
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	bool said = false;
	int r;

	if (!nvm)
		return 0;
	r = sup_request(e->id, "vms_start", UP_VMS_START_MS, &reply);
	if (!r && !json_is_true(json_object_get(reply, "ok"))) {
		const char *m = json_string_value(json_object_get(reply, "error"));

		snprintf(err->what, sizeof(err->what), "cannot start the VMs");
		snprintf(err->msg, sizeof(err->msg), "%s", m ? m : "no reason given");
		r = -EIO;
	}
	json_decref(reply);
	reply = NULL;
	while (!r && !cli_stop) {
		json_t *vms;
		const char *accel, *note;

		r = vms_ask(e->id, version, &reply);
		if (r)
			break;
		vms = json_object_get(reply, "vms");
		version = (json_int_t)json_integer_value(json_object_get(vms, "version"));
		accel = json_string_value(json_object_get(vms, "accel"));
		note = json_string_value(json_object_get(vms, "accel_note"));
		if (!said) {
			fprintf(stderr, "vtb: booting %zu VM%s with %s%s%s%s\n", nvm, nvm == 1 ? "" : "s",
				accel ? accel : "?", note && *note ? " (" : "", note ? note : "",
				note && *note ? ")" : "");
			said = true;
		}
		failed = vms_count(vms, &ready, err);
		if (ready != last) {
			fprintf(stderr, "vtb: VMs: %zu of %zu ready (%.1f s)\n", ready, nvm,
				util_clock_s(CLOCK_MONOTONIC) - t0);
			last = ready;
		}
		json_decref(reply);
		reply = NULL;
		if (failed) {
			r = -EHOSTDOWN;
			break;
		}
		if (ready == nvm)
			break;
	}
	if (r && !err->what[0]) {
		snprintf(err->what, sizeof(err->what), "cannot reach the supervisor");
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(-r));
	}
	return r;
}

/* How many ids vtb up draws before it gives up finding one whose names
 * the kernel does not hold already (65536 ids; a handful are ever taken). */
#define UP_ID_TRIES 64

/* Create the experiment's record under an id none of whose kernel names
 * exist yet (another state directory's experiment, or someone's objects
 * named like vtb's): vtb then never meets, nor removes, what it did not
 * create. -EADDRINUSE (said) when VTB_ID forces a taken id. */
static int create_exp(struct db *db, const char *name, const char *file, struct db_exp *e)
{
	char what[64];
	int r, used, tries;

	for (tries = 0; tries < UP_ID_TRIES; tries++) {
		r = db_exp_create(db, name, file, getpid(), proc_start_time(getpid()), e);
		if (r == -EADDRINUSE || r == -EINVAL) {
			cli_err("VTB_ID=%s: %s", getenv("VTB_ID"),
				r == -EINVAL ? "give 4 hex digits" : "that id is taken in this state directory");
			return -EADDRINUSE;
		}
		if (r)
			return r;
		used = build_id_in_use(e->id, what, sizeof(what));
		if (used <= 0)
			return used;
		db_exp_delete(db, e->id);
		if (getenv("VTB_ID")) {
			cli_err("id %s is in use: %s exists, which this experiment did not create "
				"(another state directory's, or made by hand); not touched", e->id, what);
			return -EADDRINUSE;
		}
	}
	cli_err("cannot find an experiment id whose names are free in the kernel after %d tries",
		UP_ID_TRIES);
	return -EADDRINUSE;
}

/* A step of bring_up that succeeded is still a failure when a signal
 * asked vtb up to stop meanwhile: -EINTR then, r otherwise. */
static int up_step(int r)
{
	return r ? r : cli_stop ? -EINTR : 0;
}

/* Say why vtb up fails (err and r, or the signal in cli_stop), then
 * remove what was created. SIGINT, SIGTERM and SIGHUP are blocked from
 * here, so a second Ctrl-C does not cut the rollback short. Returns the
 * exit status: 128 + the signal, or CLI_SYSTEM. */
static int roll_back(struct db *db, const char *id, int r, const struct build_error *err,
		     int last)
{
	struct teardown_stats st;
	struct build_error terr;
	int sig;

	cli_block_signals();
	sig = cli_stop;
	if (isatty(2) && last >= 0 && last < 100)
		fputc('\n', stderr);
	if (sig)
		cli_err("interrupted (%s): removing what was created", strsignal(sig));
	else
		cli_err("%s: %s", err->what[0] ? err->what : "cannot bring the experiment up",
			err->msg[0] ? err->msg : strerror(-r));
	if (build_teardown(db, id, &st, &terr))
		cli_err("and could not remove everything: %s: %s (vtb clean finishes it)", terr.what,
			terr.msg);
	else if (sig)
		cli_err("removed: %zu namespace%s, %zu link%s, %zu process%s", st.netns,
			st.netns == 1 ? "" : "s", st.links, st.links == 1 ? "" : "s", st.processes,
			st.processes == 1 ? "" : "es");
	return sig ? 128 + sig : CLI_SYSTEM;
}

/* See cli.h. */
int cli_bring_up(struct db *db, const struct cli_up *u, struct db_exp *e)
{
	const char *name = u->name;
	struct realization *rz = u->rz;
	struct build_error err = { .what = "" };
	char *doc = NULL;
	int r, status, last = -1;

	build_set_stop(&cli_stop);
	doc = xjson_dumps(u->x);
	r = doc ? up_step(0) : -ENOMEM;
	if (!r)
		r = create_exp(db, name, u->file, e);
	if (r == -EADDRINUSE) {
		status = CLI_SYSTEM; /* said */
		goto out;
	}
	if (r == -EEXIST) {
		cli_err("experiment '%s' is already up: vtb down %s first, or give --name", name, name);
		status = CLI_USER;
		goto out;
	}
	if (r) { /* nothing was created */
		if (cli_stop)
			cli_err("interrupted (%s): nothing was created", strsignal(cli_stop));
		else
			cli_err("cannot record the experiment in the state database: %s", strerror(-r));
		status = cli_stop ? 128 + cli_stop : CLI_SYSTEM;
		goto out;
	}
	r = realize_name(rz, e->id);
	if (!r)
		r = db_exp_set_doc(db, e->id, "xir", doc);
	if (!r && u->fragment)
		r = db_exp_set_doc(db, e->id, "fragment", u->fragment);
	if (!r)
		r = record_allocations(db, e, u->x, rz);
	if (r)
		util_fmt(err.what, sizeof(err.what), "cannot record the experiment in the state database");
	r = up_step(r);
	if (!r)
		r = up_step(build_up(db, e->id, rz, isatty(2) ? progress : progress_lines, &last, &err));
	if (!r)
		r = up_step(start_supervisor(db, e, &err));
	if (!r)
		r = up_step(start_links(e, rz, &err));
	if (!r)
		r = up_step(start_vms(e, rz, &err));
	/* up, and the supervisor's from now on: one write, so that vtb clean
	 * sees either this process or the supervisor as the owner */
	if (!r)
		r = db_exp_set_state_owner(db, e->id, DB_UP, e->owner_pid, e->owner_start);
	status = r ? roll_back(db, e->id, r, &err, last) : CLI_OK;
out:
	free(doc);
	return status;
}

int cmd_up(int argc, char **argv)
{
	const char *file = NULL, *name = NULL;
	char why[64], shown[ESC_NAME_BUF];
	struct realization *rz = NULL;
	struct xir *x = NULL;
	struct db *db = NULL;
	struct db_exp e;
	char *src = NULL;
	size_t srclen = 0;
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	struct clconf cc;
	bool local = false;
	int i, status, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			name = argv[++i];
		} else if (!strcmp(argv[i], "--local")) {
			local = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_err("up: unknown option '%s' (usage: vtb up MODEL [--name NAME] [--local])", argv[i]);
			return CLI_USER;
		} else if (file) {
			cli_err("up: one model at a time");
			return CLI_USER;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		cli_err("up: which model? usage: vtb up MODEL [--name NAME]");
		return CLI_USER;
	}
	status = cli_need_root("up");
	if (status)
		return status;
	/* from here a signal is noticed (at the latest when bring_up starts)
	 * and rolled back, not a silent end */
	cli_catch_signals();
	status = cli_load_model(NULL, file, &x, &src, &srclen);
	if (status)
		goto out;
	if (name && strcmp(name, x->name)) {
		/* --name names the experiment: its XIR carries it, so what
		 * derives from the name (generated MACs) differs from another
		 * experiment of the same model */
		char *dup = strdup(name);

		if (!dup) {
			cli_err("up: out of memory");
			status = CLI_SYSTEM;
			goto out;
		}
		free(x->name);
		x->name = dup;
	}
	name = x->name;
	if (xir_name_check(name, strlen(name), why, sizeof(why))) {
		cli_err("'%s' is not a valid experiment name: %s; %s", esc_str(shown, sizeof(shown), name),
			why, XIR_NAME_RULE);
		status = CLI_USER;
		goto out;
	}
	/* on a cluster: across its hosts, unless --local (this host only) */
	if (!local && (status = clup_conf(&cc)) != 0) {
		status = status < 0 ? CLI_SYSTEM : clup_up(&cc, file, src, srclen, x);
		goto out;
	}
	status = cli_open_db(&db);
	if (status)
		goto out;
	if (!db_exp_find(db, name, &e)) {
		cli_err("experiment '%s' is already up (id %s): vtb down %s first, or give --name", name,
			e.id, name);
		status = CLI_USER;
		goto out;
	}
	status = do_realize(db, file, src, srclen, x, &rz);
	if (status)
		goto out;
	r = cli_up_image(rz);
	if (r && !cli_stop) {
		/* a package the suite does not have is the model's error */
		status = r == -ENOPKG ? CLI_USER : CLI_SYSTEM;
		goto out;
	}
	status = cli_bring_up(db, &(struct cli_up){ .name = name, .file = file, .x = x, .rz = rz },
			      &e);
	if (status)
		goto out;
	cli_up_summary(&e, x, rz, util_clock_s(CLOCK_MONOTONIC) - t0);
	status = CLI_OK;
out:
	free(src);
	realize_free(rz);
	xir_free(x);
	db_close(db);
	return status;
}
