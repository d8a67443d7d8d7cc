/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * tcpopt.h - the one TCP option walker every part of mpconv uses.
 *
 * Input is the option area of one TCP header: the bytes after the fixed
 * 20-byte header, len = doff * 4 - 20, so 0..40. In BPF the buffer must be
 * MPC_TCPOPT_CAP bytes long (copy the options there with
 * bpf_xdp_load_bytes()/bpf_skb_load_bytes()); on the host any buffer of at
 * least len bytes works.
 *
 * The walker records where each option it knows sits and decodes the
 * fixed-size ones. It does not interpret MPTCP options (mptcp_opt.h does);
 * it records up to MPC_TCPOPT_MAX_MPTCP of them because a segment may carry
 * several (DSS together with ADD_ADDR, for instance).
 *
 * Validity: an option whose length byte is < 2, that runs past the option
 * area, or whose length is not the one its kind defines (RFC 9293 3.2,
 * RFC 7323, RFC 2018, RFC 7413, RFC 8684) makes the walk fail with
 * -MPC_E_TRUNC or -MPC_E_LEN; the fields recorded up to that point stay
 * valid. Unknown kinds are skipped by their length byte.
 */
#ifndef MPCONV_TCPOPT_H
#define MPCONV_TCPOPT_H

#include "compat.h"

#define MPC_TCPOPT_MAXLEN 40 /* doff 15 - 5 words */
#define MPC_TCPOPT_CAP 64
#define MPC_TCPOPT_MASK (MPC_TCPOPT_CAP - 1)
#define MPC_TCPOPT_MAX_MPTCP 4
/* each step consumes >= 1 byte, so 40 steps walk any option area */
#define MPC_TCPOPT_MAX_STEPS MPC_TCPOPT_MAXLEN

enum mpc_tcpopt_kind {
	MPC_TCPOPT_EOL = 0,
	MPC_TCPOPT_NOP = 1,
	MPC_TCPOPT_MSS = 2,
	MPC_TCPOPT_WSCALE = 3,
	MPC_TCPOPT_SACK_PERM = 4,
	MPC_TCPOPT_SACK = 5,
	MPC_TCPOPT_TS = 8,
	MPC_TCPOPT_MPTCP = 30,
	MPC_TCPOPT_FASTOPEN = 34,
	MPC_TCPOPT_EXP = 254, /* RFC 6994 shared experimental option */
};

#define MPC_TCPOLEN_MSS 4
#define MPC_TCPOLEN_WSCALE 3
#define MPC_TCPOLEN_SACK_PERM 2
#define MPC_TCPOLEN_SACK_BLOCK 8
#define MPC_TCPOLEN_TS 10
#define MPC_TCPOLEN_FASTOPEN_MIN 2  /* cookie request */
#define MPC_TCPOLEN_FASTOPEN_MAX 18 /* 16-byte cookie */
#define MPC_TFO_EXID 0xF989	    /* RFC 7413 ExID for kind 254 */
#define MPC_WSCALE_MAX 14	    /* RFC 7323 2.3 */

/* presence bits in mpc_tcpopts.flags */
#define MPC_TO_MSS (1u << 0)
#define MPC_TO_WSCALE (1u << 1)
#define MPC_TO_SACK_PERM (1u << 2)
#define MPC_TO_SACK (1u << 3)
#define MPC_TO_TS (1u << 4)
#define MPC_TO_TFO (1u << 5)
#define MPC_TO_MPTCP (1u << 6)
#define MPC_TO_EOL (1u << 7)
#define MPC_TO_TFO_EXP (1u << 8) /* TFO carried in kind 254/0xF989 */

struct mpc_tcpopts {
	__u16 flags;   /* MPC_TO_* */
	__u16 mss;     /* MSS value, valid with MPC_TO_MSS */
	__u8 wscale;   /* shift count as sent (may exceed 14, see below) */
	__u8 sack_off; /* offset of the first SACK block's left edge */
	__u8 sack_n;   /* number of SACK blocks (1..4) */
	__u8 ts_off;   /* offset of the TS option's kind byte */
	__u32 tsval;
	__u32 tsecr;
	__u8 tfo_off;	 /* offset of the TFO option's kind byte */
	__u8 tfo_len;	 /* cookie length (0 = cookie request) */
	__u8 tfo_cookie; /* offset of the cookie's first byte */
	__u8 n_mptcp;	 /* MPTCP options found (<= MPC_TCPOPT_MAX_MPTCP) */
	__u8 mptcp_off[MPC_TCPOPT_MAX_MPTCP]; /* offset of kind byte */
	__u8 mptcp_len[MPC_TCPOPT_MAX_MPTCP]; /* option length byte */
	__u8 eol_off; /* offset of EOL, valid with MPC_TO_EOL */
	__u8 len;     /* bytes walked (== input len on success) */
	__u8 _pad[2];
};

struct mpc_tcpopt_walk_ctx {
	const __u8 *b;
	struct mpc_tcpopts *o;
	__u32 len;
	__u32 off;
	int rc;
};

/* one option per call; see MPC_LOOP for why this is a callback */
MPC_CALLBACK long mpc_tcpopt_step(__u32 i, void *arg)
{
	struct mpc_tcpopt_walk_ctx *w = arg;
	struct mpc_tcpopts *o = w->o;
	const __u8 *b = w->b;
	__u32 off = w->off, len = w->len;
	__u8 kind, olen;

	if (off >= len || off >= MPC_TCPOPT_MAXLEN)
		return 1;
	kind = MPC_RD8(b, off, MPC_TCPOPT_MASK);
	if (kind == MPC_TCPOPT_EOL) {
		o->flags |= MPC_TO_EOL;
		o->eol_off = off;
		w->off = len; /* the rest is padding by definition */
		return 1;
	}
	if (kind == MPC_TCPOPT_NOP) {
		w->off = off + 1;
		return 0;
	}
	if (off + 2 > len)
		goto trunc;
	olen = MPC_RD8(b, off + 1, MPC_TCPOPT_MASK);
	if (olen < 2)
		goto badlen;
	if (off + olen > len)
		goto trunc;

	switch (kind) {
	case MPC_TCPOPT_MSS:
		if (olen != MPC_TCPOLEN_MSS)
			goto badlen;
		o->flags |= MPC_TO_MSS;
		o->mss = MPC_RD16(b, off + 2, MPC_TCPOPT_MASK);
		break;
	case MPC_TCPOPT_WSCALE:
		if (olen != MPC_TCPOLEN_WSCALE)
			goto badlen;
		o->flags |= MPC_TO_WSCALE;
		o->wscale = MPC_RD8(b, off + 2, MPC_TCPOPT_MASK);
		break;
	case MPC_TCPOPT_SACK_PERM:
		if (olen != MPC_TCPOLEN_SACK_PERM)
			goto badlen;
		o->flags |= MPC_TO_SACK_PERM;
		break;
	case MPC_TCPOPT_SACK:
		if (olen < 2 + MPC_TCPOLEN_SACK_BLOCK ||
		    (olen - 2) % MPC_TCPOLEN_SACK_BLOCK)
			goto badlen;
		o->flags |= MPC_TO_SACK;
		o->sack_off = off + 2;
		o->sack_n = (olen - 2) / MPC_TCPOLEN_SACK_BLOCK;
		break;
	case MPC_TCPOPT_TS:
		if (olen != MPC_TCPOLEN_TS)
			goto badlen;
		o->flags |= MPC_TO_TS;
		o->ts_off = off;
		o->tsval = MPC_RD32(b, off + 2, MPC_TCPOPT_MASK);
		o->tsecr = MPC_RD32(b, off + 6, MPC_TCPOPT_MASK);
		break;
	case MPC_TCPOPT_FASTOPEN:
		/* cookie request (2) or a 4..16-byte even cookie */
		if (olen != MPC_TCPOLEN_FASTOPEN_MIN &&
		    (olen < 6 || olen > MPC_TCPOLEN_FASTOPEN_MAX || (olen & 1)))
			goto badlen;
		o->flags |= MPC_TO_TFO;
		o->tfo_off = off;
		o->tfo_cookie = off + 2;
		o->tfo_len = olen - 2;
		break;
	case MPC_TCPOPT_EXP:
		/* RFC 6994: only ExID 0xF989 (TFO) is understood */
		if (olen < 4 ||
		    MPC_RD16(b, off + 2, MPC_TCPOPT_MASK) != MPC_TFO_EXID)
			break;
		if (olen != 4 && (olen < 8 || olen > 20 || (olen & 1)))
			goto badlen;
		o->flags |= MPC_TO_TFO | MPC_TO_TFO_EXP;
		o->tfo_off = off;
		o->tfo_cookie = off + 4;
		o->tfo_len = olen - 4;
		break;
	case MPC_TCPOPT_MPTCP:
		/* the subtype lives in the third byte */
		if (olen < 3)
			goto badlen;
		o->flags |= MPC_TO_MPTCP;
		if (o->n_mptcp < MPC_TCPOPT_MAX_MPTCP) {
			o->mptcp_off[o->n_mptcp & 3] = off;
			o->mptcp_len[o->n_mptcp & 3] = olen;
			o->n_mptcp++;
		}
		break;
	default:
		break;
	}
	w->off = off + olen;
	return 0;
trunc:
	w->rc = -MPC_E_TRUNC;
	return 1;
badlen:
	w->rc = -MPC_E_LEN;
	return 1;
}

/*
 * Walk the option area. Returns 0 or -MPC_E_TRUNC / -MPC_E_LEN; fields
 * recorded before the bad option stay valid. More than
 * MPC_TCPOPT_MAX_MPTCP MPTCP options is not an error: n_mptcp stops at the
 * cap and the extra ones are skipped (no valid segment carries that many).
 * A window scale above 14 is recorded as sent; RFC 7323 says to use 14.
 */
MPC_INLINE int mpc_tcpopt_walk(const __u8 *b, __u32 len, struct mpc_tcpopts *o)
{
	struct mpc_tcpopt_walk_ctx w = {.b = b, .o = o, .len = len};

	mpc_memset(o, 0, sizeof(*o));
	if (len > MPC_TCPOPT_MAXLEN)
		return -MPC_E_LEN;
	/*
	 * Fast path: Linux puts NOP NOP TS first on every segment of a
	 * connection with timestamps. Taking it here saves three callback
	 * rounds per packet, which were the data path's largest cost (perf
	 * on the translation benchmark: the walker was ~45% of BPF time).
	 */
	if (len >= 12 && MPC_RD32(b, 0, MPC_TCPOPT_MASK) == 0x0101080a) {
		o->flags |= MPC_TO_TS;
		o->ts_off = 2;
		o->tsval = MPC_RD32(b, 4, MPC_TCPOPT_MASK);
		o->tsecr = MPC_RD32(b, 8, MPC_TCPOPT_MASK);
		w.off = 12;
		/* ... then one MPTCP option (a DSS) and at most three NOPs
		 * of padding: the whole area of an MPTCP data segment */
		if (len > 14 &&
		    MPC_RD8(b, 12, MPC_TCPOPT_MASK) == MPC_TCPOPT_MPTCP) {
			__u32 olen = MPC_RD8(b, 13, MPC_TCPOPT_MASK), pad;

			pad = len - 12 - olen;
			if (olen >= 3 && 12 + olen <= len && pad <= 3 &&
			    (pad < 1 ||
			     MPC_RD8(b, 12 + olen, MPC_TCPOPT_MASK) ==
				     MPC_TCPOPT_NOP) &&
			    (pad < 2 ||
			     MPC_RD8(b, 13 + olen, MPC_TCPOPT_MASK) ==
				     MPC_TCPOPT_NOP) &&
			    (pad < 3 ||
			     MPC_RD8(b, 14 + olen, MPC_TCPOPT_MASK) ==
				     MPC_TCPOPT_NOP)) {
				o->flags |= MPC_TO_MPTCP;
				o->n_mptcp = 1;
				o->mptcp_off[0] = 12;
				o->mptcp_len[0] = olen;
				w.off = len;
			}
		}
	}
	if (w.off < len)
		MPC_LOOP(MPC_TCPOPT_MAX_STEPS, mpc_tcpopt_step, &w);
	o->len = w.off;
	return w.rc;
}

/* SACK block k (0-based, k < sack_n): left and right edges */
MPC_INLINE __u32 mpc_tcpopt_sack_left(const __u8 *b,
				      const struct mpc_tcpopts *o, __u32 k)
{
	return MPC_RD32(b, o->sack_off + k * MPC_TCPOLEN_SACK_BLOCK,
			MPC_TCPOPT_MASK);
}

MPC_INLINE __u32 mpc_tcpopt_sack_right(const __u8 *b,
				       const struct mpc_tcpopts *o, __u32 k)
{
	return MPC_RD32(b, o->sack_off + k * MPC_TCPOLEN_SACK_BLOCK + 4,
			MPC_TCPOPT_MASK);
}

/*
 * Builders. Each writes one option at b[off] and returns the bytes
 * written, or -MPC_E_NOSPACE when it would pass cap (cap <= MPC_TCPOPT_CAP).
 * Callers pad the option area to a multiple of 4 with mpc_tcpopt_put_nops().
 */
MPC_INLINE int mpc_tcpopt_put_mss(__u8 *b, __u32 off, __u32 cap, __u16 mss)
{
	if (off + MPC_TCPOLEN_MSS > cap)
		return -MPC_E_NOSPACE;
	MPC_WR8(b, off, MPC_TCPOPT_MASK, MPC_TCPOPT_MSS);
	MPC_WR8(b, off + 1, MPC_TCPOPT_MASK, MPC_TCPOLEN_MSS);
	MPC_WR16(b, off + 2, MPC_TCPOPT_MASK, mss);
	return MPC_TCPOLEN_MSS;
}

MPC_INLINE int mpc_tcpopt_put_wscale(__u8 *b, __u32 off, __u32 cap, __u8 shift)
{
	if (off + MPC_TCPOLEN_WSCALE > cap)
		return -MPC_E_NOSPACE;
	MPC_WR8(b, off, MPC_TCPOPT_MASK, MPC_TCPOPT_WSCALE);
	MPC_WR8(b, off + 1, MPC_TCPOPT_MASK, MPC_TCPOLEN_WSCALE);
	MPC_WR8(b, off + 2, MPC_TCPOPT_MASK, shift);
	return MPC_TCPOLEN_WSCALE;
}

MPC_INLINE int mpc_tcpopt_put_sack_perm(__u8 *b, __u32 off, __u32 cap)
{
	if (off + MPC_TCPOLEN_SACK_PERM > cap)
		return -MPC_E_NOSPACE;
	MPC_WR8(b, off, MPC_TCPOPT_MASK, MPC_TCPOPT_SACK_PERM);
	MPC_WR8(b, off + 1, MPC_TCPOPT_MASK, MPC_TCPOLEN_SACK_PERM);
	return MPC_TCPOLEN_SACK_PERM;
}

MPC_INLINE int mpc_tcpopt_put_ts(__u8 *b, __u32 off, __u32 cap, __u32 tsval,
				 __u32 tsecr)
{
	if (off + MPC_TCPOLEN_TS > cap)
		return -MPC_E_NOSPACE;
	MPC_WR8(b, off, MPC_TCPOPT_MASK, MPC_TCPOPT_TS);
	MPC_WR8(b, off + 1, MPC_TCPOPT_MASK, MPC_TCPOLEN_TS);
	MPC_WR32(b, off + 2, MPC_TCPOPT_MASK, tsval);
	MPC_WR32(b, off + 6, MPC_TCPOPT_MASK, tsecr);
	return MPC_TCPOLEN_TS;
}

/* n <= 4 blocks given as left/right pairs in host order */
MPC_INLINE int mpc_tcpopt_put_sack(__u8 *b, __u32 off, __u32 cap,
				   const __u32 *edges, __u32 n)
{
	__u32 k, olen;

	if (n == 0 || n > 4)
		return -MPC_E_LEN;
	olen = 2 + n * MPC_TCPOLEN_SACK_BLOCK;
	if (off + olen > cap)
		return -MPC_E_NOSPACE;
	MPC_WR8(b, off, MPC_TCPOPT_MASK, MPC_TCPOPT_SACK);
	MPC_WR8(b, off + 1, MPC_TCPOPT_MASK, olen);
	for (k = 0; k < 4; k++) {
		if (k >= n)
			break;
		MPC_WR32(b, off + 2 + k * 8, MPC_TCPOPT_MASK, edges[2 * k]);
		MPC_WR32(b, off + 6 + k * 8, MPC_TCPOPT_MASK, edges[2 * k + 1]);
	}
	return olen;
}

/* NOPs from off up to the next multiple of 4; returns bytes written */
MPC_INLINE int mpc_tcpopt_put_nops(__u8 *b, __u32 off, __u32 cap)
{
	__u32 k, n = (4 - (off & 3)) & 3;

	if (off + n > cap)
		return -MPC_E_NOSPACE;
	for (k = 0; k < 3; k++) {
		if (k >= n)
			break;
		MPC_WR8(b, off + k, MPC_TCPOPT_MASK, MPC_TCPOPT_NOP);
	}
	return n;
}

#endif /* MPCONV_TCPOPT_H */
