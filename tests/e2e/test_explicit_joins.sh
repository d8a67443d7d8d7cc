#!/usr/bin/env bash
# shellcheck disable=SC2317 # case functions are called through run_case
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# MP_JOIN at the explicit-mode converter (RFC 8684 3.2), both data paths.
#
#   - the kernel client's own join (its second endpoint, c2, after the
#     first subflow is up): the client accepts our SYN/ACK (its
#     MPTcpExtMPJoinSynAckRx +1, MPTcpExtMPJoinSynAckHMacFailure +0: our
#     truncated HMAC-B is right), we verify its HMAC-A (agent
#     join_verified) and install the subflow (join_accepted, the fourth
#     ACK); the transfer uses both subflows (MPTCP_TCPINFO at the client:
#     2; the data path translated payload on subflow 1, mpconvctl), SHA-256
#     equal. What the data path does with it: test_explicit_multipath.sh
#   - the same with --max-subflows 1 (the default): refused by policy
#     (join_refused_policy; on the wire: RST + MP_TCPRST reason 3 to c2),
#     the transfer completes on the first subflow
#   - a join for a token nobody holds (tests/tools/mpjoin): RST with
#     MP_TCPRST reason 1 (MPTCP-specific error) at once, join_refused_token
#   - a join from a source outside --allow: no answer at all (syn_ignored)
#   - a join for a live connection's token whose third ACK carries a
#     wrong HMAC (mpjoin cannot know the keys): SYN/ACK with MP_JOIN, then
#     RST with MP_TCPRST reason 1, join_refused_hmac; the connection
#     itself is untouched (its transfer verifies)
#
# env: DATAPATHS ("xdp tc"), SIZE (16M), WATCH (40: a transfer still
# running after this many seconds has the converter's and both ends' state
# printed while it runs, conv_state_dump), KEEP_TMP=1
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DATAPATHS=${DATAPATHS:-xdp tc}
SIZE=${SIZE:-16M}
MPJOIN=${MPJOIN:-$MPC_ROOT/build/tools/mpjoin}
PROBE_PORT=40999
WATCH=${WATCH:-40}

require_topo
require_mptcp
[ -x "$MPCONVD" ] || die "$MPCONVD not built (make all)"
[ -x "$MPJOIN" ] || die "$MPJOIN not built (make all)"
topo_create --xdp
convert_client_setup "$NS_CLIENT"

# the kernel of the client namespace would answer mpjoin's SYN/ACK (no
# socket on that port) with a RST of its own; mpjoin's own packets pass
ip netns exec "$NS_CLIENT" nft -f - <<EOF || die "nft"
table inet mpc_joinprobe {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp sport $PROBE_PORT tcp flags & rst == rst drop
	}
}
EOF

log "kernel $(uname -r), data paths: $DATAPATHS, $SIZE each way"

# _agent NAME: an agent counter now (0 without it)
_agent() { mpc_counter "$1" || echo 0; }

case_kernel_join() {
	local dp=$1 rc=0 sa0 hf0 jv0 ja0 jh0 ju0 b1
	sa0=$(nstat_get "$NS_CLIENT" MPTcpExtMPJoinSynAckRx)
	hf0=$(nstat_get "$NS_CLIENT" MPTcpExtMPJoinSynAckHMacFailure)
	jv0=$(_agent join_verified) ja0=$(_agent join_accepted) jh0=$(_agent join_refused_hmac)
	ju0=$(_agent join_up_bytes)
	# 8 Mbit/s on link 1: the connection lives long enough for the join
	# to carry data (link 2 is not shaped), also under TCG (vmtest)
	link_rate 1 8mbit || return 1
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --up "$SIZE" --down 1M --timeout 120 --name "$dp-kernel-join" \
		-- --expect-mptcp --expect-syn-data || return 1
	# on 6.1 under TCG (vmtest) the download stalled for good after the
	# join in about 5 of 116 runs of this and case_bad_hmac until the
	# server's collapsed resends went into the hole (multi.h
	# mpc_multi_resend_at_hole): the state if it is stalled again
	xfer_watch "$WATCH"
	xfer_wait || rc=1
	link_rate 1 off || return 1
	assert_eq "$rc" 0 "$SIZE up, 1M down verified, MPTCP"
	assert_ge $(($(nstat_get "$NS_CLIENT" MPTcpExtMPJoinSynAckRx) - sa0)) 1 \
		"client MPTcpExtMPJoinSynAckRx (our SYN/ACK with MP_JOIN arrived)"
	assert_eq $(($(nstat_get "$NS_CLIENT" MPTcpExtMPJoinSynAckHMacFailure) - hf0)) 0 \
		"client MPTcpExtMPJoinSynAckHMacFailure (our truncated HMAC-B is right)"
	assert_ge $(($(_agent join_verified) - jv0)) 1 "agent join_verified (the client's HMAC-A checked)"
	assert_eq $(($(_agent join_refused_hmac) - jh0)) 0 "agent join_refused_hmac"
	assert_ge $(($(mpc_counter_at_least join_accepted $((ja0 + 1))) - ja0)) 1 "agent join_accepted"
	# whether the join carried data before a small transfer ended depends
	# on timing (under TCG, vmtest, it often did not); data over joined
	# subflows is asserted by test_explicit_multipath.sh. Counted when the
	# connection's state leaves the maps (up to 10 s after its close)
	b1=$(($(mpc_counter_at_least join_up_bytes $((ju0 + 1)) 12) - ju0))
	info "client subflows at the end: $XFER_SUBFLOWS; payload translated on the joined subflow: $b1 B (join_up_bytes)"
}

case_policy() {
	local dp=$1 rc=0 pc rst jp0
	pc=$TOPO_TMP/$dp-policy.pcap
	jp0=$(_agent join_refused_policy)
	pcap_start "$NS_CLIENT" "$IF_C2" "$pc" tcp port "$CONVERT_PORT" || return 1
	xfer_check "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --size "$SIZE" --timeout 120 --name "$dp-policy" \
		-- --expect-mptcp --expect-syn-data || rc=1
	mpc_counter_at_least join_refused_policy $((jp0 + 1)) >/dev/null
	pcap_stop "$PCAP_PID"
	assert_eq "$rc" 0 "$SIZE each way verified, MPTCP"
	assert_ge $(($(_agent join_refused_policy) - jp0)) 1 "agent join_refused_policy (max-subflows 1)"
	# the refusal on the wire (the client does not count an MP_TCPRST on
	# a join that is not fully established): a RST from the service to
	# c2 whose options start with MP_TCPRST, reason 3 (1e 04 80 03)
	rst=$(pcap_read "$pc" -x src port "$CONVERT_PORT" and dst host "$IP4_C2" and \
		'tcp[tcpflags] & tcp-rst != 0')
	info "$(head -n 1 <<<"$rst" | cut -c 1-160)"
	assert_ok "RST with MP_TCPRST reason 3 (administratively prohibited) reached the client's c2" \
		grep -q '1e04 8003' <<<"$rst"
	assert_eq "$XFER_SUBFLOWS" 1 "the transfer used one subflow"
}

case_unknown_token() {
	local dp=$1 out jt0 tok
	jt0=$(_agent join_refused_token)
	# a token no connection holds: the table is empty between cases
	tok=$(printf '%08x' $((RANDOM * 65536 + RANDOM)))
	out=$(ip netns exec "$NS_CLIENT" "$MPJOIN" --src "$IP4_C2" --dst "$IP4_M1:$CONVERT_PORT" \
		--sport "$PROBE_PORT" --token "$tok" --timeout 10) || return 1
	info "mpjoin (token $tok): $out"
	assert_ok "SYN answered with RST" grep -q 'syn_reply=rst ' <<<"$out"
	assert_ok "RST carries MP_TCPRST reason 1 (MPTCP-specific error)" \
		grep -q 'syn_rst_reason=1 ' <<<"$out"
	assert_eq $(($(mpc_counter_at_least join_refused_token $((jt0 + 1))) - jt0)) 1 "agent join_refused_token"
}

case_unauthorized() {
	local dp=$1 out si0 js0
	si0=$(_agent syn_ignored) js0=$(_agent join_syn)
	# a source outside --allow (192.0.2.0/24, 2001:db8::/32): not even a
	# RST (nothing ever answers or forwards for it); the token does not
	# matter, the source is checked first
	out=$(ip netns exec "$NS_CLIENT" "$MPJOIN" --src 203.0.113.77 --dst "$IP4_M1:$CONVERT_PORT" \
		--sport "$PROBE_PORT" --token 1 --timeout 2) || return 1
	info "mpjoin from 203.0.113.77: $out"
	assert_ok "no answer at all" grep -q 'syn_reply=none ' <<<"$out"
	assert_eq $(($(mpc_counter_at_least join_syn $((js0 + 1))) - js0)) 1 "agent join_syn"
	assert_eq $(($(_agent syn_ignored) - si0)) 1 "agent syn_ignored (unauthorised source)"
}

case_bad_hmac() {
	local dp=$1 rc=0 out jh0 jv0 tok='' i
	jh0=$(_agent join_refused_hmac) jv0=$(_agent join_verified)
	# a connection that lives a few seconds: 4 Mbit/s on both links (with
	# link 2 unshaped the client's own join carried the download at 856
	# Mbit/s and the connection was gone before mpjoin's third ACK: no
	# reply at all, make test on the host, 4382ede; at 8 Mbit/s the 4 MiB
	# each way took 4 s, and under TCG with the host busy mpjoin's one
	# third ACK went unanswered for 10 s once in 16 runs, why is not
	# known (join_refused_hmac stayed 0): mpjoin now resends it, as RFC
	# 8684 3.2 requires, and the connection lives twice as long)
	link_rate 1 4mbit || return 1
	link_rate 2 4mbit || return 1
	xfer_start "$NS_CLIENT" "$NS_SERVER" --addr "$IP4_S1" --convert "$IP4_M1" \
		--client-mptcp --size 4M --timeout 120 --name "$dp-bad-hmac" \
		-- --expect-mptcp --expect-syn-data || return 1
	for i in $(seq 50); do
		tok=$(mpc_ctl -j conns | grep -o '"token":"[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
		[ -n "$tok" ] && break
		nap 0.1
	done
	if [ -z "$tok" ]; then
		info "no MPTCP connection in mpconvctl conns"
		rc=1
	else
		# 10 s for each reply: under TCG (vmtest, 6.1) the agent's RST
		# to the bad third ACK once took longer than mpjoin's default 3 s
		out=$(ip netns exec "$NS_CLIENT" "$MPJOIN" --src "$IP4_C2" \
			--dst "$IP4_M1:$CONVERT_PORT" --sport "$PROBE_PORT" --token "$tok" --timeout 10) || rc=1
		info "mpjoin (token $tok of the live connection): $out"
	fi
	xfer_watch "$WATCH"
	xfer_wait || rc=1
	link_rate 1 off || return 1
	link_rate 2 off || return 1
	assert_eq "$rc" 0 "4M each way verified, MPTCP, with a bad join on the side"
	assert_ok "SYN answered with SYN/ACK + MP_JOIN (token known)" grep -q 'syn_reply=synack ' <<<"${out:-}"
	assert_ok "third ACK with a wrong HMAC answered with RST, MP_TCPRST reason 1" \
		grep -q 'ack_reply=rst ack_rst_reason=1$' <<<"${out:-}"
	assert_ge $(($(mpc_counter_at_least join_refused_hmac $((jh0 + 1))) - jh0)) 1 "agent join_refused_hmac"
	info "agent join_verified +$(($(_agent join_verified) - jv0)) (the client's own join, if it came)"
}

for dp in $DATAPATHS; do
	if ! mpc_start --datapath "$dp" --max-subflows 8; then
		run_case "$dp: converter starts" false
		continue
	fi
	run_case "$dp: the client's join: HMACs verified both ways, subflow installed" case_kernel_join "$dp"
	run_case "$dp: join for an unknown token: RST + MP_TCPRST" case_unknown_token "$dp"
	run_case "$dp: join with a wrong HMAC in the third ACK: RST + MP_TCPRST" case_bad_hmac "$dp"
	run_case "$dp: join from a source outside --allow: no answer" case_unauthorized "$dp"
	mpc_stop || true
	if ! mpc_start --datapath "$dp" --max-subflows 1; then
		run_case "$dp: converter starts (--max-subflows 1)" false
		continue
	fi
	run_case "$dp: --max-subflows 1: the client's join refused by policy" case_policy "$dp"
	mpc_stop || true
done
ip netns exec "$NS_CLIENT" nft delete table inet mpc_joinprobe 2>/dev/null || true
test_finish
