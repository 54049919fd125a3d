/* cli: the command line. Each subcommand is an entry in the table in
 * main.c; it returns the process exit status: 0 success, 1 a user error
 * (the message names the file, node or link), 2 a system failure. The
 * layers, each using only those below it: main.c (the table) -> cmd_*.c
 * (one command each; cmd_internal.c the hidden ones vtb runs itself) ->
 * experiment.c (what the experiment commands share) -> format.c, err.c. */
#ifndef VTB_CLI_H
#define VTB_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xir.h"

#define CLI_OK 0
#define CLI_USER 1
#define CLI_SYSTEM 2

struct cli_cmd {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

int cmd_compile(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_supervise(int argc, char **argv);
int cmd_vmexec(int argc, char **argv);
int cmd_step(int argc, char **argv);

int cmd_fragment_up(int argc, char **argv);
int cmd_relay_session(int argc, char **argv);

/* The relay (cmd_relay.c, docs/cluster.md "The relay"). cli_local: the
 * command had --local (this host's part only). cli_relay_front: for exec,
 * link, node and capture of a cluster experiment whose target is on other
 * hosts, strip --local (into cli_local) or run the command there; -1 when
 * it runs here (argc may be smaller), else the exit status. */
extern bool cli_local;
int cli_relay_front(int *argc, char **argv);
struct json_t;
/* vtb status NAME of a cluster experiment: every host's live status,
 * merged (printed as text, or JSON with cluster, the cluster's view, as
 * its "cluster" member when not NULL). -1 when the cluster has no such
 * experiment or the hosts have no certificates (no relay), else the exit
 * status. */
int cli_relay_status(const char *name, bool json, struct json_t *cluster);
/* vtb run NAME (argc words of argv, "run" first) of a cluster experiment
 * of which this host holds no part: run it on the experiment's first host,
 * which coordinates it and keeps its records (`run --local NAME
 * --coordinate ...`). -1 when this host holds a part, the cluster has no
 * such experiment or no relay, else the exit status. */
int cli_relay_run(const char *name, int argc, char **argv);
/* Print one experiment's status document as text (cmd_manage.c). */
void cli_print_status(struct json_t *st);

struct db;
struct db_exp;
struct build_error;
struct teardown_stats;
struct realization;

/* What cli_bring_up brings up (cmd_up.c): experiment name from model file
 * (for the record), its XIR and realization (realize_name is applied to
 * it), and for a fragment of a cluster its document, kept with the
 * experiment (status_load reads it), NULL otherwise. */
struct cli_up {
	const char *name, *file;
	const struct xir *x;
	struct realization *rz;
	const char *fragment;
};
/* Record the experiment in the database (under $VTB_ID when set), build
 * what of it is on this host, start its supervisor, links and VMs, and
 * hand it to the supervisor. On failure, or on SIGINT, SIGTERM or SIGHUP
 * (caught with cli_catch_signals: the build stops between tasks),
 * everything is removed again and the reason said. Returns CLI_OK with *e,
 * or an exit status. */
int cli_bring_up(struct db *db, const struct cli_up *u, struct db_exp *e);
struct rz_host;
struct diag_list;
/* Print d's diagnostics (sorted) on stderr and free them. */
void cli_diag_print(struct diag_list *d);
/* Realize x for host (problems printed, quoting src of file). CLI_OK with
 * *rz, CLI_USER or CLI_SYSTEM. */
int cli_up_realize(const char *file, const char *src, size_t len, const struct xir *x,
		   const struct rz_host *host, struct realization **rz);
/* The guest image, built once (cached) before anything is created, when
 * rz has VMs on this host. 0 or a negative errno (said). */
int cli_up_image(const struct realization *rz);
/* The summary of vtb up: what of the experiment is on this host (each
 * node's host when it is a fragment). */
void cli_up_summary(const struct db_exp *e, const struct xir *x, const struct realization *rz,
		    double secs);

/* Refuse to go on without root, saying what to do. */
int cli_need_root(const char *cmd);
/* The host CPU's frequency for cpufreq (docs/limits.md): $VTB_HOST_CPUFREQ
 * ("2.2ghz", the model's units) or what the system says; 0 when neither
 * says. Returns 0, or -EINVAL for a bad $VTB_HOST_CPUFREQ (said). */
int cli_host_cpu_hz(uint64_t *hz);
/* Open the state database or say why not. 0 or CLI_SYSTEM. */
int cli_open_db(struct db **db);
/* Find experiment name or say that there is none. 0, CLI_USER or CLI_SYSTEM. */
int cli_find_exp(struct db *db, const char *name, struct db_exp *exp);
/* cli_need_root, cli_open_db and cli_find_exp in a row, for the commands
 * that act on one experiment. 0 with *db open (the caller closes it), or
 * the exit status (then *db may be open too: db_close accepts NULL). */
int cli_open_exp(const char *cmd, const char *name, struct db **db, struct db_exp *exp);
/* Read and compile model file, its diagnostics on stderr ("CMD: cannot read
 * FILE: ..." when it cannot be read; cmd NULL: no prefix). CLI_OK with *x
 * and its source in *srcp (the caller frees it), or the exit status. */
int cli_load_model(const char *cmd, const char *file, struct xir **x, char **srcp, size_t *lenp);
struct realization;
/* The link a command names: pos[0] a link's name (npos 1) or two nodes it
 * joins (npos 2; an emulated link first). CLI_OK with *li, or CLI_USER
 * after saying what is wrong (no such link or node) (cmd_link.c). */
int cli_pick_link(const char *name, const struct xir *x, const struct realization *rz,
		  const char *const *pos, int npos, size_t *li);
/* Tell the supervisor to stop (if it runs), then remove everything the
 * journal lists. Prints nothing; returns 0 or a negative errno. */
int cli_remove_experiment(struct db *db, const struct db_exp *exp, struct teardown_stats *st,
			  struct build_error *err);

/* The journal's name of an experiment's supervisor process. */
#define CLI_SUP_JOURNAL_NAME "supervisor"
/* The supervisor of experiment id, from its journal: 0 with *pid and
 * *start, -ENOENT when none was started, or a negative errno. */
int cli_exp_supervisor(struct db *db, const char *id, pid_t *pid, uint64_t *start);
/* Whether the experiment's owner runs: the vtb up, down or clean acting on
 * it, or (once up) its supervisor. A creating or removing experiment whose
 * vtb is gone is not busy even when its supervisor still runs: vtb clean
 * takes it over. */
bool cli_exp_busy(struct db *db, const struct db_exp *e);

/* The signal (SIGINT, SIGTERM or SIGHUP) that asked the command to stop,
 * 0 while none did. */
extern volatile sig_atomic_t cli_stop;
/* Catch SIGINT, SIGTERM and SIGHUP: the handler only sets cli_stop (no
 * SA_RESTART, so a blocking wait returns EINTR) and the command stops at
 * its next check, rolling back what it made. */
void cli_catch_signals(void);
/* Block SIGINT, SIGTERM and SIGHUP in this thread and the threads it
 * starts from now: a rollback or a removal is finished, not cut short
 * (SIGKILL still can; vtb clean finishes then). */
void cli_block_signals(void);
/* Which of them is pending (blocked and sent), or 0. */
int cli_pending_signal(void);

/* Print "vtb: " + message to stderr (err.c). */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s escaped for printing on a terminal ("\n", "\x1b": esc.h): NULL gives
 * "". The result stays valid for the next 7 calls, so it serves as an
 * argument of one printf (format.c). */
const char *cli_esc(const char *s);
/* "8 GiB", "100 Mbit/s", "1 ms", "2.2 GHz", "0.2", "'10.0.0.1/24'" */
void cli_format_value(const struct xir_constraint *c, char *buf, size_t len);
/* "cores == 4, memory == 8 GiB" (at most len bytes) */
void cli_format_cset(const struct xir_cset *cs, char *buf, size_t len);

#endif
