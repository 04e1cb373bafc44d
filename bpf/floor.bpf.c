// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cost floor for the benchmark: empty programs on exactly the probe
 * points bpf/tlspcap.bpf.c uses (same SEC() list, same program types), so
 * "traced by an empty BPF program" can be measured against "traced by
 * tlspcap".  scripts/bench_floor.c attaches the uprobes to the same
 * functions tlspcap probes (entry + return on SSL_write, SSL_read,
 * SSL_write_ex, SSL_read_ex; entry on SSL_set_fd/_rfd/_wfd).  Programs
 * tlspcap has for other libraries are here too (loaded, not attached), so
 * the object mirrors tlspcap's; scripts/bench.sh warns when they diverge.
 *
 * Every program returns at once; none touches a map or a helper.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "floor.h"

SEC("uprobe")
int floor_ssl_write_enter(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_ssl_read_enter(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_ssl_write_ex_enter(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_ssl_read_ex_enter(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_ssl_set_fd(struct pt_regs *ctx) { return 0; }

/* tlspcap's probe_send_ex2_enter (OpenSSL 3.3+ ssl_write_internal): not in 3.0. */
SEC("uprobe")
int floor_send_ex2_enter(struct pt_regs *ctx) { return 0; }

/* tlspcap's probe_send_iov_enter (NSPR's PR_Writev): no OpenSSL site uses it. */
SEC("uprobe")
int floor_send_iov_enter(struct pt_regs *ctx) { return 0; }

/* tlspcap's probe_set_fd_ptr (mbedtls_ssl_set_bio): no OpenSSL site uses it. */
SEC("uprobe")
int floor_set_fd_ptr(struct pt_regs *ctx) { return 0; }

/* tlspcap's probe_return_int: every OpenSSL read/write site. */
SEC("uretprobe")
int floor_tls_return(struct pt_regs *ctx) { return 0; }

/* tlspcap's probe_return_iov (NSPR's PR_Writev): no OpenSSL site. */
SEC("uretprobe")
int floor_tls_return_iov(struct pt_regs *ctx) { return 0; }

/* tlspcap's probe_return_ssize (libraries returning ssize_t): no OpenSSL site. */
SEC("uretprobe")
int floor_tls_return_ssize(struct pt_regs *ctx) { return 0; }

/* tlspcap's probe_sys_enter: one raw tracepoint on every syscall entry (it
 * replaced the per-syscall tracepoints in 4d9f6a4^). */
SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter, struct pt_regs *regs, long id) { return 0; }

SEC("tp_btf/sched_process_exit")
int BPF_PROG(floor_process_exit, struct task_struct *task) { return 0; }

/* tlspcap's Go programs (entries, and returns as uprobes on each RET; the
 * exit hook that forgets a Go process): no OpenSSL site uses them. */
SEC("uprobe")
int floor_go_write_enter(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_go_read_enter(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_go_handshake_enter(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_go_write_return(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_go_read_return(struct pt_regs *ctx) { return 0; }

SEC("uprobe")
int floor_go_handshake_return(struct pt_regs *ctx) { return 0; }

SEC("tp_btf/sched_process_exit")
int BPF_PROG(floor_go_process_exit, struct task_struct *task) { return 0; }

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_process_fork, struct task_struct *parent, struct task_struct *child) { return 0; }

SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) { return 0; }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
