// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tokidx.c - MPTCP token -> connection id index (see tokidx.h) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tokidx.h"

static uint32_t home(const struct mpc_tokidx *t, uint32_t token)
{
	return (token * 2654435761u) & t->mask; /* Knuth's multiplier */
}

int mpc_tokidx_init(struct mpc_tokidx *t, uint32_t max_ids,
		    uint32_t (*token_of)(void *ctx, uint32_t id), void *ctx)
{
	uint64_t n = 2;

	memset(t, 0, sizeof(*t));
	while (n < 2ull * max_ids)
		n <<= 1;
	if (n > (1ull << 31))
		return -EINVAL;
	t->slot = malloc(n * sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	memset(t->slot, 0xff, n * sizeof(*t->slot));
	t->mask = (uint32_t)(n - 1);
	t->token_of = token_of;
	t->ctx = ctx;
	return 0;
}

void mpc_tokidx_fini(struct mpc_tokidx *t)
{
	free(t->slot);
	t->slot = NULL;
}

void mpc_tokidx_add(struct mpc_tokidx *t, uint32_t id)
{
	uint32_t i = home(t, t->token_of(t->ctx, id)), n;

	/* at most half full: an empty slot is always found */
	for (n = 0; n <= t->mask; n++, i = (i + 1) & t->mask)
		if (t->slot[i] == MPC_TOKIDX_NONE) {
			t->slot[i] = id;
			return;
		}
}

bool mpc_tokidx_del(struct mpc_tokidx *t, uint32_t id)
{
	uint32_t m = t->mask, i = home(t, t->token_of(t->ctx, id)), j, k, n;

	for (n = 0; n <= m && t->slot[i] != id; n++) {
		if (t->slot[i] == MPC_TOKIDX_NONE)
			return false;
		i = (i + 1) & m;
	}
	if (t->slot[i] != id)
		return false;
	/* later entries of the probe run move back into the hole, unless
	 * their home lies cyclically in (hole, their slot] */
	for (j = i, n = 0; n <= m; n++) {
		j = (j + 1) & m;
		if (t->slot[j] == MPC_TOKIDX_NONE)
			break;
		k = home(t, t->token_of(t->ctx, t->slot[j]));
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i] = MPC_TOKIDX_NONE;
	return true;
}

uint32_t mpc_tokidx_find(const struct mpc_tokidx *t, uint32_t token,
			 bool (*match)(void *ctx, uint32_t id))
{
	uint32_t i = home(t, token), n;

	for (n = 0; n <= t->mask && t->slot[i] != MPC_TOKIDX_NONE; n++) {
		uint32_t id = t->slot[i];

		if (t->token_of(t->ctx, id) == token && match(t->ctx, id))
			return id;
		i = (i + 1) & t->mask;
	}
	return MPC_TOKIDX_NONE;
}
