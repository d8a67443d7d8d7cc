/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * csum.h - Internet one's-complement checksum (RFC 1071), incremental
 * update (RFC 1624) and the MPTCP DSS checksum (RFC 8684 3.3.1).
 *
 * Representation. Every value here is a NUMBER in host byte order:
 *  - a 16-bit word is the numeric value of two bytes read big-endian
 *    (MPC_RD16), so sums are sums of network-order words and a finished
 *    checksum is the value to store with MPC_WR16 (or htons() + memcpy);
 *  - a partial sum is a __u32 one's-complement accumulator (end-around
 *    carry), congruent modulo 0xffff to the sum of the 16-bit words it
 *    covers. Any __u32 is a valid partial sum; 0 is the empty sum.
 *  - 32/64-bit fields (DSN, subflow sequence number) are numeric values
 *    (as MPC_RD32/MPC_RD64 return them) standing for their big-endian
 *    encoding.
 * The kernel's __wsum (csum_partial(), bpf_csum_diff(), skb->csum) is the
 * sum of words as they lie in memory instead: on a little-endian machine
 * its folded value is the byte-swap of this header's (fold it, then
 * bpf_ntohs()/ntohs()).
 *
 * Odd lengths: a buffer of odd length is summed as if padded with one zero
 * byte (RFC 1071). A block that starts at an odd offset of the data being
 * checksummed must be added with mpc_csum_block_add(), which byte-swaps it.
 *
 * BPF. Everything but mpc_csum_partial() (and the buffer forms of the DSS
 * functions built on it) is straight-line code on scalars: no loops, no
 * memory, a few instructions, usable anywhere. mpc_csum_partial() relies on:
 *  - buf pointing to an object of exactly MPC_CSUM_CAP bytes (an array-map
 *    value: per-CPU maps cannot hold values that large, and neither can the
 *    stack); every read is MPC_RD8(buf, off, MPC_CSUM_MASK), which is what
 *    proves the access in bounds;
 *  - bpf_loop() (kernel >= 5.17) via MPC_LOOP: at most MPC_CSUM_MAX_STEPS
 *    calls of mpc_csum_step(), each summing MPC_CSUM_BLOCK bytes in a loop
 *    with that constant bound, so the verifier checks one block once;
 *  - about 24 bytes of stack for the loop context.
 * For packet data, BPF should rather get the payload's sum from
 * bpf_csum_diff() (converted as above) and use mpc_dss_csum_finish() /
 * mpc_dss_csum_check(), which take a partial sum.
 */
#ifndef MPCONV_CSUM_H
#define MPCONV_CSUM_H

#include "compat.h"

#define MPC_CSUM_CAP 65536u /* BPF: size of the buffer mpc_csum_partial reads */
#define MPC_CSUM_MASK (MPC_CSUM_CAP - 1)
#define MPC_CSUM_MAX_LEN MPC_CSUM_CAP /* longest buffer one call sums */
#define MPC_CSUM_BLOCK 64	      /* bytes per loop step, even */
#define MPC_CSUM_MAX_STEPS (MPC_CSUM_MAX_LEN / MPC_CSUM_BLOCK)
#define MPC_DSS_PSEUDO_LEN 16 /* RFC 8684 Figure 10 */

/* ---- one's-complement arithmetic ------------------------------------- */

/* a + b with end-around carry (one's-complement addition of two sums) */
MPC_INLINE __u32 mpc_csum_add(__u32 a, __u32 b)
{
	__u32 s = a + b;

	return s + (s < a);
}

/* a - b: adding the one's complement */
MPC_INLINE __u32 mpc_csum_sub(__u32 a, __u32 b)
{
	return mpc_csum_add(a, ~b);
}

/*
 * Fold a partial sum to 16 bits. The result is the one's-complement sum
 * itself, NOT the checksum: 0 only for an all-zero input, otherwise
 * 1..0xffff (0xffff being "negative zero").
 */
MPC_INLINE __u16 mpc_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* the checksum field value for a partial sum: ~fold(sum) */
MPC_INLINE __u16 mpc_csum_finish(__u32 sum)
{
	return (__u16)~mpc_csum_fold(sum);
}

/* add one 16-bit word, a 32-bit field (two words), a 64-bit field (four) */
MPC_INLINE __u32 mpc_csum_add16(__u32 sum, __u16 v)
{
	return mpc_csum_add(sum, v);
}

/* hi * 0x10000 + lo is congruent to hi + lo modulo 0xffff */
MPC_INLINE __u32 mpc_csum_add32(__u32 sum, __u32 v)
{
	return mpc_csum_add(sum, v);
}

MPC_INLINE __u32 mpc_csum_add64(__u32 sum, __u64 v)
{
	return mpc_csum_add(mpc_csum_add(sum, (__u32)(v >> 32)), (__u32)v);
}

/*
 * Add the partial sum of a block that starts offset bytes into the data
 * being checksummed: at an odd offset every byte of the block sits in the
 * other half of its word, which multiplies its sum by 0x100 modulo 0xffff,
 * i.e. swaps the bytes of the folded sum.
 */
MPC_INLINE __u32 mpc_csum_block_add(__u32 sum, __u32 block, __u32 offset)
{
	__u16 f = mpc_csum_fold(block);

	if (offset & 1)
		f = (__u16)((f << 8) | (f >> 8));
	return mpc_csum_add(sum, f);
}

/* ---- RFC 1624 incremental update --------------------------------------- */

/*
 * New checksum after a 16-bit word covered by check changed from `from` to
 * `to`, by RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). It equals a full
 * recomputation except when the new data is all zero, where a full
 * computation gives 0xffff and this gives 0x0000 (RFC 1624 section 4).
 * A DSS pseudo-header with a non-zero Data-Level Length is never all zero,
 * and a zero length (infinite mapping) has no checksum to update.
 */
MPC_INLINE __u16 mpc_csum_replace16(__u16 check, __u16 from, __u16 to)
{
	__u32 s = (__u16)~check;

	s = mpc_csum_add(s, (__u16)~from);
	s = mpc_csum_add(s, to);
	return mpc_csum_finish(s);
}

/* the same for a 32-bit field on an even offset (two words) */
MPC_INLINE __u16 mpc_csum_replace32(__u16 check, __u32 from, __u32 to)
{
	__u32 s = (__u16)~check;

	s = mpc_csum_add(s, ~from);
	s = mpc_csum_add(s, to);
	return mpc_csum_finish(s);
}

/* and for a 64-bit field on an even offset (a DSN, four words) */
MPC_INLINE __u16 mpc_csum_replace64(__u16 check, __u64 from, __u64 to)
{
	__u32 s = (__u16)~check;

	s = mpc_csum_add64(s, ~from);
	s = mpc_csum_add64(s, to);
	return mpc_csum_finish(s);
}

/* ---- sum over bytes ------------------------------------------------------ */

struct mpc_csum_walk_ctx {
	const __u8 *b;
	__u32 len;
	__u32 off;
	__u32 sum;
	__u32 _pad;
};

/* sums the block [off, off + MPC_CSUM_BLOCK) of the buffer; see MPC_LOOP */
MPC_CALLBACK long mpc_csum_step(__u32 i, void *arg)
{
	struct mpc_csum_walk_ctx *w = arg;
	const __u8 *b = w->b;
	__u32 off = w->off, len = w->len, s = 0, k, hi, lo;

	(void)i;
	/* 32 words of at most 0xffff: s < 2^21, no carry to lose */
	for (k = 0; k < MPC_CSUM_BLOCK; k += 2) {
		if (off + k >= len)
			break;
		hi = MPC_RD8(b, off + k, MPC_CSUM_MASK);
		lo = 0; /* odd length: pad with a zero byte */
		if (off + k + 1 < len)
			lo = MPC_RD8(b, off + k + 1, MPC_CSUM_MASK);
		s += (hi << 8) | lo;
	}
	w->sum = mpc_csum_add(w->sum, s);
	w->off = off + MPC_CSUM_BLOCK;
	return w->off >= len;
}

/*
 * *sum += the one's-complement sum of buf[0..len), read as big-endian
 * words, an odd last byte padded with zero. buf starts the word sequence:
 * to continue a sum after an odd number of bytes, sum the new block into
 * its own 0 and add it with mpc_csum_block_add(). Returns 0, or
 * -MPC_E_LEN (and leaves *sum alone) when len > MPC_CSUM_MAX_LEN.
 */
MPC_INLINE int mpc_csum_partial(const __u8 *buf, __u32 len, __u32 *sum)
{
	struct mpc_csum_walk_ctx w = {.b = buf, .len = len, .sum = *sum};

	if (len > MPC_CSUM_MAX_LEN)
		return -MPC_E_LEN;
	if (len)
		MPC_LOOP((len + MPC_CSUM_BLOCK - 1) / MPC_CSUM_BLOCK,
			 mpc_csum_step, &w);
	*sum = w.sum;
	return 0;
}

/* ---- RFC 8684 3.3.1 DSS checksum ----------------------------------------- */

/*
 * Sum of the 16-byte pseudo-header of RFC 8684 Figure 10:
 *   Data Sequence Number (8 octets, always the full 64-bit DSN, even when
 *   the DSS option carries only its low 32 bits) | relative Subflow
 *   Sequence Number (4 octets, as in the DSS option) | Data-Level Length
 *   (2 octets, the field as sent, so DATA_FIN's extra 1 included) |
 *   Zeros (2 octets).
 * All arguments are host-order numbers, encoded big-endian by the header.
 */
MPC_INLINE __u32 mpc_dss_pseudo_sum(__u64 dsn, __u32 ssn, __u16 dlen)
{
	__u32 s = mpc_csum_add64(0, dsn);

	s = mpc_csum_add32(s, ssn);
	return mpc_csum_add32(s, (__u32)dlen << 16);
}

/*
 * The DSS checksum (host-order value of the option's Checksum field) for a
 * mapping whose payload has the partial sum payload_sum (payload summed
 * from its first byte, segments combined with mpc_csum_block_add()).
 */
MPC_INLINE __u16 mpc_dss_csum_finish(__u64 dsn, __u32 ssn, __u16 dlen,
				     __u32 payload_sum)
{
	return mpc_csum_finish(
		mpc_csum_add(mpc_dss_pseudo_sum(dsn, ssn, dlen), payload_sum));
}

/*
 * Whether a received Checksum field value csum (host order) is right for
 * the mapping: pseudo-header + payload + csum must fold to 0xffff (the
 * RFC 1071 receiver check, as Linux does it). When the data sums to
 * negative zero both 0x0000 and 0xffff pass; all-zero data (only possible
 * with a zero Data-Level Length) passes with 0xffff only.
 */
MPC_INLINE bool mpc_dss_csum_check(__u64 dsn, __u32 ssn, __u16 dlen,
				   __u32 payload_sum, __u16 csum)
{
	__u32 s = mpc_csum_add(mpc_dss_pseudo_sum(dsn, ssn, dlen), payload_sum);

	return mpc_csum_fold(mpc_csum_add16(s, csum)) == 0xffff;
}

/*
 * The DSS checksum over (pseudo-header fields, payload[0..len)) into
 * *csum. payload is the mapping's data (len may differ from dlen, e.g. by
 * DATA_FIN's 1). Returns 0 or -MPC_E_LEN when len > MPC_CSUM_MAX_LEN.
 */
MPC_INLINE int mpc_dss_csum(__u64 dsn, __u32 ssn, __u16 dlen,
			    const __u8 *payload, __u32 len, __u16 *csum)
{
	__u32 s = 0;
	int rc = mpc_csum_partial(payload, len, &s);

	if (rc)
		return rc;
	*csum = mpc_dss_csum_finish(dsn, ssn, dlen, s);
	return 0;
}

/* whether csum verifies for the mapping; false too when len is too long */
MPC_INLINE bool mpc_dss_csum_verify(__u64 dsn, __u32 ssn, __u16 dlen,
				    const __u8 *payload, __u32 len, __u16 csum)
{
	__u32 s = 0;

	if (mpc_csum_partial(payload, len, &s))
		return false;
	return mpc_dss_csum_check(dsn, ssn, dlen, s, csum);
}

#endif /* MPCONV_CSUM_H */
