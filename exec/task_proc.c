/* task_proc: the children of vtb run's commands, their start line, output
 * and waits (see task_proc.h for the barrier). */
#include "task_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* For every child of a task to be ready (forked, in its namespaces, at the
 * start line): a fork and two setns take milliseconds, but a thousand
 * commands on a loaded two-core machine take seconds; ten leaves room and
 * still reports a child stuck before the start line. */
#define TASKS_READY_WAIT_MS 10000
/* The longest a wait polls without looking at the run's stop flag. A
 * signal interrupts the poll (vtb run's handlers have no SA_RESTART), so
 * this only bounds a signal that lands between the look and the poll. */
#define TASKS_STOP_CHECK_MS 1000
#define TASKS_READ_CHUNK 65536

/* A message of a child on the status pipe: smaller than PIPE_BUF, so each
 * write is atomic even with 1000 writers. */
struct tasks_msg {
	uint32_t idx;     /* the child's index in the run's procs */
	uint32_t phase;   /* TASKS_MSG_READY or TASKS_MSG_STARTED */
	int32_t err;      /* READY: 0, or the errno that kept it from getting ready */
	int32_t pad;
	int64_t start_ns; /* STARTED: CLOCK_REALTIME when it saw go */
};

enum { TASKS_MSG_READY = 1, TASKS_MSG_STARTED = 2 };

void task_proc_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Write all of a message from a child; nothing to do when it fails. */
static void task_proc_child_send(int fd, const struct tasks_msg *m)
{
	ssize_t w;

	do
		w = write(fd, m, sizeof(*m));
	while (w < 0 && errno == EINTR);
}

/* The signal C1 gets when vtb run dies (PR_SET_PDEATHSIG). Not SIGTERM:
 * that is what vtb run sends a late command's group, and C1 ignores it so
 * that the command gets its grace second and C1 passes its status on. */
#define TASKS_ORPHAN_SIG SIGUSR1

/* C1's handler of TASKS_ORPHAN_SIG: vtb run is gone, so is its command
 * (the whole process group, C1 included). */
static void task_proc_orphaned(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
}

/* In C1, which entered a container node: fork the command's process C2
 * (in the node's pid namespace) and return in it; C1 waits for C2 and
 * exits with its status (128 + N when killed by signal N), holding no
 * descriptor. When vtb run (parent) dies, C1 kills the group. Returns
 * -errno in C1 when the fork failed. Async-signal-safe. */
static int task_proc_keeper(pid_t parent)
{
	struct sigaction orphan = { .sa_handler = task_proc_orphaned };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	pid_t pid;
	int st;

	sigaction(TASKS_ORPHAN_SIG, &orphan, NULL);
	if (prctl(PR_SET_PDEATHSIG, TASKS_ORPHAN_SIG) || getppid() != parent)
		kill(0, SIGKILL);
	pid = fork();
	if (pid <= 0)
		return pid < 0 ? -errno : 0;
	sigaction(SIGTERM, &ign, NULL);
	sigaction(SIGINT, &ign, NULL);
	syscall(SYS_close_range, 0, ~0U, 0);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* In the child: enter the node (a container's namespaces; a VM has none
 * to enter), get ready, wait for go, exec the node kind's runner. Never
 * returns. Only async-signal-safe calls: the parent may have threads. The
 * descriptors the child gets are O_CLOEXEC, so the command inherits only
 * 0, 1 and 2 (dup2 clears the flag on those). */
static void task_proc_child(uint32_t idx, const struct tasks_node *n, const char *cmd, int go_rd,
			    int go_wr, int msg_wr, int out_wr, int err_wr, pid_t parent)
{
	struct tasks_msg m = { .idx = idx, .phase = TASKS_MSG_READY };
	char c;
	ssize_t got;
	bool rt;
	int devnull;

	close(go_wr);
	if (setpgid(0, 0))
		goto fail;
	if (n->fds.pidfd >= 0 && (noderun_enter(&n->fds) || task_proc_keeper(parent)))
		goto fail;
	/* Wait at the start line with a real-time priority: when go comes,
	 * every child runs at once to note it, ahead of the others' execs and
	 * of the rest of the machine; each drops back to normal scheduling
	 * before its exec, so the command itself runs as usual. Taken here:
	 * after the node's cgroup is joined (a cpu cgroup without real-time
	 * runtime refuses a real-time task) and before node root, which holds
	 * no CAP_SYS_NICE of the host's; the policy stays across setns.
	 * Without the privilege (or in such a cgroup), the children wait at
	 * normal priority. */
	rt = sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 1 }) == 0;
	if (n->fds.pidfd >= 0 && noderun_become_root(&n->fds))
		goto fail;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_wr, 1) < 0 || dup2(err_wr, 2) < 0)
		goto fail;
	task_proc_child_send(msg_wr, &m);
	do
		got = read(go_rd, &c, 1);
	while (got < 0 && errno == EINTR);
	m.phase = TASKS_MSG_STARTED;
	m.start_ns = util_clock_ns(CLOCK_REALTIME);
	task_proc_child_send(msg_wr, &m);
	if (rt)
		sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ .sched_priority = 0 });
	n->exec(n, cmd, m.start_ns);
	_exit(127);
fail:
	m.err = errno ? errno : EIO;
	task_proc_child_send(msg_wr, &m);
	_exit(126);
}

/* A pidfd for pid; the kernel sets O_CLOEXEC on every pidfd. */
static int task_proc_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int task_proc_start(struct tasks_run *r, size_t pi, const struct tasks_node *n, const char *cmd,
		    int go_rd, int go_wr, int msg_wr)
{
	struct tasks_proc *p = &r->procs[pi];
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, e;
	pid_t pid, self = getpid();

	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		task_proc_child((uint32_t)pi, n, cmd, go_rd, go_wr, msg_wr, out[1], err[1], self);
	/* both set the group, so a kill(-pid) cannot come before the child's */
	setpgid(pid, pid);
	p->pid = pid;
	p->pidfd = task_proc_pidfd_open(pid);
	close(out[1]);
	close(err[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	p->out.fd = out[0];
	p->err.fd = err[0];
	if (p->pidfd < 0)
		return -errno;
	return 0;
fail:
	e = errno;
	task_proc_close_fd(&out[0]);
	task_proc_close_fd(&out[1]);
	task_proc_close_fd(&err[0]);
	task_proc_close_fd(&err[1]);
	return -e;
}

/* Read what fd has into s, keeping at most TASKS_OUTPUT_MAX bytes. At EOF
 * (or an error) the fd is closed. */
static void task_proc_stream_read(struct tasks_stream *s)
{
	char chunk[TASKS_READ_CHUNK];
	ssize_t got;
	size_t keep;

	while (s->fd >= 0) {
		got = read(s->fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return;
		if (got <= 0) {
			task_proc_close_fd(&s->fd);
			return;
		}
		keep = s->len < TASKS_OUTPUT_MAX ? TASKS_OUTPUT_MAX - s->len : 0;
		if (keep > (size_t)got)
			keep = (size_t)got;
		if (keep && !util_grow((void **)&s->buf, &s->cap, s->len + keep + 1, 1)) {
			memcpy(s->buf + s->len, chunk, keep);
			s->len += keep;
		} else {
			keep = 0;
		}
		s->dropped += (size_t)got - keep;
	}
}

void task_proc_stream_free(struct tasks_stream *s)
{
	task_proc_close_fd(&s->fd);
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

int task_proc_stream_take(struct tasks_stream *s, char **text, size_t *len)
{
	char tail[80];
	int n = 0;

	task_proc_stream_read(s);
	if (s->dropped)
		n = snprintf(tail, sizeof(tail), "%s[truncated: %llu more bytes]\n",
			     s->len && s->buf[s->len - 1] != '\n' ? "\n" : "",
			     (unsigned long long)s->dropped);
	if (util_grow((void **)&s->buf, &s->cap, s->len + (size_t)n + 1, 1))
		return -ENOMEM;
	memcpy(s->buf + s->len, tail, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	*text = s->buf;
	*len = s->len;
	s->buf = NULL;
	s->len = s->cap = 0;
	return 0;
}

/* Read one message of a child, if there is one. Returns 1 when one was
 * handled, 0 when none waits, or a negative errno (EOF included: -EPIPE). */
static int task_proc_msg_read(struct tasks_run *r, int fd, size_t first, size_t *nready, int *err,
			      size_t *err_idx)
{
	struct tasks_msg m;
	ssize_t got;

	do
		got = read(fd, &m, sizeof(m));
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (got != sizeof(m) || m.idx < first || m.idx >= r->nprocs)
		return -EPIPE; /* EOF, or not one of ours */
	if (m.phase == TASKS_MSG_READY && !r->procs[m.idx].ready) {
		r->procs[m.idx].ready = true;
		(*nready)++;
		if (m.err && !*err) {
			*err = -m.err;
			*err_idx = m.idx;
		}
	} else if (m.phase == TASKS_MSG_STARTED) {
		r->procs[m.idx].start_ns = m.start_ns;
		r->procs[m.idx].started = true;
	}
	return 1;
}

int task_proc_msg_drain(struct tasks_run *r, int msg_rd, size_t first)
{
	size_t nready = 0, err_idx;
	int err = 0, got;

	while ((got = task_proc_msg_read(r, msg_rd, first, &nready, &err, &err_idx)) > 0)
		;
	return got;
}

int task_proc_wait_ready(struct tasks_run *r, size_t first, int msg_rd, size_t *err_idx)
{
	int64_t deadline = util_clock_ns(CLOCK_MONOTONIC) + TASKS_READY_WAIT_MS * 1000000LL;
	size_t nready = 0, want = r->nprocs - first;
	struct pollfd pfd = { .fd = msg_rd, .events = POLLIN };
	int err = 0, got;

	*err_idx = r->nprocs;
	while (nready < want) {
		int64_t left = deadline - util_clock_ns(CLOCK_MONOTONIC);

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(left / 1000000 + 1)) < 0 && errno != EINTR)
			return -errno;
		while ((got = task_proc_msg_read(r, msg_rd, first, &nready, &err, err_idx)) > 0)
			;
		if (got < 0)
			return got;
	}
	return err;
}

/* Reap proc p if it has ended (its pidfd said so). */
static void task_proc_reap(struct tasks_proc *p)
{
	int st;

	if (p->reaped || waitpid(p->pid, &st, WNOHANG) != p->pid)
		return;
	p->reaped = true;
	p->wstatus = st;
	p->end_ns = util_clock_ns(CLOCK_REALTIME);
	task_proc_close_fd(&p->pidfd);
	/* what the command left behind in its group goes with it (background
	 * commands keep theirs until the end of the run) */
	if (!p->background)
		kill(-p->pid, SIGKILL);
}

/* Is procs[i] one a wait is about: the current task's foreground procs
 * (from first), or with background every background one? */
static bool task_proc_waited(const struct tasks_run *r, size_t i, size_t first, bool background)
{
	return r->procs[i].background == background && (background || i >= first);
}

/* Signal the process group of the current task's foreground procs that
 * still run, or of every background proc. A background proc's group is
 * signalled even after its leader ended: what it started there (sh -c
 * 'server &') is meant to stay up until the end of the run. */
void task_proc_signal(struct tasks_run *r, size_t first, bool background, int sig)
{
	size_t i;

	for (i = 0; i < r->nprocs; i++)
		if (task_proc_waited(r, i, first, background) && (background || !r->procs[i].reaped))
			kill(-r->procs[i].pid, sig);
}

/* The number of waited-for procs that still run; with mark_timed_out each
 * of them is marked as stopped at its timeout. */
static size_t task_proc_running(struct tasks_run *r, size_t first, bool background,
				bool mark_timed_out)
{
	size_t i, n = 0;

	for (i = 0; i < r->nprocs; i++) {
		if (!task_proc_waited(r, i, first, background) || r->procs[i].reaped)
			continue;
		n++;
		if (mark_timed_out)
			r->procs[i].timed_out = true;
	}
	return n;
}

/* One poll round over every live proc's pipes and pidfd and the status
 * pipe (*msg_rd, -1 for none), at most timeout_ms. A descriptor that has
 * nothing more to say leaves the set (a pipe at its end, the status pipe
 * once every child has exec'd, the pidfd of a reaped proc): poll reports
 * those ready for ever, and keeping them would spin. Returns 0 or a
 * negative errno. */
static int task_proc_poll_once(struct tasks_run *r, int *msg_rd, size_t first, int timeout_ms)
{
	struct pollfd *pfd;
	size_t n = 0, i, k;
	int rc;

	pfd = calloc(r->nprocs * 3 + 2, sizeof(*pfd));
	if (!pfd)
		return -ENOMEM;
	pfd[n++] = (struct pollfd){ .fd = r->stop_hit ? -1 : r->stop_fd, .events = POLLIN };
	if (*msg_rd >= 0)
		pfd[n++] = (struct pollfd){ .fd = *msg_rd, .events = POLLIN };
	for (i = 0; i < r->nprocs; i++) {
		struct tasks_proc *p = &r->procs[i];

		pfd[n++] = (struct pollfd){ .fd = p->out.fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = p->err.fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = p->reaped ? -1 : p->pidfd, .events = POLLIN };
	}
	rc = poll(pfd, n, timeout_ms);
	if (rc < 0) {
		rc = errno == EINTR ? 0 : -errno;
		goto out_free;
	}
	k = 1;
	if (pfd[0].revents)
		r->stop_hit = true; /* looked at once: it stays readable */
	if (*msg_rd >= 0 && pfd[k++].revents && task_proc_msg_drain(r, *msg_rd, first) < 0)
		*msg_rd = -1; /* at its end: every child has exec'd or died */
	for (i = 0; i < r->nprocs; i++, k += 3) {
		struct tasks_proc *p = &r->procs[i];

		if (pfd[k].revents)
			task_proc_stream_read(&p->out);
		if (pfd[k + 1].revents)
			task_proc_stream_read(&p->err);
		if (pfd[k + 2].revents)
			task_proc_reap(p);
	}
	rc = 0;
out_free:
	free(pfd);
	return rc;
}

int task_proc_wait(struct tasks_run *r, int msg_rd, size_t first, bool background,
		   int64_t deadline_ns, int64_t kill_at_ns)
{
	int64_t kill_at = kill_at_ns;
	bool termed = kill_at_ns != 0, killed = false;
	int e, msg = msg_rd;

	while (task_proc_running(r, first, background, false)) {
		int64_t now = util_clock_ns(CLOCK_MONOTONIC), next = INT64_MAX;
		int timeout_ms = TASKS_STOP_CHECK_MS;

		if (!termed && ((deadline_ns && now >= deadline_ns) || task_proc_stopping(r))) {
			task_proc_running(r, first, background, true);
			task_proc_signal(r, first, background, SIGTERM);
			termed = true;
			kill_at = now + TASKS_KILL_GRACE_NS;
		}
		if (termed && !killed && now >= kill_at) {
			task_proc_signal(r, first, background, SIGKILL);
			killed = true;
		}
		if (!termed && deadline_ns)
			next = deadline_ns;
		else if (termed && !killed)
			next = kill_at;
		if (next != INT64_MAX && (next - now) / 1000000 + 1 < TASKS_STOP_CHECK_MS)
			timeout_ms = (int)((next - now) / 1000000 + 1);
		e = task_proc_poll_once(r, &msg, first, timeout_ms);
		if (e)
			return e;
	}
	return 0;
}
