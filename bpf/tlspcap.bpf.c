// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tlspcap probes: plaintext of TLS calls, tied to their socket by the
 * socket syscall the library makes inside the call on the same thread.
 *
 * Entry uprobe   stashes (TLS context, buffer, direction) in the thread's state.
 * Syscall hooks  note the first socket fd used inside a stashed call; for
 *                libraries that do TLS into memory buffers (node), the socket
 *                read before and the socket write after the call instead.
 * Return uprobe  on success, emits the returned bytes in chunks with their
 *                byte offset in the connection, read from the program
 *                straight into the ring buffer, and advances the offset even
 *                when the ring buffer is full so user space sees the loss as
 *                a gap.
 * close / exit   end the connection.
 *
 * No library struct offsets are read: only function arguments, return
 * values and kernel socket state (CO-RE).  A thread that never made a TLS
 * call costs each hooked syscall one hash lookup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tlspcap.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10
#define MAX_TRACKED 65536
#define IOV_MAX 8
/* Distinct TLS calls open at once on one thread: node writes from a
 * callback that runs inside SSL_read (a power of two: index mask). */
#define CALL_DEPTH 4
/* x86-64 syscall numbers of the hooked calls. */
#define NR_READ 0
#define NR_WRITE 1
#define NR_CLOSE 3
#define NR_MMAP 9
#define NR_READV 19
#define NR_WRITEV 20
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
/* A peer view's offsets are read on another CPU than they are written. */
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

const volatile __u32 self_tgid = 0;
const volatile bool filter_pids = false; /* only tgids in traced_pids */
const volatile bool filter_comm = false;
const volatile char comm_filter[16] = {};
const volatile __u64 wakeup_bytes = 1 << 20;
/*
 * Bytes kept per call; 0 = all.  Not read-only: known to the verifier, a snap
 * length of at most one chunk makes emit_buffer's bpf_loop dead code, and
 * Linux 6.18 then refuses the program ("verifier bug: No program to jit").
 */
volatile __u64 snaplen = 0;

__u64 next_conn_id = 0;

struct call_state {
	__u64 ssl;
	__u64 buf;
	__u64 done_ptr;   /* size_t * of the _ex forms, 0 otherwise */
	__u64 sock;       /* struct sock * of the fd below */
	__u64 inode;
	__u64 sp;         /* stack pointer at entry: matches the call's return */
	__s32 fd;         /* first socket fd used inside the call, -1 if none */
	__u32 cookie;     /* library index and TLSPCAP_COOKIE_* flags */
	__u32 iov_count;  /* > 0: buf is an array of NSPR PRIOVec, not the data */
	__u8 direction;
	__u8 not_tls;     /* the call passed its own buffer to a syscall */
};

/* NSPR's public PRIOVec (prio.h), as PR_Writev takes it. */
struct nspr_iovec {
	__u64 base;
	__s32 len;
	__u32 pad;
};

struct thread_state {
	struct call_state calls[CALL_DEPTH]; /* the open calls, innermost at ncalls - 1 */
	__u64 bio_write_ssl;     /* memory BIO: this context's TLS bytes go out with the next socket write */
	__u32 bio_write_cookie;
	__s32 last_read_fd;      /* memory BIO: the socket this thread read last, -1 if none */
	__u8 ncalls;
	__u8 memory_bio;         /* this thread made TLS calls with no socket syscall inside */
};

struct session_key {
	__u32 tgid;
	__u32 pad;
	__u64 ssl;
};

struct session {
	__u64 conn_id;
	__u64 offset[2];
	__u64 sock;
	__u64 inode;
	__s32 fd;         /* socket of the connection, -1 until known */
	__s32 hint_fd;    /* from SSL_set_fd and friends, -1 if none */
	__u8 closed;      /* its fd was closed: the next call is a new connection */
	/* Sent bytes [0, delivered_send) are all in the ring: a traced peer
	 * view need not send them again (peer_views). */
	__u64 delivered_send;
};

struct socket_key {
	__u32 tgid;
	__s32 fd;
};

/* User space pairs the two views of a local connection (both ends traced,
 * both from its start, so their offsets agree) and says so here, keyed by
 * the receiving view's session. */
struct peer_view {
	__u64 conn_id;              /* the receiving view's connection */
	struct session_key sender;  /* the other end's TLS context */
	__u64 sender_conn_id;
};

struct socket_state {
	__u64 conn_id;
	__u64 ssl;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20); /* resized by user space before load */
} events SEC(".maps");

/* Connection and process events have a ring of their own: data filling
 * `events` must not crowd them out (a lost SOCKET record leaves its
 * connection without addresses, a lost CLOSE hides the loss at its end). */
#define CONTROL_RING_SIZE (4 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CONTROL_RING_SIZE);
} control SEC(".maps");

/* Threads that made TLS calls; LRU so exited threads age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TRACKED);
	__type(key, __u64);               /* pid_tgid */
	__type(value, struct thread_state);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TRACKED);
	__type(key, struct session_key);
	__type(value, struct session);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TRACKED);
	__type(key, struct socket_key);
	__type(value, struct socket_state);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TRACKED);
	__type(key, struct session_key);
	__type(value, struct peer_view);
} peer_views SEC(".maps");

/* tgids that produced a connection: their exit ends the streams. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TRACKED);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

/* -p PID and -- COMMAND: the tgids to trace; children join at fork. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TLSPCAP_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void counter_add(__u32 index, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &index);

	if (value)
		*value += n;
}

/*
 * Waking the reader for every record costs more than the record itself
 * (~4 us per wake-up here, against ~0.6 us of work).  Records wait until
 * this much is queued or the reader's poll timer comes round; process
 * events wake it at once: discovery and /proc reads race the process.
 */
static __always_inline __u64 ring_wakeup(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes ? BPF_RB_NO_WAKEUP
									     : BPF_RB_FORCE_WAKEUP;
}

/* The same for the control ring (SOCKET, CLOSE, EXIT, EXEC, MAP records); a
 * burst of new connections (thousands a second) wakes the reader by backlog. */
static __always_inline long control_output(void *data, __u64 size, bool urgent)
{
	__u64 flags = BPF_RB_FORCE_WAKEUP;
	long err;

	if (!urgent && bpf_ringbuf_query(&control, BPF_RB_AVAIL_DATA) < CONTROL_RING_SIZE / 8)
		flags = BPF_RB_NO_WAKEUP;
	err = bpf_ringbuf_output(&control, data, size, flags);

	if (err)
		counter_add(TLSPCAP_COUNTER_CONTROL_DROPPED, 1);
	return err;
}

/* Entry probe hits, by what the kernel does with the probed instruction. */
static __always_inline void count_hit(struct pt_regs *ctx)
{
	counter_add(bpf_get_attach_cookie(ctx) & TLSPCAP_COOKIE_STEPPED ? TLSPCAP_COUNTER_HITS_STEPPED
									 : TLSPCAP_COUNTER_HITS_EMULATED,
		    1);
}

static __always_inline bool comm_matches(void)
{
	char comm[16];
	int i;

	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < 16; i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

static __always_inline bool should_trace(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	if (filter_comm && !comm_matches())
		return false;
	return true;
}

/* The struct sock behind @fd of the current task, or NULL if it is no socket. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The socket behind @fd in the current task, or NULL.  Runs at every socket
 * syscall inside a TLS call: loads through BTF pointers (one helper call
 * for the fd table slot) instead of a probe read per field.
 */
static __always_inline struct sock *socket_of_fd(int fd, __u64 *inode)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;
	struct socket *socket;
	struct inode *node;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]) || !file)
		return NULL;
	file = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
	node = file->f_inode;
	if (!node || (node->i_mode & S_IFMT) != S_IFSOCK)
		return NULL;
	*inode = node->i_ino;
	socket = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
	return socket->sk;
}

static __always_inline struct thread_state *thread_of(__u64 pid_tgid)
{
	struct thread_state *t = bpf_map_lookup_elem(&threads, &pid_tgid);
	struct thread_state fresh = { .last_read_fd = -1 };

	if (t)
		return t;
	bpf_map_update_elem(&threads, &pid_tgid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&threads, &pid_tgid);
}

/* The thread's innermost open call, or NULL. */
static __always_inline struct call_state *call_top(struct thread_state *t)
{
	__u32 top = t->ncalls - 1;

	if (!t->ncalls || top >= CALL_DEPTH)
		return NULL;
	barrier_var(top);
	return &t->calls[top & (CALL_DEPTH - 1)];
}

/* Forgets the open calls whose stack frame lies below @sp: calls the thread
 * left without their return probe firing (tlspcap attached meanwhile, longjmp). */
static __always_inline void calls_drop_below(struct thread_state *t, __u64 sp)
{
	struct call_state *top;
	int i;

	for (i = 0; i < CALL_DEPTH; i++) {
		top = call_top(t);
		if (!top || top->sp >= sp)
			return;
		t->ncalls--;
	}
}

/*
 * Returns the call's state, or NULL when it is not recorded (untraced, or an
 * inner part of the same operation).  A call entered at a deeper stack than
 * an open one is nested in it: the same operation (SSL_write_ex calling a
 * probed SSL_write: same direction and buffer) is recorded by the outer call;
 * another one (node's SSL_write from a callback inside SSL_read) is a call of
 * its own.  An entry at the same or a shallower stack pointer ends the open
 * calls there: a tail call (gnutls_record_send jumps to _send2) or stale state.
 */
static __always_inline struct call_state *call_enter(struct pt_regs *ctx, __u64 ssl, __u64 buf,
						     __u64 done_ptr, __u8 direction)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP_CORE(ctx);
	struct thread_state *t;
	struct call_state *call;
	__u32 depth;

	count_hit(ctx);
	if (!should_trace(pid_tgid >> 32))
		return NULL;
	t = thread_of(pid_tgid);
	if (!t)
		return NULL;
	calls_drop_below(t, sp + 1);
	call = call_top(t);
	if (call && call->direction == direction && call->buf == buf) {
		counter_add(TLSPCAP_COUNTER_CALLS_NESTED, 1);
		return NULL;
	}
	depth = t->ncalls;
	if (depth >= CALL_DEPTH) {
		counter_add(TLSPCAP_COUNTER_CALLS_UNRECORDED, 1); /* bytes unknown */
		return NULL;
	}
	barrier_var(depth); /* keep the mask below for the verifier */
	call = &t->calls[depth & (CALL_DEPTH - 1)];
	call->ssl = ssl;
	call->buf = buf;
	call->done_ptr = done_ptr;
	call->sock = 0;
	call->inode = 0;
	call->sp = sp;
	call->fd = -1;
	call->cookie = bpf_get_attach_cookie(ctx);
	call->direction = direction;
	call->not_tls = 0;
	call->iov_count = 0;
	t->ncalls++;
	return call;
}

SEC("uprobe")
int BPF_KPROBE(probe_send_enter, void *ssl, const void *buf)
{
	call_enter(ctx, (__u64)ssl, (__u64)buf, 0, TLSPCAP_DIR_SEND);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(probe_recv_enter, void *ssl, void *buf)
{
	call_enter(ctx, (__u64)ssl, (__u64)buf, 0, TLSPCAP_DIR_RECV);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(probe_send_ex_enter, void *ssl, const void *buf, size_t num, size_t *written)
{
	call_enter(ctx, (__u64)ssl, (__u64)buf, (__u64)written, TLSPCAP_DIR_SEND);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(probe_recv_ex_enter, void *ssl, void *buf, size_t num, size_t *readbytes)
{
	call_enter(ctx, (__u64)ssl, (__u64)buf, (__u64)readbytes, TLSPCAP_DIR_RECV);
	return 0;
}

/* OpenSSL 3.3+ ssl_write_internal(s, buf, num, flags, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(probe_send_ex2_enter, void *ssl, const void *buf, size_t num, __u64 flags,
	       size_t *written)
{
	call_enter(ctx, (__u64)ssl, (__u64)buf, (__u64)written, TLSPCAP_DIR_SEND);
	return 0;
}

/* PR_Writev(fd, const PRIOVec *iov, PRInt32 iov_size, timeout) */
SEC("uprobe")
int BPF_KPROBE(probe_send_iov_enter, void *fd, const void *iov, int iov_size)
{
	struct call_state *call = call_enter(ctx, (__u64)fd, (__u64)iov, 0, TLSPCAP_DIR_SEND);

	if (call)
		call->iov_count = iov_size > 0 ? iov_size : 0;
	return 0;
}

static __always_inline struct session *session_of(__u32 tgid, __u64 ssl)
{
	struct session_key key = { .tgid = tgid, .ssl = ssl };
	struct session fresh = { .fd = -1, .hint_fd = -1 };
	struct session *session = bpf_map_lookup_elem(&sessions, &key);

	if (session)
		return session;
	bpf_map_update_elem(&sessions, &key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sessions, &key);
}

static __always_inline void set_fd_hint(struct pt_regs *ctx, void *ssl, int fd)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct session *session;

	count_hit(ctx);
	if (!should_trace(tgid))
		return;
	session = session_of(tgid, (__u64)ssl);
	if (session)
		session->hint_fd = fd;
}

/* SSL_set_fd(ssl, fd), gnutls_transport_set_int2(session, fd, ...): the socket, named. */
SEC("uprobe")
int BPF_KPROBE(probe_set_fd, void *ssl, long fd)
{
	set_fd_hint(ctx, ssl, (int)fd);
	return 0;
}

/* mbedtls_ssl_set_bio(ssl, &net_context, ...): the public net context starts with its fd. */
SEC("uprobe")
int BPF_KPROBE(probe_set_fd_ptr, void *ssl, const int *fd_ptr)
{
	int fd = -1;

	if (fd_ptr && !bpf_probe_read_user(&fd, sizeof(fd), fd_ptr))
		set_fd_hint(ctx, ssl, fd);
	return 0;
}

static __always_inline void fill_header(struct tlspcap_record *hdr, __u32 type, __u64 pid_tgid,
					__s32 fd, __u64 conn_id)
{
	hdr->type = type;
	hdr->tgid = pid_tgid >> 32;
	hdr->tid = (__u32)pid_tgid;
	hdr->fd = fd;
	hdr->conn_id = conn_id;
	hdr->timestamp_ns = bpf_ktime_get_ns();
}

static __always_inline void emit_socket(__u64 pid_tgid, struct session *session, __u64 ssl,
					__u32 library, __u8 attribution)
{
	struct tlspcap_socket_record rec = {};
	struct sock *sk = (struct sock *)session->sock;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	fill_header(&rec.hdr, TLSPCAP_RECORD_SOCKET, pid_tgid, session->fd, session->conn_id);
	rec.ssl_ctx = ssl;
	rec.socket_inode = session->inode;
	rec.library = library;
	rec.family = family;
	rec.protocol = BPF_CORE_READ(sk, sk_protocol);
	rec.local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	rec.remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	rec.attribution = attribution;
	rec.passive = BPF_CORE_READ(sk, sk_max_ack_backlog) > 0;
	bpf_get_current_comm(rec.comm, sizeof(rec.comm));
	if (family == AF_INET) {
		bpf_core_read(rec.local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(rec.remote_addr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_core_read(rec.local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(rec.remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	control_output(&rec, sizeof(rec), false);
}

/* Ties @session to socket @fd and tells user space, once per connection. */
static __always_inline void session_bind(__u64 pid_tgid, struct session *session, __u64 ssl,
					 __s32 fd, __u64 sock, __u64 inode, __u32 cookie,
					 __u8 attribution)
{
	__u32 tgid = pid_tgid >> 32;
	struct socket_key skey = { .tgid = tgid, .fd = fd };
	struct socket_state sstate = { .conn_id = session->conn_id, .ssl = ssl };
	__u8 one = 1;

	session->fd = fd;
	session->sock = sock;
	session->inode = inode;
	bpf_map_update_elem(&sockets, &skey, &sstate, BPF_ANY);
	bpf_map_update_elem(&traced_tgids, &tgid, &one, BPF_ANY);
	emit_socket(pid_tgid, session, ssl, cookie & TLSPCAP_COOKIE_LIBRARY_MASK, attribution);
}

/*
 * Memory BIO (node): the TLS bytes of a context whose call made no socket
 * syscall leave with the thread's next socket write.  Returns whether @fd
 * was that write (a socket).
 */
static __always_inline bool bind_by_next_write(__u64 pid_tgid, struct thread_state *t, int fd)
{
	struct session_key key = { .tgid = pid_tgid >> 32, .ssl = t->bio_write_ssl };
	struct session *session = bpf_map_lookup_elem(&sessions, &key);
	struct sock *sk;
	__u64 inode = 0;

	sk = socket_of_fd(fd, &inode);
	if (!sk)
		return false;
	if (session && session->fd < 0 && session->conn_id && !session->closed) {
		session_bind(pid_tgid, session, key.ssl, fd, (__u64)sk, inode, t->bio_write_cookie,
			     TLSPCAP_ATTR_ORDER);
		counter_add(TLSPCAP_COUNTER_BOUND_BY_ORDER, 1);
	}
	t->bio_write_ssl = 0;
	return true;
}

/*
 * Go crypto/tls. A goroutine that parks in the netpoller resumes on another
 * thread, so its in-flight (*Conn).Write or Read is keyed by the goroutine:
 * the g pointer that Go's register ABI keeps in R14, in the probes' registers
 * and in the task's user registers at a syscall. Calls end at a uprobe on
 * each RET (a uretprobe's return address breaks Go's stack copying).
 */
struct go_call_key {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

struct go_call {
	struct call_state call; /* as for a C call: what bind_connection reads */
	__u64 len;              /* the buffer's length */
	__u32 entry_tid;
	__u8 other_thread;      /* a syscall or the RET ran on another thread than the entry */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_TRACKED);
	__type(key, struct go_call_key);
	__type(value, struct go_call);
} go_calls SEC(".maps");

/* One bit per tgid (PID_MAX_LIMIT) for processes that made Go TLS calls: the
 * syscall hooks look in go_calls only for those, so any other thread's
 * syscall still costs a single hash lookup. */
#define GO_TGID_WORDS (4194304 / 64)
__u64 go_tgid_bits[GO_TGID_WORDS] = {};

static __always_inline __u64 *go_tgid_word(__u32 tgid, __u64 *bit)
{
	*bit = 1ull << (tgid % 64);
	/* tgids stay below PID_MAX_LIMIT; the mask is for the verifier */
	return &go_tgid_bits[(tgid / 64) & (GO_TGID_WORDS - 1)];
}

static __always_inline void note_go_syscall(__u64 pid_tgid, int fd)
{
	__u64 bit, *word = go_tgid_word(pid_tgid >> 32, &bit);
	struct go_call_key key = { .tgid = pid_tgid >> 32 };
	struct pt_regs *regs;
	struct go_call *call;
	struct sock *sk;
	__u64 inode = 0;

	if (!(*word & bit))
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	key.g = BPF_CORE_READ(regs, r14);
	call = bpf_map_lookup_elem(&go_calls, &key);
	if (!call)
		return;
	/* any syscall of the call, not only the first: a Read resumes after parking */
	if ((__u32)pid_tgid != call->entry_tid)
		call->other_thread = 1;
	if (call->call.fd >= 0)
		return;
	sk = socket_of_fd(fd, &inode);
	if (!sk)
		return;
	call->call.fd = fd;
	call->call.sock = (__u64)sk;
	call->call.inode = inode;
}

static __always_inline void note_syscall(int fd, __u64 buf, bool is_write)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct thread_state *t = bpf_map_lookup_elem(&threads, &pid_tgid);
	struct call_state *call;
	struct sock *sk;
	__u64 inode = 0;

	if (!t) {
		note_go_syscall(pid_tgid, fd);
		return;
	}
	/* Also inside a call: node sends what a callback wrote with SSL_write
	 * before the SSL_read that ran the callback returns. */
	if (t->memory_bio && is_write && t->bio_write_ssl && bind_by_next_write(pid_tgid, t, fd))
		return;
	call = call_top(t);
	if (!call) {
		if (t->memory_bio && !is_write && socket_of_fd(fd, &inode))
			t->last_read_fd = fd;
		note_go_syscall(pid_tgid, fd);
		return;
	}
	if (call->fd >= 0 || call->not_tls)
		return;
	/* NSPR: PR_Write on a plain socket or on stdout writes the caller's own buffer. */
	if ((call->cookie & TLSPCAP_COOKIE_PASSTHROUGH_CHECK) && buf && buf == call->buf) {
		call->not_tls = 1;
		return;
	}
	/* Libraries also write logs and read files inside TLS calls. */
	sk = socket_of_fd(fd, &inode);
	if (!sk)
		return;
	call->fd = fd;
	call->sock = (__u64)sk;
	call->inode = inode;
}

struct chunk_ctx {
	struct tlspcap_record hdr;
	__u64 ssl;
	__u64 buf;
	__u64 offset;     /* stream offset of the call's first byte */
	__u64 total;      /* bytes the call returned */
	__u64 kept;       /* bytes copied (snaplen) */
	__u32 library;
	__u8 direction;
	__u8 attribution;
	__u8 incomplete;  /* a record was dropped or its bytes unreadable */
};

/*
 * One record: @len stream bytes at @offset, of which the first @kept are
 * copied from @buf (@kept <= @len; the rest was cut by the snap length).
 * A global function: the verifier checks it once, not at every call site.
 */
extern int bpf_probe_read_user_dynptr(struct bpf_dynptr *dptr, __u32 off, __u32 size,
				      const void *unsafe_ptr) __ksym;

/* One copy: the bytes go from the traced program straight into the ring. */
__noinline int emit_record(struct chunk_ctx *c, __u64 buf, __u64 offset, __u64 len,
			   __u64 kept)
{
	struct tlspcap_data_record *rec;
	struct bpf_dynptr ptr;
	bool fault;

	if (!c)
		return 0;
	asm volatile("" : "+r"(kept)); /* keep the bound check below for the verifier */
	if (kept > TLSPCAP_CHUNK_MAX)
		return 0;
	if (bpf_ringbuf_reserve_dynptr(&events, TLSPCAP_DATA_RECORD_HEADER_SIZE + kept, 0, &ptr)) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		counter_add(TLSPCAP_COUNTER_RECORDS_DROPPED, 1);
		counter_add(TLSPCAP_COUNTER_BYTES_DROPPED, len);
		c->incomplete = 1;
		return 0;
	}
	fault = kept && bpf_probe_read_user_dynptr(&ptr, TLSPCAP_DATA_RECORD_HEADER_SIZE, kept,
						   (void *)buf);
	rec = bpf_dynptr_data(&ptr, 0, TLSPCAP_DATA_RECORD_HEADER_SIZE);
	if (!rec) { /* cannot happen: the reservation holds the header */
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}
	rec->hdr = c->hdr;
	rec->ssl_ctx = c->ssl;
	rec->offset = offset;
	rec->len = len;
	rec->data_len = kept;
	rec->library = c->library;
	rec->direction = c->direction;
	rec->attribution = c->attribution;
	if (fault) { /* the record says how much, its bytes are lost */
		counter_add(TLSPCAP_COUNTER_READ_FAULTS, 1);
		rec->data_len = 0;
		c->incomplete = 1;
	}
	bpf_ringbuf_submit_dynptr(&ptr, ring_wakeup());
	return 0;
}

/* bpf_loop callback: chunk @index of one buffer (c->buf, c->kept of c->total). */
static long emit_chunk(__u32 index, void *arg)
{
	struct chunk_ctx *c = arg;
	__u64 pos = (__u64)index * TLSPCAP_CHUNK_MAX;
	__u64 n;

	if (pos >= c->kept)
		return 1;
	n = c->kept - pos;
	if (n > TLSPCAP_CHUNK_MAX)
		n = TLSPCAP_CHUNK_MAX;
	/* The last chunk also covers the bytes the snap length cut off. */
	emit_record(c, c->buf + pos, c->offset + pos, pos + n >= c->kept ? c->total - pos : n, n);
	return 0;
}

static __always_inline void emit_buffer(struct chunk_ctx *c)
{
	__u64 nr_chunks = (c->kept + TLSPCAP_CHUNK_MAX - 1) / TLSPCAP_CHUNK_MAX;

	if (nr_chunks == 1) { /* most calls: no loop to set up */
		emit_record(c, c->buf, c->offset, c->total, c->kept);
		return;
	}
	if (nr_chunks > TLSPCAP_MAX_CHUNKS_PER_CALL)
		nr_chunks = TLSPCAP_MAX_CHUNKS_PER_CALL;
	bpf_loop(nr_chunks, emit_chunk, c, 0);
}

/*
 * A gathering write (PR_Writev): its first IOV_MAX pieces in order, each in
 * chunks.  Bytes in further pieces are not emitted: user space sees them as
 * lost.  (One bpf_loop per piece: the verifier checks each, so few pieces.)
 */
static __always_inline void emit_iovec(struct chunk_ctx *c, __u64 iov, __u32 count)
{
	__u64 left = c->total, keep = c->kept, offset = c->offset;
	struct nspr_iovec piece;
	__u32 i;

	for (i = 0; i < IOV_MAX && i < count && left; i++) {
		if (bpf_probe_read_user(&piece, sizeof(piece), (void *)(iov + i * sizeof(piece)))) {
			counter_add(TLSPCAP_COUNTER_READ_FAULTS, 1);
			return;
		}
		if (piece.len <= 0)
			continue;
		c->buf = piece.base;
		c->offset = offset;
		c->total = (__u64)piece.len < left ? (__u64)piece.len : left;
		c->kept = c->total < keep ? c->total : keep;
		if (c->kept)
			emit_buffer(c);
		else /* cut by the snap length: a record saying how much */
			emit_record(c, c->buf, c->offset, c->total, 0);
		offset += c->total;
		left -= c->total;
		keep -= c->kept;
	}
}

/*
 * Ties the call to a connection: a new connection when the context has
 * none yet, when its socket was closed, or when it now talks over another
 * socket.  Returns how the socket was found.  @t is NULL for Go calls, which
 * belong to a goroutine, not a thread.
 */
static __always_inline __u8 bind_connection(__u64 pid_tgid, struct thread_state *t,
					    const struct call_state *call, struct session *session)
{
	__u8 attribution = TLSPCAP_ATTR_NONE;
	__s32 fd = -1;
	__u64 sock = 0, inode = 0;
	bool new_conn;

	if (call->fd >= 0) {
		attribution = TLSPCAP_ATTR_SYSCALL;
		fd = call->fd;
		sock = call->sock;
		inode = call->inode;
	} else if (session->fd >= 0 && !session->closed) {
		attribution = TLSPCAP_ATTR_CACHED;
		fd = session->fd;
		sock = session->sock;
		inode = session->inode;
	} else if (session->hint_fd >= 0 &&
		   (sock = (__u64)socket_of_fd(session->hint_fd, &inode))) {
		attribution = TLSPCAP_ATTR_HINT;
		fd = session->hint_fd;
	} else if (t && call->direction == TLSPCAP_DIR_RECV && t->last_read_fd >= 0 &&
		   (sock = (__u64)socket_of_fd(t->last_read_fd, &inode))) {
		/* Memory BIO: the bytes came in with this thread's last socket read. */
		attribution = TLSPCAP_ATTR_ORDER;
		fd = t->last_read_fd;
	}

	new_conn = !session->conn_id || session->closed ||
		   (fd >= 0 && session->fd >= 0 && (fd != session->fd || sock != session->sock));
	if (new_conn) {
		session->conn_id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
		session->offset[0] = 0;
		session->offset[1] = 0;
		session->delivered_send = 0;
		session->closed = 0;
		session->fd = -1;
	}
	if (fd >= 0 && session->fd < 0) {
		session_bind(pid_tgid, session, call->ssl, fd, sock, inode, call->cookie, attribution);
	} else if (new_conn) {
		__u32 tgid = pid_tgid >> 32;
		__u8 one = 1;

		bpf_map_update_elem(&traced_tgids, &tgid, &one, BPF_ANY);
	}
	if (t && attribution == TLSPCAP_ATTR_NONE) {
		/* No socket in sight: TLS into memory buffers, the socket I/O is outside. */
		t->memory_bio = 1;
		if (call->direction == TLSPCAP_DIR_SEND && !t->bio_write_ssl) {
			t->bio_write_ssl = call->ssl;
			t->bio_write_cookie = call->cookie;
		}
	}
	return attribution;
}

/*
 * Received bytes [@offset, @end) of @session need no record of their own
 * when user space paired this view with the sender's and the sender's
 * records of them are all in the ring already.  Any doubt (not paired, a
 * newer connection on either context, the sender not that far yet, a lost
 * record): record them.
 */
static __always_inline bool sent_by_traced_peer(__u32 tgid, __u64 ssl,
						const struct session *session, __u64 end)
{
	struct session_key key = { .tgid = tgid, .ssl = ssl };
	struct peer_view *peer = bpf_map_lookup_elem(&peer_views, &key);
	struct session *sender;

	if (!peer || peer->conn_id != session->conn_id)
		return false;
	sender = bpf_map_lookup_elem(&sessions, &peer->sender);
	return sender && sender->conn_id == peer->sender_conn_id &&
	       READ_ONCE(sender->delivered_send) >= end;
}

/*
 * Emits the finished @call of thread @t (NULL: a Go call) that moved @total
 * bytes; returns how it was tied to its socket, or -1 when it is not
 * recorded. @gathering: the call was a PR_Writev, its buffer an iovec (a
 * program of its own, so the verifier sees each emission path alone).
 */
static __always_inline int call_emit(__u64 pid_tgid, struct thread_state *t,
				     const struct call_state *call, __u64 total, bool gathering)
{
	struct session *session;
	struct chunk_ctx c = {};

	if (!total) {
		counter_add(TLSPCAP_COUNTER_CALLS_FAILED, 1);
		/* No socket touched by a call that needed I/O: TLS into memory buffers
		 * (node's handshake); its socket reads matter from now on. */
		if (t && call->fd < 0 && !call->not_tls)
			t->memory_bio = 1;
		return -1;
	}
	if (call->not_tls) {
		counter_add(TLSPCAP_COUNTER_NOT_TLS, 1);
		return -1;
	}
	session = session_of(pid_tgid >> 32, call->ssl);
	if (!session) {
		counter_add(TLSPCAP_COUNTER_CALLS_UNRECORDED, 1);
		counter_add(TLSPCAP_COUNTER_BYTES_UNRECORDED, total);
		return -1;
	}
	c.attribution = bind_connection(pid_tgid, t, call, session);
	counter_add(TLSPCAP_COUNTER_ATTR_NONE + c.attribution, 1);

	fill_header(&c.hdr, TLSPCAP_RECORD_DATA, pid_tgid, session->fd, session->conn_id);
	c.ssl = call->ssl;
	c.buf = call->buf;
	c.total = total;
	c.kept = snaplen && snaplen < total ? snaplen : total;
	c.library = call->cookie & TLSPCAP_COOKIE_LIBRARY_MASK;
	c.direction = call->direction & 1;
	c.offset = session->offset[c.direction];
	/* Advance first: a lost record must still leave a gap, not shift bytes. */
	session->offset[c.direction] += total;
	/* With -s, the receiver's calls cut other bytes than the sender's. */
	if (c.direction == TLSPCAP_DIR_RECV && !snaplen && !gathering &&
	    sent_by_traced_peer(pid_tgid >> 32, c.ssl, session, c.offset + total)) {
		counter_add(TLSPCAP_COUNTER_BYTES_FROM_PEER, total);
		return c.attribution;
	}
	if (gathering) {
		emit_iovec(&c, call->buf, call->iov_count);
		return c.attribution;
	}
	emit_buffer(&c);
	/* Every record of the call is in the ring: the traced receiver may leave these out. */
	if (c.direction == TLSPCAP_DIR_SEND && !snaplen && session->delivered_send == c.offset &&
	    !c.incomplete)
		WRITE_ONCE(session->delivered_send, c.offset + total);
	return c.attribution;
}

static __always_inline void call_return(struct pt_regs *ctx, long ret, bool gathering)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct thread_state *t = bpf_map_lookup_elem(&threads, &pid_tgid);
	/* The return pops the entry's return address: the call entered at sp - 8. */
	__u64 entry_sp = PT_REGS_SP_CORE(ctx) - 8;
	struct call_state *call;
	__u64 total = 0;

	if (!t)
		return;
	calls_drop_below(t, entry_sp);
	call = call_top(t);
	/* Not an open call's return: an inner part of an operation, a tail call's outer half. */
	if (!call || call->sp != entry_sp)
		return;
	t->ncalls--; /* @call stays valid: nothing is entered before this program ends */
	if (call->done_ptr) {
		if (ret == 1)
			bpf_probe_read_user(&total, sizeof(total), (void *)call->done_ptr);
	} else if (ret > 0) {
		total = ret;
	}
	call_emit(pid_tgid, t, call, total, gathering);
}

/* int-returning functions (OpenSSL, wolfSSL, mbedTLS, NSPR): rax's upper half is not theirs. */
SEC("uretprobe")
int BPF_KRETPROBE(probe_return_int, long ret)
{
	call_return(ctx, (int)ret, false);
	return 0;
}

/* PR_Writev: returns int, sent the pieces of an iovec. */
SEC("uretprobe")
int BPF_KRETPROBE(probe_return_iov, long ret)
{
	call_return(ctx, (int)ret, true);
	return 0;
}

/* ssize_t-returning functions (GnuTLS). */
SEC("uretprobe")
int BPF_KRETPROBE(probe_return_ssize, long ret)
{
	call_return(ctx, ret, false);
	return 0;
}

/* Go crypto/tls calls (see go_calls above) */
/* Not a direction: a handshake run on its own (net/http calls HandshakeContext) */
#define GO_HANDSHAKE 2

/* (*Conn).Write(b), (*Conn).Read(b): RAX = *Conn, RBX = b.ptr, RCX = b.len */
static __always_inline void go_enter(struct pt_regs *ctx, __u8 direction)
{
	/* all loads first, from the unmodified ctx pointer, as the verifier wants */
	__u64 g = ctx->r14, conn = ctx->ax, buf = ctx->bx, len = ctx->cx;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_call_key key = { .tgid = pid_tgid >> 32, .g = g };
	struct go_call fresh = {}, *call;
	__u64 bit, *word;

	if (!should_trace(key.tgid))
		return;
	word = go_tgid_word(key.tgid, &bit);
	if (!(*word & bit))
		__sync_fetch_and_or(word, bit);
	/* morestack runs the prologue again: the same call, keep what its syscalls said */
	call = bpf_map_lookup_elem(&go_calls, &key);
	/* a handshake inside a Write or Read: that call sees its syscalls */
	if (call && direction == GO_HANDSHAKE && call->call.direction != GO_HANDSHAKE)
		return;
	if (call && call->call.ssl == conn && call->call.buf == buf && call->len == len &&
	    call->call.direction == direction) {
		counter_add(TLSPCAP_COUNTER_GO_REENTERED, 1);
		return;
	}
	fresh.call.ssl = conn;
	fresh.call.buf = buf;
	fresh.call.fd = -1;
	fresh.call.cookie = bpf_get_attach_cookie(ctx);
	fresh.call.direction = direction;
	fresh.len = len;
	fresh.entry_tid = (__u32)pid_tgid;
	bpf_map_update_elem(&go_calls, &key, &fresh, BPF_ANY);
}

/*
 * At a RET: RAX = n, RBX:RCX = the error (bytes before an error still count).
 * A handshake's end instead names its socket as the connection's, as
 * SSL_set_fd does, for reads later served from crypto/tls's buffer.
 */
static __always_inline void go_return(struct pt_regs *ctx, __u8 direction)
{
	__u64 g = ctx->r14, n = ctx->ax;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_call_key key = { .tgid = pid_tgid >> 32, .g = g };
	struct go_call *call = bpf_map_lookup_elem(&go_calls, &key);
	struct session *session;
	int attribution;

	if (!call || call->call.direction != direction)
		return;
	if (direction == GO_HANDSHAKE) {
		if (call->call.fd >= 0 && (session = session_of(key.tgid, call->call.ssl)))
			session->hint_fd = call->call.fd;
	} else {
		if ((long)n < 0 || n > call->len)
			n = 0;
		attribution = call_emit(pid_tgid, NULL, &call->call, n, false);
		if (attribution >= 0 && attribution <= TLSPCAP_ATTR_HINT) {
			counter_add(TLSPCAP_COUNTER_GO_ATTR_NONE + attribution, 1);
			if (call->other_thread || (__u32)pid_tgid != call->entry_tid)
				counter_add(TLSPCAP_COUNTER_GO_OTHER_THREAD, 1);
		}
	}
	bpf_map_delete_elem(&go_calls, &key);
}

#define GO_PROBE(name, fn, direction)                  \
	SEC("uprobe")                                   \
	int name(struct pt_regs *ctx)                   \
	{                                               \
		fn(ctx, direction);                     \
		return 0;                               \
	}

GO_PROBE(probe_go_write_enter, go_enter, TLSPCAP_DIR_SEND)
GO_PROBE(probe_go_read_enter, go_enter, TLSPCAP_DIR_RECV)
GO_PROBE(probe_go_handshake_enter, go_enter, GO_HANDSHAKE)
GO_PROBE(probe_go_write_return, go_return, TLSPCAP_DIR_SEND)
GO_PROBE(probe_go_read_return, go_return, TLSPCAP_DIR_RECV)
GO_PROBE(probe_go_handshake_return, go_return, GO_HANDSHAKE)

/* A reused tgid should not cost its syscalls a go_calls lookup. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(probe_go_process_exit, struct task_struct *task)
{
	__u64 bit, *word;

	if (task->pid != task->tgid)
		return 0;
	word = go_tgid_word(task->tgid, &bit);
	if (*word & bit)
		__sync_fetch_and_and(word, ~bit);
	return 0;
}


static __always_inline void note_close(int fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct socket_key skey = { .tgid = pid_tgid >> 32, .fd = fd };
	struct socket_state *state = bpf_map_lookup_elem(&sockets, &skey);
	struct session_key key;
	struct session *session;
	struct tlspcap_close_record rec = {};

	if (!state)
		return;
	key.tgid = skey.tgid;
	key.pad = 0;
	key.ssl = state->ssl;
	session = bpf_map_lookup_elem(&sessions, &key);
	if (session && session->conn_id == state->conn_id) {
		session->closed = 1;
		rec.end_offset[0] = session->offset[0];
		rec.end_offset[1] = session->offset[1];
	}
	fill_header(&rec.hdr, TLSPCAP_RECORD_CLOSE, pid_tgid, skey.fd, state->conn_id);
	bpf_map_delete_elem(&sockets, &skey);
	control_output(&rec, sizeof(rec), false);
}

/* bpf_for_each_map_elem callbacks: drop an exited process's sessions and sockets. */
static long drop_session(struct bpf_map *map, struct session_key *key, struct session *s,
			 __u32 *tgid)
{
	if (key->tgid == *tgid)
		bpf_map_delete_elem(map, key);
	return 0;
}

static long drop_socket(struct bpf_map *map, struct socket_key *key, struct socket_state *s,
			__u32 *tgid)
{
	if (key->tgid == *tgid)
		bpf_map_delete_elem(map, key);
	return 0;
}

/*
 * Process @tgid's TLS state is gone (it exited, or executed a program): its
 * sessions and sockets go too, and user space ends its connections.
 */
static __always_inline void process_ended(__u32 tgid, __s32 how)
{
	struct tlspcap_record rec = {};

	if (!bpf_map_lookup_elem(&traced_tgids, &tgid))
		return;
	bpf_map_delete_elem(&traced_tgids, &tgid);
	/* Left to the LRU, dead processes' entries would push out live ones; after an
	 * exec, a new context at an old one's address would continue its offsets. */
	bpf_for_each_map_elem(&sessions, drop_session, &tgid, 0);
	bpf_for_each_map_elem(&sockets, drop_socket, &tgid, 0);
	fill_header(&rec, TLSPCAP_RECORD_EXIT, bpf_get_current_pid_tgid(), how, 0);
	control_output(&rec, sizeof(rec), false);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(probe_process_exit, struct task_struct *task)
{
	__u64 pid_tgid = (__u64)task->tgid << 32 | (__u32)task->pid;

	/* A thread's calls end with it, also one killed inside a TLS call. */
	bpf_map_delete_elem(&threads, &pid_tgid);
	/* The group leader exits last: that ends the process. */
	if (task->pid == task->tgid)
		process_ended(task->tgid, -1);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(probe_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	__u8 one = 1;

	if (!filter_pids || parent_tgid == child_tgid)
		return 0;
	if (bpf_map_lookup_elem(&pid_filter, &parent_tgid))
		bpf_map_update_elem(&pid_filter, &child_tgid, &one, BPF_ANY);
	return 0;
}

static __always_inline void emit_process_event(__u32 type)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tlspcap_record rec = {};

	if (!should_trace(pid_tgid >> 32))
		return;
	fill_header(&rec, type, pid_tgid, -1, 0);
	control_output(&rec, sizeof(rec), true);
}

/* A new program may carry its own TLS code (static OpenSSL): user space looks. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(probe_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	process_ended(task->tgid, TLSPCAP_EXIT_EXEC);
	emit_process_event(TLSPCAP_RECORD_EXEC);
	return 0;
}

/*
 * One raw tracepoint for every syscall: a BPF link that attaches and
 * detaches at once (a perf-event tracepoint per syscall costs ~0.13 s to
 * detach) and needs no tracefs.  Other syscalls cost the switch below.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(probe_sys_enter, struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_WRITE:
	case NR_SENDTO:
		note_syscall(PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs), true);
		break;
	case NR_WRITEV:
	case NR_SENDMSG: /* the data is behind an iovec: no buffer to compare */
		note_syscall(PT_REGS_PARM1_CORE_SYSCALL(regs), 0, true);
		break;
	case NR_READ:
	case NR_RECVFROM:
		note_syscall(PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs), false);
		break;
	case NR_READV:
	case NR_RECVMSG:
		note_syscall(PT_REGS_PARM1_CORE_SYSCALL(regs), 0, false);
		break;
	case NR_CLOSE:
		note_close(PT_REGS_PARM1_CORE_SYSCALL(regs));
		break;
	case NR_MMAP:
		/* Code mapped from a file (ld.so loading a library, dlopen): user space looks. */
		if ((PT_REGS_PARM3_CORE_SYSCALL(regs) & PROT_EXEC) &&
		    !(PT_REGS_PARM4_CORE_SYSCALL(regs) & MAP_ANONYMOUS) &&
		    (long)PT_REGS_PARM5_CORE_SYSCALL(regs) >= 0)
			emit_process_event(TLSPCAP_RECORD_MAP);
		break;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
