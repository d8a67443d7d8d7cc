#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The harness alone under netem, no converter: the kernel's MPTCP client
# in the client namespace talks to the kernel's MPTCP server in the
# converter namespace (as test_harness_mptcp.sh), both subflows over
# netem paths of different length, each direction of each link:
#   link 1: delay RTT1/2 (20 ms RTT), LOSS % loss, REORDER % reordering,
#           NETEM_MBIT Mbit/s
#   link 2: delay RTT2/2 (80 ms RTT), the same loss, reordering and rate
# Cases: the RTTs are what netem was told (ping, min of 5, before loss and
# reordering are switched on: a reordered packet skips the delay); IPv4 and IPv6
# transfers of SIZE each way, SHA-256 verified, MPTCP without fallback,
# both subflows carried data, netem dropped packets and TCP retransmitted.
# Loss and reordering are switched on once the join is established (see
# case_transfer).
#
# Needs sch_netem: the dev machines' and CI's host kernel has none, so
# there this test is skipped ("SKIP: no sch_netem"); `make vmtest` runs it
# in qemu guests (vmtest/README.md).
#
# env: SIZE (4M), NETEM_MBIT (8), RTT1 (20), RTT2 (80), LOSS (1),
#      REORDER (1), SLOW_MBIT (1: the rate until the join is in, so that
#      the transfer cannot end before loss comes on), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-4M}
NETEM_MBIT=${NETEM_MBIT:-8}
RTT1=${RTT1:-20}
RTT2=${RTT2:-80}
LOSS=${LOSS:-1}
REORDER=${REORDER:-1}
SLOW_MBIT=${SLOW_MBIT:-1}

require_topo
require_mptcp
probe_netem || skip "$PROBE_WHY"
topo_create

# netem arguments for one direction of a path of RTT ms
_netem_args() {
	printf '%s\n' delay "$(($1 / 2))ms" reorder "$REORDER%" loss random "$LOSS%" \
		rate "${NETEM_MBIT}mbit"
}
mapfile -t NETEM1 < <(_netem_args "$RTT1")
mapfile -t NETEM2 < <(_netem_args "$RTT2")
# first delay and rate alone, for the RTT case: a reordered packet skips
# netem's delay (it is sent at once), so a ping over the full netem can
# come back after half the RTT
link_netem 1 "${NETEM1[@]:0:2}" "${NETEM1[@]: -2}"
link_netem 2 "${NETEM2[@]:0:2}" "${NETEM2[@]: -2}"

log "kernel $(uname -r), congestion control $(ip netns exec "$NS_CLIENT" sysctl -n net.ipv4.tcp_congestion_control), $SIZE each way"
log "link 1 (each direction): netem ${NETEM1[*]}"
log "link 2 (each direction): netem ${NETEM2[*]}"

case_rtt() {
	local r1 r2
	r1=$(ping_min_ms "$NS_CLIENT" "$IP4_C1" "$IP4_M1") || r1=none
	r2=$(ping_min_ms "$NS_CLIENT" "$IP4_C2" "$IP4_M2") || r2=none
	info "ping min RTT: link 1 $r1 ms, link 2 $r2 ms"
	assert_ge "$r1" "$RTT1" "link 1 RTT (ms)"
	assert_lt "$r1" $((RTT1 + 40)) "link 1 RTT (ms)"
	assert_ge "$r2" "$RTT2" "link 2 RTT (ms)"
	assert_lt "$r2" $((RTT2 + 40)) "link 2 RTT (ms)"
	# now with loss and reordering, for the transfers
	link_netem 1 "${NETEM1[@]}" || return 1
	link_netem 2 "${NETEM2[@]}" || return 1
}

# transfer FAMILY SERVER_ADDR
case_transfer() {
	local fam=$1 addr=$2 rc=0 d1a d2a d1 d2 retr0 retr ofo0 ofo c j0 j ja0 i
	j0=
	for c in MPTcpExtMPJoinSynTx MPTcpExtMPJoinSynAckRx MPTcpExtMPJoinSynAckHMacFailure; do
		j0+=" $(nstat_get "$NS_CLIENT" "$c")"
	done
	d1a=$(netem_drops 1)
	d2a=$(netem_drops 2)
	retr0=$(nstat_get "$NS_CLIENT" TcpRetransSegs)
	ofo0=$(nstat_get "$NS_CONV" TcpExtTCPOFOQueue)
	# The join handshake runs over delay and rate only; loss and reordering
	# start once the server has the join's third ACK. Under 1 % loss
	# Linux 6.12 sometimes kept a join it had the SYN/ACK of from ever
	# carrying data (1 run in 4, IPv6): a kernel property this harness
	# test is not about, and it made the suite flaky. Until then both
	# links run at SLOW_MBIT: in CI (6.12, IPv6, TCG) the 4 MiB each way
	# were over before loss came on (netem dropped 0 packets), the join
	# poll being slow there.
	link_netem 1 "${NETEM1[@]:0:2}" rate "${SLOW_MBIT}mbit" || return 1
	link_netem 2 "${NETEM2[@]:0:2}" rate "${SLOW_MBIT}mbit" || return 1
	ja0=$(nstat_get "$NS_CONV" MPTcpExtMPJoinAckRx)
	xfer_start "$NS_CLIENT" "$NS_CONV" --addr "$addr" --mptcp --size "$SIZE" \
		--timeout 240 --name "$fam-netem" -- --expect-mptcp || return 1
	for i in $(seq 100); do
		[ "$(nstat_get "$NS_CONV" MPTcpExtMPJoinAckRx)" -gt "$ja0" ] && break
		nap 0.1
	done
	info "server MPTcpExtMPJoinAckRx +$(($(nstat_get "$NS_CONV" MPTcpExtMPJoinAckRx) - ja0)) after $((i / 10)).$((i % 10)) s; loss and reordering on, ${NETEM_MBIT} Mbit/s"
	kill -0 "$XFER_CLIENT_PID" 2>/dev/null ||
		info "the transfer was over before loss came on: raise SIZE or lower SLOW_MBIT"
	link_netem 1 "${NETEM1[@]}" || return 1
	link_netem 2 "${NETEM2[@]}" || return 1
	xfer_wait || rc=1
	d1=$(($(netem_drops 1) - d1a))
	d2=$(($(netem_drops 2) - d2a))
	retr=$(($(nstat_get "$NS_CLIENT" TcpRetransSegs) - retr0))
	ofo=$(($(nstat_get "$NS_CONV" TcpExtTCPOFOQueue) - ofo0))
	info "netem dropped $d1 packets on link 1, $d2 on link 2; client retransmitted $retr segments; server out-of-order queued $ofo"
	j=
	for c in MPTcpExtMPJoinSynTx MPTcpExtMPJoinSynAckRx MPTcpExtMPJoinSynAckHMacFailure; do
		j+=" $c $(nstat_get "$NS_CLIENT" "$c")"
	done
	info "client join counters before:$j0, after:$j; subflows at the end: $(grep -o '"subflows":[0-9]*' "$XFER_CLIENT_JSON" | head -n1)"
	assert_eq "$rc" 0 "$SIZE each way verified (SHA-256), MPTCP"
	assert_ok "client connection is MPTCP without fallback" \
		grep -q '"fallback":false' "$XFER_CLIENT_JSON"
	assert_ge "$XFER_SUBFLOWS" 2 "subflows that carried data (MPTCP_TCPINFO)"
	assert_ge $((d1 + d2)) 1 "packets netem dropped"
	assert_ge "$retr" 1 "client TcpRetransSegs"
}

run_case "RTTs: link 1 ${RTT1} ms, link 2 ${RTT2} ms (ping, delay and rate only)" case_rtt
run_case "IPv4: MPTCP over both netem paths, $SIZE each way" case_transfer v4 "$IP4_M1"
run_case "IPv6: MPTCP over both netem paths, $SIZE each way" case_transfer v6 "$IP6_M1"
test_finish
