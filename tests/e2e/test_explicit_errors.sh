#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Acceptance of the explicit-mode converter (RFC 8803): every error case
# reaches the client as its Error TLV (xfer exits 3, JSON convert_error),
# never as a bare RST. For each probe a capture on the client's link shows
# the converter's first answer is a SYN/ACK, the Error TLV comes as data,
# and the converter sends no RST at all (the client resets, 6.2.8).
#
#   Not Authorized (32)       client 192.0.2.130 (c2) outside --allow
#                             192.0.2.0/25; the server link sees no TCP
#                             packet and the server no connection
#   Malformed (1)             Connect to 127.0.0.1, 224.0.0.1,
#                             255.255.255.255, ::1, the service address
#                             192.0.2.1 and the external address 203.0.113.1
#   Unsupported Message (2)   a TLV of type 0
#   Unsupported Version (0)   version 2 in the fixed header
#   Connection Reset (96)     nothing listens on the server port
#   Destination Unreachable   the server answers the leg SYN with ICMP
#   (97)                      host-unreachable (value 1), admin-prohibited
#                             (13), port-unreachable (3): value = ICMP code
#   Network Failure (65)      link 3 blackholed (--leg-timeout 3 if the
#                             agent has it, else its default, < 25 s)
#   Resource Exceeded (64)    --port-range 61000-61000, a second connection
#                             while the first holds the only port; the
#                             first completes, and the port is reused after
#   Unsupported TCP Option    Extended Connect asking for kind 99; the
#   (33)                      Value lists 0x63
# Plus: a SYN to the service without Convert data (plain TCP and MPTCP) is
# dropped silently: no SYN/ACK, no RST, the client times out.
#
# env: MPC_DATAPATH (xdp), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

require_topo
require_mptcp
require_cmd tcpdump bpftool
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
topo_create --xdp
convert_client_setup "$NS_CLIENT"

LEG_TIMEOUT=()
mpc_has_key leg-timeout && LEG_TIMEOUT=(--leg-timeout 3)
AGENT=0

log "kernel $(uname -r), data path $MPC_DATAPATH, leg timeout: ${LEG_TIMEOUT[*]:-agent default}"

# agent counter per RFC 8803 error code
_err_counter() {
	case $1 in
	0) echo err_unsupported_version ;;
	1) echo err_malformed ;;
	2) echo err_unsupported_msg ;;
	32) echo err_not_authorized ;;
	33) echo err_unsupported_opt ;;
	64) echo err_resource_exceeded ;;
	65) echo err_network_failure ;;
	96) echo err_connection_reset ;;
	97) echo err_dest_unreachable ;;
	esac
}

# a Convert message with a Connect TLV for ADDR (32 hex digits, IPv6 or
# v4-mapped) and PORT, as --convert-raw takes it (xfer refuses to build
# one for such addresses)
_connect_raw() {
	printf '010622630a05%04x%s\n' "$2" "$1"
}

PROBE_N=0
# _probe CODE VALUE|- LABEL [--client-if IF] [xfer client args...]: one
# convert_probe (MPTCP client) with a capture on the client's link; checks
# the Error code (and the one-byte Value unless "-"), the wire (SYN/ACK
# first, the Error TLV as data, no RST from the converter) and the agent's
# counter for CODE
_probe() {
	local code=$1 value=$2 label=$3 cif=$IF_C1 pc first data rst ctr c0=0 c1 cport
	shift 3
	if [ "${1:-}" = --client-if ]; then
		cif=$2
		shift 2
	fi
	PROBE_N=$((PROBE_N + 1))
	pc=$TOPO_TMP/probe$PROBE_N.pcap
	ctr=$(_err_counter "$code")
	[ "$AGENT" = 1 ] && c0=$(mpc_counter "$ctr" || echo 0)
	pcap_start "$NS_CLIENT" "$cif" "$pc" tcp port "$CONVERT_PORT" || return 1
	convert_probe "$NS_CLIENT" "$IP4_M1" --mptcp "$@"
	pcap_stop "$PCAP_PID"
	assert_eq "$CONVERT_RC" 3 "$label: xfer exits 3 (Error TLV)"
	assert_eq "$CONVERT_ERROR" "$code" "$label: Error code"
	if [ "$value" != - ]; then
		assert_eq "$(grep -o '"convert_error_data":"[0-9a-f]*"' "$CONVERT_JSON" | cut -d'"' -f4)" \
			"$value" "$label: Error Value"
	fi
	# only this probe's connection (its local port, from the JSON)
	cport=$(grep -o '"local":"[^"]*"' "$CONVERT_JSON" | head -n 1 | sed 's/.*:\([0-9]*\)"$/\1/')
	first=$(pcap_read "$pc" src port "$CONVERT_PORT" and dst port "${cport:-0}" | head -n 1)
	data=$(pcap_read "$pc" src port "$CONVERT_PORT" and dst port "${cport:-0}" and \
		'tcp[tcpflags] & tcp-syn == 0' | grep -c 'length [1-9]' || true)
	rst=$(pcap_count "$pc" src port "$CONVERT_PORT" and dst port "${cport:-0}" and \
		'tcp[tcpflags] & tcp-rst != 0')
	assert_ok "$label: the converter's first answer is a SYN/ACK ($first)" \
		grep -q 'Flags \[S\.\]' <<<"$first"
	assert_ge "$data" 1 "$label: segments with the Error TLV as data"
	assert_eq "$rst" 0 "$label: RSTs from the converter"
	if [ "$AGENT" = 1 ]; then
		c1=$(mpc_counter "$ctr" || echo 0)
		assert_eq $((c1 - c0)) 1 "$label: agent counter $ctr"
	fi
	if [ "${CONVERT_RC}" != 3 ]; then
		info "client: $(grep -o '"error":"[^"]*"' "$CONVERT_JSON" | head -n 1) $(head -c 300 "$CONVERT_JSON.err")"
		pcap_read "$pc" | head -n 8 | sed 's/^/    /'
	fi
}

_start() {
	mpc_start "$@" || die "mpconvd did not start"
	AGENT=0
	if mpc_has_agent_counters; then AGENT=1; fi
}

# ---- converter 1: clients 192.0.2.0/25 only (c1 yes, c2 no) ------------------

_start --allow "192.0.2.0/25,2001:db8::/32" "${LEG_TIMEOUT[@]}"
[ "$AGENT" = 1 ] || info "mpconvctl stats has no agent section: per-code agent counters not checked"

case_not_authorized() {
	local spc spid srv p0 n i
	spc=$TOPO_TMP/notauth.s1.pcap
	p0=$(nstat_get "$NS_SERVER" TcpPassiveOpens)
	pcap_start "$NS_SERVER" "$IF_S1" "$spc" tcp || return 1
	spid=$PCAP_PID
	# a server that would accept: nothing may reach it
	bg_start "$NS_SERVER" "$XFER" server --listen "$IP4_S1:7100" --count 1 \
		--timeout 10 >"$TOPO_TMP/notauth.server.jsonl" 2>&1
	srv=$BG_PID
	for i in $(seq 50); do
		ip netns exec "$NS_SERVER" ss -Htln "sport = :7100" | grep -q . && break
		sleep 0.05
	done
	_probe 32 00 "Not Authorized from $IP4_C2" --client-if "$IF_C2" \
		--bind "$IP4_C2" --connect "$IP4_S1:7100"
	pcap_stop "$spid"
	bg_stop "$srv"
	n=$(pcap_count "$spc")
	assert_eq "$n" 0 "TCP packets on the server link during the Not Authorized case"
	assert_eq $(($(nstat_get "$NS_SERVER" TcpPassiveOpens) - p0)) 0 "server TcpPassiveOpens"
	assert_ok "the probe left from $IP4_C2" grep -q "\"local\":\"$IP4_C2:" "$CONVERT_JSON"
}

case_malformed() {
	local a name
	for a in \
		"00000000000000000000ffff7f000001 127.0.0.1" \
		"00000000000000000000ffffe0000001 224.0.0.1" \
		"00000000000000000000ffffffffffff 255.255.255.255" \
		"00000000000000000000000000000001 ::1" \
		"00000000000000000000ffffc0000201 192.0.2.1(service)" \
		"00000000000000000000ffffcb007101 203.0.113.1(external)"; do
		name=${a#* }
		_probe 1 - "Malformed: Connect to $name" --convert-raw "$(_connect_raw "${a%% *}" 80)"
		# the Value echoes the message (RFC 8803 6.2.8)
		assert_eq "$(grep -o '"convert_error_data":"[0-9a-f]*"' "$CONVERT_JSON" | cut -d'"' -f4)" \
			"$(_connect_raw "${a%% *}" 80)" "Malformed: Connect to $name: the Value echoes the message"
	done
}

case_unsupported_msg() {
	_probe 2 - "TLV type 0" --convert-raw 0102226300010000
}

case_unsupported_version() {
	_probe 0 01 "version 2" --convert-raw 02012263
}

case_connection_reset() {
	# nothing listens on 198.51.100.2:7200: the server's kernel answers RST
	_probe 96 00 "nothing listens on the server port" --connect "$IP4_S1:7200"
}

case_dest_unreachable() {
	ip netns exec "$NS_SERVER" nft -f - <<-EOF || return 1
		table inet mpc_reject {
			chain in {
				type filter hook input priority 0; policy accept;
				tcp dport 7301 reject with icmp type host-unreachable
				tcp dport 7302 reject with icmpx type admin-prohibited
				tcp dport 7303 reject with icmpx type port-unreachable
			}
		}
	EOF
	_probe 97 01 "ICMP host-unreachable (code 1)" --connect "$IP4_S1:7301"
	_probe 97 0d "ICMP admin-prohibited (code 13)" --connect "$IP4_S1:7302"
	_probe 97 03 "ICMP port-unreachable (code 3)" --connect "$IP4_S1:7303"
	ip netns exec "$NS_SERVER" nft delete table inet mpc_reject
}

case_network_failure() {
	local t0 t1 secs
	link_blackhole 3 on || return 1
	t0=$(date +%s%N)
	CONVERT_TIMEOUT=25 _probe 65 - "server link blackholed" --connect "$IP4_S1:7400"
	t1=$(date +%s%N)
	link_blackhole 3 off || return 1
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	info "Network Failure after $secs s"
	if [ ${#LEG_TIMEOUT[@]} -gt 0 ]; then
		assert_ge "$secs" 2.5 "no Network Failure before the leg timeout (3 s)"
		assert_le "$secs" 8 "Network Failure soon after the leg timeout (3 s)"
	fi
	# Linux >= 6.12 sends its third SYN (after ~3 s) without MP_CAPABLE and,
	# when that one is answered, disables active MPTCP for
	# net.mptcp.blackhole_timeout; lib.sh sets that to 0 in the client
	# namespace or every later case here would run as plain TCP
	if nstat_has "$NS_CLIENT" MPTcpExtMPCapableSYNTXDrop; then
		info "client kernel: MPTcpExtMPCapableSYNTXDrop" \
			"$(nstat_get "$NS_CLIENT" MPTcpExtMPCapableSYNTXDrop)"
	fi
}

case_unsupported_opt() {
	_probe 33 63 "Extended Connect with option kind 99" --connect "$IP4_S1:7500" --convert-opt 99
}

# a SYN without Convert data to the service port: no answer at all
case_silent_drop() {
	local pc proto args rc n ign0=0 ign1
	for proto in tcp mptcp; do
		args=()
		[ "$proto" = mptcp ] && args=(--mptcp)
		pc=$TOPO_TMP/silent.$proto.pcap
		[ "$AGENT" = 1 ] && ign0=$(mpc_counter syn_ignored || echo 0)
		pcap_start "$NS_CLIENT" "$IF_C1" "$pc" tcp port "$CONVERT_PORT" || return 1
		rc=0
		ip netns exec "$NS_CLIENT" "$XFER" client --connect "$IP4_M1:$CONVERT_PORT" \
			--up 0 --down 0 --timeout 3 --json "${args[@]}" \
			>"$pc.json" 2>"$pc.err" || rc=$?
		pcap_stop "$PCAP_PID"
		assert_eq "$rc" 1 "$proto SYN without Convert data: client fails"
		assert_ok "$proto SYN without Convert data: client timed out" \
			grep -q '"error":"[^"]*time' "$pc.json"
		n=$(pcap_count "$pc" src port "$CONVERT_PORT")
		assert_eq "$n" 0 "$proto SYN without Convert data: packets from the converter (no SYN/ACK, no RST)"
		assert_ge "$(pcap_count "$pc" dst port "$CONVERT_PORT" and 'tcp[tcpflags] & tcp-syn != 0')" 2 \
			"$proto SYN without Convert data: the client's SYN and its retransmission went out"
		if [ "$AGENT" = 1 ]; then
			ign1=$(mpc_counter syn_ignored || echo 0)
			assert_ge $((ign1 - ign0)) 1 "$proto SYN without Convert data: agent syn_ignored"
		fi
	done
}

run_case "Not Authorized (32): client outside --allow, nothing reaches the server" case_not_authorized
run_case "Malformed (1): Connect to loopback, multicast, broadcast, ::1, the converter" case_malformed
run_case "Unsupported Message (2): TLV type 0" case_unsupported_msg
run_case "Unsupported Version (0): version 2" case_unsupported_version
run_case "Connection Reset (96): nothing listens at the server" case_connection_reset
run_case "Destination Unreachable (97): ICMP from the server, Value = ICMP code" case_dest_unreachable
run_case "Network Failure (65): server link blackholed" case_network_failure
run_case "Unsupported TCP Option (33): Extended Connect with kind 99" case_unsupported_opt
run_case "SYN without Convert data: dropped silently" case_silent_drop

# ---- converter 2: a single leg port ------------------------------------------

mpc_stop || true
_start --port-range 61000-61000 "${LEG_TIMEOUT[@]}"

case_resource_exceeded() {
	local rc=0 i est=0
	# the first connection holds the only leg port for a few seconds
	link_rate 3 20mbit || return 1
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --size 8M --timeout 60 --name holder \
		-- --expect-mptcp --expect-syn-data || return 1
	for i in $(seq 50); do
		est=$(ip netns exec "$NS_SERVER" ss -tnH state established "( sport = :$XFER_PORT )" | grep -c . || true)
		[ "$est" -ge 1 ] && break
		nap 0.1
	done
	assert_eq "$est" 1 "first connection established (holds port 61000)"
	_probe 64 - "second connection, no leg port left" --connect "$IP4_S1:7600"
	xfer_wait || rc=1
	link_rate 3 off || return 1
	assert_eq "$rc" 0 "the first connection completed and verified"
	assert_ok "its leg used port 61000" grep -q '"peer":"203.0.113.1:61000"' "$XFER_SERVER_JSON"
	# once its state is gone the port serves again
	if mpc_wait_state_gone 15; then
		_case_ok "converter state gone after the first connection"
	else
		_case_fail "converter state still present 15 s after the first connection"
	fi
	rc=0
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --size 1M --timeout 30 --name reuse \
		-- --expect-mptcp --expect-syn-data || rc=1
	assert_eq "$rc" 0 "a new connection gets the freed port"
}

run_case "Resource Exceeded (64): --port-range 61000-61000, second connection" case_resource_exceeded
test_finish
