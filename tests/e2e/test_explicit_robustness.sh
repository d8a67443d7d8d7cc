#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Acceptance of the explicit-mode converter (RFC 8803): loss, a lost
# handshake packet, agent restarts and teardown, on both data paths.
#
#   - 1 % random loss on the client link, then on the server link, from
#     the moment the connection is established: LOSS_SIZE (256 MiB) each
#     way completes and verifies (the end hosts repair the losses through
#     the converter: end-to-end ACKs, SACK, retransmissions translated).
#     The loss starts after the handshake: a lost Convert SYN is not
#     recoverable by design (Linux retransmits a TFO SYN without its data
#     and the converter drops SYNs without Convert data), and a lost
#     SYN/ACK is the next case.
#   - the converter's SYN/ACKs to the client are lost until the client
#     retransmits its SYN (without the Convert data, as Linux does for a
#     TFO SYN): the converter answers that SYN with its SYN/ACK again and
#     the connection must complete (no RST from the converter)
#   - graceful close: GRACEFUL_N (10) small transfers end with FIN and
#     DATA_FIN on both sides; no RST on either link, the agent counts no
#     leg reset and sends no MP_FASTCLOSE
#   - SIGKILL of mpconvd during a KILL_SIZE (1 GiB) transfer over a link
#     shaped to KILL_RATE (200 Mbit/s), an immediate restart with the same
#     pin root: the transfer completes and verifies, the new agent logs
#     that it re-adopted the pinned maps and the connection; the adopted
#     connection's teardown leaves no state
#   - the server process dies (SIGKILL, unread data: its kernel sends a
#     RST) mid-transfer: the client sees a connection reset, the agent
#     sends MP_FASTCLOSE (fastclose_sent), no state is left
#   - the client process dies (SIGKILL, plain TCP client) mid-transfer, and
#     an MPTCP client resets (SO_LINGER 0: RST with MP_FASTCLOSE; python3):
#     the server sees a reset, no state is left
#   - --idle-timeout 3 and an idle converted connection (a python3 MPTCP
#     client that gets its Convert reply, then sends nothing): reset on
#     both sides after about 3 s, state gone (skipped without python3)
#
# "No state left": `mpconvctl conns` lists nothing (when the subcommand
# exists) and the pinned mpc_flows map is empty (bpftool).
#
# env: DATAPATHS ("xdp tc"), LOSS_SIZE (256M), KILL_SIZE (1G),
#      KILL_RATE (200mbit), GRACEFUL_N (10), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DATAPATHS=${DATAPATHS:-xdp tc}
LOSS_SIZE=${LOSS_SIZE:-256M}
KILL_SIZE=${KILL_SIZE:-1G}
KILL_RATE=${KILL_RATE:-200mbit}
GRACEFUL_N=${GRACEFUL_N:-10}

require_topo
require_mptcp
require_cmd bpftool tcpdump
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
topo_create --xdp
convert_client_setup "$NS_CLIENT"

AGENT=0
log "kernel $(uname -r), data paths: $DATAPATHS"

_start() {
	mpc_start "$@" || return 1
	AGENT=0
	if mpc_has_agent_counters; then AGENT=1; fi
	return 0
}

# _established PORT [SECS]: until the server has an established connection
# on PORT (a converted connection's leg is up)
_established() {
	local port=$1 secs=${2:-10} i
	for i in $(seq $((secs * 10))); do
		ip netns exec "$NS_SERVER" ss -tnH state established "( sport = :$port )" |
			grep -q . && return 0
		nap 0.1
	done
	return 1
}

_state_gone() {
	local n f
	if mpc_wait_state_gone "${1:-15}"; then
		_case_ok "converter state gone (mpconvctl conns / mpc_flows empty)"
	else
		n=$(mpc_conns_n 2>/dev/null || echo '?')
		f=$(mpc_flows_n)
		_case_fail "converter state after ${1:-15} s: $n connection(s) (mpconvctl conns), $f flow(s) (mpc_flows)"
		mpc_has_conns_cmd && mpc_ctl conns | head -n 6 | sed 's/^/    /'
		# the data path's view of them, for the next engineer
		bpftool -j map dump pinned "$MPC_PIN/mpc_conns" >"$TOPO_TMP/mpc_conns.json" 2>&1 || true
		mpc_ctl stats >"$TOPO_TMP/mpc_stats.txt" 2>&1 || true
	fi
}

# _agent_delta NAME BEFORE MIN MSG: agent counter grew by >= MIN (skipped
# without agent counters)
_agent_delta() {
	local now
	if [ "$AGENT" != 1 ]; then
		info "$4: no agent counters in this build (not checked)"
		return 0
	fi
	now=$(mpc_counter "$1" || echo 0)
	assert_ge $((now - $2)) "$3" "$4 (agent $1)"
}

# _link_packets LINK: packets the endpoint's interface of LINK received
# and sent (ip -s link). The loss is nft at that interface: received
# packets are counted before they are dropped, sent ones are diverted
# before the count, so the total is within 1 % of what crossed.
_link_packets() {
	_link "$1" || return 1
	ip -n "$_L_NS" -s -j link show dev "$_L_IF" |
		grep -o '"packets":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'
}

case_loss() {
	local dp=$1 link=$2 rc=0 drops r0 r1 rs0 rs1 p0 seen
	r0=$(nstat_get "$NS_CLIENT" TcpRetransSegs)
	rs0=$(nstat_get "$NS_SERVER" TcpRetransSegs)
	# the loss is on from the first segment; only SYNs are spared (a
	# lost Convert SYN ends the attempt: link_loss)
	link_loss "$link" 1 spare-syn || return 1
	p0=$(_link_packets "$link")
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --size "$LOSS_SIZE" --timeout 300 --name "$dp-loss-l$link" \
		-- --expect-mptcp --expect-syn-data || return 1
	xfer_wait || rc=1
	seen=$(($(_link_packets "$link") - p0))
	drops=$(link_drops "$link")
	link_loss "$link" 0 || return 1
	r1=$(nstat_get "$NS_CLIENT" TcpRetransSegs)
	rs1=$(nstat_get "$NS_SERVER" TcpRetransSegs)
	info "link $link: $drops of $seen packets lost while the loss was on; retransmitted: client $((r1 - r0)), server $((rs1 - rs0)) segments"
	assert_eq "$rc" 0 "$LOSS_SIZE each way verified with 1% loss on link $link"
	# the drops against what crossed the link, 1 % give or take
	assert_ge "$seen" 2000 "packets that crossed link $link while the loss was on"
	assert_ge "$drops" $((seen / 250)) "packets lost on link $link (>= 0.4 % of $seen)"
	assert_le "$drops" $((seen / 40)) "packets lost on link $link (<= 2.5 % of $seen)"
	assert_ge $((r1 - r0 + rs1 - rs0)) 1 "end hosts retransmitted"
	_state_gone
}

case_synack_lost() {
	local dp=$1 rc=0 pc nk0 so0 fb0
	pc=$TOPO_TMP/$dp-synack-lost.pcap
	nk0=$(mpc_counter nokey || echo 0)
	so0=$(mpc_counter synack_syn_only || echo 0)
	fb0=$(nstat_get "$NS_CLIENT" MPTcpExtMPCapableDataFallback)
	# the converter's SYN/ACKs are lost until the client has retransmitted
	# its SYN (Linux: after 1 s, without the data): the client port enters
	# @retx with that bare SYN (IP length < 80; the first SYN carries the
	# Convert message), then SYN/ACKs to it pass
	ip netns exec "$NS_CLIENT" nft -f - <<-EOF || return 1
		table netdev mpc_hs {
			set retx { type inet_service; flags dynamic; }
			chain out {
				type filter hook egress device "$IF_C1" priority -600; policy accept;
				tcp dport $CONVERT_PORT tcp flags & (syn | ack) == syn ip length < 80 add @retx { tcp sport }
			}
			chain in {
				type filter hook ingress device "$IF_C1" priority -600; policy accept;
				tcp sport $CONVERT_PORT tcp flags & (syn | ack) == (syn | ack) tcp dport != @retx counter drop
			}
		}
	EOF
	pcap_start "$NS_CLIENT" "$IF_C1" "$pc" tcp port "$CONVERT_PORT" || return 1
	# the client's retransmitted SYN carries no data; from then on Linux
	# puts its MPTCP keys only on a segment starting right after the
	# SYN. The converter's later SYN/ACKs acknowledge the SYN only, the
	# client sends the Convert message again with MP_CAPABLE and both
	# keys, and the connection stays MPTCP (agent/conv.c syn_only_ack)
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --size 4M --timeout 30 --name "$dp-synack-lost" \
		-- --expect-mptcp --expect-syn-data || rc=1
	pcap_stop "$PCAP_PID"
	info "SYN/ACKs dropped: $(ip netns exec "$NS_CLIENT" nft list chain netdev mpc_hs in |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p')"
	ip netns exec "$NS_CLIENT" nft delete table netdev mpc_hs
	assert_eq "$rc" 0 "4M each way verified, MPTCP, after lost SYN/ACKs and the client's SYN retransmission"
	assert_eq $(($(nstat_get "$NS_CLIENT" MPTcpExtMPCapableDataFallback) - fb0)) 0 \
		"client MPCapableDataFallback"
	if [ "$AGENT" = 1 ]; then
		assert_eq $(($(mpc_counter nokey || echo 0) - nk0)) 0 "agent nokey (third ACK without keys)"
		_agent_delta synack_syn_only "$so0" 1 "SYN/ACKs acknowledging the SYN only"
	fi
	assert_eq "$(pcap_count "$pc" src port "$CONVERT_PORT" and 'tcp[tcpflags] & tcp-rst != 0')" 0 \
		"RSTs from the converter"
	if [ "$rc" != 0 ]; then
		pcap_read "$pc" | head -n 8 | cut -c 1-200 | sed 's/^/    /'
	fi
	_state_gone
}

# graceful close: after a complete transfer both sides close with FIN /
# DATA_FIN; nobody may reset. N small transfers, FIN/RST captured on the
# client and server links.
case_graceful() {
	local dp=$1 i rc=0 pc ps fc0=0 lr0=0 rc_n rs_n
	pc=$TOPO_TMP/$dp-graceful.c1.pcap
	ps=$TOPO_TMP/$dp-graceful.s1.pcap
	if [ "$AGENT" = 1 ]; then
		fc0=$(mpc_counter fastclose_sent || echo 0)
		lr0=$(mpc_counter leg_rst || echo 0)
	fi
	pcap_start "$NS_CLIENT" "$IF_C1" "$pc" tcp port "$CONVERT_PORT" and \
		'tcp[tcpflags] & (tcp-fin | tcp-rst) != 0' || return 1
	local pcc=$PCAP_PID
	pcap_start "$NS_SERVER" "$IF_S1" "$ps" tcp and \
		'tcp[tcpflags] & (tcp-fin | tcp-rst) != 0' || return 1
	for i in $(seq "$GRACEFUL_N"); do
		xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
			--client-mptcp --up 16k --down 1M --timeout 20 --name "$dp-graceful-$i" \
			-- --expect-mptcp --expect-syn-data >/dev/null || rc=1
	done
	_state_gone
	pcap_stop "$PCAP_PID"
	pcap_stop "$pcc"
	rc_n=$(pcap_count "$pc" 'tcp[tcpflags] & tcp-rst != 0')
	rs_n=$(pcap_count "$ps" 'tcp[tcpflags] & tcp-rst != 0')
	assert_eq "$rc" 0 "$GRACEFUL_N transfers (16 KiB up, 1 MiB down) verified"
	assert_eq "$rc_n" 0 "RSTs on the client link"
	assert_eq "$rs_n" 0 "RSTs on the server link"
	if [ "$rs_n" != 0 ]; then
		info "first reset on the server link, with the FINs before it:"
		pcap_read "$ps" | grep -B 4 -m 1 'Flags \[R' | cut -c 1-150 | sed 's/^/    /'
	fi
	if [ "$AGENT" = 1 ]; then
		nap 1.2
		assert_eq $(($(mpc_counter leg_rst || echo 0) - lr0)) 0 "agent leg_rst"
		assert_eq $(($(mpc_counter fastclose_sent || echo 0) - fc0)) 0 "agent fastclose_sent"
	fi
}

case_sigkill() {
	local dp=$1 rc=0 c0 c1 oldpid newlog
	link_rate 1 "$KILL_RATE" || return 1
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --size "$KILL_SIZE" --timeout 300 --name "$dp-sigkill" \
		-- --expect-mptcp --expect-syn-data || return 1
	_established "$XFER_PORT" || info "leg not seen established after 10 s"
	nap 3
	oldpid=$MPC_PID
	read -r c0 _ <<<"$(link_bytes "$NS_CLIENT" "$IF_C1")"
	mpc_kill9 || return 1
	info "killed mpconvd $oldpid (SIGKILL), restarting"
	assert_ok "pins kept after SIGKILL" test -e "$MPC_PIN/mpc_stats"
	# data keeps flowing without an agent
	nap 1
	read -r c1 _ <<<"$(link_bytes "$NS_CLIENT" "$IF_C1")"
	assert_ge $((c1 - c0)) $((1024 * 1024)) "bytes sent on c1 during the second without an agent"
	if ! _start --datapath "$dp"; then
		bg_stop "$XFER_CLIENT_PID"
		link_rate 1 off
		return 1
	fi
	newlog=$MPC_LOG
	xfer_wait || rc=1
	link_rate 1 off || return 1
	assert_eq "$rc" 0 "$KILL_SIZE each way verified across the SIGKILL and restart"
	assert_ok "new agent logs the re-adopted pinned maps" \
		grep -q 're-adopted pinned maps' "$newlog"
	assert_ok "new agent logs the adopted connection" \
		grep -Eq 'adopted [1-9][0-9]* connection' "$newlog"
	if [ "$dp" = xdp ]; then
		assert_ok "new agent replaced the running XDP program" \
			grep -q 'replaced running XDP program' "$newlog"
	fi
	_state_gone
	nap 1.2
	_agent_delta adopted 0 1 "adopted connections"
}

case_server_reset() {
	local dp=$1 rc=0 err fc0=0 lr0=0
	if [ "$AGENT" = 1 ]; then
		fc0=$(mpc_counter fastclose_sent || echo 0)
		lr0=$(mpc_counter leg_rst || echo 0)
	fi
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --up 4G --down 0 --timeout 60 --name "$dp-server-reset" \
		-- --expect-mptcp --expect-syn-data || return 1
	_established "$XFER_PORT" || info "leg not seen established after 10 s"
	nap 1
	# killed with unread data in its receive queue: its kernel sends a RST
	kill -KILL "$XFER_SERVER_PID"
	wait "$XFER_SERVER_PID" 2>/dev/null || true
	wait_pid_timeout "$XFER_CLIENT_PID" 20 || rc=$?
	if [ "$rc" -eq 124 ]; then
		bg_stop "$XFER_CLIENT_PID"
	fi
	err=$(grep -o '"error":"[^"]*"' "$XFER_CLIENT_JSON" | head -n 1)
	info "client: exit $rc, $err"
	assert_ok "client ended within 20 s of the server's reset" test "$rc" -ne 124
	assert_ok "client failed with a connection reset (ECONNRESET/EPIPE)" \
		grep -Eq 'reset by peer|Broken pipe' <<<"$err"
	_state_gone
	nap 1.2 # the agent publishes its counters once per second
	_agent_delta leg_rst "$lr0" 1 "server reset seen"
	_agent_delta fastclose_sent "$fc0" 1 "MP_FASTCLOSE sent to the client"
}

# the client process dies (SIGKILL) mid-download. A plain TCP client: its
# kernel answers the data that keeps coming with a RST. (An MPTCP client
# killed with unread data may close with a DATA_FIN instead of
# MP_FASTCLOSE and keep its subflow open at zero window until its orphan
# times out; that is the kernel's choice, so the MPTCP client's reset is
# the explicit one below, SO_LINGER 0.)
case_client_kill() {
	local dp=$1 rc=0 err cr0=0
	[ "$AGENT" = 1 ] && cr0=$(mpc_counter client_rst || echo 0)
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--up 0 --down 4G --timeout 60 --name "$dp-client-kill" \
		-- --expect-syn-data || return 1
	_established "$XFER_PORT" || info "leg not seen established after 10 s"
	nap 1
	kill -KILL "$XFER_CLIENT_PID"
	wait "$XFER_CLIENT_PID" 2>/dev/null || true
	wait_pid_timeout "$XFER_SERVER_PID" 20 || rc=$?
	if [ "$rc" -eq 124 ]; then
		bg_stop "$XFER_SERVER_PID"
	fi
	err=$(grep -o '"error":"[^"]*"' "$XFER_SERVER_JSON" | head -n 1)
	info "server: exit $rc, $err"
	assert_ok "server ended within 20 s of the client's death" test "$rc" -ne 124
	assert_ok "server failed with a connection reset (ECONNRESET/EPIPE)" \
		grep -Eq 'reset by peer|Broken pipe' <<<"$err"
	_state_gone
	nap 1.2 # the agent publishes its counters once per second
	_agent_delta client_rst "$cr0" 1 "client reset seen"
}

# an RFC 8803 client in python3: MPTCP socket, TCP_FASTOPEN_CONNECT, the
# Convert message as SYN data, the reply read exactly; then
#   idle SECS:   send nothing, report how the connection ends (or timeout)
#   reset BYTES: ask the xfer server for a download, read BYTES, close
#                with SO_LINGER 0 (RST with MP_FASTCLOSE)
CC_PY='
import errno, os, socket, struct, sys, time
IPPROTO_MPTCP, TCP_FASTOPEN_CONNECT = 262, 30
mode, conv, cport, srv, sport, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
s.connect((conv, cport))
addr = bytes(10) + b"\xff\xff" + socket.inet_aton(srv)
s.sendall(bytes([1, 6, 0x22, 0x63, 10, 5]) + struct.pack("!H", sport) + addr)
reply = b""
while len(reply) < 4 or len(reply) < reply[1] * 4:
    b = s.recv(4 if len(reply) < 4 else reply[1] * 4 - len(reply))
    if not b:
        print("eof before the reply", flush=True)
        sys.exit(2)
    reply += b
print("reply %s" % reply.hex(), flush=True)
if mode == "reset":
    # xfer request header: magic, version 1, flags, rsvd, seed, up 0, down 1 TiB
    s.sendall(struct.pack("!IBBHQQQ", 0x4d504358, 1, 0, 0, 1, 0, 1 << 40))
    got = 0
    while got < arg:
        b = s.recv(65536)
        if not b:
            print("eof after %d bytes" % got, flush=True)
            sys.exit(2)
        got += len(b)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset after %d bytes" % got, flush=True)
    sys.exit(0)
t = time.monotonic()
s.settimeout(arg)
try:
    what = "eof" if not s.recv(1) else "data"
except ConnectionResetError:
    what = "reset"
except socket.timeout:
    what = "timeout"
except OSError as e:
    what = "error-" + errno.errorcode.get(e.errno, str(e.errno))
print("idle end: %s after %.2f s" % (what, time.monotonic() - t), flush=True)
'

# _cc_server PORT: an xfer server on IP4_S1:PORT for one connection
# (SRV_PID, SRV_JSON)
_cc_server() {
	local port=$1 i
	SRV_JSON=$TOPO_TMP/cc.$port.server.jsonl
	bg_start "$NS_SERVER" "$XFER" server --listen "$IP4_S1:$port" --count 1 \
		--timeout 30 >"$SRV_JSON" 2>/dev/null
	SRV_PID=$BG_PID
	for i in $(seq 50); do
		ip netns exec "$NS_SERVER" ss -Htln "sport = :$port" | grep -q . && break
		sleep 0.05
	done
}

case_client_fastclose() {
	local dp=$1 port=7900 out rc=0 src=0 err cr0=0 fc
	command -v python3 >/dev/null || case_skip "python3 missing: no MPTCP reset client" || return
	[ "$AGENT" = 1 ] && cr0=$(mpc_counter client_rst || echo 0)
	fc=$TOPO_TMP/$dp-fastclose.pcap
	pcap_start "$NS_CLIENT" "$IF_C1" "$fc" tcp port "$CONVERT_PORT" and \
		'tcp[tcpflags] & tcp-rst != 0' || return 1
	_cc_server "$port"
	out=$(ip netns exec "$NS_CLIENT" python3 -c "$CC_PY" reset "$IP4_M1" "$CONVERT_PORT" \
		"$IP4_S1" "$port" 20000000 2>&1) || rc=$?
	info "MPTCP client: $(tr '\n' ' ' <<<"$out")"
	wait_pid_timeout "$SRV_PID" 20 || src=$?
	[ "$src" -eq 124 ] && bg_stop "$SRV_PID"
	pcap_stop "$PCAP_PID"
	err=$(grep -o '"error":"[^"]*"' "$SRV_JSON" | head -n 1)
	info "server: exit $src, $err"
	assert_eq "$rc" 0 "MPTCP client read 20 MB, then reset (SO_LINGER 0)"
	assert_ok "the client's RST carried MP_FASTCLOSE" \
		grep -q 'fast-close' <<<"$(pcap_read "$fc")"
	assert_ok "server ended within 20 s of the client's reset" test "$src" -ne 124
	assert_ok "server failed with a connection reset (ECONNRESET/EPIPE)" \
		grep -Eq 'reset by peer|Broken pipe' <<<"$err"
	_state_gone
	nap 1.2
	_agent_delta client_rst "$cr0" 1 "client reset seen"
}

case_idle() {
	local dp=$1 port=7800 out what secs ic0=0 rc=0
	command -v python3 >/dev/null || case_skip "python3 missing: no idle client" || return
	mpc_stop || true
	_start --datapath "$dp" --idle-timeout 3 || return 1
	[ "$AGENT" = 1 ] && ic0=$(mpc_counter idle_closed || echo 0)
	_cc_server "$port"
	out=$(ip netns exec "$NS_CLIENT" python3 -c "$CC_PY" idle "$IP4_M1" "$CONVERT_PORT" \
		"$IP4_S1" "$port" 15 2>&1) || rc=$?
	info "idle client: $(tr '\n' ' ' <<<"$out")"
	wait_pid_timeout "$SRV_PID" 10 || bg_stop "$SRV_PID"
	what=$(sed -n 's/^idle end: \([^ ]*\) after .*/\1/p' <<<"$out")
	secs=$(sed -n 's/^idle end: [^ ]* after \([0-9.]*\) s$/\1/p' <<<"$out")
	assert_eq "$rc" 0 "idle client ran"
	assert_ok "Convert reply received" grep -q '^reply 01' <<<"$out"
	assert_eq "$what" reset "the idle client was reset"
	assert_ge "${secs:-0}" 2.5 "not before the idle timeout (3 s)"
	assert_le "${secs:-99}" 6 "soon after the idle timeout (3 s)"
	assert_ok "the server was reset" grep -q '"error":"[^"]*reset by peer' "$SRV_JSON"
	_state_gone 10
	nap 1.2
	_agent_delta idle_closed "$ic0" 1 "idle connection closed"
}

for dp in $DATAPATHS; do
	if ! _start --datapath "$dp"; then
		run_case "$dp: converter starts" false
		continue
	fi
	run_case "$dp: 1% loss on the client link, $LOSS_SIZE each way" case_loss "$dp" 1
	run_case "$dp: 1% loss on the server link, $LOSS_SIZE each way" case_loss "$dp" 3
	run_case "$dp: SYN/ACK lost until the client retransmits its SYN" case_synack_lost "$dp"
	run_case "$dp: graceful close: FIN/DATA_FIN on both sides, no reset" case_graceful "$dp"
	run_case "$dp: SIGKILL of mpconvd mid-transfer, restart, $KILL_SIZE verified" case_sigkill "$dp"
	run_case "$dp: server reset mid-transfer reaches the client" case_server_reset "$dp"
	run_case "$dp: plain TCP client killed mid-transfer: the server is reset" case_client_kill "$dp"
	run_case "$dp: MPTCP client resets (MP_FASTCLOSE): the server is reset" case_client_fastclose "$dp"
	run_case "$dp: idle timeout (3 s) resets both sides" case_idle "$dp"
	mpc_stop || true
done
test_finish
