#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command (sudo make demo) ends here: capture a real HTTPS exchange
# between curl and nginx on loopback with ./tlspcap, then show it the way tshark does.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/tlspcap-demo.XXXXXX)/demo.pcapng

"$ROOT/samples/make-sample.sh" "$out"
title() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

title tshark -r "$out" -Y "'http || http2.type==1'"
tshark -r "$out" -Y 'http || http2.type==1' 2>/dev/null

title tshark -r "$out" -Y "'tcp.flags.syn==1 && tcp.flags.ack==0'" -T fields -e tcp.stream -e frame.comment
echo "(shown with the comment's line breaks; one comment per endpoint)"
tshark -r "$out" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.stream -e frame.comment 2>/dev/null |
	while IFS=$'\t' read -r stream comment; do
		echo "  stream $stream"
		printf '%s\n' "$comment" | sed 's/,PID: /\n\nPID: /g; s/\\n/\n/g' | sed 's/^/    /'
	done

title tshark -r "$out" -q -z expert,warn
expert=$(tshark -r "$out" -q -z expert,warn 2>/dev/null)
echo "${expert:-  (nothing: no expert warnings)}"
printf '\nThe capture is %s: open it with  wireshark %s\n' "$out" "$out"
