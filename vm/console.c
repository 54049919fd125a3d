/* console: the command-shell proxy (see console.h for the protocol). */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "con_stream.h"
#include "usock.h"

/* The raw bytes kept for error messages: a screenful of boot messages. */
#define CON_TAIL 8192
/* One read: a serial console rarely has more than a few KiB waiting; a
 * pty in the tests gives up to 64 KiB at once. */
#define CON_READ 65536
/* How often an unanswered console is poked while it boots (the setup line,
 * then a Ctrl-C half a period later): a TCG guest's shell answers in tens
 * of ms once it runs, and a poke more often than this only adds echo. */
#define CON_RESEND_MS 500
/* The period doubles every two pokes up to this: a guest held to a small
 * CPU share (docs/limits.md) on a loaded host can take longer than half a
 * period to answer the setup line, and a Ctrl-C that always comes first
 * would keep it from ever answering. */
#define CON_RESEND_MAX_MS 8000
/* After a timeout, how long the prompt has to come back after Ctrl-C
 * before the console counts as out of sync. */
#define CON_INTR_WAIT_MS 1000
/* Sending a line or an attached user's keys: the guest's tty drains the
 * serial port at 85 KB/s, so 5 s means the guest is not reading at all. */
#define CON_SEND_MS 5000

struct con {
	int fd;
	bool sock;              /* send() with MSG_NOSIGNAL works */
	bool ready;             /* the shell has our prompt and no command runs */
	char id[17];            /* random, per console: prompt and markers carry it */
	unsigned long long seq; /* per command */
	struct con_stream st;   /* the parser of what the console says */
	char *rbuf;             /* the last read (CON_READ bytes) */
	char tail[CON_TAIL];    /* the last raw bytes, for error messages */
	size_t tlen;
	/* con_hold_pokes: no poke before the guest printed hold_marker, or
	 * before hold_until (monotonic ms); hold_until 0: no hold */
	char hold_marker[32];
	long long hold_until;
};

static int ms_left(long long deadline)
{
	long long left = deadline - util_mono_ms();

	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static void random_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];
	size_t k = n / 2 < sizeof(r) ? n / 2 : sizeof(r);

	if (getrandom(r, k, GRND_NONBLOCK) != (ssize_t)k) {
		unsigned long long x = (unsigned long long)util_mono_ms() * 6364136223846793005ULL ^ (unsigned)getpid();

		for (size_t i = 0; i < k; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
			r[i] = (unsigned char)(x >> 56);
	}
	for (size_t i = 0; i < k; i++) {
		buf[2 * i] = hex[r[i] >> 4];
		buf[2 * i + 1] = hex[r[i] & 15];
	}
	buf[2 * k] = '\0';
}

int con_open_fd(int fd, struct con **out)
{
	struct con *c = calloc(1, sizeof(*c));
	char prompt[40];
	struct stat st;
	int fl;

	if (c)
		c->rbuf = malloc(CON_READ);
	if (!c || !c->rbuf) {
		free(c);
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	random_hex(c->id, sizeof(c->id));
	snprintf(prompt, sizeof(prompt), "__vtb_%s__# ", c->id);
	con_stream_init(&c->st, prompt);
	*out = c;
	return 0;
}

int con_connect(const char *unix_path, int timeout_ms, struct con **out)
{
	int fd = usock_connect(unix_path, timeout_ms, -1);

	if (fd == -ENOENT || fd == -ECONNREFUSED || fd == -EAGAIN)
		return -ETIMEDOUT;
	return fd < 0 ? fd : con_open_fd(fd, out);
}

int con_fd(const struct con *c)
{
	return c->fd;
}

void con_close(struct con *c)
{
	if (!c)
		return;
	close(c->fd);
	con_stream_free(&c->st);
	free(c->rbuf);
	free(c);
}

size_t con_tail(const struct con *c, char *buf, size_t len)
{
	size_t n;

	if (!len)
		return 0;
	n = c->tlen < len - 1 ? c->tlen : len - 1;
	memcpy(buf, c->tail + c->tlen - n, n);
	buf[n] = '\0';
	return n;
}

/* The setup line c sends while it waits for the shell (con_send_setup),
 * without its newlines. Returns its length. */
static int setup_line(const struct con *c, char *buf, size_t len)
{
	return snprintf(buf, len, "stty -echo 2>/dev/null; PS1='_''_vtb_%s__# '; PS2=''; unset HISTFILE",
			c->id);
}

/* Whether line (n bytes, no newline) is only the tty's echo of c's pokes:
 * pieces of the setup line and Ctrl-Cs ("^C" with ECHOCTL). */
static bool poke_echo(const char *setup, const char *line, size_t n)
{
	size_t slen = strlen(setup);

	for (;;) {
		const char *cc = memmem(line, n, "^C", 2);
		size_t k = cc ? (size_t)(cc - line) : n;

		if (k && !memmem(setup, slen, line, k))
			return false;
		if (!cc)
			return true;
		line += k + 2;
		n -= k + 2;
	}
}

size_t con_tail_guest(const struct con *c, char *buf, size_t len, unsigned *pokes)
{
	char setup[160];
	const char *end = c->tail + c->tlen;
	size_t used = len ? len - 1 : 0;

	setup_line(c, setup, sizeof(setup));
	*pokes = 0;
	if (!len)
		return 0;
	/* from the last line back: the newest lines that fit */
	while (end > c->tail) {
		const char *nl = end, *start;
		size_t n;

		while (nl > c->tail && nl[-1] != '\n')
			nl--;
		start = nl;
		n = (size_t)(end - start);
		while (n && (start[n - 1] == '\r' || start[n - 1] == ' '))
			n--;
		end = nl > c->tail ? nl - 1 : c->tail;
		if (!n)
			continue;
		if (poke_echo(setup, start, n)) {
			(*pokes)++;
			continue;
		}
		if (n + 1 > used)
			break;
		used -= n + 1;
		memcpy(buf + used, start, n);
		buf[used + n] = '\n';
	}
	memmove(buf, buf + used, len - 1 - used);
	buf[len - 1 - used] = '\0';
	return len - 1 - used;
}

static void tail_add(struct con *c, const char *p, size_t n)
{
	if (n >= CON_TAIL) {
		memcpy(c->tail, p + n - CON_TAIL, CON_TAIL);
		c->tlen = CON_TAIL;
		return;
	}
	if (c->tlen + n > CON_TAIL) {
		size_t drop = c->tlen + n - CON_TAIL;

		memmove(c->tail, c->tail + drop, c->tlen - drop);
		c->tlen -= drop;
	}
	memcpy(c->tail + c->tlen, p, n);
	c->tlen += n;
}

/* Read what is there (without waiting) into rbuf and feed it to the
 * parser. Returns the number of bytes read (0: nothing yet), -EPIPE when
 * the console closed, -ENOMEM. */
/* Whether pokes of c are held back now (con_hold_pokes); a hold ends for
 * good once its marker is in what the console said or its time is up. */
static bool con_held(struct con *c, long long now)
{
	if (!c->hold_until)
		return false;
	if (now >= c->hold_until ||
	    memmem(c->tail, c->tlen, c->hold_marker, strlen(c->hold_marker)))
		c->hold_until = 0;
	return c->hold_until != 0;
}

void con_hold_pokes(struct con *c, const char *marker, int hold_ms)
{
	snprintf(c->hold_marker, sizeof(c->hold_marker), "%s", marker);
	c->hold_until = util_mono_ms() + hold_ms;
}

static int con_read_once(struct con *c)
{
	ssize_t n;
	int r;

	do
		n = read(c->fd, c->rbuf, CON_READ);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	/* a pty master whose shell is gone reads EIO; a socket 0 or ECONNRESET */
	if (n == 0 || (n < 0 && (errno == EIO || errno == ECONNRESET)))
		return -EPIPE;
	if (n < 0)
		return -errno;
	tail_add(c, c->rbuf, (size_t)n);
	r = con_stream_feed(&c->st, (const uint8_t *)c->rbuf, (size_t)n);
	return r < 0 ? r : (int)n;
}

/* Wait for data until the deadline and read it. n > 0, -ETIMEDOUT, -EPIPE. */
static int con_recv(struct con *c, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int r = poll(&p, 1, ms_left(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		r = con_read_once(c);
		if (r)
			return r;
		if (util_mono_ms() >= deadline)
			return -ETIMEDOUT;
	}
}

/* Throw away everything the console has said so far. */
static int con_drain(struct con *c)
{
	int r;

	con_stream_reset(&c->st);
	while ((r = con_read_once(c)) > 0)
		;
	return r;
}

static int con_send(struct con *c, const char *p, size_t n, long long deadline)
{
	while (n) {
		struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
		ssize_t w;
		int r;

		w = c->sock ? send(c->fd, p, n, MSG_NOSIGNAL) : write(c->fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == EPIPE || errno == EIO || errno == ECONNRESET ? -EPIPE : -errno;
		r = poll(&pf, 1, ms_left(deadline));
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Read until the parser has what it expects (con_stream phase
 * CON_DONE). 0, -ETIMEDOUT, -EPIPE, -ENOMEM. */
static int con_run(struct con *c, long long deadline)
{
	int r = con_stream_feed(&c->st, NULL, 0);

	while (r == 0) {
		r = con_recv(c, deadline);
		if (r > 0)
			r = c->st.phase == CON_DONE;
	}
	return r < 0 ? r : 0;
}

/* ---- readiness ----------------------------------------------------------- */

/* The setup line. The prompt is written as '_''_vtb_...' so that its echo
 * (before stty -echo takes effect) does not contain the prompt itself. */
static int con_send_setup(struct con *c, long long deadline)
{
	char line[160];
	int n;

	line[0] = '\n';
	n = 1 + setup_line(c, line + 1, sizeof(line) - 2);
	line[n++] = '\n';
	return con_send(c, line, (size_t)n, deadline);
}

/* Where one console of con_wait_ready_many stands. */
struct ready_st {
	bool pending;      /* still waiting for its prompt */
	unsigned sent;     /* actions so far: even ones send the setup, odd ones Ctrl-C */
	long long next;    /* time of the next action */
};

/* The next poke of a console that has not answered: the setup line, or
 * (half a period later, when that got no answer) a Ctrl-C, the period
 * doubling every two pokes up to CON_RESEND_MAX_MS, which makes the
 * tty drop what is queued and the shell drop a half-read line (an open
 * quote left by an attached user, a line mangled during boot) or stop a
 * command left running. */
static int ready_poke(struct con *c, struct ready_st *st, long long now)
{
	long long period = (long long)CON_RESEND_MS << (st->sent / 2 < 4 ? st->sent / 2 : 4);
	int r = st->sent % 2 ? con_send(c, "\003", 1, now + CON_RESEND_MS / 2)
			     : con_send_setup(c, now + CON_RESEND_MS / 2);

	st->sent++;
	st->next = now + (period < CON_RESEND_MAX_MS ? period : CON_RESEND_MAX_MS) / 2;
	return r == -ETIMEDOUT ? 0 : r;
}

/* One round of con_wait_ready_many: poke the consoles that are due, poll,
 * read, look for prompts. */
static int ready_round(struct con *const *cs, size_t n, int *res, struct ready_st *st,
		       struct pollfd *pf, long long deadline)
{
	long long now = util_mono_ms(), wake = deadline;
	size_t np = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		bool held;

		if (!st[i].pending)
			continue;
		held = con_held(cs[i], now);
		if (!held && now >= st[i].next && (r = ready_poke(cs[i], &st[i], now))) {
			res[i] = r;
			st[i].pending = false;
			continue;
		}
		if (held && cs[i]->hold_until < wake)
			wake = cs[i]->hold_until;
		else if (!held && st[i].next < wake)
			wake = st[i].next;
		pf[np].fd = cs[i]->fd;
		pf[np].events = POLLIN;
		pf[np].revents = 0;
		np++;
	}
	if (!np)
		return 0;
	r = poll(pf, np, ms_left(wake));
	if (r < 0 && errno != EINTR)
		return -errno;
	np = 0;
	for (size_t i = 0; i < n; i++) {
		if (!st[i].pending || !pf[np++].revents)
			continue;
		r = con_read_once(cs[i]);
		if (r < 0) {
			res[i] = r;
			st[i].pending = false;
		} else if (cs[i]->st.phase == CON_DONE) {
			cs[i]->ready = true;
			res[i] = 0;
			st[i].pending = false;
		}
	}
	return 0;
}

static int wait_ready_until(struct con *const *cs, size_t n, long long deadline, int *res)
{
	struct ready_st *st = calloc(n ? n : 1, sizeof(*st));
	struct pollfd *pf = calloc(n ? n : 1, sizeof(*pf));
	int r = 0, left = 0;

	if (!st || !pf) {
		r = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		cs[i]->ready = false;
		res[i] = -ETIMEDOUT;
		st[i].pending = true;
		con_stream_want_prompt(&cs[i]->st);
	}
	for (;;) {
		bool any = false;

		for (size_t i = 0; i < n; i++)
			any |= st[i].pending;
		if (!any || util_mono_ms() >= deadline)
			break;
		r = ready_round(cs, n, res, st, pf, deadline);
		if (r)
			goto out_free;
	}
	for (size_t i = 0; i < n; i++)
		left += res[i] != 0;
	r = left;
out_free:
	free(st);
	free(pf);
	return r;
}

int con_wait_ready_many(struct con *const *cs, size_t n, int timeout_ms, int *res)
{
	return wait_ready_until(cs, n, util_mono_ms() + timeout_ms, res);
}

int con_wait_ready(struct con *c, int timeout_ms)
{
	int res, r = con_wait_ready_many(&c, 1, timeout_ms, &res);

	return r < 0 ? r : res;
}

/* ---- commands ------------------------------------------------------------ */

/* Whether cmd fits on one canonical tty line as we send it. */
static int check_cmd(const char *cmd)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)cmd; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return -EINVAL;
		n += *p == '\'' ? 4 : 1;
	}
	return n > CON_CMD_MAX ? -E2BIG : 0;
}

/* The line for cmd with nonce: see console.h. It starts with ": ;": a stray
 * byte left on the shell's line (seen under TCG after the Ctrl-C retries of
 * a resync) then spoils that no-op ("/bin/sh: X:: not found") instead of
 * the start marker's printf, which would leave con_exec waiting for a
 * marker that never comes. The command runs in a subshell of a subshell:
 * the outer one is the job (the shell has job control on its console, so
 * the job has a process group of its own, g, read from /proc/self/stat by
 * the builtin read) and ends that group with SIGTERM, which it ignores
 * itself, when the command ends or Ctrl-C interrupts it: what the command
 * left in the background (which ignores Ctrl-C) goes too. It does not when
 * g is the shell's own group (no job control): the shell would go with it. */
static void build_line(struct util_buf *b, const char *cmd, const char *nonce)
{
	util_buf_printf(b,
			": ; printf '__vtb_s%%s__\\n' %s; (read -r x x x x g x </proc/self/stat; "
			"trap 'trap \"\" TERM; [ \"$g\" != $$ ] && kill -TERM 0; exit 130' INT; (eval '",
			nonce);
	for (const char *p = cmd; *p; p++) {
		if (*p == '\'')
			util_buf_puts(b, "'\\''");
		else
			util_buf_append(b, p, 1);
	}
	util_buf_printf(b,
			"') </dev/null; s=$?; trap '' TERM; [ \"$g\" != $$ ] && kill -TERM 0; exit $s); "
			"printf '\\n__vtb_e%%s_%%d__\\n' %s \"$?\"\n",
			nonce);
}

/* After a timeout: interrupt the command and see whether the prompt comes
 * back; if not, the console is out of sync. */
static int interrupt(struct con *c)
{
	long long deadline = util_mono_ms() + CON_INTR_WAIT_MS;
	int r;

	c->st.out = NULL;
	con_stream_want_prompt(&c->st);
	r = con_send(c, "\003", 1, deadline);
	if (r == 0)
		r = con_run(c, deadline);
	if (r) {
		c->ready = false;
		return r == -EPIPE ? -EPIPE : -ETIMEDOUT;
	}
	return -ETIMEDOUT;
}

int con_exec(struct con *c, const char *cmd, int timeout_ms, struct util_buf *out, int *status)
{
	long long deadline = util_mono_ms() + timeout_ms;
	char nonce[48];
	struct util_buf line;
	int r;

	r = check_cmd(cmd);
	if (r)
		return r;
	if (!c->ready) {
		int res;

		r = wait_ready_until(&c, 1, deadline, &res);
		if (r < 0)
			return r;
		if (res)
			return res;
	}
	r = con_drain(c);
	if (r < 0) {
		c->ready = false;
		return r;
	}
	snprintf(nonce, sizeof(nonce), "%sx%llx", c->id, ++c->seq);
	util_buf_init(&line);
	build_line(&line, cmd, nonce);
	if (line.oom) {
		util_buf_free(&line);
		return -ENOMEM;
	}
	con_stream_want_cmd(&c->st, nonce, out);
	r = con_send(c, line.s, line.len, deadline);
	util_buf_free(&line);
	if (r == 0)
		r = con_run(c, deadline);
	if (r == -ETIMEDOUT)
		return interrupt(c);
	c->st.out = NULL;
	if (r) {
		c->ready = false;
		return r;
	}
	*status = c->st.status;
	return 0;
}

/* ---- attach -------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			poll(&pf, 1, -1);
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy one chunk from in_fd to the console. 1 when the escape byte or the
 * end of the input came, 0 to go on, negative on error. */
static int attach_input(struct con *c, int in_fd, char escape)
{
	char buf[4096], *esc;
	ssize_t n = read(in_fd, buf, sizeof(buf));
	int r;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return n == 0 ? 1 : -errno;
	esc = memchr(buf, escape, (size_t)n);
	r = con_send(c, buf, esc ? (size_t)(esc - buf) : (size_t)n, util_mono_ms() + CON_SEND_MS);
	if (r)
		return r;
	return esc ? 1 : 0;
}

int con_attach(struct con *c, int in_fd, int out_fd, char escape)
{
	static const char human[] = "stty echo 2>/dev/null; PS1='# '\n";
	struct termios saved, raw;
	bool tty = isatty(in_fd) && tcgetattr(in_fd, &saved) == 0;
	int r;

	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(in_fd, TCSANOW, &raw);
	}
	c->ready = false;
	con_stream_reset(&c->st);
	r = con_send(c, human, sizeof(human) - 1, util_mono_ms() + CON_SEND_MS);
	while (r == 0) {
		struct pollfd pf[2] = { { .fd = in_fd, .events = POLLIN }, { .fd = c->fd, .events = POLLIN } };

		if (poll(pf, 2, -1) < 0) {
			if (errno != EINTR)
				r = -errno;
			continue;
		}
		if (pf[1].revents) {
			r = con_read_once(c);
			if (r > 0)
				r = write_all(out_fd, c->rbuf, (size_t)r);
			if (r)
				break;
		}
		if (pf[0].revents) {
			r = attach_input(c, in_fd, escape);
			if (r == 1) {
				r = 0;
				break;
			}
		}
	}
	if (tty)
		tcsetattr(in_fd, TCSANOW, &saved);
	return r;
}
