/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * compat.h - what lets one header compile both as BPF and as host C.
 *
 * Rules for every header under include/mpconv/ that is shared with BPF:
 *  - no libc, no errno, no variable-length arrays, no recursion;
 *  - functions are MPC_INLINE (always inlined: BPF-to-BPF calls are not
 *    assumed, and inlining lets the verifier see constant bounds);
 *  - input is (const __u8 *buf, __u32 len) and every byte read goes
 *    through MPC_RD8/16/32/64 with the codec's power-of-two capacity
 *    mask. On the host the mask never changes a valid index (the code
 *    checks off < len <= cap first); in BPF it is what proves to the
 *    verifier that buf[off] stays inside the buffer (a stack array or a
 *    map value of exactly cap bytes). Without the mask the verifier
 *    rejects the variable-offset access with "invalid variable-offset
 *    read from stack" / "invalid access to map value".
 *  - every loop has a named constant bound.
 *
 * BPF translation units must include "vmlinux.h" (and <bpf/bpf_helpers.h>)
 * before any mpconv header.
 */
#ifndef MPCONV_COMPAT_H
#define MPCONV_COMPAT_H

#ifdef __bpf__
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#ifndef NULL
#define NULL ((void *)0)
#endif
typedef _Bool bool;
#define true 1
#define false 0
#define MPC_INLINE static __always_inline
#define mpc_memset __builtin_memset
#define mpc_memcpy __builtin_memcpy
#else /* host */
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#define MPC_INLINE static inline __attribute__((always_inline, unused))
#define mpc_memset memset
#define mpc_memcpy memcpy
#endif

/*
 * MPC_LOOP(n, cb, ctx): call long cb(__u32 i, void *ctx) for i = 0..n-1
 * until it returns non-zero; evaluates to the number of calls made.
 *
 * Loops whose body branches on packet data (option walkers, TLV walkers)
 * use it: with a plain bounded loop the verifier explores every iteration
 * with every combination of earlier branches and gives up with "BPF
 * program is too large. Processed 1000001 insn" (seen for the TCP option
 * walker on 6.18). bpf_loop() (kernel >= 5.17) verifies cb once. cb must
 * be a static, non-inlined function; state travels through ctx.
 */
#ifdef __bpf__
#define MPC_CALLBACK static __noinline
#define MPC_LOOP(n, cb, ctx) bpf_loop((n), (cb), (ctx), 0)
#else
#define MPC_CALLBACK static
static inline __attribute__((unused)) long
mpc_host_loop(__u32 n, long (*cb)(__u32, void *), void *ctx)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (cb(i, ctx))
			return i + 1;
	return n;
}
#define MPC_LOOP(n, cb, ctx) mpc_host_loop((n), (cb), (ctx))
#endif

/*
 * Counters and flags the data path updates from several CPUs: atomic in
 * BPF, plain on the host (unit tests drive one connection at a time).
 */
#ifdef __bpf__
#define MPC_ATOMIC_ADD(p, v) ((void)__sync_fetch_and_add((p), (v)))
#define MPC_ATOMIC_OR(p, v) ((void)__sync_fetch_and_or((p), (v)))
#else
#define MPC_ATOMIC_ADD(p, v) ((void)(*(p) += (v)))
#define MPC_ATOMIC_OR(p, v) ((void)(*(p) |= (v)))
#endif

/* hide a value from clang's range analysis, so that a bounds check and
 * the index it guards stay one register (see mptcp_opt.h mpc__rm_ctx) */
#ifdef __bpf__
#define MPC__OPAQUE(x) asm volatile("" : "+r"(x))
#else
#define MPC__OPAQUE(x) ((void)0)
#endif

/* a load the compiler must do now and once (seqcount readers) */
#define MPC_ATOMIC_READ(p) (*(volatile __typeof__(*(p)) *)(p))

#define MPC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MPC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MPC_MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * Masked, byte-wise big-endian accessors. Byte-wise access is
 * alignment-free on every target; clang merges it into single loads
 * on x86 host builds and BPF needs no more than byte loads anyway.
 */
#define MPC_RD8(b, off, mask) ((__u8)(b)[(off) & (mask)])
#define MPC_RD16(b, off, mask) \
	((__u16)((MPC_RD8(b, off, mask) << 8) | MPC_RD8(b, (off) + 1, mask)))
#define MPC_RD32(b, off, mask)                   \
	(((__u32)MPC_RD16(b, off, mask) << 16) | \
	 (__u32)MPC_RD16(b, (off) + 2, mask))
#define MPC_RD64(b, off, mask)                   \
	(((__u64)MPC_RD32(b, off, mask) << 32) | \
	 (__u64)MPC_RD32(b, (off) + 4, mask))

#define MPC_WR8(b, off, mask, v) ((b)[(off) & (mask)] = (__u8)(v))
#define MPC_WR16(b, off, mask, v)                       \
	do {                                            \
		MPC_WR8(b, off, mask, (__u16)(v) >> 8); \
		MPC_WR8(b, (off) + 1, mask, (v));       \
	} while (0)
#define MPC_WR32(b, off, mask, v)                         \
	do {                                              \
		MPC_WR16(b, off, mask, (__u32)(v) >> 16); \
		MPC_WR16(b, (off) + 2, mask, (v));        \
	} while (0)
#define MPC_WR64(b, off, mask, v)                         \
	do {                                              \
		MPC_WR32(b, off, mask, (__u64)(v) >> 32); \
		MPC_WR32(b, (off) + 4, mask, (v));        \
	} while (0)

/*
 * Errors returned (negated) by every codec. They describe what was wrong
 * with the bytes; protocol-level answers (an RFC 8803 Error code, an
 * MP_TCPRST reason) are reported separately by the codec that knows them.
 */
enum mpc_err {
	MPC_OK = 0,
	MPC_E_TRUNC = 1,   /* input shorter than its own length fields say */
	MPC_E_LEN = 2,	   /* a length field that no valid encoding has */
	MPC_E_FIELD = 3,   /* a field value the RFC forbids */
	MPC_E_UNKNOWN = 4, /* kind/subtype/type not known */
	MPC_E_NOSPACE = 5, /* builder: output buffer too small */
	MPC_E_DUP = 6,	   /* element that may appear once appears twice */
	MPC_E_VERSION = 7, /* unsupported protocol version */
	MPC_E__MAX
};

#endif /* MPCONV_COMPAT_H */
