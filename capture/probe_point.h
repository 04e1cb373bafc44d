/* SPDX-License-Identifier: MIT */
/*
 * Where each probed function gets its uprobe.  A uprobe on an instruction
 * the x86 kernel emulates (push reg, call/jmp/jcc rel, NOP) costs ~0.45 us
 * under KVM; on any other it is single-stepped behind a debug trap, ~14 us.
 * So, per function, decoding its first instructions (capture/disasm.h):
 *
 *   entry    its first instruction is emulated;
 *   inside   the first emulated instruction, reached on every path through
 *            instructions that write neither a register the role's BPF
 *            program reads, nor rsp, nor memory (so *rsp is still the return
 *            address and the uretprobe stays right), and no branch of the
 *            function lands between the entry and it;
 *   callee   a thin wrapper (libssl's SSL_write/SSL_write_ex ->
 *            ssl_write_internal, reads alike): every wrapper of the operation
 *            calls the same function, passing the context and buffer
 *            through, that function starts with an emulated instruction, and
 *            its arguments are known for the library version;
 *   classic  the entry, single-stepped: nothing better is certain.
 *
 * Wrappers sharing a callee share its one probe: no call is seen twice, and
 * callers that bypass the wrappers (OpenSSL's BIO_f_ssl) are seen too.
 */
#ifndef TLSPCAP_PROBE_POINT_H
#define TLSPCAP_PROBE_POINT_H

#include <stdbool.h>
#include <stdint.h>

#include "tls_libraries.h"

struct disasm;
struct tls_library;

enum probe_point_kind {
	PROBE_POINT_CLASSIC = 0,
	PROBE_POINT_ENTRY,
	PROBE_POINT_INSIDE,
	PROBE_POINT_CALLEE,
};

struct probe_point {
	uint64_t offset;            /* file offset the uprobe (and uretprobe) attach at */
	enum tls_probe_role role;   /* the calling convention at that point */
	enum probe_point_kind kind;
	bool emulated;              /* the kernel emulates the instruction there */
	char why[256];              /* for --list and -v */
};

/* "entry", "inside", "callee", "classic". */
const char *probe_point_kind__name(enum probe_point_kind kind);

/* The classic point of every site of @lib: its entry, its own role, @why. */
void probe_points__classic(const struct tls_library *lib,
			   struct probe_point points[TLS_LIBRARY_MAX_SITES], const char *why);

/*
 * Chooses the point of every site @lib found (lib->sites_found), from the
 * bytes of lib->path.  Never fails: a site whose code cannot be read or
 * decoded, or where any rule is in doubt, keeps its classic point (the
 * reason is in why).  Returns how many sites moved off the classic point.
 */
int probe_points__choose(struct disasm *d, const struct tls_library *lib,
			 struct probe_point points[TLS_LIBRARY_MAX_SITES]);

#endif /* TLSPCAP_PROBE_POINT_H */
