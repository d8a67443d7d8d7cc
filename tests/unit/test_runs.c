// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_runs.c - per-subflow run records (include/mpconv/runs.h): cases
 * worked out by hand, then a randomized simulation of an MPTCP peer
 * sending one data stream over several subflows through the converter to
 * a TCP peer, with loss, reordering, duplication and reinjection on
 * another subflow, near the 32-bit wrap. Invariants checked at every
 * step:
 *
 *   - safety: every subflow byte below the ACK point we compute was seen
 *     by the converter and its DSN acknowledged by the TCP peer (the
 *     simulation keeps the true subflow seq -> DSN map on the side);
 *   - SACK: every subflow SACK block we compute covers only bytes whose
 *     DSN the TCP peer holds;
 *   - bounded state: records <= MPC_RUNS_MAX, and they only describe bytes
 *     the converter saw;
 *   - liveness and delivery: the transfer completes within a step budget,
 *     every DSN reaches the TCP peer, every subflow ends fully
 *     acknowledged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_util.h"

#include "mpconv/runs.h"

/* ---- hand-made cases ------------------------------------------------ */

static void test_add_merge_and_ack(void **state)
{
	struct mpc_runs q;

	(void)state;
	mpc_runs_init(&q, 1000);
	assert_int_equal(mpc_runs_add(&q, 1000, 5000, 100), MPC_RUNS_OK);
	assert_int_equal(mpc_runs_add(&q, 1100, 5100, 100), MPC_RUNS_OK);
	assert_int_equal(q.n, 1); /* contiguous in both spaces: merged */
	assert_int_equal(q.r[0].len, 200);
	/* a jump in DSN at a contiguous subflow seq: a new record */
	assert_int_equal(mpc_runs_add(&q, 1200, 9000, 50), MPC_RUNS_OK);
	assert_int_equal(q.n, 2);
	/* the leg acknowledged up to DSN 5150: subflow ACK 1150 */
	assert_int_equal(mpc_runs_ack_point(&q, 5150), 1150);
	/* all of the first run, nothing of the second */
	assert_int_equal(mpc_runs_ack_point(&q, 5200), 1200);
	assert_int_equal(mpc_runs_ack_point(&q, 8999), 1200);
	assert_int_equal(mpc_runs_ack_point(&q, 9010), 1210);
	assert_int_equal(mpc_runs_ack_point(&q, 9050), 1250);
	/* DSN 9050 acked but 5000.. not: the first run stops it */
	mpc_runs_release(&q, 1100);
	assert_int_equal(q.sf_una, 1100);
	assert_int_equal(q.r[0].sf, 1100);
	assert_int_equal(q.r[0].dsn, 5100);
	assert_int_equal(mpc_runs_ack_point(&q, 5100), 1100);
}

static void test_hole_stops_ack(void **state)
{
	struct mpc_runs q;

	(void)state;
	mpc_runs_init(&q, 0);
	assert_int_equal(mpc_runs_add(&q, 0, 100, 10), MPC_RUNS_OK);
	/* [10, 20) lost before the converter */
	assert_int_equal(mpc_runs_add(&q, 20, 120, 10), MPC_RUNS_OK);
	assert_int_equal(q.n, 2);
	/* the server acknowledged everything (another subflow carried the
	 * DSNs of the hole): still no ACK across bytes we never saw */
	assert_int_equal(mpc_runs_ack_point(&q, 1000), 10);
	/* the hole arrives: the records join into one */
	assert_int_equal(mpc_runs_add(&q, 10, 110, 10), MPC_RUNS_OK);
	assert_int_equal(q.n, 1);
	assert_int_equal(mpc_runs_ack_point(&q, 1000), 30);
}

static void test_dup_conflict_old(void **state)
{
	struct mpc_runs q;

	(void)state;
	mpc_runs_init(&q, 500);
	assert_int_equal(mpc_runs_add(&q, 500, 0, 100), MPC_RUNS_OK);
	assert_int_equal(mpc_runs_add(&q, 520, 20, 30), MPC_RUNS_DUP);
	assert_int_equal(mpc_runs_add(&q, 520, 21, 30), MPC_RUNS_E_CONFLICT);
	assert_int_equal(q.n, 1);
	/* overlapping the end: only the new tail is added, merged */
	assert_int_equal(mpc_runs_add(&q, 590, 90, 20), MPC_RUNS_OK);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.r[0].len, 110);
	mpc_runs_release(&q, 610);
	assert_int_equal(q.n, 0);
	assert_int_equal(mpc_runs_add(&q, 500, 0, 100), MPC_RUNS_E_OLD);
	/* straddling sf_una: the part below is dropped */
	assert_int_equal(mpc_runs_add(&q, 600, 100, 20), MPC_RUNS_OK);
	assert_int_equal(q.r[0].sf, 610);
	assert_int_equal(q.r[0].dsn, 110);
	assert_int_equal(q.r[0].len, 10);
}

static void test_wrap(void **state)
{
	struct mpc_runs q;

	(void)state;
	mpc_runs_init(&q, 0xfffffff0u);
	assert_int_equal(mpc_runs_add(&q, 0xfffffff0u, 0xffffffe0u, 0x40),
			 MPC_RUNS_OK);
	assert_int_equal(mpc_runs_ack_point(&q, 0x10), 0x20);
	assert_int_equal(mpc_runs_ack_point(&q, 0xfffffff0u), 0);
	mpc_runs_release(&q, 0x20);
	assert_int_equal(q.r[0].sf, 0x20);
	assert_int_equal(q.r[0].dsn, 0x10);
	assert_int_equal(q.r[0].len, 0x10);
}

static void test_full_and_evict(void **state)
{
	struct mpc_runs q;
	__u32 i;

	(void)state;
	mpc_runs_init(&q, 0);
	/* every second 10-byte piece, DSNs far apart: one record each */
	for (i = 0; i < MPC_RUNS_MAX; i++)
		assert_int_equal(mpc_runs_add(&q, 10 + 20 * i, 100000 * (i + 1),
					      10),
				 MPC_RUNS_OK);
	assert_int_equal(q.n, MPC_RUNS_MAX);
	/* above everything: refused */
	assert_int_equal(mpc_runs_add(&q, 1000, 7, 10), MPC_RUNS_E_FULL);
	assert_int_equal(q.full, 1);
	/* the lowest hole: the highest record is forgotten for it */
	assert_int_equal(mpc_runs_add(&q, 0, 3, 10), MPC_RUNS_OK);
	assert_int_equal(q.evicted, 1);
	assert_int_equal(q.n, MPC_RUNS_MAX);
	assert_int_equal(q.r[0].sf, 0);
	assert_int_equal(q.r[MPC_RUNS_MAX - 1].sf,
			 10 + 20 * (MPC_RUNS_MAX - 2));
	/* a piece that continues a record needs no new one */
	assert_int_equal(mpc_runs_add(&q, 20, 100000 + 10, 5), MPC_RUNS_OK);
	assert_int_equal(q.n, MPC_RUNS_MAX);
}

static void run_is(const struct mpc_runs *q, __u32 i, __u32 sf, __u32 dsn,
		   __u32 len)
{
	assert_int_equal(q->r[i].sf, sf);
	assert_int_equal(q->r[i].dsn, dsn);
	assert_int_equal(q->r[i].len, len);
}

/* a resend into the hole at sf_una: the head of its record remapped */
static void test_remap_head(void **state)
{
	const __u32 S = 0xfffffff8u; /* the records cross 2^32 */
	struct mpc_runs q, keep;
	__u32 i;

	(void)state;
	mpc_runs_init(&q, S);
	mpc_runs_add(&q, S, 5000, 20);
	mpc_runs_add(&q, S + 20, 9000, 20);
	/* shorter than the record: the rest keeps its mapping */
	assert_true(mpc_runs_remap_head(&q, 700, 8, false));
	assert_int_equal(q.n, 3);
	assert_int_equal(q.r[0].sf, S);
	assert_int_equal(q.r[0].dsn, 700);
	assert_int_equal(q.r[0].len, 8);
	assert_int_equal(q.r[1].sf, S + 8);
	assert_int_equal(q.r[1].dsn, 5008);
	assert_int_equal(q.r[1].len, 12);
	assert_int_equal(q.r[2].sf, S + 20);
	assert_int_equal(q.r[2].dsn, 9000);
	/* the whole record: no split */
	assert_true(mpc_runs_remap_head(&q, 600, 8, false));
	assert_int_equal(q.n, 3);
	assert_int_equal(q.r[0].dsn, 600);
	assert_int_equal(q.r[1].dsn, 5008);
	/* nothing: refused, unchanged */
	keep = q;
	assert_false(mpc_runs_remap_head(&q, 1, 0, false));
	assert_memory_equal(&q, &keep, sizeof(q));
	/* longer than the record (a resend that collapsed pieces sent
	 * apart): the record it covers in part keeps the rest */
	assert_true(mpc_runs_remap_head(&q, 1, 9, false));
	assert_int_equal(q.n, 3);
	run_is(&q, 0, S, 1, 9);
	run_is(&q, 1, S + 9, 5009, 11);
	/* over two records and into a third: those covered go */
	assert_true(mpc_runs_remap_head(&q, 100, 30, false));
	assert_int_equal(q.n, 2);
	run_is(&q, 0, S, 100, 30);
	run_is(&q, 1, S + 30, 9010, 10);
	/* past every record: one is left */
	assert_true(mpc_runs_remap_head(&q, 7, 100, false));
	assert_int_equal(q.n, 1);
	run_is(&q, 0, S, 7, 100);
	/* over a gap (unrecorded subflow bytes) into the next record, or
	 * ending in the gap (the next record untouched) */
	for (i = 0; i < 2; i++) {
		mpc_runs_init(&q, 50);
		mpc_runs_add(&q, 50, 1000, 10);
		mpc_runs_add(&q, 70, 3000, 10);
		assert_true(mpc_runs_remap_head(&q, 400, i ? 15 : 25, false));
		assert_int_equal(q.n, 2);
		run_is(&q, 0, 50, 400, i ? 15 : 25);
		if (i)
			run_is(&q, 1, 70, 3000, 10);
		else
			run_is(&q, 1, 75, 3005, 5);
	}
	/* the first record does not start at sf_una (a gap there) */
	mpc_runs_init(&q, 90);
	mpc_runs_add(&q, 100, 5000, 20);
	assert_false(mpc_runs_remap_head(&q, 1, 4, false));
	/* no free record for the split: refused; the whole one still goes */
	mpc_runs_init(&q, 0);
	for (i = 0; i < MPC_RUNS_MAX; i++)
		mpc_runs_add(&q, 10 * i, 100000 * (i + 1), 10);
	assert_int_equal(q.n, MPC_RUNS_MAX);
	keep = q;
	assert_false(mpc_runs_remap_head(&q, 7, 4, false));
	assert_memory_equal(&q, &keep, sizeof(q));
	assert_true(mpc_runs_remap_head(&q, 7, 10, false));
	assert_int_equal(q.r[0].dsn, 7);
	assert_int_equal(q.r[MPC_RUNS_MAX - 1].dsn, 100000 * MPC_RUNS_MAX);
	/* with evict, the highest record makes room for the split */
	keep = q;
	assert_true(mpc_runs_remap_head(&q, 3, 4, true));
	assert_int_equal(q.n, MPC_RUNS_MAX);
	assert_int_equal(q.evicted, keep.evicted + 1);
	assert_int_equal(q.r[0].sf, 0);
	assert_int_equal(q.r[0].dsn, 3);
	assert_int_equal(q.r[0].len, 4);
	assert_int_equal(q.r[1].sf, 4);
	assert_int_equal(q.r[1].dsn, 11);
	assert_int_equal(q.r[1].len, 6);
	assert_int_equal(q.r[2].dsn, 200000);
	assert_int_equal(q.r[MPC_RUNS_MAX - 1].dsn,
			 100000 * (MPC_RUNS_MAX - 1));
}

static void test_gap_at(void **state)
{
	struct mpc_runs q;
	__u32 left = 0;

	(void)state;
	mpc_runs_init(&q, 100);
	assert_false(mpc_runs_gap_at(&q, 100, &left)); /* no records */
	mpc_runs_add(&q, 120, 1000, 20);
	mpc_runs_add(&q, 150, 5000, 10);
	assert_true(mpc_runs_gap_at(&q, 100, &left));
	assert_int_equal(left, 20);
	assert_false(mpc_runs_gap_at(&q, 125, &left)); /* in a record */
	assert_true(mpc_runs_gap_at(&q, 140, &left));
	assert_int_equal(left, 10);
	assert_false(mpc_runs_gap_at(&q, 160, &left)); /* above them all */
}

static void test_find_and_to_dsn(void **state)
{
	struct mpc_runs q;
	struct mpc_seq_block b = {.start = 105, .end = 135}, out[4];
	__u32 sf = 0;

	(void)state;
	mpc_runs_init(&q, 100);
	mpc_runs_add(&q, 100, 1000, 20);
	mpc_runs_add(&q, 120, 5000, 20);
	assert_true(mpc_runs_find_dsn(&q, 1010, &sf));
	assert_int_equal(sf, 110);
	assert_true(mpc_runs_find_dsn(&q, 5019, &sf));
	assert_int_equal(sf, 139);
	assert_false(mpc_runs_find_dsn(&q, 5020, &sf));
	assert_false(mpc_runs_find_dsn(&q, 999, &sf));
	assert_int_equal(mpc_runs_to_dsn(&q, &b, out, 4), 2);
	assert_int_equal(out[0].start, 1005);
	assert_int_equal(out[0].end, 1020);
	assert_int_equal(out[1].start, 5000);
	assert_int_equal(out[1].end, 5015);
}

static void test_sack(void **state)
{
	struct mpc_runs q;
	struct mpc_seq_block d[2] = {{.start = 5005, .end = 5010},
				     {.start = 1015, .end = 1100}},
			     out[4];
	int n;

	(void)state;
	mpc_runs_init(&q, 100);
	mpc_runs_add(&q, 100, 1000, 20); /* sf 100..120 */
	mpc_runs_add(&q, 120, 5000, 20); /* sf 120..140 */
	/* the server lacks DSN 1000..1015: ACK point stays at 100 */
	assert_int_equal(mpc_runs_ack_point(&q, 1000), 100);
	n = mpc_runs_sack(&q, 100, d, 2, out, 4);
	assert_int_equal(n, 2);
	/* highest first: sf 125..130 (DSN 5005..5010), sf 115..120 */
	assert_int_equal(out[0].start, 125);
	assert_int_equal(out[0].end, 130);
	assert_int_equal(out[1].start, 115);
	assert_int_equal(out[1].end, 120);
	/* adjacent pieces merge: DSN 1015..1020 and 5000..5010 are subflow
	 * 115..130 without a gap */
	d[0].start = 5000;
	n = mpc_runs_sack(&q, 100, d, 2, out, 4);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].start, 115);
	assert_int_equal(out[0].end, 130);
	/* nothing below the ACK point */
	n = mpc_runs_sack(&q, 118, d, 2, out, 4);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].start, 118);
}

/* ---- the randomized simulation -------------------------------------- */

#define SIM_SEEDS 300
#define SIM_BYTES 60000 /* the data stream */
#define SIM_MAX_SF 4
#define SIM_WIN 12	 /* segments in flight per subflow */
#define SIM_STEPS 400000 /* liveness budget */
#define SIM_NET 256	 /* packets in flight per direction */

struct sim_seg {
	int k; /* subflow */
	__u32 sf, dsn, len;
};

struct sim_sf {
	__u32 base;  /* ISN + 1 of the subflow */
	__u32 nxt;   /* next new subflow seq */
	__u32 acked; /* highest subflow ACK the client got */
	/* what the client sent, in subflow order (true map sf -> dsn) */
	struct sim_seg sent[SIM_BYTES];
	int n_sent;
	unsigned int rto; /* steps until the oldest unacked is resent */
	/* seen[x - base]: the converter saw subflow byte x */
	unsigned char seen[SIM_BYTES * 3];
	struct mpc_runs q;
};

struct sim {
	unsigned long long r;
	__u32 dsn0;
	int n_sf;
	int loss, dup, reinj; /* percent */
	struct sim_sf sf[SIM_MAX_SF];
	__u32 dsn_nxt; /* next new DSN offset (0..SIM_BYTES) */
	/* client -> converter, converter -> server */
	struct sim_seg up[SIM_NET];
	int n_up;
	struct sim_seg fwd[SIM_NET];
	int n_fwd;
	/* server: which DSN offsets it holds, cumulative ACK offset */
	unsigned char have[SIM_BYTES];
	__u32 srv_ack;
	unsigned long long seed;
};

/* what the seeds exercised, summed (printed: a simulation that never
 * evicts or never sees a hole would prove little) */
static struct {
	unsigned long long full, evicted, holes, reinj, sf_total, steps;
} sim_tot;

static unsigned int rnd(struct sim *s, unsigned int n)
{
	return sim_rnd(&s->r, n);
}

/* the true DSN of subflow byte x on subflow k, or -1 if never sent */
static long long sim_true_dsn(const struct sim_sf *f, __u32 x)
{
	int i;

	for (i = f->n_sent - 1; i >= 0; i--) {
		const struct sim_seg *g = &f->sent[i];

		if (!mpc_before(x, g->sf) && mpc_before(x, g->sf + g->len))
			return g->dsn + (x - g->sf);
	}
	return -1;
}

static void net_push(struct sim *s, struct sim_seg *q, int *n,
		     const struct sim_seg *g)
{
	if (*n < SIM_NET)
		q[(*n)++] = *g;
}

/* a random packet out of the queue (reordering) */
static int net_pop(struct sim *s, struct sim_seg *q, int *n, struct sim_seg *g)
{
	int i;

	if (!*n)
		return 0;
	i = (int)rnd(s, (unsigned int)(*n < 4 ? *n : 4)); /* mostly in order */
	*g = q[i];
	memmove(&q[i], &q[i + 1], (size_t)(*n - i - 1) * sizeof(*q));
	(*n)--;
	return 1;
}

static void client_send(struct sim *s, int k, __u32 dsn_off, __u32 len)
{
	struct sim_sf *f = &s->sf[k];
	struct sim_seg g = {
		.k = k, .sf = f->nxt, .dsn = s->dsn0 + dsn_off, .len = len};

	f->sent[f->n_sent++] = g;
	f->nxt += len;
	if (rnd(s, 100) >= (unsigned int)s->loss)
		net_push(s, s->up, &s->n_up, &g);
}

static __u32 sf_inflight(const struct sim_sf *f)
{
	return f->nxt - f->acked;
}

static void client_step(struct sim *s)
{
	int k = (int)rnd(s, (unsigned int)s->n_sf), i;
	struct sim_sf *f = &s->sf[k];

	/* new data, while the window allows */
	if (s->dsn_nxt < SIM_BYTES && sf_inflight(f) < SIM_WIN * 1400u) {
		__u32 len = 1 + rnd(s, 1400);

		if (len > SIM_BYTES - s->dsn_nxt)
			len = SIM_BYTES - s->dsn_nxt;
		client_send(s, k, s->dsn_nxt, len);
		s->dsn_nxt += len;
	}
	/* retransmission timer: the oldest unacked segment, same mapping */
	if (mpc_before(f->acked, f->nxt) && !f->rto--) {
		f->rto = 20 + rnd(s, 40);
		for (i = 0; i < f->n_sent; i++) {
			struct sim_seg g = f->sent[i];

			if (mpc_after(g.sf + g.len, f->acked)) {
				if (rnd(s, 100) >= (unsigned int)s->loss)
					net_push(s, s->up, &s->n_up, &g);
				/* MPTCP-level reinjection: the same DSNs
				 * on another subflow, at a new position */
				if (s->n_sf > 1 &&
				    rnd(s, 100) < (unsigned int)s->reinj) {
					int o = (k + 1 +
						 (int)rnd(s,
							  (unsigned int)s->n_sf -
								  1)) %
						s->n_sf;

					if (s->sf[o].n_sent < SIM_BYTES) {
						client_send(s, o,
							    g.dsn - s->dsn0,
							    g.len);
						sim_tot.reinj++;
					}
				}
				break;
			}
		}
	}
}

static void check_ack_point(struct sim *s, int k, __u32 pt)
{
	struct sim_sf *f = &s->sf[k];
	__u32 x;

	for (x = f->q.sf_una; mpc_before(x, pt); x++) {
		long long d = sim_true_dsn(f, x);

		if (!f->seen[x - f->base])
			SIM_FAIL(
				s,
				"subflow %d: ACK point %u covers byte %u the converter never saw",
				k, pt - f->base, x - f->base);
		if (d < 0 || !s->have[(__u32)d - s->dsn0] ||
		    (__u32)d - s->dsn0 >= s->srv_ack)
			SIM_FAIL(
				s,
				"subflow %d: ACK point %u covers byte %u whose DSN the server has not acknowledged",
				k, pt - f->base, x - f->base);
	}
}

static void check_sack(struct sim *s, int k, __u32 pt)
{
	struct sim_sf *f = &s->sf[k];
	struct mpc_seq_block d[3], out[MPC_RUNS_SACK_MAX];
	__u32 off = s->srv_ack;
	int nb = 0, n, i;

	/* the server's out-of-order blocks (as a leg SACK would be) */
	while (nb < 3 && off < SIM_BYTES) {
		while (off < SIM_BYTES && !s->have[off])
			off++;
		if (off >= SIM_BYTES)
			break;
		d[nb].start = s->dsn0 + off;
		while (off < SIM_BYTES && s->have[off])
			off++;
		d[nb].end = s->dsn0 + off;
		nb++;
	}
	n = mpc_runs_sack(&f->q, pt, d, nb, out, MPC_RUNS_SACK_MAX);
	for (i = 0; i < n; i++) {
		__u32 x;

		if (!mpc_before(out[i].start, out[i].end) ||
		    mpc_before(out[i].start, pt))
			SIM_FAIL(s, "subflow %d: bad SACK block", k);
		for (x = out[i].start; mpc_before(x, out[i].end); x++) {
			long long dd = sim_true_dsn(f, x);

			if (!f->seen[x - f->base] || dd < 0 ||
			    !s->have[(__u32)dd - s->dsn0])
				SIM_FAIL(
					s,
					"subflow %d: SACK block covers byte %u the server does not hold",
					k, x - f->base);
		}
	}
}

static void converter_up(struct sim *s)
{
	struct sim_seg g;
	struct sim_sf *f;
	int rc;
	__u32 x;

	if (!net_pop(s, s->up, &s->n_up, &g))
		return;
	f = &s->sf[g.k];
	rc = mpc_runs_add(&f->q, g.sf, g.dsn, g.len);
	if (rc == MPC_RUNS_E_CONFLICT)
		SIM_FAIL(s, "conflict on an honest mapping");
	if (rc == MPC_RUNS_E_FULL)
		return; /* dropped; the client retransmits */
	for (x = g.sf; mpc_before(x, g.sf + g.len); x++)
		if (!mpc_before(x, f->q.sf_una))
			f->seen[x - f->base] = 1;
	if (rnd(s, 100) < (unsigned int)s->dup)
		net_push(s, s->fwd, &s->n_fwd, &g);
	if (rnd(s, 100) >= (unsigned int)s->loss)
		net_push(s, s->fwd, &s->n_fwd, &g);
	if (f->q.n > MPC_RUNS_MAX)
		SIM_FAIL(s, "ring overflow");
}

static void server_and_acks(struct sim *s)
{
	struct sim_seg g;
	int k;
	__u32 i;

	if (net_pop(s, s->fwd, &s->n_fwd, &g)) {
		for (i = 0; i < g.len; i++)
			s->have[g.dsn - s->dsn0 + i] = 1;
		while (s->srv_ack < SIM_BYTES && s->have[s->srv_ack])
			s->srv_ack++;
	}
	/* the leg ACK turns into a subflow ACK on each subflow */
	for (k = 0; k < s->n_sf; k++) {
		struct sim_sf *f = &s->sf[k];
		__u32 pt = mpc_runs_ack_point(&f->q, s->dsn0 + s->srv_ack);

		check_ack_point(s, k, pt);
		if (f->q.n && mpc_after(f->q.r[0].sf, pt))
			sim_tot.holes++;
		if (rnd(s, 8) == 0)
			check_sack(s, k, pt);
		mpc_runs_release(&f->q, pt);
		/* the ACK to the client, lost sometimes */
		if (rnd(s, 100) >= (unsigned int)s->loss &&
		    mpc_after(pt, f->acked))
			f->acked = pt;
	}
}

static void sim_run(unsigned long long seed)
{
	struct sim *s = calloc(1, sizeof(*s));
	unsigned long long step;
	int k;

	assert_non_null(s);
	s->seed = seed;
	s->r = seed * 0x9e3779b97f4a7c15ull + 1;
	s->n_sf = 1 + (int)rnd(s, SIM_MAX_SF);
	s->loss = (int)rnd(s, 8);
	s->dup = (int)rnd(s, 5);
	s->reinj = (int)rnd(s, 10);
	/* near the wrap for some seeds */
	s->dsn0 = rnd(s, 2) ? 0xffffffffu - rnd(s, 30000) : (__u32)s->r;
	for (k = 0; k < s->n_sf; k++) {
		struct sim_sf *f = &s->sf[k];

		f->base = rnd(s, 2) ? 0xffffffffu - rnd(s, 30000) : (__u32)s->r;
		f->nxt = f->acked = f->base;
		f->rto = 30;
		mpc_runs_init(&f->q, f->base);
	}
	for (step = 0; step < SIM_STEPS; step++) {
		bool done = s->srv_ack == SIM_BYTES;

		for (k = 0; k < s->n_sf && done; k++)
			done = s->sf[k].acked == s->sf[k].nxt;
		if (done)
			break;
		switch (rnd(s, 3)) {
		case 0:
			client_step(s);
			break;
		case 1:
			converter_up(s);
			break;
		default:
			server_and_acks(s);
			break;
		}
	}
	if (step == SIM_STEPS)
		SIM_FAIL(
			s,
			"no completion after %d steps: server has %u of %u, %d subflows, loss %d%%",
			SIM_STEPS, s->srv_ack, SIM_BYTES, s->n_sf, s->loss);
	for (k = 0; k < s->n_sf; k++) {
		if (s->sf[k].q.n != 0)
			SIM_FAIL(
				s,
				"subflow %d: %u records left after a complete transfer",
				k, s->sf[k].q.n);
		sim_tot.full += s->sf[k].q.full;
		sim_tot.evicted += s->sf[k].q.evicted;
	}
	sim_tot.sf_total += (unsigned long long)s->n_sf;
	sim_tot.steps += step;
	free(s);
}

static void test_sim(void **state)
{
	unsigned long long seed;

	(void)state;
	for (seed = 1; seed <= SIM_SEEDS; seed++)
		sim_run(seed);
	print_message(
		"sim: %d seeds, %llu subflows, %llu steps; ACK point at a hole %llu times, records evicted %llu, adds refused (full) %llu, reinjections %llu\n",
		SIM_SEEDS, sim_tot.sf_total, sim_tot.steps, sim_tot.holes,
		sim_tot.evicted, sim_tot.full, sim_tot.reinj);
	assert_true(sim_tot.holes > 0);
	assert_true(sim_tot.evicted > 0);
	assert_true(sim_tot.full > 0);
	assert_true(sim_tot.reinj > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_merge_and_ack),
		cmocka_unit_test(test_hole_stops_ack),
		cmocka_unit_test(test_dup_conflict_old),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_full_and_evict),
		cmocka_unit_test(test_remap_head),
		cmocka_unit_test(test_gap_at),
		cmocka_unit_test(test_find_and_to_dsn),
		cmocka_unit_test(test_sack),
		cmocka_unit_test(test_sim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
