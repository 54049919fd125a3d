/* cli: the command line. Each subcommand is an entry in the table in
 * main.c; it returns the process exit status: 0 success, 1 a user error
 * (the message names the file, node or link), 2 a system failure. The
 * layers, each using only those below it: main.c (the table) -> cmd_*.c
 * (one command each; cmd_internal.c the hidden ones vtb runs itself) ->
 * experiment.c (what the experiment commands share) -> format.c, err.c. */
#ifndef VTB_CLI_H
#define VTB_CLI_H

#include <stddef.h>
#include <stdint.h>

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
int cmd_image(int argc, char **argv);
int cmd_supervise(int argc, char **argv);
int cmd_vmexec(int argc, char **argv);

struct db;
struct db_exp;
struct build_error;
struct teardown_stats;

/* Refuse to go on without root, saying what to do. */
int cli_need_root(const char *cmd);
/* Open the state database or say why not. 0 or CLI_SYSTEM. */
int cli_open_db(struct db **db);
/* Find experiment name or say that there is none. 0, CLI_USER or CLI_SYSTEM. */
int cli_find_exp(struct db *db, const char *name, struct db_exp *exp);
/* cli_need_root, cli_open_db and cli_find_exp in a row, for the commands
 * that act on one experiment. 0 with *db open (the caller closes it), or
 * the exit status (then *db may be open too: db_close accepts NULL). */
int cli_open_exp(const char *cmd, const char *name, struct db **db, struct db_exp *exp);
/* Tell the supervisor to stop (if it runs), then remove everything the
 * journal lists. Prints nothing; returns 0 or a negative errno. */
int cli_remove_experiment(struct db *db, const struct db_exp *exp, struct teardown_stats *st,
			  struct build_error *err);

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
