// SPDX-License-Identifier: MIT
#include "disasm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

struct disasm {
	csh handle;
	cs_insn *insn; /* capstone's scratch for cs_disasm_iter */
};

struct disasm *disasm__new(void)
{
	struct disasm *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->handle) != CS_ERR_OK)
		goto fail;
	/* details: operands and the registers each instruction writes */
	if (cs_option(d->handle, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK)
		goto fail;
	d->insn = cs_malloc(d->handle);
	if (!d->insn)
		goto fail;
	return d;
fail:
	disasm__free(d);
	errno = ENOMEM;
	return NULL;
}

void disasm__free(struct disasm *d)
{
	if (!d)
		return;
	if (d->insn)
		cs_free(d->insn, 1);
	if (d->handle)
		cs_close(&d->handle);
	free(d);
}

/* The general-purpose register a capstone register is (part of), or -1. */
static int gpr_index(unsigned int reg)
{
	static const unsigned int names[][5] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
	};
	size_t i, j;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (j = 0; j < 5; j++)
			if (names[i][j] && names[i][j] == reg)
				return (int)i;
	return -1;
}

static bool is_legacy_prefix(uint8_t b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/*
 * The kernel's rules, from the raw bytes (arch/x86/kernel/uprobes.c:
 * branch_setup_xol_ops, push_setup_xol_ops, and the NOP check before them).
 */
static bool uprobe_emulates(const uint8_t *b, size_t len)
{
	size_t i = 0, j;
	bool opsize = false;
	uint8_t op;

	/* push reg: one byte, or REX.B (0x41) and one byte; nothing else */
	if (len == 1 && b[0] >= 0x50 && b[0] <= 0x57)
		return true;
	if (len == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57)
		return true;
	/* the standard NOPs: 90, 66 90, and 0f 1f /0 after any 0x66 prefixes */
	if ((len == 1 && b[0] == 0x90) || (len == 2 && b[0] == 0x66 && b[1] == 0x90))
		return true;
	for (j = 0; j < len && b[j] == 0x66; j++)
		;
	if (j + 2 < len && b[j] == 0x0f && b[j + 1] == 0x1f && ((b[j + 2] >> 3) & 7) == 0)
		return true;
	/* call, jmp, jcc with an immediate: any prefixes but 0x66 (16-bit forms) */
	while (i < len && is_legacy_prefix(b[i]))
		opsize |= b[i++] == 0x66;
	if (i < len && b[i] >= 0x40 && b[i] <= 0x4f) /* REX */
		i++;
	if (i >= len || opsize)
		return false;
	op = b[i];
	if (op == 0xe8 || op == 0xe9 || op == 0xeb || (op >= 0x70 && op <= 0x7f))
		return true;
	return op == 0x0f && i + 1 < len && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f;
}

static bool in_group(const cs_insn *insn, uint8_t group)
{
	uint8_t i;

	for (i = 0; i < insn->detail->groups_count; i++)
		if (insn->detail->groups[i] == group)
			return true;
	return false;
}

static enum disasm_kind classify(const cs_insn *insn, uint64_t *target)
{
	const cs_x86 *x86 = &insn->detail->x86;
	bool immediate = x86->op_count == 1 && x86->operands[0].type == X86_OP_IMM;

	*target = immediate ? (uint64_t)x86->operands[0].imm : 0;
	switch (insn->id) {
	case X86_INS_PUSH:
		return x86->op_count == 1 && x86->operands[0].type == X86_OP_REG &&
				       gpr_index(x86->operands[0].reg) >= 0
			       ? DISASM_PUSH
			       : DISASM_OTHER;
	case X86_INS_NOP:
		return DISASM_NOP;
	case X86_INS_RET:
		return DISASM_RET;
	case X86_INS_INT3:
	case X86_INS_UD2:
	case X86_INS_HLT:
		return DISASM_TRAP;
	case X86_INS_CALL:
		return immediate ? DISASM_CALL : DISASM_INDIRECT_BRANCH;
	case X86_INS_JMP:
		return immediate ? DISASM_JMP : DISASM_INDIRECT_BRANCH;
	}
	if (in_group(insn, X86_GRP_JUMP))
		return immediate ? DISASM_JCC : DISASM_INDIRECT_BRANCH;
	*target = 0;
	return DISASM_OTHER;
}

static void fill_writes(struct disasm *d, const cs_insn *insn, struct disasm_insn *out)
{
	const cs_x86 *x86 = &insn->detail->x86;
	cs_regs read, written;
	uint8_t nr_read = 0, nr_written = 0, i;
	int gpr;

	out->regs_written = 0;
	if (cs_regs_access(d->handle, insn, read, &nr_read, written, &nr_written) == CS_ERR_OK) {
		for (i = 0; i < nr_written; i++) {
			gpr = gpr_index(written[i]);
			if (gpr >= 0)
				out->regs_written |= DISASM_REG_BIT(gpr);
		}
	} else {
		out->regs_written = ~0u; /* unknown: assume the worst */
	}
	out->writes_memory = out->kind == DISASM_PUSH || out->kind == DISASM_CALL;
	for (i = 0; i < x86->op_count; i++)
		if (x86->operands[i].type == X86_OP_MEM && (x86->operands[i].access & CS_AC_WRITE))
			out->writes_memory = true;
}

/* Decodes the instruction in d->insn, just produced by cs_disasm_iter. */
static void describe(struct disasm *d, struct disasm_insn *out)
{
	const cs_insn *insn = d->insn;

	memset(out, 0, sizeof(*out));
	out->addr = insn->address;
	out->size = (uint8_t)insn->size;
	out->kind = classify(insn, &out->target);
	out->emulated = uprobe_emulates(insn->bytes, insn->size);
	fill_writes(d, insn, out);
	snprintf(out->text, sizeof(out->text), "%s%s%s", insn->mnemonic, *insn->op_str ? " " : "",
		 insn->op_str);
}

int disasm__decode(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr,
		   struct disasm_insn *insn)
{
	const uint8_t *p = code;
	uint64_t a = addr;

	if (!size || !cs_disasm_iter(d->handle, &p, &size, &a, d->insn))
		return -EINVAL;
	describe(d, insn);
	return 0;
}

int disasm__find_rets(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr,
		      uint64_t *rets, size_t max, size_t *count)
{
	const uint8_t *p = code;
	uint64_t a = addr;

	*count = 0;
	while (size) {
		if (!cs_disasm_iter(d->handle, &p, &size, &a, d->insn))
			return -EINVAL;
		if (d->insn->id != X86_INS_RET)
			continue;
		if (*count == max)
			return -ENOSPC;
		rets[(*count)++] = d->insn->address;
	}
	return 0;
}
