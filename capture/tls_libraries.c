// SPDX-License-Identifier: MIT
#include "tls_libraries.h"

/* Facts per library: ../shared/notes/tls-targets.md.  Peeking reads
 * (SSL_peek, wolfSSL_peek) are not probed: their bytes come again. */
#define OPENSSL_SITES                                        \
	{ "SSL_write", TLS_ROLE_SEND },                      \
	{ "SSL_read", TLS_ROLE_RECV },                       \
	{ "SSL_write_ex", TLS_ROLE_SEND_EX },                \
	{ "SSL_read_ex", TLS_ROLE_RECV_EX },                 \
	{ "SSL_set_fd", TLS_ROLE_SET_FD },                   \
	{ "SSL_set_rfd", TLS_ROLE_SET_FD },                  \
	{ "SSL_set_wfd", TLS_ROLE_SET_FD }

const struct tls_library_type tls_library_types[] = {
	{
		.kind = TLS_LIBRARY_OPENSSL,
		.name = "OpenSSL",
		.dir_prefix = "libssl.so",
		.map_match = "libssl.so",
		.required = { "SSL_write", "SSL_read" },
		.version_prefix = "OpenSSL ",
		.sibling_from = "libssl",
		.sibling_to = "libcrypto",
		.sites = { OPENSSL_SITES },
	},
	{
		.kind = TLS_LIBRARY_OPENSSL_STATIC,
		.name = "OpenSSL (static)",
		.required = { "SSL_write", "SSL_read" },
		.version_prefix = "OpenSSL ",
		.sites = { OPENSSL_SITES },
	},
	{
		.kind = TLS_LIBRARY_BORINGSSL,
		.name = "BoringSSL",
		.dir_prefix = "libssl.so",
		/* named like OpenSSL's: its libcrypto's "BoringSSL" tells them apart */
		.map_match = "libssl.so",
		.required = { "SSL_write", "SSL_read" },
		.version_prefix = "BoringSSL",	/* no version number in the files */
		.sibling_from = "libssl",
		.sibling_to = "libcrypto",
		.sites = { OPENSSL_SITES },
	},
	{
		.kind = TLS_LIBRARY_GNUTLS,
		.name = "GnuTLS",
		.dir_prefix = "libgnutls.so",
		.map_match = "libgnutls.so",
		.required = { "gnutls_record_send", "gnutls_record_recv" },
		.version_prefix = "GnuTLS ",	/* only in "Enabled GnuTLS 3.7.9 logging..." */
		.sites = {
			/* gnutls_record_send tail-calls _send2: one record per call. */
			{ "gnutls_record_send", TLS_ROLE_SEND_SSIZE },
			{ "gnutls_record_send2", TLS_ROLE_SEND_SSIZE },
			{ "gnutls_record_recv", TLS_ROLE_RECV_SSIZE },
			{ "gnutls_record_recv_seq", TLS_ROLE_RECV_SSIZE },
			{ "gnutls_transport_set_int2", TLS_ROLE_SET_FD },
			{ "gnutls_transport_set_ptr", TLS_ROLE_SET_FD },
		},
	},
	{
		.kind = TLS_LIBRARY_NSPR,
		.name = "NSS",
		.dir_prefix = "libnspr4.so",
		.map_match = "libnspr4.so",
		.required = { "PR_Write", "PR_Read" },
		.version_prefix = "Version: NSS ",	/* in libnss3.so, after binary data */
		.sibling_from = "libnspr4",
		.sibling_to = "libnss3",
		.plaintext_passthrough_check = true,
		.sites = {
			{ "PR_Write", TLS_ROLE_SEND },
			{ "PR_Read", TLS_ROLE_RECV },
			{ "PR_Send", TLS_ROLE_SEND },
			{ "PR_Recv", TLS_ROLE_RECV },
			{ "PR_Writev", TLS_ROLE_SEND_IOV },
		},
	},
	{
		.kind = TLS_LIBRARY_WOLFSSL,
		.name = "wolfSSL",
		.dir_prefix = "libwolfssl.so",
		.map_match = "libwolfssl.so",
		.required = { "wolfSSL_write", "wolfSSL_read" },
		.version_prefix = "wolfSSL ",
		.sites = {
			{ "wolfSSL_write", TLS_ROLE_SEND },
			{ "wolfSSL_read", TLS_ROLE_RECV },
			{ "wolfSSL_set_fd", TLS_ROLE_SET_FD },
		},
	},
	{
		.kind = TLS_LIBRARY_MBEDTLS,
		.name = "mbedTLS",
		.dir_prefix = "libmbedtls.so",
		.map_match = "libmbedtls.so",
		.required = { "mbedtls_ssl_write", "mbedtls_ssl_read" },
		.version_prefix = "mbed TLS ",
		.sibling_from = "libmbedtls",
		.sibling_to = "libmbedcrypto",
		.sites = {
			{ "mbedtls_ssl_write", TLS_ROLE_SEND },
			{ "mbedtls_ssl_read", TLS_ROLE_RECV },
			{ "mbedtls_ssl_set_bio", TLS_ROLE_SET_FD_PTR },
		},
	},
	{
		/* found in .symtab or, stripped, in .gopclntab; version from .go.buildinfo */
		.kind = TLS_LIBRARY_GO,
		.name = "Go crypto/tls",
		.required = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read" },
		.sites = {
			{ "crypto/tls.(*Conn).Write", TLS_ROLE_GO_WRITE },
			{ "crypto/tls.(*Conn).Read", TLS_ROLE_GO_READ },
			/* once per connection: Handshake() in every Write/Read returns early */
			{ "crypto/tls.(*Conn).clientHandshake", TLS_ROLE_GO_HANDSHAKE },
			{ "crypto/tls.(*Conn).serverHandshake", TLS_ROLE_GO_HANDSHAKE },
		},
	},
};

const size_t tls_library_types_count = sizeof(tls_library_types) / sizeof(tls_library_types[0]);

const struct tls_library_type *tls_library_type__find(enum tls_library_kind kind)
{
	size_t i;

	for (i = 0; i < tls_library_types_count; i++)
		if (tls_library_types[i].kind == kind)
			return &tls_library_types[i];
	return NULL;
}
