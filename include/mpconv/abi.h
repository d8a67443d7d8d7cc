/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * abi.h - everything the BPF programs and the agent must agree on: map
 * key/value layouts, counters, drop reasons. Fixed-width fields, explicit
 * padding, sizes asserted, so `bpftool map dump` (BTF) and mpconvctl print
 * the same names.
 */
#ifndef MPCONV_ABI_H
#define MPCONV_ABI_H

#include "compat.h"

#define MPC_PIN_ROOT "/sys/fs/bpf/mpconv"

/*
 * Per-CPU counters, one named field each (mpconvctl prints them by walking
 * the BTF of this struct, so adding a field needs no CLI change). Every
 * field is a packet count unless its name ends in _bytes.
 */
struct mpc_stats {
	__u64 rx_packets; /* every packet the programs saw */
	__u64 rx_bytes;
	__u64 pass_not_ip;   /* not IPv4/IPv6: passed untouched */
	__u64 pass_not_tcp;  /* IP but not TCP (or a fragment) */
	__u64 pass_not_ours; /* TCP we hold no state for */
	__u64 tcp_ipv4;
	__u64 tcp_ipv6;
	__u64 mptcp_option; /* TCP segments carrying >= 1 MPTCP option */
	__u64 malformed;    /* bad IP/TCP header or TCP options */
	__u64 dropped;	    /* sum of mpc_drops (per-reason detail) */
	__u64 up_xlate;	    /* MPTCP peer -> TCP peer, translated */
	__u64 up_bytes;	    /* ... their payload */
	__u64 down_xlate;   /* TCP peer -> MPTCP peer, translated */
	__u64 down_bytes;
	__u64 to_agent;		  /* handed to the agent (slow path) */
	__u64 to_agent_syn;	  /* ... of which SYNs to the Convert service */
	__u64 notify_agent;	  /* translated and also copied to the agent */
	__u64 slow_lost;	  /* slow-path ring full: packet dropped */
	__u64 nonlinear_map;	  /* peer remapped: new subflow offset taken */
	__u64 sack_trimmed;	  /* SACK blocks that did not fit downstream */
	__u64 service_stray;	  /* non-SYN to the service port, no state */
	__u64 closed_ack_dropped; /* pure ACKs for a leg closed at the server */
	__u64 to_agent_join;	  /* MP_JOIN third ACKs (no flow yet) */
	/* connections with joins (MPC_CF_MULTI, include/mpconv/multi.h) */
	__u64 multi_up_recorded;   /* upstream segments recorded in runs */
	__u64 multi_up_conflict;   /* peer remapped a recorded range: sent on */
	__u64 multi_up_unrecorded; /* no run record left: sent on, the
				    * subflow's ACK waits for a resend */
	__u64 multi_dn_other;	   /* server segments sent on a subflow > 0 */
	__u64 multi_ack_stale;	   /* run records busy or not started: the
				  * subflow's previous ACK was repeated */
	__u64 multi_dn_resent; /* server's resent data, at its first place */
	__u64 multi_dn_reinjected; /* ... on another subflow (first stalled) */
	__u64 multi_dn_full; /* server data dropped: no down run record left
			      * on any usable subflow (the server resends it
			      * once ACKs released records) */
	__u64 multi_up_dupack_held; /* peer's pure ACKs that changed nothing
				     * for the leg while the DSN it waits for
				     * is on its way: not forwarded */
	__u64 multi_up_sack_synth;  /* ... and with that DSN lost before the
				    * converter: a leg SACK synthesised */
	__u64 multi_dn_hole;	    /* server's resent data sent into the peer's
			      * subflow hole (multi.h resend_at_hole) */
	__u64 multi_up_hole;  /* peer's ACKs showing a subflow hole whose data
			      * it has from another subflow: the agent fills
			      * it (MPC_SLOW_FILL) */
	__u64 multi_dn_bare;  /* server's resend of the peer's DATA_ACK point
			      * with no run record left: sent unrecorded */
	__u64 multi_dack_lag; /* peer's ACKs: all our data acknowledged on
			       * every subflow, its DATA_ACK behind: the
			       * agent prompts a fresh one (MPC_SLOW_NUDGE) */
	__u64 multi_up_lag;   /* peer's pure ACKs whose DATA_ACK stands still
			     * at a byte it acknowledged on a subflow: sent
			     * on without a synthesised SACK, or not at all
			     * when they change nothing for the leg
			     * (multi.h mpc_multi_peer_holds) */
	__u64 multi_up_dsack; /* peer's D-SACKs of the server's resends,
			       * their run records gone, sent on as the
			       * leg's D-SACK (multi.h mpc_multi_dsack) */
};

/*
 * The agent's own counters, published in the `mpc_agent` map (one entry,
 * not per-CPU) once per second, so that mpconvctl and bpftool show them
 * next to the data path's.
 */
struct mpc_agent_stats {
	__u64 running;	   /* 1 once the agent has attached and serves */
	__u64 conns_open;  /* connections in the table now */
	__u64 syn_in;	   /* SYNs to the Convert service */
	__u64 syn_dup;	   /* retransmitted SYNs of known connections */
	__u64 syn_ignored; /* without (valid) Convert data: dropped */
	__u64 accepted;	   /* leg SYN sent */
	__u64 established; /* handed to the data path */
	__u64 nokey; /* third ACK without keys (after a SYN retransmission) */
	__u64 synack_syn_only; /* SYN/ACKs acking the SYN only (see conv.c) */
	__u64 fallback; /* MPTCP peer fell back to plain TCP after the SYN/ACK */
	/* Error TLVs sent, by RFC 8803 code */
	__u64 err_unsupported_version;
	__u64 err_malformed;
	__u64 err_unsupported_msg;
	__u64 err_missing_cookie;
	__u64 err_not_authorized;
	__u64 err_unsupported_opt;
	__u64 err_resource_exceeded;
	__u64 err_network_failure;
	__u64 err_connection_reset;
	__u64 err_dest_unreachable;
	__u64 leg_rst;	      /* server reset (before or after setup) */
	__u64 leg_timeout;    /* server never answered */
	__u64 icmp_unreach;   /* Destination Unreachable about a leg */
	__u64 fastclose_sent; /* MP_FASTCLOSE sent to MPTCP peers */
	__u64 client_rst;     /* peer reset / MP_FASTCLOSE */
	__u64 idle_closed;    /* reset after idle-timeout */
	__u64 freed;	      /* connections whose state left the maps */
	__u64 closed_clean;   /* both directions finished with FINs */
	__u64 neigh_sent;     /* XDP packets sent by the agent (no neighbour) */
	__u64 reply_retx;     /* Convert reply retransmissions */
	/* MP_JOIN (RFC 8684 3.2), see agent/conv.c "MP_JOIN" */
	__u64 join_syn;		   /* SYNs with MP_JOIN to the service */
	__u64 join_refused_token;  /* unknown token: RST + MP_TCPRST */
	__u64 join_refused_hmac;   /* third ACK's MP_JOIN HMAC wrong */
	__u64 join_refused_full;   /* no room for another pending join */
	__u64 join_verified;	   /* both HMACs checked */
	__u64 join_refused_policy; /* verified, but max-subflows reached or
				    * terms differ from the first subflow's */
	__u64 join_accepted;	   /* subflow installed, fourth ACK sent */
	__u64 sf_closed;	   /* joined subflows closed (FIN or RST) */
	__u64 mp_prio;		   /* MP_PRIO from peers (backup flag set or
				    * cleared) */
	__u64 join_stray;    /* third ACK without a pending join: RST again */
	__u64 leg_stale_rst; /* leg SYN answered by an old connection: RST */
	__u64 synack_retx;
	__u64 leg_syn_retx;
	__u64 tx_errors;   /* raw socket send failures */
	__u64 adopted;	   /* connections re-adopted after a restart */
	__u64 fin_reacked; /* repeated server FIN after the close, ACKed */
	__u64 hole_filled; /* multipath: subflow holes filled (MPC_SLOW_FILL) */
	/* the converter's addresses (key announce, RFC 8684 3.4) */
	__u64 add_addr_sent;   /* ADD_ADDR sent (each repetition counts) */
	__u64 add_addr_echoed; /* ADD_ADDR echoed by the client */
	__u64 rm_addr_sent;    /* REMOVE_ADDR sent (address gone or down) */
	__u64 dack_nudged;     /* multipath: segments sent to prompt the peer's
			    * lagging DATA_ACK (MPC_SLOW_NUDGE) */
	/* payload the data path translated on joined subflows (slot >= 1),
	 * counted when the subflow closes or its connection's state leaves
	 * the maps: what multipath carried, after the fact */
	__u64 join_up_bytes;
	__u64 join_down_bytes;
};

/* slow path: why the agent gets a packet (struct mpc_slow_hdr.reason) */
enum mpc_slow_reason {
	MPC_SLOW_SYN = 1,	/* SYN to the Convert service */
	MPC_SLOW_HANDSHAKE = 2, /* packet of a connection being set up */
	MPC_SLOW_CONTROL = 3,	/* FIN/RST/SYN or MPTCP control: agent's */
	MPC_SLOW_NOTIFY = 4,	/* translated and forwarded; a copy */
	MPC_SLOW_NEIGH = 5,	/* translated, next hop unresolved (XDP):
				 * the agent sends the copy's IP packet */
	MPC_SLOW_CLOSED = 6,	/* packet of a finished connection */
	MPC_SLOW_JOIN = 7,	/* MP_JOIN third ACK to the service */
	MPC_SLOW_FILL = 8,	/* translated and forwarded; a copy: the
				 * subflow has a hole the server will not
				 * fill (arg0: DSN, arg1: length) */
	MPC_SLOW_NUDGE = 9,	/* translated (forwarded or held); a copy:
				 * the peer's DATA_ACK (arg0) lags what its
				 * subflows acknowledged */
};

/* each ring record: this header, then cap_len bytes of the packet */
struct mpc_slow_hdr {
	__u32 reason;  /* enum mpc_slow_reason */
	__u32 ifindex; /* where it arrived */
	__u32 conn_id; /* MPC_NO_CONN if none */
	__u16 cap_len; /* bytes that follow (from the Ethernet header) */
	__u16 pkt_len; /* length of the whole packet */
	__u16 l3_off;  /* offset of the IP header in the copy */
	__u8 why;      /* enum mpc_xwhy for MPC_SLOW_CONTROL */
	__u8 sf;       /* subflow index, or 0xff */
	__u32 arg0;    /* reason-specific (MPC_SLOW_FILL, _NUDGE), else 0 */
	__u32 arg1;
	__u32 _pad;
	__u64 ts_ns;
};

#define MPC_NO_CONN 0xffffffffu
#define MPC_SLOW_SNAPLEN 2048 /* a power of two (verifier bound) > MTU frames */
#define MPC_SLOW_RING_BYTES (4u << 20)

/* one Convert service endpoint */
struct mpc_listen {
	__u32 addr[4]; /* network order, v4 in [3] */
	__u16 port;    /* host order; 0 = unused slot */
	__u8 family;   /* 4 or 6 */
	__u8 _pad;
};

#define MPC_DP_MAX_LISTEN 4

/* data path configuration: array map, one entry, written by the agent */
struct mpc_dp_config {
	struct mpc_listen listen[MPC_DP_MAX_LISTEN]; /* Convert services */
	__u8 enabled; /* 0: classify and pass only */
	__u8 _pad[7];
};

/*
 * Why a packet was dropped. Keys of the per-CPU `mpc_drops` array, so
 * `bpftool map dump` prints the enum name for each count.
 */
enum mpc_drop_reason {
	MPC_DROP_NONE = 0,
	MPC_DROP_MALFORMED_IP,	/* IP header truncated or inconsistent */
	MPC_DROP_MALFORMED_TCP, /* TCP header truncated, bad doff */
	MPC_DROP_MALFORMED_OPT, /* TCP option area does not parse */
	MPC_DROP_XLATE_FAIL,	/* a rewrite helper failed */
	MPC_DROP_FIB,		/* no route for a translated packet */
	MPC_DROP_UNSUPPORTED,	/* IPv4 options, VLAN on a converted flow */
	MPC_DROP_SERVICE,	/* to the service port, not a valid SYN */
	MPC_DROP_GSO,		/* TC: GSO packet whose TCP header must grow */
	MPC_DROP_RUNS_FULL, /* multipath: no run record left (multi_dn_full) */
	MPC_DROP__MAX
};

/* IP protocol numbers and ethertypes used by the data path */
#define MPC_ETH_P_IP 0x0800
#define MPC_ETH_P_IPV6 0x86DD
#define MPC_ETH_P_8021Q 0x8100
#define MPC_ETH_P_8021AD 0x88A8
#define MPC_IPPROTO_TCP 6

#ifndef __bpf__
_Static_assert(sizeof(struct mpc_stats) % 8 == 0, "mpc_stats padding");
_Static_assert(sizeof(enum mpc_drop_reason) == 4, "enum key size");
#endif

#endif /* MPCONV_ABI_H */
