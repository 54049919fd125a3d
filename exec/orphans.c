/* orphans: find and re-record the experiments a lost database forgot. */
#include "orphans.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "proc.h"
#include "supervisor.h"
#include "util.h"

/* How long a lost experiment's supervisor gets to say its pid: it answers
 * a ping at once unless it is stuck, and then it is journaled without. */
#define ORPHANS_PING_MS 2000

/* "hhhh.sock" -> id, or false. */
static bool sock_id(const char *name, char id[DB_ID_LEN + 1])
{
	size_t i;

	if (strlen(name) != DB_ID_LEN + 5 || strcmp(name + DB_ID_LEN, ".sock"))
		return false;
	for (i = 0; i < DB_ID_LEN; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	memcpy(id, name, DB_ID_LEN);
	id[DB_ID_LEN] = '\0';
	return true;
}

int orphans_find(struct db *db, char (**ids)[DB_ID_LEN + 1], size_t *n)
{
	DIR *d = opendir(db_state_dir());
	struct dirent *e;
	struct db_exp x;
	size_t cap = 0;
	char id[DB_ID_LEN + 1];
	int r = 0;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (e = readdir(d))) {
		if (!sock_id(e->d_name, id) || db_exp_get(db, id, &x) != -ENOENT)
			continue;
		r = util_grow((void **)ids, &cap, *n + 1, sizeof(**ids));
		if (!r)
			memcpy((*ids)[(*n)++], id, sizeof(id));
	}
	closedir(d);
	if (r) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return r;
}

/* One journal row. */
static int row(struct db_obj **v, size_t *n, size_t *cap, enum db_obj_kind kind, const char *name)
{
	struct db_obj o = { .kind = kind };

	snprintf(o.name, sizeof(o.name), "%s", name);
	return UTIL_PUSH(*v, *n, *cap, o);
}

/* The supervisor, when it answers: its pid and start time. */
static int row_supervisor(const char *id, struct db_obj **v, size_t *n, size_t *cap)
{
	json_t *reply = NULL;
	int pid, r;

	if (sup_request(id, "ping", ORPHANS_PING_MS, &reply))
		return 0; /* gone, or stuck: its socket file still goes */
	pid = (int)json_integer_value(json_object_get(reply, "pid"));
	json_decref(reply);
	if (pid <= 0)
		return 0;
	r = row(v, n, cap, DB_PROCESS, "supervisor");
	if (!r) {
		(*v)[*n - 1].pid = pid;
		(*v)[*n - 1].start = proc_start_time(pid);
	}
	return r;
}

/* The files "<statedir>/<id>.*". */
static int rows_files(const char *id, struct db_obj **v, size_t *n, size_t *cap)
{
	const char *dir = db_state_dir();
	size_t len = strlen(id);
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (e = readdir(d))) {
		if (strncmp(e->d_name, id, len) || e->d_name[len] != '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			r = -ENAMETOOLONG;
		else
			r = row(v, n, cap, DB_FILE, path);
	}
	closedir(d);
	return r;
}

int orphans_adopt(struct db *db, const char *id, struct db_exp *exp)
{
	struct db_obj *v = NULL;
	size_t n = 0, cap = 0;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "lost-%s", id);
	/* in creation order, as teardown expects: it goes newest first */
	r = build_id_objects(id, &v, &n, &cap);
	if (!r)
		r = rows_files(id, &v, &n, &cap);
	if (!r)
		r = row_supervisor(id, &v, &n, &cap);
	if (!r)
		r = db_exp_adopt(db, id, name, exp);
	if (!r && n && (r = db_journal_add(db, id, v, n)))
		db_exp_delete(db, id); /* all or nothing: the next clean tries again */
	free(v);
	return r;
}
