// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mpconv.bpf.c - the data path: one XDP and one TC (clsact ingress)
 * program sharing maps and one inline library (bpf/lib/).
 *
 * Both entry points do the same thing through ctx.h's shim:
 * parse -> classify -> (translate | slow path | pass). Packets that are
 * not ours always pass untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "mpconv/abi.h"
#include "mpconv/tcpopt.h"
#include "maps.h"
#include "lib/ctx.h"
#include "lib/parse.h"

MPC_INLINE void count_drop(struct mpc_stats *st, enum mpc_drop_reason r)
{
	__u64 *c = bpf_map_lookup_elem(&mpc_drops, &r), one = 1;

	if (c)
		*c += 1;
	else
		bpf_map_update_elem(&mpc_drops, &r, &one, BPF_NOEXIST);
	st->dropped++;
}

MPC_INLINE int mpc_main(void *ctx, const bool xdp)
{
	struct mpc_tcpopts to;
	struct mpc_stats *st;
	struct mpc_pkt pkt;
	__u32 zero = 0;
	int rc;

	st = bpf_map_lookup_elem(&mpc_stats, &zero);
	if (!st)
		return ctx_pass(xdp);
	st->rx_packets++;
	st->rx_bytes += ctx_len(ctx, xdp);

	if (!xdp) {
		/* headers must be linear for direct access */
		__u32 want = MPC_MIN(ctx_len(ctx, false), 128);

		if (ctx_data_end(ctx, false) - ctx_data(ctx, false) < want)
			bpf_skb_pull_data(ctx, want);
	}

	rc = mpc_parse(ctx, xdp, &pkt);
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

	if (pkt.l3_proto == MPC_ETH_P_IP)
		st->tcp_ipv4++;
	else
		st->tcp_ipv6++;

	if (mpc_tcpopt_walk(pkt.opts, pkt.optlen, &to)) {
		st->malformed++;
		return ctx_pass(xdp);
	}
	if (to.n_mptcp)
		st->mptcp_option++;

	st->pass_not_ours++;
	return ctx_pass(xdp);
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
