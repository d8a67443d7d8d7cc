// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mpconv.bpf.c - the data path: one XDP and one TC (clsact ingress)
 * program sharing maps and one inline library (bpf/lib/).
 *
 * Both entry points do the same through ctx.h's shim:
 *   parse -> flow lookup ->
 *     not ours:               pass untouched (SYNs to the Convert
 *                             service excepted: those go to the agent)
 *     being set up / closed:  to the agent (slow path), not forwarded
 *     established:            translate (include/mpconv/xlate.h), rewrite
 *                             and redirect (lib/emit.h); control segments
 *                             to the agent
 * No packet of a converted connection ever reaches the local stack.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "mpconv/abi.h"
#include "mpconv/conn.h"
#include "mpconv/tcpopt.h"
#include "mpconv/xlate.h"
#include "mpconv/multi.h"
#include "maps.h"
#include "lib/ctx.h"
#include "lib/parse.h"
#include "lib/emit.h"

MPC_INLINE int drop(const bool xdp, struct mpc_stats *st,
		    enum mpc_drop_reason r)
{
	__u64 *c = bpf_map_lookup_elem(&mpc_drops, &r), one = 1;

	if (c)
		*c += 1;
	else
		bpf_map_update_elem(&mpc_drops, &r, &one, BPF_NOEXIST);
	st->dropped++;
	return ctx_drop(xdp);
}

/*
 * Copy the packet (up to MPC_SLOW_SNAPLEN bytes) to the agent's ring.
 * Returns 0, or -1 when the ring is full (counted; the peer retransmits).
 */
MPC_INLINE int to_agent(void *ctx, const bool xdp, struct mpc_scratch *scr,
			struct mpc_stats *st, __u32 reason, __u32 conn_id,
			__u8 why, __u8 sf)
{
	struct mpc_slow_hdr *h = (void *)scr->copy;
	__u32 len = ctx_len(ctx, xdp), cap;

	cap = len < MPC_SLOW_SNAPLEN ? len : MPC_SLOW_SNAPLEN;
	h->reason = reason;
	h->ifindex = ctx_ifindex(ctx, xdp);
	h->conn_id = conn_id;
	h->cap_len = cap;
	h->pkt_len = len > 0xffff ? 0xffff : len;
	h->l3_off = scr->pkt.l3_off;
	h->why = why;
	h->sf = sf;
	h->arg0 = reason == MPC_SLOW_FILL    ? scr->fill_dsn
		  : reason == MPC_SLOW_NUDGE ? scr->out.data_ack
					     : 0;
	h->arg1 = reason == MPC_SLOW_FILL ? scr->fill_len : 0;
	h->_pad = 0;
	h->ts_ns = bpf_ktime_get_ns();
	if (cap == 0 || cap > MPC_SLOW_SNAPLEN)
		return -1;
	/* 1..MPC_SLOW_SNAPLEN, in a form the verifier can follow */
	if (ctx_load_bytes(ctx, xdp, 0, scr->copy + sizeof(*h),
			   MPC_LEN(cap, MPC_SLOW_SNAPLEN - 1)))
		return -1;
	if (bpf_ringbuf_output(&mpc_slow, scr->copy,
			       sizeof(*h) + MPC_LEN(cap, MPC_SLOW_SNAPLEN - 1),
			       0)) {
		st->slow_lost++;
		return -1;
	}
	return 0;
}

MPC_INLINE bool is_service(const struct mpc_dp_config *cfg,
			   const struct mpc_pkt *p)
{
	__u32 i;

	for (i = 0; i < MPC_DP_MAX_LISTEN; i++) {
		const struct mpc_listen *l = &cfg->listen[i];

		if (l->port && p->dport == l->port && p->family == l->family &&
		    p->daddr[0] == l->addr[0] && p->daddr[1] == l->addr[1] &&
		    p->daddr[2] == l->addr[2] && p->daddr[3] == l->addr[3])
			return true;
	}
	return false;
}

/*
 * Global functions: the verifier checks each once, on its own, instead of
 * once per path through the caller (the whole program inlined came to
 * 640k-830k processed instructions, close to the 1M limit). They take only
 * map-value pointers and scalars, and call no hook-specific helper, so
 * XDP and TC share them.
 */
__noinline int mpc_g_xlate(struct mpc_scratch *scr, struct mpc_conn *c)
{
	struct mpc_sf_ack *sa = NULL;
	struct mpc_subflow *sf;

	if (!scr || !c)
		return -1;
	sf = &c->sf[scr->sfi & (MPC_MAX_SUBFLOWS - 1)];
	/* a pointer or NULL, as two verifier states: clang turned the
	 * conditional expression into arithmetic that 6.1's verifier sees
	 * as a scalar ("R6 invalid mem access 'scalar'") */
	if (scr->multi)
		sa = scr->up ? &scr->upsack : &scr->sfack;
	MPC__OPAQUE(sa);
	if (scr->up) {
		mpc_xlate_up(c, sf, &scr->pkt.seg, &scr->out, &scr->opt, sa);
		mpc_memcpy(scr->route.src, c->leg_local, 16);
		mpc_memcpy(scr->route.dst, c->leg_remote, 16);
		scr->route.sport = c->leg_lport;
		scr->route.dport = c->leg_rport;
	} else {
		mpc_xlate_down(c, sf, &scr->pkt.seg, &scr->out, &scr->opt, sa);
		mpc_memcpy(scr->route.src, sf->local, 16);
		mpc_memcpy(scr->route.dst, sf->remote, 16);
		scr->route.sport = sf->lport;
		scr->route.dport = sf->rport;
	}
	return scr->out.verdict;
}

/* the run-record slot of subflow i of connection conn_id in map
 * (mpc_runs_up or mpc_runs_dn), or NULL */
MPC_INLINE struct mpc_runs_slot *runs_slot(void *map, __u32 conn_id, __u32 i)
{
	__u32 key = conn_id * MPC_MAX_SUBFLOWS + (i & (MPC_MAX_SUBFLOWS - 1));

	return bpf_map_lookup_elem(map, &key);
}

/* MPC_CF_MULTI upstream: record what subflow scr->sfi carried */
__noinline int mpc_g_runs_rec(struct mpc_scratch *scr, struct mpc_conn *c,
			      __u32 conn_id)
{
	struct mpc_runs_slot *rs;
	__u32 i;
	int rc;

	if (!scr || !c)
		return 0;
	i = scr->sfi & (MPC_MAX_SUBFLOWS - 1);
	rs = runs_slot(&mpc_runs_up, conn_id, i);
	if (!rs)
		return 0;
	rc = mpc_multi_record(rs, c, &c->sf[i], scr->pkt.seg.seq,
			      scr->out.seq - c->up_off, scr->pkt.seg.paylen);
	if (mpc_multi_reack(rc, &c->sf[i], scr->pkt.seg.seq,
			    scr->pkt.seg.paylen))
		c->sf[i].want_ack = 1;
	return rc;
}

/* the ACK point of subflow i into scr->pts[i] (one verification for all
 * eight), from the leg ACK and SACK (scr->dsn_ack, scr->dsn_sack) */
__noinline int mpc_g_ackpt(struct mpc_scratch *scr, struct mpc_conn *c,
			   __u32 conn_id, __u32 i)
{
	struct mpc_runs_slot *rs;
	struct mpc_multi_pt *out;

	if (!scr || !c)
		return 0;
	i &= MPC_MAX_SUBFLOWS - 1;
	out = &scr->pts[i];
	out->pt = c->sf[i].up_ack;
	out->block = MPC_MB_STALE;
	rs = runs_slot(&mpc_runs_up, conn_id, i);
	if (!rs)
		return 0;
	/* not started yet (the peer sent nothing on the subflow since the
	 * join): start it here, from what the subflow carried before */
	if (rs->tag != mpc_multi_tag(c)) {
		MPC_ATOMIC_ADD(&rs->seq, 1);
		mpc_multi_start(rs, c, c->sf[i].up_ack, c->sf[i].up_nxt,
				c->sf[i].up_off);
		MPC_ATOMIC_ADD(&rs->seq, 1);
	}
	mpc_multi_ack_point(rs, c, &c->sf[i], scr->dsn_ack, scr->dsn_sack,
			    scr->dsn_nb & (MPC_RUNS_SACK_MAX |
					   (MPC_RUNS_SACK_MAX - 1)),
			    out);
	return 0;
}

/* the server's SACK blocks in DSN (scr->dsn_sack, scr->dsn_nb) */
MPC_INLINE void mpc_dsn_sack(struct mpc_scratch *scr, const struct mpc_conn *c)
{
	const struct mpc_seg *s = &scr->pkt.seg;
	__u32 k, nb;

	scr->dsn_nb = 0;
	if (!(s->to.flags & MPC_TO_SACK))
		return;
	nb = s->to.sack_n < MPC_RUNS_SACK_MAX ? s->to.sack_n
					      : MPC_RUNS_SACK_MAX;
	for (k = 0; k < MPC_RUNS_SACK_MAX; k++) {
		if (k >= nb)
			break;
		scr->dsn_sack[k].start =
			mpc_tcpopt_sack_left(s->opts, &s->to, k) - c->up_off;
		scr->dsn_sack[k].end =
			mpc_tcpopt_sack_right(s->opts, &s->to, k) - c->up_off;
	}
	scr->dsn_nb = (__u8)nb;
}

/* the server's SACK blocks as SACK blocks of subflow scr->sfi */
__noinline int mpc_g_sack(struct mpc_scratch *scr, struct mpc_conn *c,
			  __u32 conn_id)
{
	struct mpc_runs_slot *rs;
	__u32 i, k;
	__u64 s1;
	int n;

	if (!scr || !c)
		return 0;
	scr->sfack.n = 0;
	if (!scr->dsn_nb)
		return 0;
	i = scr->sfi & (MPC_MAX_SUBFLOWS - 1);
	rs = runs_slot(&mpc_runs_up, conn_id, i);
	if (!rs)
		return 0;
	if (!mpc_multi_read_begin(rs, c, &s1))
		return 0;
	n = mpc_runs_sack(&rs->q, scr->sfack.ack, scr->dsn_sack,
			  scr->dsn_nb &
				  (MPC_RUNS_SACK_MAX | (MPC_RUNS_SACK_MAX - 1)),
			  scr->sf_sack, MPC_RUNS_SACK_MAX);
	if (!mpc_multi_read_ok(rs, s1))
		return 0;
	for (k = 0; k < MPC_RUNS_SACK_MAX; k++) {
		if ((int)k >= n)
			break;
		scr->sfack.blk[(2 * k) & 7] = scr->sf_sack[k].start;
		scr->sfack.blk[(2 * k + 1) & 7] = scr->sf_sack[k].end;
	}
	scr->sfack.n = (__u8)n;
	return n;
}

struct mpc_pick_ctx {
	struct mpc_scratch *scr;
	struct mpc_conn *c;
	__u32 conn_id;
	__u32 dsn_ack;
	__u32 acks; /* a pure ACK: every subflow's ACK point for the pick */
	struct mpc_multi_pick pick;
};

/* one subflow's ACK point, fed to the pick, and what the scheduler knows
 * of it (bpf_loop: verified once) */
MPC_CALLBACK long mpc_pick_one(__u32 i, void *arg)
{
	struct mpc_pick_ctx *x = arg;
	struct mpc_multi_pt *pt;
	struct mpc_subflow *sf;

	if (i >= MPC_MAX_SUBFLOWS)
		return 1;
	pt = &x->scr->pts[i & (MPC_MAX_SUBFLOWS - 1)];
	sf = &x->c->sf[i & (MPC_MAX_SUBFLOWS - 1)];
	mpc_multi_sched_sf(sf, x->scr->now,
			   &x->scr->sched[i & (MPC_MAX_SUBFLOWS - 1)]);
	if (!x->acks)
		return 0;
	if (!(sf->flags & MPC_SF_ACTIVE)) {
		pt->pt = sf->up_ack;
		pt->block = MPC_MB_NONE;
		return 0;
	}
	mpc_g_ackpt(x->scr, x->c, x->conn_id, i);
	mpc_multi_pick_add(&x->pick, sf, i, pt);
	return 0;
}

/* the scheduler's choice for the server's next `len` bytes (sched.h),
 * over scr->sched[]; when none is usable, a stalled one that may come
 * back (mpc_sched_fallback), else -1 */
__noinline int mpc_g_sched(struct mpc_scratch *scr, __u32 policy, __u32 len)
{
	int k;

	if (!scr)
		return -1;
	k = mpc_sched_pick(scr->sched, MPC_MAX_SUBFLOWS, policy, len ? len : 1);
	if (k < 0)
		k = mpc_sched_fallback(scr->sched, MPC_MAX_SUBFLOWS);
	return k;
}

struct mpc_find_ctx {
	struct mpc_scratch *scr;
	struct mpc_conn *c;
	__u32 conn_id;
	__u32 found; /* subflow, or MPC_MAX_SUBFLOWS */
	__u32 seq;   /* its subflow seq there */
};

/* did subflow i carry the server's resent data? A usable subflow that did
 * ends the search; a stalled one is kept unless a usable one turns up (a
 * reinjected copy). (bpf_loop callback) */
MPC_CALLBACK long mpc_find_one(__u32 i, void *arg)
{
	struct mpc_find_ctx *x = arg;
	struct mpc_runs_slot *rs;
	__u32 k, seq = 0;
	bool usable;

	if (i >= MPC_MAX_SUBFLOWS)
		return 1;
	k = i & (MPC_MAX_SUBFLOWS - 1);
	if (!(x->scr->sched[k].flags & MPC_SCHED_F_ACTIVE))
		return 0;
	usable = mpc_sched_usable(&x->scr->sched[k]);
	if (!usable && x->found < MPC_MAX_SUBFLOWS)
		return 0;
	rs = runs_slot(&mpc_runs_dn, x->conn_id, k);
	if (!rs)
		return 0;
	mpc_multi_dn_begin(rs, x->c, &x->c->sf[k]);
	if (mpc_multi_find(rs, x->c, x->scr->dn_dsn, x->scr->pkt.seg.paylen,
			   &seq)) {
		x->found = k;
		x->seq = seq;
		return usable ? 1 : 0;
	}
	return 0;
}

/* the server's new data on subflow t: its subflow seq into scr->sfack */
__noinline int mpc_g_send(struct mpc_scratch *scr, struct mpc_conn *c,
			  __u32 conn_id, __u32 t)
{
	struct mpc_runs_slot *rs;
	int rc = MPC_RUNS_E_FULL;

	if (!scr || !c)
		return 0;
	t &= MPC_MAX_SUBFLOWS - 1;
	rs = runs_slot(&mpc_runs_dn, conn_id, t);
	if (rs)
		scr->sfack.seq = mpc_multi_send(rs, c, &c->sf[t], scr->dn_dsn,
						scr->pkt.seg.paylen, scr->now,
						&rc);
	else
		scr->sfack.seq = c->sf[t].dn_nxt;
	return rc;
}

/* the server's resent data into the peer's hole on subflow t, if that
 * breaks a circular wait (multi.h mpc_multi_resend_at_hole): its subflow
 * seq into scr->sfack; 1 if so */
__noinline int mpc_g_resend_hole(struct mpc_scratch *scr, struct mpc_conn *c,
				 __u32 conn_id, __u32 t)
{
	struct mpc_runs_slot *rs;
	__u32 seq = 0;

	if (!scr || !c)
		return 0;
	t &= MPC_MAX_SUBFLOWS - 1;
	rs = runs_slot(&mpc_runs_dn, conn_id, t);
	if (!rs || !mpc_multi_resend_at_hole(rs, c, &c->sf[t], scr->dn_dsn,
					     scr->pkt.seg.paylen, &seq))
		return 0;
	scr->sfack.seq = seq;
	if (!c->sf[t].tx_ns)
		c->sf[t].tx_ns = scr->now;
	return 1;
}

/*
 * MPC_CF_MULTI downstream: which subflow this segment goes to, at which
 * subflow seq and with which subflow ACK (multi.h). The server's new data
 * goes where the scheduler says (sched.h, the connection's policy); data
 * it resends goes where it went first if that subflow still works, else
 * it is sent as new data on the scheduler's choice (reinjection); a pure
 * ACK goes where it advances most. Returns an enum mpc_multi_down.
 */
__noinline int mpc_g_down_pick(struct mpc_scratch *scr, struct mpc_conn *c,
			       __u32 conn_id)
{
	struct mpc_find_ctx f;
	struct mpc_pick_ctx x;
	int k, ret = MPC_MD_ACK;
	__u32 t;

	if (!scr || !c)
		return 0;
	x.scr = scr;
	x.c = c;
	x.conn_id = conn_id;
	x.dsn_ack = scr->pkt.seg.ack - c->up_off;
	scr->dsn_ack = x.dsn_ack;
	scr->dn_dsn = scr->pkt.seg.seq + c->down_off;
	mpc_dsn_sack(scr, c);
	/* data goes where the scheduler says: only that subflow's ACK point
	 * is needed (below); a pure ACK is picked by every subflow's */
	x.acks = !scr->pkt.seg.paylen && !(scr->pkt.seg.flags & MPC_TH_FIN);
	mpc_multi_pick_init(&x.pick);
	MPC_LOOP(MPC_MAX_SUBFLOWS, mpc_pick_one, &x);
	if (scr->pkt.seg.paylen) {
		f.scr = scr;
		f.c = c;
		f.conn_id = conn_id;
		f.found = MPC_MAX_SUBFLOWS;
		f.seq = 0;
		k = -1;
		if (mpc_before(scr->dn_dsn, c->down_snd_nxt))
			MPC_LOOP(MPC_MAX_SUBFLOWS, mpc_find_one, &f);
		if (f.found < MPC_MAX_SUBFLOWS &&
		    !mpc_sched_usable(
			    &scr->sched[f.found & (MPC_MAX_SUBFLOWS - 1)])) {
			/* its first subflow stalled: elsewhere if anything
			 * else works (that one may keep a hole, which the
			 * agent fills if it comes back: MPC_SLOW_FILL) */
			k = mpc_sched_pick(scr->sched, MPC_MAX_SUBFLOWS,
					   c->sched, scr->pkt.seg.paylen);
			if (k >= 0)
				f.found = MPC_MAX_SUBFLOWS;
		}
		if (f.found < MPC_MAX_SUBFLOWS) {
			t = f.found & (MPC_MAX_SUBFLOWS - 1);
			scr->sfack.seq = f.seq;
			if (!c->sf[t].tx_ns)
				c->sf[t].tx_ns = scr->now;
			ret = mpc_g_resend_hole(scr, c, conn_id, t)
				      ? MPC_MD_HOLE
				      : MPC_MD_RESENT;
		} else {
			/* the scheduler's choice for this segment, but the
			 * subflow of the previous one keeps it while its
			 * expected arrival is within MPC_MULTI_STICKY_US of
			 * the best: longer runs of contiguous DSNs (fewer
			 * run records), no ping-pong between equal links */
			if (k < 0)
				k = mpc_g_sched(scr, c->sched,
						scr->pkt.seg.paylen);
			t = k < 0 ? 0 : (__u32)k;
			if (mpc_multi_stick(scr->sched, c->dn_cur, t,
					    scr->pkt.seg.paylen))
				t = c->dn_cur & (MPC_MAX_SUBFLOWS - 1);
			ret = MPC_MD_NEW;
			if (mpc_before(scr->dn_dsn, c->down_snd_nxt) &&
			    mpc_g_resend_hole(scr, c, conn_id, t)) {
				ret = MPC_MD_HOLE;
			} else if (mpc_g_send(scr, c, conn_id, t) ==
				   MPC_RUNS_E_FULL) {
				/* sent unrecorded, its loss could never be
				 * repaired: another usable subflow with room
				 * in its records (never a stalled one: after a
				 * failover that sent everything into the dark
				 * link), else dropped (the server resends) */
				scr->sched[t & (MPC_MAX_SUBFLOWS - 1)].flags |=
					MPC_SCHED_F_DOWN;
				k = mpc_sched_pick(scr->sched, MPC_MAX_SUBFLOWS,
						   c->sched,
						   scr->pkt.seg.paylen);
				if (k < 0 || (__u32)k == t ||
				    mpc_g_send(scr, c, conn_id, (__u32)k) ==
					    MPC_RUNS_E_FULL) {
					if (!mpc_multi_blocking(c, scr->dn_dsn))
						return MPC_MD_FULL;
					/* the segment all others wait for:
					 * unrecorded on the first choice */
					ret = MPC_MD_BARE;
					t &= MPC_MAX_SUBFLOWS - 1;
					scr->sfack.seq = mpc_multi_send_head(
						&c->sf[t], scr->pkt.seg.paylen,
						scr->now);
				} else {
					t = (__u32)k & (MPC_MAX_SUBFLOWS - 1);
				}
			}
			c->dn_cur = t;
			if (ret == MPC_MD_NEW &&
			    mpc_before(scr->dn_dsn, c->down_snd_nxt))
				ret = MPC_MD_REINJECTED;
		}
	} else if (scr->pkt.seg.flags & MPC_TH_FIN) {
		/* a DATA_FIN alone: at the head of the subflow the peer sent
		 * on last (multi.h mpc_multi_alive) */
		t = mpc_multi_alive(c);
		scr->sfack.seq = c->sf[t & (MPC_MAX_SUBFLOWS - 1)].dn_nxt;
	} else {
		t = mpc_multi_pick_done(&x.pick, mpc_multi_alive(c));
		scr->sfack.seq = c->sf[t & (MPC_MAX_SUBFLOWS - 1)].dn_nxt;
		if (scr->pts[t & (MPC_MAX_SUBFLOWS - 1)].block == MPC_MB_STALE)
			ret = MPC_MD_ACK_STALE;
	}
	t &= MPC_MAX_SUBFLOWS - 1;
	if (!x.acks)
		mpc_g_ackpt(scr, c, conn_id, t);
	scr->sfi = t;
	scr->sfack.ack = scr->pts[t].pt;
	scr->sfack.seq_fixed = 1;
	scr->sfack.n = 0;
	mpc_g_sack(scr, c, conn_id);
	return ret;
}

struct mpc_upsack_ctx {
	struct mpc_scratch *scr;
	struct mpc_conn *c;
	struct mpc_runs_slot *rs;
	__u32 n;
	__u32 dsack; /* the first block, a D-SACK, mapped by mpc_multi_dsack */
};

/* the peer's SACK block k in leg space (bpf_loop callback) */
MPC_CALLBACK long mpc_upsack_one(__u32 k, void *arg)
{
	struct mpc_upsack_ctx *x = arg;
	struct mpc_scratch *scr = x->scr;
	const struct mpc_seg *s = &scr->pkt.seg;
	struct mpc_seq_block b;
	__u32 j;
	int m;

	if (k >= MPC_RUNS_SACK_MAX || k >= s->to.sack_n ||
	    x->n >= MPC_SF_ACK_SACK_MAX)
		return 1;
	b.start = mpc_tcpopt_sack_left(s->opts, &s->to, k);
	b.end = mpc_tcpopt_sack_right(s->opts, &s->to, k);
	m = mpc_multi_sack_dsn(x->rs, x->c, &b, scr->sf_sack,
			       MPC_RUNS_SACK_MAX);
	/* a D-SACK of a resend, its run record gone */
	if (m <= 0 && k == 0 &&
	    mpc_multi_dsack(&x->c->sf[scr->sfi & (MPC_MAX_SUBFLOWS - 1)], &b,
			    s->ack, x->c->max_data_ack, &scr->sf_sack[0])) {
		m = 1;
		x->dsack = 1;
	}
	for (j = 0; j < MPC_RUNS_SACK_MAX; j++) {
		if ((int)j >= m || x->n >= MPC_SF_ACK_SACK_MAX)
			break;
		scr->upsack.blk[(2 * x->n) & 7] =
			scr->sf_sack[j].start - x->c->down_off;
		scr->upsack.blk[(2 * x->n + 1) & 7] =
			scr->sf_sack[j].end - x->c->down_off;
		x->n++;
	}
	return 0;
}

/*
 * MPC_CF_MULTI upstream: the peer's SACK of our data on subflow scr->sfi
 * (its subflow space) as the leg's SACK (the server's sequence space),
 * through the subflow's down runs, into scr->upsack. Returns 1 when its
 * first block was a D-SACK mapped through the remembered resend
 * (mpc_multi_dsack), else 0.
 */
__noinline int mpc_g_up_sack(struct mpc_scratch *scr, struct mpc_conn *c,
			     __u32 conn_id)
{
	struct mpc_upsack_ctx x;

	if (!scr || !c)
		return 0;
	scr->upsack.n = 0;
	x.rs = runs_slot(&mpc_runs_dn, conn_id, scr->sfi);
	if (!x.rs)
		return 0;
	x.scr = scr;
	x.c = c;
	x.n = 0;
	x.dsack = 0;
	MPC_LOOP(MPC_RUNS_SACK_MAX, mpc_upsack_one, &x);
	scr->upsack.n = (__u8)x.n;
	return x.dsack ? 1 : 0;
}

/*
 * MPC_CF_MULTI, before the translation: downstream, the subflow, its seq
 * and ACK (mpc_g_down_pick); upstream, the peer's SACK in leg space. In
 * global functions, with their counters, so that the verifier follows
 * them once rather than once per path through mpc_main(). Returns 1 when
 * the segment must be dropped (MPC_MD_FULL).
 */
__noinline int mpc_g_multi_pre(struct mpc_scratch *scr, struct mpc_conn *c,
			       __u32 conn_id, struct mpc_stats *st)
{
	int md;

	if (!scr || !c || !st)
		return 0;
	scr->now = bpf_ktime_get_ns();
	scr->upsack.n = 0;
	if (scr->up) {
		if ((scr->pkt.seg.to.flags & MPC_TO_SACK) &&
		    mpc_g_up_sack(scr, c, conn_id))
			st->multi_up_dsack++;
		return 0;
	}
	md = mpc_g_down_pick(scr, c, conn_id);
	/* a resend (below what went out before): the server's recovery
	 * point moves (multi.h mpc_multi_peer_holds) */
	if (scr->pkt.seg.paylen && md != MPC_MD_FULL &&
	    mpc_before(scr->dn_dsn, c->down_snd_nxt) &&
	    mpc_after(scr->dn_dsn + scr->pkt.seg.paylen, c->resent_hi))
		c->resent_hi = scr->dn_dsn + scr->pkt.seg.paylen;
	/* ... and where it went out again, for the peer's D-SACK of it */
	if (md == MPC_MD_RESENT || md == MPC_MD_HOLE)
		mpc_multi_note_resend(&c->sf[scr->sfi & (MPC_MAX_SUBFLOWS - 1)],
				      scr->sfack.seq, scr->dn_dsn,
				      scr->pkt.seg.paylen);
	switch (md) {
	case MPC_MD_ACK_STALE:
		st->multi_ack_stale++;
		break;
	case MPC_MD_RESENT:
		st->multi_dn_resent++;
		break;
	case MPC_MD_REINJECTED:
		st->multi_dn_reinjected++;
		break;
	case MPC_MD_FULL:
		st->multi_dn_full++;
		return 1;
	case MPC_MD_HOLE:
		st->multi_dn_hole++;
		break;
	case MPC_MD_BARE:
		st->multi_dn_bare++;
		break;
	default:
		break;
	}
	if (scr->sfi)
		st->multi_dn_other++;
	return 0;
}

struct mpc_inflight_ctx {
	struct mpc_scratch *scr;
	struct mpc_conn *c;
	__u32 conn_id;
	__u32 dsn;
	__u32 found;
};

/* is the DSN out on subflow i, unacknowledged there? (bpf_loop callback) */
MPC_CALLBACK long mpc_inflight_one(__u32 i, void *arg)
{
	struct mpc_inflight_ctx *x = arg;
	struct mpc_runs_slot *rs;
	struct mpc_subflow *sf;
	__u32 k;

	if (i >= MPC_MAX_SUBFLOWS)
		return 1;
	k = i & (MPC_MAX_SUBFLOWS - 1);
	sf = &x->c->sf[k];
	/* data on a stalled subflow is not on its way: it is lost */
	mpc_multi_sched_sf(sf, x->scr->now, &x->scr->sched[k]);
	if (!mpc_sched_usable(&x->scr->sched[k]))
		return 0;
	rs = runs_slot(&mpc_runs_dn, x->conn_id, k);
	if (rs && mpc_multi_in_flight(rs, x->c, sf, x->dsn)) {
		x->found = 1;
		return 1;
	}
	return 0;
}

/*
 * The peer waits for a DSN that is on none of its subflows (the server's
 * segment was lost before the converter): its subflows have no hole, so
 * it sends no SACK, and the server, with SACK on, would wait for its
 * retransmission timer. Append a SACK with the DSN block the peer holds
 * just below this subflow ACK (mpc_multi_held_block), in leg space; the
 * server's scoreboard collects them ACK by ACK. Returns 1 if written.
 */
__noinline int mpc_g_synth_sack(struct mpc_scratch *scr, struct mpc_conn *c,
				__u32 conn_id)
{
	struct mpc_xlate_out *o;
	struct mpc_runs_slot *rs;
	struct mpc_seq_block b;
	__u32 off;

	if (!scr || !c)
		return 0;
	o = &scr->out;
	off = o->optlen & 0x3c;
	if (off + 12 > MPC_TCPOPT_MAXLEN)
		return 0;
	rs = runs_slot(&mpc_runs_dn, conn_id, scr->sfi);
	if (!rs ||
	    !mpc_multi_held_block(rs, c, scr->pkt.seg.ack, o->data_ack, &b))
		return 0;
	scr->synth[0] = b.start - c->down_off;
	scr->synth[1] = b.end - c->down_off;
	MPC_WR8(o->opts, off, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
	MPC_WR8(o->opts, off + 1, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
	if (mpc_tcpopt_put_sack(o->opts, off + 2, MPC_TCPOPT_MAXLEN, scr->synth,
				1) < 0)
		return 0;
	o->optlen = (__u8)(off + 12);
	return 1;
}

/* the peer holds the DSN of its DATA_ACK (multi.h mpc_multi_peer_holds) */
__noinline int mpc_g_peer_holds(struct mpc_scratch *scr, struct mpc_conn *c,
				__u32 conn_id)
{
	if (!scr || !c)
		return 0;
	return mpc_multi_peer_holds(runs_slot(&mpc_runs_dn, conn_id, scr->sfi),
				    c,
				    &c->sf[scr->sfi & (MPC_MAX_SUBFLOWS - 1)],
				    scr->out.data_ack,
				    (__u32)(scr->now / 1000000));
}

/* the peer's ACK and its lowest SACK left edge above it on subflow sf:
 * the size of the hole there (conn.h sack_lo; mpc_g_resend_hole) */
__noinline int mpc_g_note_sack(struct mpc_scratch *scr, struct mpc_subflow *sf)
{
	const struct mpc_seg *s;
	__u32 k, l, lo;

	if (!scr || !sf)
		return 0;
	s = &scr->pkt.seg;
	lo = s->ack;
	for (k = 0; k < MPC_RUNS_SACK_MAX; k++) {
		if (k >= s->to.sack_n)
			break;
		l = mpc_tcpopt_sack_left(s->opts, &s->to, k);
		if (mpc_after(l, s->ack) && (lo == s->ack || mpc_before(l, lo)))
			lo = l;
	}
	sf->sack_ack = s->ack;
	sf->sack_lo = lo;
	return 0;
}

/*
 * MPC_CF_MULTI upstream, after the translation: the run record of the
 * peer's data, and what its ACK says about our data on the subflow.
 *
 * A pure ACK whose DATA_ACK stands still: if the DSN the peer waits for
 * is out on one of its subflows, this is reordering between subflows (a
 * slower one's data is on its way), and the ACK, moving neither the
 * leg's ACK nor its window and carrying no SACK, is not forwarded
 * (returns 1): every ACK of a faster subflow would otherwise reach the
 * server as a duplicate ACK, and three of them make it retransmit and
 * halve its window. If the DSN is on none (lost before the converter),
 * the ACK is forwarded with a synthesised SACK (mpc_g_synth_sack).
 */
__noinline int mpc_g_multi_up(struct mpc_scratch *scr, struct mpc_conn *c,
			      __u32 conn_id, struct mpc_stats *st)
{
	struct mpc_inflight_ctx x;
	const struct mpc_seg *s;
	struct mpc_subflow *sf;
	int rc;

	if (!scr || !c || !st)
		return 0;
	s = &scr->pkt.seg;
	sf = &c->sf[scr->sfi & (MPC_MAX_SUBFLOWS - 1)];
	if (s->paylen) {
		rc = mpc_g_runs_rec(scr, c, conn_id);
		/* full: sent on unrecorded (multi.h mpc_multi_record) */
		if (rc == MPC_RUNS_E_FULL)
			st->multi_up_unrecorded++;
		else if (rc == MPC_RUNS_E_CONFLICT)
			st->multi_up_conflict++;
		else if (rc == MPC_RUNS_OK)
			st->multi_up_recorded++;
	}
	/* this ACK first: the DSN the peer waits for may be the one it
	 * acknowledges here on this subflow (the server's resend of a leg
	 * loss, filling the hole), and its DATA_ACK has not caught up yet
	 * (Linux moves the data to the MPTCP socket later and sends no ACK
	 * for that alone). Judged by the subflow's previous ACK it would
	 * still be on its way, this ACK held, and the server, in recovery
	 * with nothing else acknowledged, would wait for its RTO: a 1 GiB
	 * download with 1 % loss on the server link crawled at 8 Mbit/s,
	 * one RTO (200 ms) per leg loss. */
	if (s->flags & MPC_TH_ACK) {
		mpc_multi_observe_ack(c, sf, s->ack, s->to.flags & MPC_TO_TS,
				      s->to.tsecr, scr->now);
		mpc_g_note_sack(scr, sf);
		if (!s->paylen && !(scr->out.flags & MPC_TH_FIN) &&
		    mpc_multi_dack_lags(c, scr->out.data_ack)) {
			scr->nudge = 1;
			st->multi_dack_lag++;
		}
	}
	if (!s->paylen && !(scr->out.flags & MPC_TH_FIN) && !scr->out.notify &&
	    (c->flags & MPC_CF_SACK) && !(s->to.flags & MPC_TO_SACK) &&
	    !mpc_after(scr->out.data_ack, c->max_data_ack) &&
	    mpc_before(scr->out.data_ack, c->down_snd_nxt)) {
		x.scr = scr;
		x.c = c;
		x.conn_id = conn_id;
		x.dsn = scr->out.data_ack;
		x.found = 0;
		MPC_LOOP(MPC_MAX_SUBFLOWS, mpc_inflight_one, &x);
		if (!x.found) {
			if (mpc_g_peer_holds(scr, c, conn_id)) {
				/* its DATA_ACK lags: no SACK (multi.h) */
				st->multi_up_lag++;
				if (scr->out.win == c->up_win_last)
					return 1;
			} else if (mpc_g_synth_sack(scr, c, conn_id)) {
				st->multi_up_sack_synth++;
			}
		} else if (scr->out.win == c->up_win_last) {
			st->multi_up_dupack_held++;
			return 1;
		}
	}
	c->up_win_last = scr->out.win;
	return 0;
}

/*
 * MPC_CF_MULTI upstream: the peer's ACK on this subflow stops at a hole
 * (it SACKs data above) whose data, by its DATA_ACK, it has already
 * received on another subflow (resent there while this one stalled). The
 * server will never send those bytes again, and TCP on the peer's side
 * holds everything above the hole: the subflow is stuck for good unless
 * something fills it. scr->fill*: for the agent, which sends that range
 * again with an acknowledged (so discarded) mapping (MPC_SLOW_FILL).
 */
__noinline int mpc_g_hole(struct mpc_scratch *scr, struct mpc_conn *c,
			  __u32 conn_id, struct mpc_stats *st)
{
	const struct mpc_seg *s;
	struct mpc_runs_slot *rs;

	if (!scr || !c || !st)
		return 0;
	scr->fill = 0;
	s = &scr->pkt.seg;
	if (s->paylen || !(s->flags & MPC_TH_ACK) ||
	    !(s->to.flags & MPC_TO_SACK) || !(scr->out.flags & MPC_TH_ACK))
		return 0;
	rs = runs_slot(&mpc_runs_dn, conn_id, scr->sfi);
	if (!rs || !mpc_multi_dead_hole(rs, c, s->ack, scr->out.data_ack,
					&scr->fill_dsn, &scr->fill_len))
		return 0;
	scr->fill = 1;
	st->multi_up_hole++;
	return 1;
}

__noinline int mpc_g_build(struct mpc_scratch *scr)
{
	if (!scr)
		return -1;
	return mpc_build_headers(scr);
}

__noinline int mpc_g_walk(struct mpc_scratch *scr)
{
	if (!scr)
		return -1;
	return mpc_tcpopt_walk(scr->pkt.seg.opts, scr->pkt.seg.optlen,
			       &scr->pkt.seg.to);
}

MPC_INLINE int mpc_main(void *ctx, const bool xdp)
{
	struct mpc_dp_config *cfg;
	struct mpc_scratch *scr;
	struct mpc_stats *st;
	struct mpc_flow *flow;
	struct mpc_conn *conn;
	struct mpc_pkt *p;
	__u32 zero = 0, conn_id, sfi;
	int rc, verdict, held;

	st = bpf_map_lookup_elem(&mpc_stats, &zero);
	scr = bpf_map_lookup_elem(&mpc_scratch_map, &zero);
	if (!st || !scr)
		return ctx_pass(xdp);
	p = &scr->pkt;
	st->rx_packets++;
	st->rx_bytes += ctx_len(ctx, xdp);

	if (!xdp) {
		/* headers must be linear for direct access */
		__u32 want = MPC_MIN(ctx_len(ctx, false), 128);

		if (ctx_data_end(ctx, false) - ctx_data(ctx, false) < want)
			bpf_skb_pull_data(ctx, want);
	}

	rc = mpc_parse(ctx, xdp, p);
	switch (rc) {
	case MPC_PARSE_TCP:
		break;
	case MPC_PARSE_NOT_IP:
		st->pass_not_ip++;
		return ctx_pass(xdp);
	case MPC_PARSE_NOT_TCP:
		st->pass_not_tcp++;
		return ctx_pass(xdp);
	default:
		/* not ours to judge: the kernel drops and counts it too */
		st->malformed++;
		return ctx_pass(xdp);
	}
	if (p->family == 4)
		st->tcp_ipv4++;
	else
		st->tcp_ipv6++;

	rc = mpc_g_walk(scr);
	if (p->seg.to.n_mptcp)
		st->mptcp_option++;

	mpc_memcpy(scr->key.saddr, p->saddr, 16);
	mpc_memcpy(scr->key.daddr, p->daddr, 16);
	scr->key.sport = p->sport;
	scr->key.dport = p->dport;
	scr->key.family = p->family;
	scr->key._pad[0] = scr->key._pad[1] = scr->key._pad[2] = 0;
	flow = bpf_map_lookup_elem(&mpc_flows, &scr->key);
	if (!flow) {
		cfg = bpf_map_lookup_elem(&mpc_config, &zero);
		if (!cfg || !cfg->enabled || !is_service(cfg, p)) {
			if (rc)
				st->malformed++;
			else
				st->pass_not_ours++;
			return ctx_pass(xdp);
		}
		/* the Convert service: SYNs to the agent, nothing else */
		if ((p->seg.flags & (MPC_TH_SYN | MPC_TH_ACK | MPC_TH_RST)) ==
		    MPC_TH_SYN) {
			st->to_agent++;
			st->to_agent_syn++;
			to_agent(ctx, xdp, scr, st, MPC_SLOW_SYN, MPC_NO_CONN,
				 0, 0xff);
			return ctx_drop(xdp);
		}
		/* the third ACK of an MP_JOIN handshake: the agent holds
		 * the pending join (an MP_JOIN ACK option is 24 bytes) */
		if ((p->seg.flags & (MPC_TH_SYN | MPC_TH_ACK | MPC_TH_RST)) ==
			    MPC_TH_ACK &&
		    p->seg.to.n_mptcp &&
		    p->seg.to.mptcp_len[0] == MPC_MPTCPOLEN_JOIN_ACK) {
			st->to_agent++;
			st->to_agent_join++;
			to_agent(ctx, xdp, scr, st, MPC_SLOW_JOIN, MPC_NO_CONN,
				 0, 0xff);
			return ctx_drop(xdp);
		}
		st->service_stray++;
		return drop(xdp, st, MPC_DROP_SERVICE);
	}

	conn_id = flow->conn_id;
	sfi = flow->sf & (MPC_MAX_SUBFLOWS - 1);
	conn = bpf_map_lookup_elem(&mpc_conns, &conn_id);
	if (!conn)
		return drop(xdp, st, MPC_DROP_XLATE_FAIL);
	if (conn->state != MPC_CS_ESTABLISHED &&
	    conn->state != MPC_CS_CLOSING) {
		st->to_agent++;
		to_agent(ctx, xdp, scr, st,
			 conn->state == MPC_CS_DEAD ? MPC_SLOW_CLOSED
						    : MPC_SLOW_HANDSHAKE,
			 conn_id, 0,
			 flow->kind == MPC_FLOW_SUBFLOW ? sfi : 0xff);
		return ctx_drop(xdp);
	}
	if (rc)
		return drop(xdp, st, MPC_DROP_MALFORMED_OPT);
	if (p->vlan || (p->family == 4 && p->ip_hlen != 20))
		return drop(xdp, st, MPC_DROP_UNSUPPORTED);

	/* one subflow carries the server's data until the scheduler */
	scr->up = flow->kind == MPC_FLOW_SUBFLOW;
	scr->sfi = scr->up ? sfi : 0;
	scr->multi = (conn->flags & (MPC_CF_MULTI | MPC_CF_PLAIN)) ==
		     MPC_CF_MULTI;
	if (scr->multi && mpc_g_multi_pre(scr, conn, conn_id, st))
		return drop(xdp, st, MPC_DROP_RUNS_FULL);
	mpc_g_xlate(scr, conn);

	if (scr->out.verdict == MPC_XV_SLOW) {
		st->to_agent++;
		to_agent(ctx, xdp, scr, st, MPC_SLOW_CONTROL, conn_id,
			 scr->out.why,
			 flow->kind == MPC_FLOW_SUBFLOW ? sfi : 0xff);
		return ctx_drop(xdp);
	}
	if (scr->out.verdict == MPC_XV_DROP) {
		st->closed_ack_dropped++;
		return ctx_drop(xdp);
	}
	if (scr->out.notify) {
		st->notify_agent++;
		to_agent(ctx, xdp, scr, st, MPC_SLOW_NOTIFY, conn_id, 0,
			 flow->kind == MPC_FLOW_SUBFLOW ? sfi : 0xff);
	}
	if (scr->out.nonlinear)
		st->nonlinear_map++;
	st->sack_trimmed += scr->out.sack_dropped;

	if (scr->multi && scr->up && mpc_g_hole(scr, conn, conn_id, st))
		to_agent(ctx, xdp, scr, st, MPC_SLOW_FILL, conn_id, 0, sfi);
	scr->nudge = 0;
	held = scr->multi && scr->up && mpc_g_multi_up(scr, conn, conn_id, st);
	if (scr->nudge)
		to_agent(ctx, xdp, scr, st, MPC_SLOW_NUDGE, conn_id, 0, sfi);
	if (held) {
		conn->up_sf_last = sfi;
		mpc_observe_up(conn, &conn->sf[sfi], &p->seg, &scr->out,
			       bpf_ktime_get_coarse_ns());
		return ctx_drop(xdp);
	}
	if (flow->kind == MPC_FLOW_SUBFLOW) {
		if (scr->multi)
			conn->up_sf_last = sfi;
		mpc_observe_up(conn, &conn->sf[sfi], &p->seg, &scr->out,
			       bpf_ktime_get_coarse_ns());
		st->up_xlate++;
		st->up_bytes += p->seg.paylen;
	} else {
		mpc_observe_down(conn,
				 &conn->sf[scr->sfi & (MPC_MAX_SUBFLOWS - 1)],
				 &p->seg, &scr->out, bpf_ktime_get_coarse_ns());
		st->down_xlate++;
		st->down_bytes += p->seg.paylen;
	}

	verdict = ctx_drop(xdp);
	if (mpc_load_old(ctx, xdp, scr) || mpc_g_build(scr) < 0)
		return drop(xdp, st, MPC_DROP_XLATE_FAIL);
	rc = mpc_emit(ctx, xdp, scr, &verdict);
	switch (rc) {
	case MPC_EMIT_SENT:
		return verdict;
	case MPC_EMIT_NEIGH:
		/* XDP without a resolved next hop: the agent sends it */
		st->to_agent++;
		to_agent(ctx, xdp, scr, st, MPC_SLOW_NEIGH, conn_id, 0, 0xff);
		return ctx_drop(xdp);
	case MPC_EMIT_NOROUTE:
		return drop(xdp, st, MPC_DROP_FIB);
	case MPC_EMIT_GSO:
		return drop(xdp, st, MPC_DROP_GSO);
	default:
		return drop(xdp, st, MPC_DROP_XLATE_FAIL);
	}
}

SEC("xdp")
int mpconv_xdp(struct xdp_md *ctx)
{
	return mpc_main(ctx, true);
}

SEC("tc")
int mpconv_tc(struct __sk_buff *skb)
{
	return mpc_main(skb, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
