#!/usr/bin/env bash
# test_redact_db.sh written with zstd (-w out.pcapng.zst): judged on the decompressed bytes.
# shellcheck disable=SC2034 # read by the test sourced below
REDACT_OUT=out.pcapng.zst
source "$(dirname "$0")/test_redact_db.sh"
