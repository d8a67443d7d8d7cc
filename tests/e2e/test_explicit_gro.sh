#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The TC data path with GRO left on where only the clients' packets
# arrive (mpconvd --gro-interfaces m1,m2; GRO off on m3, where the
# server's packets arrive and DSS options must be inserted):
#
#   - SIZE upload: SHA-256 equal, MPTCP at the client, plain TCP at the
#     server, and the data path translated GRO super-packets: fewer
#     up_xlate than the wire segments the client sent (up_bytes / MSS),
#     not one per segment; no MPC_DROP_GSO
#   - SIZE download: SHA-256 equal, no MPC_DROP_GSO (GRO off on m3)
#   - the agent leaves GRO as it found it on m1/m2 and restores m3 on exit
#
# The veths carry MTU-sized frames on the wire (tx off at the endpoints,
# as NICs do) and GRO on m1/m2 merges them, as a NIC's GRO would.
#
# env: SIZE (512M), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-512M}

require_topo
require_mptcp
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
topo_create --xdp
convert_client_setup "$NS_CLIENT"
log "kernel $(uname -r), TC with --gro-interfaces $IF_M1,$IF_M2, $SIZE each way"

_gro() { ip netns exec "$NS_CONV" ethtool -k "$1" | awk '$1 == "generic-receive-offload:" { print $2 }'; }

# drops by reason MPC_DROP_GSO (mpconvctl stats "drops"); a missing
# counter is an error, not a zero
_gso_drops() { mpc_counter MPC_DROP_GSO || die "no MPC_DROP_GSO in mpconvctl stats"; }

case_up() {
	local rc=0 s0 x0 b0 g0 x b g
	s0=$(mpc_counter up_xlate || echo 0)
	b0=$(mpc_counter up_bytes || echo 0)
	g0=$(_gso_drops)
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --up "$SIZE" --down 0 --timeout 300 --name gro-up \
		-- --expect-mptcp --expect-syn-data || rc=1
	x=$(($(mpc_counter up_xlate || echo 0) - s0))
	b=$(($(mpc_counter up_bytes || echo 0) - b0))
	g=$(($(_gso_drops) - g0))
	info "up_xlate +$x for +$b bytes: $((b / (x > 0 ? x : 1))) bytes per translation (MSS ~1448)"
	assert_eq "$rc" 0 "$SIZE upload verified, MPTCP"
	# how much GRO merges depends on how many segments a NAPI poll finds
	# (~40 here, fewer in a slow VM): fewer translations than segments
	# proves super-packets went through whole
	assert_le "$x" $((b / 1448 * 9 / 10)) "up_xlate < the wire segments (GRO super-packets translated whole)"
	assert_eq "$g" 0 "MPC_DROP_GSO"
}

case_down() {
	local rc=0 g0 g
	g0=$(_gso_drops)
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --up 0 --down "$SIZE" --timeout 300 --name gro-down \
		-- --expect-mptcp --expect-syn-data || rc=1
	g=$(($(_gso_drops) - g0))
	assert_eq "$rc" 0 "$SIZE download verified, MPTCP"
	assert_eq "$g" 0 "MPC_DROP_GSO (GRO off on $IF_M3)"
}

g1=$(_gro "$IF_M1")
if ! mpc_start --datapath tc --gro-interfaces "$IF_M1,$IF_M2"; then
	run_case "tc: converter starts with --gro-interfaces" false
else
	run_case "GRO on $IF_M1/$IF_M2: agent leaves it on, $IF_M3 off" \
		eval '[ "$(_gro "$IF_M1")" = on ] && [ "$(_gro "$IF_M2")" = on ] && [ "$(_gro "$IF_M3")" = off ]'
	run_case "tc, GRO on the client side: $SIZE upload as super-packets" case_up
	run_case "tc, GRO on the client side: $SIZE download" case_down
	mpc_stop || true
	run_case "GRO on $IF_M1 as before the agent ($g1)" eval '[ "$(_gro "$IF_M1")" = "$g1" ]'
fi
test_finish
