// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_tokidx.c - the agent's token index (agent/tokidx.c) against a
 * plain array: random adds and deletes with many colliding tokens (so
 * probe runs are long and wrap around the table end), every lookup and
 * the reachability of every entry checked along the way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokidx.h"

#define IDS 300

struct model {
	uint32_t token[IDS];
	bool in[IDS];
	uint32_t want; /* find(): the id match() accepts */
};

static uint32_t token_of(void *ctx, uint32_t id)
{
	return ((struct model *)ctx)->token[id];
}

static bool match_want(void *ctx, uint32_t id)
{
	return ((struct model *)ctx)->want == id;
}

static bool match_any(void *ctx, uint32_t id)
{
	return ((struct model *)ctx)->in[id];
}

static void check_all(struct mpc_tokidx *t, struct model *m)
{
	uint32_t id, n = 0, i;

	for (i = 0; i <= t->mask; i++)
		n += t->slot[i] != MPC_TOKIDX_NONE;
	for (id = 0; id < IDS; id++) {
		if (!m->in[id])
			continue;
		n--;
		m->want = id;
		assert_int_equal(mpc_tokidx_find(t, m->token[id], match_want),
				 id);
	}
	assert_int_equal(n, 0); /* no stale entries */
}

static void run(unsigned int seed, uint32_t token_range)
{
	struct mpc_tokidx t;
	struct model m;
	unsigned int step;

	memset(&m, 0, sizeof(m));
	srand(seed);
	assert_int_equal(mpc_tokidx_init(&t, IDS, token_of, &m), 0);
	assert_true(t.mask + 1 >= 2 * IDS);
	for (step = 0; step < 200000; step++) {
		uint32_t id = (uint32_t)rand() % IDS;

		if (m.in[id]) {
			assert_true(mpc_tokidx_del(&t, id));
			m.in[id] = false;
			assert_false(mpc_tokidx_del(&t, id));
		} else {
			m.token[id] = (uint32_t)rand() % token_range;
			m.in[id] = true;
			mpc_tokidx_add(&t, id);
		}
		if (step % 997 == 0)
			check_all(&t, &m);
		/* a token nobody holds */
		assert_int_equal(mpc_tokidx_find(&t, token_range + 1,
						 match_any),
				 MPC_TOKIDX_NONE);
	}
	check_all(&t, &m);
	mpc_tokidx_fini(&t);
}

static void test_collisions(void **state)
{
	(void)state;
	run(1, 8); /* few tokens: long runs of equal homes */
	run(2, 64);
	run(3, 1u << 31); /* spread out */
}

static void test_wrap_run(void **state)
{
	struct mpc_tokidx t;
	struct model m;
	uint32_t id, last = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(mpc_tokidx_init(&t, IDS, token_of, &m), 0);
	/* a token whose home is the last slot: its run wraps to slot 0 */
	for (id = 0; id < 1u << 20; id++)
		if (((id * 2654435761u) & t.mask) == t.mask) {
			last = id;
			break;
		}
	for (id = 0; id < 5; id++) {
		m.token[id] = last;
		m.in[id] = true;
		mpc_tokidx_add(&t, id);
	}
	assert_int_equal(t.slot[t.mask], 0);
	assert_int_equal(t.slot[0], 1);
	assert_true(mpc_tokidx_del(&t, 0)); /* the run shifts back across */
	m.in[0] = false;
	assert_int_equal(t.slot[t.mask], 1);
	check_all(&t, &m);
	mpc_tokidx_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_wrap_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
