/* netns: named network (and UTS) namespaces, bound as iproute2 binds them
 * (see netns.h and iproute2's ip/ipnetns.c netns_add).
 *
 * A namespace is made in a short-lived thread that unshares, configures and
 * bind-mounts its own /proc/thread-self/ns/{net,uts}: the caller's thread
 * never changes namespace, and the bind mounts keep the namespaces alive
 * after the thread exits. No fork, no exec. */
#include "netns.h"
#include "file.h"
#include "nl.h"
#include "ns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define NETNS_PATH_MAX (sizeof(NETNS_UTS_DIR) + 1 + NAME_MAX + 1)
/* How many bind mounts unbind peels off one file: a namespace is bound
 * once, a few more only when `ip netns` or a crashed run stacked some. */
#define NETNS_UNBIND_MAX 8

/* A name is one path component. */
static bool name_ok(const char *name)
{
	return name && *name && strlen(name) <= NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

static void path_of(char *buf, const char *dir, const char *name)
{
	snprintf(buf, NETNS_PATH_MAX, "%s/%s", dir, name);
}

/* Make dir a mount point with shared propagation, binding it onto itself
 * first when it is not a mount point yet (what `ip netns add` does): an
 * unmount of a bound namespace then reaches every mount namespace that
 * copied it, so the namespace can be freed. */
static int make_shared(const char *dir)
{
	bool bound = false;

	while (mount("", dir, "none", MS_SHARED | MS_REC, NULL)) {
		if (errno != EINVAL || bound)
			return -errno;
		if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL))
			return -errno;
		bound = true;
	}
	return 0;
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

/* Put dir on a tmpfs of its own when it holds nothing yet and is not on
 * one already. The bind files of namespaces are created and removed for
 * every node; where /run is a disk file system (some VMs) each costs a
 * disk metadata update. Nothing is ever hidden: a directory with entries
 * is left as it is. Errors are not fatal: the directory works either way. */
static void tmpfs_if_empty(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf) || sf.f_type == TMPFS_MAGIC || !dir_is_empty(dir))
		return;
	/* a self-bind (what `ip netns add` leaves) goes first, so the tmpfs
	 * does not stack on it */
	while (!umount2(dir, MNT_DETACH) && dir_is_empty(dir))
		;
	mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=16m");
}

static pthread_mutex_t dirs_lock = PTHREAD_MUTEX_INITIALIZER;
static bool dirs_ready;

/* Create the two directories and make them shared mount points, once per
 * process (under a lock, so parallel creators bind them only once). */
static int dirs_prepare(void)
{
	int r = 0;

	pthread_mutex_lock(&dirs_lock);
	if (dirs_ready)
		goto out_unlock;
	if ((r = file_mkdir_p(NETNS_RUN_DIR, 0755)) || (r = file_mkdir_p(NETNS_UTS_DIR, 0755)))
		goto out_unlock;
	tmpfs_if_empty(NETNS_RUN_DIR);
	tmpfs_if_empty(NETNS_UTS_DIR);
	if ((r = make_shared(NETNS_RUN_DIR)) || (r = make_shared(NETNS_UTS_DIR)))
		goto out_unlock;
	dirs_ready = true;
out_unlock:
	pthread_mutex_unlock(&dirs_lock);
	return r;
}

/* An empty file to bind onto; -EEXIST when the name is taken. */
static int file_create(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Unmount (every bind stacked there) and remove path. Gone is success. */
static int unbind(const char *path)
{
	int r = 0, i;

	for (i = 0; i < NETNS_UNBIND_MAX && !umount2(path, MNT_DETACH); i++)
		;
	if (i == 0 && errno != EINVAL && errno != ENOENT)
		r = -errno;
	if (unlink(path) && errno != ENOENT && !r)
		r = -errno;
	return r;
}

struct netns_job {
	const char *hostname, *net_path, *uts_path;
	int r;
};

/* In the new namespace: bring lo up (127.0.0.1 answers, as in any host). */
static int lo_up(void)
{
	struct nl_link_opts up = { .up = true };
	struct nl_sock *s;
	int r;

	r = nl_open(&s, -1);
	if (r)
		return r;
	r = nl_link_set(s, "lo", &up, NULL);
	nl_close(s);
	return r;
}

/* The thread's body: new net + uts namespaces for this thread only, set
 * up, then bound to the two files. Returns 0 or a negative errno; binds
 * already made are undone by the caller. */
static int netns_setup(const struct netns_job *j)
{
	int r;

	if (unshare(CLONE_NEWNET | CLONE_NEWUTS))
		return -errno;
	if (sethostname(j->hostname, strlen(j->hostname)))
		return -errno;
	r = lo_up();
	if (r)
		return r;
	if (mount("/proc/thread-self/ns/net", j->net_path, "none", MS_BIND, NULL))
		return -errno;
	if (mount("/proc/thread-self/ns/uts", j->uts_path, "none", MS_BIND, NULL))
		return -errno;
	return 0;
}

static void *netns_thread(void *arg)
{
	struct netns_job *j = arg;

	j->r = netns_setup(j);
	return NULL;
}

/* Make the two empty files to bind NAME's namespaces onto (paths into
 * net and uts; uts NULL: the network namespace's only), the directories
 * first. -EEXIST when the name is taken; on failure neither file is left. */
static int files_create(const char *name, char *net, char *uts)
{
	int r;

	if (!name_ok(name))
		return -EINVAL;
	r = dirs_prepare();
	if (r)
		return r;
	path_of(net, NETNS_RUN_DIR, name);
	r = file_create(net);
	if (r || !uts)
		return r;
	path_of(uts, NETNS_UTS_DIR, name);
	r = file_create(uts);
	if (r)
		unlink(net);
	return r;
}

/* See netns.h. hostname NULL: the hostname is name; one longer than
 * HOST_NAME_MAX (64) is -EINVAL. The namespaces are made in a thread of
 * their own, so the calling thread keeps its namespaces throughout. */
int netns_create(const char *name, const char *hostname)
{
	char net[NETNS_PATH_MAX], uts[NETNS_PATH_MAX];
	struct netns_job job;
	pthread_t t;
	int r;

	if (!hostname)
		hostname = name;
	if (strlen(hostname) > HOST_NAME_MAX)
		return -EINVAL;
	r = files_create(name, net, uts);
	if (r)
		return r;
	job = (struct netns_job){ .hostname = hostname, .net_path = net, .uts_path = uts };
	r = pthread_create(&t, NULL, netns_thread, &job);
	if (r) {
		unlink(uts);
		unlink(net);
		return -r;
	}
	pthread_join(t, NULL);
	r = job.r;
	if (r) {
		(void)unbind(uts);
		(void)unbind(net);
	}
	return r;
}

/* See netns.h. The UTS namespace is not bound: whatever enters a node
 * does so through its init (noderun_enter), and each bind costs a mount
 * and, at teardown, an unmount that waits for an RCU grace period. */
int netns_bind(const char *name, pid_t pid)
{
	char net[NETNS_PATH_MAX], src[48];
	int r = files_create(name, net, NULL);

	if (r)
		return r;
	snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)pid);
	if (mount(src, net, "none", MS_BIND, NULL)) {
		r = -errno;
		(void)unbind(net);
	}
	return r;
}

/* The inode of the namespace bound at path; 0 when nothing is bound there
 * (no file, or the empty file a bind left when it was undone half way) or
 * it cannot be read. */
static uint32_t bound_ino(const char *path)
{
	struct statfs fs;
	struct stat st;

	if (statfs(path, &fs) || fs.f_type != NSFS_MAGIC || stat(path, &st))
		return 0;
	return (uint32_t)st.st_ino;
}

uint64_t netns_ident(const char *name)
{
	char path[NETNS_PATH_MAX];
	uint64_t net, uts;

	if (!name_ok(name))
		return 0;
	path_of(path, NETNS_RUN_DIR, name);
	net = bound_ino(path);
	path_of(path, NETNS_UTS_DIR, name);
	uts = bound_ino(path);
	return net | uts << 32;
}

/* Unbind path when it holds the namespace of inode want (0: any, or
 * nothing is bound there). 0, NETNS_FOREIGN or a negative errno. */
static int unbind_if(const char *path, uint32_t want)
{
	uint32_t now = bound_ino(path);

	if (want && now && now != want)
		return NETNS_FOREIGN;
	return unbind(path);
}

/* See netns.h. The namespaces go when their last user does (open fds,
 * sockets, processes inside). */
int netns_delete(const char *name, uint64_t ident)
{
	char path[NETNS_PATH_MAX];
	int r, r2;

	if (!name_ok(name))
		return -EINVAL;
	/* a node's bind since the UTS one was dropped (netns_bind): its
	 * network namespace alone is recorded, and a UTS bind under its
	 * name is not its own */
	path_of(path, NETNS_UTS_DIR, name);
	r = !ident || ident >> 32 ? unbind_if(path, (uint32_t)(ident >> 32)) : 0;
	path_of(path, NETNS_RUN_DIR, name);
	r2 = unbind_if(path, (uint32_t)ident);
	if (r < 0 || r2 < 0)
		return r < 0 ? r : r2;
	return r | r2;
}

static int open_in(const char *dir, const char *name)
{
	char path[NETNS_PATH_MAX];
	int fd;

	if (!name_ok(name))
		return -EINVAL;
	path_of(path, dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The caller owns the returned fd. */
int netns_open(const char *name)
{
	return open_in(NETNS_RUN_DIR, name);
}

/* The caller owns the returned fd. */
int netns_open_uts(const char *name)
{
	return open_in(NETNS_UTS_DIR, name);
}

/* 1 when /run/netns/NAME is a bound namespace (an nsfs file), 0 when it
 * is not there or is just a leftover empty file, -EINVAL for a name that
 * is no path component, or the negative errno of a failed look. */
int netns_exists(const char *name)
{
	char path[NETNS_PATH_MAX];
	struct statfs st;

	if (!name_ok(name))
		return -EINVAL;
	path_of(path, NETNS_RUN_DIR, name);
	if (statfs(path, &st))
		return errno == ENOENT ? 0 : -errno;
	return st.f_type == NSFS_MAGIC;
}

struct sysctl_job {
	const char *key, *value;
};

static int sysctl_write(void *arg)
{
	const struct sysctl_job *j = arg;

	return file_sysctl_write(j->key, j->value);
}

/* See netns.h. ns_fd -1: the caller's namespace. */
int netns_sysctl(int ns_fd, const char *key, const char *value)
{
	struct sysctl_job j = { .key = key, .value = value };

	if (ns_fd < 0)
		return sysctl_write(&j);
	return ns_run_in(ns_fd, sysctl_write, &j);
}
