/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * parse.h - Ethernet / VLAN / IPv4 / IPv6 / TCP header parsing for both
 * hooks, with every header bounds-checked against data_end.
 *
 * The result, struct mpc_pkt, is what the rest of the data path works
 * from: header offsets (so rewrites can address them), the 4-tuple in a
 * family-independent form, the TCP fixed fields in host order, and the
 * TCP option area copied into a MPC_TCPOPT_CAP-byte buffer ready for
 * mpc_tcpopt_walk() and mpc_mptcp_parse().
 */
#ifndef MPCONV_BPF_PARSE_H
#define MPCONV_BPF_PARSE_H

#include "mpconv/abi.h"
#include "mpconv/tcpopt.h"
#include "mpconv/xlate.h"
#include "lib/ctx.h"

#define MPC_MAX_VLAN 2

enum mpc_parse_rc {
	MPC_PARSE_TCP = 0, /* a TCP segment, mpc_pkt filled */
	MPC_PARSE_NOT_IP,  /* not IPv4/IPv6: not ours */
	MPC_PARSE_NOT_TCP, /* IP, but not TCP, or a fragment */
	MPC_PARSE_BAD_IP,  /* truncated/inconsistent IP header */
	MPC_PARSE_BAD_TCP, /* truncated TCP header or bad data offset */
};

struct mpc_pkt {
	__u16 l3_off;	/* offset of the IP header */
	__u16 l4_off;	/* offset of the TCP header */
	__u16 l3_proto; /* MPC_ETH_P_IP or MPC_ETH_P_IPV6 */
	__u16 tcp_hlen; /* doff * 4 */
	__u32 pkt_len;	/* ctx length */
	__u8 family;	/* 4 or 6 */
	__u8 ip_hlen;	/* 20 (IPv4 without options) .. 60, or 40 */
	__u8 vlan;	/* VLAN tags seen */
	__u8 _pad;
	__u32 saddr[4]; /* IPv4 in [3], the rest zero */
	__u32 daddr[4]; /* addresses in network byte order */
	__u16 sport;	/* ports in host order */
	__u16 dport;
	__u32 _pad2;
	struct mpc_seg seg; /* the TCP segment: fields, options, walk */
};

MPC_INLINE int mpc_parse(void *ctx, const bool xdp, struct mpc_pkt *p)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 off = sizeof(struct ethhdr), i, tcp_total;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	__u16 proto;

	p->pkt_len = ctx_len(ctx, xdp);
	if ((void *)(eth + 1) > end)
		return MPC_PARSE_NOT_IP;
	proto = bpf_ntohs(eth->h_proto);
	for (i = 0; i < MPC_MAX_VLAN; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != MPC_ETH_P_8021Q && proto != MPC_ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > end)
			return MPC_PARSE_NOT_IP;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		off += sizeof(*vh);
	}
	p->l3_off = off;
	p->l3_proto = proto;
	p->vlan = i;

	if (proto == MPC_ETH_P_IP) {
		struct iphdr *ip = data + off;
		__u32 ihl, tot;

		if ((void *)(ip + 1) > end)
			return MPC_PARSE_BAD_IP;
		if (ip->version != 4)
			return MPC_PARSE_BAD_IP;
		ihl = ip->ihl * 4;
		tot = bpf_ntohs(ip->tot_len);
		if (ihl < sizeof(*ip) || tot < ihl || off + tot > p->pkt_len)
			return MPC_PARSE_BAD_IP;
		if (ip->protocol != MPC_IPPROTO_TCP)
			return MPC_PARSE_NOT_TCP;
		/* any fragment (MF set or offset != 0) is not ours */
		if (ip->frag_off & bpf_htons(0x3fff))
			return MPC_PARSE_NOT_TCP;
		mpc_memset(p->saddr, 0, sizeof(p->saddr));
		mpc_memset(p->daddr, 0, sizeof(p->daddr));
		p->saddr[3] = ip->saddr;
		p->daddr[3] = ip->daddr;
		p->family = 4;
		p->ip_hlen = ihl;
		off += ihl;
		tcp_total = tot - ihl;
	} else if (proto == MPC_ETH_P_IPV6) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > end)
			return MPC_PARSE_BAD_IP;
		if (ip6->version != 6)
			return MPC_PARSE_BAD_IP;
		tcp_total = bpf_ntohs(ip6->payload_len);
		if (off + sizeof(*ip6) + tcp_total > p->pkt_len)
			return MPC_PARSE_BAD_IP;
		/* extension headers are never on converted flows: not ours */
		if (ip6->nexthdr != MPC_IPPROTO_TCP)
			return MPC_PARSE_NOT_TCP;
		mpc_memcpy(p->saddr, &ip6->saddr, 16);
		mpc_memcpy(p->daddr, &ip6->daddr, 16);
		p->family = 6;
		p->ip_hlen = sizeof(*ip6);
		off += sizeof(*ip6);
	} else {
		return MPC_PARSE_NOT_IP;
	}

	p->l4_off = off;
	th = data + off;
	if ((void *)(th + 1) > end)
		return MPC_PARSE_BAD_TCP;
	p->tcp_hlen = th->doff * 4;
	if (p->tcp_hlen < sizeof(*th) || p->tcp_hlen > tcp_total)
		return MPC_PARSE_BAD_TCP;
	p->seg.paylen = tcp_total - p->tcp_hlen;
	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	p->seg.seq = bpf_ntohl(th->seq);
	p->seg.ack = bpf_ntohl(th->ack_seq);
	p->seg.win = bpf_ntohs(th->window);
	p->seg.flags = ((__u8 *)th)[13];
	p->seg.optlen = (p->tcp_hlen - sizeof(*th)) & 0x3f;
	/* doff <= 15 makes this <= 40; MPC_LEN tells the verifier (1..64,
	 * the size of opts) */
	if (p->seg.optlen &&
	    ctx_load_bytes(ctx, xdp, off + sizeof(*th), p->seg.opts,
			   MPC_LEN(p->seg.optlen, MPC_TCPOPT_MASK)))
		return MPC_PARSE_BAD_TCP;
	return MPC_PARSE_TCP;
}

#endif /* MPCONV_BPF_PARSE_H */
