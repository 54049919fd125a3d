/* lanswitch: a LAN's switch, one tc program on every port (see
 * lanswitch.h). The program is written as instructions here, as
 * redirect.c's: no compiler and no object file. It has the LAN's ports as
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


/* The jump targets of a program. */
enum lsw_label { LSW_LEARN, LSW_LEARNT, LSW_FLOOD, LSW_DROP, LSW_NLABELS };

/* A program being written: instructions, where each label is, and the
 * jumps to patch once every label is known. */
struct lsw_prog {
	struct bpf_insn *insn;
	size_t n, cap;
	size_t at[LSW_NLABELS];
	struct {
		size_t insn;
		enum lsw_label to;
	} *fix;
	size_t nfix;
	int map_fd;
};

static void emit(struct lsw_prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		 int32_t imm)
{
	if (p->n < p->cap)
		p->insn[p->n] = (struct bpf_insn){
			.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
		};
	p->n++;
}

/* A conditional jump (code: BPF_JEQ, BPF_JNE, BPF_JGT with BPF_K or
 * BPF_X) or, with code BPF_JA, an unconditional one, to label to. */
static void jump(struct lsw_prog *p, uint8_t code, uint8_t dst, uint8_t src, int32_t imm,
		 enum lsw_label to)
{
	if (p->n < p->cap) {
		p->fix[p->nfix].insn = p->n;
		p->fix[p->nfix].to = to;
		p->nfix++;
	}
	emit(p, BPF_JMP | code, dst, src, 0, imm);
}

static void label(struct lsw_prog *p, enum lsw_label l)
{
	p->at[l] = p->n;
}

/* r1 = the LAN's map (a 64-bit load of the map's fd, two instructions). */
static void load_map(struct lsw_prog *p)
{
	emit(p, BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, p->map_fd);
	emit(p, 0, 0, 0, 0, 0);
}

/* r<reg> = the frame pointer + off: a key or value on the stack. */
static void stack_ptr(struct lsw_prog *p, uint8_t reg, int16_t off)
{
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, reg, BPF_REG_10, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, reg, 0, 0, off);
}

/* Copy the 6-byte MAC address at packet offset from (r2: the frame) into
 * a table key at stack offset to (8 bytes: the address, two zeros). */
static void mac_key(struct lsw_prog *p, int16_t from, int16_t to)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_2, from, 0);
	emit(p, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_5, to, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_H, BPF_REG_5, BPF_REG_2, (int16_t)(from + 4), 0);
	emit(p, BPF_STX | BPF_MEM | BPF_H, BPF_REG_10, BPF_REG_5, (int16_t)(to + 4), 0);
	emit(p, BPF_ST | BPF_MEM | BPF_H, BPF_REG_10, 0, (int16_t)(to + 6), 0);
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

	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_8, BPF_REG_6,
	     offsetof(struct __sk_buff, ingress_ifindex), 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, data),
	     0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_6,
	     offsetof(struct __sk_buff, data_end), 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
	emit(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, 14);
	jump(p, BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, 0, LSW_DROP); /* no Ethernet header */
	mac_key(p, 6, K_SRC);
	mac_key(p, 0, K_DST);
	emit(p, BPF_LDX | BPF_MEM | BPF_B, BPF_REG_7, BPF_REG_2, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_7, 0, 0, 1);
	emit(p, BPF_LDX | BPF_MEM | BPF_B, BPF_REG_5, BPF_REG_2, 6, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_5, 0, 0, 1);
	emit(p, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_8, V_OWN, 0);
	/* learn the source, unless it is a group address (no host's) or
	 * already known here: an update only when it is new or moved */
	jump(p, BPF_JNE | BPF_K, BPF_REG_5, 0, 0, LSW_LEARNT);
	load_map(p);
	stack_ptr(p, BPF_REG_2, K_SRC);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	jump(p, BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, LSW_LEARN);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_0, 0, 0);
	jump(p, BPF_JEQ | BPF_X, BPF_REG_5, BPF_REG_8, 0, LSW_LEARNT);
	label(p, LSW_LEARN);
	load_map(p);
	stack_ptr(p, BPF_REG_2, K_SRC);
	stack_ptr(p, BPF_REG_3, V_OWN);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_ANY);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem);
	label(p, LSW_LEARNT);
	/* a group destination, or one not learnt yet: to every other port */
	jump(p, BPF_JNE | BPF_K, BPF_REG_7, 0, 0, LSW_FLOOD);
	load_map(p);
	stack_ptr(p, BPF_REG_2, K_DST);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	jump(p, BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, LSW_FLOOD);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_0, 0, 0);
	/* learnt on the port it came in on: it is there already */
	jump(p, BPF_JEQ | BPF_X, BPF_REG_1, BPF_REG_8, 0, LSW_DROP);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 0);
	emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	label(p, LSW_FLOOD);
	for (i = 0; i < n; i++) {
		/* not back where it came from */
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_8, 0, 4, port[i]);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, port[i]);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0);
		emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_clone_redirect);
	}
	label(p, LSW_DROP);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, TC_ACT_SHOT);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (i = 0; i < p->nfix; i++)
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
	if (p->n > p->cap)
		return -E2BIG; /* the size counted in lsw_attach was wrong: a bug */
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
	p.fix = calloc(16, sizeof(*p.fix));
	if (!p.insn || !p.fix) {
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
	free(p.fix);
	free(p.insn);
	return r;
}
