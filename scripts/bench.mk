# SPDX-License-Identifier: MIT
# Rules for the benchmark (included by the top Makefile).
#   make bench        build tlspcap + the load generator + the floor, run scripts/bench.sh
#   make bench-tools  only build $(OUTPUT)/bench/{tls_load,bench_floor}
# BENCH_ARGS=--short runs the short (CI) form.
BENCH_DIR := $(OUTPUT)/bench
BENCH_TOOLS := $(BENCH_DIR)/tls_load $(BENCH_DIR)/bench_floor $(BENCH_DIR)/bench_calls

.PHONY: bench-tools
bench-tools: $(BENCH_TOOLS)

# The top Makefile's recipe for bench runs scripts/bench.sh after these.
bench: $(BENCH_TOOLS)

# The tests do not time anything, but the benchmark must keep building.
test: $(BENCH_TOOLS)

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/tls_load: samples/tls_load.c | $(BENCH_DIR)
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $< -lssl -lcrypto -lpcap -lpthread -o $@

# Links tlspcap's discovery and probe point modules: the floor probes what tlspcap probes.
$(BENCH_DIR)/bench_floor: scripts/bench_floor.c $(OUTPUT)/floor.skel.h $(CAPTURE_OBJS) $(PCAPNG_OBJS) | $(BENCH_DIR)
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< $(CAPTURE_OBJS) $(PCAPNG_OBJS) $(LDLIBS) -o $@

# Per-call cost of each probed function (dlopen()s the library it measures).
$(BENCH_DIR)/bench_calls: scripts/bench_calls.c | $(BENCH_DIR)
	$(call msg,BENCH,$@)
	$(Q)$(CC) $(CFLAGS) $< -ldl -o $@
