#!/usr/bin/env bash
# test_redact_http1.sh written with zstd (-w out.pcapng.zst): judged on the decompressed bytes.
REDACT_OUT=out.pcapng.zst
# shellcheck source=test_redact_http1.sh
source "$(dirname "$0")/test_redact_http1.sh"
