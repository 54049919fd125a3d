/* vtb capture of a link across hosts: a capture --local per host, merged
 * (capture_cluster.h). */
#include "capture_cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dynlib.h"
#include "pcap_stream.h"
#include "proc.h"
#include "relay.h"
#include "util.h"

/* How long a frame waits for the frames of the other hosts that may come
 * before it: the relay's underlay round trip, the 64 KiB frames it sends
 * and a loaded machine's scheduling fit well within it; a frame of a
 * quiet host is written at most this late. */
#define CAPCL_HOLD_US 500000
/* A host's capture asked to stop (SIGTERM) has this long to end before
 * SIGKILL: it closes its handles and says its counts. */
#define CAPCL_STOP_MS 2000
/* A line of a host's standard error kept whole; longer ones are cut. */
#define CAPCL_LINE 512

/* One host's capture: its process, its streams and what they said. */
struct capcl_child {
	const struct capcl_host *h;
	pid_t pid;
	uint64_t start;
	int out, err;      /* pipes' read ends, -1 once at their end */
	uint8_t *buf;      /* stdout bytes not parsed yet */
	size_t len, cap;
	int swapped;       /* pcap_stream_parse's */
	int64_t last_us;   /* its newest frame's time */
	size_t nif;        /* its interfaces, once it said it is capturing */
	bool ready, ended; /* said "capturing at"; its stream ended */
	char line[CAPCL_LINE];
	size_t linelen;
};

/* A frame waiting for its turn (data owned). */
struct capcl_frame {
	int64_t us;
	uint32_t caplen, len;
	uint8_t *data;
};

/* The merge: the children, the frames waiting in time order, the output. */
struct capcl {
	struct capcl_child *ch;
	size_t n;
	struct capcl_frame *q;
	size_t nq, qcap;
	pcap_dumper_t *d;
	long count, written, late;
	int64_t last_us;
	int status; /* the worst exit status of a host's capture */
};

/* The words a host runs: argv without "-w FILE" (its output is a pipe).
 * A new array of *outc words (the caller frees it, not the words). */
static char **capcl_args(int argc, char **argv, int *outc)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v));
	int i, k = 0;
	bool rest = false;

	for (i = 0; v && i < argc; i++) {
		rest |= !strcmp(argv[i], "--");
		if (!rest && !strcmp(argv[i], "-w") && i + 1 < argc)
			i++;
		else
			v[k++] = argv[i];
	}
	*outc = k;
	return v;
}

/* In the child: run the capture of host h with args (argc words), its
 * output on standard output. Never returns. */
static void capcl_child_run(const struct clconf *c, const struct capcl_host *h, int argc,
			    char **args)
{
	struct relay_io io = { .in = -1, .out = STDOUT_FILENO, .err = STDERR_FILENO };
	char err[UTIL_ERR_LEN], **v;
	int st = CLI_SYSTEM;

	if (h->here) {
		v = calloc((size_t)argc + 3, sizeof(*v));
		if (v) {
			v[0] = (char *)"vtb";
			v[1] = args[0];
			v[2] = (char *)"--local";
			memcpy(v + 3, args + 1, (size_t)(argc - 1) * sizeof(*v));
			execv("/proc/self/exe", v);
		}
		fprintf(stderr, "cannot run vtb capture --local: %s\n", strerror(errno));
		_exit(CLI_SYSTEM);
	}
	if (relay_call(c, h->name, h->addr, argc, args, &io, &st, err)) {
		fprintf(stderr, "cannot reach host '%s': %s\n", h->name, err);
		st = CLI_SYSTEM;
	}
	_exit(st);
}

/* Start host ch->h's capture with its output and error in pipes. 0 or a
 * negative errno. */
static int capcl_start(const struct clconf *c, struct capcl_child *ch, int argc, char **args)
{
	int out[2], err[2];

	ch->out = ch->err = -1;
	ch->swapped = -1;
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		close(out[0]), close(out[1]);
		return -errno;
	}
	fflush(NULL);
	ch->pid = fork();
	if (ch->pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
			_exit(CLI_SYSTEM);
		capcl_child_run(c, ch->h, argc, args);
	}
	close(out[1]);
	close(err[1]);
	if (ch->pid < 0) {
		close(out[0]), close(err[0]);
		return -errno;
	}
	ch->start = proc_start_time(ch->pid);
	ch->out = out[0];
	ch->err = err[0];
	return 0;
}

/* Put frame rec of a host in the queue, in time order (after the frames
 * of the same time). 0 or -ENOMEM. */
static int capcl_queue(struct capcl *m, const struct pcap_stream_rec *rec)
{
	struct capcl_frame f = { .us = rec->sec * 1000000 + rec->usec, .caplen = rec->caplen,
				 .len = rec->len };
	size_t at = m->nq;
	void *q;

	if (m->nq == m->qcap) {
		q = realloc(m->q, (m->qcap * 2 + 16) * sizeof(*m->q));
		if (!q)
			return -ENOMEM;
		m->q = q;
		m->qcap = m->qcap * 2 + 16;
	}
	f.data = malloc(rec->caplen ? rec->caplen : 1);
	if (!f.data)
		return -ENOMEM;
	memcpy(f.data, rec->data, rec->caplen);
	while (at > 0 && m->q[at - 1].us > f.us)
		at--;
	memmove(m->q + at + 1, m->q + at, (m->nq - at) * sizeof(*m->q));
	m->q[at] = f;
	m->nq++;
	return 0;
}

/* Parse what child ch has sent; its frames into the queue. 0, or
 * -EPROTO / -ENOMEM. */
static int capcl_take(struct capcl *m, struct capcl_child *ch)
{
	struct pcap_stream_rec rec;
	size_t at = 0;
	long r;

	while ((r = pcap_stream_parse(ch->buf + at, ch->len - at, &ch->swapped, &rec)) > 0) {
		at += (size_t)r;
		if (!rec.data)
			continue;
		ch->last_us = rec.sec * 1000000 + rec.usec;
		if (capcl_queue(m, &rec))
			return -ENOMEM;
	}
	memmove(ch->buf, ch->buf + at, ch->len - at);
	ch->len -= at;
	return r < 0 ? (int)r : 0;
}

static int64_t capcl_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Whether the queue's first frame may be written: every host still
 * capturing has sent a frame as late, or it has waited CAPCL_HOLD_US
 * (capture timestamps are the hosts' wall clocks), or all is ending. */
static bool capcl_due(const struct capcl *m, bool flush)
{
	size_t i;

	if (!m->nq)
		return false;
	if (flush || capcl_now_us() - m->q[0].us >= CAPCL_HOLD_US)
		return true;
	for (i = 0; i < m->n; i++)
		if (!m->ch[i].ended && m->ch[i].last_us < m->q[0].us)
			return false;
	return true;
}

/* Write the frames that are due, up to the count. 0 or -EIO. */
static int capcl_write(struct capcl *m, bool flush)
{
	struct pcap_pkthdr h;

	while (capcl_due(m, flush) && (!m->count || m->written < m->count)) {
		h = (struct pcap_pkthdr){ .ts = { .tv_sec = m->q[0].us / 1000000,
						  .tv_usec = m->q[0].us % 1000000 },
					  .caplen = m->q[0].caplen, .len = m->q[0].len };
		m->late += m->q[0].us < m->last_us;
		m->last_us = m->q[0].us > m->last_us ? m->q[0].us : m->last_us;
		pcap_dump((u_char *)m->d, &h, m->q[0].data);
		m->written++;
		free(m->q[0].data);
		memmove(m->q, m->q + 1, (--m->nq) * sizeof(*m->q));
	}
	return pcap_dump_flush(m->d) ? -EIO : 0;
}

/* Say one line of host ch's standard error: its "capturing at N
 * interfaces" counts it ready (and once every host is, the line for all);
 * anything else is said with the host's name. */
static void capcl_line(struct capcl *m, struct capcl_child *ch, const char *line)
{
	size_t i, nif = 0, ready = 0;

	if (!ch->ready && sscanf(line, "capturing at %zu interface", &ch->nif) == 1) {
		ch->ready = true;
		for (i = 0; i < m->n; i++) {
			ready += m->ch[i].ready;
			nif += m->ch[i].nif;
		}
		if (ready < m->n)
			return;
		fprintf(stderr, "capturing at %zu interface%s on %zu host%s (", nif, nif == 1 ? "" : "s",
			m->n, m->n == 1 ? "" : "s");
		for (i = 0; i < m->n; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", cli_esc(m->ch[i].h->name));
		fprintf(stderr, ")\n");
		return;
	}
	fprintf(stderr, "%s: %s\n", cli_esc(ch->h->name), cli_esc(line));
}

/* Read what is ready on one of ch's pipes: frames, or lines of its
 * standard error. 0, or a negative errno with the host's name said. */
static int capcl_read(struct capcl *m, struct capcl_child *ch, bool is_out)
{
	uint8_t tmp[65536], *b;
	ssize_t got;
	size_t i;
	int r;

	got = read(is_out ? ch->out : ch->err, tmp, sizeof(tmp));
	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (got == 0) {
		close(is_out ? ch->out : ch->err);
		*(is_out ? &ch->out : &ch->err) = -1;
		ch->ended |= is_out;
		return 0;
	}
	if (!is_out) {
		for (i = 0; i < (size_t)got; i++) {
			if (tmp[i] != '\n' && ch->linelen < sizeof(ch->line) - 1)
				ch->line[ch->linelen++] = (char)tmp[i];
			if (tmp[i] != '\n')
				continue;
			ch->line[ch->linelen] = '\0';
			capcl_line(m, ch, ch->line);
			ch->linelen = 0;
		}
		return 0;
	}
	if (ch->len + (size_t)got > ch->cap) {
		b = realloc(ch->buf, ch->len + (size_t)got);
		if (!b)
			return -ENOMEM;
		ch->buf = b;
		ch->cap = ch->len + (size_t)got;
	}
	memcpy(ch->buf + ch->len, tmp, (size_t)got);
	ch->len += (size_t)got;
	r = capcl_take(m, ch);
	if (r)
		cli_err("capture: host '%s' sent no pcap: %s", cli_esc(ch->h->name), strerror(-r));
	return r;
}

/* Reap host ch's capture, whose output ended: an exit status but 0 is an
 * error (it could not be reached, or its capture failed: it said why). */
static void capcl_reap(struct capcl *m, struct capcl_child *ch)
{
	int ws = 0;

	if (ch->pid <= 0 || waitpid(ch->pid, &ws, 0) != ch->pid)
		return;
	ch->pid = 0;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return;
	cli_err("capture on host '%s' failed (%s %d)", cli_esc(ch->h->name),
		WIFEXITED(ws) ? "exit status" : "signal",
		WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
	if (m->status == CLI_OK)
		m->status = WIFEXITED(ws) && WEXITSTATUS(ws) == CLI_USER ? CLI_USER : CLI_SYSTEM;
}

/* The loop: poll every pipe, queue, write what is due; until the count,
 * a signal, a host's failure or every host's end. 0 or a negative errno. */
static int capcl_loop(struct capcl *m)
{
	struct pollfd fds[2 * m->n];
	struct capcl_child *who[2 * m->n];
	size_t i, k;
	int r = 0, wait_ms;

	while (!r && !cli_stop && m->status == CLI_OK && (!m->count || m->written < m->count)) {
		for (i = 0, k = 0; i < m->n; i++) {
			if (m->ch[i].out >= 0)
				who[k] = &m->ch[i], fds[k++] = (struct pollfd){ .fd = m->ch[i].out,
										.events = POLLIN };
			if (m->ch[i].err >= 0)
				who[k] = &m->ch[i], fds[k++] = (struct pollfd){ .fd = m->ch[i].err,
										.events = POLLIN };
			if (m->ch[i].ended && m->ch[i].err < 0)
				capcl_reap(m, &m->ch[i]);
		}
		if (!k || m->status != CLI_OK)
			break;
		wait_ms = -1;
		if (m->nq)
			wait_ms = (int)((m->q[0].us + CAPCL_HOLD_US - capcl_now_us()) / 1000) + 1;
		if (poll(fds, k, wait_ms < 0 && m->nq ? 0 : wait_ms) < 0) {
			r = errno == EINTR ? 0 : -errno;
			continue;
		}
		for (i = 0; i < k && !r; i++)
			if (fds[i].revents)
				r = capcl_read(m, who[i], fds[i].fd == who[i]->out);
		if (!r)
			r = capcl_write(m, false);
	}
	return r;
}

/* Stop the hosts' captures that still run, close their pipes. */
static void capcl_stop(struct capcl *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		struct capcl_child *ch = &m->ch[i];

		if (ch->pid > 0) {
			proc_stop(ch->pid, ch->start, CAPCL_STOP_MS);
			waitpid(ch->pid, NULL, 0);
		}
		if (ch->out >= 0)
			close(ch->out);
		if (ch->err >= 0)
			close(ch->err);
		free(ch->buf);
	}
	for (i = 0; i < m->nq; i++)
		free(m->q[i].data);
}

/* Open the merged output (-w FILE of argv, or standard output) as a pcap
 * dumper in m->d. CLI_OK, or an exit status after saying why. */
static int capcl_open(struct capcl *m, int argc, char **argv)
{
	char err[UTIL_ERR_LEN], *end;
	const char *file = NULL;
	pcap_t *dead;
	FILE *f;
	int i, st;

	for (i = 1; i + 1 < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-w"))
			file = argv[i + 1];
		if (!strcmp(argv[i], "-c"))
			m->count = strtol(argv[i + 1], &end, 10);
	}
	if (dynlib_open(&dynlib_pcap, err, sizeof(err))) {
		cli_err("capture: %s", err);
		return CLI_SYSTEM;
	}
	st = capture_open_out(file, &f);
	if (st)
		return st;
	dead = pcap_open_dead(DLT_EN10MB, PCAP_STREAM_MAX_FRAME);
	m->d = dead ? pcap_dump_fopen(dead, f) : NULL;
	if (dead)
		pcap_close(dead);
	if (!m->d) {
		cli_err("capture: cannot write the capture");
		if (f != stdout)
			fclose(f);
		return CLI_SYSTEM;
	}
	return CLI_OK;
}

int capcl_run(const struct clconf *c, const struct capcl_host *hosts, size_t n, int argc,
	      char **argv)
{
	struct capcl m = { .n = n };
	char **args;
	size_t i;
	int nargs, r = 0;

	m.status = capcl_open(&m, argc, argv);
	if (m.status)
		return m.status;
	args = capcl_args(argc, argv, &nargs);
	m.ch = calloc(n, sizeof(*m.ch));
	if (!args || !m.ch) {
		m.status = CLI_SYSTEM;
		goto out_close;
	}
	cli_catch_signals();
	for (i = 0; i < n && !r; i++) {
		m.ch[i].h = &hosts[i];
		r = capcl_start(c, &m.ch[i], nargs, args);
		if (r)
			cli_err("capture: cannot start the capture of host '%s': %s",
				cli_esc(hosts[i].name), strerror(-r));
	}
	if (!r)
		r = capcl_loop(&m);
	if (!r && m.status == CLI_OK)
		r = capcl_write(&m, true);
	if (r && m.status == CLI_OK) {
		cli_err("capture: %s", strerror(-r));
		m.status = CLI_SYSTEM;
	}
	fprintf(stderr, "%ld frame%s captured on %zu host%s, merged in time order", m.written,
		m.written == 1 ? "" : "s", n, n == 1 ? "" : "s");
	if (m.late)
		fprintf(stderr, " (%ld came more than %d ms late, out of order)", m.late,
			CAPCL_HOLD_US / 1000);
	fprintf(stderr, "\n");
	capcl_stop(&m);
out_close:
	pcap_dump_close(m.d);
	free(m.ch);
	free(m.q);
	free(args);
	return m.status;
}
