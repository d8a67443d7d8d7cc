#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Leg 4-tuple reuse. The converter's legs all leave from one external
# address, so a new leg can meet an old connection of the same 4-tuple at
# the server: its TIME_WAIT, or one a previous agent left behind. Linux
# refuses a SYN in TIME_WAIT whose timestamp is older than the last one
# (PAWS), and two clients' timestamp clocks are unrelated (Linux offsets
# them per address pair). The server then answers our SYN with an ACK of
# the old connection; RFC 9293 (3.10.7.3, SYN-SENT) has us answer that
# with <SEQ=SEG.ACK><CTL=RST>, which ends the old connection, and the
# next SYN gets a SYN/ACK. Without it the leg times out: Network Failure.
#
#   - one leg port (--port-range P-P) and one server port, N short
#     transfers alternating between the client's two addresses (c1, c2:
#     different timestamp clocks), each verified, MPTCP, no Error TLV.
#     How often the old connection is in the way depends on who closes
#     first; the agent's leg_stale_rst says how often it reset one (a run
#     here: 2 of 6 on the TC path, each transfer done 200 ms later instead
#     of failing after leg-timeout with Network Failure)
#
# Each transfer waits until the previous leg's state left the converter
# (up to 10 s after a clean close), so the port is free again; the
# server's TIME_WAIT (60 s) is still there.
#
# env: DATAPATHS ("xdp tc"), N (6), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DATAPATHS=${DATAPATHS:-xdp tc}
N=${N:-6}
PORT=61111

require_topo
require_mptcp
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
topo_create --xdp
convert_client_setup "$NS_CLIENT"
log "kernel $(uname -r), data paths: $DATAPATHS, $N transfers on leg port $PORT"

case_reuse() {
	local dp=$1 i src rc=0 ok=0 st0 st1 tw
	# one server port too: the same 4-tuple every time
	local SPORT=$((7300 + ${#dp}))
	st0=$(mpc_counter leg_stale_rst || echo 0)
	for i in $(seq "$N"); do
		# the port is the converter's again once the last leg's state
		# left the maps (it lingers up to 10 s after a clean close)
		for _ in $(seq 150); do
			[ "$(mpc_conns_n || echo 0)" = 0 ] && break
			nap 0.1
		done
		src=$IP4_C1
		[ $((i % 2)) = 0 ] && src=$IP4_C2
		if xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
			--port "$SPORT" --client-mptcp --size 256k --timeout 40 --name "$dp-reuse-$i" \
			-- --bind "$src" --expect-mptcp; then
			ok=$((ok + 1))
		else
			rc=1
			info "transfer $i from $src: Error TLV ${XFER_CONVERT_ERROR:-?}"
		fi
		tw=$(ip netns exec "$NS_SERVER" ss -tanH state time-wait "( dport = :$PORT )" | grep -c . || true)
		info "after transfer $i (from $src): $tw TIME_WAIT socket(s) at the server for the leg's 4-tuple"
	done
	st1=$(mpc_counter leg_stale_rst || echo 0)
	assert_eq "$ok" "$N" "transfers verified, all on leg port $PORT, alternating c1/c2"
	assert_eq "$rc" 0 "no failed transfer (no Network Failure)"
	# whether the server closes first (TIME_WAIT on its side) and then
	# refuses the other client's SYN (PAWS, or its ISN) is up to the
	# kernels: the count says how often the reset was needed this time
	info "agent leg_stale_rst +$((st1 - st0)) (old connections at the server reset, each costing one SYN retransmission, 200 ms)"
}

for dp in $DATAPATHS; do
	if ! mpc_start --datapath "$dp" --port-range "$PORT-$PORT"; then
		run_case "$dp: converter starts" false
		continue
	fi
	run_case "$dp: $N legs in a row on one port, two clients" case_reuse "$dp"
	mpc_stop || true
done
test_finish
