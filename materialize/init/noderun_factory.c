/* noderun_factory: vtb-init's main, the factory (docs/nodes.md). vtb up
 * spawns it once (`vtb-init -F SOCK_FD PAD`, noderun_int.h); for each
 * request on its socket it starts a helper K (noderun_init.c) as pid 1 of
 * a new pid namespace (noderun_helper.c: a clone sharing this small static
 * process's address space, with a stack and thread pointer of its own; no
 * exec, no ELF load) that makes the node and becomes its init. The
 * factory exits when the socket closes: vtb up is done or dead. The
 * kernel reaps its children (SIGCHLD ignored; K sets it back to its
 * default before it makes children of its own); once it is gone, the
 * inits are the host's init's children, as any orphan. */
#include "noderun_int.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The request buffer: the helper gets a copy in its own memory. */
static char nf_buf[NR_REQ_MAX];

/* A descriptor number of the command line; -1 when s is not one. */
static int nf_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 0 || v > INT_MAX ? -1 : (int)v;
}

/* Write all of buf to fd, retrying on EINTR; nothing to do on failure. */
static void nf_write(int fd, const void *buf, size_t len)
{
	ssize_t w;

	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
}

/* Receive one request on sock into nf_buf and its descriptors into fds
 * (*nfd of them, O_CLOEXEC). Returns its size, 0 when the socket closed,
 * or a negative errno (-EMSGSIZE: truncated, descriptors kept). */
static ssize_t nf_recv(int sock, int *fds, size_t *nfd)
{
	union {
		char buf[CMSG_SPACE(NR_REQ_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = nf_buf, .iov_len = sizeof(nf_buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	*nfd = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len >= CMSG_LEN(0) && !*nfd) {
			*nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), *nfd * sizeof(int));
		}
	return msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) ? -EMSGSIZE : n;
}

/* K, just started with its request k (in its own memory): the node's
 * helper. Never returns. */
static int nf_helper(void *arg)
{
	struct nr_report m = { .err = EINVAL, .step = NR_ARGS };
	const struct nr_kreq *k = arg;
	struct nr_args a;
	int r;

	close(k->sock);
	signal(SIGCHLD, SIG_DFL);
	r = nr_request_parse(k, &a);
	if (r) {
		m.err = -r;
		if (a.rep >= 0)
			nf_write(a.rep, &m, sizeof(m));
		_exit(2);
	}
	_exit(nr_helper(&a));
}

/* Write request buf's first argument, the experiment's id (n bytes, n >
 * 0), over the command line's arguments [to, end), truncated to fit, the
 * rest zeroed: the byte at end stays the NUL that ends them, and ps shows
 * `vtb-init ID` for the factory and every init it starts. */
static void nf_title(char *to, char *end, const char *buf, size_t n)
{
	size_t room = end > to ? (size_t)(end - to) : 0, id = strnlen(buf, n);

	if (!room)
		return;
	memset(to, 0, room);
	memcpy(to, buf, id < room ? id : room - 1);
}

/* Whether request buf (len bytes) has -l: options follow ID and NODE, and
 * -n and -d take a value. */
static bool nf_limited(const char *buf, size_t len)
{
	bool value = false;
	size_t i, k, n;

	for (i = 0, k = 0; i < len; i += n + 1, k++) {
		n = strnlen(buf + i, len - i);
		if (i + n == len)
			break; /* no NUL: K refuses the request */
		if (k < 2 || value) {
			value = false;
			continue;
		}
		if (n == 2 && buf[i] == '-' && buf[i + 1] == 'l')
			return true;
		value = n == 2 && buf[i] == '-' && (buf[i + 1] == 'n' || buf[i + 1] == 'd');
	}
	return false;
}

/* The factory's loop on sock: a helper per request; a request it cannot
 * serve is answered on its report pipe. Returns the exit status. */
static int nf_serve(int sock, char **argv, char *title_end)
{
	struct nr_report m = { .err = EIO, .step = NR_FORK };
	int fds[NR_REQ_FDS];
	bool titled = false;
	size_t nfd, i;
	ssize_t n;
	pid_t k;

	for (;;) {
		n = nf_recv(sock, fds, &nfd);
		if (n == 0)
			return 0;
		if (n == -EMSGSIZE && !nfd)
			continue; /* no report pipe to answer on */
		if (n < 0 && !nfd)
			return 1;
		if (n > 0 && !titled) {
			nf_title(argv[1], title_end, nf_buf, (size_t)n);
			titled = true;
		}
		k = n < 0 ? (pid_t)n
			  : nr_helper_start(nf_buf, (size_t)n, fds, nfd, sock,
					    nf_limited(nf_buf, (size_t)n), nf_helper);
		if (k < 0) {
			m.err = (int)-k;
			nf_write(fds[0], &m, sizeof(m));
		}
		for (i = 0; i < nfd; i++)
			close(fds[i]);
	}
}

int main(int argc, char **argv)
{
	char *end;
	int sock;

	if (argc != 4 || strcmp(argv[1], "-F") || (sock = nf_fd(argv[2])) < 0) {
		fprintf(stderr, "usage: vtb-init -F SOCK_FD PAD (vtb up runs it)\n");
		return 2;
	}
	/* ps shows `vtb-init -F FD` until the first request's title
	 * (nf_title) is written over argv[1].., up to the NUL that ends PAD */
	end = argv[3] + strlen(argv[3]);
	memset(argv[3], 0, (size_t)(end - argv[3]));
	/* a dead vtb up must not kill the factory on a report; the helpers
	 * are reaped by the kernel (each sets SIGCHLD back: it waits for its
	 * own children) */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	nr_helper_setup();
	return nf_serve(sock, argv, end);
}
