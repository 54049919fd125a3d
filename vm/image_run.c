/* image_run: running the host's tools for an image build (apt-cache,
 * apt-get, dpkg-deb, the decompressors, busybox) with posix_spawn, and
 * quoting their own words when they fail. */
#include "image_impl.h"
#include "file.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void img_step(img_progress_fn progress, void *arg, const char *fmt, ...)
{
	char step[256];
	va_list ap;

	if (!progress)
		return;
	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	progress(arg, step);
}

/* The line of a tool's stderr worth quoting: apt's first "E: " line (the
 * specific error; later ones sum up, "E: Some files failed to download"),
 * else the last non-empty line. Copied into buf. */
static void img_last_line(const char *text, size_t len, char *buf, size_t buflen)
{
	const char *best = NULL, *best_end = NULL, *p = text, *end = text + len;

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));

		if (!e)
			e = end;
		if (e > p && (!best || strncmp(best, "E: ", 3))) {
			best = p;
			best_end = e;
		}
		p = e + 1;
	}
	if (!best)
		snprintf(buf, buflen, "no message");
	else
		snprintf(buf, buflen, "%.*s", (int)(best_end - best), best);
}

/* Environment for the tools: ours with LC_ALL=C (their messages are
 * quoted in ours) and DEBIAN_FRONTEND=noninteractive. The caller frees the
 * array, not its strings (environ's, and two static ones). */
static char **img_tool_env(void)
{
	static char lc[] = "LC_ALL=C", fe[] = "DEBIAN_FRONTEND=noninteractive";
	size_t n = 0, k = 0, i;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) && strncmp(environ[i], "LANGUAGE=", 9) &&
		    strncmp(environ[i], "DEBIAN_FRONTEND=", 16))
			env[k++] = environ[i];
	env[k++] = lc;
	env[k] = fe;
	return env;
}

/* What img_drain keeps of the child's stderr: its last 8 KiB, and the
 * line being read for on_line. */
struct img_err {
	char tail[8192];
	size_t tail_len;
	char line[1024];
	size_t line_len;
};

/* Take n bytes of the child's stderr: into the tail, the log and lines. */
static void img_err_take(const struct img_cmd *c, struct img_err *e, const char *buf, size_t n)
{
	size_t m = n > sizeof(e->tail) ? sizeof(e->tail) : n;
	size_t keep = e->tail_len + m > sizeof(e->tail) ? sizeof(e->tail) - m : e->tail_len;

	memmove(e->tail, e->tail + e->tail_len - keep, keep);
	memcpy(e->tail + keep, buf + n - m, m);
	e->tail_len = keep + m;
	if (c->log_fd > 2)
		(void)!file_write_all(c->log_fd, buf, n); /* a log we cannot write costs only it */
	for (size_t i = 0; c->on_line && i < n; i++) {
		if (buf[i] != '\n') {
			if (e->line_len < sizeof(e->line) - 1)
				e->line[e->line_len++] = buf[i];
			continue;
		}
		e->line[e->line_len] = '\0';
		c->on_line(c->line_arg, e->line);
		e->line_len = 0;
	}
}

/* Read the child's stdout (into c->out or the log, when given) and stderr
 * (into e) until both close. */
static int img_drain(const struct img_cmd *c, int outfd, int errfd, struct img_err *e)
{
	struct pollfd p[2] = { { .fd = outfd, .events = POLLIN }, { .fd = errfd, .events = POLLIN } };
	char buf[65536];
	ssize_t n;
	int i;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				continue;
			}
			if (i == 0 && c->out)
				util_buf_append(c->out, buf, (size_t)n);
			else if (i == 0 && c->log_fd > 2)
				(void)!file_write_all(c->log_fd, buf, (size_t)n);
			else if (i == 1)
				img_err_take(c, e, buf, (size_t)n);
		}
	}
	return c->out && c->out->oom ? -ENOMEM : 0;
}

static int img_spawn_actions(posix_spawn_file_actions_t *fa, const struct img_cmd *c, int outw,
			     int errw)
{
	int r;

	r = posix_spawn_file_actions_addopen(fa, 0, c->in_path ? c->in_path : "/dev/null", O_RDONLY,
					     0);
	if (!r && c->out_path)
		r = posix_spawn_file_actions_addopen(fa, 1, c->out_path,
						     O_WRONLY | O_CREAT | O_TRUNC, 0644);
	else if (!r)
		r = posix_spawn_file_actions_adddup2(fa, outw, 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, errw, 2);
	if (!r && c->cwd)
		r = posix_spawn_file_actions_addchdir_np(fa, c->cwd);
	return -r;
}

/* Run c->argv (argv[0] searched in PATH) and wait for it. posix_spawn,
 * not fork: `vtb up` calls this from a worker thread. Returns 0 when it
 * exited 0; -ENOENT when the program is missing; -EIO when it failed,
 * with err "WHAT failed: <its last error line>"; or another -errno. */
int img_run(const struct img_cmd *c, char *err, size_t errlen)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, st, r;
	posix_spawn_file_actions_t fa;
	struct img_err *e = calloc(1, sizeof(*e));
	char line[512];
	char **env = NULL;
	pid_t pid;

	if (!e) {
		r = -ENOMEM;
		goto out_close;
	}
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		r = -errno;
		goto out_close;
	}
	env = img_tool_env();
	if (!env) {
		r = -ENOMEM;
		goto out_close;
	}
	if ((r = -posix_spawn_file_actions_init(&fa)))
		goto out_close;
	r = img_spawn_actions(&fa, c, outp[1], errp[1]);
	if (!r)
		r = -posix_spawnp(&pid, c->argv[0], &fa, NULL, (char *const *)c->argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		util_fmt(err, errlen, "%s failed: cannot run %s: %s", c->what, c->argv[0],
			 strerror(-r));
		goto out_close;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	r = img_drain(c, outp[0], errp[0], e);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			util_fmt(err, errlen, "%s: cannot wait for it: %s", c->what, strerror(errno));
			goto out_close;
		}
	}
	if (r) {
		util_fmt(err, errlen, "%s: cannot read its output: %s", c->what, strerror(-r));
	} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		img_last_line(e->tail, e->tail_len, line, sizeof(line));
		if (WIFEXITED(st))
			util_fmt(err, errlen, "%s failed: %s", c->what, line);
		else
			util_fmt(err, errlen, "%s killed by signal %d", c->what, WTERMSIG(st));
		r = -EIO;
	}
out_close:
	free(e);
	free(env);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}
