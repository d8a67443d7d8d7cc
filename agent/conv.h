/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * conv.h - the converter's control plane: RFC 8803 setup in explicit mode,
 * MPTCP handshakes, error answers, teardown and timers. It owns the
 * connection table (ids, ports, tokens) and publishes state to the data
 * path's maps; the data path translates established connections.
 */
#ifndef MPCONV_AGENT_CONV_H
#define MPCONV_AGENT_CONV_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "mpconv/abi.h"
#include "mpconv/conn.h"
#include "rawtx.h"
#include "tokidx.h"

struct conv_conn;
struct conv_join;

struct conv {
	const struct mpc_config *cfg;
	struct mpc_tx tx;
	int conns_fd; /* mpc_conns */
	/* mpc_conns mmapped: fields the agent owns are stored in place */
	struct mpc_conn *conns_mem;
	size_t conns_mem_len;
	int flows_fd;  /* mpc_flows */
	int config_fd; /* mpc_config */
	uint32_t max_conns;
	struct conv_conn *conns; /* indexed by conn id */
	struct conv_join *joins; /* MP_JOIN handshakes in progress */
	struct mpc_tokidx tok;	 /* token -> conn id (tokidx.h) */
	uint32_t n_used;
	uint32_t next_id;
	uint8_t *ports; /* per external address: bitmap of leg ports in use */
	uint32_t port_lo, port_hi, port_next;
	uint16_t mtu; /* smallest MTU of the attached interfaces */
	/* announced addresses now up (bit i: Address ID i + 1), checked
	 * once a second (conv.c "ADD_ADDR") */
	uint8_t ann_up;
	uint64_t ann_checked;
	/* connections with a DATA_ACK prompt due (conv.c "nudge") */
	uint32_t n_nudge;
	struct mpc_agent_stats st;
	int agent_fd; /* mpc_agent: st is published there */
};

int conv_init(struct conv *cv, const struct mpc_config *cfg, int conns_fd,
	      int flows_fd, int config_fd, int agent_fd, uint32_t max_conns);
/* re-adopt connections a previous agent left in the pinned maps */
int conv_adopt(struct conv *cv);
void conv_fini(struct conv *cv);

/* one record from the slow-path ring */
void conv_slow(struct conv *cv, const struct mpc_slow_hdr *h,
	       const uint8_t *frame, uint32_t len);
/* an ICMP error the agent's ICMP sockets received (inner = quoted IP) */
void conv_icmp(struct conv *cv, int family, uint8_t type, uint8_t code,
	       const uint8_t *inner, uint32_t len);
/* the agent is attached and serving: published at once */
void conv_running(struct conv *cv, bool running);
/* DATA_ACK prompts (conv.c "nudge"): the epoll timeout until the next
 * one is due (ms, -1: none pending), and sending those due */
int conv_nudge_wait_ms(const struct conv *cv);
void conv_nudge_run(struct conv *cv);
/* an rtnetlink link or address event: look at the announced addresses
 * now; DOWN_IF (NULL: none) is an interface the event said is down */
void conv_links_changed(struct conv *cv, const char *down_if);
/* timers: call often (every ~20 ms) */
void conv_tick(struct conv *cv, uint64_t now_ns);

/* connection table for mpconvctl: iterate used ids */
bool conv_used(const struct conv *cv, uint32_t id);

#endif /* MPCONV_AGENT_CONV_H */
