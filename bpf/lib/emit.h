/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * emit.h - write a translated segment (struct mpc_xlate_out) into the
 * packet and send it on its way, for both hooks.
 *
 * The new IP and TCP headers are built whole in per-CPU scratch, then
 * stored over the old ones; the payload never moves. When the TCP header
 * changes size (downstream inserts a DSS option):
 *  - XDP moves the packet start with bpf_xdp_adjust_head() and writes
 *    Ethernet + IP + TCP at the new start;
 *  - TC inserts (or removes) room after the IP header with
 *    bpf_skb_adjust_room(BPF_ADJ_ROOM_NET) and writes IP + TCP.
 *    This leaves skb->transport_header (and, for CHECKSUM_PARTIAL,
 *    csum_start) where the old TCP header began. GSO packets are marked
 *    SKB_GSO_DODGY by the helper, and software segmentation re-derives the
 *    transport header from the IP header (inet_gso_segment), so they come
 *    out right; a CHECKSUM_PARTIAL packet is only produced locally or by
 *    veth and is trusted by its veth receiver. A non-GSO CHECKSUM_PARTIAL
 *    packet handed to a NIC with checksum offload would get its checksum
 *    written in the wrong place: see docs/design.md "TC and partial
 *    checksums".
 *
 * Checksums: the IPv4 header checksum is computed over the new header; the
 * TCP checksum is updated by differences (old vs new TCP header, old vs
 * new pseudo-header), so the payload is never summed. XDP folds the
 * differences itself; TC goes through bpf_l4_csum_replace(), which knows
 * whether the skb carries a full or a partial checksum.
 *
 * Routing: bpf_fib_lookup() on the new addresses. XDP redirects on
 * success and hands the packet to the agent (MPC_SLOW_NEIGH) when the next
 * hop is unresolved; TC resolves it with bpf_redirect_neigh().
 */
#ifndef MPCONV_BPF_EMIT_H
#define MPCONV_BPF_EMIT_H

#include "mpconv/abi.h"
#include "lib/ctx.h"
#include "lib/parse.h"

#define MPC_HDR_MASK 127
#define MPC_ETH_LEN 14

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* ones-complement fold of a 32-bit partial sum into 16 bits */
MPC_INLINE __u16 mpc_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)((s & 0xffff) + (s >> 16));
}

/* 20-byte IPv4 header checksum, header in buf at off (mask 127) */
MPC_INLINE __u16 mpc_ip4_csum(const __u8 *h, __u32 off)
{
	__u64 s = 0;
	__u32 k;

	for (k = 0; k < 20; k += 2)
		s += MPC_RD16(h, off + k, MPC_HDR_MASK);
	return (__u16)~mpc_fold(s);
}

/* pseudo-header (addresses, protocol, TCP length) as checksum words */
MPC_INLINE __u32 mpc_pseudo(__u8 *b, __u8 family, const __u32 *src,
			    const __u32 *dst, __u32 tcplen)
{
	if (family == 4) {
		mpc_memcpy(b, &src[3], 4);
		mpc_memcpy(b + 4, &dst[3], 4);
		b[8] = 0;
		b[9] = MPC_IPPROTO_TCP;
		b[10] = tcplen >> 8;
		b[11] = tcplen;
		return 12;
	}
	mpc_memcpy(b, src, 16);
	mpc_memcpy(b + 16, dst, 16);
	b[32] = tcplen >> 24;
	b[33] = tcplen >> 16;
	b[34] = tcplen >> 8;
	b[35] = tcplen;
	b[36] = 0;
	b[37] = 0;
	b[38] = 0;
	b[39] = MPC_IPPROTO_TCP;
	return 40;
}

/* old IP + TCP headers into scr->old (checksum differences, copied fields) */
MPC_INLINE int mpc_load_old(void *ctx, const bool xdp, struct mpc_scratch *scr)
{
	struct mpc_pkt *p = &scr->pkt;
	__u32 olen = (p->family == 4 ? 20 : 40) + (p->tcp_hlen & 0x3c);

	if (olen < 40 || olen > 100)
		return -1;
	return ctx_load_bytes(ctx, xdp, p->l3_off, scr->old,
			      MPC_LEN(olen, MPC_HDR_MASK))
		       ? -1
		       : 0;
}

/*
 * Build the new IP + TCP headers in scr->hdr (after a 14-byte Ethernet
 * slot) from scr->out and scr->route, and the checksum differences into
 * scr->hdr_diff / pseudo_diff. Pure: no packet access, so the data path
 * can verify it once as a global function. Returns the TCP header
 * length, or <0.
 */
MPC_INLINE int mpc_build_headers(struct mpc_scratch *scr)
{
	struct mpc_pkt *p = &scr->pkt;
	struct mpc_xlate_out *o = &scr->out;
	struct mpc_route *r = &scr->route;
	__u32 old_tcp = p->tcp_hlen & 0x3c, new_tcp, optlen, k, tb;
	__s32 grow;
	__u8 *h = scr->hdr;

	optlen = o->optlen & 0x3c;
	new_tcp = 20 + optlen;
	grow = (__s32)new_tcp - (__s32)old_tcp;
	if (old_tcp < 20)
		return -1;

	if (p->family == 4) {
		tb = MPC_ETH_LEN + 20;
		MPC_WR8(h, 14, MPC_HDR_MASK, 0x45);
		MPC_WR8(h, 15, MPC_HDR_MASK, scr->old[1]);
		MPC_WR16(h, 16, MPC_HDR_MASK,
			 MPC_RD16(scr->old, 2, 127) + grow);
		MPC_WR16(h, 18, MPC_HDR_MASK, MPC_RD16(scr->old, 4, 127));
		MPC_WR16(h, 20, MPC_HDR_MASK, MPC_RD16(scr->old, 6, 127));
		MPC_WR8(h, 22, MPC_HDR_MASK, 64);
		MPC_WR8(h, 23, MPC_HDR_MASK, MPC_IPPROTO_TCP);
		MPC_WR16(h, 24, MPC_HDR_MASK, 0);
		mpc_memcpy(h + 26, &r->src[3], 4);
		mpc_memcpy(h + 30, &r->dst[3], 4);
		MPC_WR16(h, 24, MPC_HDR_MASK, mpc_ip4_csum(h, 14));
		scr->old_check = MPC_RD16(scr->old, 20 + 16, 127);
		scr->old[20 + 16] = 0;
		scr->old[20 + 17] = 0;
	} else {
		tb = MPC_ETH_LEN + 40;
		MPC_WR32(h, 14, MPC_HDR_MASK, MPC_RD32(scr->old, 0, 127));
		MPC_WR16(h, 18, MPC_HDR_MASK,
			 MPC_RD16(scr->old, 4, 127) + grow);
		MPC_WR8(h, 20, MPC_HDR_MASK, MPC_IPPROTO_TCP);
		MPC_WR8(h, 21, MPC_HDR_MASK, 64);
		mpc_memcpy(h + 22, r->src, 16);
		mpc_memcpy(h + 38, r->dst, 16);
		scr->old_check = MPC_RD16(scr->old, 40 + 16, 127);
		scr->old[40 + 16] = 0;
		scr->old[40 + 17] = 0;
	}

	MPC_WR16(h, tb, MPC_HDR_MASK, r->sport);
	MPC_WR16(h, tb + 2, MPC_HDR_MASK, r->dport);
	MPC_WR32(h, tb + 4, MPC_HDR_MASK, o->seq);
	MPC_WR32(h, tb + 8, MPC_HDR_MASK, o->ack);
	MPC_WR8(h, tb + 12, MPC_HDR_MASK, (new_tcp / 4) << 4);
	MPC_WR8(h, tb + 13, MPC_HDR_MASK, o->flags);
	MPC_WR16(h, tb + 14, MPC_HDR_MASK, o->win);
	MPC_WR16(h, tb + 16, MPC_HDR_MASK, 0);
	MPC_WR16(h, tb + 18, MPC_HDR_MASK,
		 (o->flags & MPC_TH_URG)
			 ? MPC_RD16(scr->old, tb - MPC_ETH_LEN + 18, 127)
			 : 0);
	for (k = 0; k < MPC_TCPOPT_MAXLEN; k += 4) {
		if (k >= optlen)
			break;
		MPC_WR32(h, tb + 20 + k, MPC_HDR_MASK,
			 MPC_RD32(o->opts, k, MPC_TCPOPT_MASK));
	}

	/* differences: TCP headers (check zeroed in both), pseudo-headers */
	if (p->family == 4) {
		scr->hdr_diff = bpf_csum_diff((void *)(scr->old + 20), old_tcp,
					      (void *)(h + 34), new_tcp, 0);
		mpc_pseudo(scr->ps_old, 4, p->saddr, p->daddr,
			   old_tcp + p->seg.paylen);
		mpc_pseudo(scr->ps_new, 4, r->src, r->dst,
			   new_tcp + p->seg.paylen);
		scr->pseudo_diff = bpf_csum_diff((void *)scr->ps_old, 12,
						 (void *)scr->ps_new, 12, 0);
	} else {
		scr->hdr_diff = bpf_csum_diff((void *)(scr->old + 40), old_tcp,
					      (void *)(h + 54), new_tcp, 0);
		mpc_pseudo(scr->ps_old, 6, p->saddr, p->daddr,
			   old_tcp + p->seg.paylen);
		mpc_pseudo(scr->ps_new, 6, r->src, r->dst,
			   new_tcp + p->seg.paylen);
		scr->pseudo_diff = bpf_csum_diff((void *)scr->ps_old, 40,
						 (void *)scr->ps_new, 40, 0);
	}
	scr->new_tcp = new_tcp;
	return (int)new_tcp;
}

MPC_INLINE int mpc_fib(void *ctx, const bool xdp, struct mpc_scratch *scr,
		       __u32 tot_len)
{
	struct bpf_fib_lookup *f = &scr->fib;
	struct mpc_route *r = &scr->route;

	mpc_memset(f, 0, sizeof(*f));
	f->l4_protocol = MPC_IPPROTO_TCP;
	f->sport = bpf_htons(r->sport);
	f->dport = bpf_htons(r->dport);
	f->tot_len = tot_len;
	f->ifindex = ctx_ifindex(ctx, xdp);
	if (scr->pkt.family == 4) {
		f->family = AF_INET;
		f->ipv4_src = r->src[3];
		f->ipv4_dst = r->dst[3];
	} else {
		f->family = AF_INET6;
		mpc_memcpy(f->ipv6_src, r->src, 16);
		mpc_memcpy(f->ipv6_dst, r->dst, 16);
	}
	return bpf_fib_lookup(ctx, f, sizeof(*f), 0);
}

enum mpc_emit_rc {
	MPC_EMIT_SENT = 0,  /* *verdict is the redirect */
	MPC_EMIT_NEIGH = 1, /* rewritten, next hop unresolved (XDP) */
	MPC_EMIT_FAIL = 2,  /* helper failure: drop */
	MPC_EMIT_NOROUTE = 3,
	MPC_EMIT_GSO = 4, /* TC: GSO packet whose header would grow */
};

/*
 * Write the headers mpc_build_headers() built into the packet and route
 * it. On MPC_EMIT_SENT, *verdict holds the program's return value.
 */
MPC_INLINE int mpc_emit(void *ctx, const bool xdp, struct mpc_scratch *scr,
			int *verdict)
{
	struct mpc_pkt *p = &scr->pkt;
	__s32 hdr_diff = scr->hdr_diff, pseudo_diff = scr->pseudo_diff, grow;
	__u32 ip_len = p->family == 4 ? 20 : 40, n, tot;
	__u16 old_check = scr->old_check, csum;
	int new_tcp = scr->new_tcp, rc;

	if (new_tcp < 20 || new_tcp > 60)
		return MPC_EMIT_FAIL;
	grow = new_tcp - (__s32)(p->tcp_hlen & 0x3c);
	tot = ip_len + new_tcp + p->seg.paylen;
	n = (MPC_ETH_LEN + ip_len + new_tcp) & MPC_HDR_MASK;

	/* TC: tot_len 0, the kernel checks the skb itself (GSO aware); a
	 * length would make every GRO super-packet FRAG_NEEDED */
	rc = mpc_fib(ctx, xdp, scr, xdp ? tot : 0);

	if (xdp) {
		__u64 s;

		if (rc != BPF_FIB_LKUP_RET_SUCCESS &&
		    rc != BPF_FIB_LKUP_RET_NO_NEIGH)
			return MPC_EMIT_NOROUTE;
		/* TCP checksum from the differences. bpf_csum_diff() sums
		 * memory as host-order words: fold, then swap to network order
		 * before adding the (network-order) old checksum */
		s = mpc_fold((__u64)(__u32)hdr_diff + (__u32)pseudo_diff);
		s = (__u16)~old_check + (__u64)bpf_ntohs((__u16)s);
		csum = ~mpc_fold(s);
		MPC_WR16(scr->hdr, MPC_ETH_LEN + ip_len + 16, MPC_HDR_MASK,
			 csum);
		mpc_memcpy(scr->hdr, scr->fib.dmac, 6);
		mpc_memcpy(scr->hdr + 6, scr->fib.smac, 6);
		MPC_WR16(scr->hdr, 12, MPC_HDR_MASK,
			 p->family == 4 ? MPC_ETH_P_IP : MPC_ETH_P_IPV6);
		if (grow && bpf_xdp_adjust_head(ctx, -grow))
			return MPC_EMIT_FAIL;
		if (n < MPC_ETH_LEN + 40 ||
		    bpf_xdp_store_bytes(ctx, 0, scr->hdr,
					MPC_LEN(n, MPC_HDR_MASK)))
			return MPC_EMIT_FAIL;
		if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
			return MPC_EMIT_NEIGH;
		*verdict = bpf_redirect(scr->fib.ifindex, 0);
		return MPC_EMIT_SENT;
	}

	/* TC */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return MPC_EMIT_NOROUTE;
	/* a GSO super-packet cannot have its TCP header grown: the kernel
	 * would segment it from a stale csum_start and drop it (see the
	 * comment at the top). The agent turns GRO off on TC interfaces;
	 * what still comes (local TSO senders) is dropped and counted. */
	if (grow && MPC_CTX_FIELD(struct __sk_buff, ctx, gso_size))
		return MPC_EMIT_GSO;
	MPC_WR16(scr->hdr, MPC_ETH_LEN + ip_len + 16, MPC_HDR_MASK, old_check);
	if (grow && bpf_skb_adjust_room(ctx, grow, BPF_ADJ_ROOM_NET, 0))
		return MPC_EMIT_FAIL;
	if (n < MPC_ETH_LEN + 40 ||
	    bpf_skb_store_bytes(ctx, MPC_ETH_LEN, scr->hdr + MPC_ETH_LEN,
				MPC_LEN(n - MPC_ETH_LEN, MPC_HDR_MASK),
				BPF_F_RECOMPUTE_CSUM))
		return MPC_EMIT_FAIL;
	if (bpf_l4_csum_replace(ctx, MPC_ETH_LEN + ip_len + 16, 0, hdr_diff,
				0) ||
	    bpf_l4_csum_replace(ctx, MPC_ETH_LEN + ip_len + 16, 0, pseudo_diff,
				BPF_F_PSEUDO_HDR))
		return MPC_EMIT_FAIL;
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		mpc_memcpy(scr->hdr, scr->fib.dmac, 6);
		mpc_memcpy(scr->hdr + 6, scr->fib.smac, 6);
		if (bpf_skb_store_bytes(ctx, 0, scr->hdr, 12, 0))
			return MPC_EMIT_FAIL;
		*verdict = bpf_redirect(scr->fib.ifindex, 0);
		return MPC_EMIT_SENT;
	}
	{
		struct bpf_redir_neigh nh = {};

		if (p->family == 4) {
			nh.nh_family = AF_INET;
			nh.ipv4_nh = scr->fib.ipv4_dst;
		} else {
			nh.nh_family = AF_INET6;
			mpc_memcpy(nh.ipv6_nh, scr->fib.ipv6_dst, 16);
		}
		*verdict = bpf_redirect_neigh(scr->fib.ifindex, &nh, sizeof(nh),
					      0);
	}
	return MPC_EMIT_SENT;
}

#endif /* MPCONV_BPF_EMIT_H */
