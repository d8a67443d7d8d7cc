#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make demo: a Linux MPTCP client reaches a plain-TCP server through
# mpconv in explicit mode (RFC 8803), in network namespaces:
#
#   client ns (MPTCP, two links)  --  converter ns (mpconvd)  --  server ns
#   xfer client --convert             XDP/TC translate             xfer server
#                                                                  (MPTCP off)
#
# It prints which side spoke which protocol, the connection as mpconv
# saw it, bytes and rates, and the counters that show the data path (not
# the agent) moved the data. Everything it creates is removed on exit.
#
# env: SIZE (default 256M each way), DATAPATH (auto|xdp|tc), LINK_MBIT
# (per-link tbf rate, default none)
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-256M}
DATAPATH=${DATAPATH:-auto}
PIN=/sys/fs/bpf/mpc-demo-$TOPO_ID
PORT=20080

require_topo
require_mptcp
topo_create --xdp
topo_on_destroy "rm -rf $PIN"
convert_client_setup "$NS_CLIENT"
if [ -n "${LINK_MBIT:-}" ]; then
	link_rate 1 "${LINK_MBIT}mbit"
	link_rate 2 "${LINK_MBIT}mbit"
fi

log "starting mpconvd (network role, explicit mode, datapath $DATAPATH) in $NS_CONV"
bg_start_bpf "$NS_CONV" "$MPC_ROOT/build/mpconvd" --role network \
	--mode explicit --listen "$IP4_M1:5124,[$IP6_M1]:5124" \
	--interfaces "$IF_M1,$IF_M2,$IF_M3" \
	--external-address "$IP4_EXT,$IP6_EXT" \
	--allow 192.0.2.0/24,2001:db8:1::/64,2001:db8:2::/64 \
	--datapath "$DATAPATH" --pin-root "$PIN"
MPCONVD_PID=$BG_PID
mpconvd_wait "$PIN" 20 || die "mpconvd did not start"

log "client $IP4_C1 (MPTCP) -> converter $IP4_M1:5124 -> server $IP4_S1:$PORT (plain TCP): $SIZE each way"
xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --port "$PORT" \
	--convert "$IP4_M1" --client-mptcp \
	--size "$SIZE" --timeout 300 --name demo -- --expect-mptcp \
	--expect-syn-data
nap 1
echo
echo "== while it runs: the connection as mpconv sees it (mpconvctl conns)"
"$MPC_ROOT/build/mpconvctl" --pin-root "$PIN" conns | sed 's/^/  /'
echo "== the client's socket (ss -M: an MPTCP connection)"
ip netns exec "$NS_CLIENT" ss -Mn 2>/dev/null | sed 's/^/  /' | head -4
echo "== the server's socket (ss -t: plain TCP, from the converter's external address)"
ip netns exec "$NS_SERVER" ss -tn state established 2>/dev/null |
	sed 's/^/  /' | head -4
xfer_wait || die "transfer failed"

echo
echo "== what happened"
echo "transfer: $XFER_SUMMARY"
echo "client (MPTCP):"
nstat_ns "$NS_CLIENT" -az MPTcpExtMPCapableSYNACKRX TcpExtTCPFastOpenActive |
	awk '!/^#/ { printf "  %-32s %s\n", $1, $2 }'
echo "server (net.mptcp.enabled=$(ip netns exec "$NS_SERVER" sysctl -n net.mptcp.enabled), plain TCP):"
nstat_ns "$NS_SERVER" -az TcpPassiveOpens MPTcpExtMPCapableSYNRX |
	awk '!/^#/ { printf "  %-32s %s\n", $1, $2 }'
echo "mpconv (mpconvctl stats, non-zero counters):"
"$MPC_ROOT/build/mpconvctl" --pin-root "$PIN" stats |
	awk '$2 != "0"' | sed 's/^/  /'
kill -TERM "$MPCONVD_PID"
wait_pid_timeout "$MPCONVD_PID" 5 || true
echo
log "demo done: namespaces and pins are removed on exit"
