# SPDX-License-Identifier: MIT
# Rules for the sample TLS peers in samples/ (included by the top Makefile).
