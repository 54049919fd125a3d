/* bpf_insn: BPF instructions written by hand (no compiler, no object
 * file), as the kernel's own filter.h macros spell them: the link
 * emulator's bypass (emu/emu_bypass.c) and the LAN switch
 * (materialize/lanswitch.c) share them. Registers are numbers (r10 the
 * frame pointer); jump offsets count instructions after the jump. */
#ifndef VTB_BPF_INSN_H
#define VTB_BPF_INSN_H

#include <linux/bpf.h>

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_K(d, i)      INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_X(d, s)      INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_K(d, i)      INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ADD_X(d, s)      INSN(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define AND_K(d, i)      INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define LDX(sz, d, s, o) INSN(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) INSN(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST(sz, d, o, i)  INSN(BPF_ST | BPF_MEM | (sz), d, 0, o, i)
#define JEQ_K(d, i, o)   INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JNE_K(d, i, o)   INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JEQ_X(d, s, o)   INSN(BPF_JMP | BPF_JEQ | BPF_X, d, s, o, 0)
#define JGT_X(d, s, o)   INSN(BPF_JMP | BPF_JGT | BPF_X, d, s, o, 0)
#define CALL(f)          INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()           INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* r1 = the map of fd (two instructions) */
#define LD_MAP(fd)       INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)

#endif
