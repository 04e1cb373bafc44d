// SPDX-License-Identifier: MIT
/*
 * x86-64 decoding for probe placement: kinds, branch targets, registers
 * written, and the kernel's emulate-or-single-step rule, from byte strings
 * taken from the first instructions of Debian's TLS entry points
 * (../shared/notes/probe-points.md); RET finding over whole bodies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "disasm.h"

#define ADDR 0x1000

struct decoded {
	int ret;
	struct disasm_insn insn;
};

static struct decoded decode(const uint8_t *code, size_t size)
{
	struct disasm *d = disasm__new();
	struct decoded r;

	assert_non_null(d);
	r.ret = disasm__decode(d, code, size, ADDR, &r.insn);
	disasm__free(d);
	return r;
}

#define DECODE(...) decode((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_sub_rsp_is_stepped(void **state)
{
	/* libssl.so.3 SSL_write: sub $0x18,%rsp */
	struct decoded r = DECODE(0x48, 0x83, 0xec, 0x18);

	assert_int_equal(r.ret, 0);
	assert_int_equal(r.insn.size, 4);
	assert_int_equal(r.insn.kind, DISASM_OTHER);
	assert_false(r.insn.emulated);
	assert_true(r.insn.regs_written & DISASM_REG_BIT(DISASM_REG_RSP));
	assert_false(r.insn.regs_written & DISASM_SYSV_ARGS);
	assert_string_equal(r.insn.text, "sub rsp, 0x18");
}

static void test_push_is_emulated(void **state)
{
	struct decoded rbp = DECODE(0x55), r14 = DECODE(0x41, 0x56), r9 = DECODE(0x41, 0x51);

	assert_int_equal(rbp.insn.kind, DISASM_PUSH);
	assert_true(rbp.insn.emulated);
	assert_true(rbp.insn.writes_memory);
	assert_int_equal(rbp.insn.regs_written, DISASM_REG_BIT(DISASM_REG_RSP));
	/* ssl_write_internal: push %r14 */
	assert_int_equal(r14.insn.kind, DISASM_PUSH);
	assert_true(r14.insn.emulated);
	assert_int_equal(r9.insn.size, 2);
	assert_true(r9.insn.emulated);
}

static void test_push_forms_the_kernel_refuses(void **state)
{
	/* push with REX.W (48 55) and the 16-bit push (66 55): stepped */
	struct decoded rexw = DECODE(0x48, 0x55), word = DECODE(0x66, 0x55);
	/* push of memory and of an immediate are no register pushes */
	struct decoded mem = DECODE(0xff, 0x37), imm = DECODE(0x6a, 0x01);

	assert_int_equal(rexw.ret, 0);
	assert_false(rexw.insn.emulated);
	assert_int_equal(word.ret, 0);
	assert_false(word.insn.emulated);
	assert_int_equal(mem.insn.kind, DISASM_OTHER);
	assert_false(mem.insn.emulated);
	assert_int_equal(imm.insn.kind, DISASM_OTHER);
	assert_false(imm.insn.emulated);
}

static void test_call_target(void **state)
{
	/* call rel32 0x100 further: target = next instruction + 0x100 */
	struct decoded fwd = DECODE(0xe8, 0x00, 0x01, 0x00, 0x00);
	struct decoded back = DECODE(0xe8, 0xf0, 0xff, 0xff, 0xff);

	assert_int_equal(fwd.insn.kind, DISASM_CALL);
	assert_true(fwd.insn.emulated);
	assert_int_equal(fwd.insn.target, ADDR + 5 + 0x100);
	assert_true(fwd.insn.regs_written & DISASM_REG_BIT(DISASM_REG_RSP));
	assert_int_equal(back.insn.target, ADDR + 5 - 0x10);
}

static void test_jumps(void **state)
{
	struct decoded je = DECODE(0x74, 0x05), jne32 = DECODE(0x0f, 0x85, 0x10, 0x00, 0x00, 0x00);
	struct decoded jmp8 = DECODE(0xeb, 0xfe), bnd = DECODE(0xf2, 0xe9, 0x00, 0x00, 0x00, 0x00);
	struct decoded jmp_rax = DECODE(0xff, 0xe0), jmp_mem = DECODE(0xff, 0x60, 0x08);

	assert_int_equal(je.insn.kind, DISASM_JCC);
	assert_true(je.insn.emulated);
	assert_int_equal(je.insn.target, ADDR + 2 + 5);
	assert_int_equal(jne32.insn.kind, DISASM_JCC);
	assert_true(jne32.insn.emulated);
	assert_int_equal(jne32.insn.target, ADDR + 6 + 0x10);
	assert_int_equal(jmp8.insn.kind, DISASM_JMP);
	assert_int_equal(jmp8.insn.target, ADDR);
	/* bnd jmp: the f2 prefix is allowed */
	assert_int_equal(bnd.insn.kind, DISASM_JMP);
	assert_true(bnd.insn.emulated);
	/* NSPR's PR_Write ends in jmp *0x8(%rax): not emulated, no target */
	assert_int_equal(jmp_rax.insn.kind, DISASM_INDIRECT_BRANCH);
	assert_false(jmp_rax.insn.emulated);
	assert_int_equal(jmp_mem.insn.kind, DISASM_INDIRECT_BRANCH);
	assert_int_equal(jmp_mem.insn.target, 0);
}

static void test_nops(void **state)
{
	struct decoded one = DECODE(0x90), two = DECODE(0x66, 0x90);
	struct decoded five = DECODE(0x0f, 0x1f, 0x44, 0x00, 0x00);
	struct decoded six = DECODE(0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00);
	struct decoded endbr = DECODE(0xf3, 0x0f, 0x1e, 0xfa), pause = DECODE(0xf3, 0x90);

	assert_int_equal(one.insn.kind, DISASM_NOP);
	assert_true(one.insn.emulated);
	assert_true(two.insn.emulated);
	assert_int_equal(five.insn.kind, DISASM_NOP);
	assert_true(five.insn.emulated);
	assert_true(six.insn.emulated);
	assert_int_equal(six.insn.size, 6);
	/* endbr64 and pause are no NOPs for the kernel */
	assert_int_equal(endbr.ret, 0);
	assert_false(endbr.insn.emulated);
	assert_false(pause.insn.emulated);
}

static void test_registers_written(void **state)
{
	/* wolfSSL_write: test %rdi,%rdi writes no register; mov (%rdi),%rax writes rax */
	struct decoded test = DECODE(0x48, 0x85, 0xff), mov = DECODE(0x48, 0x8b, 0x07);
	struct decoded mov32 = DECODE(0x89, 0xd6); /* mov %edx,%esi */
	struct decoded store = DECODE(0x48, 0x89, 0x37); /* mov %rsi,(%rdi) */

	assert_int_equal(test.insn.regs_written, 0);
	assert_false(test.insn.writes_memory);
	assert_int_equal(mov.insn.regs_written, DISASM_REG_BIT(DISASM_REG_RAX));
	assert_int_equal(mov32.insn.regs_written, DISASM_REG_BIT(DISASM_REG_RSI));
	assert_true(mov32.insn.regs_written & DISASM_SYSV_ARGS);
	assert_int_equal(store.insn.regs_written, 0);
	assert_true(store.insn.writes_memory);
}

static void test_decode_errors(void **state)
{
	struct disasm *d = disasm__new();
	struct disasm_insn insn;
	/* 0x06 (push es) does not exist in 64-bit mode; e8 needs 4 more bytes */
	const uint8_t invalid[] = { 0x06 }, cut[] = { 0xe8, 0x00, 0x01 };

	assert_non_null(d);
	assert_int_equal(disasm__decode(d, invalid, sizeof(invalid), ADDR, &insn), -EINVAL);
	assert_int_equal(disasm__decode(d, cut, sizeof(cut), ADDR, &insn), -EINVAL);
	assert_int_equal(disasm__decode(d, cut, 0, ADDR, &insn), -EINVAL);
	disasm__free(d);
	disasm__free(NULL);
}

/* A Go-like body: prologue, early return, late return, int3 padding. */
static const uint8_t body[] = {
	0x49, 0x3b, 0x66, 0x10,             /* cmp 0x10(%r14),%rsp */
	0x76, 0x0a,                         /* jbe morestack */
	0x55,                               /* push %rbp */
	0x48, 0x89, 0xe5,                   /* mov %rsp,%rbp */
	0x74, 0x01,                         /* je +1 */
	0xc3,                               /* ret           <- 12 */
	0x5d,                               /* pop %rbp */
	0xf3, 0xc3,                         /* repz ret      <- 14 */
	0xe8, 0x00, 0x00, 0x00, 0x00,       /* call morestack */
	0xeb, 0xe5,                         /* jmp entry */
	0xcc, 0xcc, 0xcc,                   /* padding */
};

static void test_find_rets(void **state)
{
	struct disasm *d = disasm__new();
	uint64_t rets[4];
	size_t count = 9;

	assert_non_null(d);
	assert_int_equal(disasm__find_rets(d, body, sizeof(body), ADDR, rets, 4, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(rets[0], ADDR + 12);
	assert_int_equal(rets[1], ADDR + 14);
	assert_int_equal(disasm__find_rets(d, body, sizeof(body), ADDR, rets, 1, &count), -ENOSPC);
	disasm__free(d);
}

static void test_find_rets_refuses_undecodable(void **state)
{
	struct disasm *d = disasm__new();
	uint8_t bad[sizeof(body)];
	uint64_t rets[4];
	size_t count;

	assert_non_null(d);
	memcpy(bad, body, sizeof(body));
	bad[13] = 0x06; /* no instruction in 64-bit mode */
	assert_int_equal(disasm__find_rets(d, bad, sizeof(bad), ADDR, rets, 4, &count), -EINVAL);
	/* a body cut inside an instruction */
	assert_int_equal(disasm__find_rets(d, body, 19, ADDR, rets, 4, &count), -EINVAL);
	disasm__free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sub_rsp_is_stepped),
		cmocka_unit_test(test_push_is_emulated),
		cmocka_unit_test(test_push_forms_the_kernel_refuses),
		cmocka_unit_test(test_call_target),
		cmocka_unit_test(test_jumps),
		cmocka_unit_test(test_nops),
		cmocka_unit_test(test_registers_written),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_find_rets),
		cmocka_unit_test(test_find_rets_refuses_undecodable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
