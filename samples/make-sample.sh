#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates samples/curl-nginx.pcapng (or OUT): curl talks to nginx on loopback —
# an HTTP/1.1 GET, an HTTP/1.1 POST and an HTTP/2 GET — while tlspcap records both ends.
# Needs root, a built ./tlspcap and the packages from scripts/setup.sh.
#   samples/make-sample.sh [OUT]
E2E_NAME=make-sample
source "$(dirname "$0")/../tests/e2e/lib.sh"
OUT=$(realpath -m "${1:-$REPO/samples/curl-nginx.pcapng}")

e2e_init
pick_port
HP=$PORT # start_nginx picks more ports
start_nginx "$HP,http2"
echo "Hello from nginx, over TLS, recorded in plaintext by tlspcap." >"$NGINX_ROOT/index.html"

start_capture "$OUT.tmp"
url=https://127.0.0.1:$HP
curl -sS --http1.1 --cacert "$CERT" "$url/index.html" >/dev/null
curl -sS --http1.1 --cacert "$CERT" -H 'Content-Type: application/json' \
	--data '{"question": "who sent this?", "answer": "see the packet comments"}' "$url/echo" >/dev/null
curl -sS --http2 --cacert "$CERT" "$url/index.html?via=h2" >/dev/null
sleep 0.5
stop_capture
mv "$OUT.tmp" "$OUT"
chmod 644 "$OUT"
log "wrote $OUT"
