/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's floor object (bpf/floor.bpf.c) shares nothing with user
 * space; this header exists because the top Makefile builds every
 * bpf/X.bpf.c with bpf/X.h as a prerequisite.
 */
#ifndef TLSPCAP_FLOOR_H
#define TLSPCAP_FLOOR_H

/* Programs in bpf/floor.bpf.c: keep equal to bpf/tlspcap.bpf.c's SEC() list
 * (scripts/bench.sh compares the two objects' section lists and warns). */
#define FLOOR_NR_PROGRAMS 13

#endif /* TLSPCAP_FLOOR_H */
