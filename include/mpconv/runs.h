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

/* remove r[i] (shift r[i+1..n-1] down by one) */
MPC_INLINE void mpc__runs_close(struct mpc_runs *q, __u32 i)
{
	__u32 k;

	for (k = 0; k < MPC_RUNS_MAX - 1; k++)
		if (k >= i && k + 1 < q->n)
			q->r[k] = q->r[k + 1];
	q->n--;
}

/* r[i] and r[i+1] continue each other in both spaces: one record */
MPC_INLINE void mpc__runs_join(struct mpc_runs *q, __u32 i)
{
	if (i + 1 >= q->n || i >= MPC_RUNS_MAX - 1)
		return;
	if (mpc_run_sf_end(&q->r[i]) == q->r[i + 1].sf &&
	    mpc_run_dsn_end(&q->r[i]) == q->r[i + 1].dsn) {
		q->r[i].len += q->r[i + 1].len;
		mpc__runs_close(q, i + 1);
	}
}

/* the DSN that subflow seq `x` gets in the run being added */
#define MPC__RUNS_D(x) (dsn + ((x)-sf))

/*
 * Pass 1 of mpc_runs_add(): what overlaps [sf, sf + len) must map the
 * same; *pieces = the new stretches, *need = records they take (none for
 * a stretch that continues a neighbour in both spaces).
 */
MPC_INLINE int mpc__runs_need(const struct mpc_runs *q, __u32 sf, __u32 dsn,
			      __u32 len, __u32 *need, __u32 *pieces)
{
	__u32 i, end = sf + len, cur = sf, pe;
	int prev = -1;

	*need = *pieces = 0;
	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &q->r[i];

		if (i >= q->n || !mpc_before(cur, end))
			break;
		if (!mpc_after(mpc_run_sf_end(r), cur)) {
			prev = (int)i;
			continue;
		}
		if (mpc_before(cur, r->sf)) {
			bool left, right;

			pe = mpc_before(end, r->sf) ? end : r->sf;
			left = prev >= 0 &&
			       mpc_run_sf_end(
				       &q->r[prev & (MPC_RUNS_MAX - 1)]) ==
				       cur &&
			       mpc_run_dsn_end(
				       &q->r[prev & (MPC_RUNS_MAX - 1)]) ==
				       MPC__RUNS_D(cur);
			right = pe == r->sf && r->dsn == MPC__RUNS_D(pe);
			*need += !left && !right;
			(*pieces)++;
			cur = pe;
			if (!mpc_before(cur, end))
				break;
		}
		if (r->dsn + (cur - r->sf) != MPC__RUNS_D(cur))
			return MPC_RUNS_E_CONFLICT;
		cur = mpc_before(end, mpc_run_sf_end(r)) ? end
							 : mpc_run_sf_end(r);
		prev = (int)i;
	}
	if (mpc_before(cur, end)) {
		bool left = prev >= 0 &&
			    mpc_run_sf_end(&q->r[prev & (MPC_RUNS_MAX - 1)]) ==
				    cur &&
			    mpc_run_dsn_end(&q->r[prev & (MPC_RUNS_MAX - 1)]) ==
				    MPC__RUNS_D(cur);

		*need += !left;
		(*pieces)++;
	}
	return MPC_RUNS_OK;
}

/*
 * Record [sf, sf + len) <-> [dsn, dsn + len). Parts already recorded must
 * agree (else MPC_RUNS_E_CONFLICT, nothing changed); parts below sf_una
 * are ignored; new parts fill holes or extend the end, merged with the
 * records they continue. len must be below 2^30. Returns MPC_RUNS_OK when
 * something new was recorded, MPC_RUNS_DUP when all of it was known, or
 * an error (then nothing was recorded).
 *
 * When the records run out, the ones highest in subflow seq and above
 * the new range's start are forgotten first (`evicted`): their data went
 * out, but the ACK point now stops before them until the sender
 * retransmits them (conservative, never wrong). Without that, a ring full
 * of data above a hole could never take the hole's retransmission, and
 * the subflow would stall for good. Only a range above all records can be
 * refused (MPC_RUNS_E_FULL, `full`); the sender retransmits it later.
 */
MPC_INLINE int mpc_runs_add(struct mpc_runs *q, __u32 sf, __u32 dsn, __u32 len)
{
	__u32 i, k, end = sf + len, cur, pe, need, pieces;
	int rc;

	if (!len)
		return MPC_RUNS_DUP;
	if (!mpc_after(end, q->sf_una))
		return MPC_RUNS_E_OLD;
	if (mpc_before(sf, q->sf_una)) {
		dsn += q->sf_una - sf;
		sf = q->sf_una;
		len = end - sf;
	}
	rc = mpc__runs_need(q, sf, dsn, len, &need, &pieces);
	if (rc)
		return rc;
	if (!pieces)
		return MPC_RUNS_DUP;
	for (k = 0; k < MPC_RUNS_MAX; k++) {
		if (q->n + need <= MPC_RUNS_MAX || !q->n ||
		    !mpc_after(q->r[(q->n - 1) & (MPC_RUNS_MAX - 1)].sf, sf))
			break;
		q->n--;
		q->evicted++;
		rc = mpc__runs_need(q, sf, dsn, len, &need, &pieces);
		if (rc)
			return rc; /* cannot happen: fewer overlaps now */
	}
	if (q->n + need > MPC_RUNS_MAX) {
		q->full++;
		return MPC_RUNS_E_FULL;
	}
	/* pass 2: put the pieces in (capacity checked above) */
	cur = sf;
	i = 0;
	for (k = 0; k < 2 * MPC_RUNS_MAX + 2; k++) {
		__u32 j;

		if (!mpc_before(cur, end))
			break;
		/* i: first record ending after cur */
		for (j = 0; j < MPC_RUNS_MAX; j++) {
			if (i >= q->n ||
			    mpc_after(mpc_run_sf_end(
					      &q->r[i & (MPC_RUNS_MAX - 1)]),
				      cur))
				break;
			i++;
		}
		if (i < q->n &&
		    !mpc_before(cur, q->r[i & (MPC_RUNS_MAX - 1)].sf)) {
			__u32 re =
				mpc_run_sf_end(&q->r[i & (MPC_RUNS_MAX - 1)]);

			cur = mpc_before(end, re) ? end : re; /* known part */
			continue;
		}
		pe = end;
		if (i < q->n &&
		    mpc_before(q->r[i & (MPC_RUNS_MAX - 1)].sf, end))
			pe = q->r[i & (MPC_RUNS_MAX - 1)].sf;
		if (i > 0 &&
		    mpc_run_sf_end(&q->r[(i - 1) & (MPC_RUNS_MAX - 1)]) ==
			    cur &&
		    mpc_run_dsn_end(&q->r[(i - 1) & (MPC_RUNS_MAX - 1)]) ==
			    MPC__RUNS_D(cur)) {
			q->r[(i - 1) & (MPC_RUNS_MAX - 1)].len += pe - cur;
			mpc__runs_join(q, i - 1);
			i--;
		} else if (i < q->n && q->r[i & (MPC_RUNS_MAX - 1)].sf == pe &&
			   q->r[i & (MPC_RUNS_MAX - 1)].dsn ==
				   MPC__RUNS_D(pe)) {
			struct mpc_run *r = &q->r[i & (MPC_RUNS_MAX - 1)];

			r->len += pe - cur;
			r->sf = cur;
			r->dsn = MPC__RUNS_D(cur);
		} else {
			if (q->n >= MPC_RUNS_MAX)
				return MPC_RUNS_E_FULL; /* not reached */
			mpc__runs_open(q, i);
			q->r[i & (MPC_RUNS_MAX - 1)].sf = cur;
			q->r[i & (MPC_RUNS_MAX - 1)].dsn = MPC__RUNS_D(cur);
			q->r[i & (MPC_RUNS_MAX - 1)].len = pe - cur;
		}
		cur = pe;
	}
	return MPC_RUNS_OK;
}

#undef MPC__RUNS_D

/*
 * Up direction: the subflow ACK we may send when the TCP peer has
 * acknowledged every DSN before `dsn_ack` (cumulative). Walks from sf_una
 * while the records are contiguous and their DSNs acknowledged; never
 * below sf_una.
 */
MPC_INLINE __u32 mpc_runs_ack_point(const struct mpc_runs *q, __u32 dsn_ack)
{
	__u32 i, pt = q->sf_una;

	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &q->r[i];

		if (i >= q->n)
			break;
		if (mpc_after(r->sf, pt))
			break; /* a hole we have not seen */
		if (!mpc_after(mpc_run_sf_end(r), pt))
			continue;
		if (!mpc_after(dsn_ack, r->dsn + (pt - r->sf)))
			break; /* not acknowledged from pt on */
		if (!mpc_before(dsn_ack, mpc_run_dsn_end(r))) {
			pt = mpc_run_sf_end(r);
			continue;
		}
		pt = r->sf + (dsn_ack - r->dsn);
		break;
	}
	return pt;
}

/* drop everything below subflow seq `sf_ack` (a subflow ACK) */
MPC_INLINE void mpc_runs_release(struct mpc_runs *q, __u32 sf_ack)
{
	__u32 i;

	if (!mpc_after(sf_ack, q->sf_una))
		return;
	for (i = 0; i < MPC_RUNS_MAX; i++) {
		struct mpc_run *r = &q->r[0];
		__u32 cut;

		if (!q->n)
			break;
		if (!mpc_after(sf_ack, r->sf))
			break;
		if (!mpc_before(sf_ack, mpc_run_sf_end(r))) {
			mpc__runs_close(q, 0);
			continue;
		}
		cut = sf_ack - r->sf;
		r->sf += cut;
		r->dsn += cut;
		r->len -= cut;
		break;
	}
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
	__u32 i;
	int n = 0;

	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &q->r[i];
		__u32 s, e;

		if (i >= q->n || n >= max || n >= MPC_RUNS_SACK_MAX)
			break;
		s = mpc_after(b->start, r->sf) ? b->start : r->sf;
		e = mpc_before(b->end, mpc_run_sf_end(r)) ? b->end
							  : mpc_run_sf_end(r);
		if (!mpc_before(s, e))
			continue;
		if (n > 0 && out[(n - 1) & (MPC_RUNS_SACK_MAX - 1)].end ==
				     r->dsn + (s - r->sf)) {
			out[(n - 1) & (MPC_RUNS_SACK_MAX - 1)].end =
				r->dsn + (e - r->sf);
			continue;
		}
		out[n & (MPC_RUNS_SACK_MAX - 1)].start = r->dsn + (s - r->sf);
		out[n & (MPC_RUNS_SACK_MAX - 1)].end = r->dsn + (e - r->sf);
		n++;
	}
	return n;
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
	struct mpc_seq_block tmp[MPC_RUNS_SACK_MAX];
	int n = 0, j, k;
	__u32 i;

	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &q->r[i];

		if (i >= q->n)
			break;
		for (j = 0; j < MPC_RUNS_SACK_MAX; j++) {
			const struct mpc_seq_block *d;
			__u32 s, e, ss, se;

			if (j >= nb)
				break;
			d = &dsn_blk[j];
			s = mpc_after(d->start, r->dsn) ? d->start : r->dsn;
			e = mpc_before(d->end, mpc_run_dsn_end(r))
				    ? d->end
				    : mpc_run_dsn_end(r);
			if (!mpc_before(s, e))
				continue;
			ss = r->sf + (s - r->dsn);
			se = r->sf + (e - r->dsn);
			if (mpc_before(ss, ack))
				ss = ack;
			if (!mpc_before(ss, se))
				continue;
			/* merge with a block that touches it */
			for (k = 0; k < MPC_RUNS_SACK_MAX; k++) {
				struct mpc_seq_block *t = &tmp[k];

				if (k >= n)
					break;
				if (!mpc_after(ss, t->end) &&
				    !mpc_before(se, t->start)) {
					if (mpc_before(ss, t->start))
						t->start = ss;
					if (mpc_after(se, t->end))
						t->end = se;
					break;
				}
			}
			if (k < n)
				continue;
			if (n < MPC_RUNS_SACK_MAX) {
				tmp[n & (MPC_RUNS_SACK_MAX - 1)].start = ss;
				tmp[n & (MPC_RUNS_SACK_MAX - 1)].end = se;
				n++;
			}
		}
	}
	/* highest first */
	for (j = 0; j < MPC_RUNS_SACK_MAX && j < max; j++) {
		int best = -1;

		for (k = 0; k < MPC_RUNS_SACK_MAX; k++) {
			if (k >= n || !mpc_before(tmp[k].start, tmp[k].end))
				continue;
			if (best < 0 ||
			    mpc_after(tmp[k].start,
				      tmp[best & (MPC_RUNS_SACK_MAX - 1)].start))
				best = k;
		}
		if (best < 0)
			break;
		out[j] = tmp[best & (MPC_RUNS_SACK_MAX - 1)];
		tmp[best & (MPC_RUNS_SACK_MAX - 1)].end =
			tmp[best & (MPC_RUNS_SACK_MAX - 1)].start; /* used */
	}
	return j;
}

#endif /* MPCONV_RUNS_H */
