/* redirect: a kernel redirect between two interfaces (see redirect.h). */
#include "redirect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* return helper(to, 0), helper bpf_redirect or bpf_redirect_peer: four
 * instructions, so no compiler and no object file are needed; the target
 * is an immediate. */
static int load_prog(int to_ifindex, int helper, char *err, size_t errlen)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = to_ifindex },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = helper },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char log[1024] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 0);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "vtb_redirect", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	if (fd < 0)
		snprintf(err, errlen, "cannot load the redirect program: %s%s%s", strerror(-fd),
			 log[0] ? ": " : "", log);
	return fd;
}

/* The program (helper to_ifindex) on from_ifindex's ingress; see redirect.h. */
static int attach(int from_ifindex, int to_ifindex, int helper, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = from_ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	int fd, r;

	err[0] = '\0';
	fd = load_prog(to_ifindex, helper, err, errlen);
	if (fd < 0)
		return fd;
	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST) {
		snprintf(err, errlen, "cannot add the clsact qdisc: %s", strerror(-r));
		goto out;
	}
	opts.prog_fd = fd;
	r = bpf_tc_attach(&hook, &opts);
	if (r)
		snprintf(err, errlen, "cannot attach the redirect: %s", strerror(-r));
out:
	close(fd);
	return r;
}

int redir_attach(int from_ifindex, int to_ifindex, char *err, size_t errlen)
{
	return attach(from_ifindex, to_ifindex, BPF_FUNC_redirect, err, errlen);
}

int redir_attach_peer(int from_ifindex, int veth_ifindex, char *err, size_t errlen)
{
	return attach(from_ifindex, veth_ifindex, BPF_FUNC_redirect_peer, err, errlen);
}

/* See redirect.h: both names looked up in the calling thread's namespace. */
int redir_join(const char *a, const char *b, bool into_peer_of_a, char *err, size_t errlen)
{
	int ia = (int)if_nametoindex(a), ib = (int)if_nametoindex(b), r;

	if (!ia || !ib) {
		r = -errno;
		snprintf(err, errlen, "cannot find %s: %s", ia ? b : a, strerror(-r));
		return r;
	}
	r = redir_attach(ia, ib, err, errlen);
	if (!r)
		r = into_peer_of_a ? redir_attach_peer(ib, ia, err, errlen)
				   : redir_attach(ib, ia, err, errlen);
	return r;
}
