/* lanswitch: a LAN's switch, one tc program on every port (see
 * lanswitch.h). The program is written as instructions here (bpf_insn.h,
 * as the link emulator's bypass): no compiler and no object file. It has the LAN's ports as
 * immediates and its learning table as its map; the port a frame came in
 * on is the skb's ingress_ifindex. */
#include "lanswitch.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_insn.h"

/* The jump targets of a program. */
enum lsw_label { LSW_LEARN, LSW_LEARNT, LSW_FLOOD, LSW_DROP, LSW_NLABELS };

/* The program's jumps to labels: write_prog makes seven. */
#define LSW_JUMPS 8

/* A program being written: instructions, where each label is, and the
 * jumps to patch once every label is known. */
struct lsw_prog {
	struct bpf_insn *insn;
	size_t n, cap;
	size_t at[LSW_NLABELS];
	struct {
		size_t insn;
		enum lsw_label to;
	} fix[LSW_JUMPS];
	size_t nfix;
	int map_fd;
};

static void emit(struct lsw_prog *p, struct bpf_insn in)
{
	if (p->n < p->cap)
		p->insn[p->n] = in;
	p->n++;
}

/* Jump in (a BPF_JMP instruction whose offset is left 0) to label to. */
static void jump(struct lsw_prog *p, struct bpf_insn in, enum lsw_label to)
{
	if (p->nfix < LSW_JUMPS) {
		p->fix[p->nfix].insn = p->n;
		p->fix[p->nfix].to = to;
	}
	p->nfix++;
	emit(p, in);
}

static void label(struct lsw_prog *p, enum lsw_label l)
{
	p->at[l] = p->n;
}

/* r0 = helper f(the LAN's map in r1, the stack at key in r2[, at val in
 * r3, flags r4 = BPF_ANY]): a lookup (val 0) or an update. */
static void map_call(struct lsw_prog *p, int16_t key, int16_t val, int f)
{
	struct bpf_insn ld[] = { LD_MAP(p->map_fd) };

	emit(p, ld[0]);
	emit(p, ld[1]);
	emit(p, MOV_X(2, 10));
	emit(p, ADD_K(2, key));
	if (val) {
		emit(p, MOV_X(3, 10));
		emit(p, ADD_K(3, val));
		emit(p, MOV_K(4, BPF_ANY));
	}
	emit(p, CALL(f));
}

/* Copy the 6-byte MAC address at packet offset from (r2: the frame) into
 * a table key at stack offset to (8 bytes: the address, two zeros). */
static void mac_key(struct lsw_prog *p, int16_t from, int16_t to)
{
	emit(p, LDX(BPF_W, 5, 2, from));
	emit(p, STX(BPF_W, 10, 5, to));
	emit(p, LDX(BPF_H, 5, 2, (int16_t)(from + 4)));
	emit(p, STX(BPF_H, 10, 5, (int16_t)(to + 4)));
	emit(p, ST(BPF_H, 10, (int16_t)(to + 6), 0));
}

/* The stack: the source's key at -8, the destination's at -16, the
 * ingress port's ifindex (the value learnt) at -20. Registers kept across
 * helper calls: r6 the skb, r7 the destination's group bit, r8 the port
 * the frame came in on. */
#define K_SRC (-8)
#define K_DST (-16)
#define V_OWN (-20)

/* The program of the LAN whose ports are port[0..n-1]. */
static void write_prog(struct lsw_prog *p, const int *port, size_t n)
{
	size_t i;

	emit(p, MOV_X(6, 1));
	emit(p, LDX(BPF_W, 8, 6, offsetof(struct __sk_buff, ingress_ifindex)));
	emit(p, LDX(BPF_W, 2, 6, offsetof(struct __sk_buff, data)));
	emit(p, LDX(BPF_W, 3, 6, offsetof(struct __sk_buff, data_end)));
	emit(p, MOV_X(4, 2));
	emit(p, ADD_K(4, 14));
	jump(p, JGT_X(4, 3, 0), LSW_DROP); /* no Ethernet header */
	mac_key(p, 6, K_SRC);
	mac_key(p, 0, K_DST);
	emit(p, LDX(BPF_B, 7, 2, 0));
	emit(p, AND_K(7, 1));
	emit(p, LDX(BPF_B, 5, 2, 6));
	emit(p, AND_K(5, 1));
	emit(p, STX(BPF_W, 10, 8, V_OWN));
	/* learn the source, unless it is a group address (no host's) or
	 * already known here: an update only when it is new or moved */
	jump(p, JNE_K(5, 0, 0), LSW_LEARNT);
	map_call(p, K_SRC, 0, BPF_FUNC_map_lookup_elem);
	jump(p, JEQ_K(0, 0, 0), LSW_LEARN);
	emit(p, LDX(BPF_W, 5, 0, 0));
	jump(p, JEQ_X(5, 8, 0), LSW_LEARNT);
	label(p, LSW_LEARN);
	map_call(p, K_SRC, V_OWN, BPF_FUNC_map_update_elem);
	label(p, LSW_LEARNT);
	/* a group destination, or one not learnt yet: to every other port */
	jump(p, JNE_K(7, 0, 0), LSW_FLOOD);
	map_call(p, K_DST, 0, BPF_FUNC_map_lookup_elem);
	jump(p, JEQ_K(0, 0, 0), LSW_FLOOD);
	emit(p, LDX(BPF_W, 1, 0, 0));
	/* learnt on the port it came in on: it is there already */
	jump(p, JEQ_X(1, 8, 0), LSW_DROP);
	emit(p, MOV_K(2, 0));
	emit(p, CALL(BPF_FUNC_redirect));
	emit(p, EXIT());
	label(p, LSW_FLOOD);
	for (i = 0; i < n; i++) {
		emit(p, JEQ_K(8, port[i], 4)); /* not back where it came from */
		emit(p, MOV_X(1, 6));
		emit(p, MOV_K(2, port[i]));
		emit(p, MOV_K(3, 0));
		emit(p, CALL(BPF_FUNC_clone_redirect));
	}
	label(p, LSW_DROP);
	emit(p, MOV_K(0, TC_ACT_SHOT));
	emit(p, EXIT());
	for (i = 0; i < p->nfix && i < LSW_JUMPS && p->n <= p->cap; i++)
		p->insn[p->fix[i].insn].off =
			(int16_t)((long)p->at[p->fix[i].to] - (long)p->fix[i].insn - 1);
}

/* Load the program of the LAN of ports port[0..n-1]; its fd, or a
 * negative errno with err. */
static int load(struct lsw_prog *p, const int *port, size_t n, char *err, size_t errlen)
{
	char log[2048] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 0);
	int fd;

	p->n = p->nfix = 0;
	write_prog(p, port, n);
	if (p->n > p->cap || p->nfix > LSW_JUMPS)
		return -E2BIG; /* the sizes counted were wrong: a bug */
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "vtb_lanswitch", "GPL", p->insn,
			   (unsigned)p->n, &opts);
	if (fd < 0 && !log[0]) {
		/* the kernel says why only when asked for a log */
		opts.log_level = 1;
		fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "vtb_lanswitch", "GPL", p->insn,
				   (unsigned)p->n, &opts);
	}
	if (fd < 0)
		snprintf(err, errlen, "cannot load the LAN switch's program: %s%s%.600s",
			 strerror(-fd), log[0] ? ": " : "", log);
	return fd;
}

int lsw_attach(struct nl_sock *s, const int *ifindex, size_t n, char *err, size_t errlen)
{
	struct nl_err e = { 0 };
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	struct lsw_prog p = { .map_fd = -1 };
	int fd = -1, r = 0;
	size_t i;

	err[0] = '\0';
	if (n < 2)
		return -EINVAL;
	/* 49 instructions and 5 a port to copy to, with room */
	p.cap = 64 + 5 * n;
	p.insn = calloc(p.cap, sizeof(*p.insn));
	if (!p.insn) {
		r = -ENOMEM;
		goto out;
	}
	p.map_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "vtb_lan_fdb", 8, sizeof(uint32_t),
				  LSW_TABLE_MAX, &mo);
	if (p.map_fd < 0) {
		r = p.map_fd;
		snprintf(err, errlen, "cannot create the LAN's learning table: %s", strerror(-r));
		goto out;
	}
	fd = load(&p, ifindex, n, err, errlen);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	nl_batch_begin(s);
	for (i = 0; i < n; i++)
		nl_tc_ingress_bpf(s, ifindex[i], fd, "vtb_lanswitch", &e);
	r = nl_batch_flush(s, &e);
	if (r)
		snprintf(err, errlen, "cannot put the LAN switch on port %d: %s",
			 ifindex[e.index / 2 < n ? e.index / 2 : 0], e.msg);
out:
	if (r == -ENOMEM && !err[0])
		snprintf(err, errlen, "%s", strerror(ENOMEM));
	if (fd >= 0)
		close(fd);
	if (p.map_fd >= 0)
		close(p.map_fd);
	free(p.insn);
	return r;
}
