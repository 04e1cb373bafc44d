#!/usr/bin/env bash
# The wolfssl sample peer (samples/tls_peer_wolfssl.c) as client and server, and its client
# against nginx (OpenSSL): GET and POST byte-exact both ways, HTTP dissected and
# exported, PIDs with Role and "Library: wolfSSL 5..." in the comments, no expert warnings.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_peers.sh"
run_sample_lib_test wolfssl '^wolfSSL 5\.'
