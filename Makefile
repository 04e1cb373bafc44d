# SPDX-License-Identifier: MIT
# One pattern rule per stage: vmlinux.h -> .bpf.o -> .skel.h -> user objects.
# SANITIZE=1 builds the same with clang, ASan and UBSan (and libFuzzer's coverage
# instrumentation) into its own directory; tests/fuzz/fuzz.mk uses it.
OUTPUT := .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS ?= -g -O2
ifeq ($(SANITIZE),1)
OUTPUT := .output-sanitize
CC := $(CLANG)
# Every report is fatal, so a test or fuzz run fails on it.
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS := -g -O1 $(SANITIZE_FLAGS) -fsanitize=fuzzer-no-link
endif
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE
INCLUDES := -I$(OUTPUT) -Ibpf -Ipcapng -Icapture
LDLIBS := -lbpf -lelf -lz -lzstd -lcapstone -lpcap -lcap-ng -lpthread
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the binary, the man page, and the
# link that makes Wireshark's extcap folder (not under PREFIX: Wireshark looks there) show
# the interface "tlspcap".
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
EXTCAPDIR ?= /usr/lib/$(shell $(CC) -print-multiarch)/wireshark/extcap

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
PCAPNG_OBJS := $(patsubst pcapng/%.c,$(OUTPUT)/pcapng/%.o,$(wildcard pcapng/*.c))
CAPTURE_OBJS := $(patsubst capture/%.c,$(OUTPUT)/capture/%.o,$(filter-out capture/main.c,$(wildcard capture/*.c)))
MAIN_OBJ := $(OUTPUT)/capture/main.o
TESTS := $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(wildcard tests/test_*.c))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all clean check test unit e2e setup demo bench soak vmlinux install uninstall
.DELETE_ON_ERROR:
.SECONDARY:

all: tlspcap

tlspcap: $(MAIN_OBJ) $(CAPTURE_OBJS) $(PCAPNG_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT) $(OUTPUT)/pcapng $(OUTPUT)/capture $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# BPF object: CO-RE against the pinned bpf/vmlinux.h.
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/%.h bpf/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Werror -Ibpf -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/pcapng/%.o: pcapng/%.c $(wildcard pcapng/*.h) | $(OUTPUT)/pcapng
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

# Every user object may include the skeleton, so it waits for it.
$(OUTPUT)/capture/%.o: capture/%.c $(wildcard capture/*.h bpf/*.h pcapng/*.h) $(BPF_SKELS) | $(OUTPUT)/capture
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -DTLSPCAP_VERSION='"$(VERSION)"' -c $< -o $@

$(OUTPUT)/tests/%: tests/%.c $(CAPTURE_OBJS) $(PCAPNG_OBJS) $(wildcard tests/*.h) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests $< $(CAPTURE_OBJS) $(PCAPNG_OBJS) $(LDLIBS) -lcmocka -o $@

# Regenerate the pinned vmlinux.h from the running kernel.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

setup:
	scripts/setup.sh

unit: $(TESTS)
	scripts/run-tests.sh unit

e2e: tlspcap
	scripts/run-tests.sh e2e

test: $(TESTS) tlspcap
	scripts/run-tests.sh all

# The README's test command: set up, build, pass every test.
check: setup
	$(MAKE) test

# The README's first command: set up, build, capture a real HTTPS exchange.
demo: setup
	$(MAKE) tlspcap
	scripts/demo.sh

bench: tlspcap
	scripts/bench.sh $(BENCH_ARGS)

# The soak test for longer than make test's 60 s (needs root; minutes).
SOAK_SECONDS ?= 300
soak: tlspcap
	SOAK_SECONDS=$(SOAK_SECONDS) bash tests/e2e/test_soak.sh

install: tlspcap
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(EXTCAPDIR)
	install -m 0755 tlspcap $(DESTDIR)$(SBINDIR)/tlspcap
	install -m 0644 capture/tlspcap.8 $(DESTDIR)$(MANDIR)/man8/tlspcap.8
	ln -sfn $(SBINDIR)/tlspcap $(DESTDIR)$(EXTCAPDIR)/tlspcap

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tlspcap $(DESTDIR)$(MANDIR)/man8/tlspcap.8 $(DESTDIR)$(EXTCAPDIR)/tlspcap

clean:
	rm -rf .output .output-sanitize tlspcap

# Sample TLS peers (samples/), the benchmark (scripts/) and the fuzzers (tests/fuzz/)
# keep their rules beside them.
include samples/samples.mk
include scripts/bench.mk
include tests/fuzz/fuzz.mk
