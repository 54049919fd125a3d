/* agent_want: a host's wants, its parts of the cluster's experiments to
 * build or remove (see agent_int.h and clexp.h). */
#include "agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cldoc.h"
#include "clexp.h"
#include "db.h"
#include "etcd.h"
#include "file.h"
#include "proc.h"
#include "sup_log.h"
#include "util.h"

extern char **environ;

/* A child's output is logged line by line; its last line is its error. */
#define AGENT_LINE_MAX 512
/* How long reconciling waits for a vtb __fragment-up that an agent which
 * died left running (it finishes or rolls back its build): a part of 1000
 * nodes is built in a few seconds on a loaded host. */
#define AGENT_ORPHAN_WAIT_MS 60000

/* Run this vtb with args (NULL-terminated, without argv[0]); its output
 * goes to the log, its last line into last. Returns its exit status, or
 * a negative errno when it cannot run. */
static int agent_child(const char *const *args, const char *tag, char *last)
{
	const char *argv[8] = { "vtb" };
	posix_spawn_file_actions_t fa;
	char buf[AGENT_LINE_MAX], line[AGENT_LINE_MAX];
	size_t i, n = 0;
	int p[2], r, st;
	ssize_t got;
	pid_t pid;

	last[0] = '\0';
	for (i = 0; args[i] && i + 2 < UTIL_ARRAY_SIZE(argv); i++)
		argv[i + 1] = args[i];
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	r = -posix_spawn(&pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while (!r && (got = read(p[0], buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		for (i = 0; i < (size_t)got; i++) {
			if (buf[i] != '\n' && n + 1 < sizeof(line)) {
				line[n++] = buf[i];
				continue;
			}
			line[n] = '\0';
			if (n) {
				sup_log(SUP_LOG_INFO, "[%s] %s", tag, line);
				snprintf(last, UTIL_ERR_LEN, "%s", line);
			}
			n = 0;
		}
	}
	close(p[0]);
	if (r)
		return r;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Whether the local state holds experiment name with id. */
static bool agent_have(const char *name, const char *id)
{
	struct db_exp x;
	struct db *db = NULL;
	char why[UTIL_ERR_LEN];
	bool have = false;

	if (!db_open(db_state_dir(), &db, why, sizeof(why)) && !db_exp_find(db, name, &x))
		have = !strcmp(x.id, id);
	db_close(db);
	return have;
}

/* Build this host's part of experiment id (named name): its fragment
 * document from etcd into a file of the state directory, then vtb
 * __fragment-up FILE. Reports building, then up or failed. */
static void agent_up(struct etcd *w, const struct clconf *c, const char *id, const char *name)
{
	char path[512], err[UTIL_ERR_LEN], last[UTIL_ERR_LEN], *doc = NULL;
	const char *args[] = { "__fragment-up", path, NULL };
	size_t len;
	int r, fd;

	if (agent_have(name, id)) {
		clexp_status_put(w, id, c->host, CLEXP_UP, "", err);
		return;
	}
	r = cldoc_get(w, id, c->host, &doc, &len, err);
	if (r) {
		sup_log(SUP_LOG_WARN, "[%s] no fragment for this host: %s", name, err);
		clexp_status_put(w, id, c->host, CLEXP_FAILED, r == -EBADMSG ?
				 "its fragment in etcd does not check out" : "no fragment for this host",
				 err);
		return;
	}
	clexp_status_put(w, id, c->host, CLEXP_BUILDING, "", err);
	snprintf(path, sizeof(path), "%s/fragment-%s.json", db_state_dir(), id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	r = fd < 0 ? -errno : file_write_all(fd, doc, len);
	if (fd >= 0)
		close(fd);
	free(doc);
	sup_log(SUP_LOG_INFO, "[%s] building this host's part (experiment id %s)", name, id);
	r = r ? r : agent_child(args, name, last);
	unlink(path);
	if (r)
		sup_log(SUP_LOG_WARN, "[%s] failed: %s", name, r < 0 ? strerror(-r) : last);
	clexp_status_put(w, id, c->host, r ? CLEXP_FAILED : CLEXP_UP,
			 r < 0 ? strerror(-r) : r ? last : "", err);
}

/* Remove this host's part of experiment id (vtb down --local NAME). When
 * a vtb down left it here (the host was lost then), give back what it
 * still holds (clexp_finish); else report down, or drop the want of an
 * experiment gone from the cluster. */
static void agent_down(struct etcd *w, const struct clconf *c, const char *id, const char *name,
		       const char *wkey)
{
	const char *args[] = { "down", "--local", name, NULL };
	char key[64], err[UTIL_ERR_LEN], last[UTIL_ERR_LEN], *v = NULL;
	size_t len;
	int r = 0, f;

	if (agent_have(name, id)) {
		sup_log(SUP_LOG_INFO, "[%s] removing this host's part", name);
		r = agent_child(args, name, last);
	}
	f = r ? 0 : clexp_finish(w, id, c->host, err);
	if (f > 0)
		sup_log(SUP_LOG_INFO, "[%s] its vtb down had left this host's part (the host was "
			"lost): removed, and its allocation given back", name);
	if (f < 0)
		sup_log(SUP_LOG_WARN, "[%s] cannot give back what it held here: %s", name, err);
	if (f)
		return;
	snprintf(key, sizeof(key), "/vtb/ids/%s", id);
	if (!r && etcd_get(w, key, &v, &len, NULL, err) == -ENOENT)
		etcd_delete(w, wkey, err);
	else
		clexp_status_put(w, id, c->host, r ? CLEXP_FAILED : CLEXP_DOWN,
				 r < 0 ? strerror(-r) : r ? last : "", err);
	free(v);
}

/* The name and want of a want's value ({"name", "want"}), checked: 0 with
 * *o holding them (the caller's), or -EINVAL. */
static int agent_want_parse(const struct etcd_kv *kv, json_t **o, const char **name,
			    const char **want)
{
	const char *id = strrchr(kv->key, '/') + 1;

	*o = json_loadb(kv->val, kv->len, 0, NULL);
	*name = json_string_value(json_object_get(*o, "name"));
	*want = json_string_value(json_object_get(*o, "want"));
	if (*name && *want && strlen(id) == CLEXP_ID_LEN - 1 && strlen(*name) < CLEXP_NAME_MAX)
		return 0;
	json_decref(*o);
	*o = NULL;
	return -EINVAL;
}

/* Act on one want (key /vtb/want/HOST/ID, value {"name", "want"}) when it
 * is only (CLEXP_UP, CLEXP_DOWN; NULL: either). */
static void agent_want(struct etcd *w, const struct clconf *c, const struct etcd_kv *kv,
		       const char *only)
{
	const char *id = strrchr(kv->key, '/') + 1, *name, *want;
	json_t *o;

	if (agent_want_parse(kv, &o, &name, &want))
		sup_log(SUP_LOG_WARN, "ignored a malformed want at %s", kv->key);
	else if (only && strcmp(want, only))
		;
	else if (!strcmp(want, CLEXP_UP))
		agent_up(w, c, id, name);
	else if (!strcmp(want, CLEXP_DOWN))
		agent_down(w, c, id, name, kv->key);
	json_decref(o);
}

/* The watch's callback: keep the first change, stop the watch. */
struct agent_event {
	struct etcd_kv kv;
	bool got, deleted;
};

static int agent_event(const struct etcd_kv *kv, bool deleted, void *arg)
{
	struct agent_event *ev = arg;

	ev->kv = (struct etcd_kv){ .key = strdup(kv->key), .val = malloc(kv->len + 1),
				   .len = kv->len, .mod_rev = kv->mod_rev };
	if (ev->kv.val) {
		memcpy(ev->kv.val, kv->val, kv->len);
		ev->kv.val[kv->len] = '\0';
	}
	ev->got = ev->kv.key && ev->kv.val;
	ev->deleted = deleted;
	return 1;
}

/* Whether the cluster wants experiment e up here: a want up under its id
 * and name among kv[0..n). */
static bool agent_wanted(const struct db_exp *e, const struct etcd_kv *kv, size_t n)
{
	const char *name, *want;
	bool yes = false;
	json_t *o;
	size_t i;

	for (i = 0; i < n && !yes; i++) {
		if (strcmp(strrchr(kv[i].key, '/') + 1, e->id) || agent_want_parse(&kv[i], &o, &name, &want))
			continue;
		yes = !strcmp(name, e->name) && !strcmp(want, CLEXP_UP);
		json_decref(o);
	}
	return yes;
}

/* Reconcile this host's kernel objects with the cluster's wants kv[0..n),
 * from the local state (the journal): a part the agent built (its model is
 * the agent's fragment file) that is not wanted up any more (downed while
 * the agent was away), or that is wanted but not up (its build was cut
 * short), is removed with vtb down --local; a vtb still acting on it (a
 * build left running by an agent that died) is waited for first. A part
 * that is wanted and up is kept: catching up reports it. */
static void agent_reconcile(const struct etcd_kv *kv, size_t n)
{
	char why[UTIL_ERR_LEN], model[512], last[UTIL_ERR_LEN];
	struct db_exp *v = NULL;
	struct db *db = NULL;
	size_t nv = 0, i;
	int r;

	if (db_open(db_state_dir(), &db, why, sizeof(why)) || db_exp_list(db, &v, &nv))
		goto out;
	for (i = 0; i < nv; i++) {
		const char *args[] = { "down", "--local", v[i].name, NULL };

		snprintf(model, sizeof(model), "%s/fragment-%s.json", db_state_dir(), v[i].id);
		if (strcmp(v[i].model, model) || (v[i].state == DB_UP && agent_wanted(&v[i], kv, n)))
			continue;
		if (v[i].state != DB_UP && v[i].state != DB_FAILED && v[i].owner_pid > 0 &&
		    proc_wait_gone(v[i].owner_pid, v[i].owner_start, AGENT_ORPHAN_WAIT_MS))
			sup_log(SUP_LOG_WARN, "[%s] the vtb acting on it (pid %d) did not end within "
				"%d ms", v[i].name, (int)v[i].owner_pid, AGENT_ORPHAN_WAIT_MS);
		sup_log(SUP_LOG_INFO, "[%s] reconciling: this host's part (id %s) is %s: removing it",
			v[i].name, v[i].id, agent_wanted(&v[i], kv, n) ? "not up" : "not wanted any more");
		r = agent_child(args, v[i].name, last);
		if (r)
			sup_log(SUP_LOG_WARN, "[%s] cannot remove it: %s", v[i].name,
				r < 0 ? strerror(-r) : last);
	}
out:
	free(v);
	db_close(db);
}

/* Catch up: reconcile the local state with the wants, then act on every
 * want, removals first (a name freed before it is built again); *rev the
 * store's revision. */
static int agent_catch_up(struct etcd *w, const struct clconf *c, const char *prefix,
			  int (*stop)(void), int64_t *rev, char *err)
{
	static const char *const order[] = { CLEXP_DOWN, CLEXP_UP };
	struct etcd_kv *kv = NULL;
	size_t n = 0, i, k;
	int r = etcd_range_prefix(w, prefix, &kv, &n, rev, err);

	if (!r)
		agent_reconcile(kv, n);
	for (k = 0; !r && k < UTIL_ARRAY_SIZE(order); k++)
		for (i = 0; i < n && !stop(); i++)
			agent_want(w, c, &kv[i], order[k]);
	etcd_kvs_free(kv, n);
	return r;
}

void agent_wants(struct etcd *w, const struct clconf *c, volatile bool *left, int (*stop)(void))
{
	struct agent_event ev;
	char prefix[96], err[UTIL_ERR_LEN];
	bool caught_up = false;
	int64_t rev = 0;
	int r;

	snprintf(prefix, sizeof(prefix), "/vtb/want/%s/", c->host);
	while (!*left && !stop()) {
		if (!caught_up) {
			r = agent_catch_up(w, c, prefix, stop, &rev, err);
			caught_up = !r;
			if (r) {
				sup_log(SUP_LOG_WARN, "cannot read this host's wants: %s (retrying)", err);
				poll(NULL, 0, AGENT_WATCH_MS); /* etcd is away: try again later */
			}
			continue;
		}
		ev = (struct agent_event){ .got = false };
		r = etcd_watch_prefix(w, prefix, rev + 1, AGENT_WATCH_MS, agent_event, &ev, err);
		if (ev.got) {
			rev = ev.kv.mod_rev > rev ? ev.kv.mod_rev : rev;
			if (!ev.deleted)
				agent_want(w, c, &ev.kv, NULL);
		} else if (r && r != -ETIMEDOUT) {
			/* compacted past rev, a stream cut, etcd away: read all again */
			sup_log(SUP_LOG_WARN, "watching this host's wants: %s (reading them again)", err);
			caught_up = false;
			poll(NULL, 0, AGENT_WATCH_MS);
		}
		free(ev.kv.key);
		free(ev.kv.val);
	}
}
