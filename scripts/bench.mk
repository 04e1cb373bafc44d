# SPDX-License-Identifier: MIT
# Rules for the benchmark (included by the top Makefile).
