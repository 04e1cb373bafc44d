# SPDX-License-Identifier: MIT
"""Start gate for e2e peers that must act only once tlspcap runs: the peer says it is
ready (a file "ready" in its working directory), then waits, bounded, for the test to
create "go"."""
import os
import sys
import time


def ready_then_wait_for_go(seconds=30):
    open("ready", "w").close()
    for _ in range(seconds * 10):
        if os.path.exists("go"):
            return
        time.sleep(0.1)
    sys.exit("no go after %d s" % seconds)
