// SPDX-License-Identifier: MIT
/*
 * Tests for capture/probe_point.c against the system's real TLS libraries
 * (Debian 12: the instruction facts are in shared/notes/probe-points.md).
 * Every chosen point is checked against the file's own bytes, decoded
 * again here: the instruction there must be one the kernel emulates.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "discover.h"
#include "disasm.h"
#include "elf_file.h"
#include "probe_point.h"

#define SYS_LIBDIR "/usr/lib/x86_64-linux-gnu"

struct fixture {
	struct disasm *d;
	struct library_set set;
	struct probe_point points[TLS_LIBRARY_MAX_SITES];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->d = disasm__new();
	assert_non_null(f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	library_set__clear(&f->set);
	disasm__free(f->d);
	free(f);
	return 0;
}

static struct tls_library *load(struct fixture *f, const char *path)
{
	assert_int_equal(library_set__add_path(&f->set, path), 0);
	assert_int_equal(f->set.count, 1);
	return &f->set.libs[0];
}

static const struct probe_point *point_of(struct fixture *f, const struct tls_library *lib,
					  const char *symbol)
{
	size_t i;

	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++)
		if (!strcmp(lib->type->sites[i].symbol, symbol)) {
			assert_true(lib->sites_found & (1u << i));
			return &f->points[i];
		}
	fail_msg("no site %s", symbol);
	return NULL;
}

/* The instruction at file offset @offset of @path, decoded afresh. */
static struct disasm_insn insn_at(struct fixture *f, const char *path, uint64_t offset)
{
	struct elf_file *ef = elf_file__open(path);
	struct disasm_insn insn;
	uint8_t code[16];

	assert_non_null(ef);
	assert_int_equal(elf_file__read(ef, offset, code, sizeof(code)), 0);
	assert_int_equal(disasm__decode(f->d, code, sizeof(code), offset, &insn), 0);
	elf_file__close(ef);
	return insn;
}

static void assert_point(struct fixture *f, const struct tls_library *lib, const char *symbol,
			 enum probe_point_kind kind, enum tls_probe_role role)
{
	const struct probe_point *pt = point_of(f, lib, symbol);

	if (pt->kind != kind || pt->role != role)
		fail_msg("%s: %s role %d (%s), want %s role %d", symbol, probe_point_kind__name(pt->kind),
			 pt->role, pt->why, probe_point_kind__name(kind), role);
	assert_true(*pt->why);
	if (kind == PROBE_POINT_CLASSIC) {
		assert_false(pt->emulated);
		return;
	}
	assert_true(pt->emulated);
	assert_true(insn_at(f, lib->path, pt->offset).emulated);
}

/*
 * libssl.so.3: SSL_write (sub rsp) and SSL_write_ex (sub rsp; call) both
 * move to the push opening the function they call, and share it; reads alike.
 */
static void test_openssl_wrappers_move_to_their_callee(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libssl.so.3");
	const struct probe_point *w, *wex, *r, *rex;

	assert_int_equal(probe_points__choose(f->d, lib, f->points), 7);
	assert_point(f, lib, "SSL_write", PROBE_POINT_CALLEE, TLS_ROLE_SEND_EX);
	assert_point(f, lib, "SSL_write_ex", PROBE_POINT_CALLEE, TLS_ROLE_SEND_EX);
	assert_point(f, lib, "SSL_read", PROBE_POINT_CALLEE, TLS_ROLE_RECV_EX);
	assert_point(f, lib, "SSL_read_ex", PROBE_POINT_CALLEE, TLS_ROLE_RECV_EX);
	w = point_of(f, lib, "SSL_write");
	wex = point_of(f, lib, "SSL_write_ex");
	r = point_of(f, lib, "SSL_read");
	rex = point_of(f, lib, "SSL_read_ex");
	assert_int_equal(w->offset, wex->offset);
	assert_int_equal(r->offset, rex->offset);
	assert_int_not_equal(w->offset, r->offset);
	assert_int_equal(insn_at(f, lib->path, w->offset).kind, DISASM_PUSH);
	assert_int_equal(insn_at(f, lib->path, r->offset).kind, DISASM_PUSH);
	/* and the callee is what SSL_write_ex calls: its second instruction */
	{
		struct disasm_insn sub = insn_at(f, lib->path, lib->site_offsets[2]);
		struct disasm_insn call = insn_at(f, lib->path, lib->site_offsets[2] + sub.size);

		assert_int_equal(call.kind, DISASM_CALL);
		assert_int_equal(call.target, w->offset); /* libssl's text: vaddr == offset */
	}
	assert_point(f, lib, "SSL_set_fd", PROBE_POINT_ENTRY, TLS_ROLE_SET_FD);
	assert_true(strstr(w->why, "ssl_write_internal"));
}

/* OpenSSL 3.3 moved ssl_write_internal's result pointer behind a flags argument. */
static void test_openssl_callee_layout_follows_the_version(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libssl.so.3");

	snprintf(lib->version, sizeof(lib->version), "3.3.1 4 Jun 2024");
	probe_points__choose(f->d, lib, f->points);
	assert_point(f, lib, "SSL_write", PROBE_POINT_CALLEE, TLS_ROLE_SEND_EX2);
	assert_point(f, lib, "SSL_read", PROBE_POINT_CALLEE, TLS_ROLE_RECV_EX);
}

/* No version, no known layout: nothing is guessed, the wrappers stay at their entries. */
static void test_openssl_unknown_version_stays_classic(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libssl.so.3");

	lib->version[0] = '\0';
	probe_points__choose(f->d, lib, f->points);
	assert_point(f, lib, "SSL_write", PROBE_POINT_CLASSIC, TLS_ROLE_SEND);
	assert_point(f, lib, "SSL_write_ex", PROBE_POINT_CLASSIC, TLS_ROLE_SEND_EX);
	assert_int_equal(point_of(f, lib, "SSL_write")->offset, lib->site_offsets[0]);
	assert_true(strstr(point_of(f, lib, "SSL_write")->why, "single-stepped"));
}

/* wolfSSL_write: test rsi, rsi; push r12 -> the push; wolfSSL_read: test; je -> the je. */
static void test_wolfssl_moves_past_a_test(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libwolfssl.so.35");
	struct disasm_insn first = insn_at(f, lib->path, lib->site_offsets[0]);

	probe_points__choose(f->d, lib, f->points);
	assert_point(f, lib, "wolfSSL_write", PROBE_POINT_INSIDE, TLS_ROLE_SEND);
	assert_point(f, lib, "wolfSSL_read", PROBE_POINT_INSIDE, TLS_ROLE_RECV);
	assert_false(first.emulated);
	assert_int_equal(point_of(f, lib, "wolfSSL_write")->offset, lib->site_offsets[0] + first.size);
}

/* NSPR's PR_Write is mov (%rdi),%rax; jmp *off(%rax): nothing emulated before the
 * indirect jump; PR_Writev's cmp; jg moves to the jg. */
static void test_nspr(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libnspr4.so");

	probe_points__choose(f->d, lib, f->points);
	assert_point(f, lib, "PR_Write", PROBE_POINT_CLASSIC, TLS_ROLE_SEND);
	assert_point(f, lib, "PR_Read", PROBE_POINT_CLASSIC, TLS_ROLE_RECV);
	assert_point(f, lib, "PR_Writev", PROBE_POINT_INSIDE, TLS_ROLE_SEND_IOV);
}

/* Already emulated at the entry: BoringSSL's SSL_write (push); mbedTLS's write (push);
 * mbedtls_ssl_read's test; je moves to the je. */
static void test_entries_and_mbedtls(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libmbedtls.so.14");

	probe_points__choose(f->d, lib, f->points);
	assert_point(f, lib, "mbedtls_ssl_write", PROBE_POINT_ENTRY, TLS_ROLE_SEND);
	assert_int_equal(point_of(f, lib, "mbedtls_ssl_write")->offset, lib->site_offsets[0]);
	assert_point(f, lib, "mbedtls_ssl_read", PROBE_POINT_INSIDE, TLS_ROLE_RECV);
	library_set__clear(&f->set);
	lib = load(f, SYS_LIBDIR "/android/libssl.so.0");
	probe_points__choose(f->d, lib, f->points);
	assert_point(f, lib, "SSL_write", PROBE_POINT_ENTRY, TLS_ROLE_SEND);
	assert_point(f, lib, "SSL_read", PROBE_POINT_ENTRY, TLS_ROLE_RECV);
}

/* gnutls_record_recv opens with sub rsp: no later point keeps rsp, so it stays. */
static void test_gnutls(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libgnutls.so.30");

	probe_points__choose(f->d, lib, f->points);
	assert_point(f, lib, "gnutls_record_recv", PROBE_POINT_CLASSIC, TLS_ROLE_RECV_SSIZE);
	assert_point(f, lib, "gnutls_record_send2", PROBE_POINT_ENTRY, TLS_ROLE_SEND_SSIZE);
	/* xor r8d; xor ecx; jmp send2: the role reads neither r8 nor rcx */
	assert_point(f, lib, "gnutls_record_send", PROBE_POINT_INSIDE, TLS_ROLE_SEND_SSIZE);
}

/* A file that is gone by the time points are chosen: classic, saying why. */
static void test_unreadable_file_is_classic(void **state)
{
	struct fixture *f = *state;
	struct tls_library *lib = load(f, SYS_LIBDIR "/libssl.so.3");

	snprintf(lib->path, sizeof(lib->path), "/nonexistent/libssl.so.3");
	assert_int_equal(probe_points__choose(f->d, lib, f->points), 0);
	assert_point(f, lib, "SSL_write", PROBE_POINT_CLASSIC, TLS_ROLE_SEND);
	assert_string_equal(point_of(f, lib, "SSL_write")->why, "cannot read the file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_openssl_wrappers_move_to_their_callee, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openssl_callee_layout_follows_the_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openssl_unknown_version_stays_classic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wolfssl_moves_past_a_test, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nspr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entries_and_mbedtls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gnutls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_file_is_classic, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
