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
	struct mpc_subflow *sf;

	if (!scr || !c)
		return -1;
	sf = &c->sf[scr->sfi & (MPC_MAX_SUBFLOWS - 1)];
	if (scr->up) {
		mpc_xlate_up(c, sf, &scr->pkt.seg, &scr->out, &scr->opt);
		mpc_memcpy(scr->route.src, c->leg_local, 16);
		mpc_memcpy(scr->route.dst, c->leg_remote, 16);
		scr->route.sport = c->leg_lport;
		scr->route.dport = c->leg_rport;
	} else {
		mpc_xlate_down(c, sf, &scr->pkt.seg, &scr->out, &scr->opt);
		mpc_memcpy(scr->route.src, sf->local, 16);
		mpc_memcpy(scr->route.dst, sf->remote, 16);
		scr->route.sport = sf->lport;
		scr->route.dport = sf->rport;
	}
	return scr->out.verdict;
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
	int rc, verdict;

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

	/* one subflow carries everything downstream until the scheduler */
	scr->up = flow->kind == MPC_FLOW_SUBFLOW;
	scr->sfi = scr->up ? sfi : 0;
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

	if (flow->kind == MPC_FLOW_SUBFLOW) {
		mpc_observe_up(conn, &conn->sf[sfi], &p->seg, &scr->out,
			       bpf_ktime_get_coarse_ns());
		st->up_xlate++;
		st->up_bytes += p->seg.paylen;
	} else {
		mpc_observe_down(conn, &p->seg, bpf_ktime_get_coarse_ns());
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
