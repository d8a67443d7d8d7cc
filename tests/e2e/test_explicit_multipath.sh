#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Multipath through the explicit-mode converter (issue 4), both data
# paths: the kernel's MPTCP client opens its first subflow over link 1 and
# joins over link 2 (its c2 endpoint); mpconvd installs the join
# (join_accepted) and the data path translates both subflows onto one
# plain TCP leg, deriving each subflow's ACK from the leg's ACK through
# per-subflow run records (include/mpconv/multi.h).
#
#   - reference, same run, same shaping: two plain TCP uploads at once, one
#     per link, routed through the converter namespace without conversion
#   - aggregation: links shaped to RATE each (tbf at the client); one
#     converted upload of UP_SIZE reaches at least AGG_MIN (0.85) of the
#     reference; each link carried at least a quarter of it; the data path
#     recorded runs and sent leg ACKs on subflow 1 (multi_ack_moved)
#   - asymmetric RATE + RATE2: the upload still completes, verified, and
#     beats the faster link alone (ratio to the reference reported)
#   - 1 % loss on link 2 during an upload with both subflows: completes,
#     verified
#   - link 2 silently drops everything in the middle of an upload: the
#     client moves the data to subflow 1 (its MPTCP-level reinjection) and
#     the transfer completes, verified; time to completion reported
#   - a download with two subflows present: verified (the server's data
#     stays on subflow 1 in this version: the scheduler comes next,
#     docs/multipath-plan.md)
#
# env: DATAPATHS ("xdp tc"), RATE (100mbit), RATE2 (20mbit), UP_SIZE
# (96M), AGG_MIN (0.85), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DATAPATHS=${DATAPATHS:-xdp tc}
RATE=${RATE:-100mbit}
RATE2=${RATE2:-20mbit}
UP_SIZE=${UP_SIZE:-96M}
AGG_MIN=${AGG_MIN:-0.85}

require_topo
require_mptcp
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
topo_create --xdp --server-default-route
convert_client_setup "$NS_CLIENT"

log "kernel $(uname -r), data paths: $DATAPATHS, links $RATE each, $UP_SIZE uploads"

_agent() { mpc_counter "$1" || echo 0; }

# _tx LINK_IF: bytes the client sent on that interface so far
_tx() {
	ip netns exec "$NS_CLIENT" cat "/sys/class/net/$1/statistics/tx_bytes"
}

# _ref_up SIZE: two plain TCP uploads at once, one per link; sets REF_MBPS
# (sum of both receivers' goodput)
REF_MBPS=0
_ref_up() {
	local size=$1 a b pa pb rc=0
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --up "$size" --down 0 \
		--name ref-l1 -- --bind "$IP4_C1" || return 1
	pa=("$XFER_CLIENT_PID" "$XFER_SERVER_PID" "$XFER_NAME" "$XFER_CLIENT_JSON" \
		"$XFER_SERVER_JSON" "$XFER_CLIENT_ERR" "$XFER_SERVER_ERR")
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --up "$size" --down 0 \
		--name ref-l2 -- --bind "$IP4_C2" || return 1
	pb=("$XFER_CLIENT_PID" "$XFER_SERVER_PID" "$XFER_NAME" "$XFER_CLIENT_JSON" \
		"$XFER_SERVER_JSON" "$XFER_CLIENT_ERR" "$XFER_SERVER_ERR")
	XFER_CLIENT_PID=${pa[0]} XFER_SERVER_PID=${pa[1]} XFER_NAME=${pa[2]}
	XFER_CLIENT_JSON=${pa[3]} XFER_SERVER_JSON=${pa[4]} XFER_CLIENT_ERR=${pa[5]}
	XFER_SERVER_ERR=${pa[6]}
	xfer_wait || rc=1
	a=$XFER_UP_MBPS
	XFER_CLIENT_PID=${pb[0]} XFER_SERVER_PID=${pb[1]} XFER_NAME=${pb[2]}
	XFER_CLIENT_JSON=${pb[3]} XFER_SERVER_JSON=${pb[4]} XFER_CLIENT_ERR=${pb[5]}
	XFER_SERVER_ERR=${pb[6]}
	xfer_wait || rc=1
	b=$XFER_UP_MBPS
	REF_MBPS=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", a + b }')
	info "reference: plain TCP on link 1 $a + link 2 $b = $REF_MBPS Mbit/s"
	return $rc
}

# _conv_up NAME SIZE: one converted MPTCP upload (1 KiB down); sets
# CONV_MBPS, CONV_L1, CONV_L2 (bytes the client sent on each link)
_conv_up() {
	local name=$1 size=$2 t1 t2 rc=0
	t1=$(_tx "$IF_C1") t2=$(_tx "$IF_C2")
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --up "$size" --down 1K --timeout 180 --name "$name" \
		-- --expect-mptcp --expect-syn-data || rc=1
	CONV_MBPS=$XFER_UP_MBPS
	CONV_L1=$(($(_tx "$IF_C1") - t1))
	CONV_L2=$(($(_tx "$IF_C2") - t2))
	info "converted: $CONV_MBPS Mbit/s; client sent $CONV_L1 B on link 1, $CONV_L2 B on link 2"
	return $rc
}

_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print 0 }'; }

case_aggregate() {
	local dp=$1 rc=0 ja0 ma0 rr0 sz ratio
	link_rate 1 "$RATE" || return 1
	link_rate 2 "$RATE" || return 1
	_ref_up "$UP_SIZE" || rc=1
	assert_eq "$rc" 0 "reference transfers verified"
	ja0=$(_agent join_accepted)
	ma0=$(mpc_counter multi_ack_moved || echo 0)
	rr0=$(mpc_counter multi_up_recorded || echo 0)
	_conv_up "$dp-agg" "$UP_SIZE" || rc=1
	assert_eq "$rc" 0 "$UP_SIZE converted upload verified, MPTCP"
	assert_eq "$XFER_SUBFLOWS" 2 "two subflows"
	assert_ge $(($(_agent join_accepted) - ja0)) 1 "agent join_accepted"
	assert_gt $(($(mpc_counter multi_up_recorded) - rr0)) 0 "data path recorded runs (multi_up_recorded)"
	assert_gt $(($(mpc_counter multi_ack_moved) - ma0)) 0 \
		"leg ACKs sent on subflow 1 (multi_ack_moved)"
	sz=$(numfmt --from=iec "$UP_SIZE")
	assert_ge "$CONV_L1" $((sz / 4)) "link 1 carried at least a quarter"
	assert_ge "$CONV_L2" $((sz / 4)) "link 2 carried at least a quarter"
	ratio=$(_ratio "$CONV_MBPS" "$REF_MBPS")
	info "MEASURE $dp aggregate $RATE+$RATE: converted $CONV_MBPS Mbit/s, reference $REF_MBPS, ratio $ratio"
	assert_ge "$ratio" "$AGG_MIN" "converted / reference goodput"
}

case_asymmetric() {
	local dp=$1 rc=0 ratio single
	link_rate 1 "$RATE" || return 1
	link_rate 2 "$RATE2" || return 1
	_ref_up "$UP_SIZE" || rc=1
	assert_eq "$rc" 0 "reference transfers verified"
	_conv_up "$dp-asym" "$UP_SIZE" || rc=1
	assert_eq "$rc" 0 "$UP_SIZE converted upload verified, MPTCP"
	ratio=$(_ratio "$CONV_MBPS" "$REF_MBPS")
	info "MEASURE $dp asymmetric $RATE+$RATE2: converted $CONV_MBPS Mbit/s, reference $REF_MBPS, ratio $ratio"
	# more than the faster link alone can carry (its rate, 1000 kbit/Mbit)
	single=$(awk -v r="$(_rate_bps "$RATE")" 'BEGIN { printf "%.1f", r / 1e6 }')
	assert_gt "$CONV_MBPS" "$single" "faster than link 1 alone ($single Mbit/s)"
}

case_loss() {
	local dp=$1 rc=0 d0
	link_rate 1 "$RATE" || return 1
	link_rate 2 "$RATE" || return 1
	link_loss 2 1 spare-syn || return 1
	d0=$(link_drops 2)
	_conv_up "$dp-loss" 48M || rc=1
	info "link 2 dropped $(($(link_drops 2) - d0)) packets"
	link_loss 2 0 || return 1
	assert_eq "$rc" 0 "48M upload with 1 % loss on link 2 verified"
	assert_gt $(($(link_drops 2) + 0)) -1 "link counters readable"
	info "MEASURE $dp loss-link2-1pct: converted $CONV_MBPS Mbit/s"
}

case_blackhole() {
	local dp=$1 rc=0 t0 t1
	link_rate 1 "$RATE" || return 1
	link_rate 2 "$RATE" || return 1
	t0=$(date +%s.%N)
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --up 64M --down 1K --timeout 180 --name "$dp-bh" \
		-- --expect-mptcp --expect-syn-data || return 1
	nap 2
	link_blackhole 2 on || return 1
	xfer_wait || rc=1
	t1=$(date +%s.%N)
	link_blackhole 2 off || return 1
	assert_eq "$rc" 0 "64M upload verified although link 2 went dark after 2 s"
	info "MEASURE $dp blackhole-link2: completed in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (64M at $RATE per link)"
}

case_download() {
	local dp=$1 rc=0
	link_rate 1 "$RATE" || return 1
	link_rate 2 "$RATE" || return 1
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --up 1K --down 32M --timeout 180 --name "$dp-down" \
		-- --expect-mptcp --expect-syn-data || rc=1
	assert_eq "$rc" 0 "32M download with two subflows verified"
	info "MEASURE $dp download: $XFER_DOWN_MBPS Mbit/s (server data on subflow 1 only)"
}

for dp in $DATAPATHS; do
	if ! mpc_start --datapath "$dp"; then
		run_case "$dp: converter starts" false
		continue
	fi
	run_case "$dp: upload aggregated over two links" case_aggregate "$dp"
	run_case "$dp: upload over $RATE + $RATE2" case_asymmetric "$dp"
	run_case "$dp: upload with 1 % loss on link 2" case_loss "$dp"
	run_case "$dp: upload survives link 2 going dark" case_blackhole "$dp"
	run_case "$dp: download with two subflows" case_download "$dp"
	link_rate 1 off || true
	link_rate 2 off || true
	mpc_stop || true
done
test_finish
