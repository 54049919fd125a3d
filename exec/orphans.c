/* orphans: find and re-record the experiments a lost database forgot. */
#include "orphans.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
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

/* Every entry of dir whose name starts with pre (and then sep, when not
 * 0), as a row of kind, named dir/entry when full. */
static int rows_dir(const char *dir, const char *pre, char sep, bool full, enum db_obj_kind kind,
		    struct db_obj **v, size_t *n, size_t *cap)
{
	size_t len = strlen(pre);
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (e = readdir(d))) {
		if (strncmp(e->d_name, pre, len) || (sep && e->d_name[len] != sep))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			r = -ENAMETOOLONG;
		else
			r = row(v, n, cap, kind, full ? path : e->d_name);
	}
	closedir(d);
	return r;
}

/* Root links whose names start with pre. */
static int rows_links(const char *pre, struct db_obj **v, size_t *n, size_t *cap)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int r = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index && !r; i++)
		if (!strncmp(i->if_name, pre, strlen(pre)))
			r = row(v, n, cap, i->if_name[strlen(pre)] == 'b' ? DB_BRIDGE : DB_LINK,
				i->if_name);
	if_freenameindex(ifs);
	return r;
}

int orphans_adopt(struct db *db, const char *id, struct db_exp *exp)
{
	struct db_obj *v = NULL;
	size_t n = 0, cap = 0;
	char name[32], pre[16];
	int r;

	snprintf(name, sizeof(name), "lost-%s", id);
	snprintf(pre, sizeof(pre), "vtb%s", id);
	/* in creation order, as teardown expects: it goes newest first */
	r = rows_dir(NETNS_RUN_DIR, pre, '-', false, DB_NETNS, &v, &n, &cap);
	if (!r)
		r = rows_links(pre, &v, &n, &cap);
	if (!r)
		r = rows_dir(db_state_dir(), id, '.', true, DB_FILE, &v, &n, &cap);
	if (!r)
		r = row_supervisor(id, &v, &n, &cap);
	if (!r)
		r = db_exp_adopt(db, id, name, exp);
	if (!r && n && (r = db_journal_add(db, id, v, n)))
		db_exp_delete(db, id); /* all or nothing: the next clean tries again */
	free(v);
	return r;
}
