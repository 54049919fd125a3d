/* tasks: the executor of vtb run (see tasks.h).
 *
 * The barrier: each command of a task is a child that gets ready (enters
 * its node, its own process group, its output pipes), writes a "ready"
 * message to the task's status pipe, and blocks reading the task's "go"
 * pipe. When every child is ready the parent closes the go pipe's write
 * end: the kernel wakes all the readers at once with EOF, each notes the
 * time (its start time), reports it and execs /bin/sh -c CMD. The parent
 * then polls the output pipes, the status pipe and a pidfd per child
 * until every foreground command has been reaped or the timeout passed. */
#include "tasks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "netns.h"
#include "util.h"

#define TASKS_READY_WAIT_MS 10000 /* for every child to be ready */
#define TASKS_KILL_GRACE_NS 1000000000LL /* SIGTERM, then SIGKILL this much later */
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

struct tasks_stream {
	int fd;           /* read end (non-blocking), -1 at EOF */
	char *buf;
	size_t len, cap;
	uint64_t dropped; /* bytes beyond TASKS_OUTPUT_MAX */
};

/* A command that runs (or ran) in this run. */
struct tasks_proc {
	size_t task, cmd;
	bool background;
	pid_t pid;        /* also its process group */
	int pidfd;        /* -1 once reaped */
	struct tasks_stream out, err;
	int64_t start_ns, end_ns;
	int wstatus;
	bool reaped, ready, started;
	bool timed_out;   /* stopped at the task's timeout */
	bool stopped;     /* background: stopped at the end of the run */
};

struct tasks_node {
	int net, uts;     /* namespace fds, -1 when no command runs there */
	const char *id;   /* VMs: the experiment, for the supervisor */
	const char *name; /* VMs: the node's name */
	/* The node kind's "start a command" step (container today). */
	int (*start)(struct tasks_run *r, size_t pi, const struct tasks_node *n, const char *cmd,
		     int go_rd, int go_wr, int msg_wr);
};

struct tasks_run {
	const struct xir *x;
	struct tasks_node *nodes;
	struct tasks_proc *procs; /* live: the current task's and the background ones */
	size_t nprocs, cap;
	const volatile sig_atomic_t *stop;
};

const char *tasks_status_name(enum tasks_status s)
{
	static const char *const names[] = { "ok", "failed", "timeout", "expect" };

	return (unsigned)s < UTIL_ARRAY_SIZE(names) ? names[s] : "?";
}

static void tasks_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Write all of a message from a child; nothing to do when it fails. */
static void tasks_child_send(int fd, const struct tasks_msg *m)
{
	ssize_t w;

	do
		w = write(fd, m, sizeof(*m));
	while (w < 0 && errno == EINTR);
}

/* In the child: enter the node, get ready, wait for go, exec. Never
 * returns. Only async-signal-safe calls: the parent may have threads. */
static void tasks_child(uint32_t idx, const struct tasks_node *n, const char *cmd, int go_rd,
			int go_wr, int msg_wr, int out_wr, int err_wr)
{
	struct tasks_msg m = { .idx = idx, .phase = TASKS_MSG_READY };
	char c;
	ssize_t got;
	bool rt;
	int devnull;

	close(go_wr);
	if (setns(n->net, CLONE_NEWNET) || setns(n->uts, CLONE_NEWUTS))
		goto fail;
	if (setpgid(0, 0))
		goto fail;
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_wr, 1) < 0 || dup2(err_wr, 2) < 0)
		goto fail;
	/* Wait at the start line with a real-time priority: when go comes,
	 * every child runs at once to note it, ahead of the others' execs and
	 * of the rest of the machine; each drops back to normal scheduling
	 * before its exec, so the command itself runs as usual. Without the
	 * privilege, the children wait at normal priority. */
	rt = sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 1 }) == 0;
	tasks_child_send(msg_wr, &m);
	do
		got = read(go_rd, &c, 1);
	while (got < 0 && errno == EINTR);
	m.phase = TASKS_MSG_STARTED;
	m.start_ns = util_clock_ns(CLOCK_REALTIME);
	tasks_child_send(msg_wr, &m);
	if (rt)
		sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ .sched_priority = 0 });
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
fail:
	m.err = errno ? errno : EIO;
	tasks_child_send(msg_wr, &m);
	_exit(126);
}

static int tasks_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A backend's "start a command" step: fork procs[pi]'s child (child: the
 * container's or the VM's) with its output pipes; it waits at the start
 * line (go_rd). On success the proc holds the pid, pidfd and the read ends.
 * Returns 0 or a negative errno. */
typedef void (*tasks_child_fn)(uint32_t idx, const struct tasks_node *n, const char *cmd,
			       int go_rd, int go_wr, int msg_wr, int out_wr, int err_wr);

static int tasks_start(struct tasks_run *r, size_t pi, const struct tasks_node *n, const char *cmd,
		       int go_rd, int go_wr, int msg_wr, tasks_child_fn child)
{
	struct tasks_proc *p = &r->procs[pi];
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, e;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child((uint32_t)pi, n, cmd, go_rd, go_wr, msg_wr, out[1], err[1]);
	/* both set the group, so a kill(-pid) cannot come before the child's */
	setpgid(pid, pid);
	p->pid = pid;
	p->pidfd = tasks_pidfd_open(pid);
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
	tasks_close_fd(&out[0]);
	tasks_close_fd(&out[1]);
	tasks_close_fd(&err[0]);
	tasks_close_fd(&err[1]);
	return -e;
}

/* In the child of a VM command: the start line as for a container, then
 * the command through the supervisor's console proxy, by running this
 * program's hidden "__vmexec ID NODE CMD" (an exec: async-signal-safe),
 * whose output and exit status are the command's. */
static void tasks_child_vm(uint32_t idx, const struct tasks_node *n, const char *cmd, int go_rd,
			   int go_wr, int msg_wr, int out_wr, int err_wr)
{
	struct tasks_msg m = { .idx = idx, .phase = TASKS_MSG_READY };
	char c;
	ssize_t got;
	int devnull;

	close(go_wr);
	if (setpgid(0, 0))
		goto fail;
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_wr, 1) < 0 || dup2(err_wr, 2) < 0)
		goto fail;
	tasks_child_send(msg_wr, &m);
	do
		got = read(go_rd, &c, 1);
	while (got < 0 && errno == EINTR);
	m.phase = TASKS_MSG_STARTED;
	m.start_ns = util_clock_ns(CLOCK_REALTIME);
	tasks_child_send(msg_wr, &m);
	execl("/proc/self/exe", "vtb", "__vmexec", n->id, n->name, cmd, (char *)NULL);
	_exit(127);
fail:
	m.err = errno ? errno : EIO;
	tasks_child_send(msg_wr, &m);
	_exit(126);
}

static int tasks_start_container(struct tasks_run *r, size_t pi, const struct tasks_node *n,
				 const char *cmd, int go_rd, int go_wr, int msg_wr)
{
	return tasks_start(r, pi, n, cmd, go_rd, go_wr, msg_wr, tasks_child);
}

/* The VM backend: the same, with the command run over the VM's console. */
static int tasks_start_vm(struct tasks_run *r, size_t pi, const struct tasks_node *n,
			  const char *cmd, int go_rd, int go_wr, int msg_wr)
{
	return tasks_start(r, pi, n, cmd, go_rd, go_wr, msg_wr, tasks_child_vm);
}

/* Open the namespaces of every node a command runs on. */
static int tasks_open_nodes(struct tasks_run *r, const char *id, char *why, size_t whylen)
{
	const struct xir *x = r->x;
	char ns[160];
	size_t t, c;

	for (t = 0; t < x->ntasks; t++) {
		for (c = 0; c < x->tasks[t].ncmd; c++) {
			uint32_t ni = x->tasks[t].cmd[c].node;
			struct tasks_node *n = &r->nodes[ni];

			if (n->net >= 0 || n->start)
				continue;
			if (xir_node_wants_vm(x, ni)) {
				n->id = id;
				n->name = x->nodes[ni].name;
				n->start = tasks_start_vm;
				continue;
			}
			build_netns_name(id, x->nodes[ni].name, ns, sizeof(ns));
			n->net = netns_open(ns);
			n->uts = netns_open_uts(ns);
			if (n->net < 0 || n->uts < 0) {
				int e = n->net < 0 ? n->net : n->uts;

				util_fmt(why, whylen, "cannot open the namespaces of node '%s' (%s): %s",
					  x->nodes[ni].name, ns, strerror(-e));
				return e;
			}
			n->start = tasks_start_container;
		}
	}
	return 0;
}

int tasks_open(const struct xir *x, const char *id, const volatile sig_atomic_t *stop,
	       struct tasks_run **out, char *why, size_t whylen)
{
	struct tasks_run *r;
	struct rlimit rl;
	size_t i;
	int e;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->x = x;
	r->stop = stop;
	r->nodes = calloc(x->nnodes ? x->nnodes : 1, sizeof(*r->nodes));
	if (!r->nodes) {
		free(r);
		return -ENOMEM;
	}
	for (i = 0; i < x->nnodes; i++)
		r->nodes[i].net = r->nodes[i].uts = -1;
	/* three descriptors per command and two per node: use what we may */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	e = tasks_open_nodes(r, id, why, whylen);
	if (e) {
		tasks_close(r);
		return e;
	}
	*out = r;
	return 0;
}

/* Read what fd has into s, keeping at most TASKS_OUTPUT_MAX bytes. At EOF
 * (or an error) the fd is closed. */
static void tasks_stream_read(struct tasks_stream *s)
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
			tasks_close_fd(&s->fd);
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

static void tasks_stream_free(struct tasks_stream *s)
{
	tasks_close_fd(&s->fd);
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

/* Hand the stream's text over (NUL terminated, with a "[truncated]" line
 * when some was dropped). Returns 0 or -ENOMEM. */
static int tasks_stream_take(struct tasks_stream *s, char **text, size_t *len)
{
	char tail[80];
	int n = 0;

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
static int tasks_msg_read(struct tasks_run *r, int fd, size_t first, size_t *nready, int *err,
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

/* Wait until procs[first..nprocs) are all ready, at most
 * TASKS_READY_WAIT_MS. Returns 0, or a negative errno with *err_idx the
 * child that failed to get ready (nprocs when it was a timeout). */
static int tasks_wait_ready(struct tasks_run *r, size_t first, int msg_rd, size_t *err_idx)
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
		while ((got = tasks_msg_read(r, msg_rd, first, &nready, &err, err_idx)) > 0)
			;
		if (got < 0)
			return got;
	}
	return err;
}

/* Reap proc p if it has ended (its pidfd said so). */
static void tasks_reap(struct tasks_proc *p)
{
	int st;

	if (p->reaped || waitpid(p->pid, &st, WNOHANG) != p->pid)
		return;
	p->reaped = true;
	p->wstatus = st;
	p->end_ns = util_clock_ns(CLOCK_REALTIME);
	tasks_close_fd(&p->pidfd);
	/* what the command left behind in its group goes with it (background
	 * commands keep theirs until the end of the run) */
	if (!p->background)
		kill(-p->pid, SIGKILL);
}

/* Signal the process group of the current task's foreground procs that
 * still run, or of every background proc. A background proc's group is
 * signalled even after its leader ended: what it started there (sh -c
 * 'server &') is meant to stay up until the end of the run. */
static void tasks_signal(struct tasks_run *r, size_t first, bool background, int sig)
{
	size_t i;

	for (i = background ? 0 : first; i < r->nprocs; i++) {
		struct tasks_proc *p = &r->procs[i];

		if (p->background == background && (background || !p->reaped))
			kill(-p->pid, sig);
	}
}

/* True while a proc we wait for runs: the current task's foreground ones
 * (from first), or with background every background one. */
static bool tasks_waiting(const struct tasks_run *r, size_t first, bool background)
{
	size_t i;

	for (i = background ? 0 : first; i < r->nprocs; i++)
		if (r->procs[i].background == background && !r->procs[i].reaped)
			return true;
	return false;
}

/* One poll round over every live proc's pipes and pidfd and the status
 * pipe (msg_rd, -1 for none), at most timeout_ms. Returns 0 or a negative
 * errno. */
static int tasks_poll_once(struct tasks_run *r, int msg_rd, size_t first, int timeout_ms)
{
	struct pollfd *pfd;
	size_t n = 0, i, k, nready = 0, err_idx;
	int err = 0, rc;

	pfd = calloc(r->nprocs * 3 + 1, sizeof(*pfd));
	if (!pfd)
		return -ENOMEM;
	if (msg_rd >= 0)
		pfd[n++] = (struct pollfd){ .fd = msg_rd, .events = POLLIN };
	for (i = 0; i < r->nprocs; i++) {
		struct tasks_proc *p = &r->procs[i];

		pfd[n++] = (struct pollfd){ .fd = p->out.fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = p->err.fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = p->pidfd, .events = POLLIN };
	}
	rc = poll(pfd, n, timeout_ms);
	if (rc < 0) {
		rc = errno == EINTR ? 0 : -errno;
		goto out;
	}
	k = 0;
	if (msg_rd >= 0 && pfd[k++].revents)
		while (tasks_msg_read(r, msg_rd, first, &nready, &err, &err_idx) > 0)
			;
	for (i = 0; i < r->nprocs; i++, k += 3) {
		struct tasks_proc *p = &r->procs[i];

		if (pfd[k].revents)
			tasks_stream_read(&p->out);
		if (pfd[k + 1].revents)
			tasks_stream_read(&p->err);
		if (pfd[k + 2].revents)
			tasks_reap(p);
	}
	rc = 0;
out:
	free(pfd);
	return rc;
}

/* Wait for the procs of the current task (first..) or, with background,
 * for the background ones, until they end. deadline_ns (CLOCK_MONOTONIC,
 * 0 for none): then SIGTERM, and SIGKILL TASKS_KILL_GRACE_NS later.
 * kill_at_ns (0 for none): they were sent SIGTERM already; SIGKILL then. */
static int tasks_wait(struct tasks_run *r, int msg_rd, size_t first, bool background,
		      int64_t deadline_ns, int64_t kill_at_ns)
{
	int64_t kill_at = kill_at_ns;
	bool termed = kill_at_ns != 0, killed = false;
	size_t i;
	int e;

	while (tasks_waiting(r, first, background)) {
		int64_t now = util_clock_ns(CLOCK_MONOTONIC), next = INT64_MAX;
		int timeout_ms;

		if (!termed && ((deadline_ns && now >= deadline_ns) || (r->stop && *r->stop))) {
			for (i = background ? 0 : first; i < r->nprocs; i++)
				if (r->procs[i].background == background && !r->procs[i].reaped)
					r->procs[i].timed_out = true;
			tasks_signal(r, first, background, SIGTERM);
			termed = true;
			kill_at = now + TASKS_KILL_GRACE_NS;
		}
		if (termed && !killed && now >= kill_at) {
			tasks_signal(r, first, background, SIGKILL);
			killed = true;
		}
		if (!termed && deadline_ns)
			next = deadline_ns;
		else if (termed && !killed)
			next = kill_at;
		timeout_ms = next == INT64_MAX ? 1000 : (int)((next - now) / 1000000 + 1);
		if (timeout_ms > 1000)
			timeout_ms = 1000; /* look at the stop flag now and then */
		e = tasks_poll_once(r, msg_rd, first, timeout_ms);
		if (e)
			return e;
	}
	return 0;
}

/* Does the command's stdout match its expect? A regex that does not
 * compile (the compiler checks them) does not match. */
static bool tasks_expect_met(const char *re, const char *text, size_t len)
{
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)len };
	regex_t rx;
	bool met;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE))
		return false;
	/* REG_STARTEND: the whole output, NUL bytes included */
	met = !regexec(&rx, text, 1, &m, REG_STARTEND);
	regfree(&rx);
	return met;
}

/* Turn ended proc p into a result appended to *res. The proc's buffers
 * move into the result. Returns 0 or -ENOMEM. */
static int tasks_result_add(struct tasks_run *r, struct tasks_proc *p, struct tasks_result **res,
			    size_t *n)
{
	const struct xir_command *c = &r->x->tasks[p->task].cmd[p->cmd];
	struct tasks_result v = { .task = p->task, .cmd = p->cmd };
	size_t cap = *n;
	int e;

	tasks_stream_read(&p->out);
	tasks_stream_read(&p->err);
	v.start_ns = p->start_ns;
	v.end_ns = p->end_ns;
	if (WIFEXITED(p->wstatus))
		v.exit = WEXITSTATUS(p->wstatus);
	else if (WIFSIGNALED(p->wstatus))
		v.exit = 128 + WTERMSIG(p->wstatus);
	e = tasks_stream_take(&p->out, &v.out, &v.outlen);
	if (!e)
		e = tasks_stream_take(&p->err, &v.err, &v.errlen);
	if (e)
		goto fail;
	if (p->timed_out && !p->background)
		v.status = TASKS_TIMEOUT;
	else if (v.exit && !p->stopped)
		v.status = TASKS_FAILED;
	else if (c->expect && !tasks_expect_met(c->expect, v.out, v.outlen))
		v.status = TASKS_EXPECT;
	else
		v.status = TASKS_OK;
	e = util_grow((void **)res, &cap, *n + 1, sizeof(**res));
	if (e)
		goto fail;
	(*res)[(*n)++] = v;
	return 0;
fail:
	free(v.out);
	free(v.err);
	return -ENOMEM;
}

/* Release proc i's descriptors and buffers and drop it from the live set. */
static void tasks_proc_drop(struct tasks_run *r, size_t i)
{
	struct tasks_proc *p = &r->procs[i];

	tasks_close_fd(&p->pidfd);
	tasks_stream_free(&p->out);
	tasks_stream_free(&p->err);
	memmove(p, p + 1, (r->nprocs - i - 1) * sizeof(*p));
	r->nprocs--;
}

/* Kill and reap procs[first..nprocs) (a task that could not start) and
 * drop them. */
static void tasks_abort(struct tasks_run *r, size_t first)
{
	size_t i;

	for (i = first; i < r->nprocs; i++) {
		struct tasks_proc *p = &r->procs[i];

		if (p->pid > 0 && !p->reaped) {
			kill(p->pid, SIGKILL);
			kill(-p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
		} else if (p->pid > 0 && p->background) {
			kill(-p->pid, SIGKILL);
		}
	}
	while (r->nprocs > first)
		tasks_proc_drop(r, r->nprocs - 1);
}

/* Add procs for task t's commands and start each on its node. go_rd/go_wr
 * is the start line, msg_wr the status pipe. Returns 0 or a negative errno
 * (why says which node). */
static int tasks_start_all(struct tasks_run *r, size_t t, int go_rd, int go_wr, int msg_wr,
			   char *why, size_t whylen)
{
	const struct xir_task *task = &r->x->tasks[t];
	size_t c;
	int e;

	e = util_grow((void **)&r->procs, &r->cap, r->nprocs + task->ncmd, sizeof(*r->procs));
	if (e)
		return e;
	for (c = 0; c < task->ncmd; c++) {
		const struct xir_command *cmd = &task->cmd[c];
		const struct tasks_node *n = &r->nodes[cmd->node];
		struct tasks_proc *p = &r->procs[r->nprocs];

		memset(p, 0, sizeof(*p));
		p->task = t;
		p->cmd = c;
		p->background = cmd->background;
		p->pidfd = p->out.fd = p->err.fd = -1;
		r->nprocs++;
		e = n->start(r, r->nprocs - 1, n, cmd->cmd, go_rd, go_wr, msg_wr);
		if (e) {
			util_fmt(why, whylen, "cannot start a command on node '%s': %s",
				  r->x->nodes[cmd->node].name, strerror(-e));
			return e;
		}
	}
	return 0;
}

/* Collect the results of the current task's foreground procs, drop them,
 * keep its background ones. */
static int tasks_collect(struct tasks_run *r, size_t first, struct tasks_result **res, size_t *n)
{
	size_t i = first;
	int e = 0;

	while (i < r->nprocs) {
		if (r->procs[i].background) {
			i++;
			continue;
		}
		if (!e)
			e = tasks_result_add(r, &r->procs[i], res, n);
		tasks_proc_drop(r, i);
	}
	return e;
}

int tasks_run_task(struct tasks_run *r, size_t t, struct tasks_result **res, size_t *n,
		   char *why, size_t whylen)
{
	const struct xir_task *task = &r->x->tasks[t];
	size_t first = r->nprocs, i, bad;
	int go[2] = { -1, -1 }, msg[2] = { -1, -1 }, e;
	int64_t go_ns, deadline;

	if (pipe2(go, O_CLOEXEC) || pipe2(msg, O_CLOEXEC)) {
		e = -errno;
		util_fmt(why, whylen, "cannot make pipes: %s", strerror(-e));
		goto out;
	}
	fcntl(msg[0], F_SETFL, O_NONBLOCK);
	e = tasks_start_all(r, t, go[0], go[1], msg[1], why, whylen);
	if (!e) {
		e = tasks_wait_ready(r, first, msg[0], &bad);
		if (e && bad < r->nprocs)
			util_fmt(why, whylen, "cannot enter node '%s': %s",
				  r->x->nodes[task->cmd[r->procs[bad].cmd].node].name, strerror(-e));
		else if (e)
			util_fmt(why, whylen, "the commands of task '%s' did not get ready: %s",
				  task->name, strerror(-e));
	}
	if (e) {
		tasks_abort(r, first);
		goto out;
	}
	/* the start line: every child waits in read(go[0]); EOF wakes them all */
	go_ns = util_clock_ns(CLOCK_REALTIME);
	tasks_close_fd(&go[1]);
	tasks_close_fd(&msg[1]);
	for (i = first; i < r->nprocs; i++)
		r->procs[i].start_ns = go_ns; /* until the child says when it saw go */
	deadline = task->timeout_ns > 0 ? util_clock_ns(CLOCK_MONOTONIC) + task->timeout_ns : 0;
	e = tasks_wait(r, msg[0], first, false, deadline, 0);
	if (e) {
		util_fmt(why, whylen, "cannot wait for the commands of task '%s': %s", task->name,
			  strerror(-e));
		tasks_abort(r, first);
		goto out;
	}
	/* the last STARTED messages may still be in the pipe */
	for (;;) {
		size_t nready = 0, bi;
		int err = 0;

		if (tasks_msg_read(r, msg[0], first, &nready, &err, &bi) <= 0)
			break;
	}
	e = tasks_collect(r, first, res, n);
out:
	tasks_close_fd(&go[0]);
	tasks_close_fd(&go[1]);
	tasks_close_fd(&msg[0]);
	tasks_close_fd(&msg[1]);
	return e;
}

int tasks_stop_background(struct tasks_run *r, struct tasks_result **res, size_t *n)
{
	size_t i;
	int e = 0;

	for (i = 0; i < r->nprocs; i++)
		if (r->procs[i].background && !r->procs[i].reaped)
			r->procs[i].stopped = true;
	tasks_signal(r, 0, true, SIGTERM);
	e = tasks_wait(r, -1, 0, true, 0, util_clock_ns(CLOCK_MONOTONIC) + TASKS_KILL_GRACE_NS);
	/* what the background commands left in their groups goes now */
	tasks_signal(r, 0, true, SIGKILL);
	i = 0;
	while (i < r->nprocs) {
		if (!r->procs[i].background || !r->procs[i].reaped) {
			i++;
			continue;
		}
		if (!e)
			e = tasks_result_add(r, &r->procs[i], res, n);
		tasks_proc_drop(r, i);
	}
	return e;
}

void tasks_close(struct tasks_run *r)
{
	size_t i;

	if (!r)
		return;
	tasks_abort(r, 0);
	for (i = 0; i < r->x->nnodes; i++) {
		tasks_close_fd(&r->nodes[i].net);
		tasks_close_fd(&r->nodes[i].uts);
	}
	free(r->nodes);
	free(r->procs);
	free(r);
}

void tasks_results_free(struct tasks_result *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].out);
		free(v[i].err);
	}
	free(v);
}
