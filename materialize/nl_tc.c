/* nl_tc: a BPF program on a link's ingress, as `tc qdisc add dev X clsact`
 * and `tc filter add dev X ingress bpf direct-action fd N` make it
 * (iproute2's tc/f_bpf.c, libbpf's bpf_tc_attach): on this module's socket,
 * so that a batch carries every port of a LAN in one sendto. */
#include "nl_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>

int nl_tc_ingress_bpf(struct nl_sock *s, int ifindex, int prog_fd, const char *name,
		      struct nl_err *err)
{
	struct nl_err dummy;
	struct nlattr *opts;
	struct tcmsg *t;
	struct nl_req r;
	int rc;

	err = nl_err_start(err, &dummy);
	if (ifindex <= 0 || prog_fd < 0 || !name)
		return nl_req_fail(s, err, -EINVAL, "no link or no program");
	/* the clsact qdisc; one that is there already is kept */
	t = nl_req_start(s, &r, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	t->tcm_parent = TC_H_CLSACT;
	nl_req_put_str(&r, TCA_KIND, "clsact");
	rc = nl_req_submit(s, &r, -EEXIST, err);
	if (rc)
		return rc;
	/* the filter: handle 1, priority 1, every protocol, direct action */
	t = nl_req_start(s, &r, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_handle = 1;
	t->tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
	t->tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));
	nl_req_put_str(&r, TCA_KIND, "bpf");
	opts = nl_req_nest_start(&r, TCA_OPTIONS);
	nl_req_put_u32(&r, TCA_BPF_FD, (uint32_t)prog_fd);
	nl_req_put_str(&r, TCA_BPF_NAME, name);
	nl_req_put_u32(&r, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	nl_req_nest_end(&r, opts);
	return nl_req_submit(s, &r, 0, err);
}
