/* SPDX-License-Identifier: MIT */
/*
 * The TLS implementations tlspcap knows: how to recognise each one's files
 * and which of its functions to probe in which role.  Discovery reads this
 * table to find files, probes.c to attach; supporting another library is a
 * row here (plus, for a new calling convention, a BPF program).
 */
#ifndef TLSPCAP_TLS_LIBRARIES_H
#define TLSPCAP_TLS_LIBRARIES_H

#include <stdbool.h>
#include <stddef.h>

enum tls_library_kind {
	TLS_LIBRARY_OPENSSL = 1,   /* libssl.so.N */
	TLS_LIBRARY_OPENSSL_STATIC, /* an executable with OpenSSL linked in (node, ...) */
	TLS_LIBRARY_BORINGSSL,     /* Debian's android libssl.so.0 */
	TLS_LIBRARY_GNUTLS,
	TLS_LIBRARY_NSPR,          /* NSS: application data goes through NSPR's PR_* */
	TLS_LIBRARY_WOLFSSL,
	TLS_LIBRARY_MBEDTLS,
	TLS_LIBRARY_GO,            /* an executable carrying Go's crypto/tls */
};

/* Calling conventions, each served by one BPF program (bpf/tlspcap.bpf.c). */
enum tls_probe_role {
	TLS_ROLE_SEND,        /* (ctx, buf, len) -> int: bytes, or <= 0 */
	TLS_ROLE_RECV,
	TLS_ROLE_SEND_EX,     /* (ctx, buf, size_t, size_t *done) -> 1 on success */
	TLS_ROLE_RECV_EX,
	TLS_ROLE_SEND_EX2,    /* (ctx, buf, size_t, uint64_t flags, size_t *done): OpenSSL 3.3+ */
	TLS_ROLE_SEND_IOV,    /* (ctx, const PRIOVec *iov, int count, ...) -> int: PR_Writev */
	TLS_ROLE_SEND_SSIZE,  /* (ctx, buf, size_t) -> ssize_t: bytes, or <= 0 */
	TLS_ROLE_RECV_SSIZE,
	TLS_ROLE_SET_FD,      /* (ctx, int fd, ...): SSL_set_fd, gnutls_transport_set_int2 */
	TLS_ROLE_SET_FD_PTR,  /* (ctx, int *fd, ...): mbedtls_ssl_set_bio with a net context */
	/* Go's register ABI, (c *Conn) Write/Read(b []byte) (int, error): a uprobe
	 * on the entry and on every RET, never a uretprobe (see discover.c) */
	TLS_ROLE_GO_WRITE,
	TLS_ROLE_GO_READ,
	/* (c *Conn) clientHandshake/serverHandshake(...) error: the socket the
	 * connection's own handshake used, for reads served from its buffer */
	TLS_ROLE_GO_HANDSHAKE,
};

struct tls_probe_site {
	const char *symbol;
	enum tls_probe_role role;
};

#define TLS_LIBRARY_MAX_SITES 16

struct tls_library_type {
	enum tls_library_kind kind;
	const char *name;            /* "OpenSSL" */
	/* Which files: library dirs by basename prefix, maps by basename substring.
	 * NULL for executables (found through /proc/PID/exe and --lib). */
	const char *dir_prefix;
	const char *map_match;
	const char *required[2];     /* symbols that make a file the real thing */
	/* Version text in .rodata: prefix, then a digit (see discover.c); a
	 * string that is just the prefix only names the implementation. */
	const char *version_prefix;
	const char *sibling_from;    /* no version text in the file itself? */
	const char *sibling_to;      /* then in the file beside it renamed so */
	/* The TLS context argument is an NSPR file descriptor, which may also be a
	 * plain socket: calls that pass their own buffer to the socket are not TLS. */
	bool plaintext_passthrough_check;
	struct tls_probe_site sites[TLS_LIBRARY_MAX_SITES]; /* ends at symbol == NULL */
};

extern const struct tls_library_type tls_library_types[];
extern const size_t tls_library_types_count;

const struct tls_library_type *tls_library_type__find(enum tls_library_kind kind);

#endif /* TLSPCAP_TLS_LIBRARIES_H */
