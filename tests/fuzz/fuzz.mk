# SPDX-License-Identifier: MIT
# Rules for the sanitizer build and the fuzz targets (included by the top Makefile).
#   make sanitize   unit tests and fuzz targets built with ASan+UBSan into .output-sanitize
#   make fuzz       run every fuzz target for FUZZ_SECONDS (default 180) each
# make test also runs the sanitized unit tests and every fuzz target for a short budget
# (scripts/run-tests.sh). Each target tests/fuzz/fuzz_NAME.c starts from the seeds in
# tests/fuzz/corpus/NAME/ (usage in tests/fuzz/README.md).
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 180

ifeq ($(SANITIZE),1)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))

.PHONY: sanitize-build
sanitize-build: $(TESTS) $(FUZZ_TARGETS)

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_helpers.h $(CAPTURE_OBJS) $(PCAPNG_OBJS) | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(INCLUDES) -Itests/fuzz $< $(CAPTURE_OBJS) $(PCAPNG_OBJS) $(LDLIBS) -o $@
else
.PHONY: sanitize fuzz
sanitize:
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 sanitize-build

fuzz: sanitize
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-tests.sh fuzz

test: sanitize
endif
