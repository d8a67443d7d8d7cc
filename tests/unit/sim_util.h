/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * sim_util.h - what the randomized simulations of the unit tests share
 * (test_runs.c, test_multi.c): a seeded xorshift64 generator and the
 * failure report that names the seed, so that a failing seed can be
 * replayed alone. Include after <cmocka.h>.
 */
#ifndef MPCONV_TESTS_SIM_UTIL_H
#define MPCONV_TESTS_SIM_UTIL_H

/* the next number in [0, n) from the generator state *r (never 0) */
static inline unsigned int sim_rnd(unsigned long long *r, unsigned int n)
{
	*r ^= *r << 13;
	*r ^= *r >> 7;
	*r ^= *r << 17;
	return (unsigned int)(*r % n);
}

/* fail the test, naming the seed of simulation s (s->seed) */
#define SIM_FAIL(s, ...)                               \
	do {                                           \
		print_error("seed %llu: ", (s)->seed); \
		fail_msg(__VA_ARGS__);                 \
	} while (0)

#endif /* MPCONV_TESTS_SIM_UTIL_H */
