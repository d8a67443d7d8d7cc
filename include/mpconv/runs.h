/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * runs.h - per-subflow run records: which subflow sequence range carried
 * which data sequence (DSN) range. The base of the end-to-end ACK model
 * across several subflows (docs/multipath-plan.md, step 3).
 *
 * With one subflow, subflow seq and DSN differ by a constant (conn.h). With
 * joins, a subflow carries an arbitrary subset of the DSN space, and the
 * peer (or our scheduler) can send a DSN range again on another subflow.
 * A run is one contiguous stretch where both spaces advance together:
 *
 *   subflow seq [sf, sf + len)  <->  DSN [dsn, dsn + len)
 *
 * One `struct mpc_runs` per subflow and direction, sorted by subflow seq,
 * adjacent runs merged when both spaces continue. What it answers:
 *
 *   up (peer's data on this subflow, forwarded to the TCP peer):
 *     mpc_runs_ack_point()  the subflow ACK we may send: every subflow
 *                           byte below it was seen by us AND its DSN was
 *                           acknowledged by the TCP peer (never ACK what
 *                           the server has not acknowledged; a byte we
 *                           never saw stops it too)
 *     mpc_runs_sack()       the TCP peer's SACK (in DSN) as subflow SACK
 *                           blocks, so the peer's fast retransmit repairs
 *                           losses beyond the converter
 *   down (our data on this subflow):
 *     mpc_runs_find_dsn()   where a DSN went, to send a retransmission
 *                           at its original subflow seq
 *     mpc_runs_to_dsn()     a subflow SACK block of the peer in DSN, for
 *                           the leg SACK
 *   both: mpc_runs_release() drops what the subflow ACK covers.
 *
 * Bounded: MPC_RUNS_MAX records (struct mpc_runs: 208 bytes). When they
 * run out, mpc_runs_add() forgets the highest records above the new range
 * (`evicted`) or, for a range above all of them, refuses it
 * (MPC_RUNS_E_FULL, `full`): the caller drops that segment and the
 * sender retransmits it once the subflow ACK has released older runs. Both
 * only delay ACKs, never make one wrong. All arithmetic is 32-bit
 * and wrap-safe (mpc_before/mpc_after). Every loop is bounded by
 * MPC_RUNS_MAX, so the functions compile for BPF as well (compat.h); the
 * data path does not use them yet.
 */
#ifndef MPCONV_RUNS_H
#define MPCONV_RUNS_H

#include "compat.h"
#include "conn.h" /* mpc_before, mpc_after */

#define MPC_RUNS_MAX 16 /* records per subflow and direction */
#define MPC_RUNS_SACK_MAX 4

enum mpc_runs_rc {
	MPC_RUNS_OK = 0,
	MPC_RUNS_DUP = 1,	  /* already recorded (a retransmission) */
	MPC_RUNS_E_FULL = -1,	  /* no record left; the segment is dropped */
	MPC_RUNS_E_CONFLICT = -2, /* recorded with another DSN: the peer
				   * remapped a subflow range it already sent
				   * (RFC 8684 3.3.1 forbids it) */
	MPC_RUNS_E_OLD = -3,	  /* below sf_una: released already */
};

struct mpc_run {
	__u32 sf;  /* first subflow seq */
	__u32 dsn; /* its DSN */
	__u32 len; /* bytes, the same in both spaces; > 0 */
};

struct mpc_runs {
	__u32 sf_una; /* subflow seq below which runs are released */
	__u16 n;      /* records in use: r[0..n-1], sorted by sf */
	__u16 _pad;
	__u32 full;    /* adds refused for want of a record */
	__u32 evicted; /* records forgotten to take a lower range */
	struct mpc_run r[MPC_RUNS_MAX];
};

struct mpc_seq_block {
	__u32 start, end; /* [start, end) */
};

MPC_INLINE __u32 mpc_run_sf_end(const struct mpc_run *r)
{
	return r->sf + r->len;
}

MPC_INLINE __u32 mpc_run_dsn_end(const struct mpc_run *r)
{
	return r->dsn + r->len;
}

/* a fresh ring: nothing recorded, everything below sf_una released */
MPC_INLINE void mpc_runs_init(struct mpc_runs *q, __u32 sf_una)
{
	mpc_memset(q, 0, sizeof(*q));
	q->sf_una = sf_una;
}

/* make room at index i (shift r[i..n-1] up by one); n < MAX */
MPC_INLINE void mpc__runs_open(struct mpc_runs *q, __u32 i)
{
	__u32 k;

	for (k = MPC_RUNS_MAX - 1; k > 0; k--)
		if (k > i && k <= q->n)
			q->r[k] = q->r[k - 1];
	q->n++;
}

/* forget the highest record to make room (`evicted`): its data went out,
 * but nothing maps it any more until the sender sends it again */
MPC_INLINE void mpc__runs_evict_top(struct mpc_runs *q)
{
	q->n--;
	q->evicted++;
}

/* remove r[i] (shift r[i+1..n-1] down by one) */
MPC_INLINE void mpc__runs_close(struct mpc_runs *q, __u32 i)
{
	__u32 k;

	for (k = 0; k < MPC_RUNS_MAX - 1; k++)
		if (k >= i && k + 1 < q->n)
			q->r[k] = q->r[k + 1];
	q->n--;
}

/* remove r[0..k-1] (k <= n) */
MPC_INLINE void mpc__runs_drop_front(struct mpc_runs *q, __u32 k)
{
	__u32 i;

	if (!k || k > q->n)
		return;
	for (i = 0; i < MPC_RUNS_MAX; i++) {
		if (i + k >= q->n)
			break;
		q->r[i] = q->r[(i + k) & (MPC_RUNS_MAX - 1)];
	}
	q->n -= (__u16)k;
}

/* append [sf, sf + len) <-> dsn after the last record (sf at or past its
 * end): extend it when both spaces continue, else a new record */
MPC_INLINE int mpc__runs_append(struct mpc_runs *q, __u32 sf, __u32 dsn,
				__u32 len)
{
	struct mpc_run *last;

	if (q->n) {
		last = &q->r[(q->n - 1) & (MPC_RUNS_MAX - 1)];
		if (mpc_run_sf_end(last) == sf &&
		    mpc_run_dsn_end(last) == dsn) {
			last->len += len;
			return MPC_RUNS_OK;
		}
	}
	if (q->n >= MPC_RUNS_MAX) {
		q->full++;
		return MPC_RUNS_E_FULL;
	}
	last = &q->r[q->n & (MPC_RUNS_MAX - 1)];
	last->sf = sf;
	last->dsn = dsn;
	last->len = len;
	q->n++;
	return MPC_RUNS_OK;
}

/*
 * Record [sf, sf + len) <-> [dsn, dsn + len). len must be below 2^30.
 * Returns MPC_RUNS_OK when something new was recorded, MPC_RUNS_DUP when
 * nothing new was, or an error (then nothing was recorded).
 *
 * What is recorded: the part at or beyond the last record (the common
 * case, O(1)); below that, the part that falls in the first gap the range
 * meets (a retransmission into a hole). Parts already recorded must map
 * the same (else MPC_RUNS_E_CONFLICT: RFC 8684 3.3.1 forbids remapping a
 * subflow range); parts below sf_una are ignored; a range that spans two
 * gaps leaves the second unrecorded, which only delays the ACK point until
 * the sender retransmits (conservative, never wrong). Every loop is a
 * single bounded pass, so the BPF verifier follows it cheaply.
 *
 * When the records run out, a range in a gap evicts the highest record
 * (`evicted`): its data went out, but the ACK point now stops before it
 * until the sender retransmits it. Without that, a ring full of data above
 * a hole could never take the hole's retransmission, and the subflow would
 * stall for good. A range at the end is refused instead (MPC_RUNS_E_FULL,
 * `full`); the sender retransmits it once older records are released.
 */
MPC_INLINE int mpc_runs_add(struct mpc_runs *q, __u32 sf, __u32 dsn, __u32 len)
{
	__u32 i, end = sf + len, gap_lo;
	struct mpc_run *r;
	bool left, right;

	if (!len)
		return MPC_RUNS_DUP;
	if (!mpc_after(end, q->sf_una))
		return MPC_RUNS_E_OLD;
	if (mpc_before(sf, q->sf_una)) {
		dsn += q->sf_una - sf;
		sf = q->sf_una;
		len = end - sf;
	}
	if (!q->n ||
	    !mpc_before(sf,
			mpc_run_sf_end(&q->r[(q->n - 1) & (MPC_RUNS_MAX - 1)])))
		return mpc__runs_append(q, sf, dsn, len);

	/* i: the first record that ends after sf (exists: the last does) */
	for (i = 0; i < MPC_RUNS_MAX; i++)
		if (i + 1 >= q->n || mpc_after(mpc_run_sf_end(&q->r[i]), sf))
			break;
	i &= MPC_RUNS_MAX - 1;
	r = &q->r[i];
	if (!mpc_before(sf, r->sf)) {
		/* starts inside r: that part must agree */
		__u32 adv;

		if (r->dsn + (sf - r->sf) != dsn)
			return MPC_RUNS_E_CONFLICT;
		if (!mpc_after(end, mpc_run_sf_end(r)))
			return MPC_RUNS_DUP;
		adv = mpc_run_sf_end(r) - sf;
		sf += adv;
		dsn += adv;
		len -= adv;
		if (i + 1 >= q->n)
			return mpc__runs_append(q, sf, dsn, len);
		i = (i + 1) & (MPC_RUNS_MAX - 1);
		r = &q->r[i];
		if (!mpc_before(sf, r->sf))
			return MPC_RUNS_DUP; /* no gap here: known already */
	}
	/* sf lies in the gap [previous end, r->sf) */
	if (mpc_after(end, r->sf)) {
		if (r->dsn != dsn + (r->sf - sf))
			return MPC_RUNS_E_CONFLICT;
		end = r->sf;
		len = end - sf;
	}
	gap_lo = sf;
	left = i > 0 &&
	       mpc_run_sf_end(&q->r[(i - 1) & (MPC_RUNS_MAX - 1)]) == gap_lo &&
	       mpc_run_dsn_end(&q->r[(i - 1) & (MPC_RUNS_MAX - 1)]) == dsn;
	right = end == r->sf && r->dsn == dsn + len;
	if (left && right) {
		q->r[(i - 1) & (MPC_RUNS_MAX - 1)].len += len + r->len;
		mpc__runs_close(q, i);
	} else if (left) {
		q->r[(i - 1) & (MPC_RUNS_MAX - 1)].len += len;
	} else if (right) {
		r->sf = sf;
		r->dsn = dsn;
		r->len += len;
	} else {
		if (q->n >= MPC_RUNS_MAX) {
			/* the highest record is above this range */
			mpc__runs_evict_top(q);
			if (i >= q->n)
				return mpc__runs_append(q, sf, dsn, len);
		}
		mpc__runs_open(q, i);
		r = &q->r[i];
		r->sf = sf;
		r->dsn = dsn;
		r->len = len;
	}
	return MPC_RUNS_OK;
}

/* the end of the SACK block (one of nb, DSN) that holds DSN d, else d */
MPC_INLINE __u32 mpc__runs_sacked_to(const struct mpc_seq_block *blk, int nb,
				     __u32 d)
{
	int k;

	for (k = 0; k < MPC_RUNS_SACK_MAX; k++) {
		if (k >= nb)
			break;
		if (!mpc_before(d, blk[k].start) && mpc_before(d, blk[k].end))
			return blk[k].end;
	}
	return d;
}

/*
 * Up direction: the subflow ACK we may send when the TCP peer has
 * acknowledged every DSN before `dsn_ack` (cumulative) and holds the DSN
 * blocks `blk` (its SACK, nb of them; blk may be NULL when nb is 0).
 * Walks from sf_una while the records are contiguous and their DSNs
 * acknowledged, cumulatively or selectively; never below sf_una.
 *
 * Counting SACKed data matters with several subflows: the TCP peer's
 * cumulative ACK waits for the slowest subflow's data, and a subflow
 * whose ACKs waited for it too would run at the pace of the slowest (and
 * its sender, seeing its later data SACKed but not ACKed, would declare
 * the earlier lost). What a subflow ACK releases at the sender is still
 * held at the MPTCP level until the DATA_ACK (the leg's cumulative ACK)
 * covers it (RFC 8684 3.3.2), so a TCP peer that reneged on SACKed data
 * would cost a retransmission, not data.
 */
struct mpc__ackpt_ctx {
	const struct mpc_runs *q;
	const struct mpc_seq_block *blk;
	__u32 dsn_ack;
	int nb;
	__u32 pt;
};

/* mpc_runs_ack_point_sack() for record i (a bpf_loop() callback in BPF) */
MPC_CALLBACK long mpc__ackpt_run(__u32 i, void *arg)
{
	struct mpc__ackpt_ctx *x = arg;
	const struct mpc_run *r;
	__u64 idx = i;
	__u32 d, hi;

	MPC__OPAQUE(idx);
	if (idx >= MPC_RUNS_MAX || idx >= x->q->n)
		return 1;
	r = &x->q->r[idx];
	if (mpc_after(r->sf, x->pt))
		return 1; /* a hole we have not seen */
	if (!mpc_after(mpc_run_sf_end(r), x->pt))
		return 0;
	d = r->dsn + (x->pt - r->sf);
	hi = mpc_after(x->dsn_ack, d) ? x->dsn_ack
				      : mpc__runs_sacked_to(x->blk, x->nb, d);
	if (hi == d)
		return 1; /* not acknowledged from pt on */
	if (!mpc_before(hi, mpc_run_dsn_end(r))) {
		x->pt = mpc_run_sf_end(r);
		return 0;
	}
	x->pt = r->sf + (hi - r->dsn);
	return 1; /* the DSN after hi is missing at the TCP peer */
}

MPC_INLINE __u32 mpc_runs_ack_point_sack(const struct mpc_runs *q,
					 __u32 dsn_ack,
					 const struct mpc_seq_block *blk,
					 int nb)
{
	struct mpc__ackpt_ctx x = {.q = q,
				   .blk = blk,
				   .dsn_ack = dsn_ack,
				   .nb = nb,
				   .pt = q->sf_una};

	MPC_LOOP(MPC_RUNS_MAX, mpc__ackpt_run, &x);
	return x.pt;
}

/* the same, from the cumulative ACK alone */
MPC_INLINE __u32 mpc_runs_ack_point(const struct mpc_runs *q, __u32 dsn_ack)
{
	return mpc_runs_ack_point_sack(q, dsn_ack, NULL, 0);
}

/*
 * Remap the first `len` bytes at subflow seq sf_una to `dsn`: the sender
 * puts other data (a resend) where the peer has a hole (multi.h
 * mpc_multi_resend_at_hole). When len is shorter than the first record,
 * the rest of that record keeps its mapping, in a record of its own (needs
 * a free record; with `evict`, the highest record gives its place, as in
 * mpc_runs_add: `evicted`). When len is longer, every record (and gap)
 * it covers becomes part of the one mapping, and a record it covers in
 * part keeps the rest: the server's resend can be longer than the piece
 * it first sent here (it collapses pieces that went out on different
 * subflows into one segment), and the peer must get it in the hole.
 * Returns false, changing nothing, when the first record does not start
 * at sf_una or there is no room.
 */
MPC_INLINE bool mpc_runs_remap_head(struct mpc_runs *q, __u32 dsn, __u32 len,
				    bool evict)
{
	struct mpc_run *r0 = &q->r[0];
	__u32 end, i, k = 0;

	if (!q->n || !len || r0->sf != q->sf_una)
		return false;
	if (r0->len < len) {
		end = q->sf_una + len;
		for (i = 0; i < MPC_RUNS_MAX; i++) {
			if (i >= q->n ||
			    mpc_after(mpc_run_sf_end(&q->r[i]), end))
				break;
			k++;
		}
		/* r0 is one of the k covered: the others go */
		mpc__runs_drop_front(q, k - 1);
		r0->sf = q->sf_una;
		r0->dsn = dsn;
		r0->len = len;
		if (q->n > 1 && mpc_before(q->r[1].sf, end)) {
			__u32 cut = end - q->r[1].sf;

			q->r[1].sf += cut;
			q->r[1].dsn += cut;
			q->r[1].len -= cut;
		}
		return true;
	}
	if (r0->len > len) {
		if (q->n >= MPC_RUNS_MAX && (!evict || q->n < 2))
			return false;
		if (q->n >= MPC_RUNS_MAX)
			mpc__runs_evict_top(q);
		mpc__runs_open(q, 1);
		q->r[1].sf = r0->sf + len;
		q->r[1].dsn = r0->dsn + len;
		q->r[1].len = r0->len - len;
	}
	r0->dsn = dsn;
	r0->len = len;
	return true;
}

/* drop everything below subflow seq `sf_ack` (a subflow ACK) */
MPC_INLINE void mpc_runs_release(struct mpc_runs *q, __u32 sf_ack)
{
	__u32 i, k = 0;

	if (!mpc_after(sf_ack, q->sf_una))
		return;
	for (i = 0; i < MPC_RUNS_MAX; i++) {
		struct mpc_run *r = &q->r[i];
		__u32 cut;

		if (i >= q->n || !mpc_after(sf_ack, r->sf))
			break;
		if (!mpc_before(sf_ack, mpc_run_sf_end(r))) {
			k++;
			continue;
		}
		cut = sf_ack - r->sf;
		r->sf += cut;
		r->dsn += cut;
		r->len -= cut;
		break;
	}
	mpc__runs_drop_front(q, k);
	q->sf_una = sf_ack;
}

/* down direction: the subflow seq at which DSN `dsn` was sent; false if
 * this subflow never carried it (or it was released) */
MPC_INLINE bool mpc_runs_find_dsn(const struct mpc_runs *q, __u32 dsn,
				  __u32 *sf)
{
	__u32 i;

	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &q->r[i];

		if (i >= q->n)
			break;
		if (!mpc_before(dsn, r->dsn) &&
		    mpc_before(dsn, mpc_run_dsn_end(r))) {
			*sf = r->sf + (dsn - r->dsn);
			return true;
		}
	}
	return false;
}

/* the DSN of subflow seq `sf` and the bytes of its record from there on;
 * false if no record holds it */
MPC_INLINE bool mpc_runs_find_sf(const struct mpc_runs *q, __u32 sf, __u32 *dsn,
				 __u32 *left)
{
	__u32 i;

	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &q->r[i];

		if (i >= q->n)
			break;
		if (!mpc_before(sf, r->sf) &&
		    mpc_before(sf, mpc_run_sf_end(r))) {
			*dsn = r->dsn + (sf - r->sf);
			*left = mpc_run_sf_end(r) - sf;
			return true;
		}
	}
	return false;
}

/*
 * Subflow seq sf is in no record but below one (a gap: data sent without
 * a record, or whose record was evicted): *left = bytes from sf to the
 * next record. False if sf is in a record or above them all.
 */
MPC_INLINE bool mpc_runs_gap_at(const struct mpc_runs *q, __u32 sf, __u32 *left)
{
	__u32 i;

	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &q->r[i];

		if (i >= q->n)
			break;
		if (mpc_before(sf, r->sf)) {
			*left = r->sf - sf;
			return true;
		}
		if (mpc_before(sf, mpc_run_sf_end(r)))
			return false;
	}
	return false;
}

struct mpc__to_dsn_ctx {
	const struct mpc_runs *q;
	const struct mpc_seq_block *b;
	struct mpc_seq_block *out;
	int max;
	int n;
};

/* mpc_runs_to_dsn() for record i (a bpf_loop() callback in BPF) */
MPC_CALLBACK long mpc__to_dsn_run(__u32 i, void *arg)
{
	struct mpc__to_dsn_ctx *x = arg;
	const struct mpc_run *r;
	__u64 idx = i;
	__u32 s, e;
	int n = x->n;

	MPC__OPAQUE(idx);
	if (idx >= MPC_RUNS_MAX || idx >= x->q->n || n >= x->max ||
	    n >= MPC_RUNS_SACK_MAX)
		return 1;
	r = &x->q->r[idx];
	s = mpc_after(x->b->start, r->sf) ? x->b->start : r->sf;
	e = mpc_before(x->b->end, mpc_run_sf_end(r)) ? x->b->end
						     : mpc_run_sf_end(r);
	if (!mpc_before(s, e))
		return 0;
	if (n > 0 && x->out[(n - 1) & (MPC_RUNS_SACK_MAX - 1)].end ==
			     r->dsn + (s - r->sf)) {
		x->out[(n - 1) & (MPC_RUNS_SACK_MAX - 1)].end =
			r->dsn + (e - r->sf);
		return 0;
	}
	x->out[n & (MPC_RUNS_SACK_MAX - 1)].start = r->dsn + (s - r->sf);
	x->out[n & (MPC_RUNS_SACK_MAX - 1)].end = r->dsn + (e - r->sf);
	x->n = n + 1;
	return 0;
}

/*
 * Subflow range [b->start, b->end) -> DSN blocks (a range can span runs
 * whose DSNs are not contiguous). Writes up to max blocks to out (DSN
 * order follows subflow order); returns how many. Parts we never recorded
 * are left out.
 */
MPC_INLINE int mpc_runs_to_dsn(const struct mpc_runs *q,
			       const struct mpc_seq_block *b,
			       struct mpc_seq_block *out, int max)
{
	struct mpc__to_dsn_ctx x = {.q = q, .b = b, .out = out, .max = max};

	MPC_LOOP(MPC_RUNS_MAX, mpc__to_dsn_run, &x);
	return x.n;
}

struct mpc__sack_ctx {
	const struct mpc_runs *q;
	const struct mpc_seq_block *dsn_blk;
	__u32 ack;
	int nb;
	int n;
	struct mpc_seq_block tmp[MPC_RUNS_SACK_MAX];
};

/* mpc_runs_sack() for record i (a bpf_loop() callback in BPF: the
 * verifier checks the block x merge loops once, not once per record) */
MPC_CALLBACK long mpc__sack_run(__u32 i, void *arg)
{
	struct mpc__sack_ctx *x = arg;
	const struct mpc_run *r;
	__u64 idx = i;
	int j;

	MPC__OPAQUE(idx);
	if (idx >= MPC_RUNS_MAX || idx >= x->q->n)
		return 1;
	r = &x->q->r[idx];
	for (j = 0; j < MPC_RUNS_SACK_MAX; j++) {
		const struct mpc_seq_block *d;
		struct mpc_seq_block *t;
		__u32 s, e, ss, se;

		if (j >= x->nb)
			break;
		d = &x->dsn_blk[j];
		s = mpc_after(d->start, r->dsn) ? d->start : r->dsn;
		e = mpc_before(d->end, mpc_run_dsn_end(r)) ? d->end
							   : mpc_run_dsn_end(r);
		if (!mpc_before(s, e))
			continue;
		ss = r->sf + (s - r->dsn);
		se = r->sf + (e - r->dsn);
		if (mpc_before(ss, x->ack))
			ss = x->ack;
		if (!mpc_before(ss, se))
			continue;
		/* widen the last block when this piece touches it (pieces
		 * of one record come in the TCP peer's block order, so an
		 * overlap with an older block can remain: receivers take
		 * overlapping blocks) */
		t = &x->tmp[(x->n - 1) & (MPC_RUNS_SACK_MAX - 1)];
		if (x->n > 0 && !mpc_after(ss, t->end) &&
		    !mpc_before(se, t->start)) {
			if (mpc_before(ss, t->start))
				t->start = ss;
			if (mpc_after(se, t->end))
				t->end = se;
			continue;
		}
		if (x->n < MPC_RUNS_SACK_MAX) {
			x->tmp[x->n & (MPC_RUNS_SACK_MAX - 1)].start = ss;
			x->tmp[x->n & (MPC_RUNS_SACK_MAX - 1)].end = se;
			x->n++;
		}
	}
	return 0;
}

/*
 * Up direction: the TCP peer's SACK blocks (in DSN, nb of them) as SACK
 * blocks of this subflow, above the ACK point `ack` only, adjacent pieces
 * merged, highest subflow seq first (RFC 2018 wants the newest first;
 * the highest is our best guess). Returns how many (<= max).
 */
MPC_INLINE int mpc_runs_sack(const struct mpc_runs *q, __u32 ack,
			     const struct mpc_seq_block *dsn_blk, int nb,
			     struct mpc_seq_block *out, int max)
{
	struct mpc__sack_ctx x;
	struct mpc_seq_block *tmp = x.tmp;
	int n, j;

	x.q = q;
	x.dsn_blk = dsn_blk;
	x.ack = ack;
	x.nb = nb;
	x.n = 0;
	MPC_LOOP(MPC_RUNS_MAX, mpc__sack_run, &x);
	n = x.n;
	/* highest first: the records are in subflow order, and so are the
	 * blocks made from them (merging only widens a block in place) */
	for (j = 0; j < MPC_RUNS_SACK_MAX; j++) {
		if (j >= n || j >= max)
			break;
		out[j] = tmp[(n - 1 - j) & (MPC_RUNS_SACK_MAX - 1)];
	}
	return j;
}

#endif /* MPCONV_RUNS_H */
