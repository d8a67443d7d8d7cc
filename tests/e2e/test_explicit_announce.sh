#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The converter announces its other addresses (key `announce`, RFC 8684
# 3.4.1 ADD_ADDR with HMAC) and withdraws them (REMOVE_ADDR), both data
# paths. The client's kernel has NO subflow endpoint here (flushed), so
# the only way it can open a second subflow is the converter's ADD_ADDR:
# its in-kernel path manager connects to the announced address (link 2,
# m2) from whatever source its routing picks (c2).
#
#   - IPv4 and IPv6: mpconvd --announce m2's addresses; a converted
#     upload. The client accepted our ADD_ADDR (MPTcpExtAddAddr +1, so the
#     HMAC was right; MPTcpExtAddAddrDrop +0), echoed it (agent
#     add_addr_echoed), joined the announced address (agent
#     join_accepted), the joined subflow carried payload through the
#     data path (agent join_up_bytes), SHA-256 equal
#   - withdrawal and return, during one upload, then one download: m2's
#     IPv4 address is deleted in the converter namespace (a third case:
#     link 2 goes down, m2 loses its carrier): the agent sends REMOVE_ADDR
#     (rm_addr_sent), the client removes the address (MPTcpExtRmAddr; its
#     path manager's REMOVED and SF_CLOSED events, `ip mptcp monitor`),
#     we close our subflow there too (sf_closed), the transfer goes on
#     over link 1; the address comes back: announced again, joined again
#     (SF_ESTABLISHED, a second join_accepted); the transfer completes,
#     verified
#
# env: DATAPATHS ("xdp tc"), ANN_SIZE (16M, the announce cases: the join
# must carry payload before the end, also under TCG), WITHDRAW_SIZE
# (24M: the withdrawal cases need a transfer that outlives the join, the
# removal and the rejoin, ~15 s at 2 x RATE), RATE (8mbit per link),
# KEEP_TMP=1 (keeps the client's `ip mptcp monitor` output),
# ANN_LOG_LEVEL (the agent's log-level, debug: each join is logged, and
# printed when one carries nothing). The TC upload
# across the withdrawal and the TC download with link 2 down stalled in 4
# of 12 and about 1 of 4 runs until the timestamp echoes followed the ACKs
# (docs/multipath-plan.md, "Timestamp echoes"); 14 of 14 each after
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DATAPATHS=${DATAPATHS:-xdp tc}
ANN_SIZE=${ANN_SIZE:-16M}
RATE=${RATE:-8mbit}
WITHDRAW_SIZE=${WITHDRAW_SIZE:-24M}
ANN_LOG_LEVEL=${ANN_LOG_LEVEL:-debug}

require_topo
require_mptcp
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
topo_create --xdp
convert_client_setup "$NS_CLIENT"
# no subflow endpoint at the client: joins only where we announce
ip -n "$NS_CLIENT" mptcp endpoint flush
[ -z "$(ip -n "$NS_CLIENT" mptcp endpoint show)" ] || die "client endpoints left"
ip -n "$NS_CLIENT" mptcp limits set subflows 8 add_addr_accepted 8

log "kernel $(uname -r), data paths: $DATAPATHS, links at $RATE"

_agent() { mpc_counter "$1" || echo 0; }
_cli() { nstat_get "$NS_CLIENT" "$1"; }

# _wait_for SECONDS CMD...: CMD until it succeeds or SECONDS passed (by
# the clock: under TCG one mpconvctl round takes long)
_wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" && return 0
		nap 0.2
	done
	"$@"
}

_agent_at_least() { [ "$(_agent "$1")" -ge "$2" ]; }

# _ann_xfer DP FAMILY SRV CONV: one upload with the links at RATE; sets
# ANN_RC (its verification), ANN_C0 (bytes the client sent on link 2) and
# ANN_JU (join_up_bytes it added, counted when the connection's state
# leaves the maps: up to 10 s after a clean close; a live sample of
# mpconvctl conns missed late joins under TCG). When the join carried
# nothing, it prints what link 2 saw, the agent's log and the client's
# counters
_ann_xfer() {
	local dp=$1 fam=$2 srv=$3 conv=$4 ju0 pc
	ANN_RC=0 ANN_C0=0 ANN_JU=0
	ju0=$(_agent join_up_bytes)
	link_rate 1 "$RATE" || return 1
	link_rate 2 "$RATE" || return 1
	pc=$TOPO_TMP/$dp-ann$fam-c2.$RANDOM.pcap
	pcap_start "$NS_CLIENT" "$IF_C2" "$pc" -c 40 tcp port "$CONVERT_PORT" || return 1
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$srv" --convert "$conv" \
		--client-mptcp --up "$ANN_SIZE" --down 1K --timeout 120 --name "$dp-ann$fam" \
		-- --expect-mptcp --expect-syn-data || { pcap_stop "$PCAP_PID"; return 1; }
	ANN_C0=$(client_nic_bytes up "$IF_C2")
	xfer_wait || ANN_RC=1
	ANN_C0=$(($(client_nic_bytes up "$IF_C2") - ANN_C0))
	link_rate 1 off || return 1
	link_rate 2 off || return 1
	ANN_JU=$(($(mpc_counter_at_least join_up_bytes $((ju0 + 1)) 20) - ju0))
	pcap_stop "$PCAP_PID"
	info "link 2 at the client: $ANN_C0 B sent; join_up_bytes +$ANN_JU"
	if [ "$ANN_JU" -eq 0 ]; then
		info "the join carried nothing: link 2 at the client (first 40 packets):"
		pcap_read "$pc" -v | sed 's/^/    /' | head -n 120
		info "agent log (joins, announce, warnings):"
		grep -iE 'join|announce|subflow|warn|error' "$MPC_LOG" | tail -n 30 | sed 's/^/    /'
		info "client MPTcp counters: $(nstat_ns "$NS_CLIENT" -asz 2>/dev/null | awk '$1 ~ /^MPTcpExt/ && $2 > 0 { printf "%s %s ", $1, $2 }')"
	fi
	return 0
}

# case_announce DP FAMILY: one upload; the client joins where we announced
case_announce() {
	local dp=$1 fam=$2 srv conv aa0 ad0 ae0 as0 ja0
	if [ "$fam" = 4 ]; then
		srv=$IP4_S1 conv=$IP4_M1
	else
		srv=$IP6_S1 conv="[$IP6_M1]"
	fi
	aa0=$(_cli MPTcpExtAddAddr) ad0=$(_cli MPTcpExtAddAddrDrop)
	ae0=$(_agent add_addr_echoed) as0=$(_agent add_addr_sent) ja0=$(_agent join_accepted)
	_ann_xfer "$dp" "$fam" "$srv" "$conv" || return 1
	# Under TCG the accepted join carried nothing in the first case of a
	# whole vmtest run twice (6.1 in CI on 8da4b18, 6.12 on b5ebb38; the
	# client sent 288 B on link 2), never in 22 runs of this case alone
	# (6.1, 6.12, host busy). Not understood: the output above says what
	# link 2 saw. One more connection then; it must carry data
	if [ "$ANN_RC" = 0 ] && [ "$ANN_JU" -eq 0 ]; then
		info "again, with a new connection (tests/e2e/README.md, open problems)"
		_ann_xfer "$dp" "$fam" "$srv" "$conv" || return 1
	fi
	assert_eq "$ANN_RC" 0 "$ANN_SIZE upload over IPv$fam verified, MPTCP"
	assert_ge $(($(_agent add_addr_sent) - as0)) 1 "agent add_addr_sent"
	assert_ge $(($(_cli MPTcpExtAddAddr) - aa0)) 1 \
		"client MPTcpExtAddAddr (our ADD_ADDR arrived, its HMAC verified)"
	assert_eq $(($(_cli MPTcpExtAddAddrDrop) - ad0)) 0 "client MPTcpExtAddAddrDrop"
	assert_ge $(($(mpc_counter_at_least add_addr_echoed $((ae0 + 1))) - ae0)) 1 \
		"agent add_addr_echoed (the client echoed it)"
	assert_ge $(($(_agent join_accepted) - ja0)) 1 \
		"agent join_accepted (the client joined; it has no endpoint of its own)"
	assert_gt "$ANN_JU" 0 "payload the data path translated on the joined subflow (agent join_up_bytes)"
	info "client subflows at the end: $XFER_SUBFLOWS"
}

# _mon_count FILE REGEX: lines of the client's `ip mptcp monitor` matching
_mon_count() { grep -cE -- "$2" "$1" 2>/dev/null || true; }
_mon_at_least() { [ "$(_mon_count "$1" "$2")" -ge "$3" ]; }

# _m2_gone addr|link, _m2_back addr|link: m2's IPv4 address deleted and
# re-added, or link 2 down (m2 loses its carrier: not RUNNING) and up
_m2_gone() {
	if [ "$1" = addr ]; then ip -n "$NS_CONV" addr del "$IP4_M2/25" dev "$IF_M2"; else link_down 2; fi
}
_m2_back() {
	if [ "$1" = addr ]; then ip -n "$NS_CONV" addr add "$IP4_M2/25" dev "$IF_M2"; else link_up 2; fi
}

# case_withdraw DP DIR HOW: m2's IPv4 address leaves and comes back
# (HOW addr: deleted; link: link 2 down) mid-upload (DIR up) or
# mid-download (down: the converter's scheduler must leave the subflow at
# once); the client's own account of it comes from its path manager's
# events
case_withdraw() {
	local dp=$1 dir=$2 how=$3 svc="$IP4_M2:$CONVERT_PORT" rc=0 ra0 sc0 rm0 ja0 as0 t0 t_rm t_back sz
	local size mon=$TOPO_TMP/$dp-$dir-$how-monitor.txt mpid
	size=$(numfmt --from=iec "$WITHDRAW_SIZE")
	local sf_up="SF_ESTABLISHED.* remid=1 .*daddr4=$IP4_M2 " sf_down="SF_CLOSED.* remid=1 .*daddr4=$IP4_M2 "
	ra0=$(_cli MPTcpExtRmAddr) sc0=$(_agent sf_closed)
	rm0=$(_agent rm_addr_sent) ja0=$(_agent join_accepted)
	link_rate 1 "$RATE" || return 1
	link_rate 2 "$RATE" || return 1
	bg_start "$NS_CLIENT" ip mptcp monitor >"$mon" 2>&1
	mpid=$BG_PID
	if [ "$dir" = up ]; then sz="--up $size --down 1K"; else sz="--up 1K --down $size"; fi
	# shellcheck disable=SC2086 # two options
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp $sz --timeout 180 --name "$dp-withdraw-$dir-$how" \
		-- --expect-mptcp --expect-syn-data || { bg_stop "$mpid"; return 1; }
	# the client's own event, read from a file: under TCG (vmtest, 6.1)
	# each mpconvctl | python3 round (then used here) took seconds, and the
	# 24 MiB transfer had ended before the address left (all six cases
	# failed so in one run on 4382ede's test code)
	if ! _wait_for 10 _mon_at_least "$mon" "$sf_up" 1; then
		info "the client had no subflow to $svc within 10 s"
		rc=1
	fi
	as0=$(_agent add_addr_sent)
	if ! kill -0 "$XFER_CLIENT_PID" 2>/dev/null; then
		info "the transfer ended before the address left: nothing to test"
		rc=1
	fi
	t0=$SECONDS
	_m2_gone "$how" || rc=1
	# back only once our REMOVE_ADDR is out: with link 2 down, 6.1's
	# client closed its subflow at once, and the link came back before
	# the agent's once-a-second look had seen it go (CI, vmtest; the
	# agent now also hears rtnetlink's link events)
	_wait_for 5 _agent_at_least rm_addr_sent $((rm0 + 1)) || rc=1
	_wait_for 5 _mon_at_least "$mon" "$sf_down" 1 || rc=1
	t_rm=$((SECONDS - t0))
	_m2_back "$how" || rc=1
	t0=$SECONDS
	_wait_for 10 _mon_at_least "$mon" "$sf_up" 2 || rc=1
	t_back=$((SECONDS - t0))
	xfer_wait || rc=1
	bg_stop "$mpid" || true
	link_rate 1 off || return 1
	link_rate 2 off || return 1
	info "client path manager events: $(grep -oE '^\[ *[A-Z_]+\]' "$mon" | tr -d '[] ' | tr '\n' ' ')"
	assert_eq "$rc" 0 "$size B ${dir}load verified across the withdrawal and return"
	assert_ge $(($(_agent rm_addr_sent) - rm0)) 1 "agent rm_addr_sent"
	assert_ge $(($(_cli MPTcpExtRmAddr) - ra0)) 1 "client MPTcpExtRmAddr (our REMOVE_ADDR arrived)"
	assert_ge "$(_mon_count "$mon" "REMOVED.* remid=1")" 1 "client event REMOVED remid=1"
	assert_ge "$(_mon_count "$mon" "$sf_down")" 1 \
		"client event SF_CLOSED of its subflow to $IP4_M2 (ID 1 from our MP_JOIN SYN/ACK)"
	assert_ge $(($(_agent sf_closed) - sc0)) 1 "agent sf_closed (ours closed too)"
	assert_ge $(($(_agent add_addr_sent) - as0)) 1 "agent add_addr_sent again after the return"
	assert_ge "$(_mon_count "$mon" "$sf_up")" 2 "client event SF_ESTABLISHED to $IP4_M2 again"
	assert_ge $(($(_agent join_accepted) - ja0)) 2 "agent join_accepted: the first join and the one after the return"
	info "MEASURE $dp withdraw ($dir, $how): client subflow closed ${t_rm} s after the address left, rejoined ${t_back} s after it returned"
}

# _withdraw_case DP DIR HOW: case_withdraw as a named case
_withdraw_case() {
	local dp=$1 dir=$2 how=$3 name
	if [ "$how" = addr ]; then
		name="$dp: ${dir}load: address deleted: REMOVE_ADDR, subflow closed; back: announced, joined again"
	else
		name="$dp: ${dir}load: link 2 down (m2 without carrier): REMOVE_ADDR; up: announced, joined again"
	fi
	run_case "$name" case_withdraw "$dp" "$dir" "$how"
}

for dp in $DATAPATHS; do
	if ! mpc_start --datapath "$dp" --max-subflows 8 --log-level "$ANN_LOG_LEVEL" \
		--listen "$IP4_M1:$CONVERT_PORT,[$IP6_M1]:$CONVERT_PORT" \
		--announce "$IP4_M2,$IP6_M2"; then
		run_case "$dp: converter starts (--announce)" false
		continue
	fi
	run_case "$dp: IPv4: ADD_ADDR accepted, the client joins the announced address" \
		case_announce "$dp" 4
	run_case "$dp: IPv6: ADD_ADDR accepted, the client joins the announced address" \
		case_announce "$dp" 6
	_withdraw_case "$dp" up addr
	_withdraw_case "$dp" down addr
	_withdraw_case "$dp" down link
	mpc_stop || true
done
test_finish
