#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make demo: real MPTCP traffic in namespaces with mpconv on the converter
# host. Builds nothing itself (make demo builds first), creates the
# topology of tests/e2e/README.md, starts mpconvd on the converter's
# interfaces, moves data and prints what happened, then cleans up.
#
# Stage of the project: the data path classifies and counts; conversion
# lands with the explicit-mode converter (see docs/design.md). Until then
# the MPTCP server runs in the converter namespace, so this shows the
# topology, both subflows, and mpconv seeing every packet.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-32M}
LINK_MBIT=${LINK_MBIT:-100}
PIN=/sys/fs/bpf/mpc-demo-$TOPO_ID

require_topo
require_mptcp
topo_create
topo_on_destroy "rm -rf $PIN"
link_rate 1 "${LINK_MBIT}mbit"
link_rate 2 "${LINK_MBIT}mbit"

log "starting mpconvd on $IF_M1,$IF_M2,$IF_M3 in $NS_CONV"
bg_start_bpf "$NS_CONV" "$MPC_ROOT/build/mpconvd" --mode transparent \
	--interfaces "$IF_M1,$IF_M2,$IF_M3" --datapath tc --pin-root "$PIN" \
	--log-level info
MPCONVD_PID=$BG_PID
for _ in $(seq 50); do
	[ -e "$PIN/mpc_stats" ] && break
	nap 0.1
done
[ -e "$PIN/mpc_stats" ] || die "mpconvd did not start"

log "MPTCP client ($NS_CLIENT, two links of $LINK_MBIT Mbit/s) -> MPTCP server on $IP4_M1: $SIZE each way"
xfer_check "$NS_CLIENT" "$NS_CONV" --addr "$IP4_M1" --mptcp --size "$SIZE" \
	--timeout 120 --name demo -- --expect-mptcp ||
	die "transfer failed"

read -r c1tx c1rx <<<"$(link_bytes "$NS_CLIENT" "$IF_C1")"
read -r c2tx c2rx <<<"$(link_bytes "$NS_CLIENT" "$IF_C2")"
echo
echo "== what happened =="
echo "transfer: $XFER_SUMMARY"
echo "subflows: $XFER_SUBFLOWS (link 1 tx/rx $((c1tx >> 20))/$((c1rx >> 20)) MiB, link 2 tx/rx $((c2tx >> 20))/$((c2rx >> 20)) MiB)"
echo "client MPTCP counters:"
nstat_ns "$NS_CLIENT" -az 'MPTcpExtMPCapableSYNACKRX' 'MPTcpExtMPJoinSynAckRx' | sed -n 's/^/  /p' | grep -v '^  #' || true
echo "mpconv data path counters (mpconvctl stats):"
"$MPC_ROOT/build/mpconvctl" --pin-root "$PIN" stats | sed 's/^/  /'
kill -TERM "$MPCONVD_PID"
wait_pid_timeout "$MPCONVD_PID" 5 || true
echo
log "demo done; namespaces and pins are removed on exit"
