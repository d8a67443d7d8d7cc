#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Acceptance of the explicit-mode converter (RFC 8803): the peers that do
# not speak what the converter expects, on both data paths.
#
#   - a plain TCP client (no MPTCP socket) sends a Convert SYN: it is served
#     as plain TCP, SIZE each way verified, the Convert message acked in
#     the SYN, and the client namespace's MPCapable counters stay at zero
#     (the converter's SYN/ACK carried no MP_CAPABLE)
#   - a server that speaks MPTCP (server namespace net.mptcp.enabled=1, an
#     MPTCP listener) asked for with an Extended Connect (--convert-opt
#     30): the connection is still converted (MPTCP client, verified), the
#     Convert reply's Extended TCP Header TLV holds the server's SYN/ACK
#     options with an MPTCP option (kind 30 = 0x1e), and the server side
#     is plain TCP (the leg's third ACK has no MP_CAPABLE:
#     MPTcpExtMPCapableFallbackACK +1 at the server)
#
# env: DATAPATHS ("xdp tc"), SIZE (64M), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DATAPATHS=${DATAPATHS:-xdp tc}
SIZE=${SIZE:-64M}

require_topo
require_mptcp
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
topo_create --xdp
convert_client_setup "$NS_CLIENT"

log "kernel $(uname -r), data paths: $DATAPATHS, $SIZE each way"

# the client namespace's MPTCP handshake counters, summed
_client_mpcapable() {
	local c s=0
	for c in MPTcpExtMPCapableSYNTX MPTcpExtMPCapableSYNACKRX \
		MPTcpExtMPCapableFallbackSYNACK MPTcpExtMPCapableFallbackACK \
		MPTcpExtMPCapableSYNRX MPTcpExtMPCapableACKRX; do
		s=$((s + $(nstat_get "$NS_CLIENT" "$c")))
	done
	echo "$s"
}

# kinds of the TCP options in HEX (an option area), one per line
_opt_kinds() {
	local h=$1 i=0 k l
	while [ $((i + 2)) -le ${#h} ]; do
		k=$((16#${h:i:2}))
		echo "$k"
		case $k in
		0) break ;;
		1) i=$((i + 2)) ;;
		*)
			l=$((16#${h:i+2:2}))
			[ "$l" -ge 2 ] || break
			i=$((i + 2 * l))
			;;
		esac
	done
}

case_plain_client() {
	local dp=$1 c0 c1 rc=0 i conns=
	c0=$(_client_mpcapable)
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--size "$SIZE" --timeout 120 --name "$dp-plain-client" \
		-- --expect-syn-data || return 1
	if mpc_has_conns_cmd; then
		# the entry as soon as it exists, in whatever state (a slow VM
		# may first see it closing: the state stays ~10 s after a
		# clean close)
		for i in $(seq 100); do
			conns=$(mpc_ctl -j conns)
			grep -q '"protocol":' <<<"$conns" && break
			nap 0.1
		done
		info "mpconvctl conns: $(grep -o '"state":"[a-z]*","protocol":"[a-z]*"' <<<"$conns" | head -n 1)"
		assert_ok "mpconvctl conns: the connection is plain TCP on both sides" \
			grep -q '"protocol":"tcp"' <<<"$conns"
		assert_ok "mpconvctl conns: no MPTCP connection" \
			eval '! grep -q "\"protocol\":\"mptcp\"" <<<"$conns"'
	fi
	xfer_wait || rc=1
	c1=$(_client_mpcapable)
	assert_eq "$rc" 0 "$SIZE each way verified"
	assert_eq "$XFER_SYN_DATA" 1 "Convert message acknowledged in the SYN"
	assert_eq "$(grep -o '"proto":"[a-z]*"' "$XFER_CLIENT_JSON" | sort -u | tr '\n' ' ')" \
		'"proto":"tcp" ' "client socket and connection are plain TCP (xfer JSON)"
	assert_eq $((c1 - c0)) 0 "client MPTcpExtMPCapable* counters (no MPTCP anywhere)"
	assert_ok "the server saw the external address" \
		grep -q "\"peer\":\"$IP4_EXT:" "$XFER_SERVER_JSON"
}

case_mptcp_server() {
	local dp=$1 rc=0 xhdr kinds fb0 fb1 syn0 syn1
	ip netns exec "$NS_SERVER" sysctl -qw net.mptcp.enabled=1 || return 1
	fb0=$(nstat_get "$NS_SERVER" MPTcpExtMPCapableFallbackACK)
	syn0=$(nstat_get "$NS_SERVER" MPTcpExtMPCapableSYNRX)
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--mptcp --size "$SIZE" --timeout 120 --name "$dp-mptcp-server" \
		-- --expect-mptcp --expect-syn-data --convert-opt 30 || rc=1
	fb1=$(nstat_get "$NS_SERVER" MPTcpExtMPCapableFallbackACK)
	syn1=$(nstat_get "$NS_SERVER" MPTcpExtMPCapableSYNRX)
	ip netns exec "$NS_SERVER" sysctl -qw net.mptcp.enabled=0 || return 1
	assert_eq "$rc" 0 "$SIZE each way verified, MPTCP client"
	assert_eq "$XFER_SYN_DATA" 1 "Convert message acknowledged in the SYN"
	assert_ok "client connection is MPTCP without fallback" \
		grep -q '"fallback":false' "$XFER_CLIENT_JSON"
	assert_ok "Convert reply has an Extended TCP Header TLV" \
		grep -q '"name":"Extended TCP Header"' "$XFER_CLIENT_JSON"
	xhdr=$(grep -o '"xhdr":"[0-9a-f]*"' "$XFER_CLIENT_JSON" | head -n 1 | cut -d'"' -f4)
	kinds=$(_opt_kinds "$xhdr" | tr '\n' ' ')
	info "Extended TCP Header options: $xhdr (kinds $kinds)"
	assert_ok "Extended TCP Header holds an MPTCP option (kind 30 = 0x1e)" \
		grep -qw 30 <<<"$kinds"
	assert_eq $((syn1 - syn0)) 1 "server MPTcpExtMPCapableSYNRX (the leg SYN asked for MPTCP)"
	assert_eq $((fb1 - fb0)) 1 "server MPTcpExtMPCapableFallbackACK (the leg is plain TCP)"
	assert_ok "the server saw the external address" \
		grep -q "\"peer\":\"$IP4_EXT:" "$XFER_SERVER_JSON"
}

for dp in $DATAPATHS; do
	if ! mpc_start --datapath "$dp"; then
		run_case "$dp: converter starts" false
		continue
	fi
	run_case "$dp: plain TCP client, Convert SYN: served as plain TCP" case_plain_client "$dp"
	run_case "$dp: MPTCP server asked with Extended Connect (kind 30): still converted" case_mptcp_server "$dp"
	mpc_stop || true
done
test_finish
