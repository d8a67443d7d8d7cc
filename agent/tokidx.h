/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * tokidx.h - MPTCP token -> connection id index of the agent.
 *
 * Open addressing with linear probing over connection ids, sized to at
 * most half full (the next power of two >= 2 x max ids), with
 * backward-shift deletion (no tombstones, so lookups never slow down with
 * churn). The tokens themselves stay in the caller's connection table:
 * the index asks for them through token_of(ctx, id), so an entry is 4
 * bytes. Used for token uniqueness at key generation (RFC 8684 3.1) and
 * for every MP_JOIN SYN, which otherwise read the whole connection table
 * (16384 slots by default).
 */
#ifndef MPCONV_AGENT_TOKIDX_H
#define MPCONV_AGENT_TOKIDX_H

#include <stdbool.h>
#include <stdint.h>

#define MPC_TOKIDX_NONE UINT32_MAX

struct mpc_tokidx {
	uint32_t *slot; /* connection ids, MPC_TOKIDX_NONE = empty */
	uint32_t mask;	/* slots - 1 */
	uint32_t (*token_of)(void *ctx, uint32_t id);
	void *ctx;
};

int mpc_tokidx_init(struct mpc_tokidx *t, uint32_t max_ids,
		    uint32_t (*token_of)(void *ctx, uint32_t id), void *ctx);
void mpc_tokidx_fini(struct mpc_tokidx *t);
/* id's token (token_of) must not change while it is in the index */
void mpc_tokidx_add(struct mpc_tokidx *t, uint32_t id);
/* remove id; false if it was not there */
bool mpc_tokidx_del(struct mpc_tokidx *t, uint32_t id);
/* call match(ctx, id) for each id with this token until it returns true;
 * that id, or MPC_TOKIDX_NONE */
uint32_t mpc_tokidx_find(const struct mpc_tokidx *t, uint32_t token,
			 bool (*match)(void *ctx, uint32_t id));

#endif /* MPCONV_AGENT_TOKIDX_H */
