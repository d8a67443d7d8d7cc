/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * multi.h - a connection with more than one subflow (MPC_CF_MULTI): the
 * upstream run records and the subflow ACKs derived from them, the end-to-
 * end ACK model of docs/design.md 2 across subflows.
 *
 * Upstream (peer -> server), per subflow i, the data path calls
 * mpc_multi_record() for every translated segment with payload: subflow
 * range [seq, seq + len) carried DSN range [dsn, dsn + len). The records
 * (runs.h) live in the `mpc_runs_up` array map, one slot per connection
 * and subflow.
 *
 * Downstream (server -> peer), a leg ACK (and its SACK) says which DSNs
 * the server holds. mpc_multi_ack_point() turns that into the ACK subflow
 * i may get: every subflow byte below it was seen by the converter and its
 * DSN acknowledged (cumulatively or selectively) by the server. A pure leg ACK is one packet but may advance several
 * subflows: mpc_multi_pick() sends it to the subflow it advances most (the
 * others get the next ones; ACKs are cumulative), and a leg ACK that
 * advances none (the server's duplicate ACK) to the subflow that holds
 * the DSN the server waits for, or else to one with a hole in what the
 * converter saw: those duplicate ACKs and the SACK blocks mapped onto that
 * subflow (mpc_runs_sack()) start the peer's fast retransmit where the
 * loss is.
 *
 * Concurrency: a slot has one writer, the CPU that receives subflow i's
 * packets (mpc_multi_record), and readers on the CPU of the server's
 * packets. The writer bumps `seq` before and after it changes the records
 * (atomic adds: full barriers), a reader that sees it odd or changed uses
 * the subflow's last ACK instead (never a torn record: a torn record could
 * ACK data the server does not hold). Releases (records below the ACK we
 * sent) are the writer's too, at its next segment.
 */
#ifndef MPCONV_MULTI_H
#define MPCONV_MULTI_H

#include "compat.h"
#include "conn.h"
#include "runs.h"

/* one mpc_runs_up slot: key conn_id * MPC_MAX_SUBFLOWS + subflow */
struct mpc_runs_slot {
	/* even: stable; odd: the writer is changing q (64-bit: BPF atomics
	 * on 32-bit words need -mcpu=v3, see conn.h flags) */
	__u64 seq;
	__u32 tag; /* conn_gen + 1 of the records' connection (else stale) */
	__u32 _pad;
	struct mpc_runs q;
};

/* what a subflow's ACK point is blocked by (mpc_multi_pick) */
enum mpc_multi_block {
	MPC_MB_NONE = 0,  /* at the end of what was seen: nothing missing */
	MPC_MB_WAIT = 1,  /* the next subflow bytes' DSN is not acknowledged */
	MPC_MB_OWNER = 2, /* ... and it is exactly the DSN the server wants */
	MPC_MB_HOLE = 3,  /* the converter never saw the next subflow bytes */
	MPC_MB_STALE = 4, /* records busy or not started: up_ack repeated */
};

/* the ACK point and what blocks it */
struct mpc_multi_pt {
	__u32 pt;
	__u32 block; /* enum mpc_multi_block */
};

MPC_INLINE __u32 mpc_multi_tag(const struct mpc_conn *c)
{
	return c->conn_gen + 1;
}

/*
 * Writer: record what subflow sf carried. The first call for a connection
 * (stale tag) starts the records at the subflow's last ACK, with what the
 * subflow carried before the join as one linear run (sf->up_off). Returns
 * an enum mpc_runs_rc; MPC_RUNS_E_FULL means "drop the segment" (the peer
 * sends it again once older records are released).
 */
MPC_INLINE int mpc_multi_record(struct mpc_runs_slot *rs,
				const struct mpc_conn *c,
				const struct mpc_subflow *sf, __u32 seq,
				__u32 dsn, __u32 len)
{
	int rc;

	MPC_ATOMIC_ADD(&rs->seq, 1);
	if (rs->tag != mpc_multi_tag(c)) {
		mpc_runs_init(&rs->q, sf->up_ack);
		if (sf->up_nxt && mpc_after(sf->up_nxt, sf->up_ack) &&
		    sf->up_nxt - sf->up_ack < (1u << 30))
			mpc_runs_add(&rs->q, sf->up_ack,
				     sf->up_ack - sf->up_off,
				     sf->up_nxt - sf->up_ack);
		rs->tag = mpc_multi_tag(c);
	}
	if (mpc_after(sf->up_ack, rs->q.sf_una))
		mpc_runs_release(&rs->q, sf->up_ack);
	rc = mpc_runs_add(&rs->q, seq, dsn, len);
	MPC_ATOMIC_ADD(&rs->seq, 1);
	return rc;
}

/*
 * Reader: the ACK subflow sf may get now that the server acknowledged
 * every DSN before dsn_ack and holds the DSN blocks sack[0..nb) (its SACK;
 * see mpc_runs_ack_point_sack() for why SACKed data counts). Never below what it already got (up_ack),
 * never past what it sent (up_nxt). A slot being written, or not yet
 * started for this connection, yields up_ack (block STALE).
 */
MPC_INLINE void mpc_multi_ack_point(const struct mpc_runs_slot *rs,
				    const struct mpc_conn *c,
				    const struct mpc_subflow *sf, __u32 dsn_ack,
				    const struct mpc_seq_block *sack, int nb,
				    struct mpc_multi_pt *out)
{
	__u64 s1;
	__u32 i, pt;

	out->pt = sf->up_ack;
	out->block = MPC_MB_STALE;
	s1 = MPC_ATOMIC_READ(&rs->seq);
	if ((s1 & 1) || rs->tag != mpc_multi_tag(c))
		return;
	out->block = MPC_MB_NONE;
	pt = mpc_runs_ack_point_sack(&rs->q, dsn_ack, sack, nb);
	/* what stops it: the record that holds pt, or the next one */
	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &rs->q.r[i];

		if (i >= rs->q.n)
			break;
		if (!mpc_after(mpc_run_sf_end(r), pt))
			continue;
		if (mpc_after(r->sf, pt))
			out->block = MPC_MB_HOLE;
		else if (r->dsn + (pt - r->sf) == dsn_ack)
			out->block = MPC_MB_OWNER;
		else
			out->block = MPC_MB_WAIT;
		break;
	}
	if (MPC_ATOMIC_READ(&rs->seq) != s1) {
		out->block = MPC_MB_STALE;
		return;
	}
	if (sf->up_nxt && mpc_after(pt, sf->up_nxt))
		pt = sf->up_nxt;
	if (mpc_after(pt, sf->up_ack))
		out->pt = pt;
}

/*
 * The peer sent subflow data again that we ACKed already (mpc_multi_record
 * returned rc): our ACK to it was lost, and no leg ACK will advance this
 * subflow now. The data path sets sf->want_ack, and the next pure leg ACK
 * goes to it (mpc_multi_pick), or the peer would resend until it gives up.
 */
MPC_INLINE bool mpc_multi_reack(int rc, const struct mpc_subflow *sf, __u32 seq,
				__u32 len)
{
	return rc == MPC_RUNS_E_OLD ||
	       (rc == MPC_RUNS_DUP && !mpc_after(seq + len, sf->up_ack));
}

/*
 * Which subflow gets a leg ACK (pure, no data): one that wants its ACK
 * again (mpc_multi_reack), else the one it advances most, else the owner
 * of the missing DSN, else one with a hole, else `dflt`.
 * Fed one subflow at a time (mpc_multi_pick_add; the data path runs it in
 * a bpf_loop() callback), then mpc_multi_pick_done().
 */
struct mpc_multi_pick {
	__u32 want, best, owner, hole, adv;
};

MPC_INLINE void mpc_multi_pick_init(struct mpc_multi_pick *p)
{
	p->want = p->best = p->owner = p->hole = MPC_MAX_SUBFLOWS;
	p->adv = 0;
}

/* subflow i (active) with its ACK point pt */
MPC_INLINE void mpc_multi_pick_add(struct mpc_multi_pick *p,
				   const struct mpc_subflow *sf, __u32 i,
				   const struct mpc_multi_pt *pt)
{
	__u32 a = pt->pt - sf->up_ack;

	if (sf->want_ack && p->want == MPC_MAX_SUBFLOWS)
		p->want = i;
	if (a && a < (1u << 30) && a > p->adv) {
		p->adv = a;
		p->best = i;
	}
	if (pt->block == MPC_MB_OWNER && p->owner == MPC_MAX_SUBFLOWS)
		p->owner = i;
	if (pt->block == MPC_MB_HOLE && p->hole == MPC_MAX_SUBFLOWS)
		p->hole = i;
}

MPC_INLINE __u32 mpc_multi_pick_done(const struct mpc_multi_pick *p, __u32 dflt)
{
	if (p->want < MPC_MAX_SUBFLOWS)
		return p->want;
	if (p->best < MPC_MAX_SUBFLOWS)
		return p->best;
	if (p->owner < MPC_MAX_SUBFLOWS)
		return p->owner;
	if (p->hole < MPC_MAX_SUBFLOWS)
		return p->hole;
	return dflt;
}

#endif /* MPCONV_MULTI_H */
