// SPDX-License-Identifier: MIT
#include "probe_point.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "disasm.h"
#include "elf_file.h"
#include "tlspcap.h"

#define HEAD_BYTES 96        /* what is decoded of a function's start */
#define HEAD_MAX_INSNS 8     /* prologue instructions looked past for an emulated one */
#define WRAPPER_MAX_INSNS 16 /* instructions before a thin wrapper's call */
#define BODY_MAX (1u << 20)  /* longest body searched for branches into its head */

#define REG(r) DISASM_REG_BIT(DISASM_REG_##r)

const char *probe_point_kind__name(enum probe_point_kind kind)
{
	switch (kind) {
	case PROBE_POINT_ENTRY:
		return "entry";
	case PROBE_POINT_INSIDE:
		return "inside";
	case PROBE_POINT_CALLEE:
		return "callee";
	case PROBE_POINT_CLASSIC:
		break;
	}
	return "classic";
}

/* The registers the role's BPF entry program reads (bpf/tlspcap.bpf.c). */
static uint32_t role_reads(enum tls_probe_role role)
{
	uint32_t regs = REG(RDI) | REG(RSI);

	switch (role) {
	case TLS_ROLE_SEND_EX:
	case TLS_ROLE_RECV_EX:
		return regs | REG(RCX);
	case TLS_ROLE_SEND_EX2:
		return regs | REG(R8);
	case TLS_ROLE_SEND_IOV:
		return regs | REG(RDX);
	default:
		return regs;
	}
}

void probe_points__classic(const struct tls_library *lib,
			   struct probe_point points[TLS_LIBRARY_MAX_SITES], const char *why)
{
	size_t i;

	for (i = 0; i < TLS_LIBRARY_MAX_SITES && lib->type->sites[i].symbol; i++) {
		points[i] = (struct probe_point){
			.offset = lib->site_offsets[i],
			.role = lib->type->sites[i].role,
			.kind = PROBE_POINT_CLASSIC,
		};
		snprintf(points[i].why, sizeof(points[i].why), "%s", why);
	}
}

/* A function's code as decoding sees it. */
struct code {
	uint64_t vaddr;
	size_t size;
	uint8_t *bytes;
};

/* Up to @max bytes at @vaddr, within the executable segment holding it. */
static int code__read(struct code *c, struct elf_file *ef, uint64_t vaddr, size_t max)
{
	uint64_t start, end;
	int err;

	c->bytes = NULL;
	err = elf_file__exec_segment(ef, vaddr, &start, &end);
	if (err)
		return err;
	c->vaddr = vaddr;
	c->size = end - vaddr < max ? end - vaddr : max;
	c->bytes = malloc(c->size ? c->size : 1);
	if (!c->bytes)
		return -ENOMEM;
	err = elf_file__read_vaddr(ef, vaddr, c->bytes, c->size);
	if (err) {
		free(c->bytes);
		c->bytes = NULL;
	}
	return err;
}

static int code__decode(struct disasm *d, const struct code *c, size_t pos,
			struct disasm_insn *insn)
{
	return pos < c->size ? disasm__decode(d, c->bytes + pos, c->size - pos, c->vaddr + pos, insn)
			     : -EINVAL;
}

/*
 * Whether a direct branch of the function body @body lands in
 * (@body->vaddr, @point]: then the head would be run (and probed) again
 * without a call.  -EINVAL when the body does not decode.
 */
static int body_branches_into_head(struct disasm *d, const struct code *body, uint64_t point,
				   uint64_t *from)
{
	struct disasm_insn insn;
	size_t pos = 0;
	int err;

	while (pos < body->size) {
		err = code__decode(d, body, pos, &insn);
		if (err)
			return err;
		if ((insn.kind == DISASM_CALL || insn.kind == DISASM_JMP || insn.kind == DISASM_JCC) &&
		    insn.target > body->vaddr && insn.target <= point) {
			*from = insn.addr;
			return 1;
		}
		pos += insn.size;
	}
	return 0;
}

/* The entry, or the first emulated instruction every call reaches with the role's
 * registers, rsp and memory untouched.  Leaves @pt classic when neither is certain. */
static void choose_in_function(struct disasm *d, struct elf_file *ef, const struct elf_symbol *sym,
			       struct probe_point *pt)
{
	uint32_t guarded = role_reads(pt->role) | REG(RSP);
	struct disasm_insn first, insn;
	struct code head, body;
	uint64_t offset, from = 0;
	size_t pos = 0, k;
	int err;

	err = code__read(&head, ef, sym->addr, sym->size && sym->size < HEAD_BYTES ? sym->size : HEAD_BYTES);
	if (!err)
		err = code__decode(d, &head, 0, &first);
	if (err) {
		snprintf(pt->why, sizeof(pt->why), "its code does not decode (%s)", strerror(-err));
		free(head.bytes);
		return;
	}
	if (first.emulated) {
		pt->kind = PROBE_POINT_ENTRY;
		pt->emulated = true;
		snprintf(pt->why, sizeof(pt->why), "first instruction '%.48s' is emulated", first.text);
		free(head.bytes);
		return;
	}
	insn = first;
	for (k = 0; k < HEAD_MAX_INSNS; k++) {
		if (insn.emulated)
			break;
		if (insn.kind != DISASM_OTHER || (insn.regs_written & guarded) || insn.writes_memory)
			break;
		pos += insn.size;
		if (code__decode(d, &head, pos, &insn))
			break;
	}
	free(head.bytes);
	snprintf(pt->why, sizeof(pt->why), "first instruction '%.48s' is single-stepped", first.text);
	if (!insn.emulated)
		return;
	if (!sym->size || sym->size > BODY_MAX) {
		snprintf(pt->why, sizeof(pt->why),
			 "'%.48s' is single-stepped; '%.48s' at +%zu would do, but the function's size is unknown",
			 first.text, insn.text, pos);
		return;
	}
	err = code__read(&body, ef, sym->addr, sym->size);
	if (!err)
		err = body_branches_into_head(d, &body, insn.addr, &from);
	free(body.bytes);
	if (err) {
		snprintf(pt->why, sizeof(pt->why), "'%.48s' is single-stepped; %s at +%#" PRIx64 " lands before '%.48s'",
			 first.text, err > 0 ? "a branch" : "undecodable code",
			 err > 0 ? from - sym->addr : 0, insn.text);
		return;
	}
	if (elf_file__offset_of(ef, insn.addr, &offset))
		return;
	pt->offset = offset;
	pt->kind = PROBE_POINT_INSIDE;
	pt->emulated = true;
	snprintf(pt->why, sizeof(pt->why),
		 "'%.48s' is single-stepped; +%zu '%.48s' is emulated and every call reaches it first",
		 first.text, pos, insn.text);
}

/*
 * The function a thin wrapper calls before any jump or return, passing its
 * context and buffer (and for an _ex wrapper also length and result pointer)
 * through untouched.  Returns 0, or -ENOENT when @entry is no such wrapper.
 */
static int wrapper_callee(struct disasm *d, struct elf_file *ef, uint64_t entry, bool ex,
			  uint64_t *callee)
{
	uint32_t passed = REG(RDI) | REG(RSI) | (ex ? REG(RDX) | REG(RCX) : 0), written = 0;
	struct disasm_insn insn;
	struct code code;
	size_t pos = 0, k;
	int err = code__read(&code, ef, entry, HEAD_BYTES);

	for (k = 0; !err && k < WRAPPER_MAX_INSNS; k++) {
		err = code__decode(d, &code, pos, &insn);
		if (err)
			break;
		if (insn.kind == DISASM_CALL) {
			*callee = insn.target;
			err = written & passed ? -ENOENT : 0;
			free(code.bytes);
			return err;
		}
		/* a conditional jump leaves on an error path; anything else ends the search */
		if (insn.kind != DISASM_OTHER && insn.kind != DISASM_JCC && insn.kind != DISASM_NOP)
			break;
		written |= insn.regs_written;
		pos += insn.size;
	}
	free(code.bytes);
	return -ENOENT;
}

/*
 * OpenSSL's internal read/write arguments by version (ssl/ssl_lib.c):
 * 1.1.1 and 3.0-3.2 ssl_write_internal(s, buf, num, size_t *written); 3.3
 * added uint64_t flags before written.  ssl_read_internal(s, buf, num,
 * size_t *readbytes) throughout.  Other versions: not known, not guessed.
 */
static bool openssl_internal_role(const struct tls_library *lib, enum tlspcap_direction dir,
				  enum tls_probe_role *role)
{
	unsigned int major, minor;

	if ((lib->type->kind != TLS_LIBRARY_OPENSSL && lib->type->kind != TLS_LIBRARY_OPENSSL_STATIC) ||
	    sscanf(lib->version, "%u.%u", &major, &minor) != 2)
		return false;
	if (!((major == 1 && minor == 1) || major == 3))
		return false;
	if (dir == TLSPCAP_DIR_RECV)
		*role = TLS_ROLE_RECV_EX;
	else
		*role = major == 3 && minor >= 3 ? TLS_ROLE_SEND_EX2 : TLS_ROLE_SEND_EX;
	return true;
}

static bool role_is(enum tls_probe_role role, enum tlspcap_direction dir, bool *ex)
{
	*ex = role == TLS_ROLE_SEND_EX || role == TLS_ROLE_RECV_EX;
	if (dir == TLSPCAP_DIR_SEND)
		return role == TLS_ROLE_SEND || role == TLS_ROLE_SEND_EX;
	return role == TLS_ROLE_RECV || role == TLS_ROLE_RECV_EX;
}

/*
 * OpenSSL's SSL_write and SSL_write_ex (reads alike) onto the function both
 * call.  Returns whether the sites of @dir moved there.
 */
static bool choose_callee(struct disasm *d, struct elf_file *ef, const struct tls_library *lib,
			  enum tlspcap_direction dir, struct probe_point points[TLS_LIBRARY_MAX_SITES])
{
	const struct tls_probe_site *sites = lib->type->sites;
	char names[64] = "";
	struct disasm_insn insn;
	enum tls_probe_role role;
	uint64_t callee = 0, target, offset;
	struct elf_symbol sym;
	struct code code;
	size_t i, n = 0;
	bool ex;
	int err;

	if (!openssl_internal_role(lib, dir, &role))
		return false;
	for (i = 0; i < TLS_LIBRARY_MAX_SITES && sites[i].symbol; i++) {
		if (!role_is(sites[i].role, dir, &ex))
			continue;
		/* every wrapper must be there and agree, or none moves */
		if (!(lib->sites_found & (1u << i)) || elf_file__find_function(ef, sites[i].symbol, &sym) ||
		    wrapper_callee(d, ef, sym.addr, ex, &target) || (n && target != callee))
			return false;
		callee = target;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", n ? " and " : "",
			 sites[i].symbol);
		n++;
	}
	if (n < 2 || elf_file__offset_of(ef, callee, &offset) || code__read(&code, ef, callee, HEAD_BYTES))
		return false;
	err = code__decode(d, &code, 0, &insn);
	free(code.bytes);
	/* a push opens a real function (a jmp would be a trampoline or a tail call) */
	if (err || insn.kind != DISASM_PUSH || !insn.emulated)
		return false;
	for (i = 0; i < TLS_LIBRARY_MAX_SITES && sites[i].symbol; i++) {
		if (!role_is(sites[i].role, dir, &ex))
			continue;
		points[i].offset = offset;
		points[i].role = role;
		points[i].kind = PROBE_POINT_CALLEE;
		points[i].emulated = true;
		snprintf(points[i].why, sizeof(points[i].why),
			 "%s both call %#" PRIx64 " (ssl_%s_internal, OpenSSL %.3s arguments%s); its '%.48s' is emulated",
			 names, callee, dir == TLSPCAP_DIR_SEND ? "write" : "read", lib->version,
			 role == TLS_ROLE_SEND_EX2 ? " with flags" : "", insn.text);
	}
	return true;
}

int probe_points__choose(struct disasm *d, const struct tls_library *lib,
			 struct probe_point points[TLS_LIBRARY_MAX_SITES])
{
	const struct tls_probe_site *sites = lib->type->sites;
	bool moved[2] = { false, false };
	struct elf_symbol sym;
	struct elf_file *ef;
	uint64_t offset;
	size_t i;
	int n = 0, dir;
	bool ex;

	/* Go's entries pair with uprobes on its RETs, its arguments are in other
	 * registers and its prologues grow stacks (go_binary.h): left where they are. */
	if (lib->type->kind == TLS_LIBRARY_GO) {
		probe_points__classic(lib, points, "Go: entry and every RET");
		return 0;
	}
	ef = elf_file__open(lib->path);
	probe_points__classic(lib, points, ef ? "not decoded" : "cannot read the file");
	if (!ef)
		return 0;
	for (dir = 0; dir < 2; dir++)
		moved[dir] = choose_callee(d, ef, lib, dir, points);
	for (i = 0; i < TLS_LIBRARY_MAX_SITES && sites[i].symbol; i++) {
		if (!(lib->sites_found & (1u << i)))
			continue;
		if ((role_is(sites[i].role, TLSPCAP_DIR_SEND, &ex) && moved[TLSPCAP_DIR_SEND]) ||
		    (role_is(sites[i].role, TLSPCAP_DIR_RECV, &ex) && moved[TLSPCAP_DIR_RECV])) {
			n++;
			continue;
		}
		/* the symbol must be the very function discovery found */
		if (elf_file__find_function(ef, sites[i].symbol, &sym) ||
		    elf_file__offset_of(ef, sym.addr, &offset) || offset != lib->site_offsets[i]) {
			snprintf(points[i].why, sizeof(points[i].why), "symbol not found again");
			continue;
		}
		choose_in_function(d, ef, &sym, &points[i]);
		n += points[i].kind != PROBE_POINT_CLASSIC;
	}
	elf_file__close(ef);
	return n;
}
