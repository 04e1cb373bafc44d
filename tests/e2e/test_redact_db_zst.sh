#!/usr/bin/env bash
# test_redact_db.sh written with zstd (-w out.pcapng.zst): judged on the decompressed bytes.
REDACT_OUT=out.pcapng.zst
# shellcheck source=test_redact_db.sh
source "$(dirname "$0")/test_redact_db.sh"
