/* SPDX-License-Identifier: MIT */
/*
 * x86-64 instruction decoding (capstone), for choosing where probes go:
 * which first instructions the kernel's uprobe code emulates (cheap) or
 * single-steps (a debug trap, ~14 us under KVM), where a thin wrapper's
 * call goes, and where a function returns (Go code gets a uprobe on every
 * RET instead of a uretprobe).  Decoding only: no file access.
 */
#ifndef TLSPCAP_DISASM_H
#define TLSPCAP_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum disasm_kind {
	DISASM_OTHER = 0,
	DISASM_PUSH,            /* push of a general-purpose register */
	DISASM_CALL,            /* call with an immediate destination (target) */
	DISASM_JMP,             /* jmp with an immediate destination (target) */
	DISASM_JCC,             /* conditional jump (target) */
	DISASM_INDIRECT_BRANCH, /* call or jmp through a register or memory */
	DISASM_NOP,
	DISASM_RET,
	DISASM_TRAP,            /* int3, ud2, hlt: padding or a dead end */
};

/* Bits of disasm_insn.regs_written, in the hardware encoding order. */
enum disasm_reg {
	DISASM_REG_RAX, DISASM_REG_RCX, DISASM_REG_RDX, DISASM_REG_RBX,
	DISASM_REG_RSP, DISASM_REG_RBP, DISASM_REG_RSI, DISASM_REG_RDI,
	DISASM_REG_R8, DISASM_REG_R9, DISASM_REG_R10, DISASM_REG_R11,
	DISASM_REG_R12, DISASM_REG_R13, DISASM_REG_R14, DISASM_REG_R15,
};

#define DISASM_REG_BIT(r) (1u << (r))
/* The System V argument registers: rdi, rsi, rdx, rcx, r8, r9. */
#define DISASM_SYSV_ARGS                                                                    \
	(DISASM_REG_BIT(DISASM_REG_RDI) | DISASM_REG_BIT(DISASM_REG_RSI) |                  \
	 DISASM_REG_BIT(DISASM_REG_RDX) | DISASM_REG_BIT(DISASM_REG_RCX) |                  \
	 DISASM_REG_BIT(DISASM_REG_R8) | DISASM_REG_BIT(DISASM_REG_R9))

struct disasm_insn {
	uint64_t addr;          /* where it was decoded */
	uint8_t size;           /* bytes */
	enum disasm_kind kind;
	/* The x86 uprobe code emulates it (arch/x86/kernel/uprobes.c): call,
	 * jmp and jcc with an immediate and no 0x66 prefix, push reg (50-57,
	 * alone or after REX 0x41), the standard NOPs.  Anything else is
	 * single-stepped out of line. */
	bool emulated;
	uint64_t target;        /* CALL, JMP, JCC: the destination address */
	uint32_t regs_written;  /* DISASM_REG_BIT()s, partial writes (eax, al) included */
	bool writes_memory;     /* stores to memory (push and call included) */
	char text[192];         /* "sub rsp, 0x18" (capstone: mnemonic 32, operands 160) */
};

struct disasm;

/* NULL with errno set on failure. */
struct disasm *disasm__new(void);
/* Accepts NULL. */
void disasm__free(struct disasm *d);

/*
 * Decodes the instruction at @code (@size bytes readable), which sits at
 * virtual address @addr.  Returns 0, or -EINVAL when the bytes are no
 * valid instruction or it runs past @size.
 */
int disasm__decode(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr,
		   struct disasm_insn *insn);

/*
 * Every RET of the function body @code[0..@size) at @addr, decoded
 * linearly from its start to its end (compilers pad with int3 or NOPs,
 * which decode).  Puts their addresses in @rets (at most @max) and their
 * number in *@count.  Returns 0, -EINVAL when some instruction does not
 * decode (data in the body, or not a function start: probing it would be
 * a guess), or -ENOSPC when there are more than @max.
 */
int disasm__find_rets(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr,
		      uint64_t *rets, size_t max, size_t *count);

#endif /* TLSPCAP_DISASM_H */
