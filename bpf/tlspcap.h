/* SPDX-License-Identifier: MIT */
/*
 * Records sent from the BPF probes to user space through the ring buffer.
 * Shared by bpf/tlspcap.bpf.c and capture/.  Every record starts with
 * struct tlspcap_record; the consumer checks the sample size against the
 * record type before reading any other field.  Variable-length data is last.
 */
#ifndef TLSPCAP_H
#define TLSPCAP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Largest plaintext chunk per record; a bigger TLS call becomes several
 * records.  A power of two so the probe can clamp lengths with a mask. */
#define TLSPCAP_CHUNK_MAX 16384
#define TLSPCAP_MAX_CHUNKS_PER_CALL (1u << 20) /* 16 GiB per call */

enum tlspcap_record_type {
	TLSPCAP_RECORD_DATA = 1,   /* plaintext of one TLS call (or a chunk of it) */
	TLSPCAP_RECORD_SOCKET = 2, /* a connection was tied to a socket: its 5-tuple */
	TLSPCAP_RECORD_CLOSE = 3,  /* the socket's fd was closed */
	TLSPCAP_RECORD_EXIT = 4,   /* a traced process exited (fd -1) or executed a program
				      (fd TLSPCAP_EXIT_EXEC): its TLS state is gone */
	TLSPCAP_RECORD_EXEC = 5,   /* a process executed a program: describe it, look for libraries */
	TLSPCAP_RECORD_MAP = 6,    /* a process mapped code from a file: look for new libraries */
};

/* The fd of an EXIT record sent for an exec */
#define TLSPCAP_EXIT_EXEC (-2)

/* The uprobe attach cookie: the library's index in user space, plus flags. */
#define TLSPCAP_COOKIE_LIBRARY_MASK 0x00ffffffu
/* The TLS context may be a plain socket (NSPR): a call that hands its own
 * buffer to a syscall is not TLS and is not recorded. */
#define TLSPCAP_COOKIE_PASSTHROUGH_CHECK (1u << 31)
/* The probe point's instruction is single-stepped, not emulated, by the
 * kernel: hits are counted apart (capture/probe_point.h). */
#define TLSPCAP_COOKIE_STEPPED (1u << 30)

/* Seen from the traced process. */
enum tlspcap_direction {
	TLSPCAP_DIR_SEND = 0,
	TLSPCAP_DIR_RECV = 1,
};

/* How the TLS call was tied to its socket. */
enum tlspcap_attribution {
	TLSPCAP_ATTR_NONE = 0,    /* not at all: unattributed stream */
	TLSPCAP_ATTR_SYSCALL = 1, /* a socket syscall made inside the call */
	TLSPCAP_ATTR_CACHED = 2,  /* the TLS context's socket from an earlier call */
	TLSPCAP_ATTR_HINT = 3,    /* an API call naming the fd (SSL_set_fd, ...) */
	TLSPCAP_ATTR_ORDER = 4,   /* memory BIO: the socket read before / written after the call */
	TLSPCAP_ATTR_COUNT,
};

/* Indexes of the per-CPU counters map. */
enum tlspcap_counter {
	TLSPCAP_COUNTER_RECORDS_DROPPED = 0, /* ring buffer full */
	TLSPCAP_COUNTER_BYTES_DROPPED,       /* plaintext in those records */
	TLSPCAP_COUNTER_CALLS_FAILED,        /* TLS calls that returned <= 0 */
	TLSPCAP_COUNTER_CALLS_NESTED,        /* inner calls recorded by the outer one */
	TLSPCAP_COUNTER_READ_FAULTS,         /* bpf_probe_read_user failed */
	TLSPCAP_COUNTER_ATTR_NONE,           /* TLS calls by attribution, in enum order */
	TLSPCAP_COUNTER_ATTR_SYSCALL,
	TLSPCAP_COUNTER_ATTR_CACHED,
	TLSPCAP_COUNTER_ATTR_HINT,
	TLSPCAP_COUNTER_ATTR_ORDER,
	TLSPCAP_COUNTER_BOUND_BY_ORDER,      /* contexts tied later by the next socket write */
	TLSPCAP_COUNTER_NOT_TLS,             /* calls on plain sockets or files (NSPR) */
	TLSPCAP_COUNTER_CALLS_UNRECORDED,    /* TLS calls without state to record them in */
	TLSPCAP_COUNTER_BYTES_UNRECORDED,    /* their bytes, where known */
	TLSPCAP_COUNTER_CONTROL_DROPPED,     /* SOCKET/CLOSE/EXIT/EXEC/MAP records, control ring full */
	TLSPCAP_COUNTER_GO_ATTR_NONE,        /* Go calls by attribution: none, */
	TLSPCAP_COUNTER_GO_ATTR_SYSCALL,     /* a syscall made by the goroutine inside the call, */
	TLSPCAP_COUNTER_GO_ATTR_CACHED,      /* the *tls.Conn's socket from an earlier call */
	TLSPCAP_COUNTER_GO_ATTR_HINT,        /* the socket of the *tls.Conn's handshake */
	TLSPCAP_COUNTER_GO_OTHER_THREAD,     /* Go calls that ran on two threads or more (a syscall
						or the RET on another than the entry's) */
	TLSPCAP_COUNTER_GO_REENTERED,        /* Go entries run again (morestack) */
	TLSPCAP_COUNTER_HITS_EMULATED,       /* entry probe hits on an emulated instruction */
	TLSPCAP_COUNTER_HITS_STEPPED,        /* ... on a single-stepped one */
	TLSPCAP_COUNTER_BYTES_FROM_PEER,     /* received bytes not sent again: the traced
						peer view's send records carry them */
	TLSPCAP_COUNTER_COUNT,
};

struct tlspcap_record {
	__u32 type;            /* enum tlspcap_record_type */
	__u32 tgid;
	__u32 tid;
	__s32 fd;              /* -1 when unknown */
	__u64 conn_id;         /* unique per capture; 0 in EXIT records */
	__u64 timestamp_ns;    /* CLOCK_MONOTONIC */
};

struct tlspcap_data_record {
	struct tlspcap_record hdr;
	__u64 ssl_ctx;         /* the library's TLS context pointer */
	__u64 offset;          /* stream offset of data[0] in this direction */
	__u64 len;             /* stream bytes covered; > data_len when cut by snaplen */
	__u32 data_len;        /* bytes present in data[] */
	__u32 library;         /* attach cookie: index of the probed file in user space */
	__u8 direction;        /* enum tlspcap_direction */
	__u8 attribution;      /* enum tlspcap_attribution */
	__u8 pad[6];
	__u8 data[TLSPCAP_CHUNK_MAX];
};

struct tlspcap_socket_record {
	struct tlspcap_record hdr;
	__u64 ssl_ctx;
	__u64 socket_inode;    /* matches /proc/net/tcp{,6} and /proc/PID/fd links */
	__u32 library;
	__u16 family;          /* AF_INET or AF_INET6 */
	__u16 protocol;        /* IPPROTO_TCP, ... */
	__u16 local_port;      /* host order */
	__u16 remote_port;
	__u8 attribution;
	/* The socket came from accept(): it inherits its listener's backlog
	 * (sk_max_ack_backlog), which a connecting socket never has. */
	__u8 passive;
	__u8 pad[2];
	char comm[16];         /* task comm, for processes gone before /proc is read */
	__u8 local_addr[16];   /* IPv4 in the first 4 bytes, network order */
	__u8 remote_addr[16];
};

/* Where each direction ended: bytes past the last record seen were lost. */
struct tlspcap_close_record {
	struct tlspcap_record hdr;
	__u64 end_offset[2];   /* by enum tlspcap_direction */
};

#define TLSPCAP_DATA_RECORD_HEADER_SIZE \
	(sizeof(struct tlspcap_data_record) - TLSPCAP_CHUNK_MAX)

#endif /* TLSPCAP_H */
