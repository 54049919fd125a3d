/* vtb down, vtb clean, vtb status, vtb exec: commands on experiments that exist. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build.h"
#include "cli.h"
#include "clup.h"
#include "db.h"
#include "noderun.h"
#include "status.h"
#include "console.h"
#include "sup_log.h"
#include "orphans.h"
#include "supervisor.h"
#include "proc.h"

/* How long vtb status waits for the supervisor's counters: it answers from
 * memory at once unless it is stuck. */
#define STATUS_SUP_MS 5000

static void print_removed(const char *verb, const struct db_exp *e, const struct teardown_stats *st,
			  double secs)
{
	printf("%s '%s' (id %s) in %.2f s: %zu namespace%s, %zu link%s, %zu process%s", verb,
	       cli_esc(e->name), e->id, secs, st->netns, st->netns == 1 ? "" : "s", st->links,
	       st->links == 1 ? "" : "s", st->processes, st->processes == 1 ? "" : "es");
	if (st->foreign)
		printf("; %zu object%s under its names not made by it, left alone", st->foreign,
		       st->foreign == 1 ? "" : "s");
	putchar('\n');
}

/* SIGINT, SIGTERM and SIGHUP are blocked while a removal runs: it is
 * finished, not left half done. Say so when one came meanwhile. */
static void say_held_signal(void)
{
	int sig = cli_pending_signal();

	if (sig)
		cli_err("%s: the removal was finished first", strsignal(sig));
}

/* Refuse an experiment another vtb is creating or removing right now
 * (CLI_USER, said), else 0. */
static int refuse_busy(struct db *db, const struct db_exp *e)
{
	if (e->state == DB_UP || e->state == DB_FAILED || !cli_exp_busy(db, e))
		return 0;
	cli_err("experiment '%s' is being %s by vtb (pid %d): wait for it to end, or stop it "
		"(vtb clean finishes what it leaves)", e->name,
		e->state == DB_CREATING ? "created" : "removed", (int)e->owner_pid);
	return CLI_USER;
}

int cmd_down(int argc, char **argv)
{
	struct teardown_stats st;
	struct build_error err;
	struct db *db = NULL;
	struct db_exp e;
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	int status;

	struct clconf cc;
	bool local = argc == 3 && !strcmp(argv[1], "--local");

	if (local) {
		argv++;
		argc--;
	}
	if (argc != 2 || argv[1][0] == '-') {
		cli_err("down: usage: vtb down [--local] NAME");
		return CLI_USER;
	}
	/* on a cluster the experiment is the cluster's, unless it has none of
	 * that name; --local: this host's state only (what an agent runs) */
	if (!local && (status = clup_conf(&cc)) != 0) {
		status = status < 0 ? CLI_SYSTEM : cli_need_root("down");
		if (!status)
			status = clup_down(&cc, argv[1]);
		if (status >= 0)
			return status;
	}
	status = cli_open_exp("down", argv[1], &db, &e);
	if (!status)
		status = refuse_busy(db, &e);
	if (status)
		goto out;
	cli_block_signals();
	if (cli_remove_experiment(db, &e, &st, &err)) {
		cli_err("down %s: %s: %s (vtb clean retries)", e.name, err.what, err.msg);
		status = CLI_SYSTEM;
	} else {
		print_removed("removed experiment", &e, &st, util_clock_s(CLOCK_MONOTONIC) - t0);
	}
	say_held_signal();
out:
	db_close(db);
	return status;
}

static bool owner_alive(const struct db_exp *e)
{
	return e->owner_pid > 0 && proc_start_time(e->owner_pid) == e->owner_start;
}

/* Record again the experiments a lost database forgot (exec/orphans.h), so
 * that the loop below removes exactly what they created. */
static int adopt_orphans(struct db *db)
{
	char (*ids)[DB_ID_LEN + 1] = NULL;
	struct db_exp e;
	size_t n = 0, i;
	int r = orphans_find(db, &ids, &n);

	for (i = 0; !r && i < n; i++)
		r = orphans_adopt(db, ids[i], &e);
	free(ids);
	return r;
}

int cmd_clean(int argc, char **argv)
{
	struct teardown_stats st;
	struct build_error err;
	struct db_exp *v = NULL;
	struct db *db = NULL;
	size_t n = 0, i, cleaned = 0;
	struct clconf cc;
	int status, r;

	(void)argv;
	if (argc != 1) {
		cli_err("clean: usage: vtb clean");
		return CLI_USER;
	}
	status = cli_need_root("clean");
	if (!status)
		status = cli_open_db(&db);
	if (status)
		goto out;
	r = adopt_orphans(db);
	if (!r)
		r = db_exp_list(db, &v, &n);
	if (r) {
		cli_err("cannot read the state database: %s", strerror(-r));
		status = CLI_SYSTEM;
		goto out;
	}
	cli_block_signals();
	for (i = 0; i < n; i++) {
		double t0 = util_clock_s(CLOCK_MONOTONIC);

		/* an experiment whose owner (its supervisor, or the vtb up or
		 * down acting on it) still runs is not ours to touch; one left
		 * creating or removing by a vtb that died is, supervisor and all */
		if (cli_exp_busy(db, &v[i]))
			continue;
		if (cli_remove_experiment(db, &v[i], &st, &err)) {
			cli_err("clean %s: %s: %s", v[i].name, err.what, err.msg);
			status = CLI_SYSTEM;
			continue;
		}
		print_removed("removed the remains of", &v[i], &st, util_clock_s(CLOCK_MONOTONIC) - t0);
		cleaned++;
	}
	if (clup_conf(&cc) == 1) { /* the cluster's, left by a vtb up or down that died */
		size_t k = 0;
		int cs = clup_clean(&cc, &k);

		cleaned += k;
		status = status ? status : cs;
	}
	if (!cleaned && !status)
		printf("nothing to clean: every experiment's supervisor, or the vtb acting on it, "
		       "is running\n");
	say_held_signal();
out:
	free(v);
	db_close(db);
	return status;
}

static void print_status_list(struct db *db, bool json)
{
	struct db_exp *v = NULL;
	size_t n = 0, i;
	json_t *arr = json_array();

	if (db_exp_list(db, &v, &n))
		n = 0;
	if (!json)
		printf("%-20s %-5s %-9s %-10s %s\n", "NAME", "ID", "STATE", "SUPERVISOR", "MODEL");
	for (i = 0; i < n; i++) {
		bool alive = owner_alive(&v[i]);

		if (json)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:b,s:s}", "name", v[i].name,
							     "id", v[i].id, "state",
							     status_state_name(v[i].state), "supervisor",
							     alive, "model", v[i].model));
		else
			printf("%-20s %-5s %-9s %-10s %s\n", cli_esc(v[i].name), v[i].id,
			       status_state_name(v[i].state), alive ? "running" : "gone",
			       cli_esc(v[i].model));
	}
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2));

		if (s)
			puts(s);
		free(s);
	}
	json_decref(arr);
	free(v);
}

static json_int_t jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* "    a -> b: latency 5 ms loss 1%, queue limit 1000 pkts" and its counters */
static void print_direction(const json_t *d)
{
	const json_t *p = json_object_get(d, "params"), *c = json_object_get(d, "counters");
	const json_t *dr = json_object_get(c, "drops"), *kc = json_object_get(d, "kernel_cpu");
	const char *problem = json_string_value(json_object_get(json_object_get(d, "port"), "problem"));
	char what[256] = "";
	size_t n = 0;

#define ADD(...) n += (size_t)snprintf(what + n, n < sizeof(what) ? sizeof(what) - n : 0, __VA_ARGS__)
	if (jint(p, "latency_ns"))
		ADD(" latency %g ms", (double)jint(p, "latency_ns") / 1e6);
	if (jint(p, "jitter_ns"))
		ADD(" jitter %g ms", (double)jint(p, "jitter_ns") / 1e6);
	if (json_real_value(json_object_get(p, "loss")) > 0)
		ADD(" loss %g%%", json_real_value(json_object_get(p, "loss")) * 100);
	if (json_real_value(json_object_get(p, "burst")) > 0)
		ADD(" burst %g", json_real_value(json_object_get(p, "burst")));
	if (json_real_value(json_object_get(p, "duplicate")) > 0)
		ADD(" duplicate %g%%", json_real_value(json_object_get(p, "duplicate")) * 100);
	if (json_real_value(json_object_get(p, "reorder")) > 0)
		ADD(" reorder %g%%", json_real_value(json_object_get(p, "reorder")) * 100);
	if (json_real_value(json_object_get(p, "corrupt")) > 0)
		ADD(" corrupt %g%%", json_real_value(json_object_get(p, "corrupt")) * 100);
	if (jint(p, "rate_bps"))
		ADD(" capacity %g Mbit/s", (double)jint(p, "rate_bps") / 1e6);
	/* the queue's bound is always there (a default when the model gave none) */
	if (!n)
		ADD(" no impairment");
	ADD(", queue limit %lld pkts", (long long)jint(p, "queue_pkts"));
	if (jint(p, "queue_bytes"))
		ADD(" or %lld bytes", (long long)jint(p, "queue_bytes"));
	if (json_is_true(json_object_get(d, "bypass")) && json_is_integer(kc))
		ADD(" (bypass: carried by the kernel on core %lld)", (long long)json_integer_value(kc));
	else if (json_is_true(json_object_get(d, "bypass")))
		ADD(" (bypass: carried by the kernel)");
	else if (json_is_integer(json_object_get(d, "cpu")))
		ADD("; thread %lld on core %lld", (long long)jint(d, "thread"), (long long)jint(d, "cpu"));
	else
		ADD("; thread %lld", (long long)jint(d, "thread"));
#undef ADD
	if (n >= sizeof(what))
		what[sizeof(what) - 1] = '\0';
	printf("    %s -> %s:%s\n", cli_esc(json_string_value(json_object_get(d, "from"))),
	       cli_esc(json_string_value(json_object_get(d, "to"))), what);
	printf("      packets in %lld out %lld, queue %lld pkts; drops: loss %lld queue %lld "
	       "memory %lld kernel %lld oversize %lld tx %lld port %lld\n",
	       (long long)jint(c, "rx_packets"), (long long)jint(c, "tx_packets"),
	       (long long)jint(c, "queue_packets"), (long long)jint(dr, "loss"),
	       (long long)jint(dr, "queue"), (long long)jint(dr, "memory"),
	       (long long)jint(dr, "kernel"), (long long)jint(dr, "oversize"),
	       (long long)jint(dr, "tx"), (long long)jint(dr, "port"));
	if (problem) /* the port is down or gone */
		printf("      %s\n", problem);
}

/* A node's enforced limits (docs/limits.md), when it has any. */
static void print_limits(const json_t *lim)
{
	double cpu = json_real_value(json_object_get(lim, "cpu"));
	json_int_t mem = json_integer_value(json_object_get(lim, "memory"));
	json_int_t oom = json_integer_value(json_object_get(lim, "oom_kills"));
	char c[32] = "any", m[32] = "any";

	if (!lim)
		return;
	if (cpu > 0)
		snprintf(c, sizeof(c), "%.2f cores", cpu);
	if (mem > 0)
		snprintf(m, sizeof(m), "%.1f MiB", mem / 1048576.0);
	printf("    limits: cpu %s, memory %s; used %.2f s of CPU", c, m,
	       json_real_value(json_object_get(lim, "cpu_s")));
	if (oom)
		printf("; %lld process%s killed out of memory", (long long)oom, oom == 1 ? "" : "es");
	printf("\n");
}

void cli_print_status(json_t *st)
{
	size_t i, k;
	json_t *n, *l, *f;
	const json_t *sup = json_object_get(st, "supervisor");

	printf("experiment '%s' (id %s): %s; supervisor %s\n",
	       cli_esc(json_string_value(json_object_get(st, "name"))),
	       cli_esc(json_string_value(json_object_get(st, "id"))),
	       cli_esc(json_string_value(json_object_get(st, "state"))),
	       json_is_true(json_object_get(sup, "alive")) ? "running" : "gone (vtb down still works)");
	if (!json_is_true(json_object_get(sup, "alive")) && json_is_string(json_object_get(st, "id"))) {
		char log[512];

		sup_log_path(json_string_value(json_object_get(st, "id")), log, sizeof(log));
		if (access(log, F_OK) == 0)
			printf("the supervisor's log (why it ended): %s\n", log);
	}
	printf("nodes:\n");
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		const json_t *vm = json_object_get(n, "vm");
		char where[64];

		const char *arch = json_string_value(json_object_get(vm, "arch"));

		if (vm) /* the guest's architecture when it is not the host's */
			snprintf(where, sizeof(where), "qemu/%s%s%s %.1f s",
				 json_string_value(json_object_get(vm, "accel")),
				 arch && strcmp(arch, "x86_64") ? " " : "",
				 arch && strcmp(arch, "x86_64") ? arch : "",
				 json_real_value(json_object_get(vm, "boot_s")));
		else
			snprintf(where, sizeof(where), "%s",
				 json_string_value(json_object_get(n, "netns")) ?: "-");
		printf("  %-12s %-9s %-7s %-20s", cli_esc(json_string_value(json_object_get(n, "name"))),
		       cli_esc(json_string_value(json_object_get(n, "kind"))),
		       json_is_true(json_object_get(n, "stopped"))
			       ? "stopped"
			       : cli_esc(json_string_value(json_object_get(n, "state"))),
		       cli_esc(where));
		json_array_foreach(json_object_get(n, "interfaces"), k, f) {
			const char *a4 = json_string_value(json_object_get(f, "ipv4"));
			const char *a6 = json_string_value(json_object_get(f, "ipv6"));

			printf("  %s %s%s%s", cli_esc(json_string_value(json_object_get(f, "name"))),
			       cli_esc(a4 ? a4 : "-"), a6 ? " " : "", cli_esc(a6));
		}
		printf("%s\n", json_is_true(json_object_get(n, "privileged")) ? "  privileged" : "");
		print_limits(json_object_get(n, "limits"));
		if (vm && json_string_length(json_object_get(vm, "error")))
			printf("    %s\n", cli_esc(json_string_value(json_object_get(vm, "error"))));
	}
	printf("links:\n");
	json_array_foreach(json_object_get(st, "links"), i, l) {
		const char *s4 = json_string_value(json_object_get(l, "subnet4"));

		printf("  %-16s %-4s %-8s %-18s", cli_esc(json_string_value(json_object_get(l, "name"))),
		       cli_esc(json_string_value(json_object_get(l, "kind"))),
		       json_is_true(json_object_get(l, "emulated")) ? "emulated" : "direct",
		       cli_esc(s4 ? s4 : "-"));
		json_array_foreach(json_object_get(l, "endpoints"), k, f)
			printf("%s%s", k ? ", " : " ", cli_esc(json_string_value(f)));
		printf("%s\n", json_is_true(json_object_get(l, "down")) ? "  DOWN (vtb link up)" : "");
		json_array_foreach(json_object_get(l, "directions"), k, f)
			print_direction(f);
	}
}

int cmd_status(int argc, char **argv)
{
	const char *name = NULL;
	bool json = false;
	struct db *db = NULL;
	struct db_exp e;
	json_t *reply = NULL, *st = NULL, *view = NULL;
	struct clconf cc;
	int i, status, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' || name) {
			cli_err("status: usage: vtb status [NAME] [--json]");
			return CLI_USER;
		} else
			name = argv[i];
	}
	status = cli_need_root("status");
	if (!status)
		status = cli_open_db(&db);
	if (status)
		goto out;
	if (!name) {
		print_status_list(db, json);
		if (!json && !cli_local && clup_conf(&cc) == 1) {
			printf("the cluster's experiments (%s):\n", cc.etcd);
			status = clup_status_view(&cc, NULL, NULL);
		}
		goto out;
	}
	/* a cluster experiment: the cluster's view (hosts, lost parts), then
	 * every host's part merged over the relay (with certificates); as
	 * JSON the merged parts with the cluster's view as "cluster", or that
	 * view alone when there is no relay */
	if (!cli_local && clup_conf(&cc) == 1 &&
	    (status = clup_status_view(&cc, name, json ? &view : NULL)) >= 0) {
		if (status)
			goto out;
		r = cli_relay_status(name, json, view);
		if (json && r >= 0)
			status = r;
		else if (json && json_dumpf(view, stdout, JSON_INDENT(2)) == 0)
			putchar('\n');
		else if (!json && r > status)
			status = r;
		goto out;
	}
	status = cli_find_exp(db, name, &e);
	if (status)
		goto out;
	/* the supervisor's view; the database's when it is gone, said when
	 * it is there but did not answer (the links' counters are missing) */
	r = sup_request(e.id, "status", STATUS_SUP_MS, &reply);
	if (!r && json_is_true(json_object_get(reply, "ok"))) {
		st = json_incref(json_object_get(reply, "status"));
	} else {
		if (r != -ECONNREFUSED && r != -ENOENT)
			cli_err("the supervisor of '%s' did not answer (%s): showing the database's "
				"view, without the links' counters", name,
				r ? strerror(-r) : "an error reply");
		st = status_json(db, &e);
	}
	if (!st) {
		cli_err("cannot build the status of '%s'", name);
		status = CLI_SYSTEM;
		goto out;
	}
	if (json) {
		char *s = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s)
			puts(s);
		free(s);
	} else {
		cli_print_status(st);
	}
out:
	json_decref(view);
	json_decref(st);
	json_decref(reply);
	db_close(db);
	return status;
}

/* A script's console session (vtb exec NAME VM < script): once standard
 * input ends, the console's output is shown until it has been quiet for
 * PIPE_QUIET_MS (a command's answer over a serial console under TCG comes
 * in bursts well within that), for at most PIPE_MAX_MS; the poll wakes
 * every PIPE_TICK_MS to count the quiet. */
#define PIPE_QUIET_MS 1000
#define PIPE_MAX_MS 60000
#define PIPE_TICK_MS 100

/* Standard input is not a terminal (a script): send it to the console,
 * then show what the console says until it has been quiet (see above). */
static int pipe_console(int fd)
{
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
	char buf[65536];
	bool in_open = true;
	int idle = 0, total = 0, r = 0;
	ssize_t n;

	while (total < PIPE_MAX_MS) {
		int k = poll(p, 2, in_open ? PIPE_QUIET_MS : PIPE_TICK_MS);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		total += in_open ? 0 : PIPE_TICK_MS;
		if (k == 0) {
			if (!in_open && (idle += PIPE_TICK_MS) >= PIPE_QUIET_MS)
				break;
			continue;
		}
		if (in_open && (p[0].revents & (POLLIN | POLLHUP))) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false;
				p[0].fd = -1;
			} else if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
				r = -errno;
				break;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0)
				break;
			idle = 0;
			if (write(1, buf, (size_t)n) < 0)
				break;
		}
	}
	close(fd);
	return r;
}

/* Copy the terminal to the console connection and back until Ctrl-] or
 * the end of input (the console proxy does the raw mode). */
static int attach_console(int fd)
{
	struct con *c = NULL;
	int r;

	if (!isatty(0))
		return pipe_console(fd);
	r = con_open_fd(fd, &c);

	if (r) {
		close(fd);
		return r;
	}
	r = con_attach(c, 0, 1, 0x1d);
	con_close(c);
	return r == -EPIPE ? 0 : r;
}

/* Append arg to buf as one word of a shell line. */
static void shell_word(struct util_buf *b, const char *arg)
{
	const char *p;
	bool plain = *arg != '\0';

	for (p = arg; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			       "-_./:=,+@%", *p) != NULL;
	if (b->len)
		util_buf_puts(b, " ");
	if (plain) {
		util_buf_puts(b, arg);
		return;
	}
	util_buf_sh_quote(b, arg);
}

/* A VM node: the command through the supervisor's console proxy, or the
 * console itself when no command is given. */
static int exec_vm(const struct db_exp *e, const char *name, const char *node, int argc,
		   char **argv)
{
	struct util_buf line;
	char err[UTIL_ERR_LEN];
	int i, r, status = 0, fd;

	if (argc <= 4) {
		fd = sup_vm_attach(e->id, node, err, sizeof(err));
		if (fd == -ENOENT) {
			cli_err("experiment '%s' has no node '%s' (vtb status %s lists them)", name,
				node, name);
			return CLI_USER;
		}
		if (fd < 0) {
			cli_err("cannot attach to VM '%s' of '%s': %s", node, name, err);
			return CLI_SYSTEM;
		}
		if (isatty(0))
			fprintf(stderr, "vtb: console of VM '%s' (Ctrl-] leaves)\r\n", node);
		r = attach_console(fd);
		return r ? CLI_SYSTEM : CLI_OK;
	}
	util_buf_init(&line);
	for (i = 4; i < argc; i++)
		shell_word(&line, argv[i]);
	if (line.oom) {
		util_buf_free(&line);
		return CLI_SYSTEM;
	}
	r = sup_vm_exec(e->id, node, line.s, 3600 * 1000, 1, &status, err, sizeof(err));
	util_buf_free(&line);
	if (r == -ENOENT) {
		cli_err("experiment '%s' has no node '%s' (vtb status %s lists them)", name, node,
			name);
		return CLI_USER;
	}
	if (r) {
		cli_err("cannot run the command on VM '%s': %s", node, err);
		return CLI_SYSTEM;
	}
	return status;
}

/* The parent of vtb exec's command passes SIGTERM and SIGHUP on to it (the
 * terminal sends SIGINT and SIGQUIT to both: the parent ignores those). */
static volatile pid_t exec_child;

static void exec_forward(int sig)
{
	if (exec_child > 0)
		kill(exec_child, sig);
}

/* Wait for pid; its exit status, 128 + the signal that killed it, or -1. */
static int exec_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGTERM and SIGHUP go on to exec_child; SIGINT and SIGQUIT, which the
 * terminal sends to the whole group, are left to the command. */
static void exec_signals(pid_t child)
{
	struct sigaction fwd = { .sa_handler = exec_forward }, ign = { .sa_handler = SIG_IGN };

	exec_child = child;
	sigaction(SIGTERM, &fwd, NULL);
	sigaction(SIGHUP, &fwd, NULL);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
}

/* vtb exec's child: enter node f, run cmd as node root in a grandchild
 * (the node's pid namespace applies to children only), exit with its
 * status. vtb exec itself never enters the node: what it does at exit (a
 * sanitizer's leak check, which ptraces it from a helper it clones) runs
 * in the host's namespaces. Never returns. */
static void exec_in_node(const char *node, const struct noderun_fds *f, char **cmd)
{
	int r = noderun_enter(f), st;
	pid_t pid;

	if (r) {
		cli_err("cannot enter node '%s': %s", node, strerror(-r));
		_exit(CLI_SYSTEM);
	}
	pid = fork();
	if (pid < 0) {
		cli_err("cannot start a process in node '%s': %s", node, strerror(errno));
		_exit(CLI_SYSTEM);
	}
	if (pid == 0) {
		r = noderun_become_root(f);
		if (r) {
			cli_err("cannot become root in node '%s': %s", node, strerror(-r));
			_exit(126);
		}
		/* only 0-2 go on: a daemon the command starts would keep
		 * whatever else vtb exec's caller had open (a lock held
		 * around it stays held) for as long as it runs */
		syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
		execvp(cmd[0], cmd);
		cli_err("cannot run '%s' on node '%s': %s", cmd[0], node, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	exec_signals(pid);
	st = exec_wait(pid);
	_exit(st < 0 ? CLI_SYSTEM : st);
}

/* Run cmd in the container node f: a child enters it (exec_in_node); we
 * wait and return the command's exit status (128 + signal when it was
 * killed). */
static int exec_container(const char *node, const struct noderun_fds *f, char **cmd)
{
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		cli_err("cannot start a process in node '%s': %s", node, strerror(errno));
		return CLI_SYSTEM;
	}
	if (pid == 0)
		exec_in_node(node, f, cmd);
	exec_signals(pid);
	st = exec_wait(pid);
	return st < 0 ? CLI_SYSTEM : st;
}

/* Open container node ns of experiment e by its init's journal row.
 * Returns 0, -ENOENT when the journal has no such init (a VM, or no such
 * node), -ESRCH when it has ended, or a negative errno. */
static int exec_open_node(struct db *db, const struct db_exp *e, const char *ns,
			  struct noderun_fds *f)
{
	struct db_obj *rows = NULL;
	uint64_t start;
	size_t n = 0;
	pid_t pid;
	int r = db_journal_list(db, e->id, &rows, &n);

	if (!r)
		r = noderun_find(rows, n, ns, &pid, &start);
	if (!r)
		r = noderun_open(pid, start, f);
	free(rows);
	return r;
}

/* For a fragment (an experiment across hosts): whether node runs on
 * another host, named into host. */
static bool exec_remote_host(struct db *db, const struct db_exp *e, const char *node, char *host,
			     size_t len)
{
	struct realization *rz = NULL;
	struct xir *x = NULL;
	bool remote = false;
	size_t i;

	if (status_load(db, e, &x, &rz))
		return false;
	for (i = 0; i < x->nnodes && !remote; i++)
		if (!strcmp(x->nodes[i].name, node) && rz->cluster && !realize_node_here(rz, i)) {
			snprintf(host, len, "%s", rz->cluster->host[rz->cluster->host_of[i]]);
			remote = true;
		}
	realize_free(rz);
	xir_free(x);
	return remote;
}

int cmd_exec(int argc, char **argv)
{
	const char *name, *node, *shell;
	struct noderun_fds f = { .pidfd = -1, .userns = -1 };
	struct db *db = NULL;
	struct db_exp e;
	char ns[160], **cmd, *sh[2], host[RZ_HOST_LEN];
	int status, r;

	if (argc < 3 || (argc > 3 && strcmp(argv[3], "--")) || argc == 4) {
		cli_err("exec: usage: vtb exec NAME NODE [-- CMD [ARG...]]");
		return CLI_USER;
	}
	name = argv[1];
	node = argv[2];
	status = cli_open_exp("exec", name, &db, &e);
	if (status)
		goto out;
	build_netns_name(e.id, node, ns, sizeof(ns));
	r = exec_open_node(db, &e, ns, &f);
	if (r == -ENOENT && exec_remote_host(db, &e, node, host, sizeof(host))) {
		cli_err("node '%s' of '%s' runs on host '%s': vtb exec works on the host a node runs on "
			"(there: vtb exec %s %s ...)", cli_esc(node), cli_esc(name), cli_esc(host),
			cli_esc(name), cli_esc(node));
		status = CLI_USER;
		goto out;
	}
	db_close(db);
	db = NULL;
	if (r == -ENOENT) {
		/* no init: a VM, or no such node */
		if (e.state != DB_UP) {
			cli_err("experiment '%s' is not up", name);
			status = CLI_USER;
			goto out;
		}
		status = exec_vm(&e, name, node, argc, argv);
		goto out;
	}
	if (r == -ESRCH)
		cli_err("node '%s' of '%s' is not running (its init has ended): vtb down %s and up "
			"again", node, name, name);
	else if (r)
		cli_err("cannot open node '%s': %s", node, strerror(-r));
	if (r) {
		status = CLI_SYSTEM;
		goto out;
	}
	if (argc > 4) {
		cmd = argv + 4;
	} else {
		shell = getenv("SHELL");
		sh[0] = (char *)(shell && *shell ? shell : "/bin/sh");
		sh[1] = NULL;
		cmd = sh;
	}
	status = exec_container(node, &f, cmd);
out:
	noderun_close(&f);
	db_close(db);
	return status;
}
