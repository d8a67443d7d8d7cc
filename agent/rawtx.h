/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * rawtx.h - the agent's transmit path: raw IP sockets (IPPROTO_RAW, header
 * included) for IPv4 and IPv6. The kernel routes and resolves neighbours;
 * these packets leave on egress and are never seen by our ingress hooks.
 */
#ifndef MPCONV_AGENT_RAWTX_H
#define MPCONV_AGENT_RAWTX_H

#include <stddef.h>
#include <stdint.h>

struct mpc_tx {
	int fd4, fd6;
	uint64_t sent, errors;
};

int mpc_tx_open(struct mpc_tx *tx);
void mpc_tx_close(struct mpc_tx *tx);
/* send one IP packet (v4 or v6, by its version nibble); 0 or -errno */
int mpc_tx_send(struct mpc_tx *tx, const uint8_t *l3, size_t len);

#endif /* MPCONV_AGENT_RAWTX_H */
