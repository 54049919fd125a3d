/* vtb link set: change an emulated link of a running experiment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "rz_params.h"
#include "status.h"
#include "linkside.h"
#include "linkstate.h"
#include "supervisor.h"

/* How long the supervisor may take to answer: it applies a change between
 * two batches of frames, well under a millisecond, unless it is stuck;
 * generous because the machine may be loaded by the experiment itself. */
#define LINK_SET_TIMEOUT_MS 5000

#define USAGE "usage: vtb link set NAME (A B | LINK) [--from NODE] KEY=VALUE..."
#define USAGE_STATE "usage: vtb link (down | up) NAME (A B | LINK) [--from NODE]"

/* One KEY=VALUE into set, checked here with the same table and parser
 * the supervisor applies it with (so the error names it before anything
 * is sent); a message naming it when it is wrong. */
static int parse_kv(const char *arg, json_t *set, struct rz_params *check)
{
	const char *eq = strchr(arg, '=');
	char name[32], err[UTIL_ERR_LEN];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
		cli_err("link set: '%s' is not KEY=VALUE (%s)", arg, USAGE);
		return -EINVAL;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	if (rz_params_parse(check, name, eq + 1, err, sizeof(err))) {
		cli_err("link set: %s", err);
		return -EINVAL;
	}
	return json_object_set_new(set, name, json_string(eq + 1)) ? -ENOMEM : 0;
}

int cli_pick_link(const char *name, const struct xir *x, const struct realization *rz,
		  const char *const *pos, int npos, size_t *li)
{
	int r;

	if (npos == 1) {
		r = linkside_find(x, pos[0]);
		if (r < 0) {
			cli_err("experiment '%s' has no link '%s' (vtb status %s)", cli_esc(name),
				cli_esc(pos[0]), cli_esc(name));
			return CLI_USER;
		}
		*li = (size_t)r;
		return CLI_OK;
	}
	r = linkside_between(x, rz, pos[0], pos[1], li);
	if (r == -ENOENT) {
		cli_err("experiment '%s' has no link between '%s' and '%s'", cli_esc(name),
			cli_esc(pos[0]), cli_esc(pos[1]));
		return CLI_USER;
	}
	if (r == -EEXIST) {
		cli_err("'%s' and '%s' share several emulated links: name one (vtb status %s)",
			cli_esc(pos[0]), cli_esc(pos[1]), cli_esc(name));
		return CLI_USER;
	}
	return CLI_OK;
}

/* vtb link down|up NAME (A B | LINK) [--from NODE]: cut or restore. */
static int link_state(int argc, char **argv)
{
	const char *pos[2] = { NULL, NULL }, *from = NULL;
	bool up = !strcmp(argv[1], "up");
	struct realization *rz = NULL;
	char err[UTIL_ERR_LEN];
	struct xir *x = NULL;
	struct db *db = NULL;
	int i, npos = 0, st = CLI_USER, r, ep = -1;
	struct db_exp e;
	size_t li;

	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < argc)
			from = argv[++i];
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else
			break;
	}
	if (argc < 4 || i < argc || !npos) {
		cli_err("link %s: %s", argv[1], USAGE_STATE);
		return CLI_USER;
	}
	st = cli_open_exp("link", argv[2], &db, &e);
	if (st)
		goto out;
	r = status_load(db, &e, &x, &rz);
	if (r) {
		cli_err("cannot load experiment '%s': %s", argv[2], strerror(-r));
		st = CLI_SYSTEM;
		goto out;
	}
	st = cli_pick_link(argv[2], x, rz, pos, npos, &li);
	if (st)
		goto out;
	if (from) {
		ep = linkside_ep(x, li, from);
		if (ep < 0) {
			cli_err(ep == -ENODEV ? "experiment '%s' has no node '%s'"
					      : "link '%s': node '%s' is not on it",
				cli_esc(ep == -ENODEV ? argv[2] : x->links[li].name), cli_esc(from));
			st = CLI_USER;
			goto out;
		}
	}
	r = linkstate_set(rz, li, ep, up, err, sizeof(err));
	if (r < 0) {
		cli_err("link %s %s: %s", argv[1], cli_esc(x->links[li].name), err);
		st = CLI_SYSTEM;
		goto out;
	}
	printf("link '%s' %s (%d interface%s)\n", cli_esc(x->links[li].name), up ? "restored" : "cut",
	       r, r == 1 ? "" : "s");
out:
	realize_free(rz);
	xir_free(x);
	db_close(db);
	return st;
}

int cmd_link(int argc, char **argv)
{
	const char *name, *pos[2] = { NULL, NULL }, *from = NULL, *link = NULL;
	json_t *req = NULL, *set = NULL, *reply = NULL;
	struct realization *rz = NULL;
	struct xir *x = NULL;
	struct db *db = NULL;
	struct rz_params check;
	struct db_exp e;
	size_t li;
	int i, npos = 0, status = CLI_USER, r;

	if (argc >= 2 && (!strcmp(argv[1], "down") || !strcmp(argv[1], "up")))
		return link_state(argc, argv);
	set = json_object();
	if (!set)
		return CLI_SYSTEM;
	if (argc < 3 || strcmp(argv[1], "set")) {
		cli_err("link: %s or %s", USAGE, USAGE_STATE + 7);
		goto out;
	}
	name = argv[2];
	rz_params_init(&check, NULL);
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			from = argv[++i];
		} else if (strchr(argv[i], '=')) {
			if (parse_kv(argv[i], set, &check))
				goto out;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			cli_err("link set: unexpected '%s' (%s)", argv[i], USAGE);
			goto out;
		}
	}
	if (!npos || !json_object_size(set)) {
		cli_err("link set: which link, and what to change? %s", USAGE);
		goto out;
	}
	status = cli_open_exp("link", name, &db, &e);
	if (status)
		goto out;
	r = status_load(db, &e, &x, &rz);
	if (r) {
		cli_err("cannot load experiment '%s': %s", name, strerror(-r));
		status = CLI_SYSTEM;
		goto out;
	}
	status = cli_pick_link(name, x, rz, pos, npos, &li);
	if (status)
		goto out;
	link = x->links[li].name;
	req = json_pack("{s:s,s:s,s:O}", "op", "link_set", "link", link, "set", set);
	if (from)
		json_object_set_new(req, "from", json_string(from));
	r = sup_call(e.id, req, LINK_SET_TIMEOUT_MS, &reply);
	if (r) {
		cli_err("cannot reach the supervisor of '%s': %s (is it up? vtb status %s)", name,
			strerror(-r), name);
		status = CLI_SYSTEM;
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *m = json_string_value(json_object_get(reply, "error"));

		cli_err("link set %s: %s", cli_esc(link), cli_esc(m ? m : "refused"));
		status = CLI_USER;
		goto out;
	}
	printf("link '%s': %d direction%s changed\n", cli_esc(link),
	       (int)json_integer_value(json_object_get(reply, "changed")),
	       json_integer_value(json_object_get(reply, "changed")) == 1 ? "" : "s");
	status = CLI_OK;
out:
	json_decref(reply);
	json_decref(req);
	json_decref(set);
	realize_free(rz);
	xir_free(x);
	db_close(db);
	return status;
}
