/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * conn.h - the state of converted connections, shared by the agent (which
 * creates and retires it) and the data path (which translates with it).
 *
 * One connection = one plain TCP *leg* (converter <-> TCP peer) plus one
 * MPTCP connection of up to MPC_MAX_SUBFLOWS *subflows* (converter <->
 * MPTCP peer). "Up" is the direction MPTCP peer -> TCP peer, "down" the
 * other.
 *
 * Sequence spaces, all 32-bit (wrap-safe with before()/after(); the DSS
 * options the converter writes use 4-byte DSN and DATA_ACK, which
 * RFC 8684 3.3 allows and receivers expand against their own 64-bit
 * state):
 *
 *   leg seq (up)     = DSN_up + up_off               (peer data -> server)
 *   DSN_down         = leg seq (down) + down_off     (server data -> peer)
 *   subflow seq (up) = DSN_up + sf.up_off            (peer's subflow seq)
 *   subflow seq (dn) = DSN_down + sf.down_off        (converter's subflow seq)
 *
 * up_off/down_off are fixed at setup; sf.* offsets are linear per subflow
 * for as long as the peer maps its data contiguously (the first subflow
 * always; joins and reinjection use the run records of a later issue).
 *
 * Concurrency: the agent writes identity and offsets before it publishes
 * the flow entries that lead packets here, and only changes `state` and
 * `flags` afterwards (atomically). The data path writes only the
 * observation fields (counters with atomic adds; max_* and last_* as plain
 * stores: a lost update between two CPUs costs at most one unneeded
 * retransmission by the agent's timers).
 */
#ifndef MPCONV_CONN_H
#define MPCONV_CONN_H

#include "compat.h"

#define MPC_MAX_SUBFLOWS 8
#define MPC_DEFAULT_MAX_CONNS 16384

/* lifecycle; the data path translates only ESTABLISHED (and CLOSING) */
enum mpc_conn_state {
	MPC_CS_FREE = 0,
	MPC_CS_LEG_SYN_SENT = 1, /* peer SYN taken, leg SYN sent */
	MPC_CS_SYNACK_SENT = 2,	 /* leg up, SYN/ACK sent to the peer */
	MPC_CS_ESTABLISHED = 3,	 /* data path translates both directions */
	MPC_CS_CLOSING = 4, /* a FIN / DATA_FIN was seen; still translated */
	MPC_CS_ERROR = 5,   /* answering with an Error TLV, then closing */
	MPC_CS_DEAD = 6,    /* reset; entries linger to absorb stragglers */
	MPC_CS_NOKEY = 7,   /* MPTCP peer's third ACK had no keys: the reply
			     * is out, the agent learns the peer's data
			     * sequence space from its first mapping */
};

/* mpc_conn.flags */
#define MPC_CF_PLAIN 0x0001u	   /* peer spoke plain TCP (no MP_CAPABLE) */
#define MPC_CF_UP_FIN 0x0002u	   /* peer's DATA_FIN forwarded as leg FIN */
#define MPC_CF_DOWN_FIN 0x0004u	   /* server's FIN forwarded as DATA_FIN */
#define MPC_CF_REPLY_ACKED 0x0008u /* Convert reply DATA_ACKed */
#define MPC_CF_LEG_TS 0x0010u	   /* timestamps on the leg */
#define MPC_CF_SF_TS 0x0020u	   /* timestamps on the subflows */
#define MPC_CF_SACK 0x0040u	   /* SACK on both sides */
/* a join was installed: the data path records runs (runs.h) for every
 * subflow and derives each subflow's ACK from them (multi.h), not from
 * the linear offsets; set by the agent before the join's flow entry */
#define MPC_CF_MULTI 0x0080u

/* mpc_subflow.flags */
#define MPC_SF_ACTIVE 0x01u
#define MPC_SF_BACKUP 0x02u

struct mpc_subflow {
	__u32 local[4];	 /* converter address (network order; v4 in [3]) */
	__u32 remote[4]; /* MPTCP peer address */
	__u16 lport;	 /* host order */
	__u16 rport;
	__u8 family; /* 4 or 6 */
	__u8 flags;  /* MPC_SF_* */
	/* MPC_CF_MULTI: the peer resent data we ACKed already (our ACK was
	 * lost): the next leg ACK goes here (multi.h); set by the upstream
	 * path, cleared when an ACK is sent here */
	__u8 want_ack;
	__u8 _pad;
	__u32 iss;	/* converter's ISN on this subflow */
	__u32 irs_base; /* peer's ISN + its SYN payload length (TFO): DSS
			  * relative subflow seqs count from here */
	/* peer subflow seq = DSN_up + up_off; set by the agent, moved by the
	 * data path when the peer remaps (mpc_xlate_out.new_up_off) */
	__u32 up_off;
	__u32 down_off; /* our subflow seq = DSN_down + down_off */
	__u32 ts_off;	/* leg TSval = subflow TSval + ts_off */
	__u32 up_nxt;	/* peer's highest subflow seq + len seen (data path) */
	/* ---- data path, per subflow (the agent sets the start values) ---- */
	__u32 up_ack;	  /* highest subflow ACK sent to the peer here */
	__u32 dn_nxt;	  /* our highest subflow seq + len sent here */
	__u64 up_bytes;	  /* payload bytes the peer sent here (translated) */
	__u64 down_bytes; /* payload bytes we sent here */
	__u64 acks; /* segments (data or pure ACK) sent to the peer here */
	/* what the downstream scheduler knows (multi.h; upstream path) */
	__u32 dn_una;	/* the peer's highest subflow ACK of our data here */
	__u32 srtt_us;	/* smoothed RTT from its timestamp echoes; 0: none */
	__u32 rate;	/* delivery rate, bytes per ms; 0: no sample yet */
	__u32 dl_bytes; /* bytes it acknowledged since dl_ns */
	__u64 dl_ns;	/* start of the current delivery-rate sample */
	/* the first segment sent here since the peer's last ACK here (any
	 * ACK, duplicates too); 0: none outstanding. Stalled: data in flight
	 * and this older than max(4 RTT, 200 ms) (sched.h) */
	__u64 tx_ns;
	/* the peer's lowest SACK left edge above its ACK sack_ack here: the
	 * hole at its ACK is [sack_ack, sack_lo) (multi.h; upstream path).
	 * sack_lo == sack_ack: no SACK, the hole's size is unknown */
	__u32 sack_ack;
	__u32 sack_lo;
	/* MPC_CF_MULTI: the TSval we echo on this subflow (RFC 7323 4.3
	 * TS.Recent, the peer's clock here): from the peer's segments that
	 * start at or below our last ACK here (up_ack); 0: none yet. The
	 * server's own echo would be stale while its leg has a hole (it
	 * echoes the segment that last advanced its ACK), although the ACK
	 * we send here advances by SACK: the peer's RTT samples of resent
	 * segments then grew by seconds per ACK, its RTO reached 40 s, and
	 * an upload stalled for good (xlate.h mpc_observe_up) */
	__u32 ts_recent;
	/* MPC_CF_MULTI: where the server's latest resends went out again
	 * here (downstream path): subflow seq, DSN and length, one range,
	 * grown while the resends are contiguous in both. The peer's D-SACK
	 * of such a resend arrives once the subflow ACK has passed it and
	 * its run record is gone; the upstream path maps it through this
	 * (multi.h mpc_multi_dsack) */
	__u32 rs_seq;
	__u32 rs_dsn;
	__u32 rs_len;
};

struct mpc_conn {
	/* ---- written by the agent ---- */
	__u32 state; /* enum mpc_conn_state */
	__u32 sched; /* enum mpc_sched_policy for the server's data (multi) */
	/* MPC_CF_*, or-ed atomically; 64-bit because BPF atomics on 32-bit
	 * words need -mcpu=v3, under which the codec probes no longer verify */
	__u64 flags;
	__u32 leg_local[4];  /* converter's leg address (external address) */
	__u32 leg_remote[4]; /* TCP peer */
	__u16 leg_lport;
	__u16 leg_rport;
	__u8 leg_family;
	__u8 n_subflows;
	__u16 mss_down;	  /* largest payload toward the MPTCP peer */
	__u32 leg_iss;	  /* converter's ISN on the leg */
	__u32 leg_irs;	  /* server's ISN */
	__u32 up_off;	  /* leg seq = DSN_up + up_off */
	__u32 down_off;	  /* DSN_down = leg seq + down_off */
	__u32 reply_end;  /* DSN_down just past the Convert reply */
	__u64 key_local;  /* MPTCP keys (agent's durable copy for */
	__u64 key_remote; /* restarts: MP_FASTCLOSE, joins) */
	__u32 token_local;
	__u32 conn_gen; /* bumped on each reuse of this slot */
	/* ---- written by the data path ---- */
	__u32 max_data_ack; /* highest DATA_ACK (32-bit) from the peer */
	__u32 max_leg_ack;  /* highest ACK from the TCP peer */
	__u32 leg_snd_nxt;  /* highest leg seq + len sent upstream */
	__u32 down_snd_nxt; /* highest DSN_down + len sent downstream */
	__u32 up_fin_dsn;   /* DSN of the peer's DATA_FIN (MPC_CF_UP_FIN) */
	__u32 down_fin_dsn; /* DSN of our DATA_FIN (MPC_CF_DOWN_FIN) */
	/* newest TSval from the MPTCP peer / the TCP peer (set by the agent
	 * at publish, moved by the data path): the agent's own segments
	 * (FIN, ACK of a FIN, leg ACK) carry them, or PAWS drops them */
	__u32 up_tsval;
	__u32 down_tsval;
	/* MPC_CF_MULTI: newest TSval sent on the leg. Subflows have their own
	 * timestamp clocks (ts_off aligns them to the leg's); the data path
	 * never lets the leg's TSval go backwards, or the server's PAWS
	 * (RFC 7323 5) would drop segments of the slower-clocked subflow */
	__u32 leg_tsval_hi;
	/* MPC_CF_MULTI: the subflow the server's previous new data went to
	 * (multi.h mpc_multi_stick) */
	__u32 dn_cur;
	/* MPC_CF_MULTI: the TSval we echo on the leg (RFC 7323 4.3
	 * TS.Recent, the server's clock): from the server's segments that
	 * start at or below the leg ACK we last sent (max_data_ack -
	 * down_off); 0: none yet. The peer's echo on the subflow its ACK
	 * came by stays stale while that subflow has a hole (the same as
	 * mpc_subflow.ts_recent the other way) */
	__u32 leg_ts_recent;
	/* MPC_CF_MULTI: window of the last upstream segment forwarded (the
	 * peer's pure ACKs that change nothing for the leg are not) */
	__u32 up_win_last;
	/* MPC_CF_MULTI: the subflow of the peer's last segment (upstream
	 * path): one that works, for what has no subflow of its own (multi.h
	 * mpc_multi_alive) */
	__u32 up_sf_last;
	/* MPC_CF_MULTI: the peer's DATA_ACK the agent was last asked to
	 * prompt past (multi.h mpc_multi_dack_lags) */
	__u32 nudge_dsn;
	/* MPC_CF_MULTI: a DATA_ACK the peer lags behind (the byte there is
	 * acknowledged on one of its subflows) and since when, in ms of
	 * bpf_ktime_get_ns(); both valid while held is 1 (multi.h
	 * mpc_multi_peer_holds) */
	__u32 held_dsn;
	__u32 held_ms;
	/* MPC_CF_MULTI: DSN just past the highest data the server resent
	 * (downstream path): below it the server is repairing a loss */
	__u32 resent_hi;
	__u32 held;
	__u64 last_up_ns; /* bpf_ktime_get_ns() of the last packet */
	__u64 last_down_ns;
	__u64 up_bytes; /* payload bytes translated */
	__u64 down_bytes;
	__u64 up_pkts;
	__u64 down_pkts;
	struct mpc_subflow sf[MPC_MAX_SUBFLOWS];
};

/* flow table: every tuple the data path may see, as it arrives */
enum mpc_flow_kind {
	MPC_FLOW_SUBFLOW = 1, /* from the MPTCP peer, on subflow `sf` */
	MPC_FLOW_LEG = 2,     /* from the TCP peer */
};

struct mpc_flow_key {
	__u32 saddr[4]; /* as in struct mpc_pkt: network order, v4 in [3] */
	__u32 daddr[4];
	__u16 sport; /* host order */
	__u16 dport;
	__u8 family; /* 4 or 6 */
	__u8 _pad[3];
};

struct mpc_flow {
	__u32 conn_id; /* index into mpc_conns */
	__u8 kind;     /* enum mpc_flow_kind */
	__u8 sf;       /* subflow index for MPC_FLOW_SUBFLOW */
	__u8 _pad[2];
};

/* 32-bit sequence comparisons (RFC 9293 3.4) */
MPC_INLINE bool mpc_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

MPC_INLINE bool mpc_after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}

#ifndef __bpf__
_Static_assert(sizeof(struct mpc_subflow) == 152, "subflow layout");
_Static_assert(sizeof(struct mpc_flow_key) == 40, "flow key layout");
_Static_assert(sizeof(struct mpc_conn) % 8 == 0, "conn padding");
#endif

#endif /* MPCONV_CONN_H */
