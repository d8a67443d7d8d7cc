#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The harness on its own, no converter: the kernel's MPTCP client in the
# client namespace talks to the kernel's MPTCP server in the converter
# namespace (listening on link 1's converter address), both links shaped
# to LINK_MBIT each. Shows that xfer, the topology, the link impairments
# and the counter helpers work, and what "both subflows carry data" looks
# like in numbers:
#   - IPv4 and IPv6: SIZE each way, SHA-256 equal; bytes on c1 AND c2;
#     MPTcpExt counters; two subflows in ss and in MPTCP_TCPINFO;
#     throughput above one link's rate (aggregation)
#   - 1 % random loss on link 1: still verified
#   - link 1 blackholed mid-transfer: completes on link 2, verified
#   - link 1 down, then up again: transfer on link 2 alone, then two
#     subflows again (link_down/link_up restore routing)
#
# env: LINK_MBIT (default 50), SIZE (default 64M), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

LINK_MBIT=${LINK_MBIT:-50}
SIZE=${SIZE:-64M}
MIB=$((1024 * 1024))

require_topo
require_mptcp
topo_create

link_rate 1 "${LINK_MBIT}mbit"
link_rate 2 "${LINK_MBIT}mbit"

log "kernel $(uname -r), congestion control $(ip netns exec "$NS_CLIENT" sysctl -n net.ipv4.tcp_congestion_control), links ${LINK_MBIT} Mbit/s each, $SIZE each way"

# "TX RX" of a client interface into the named variables
_bytes() {
	local dev=$1 _tx _rx
	read -r _tx _rx <<<"$(link_bytes "$NS_CLIENT" "$dev")"
	printf -v "$2" '%s' "$_tx"
	printf -v "$3" '%s' "$_rx"
}

_mul() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a * b }'
}

# aggregation FAMILY SERVER_ADDR
case_aggregation() {
	local fam=$1 addr=$2
	local c1tx0 c1rx0 c2tx0 c2rx0 c1tx c1rx c2tx c2rx sub conns
	local cap0 join0 sjoin0 cap join sjoin min_bytes

	_bytes "$IF_C1" c1tx0 c1rx0
	_bytes "$IF_C2" c2tx0 c2rx0
	cap0=$(nstat_get "$NS_CLIENT" MPTcpExtMPCapableSYNACKRX)
	join0=$(nstat_get "$NS_CLIENT" MPTcpExtMPJoinSynAckRx)
	sjoin0=$(nstat_get "$NS_CONV" MPTcpExtMPJoinAckRx)

	xfer_start "$NS_CLIENT" "$NS_CONV" --addr "$addr" --mptcp --size "$SIZE" \
		--timeout 120 --name "$fam-aggregation" -- --expect-mptcp || return 1
	nap 2
	sub=$(mptcp_subflows "$NS_CLIENT" "$XFER_PORT")
	conns=$(mptcp_conns "$NS_CLIENT")
	xfer_wait || return 1

	_bytes "$IF_C1" c1tx c1rx
	_bytes "$IF_C2" c2tx c2rx
	c1tx=$((c1tx - c1tx0)) c1rx=$((c1rx - c1rx0))
	c2tx=$((c2tx - c2tx0)) c2rx=$((c2rx - c2rx0))
	cap=$(($(nstat_get "$NS_CLIENT" MPTcpExtMPCapableSYNACKRX) - cap0))
	join=$(($(nstat_get "$NS_CLIENT" MPTcpExtMPJoinSynAckRx) - join0))
	sjoin=$(($(nstat_get "$NS_CONV" MPTcpExtMPJoinAckRx) - sjoin0))
	info "c1 tx $((c1tx / MIB)) MiB rx $((c1rx / MIB)) MiB, c2 tx $((c2tx / MIB)) MiB rx $((c2rx / MIB)) MiB"

	# each link carries at least a fifth of each direction (half expected)
	min_bytes=$((XFER_UP_BYTES / 5))
	assert_eq "$conns" 1 "MPTCP connections mid-transfer (ss -M)"
	assert_eq "$sub" 2 "established subflows mid-transfer (ss -ti, tcp-ulp-mptcp)"
	assert_ge "$XFER_SUBFLOWS" 2 "subflows that carried data (MPTCP_TCPINFO)"
	assert_ge "$cap" 1 "client MPTcpExtMPCapableSYNACKRX"
	assert_ge "$join" 1 "client MPTcpExtMPJoinSynAckRx"
	assert_ge "$sjoin" 1 "server MPTcpExtMPJoinAckRx"
	assert_ge "$c1tx" "$min_bytes" "bytes sent on c1"
	assert_ge "$c2tx" "$min_bytes" "bytes sent on c2"
	assert_ge "$c1rx" "$min_bytes" "bytes received on c1"
	assert_ge "$c2rx" "$min_bytes" "bytes received on c2"
	# aggregation: above one link; and the shaping holds (below two)
	assert_ge "$XFER_UP_MBPS" "$(_mul "$LINK_MBIT" 1.3)" "upload Mbit/s above one link"
	assert_ge "$XFER_DOWN_MBPS" "$(_mul "$LINK_MBIT" 1.3)" "download Mbit/s above one link"
	assert_le "$XFER_UP_MBPS" "$(_mul "$LINK_MBIT" 2.1)" "upload Mbit/s within two links"
	assert_le "$XFER_DOWN_MBPS" "$(_mul "$LINK_MBIT" 2.1)" "download Mbit/s within two links"
}

case_loss() {
	local retr0 retr drops rc=0
	retr0=$(nstat_get "$NS_CLIENT" TcpRetransSegs)
	link_loss 1 1 || return 1
	xfer_check "$NS_CLIENT" "$NS_CONV" --addr "$IP4_M1" --mptcp --size "$SIZE" \
		--timeout 180 --name v4-loss1 -- --expect-mptcp || rc=1
	drops=$(link_drops 1)
	link_loss 1 0 || return 1
	retr=$(($(nstat_get "$NS_CLIENT" TcpRetransSegs) - retr0))
	info "link 1: $drops packets dropped, client retransmitted $retr segments"
	assert_eq "$rc" 0 "transfer verified with 1% loss on link 1"
	assert_ge "$drops" 1 "packets dropped on link 1"
	assert_ge "$retr" 1 "client TcpRetransSegs"
	assert_ge "$XFER_SUBFLOWS" 2 "subflows that carried data"
}

case_blackhole() {
	local c1tx0 c1rx0 c2tx0 c2rx0 c1tx c1rx c2tx c2rx c1txb c1rxb c2txb c2rxb
	local i rc=0 drops stale
	_bytes "$IF_C1" c1tx0 c1rx0
	_bytes "$IF_C2" c2tx0 c2rx0
	xfer_start "$NS_CLIENT" "$NS_CONV" --addr "$IP4_M1" --mptcp --size "$SIZE" \
		--timeout 180 --name v4-blackhole -- --expect-mptcp || return 1
	# blackhole once link 1 has carried 4 MiB each way of this transfer
	for i in $(seq 200); do
		_bytes "$IF_C1" c1tx c1rx
		[ $((c1tx - c1tx0)) -ge $((4 * MIB)) ] && [ $((c1rx - c1rx0)) -ge $((4 * MIB)) ] && break
		nap 0.1
	done
	link_blackhole 1 on || return 1
	_bytes "$IF_C1" c1txb c1rxb
	_bytes "$IF_C2" c2txb c2rxb
	info "blackhole on link 1 after c1 tx $(((c1txb - c1tx0) / MIB)) MiB, rx $(((c1rxb - c1rx0) / MIB)) MiB"
	xfer_wait || rc=1
	drops=$(link_drops 1)
	stale=$(nstat_get "$NS_CLIENT" MPTcpExtSubflowStale)
	link_blackhole 1 off || return 1
	_bytes "$IF_C1" c1tx c1rx
	_bytes "$IF_C2" c2tx c2rx
	info "after the blackhole: c1 tx $((c1tx - c1txb)) B, c2 tx $(((c2tx - c2txb) / MIB)) MiB rx $(((c2rx - c2rxb) / MIB)) MiB; $drops packets dropped; client MPTcpExtSubflowStale $stale"
	assert_eq "$rc" 0 "transfer verified with link 1 blackholed mid-transfer"
	assert_ge "$drops" 1 "packets dropped by the blackhole"
	# whatever was left after the blackhole went over link 2
	assert_ge $((c2tx - c2txb)) $((XFER_UP_BYTES - (c1txb - c1tx0) - (c2txb - c2tx0))) "bytes sent on c2 after the blackhole cover the rest of the upload"
	# only what sat in c1's shaper queue (LINK_QUEUE_MS) may still leave
	assert_le $((c1tx - c1txb)) $((512 * 1024)) "bytes that left c1 after the blackhole (queue drain)"
}

case_link_down_up() {
	local c1tx0 c1rx0 c1tx c1rx rc=0
	link_down 1 || return 1
	_bytes "$IF_C1" c1tx0 c1rx0
	xfer_check "$NS_CLIENT" "$NS_CONV" --addr "$IP4_M1" --mptcp --size 8M \
		--timeout 60 --name v4-link1-down -- --expect-mptcp || rc=1
	_bytes "$IF_C1" c1tx c1rx
	assert_eq "$rc" 0 "transfer verified with link 1 down"
	assert_eq $((c1tx - c1tx0)) 0 "nothing sent on c1 while down"
	assert_eq "$XFER_SUBFLOWS" 1 "one subflow (link 2) while link 1 is down"
	link_up 1 || return 1
	xfer_check "$NS_CLIENT" "$NS_CONV" --addr "$IP4_M1" --mptcp --size 16M \
		--timeout 60 --name v4-link1-up -- --expect-mptcp || rc=1
	assert_eq "$rc" 0 "transfer verified after link 1 came back"
	assert_ge "$XFER_SUBFLOWS" 2 "two subflows carried data after link_up"
}

run_case "IPv4: 2 subflows, aggregation, $SIZE each way" case_aggregation v4 "$IP4_M1"
run_case "IPv6: 2 subflows, aggregation, $SIZE each way" case_aggregation v6 "$IP6_M1"
run_case "IPv4: 1% random loss on link 1" case_loss
run_case "IPv4: link 1 blackholed mid-transfer" case_blackhole
run_case "IPv4: link 1 down, then up" case_link_down_up
test_finish
