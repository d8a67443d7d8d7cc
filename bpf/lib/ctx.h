/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ctx.h - one data-path library for both hooks.
 *
 * Every helper takes the program context as `void *ctx` plus a
 * compile-time constant `xdp`. All of them are always-inlined, so clang
 * folds the constant and each program keeps only its own hook's code; no
 * function pointer or run-time branch is left.
 */
#ifndef MPCONV_BPF_CTX_H
#define MPCONV_BPF_CTX_H

#include "mpconv/compat.h"

/* return codes that mean "let the kernel have it" / "consumed" per hook */
#define MPC_TC_ACT_OK 0
#define MPC_TC_ACT_SHOT 2
#define MPC_TC_ACT_REDIRECT 7

/*
 * Context fields are read with one inline-asm load at a constant offset.
 * Plain C lets clang keep the field offset in a register and form
 * ctx + off before loading, which the verifier refuses ("dereference of
 * modified ctx ptr R1 off=76 disallowed", seen for __sk_buff->data once
 * the field was read both before and after bpf_skb_pull_data()).
 */
MPC_INLINE unsigned long ctx_ld32(void *ctx, const int off)
{
	/* 64-bit result: a BPF 32-bit load zero-extends by itself, and an
	 * explicit zext on a packet pointer is "pointer arithmetic with <<=
	 * operator prohibited" */
	unsigned long v;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(v) : "r"(ctx), "i"(off));
	return v;
}

#define MPC_CTX_FIELD(type, ctx, field) \
	ctx_ld32(ctx, __builtin_offsetof(type, field))

/*
 * v & mask as one 64-bit AND right where the value is used. With ALU32
 * code clang computes lengths in 32-bit registers; after a spill and fill
 * the verifier no longer knows the upper half and refuses the length of a
 * helper call ("R4 min value is negative, either use unsigned or
 * 'var &= const'").
 */
#define MPC_BOUND(v, mask)                                \
	({                                                \
		__u64 __b = (v);                          \
		asm volatile("%0 &= " #mask : "+r"(__b)); \
		__b;                                      \
	})

/*
 * A helper's length n, already checked to be 1..mask+1 (mask 2^k - 1), as
 * ((n - 1) & mask) + 1, computed in one asm block in the register the
 * call gets. The value does not change; what the verifier can see does.
 * 6.1's verifier needs a length whose minimum it knows to be >= 1 (a
 * non-zero size for the helpers' ARG_CONST_SIZE, and a map-value or stack
 * range it can check) and gets there from none of: `if (n)` (it does not
 * narrow n != 0 to n >= 1), a check on one fill of a spilled n with the
 * call taking another fill (not linked), or clang's own re-computation of
 * n after the check. Newer verifiers accept those; 6.1 said "invalid
 * zero-sized read" or "R4 min value is outside of the allowed memory
 * range". Three ALU instructions, no branch.
 */
#define MPC_LEN(n, mask)                                  \
	({                                                \
		__u64 __l = (n);                          \
		asm volatile("%0 -= 1; %0 &= %1; %0 += 1" \
			     : "+r"(__l)                  \
			     : "i"(mask));                \
		__l;                                      \
	})

MPC_INLINE void *ctx_data(void *ctx, const bool xdp)
{
	if (xdp)
		return (void *)MPC_CTX_FIELD(struct xdp_md, ctx, data);
	return (void *)MPC_CTX_FIELD(struct __sk_buff, ctx, data);
}

MPC_INLINE void *ctx_data_end(void *ctx, const bool xdp)
{
	if (xdp)
		return (void *)MPC_CTX_FIELD(struct xdp_md, ctx, data_end);
	return (void *)MPC_CTX_FIELD(struct __sk_buff, ctx, data_end);
}

/* whole packet length, including what TC keeps in non-linear frags */
MPC_INLINE __u32 ctx_len(void *ctx, const bool xdp)
{
	if (xdp)
		return (__u32)(ctx_data_end(ctx, true) - ctx_data(ctx, true));
	return MPC_CTX_FIELD(struct __sk_buff, ctx, len);
}

MPC_INLINE __u32 ctx_ifindex(void *ctx, const bool xdp)
{
	if (xdp)
		return MPC_CTX_FIELD(struct xdp_md, ctx, ingress_ifindex);
	return MPC_CTX_FIELD(struct __sk_buff, ctx, ingress_ifindex);
}

MPC_INLINE long ctx_load_bytes(void *ctx, const bool xdp, __u32 off, void *to,
			       __u32 len)
{
	if (xdp)
		return bpf_xdp_load_bytes(ctx, off, to, len);
	return bpf_skb_load_bytes(ctx, off, to, len);
}

MPC_INLINE long ctx_store_bytes(void *ctx, const bool xdp, __u32 off,
				const void *from, __u32 len)
{
	if (xdp)
		return bpf_xdp_store_bytes(ctx, off, (void *)from, len);
	return bpf_skb_store_bytes(ctx, off, from, len, 0);
}

MPC_INLINE int ctx_pass(const bool xdp)
{
	return xdp ? XDP_PASS : MPC_TC_ACT_OK;
}

MPC_INLINE int ctx_drop(const bool xdp)
{
	return xdp ? XDP_DROP : MPC_TC_ACT_SHOT;
}

#endif /* MPCONV_BPF_CTX_H */
