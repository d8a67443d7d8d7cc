/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * maps.h - the BTF map definitions of the mpconv data path (BPF only; the
 * agent reaches the maps through the skeleton or the pins listed in
 * maps/README.md). One line per map says what it holds.
 */
#ifndef MPCONV_MAPS_H
#define MPCONV_MAPS_H

#include "mpconv/abi.h"
#include "mpconv/conn.h"
#include "mpconv/xlate.h"
#include "mpconv/multi.h"
#include "lib/parse.h"

/* named per-CPU counters (struct mpc_stats), one entry */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpc_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_stats SEC(".maps");

/*
 * per-CPU drop counts keyed by enum mpc_drop_reason. A hash, not an array:
 * array maps only take BTF integer keys (the kernel refuses an enum key
 * with EINVAL), and the enum key is what makes `bpftool map dump` print
 * reason names. Entries are created on the first drop of each reason.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MPC_DROP__MAX);
	__type(key, enum mpc_drop_reason);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_drops SEC(".maps");

/* the agent's counters (struct mpc_agent_stats), written by the agent */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpc_agent_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_agent SEC(".maps");

/* data path configuration (struct mpc_dp_config), written by the agent */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpc_dp_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_config SEC(".maps");

/* every tuple of a converted connection, as it arrives -> conn + role */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MPC_DEFAULT_MAX_CONNS *(1 + MPC_MAX_SUBFLOWS));
	__type(key, struct mpc_flow_key);
	__type(value, struct mpc_flow);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_flows SEC(".maps");

/* connection state by id (the agent allocates ids). Mmappable: the agent
 * stores the words it owns (state) in place, never a whole value over the
 * data path's concurrent updates. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MPC_DEFAULT_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct mpc_conn);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_conns SEC(".maps");

/* run records of connections with joins (MPC_CF_MULTI, multi.h), one
 * slot per connection and subflow: key conn_id * MPC_MAX_SUBFLOWS +
 * subflow; written by the data path only (a slot whose tag is not its
 * connection's conn_gen + 1 is stale) */
#define MPC_RUNS_MAP(name)                                                    \
	struct {                                                              \
		__uint(type, BPF_MAP_TYPE_ARRAY);                             \
		__uint(max_entries, MPC_DEFAULT_MAX_CONNS *MPC_MAX_SUBFLOWS); \
		__type(key, __u32);                                           \
		__type(value, struct mpc_runs_slot);                          \
		__uint(pinning, LIBBPF_PIN_BY_NAME);                          \
	} name SEC(".maps")

MPC_RUNS_MAP(mpc_runs_up); /* the client's data, per subflow */
MPC_RUNS_MAP(mpc_runs_dn); /* the server's data, per subflow */

/* slow path to the agent: struct mpc_slow_hdr + packet copy */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MPC_SLOW_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_slow SEC(".maps");

/*
 * per-CPU scratch: the parsed packet, its segment view and the
 * translation result live here rather than on the 512-byte stack; a map
 * value also keeps the option walker's state out of the verifier's state
 * comparison (see probe_mptcp.bpf.c: 88k vs 21.5k processed insns).
 */
/* where a translated segment goes */
struct mpc_route {
	__u32 src[4]; /* network order, v4 in [3] */
	__u32 dst[4];
	__u16 sport; /* host order */
	__u16 dport;
};

struct mpc_scratch {
	struct mpc_pkt pkt;	  /* parsed packet, incl. the segment */
	struct mpc_xlate_out out; /* translation result */
	struct mpc_mptcp_opt opt; /* one parsed MPTCP option */
	struct mpc_flow_key key;
	struct bpf_fib_lookup fib;
	struct mpc_route route;
	__s32 hdr_diff; /* checksum differences, old -> new */
	__s32 pseudo_diff;
	__u16 old_check;
	__u16 new_tcp; /* new TCP header length */
	__u8 up;       /* direction of this packet */
	__u8 sfi;      /* subflow index */
	__u8 multi;    /* downstream, MPC_CF_MULTI: sfack holds the ACK */
	__u8 dsn_nb;   /* blocks in dsn_sack */
	__u8 fill;     /* upstream, multi: a hole for the agent to fill */
	__u8 nudge;    /* upstream, multi: the peer's DATA_ACK lags
			* (MPC_SLOW_NUDGE, multi.h mpc_multi_dack_lags) */
	__u8 _pad[2];
	__u32 fill_dsn; /* ... the DSN our data there had (acknowledged) */
	__u32 fill_len; /* ... bytes of it from the peer's subflow ACK on */
	__u32 dsn_ack;	/* downstream, multi: the leg ACK as a DSN */
	__u32 dn_dsn;	/* downstream, multi: DSN of the segment */
	__u64 now;	/* multi: bpf_ktime_get_ns() */
	struct mpc_sf_ack sfack;
	struct mpc_sf_ack upsack; /* upstream, multi: the leg's SACK */
	__u32 synth[2];		  /* upstream, multi: a synthesised block */
	struct mpc_sched_sf sched[MPC_MAX_SUBFLOWS];
	struct mpc_multi_pt pts[MPC_MAX_SUBFLOWS];
	struct mpc_seq_block dsn_sack[MPC_RUNS_SACK_MAX];
	struct mpc_seq_block sf_sack[MPC_RUNS_SACK_MAX];
	__u8 hdr[128];	 /* new Ethernet + IP + TCP headers */
	__u8 old[128];	 /* old IP + TCP headers */
	__u8 ps_old[40]; /* pseudo-headers for the checksum */
	__u8 ps_new[40];
	__u8 copy[sizeof(struct mpc_slow_hdr) + MPC_SLOW_SNAPLEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpc_scratch);
} mpc_scratch_map SEC(".maps");

#endif /* MPCONV_MAPS_H */
