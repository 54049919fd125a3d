/* test_console: the command-shell proxy against real local shells on a
 * pty (dash as /bin/sh, and busybox sh, the guest's shell, when it is
 * installed). The pty master stands for QEMU's console socket: the proxy
 * only needs a connected, bidirectional fd. No privileges needed. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "util.h"

static const char *const dash_argv[] = { "/bin/sh", "-i", NULL };
static const char *const busybox_argv[] = { "/usr/bin/busybox", "sh", "-i", NULL };
static const char *const *shell_argv;

struct sh {
	pid_t pid;
	struct con *c;
	char slave[64];
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Start the shell on a new pty; its master becomes a console. */
static void sh_spawn(struct sh *s)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	snprintf(s->slave, sizeof(s->slave), "%s", ptsname(m));
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		int fd;

		setsid();
		fd = open(s->slave, O_RDWR); /* becomes the controlling tty */
		if (fd < 0)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		unsetenv("ENV");
		setenv("TERM", "dumb", 1);
		execv(shell_argv[0], (char *const *)shell_argv);
		_exit(127);
	}
	assert_int_equal(con_open_fd(m, &s->c), 0);
}

static int setup(void **state)
{
	struct sh *s = calloc(1, sizeof(*s));

	sh_spawn(s);
	*state = s;
	if (con_wait_ready(s->c, 5000)) {
		char tail[512];

		con_tail(s->c, tail, sizeof(tail));
		print_message("shell not ready; console said: %s\n", tail);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct sh *s = *state;

	con_close(s->c);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	free(s);
	return 0;
}

/* Run cmd; return its output (static buffer owner: the caller frees). */
static char *run(struct sh *s, const char *cmd, int *status)
{
	struct util_buf out;
	int r;

	util_buf_init(&out);
	r = con_exec(s->c, cmd, 10000, &out, status);
	if (r)
		print_message("con_exec(%s): %s\n", cmd, strerror(-r));
	assert_int_equal(r, 0);
	assert_false(out.oom);
	if (!out.s)
		return strdup("");
	return util_buf_take(&out);
}

static void expect(struct sh *s, const char *cmd, const char *output, int status)
{
	int st = -1;
	char *o = run(s, cmd, &st);

	assert_string_equal(o, output);
	assert_int_equal(st, status);
	free(o);
}

static void test_status(void **state)
{
	struct sh *s = *state;

	expect(s, "true", "", 0);
	expect(s, "false", "", 1);
	expect(s, "exit 3", "", 3);
	expect(s, "sh -c 'exit 3'", "", 3);
	expect(s, "echo a; exit 7", "a\n", 7);
}

static void test_output(void **state)
{
	struct sh *s = *state;

	expect(s, "echo hello", "hello\n", 0);
	expect(s, "printf abc", "abc", 0);
	expect(s, "printf 'a\\nb'", "a\nb", 0);
	expect(s, "printf 'a\\n\\n'", "a\n\n", 0);
	expect(s, "echo 'it'\\''s'", "it's\n", 0);
	expect(s, "echo a # a comment", "a\n", 0);
	expect(s, "echo err >&2; echo out", "err\nout\n", 0);
	expect(s, "cd /; pwd", "/\n", 0);
	expect(s, "pwd | grep -qx /", "", 1); /* a subshell per command: cd did not stay */
	expect(s, "cat", "", 0);                /* stdin is /dev/null, not the console */
	expect(s, "printf '\\tx\\ty'", "\tx\ty", 0);
}

/* 5 MB of known content comes through intact. */
static void test_big_output(void **state)
{
	struct sh *s = *state;
	struct util_buf want;
	long long t0 = now_ms();
	int st = -1;
	char *o;

	util_buf_init(&want);
	for (int i = 1; i <= 700000; i++)
		util_buf_printf(&want, "%d\n", i);
	o = run(s, "seq 1 700000", &st);
	assert_int_equal(st, 0);
	assert_int_equal(strlen(o), want.len);
	assert_memory_equal(o, want.s, want.len);
	print_message("seq 1 700000: %zu bytes in %lld ms\n", want.len, now_ms() - t0);
	free(o);
	util_buf_free(&want);
	expect(s, "echo after", "after\n", 0);
}

/* What the console says outside a command (kernel messages, a fake
 * marker with another nonce, a fake prompt) is ignored. */
static void test_garbage(void **state)
{
	static const char junk[] = "[   12.345] e1000: eth0 NIC Link is Up\r\n__vtb_e0000_5__\r\n"
				   "__vtb_0000__# partial line without newline";
	struct sh *s = *state;
	int fd = open(s->slave, O_WRONLY | O_NOCTTY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	usleep(50000);
	expect(s, "echo ok", "ok\n", 0);
	assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	close(fd);
	expect(s, "echo ok2", "ok2\n", 0);
}

/* Echo back on (as before stty -echo took effect) changes nothing. */
static void test_echo(void **state)
{
	struct sh *s = *state;

	/* stdin is /dev/null in a command: stty needs the tty named */
	expect(s, "stty echo </dev/tty", "", 0);
	expect(s, "echo with echo", "with echo\n", 0);
	expect(s, "printf x", "x", 0);
	expect(s, "stty -echo </dev/tty", "", 0);
}

static void test_timeout(void **state)
{
	struct sh *s = *state;
	struct util_buf out;
	long long t0 = now_ms();
	int st = -1, r;

	util_buf_init(&out);
	r = con_exec(s->c, "echo started; sleep 100", 300, &out, &st);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(now_ms() - t0 < 300 + 1500);
	assert_non_null(out.s);
	assert_string_equal(out.s, "started\n");
	util_buf_free(&out);
	expect(s, "echo after", "after\n", 0);
}

/* A command that ignores Ctrl-C: the console is out of sync until the
 * shell answers again; the next command re-synchronises. */
static void test_timeout_resync(void **state)
{
	struct sh *s = *state;
	struct util_buf out;
	int st = -1;

	util_buf_init(&out);
	assert_int_equal(con_exec(s->c, "trap '' INT; sleep 2", 300, &out, &st), -ETIMEDOUT);
	util_buf_free(&out);
	expect(s, "echo resynced", "resynced\n", 0);
}

/* Whether pid has ended (gone, or a zombie nobody reaped yet), waiting
 * up to wait_ms: the signal is sent when the command ends, its delivery
 * takes a moment. */
static bool ended(pid_t pid, int wait_ms)
{
	long long deadline = now_ms() + wait_ms;
	char path[64], st[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	do {
		FILE *f = fopen(path, "re");
		char *p;

		if (!f)
			return true;
		p = fgets(st, sizeof(st), f);
		fclose(f);
		if (!p || ((p = strrchr(st, ')')) && p[1] == ' ' && p[2] == 'Z'))
			return true;
		usleep(10000);
	} while (now_ms() < deadline);
	return false;
}

/* What a command leaves in the background ends with it (issue 13: a
 * `cat /dev/zero | nc` kept sending after its exec), and with a command
 * that times out; output and status are the command's. */
static void test_background_ends(void **state)
{
	struct sh *s = *state;
	struct util_buf out;
	int st = -1;
	char *o;
	pid_t bg;

	o = run(s, "sleep 1000 & echo $!; exit 4", &st);
	bg = (pid_t)atoi(o);
	free(o);
	assert_int_equal(st, 4);
	assert_true(bg > 0);
	assert_true(ended(bg, 2000));
	util_buf_init(&out);
	assert_int_equal(con_exec(s->c, "sleep 1000 & echo $!; sleep 100", 300, &out, &st), -ETIMEDOUT);
	assert_non_null(out.s);
	bg = (pid_t)atoi(out.s);
	util_buf_free(&out);
	assert_true(bg > 0);
	assert_true(ended(bg, 2000));
	expect(s, "echo after", "after\n", 0);
}

static void test_bad_commands(void **state)
{
	struct sh *s = *state;
	struct util_buf out;
	char *big = malloc(CON_CMD_MAX + 10);
	int st;

	util_buf_init(&out);
	assert_int_equal(con_exec(s->c, "echo a\necho b", 1000, &out, &st), -EINVAL);
	assert_int_equal(con_exec(s->c, "echo \003", 1000, &out, &st), -EINVAL);
	memset(big, 'x', CON_CMD_MAX + 9);
	big[CON_CMD_MAX + 9] = '\0';
	memcpy(big, "echo ", 5);
	assert_int_equal(con_exec(s->c, big, 1000, &out, &st), -E2BIG);
	big[3000] = '\0';
	assert_int_equal(con_exec(s->c, big, 5000, &out, &st), 0);
	assert_int_equal(out.len, 3000 - 5 + 1);
	free(big);
	util_buf_free(&out);
	expect(s, "echo fine", "fine\n", 0);
}

static void test_tail(void **state)
{
	struct sh *s = *state;
	char tail[256];

	expect(s, "echo tail-marker-42", "tail-marker-42\n", 0);
	assert_true(con_tail(s->c, tail, sizeof(tail)) > 0);
	assert_non_null(strstr(tail, "tail-marker-42"));
	assert_int_equal(con_tail(s->c, tail, 4), 3);
}

static void test_shell_exits(void **state)
{
	struct sh *s = *state;
	struct util_buf out;
	int st = -1;

	util_buf_init(&out);
	assert_int_equal(con_exec(s->c, "kill -9 $$", 5000, &out, &st), -EPIPE);
	assert_int_equal(con_exec(s->c, "echo gone", 1000, &out, &st), -EPIPE);
	assert_int_equal(con_wait_ready(s->c, 1000), -EPIPE);
	util_buf_free(&out);
}

static void test_attach(void **state)
{
	static const char line[] = "echo attached-$((6*7))\n";
	struct sh *s = *state;
	int in[2], outp[2];
	char buf[8192];
	ssize_t n, got = 0;
	pid_t w;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(outp), 0);
	w = fork();
	assert_true(w >= 0);
	if (w == 0) { /* the user: types a line, waits, types the escape */
		if (write(in[1], line, sizeof(line) - 1) < 0)
			_exit(1);
		usleep(300000);
		_exit(write(in[1], "\035ignored", 8) == 8 ? 0 : 1);
	}
	close(in[1]);
	assert_int_equal(con_attach(s->c, in[0], outp[1], '\035'), 0);
	waitpid(w, NULL, 0);
	close(in[0]);
	close(outp[1]);
	while (got < (ssize_t)sizeof(buf) - 1 && (n = read(outp[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(outp[0]);
	assert_non_null(strstr(buf, "attached-42"));
	/* the console is out of sync now: the next command re-synchronises */
	expect(s, "echo back", "back\n", 0);
}

/* A user who attached left an open quote, or a command running: the
 * next command still gets through. */
static void test_attach_leftovers(void **state)
{
	static const char *const typed[] = { "echo 'open quote\n\035", "sleep 100\n\035",
					     "echo \"open\n\035" };
	struct sh *s = *state;

	for (size_t i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
		int in[2], outp[2];
		long long t0;

		assert_int_equal(pipe(in), 0);
		assert_int_equal(pipe2(outp, O_NONBLOCK), 0);
		assert_int_equal(write(in[1], typed[i], strlen(typed[i])), (ssize_t)strlen(typed[i]));
		close(in[1]);
		assert_int_equal(con_attach(s->c, in[0], outp[1], '\035'), 0);
		close(in[0]);
		close(outp[0]);
		close(outp[1]);
		usleep(100000);
		t0 = now_ms();
		expect(s, "echo back", "back\n", 0);
		print_message("re-synchronised after attach leftover %zu in %lld ms\n", i, now_ms() - t0);
	}
}

/* Several shells get ready at once; a console that closed is reported. */
static void test_ready_many(void **state)
{
	struct sh s[2];
	struct con *cs[3];
	int res[3], p[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		sh_spawn(&s[i]);
		cs[i] = s[i].c;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
	close(p[1]);
	assert_int_equal(con_open_fd(p[0], &cs[2]), 0);
	assert_int_equal(con_wait_ready_many(cs, 3, 5000, res), 1);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(res[2], -EPIPE);
	for (int i = 0; i < 2; i++) {
		expect(&s[i], "echo many", "many\n", 0);
		kill(s[i].pid, SIGKILL);
		waitpid(s[i].pid, NULL, 0);
	}
	for (int i = 0; i < 3; i++)
		con_close(cs[i]);
}

/* Nothing answers: -ETIMEDOUT in time, and the tail shows what was said. */
static void test_ready_timeout(void **state)
{
	int p[2];
	struct con *c;
	long long t0 = now_ms();

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
	assert_int_equal(write(p[1], "Booting the kernel\r\n", 20), 20);
	assert_int_equal(con_open_fd(p[0], &c), 0);
	assert_int_equal(con_wait_ready(c, 700), -ETIMEDOUT);
	assert_true(now_ms() - t0 < 1200);
	{
		char tail[128];

		con_tail(c, tail, sizeof(tail));
		assert_non_null(strstr(tail, "Booting the kernel"));
	}
	close(p[1]);
	assert_int_equal(con_wait_ready(c, 700), -EPIPE);
	con_close(c);
}

/* A guest whose shell never starts: its tty (a pty slave held open by a
 * process that never reads, canonical mode and echo on, as a guest's
 * serial console before init starts a shell) echoes every poke. What the
 * guest printed before stays in con_tail_guest; the echoes are left out
 * and counted. */
static void test_tail_guest(void **state)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), ready[2];
	char tail[256], one;
	unsigned pokes = 0;
	struct con *c;
	pid_t pid;

	(void)state;
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(ptsname(m), O_RDWR | O_NOCTTY);

		if (fd < 0 || write(fd, "Run /init as init process\nvtb-guest-ready\n", 42) != 42 ||
		    write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &one, 1), 1);
	close(ready[0]);
	assert_int_equal(con_open_fd(m, &c), 0);
	assert_int_equal(con_wait_ready(c, 1800), -ETIMEDOUT);
	con_tail(c, tail, sizeof(tail));
	assert_non_null(strstr(tail, "stty -echo"));
	con_tail_guest(c, tail, sizeof(tail), &pokes);
	assert_string_equal(tail, "Run /init as init process\nvtb-guest-ready\n");
	assert_true(pokes >= 3);
	con_tail_guest(c, tail, 20, &pokes);
	assert_string_equal(tail, "vtb-guest-ready\n");
	con_close(c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static const struct CMUnitTest shell_tests[] = {
	T(test_status),        T(test_output),     T(test_big_output),
	T(test_garbage),       T(test_echo),       T(test_timeout),
	T(test_timeout_resync), T(test_background_ends), T(test_bad_commands), T(test_tail),
	T(test_attach),        T(test_attach_leftovers), T(test_shell_exits),
	cmocka_unit_test(test_ready_many),
};

int main(void)
{
	static const struct CMUnitTest other[] = { cmocka_unit_test(test_ready_timeout),
						   cmocka_unit_test(test_tail_guest) };
	int fails = 0;

	signal(SIGPIPE, SIG_IGN);
	fails += cmocka_run_group_tests_name("console", other, NULL, NULL);
	shell_argv = dash_argv;
	fails += cmocka_run_group_tests_name("console on /bin/sh", shell_tests, NULL, NULL);
	if (access(busybox_argv[0], X_OK) == 0) {
		shell_argv = busybox_argv;
		fails += cmocka_run_group_tests_name("console on busybox sh", shell_tests, NULL, NULL);
	} else {
		print_message("busybox not installed: the guest's shell is not tested\n");
	}
	return fails ? 1 : 0;
}
