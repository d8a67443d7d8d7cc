// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_sched.c - the downstream scheduler's choice (include/mpconv/sched.h):
 * hand cases, then a fluid simulation of two links (rate, delay, a queue
 * each) fed by a sender whose window covers both, the scheduler seeing
 * only what a converter can measure (smoothed RTT, bytes in flight,
 * delivery rate). Checked: aggregation reaches >= 95 % of the sum of the
 * link rates with symmetric and asymmetric links and splits in proportion
 * to them; active-standby puts everything on the primary until it goes
 * down, everything on the backup while it is down, and moves back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mpconv/sched.h"

#define A MPC_SCHED_F_ACTIVE
#define B MPC_SCHED_F_BACKUP
#define D MPC_SCHED_F_DOWN

static void test_eta(void **state)
{
	struct mpc_sched_sf s = {
		.srtt_us = 20000, .inflight = 10000, .rate = 1000};

	(void)state;
	/* 10 ms half-RTT + (10000 + 1000) bytes at 1000 bytes/ms = 11 ms */
	assert_int_equal(mpc_sched_eta(&s, 1000), 10000 + 11000);
	/* no rate sample: cwnd per RTT (40000 B / 20 ms = 2000 B/ms) */
	s.rate = 0;
	s.cwnd = 40000;
	assert_int_equal(mpc_sched_eta(&s, 0), 10000 + 5000);
	/* nothing known, nothing in flight: tried at once, to be measured */
	memset(&s, 0, sizeof(s));
	assert_int_equal(mpc_sched_eta(&s, 1), 0);
	/* nothing known, data in flight: 100 ms RTT, an initial window
	 * (14480 B) per RTT: 144 B/ms */
	s.inflight = 1;
	assert_int_equal(mpc_sched_eta(&s, 1), 50000 + 2 * 1000 / 144);
	/* more than a window in flight: all of it per RTT, so never more
	 * than 1.5 RTT until a rate is measured */
	s.inflight = 100000;
	assert_int_equal(mpc_sched_eta(&s, 1), 50000 + 100001);
}

static void test_pick_aggregate(void **state)
{
	struct mpc_sched_sf sf[3] = {
		{.srtt_us = 10000, .inflight = 50000, .rate = 12500, .flags = A},
		{.srtt_us = 40000, .inflight = 0, .rate = 2500, .flags = A},
		{.srtt_us = 1000, .inflight = 0, .rate = 99999, .flags = A | D},
	};

	(void)state;
	/* 5 ms + 51400/12.5 = 9.1 ms vs 20 ms + 0.56 ms: the fast one,
	 * loaded; the down one (best on paper) never */
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 0);
	/* more in flight on the fast one: the slow one wins */
	sf[0].inflight = 250000;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 1);
	/* a full window is skipped while another subflow has room */
	sf[0].inflight = 0;
	sf[0].cwnd = 1000;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 1);
	/* all full: the earliest arrival anyway */
	sf[1].cwnd = 1000;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 0);
	/* not active: not a candidate */
	sf[0].flags = 0;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 1);
	sf[1].flags = A | D;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), -1);
}

static void test_pick_backup_flags(void **state)
{
	struct mpc_sched_sf sf[3] = {
		{.srtt_us = 50000, .rate = 100, .flags = A},
		{.srtt_us = 1000, .rate = 100000, .flags = A | B},
		{.srtt_us = 60000, .rate = 100, .flags = A},
	};

	(void)state;
	/* aggregate honours the backup flag (RFC 8684 3.3.8): the slow
	 * primaries before the fast backup */
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 0);
	sf[0].flags |= D;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 2);
	sf[2].flags |= D;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), 1);
	/* active-standby: the first usable primary, even when full */
	sf[0].flags = A;
	sf[2].flags = A;
	sf[0].cwnd = 10;
	sf[0].inflight = 100000;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_BACKUP, 1400), 0);
	sf[0].flags = A | D;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_BACKUP, 1400), 2);
	sf[2].flags = A | D;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_BACKUP, 1400), 1);
	sf[1].flags = A | B | D;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_BACKUP, 1400), -1);
	/* n beyond MPC_SCHED_MAX is clamped, not overrun */
	assert_int_equal(mpc_sched_pick(sf, 3, 7, 1400), -1);
}

static void test_stalled(void **state)
{
	struct mpc_sched_sf s = {.srtt_us = 10000, .inflight = 1};
	const __u64 ms = 1000000ull, tx = 1000 * ms;

	(void)state;
	/* counted from the first send not answered (tx): 4 x 10 ms = 40 ms,
	 * but the floor of 200 ms rules */
	assert_false(mpc_sched_stalled(&s, tx, tx + 150 * ms, 200 * ms));
	assert_true(mpc_sched_stalled(&s, tx, tx + 250 * ms, 200 * ms));
	s.srtt_us = 100000; /* 400 ms */
	assert_false(mpc_sched_stalled(&s, tx, tx + 250 * ms, 200 * ms));
	assert_true(mpc_sched_stalled(&s, tx, tx + 450 * ms, 200 * ms));
	/* nothing sent since the peer's last ACK (tx 0): however old the
	 * data in flight, a silent sender is not a dead subflow */
	assert_false(mpc_sched_stalled(&s, 0, tx + 5000 * ms, 200 * ms));
	s.inflight = 0; /* nothing outstanding: nothing to wait for */
	assert_false(mpc_sched_stalled(&s, tx, tx + 5000 * ms, 200 * ms));
}

/* nothing usable: the first active subflow, stalled or not */
static void test_fallback(void **state)
{
	struct mpc_sched_sf sf[3] = {
		{.flags = 0}, /* closed */
		{.srtt_us = 1000, .rate = 10000, .flags = A | D},
		{.srtt_us = 1000, .rate = 10000, .flags = A | D},
	};

	(void)state;
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_AGGREGATE, 1400), -1);
	assert_int_equal(mpc_sched_pick(sf, 3, MPC_SCHED_BACKUP, 1400), -1);
	assert_int_equal(mpc_sched_fallback(sf, 3), 1);
	sf[1].flags = 0;
	assert_int_equal(mpc_sched_fallback(sf, 3), 2);
	/* n bounds the search */
	assert_int_equal(mpc_sched_fallback(sf, 2), -1);
	sf[2].flags = 0;
	assert_int_equal(mpc_sched_fallback(sf, 3), -1);
}

/* ---- fluid simulation -------------------------------------------------- */

#define SIM_DT_US 100	    /* time step */
#define SIM_SEG 1400	    /* bytes per segment */
#define SIM_STEPS 200000    /* 20 s */
#define SIM_PIPE (1u << 14) /* delay line slots (power of two) */

struct link {
	double rate;	  /* bytes per ms */
	unsigned int owd; /* one-way delay, steps */
	bool down;
	double queue;	 /* bytes waiting at the bottleneck */
	double inflight; /* sent, not yet acknowledged */
	double delivered;
	/* bytes leaving the bottleneck per step, arriving owd later, acked
	 * owd after that */
	double pipe[SIM_PIPE];
	double srtt_us, rate_est;
};

struct run_out {
	double bytes[2]; /* delivered per link */
	double bytes_while_down[2];
	double sent[3][2]; /* per phase (before, during, after the outage) */
};

static void sim(struct link *l, unsigned int policy, double window,
		unsigned int down_from, unsigned int down_to, struct run_out *o)
{
	unsigned int t, k;

	memset(o, 0, sizeof(*o));
	for (t = 0; t < SIM_STEPS; t++) {
		struct mpc_sched_sf sf[2];
		double total = 0;

		l[0].down = t >= down_from && t < down_to;
		/* arrivals and ACKs */
		for (k = 0; k < 2; k++) {
			struct link *x = &l[k];
			double out = x->down ? 0 : x->rate * SIM_DT_US / 1000.0;
			double acked =
				x->pipe[(t - 2 * x->owd) & (SIM_PIPE - 1)];

			if (x->down) {
				/* what it held is lost; the sender's
				 * retransmission timer frees its window (the
				 * model skips the timeout itself) */
				x->queue = x->inflight = 0;
				memset(x->pipe, 0, sizeof(x->pipe));
			}
			if (t >= 2 * x->owd && !x->down) {
				x->inflight -= acked;
				if (x->inflight < 0)
					x->inflight = 0;
			}
			x->pipe[(t - 2 * x->owd) & (SIM_PIPE - 1)] = 0;
			if (out > x->queue)
				out = x->queue;
			x->queue -= out;
			x->pipe[t & (SIM_PIPE - 1)] += out;
			x->delivered += out;
			o->bytes[k] += out;
			if (t >= down_from && t < down_to)
				o->bytes_while_down[k] += out;
			/* what a converter measures: RTT with the queue,
			 * delivery rate */
			x->srtt_us = 2.0 * x->owd * SIM_DT_US +
				     x->queue * 1000.0 / x->rate;
			x->rate_est = x->rate;
			total += x->inflight;
		}
		/* the sender fills its window through the scheduler */
		while (total + SIM_SEG <= window) {
			int pick;

			for (k = 0; k < 2; k++) {
				sf[k].srtt_us = (__u32)l[k].srtt_us;
				sf[k].inflight = (__u32)l[k].inflight;
				sf[k].rate = (__u32)l[k].rate_est;
				/* a window of two BDPs per subflow */
				sf[k].cwnd =
					(__u32)(2 * l[k].rate *
						(2.0 * l[k].owd * SIM_DT_US) /
						1000.0) +
					4 * SIM_SEG;
				sf[k].flags =
					MPC_SCHED_F_ACTIVE |
					(l[k].down ? MPC_SCHED_F_DOWN : 0) |
					(policy == MPC_SCHED_BACKUP && k == 1
						 ? MPC_SCHED_F_BACKUP
						 : 0);
			}
			pick = mpc_sched_pick(sf, 2, policy, SIM_SEG);
			if (pick < 0)
				break;
			l[pick].queue += SIM_SEG;
			l[pick].inflight += SIM_SEG;
			o->sent[t < down_from ? 0
				: t < down_to ? 1
					      : 2][pick] += SIM_SEG;
			total += SIM_SEG;
		}
	}
}

static double mbit(double bytes)
{
	return bytes * 8 / (SIM_STEPS * SIM_DT_US / 1e6) / 1e6;
}

static void links(struct link *l, double mbit0, double mbit1)
{
	memset(l, 0, 2 * sizeof(*l));
	l[0].rate = mbit0 * 1e6 / 8 / 1000; /* bytes per ms */
	l[1].rate = mbit1 * 1e6 / 8 / 1000;
	l[0].owd = 100; /* 10 ms */
	l[1].owd = 250; /* 25 ms */
}

static void test_sim_aggregate(void **state)
{
	static const double cases[][2] = {{100, 100}, {100, 20}, {20, 100}};
	struct link l[2];
	struct run_out o;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double sum = cases[i][0] + cases[i][1], got, share;

		links(l, cases[i][0], cases[i][1]);
		/* a window well above the sum of the BDPs */
		sim(l, MPC_SCHED_AGGREGATE,
		    4 * (l[0].rate * 20 + l[1].rate * 50), SIM_STEPS, SIM_STEPS,
		    &o);
		got = mbit(o.bytes[0] + o.bytes[1]);
		share = o.bytes[0] / (o.bytes[0] + o.bytes[1]);
		print_message(
			"aggregate %.0f + %.0f Mbit/s: %.1f Mbit/s (%.1f %%), link 1 share %.1f %% (rate share %.1f %%)\n",
			cases[i][0], cases[i][1], got, 100 * got / sum,
			100 * share, 100 * cases[i][0] / sum);
		assert_true(got >= 0.95 * sum);
		assert_true(share > cases[i][0] / sum - 0.05 &&
			    share < cases[i][0] / sum + 0.05);
	}
}

static void test_sim_backup(void **state)
{
	struct link l[2];
	struct run_out o;

	(void)state;
	links(l, 100, 100);
	/* link 1 down from 5 s to 12 s */
	sim(l, MPC_SCHED_BACKUP, 4 * (l[0].rate * 20 + l[1].rate * 50), 50000,
	    120000, &o);
	print_message(
		"backup: sent on link 1 / link 2: before the outage %.1f / %.1f MB, during %.1f / %.1f MB, after %.1f / %.1f MB; delivered on link 2 during the outage %.1f Mbit/s\n",
		o.sent[0][0] / 1e6, o.sent[0][1] / 1e6, o.sent[1][0] / 1e6,
		o.sent[1][1] / 1e6, o.sent[2][0] / 1e6, o.sent[2][1] / 1e6,
		o.bytes_while_down[1] * 8 / 7.0 / 1e6);
	/* everything on the primary until it fails, then on the backup at
	 * its rate, then back */
	assert_true(o.sent[0][1] == 0 && o.sent[0][0] > 0);
	assert_true(o.sent[1][0] == 0 && o.sent[1][1] > 0);
	assert_true(o.bytes_while_down[1] > 0.95 * l[1].rate * 7000);
	assert_true(o.sent[2][1] == 0 && o.sent[2][0] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_pick_aggregate),
		cmocka_unit_test(test_pick_backup_flags),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_sim_aggregate),
		cmocka_unit_test(test_sim_backup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
