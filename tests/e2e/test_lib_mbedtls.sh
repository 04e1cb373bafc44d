#!/usr/bin/env bash
# The mbedtls sample peer (samples/tls_peer_mbedtls.c) as client and server, and its client
# against nginx (OpenSSL): GET and POST byte-exact both ways, HTTP dissected and
# exported, PIDs with Role and "Library: mbedTLS 2.28..." in the comments, no expert warnings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
run_sample_lib_test mbedtls '^mbedTLS 2\.28'
