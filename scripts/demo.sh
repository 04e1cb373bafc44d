#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command (sudo make demo) ends here: capture a real HTTPS exchange
# between curl and nginx on loopback with ./tlspcap, then show it the way tshark does.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/tlspcap-demo.XXXXXX)/demo.pcapng

"$ROOT/samples/make-sample.sh" "$out"
show() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" 2>/dev/null; }
show tshark -r "$out" -Y 'http || http2.type==1'
show tshark -r "$out" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e frame.comment
show tshark -r "$out" -q -z expert,warn
printf '\nThe capture is %s: open it with  wireshark %s\n' "$out" "$out"
