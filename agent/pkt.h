/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * pkt.h - TCP/IP segments in the agent: parse what the slow path hands
 * over, build what the agent sends (raw IP packets, checksums filled).
 */
#ifndef MPCONV_AGENT_PKT_H
#define MPCONV_AGENT_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mpconv/tcpopt.h"

#define MPC_PKT_MAX 2048

struct mpc_tcp_seg {
	uint8_t family; /* 4 or 6 */
	uint8_t ttl;	/* 0 = 64 when building */
	struct mpc_ip src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags; /* MPC_TH_* */
	uint16_t win;
	uint8_t optlen; /* multiple of 4 when building */
	uint8_t opts[MPC_TCPOPT_CAP];
	struct mpc_tcpopts to; /* filled by parse */
	const uint8_t *data;   /* payload */
	uint32_t dlen;
};

/* parse an IP packet (from its IP header); 0 or -1 */
int mpc_seg_parse(const uint8_t *l3, size_t len, struct mpc_tcp_seg *s);

/* parse an Ethernet frame as the slow path copies it (l3_off given) */
int mpc_seg_parse_frame(const uint8_t *frame, size_t len, size_t l3_off,
			struct mpc_tcp_seg *s);

/* build an IP packet into buf; returns its length or -1 */
int mpc_seg_build(uint8_t *buf, size_t cap, const struct mpc_tcp_seg *s);

/* fill a struct mpc_ip / compare */
void mpc_ip_from_words(struct mpc_ip *ip, const uint32_t w[4], int family);
void mpc_ip_to_words(const struct mpc_ip *ip, uint32_t w[4]);

#endif /* MPCONV_AGENT_PKT_H */
