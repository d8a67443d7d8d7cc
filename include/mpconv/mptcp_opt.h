/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * mptcp_opt.h - parse and build every MPTCP v1 option (RFC 8684 section 3).
 *
 * Input is the TCP option-area buffer that tcpopt.h walks (in BPF exactly
 * MPC_TCPOPT_CAP bytes, on the host any buffer of at least len bytes) and
 * the offset of the option's kind byte, as mpc_tcpopt_walk() reports it in
 * mptcp_off[]:
 *
 *   int mpc_mptcp_parse(b, off, len, &o)  0 or -MPC_E_*
 *   int mpc_mptcp_build(b, off, cap, &o)  bytes written or -MPC_E_*
 *   int mpc_mptcp_len(&o)                 encoded length or -MPC_E_FIELD
 *   __u32 mpc_dss_len(flags, csum)        DSS length for these flags
 *   __u32 mpc_add_addr_len(variant, flags) ADD_ADDR length
 *
 * Representation (struct mpc_mptcp_opt):
 *  - subtype: enum mpc_mptcp_subtype;
 *  - variant: what the length told (enum mpc_cap_variant, enum
 *    mpc_join_variant, MPC_DSS_V_* / MPC_ADDR_V_* bits, 0 elsewhere);
 *  - flags: the header bits after the subtype nibble that are not a data
 *    field, verbatim from the wire, reserved bits included:
 *      MP_CAPABLE                         byte 3 (A B C D E F G H)
 *      DSS, MP_FAIL, MP_FASTCLOSE,
 *      MP_JOIN ACK                        the 12 bits after the subtype
 *      MP_JOIN SYN/SYN-ACK, ADD_ADDR,
 *      REMOVE_ADDR, MP_PRIO, MP_TCPRST    the low nibble of byte 2
 *    Keeping reserved bits (which receivers must ignore) is what makes
 *    build(parse(x)) == x for every accepted x, so a converter can rewrite
 *    one field and forward the rest untouched. Use the MPC_*_ flag macros
 *    to test the defined bits.
 *  - len: the option length; set by parse, ignored by build;
 *  - u: per-subtype fields. Integers are host order (keys, tokens, nonces,
 *    DSNs, ports, checksums as the 16-bit big-endian value). Addresses and
 *    HMACs are byte strings in wire order (IPv4 in addr[0..3]).
 *
 * Parse validates structure only; cross-checks with the TCP header (SYN/ACK
 * flags for MP_CAPABLE and MP_JOIN, RST for MP_TCPRST), with connection
 * state (negotiated checksum vs. DSS length) and policy (MP_CAPABLE B=1,
 * which RFC 8684 3.1 says to ignore when not understood; unknown crypto
 * bits) are the caller's. It zeroes
 * *o first, so accepted options compare equal with memcmp(). Errors:
 *   -MPC_E_TRUNC    the option (or its kind/length bytes) runs past len;
 *   -MPC_E_LEN      a length no encoding of the subtype (with these flags)
 *                   has; len > MPC_TCPOPT_CAP; length < 3 or > 40;
 *   -MPC_E_FIELD    a forbidden value: MP_CAPABLE with no crypto bit (D-H
 *                   all 0, "MUST be treated as invalid", RFC 8684 3.1),
 *                   REMOVE_ADDR without Address IDs;
 *   -MPC_E_VERSION  MP_CAPABLE version != 1; o->subtype, o->len, o->flags
 *                   and o->u.cap.version are filled in so that a caller
 *                   can do RFC 8684 3.1 version negotiation on a SYN;
 *   -MPC_E_UNKNOWN  kind byte not 30, or subtype 0x9..0xf.
 * On any other error *o holds what was decoded so far; do not use it.
 *
 * RFC 8684 ADD_ADDR has no IPVer field (that was RFC 6824, MPTCP v0): the
 * family follows from the length, and the three bits before E are reserved
 * ("MUST be ignored by the receiver"), so they are kept in flags and never
 * rejected.
 *
 * Build writes exactly mpc_mptcp_len(o) bytes at b[off] and fails with
 * -MPC_E_NOSPACE when off + that > cap (cap is clamped to MPC_TCPOPT_CAP)
 * or -MPC_E_FIELD when *o cannot be encoded: unknown subtype or variant,
 * flags wider than their field, MP_CAPABLE version != 1 or no crypto bit,
 * REMOVE_ADDR with 0 or more than MPC_RM_ADDR_MAX IDs. Fields the variant
 * does not carry are ignored; a DSS value sent as 4 bytes (a or m clear) is
 * written as its low 32 bits (RFC 8684 3.3.1 allows sending the low half);
 * the DSS checksum is written only when M is set. It does not pad: callers
 * add NOPs with mpc_tcpopt_put_nops().
 */
#ifndef MPCONV_MPTCP_OPT_H
#define MPCONV_MPTCP_OPT_H

#include "compat.h"
#include "tcpopt.h"

#define MPC_MPTCP_VERSION 1

enum mpc_mptcp_subtype {
	MPC_MP_CAPABLE = 0x0,
	MPC_MP_JOIN = 0x1,
	MPC_MP_DSS = 0x2,
	MPC_MP_ADD_ADDR = 0x3,
	MPC_MP_REMOVE_ADDR = 0x4,
	MPC_MP_PRIO = 0x5,
	MPC_MP_FAIL = 0x6,
	MPC_MP_FASTCLOSE = 0x7,
	MPC_MP_TCPRST = 0x8,
	MPC_MP_EXPERIMENTAL = 0xf, /* private use: parse says UNKNOWN */
};

/* option lengths (RFC 8684 section 3) */
#define MPC_MPTCPOLEN_MIN 3 /* kind, length, subtype nibble */
#define MPC_MPTCPOLEN_CAP_SYN 4
#define MPC_MPTCPOLEN_CAP_SYNACK 12
#define MPC_MPTCPOLEN_CAP_ACK 20
#define MPC_MPTCPOLEN_CAP_DATA 22
#define MPC_MPTCPOLEN_CAP_DATA_CSUM 24
#define MPC_MPTCPOLEN_JOIN_SYN 12
#define MPC_MPTCPOLEN_JOIN_SYNACK 16
#define MPC_MPTCPOLEN_JOIN_ACK 24
#define MPC_MPTCPOLEN_DSS_BASE 4
#define MPC_MPTCPOLEN_DSS_MAX 28
#define MPC_MPTCPOLEN_ADD_ADDR_BASE 4 /* + addr [+ port] [+ HMAC] */
#define MPC_MPTCPOLEN_RM_ADDR_BASE 3  /* + one byte per ID */
#define MPC_MPTCPOLEN_PRIO 3
#define MPC_MPTCPOLEN_FAIL 12
#define MPC_MPTCPOLEN_FASTCLOSE 12
#define MPC_MPTCPOLEN_TCPRST 4

/* the most Address IDs one REMOVE_ADDR can carry in a 40-byte area */
#define MPC_RM_ADDR_MAX (MPC_TCPOPT_MAXLEN - MPC_MPTCPOLEN_RM_ADDR_BASE)
#define MPC_JOIN_HMAC_LEN 20	/* MP_JOIN ACK: leftmost 160 bits */
#define MPC_JOIN_THMAC_LEN 8	/* MP_JOIN SYN/ACK: leftmost 64 bits */
#define MPC_ADD_ADDR_HMAC_LEN 8 /* ADD_ADDR: rightmost 64 bits */

/* widths of the flags field */
#define MPC_MPTCP_FLAGS_NIBBLE 0x00fu
#define MPC_MPTCP_FLAGS_BYTE 0x0ffu
#define MPC_MPTCP_FLAGS_12 0xfffu

/* MP_CAPABLE: variant by length, flags = byte 3 */
enum mpc_cap_variant {
	MPC_CAP_SYN = 1,       /* length 4, no key */
	MPC_CAP_SYNACK = 2,    /* length 12, sender's key */
	MPC_CAP_ACK = 3,       /* length 20, sender's + receiver's key */
	MPC_CAP_DATA = 4,      /* length 22, + data-level length */
	MPC_CAP_DATA_CSUM = 5, /* length 24, + checksum */
};
#define MPC_CAP_A 0x80u	     /* checksum required */
#define MPC_CAP_B 0x40u	     /* extensibility */
#define MPC_CAP_C 0x20u	     /* no new subflows to the source address */
#define MPC_CAP_H 0x01u	     /* HMAC-SHA256 */
#define MPC_CAP_CRYPTO 0x1fu /* D..H: at least one must be set */

/* MP_JOIN: variant by length */
enum mpc_join_variant {
	MPC_JOIN_SYN = 1,    /* length 12 */
	MPC_JOIN_SYNACK = 2, /* length 16 */
	MPC_JOIN_ACK = 3,    /* length 24 */
};
#define MPC_JOIN_B 0x1u /* backup (SYN, SYN/ACK: low nibble of byte 2) */

/* DSS: flags = 12 bits after the subtype; variant = MPC_DSS_V_* */
#define MPC_DSS_A 0x01u	   /* Data ACK present */
#define MPC_DSS_A8 0x02u   /* "a": Data ACK is 8 octets */
#define MPC_DSS_M 0x04u	   /* mapping (DSN, SSN, length[, csum]) present */
#define MPC_DSS_M8 0x08u   /* "m": DSN is 8 octets */
#define MPC_DSS_F 0x10u	   /* DATA_FIN */
#define MPC_DSS_V_CSUM 0x1 /* variant: checksum present (only with M) */

/* ADD_ADDR: flags = low nibble of byte 2; variant = MPC_ADDR_V_* */
#define MPC_ADDR_E 0x1u	    /* echo: no HMAC */
#define MPC_ADDR_V_IPV6 0x1 /* variant: 16-byte address (else 4) */
#define MPC_ADDR_V_PORT 0x2 /* variant: port present */
#define MPC_ADDR_V_ALL 0x3

/* MP_PRIO: flags = low nibble of byte 2 */
#define MPC_PRIO_B 0x1u

/* MP_TCPRST: flags = low nibble of byte 2 (U V W T) */
#define MPC_RST_U 0x8u
#define MPC_RST_V 0x4u
#define MPC_RST_W 0x2u
#define MPC_RST_T 0x1u /* transient */

/* RFC 8684 3.6 / 7.4; other values pass through parse and build */
enum mpc_tcprst_reason {
	MPC_RST_UNSPECIFIED = 0x00,
	MPC_RST_MPTCP_ERROR = 0x01,
	MPC_RST_NO_RESOURCES = 0x02,
	MPC_RST_ADMIN_PROHIBITED = 0x03,
	MPC_RST_TOO_MUCH_OUTSTANDING = 0x04,
	MPC_RST_BAD_PERFORMANCE = 0x05,
	MPC_RST_MIDDLEBOX = 0x06,
};

struct mpc_mptcp_cap {
	__u8 version; /* MPC_MPTCP_VERSION after a successful parse */
	__u8 _pad;
	__u16 dll;  /* data-level length (DATA, DATA_CSUM) */
	__u16 csum; /* DATA_CSUM */
	__u16 _pad2;
	__u64 skey; /* option sender's key (SYNACK, ACK, DATA*) */
	__u64 rkey; /* option receiver's key (ACK, DATA*) */
};

struct mpc_mptcp_join {
	__u8 addr_id; /* SYN, SYNACK */
	__u8 _pad[3];
	__u32 token; /* SYN: receiver's token */
	__u32 nonce; /* SYN, SYNACK: sender's random number */
	/* SYNACK: 8-byte truncated HMAC in hmac[0..7]; ACK: all 20 */
	__u8 hmac[MPC_JOIN_HMAC_LEN];
};

struct mpc_mptcp_dss {
	__u64 data_ack; /* with A; 32-bit value unless A8 */
	__u64 dsn;	/* with M; 32-bit value unless M8 */
	__u32 ssn;	/* with M: relative subflow sequence number */
	__u16 dll;	/* with M: data-level length, 0 = infinite mapping */
	__u16 csum;	/* with M and MPC_DSS_V_CSUM */
};

struct mpc_mptcp_add_addr {
	__u8 addr_id;
	__u8 _pad;
	__u16 port;			  /* with MPC_ADDR_V_PORT */
	__u8 addr[16];			  /* IPv4: addr[0..3], the rest 0 */
	__u8 hmac[MPC_ADD_ADDR_HMAC_LEN]; /* unless flags & MPC_ADDR_E */
};

struct mpc_mptcp_rm_addr {
	__u8 n; /* 1..MPC_RM_ADDR_MAX */
	__u8 ids[MPC_RM_ADDR_MAX];
};

struct mpc_mptcp_opt {
	__u8 subtype; /* enum mpc_mptcp_subtype */
	__u8 variant; /* see above; 0 for subtypes without variants */
	__u16 flags;  /* header flag bits, verbatim (see above) */
	__u8 len;     /* option length; set by parse, ignored by build */
	__u8 _pad[3];
	union {
		struct mpc_mptcp_cap cap;
		struct mpc_mptcp_join join;
		struct mpc_mptcp_dss dss;
		struct mpc_mptcp_add_addr add;
		struct mpc_mptcp_rm_addr rm;
		struct {
			__u64 dsn; /* 64-bit DSN of the failed mapping */
		} fail;
		struct {
			__u64 rkey; /* option receiver's key */
		} fclose;
		struct {
			__u8 reason; /* enum mpc_tcprst_reason */
		} rst;
	} u;
};

_Static_assert(sizeof(struct mpc_mptcp_opt) == 48,
	       "mpc_mptcp_opt lives on the BPF stack: keep it small");
_Static_assert(sizeof(((struct mpc_mptcp_opt *)0)->u) == 40,
	       "largest union member is REMOVE_ADDR (1 + 37 bytes)");

/* ---- lengths ------------------------------------------------------------ */

/* DSS option length for these flags; csum counts only with M */
MPC_INLINE __u32 mpc_dss_len(__u32 flags, bool csum)
{
	__u32 l = MPC_MPTCPOLEN_DSS_BASE;

	if (flags & MPC_DSS_A)
		l += (flags & MPC_DSS_A8) ? 8 : 4;
	if (flags & MPC_DSS_M) {
		l += (flags & MPC_DSS_M8) ? 8 : 4;
		l += 4 + 2; /* subflow sequence number, data-level length */
		if (csum)
			l += 2;
	}
	return l;
}

/* ADD_ADDR option length for variant bits and flags (E) */
MPC_INLINE __u32 mpc_add_addr_len(__u32 variant, __u32 flags)
{
	__u32 l = MPC_MPTCPOLEN_ADD_ADDR_BASE;

	l += (variant & MPC_ADDR_V_IPV6) ? 16 : 4;
	if (variant & MPC_ADDR_V_PORT)
		l += 2;
	if (!(flags & MPC_ADDR_E))
		l += MPC_ADD_ADDR_HMAC_LEN;
	return l;
}

MPC_INLINE int mpc__cap_len(__u32 variant)
{
	switch (variant) {
	case MPC_CAP_SYN:
		return MPC_MPTCPOLEN_CAP_SYN;
	case MPC_CAP_SYNACK:
		return MPC_MPTCPOLEN_CAP_SYNACK;
	case MPC_CAP_ACK:
		return MPC_MPTCPOLEN_CAP_ACK;
	case MPC_CAP_DATA:
		return MPC_MPTCPOLEN_CAP_DATA;
	case MPC_CAP_DATA_CSUM:
		return MPC_MPTCPOLEN_CAP_DATA_CSUM;
	}
	return -MPC_E_FIELD;
}

MPC_INLINE int mpc__join_len(__u32 variant)
{
	switch (variant) {
	case MPC_JOIN_SYN:
		return MPC_MPTCPOLEN_JOIN_SYN;
	case MPC_JOIN_SYNACK:
		return MPC_MPTCPOLEN_JOIN_SYNACK;
	case MPC_JOIN_ACK:
		return MPC_MPTCPOLEN_JOIN_ACK;
	}
	return -MPC_E_FIELD;
}

/*
 * Encoded length of *o, or -MPC_E_FIELD when build would refuse it
 * (the same checks build makes).
 */
MPC_INLINE int mpc_mptcp_len(const struct mpc_mptcp_opt *o)
{
	__u32 fl = o->flags, v = o->variant;

	switch (o->subtype) {
	case MPC_MP_CAPABLE:
		if (o->u.cap.version != MPC_MPTCP_VERSION ||
		    fl > MPC_MPTCP_FLAGS_BYTE || !(fl & MPC_CAP_CRYPTO))
			return -MPC_E_FIELD;
		return mpc__cap_len(v);
	case MPC_MP_JOIN:
		if (fl > (v == MPC_JOIN_ACK ? MPC_MPTCP_FLAGS_12
					    : MPC_MPTCP_FLAGS_NIBBLE))
			return -MPC_E_FIELD;
		return mpc__join_len(v);
	case MPC_MP_DSS:
		if (fl > MPC_MPTCP_FLAGS_12)
			return -MPC_E_FIELD;
		return mpc_dss_len(fl, v & MPC_DSS_V_CSUM);
	case MPC_MP_ADD_ADDR:
		if (fl > MPC_MPTCP_FLAGS_NIBBLE || v > MPC_ADDR_V_ALL)
			return -MPC_E_FIELD;
		return mpc_add_addr_len(v, fl);
	case MPC_MP_REMOVE_ADDR:
		if (fl > MPC_MPTCP_FLAGS_NIBBLE || o->u.rm.n == 0 ||
		    o->u.rm.n > MPC_RM_ADDR_MAX)
			return -MPC_E_FIELD;
		return MPC_MPTCPOLEN_RM_ADDR_BASE + o->u.rm.n;
	case MPC_MP_PRIO:
		if (fl > MPC_MPTCP_FLAGS_NIBBLE)
			return -MPC_E_FIELD;
		return MPC_MPTCPOLEN_PRIO;
	case MPC_MP_FAIL:
		if (fl > MPC_MPTCP_FLAGS_12)
			return -MPC_E_FIELD;
		return MPC_MPTCPOLEN_FAIL;
	case MPC_MP_FASTCLOSE:
		if (fl > MPC_MPTCP_FLAGS_12)
			return -MPC_E_FIELD;
		return MPC_MPTCPOLEN_FASTCLOSE;
	case MPC_MP_TCPRST:
		if (fl > MPC_MPTCP_FLAGS_NIBBLE)
			return -MPC_E_FIELD;
		return MPC_MPTCPOLEN_TCPRST;
	}
	return -MPC_E_FIELD;
}

/* a DSS mapping with data-level length 0 (RFC 8684 3.3.1, fallback) */
MPC_INLINE bool mpc_dss_is_infinite(const struct mpc_mptcp_opt *o)
{
	return o->subtype == MPC_MP_DSS && (o->flags & MPC_DSS_M) &&
	       o->u.dss.dll == 0;
}

/* ---- byte-string helpers (n is a constant at every call site) ---------- */

MPC_INLINE void mpc__rd_bytes(const __u8 *b, __u32 off, __u8 *dst,
			      const __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++)
		dst[i] = MPC_RD8(b, off + i, MPC_TCPOPT_MASK);
}

MPC_INLINE void mpc__wr_bytes(__u8 *b, __u32 off, const __u8 *src,
			      const __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++)
		MPC_WR8(b, off + i, MPC_TCPOPT_MASK, src[i]);
}

/*
 * REMOVE_ADDR's ID list has a data-dependent length; its copy loops run
 * under MPC_LOOP so the verifier checks the body once instead of once per
 * possible count (see compat.h).
 *
 * The callback's index arrives in a 64-bit register whose upper half the
 * verifier does not know. Left alone, clang bounds-checks a zero-extended
 * copy and indexes ids[] with the original, and the verifier rejects the
 * access with "R2 unbounded memory access, make sure to bounds check any
 * such access". MPC__OPAQUE() hides the value from clang so the check and
 * the index use the same 64-bit register.
 */
/* MPC__OPAQUE is in compat.h */

struct mpc__rm_ctx {
	const __u8 *src; /* parse: option area; build: o->u.rm.ids */
	__u8 *dst;	 /* parse: o->u.rm.ids; build: option area */
	__u32 off;	 /* offset of the first ID in the option area */
	__u32 n;	 /* number of IDs */
};

MPC_CALLBACK __attribute__((unused)) long mpc__rm_rd_step(__u32 i, void *arg)
{
	struct mpc__rm_ctx *r = arg;
	__u64 k = i;

	MPC__OPAQUE(k);
	if (k >= MPC_RM_ADDR_MAX || k >= r->n)
		return 1;
	r->dst[k] = MPC_RD8(r->src, r->off + k, MPC_TCPOPT_MASK);
	return 0;
}

MPC_CALLBACK __attribute__((unused)) long mpc__rm_wr_step(__u32 i, void *arg)
{
	struct mpc__rm_ctx *r = arg;
	__u64 k = i;

	MPC__OPAQUE(k);
	if (k >= MPC_RM_ADDR_MAX || k >= r->n)
		return 1;
	MPC_WR8(r->dst, r->off + k, MPC_TCPOPT_MASK, r->src[k]);
	return 0;
}

/* ---- parse -------------------------------------------------------------- */

/* p = offset of the kind byte; olen already checked against len */
MPC_INLINE int mpc__parse_cap(const __u8 *b, __u32 p, __u32 olen,
			      struct mpc_mptcp_opt *o)
{
	__u8 ver = MPC_RD8(b, p + 2, MPC_TCPOPT_MASK) & 0x0f;
	__u32 fl = 0, v;

	o->u.cap.version = ver;
	if (olen >= 4)
		fl = MPC_RD8(b, p + 3, MPC_TCPOPT_MASK);
	o->flags = fl;
	if (ver != MPC_MPTCP_VERSION)
		return -MPC_E_VERSION;
	switch (olen) {
	case MPC_MPTCPOLEN_CAP_SYN:
		v = MPC_CAP_SYN;
		break;
	case MPC_MPTCPOLEN_CAP_SYNACK:
		v = MPC_CAP_SYNACK;
		break;
	case MPC_MPTCPOLEN_CAP_ACK:
		v = MPC_CAP_ACK;
		break;
	case MPC_MPTCPOLEN_CAP_DATA:
		v = MPC_CAP_DATA;
		break;
	case MPC_MPTCPOLEN_CAP_DATA_CSUM:
		v = MPC_CAP_DATA_CSUM;
		break;
	default:
		return -MPC_E_LEN;
	}
	o->variant = v;
	if (!(fl & MPC_CAP_CRYPTO))
		return -MPC_E_FIELD;
	if (olen >= MPC_MPTCPOLEN_CAP_SYNACK)
		o->u.cap.skey = MPC_RD64(b, p + 4, MPC_TCPOPT_MASK);
	if (olen >= MPC_MPTCPOLEN_CAP_ACK)
		o->u.cap.rkey = MPC_RD64(b, p + 12, MPC_TCPOPT_MASK);
	if (olen >= MPC_MPTCPOLEN_CAP_DATA)
		o->u.cap.dll = MPC_RD16(b, p + 20, MPC_TCPOPT_MASK);
	if (olen >= MPC_MPTCPOLEN_CAP_DATA_CSUM)
		o->u.cap.csum = MPC_RD16(b, p + 22, MPC_TCPOPT_MASK);
	return 0;
}

MPC_INLINE int mpc__parse_join(const __u8 *b, __u32 p, __u32 olen,
			       struct mpc_mptcp_opt *o)
{
	__u8 nib = MPC_RD8(b, p + 2, MPC_TCPOPT_MASK) & 0x0f;

	switch (olen) {
	case MPC_MPTCPOLEN_JOIN_SYN:
		o->variant = MPC_JOIN_SYN;
		o->flags = nib;
		o->u.join.addr_id = MPC_RD8(b, p + 3, MPC_TCPOPT_MASK);
		o->u.join.token = MPC_RD32(b, p + 4, MPC_TCPOPT_MASK);
		o->u.join.nonce = MPC_RD32(b, p + 8, MPC_TCPOPT_MASK);
		return 0;
	case MPC_MPTCPOLEN_JOIN_SYNACK:
		o->variant = MPC_JOIN_SYNACK;
		o->flags = nib;
		o->u.join.addr_id = MPC_RD8(b, p + 3, MPC_TCPOPT_MASK);
		mpc__rd_bytes(b, p + 4, o->u.join.hmac, MPC_JOIN_THMAC_LEN);
		o->u.join.nonce = MPC_RD32(b, p + 12, MPC_TCPOPT_MASK);
		return 0;
	case MPC_MPTCPOLEN_JOIN_ACK:
		o->variant = MPC_JOIN_ACK;
		o->flags = (nib << 8) | MPC_RD8(b, p + 3, MPC_TCPOPT_MASK);
		mpc__rd_bytes(b, p + 4, o->u.join.hmac, MPC_JOIN_HMAC_LEN);
		return 0;
	}
	return -MPC_E_LEN;
}

MPC_INLINE int mpc__parse_dss(const __u8 *b, __u32 p, __u32 olen,
			      struct mpc_mptcp_opt *o)
{
	__u32 fl, base, q;
	bool csum = false;

	if (olen < MPC_MPTCPOLEN_DSS_BASE)
		return -MPC_E_LEN;
	fl = ((MPC_RD8(b, p + 2, MPC_TCPOPT_MASK) & 0x0f) << 8) |
	     MPC_RD8(b, p + 3, MPC_TCPOPT_MASK);
	o->flags = fl;
	base = mpc_dss_len(fl, false);
	if (olen != base) {
		/* the checksum is negotiated, not flagged: infer it */
		if (!(fl & MPC_DSS_M) || olen != base + 2)
			return -MPC_E_LEN;
		csum = true;
		o->variant = MPC_DSS_V_CSUM;
	}
	q = p + MPC_MPTCPOLEN_DSS_BASE;
	if (fl & MPC_DSS_A) {
		if (fl & MPC_DSS_A8) {
			o->u.dss.data_ack = MPC_RD64(b, q, MPC_TCPOPT_MASK);
			q += 8;
		} else {
			o->u.dss.data_ack = MPC_RD32(b, q, MPC_TCPOPT_MASK);
			q += 4;
		}
	}
	if (fl & MPC_DSS_M) {
		if (fl & MPC_DSS_M8) {
			o->u.dss.dsn = MPC_RD64(b, q, MPC_TCPOPT_MASK);
			q += 8;
		} else {
			o->u.dss.dsn = MPC_RD32(b, q, MPC_TCPOPT_MASK);
			q += 4;
		}
		o->u.dss.ssn = MPC_RD32(b, q, MPC_TCPOPT_MASK);
		o->u.dss.dll = MPC_RD16(b, q + 4, MPC_TCPOPT_MASK);
		if (csum)
			o->u.dss.csum = MPC_RD16(b, q + 6, MPC_TCPOPT_MASK);
	}
	return 0;
}

MPC_INLINE int mpc__parse_add_addr(const __u8 *b, __u32 p, __u32 olen,
				   struct mpc_mptcp_opt *o)
{
	__u32 fl, body, q, v;

	if (olen < 4)
		return -MPC_E_LEN;
	fl = MPC_RD8(b, p + 2, MPC_TCPOPT_MASK) & 0x0f;
	o->flags = fl;
	/* body = option minus kind/len/subtype/ID and the HMAC */
	body = olen - 4;
	if (!(fl & MPC_ADDR_E)) {
		if (body < MPC_ADD_ADDR_HMAC_LEN)
			return -MPC_E_LEN;
		body -= MPC_ADD_ADDR_HMAC_LEN;
	}
	switch (body) {
	case 4:
		v = 0;
		break;
	case 4 + 2:
		v = MPC_ADDR_V_PORT;
		break;
	case 16:
		v = MPC_ADDR_V_IPV6;
		break;
	case 16 + 2:
		v = MPC_ADDR_V_IPV6 | MPC_ADDR_V_PORT;
		break;
	default:
		return -MPC_E_LEN;
	}
	o->variant = v;
	o->u.add.addr_id = MPC_RD8(b, p + 3, MPC_TCPOPT_MASK);
	q = p + 4;
	if (v & MPC_ADDR_V_IPV6) {
		mpc__rd_bytes(b, q, o->u.add.addr, 16);
		q += 16;
	} else {
		mpc__rd_bytes(b, q, o->u.add.addr, 4);
		q += 4;
	}
	if (v & MPC_ADDR_V_PORT) {
		o->u.add.port = MPC_RD16(b, q, MPC_TCPOPT_MASK);
		q += 2;
	}
	if (!(fl & MPC_ADDR_E))
		mpc__rd_bytes(b, q, o->u.add.hmac, MPC_ADD_ADDR_HMAC_LEN);
	return 0;
}

MPC_INLINE int mpc__parse_rm_addr(const __u8 *b, __u32 p, __u32 olen,
				  struct mpc_mptcp_opt *o)
{
	struct mpc__rm_ctx r = {};
	__u32 n;

	o->flags = MPC_RD8(b, p + 2, MPC_TCPOPT_MASK) & 0x0f;
	if (olen == MPC_MPTCPOLEN_RM_ADDR_BASE)
		return -MPC_E_FIELD; /* no Address ID */
	n = olen - MPC_MPTCPOLEN_RM_ADDR_BASE;
	if (n > MPC_RM_ADDR_MAX)
		return -MPC_E_LEN;
	o->u.rm.n = n;
	r.src = b;
	r.dst = o->u.rm.ids;
	r.off = p + MPC_MPTCPOLEN_RM_ADDR_BASE;
	r.n = n;
	MPC_LOOP(MPC_RM_ADDR_MAX, mpc__rm_rd_step, &r);
	return 0;
}

/*
 * Parse the MPTCP option whose kind byte is at b[off]; len is the number of
 * valid bytes in b (the option-area length, <= MPC_TCPOPT_CAP).
 */
MPC_INLINE int mpc_mptcp_parse(const __u8 *b, __u32 off, __u32 len,
			       struct mpc_mptcp_opt *o)
{
	__u32 olen, fl, st;

	mpc_memset(o, 0, sizeof(*o));
	if (len > MPC_TCPOPT_CAP)
		return -MPC_E_LEN;
	if (off >= len)
		return -MPC_E_TRUNC;
	if (MPC_RD8(b, off, MPC_TCPOPT_MASK) != MPC_TCPOPT_MPTCP)
		return -MPC_E_UNKNOWN;
	if (off + 2 > len)
		return -MPC_E_TRUNC;
	olen = MPC_RD8(b, off + 1, MPC_TCPOPT_MASK);
	if (olen < MPC_MPTCPOLEN_MIN)
		return -MPC_E_LEN;
	if (off + olen > len)
		return -MPC_E_TRUNC;
	if (olen > MPC_TCPOPT_MAXLEN)
		return -MPC_E_LEN;
	o->len = olen;
	/*
	 * Decoded values are branched on from locals, never read back from
	 * *o: in BPF *o may be a map value, whose contents the verifier does
	 * not track.
	 */
	st = MPC_RD8(b, off + 2, MPC_TCPOPT_MASK) >> 4;
	o->subtype = st;

	switch (st) {
	case MPC_MP_CAPABLE:
		return mpc__parse_cap(b, off, olen, o);
	case MPC_MP_JOIN:
		return mpc__parse_join(b, off, olen, o);
	case MPC_MP_DSS:
		return mpc__parse_dss(b, off, olen, o);
	case MPC_MP_ADD_ADDR:
		return mpc__parse_add_addr(b, off, olen, o);
	case MPC_MP_REMOVE_ADDR:
		return mpc__parse_rm_addr(b, off, olen, o);
	case MPC_MP_PRIO:
		if (olen != MPC_MPTCPOLEN_PRIO)
			return -MPC_E_LEN;
		o->flags = MPC_RD8(b, off + 2, MPC_TCPOPT_MASK) & 0x0f;
		return 0;
	case MPC_MP_FAIL:
	case MPC_MP_FASTCLOSE:
		/* same layout: 12 reserved bits, one 64-bit value */
		if (olen != MPC_MPTCPOLEN_FAIL)
			return -MPC_E_LEN;
		fl = MPC_RD16(b, off + 2, MPC_TCPOPT_MASK) & MPC_MPTCP_FLAGS_12;
		o->flags = fl;
		if (st == MPC_MP_FAIL)
			o->u.fail.dsn = MPC_RD64(b, off + 4, MPC_TCPOPT_MASK);
		else
			o->u.fclose.rkey =
				MPC_RD64(b, off + 4, MPC_TCPOPT_MASK);
		return 0;
	case MPC_MP_TCPRST:
		if (olen != MPC_MPTCPOLEN_TCPRST)
			return -MPC_E_LEN;
		o->flags = MPC_RD8(b, off + 2, MPC_TCPOPT_MASK) & 0x0f;
		o->u.rst.reason = MPC_RD8(b, off + 3, MPC_TCPOPT_MASK);
		return 0;
	}
	return -MPC_E_UNKNOWN;
}

/* ---- build -------------------------------------------------------------- */

/* kind, length, then subtype and the 12 bits after it */
MPC_INLINE void mpc__put_hdr(__u8 *b, __u32 p, __u32 olen, __u32 st,
			     __u32 bits12)
{
	MPC_WR8(b, p, MPC_TCPOPT_MASK, MPC_TCPOPT_MPTCP);
	MPC_WR8(b, p + 1, MPC_TCPOPT_MASK, olen);
	MPC_WR16(b, p + 2, MPC_TCPOPT_MASK, (st << 12) | bits12);
}

/*
 * Write *o at b[off]. Returns the bytes written, -MPC_E_NOSPACE when
 * off + mpc_mptcp_len(o) > cap, -MPC_E_FIELD when *o is not encodable.
 */
MPC_INLINE int mpc_mptcp_build(__u8 *b, __u32 off, __u32 cap,
			       const struct mpc_mptcp_opt *o)
{
	struct mpc__rm_ctx r = {};
	__u32 fl = o->flags, v = o->variant, olen, q;
	int l = mpc_mptcp_len(o);

	if (l < 0)
		return l;
	olen = l;
	if (cap > MPC_TCPOPT_CAP)
		cap = MPC_TCPOPT_CAP;
	if (off > cap || olen > cap - off)
		return -MPC_E_NOSPACE;

	switch (o->subtype) {
	case MPC_MP_CAPABLE:
		mpc__put_hdr(b, off, olen, MPC_MP_CAPABLE,
			     (MPC_MPTCP_VERSION << 8) | fl);
		if (olen >= MPC_MPTCPOLEN_CAP_SYNACK)
			MPC_WR64(b, off + 4, MPC_TCPOPT_MASK, o->u.cap.skey);
		if (olen >= MPC_MPTCPOLEN_CAP_ACK)
			MPC_WR64(b, off + 12, MPC_TCPOPT_MASK, o->u.cap.rkey);
		if (olen >= MPC_MPTCPOLEN_CAP_DATA)
			MPC_WR16(b, off + 20, MPC_TCPOPT_MASK, o->u.cap.dll);
		if (olen >= MPC_MPTCPOLEN_CAP_DATA_CSUM)
			MPC_WR16(b, off + 22, MPC_TCPOPT_MASK, o->u.cap.csum);
		break;
	case MPC_MP_JOIN:
		if (v == MPC_JOIN_ACK) {
			mpc__put_hdr(b, off, olen, MPC_MP_JOIN, fl);
			mpc__wr_bytes(b, off + 4, o->u.join.hmac,
				      MPC_JOIN_HMAC_LEN);
			break;
		}
		mpc__put_hdr(b, off, olen, MPC_MP_JOIN,
			     (fl << 8) | o->u.join.addr_id);
		if (v == MPC_JOIN_SYN) {
			MPC_WR32(b, off + 4, MPC_TCPOPT_MASK, o->u.join.token);
			MPC_WR32(b, off + 8, MPC_TCPOPT_MASK, o->u.join.nonce);
		} else {
			mpc__wr_bytes(b, off + 4, o->u.join.hmac,
				      MPC_JOIN_THMAC_LEN);
			MPC_WR32(b, off + 12, MPC_TCPOPT_MASK, o->u.join.nonce);
		}
		break;
	case MPC_MP_DSS:
		mpc__put_hdr(b, off, olen, MPC_MP_DSS, fl);
		q = off + MPC_MPTCPOLEN_DSS_BASE;
		if (fl & MPC_DSS_A) {
			if (fl & MPC_DSS_A8) {
				MPC_WR64(b, q, MPC_TCPOPT_MASK,
					 o->u.dss.data_ack);
				q += 8;
			} else {
				MPC_WR32(b, q, MPC_TCPOPT_MASK,
					 (__u32)o->u.dss.data_ack);
				q += 4;
			}
		}
		if (fl & MPC_DSS_M) {
			if (fl & MPC_DSS_M8) {
				MPC_WR64(b, q, MPC_TCPOPT_MASK, o->u.dss.dsn);
				q += 8;
			} else {
				MPC_WR32(b, q, MPC_TCPOPT_MASK,
					 (__u32)o->u.dss.dsn);
				q += 4;
			}
			MPC_WR32(b, q, MPC_TCPOPT_MASK, o->u.dss.ssn);
			MPC_WR16(b, q + 4, MPC_TCPOPT_MASK, o->u.dss.dll);
			if (v & MPC_DSS_V_CSUM)
				MPC_WR16(b, q + 6, MPC_TCPOPT_MASK,
					 o->u.dss.csum);
		}
		break;
	case MPC_MP_ADD_ADDR:
		mpc__put_hdr(b, off, olen, MPC_MP_ADD_ADDR,
			     (fl << 8) | o->u.add.addr_id);
		q = off + 4;
		if (v & MPC_ADDR_V_IPV6) {
			mpc__wr_bytes(b, q, o->u.add.addr, 16);
			q += 16;
		} else {
			mpc__wr_bytes(b, q, o->u.add.addr, 4);
			q += 4;
		}
		if (v & MPC_ADDR_V_PORT) {
			MPC_WR16(b, q, MPC_TCPOPT_MASK, o->u.add.port);
			q += 2;
		}
		if (!(fl & MPC_ADDR_E))
			mpc__wr_bytes(b, q, o->u.add.hmac,
				      MPC_ADD_ADDR_HMAC_LEN);
		break;
	case MPC_MP_REMOVE_ADDR:
		MPC_WR8(b, off, MPC_TCPOPT_MASK, MPC_TCPOPT_MPTCP);
		MPC_WR8(b, off + 1, MPC_TCPOPT_MASK, olen);
		MPC_WR8(b, off + 2, MPC_TCPOPT_MASK,
			(MPC_MP_REMOVE_ADDR << 4) | fl);
		r.src = o->u.rm.ids;
		r.dst = b;
		r.off = off + MPC_MPTCPOLEN_RM_ADDR_BASE;
		r.n = o->u.rm.n;
		MPC_LOOP(MPC_RM_ADDR_MAX, mpc__rm_wr_step, &r);
		break;
	case MPC_MP_PRIO:
		MPC_WR8(b, off, MPC_TCPOPT_MASK, MPC_TCPOPT_MPTCP);
		MPC_WR8(b, off + 1, MPC_TCPOPT_MASK, olen);
		MPC_WR8(b, off + 2, MPC_TCPOPT_MASK, (MPC_MP_PRIO << 4) | fl);
		break;
	case MPC_MP_FAIL:
		mpc__put_hdr(b, off, olen, MPC_MP_FAIL, fl);
		MPC_WR64(b, off + 4, MPC_TCPOPT_MASK, o->u.fail.dsn);
		break;
	case MPC_MP_FASTCLOSE:
		mpc__put_hdr(b, off, olen, MPC_MP_FASTCLOSE, fl);
		MPC_WR64(b, off + 4, MPC_TCPOPT_MASK, o->u.fclose.rkey);
		break;
	case MPC_MP_TCPRST:
		mpc__put_hdr(b, off, olen, MPC_MP_TCPRST,
			     (fl << 8) | o->u.rst.reason);
		break;
	}
	return olen;
}

#endif /* MPCONV_MPTCP_OPT_H */
