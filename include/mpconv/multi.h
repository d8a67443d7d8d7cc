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
#include "sched.h"

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
 * Seqcount readers: mpc_multi_read_begin() is false while the writer
 * changes the slot or when the slot is not this connection's; the records
 * read after it are valid if mpc_multi_read_ok(rs, seq) holds afterwards.
 */
MPC_INLINE bool mpc_multi_read_begin(const struct mpc_runs_slot *rs,
				     const struct mpc_conn *c, __u64 *seq)
{
	*seq = MPC_ATOMIC_READ(&rs->seq);
	return !(*seq & 1) && rs->tag == mpc_multi_tag(c);
}

MPC_INLINE bool mpc_multi_read_ok(const struct mpc_runs_slot *rs, __u64 seq)
{
	return MPC_ATOMIC_READ(&rs->seq) == seq;
}

/*
 * Writer: record what subflow sf carried. The first call for a connection
 * (stale tag) starts the records at the subflow's last ACK, with what the
 * subflow carried before the join as one linear run (sf->up_off). Returns
 * an enum mpc_runs_rc; MPC_RUNS_E_FULL means "drop the segment" (the peer
 * sends it again once older records are released).
 */
/*
 * Start the records of a slot for this connection (stale tag): released
 * below `una`, [una, nxt) as one linear run with DSN = seq - off (what the
 * subflow carried before the join, or before the records started). The
 * caller holds the seqcount odd.
 */
MPC_INLINE void mpc_multi_start(struct mpc_runs_slot *rs,
				const struct mpc_conn *c, __u32 una, __u32 nxt,
				__u32 off)
{
	struct mpc_run *r = &rs->q.r[0];

	mpc_runs_init(&rs->q, una);
	if (nxt && mpc_after(nxt, una) && nxt - una < (1u << 30)) {
		r->sf = una;
		r->dsn = una - off;
		r->len = nxt - una;
		rs->q.n = 1;
	}
	rs->tag = mpc_multi_tag(c);
}

MPC_INLINE int mpc_multi_record(struct mpc_runs_slot *rs,
				const struct mpc_conn *c,
				const struct mpc_subflow *sf, __u32 seq,
				__u32 dsn, __u32 len)
{
	int rc;

	MPC_ATOMIC_ADD(&rs->seq, 1);
	if (rs->tag != mpc_multi_tag(c))
		mpc_multi_start(rs, c, sf->up_ack, sf->up_nxt, sf->up_off);
	if (mpc_after(sf->up_ack, rs->q.sf_una))
		mpc_runs_release(&rs->q, sf->up_ack);
	rc = mpc_runs_add(&rs->q, seq, dsn, len);
	MPC_ATOMIC_ADD(&rs->seq, 1);
	return rc;
}

struct mpc__block_ctx {
	const struct mpc_runs *q;
	__u32 pt, dsn_ack, block;
};

/* what stops the ACK point: the record that holds pt, or the next one
 * (a bpf_loop() callback in BPF) */
MPC_CALLBACK long mpc__block_run(__u32 i, void *arg)
{
	struct mpc__block_ctx *x = arg;
	const struct mpc_run *r;
	__u64 idx = i;

	MPC__OPAQUE(idx);
	if (idx >= MPC_RUNS_MAX || idx >= x->q->n)
		return 1;
	r = &x->q->r[idx];
	if (!mpc_after(mpc_run_sf_end(r), x->pt))
		return 0;
	if (mpc_after(r->sf, x->pt))
		x->block = MPC_MB_HOLE;
	else if (r->dsn + (x->pt - r->sf) == x->dsn_ack)
		x->block = MPC_MB_OWNER;
	else
		x->block = MPC_MB_WAIT;
	return 1;
}

/*
 * Reader: the ACK subflow sf may get now that the server acknowledged
 * every DSN before dsn_ack and holds the DSN blocks sack[0..nb) (its SACK;
 * see mpc_runs_ack_point_sack() for why SACKed data counts). Never below
 * what it already got (up_ack), never past what it sent (up_nxt). A slot
 * being written, or not yet started for this connection, yields up_ack
 * (block STALE).
 */
MPC_INLINE void mpc_multi_ack_point(const struct mpc_runs_slot *rs,
				    const struct mpc_conn *c,
				    const struct mpc_subflow *sf, __u32 dsn_ack,
				    const struct mpc_seq_block *sack, int nb,
				    struct mpc_multi_pt *out)
{
	struct mpc__block_ctx x;
	__u64 s1;
	__u32 pt;

	out->pt = sf->up_ack;
	out->block = MPC_MB_STALE;
	if (!mpc_multi_read_begin(rs, c, &s1))
		return;
	pt = mpc_runs_ack_point_sack(&rs->q, dsn_ack, sack, nb);
	x.q = &rs->q;
	x.pt = pt;
	x.dsn_ack = dsn_ack;
	x.block = MPC_MB_NONE;
	MPC_LOOP(MPC_RUNS_MAX, mpc__block_run, &x);
	if (!mpc_multi_read_ok(rs, s1))
		return;
	out->block = x.block;
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

/*
 * Where a server segment goes that belongs to no subflow: a pure ACK that
 * advances none (the server's duplicate ACK, its ACK of the peer's
 * DATA_FIN) and a DATA_FIN alone. The subflow the peer sent on last works
 * (its packets arrive), if it is still active; else the first. A subflow
 * with nothing in flight never counts as stalled (sched.h), so after link
 * 1 failed under a first subflow that carried nothing, both went there
 * for good: the peer's DATA_FIN was never acknowledged, our DATA_FIN never
 * arrived, and the connection did not close (XDP 1 GiB failovers, 5 of 9
 * such runs on 485dd5e).
 */
MPC_INLINE __u32 mpc_multi_alive(const struct mpc_conn *c)
{
	__u32 i = c->up_sf_last & (MPC_MAX_SUBFLOWS - 1);

	return (c->sf[i].flags & MPC_SF_ACTIVE) ? i : 0;
}

/* ---- downstream: the server's data over several subflows ------------- */

/* what the data path did with a server segment (counted) */
enum mpc_multi_down {
	MPC_MD_ACK = 0,	       /* a pure ACK, picked by advancement */
	MPC_MD_ACK_STALE = 1,  /* ... to a subflow whose records were busy */
	MPC_MD_NEW = 2,	       /* new data, the scheduler's choice */
	MPC_MD_RESENT = 3,     /* resent data, where it went first */
	MPC_MD_REINJECTED = 4, /* resent data, elsewhere (first one stalled) */
	MPC_MD_FULL = 5,       /* new data, no run record left: dropped */
	MPC_MD_HOLE = 6,       /* resent data into the peer's subflow hole */
	MPC_MD_BARE = 7,       /* the DATA_ACK point's resend, unrecorded */
};

#define MPC_MULTI_RATE_NS 20000000ull /* delivery-rate sample length */
/* an idle subflow's rate older than this is forgotten (mpc_multi_sched_sf) */
#define MPC_MULTI_RATE_STALE_NS 100000000ull
#define MPC_MULTI_STALL_NS 200000000ull /* stall floor (sched.h) */
/* the server's new data stays on the subflow of its previous segment
 * while that one's expected arrival is within this of the best one's
 * (mpc_multi_stick): contiguous DSNs on one subflow are one run record */
#define MPC_MULTI_STICKY_US 4000

/* sf's delivery rate was measured long ago (mpc_multi_sched_sf) */
MPC_INLINE bool mpc_multi_rate_stale(const struct mpc_subflow *sf, __u64 now)
{
	return now > sf->dl_ns && now - sf->dl_ns > MPC_MULTI_RATE_STALE_NS;
}

/*
 * Upstream path: the peer's subflow ACK of our data on sf (and its echo
 * of the TSval we relayed, the server's clock: ms) tells the scheduler
 * what is in flight there, the RTT and the delivery rate.
 */
MPC_INLINE void mpc_multi_observe_ack(const struct mpc_conn *c,
				      struct mpc_subflow *sf, __u32 ack,
				      bool has_ts, __u32 tsecr, __u64 now)
{
	__u32 adv, ms;
	__u64 r;

	if (mpc_before(ack, sf->dn_una) || mpc_after(ack, sf->dn_nxt))
		return;
	/* the path works while ACKs come, advancing or not: a subflow that
	 * lost a segment sends duplicate ACKs, and the server's resend must
	 * go to it (mpc_multi_find), or its sequence space keeps the hole */
	sf->tx_ns = 0;
	if (ack == sf->dn_una)
		return;
	adv = ack - sf->dn_una;
	sf->dn_una = ack;
	if (has_ts) {
		ms = c->down_tsval - tsecr;
		if (ms < 10000) {
			ms = ms * 1000 + 500; /* the middle of the tick */
			sf->srtt_us = sf->srtt_us ? sf->srtt_us -
							    (sf->srtt_us >> 3) +
							    (ms >> 3)
						  : ms;
		}
	}
	sf->dl_bytes += adv;
	if (!sf->dl_ns)
		sf->dl_ns = now;
	if (now - sf->dl_ns >= MPC_MULTI_RATE_NS) {
		r = (__u64)sf->dl_bytes * 1000000 / (now - sf->dl_ns);
		sf->rate = sf->rate ? (__u32)((3 * (__u64)sf->rate + r) / 4)
				    : (__u32)r;
		sf->dl_bytes = 0;
		sf->dl_ns = now;
	}
}

/* what the scheduler (sched.h) is told about subflow sf */
MPC_INLINE void mpc_multi_sched_sf(const struct mpc_subflow *sf, __u64 now,
				   struct mpc_sched_sf *o)
{
	o->srtt_us = sf->srtt_us;
	o->inflight = sf->dn_nxt - sf->dn_una;
	if (o->inflight >= (1u << 30))
		o->inflight = 0;
	o->cwnd = 0;
	o->rate = sf->rate;
	/* a rate measured long ago on a subflow that has nothing in flight
	 * says nothing now (a sample taken while the scheduler sent it
	 * little would keep it unused for good): unknown, so it is tried
	 * (mpc_sched_eta) and measured again */
	if (!o->inflight && mpc_multi_rate_stale(sf, now))
		o->rate = 0;
	o->flags = 0;
	if (sf->flags & MPC_SF_ACTIVE)
		o->flags |= MPC_SCHED_F_ACTIVE;
	if (sf->flags & MPC_SF_BACKUP)
		o->flags |= MPC_SCHED_F_BACKUP;
	if (mpc_sched_stalled(o, sf->tx_ns, now, MPC_MULTI_STALL_NS))
		o->flags |= MPC_SCHED_F_DOWN;
}

/* keep the server's next segment on subflow cur rather than best? */
MPC_INLINE bool mpc_multi_stick(const struct mpc_sched_sf *sched, __u32 cur,
				__u32 best, __u32 len)
{
	const struct mpc_sched_sf *a, *b;

	cur &= MPC_MAX_SUBFLOWS - 1;
	best &= MPC_MAX_SUBFLOWS - 1;
	if (cur == best)
		return false;
	a = &sched[cur];
	b = &sched[best];
	if (!mpc_sched_usable(a) ||
	    ((a->flags ^ b->flags) & MPC_SCHED_F_BACKUP))
		return false;
	return mpc_sched_eta(a, len) <=
	       mpc_sched_eta(b, len) + MPC_MULTI_STICKY_US;
}

/* downstream writer, seqcount held odd: sf's records for this connection
 * (started if stale), released up to the peer's ACK there */
MPC_INLINE void mpc__multi_dn_sync(struct mpc_runs_slot *rs,
				   const struct mpc_conn *c,
				   const struct mpc_subflow *sf)
{
	if (rs->tag != mpc_multi_tag(c))
		mpc_multi_start(rs, c, sf->dn_una, sf->dn_nxt, sf->down_off);
	if (mpc_after(sf->dn_una, rs->q.sf_una))
		mpc_runs_release(&rs->q, sf->dn_una);
}

/*
 * Downstream writer: len bytes go out at sf's head without a run record
 * (mpc_multi_send once it recorded them, or the resend that
 * mpc_multi_blocking names when no record is left). Returns their
 * subflow seq.
 */
MPC_INLINE __u32 mpc_multi_send_head(struct mpc_subflow *sf, __u32 len,
				     __u64 now)
{
	__u32 seq = sf->dn_nxt;

	if (sf->dn_nxt == sf->dn_una) {
		/* idle until now: the rate clock starts here, and a rate
		 * measured long ago is forgotten (mpc_multi_sched_sf) */
		if (mpc_multi_rate_stale(sf, now))
			sf->rate = 0;
		sf->dl_ns = now;
		sf->dl_bytes = 0;
	}
	if (!sf->tx_ns)
		sf->tx_ns = now;
	sf->dn_nxt = seq + len;
	return seq;
}

/*
 * Downstream writer (the CPU of the server's packets): the server's data
 * [dsn, dsn + len) goes out on sf at our next subflow seq, which it
 * returns; recorded in sf's down runs (rs) so that a retransmission by
 * the server goes out at the same place (mpc_multi_find) and the peer's
 * SACK maps back to DSNs (mpc_multi_sack_dsn). The first call for a
 * connection starts the records at the peer's subflow ACK, the data sent
 * before as one linear run (sf->down_off). *rc: mpc_runs_add()'s; when
 * full (MPC_RUNS_E_FULL) nothing changed and the data must not go out
 * here: unrecorded, a loss of it could never be repaired (a resend would
 * not find its place, and the subflow would keep the hole).
 */
MPC_INLINE __u32 mpc_multi_send(struct mpc_runs_slot *rs,
				const struct mpc_conn *c,
				struct mpc_subflow *sf, __u32 dsn, __u32 len,
				__u64 now, int *rc)
{
	__u32 seq = sf->dn_nxt;

	MPC_ATOMIC_ADD(&rs->seq, 1);
	mpc__multi_dn_sync(rs, c, sf);
	*rc = len ? mpc_runs_add(&rs->q, seq, dsn, len) : MPC_RUNS_DUP;
	MPC_ATOMIC_ADD(&rs->seq, 1);
	if (*rc == MPC_RUNS_E_FULL)
		return seq; /* not sent: the caller tries elsewhere or drops */
	return mpc_multi_send_head(sf, len, now);
}

/*
 * The segment at the peer's DATA_ACK point: every other one waits for it.
 * After a timeout the server resends only this one (a window of one
 * segment) and doubles its timer each time it is not acknowledged, so it
 * must never be dropped or placed where the peer cannot use it:
 *
 *  - mpc_multi_resend_at_hole puts it into the peer's hole on its subflow
 *    (at the peer's newest subflow ACK) even without a SACK block showing
 *    how long the hole is, evicting the highest record when the split
 *    needs one. Every unacknowledged byte on any subflow has a higher
 *    DSN, or is a dead hole the agent fills, so this breaks a wait.
 *  - with no run record left anywhere it goes out unrecorded at a
 *    subflow's head (`multi_dn_bare`) instead of being dropped: its DSS
 *    mapping is all the peer needs, a loss of it again is repaired by the
 *    server's next resend, and only the place to resend it on that
 *    subflow is lost.
 *
 * Both were seen as permanent stalls (server cwnd 1, RTO backoff 5-7, 17-
 * 40 s without a packet) in about 2 of 13 TC downloads whose joined
 * subflow was closed mid-transfer (test_explicit_announce.sh, link 2
 * down): both remaining subflows had ~500 KB lost in flight, and the
 * DATA_ACK segment sat in a record behind that, or found no record.
 */
MPC_INLINE bool mpc_multi_blocking(const struct mpc_conn *c, __u32 dsn)
{
	return !mpc_after(dsn, c->max_data_ack);
}

/*
 * Downstream writer: the server resends [dsn, dsn + len), to go out on sf
 * (where it went first, or as new data). If the peer has a hole at its
 * ACK there (dn_una, known from its SACK: at least len bytes) whose data
 * has higher DSNs, the server will send that data again only after this
 * is acknowledged, and the peer would hold this behind the hole: a
 * circular wait (data resent on this subflow after a loss on it). Send it
 * into the hole instead: the head of the hole's record is remapped to dsn
 * (mpc_runs_remap_head); the server's resend of the displaced DSNs finds
 * no place and goes out as new data. The segment at the peer's DATA_ACK
 * point goes there without the SACK (mpc_multi_blocking). Returns true
 * with *seq = dn_una.
 *
 * Also when the hole's first record starts at dsn but is shorter than
 * the resend: the server collapsed pieces it first sent on different
 * subflows into one segment, so no record holds all of it
 * (mpc_multi_find fails) and it went out as new data at a subflow's
 * head, behind that subflow's own hole; every later resend found that
 * copy, which the peer had, and the download stalled for good (server at
 * cwnd 1, RTO backoff 7; TC, Linux 6.1, about 5 in 116 runs of
 * test_explicit_joins.sh's join cases). The records the resend covers
 * become its one mapping (mpc_runs_remap_head).
 */
MPC_INLINE bool mpc_multi_resend_at_hole(struct mpc_runs_slot *rs,
					 const struct mpc_conn *c,
					 const struct mpc_subflow *sf,
					 __u32 dsn, __u32 len, __u32 *seq)
{
	bool blocking = mpc_multi_blocking(c, dsn);
	__u32 una = sf->dn_una;
	bool ok;

	if (rs->tag != mpc_multi_tag(c) || !len || !rs->q.n)
		return false;
	/* the peer's newest ACK is at una (else the hole may be filled
	 * already), and its SACK shows the hole is long enough, or this is
	 * the segment everything waits for (mpc_multi_blocking) */
	if (sf->sack_ack != una ||
	    (!blocking && mpc_before(sf->sack_lo, una + len)))
		return false;
	MPC_ATOMIC_ADD(&rs->seq, 1);
	mpc__multi_dn_sync(rs, c, sf);
	/* one spanning records, even the blocking one, only where the peer
	 * holds none of it (no SACK block, or one above it): a segment it
	 * holds under another mapping, and which our leg SACK reported, must
	 * not be overwritten */
	ok = rs->q.n &&
	     (mpc_after(rs->q.r[0].dsn, dsn) ||
	      (rs->q.r[0].dsn == dsn && rs->q.r[0].len < len)) &&
	     (rs->q.r[0].len >= len || sf->sack_lo == una ||
	      !mpc_before(sf->sack_lo, una + len)) &&
	     mpc_runs_remap_head(&rs->q, dsn, len, blocking);
	MPC_ATOMIC_ADD(&rs->seq, 1);
	if (ok)
		*seq = una;
	return ok;
}

/*
 * Downstream writer: start sf's down records for this connection if they
 * are stale, before looking a resend up in them: what the first subflow
 * carried before the join is one linear run, found like any other
 * (otherwise a resend of it went out as new data elsewhere, and the first
 * subflow kept that hole for good).
 */
MPC_INLINE void mpc_multi_dn_begin(struct mpc_runs_slot *rs,
				   const struct mpc_conn *c,
				   const struct mpc_subflow *sf)
{
	if (rs->tag == mpc_multi_tag(c))
		return;
	MPC_ATOMIC_ADD(&rs->seq, 1);
	mpc__multi_dn_sync(rs, c, sf);
	MPC_ATOMIC_ADD(&rs->seq, 1);
}

/* the server resent [dsn, dsn + len): where it went out on this subflow,
 * if all of it went out there in one run (the writer's own lookup) */
MPC_INLINE bool mpc_multi_find(const struct mpc_runs_slot *rs,
			       const struct mpc_conn *c, __u32 dsn, __u32 len,
			       __u32 *seq)
{
	__u32 i;

	if (rs->tag != mpc_multi_tag(c))
		return false;
	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &rs->q.r[i];

		if (i >= rs->q.n)
			break;
		if (!mpc_before(dsn, r->dsn) &&
		    !mpc_after(dsn + len, mpc_run_dsn_end(r))) {
			*seq = r->sf + (dsn - r->dsn);
			return true;
		}
	}
	return false;
}

/*
 * Upstream path: the peer's SACK block [b->start, b->end) on this subflow
 * (our subflow seqs) in DSNs, up to max blocks (a block can span runs
 * whose DSNs are not contiguous). Returns how many; 0 when the records
 * are being written or not started (the SACK is left out then).
 */
MPC_INLINE int mpc_multi_sack_dsn(const struct mpc_runs_slot *rs,
				  const struct mpc_conn *c,
				  const struct mpc_seq_block *b,
				  struct mpc_seq_block *out, int max)
{
	__u64 s1;
	int n;

	if (!mpc_multi_read_begin(rs, c, &s1))
		return 0;
	n = mpc_runs_to_dsn(&rs->q, b, out, max);
	return mpc_multi_read_ok(rs, s1) ? n : 0;
}

/* where DSN dsn went out on this subflow (*seq), if a run record holds
 * it (the upstream path reads the server's down runs: seqcount) */
MPC_INLINE bool mpc_multi_sent_at(const struct mpc_runs_slot *rs,
				  const struct mpc_conn *c, __u32 dsn,
				  __u32 *seq)
{
	__u64 s1;

	return mpc_multi_read_begin(rs, c, &s1) &&
	       mpc_runs_find_dsn(&rs->q, dsn, seq) && mpc_multi_read_ok(rs, s1);
}

/* is DSN dsn out on this subflow, sent and not yet acknowledged there? */
MPC_INLINE bool mpc_multi_in_flight(const struct mpc_runs_slot *rs,
				    const struct mpc_conn *c,
				    const struct mpc_subflow *sf, __u32 dsn)
{
	__u32 seq = 0;

	return mpc_multi_sent_at(rs, c, dsn, &seq) &&
	       !mpc_before(seq, sf->dn_una);
}

/*
 * Upstream (a reader of the down runs): the peer's subflow ACK `ack` of
 * our data on this subflow stops at a hole, and the data we sent there
 * has DSNs that the peer's DATA_ACK already covers (it got them on
 * another subflow, resent there while this one stalled). The server will
 * not send them again: without a filler the subflow holds everything
 * above the hole for good. *dsn, *len: the acknowledged part of that run
 * from ack on (at most up to data_ack). False if ack is not in a record
 * or its data is not acknowledged yet (a hole the server's resend fills).
 *
 * A hole in no record (its data went out unrecorded, or its record was
 * evicted) is dead as well: nobody can ever resend those subflow bytes.
 * It is filled the same way, mapped to the `len` DSNs just below
 * data_ack, which the peer has and discards; whatever the hole held, the
 * peer's DATA_ACK still waits for it, so the server resends it and it
 * goes out anew. Seen as a TC download stalled for good behind a 2856-
 * byte unrecorded hole after a subflow closed mid-transfer.
 */
MPC_INLINE bool mpc_multi_dead_hole(const struct mpc_runs_slot *rs,
				    const struct mpc_conn *c, __u32 ack,
				    __u32 data_ack, __u32 *dsn, __u32 *len)
{
	__u32 d = 0, n = 0;
	__u64 s1;

	if (!mpc_multi_read_begin(rs, c, &s1))
		return false;
	/* in a record (one pass in the common case), else maybe a gap */
	if (!mpc_runs_find_sf(&rs->q, ack, &d, &n)) {
		if (!mpc_runs_gap_at(&rs->q, ack, &n) ||
		    !mpc_multi_read_ok(rs, s1))
			return false;
		*dsn = data_ack - n;
		*len = n;
		return true;
	}
	if (!mpc_before(d, data_ack) || !mpc_multi_read_ok(rs, s1))
		return false;
	if (n > data_ack - d)
		n = data_ack - d;
	*dsn = d;
	*len = n;
	return true;
}

/*
 * The DSN block the peer holds just below its subflow ACK `ack` on this
 * subflow (the record holding ack - 1, from its start or sf_una), above
 * data_ack: what a synthesised leg SACK reports. False if none.
 */
MPC_INLINE bool mpc_multi_held_block(const struct mpc_runs_slot *rs,
				     const struct mpc_conn *c, __u32 ack,
				     __u32 data_ack, struct mpc_seq_block *out)
{
	__u64 s1;
	__u32 i, lo;
	bool hit = false;

	if (!mpc_multi_read_begin(rs, c, &s1))
		return false;
	for (i = 0; i < MPC_RUNS_MAX; i++) {
		const struct mpc_run *r = &rs->q.r[i];

		if (i >= rs->q.n)
			break;
		if (mpc_before(ack - 1, r->sf) ||
		    !mpc_before(ack - 1, mpc_run_sf_end(r)))
			continue;
		lo = mpc_after(rs->q.sf_una, r->sf) ? rs->q.sf_una : r->sf;
		out->start = r->dsn + (lo - r->sf);
		out->end = r->dsn + (ack - r->sf);
		if (!mpc_after(out->start, data_ack))
			out->start = data_ack + 1;
		hit = mpc_before(out->start, out->end);
		break;
	}
	return hit && mpc_multi_read_ok(rs, s1);
}

/*
 * Upstream, a pure ACK of the peer, after mpc_multi_observe_ack: every
 * byte we sent on every active subflow is acknowledged there, yet its
 * DATA_ACK (data_ack) stays below what the server sent. Linux moves a
 * subflow's data to the MPTCP socket later when the application holds
 * that socket, so the ACK of the segment that fills a data-level hole
 * (the server's resend of a leg loss) carries the old DATA_ACK; the move
 * itself sends no ACK, and with nothing else in flight on any subflow no
 * segment comes that would. The leg's ACK is the DATA_ACK, so the server
 * waits for its RTO (200 ms) each time: a 1 GiB download with 1 % loss on
 * the server link crawled at 8 Mbit/s. The agent then makes the peer ACK
 * again (agent/conv.c nudge). True once per DATA_ACK value (nudge_dsn),
 * which it records.
 */
MPC_INLINE bool mpc_multi_dack_lags(struct mpc_conn *c, __u32 data_ack)
{
	__u32 i;

	if (!mpc_before(data_ack, c->down_snd_nxt) || data_ack == c->nudge_dsn)
		return false;
	for (i = 0; i < MPC_MAX_SUBFLOWS; i++) {
		const struct mpc_subflow *sf = &c->sf[i];

		if ((sf->flags & MPC_SF_ACTIVE) && sf->dn_una != sf->dn_nxt)
			return false;
	}
	c->nudge_dsn = data_ack;
	return true;
}

/* how long a lagging DATA_ACK counts as lag (mpc_multi_peer_holds) */
#define MPC_MULTI_LAG_MS 10

/*
 * Upstream, a pure ACK of the peer on subflow sf whose DATA_ACK data_ack
 * stands still below what the server sent, and whose DSN is out on none
 * of its subflows: does the peer hold that byte already? It does when a
 * subflow acknowledged it (here: its record's seq is below sf->dn_una;
 * for the ACKs of other subflows: remembered in held_dsn), and its
 * DATA_ACK lags because Linux moves subflow data to the MPTCP socket
 * later (mpc_multi_dack_lags). A synthesised leg SACK above data_ack
 * (mpc_multi_held_block) would then tell the server that the segment at
 * data_ack is missing while everything after it arrived: it resends it
 * (spuriously) and halves its window. For at most MPC_MULTI_LAG_MS from
 * the first such ACK (now_ms): a peer that dropped the data at its MPTCP
 * level never moves its DATA_ACK, and the server has to learn of the
 * hole as before.
 *
 * Not while the server repairs a loss (data_ack below resent_hi, the
 * highest DSN it resent): in recovery its SACK scoreboard is what lets it
 * send on, and without the synthesised blocks it waited for the DATA_ACK
 * (256 MiB download with 1 % loss on the server link, 0.19 of socat's
 * goodput against 0.34 with them; the stale resent_hi of a long-past
 * recovery, more than 2 GiB back, reads as above down_snd_nxt).
 */
MPC_INLINE bool mpc_multi_peer_holds(const struct mpc_runs_slot *rs,
				     struct mpc_conn *c,
				     const struct mpc_subflow *sf,
				     __u32 data_ack, __u32 now_ms)
{
	__u32 seq = 0;

	if (mpc_before(data_ack, c->resent_hi) &&
	    !mpc_after(c->resent_hi, c->down_snd_nxt))
		return false;
	if (!c->held || c->held_dsn != data_ack) {
		if (!rs || !mpc_multi_sent_at(rs, c, data_ack, &seq) ||
		    !mpc_before(seq, sf->dn_una))
			return false;
		c->held_dsn = data_ack;
		c->held_ms = now_ms;
		c->held = 1;
	}
	return now_ms - c->held_ms < MPC_MULTI_LAG_MS;
}

/* the remembered resend range stops growing at this many bytes */
#define MPC_MULTI_RS_MAX (1u << 20)

/*
 * Downstream (the writer): the server's resend [dsn, dsn + len) went out
 * again on sf at subflow seq `seq` (where it went first, or into the
 * peer's hole there). Remember it for mpc_multi_dsack: appended to the
 * remembered range when it continues it in both spaces (a burst of
 * resends), else in its place.
 */
MPC_INLINE void mpc_multi_note_resend(struct mpc_subflow *sf, __u32 seq,
				      __u32 dsn, __u32 len)
{
	if (!len)
		return;
	if (sf->rs_len && seq == sf->rs_seq + sf->rs_len &&
	    dsn == sf->rs_dsn + sf->rs_len &&
	    sf->rs_len + len <= MPC_MULTI_RS_MAX) {
		sf->rs_len += len;
		return;
	}
	sf->rs_seq = seq;
	sf->rs_dsn = dsn;
	sf->rs_len = len;
}

/*
 * Upstream: the peer's first SACK block b on sf, a D-SACK (RFC 2883: it
 * lies below the subflow ACK `ack`, the peer got those bytes twice), in
 * DSNs into *out. The run records have no entry for it by then (released
 * below the subflow ACK): it is mapped through the remembered resend
 * (mpc_multi_note_resend), and only when all of it lies there and below
 * the highest DATA_ACK the peer sent (data_ack): the peer holds those
 * bytes at its MPTCP level, so whatever the block tells the server is
 * true even if the range was read while the downstream path rewrote it.
 * As the first block of the leg's SACK, below the leg ACK, it is a
 * D-SACK there too: the server learns that its resend was spurious
 * (Linux: TCPDSACKRecv, undo of the window reduction, RACK's reordering
 * window grows). Without it the server heard of 4-13 % of the peer's
 * D-SACKs in the 100+100 download (docs/multipath-plan.md).
 */
MPC_INLINE bool mpc_multi_dsack(const struct mpc_subflow *sf,
				const struct mpc_seq_block *b, __u32 ack,
				__u32 data_ack, struct mpc_seq_block *out)
{
	__u32 seq = sf->rs_seq, dsn = sf->rs_dsn, len = sf->rs_len;

	if (!len || !mpc_before(b->start, b->end) || mpc_after(b->end, ack) ||
	    mpc_before(b->start, seq) || mpc_after(b->end, seq + len))
		return false;
	out->start = dsn + (b->start - seq);
	out->end = dsn + (b->end - seq);
	return !mpc_after(out->end, data_ack);
}

#endif /* MPCONV_MULTI_H */
