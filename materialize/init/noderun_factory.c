/* noderun_factory: vtb-init's main, the factory (docs/nodes.md). vtb up
 * spawns it once (`vtb-init -F SOCK_FD PAD`, noderun_int.h); for each
 * request on its socket it forks a helper K (noderun_init.c) as pid 1 of a
 * new pid namespace: a copy of this small static process (no exec, no ELF
 * load, few pages to copy) that makes the node and becomes its init. The
 * factory exits when the socket closes: vtb up is done or dead. The
 * kernel reaps its children (SIGCHLD ignored; K sets it back to its
 * default before it makes children of its own); once it is gone, the
 * inits are the host's init's children, as any orphan. */
#include "noderun_int.h"

#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The request buffer: K, forked while it holds a request, reads its copy. */
static char nf_buf[NR_REQ_MAX];
/* The most arguments a request holds: each takes two bytes at least. */
#define NF_ARGS_MAX (NR_REQ_MAX / 2)
/* K's parse of its request, static rather than on the heap: K's first
 * malloc would set up an arena (brk and page faults) per node; untouched
 * pages of these cost nothing. */
static char *nf_argv[NF_ARGS_MAX + 1];
static struct rz_private nf_priv[NF_ARGS_MAX / 2];

/* A descriptor number of the command line; -1 when s is not one. */
static int nf_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 0 || v > INT_MAX ? -1 : (int)v;
}

/* Split buf (len bytes, each argument NUL-terminated) into argv (at most
 * NF_ARGS_MAX, NULL-terminated) and *argc. Returns 0, or -EINVAL for a
 * request that does not end in a NUL. */
static int nf_split(char *buf, size_t len, char **argv, int *argc)
{
	size_t i, k = 0;

	*argc = 0;
	if (!len || buf[len - 1])
		return -EINVAL;
	for (i = 0; i < len && k < NF_ARGS_MAX; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	argv[k] = NULL;
	*argc = (int)k;
	return 0;
}

/* Parse the node's arguments (noderun_int.h) into a, its private
 * directories into nf_priv. Returns 0 or -EINVAL. */
static int nf_parse_args(int argc, char **argv, struct nr_args *a)
{
	char *eq;
	int i;

	if (argc < 2)
		return -EINVAL;
	a->s.id = argv[0];
	a->s.hostname = argv[1];
	a->s.priv = nf_priv;
	for (i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (o[0] != '-' || !o[1] || o[2])
			return -EINVAL;
		if (o[1] == 'P' || o[1] == 'f' || o[1] == '6') {
			*(o[1] == 'P' ? &a->s.privileged : o[1] == 'f' ? &a->s.forwarding : &a->s.ipv6) =
				true;
			continue;
		}
		if (++i == argc)
			return -EINVAL;
		if (o[1] == 'n') {
			a->s.name = argv[i];
		} else if (o[1] == 'd') {
			eq = strchr(argv[i], '=');
			if (eq)
				*eq = '\0';
			nf_priv[a->s.npriv++] = (struct rz_private){ .path = argv[i],
								     .seed = eq ? eq + 1 : NULL };
		} else {
			return -EINVAL;
		}
	}
	return a->s.name ? 0 : -EINVAL;
}

/* See noderun_int.h. */
int nr_request_parse(char *buf, size_t len, const int *fds, size_t nfd, struct nr_args *a)
{
	int argc, r;

	*a = (struct nr_args){ .s = { .mnt_tmpl = -1, .log_fd = -1, .factory = -1 }, .rep = -1,
			       .ack = -1 };
	if (nfd >= 1)
		a->rep = fds[0];
	if (nfd < NR_REQ_FDS - 1 || nfd > NR_REQ_FDS)
		return -EINVAL;
	a->ack = fds[1];
	a->s.mnt_tmpl = fds[2];
	a->s.log_fd = nfd == NR_REQ_FDS ? fds[3] : -1;
	r = nf_split(buf, len, nf_argv, &argc);
	return r ? r : nf_parse_args(argc, nf_argv, a);
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

/* K, just forked with request (len bytes, in nf_buf) and fds: the node's
 * helper. Never returns. */
static void nf_helper(int sock, size_t len, const int *fds, size_t nfd, char **argv,
		      char *title_end)
{
	struct nr_report m = { .err = EINVAL, .step = NR_ARGS };
	struct nr_args a;
	int r;

	close(sock);
	signal(SIGCHLD, SIG_DFL);
	r = nr_request_parse(nf_buf, len, fds, nfd, &a);
	a.title = argv[1];
	a.title_end = title_end;
	if (r) {
		m.err = -r;
		if (a.rep >= 0)
			nf_write(a.rep, &m, sizeof(m));
		_exit(2);
	}
	_exit(nr_helper(&a));
}

/* The factory's loop on sock: a helper per request; a request it cannot
 * serve is answered on its report pipe. Returns the exit status. */
static int nf_serve(int sock, char **argv, char *title_end)
{
	struct nr_report m = { .err = EIO, .step = NR_FORK };
	int fds[NR_REQ_FDS];
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
		/* like fork, K in a new pid namespace whose pid 1 it is */
		k = n < 0 ? -1 : (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, 0);
		if (k == 0)
			nf_helper(sock, (size_t)n, fds, nfd, argv, title_end);
		if (k < 0) {
			m.err = n < 0 ? (int)-n : errno;
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
	/* ps shows `vtb-init -F FD`; each init writes its own title over
	 * argv[1].. (ni_title), up to the NUL that ends PAD */
	end = argv[3] + strlen(argv[3]);
	memset(argv[3], 0, (size_t)(end - argv[3]));
	/* a dead vtb up must not kill the factory on a report; the helpers
	 * are reaped by the kernel (each sets SIGCHLD back: it waits for its
	 * own children) */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	return nf_serve(sock, argv, end);
}
