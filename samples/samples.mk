# SPDX-License-Identifier: MIT
# Rules for the sample TLS peers in samples/ (included by the top Makefile).
# One client+server program per TLS library that has no command-line tool in Debian
# (usage in samples/tls_peer.h); the e2e tests (tests/e2e/test_lib_*.sh) run them.
SAMPLES_OUT := $(OUTPUT)/samples
BORINGSSL_DIR := /usr/lib/x86_64-linux-gnu/android
SAMPLE_PEERS := $(SAMPLES_OUT)/tls_peer_boringssl $(SAMPLES_OUT)/tls_peer_wolfssl \
	$(SAMPLES_OUT)/tls_peer_mbedtls $(SAMPLES_OUT)/nss_writev_client \
	$(SAMPLES_OUT)/bio_ssl_client $(SAMPLES_OUT)/late_tls_client \
	$(SAMPLES_OUT)/thread_exit_client $(SAMPLES_OUT)/ssl_record_preload.so

.PHONY: samples
samples: $(SAMPLE_PEERS)

# The e2e tests need the peers (make merges these prerequisites with the main rules).
e2e: samples
test: samples

$(SAMPLES_OUT):
	$(Q)mkdir -p $@

$(SAMPLES_OUT)/tls_peer.o: samples/tls_peer.c samples/tls_peer.h | $(SAMPLES_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# BoringSSL's headers and libraries live apart from OpenSSL's: own include dir, link dir
# and rpath so the program never picks up libssl.so.3.
$(SAMPLES_OUT)/tls_peer_boringssl: samples/tls_peer_boringssl.c $(SAMPLES_OUT)/tls_peer.o samples/tls_peer.h
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) -Isamples -I/usr/include/android $< $(SAMPLES_OUT)/tls_peer.o \
		-L$(BORINGSSL_DIR) -Wl,-rpath,$(BORINGSSL_DIR) -lssl -lcrypto -o $@

$(SAMPLES_OUT)/tls_peer_wolfssl: samples/tls_peer_wolfssl.c $(SAMPLES_OUT)/tls_peer.o samples/tls_peer.h
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) -Isamples $< $(SAMPLES_OUT)/tls_peer.o -lwolfssl -o $@

$(SAMPLES_OUT)/tls_peer_mbedtls: samples/tls_peer_mbedtls.c $(SAMPLES_OUT)/tls_peer.o samples/tls_peer.h
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) -Isamples $< $(SAMPLES_OUT)/tls_peer.o -lmbedtls -lmbedx509 -lmbedcrypto -o $@

# NSS client sending its request with PR_Writev (tests/e2e/test_lib_nss_writev.sh); uses
# only tls_peer_pattern() of tls_peer.h, not tls_peer.o.
NSS_CFLAGS = $(shell pkg-config --cflags nss)
NSS_LIBS = $(shell pkg-config --libs nss)

$(SAMPLES_OUT)/nss_writev_client: samples/nss_writev_client.c samples/tls_peer.h | $(SAMPLES_OUT)
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) -Isamples $(NSS_CFLAGS) $< $(NSS_LIBS) -o $@

# OpenSSL client on the SSL BIO (tests/e2e/test_openssl_bio.sh).
$(SAMPLES_OUT)/bio_ssl_client: samples/bio_ssl_client.c | $(SAMPLES_OUT)
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) $< -lssl -lcrypto -o $@

# A client that loads its TLS library with dlopen() after connecting
# (tests/e2e/test_late_library.sh): linked against no TLS library.
$(SAMPLES_OUT)/late_tls_client: samples/late_tls_client.c | $(SAMPLES_OUT)
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) $< -ldl -o $@

# A client one of whose threads exits inside SSL_read (tests/e2e/test_killed_in_call.sh).
$(SAMPLES_OUT)/thread_exit_client: samples/thread_exit_client.c | $(SAMPLES_OUT)
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) $< -lssl -lcrypto -pthread -o $@

# LD_PRELOAD library recording a process's SSL_write/SSL_read plaintext, the truth for
# peers whose bytes no script sees (tests/e2e/test_grpc_python.sh: gRPC core).
$(SAMPLES_OUT)/ssl_record_preload.so: samples/ssl_record_preload.c | $(SAMPLES_OUT)
	$(call msg,SAMPLE,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared $< -ldl -pthread -o $@
