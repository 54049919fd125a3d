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

#include "clexp.h"
#include "db.h"
#include "etcd.h"
#include "file.h"
#include "sup_log.h"
#include "util.h"

extern char **environ;

/* A child's output is logged line by line; its last line is its error. */
#define AGENT_LINE_MAX 512

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
	char key[128], path[512], err[UTIL_ERR_LEN], last[UTIL_ERR_LEN], *doc = NULL;
	const char *args[] = { "__fragment-up", path, NULL };
	size_t len;
	int r, fd;

	if (agent_have(name, id)) {
		clexp_status_put(w, id, c->host, CLEXP_UP, "", err);
		return;
	}
	snprintf(key, sizeof(key), "/vtb/exp/%s/frag/%s", id, c->host);
	r = etcd_get(w, key, &doc, &len, NULL, err);
	if (r) {
		sup_log(SUP_LOG_WARN, "[%s] no fragment for this host: %s", name, err);
		clexp_status_put(w, id, c->host, CLEXP_FAILED, "no fragment for this host", err);
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

/* Remove this host's part of experiment id (vtb down --local NAME), report
 * down; a want whose experiment is gone from the cluster is removed. */
static void agent_down(struct etcd *w, const struct clconf *c, const char *id, const char *name,
		       const char *wkey)
{
	const char *args[] = { "down", "--local", name, NULL };
	char key[64], err[UTIL_ERR_LEN], last[UTIL_ERR_LEN], *v = NULL;
	size_t len;
	int r = 0;

	if (agent_have(name, id)) {
		sup_log(SUP_LOG_INFO, "[%s] removing this host's part", name);
		r = agent_child(args, name, last);
	}
	clexp_status_put(w, id, c->host, r ? CLEXP_FAILED : CLEXP_DOWN,
			 r < 0 ? strerror(-r) : r ? last : "", err);
	snprintf(key, sizeof(key), "/vtb/ids/%s", id);
	if (!r && etcd_get(w, key, &v, &len, NULL, err) == -ENOENT)
		etcd_delete(w, wkey, err);
	free(v);
}

/* Act on one want (key /vtb/want/HOST/ID, value {"name", "want"}). */
static void agent_want(struct etcd *w, const struct clconf *c, const struct etcd_kv *kv)
{
	const char *id = strrchr(kv->key, '/') + 1, *name, *want;
	json_t *o = json_loadb(kv->val, kv->len, 0, NULL);

	name = json_string_value(json_object_get(o, "name"));
	want = json_string_value(json_object_get(o, "want"));
	if (!name || !want || strlen(id) != CLEXP_ID_LEN - 1 || strlen(name) >= CLEXP_NAME_MAX)
		sup_log(SUP_LOG_WARN, "ignored a malformed want at %s", kv->key);
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

/* Catch up: act on every want there is; *rev the store's revision. */
static int agent_catch_up(struct etcd *w, const struct clconf *c, const char *prefix,
			  int (*stop)(void), int64_t *rev, char *err)
{
	struct etcd_kv *kv = NULL;
	size_t n = 0, i;
	int r = etcd_range_prefix(w, prefix, &kv, &n, rev, err);

	for (i = 0; !r && i < n && !stop(); i++)
		agent_want(w, c, &kv[i]);
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
				agent_want(w, c, &ev.kv);
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
