/* run_cluster: the coordinating side of vtb run across hosts
 * (run_cluster.h; docs/cluster.md, "vtb run across hosts"). */
#include "run_cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clhost.h"
#include "clup.h"
#include "etcd.h"
#include "file.h"
#include "relay.h"
#include "taskmsg.h"
#include "tls.h"

/* How long a part may take to say hello: the relay's connection and TLS
 * handshake (RELAY_CONNECT_MS + RELAY_HANDSHAKE_MS at most), the agent's
 * check of the peer in etcd, and vtb loading the model and opening the
 * nodes there, on a loaded machine under the sanitizers. */
#define RUN_CL_HELLO_MS 20000
/* How long a part may take to make a task's commands ready: the task
 * runner's own bound (TASKS_READY_WAIT_MS, 10 s) and the relay's trip. */
#define RUN_CL_READY_MS 15000
/* How long a part may take to report its background commands once told to
 * end: their grace second (TASKS_KILL_GRACE_NS) and the trip, with room
 * for a loaded machine. */
#define RUN_CL_END_MS 15000
/* How long a part that has reported everything may take to exit. */
#define RUN_CL_EXIT_MS 5000
/* How often the hosts' leases are looked at while a task runs: a lost host
 * is then seen within the lease (CLHOST_LEASE_S) and one look more. */
#define RUN_CL_LIVE_MS 1000
/* Round trips over the relay to measure a host's clock: the shortest
 * counts (NTP's rule); 8 ride out a few slowed by a loaded machine. */
#define RUN_CL_CLOCK_ROUNDS 8
/* The most a host's clock offset may be unknown by (half the shortest
 * round trip): two hosts off by this much in opposite directions still
 * start a task within the 5 ms barrier, with 1 ms for waking up. */
#define RUN_CL_CLOCK_MAX_NS 2000000LL
/* An offset larger than this is said (and corrected for): the hosts'
 * clocks are not synchronised as the records' times would want. */
#define RUN_CL_OFFSET_NOTE_NS 1000000LL
/* The start line is this far in the future at least when the go goes
 * out, and RUN_CL_LEAD_RTTS times the slowest round trip: the go must
 * reach every part before its time, through the relay's processes (the
 * requester's child, the agent's session), each a wake-up that a loaded
 * machine delays by milliseconds (30 ms was not always enough on two busy
 * cores under the sanitizers); a tenth of a second per task is little
 * next to the commands' own time. */
#define RUN_CL_LEAD_MIN_NS 100000000LL
#define RUN_CL_LEAD_RTTS 8
/* A part let go this late says the lead was short: doubled for the next
 * task (up to a second: a relay slower than that is broken), and said. */
#define RUN_CL_LEAD_MAX_NS 1000000000LL
#define RUN_CL_LATE_NS 1000000LL
/* A relay child's exit status when the relay itself failed (it said why). */
#define RUN_CL_RELAY_FAILED 255
#define RUN_CL_READ_CHUNK 65536

struct runcl_part {
	uint32_t host;           /* its index in the cluster's hosts */
	pid_t pid;               /* the part (this host) or the relay's child */
	int in, out;             /* its input (ours to write), its output */
	char *buf;               /* output not yet a whole line */
	size_t len, cap;
	int64_t offset_ns, rtt_ns, clock_ns; /* offset_ns: the one applied */
	int64_t measured_ns;     /* its clock minus ours, as measured */
	int64_t ready, done, failed; /* the last task said ready, done, failed (-2: none) */
	char err[UTIL_ERR_LEN];  /* what it said failed */
	bool hello, lost;
};

struct runcl {
	const struct xir *x;
	const struct rz_cluster *cl;
	struct clconf conf;
	struct etcd *etcd;
	const volatile sig_atomic_t *stop;
	struct runcl_part *p;
	size_t np;
	size_t *ncmd;            /* each task's commands, for the parser */
	int64_t lead_ns;
	int64_t task;            /* the task running, -1: the background ones */
	bool stop_sent;
	struct tasks_result **res; /* where the records go, from first */
	size_t *nres, first;
	char lost[UTIL_ERR_LEN]; /* the first host lost, and when */
};

/* The host name of part p. */
static const char *runcl_host(const struct runcl *c, const struct runcl_part *p)
{
	return c->cl->host[p->host];
}

/* Send line (text, no newline) to part p; a part that cannot take it is
 * left to its end of output, where it is found lost. */
static void runcl_send(struct runcl_part *p, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	if (p->lost || p->in < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n] = '\n';
	if (file_write_all(p->in, line, (size_t)n + 1))
		close(p->in), p->in = -1;
}

/* Send line to every part still there. */
static void runcl_send_all(struct runcl *c, const char *line)
{
	for (size_t i = 0; i < c->np; i++)
		runcl_send(&c->p[i], "%s", line);
}

/* Wait for child pid to end, RUN_CL_EXIT_MS at most (on its pidfd), then
 * kill it; reap it. Its wait status. */
static int runcl_reap(pid_t pid)
{
	struct pollfd p = { .fd = (int)syscall(SYS_pidfd_open, pid, 0), .events = POLLIN };
	int st = 0;

	if (p.fd >= 0 && poll(&p, 1, RUN_CL_EXIT_MS) <= 0)
		kill(pid, SIGKILL);
	if (p.fd >= 0)
		close(p.fd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Part p is lost (why: what happened): its commands are stopped (its
 * connection is cut, and a part whose input ends stops them), the first
 * loss is kept for the run's error, and during a task the others are told
 * to stop theirs. */
static void runcl_lose(struct runcl *c, struct runcl_part *p, const char *why)
{
	if (p->lost)
		return;
	p->lost = true;
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
	if (p->in >= 0)
		close(p->in);
	if (p->out >= 0)
		close(p->out);
	p->in = p->out = -1;
	if (p->pid > 0)
		runcl_reap(p->pid);
	p->pid = -1;
	if (c->lost[0])
		return;
	if (c->task >= 0)
		util_fmt(c->lost, sizeof(c->lost), "host '%s' was lost during task '%s' (%s)",
			 runcl_host(c, p), c->x->tasks[c->task].name, why);
	else
		util_fmt(c->lost, sizeof(c->lost), "host '%s' was lost (%s)", runcl_host(c, p), why);
	if (!c->stop_sent)
		runcl_send_all(c, "stop");
	c->stop_sent = true;
}

/* Merge record v of a command done on several hosts (a link step: each
 * host its side) into d: the later times, the worse exit and status, the
 * outputs one after the other. v's buffers are freed. 0 or -ENOMEM. */
static int runcl_merge(struct tasks_result *d, struct tasks_result *v)
{
	char *out = NULL, *err = NULL;
	int r = 0;

	if (asprintf(&out, "%.*s%.*s", (int)d->outlen, d->out ? d->out : "", (int)v->outlen,
		     v->out ? v->out : "") < 0 ||
	    asprintf(&err, "%.*s%.*s", (int)d->errlen, d->err ? d->err : "", (int)v->errlen,
		     v->err ? v->err : "") < 0) {
		out = NULL;
		r = -ENOMEM;
		goto out_free;
	}
	free(d->out);
	free(d->err);
	d->out = out, d->outlen = d->outlen + v->outlen;
	d->err = err, d->errlen = d->errlen + v->errlen;
	out = err = NULL;
	d->start_ns = v->start_ns > d->start_ns ? v->start_ns : d->start_ns;
	d->end_ns = v->end_ns > d->end_ns ? v->end_ns : d->end_ns;
	d->exit = v->exit > d->exit ? v->exit : d->exit;
	if (d->status == TASKS_OK)
		d->status = v->status;
out_free:
	free(out);
	free(err);
	free(v->out);
	free(v->err);
	return r;
}

/* Record v of part p: its times into this host's clock, merged with the
 * same command's record from another host, or appended. 0 or -ENOMEM. */
static int runcl_record(struct runcl *c, const struct runcl_part *p, struct tasks_result *v)
{
	size_t i, cap = *c->nres;

	v->start_ns -= v->start_ns ? p->offset_ns : 0;
	v->end_ns -= v->end_ns ? p->offset_ns : 0;
	for (i = c->first; i < *c->nres; i++)
		if ((*c->res)[i].task == v->task && (*c->res)[i].cmd == v->cmd)
			return runcl_merge(&(*c->res)[i], v);
	if (util_grow((void **)c->res, &cap, *c->nres + 1, sizeof(**c->res))) {
		free(v->out);
		free(v->err);
		return -ENOMEM;
	}
	(*c->res)[(*c->nres)++] = *v;
	return 0;
}

/* Act on message m of part p. */
static void runcl_handle(struct runcl *c, struct runcl_part *p, struct taskmsg *m)
{
	switch (m->kind) {
	case TASKMSG_HELLO:
		p->hello = true;
		break;
	case TASKMSG_CLOCK:
		p->clock_ns = m->num;
		break;
	case TASKMSG_READY:
		p->ready = m->num;
		break;
	case TASKMSG_DONE:
		p->done = m->num;
		if (m->late_ns > RUN_CL_LATE_NS) {
			cli_err("run: host '%s' let task '%s' go %.1f ms late (the relay was slow): the "
				"next tasks start further ahead", runcl_host(c, p),
				m->num >= 0 ? c->x->tasks[m->num].name : "-", (double)m->late_ns / 1e6);
			c->lead_ns = c->lead_ns * 2 < RUN_CL_LEAD_MAX_NS ? c->lead_ns * 2
									 : RUN_CL_LEAD_MAX_NS;
		}
		break;
	case TASKMSG_ERROR:
		p->failed = m->num;
		snprintf(p->err, sizeof(p->err), "%s", m->text);
		break;
	case TASKMSG_RESULT:
		if (c->res && runcl_record(c, p, &m->res))
			runcl_lose(c, p, "out of memory");
		else if (!c->res)
			free(m->res.out), free(m->res.err);
		break;
	}
}

/* Read what part p has written and act on each whole line; at its end the
 * part is lost, said with how its process ended. */
static void runcl_read(struct runcl *c, struct runcl_part *p)
{
	struct taskmsg m;
	char *nl;
	ssize_t got;
	int st;

	if (util_grow((void **)&p->buf, &p->cap, p->len + RUN_CL_READ_CHUNK, 1))
		return runcl_lose(c, p, "out of memory");
	got = read(p->out, p->buf + p->len, RUN_CL_READ_CHUNK);
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		char why[UTIL_ERR_LEN];

		close(p->out);
		p->out = -1;
		st = runcl_reap(p->pid);
		p->pid = -1;
		if (p->done == -1 && c->task < 0)
			return; /* it reported everything and ended: the run's end */
		if (WIFEXITED(st) && WEXITSTATUS(st) == RUN_CL_RELAY_FAILED && p->host != c->cl->here)
			util_fmt(why, sizeof(why), "the relay to its agent failed");
		else
			util_fmt(why, sizeof(why), "its part of the run ended (%s %d)",
				 WIFEXITED(st) ? "exit" : "signal",
				 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return runcl_lose(c, p, why);
	}
	p->len += (size_t)got;
	while (!p->lost && (nl = memchr(p->buf, '\n', p->len))) {
		size_t n = (size_t)(nl - p->buf);

		if (taskmsg_parse(p->buf, n, c->x->ntasks, c->ncmd, &m))
			return runcl_lose(c, p, "it sent a line that does not parse");
		runcl_handle(c, p, &m);
		memmove(p->buf, nl + 1, p->len - n - 1);
		p->len -= n + 1;
	}
	if (p->len > TASKMSG_LINE_MAX)
		runcl_lose(c, p, "it sent a line too long");
}

/* Look at the leases of the parts' hosts: one whose agent's key is gone
 * is lost. etcd that does not answer says nothing about the hosts. */
static void runcl_live(struct runcl *c)
{
	char key[sizeof(CLHOST_ALIVE_PREFIX) + RZ_HOST_LEN], err[UTIL_ERR_LEN], *val = NULL;
	size_t i, len;

	for (i = 0; c->etcd && i < c->np; i++) {
		struct runcl_part *p = &c->p[i];

		if (p->lost || p->host == c->cl->here)
			continue;
		snprintf(key, sizeof(key), CLHOST_ALIVE_PREFIX "%s", runcl_host(c, p));
		if (etcd_get(c->etcd, key, &val, &len, NULL, err) == -ENOENT)
			runcl_lose(c, p, "its agent does not renew its lease");
		free(val);
		val = NULL;
	}
}

enum runcl_want { RUNCL_HELLO, RUNCL_CLOCK, RUNCL_READY, RUNCL_DONE };

/* Whether part p has said what w wants for task t (or failed, or is lost). */
static bool runcl_said(const struct runcl_part *p, enum runcl_want w, int64_t t)
{
	if (p->lost || (p->failed == t && w != RUNCL_CLOCK))
		return true;
	switch (w) {
	case RUNCL_HELLO:
		return p->hello;
	case RUNCL_CLOCK:
		return p->clock_ns != 0;
	case RUNCL_READY:
		return p->ready == t;
	default:
		return p->done == t;
	}
}

/* Wait until every part (or only part `only`, when not NULL) has said
 * what w wants for task t, timeout_ms at most (0: no bound but the
 * leases): one that has not by then is lost. The run's stop flag sends
 * "stop" once while a task runs. */
static void runcl_wait(struct runcl *c, struct runcl_part *only, enum runcl_want w, int64_t t,
		       int timeout_ms)
{
	int64_t now = util_clock_ns(CLOCK_MONOTONIC), end = now + (int64_t)timeout_ms * 1000000;
	int64_t live = now + RUN_CL_LIVE_MS * 1000000LL;
	struct pollfd pfd[64];
	size_t i, n, k;

	for (;;) {
		for (i = n = 0; i < c->np; i++)
			n += !(only && only != &c->p[i]) && !runcl_said(&c->p[i], w, t);
		if (!n)
			return;
		if (c->stop && *c->stop && w == RUNCL_DONE && !c->stop_sent) {
			runcl_send_all(c, "stop");
			c->stop_sent = true;
		}
		now = util_clock_ns(CLOCK_MONOTONIC);
		if (timeout_ms && now >= end) {
			for (i = 0; i < c->np; i++)
				if (!(only && only != &c->p[i]) && !runcl_said(&c->p[i], w, t))
					runcl_lose(c, &c->p[i], "it did not answer in time");
			return;
		}
		if (now >= live) {
			runcl_live(c);
			live = now + RUN_CL_LIVE_MS * 1000000LL;
		}
		for (i = k = 0; i < c->np && k < UTIL_ARRAY_SIZE(pfd); i++)
			pfd[k++] = (struct pollfd){ .fd = c->p[i].out, .events = POLLIN };
		if (poll(pfd, k, RUN_CL_LIVE_MS / 4) > 0)
			for (i = 0; i < k; i++)
				if (pfd[i].revents && c->p[i].out >= 0)
					runcl_read(c, &c->p[i]);
	}
}

/* In a new child: close every part's descriptors but in and out (the
 * child's own, made last), so that each part's input ends when the
 * coordinator's copy closes. */
static void runcl_child_fds(const struct runcl *c, size_t me)
{
	for (size_t i = 0; i < me; i++) {
		if (c->p[i].in >= 0)
			close(c->p[i].in);
		if (c->p[i].out >= 0)
			close(c->p[i].out);
	}
}

/* Start part i: on this host `vtb run --local NAME --serve` with pipes;
 * on another, a child that relays the same command to the host's agent
 * (relay_call) and exits with its status, or RUN_CL_RELAY_FAILED after
 * saying why. 0 or a negative errno. */
static int runcl_spawn(struct runcl *c, size_t i, const char *name)
{
	char *argv[] = { (char *)"run", (char *)name, (char *)"--serve", NULL };
	struct runcl_part *p = &c->p[i];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, st = 0, r;
	char err[UTIL_ERR_LEN];

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		r = -errno;
		goto out_close;
	}
	p->pid = fork();
	if (p->pid < 0) {
		r = -errno;
		goto out_close;
	}
	if (p->pid == 0) {
		runcl_child_fds(c, i);
		close(in[1]); /* the coordinator's ends: the input must end when its copy closes */
		close(out[0]);
		if (p->host == c->cl->here) {
			setpgid(0, 0); /* a terminal's ^C is the coordinator's to pass on ("stop") */
			if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
				_exit(126);
			execl("/proc/self/exe", "vtb", "run", "--local", name, "--serve", (char *)NULL);
			_exit(127);
		}
		r = relay_call(&c->conf, runcl_host(c, p), c->cl->underlay[p->host], 3, argv,
			       &(struct relay_io){ .in = in[0], .out = out[1], .err = 2 }, &st, err);
		if (r)
			cli_err("run: host '%s': %s", runcl_host(c, p), err);
		_exit(r ? RUN_CL_RELAY_FAILED : st);
	}
	p->in = in[1];
	p->out = out[0];
	in[1] = out[0] = -1;
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	r = 0;
out_close:
	for (int k = 0; k < 2; k++) {
		if (in[k] >= 0)
			close(in[k]);
		if (out[k] >= 0)
			close(out[k]);
	}
	return r;
}

/* Measure part p's clock against ours over its connection, NTP's way: our
 * time t0 when we ask, its time t1, ours t2 when the answer is in; its
 * offset t1 - (t0 + t2) / 2 is known to half the round trip t2 - t0. The
 * shortest of RUN_CL_CLOCK_ROUNDS counts. An offset within that is taken
 * as none (p->offset_ns 0), a larger one is corrected for. */
static void runcl_clock(struct runcl *c, struct runcl_part *p)
{
	int64_t t0, t2;

	p->rtt_ns = INT64_MAX;
	for (int k = 0; k < RUN_CL_CLOCK_ROUNDS && !p->lost; k++) {
		p->clock_ns = 0;
		t0 = util_clock_ns(CLOCK_REALTIME);
		runcl_send(p, "clock");
		runcl_wait(c, p, RUNCL_CLOCK, 0, RUN_CL_HELLO_MS);
		t2 = util_clock_ns(CLOCK_REALTIME);
		if (!p->lost && t2 - t0 < p->rtt_ns) {
			p->rtt_ns = t2 - t0;
			p->offset_ns = p->clock_ns - t0 / 2 - t2 / 2;
		}
	}
	/* within what the measurement can tell, the clocks agree: trust them
	 * (chrony or PTP keep them closer than a round trip over the relay
	 * measures); this host's own clock is this host's */
	p->measured_ns = p->offset_ns;
	if (p->host == c->cl->here || llabs(p->offset_ns) <= p->rtt_ns / 2)
		p->offset_ns = 0;
}

/* The parts' hellos and clocks: 0, or a negative errno with why (a part
 * that failed or was lost; a clock not known well enough without
 * skew_ok). */
static int runcl_check(struct runcl *c, bool skew_ok, char *why, size_t whylen)
{
	int64_t worst = 0;
	size_t i;

	runcl_wait(c, NULL, RUNCL_HELLO, -1, RUN_CL_HELLO_MS);
	for (i = 0; i < c->np; i++) {
		struct runcl_part *p = &c->p[i];

		if (p->failed == -1 || (!p->lost && !p->hello)) {
			util_fmt(why, whylen, "host '%s': %s", runcl_host(c, p), p->err);
			return -EIO;
		}
		if (!p->lost)
			runcl_clock(c, p);
		if (p->lost) {
			util_fmt(why, whylen, "%s", c->lost);
			return -EHOSTDOWN;
		}
		if (p->rtt_ns / 2 > RUN_CL_CLOCK_MAX_NS && !skew_ok) {
			util_fmt(why, whylen, "host '%s': its clock is %+.3f ms from this host's, known to "
				 "%.3f ms only (half the shortest of %d round trips over the relay), more "
				 "than the %.1f ms the task barrier allows (--skew-ok runs all the same)",
				 runcl_host(c, p), (double)p->measured_ns / 1e6, (double)p->rtt_ns / 2e6,
				 RUN_CL_CLOCK_ROUNDS, (double)RUN_CL_CLOCK_MAX_NS / 1e6);
			return -ERANGE;
		}
		if (llabs(p->offset_ns) > RUN_CL_OFFSET_NOTE_NS)
			cli_err("run: host '%s': its clock is %+.3f ms from this host's (synchronise "
				"them: docs/cluster.md); start times are corrected by it",
				runcl_host(c, p), (double)p->offset_ns / 1e6);
		worst = p->rtt_ns > worst ? p->rtt_ns : worst;
	}
	c->lead_ns = RUN_CL_LEAD_RTTS * worst > RUN_CL_LEAD_MIN_NS ? RUN_CL_LEAD_RTTS * worst
								  : RUN_CL_LEAD_MIN_NS;
	return 0;
}

/* Whether any command of x is done on host h. */
static bool runcl_host_has(const struct xir *x, const struct rz_cluster *cl, uint32_t h)
{
	for (size_t t = 0; t < x->ntasks; t++)
		for (size_t k = 0; k < x->tasks[t].ncmd; k++)
			if (tasks_cmd_on_host(x, cl, &x->tasks[t].cmd[k], h))
				return true;
	return false;
}

/* c's parts: one per host with commands (at most 64, what runcl_wait
 * polls), started. 0 or a negative errno with why. */
static int runcl_start(struct runcl *c, const char *name, char *why, size_t whylen)
{
	uint32_t h;
	int r;

	c->p = calloc(c->cl->nhosts, sizeof(*c->p));
	if (!c->p)
		return -ENOMEM;
	for (h = 0; h < c->cl->nhosts; h++) {
		struct runcl_part *p = &c->p[c->np];

		if (!runcl_host_has(c->x, c->cl, h))
			continue;
		if (c->np == 64) {
			util_fmt(why, whylen, "the tasks have commands on more than 64 hosts");
			return -E2BIG;
		}
		*p = (struct runcl_part){ .host = h, .pid = -1, .in = -1, .out = -1, .ready = -2,
					  .done = -2, .failed = -2 };
		c->np++;
		r = runcl_spawn(c, c->np - 1, name);
		if (r) {
			util_fmt(why, whylen, "cannot start the part of host '%s': %s", c->cl->host[h],
				 strerror(-r));
			return r;
		}
	}
	return 0;
}

int runcl_open(const struct xir *x, const struct realization *rz, const char *name, bool skew_ok,
	       const volatile sig_atomic_t *stop, struct runcl **out, char *why, size_t whylen)
{
	struct runcl *c = calloc(1, sizeof(*c));
	char err[UTIL_ERR_LEN];
	int r = c ? 0 : -ENOMEM;

	*out = NULL;
	if (r)
		return r;
	*c = (struct runcl){ .x = x, .cl = rz->cluster, .stop = stop, .task = -1 };
	c->ncmd = calloc(x->ntasks + 1, sizeof(*c->ncmd));
	if (!c->ncmd) {
		r = -ENOMEM;
		goto out_close;
	}
	for (size_t t = 0; t < x->ntasks; t++)
		c->ncmd[t] = x->tasks[t].ncmd;
	if (clup_conf(&c->conf) != 1 || !c->conf.ca[0]) {
		util_fmt(why, whylen, "a run across hosts needs the relay: this host is in no cluster or "
			 "has no certificates (docs/cluster.md, Security)");
		r = -ENOTCONN;
		goto out_close;
	}
	if (tls_etcd_open(&c->conf, &c->etcd, err))
		c->etcd = NULL; /* the leases are then not looked at; the parts still are */
	signal(SIGPIPE, SIG_IGN);
	r = runcl_start(c, name, why, whylen);
	if (!r)
		r = runcl_check(c, skew_ok, why, whylen);
out_close:
	if (r)
		runcl_close(c);
	else
		*out = c;
	return r;
}

/* The first failure of a part for task t into why: 0 when none. */
static int runcl_failure(const struct runcl *c, int64_t t, char *why, size_t whylen)
{
	for (size_t i = 0; i < c->np; i++)
		if (c->p[i].failed == t) {
			util_fmt(why, whylen, "host '%s': %s", runcl_host(c, &c->p[i]), c->p[i].err);
			return -EIO;
		}
	return 0;
}

int runcl_run_task(struct runcl *c, size_t t, struct tasks_result **res, size_t *n, char *why,
		   size_t whylen)
{
	int64_t at;
	size_t i;
	int r;

	c->task = (int64_t)t;
	c->res = res, c->nres = n, c->first = *n;
	c->stop_sent = false;
	for (i = 0; i < c->np; i++)
		runcl_send(&c->p[i], "prepare %zu", t);
	runcl_wait(c, NULL, RUNCL_READY, (int64_t)t, RUN_CL_READY_MS);
	r = runcl_failure(c, (int64_t)t, why, whylen);
	if (!r && c->lost[0]) {
		util_fmt(why, whylen, "%s", c->lost);
		r = -EHOSTDOWN;
	}
	if (r)
		goto out; /* nothing went: the parts that are ready are ended with the run */
	/* one start line for every host, each in its own clock */
	at = util_clock_ns(CLOCK_REALTIME) + c->lead_ns;
	for (i = 0; i < c->np; i++)
		runcl_send(&c->p[i], "go %zu %" PRId64, t, at + c->p[i].offset_ns);
	runcl_wait(c, NULL, RUNCL_DONE, (int64_t)t, 0);
	if (c->lost[0]) {
		util_fmt(why, whylen, "%s; the other hosts' commands were stopped", c->lost);
		r = -EHOSTDOWN;
	} else {
		r = runcl_failure(c, (int64_t)t, why, whylen);
	}
out:
	c->res = NULL;
	return r;
}

int runcl_stop_background(struct runcl *c, struct tasks_result **res, size_t *n, char *why,
			  size_t whylen)
{
	bool lost_before = c->lost[0];

	c->task = -1;
	c->res = res, c->nres = n, c->first = *n;
	runcl_send_all(c, "end");
	runcl_wait(c, NULL, RUNCL_DONE, -1, RUN_CL_END_MS);
	c->res = NULL;
	if (c->lost[0] && !lost_before) {
		util_fmt(why, whylen, "%s", c->lost);
		return -EHOSTDOWN;
	}
	return 0;
}

const char *runcl_stopped_why(const struct runcl *c)
{
	return c && c->lost[0] ? c->lost : NULL;
}

void runcl_close(struct runcl *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->np; i++) {
		struct runcl_part *p = &c->p[i];

		if (p->in >= 0)
			close(p->in); /* its input ends: a part still running stops and ends */
		if (p->pid > 0)
			runcl_reap(p->pid);
		if (p->out >= 0)
			close(p->out);
		free(p->buf);
	}
	etcd_close(c->etcd);
	free(c->p);
	free(c->ncmd);
	free(c);
}

int runcl_elsewhere(const char *name, int argc, char **argv)
{
	struct clconf conf;
	struct db *db = NULL;
	struct db_exp e;
	int r;

	if (clup_conf(&conf) != 1 || geteuid() != 0 || cli_open_db(&db))
		return -1;
	r = db_exp_get(db, name, &e);
	db_close(db);
	return r == -ENOENT ? cli_relay_run(name, argc, argv) : -1;
}

const char *runcl_host_of(const struct xir *x, const struct realization *rz, const char *node)
{
	for (size_t i = 0; i < x->nnodes; i++)
		if (!strcmp(x->nodes[i].name, node))
			return rz->cluster->host[rz->cluster->host_of[i]];
	return "-";
}
