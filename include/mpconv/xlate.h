/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlate.h - the translation core: given one parsed segment of a converted
 * connection and its state, compute the translated segment's TCP fields
 * and option area. Pure arithmetic, no packet access, so the same code
 * runs in the data path (bpf/lib/emit.h writes the result into the
 * packet), in the agent (slow-path packets it forwards itself) and in the
 * unit tests (tests/unit/test_xlate.c) by the million.
 *
 * See conn.h for the sequence spaces. Both directions keep window fields
 * unchanged: the converter gave each side the other side's window-scale
 * shift in the handshakes, and MPTCP's window is relative to the DATA_ACK,
 * which maps 1:1 onto the leg's ACK.
 */
#ifndef MPCONV_XLATE_H
#define MPCONV_XLATE_H

#include "compat.h"
#include "conn.h"
#include "mptcp_opt.h"
#include "tcpopt.h"

/* TCP flag bits (13th header byte) */
#define MPC_TH_FIN 0x01
#define MPC_TH_SYN 0x02
#define MPC_TH_RST 0x04
#define MPC_TH_PSH 0x08
#define MPC_TH_ACK 0x10
#define MPC_TH_URG 0x20

/* how far behind the peer's subflow head a pure ACK may sit and keep
 * its distance on the leg (a probe is 1 behind; reordered ACKs more) */
#define MPC_PURE_ACK_SLACK 65535

/* a Convert reply is at most 255 words (RFC 8803 6.1) */
#define MPC_REPLY_MAX 1020

/* what to do with a segment */
enum mpc_xv {
	MPC_XV_FORWARD = 0, /* send the translated segment */
	MPC_XV_SLOW = 1,    /* the agent must handle it; do not forward */
	MPC_XV_DROP = 2,    /* nothing to forward, nobody needs it */
};

/* why (mpc_xlate_out.why), also counted by the data path */
enum mpc_xwhy {
	MPC_XW_NONE = 0,
	MPC_XW_CTRL_FLAGS,   /* SYN/RST, or a subflow FIN: the agent's */
	MPC_XW_MPTCP_CTRL,   /* MP_FASTCLOSE, MP_TCPRST, MP_FAIL, MP_JOIN */
	MPC_XW_INFINITE_MAP, /* infinite mapping: fallback, agent decides */
	MPC_XW_DSS_CSUM,     /* checksummed DSS: not negotiated by us */
	MPC_XW_OPT_SPACE,    /* options do not fit 40 bytes */
};

/* translate() input: one segment, decoded */
struct mpc_seg {
	__u32 seq;
	__u32 ack;
	__u32 paylen;
	__u16 win;
	__u8 flags;  /* MPC_TH_* */
	__u8 optlen; /* option area length (0..40) */
	__u8 opts[MPC_TCPOPT_CAP];
	struct mpc_tcpopts to; /* mpc_tcpopt_walk(opts, optlen) */
};

/* translate() output: the new segment's fields and option area */
struct mpc_xlate_out {
	__u32 seq;
	__u32 ack;
	__u16 win;
	__u8 flags;
	__u8 optlen; /* multiple of 4, <= 40 */
	__u8 opts[MPC_TCPOPT_CAP];
	__u8 verdict; /* enum mpc_xv */
	__u8 why;     /* enum mpc_xwhy */
	__u8 notify;  /* forward AND tell the agent (DATA_FIN, FIN, signals) */
	__u8 nonlinear;	   /* peer mapping disagrees with the linear offsets */
	__u8 sack_dropped; /* SACK blocks that did not fit */
	__u8 _pad[3];
	__u32 new_up_off; /* up, with nonlinear: the peer's new offset */
	__u32 data_ack;	  /* up: DATA_ACK seen (for max_data_ack), 32-bit */
	__u32 end_seq;	  /* seq + paylen (+1 for FIN) of the new segment */
	__u32 fin_dsn;	  /* up: DSN of a forwarded DATA_FIN */
};

/*
 * Downstream with several subflows (MPC_CF_MULTI, multi.h): the subflow
 * ACK and SACK blocks come from the run records, not from the offsets.
 */
#define MPC_SF_ACK_SACK_MAX 4
struct mpc_sf_ack {
	__u32 ack;	/* subflow ACK (peer's subflow space) */
	__u32 seq;	/* with seq_fixed: our subflow seq for a pure ACK */
	__u8 seq_fixed; /* seq is where this segment goes on the subflow (the
			 * scheduler's choice, a retransmission's original
			 * place, or a pure ACK at the subflow's head) */
	__u8 n;		/* SACK blocks in blk */
	__u8 _pad[2];
	__u32 blk[2 * MPC_SF_ACK_SACK_MAX]; /* start, end pairs */
};

/* NOP the bytes [off, off+len) of an option area (len <= 40) */
MPC_INLINE void mpc_opts_nop(__u8 *b, __u32 off, __u32 len)
{
	__u32 k;

	for (k = 0; k < MPC_TCPOPT_MAXLEN; k++) {
		if (k >= len)
			break;
		MPC_WR8(b, off + k, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
	}
}

/* rewrite SACK block edges in place: edge += delta */
MPC_INLINE void mpc_opts_sack_shift(__u8 *b, const struct mpc_tcpopts *to,
				    __u32 delta)
{
	__u32 k, off;

	if (!(to->flags & MPC_TO_SACK))
		return;
	for (k = 0; k < 4; k++) {
		if (k >= to->sack_n)
			break;
		off = to->sack_off + k * MPC_TCPOLEN_SACK_BLOCK;
		MPC_WR32(b, off, MPC_TCPOPT_MASK,
			 MPC_RD32(b, off, MPC_TCPOPT_MASK) + delta);
		MPC_WR32(b, off + 4, MPC_TCPOPT_MASK,
			 MPC_RD32(b, off + 4, MPC_TCPOPT_MASK) + delta);
	}
}

/* what the MPTCP options of one segment say about its data */
struct mpc_seg_mptcp {
	bool has_map;	/* DSS mapping (M) or MP_CAPABLE with data */
	bool has_ack;	/* DATA_ACK present */
	bool data_fin;	/* F */
	bool signal;	/* ADD_ADDR / REMOVE_ADDR / MP_PRIO: forward + notify */
	__u32 map_dsn;	/* 32-bit DSN of the mapping start */
	__u32 map_ssn;	/* relative subflow seq of the mapping start */
	__u32 map_len;	/* data-level length (includes DATA_FIN) */
	__u32 data_ack; /* 32-bit */
	bool cap_data;	/* mapping implied by MP_CAPABLE (first data) */
};

struct mpc_scan_ctx {
	const struct mpc_seg *s;
	struct mpc_seg_mptcp *m;
	struct mpc_mptcp_opt *opt;
	__u32 why;
};

/* one MPTCP option per call (MPC_LOOP: parse branches on the data) */
MPC_CALLBACK long mpc_scan_one(__u32 i, void *arg)
{
	struct mpc_scan_ctx *x = arg;
	const struct mpc_seg *s = x->s;
	struct mpc_seg_mptcp *m = x->m;
	struct mpc_mptcp_opt *o = x->opt;
	__u64 idx = i;

	/* one register for the check and the index (see MPC__OPAQUE) */
	MPC__OPAQUE(idx);
	if (idx >= MPC_TCPOPT_MAX_MPTCP || idx >= s->to.n_mptcp)
		return 1;
	if (mpc_mptcp_parse(s->opts, s->to.mptcp_off[idx], s->optlen, o))
		return 0; /* malformed: ignored, as a peer would */
	switch (o->subtype) {
	case MPC_MP_DSS:
		if (o->flags & MPC_DSS_A) {
			m->has_ack = true;
			m->data_ack = (__u32)o->u.dss.data_ack;
		}
		if (o->flags & MPC_DSS_M) {
			if (o->variant & MPC_DSS_V_CSUM) {
				x->why = MPC_XW_DSS_CSUM;
				return 1;
			}
			if (o->u.dss.dll == 0) {
				x->why = MPC_XW_INFINITE_MAP;
				return 1;
			}
			m->has_map = true;
			m->map_dsn = (__u32)o->u.dss.dsn;
			m->map_ssn = o->u.dss.ssn;
			m->map_len = o->u.dss.dll;
			m->data_fin = !!(o->flags & MPC_DSS_F);
		}
		break;
	case MPC_MP_CAPABLE:
		/* third ACK (keys only) or first data (+ length) */
		if (o->variant == MPC_CAP_DATA) {
			m->has_map = true;
			m->cap_data = true;
			m->map_ssn = 1;
			m->map_len = o->u.cap.dll;
		} else if (o->variant == MPC_CAP_DATA_CSUM) {
			x->why = MPC_XW_DSS_CSUM;
			return 1;
		}
		break;
	case MPC_MP_ADD_ADDR:
	case MPC_MP_REMOVE_ADDR:
	case MPC_MP_PRIO:
		m->signal = true;
		break;
	default:
		/* MP_JOIN, MP_FAIL, MP_FASTCLOSE, MP_TCPRST */
		x->why = MPC_XW_MPTCP_CTRL;
		return 1;
	}
	return 0;
}

/*
 * Find the segment's data mapping and DATA_ACK among its MPTCP options.
 * Returns 0, or an enum mpc_xwhy when the agent must see the segment.
 */
MPC_INLINE int mpc_seg_mptcp_scan(const struct mpc_seg *s,
				  struct mpc_seg_mptcp *m,
				  struct mpc_mptcp_opt *scratch)
{
	struct mpc_scan_ctx x = {.s = s, .m = m, .opt = scratch};

	mpc_memset(m, 0, sizeof(*m));
	/* one MPTCP option (a DSS) is the common case: no loop for it */
	if (s->to.n_mptcp == 1)
		mpc_scan_one(0, &x);
	else if (s->to.n_mptcp)
		MPC_LOOP(MPC_TCPOPT_MAX_MPTCP, mpc_scan_one, &x);
	return (int)x.why;
}

/*
 * The leg is over at the server: both FINs went through and each was
 * acknowledged (the server's by a DATA_ACK we forwarded, ours by the
 * server). The server's socket is then CLOSED (it closed last) or in
 * TIME_WAIT, and answers anything but a repeated FIN with RST.
 */
MPC_INLINE bool mpc_leg_done(const struct mpc_conn *c)
{
	if ((c->flags & (MPC_CF_UP_FIN | MPC_CF_DOWN_FIN)) !=
	    (MPC_CF_UP_FIN | MPC_CF_DOWN_FIN))
		return false;
	return !mpc_before(c->max_leg_ack, c->up_fin_dsn + c->up_off + 1) &&
	       !mpc_before(c->max_data_ack, c->down_fin_dsn + 1);
}

/*
 * Upstream: a segment from the MPTCP peer on subflow sf -> the leg.
 * scratch is caller-provided room for one parsed option (BPF stack). sa:
 * NULL to shift the peer's SACK blocks by the linear offsets (one
 * subflow), else the blocks to write instead, in leg space (sa->blk,
 * sa->n <= the peer's; multi.h mpc_multi_sack_dsn), the rest NOPed.
 */
MPC_INLINE void mpc_xlate_up(const struct mpc_conn *c,
			     const struct mpc_subflow *sf,
			     const struct mpc_seg *s, struct mpc_xlate_out *o,
			     struct mpc_mptcp_opt *scratch,
			     const struct mpc_sf_ack *sa)
{
	struct mpc_seg_mptcp m;
	__u32 dsn, lin, i, why;

	mpc_memset(o, 0, sizeof(*o));
	/* a subflow FIN is the agent's; a plain peer's FIN is the data FIN */
	if ((s->flags & (MPC_TH_SYN | MPC_TH_RST)) ||
	    ((s->flags & MPC_TH_FIN) && !(c->flags & MPC_CF_PLAIN))) {
		o->verdict = MPC_XV_SLOW;
		o->why = MPC_XW_CTRL_FLAGS;
		return;
	}
	why = mpc_seg_mptcp_scan(s, &m, scratch);
	if (why) {
		o->verdict = MPC_XV_SLOW;
		o->why = why;
		return;
	}

	/* DSN of the first payload byte. The peer's DATA_FIN took a DSN
	 * but no subflow sequence number: past it, subflow positions map one
	 * DSN further (else the leg sees seq = FIN seq, out of window). */
	lin = s->seq - sf->up_off;
	if ((c->flags & (MPC_CF_UP_FIN | MPC_CF_PLAIN)) == MPC_CF_UP_FIN &&
	    !mpc_before(lin, c->up_fin_dsn))
		lin++;
	dsn = lin;
	if (m.has_map && !m.cap_data) {
		__u32 rel = s->seq - sf->irs_base;

		if (s->paylen || !m.data_fin) {
			dsn = m.map_dsn + (rel - m.map_ssn);
			/* the peer sent data at a new subflow position for it
			 * (MPTCP-level retransmission, window probe): if this
			 * is new subflow data (at the peer's subflow head),
			 * its subflow maps with the new offset from here on,
			 * and the data path stores it in sf->up_off. Old
			 * subflow data (a TCP retransmission of a segment
			 * sent before the remap) changes nothing. */
			o->nonlinear =
				dsn != lin &&
				!mpc_before(s->seq + s->paylen, sf->up_nxt);
			o->new_up_off = s->seq - dsn;
		} else { /* DATA_FIN alone: ssn 0, length 1 */
			dsn = m.map_dsn + m.map_len - 1;
		}
	}
	o->seq = dsn + c->up_off;
	/* a segment that carries nothing for the leg (pure ACK, window
	 * update, zero-window probe) goes where it stands relative to the
	 * peer's subflow head, counted from the leg's head: after a remap
	 * its subflow position says nothing reliable about DSNs, and a probe
	 * one byte behind the head must stay one byte behind (out of the
	 * server's window, so that it answers) */
	if (!s->paylen && !m.data_fin && !(s->flags & MPC_TH_FIN) &&
	    c->leg_snd_nxt) {
		__u32 behind = sf->up_nxt - s->seq;

		if (!sf->up_nxt || mpc_after(s->seq, sf->up_nxt) ||
		    behind > MPC_PURE_ACK_SLACK)
			behind = 0;
		o->seq = c->leg_snd_nxt - behind;
	}
	o->end_seq = o->seq + s->paylen;
	o->flags = s->flags & (MPC_TH_ACK | MPC_TH_PSH | MPC_TH_URG);
	o->win = s->win;

	/* a DATA_FIN at the end of this segment becomes the leg's FIN */
	if ((m.data_fin && m.map_dsn + m.map_len - 1 == dsn + s->paylen) ||
	    (s->flags & MPC_TH_FIN)) {
		o->flags |= MPC_TH_FIN;
		o->fin_dsn = dsn + s->paylen;
		o->end_seq++;
		o->notify = 1;
	}

	/* the leg ACK is what the peer acknowledged at the data level */
	if (m.has_ack)
		o->data_ack = m.data_ack;
	else if (c->flags & MPC_CF_MULTI)
		/* no DATA_ACK (Linux leaves the DSS out beside ADD_ADDR,
		 * REMOVE_ADDR and MP_PRIO on a pure ACK): with several
		 * subflows a subflow ACK says nothing about the data level.
		 * Mapped through down_off it once exceeded the peer's
		 * DATA_ACK by 283 KB after a subflow that carried resends
		 * (an ADD_ADDR echo): the server freed data the peer never
		 * got and the connection stalled for good. */
		o->data_ack = c->max_data_ack;
	else /* MP_CAPABLE ACK, plain peer: its subflow ACK, mapped */
		o->data_ack = s->ack - sf->down_off;
	o->ack = o->data_ack - c->down_off;
	/* never acknowledge below the server's SYN: a DATA_ACK inside the
	 * Convert reply (at most 1020 bytes before its end; "before" alone
	 * would also match every DATA_ACK 2^31 bytes later) */
	if (mpc_before(o->data_ack, c->reply_end) &&
	    c->reply_end - o->data_ack <= MPC_REPLY_MAX)
		o->ack = c->leg_irs + 1;
	if (m.signal)
		o->notify = 1;
	/* a Linux MPTCP peer acknowledges the server's DATA_FIN more than
	 * once (subflow ACK, then a DATA_ACK update); the first closes the
	 * server's socket, each later one would draw a RST */
	if (!s->paylen && !(o->flags & MPC_TH_FIN) && !o->notify &&
	    mpc_leg_done(c)) {
		o->verdict = MPC_XV_DROP;
		return;
	}

	/* options: MPTCP out, SACK into leg space, the rest as sent */
	o->optlen = s->optlen;
	mpc_memcpy(o->opts, s->opts, MPC_TCPOPT_CAP);
	for (i = 0; i < MPC_TCPOPT_MAX_MPTCP; i++) {
		if (i >= s->to.n_mptcp)
			break;
		mpc_opts_nop(o->opts, s->to.mptcp_off[i & 3],
			     s->to.mptcp_len[i & 3]);
	}
	if (sa && (s->to.flags & MPC_TO_SACK)) {
		__u32 n = sa->n < s->to.sack_n ? sa->n : s->to.sack_n;

		if (n > MPC_SF_ACK_SACK_MAX)
			n = MPC_SF_ACK_SACK_MAX;
		for (i = 0; i < 2 * MPC_SF_ACK_SACK_MAX; i++) {
			if (i >= 2 * n)
				break;
			MPC_WR32(o->opts, s->to.sack_off + i * 4,
				 MPC_TCPOPT_MASK, sa->blk[i]);
		}
		if (!n) /* the whole option: kind, length, blocks */
			mpc_opts_nop(o->opts, s->to.sack_off - 2,
				     2 + s->to.sack_n * MPC_TCPOLEN_SACK_BLOCK);
		else if (n < s->to.sack_n) {
			MPC_WR8(o->opts, s->to.sack_off - 1, MPC_TCPOPT_MASK,
				2 + n * MPC_TCPOLEN_SACK_BLOCK);
			mpc_opts_nop(
				o->opts,
				s->to.sack_off + n * MPC_TCPOLEN_SACK_BLOCK,
				(s->to.sack_n - n) * MPC_TCPOLEN_SACK_BLOCK);
		}
	} else {
		mpc_opts_sack_shift(o->opts, &s->to,
				    -sf->down_off - c->down_off);
	}
	if ((s->to.flags & MPC_TO_TS) && (c->flags & MPC_CF_MULTI)) {
		__u32 tsv = s->to.tsval + sf->ts_off;

		/* subflow clocks are aligned only roughly: never backwards */
		if (mpc_before(tsv, c->leg_tsval_hi))
			tsv = c->leg_tsval_hi;
		MPC_WR32(o->opts, s->to.ts_off + 2, MPC_TCPOPT_MASK, tsv);
		/* the echo follows the leg's ACK, not this subflow's
		 * (conn.h leg_ts_recent) */
		if (c->leg_ts_recent)
			MPC_WR32(o->opts, s->to.ts_off + 6, MPC_TCPOPT_MASK,
				 c->leg_ts_recent);
	} else if ((s->to.flags & MPC_TO_TS) && sf->ts_off) {
		MPC_WR32(o->opts, s->to.ts_off + 2, MPC_TCPOPT_MASK,
			 s->to.tsval + sf->ts_off);
	}
	o->verdict = MPC_XV_FORWARD;
}

/*
 * Downstream: a segment from the TCP peer -> subflow sf of the MPTCP peer.
 * Plain-TCP peers (MPC_CF_PLAIN) get the same offsets without a DSS. sa:
 * NULL for the linear offsets (one subflow), else the subflow's ACK and
 * SACK blocks from the run records (multi.h).
 */
MPC_INLINE void mpc_xlate_down(const struct mpc_conn *c,
			       const struct mpc_subflow *sf,
			       const struct mpc_seg *s, struct mpc_xlate_out *o,
			       struct mpc_mptcp_opt *dss,
			       const struct mpc_sf_ack *sa)
{
	__u32 dsn, off = 0, room, n, k, edges_off;
	bool fin = s->flags & MPC_TH_FIN;
	int w;

	mpc_memset(o, 0, sizeof(*o));
	if (s->flags & (MPC_TH_SYN | MPC_TH_RST)) {
		o->verdict = MPC_XV_SLOW;
		o->why = MPC_XW_CTRL_FLAGS;
		return;
	}
	/* the server repeats its FIN although the peer DATA_ACKed it: our
	 * leg ACK was lost; the agent acknowledges it (the peer needs
	 * nothing more) */
	if (fin && mpc_leg_done(c)) {
		o->verdict = MPC_XV_SLOW;
		o->why = MPC_XW_CTRL_FLAGS;
		return;
	}
	dsn = s->seq + c->down_off;
	o->seq = dsn + sf->down_off;
	/* our DATA_FIN took a DSN but no subflow sequence number */
	if ((c->flags & (MPC_CF_DOWN_FIN | MPC_CF_PLAIN)) == MPC_CF_DOWN_FIN &&
	    mpc_after(dsn, c->down_fin_dsn))
		o->seq--;
	o->end_seq = o->seq + s->paylen;
	o->data_ack = s->ack - c->up_off;
	o->ack = o->data_ack + sf->up_off;
	/* the peer's DATA_FIN took a DSN but no subflow sequence number:
	 * acknowledging it at subflow level would ACK unsent data, and
	 * Linux drops such segments whole */
	if ((c->flags & (MPC_CF_UP_FIN | MPC_CF_PLAIN)) == MPC_CF_UP_FIN &&
	    mpc_after(o->data_ack, c->up_fin_dsn))
		o->ack--;
	/* and never beyond what the peer sent on this subflow (after a
	 * partial re-send the offset can overshoot; Linux drops segments
	 * that acknowledge unsent data, payload and all) */
	if (sf->up_nxt && mpc_after(o->ack, sf->up_nxt))
		o->ack = sf->up_nxt;
	if (sa) {
		o->ack = sa->ack;
		if (sa->seq_fixed) {
			o->seq = sa->seq;
			o->end_seq = sa->seq + s->paylen;
		}
	}
	o->win = s->win;
	o->flags = s->flags & (MPC_TH_ACK | MPC_TH_PSH | MPC_TH_URG);
	if (fin)
		o->notify = 1;

	/* NOP NOP TS first, echoing in this subflow's clock: with joins
	 * what the peer sent here (conn.h ts_recent), not the server's echo
	 * of whichever subflow's clock the leg carried */
	if (s->to.flags & MPC_TO_TS) {
		__u32 ecr = s->to.tsecr - sf->ts_off;

		if ((c->flags & MPC_CF_MULTI) && sf->ts_recent)
			ecr = sf->ts_recent;
		MPC_WR8(o->opts, 0, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
		MPC_WR8(o->opts, 1, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
		mpc_tcpopt_put_ts(o->opts, 2, MPC_TCPOPT_MAXLEN, s->to.tsval,
				  ecr);
		off = 12;
	}

	if (c->flags & MPC_CF_PLAIN) {
		/* plain TCP peer: its FIN is the server's FIN */
		if (fin) {
			o->flags |= MPC_TH_FIN;
			o->end_seq++;
		}
	} else {
		/* DSS: DATA_ACK always, mapping with data or DATA_FIN */
		mpc_memset(dss, 0, sizeof(*dss));
		dss->subtype = MPC_MP_DSS;
		dss->flags = MPC_DSS_A;
		dss->u.dss.data_ack = o->data_ack;
		if (s->paylen || fin) {
			dss->flags |= MPC_DSS_M;
			dss->u.dss.dsn = dsn;
			dss->u.dss.ssn = s->paylen ? o->seq - sf->iss : 0;
			dss->u.dss.dll = (__u16)(s->paylen + (fin ? 1 : 0));
			if (fin)
				dss->flags |= MPC_DSS_F;
		}
		w = mpc_mptcp_build(o->opts, off, MPC_TCPOPT_MAXLEN, dss);
		if (w < 0) {
			o->verdict = MPC_XV_SLOW;
			o->why = MPC_XW_OPT_SPACE;
			return;
		}
		off += w;
	}

	/* SACK blocks into the peer's subflow space, as many as fit */
	if (sa) {
		off += mpc_tcpopt_put_nops(o->opts, off, MPC_TCPOPT_MAXLEN);
		room = off + 4 <= MPC_TCPOPT_MAXLEN
			       ? MPC_TCPOPT_MAXLEN - off - 4
			       : 0;
		n = room / MPC_TCPOLEN_SACK_BLOCK;
		if (n > sa->n)
			n = sa->n;
		if (n > MPC_SF_ACK_SACK_MAX)
			n = MPC_SF_ACK_SACK_MAX;
		o->sack_dropped = sa->n > n ? sa->n - n : 0;
		if (n) {
			MPC_WR8(o->opts, off, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
			MPC_WR8(o->opts, off + 1, MPC_TCPOPT_MASK,
				MPC_TCPOPT_NOP);
			w = mpc_tcpopt_put_sack(o->opts, off + 2,
						MPC_TCPOPT_MAXLEN, sa->blk, n);
			if (w > 0)
				off += 2 + (__u32)w;
		}
	} else if (s->to.flags & MPC_TO_SACK) {
		off += mpc_tcpopt_put_nops(o->opts, off, MPC_TCPOPT_MAXLEN);
		room = off + 4 <= MPC_TCPOPT_MAXLEN
			       ? MPC_TCPOPT_MAXLEN - off - 4
			       : 0;
		n = room / MPC_TCPOLEN_SACK_BLOCK;
		if (n > s->to.sack_n)
			n = s->to.sack_n;
		o->sack_dropped = s->to.sack_n - n;
		if (n) {
			MPC_WR8(o->opts, off, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
			MPC_WR8(o->opts, off + 1, MPC_TCPOPT_MASK,
				MPC_TCPOPT_NOP);
			MPC_WR8(o->opts, off + 2, MPC_TCPOPT_MASK,
				MPC_TCPOPT_SACK);
			MPC_WR8(o->opts, off + 3, MPC_TCPOPT_MASK,
				2 + n * MPC_TCPOLEN_SACK_BLOCK);
			edges_off = off + 4;
			for (k = 0; k < 8; k++) {
				__u32 e;

				if (k >= n * 2)
					break;
				e = MPC_RD32(s->opts, s->to.sack_off + k * 4,
					     MPC_TCPOPT_MASK) -
				    c->up_off;
				if ((c->flags &
				     (MPC_CF_UP_FIN | MPC_CF_PLAIN)) ==
					    MPC_CF_UP_FIN &&
				    mpc_after(e, c->up_fin_dsn))
					e--;
				e += sf->up_off;
				/* like the ACK: never past what the peer sent
				 * (an emptied block is ignored by receivers) */
				if (sf->up_nxt && mpc_after(e, sf->up_nxt))
					e = sf->up_nxt;
				MPC_WR32(o->opts, edges_off + k * 4,
					 MPC_TCPOPT_MASK, e);
			}
			off = edges_off + n * MPC_TCPOLEN_SACK_BLOCK;
		}
	}
	off += mpc_tcpopt_put_nops(o->opts, off, MPC_TCPOPT_MAXLEN);
	o->optlen = off;
	o->verdict = MPC_XV_FORWARD;
}

/*
 * What the data path records after forwarding a translated segment: the
 * observation fields of struct mpc_conn (see conn.h on who writes what).
 * Shared with the unit tests, which drive connections through exactly
 * these updates. now_ns: bpf_ktime_get_coarse_ns() in BPF.
 */
MPC_INLINE void mpc_observe_up(struct mpc_conn *c, struct mpc_subflow *sf,
			       const struct mpc_seg *s,
			       const struct mpc_xlate_out *o, __u64 now_ns)
{
	/* what the peer sent on the subflow: a plain peer's FIN takes a
	 * sequence number there (an MPTCP peer's subflow FIN is the agent's) */
	__u32 sf_end = s->seq + s->paylen +
		       ((s->flags & MPC_TH_FIN) && (c->flags & MPC_CF_PLAIN));

	/* one writer per subflow in practice: the CPU its packets hash to */
	if (o->nonlinear)
		sf->up_off = o->new_up_off;
	if (!sf->up_nxt || mpc_after(sf_end, sf->up_nxt))
		sf->up_nxt = sf_end;
	MPC_ATOMIC_ADD(&c->up_bytes, s->paylen);
	MPC_ATOMIC_ADD(&c->up_pkts, 1);
	MPC_ATOMIC_ADD(&sf->up_bytes, s->paylen);
	/* the peer's subflow ACK of our data (with joins: multi.h
	 * mpc_multi_observe_ack, which also samples RTT and rate) */
	if (!(c->flags & MPC_CF_MULTI) && (s->flags & MPC_TH_ACK) &&
	    mpc_after(s->ack, sf->dn_una) && !mpc_after(s->ack, sf->dn_nxt))
		sf->dn_una = s->ack;
	c->last_up_ns = now_ns;
	if (mpc_after(o->data_ack, c->max_data_ack))
		c->max_data_ack = o->data_ack;
	if (mpc_after(o->end_seq, c->leg_snd_nxt))
		c->leg_snd_nxt = o->end_seq;
	if (!(c->flags & MPC_CF_REPLY_ACKED) &&
	    !mpc_before(o->data_ack, c->reply_end))
		MPC_ATOMIC_OR(&c->flags, MPC_CF_REPLY_ACKED);
	if ((o->flags & MPC_TH_FIN) && !(c->flags & MPC_CF_UP_FIN)) {
		c->up_fin_dsn = o->fin_dsn;
		MPC_ATOMIC_OR(&c->flags, MPC_CF_UP_FIN);
	}
	/* RFC 7323 4.3: TS.Recent from a segment at or below the last ACK
	 * we sent here (up_ack, 0 before the first), never backwards */
	if ((s->to.flags & MPC_TO_TS) &&
	    (!sf->up_ack || !mpc_after(s->seq, sf->up_ack)) &&
	    (!sf->ts_recent || !mpc_before(s->to.tsval, sf->ts_recent)))
		sf->ts_recent = s->to.tsval;
	/* the first subflow's clock: the agent's segments go there */
	if ((s->to.flags & MPC_TO_TS) && sf == &c->sf[0] &&
	    mpc_after(s->to.tsval, c->up_tsval))
		c->up_tsval = s->to.tsval;
	if ((s->to.flags & MPC_TO_TS) && (c->flags & MPC_CF_MULTI) &&
	    mpc_after(s->to.tsval + sf->ts_off, c->leg_tsval_hi))
		c->leg_tsval_hi = s->to.tsval + sf->ts_off;
}

MPC_INLINE void mpc_observe_down(struct mpc_conn *c, struct mpc_subflow *sf,
				 const struct mpc_seg *s,
				 const struct mpc_xlate_out *o, __u64 now_ns)
{
	__u32 dsn_end = s->seq + c->down_off + s->paylen;

	/* what this subflow got: one writer, the CPU of the server's
	 * packets; the upstream writer releases run records below up_ack */
	if (!sf->up_ack || mpc_after(o->ack, sf->up_ack))
		sf->up_ack = o->ack;
	if (sf->want_ack)
		sf->want_ack = 0;
	if (!sf->dn_nxt || mpc_after(o->end_seq, sf->dn_nxt))
		sf->dn_nxt = o->end_seq;
	MPC_ATOMIC_ADD(&sf->down_bytes, s->paylen);
	MPC_ATOMIC_ADD(&sf->acks, 1);

	MPC_ATOMIC_ADD(&c->down_bytes, s->paylen);
	MPC_ATOMIC_ADD(&c->down_pkts, 1);
	c->last_down_ns = now_ns;
	if ((s->flags & MPC_TH_ACK) && mpc_after(s->ack, c->max_leg_ack))
		c->max_leg_ack = s->ack;
	if (s->flags & MPC_TH_FIN) {
		if (!(c->flags & MPC_CF_DOWN_FIN)) {
			c->down_fin_dsn = dsn_end;
			MPC_ATOMIC_OR(&c->flags, MPC_CF_DOWN_FIN);
		}
		dsn_end++;
	}
	if (mpc_after(dsn_end, c->down_snd_nxt))
		c->down_snd_nxt = dsn_end;
	if ((s->to.flags & MPC_TO_TS) && mpc_after(s->to.tsval, c->down_tsval))
		c->down_tsval = s->to.tsval;
	/* RFC 7323 4.3 on the leg: a segment at or below the leg ACK we last
	 * sent, never backwards (conn.h leg_ts_recent) */
	if ((s->to.flags & MPC_TO_TS) &&
	    !mpc_after(s->seq, c->max_data_ack - c->down_off) &&
	    (!c->leg_ts_recent || !mpc_before(s->to.tsval, c->leg_ts_recent)))
		c->leg_ts_recent = s->to.tsval;
}

#endif /* MPCONV_XLATE_H */
