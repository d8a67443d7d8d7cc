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
