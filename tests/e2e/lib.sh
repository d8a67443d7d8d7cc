# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# tests/e2e/lib.sh - shared by every end-to-end test. Source it, then
#
#   topo_create            client / converter / server namespaces (see
#                          README.md for the drawing), cleanup trap set
#   link_rate/loss/blackhole/down/up LINK ...     impair a link
#   bg_start NS CMD...     background process, killed by topo_destroy
#   xfer_check / xfer_start + xfer_wait          verified transfers
#   nstat_ns, nstat_get, link_bytes, mptcp_subflows, link_drops   counters
#   run_case, assert_*, skip, case_skip, test_finish               results
#
# Exit codes: 0 pass, 1 fail, 77 skip (reason on a "SKIP: ..." line),
# 99 error in the test itself (setup failed).
#
# Only documentation addresses, namespaces "mpc-<id>-{cli,conv,srv}" with
# id = TOPO_ID (default: the PID of the test shell), removed on every exit
# path. Nothing in the root namespace is touched.

# ---- constants -----------------------------------------------------------

E2E_PASS=0
E2E_FAIL=1
E2E_SKIP=77
E2E_ERROR=99
export E2E_PASS E2E_FAIL E2E_SKIP E2E_ERROR

MPC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XFER=${XFER:-$MPC_ROOT/build/tools/xfer}
export MPC_ROOT XFER

TOPO_ID=${TOPO_ID:-$$}
NS_CLIENT=mpc-$TOPO_ID-cli
NS_CONV=mpc-$TOPO_ID-conv
NS_SERVER=mpc-$TOPO_ID-srv
export TOPO_ID NS_CLIENT NS_CONV NS_SERVER

# interfaces: client c1,c2 <-> converter m1,m2 ; converter m3 <-> server s1
IF_C1=c1
IF_C2=c2
IF_M1=m1
IF_M2=m2
IF_M3=m3
IF_S1=s1
export IF_C1 IF_C2 IF_M1 IF_M2 IF_M3 IF_S1

# link 1: c1 - m1
NET4_L1=192.0.2.0/25
IP4_M1=192.0.2.1
IP4_C1=192.0.2.2
NET6_L1=2001:db8:1::/64
IP6_M1=2001:db8:1::1
IP6_C1=2001:db8:1::2
# link 2: c2 - m2
NET4_L2=192.0.2.128/25
IP4_M2=192.0.2.129
IP4_C2=192.0.2.130
NET6_L2=2001:db8:2::/64
IP6_M2=2001:db8:2::1
IP6_C2=2001:db8:2::2
# link 3 (server side): m3 - s1
NET4_L3=198.51.100.0/24
IP4_M3=198.51.100.1
IP4_S1=198.51.100.2
NET6_L3=2001:db8:3::/64
IP6_M3=2001:db8:3::1
IP6_S1=2001:db8:3::2
# the converter's external address (source of converted connections)
NET4_EXT=203.0.113.0/24
IP4_EXT=203.0.113.1
NET6_EXT=2001:db8:ff::/64
IP6_EXT=2001:db8:ff::1
# client policy-routing tables, one per link
RT_L1=101
RT_L2=102
export NET4_L1 IP4_M1 IP4_C1 NET6_L1 IP6_M1 IP6_C1 \
	NET4_L2 IP4_M2 IP4_C2 NET6_L2 IP6_M2 IP6_C2 \
	NET4_L3 IP4_M3 IP4_S1 NET6_L3 IP6_M3 IP6_S1 \
	NET4_EXT IP4_EXT NET6_EXT IP6_EXT RT_L1 RT_L2

# ---- knobs (set before topo_create, or pass the options) --------------------

# net.mptcp.enabled in the server namespace (plain TCP server by default)
TOPO_SERVER_MPTCP=${TOPO_SERVER_MPTCP:-0}
# 1: the server gets a default route via the converter (plain routing
# between client and server, e.g. for baselines); 0: it only routes
# NET4_EXT/NET6_EXT via the converter, client addresses are unreachable
TOPO_SERVER_DEFAULT_ROUTE=${TOPO_SERVER_DEFAULT_ROUTE:-0}
# 1: IP4_EXT/IP6_EXT are assigned to the converter's lo; 0: only routed
TOPO_EXT_ON_LO=${TOPO_EXT_ON_LO:-1}
# congestion control in every namespace ("" = inherit the host default,
# which new namespaces copy). A non-initial namespace may only pick one
# listed in the host's net.ipv4.tcp_allowed_congestion_control (reno is
# always allowed; cubic is not, unless the host allows it).
TOPO_CC=${TOPO_CC-}
# 1: apply topo_offload_xdp after creation (see there)
TOPO_XDP=${TOPO_XDP:-0}
TOPO_MTU_CLIENT=${TOPO_MTU_CLIENT:-1500}
TOPO_MTU_SERVER=${TOPO_MTU_SERVER:-1500}
# where link_rate/link_loss/link_blackhole act:
#   endpoint  both directions in the client (links 1, 2) or server (link
#             3) namespace: egress qdisc + ingress via an ifb device, nft
#             netdev ingress+egress hooks. Works whatever the converter
#             does (XDP_REDIRECT out of m1 skips m1's qdisc and nftables).
#   ends      tbf on the egress of both veth ends (converter side too);
#             loss/blackhole stay at the endpoint.
LINK_SHAPE_AT=${LINK_SHAPE_AT:-endpoint}
# queue of the tbf shapers, in ms at the shaped rate
LINK_QUEUE_MS=${LINK_QUEUE_MS:-50}
export TOPO_SERVER_MPTCP TOPO_SERVER_DEFAULT_ROUTE TOPO_EXT_ON_LO TOPO_CC \
	TOPO_XDP TOPO_MTU_CLIENT TOPO_MTU_SERVER LINK_SHAPE_AT LINK_QUEUE_MS

# ---- state ---------------------------------------------------------------

TOPO_TMP=${TOPO_TMP:-}
_TOPO_TRAPS=0
_TOPO_BPFFS_WAS=0 # 1: bpffs was mounted before topo_create
_TOPO_CLEANUP=()
XFER_PORT_NEXT=${XFER_PORT_NEXT:-20000}
TEST_FAILS=0
TEST_PASSES=0
TEST_SKIPS=0
TEST_RETRIES=0  # cases run a second time (CASE_RETRY)
TEST_RETRIED=() # of those, "CASE: why its first attempt failed" if it passed
CASE_FAILS=0
CASE_FIRST_FAIL=
CASE_NO_RETRY=0 # 1: a transfer of this case failed (xfer_wait), no retry
CASE_SKIP_REASON=

# ---- messages and results ----------------------------------------------------

log() {
	printf '%s\n' "$*"
}

info() {
	printf '  %s\n' "$*"
}

warn() {
	printf 'WARN: %s\n' "$*" >&2
}

# skip REASON: the whole test is skipped (exit 77, cleanup runs)
skip() {
	printf 'SKIP: %s\n' "$*"
	exit "$E2E_SKIP"
}

# die MSG: the test itself failed to run (exit 99, cleanup runs)
die() {
	printf 'ERROR: %s\n' "$*"
	exit "$E2E_ERROR"
}

# case_skip REASON: inside a case function: `case_skip "why" || return`
case_skip() {
	CASE_SKIP_REASON="$*"
	return "$E2E_SKIP"
}

_case_fail() {
	CASE_FAILS=$((CASE_FAILS + 1))
	[ "$CASE_FAILS" -gt 1 ] || CASE_FIRST_FAIL=$*
	printf '  not ok - %s\n' "$*"
	return 1
}

_case_ok() {
	printf '  ok - %s\n' "$*"
}

# assert_eq ACTUAL EXPECTED MSG   (string comparison)
assert_eq() {
	if [ "$1" = "$2" ]; then
		_case_ok "$3 ($1)"
	else
		_case_fail "$3: got '$1', want '$2'"
	fi
}

# assert_ge ACTUAL MIN MSG / assert_le ACTUAL MAX MSG / assert_gt / assert_lt
# (numeric, decimals allowed)
_num_cmp() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (a !~ /^-?[0-9]+(\.[0-9]*)?$/ || b !~ /^-?[0-9]+(\.[0-9]*)?$/)
			exit 2
		a += 0; b += 0
		if (op == "ge") r = a >= b
		else if (op == "le") r = a <= b
		else if (op == "gt") r = a > b
		else r = a < b
		exit !r
	}'
}

_assert_num() {
	local op=$1 a=$2 b=$3 msg=$4 sym
	case $op in
	ge) sym='>=' ;; le) sym='<=' ;; gt) sym='>' ;; lt) sym='<' ;;
	esac
	if _num_cmp "$a" "$op" "$b"; then
		_case_ok "$msg ($a $sym $b)"
	else
		_case_fail "$msg: got '$a', want $sym $b"
	fi
}

assert_ge() { _assert_num ge "$@"; }
assert_le() { _assert_num le "$@"; }
assert_gt() { _assert_num gt "$@"; }
assert_lt() { _assert_num lt "$@"; }

# assert_ok MSG CMD...: CMD must succeed
assert_ok() {
	local msg=$1
	shift
	if "$@"; then
		_case_ok "$msg"
	else
		_case_fail "$msg (command failed: $*)"
	fi
}

# run_case NAME FUNC [ARGS...]: prints PASS/FAIL/SKIP NAME. A case fails if
# FUNC returns non-zero or any assertion in it failed; 77 means skipped.
# FUNC runs in the test shell (no subshell), but, as for any function
# called from a condition, set -e does not apply inside it: end steps that
# must not fail with `|| return 1`.
run_case() {
	local name=$1 rc=0
	shift
	# E2E_CASES=REGEX (grep -E) runs only the matching cases, for
	# debugging one case; the others are reported as skipped
	if [ -n "${E2E_CASES:-}" ] && ! printf '%s\n' "$name" | grep -qE -- "$E2E_CASES"; then
		log "SKIP: $name: not selected by E2E_CASES"
		TEST_SKIPS=$((TEST_SKIPS + 1))
		return 0
	fi
	local first=
	while :; do
		CASE_FAILS=0 CASE_FIRST_FAIL='' CASE_NO_RETRY=0
		CASE_SKIP_REASON=
		# CASE_RESET=FUNCTION (a test sets it): run before every case,
		# so that a case that failed half-way (returned before undoing
		# a link impairment or an endpoint flag) does not fail the
		# cases after it
		if [ -n "${CASE_RESET:-}" ] && ! "$CASE_RESET"; then
			log "--- $name"
			log "FAIL: $name: $CASE_RESET could not restore the topology"
			TEST_FAILS=$((TEST_FAILS + 1))
			return 0
		fi
		log "--- $name"
		rc=0
		"$@" || rc=$?
		if [ "$rc" -eq "$E2E_SKIP" ] && [ -z "$first" ]; then
			log "SKIP: $name: ${CASE_SKIP_REASON:-no reason given}"
			TEST_SKIPS=$((TEST_SKIPS + 1))
		elif [ "$rc" -eq 0 ] && [ "$CASE_FAILS" -eq 0 ]; then
			log "PASS: $name${first:+ (at the second attempt)}"
			TEST_PASSES=$((TEST_PASSES + 1))
			[ -z "$first" ] || TEST_RETRIED+=("$name: $first")
		elif [ -z "$first" ] && [ "$CASE_NO_RETRY" = 0 ] &&
			[ "$TEST_RETRIES" -lt "${CASE_RETRY:-0}" ]; then
			# CASE_RETRY=N (a test sets it): up to N failed cases of
			# the test run once more, each at most once. For timing
			# against real kernels on a shared 2-CPU machine (a shaped
			# rate bound, a failover deadline); never for a transfer
			# that failed (xfer_wait sets CASE_NO_RETRY: lost or
			# corrupted data, a stall). A case that fails twice (or
			# fails, then skips) fails, and every case that passed at
			# its second attempt is named before the RESULT line.
			first="exit $rc, $CASE_FAILS failed checks${CASE_FIRST_FAIL:+, the first: $CASE_FIRST_FAIL}"
			TEST_RETRIES=$((TEST_RETRIES + 1))
			log "RETRY: $name: the first attempt failed ($first); once more"
			continue
		else
			log "FAIL: $name${first:+ (the first attempt: $first)}"
			TEST_FAILS=$((TEST_FAILS + 1))
		fi
		return 0
	done
}

# test_finish: summary line and exit code (1 if any case failed, 77 if all
# were skipped, else 0)
test_finish() {
	local name r retried=
	name=$(basename "$0" .sh)
	for r in "${TEST_RETRIED[@]}"; do
		log "RETRIED: $r"
	done
	[ "${#TEST_RETRIED[@]}" -eq 0 ] || retried=", ${#TEST_RETRIED[@]} passed at the second attempt"
	if [ "$TEST_FAILS" -gt 0 ]; then
		log "RESULT: FAIL $name ($TEST_FAILS failed, $TEST_PASSES passed, $TEST_SKIPS skipped$retried)"
		exit "$E2E_FAIL"
	fi
	if [ "$TEST_PASSES" -eq 0 ] && [ "$TEST_SKIPS" -gt 0 ]; then
		log "SKIP: all $TEST_SKIPS cases skipped"
		exit "$E2E_SKIP"
	fi
	log "RESULT: PASS $name ($TEST_PASSES passed, $TEST_SKIPS skipped$retried)"
	exit "$E2E_PASS"
}

# ---- requirements --------------------------------------------------------------

require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "missing command: $c"
	done
}

require_xfer() {
	[ -x "$XFER" ] || die "$XFER not built (make build/tools/xfer)"
}

require_mptcp() {
	[ -e /proc/sys/net/mptcp/enabled ] || skip "kernel without MPTCP"
}

# the usual set for topo_create
require_topo() {
	require_root
	require_cmd ip tc nft ethtool ss nstat awk
	require_xfer
}

# ---- temporary files -----------------------------------------------------------

_topo_tmp() {
	if [ -z "$TOPO_TMP" ] || [ ! -d "$TOPO_TMP" ]; then
		TOPO_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mpc-e2e-$TOPO_ID.XXXXXX")
		export TOPO_TMP
	fi
}

# ---- background processes --------------------------------------------------------

# bg_start NS CMD [ARGS...]: run CMD in namespace NS in the background; its
# PID is in BG_PID and recorded for topo_destroy. Redirect as usual:
#   bg_start "$NS_CONV" "$XFER" server ... >"$TOPO_TMP/srv.json"
# Call it directly, not inside $(...): the PID is recorded in a file too,
# but BG_PID would be lost.
bg_start() {
	local ns=$1
	shift
	_topo_tmp
	ip netns exec "$ns" "$@" &
	BG_PID=$!
	printf '%s %s\n' "$BG_PID" "$ns" >>"$TOPO_TMP/pids"
}

# bg_start_bpf NS CMD...: like bg_start, but through nsenter --net, which
# keeps the mount namespace: `ip netns exec` remounts /sys, so pins made
# by a BPF daemon started that way would be invisible (and lost) outside
bg_start_bpf() {
	local ns=$1
	shift
	_topo_tmp
	nsenter --net="/run/netns/$ns" "$@" &
	BG_PID=$!
	printf '%s %s\n' "$BG_PID" "$ns" >>"$TOPO_TMP/pids"
}

# bg_stop PID: TERM, then KILL after 2 s; reaps it
bg_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 0
}

# _proc_tree PID: PID and all its descendants (through
# /proc/PID/task/*/children), one per line
_proc_tree() {
	local p=$1 c kids
	[ -d "/proc/$p" ] || return 0
	printf '%s\n' "$p"
	kids=$(cat /proc/"$p"/task/*/children 2>/dev/null || true)
	for c in $kids; do
		_proc_tree "$c"
	done
}

# wait_listen NS PORT PID [SECS]: until something listens on PORT in NS
# (1 if PID died first or after SECS, default 10)
wait_listen() {
	local ns=$1 port=$2 pid=$3 secs=${4:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		ip netns exec "$ns" ss -Htln "sport = :$port" | grep . >/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# _is_mptcp_listener NS PORT: the listener on PORT is an MPTCP socket
_is_mptcp_listener() {
	ip netns exec "$1" ss -HMln "sport = :$2" | grep . >/dev/null
}

# _stop_tree PID: TERM the process and its children (by PID), reap it
_stop_tree() {
	local pid=$1 kids
	[ -n "$pid" ] || return 0
	kids=$(_proc_tree "$pid" | tail -n +2 | tr '\n' ' ')
	bg_stop "$pid"
	# shellcheck disable=SC2086 # a list of PIDs
	[ -z "$kids" ] || kill -TERM $kids 2>/dev/null || true
	return 0
}

# wait_pid_timeout PID SECS: wait for PID (a child) up to SECS; prints
# nothing, returns its exit status, or 124 on timeout (left running)
wait_pid_timeout() {
	local pid=$1 secs=$2 end rc
	end=$(($(date +%s%N) + secs * 1000000000))
	while kill -0 "$pid" 2>/dev/null; do
		[ "$(date +%s%N)" -lt "$end" ] || return 124
		sleep 0.05
	done
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# sleep that lets a trapped signal in at once
nap() {
	sleep "$1" &
	wait $! 2>/dev/null || true
}

# ---- topology ----------------------------------------------------------------------

_nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

_sysctl() {
	local ns=$1
	shift
	ip netns exec "$ns" sysctl -qw "$@" >/dev/null
}

_ns_exists() {
	[ -e "/run/netns/$1" ]
}

# topo_on_destroy CMD...: run CMD (eval'd) first thing in topo_destroy,
# latest registered first (unload programs, stop daemons, unpin maps...)
topo_on_destroy() {
	_TOPO_CLEANUP+=("$*")
}

_topo_exit_trap() {
	local rc=$?
	topo_destroy
	exit "$rc"
}

_topo_sig_trap() {
	local sig=$1 code=$2
	trap - "$sig"
	printf 'INTERRUPTED: SIG%s, cleaning up\n' "$sig" >&2
	topo_destroy
	exit "$code"
}

# with set -e: say which command ended the test
_topo_err_trap() {
	local rc=$? line=$1 cmd=$2
	case $- in
	*e*) printf 'ERROR: "%s" failed (exit %s) at %s line %s\n' "$cmd" "$rc" \
		"$(basename "$0")" "$line" ;;
	esac
}

topo_traps() {
	[ "$_TOPO_TRAPS" -eq 1 ] && return 0
	trap '_topo_err_trap "$LINENO" "$BASH_COMMAND"' ERR
	trap _topo_exit_trap EXIT
	trap '_topo_sig_trap INT 130' INT
	trap '_topo_sig_trap TERM 143' TERM
	trap '_topo_sig_trap HUP 129' HUP
	_TOPO_TRAPS=1
}

# topo_destroy: cleanup hooks, kill what the test started, delete the
# namespaces, remove TOPO_TMP (kept with KEEP_TMP=1). Idempotent.
topo_destroy() {
	local -
	set +eu
	local i pid ns pids=() nss=("$NS_CLIENT" "$NS_CONV" "$NS_SERVER")
	for ((i = ${#_TOPO_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${_TOPO_CLEANUP[i]}" || warn "cleanup '${_TOPO_CLEANUP[i]}' failed"
	done
	_TOPO_CLEANUP=()

	# processes started with bg_start (only if still in one of our
	# namespaces: a reaped PID may have been reused), then anything else
	# still inside our namespaces (only this run can have put it there)
	if [ -n "$TOPO_TMP" ] && [ -f "$TOPO_TMP/pids" ]; then
		while read -r pid ns; do
			[ -n "$pid" ] || continue
			kill -0 "$pid" 2>/dev/null || continue
			case " ${nss[*]} " in
			*" $(ip netns identify "$pid" 2>/dev/null) "*) pids+=("$pid") ;;
			esac
		done <"$TOPO_TMP/pids"
	fi
	for ns in "${nss[@]}"; do
		_ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			[ "$pid" = "$$" ] || pids+=("$pid")
		done
	done
	if [ ${#pids[@]} -gt 0 ]; then
		kill -TERM "${pids[@]}" 2>/dev/null
		for i in $(seq 20); do
			local alive=0
			for pid in "${pids[@]}"; do
				kill -0 "$pid" 2>/dev/null && alive=1
			done
			[ $alive -eq 0 ] && break
			sleep 0.1
		done
		kill -KILL "${pids[@]}" 2>/dev/null
		for pid in "${pids[@]}"; do
			wait "$pid" 2>/dev/null
		done
	fi

	for ns in "${nss[@]}"; do
		_ns_exists "$ns" && ip netns del "$ns" 2>/dev/null
	done
	for ns in "${nss[@]}"; do
		_ns_exists "$ns" && warn "namespace $ns still present"
	done
	# bpffs: an agent mounts it when it is missing; a test that found it
	# unmounted leaves it unmounted (only the kernel's own maps.debug and
	# progs.debug may be in it then, else something leaked: left for the
	# leak check of tests/run-all.sh to report)
	if [ "$_TOPO_BPFFS_WAS" = 0 ] && _bpffs_mounted &&
		[ -z "$(ls -A /sys/fs/bpf | grep -vx -e maps.debug -e progs.debug)" ]; then
		umount /sys/fs/bpf 2>/dev/null || warn "could not unmount /sys/fs/bpf"
	fi
	if [ -n "$TOPO_TMP" ] && [ -d "$TOPO_TMP" ]; then
		if [ "${KEEP_TMP:-0}" = 1 ]; then
			warn "kept $TOPO_TMP"
		else
			rm -rf "$TOPO_TMP"
		fi
	fi
	return 0
}

# is /sys/fs/bpf a bpffs mount?
_bpffs_mounted() {
	[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ]
}

# topo_reap_stale: delete mpc-<pid>-* namespaces whose <pid> is not alive
# any more (left by a run killed with SIGKILL), with what runs in them.
# Not called automatically.
topo_reap_stale() {
	local ns id pid
	for ns in $(ip netns list | awk '{print $1}'); do
		case $ns in
		mpc-*-cli | mpc-*-conv | mpc-*-srv) ;;
		*) continue ;;
		esac
		id=${ns#mpc-}
		id=${id%-*}
		case $id in
		*[!0-9]* | '') continue ;;
		esac
		kill -0 "$id" 2>/dev/null && continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null && warn "removed stale namespace $ns"
	done
	return 0
}

_topo_ns_init() {
	local ns=$1
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	_sysctl "$ns" net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2
	_sysctl "$ns" net.ipv6.conf.all.keep_addr_on_down=1 \
		net.ipv6.conf.default.keep_addr_on_down=1
	_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	_sysctl "$ns" net.ipv6.conf.default.accept_ra=0
	if [ -n "$TOPO_CC" ]; then
		_sysctl "$ns" "net.ipv4.tcp_congestion_control=$TOPO_CC" ||
			warn "$ns: congestion control $TOPO_CC refused"
	fi
}

_topo_addr() {
	local ns=$1 dev=$2 a4=$3 a6=$4
	ip -n "$ns" addr add "$a4" dev "$dev"
	ip -n "$ns" -6 addr add "$a6" dev "$dev" nodad
	ip -n "$ns" link set "$dev" up
}

# (re)install the client's routes through link N (1 or 2); idempotent,
# link_up calls it since taking a device down deletes its routes
_topo_routes_client() {
	local n=$1 dev gw4 gw6 src4 src6 tab metric
	if [ "$n" = 1 ]; then
		dev=$IF_C1 gw4=$IP4_M1 gw6=$IP6_M1 src4=$IP4_C1 src6=$IP6_C1
		tab=$RT_L1 metric=100
	else
		dev=$IF_C2 gw4=$IP4_M2 gw6=$IP6_M2 src4=$IP4_C2 src6=$IP6_C2
		tab=$RT_L2 metric=200
	fi
	# main table: link 1 preferred, link 2 as fallback default
	ip -n "$NS_CLIENT" route replace default via "$gw4" dev "$dev" metric "$metric"
	ip -n "$NS_CLIENT" -6 route replace default via "$gw6" dev "$dev" metric "$metric"
	# per-source table: traffic from this link's address leaves by it
	local net4 net6
	if [ "$n" = 1 ]; then net4=$NET4_L1 net6=$NET6_L1; else net4=$NET4_L2 net6=$NET6_L2; fi
	ip -n "$NS_CLIENT" route replace "$net4" dev "$dev" src "$src4" table "$tab"
	ip -n "$NS_CLIENT" route replace default via "$gw4" dev "$dev" table "$tab"
	ip -n "$NS_CLIENT" -6 route replace "$net6" dev "$dev" table "$tab"
	ip -n "$NS_CLIENT" -6 route replace default via "$gw6" dev "$dev" table "$tab"
	# the rules read whole first: `ip rule show | grep -q` under pipefail
	# fails when grep exits before ip has written everything (SIGPIPE),
	# and the rule was then added twice ("File exists", link_up failed)
	local rules
	rules=$(ip -n "$NS_CLIENT" rule show)
	if ! grep -q "from $src4 lookup $tab" <<<"$rules"; then
		ip -n "$NS_CLIENT" rule add from "$src4" lookup "$tab" priority "$tab"
	fi
	rules=$(ip -n "$NS_CLIENT" -6 rule show)
	if ! grep -q "from $src6 lookup $tab" <<<"$rules"; then
		ip -n "$NS_CLIENT" -6 rule add from "$src6" lookup "$tab" priority "$tab"
	fi
}

_topo_routes_server() {
	ip -n "$NS_SERVER" route replace "$NET4_EXT" via "$IP4_M3" dev "$IF_S1"
	ip -n "$NS_SERVER" -6 route replace "$NET6_EXT" via "$IP6_M3" dev "$IF_S1"
	if [ "$TOPO_SERVER_DEFAULT_ROUTE" = 1 ]; then
		ip -n "$NS_SERVER" route replace default via "$IP4_M3" dev "$IF_S1"
		ip -n "$NS_SERVER" -6 route replace default via "$IP6_M3" dev "$IF_S1"
	fi
}

_topo_mptcp_limits() {
	ip -n "$1" mptcp limits set subflows 8 add_addr_accepted 8
}

# topo_create [--server-mptcp] [--server-default-route] [--xdp]
#             [--no-ext-addr]
# Builds the topology (README.md), sets the cleanup traps first. Calls the
# function topo_hook_post_create if the test defines one.
topo_create() {
	local a
	for a in "$@"; do
		case $a in
		--server-mptcp) TOPO_SERVER_MPTCP=1 ;;
		--server-default-route) TOPO_SERVER_DEFAULT_ROUTE=1 ;;
		--xdp) TOPO_XDP=1 ;;
		--no-ext-addr) TOPO_EXT_ON_LO=0 ;;
		*) die "topo_create: unknown option $a" ;;
		esac
	done
	topo_traps
	_topo_tmp
	_bpffs_mounted && _TOPO_BPFFS_WAS=1
	local ns
	for ns in "$NS_CLIENT" "$NS_CONV" "$NS_SERVER"; do
		_ns_exists "$ns" && die "namespace $ns already exists"
	done
	# errexit must hold inside _topo_create: call it outside a condition
	local - rc=0
	set +e
	_topo_create
	rc=$?
	[ "$rc" -eq 0 ] || die "topo_create failed (exit $rc)"
	if [ "$TOPO_XDP" = 1 ]; then
		topo_offload_xdp || die "topo_offload_xdp failed"
	fi
	if declare -F topo_hook_post_create >/dev/null; then
		topo_hook_post_create || die "topo_hook_post_create failed"
	fi
	return 0
}

# _topo_qdisc NS DEV: a 1000-packet FIFO on a veth, as a NIC has
# (pfifo_fast, txqueuelen 1000). A veth's default is noqueue: when the
# receiving side's 256-entry ring is full (a receiver that runs XDP or a
# slower path than the sender) the packet is simply dropped. With a qdisc,
# veth stops the queue and the sender waits (backpressure, Linux >= 6.16),
# as on a real link. Without it the XDP data path lost 0.4 % of a bulk
# download at the converter's own ingress and reno fell to ~130 Mbit/s.
_topo_qdisc() {
	ip netns exec "$1" tc qdisc replace dev "$2" root pfifo limit 1000
}

_topo_create() (
	set -e
	_topo_ns_init "$NS_CLIENT"
	_topo_ns_init "$NS_CONV"
	_topo_ns_init "$NS_SERVER"

	_sysctl "$NS_CONV" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	_sysctl "$NS_CLIENT" net.mptcp.enabled=1
	# Linux >= 6.12 sends the third SYN (net.mptcp.
	# syn_retrans_before_tcp_fallback = 2) without MP_CAPABLE and, when
	# that one is answered, disables active MPTCP for blackhole_timeout
	# (3600 s). The converter answers only once the server has (or
	# leg-timeout passed), so one slow-server test case would turn every
	# later client connection into plain TCP. 0 = no detection.
	if [ -e /proc/sys/net/mptcp/blackhole_timeout ]; then
		_sysctl "$NS_CLIENT" net.mptcp.blackhole_timeout=0
	fi
	_sysctl "$NS_CONV" net.mptcp.enabled=1
	_sysctl "$NS_SERVER" "net.mptcp.enabled=$([ "$TOPO_SERVER_MPTCP" = 1 ] && echo 1 || echo 0)"

	# veth pairs are created inside the namespaces, never in the root one
	ip -n "$NS_CLIENT" link add "$IF_C1" mtu "$TOPO_MTU_CLIENT" type veth \
		peer name "$IF_M1" mtu "$TOPO_MTU_CLIENT" netns "$NS_CONV"
	ip -n "$NS_CLIENT" link add "$IF_C2" mtu "$TOPO_MTU_CLIENT" type veth \
		peer name "$IF_M2" mtu "$TOPO_MTU_CLIENT" netns "$NS_CONV"
	ip -n "$NS_SERVER" link add "$IF_S1" mtu "$TOPO_MTU_SERVER" type veth \
		peer name "$IF_M3" mtu "$TOPO_MTU_SERVER" netns "$NS_CONV"

	_topo_qdisc "$NS_CLIENT" "$IF_C1"
	_topo_qdisc "$NS_CLIENT" "$IF_C2"
	_topo_qdisc "$NS_SERVER" "$IF_S1"
	_topo_qdisc "$NS_CONV" "$IF_M1"
	_topo_qdisc "$NS_CONV" "$IF_M2"
	_topo_qdisc "$NS_CONV" "$IF_M3"

	_topo_addr "$NS_CLIENT" "$IF_C1" "$IP4_C1/25" "$IP6_C1/64"
	_topo_addr "$NS_CLIENT" "$IF_C2" "$IP4_C2/25" "$IP6_C2/64"
	_topo_addr "$NS_CONV" "$IF_M1" "$IP4_M1/25" "$IP6_M1/64"
	_topo_addr "$NS_CONV" "$IF_M2" "$IP4_M2/25" "$IP6_M2/64"
	_topo_addr "$NS_CONV" "$IF_M3" "$IP4_M3/24" "$IP6_M3/64"
	_topo_addr "$NS_SERVER" "$IF_S1" "$IP4_S1/24" "$IP6_S1/64"
	if [ "$TOPO_EXT_ON_LO" = 1 ]; then
		ip -n "$NS_CONV" addr add "$IP4_EXT/32" dev lo
		ip -n "$NS_CONV" -6 addr add "$IP6_EXT/128" dev lo nodad
	fi

	_topo_routes_client 1
	_topo_routes_client 2
	_topo_routes_server

	# MPTCP: the client opens an extra subflow from c2's addresses
	_topo_mptcp_limits "$NS_CLIENT"
	_topo_mptcp_limits "$NS_CONV"
	if [ "$TOPO_SERVER_MPTCP" = 1 ]; then
		_topo_mptcp_limits "$NS_SERVER"
	fi
	ip -n "$NS_CLIENT" mptcp endpoint add "$IP4_C2" dev "$IF_C2" subflow
	ip -n "$NS_CLIENT" mptcp endpoint add "$IP6_C2" dev "$IF_C2" subflow

	topo_wait_ready || echo "links not ready after 5 s" >&2

	# neighbours resolved up front (and every link checked): the first
	# packets of a test are not lost to ARP/ND on a shaped or lossy link
	if command -v ping >/dev/null; then
		_nsx "$NS_CLIENT" ping -q -c1 -W2 -I "$IP4_C1" "$IP4_M1" >/dev/null
		_nsx "$NS_CLIENT" ping -q -c1 -W2 -I "$IP4_C2" "$IP4_M2" >/dev/null
		_nsx "$NS_SERVER" ping -q -c1 -W2 "$IP4_M3" >/dev/null
		_nsx "$NS_CLIENT" ping -q -6 -c1 -W2 -I "$IP6_C1" "$IP6_M1" >/dev/null
		_nsx "$NS_CLIENT" ping -q -6 -c1 -W2 -I "$IP6_C2" "$IP6_M2" >/dev/null
		_nsx "$NS_SERVER" ping -q -6 -c1 -W2 "$IP6_M3" >/dev/null
	fi
)

# topo_wait_ready: wait (up to 5 s) until every veth of the topology is
# operationally up with its qdisc attached and no IPv6 address is
# tentative. A veth's carrier reaches the stack through linkwatch, up to a
# second after `ip link set up`: until then it transmits into the noop
# qdisc (drops) and IPv6 addresses stay tentative even with nodad, so the
# first NS/SYN of a test is lost and TCP retries after 1 s. topo_create
# and link_up call it.
topo_wait_ready() {
	local i ns busy links tent
	for i in $(seq 50); do
		busy=0
		for ns in "$NS_CLIENT" "$NS_CONV" "$NS_SERVER"; do
			_ns_exists "$ns" || continue
			# read whole, then grep (see _topo_routes_client: a
			# piped grep -q under pipefail misses the match)
			links=$(ip -n "$ns" -o link show type veth)
			tent=$(ip -n "$ns" -6 addr show tentative)
			if grep -q -e 'qdisc noop' -e 'state DOWN' -e 'state LOWERLAYERDOWN' <<<"$links" ||
				grep -q inet6 <<<"$tent"; then
				busy=1
			fi
		done
		[ "$busy" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# topo_ethtool NS DEV ARGS...: ethtool -K in a namespace
topo_ethtool() {
	local ns=$1 dev=$2
	shift 2
	_nsx "$ns" ethtool -K "$dev" "$@" >/dev/null
}

# topo_offload_xdp: settings the converter's native XDP on m1/m2/m3 needs
#  - tx off on the veths that send into the converter (c1, c2, s1) and on
#    the converter's own (m1-m3): with checksum offload a veth hands over
#    CHECKSUM_PARTIAL packets whose TCP checksum field only holds the
#    pseudo-header sum, so an XDP program that rewrites headers and
#    updates the checksum incrementally produces wrong checksums. tx off
#    also turns TSO off (it depends on it).
#  - gro on for c1, c2, s1: XDP_REDIRECT into m1/m2/m3 (ndo_xdp_xmit)
#    needs the peer to have an XDP program or NAPI, which GRO turns on.
#    Also on m1-m3 for redirects toward the converter's own veths.
topo_offload_xdp() {
	local d
	for d in "$IF_C1" "$IF_C2"; do
		topo_ethtool "$NS_CLIENT" "$d" tx off gro on || return 1
	done
	topo_ethtool "$NS_SERVER" "$IF_S1" tx off gro on || return 1
	for d in "$IF_M1" "$IF_M2" "$IF_M3"; do
		topo_ethtool "$NS_CONV" "$d" tx off gro on || return 1
	done
}

# ---- links ------------------------------------------------------------------------

# _link LINK: resolve 1|2|3 (also l1, link1, c1, m1, s1, ...) into
# _L_N (1-3), _L_NS/_L_IF (endpoint side), _L_PNS/_L_PIF (converter side)
_link() {
	case $1 in
	1 | l1 | link1 | "$IF_C1" | "$IF_M1")
		_L_N=1 _L_NS=$NS_CLIENT _L_IF=$IF_C1 _L_PNS=$NS_CONV _L_PIF=$IF_M1 ;;
	2 | l2 | link2 | "$IF_C2" | "$IF_M2")
		_L_N=2 _L_NS=$NS_CLIENT _L_IF=$IF_C2 _L_PNS=$NS_CONV _L_PIF=$IF_M2 ;;
	3 | l3 | link3 | srv | "$IF_S1" | "$IF_M3")
		_L_N=3 _L_NS=$NS_SERVER _L_IF=$IF_S1 _L_PNS=$NS_CONV _L_PIF=$IF_M3 ;;
	*)
		printf 'unknown link %s (use 1, 2 or 3)\n' "$1" >&2
		return 1
		;;
	esac
}

# rate "50mbit" -> bits per second
_rate_bps() {
	awk -v r="$1" 'BEGIN {
		if (match(r, /^[0-9]+(\.[0-9]+)?/) == 0) exit 1
		n = substr(r, 1, RLENGTH); u = tolower(substr(r, RLENGTH + 1))
		if (u == "" || u == "bit") m = 1
		else if (u == "kbit") m = 1e3
		else if (u == "mbit") m = 1e6
		else if (u == "gbit") m = 1e9
		else exit 1
		printf "%.0f\n", n * m
	}'
}

_tbf() {
	local ns=$1 dev=$2 rate=$3 bps burst limit
	bps=$(_rate_bps "$rate") || return 1
	# burst: 4 ms at rate, at least 32 KiB; queue: LINK_QUEUE_MS at rate
	burst=$(awk -v b="$bps" 'BEGIN { x = b / 8 / 250; printf "%d", (x < 32768) ? 32768 : x }')
	limit=$(awk -v b="$bps" -v ms="$LINK_QUEUE_MS" -v bu="$burst" \
		'BEGIN { x = b / 8 * ms / 1000; printf "%d", (x < 3 * bu) ? 3 * bu : x }')
	ip netns exec "$ns" tc qdisc replace dev "$dev" root tbf rate "$rate" \
		burst "$burst" limit "$limit"
}

_ifb_name() {
	printf 'ifb%s' "$1"
}

# _link_sink NS: a veth pair (both ends up, no IPv6) that egress losses
# are forwarded into. Why not `drop`: a drop in the egress hook (or in tc
# egress) is returned to the sender as NET_XMIT_DROP and TCP just sends
# the segment again, never counting a loss; `fwd` steals the packet and
# reports success, so the sender sees a real loss on the wire.
LINK_SINK=mpcsink
_link_sink() {
	local ns=$1
	ip -n "$ns" link show "$LINK_SINK" >/dev/null 2>&1 && return 0
	ip -n "$ns" link add "$LINK_SINK" type veth peer name "${LINK_SINK}p" || return 1
	_sysctl "$ns" "net.ipv6.conf.$LINK_SINK.disable_ipv6=1" \
		"net.ipv6.conf.${LINK_SINK}p.disable_ipv6=1"
	ip -n "$ns" link set "$LINK_SINK" up && ip -n "$ns" link set "${LINK_SINK}p" up
}

# state per link (index 1-3): loss condition, blackhole, ingress shaper
_LINK_LOSS=("" "" "" "")
_LINK_BH=(0 0 0 0)
_LINK_IFB=(0 0 0 0)
_LINK_GSO=("" "" "" "") # "ENDPOINT PEER" gso_max_segs before link_loss

# _link_nft_apply: (re)build table netdev mpc_l<N> on the endpoint device
# of link _L_N from its state. Everything a link does to packets happens
# there, in the endpoint namespace, so it works whatever the converter's
# datapath does (XDP_REDIRECT skips the converter's qdiscs and hooks):
#   ingress hook: blackhole / random loss (drop), then, when shaped,
#     fwd into the ifb device whose tbf shapes the incoming direction.
#     (nft rather than a tc mirred filter: packets tc redirects into an
#     ifb come back with "skip classify" and never reach nft ingress, so
#     the loss has to happen before the redirect, in the same chain.)
#   egress hook: blackhole / random loss, stolen into the sink; the tbf
#     root qdisc on the device shapes the outgoing direction afterwards.
_link_nft_apply() {
	local ns=$_L_NS dev=$_L_IF n=$_L_N in=() out=()
	if [ "${_LINK_BH[n]}" = 1 ]; then
		in+=("counter drop")
		out+=("counter fwd to \"$LINK_SINK\"")
	fi
	if [ -n "${_LINK_LOSS[n]}" ]; then
		in+=("${_LINK_LOSS[n]} counter drop")
		out+=("${_LINK_LOSS[n]} counter fwd to \"$LINK_SINK\"")
	fi
	if [ "${_LINK_IFB[n]}" = 1 ]; then
		in+=("fwd to \"$(_ifb_name "$dev")\"")
	fi
	ip netns exec "$ns" nft delete table netdev "mpc_l$n" 2>/dev/null || true
	[ ${#in[@]} -gt 0 ] || return 0
	[ ${#out[@]} -gt 0 ] && { _link_sink "$ns" || return 1; }
	# one statement per line: nft 1.0.6 does not parse "fwd to X; }"
	{
		printf 'table netdev mpc_l%s {\n' "$n"
		printf '\tchain in {\n\t\ttype filter hook ingress device "%s" priority -500; policy accept;\n' "$dev"
		printf '\t\t%s\n' "${in[@]}"
		printf '\t}\n'
		if [ ${#out[@]} -gt 0 ]; then
			printf '\tchain out {\n\t\ttype filter hook egress device "%s" priority -500; policy accept;\n' "$dev"
			printf '\t\t%s\n' "${out[@]}"
			printf '\t}\n'
		fi
		printf '}\n'
	} | ip netns exec "$ns" nft -f -
}

# link_rate LINK RATE|off: shape both directions of LINK to RATE (tc
# units: 100mbit, 1gbit, 500kbit) with tbf. See LINK_SHAPE_AT.
link_rate() {
	_link "$1" || return 1
	local rate=$2 ifb
	ifb=$(_ifb_name "$_L_IF")
	if [ "$rate" = off ] || [ "$rate" = 0 ]; then
		_topo_qdisc "$_L_NS" "$_L_IF" || return 1
		_topo_qdisc "$_L_PNS" "$_L_PIF" || return 1
		_LINK_IFB[_L_N]=0
		_link_nft_apply || return 1
		ip -n "$_L_NS" link del "$ifb" 2>/dev/null || true
		return 0
	fi
	_tbf "$_L_NS" "$_L_IF" "$rate" || return 1
	case $LINK_SHAPE_AT in
	endpoint)
		if ! ip -n "$_L_NS" link show "$ifb" >/dev/null 2>&1; then
			ip -n "$_L_NS" link add "$ifb" type ifb || return 1
			ip -n "$_L_NS" link set "$ifb" up || return 1
		fi
		_tbf "$_L_NS" "$ifb" "$rate" || return 1
		_LINK_IFB[_L_N]=1
		;;
	ends) _tbf "$_L_PNS" "$_L_PIF" "$rate" || return 1 ;;
	*) die "LINK_SHAPE_AT=$LINK_SHAPE_AT: use endpoint or ends" ;;
	esac
	_link_nft_apply
}

# link_loss LINK PCT [spare-syn]: lose PCT % (0.01 resolution, e.g. 1 or
# 0.5) of the packets in each direction, at random; 0 turns it off. With
# spare-syn, TCP segments with SYN set are never lost: a transfer can run
# under loss from its first segment without the chance of losing its
# Convert SYN (the client's retransmission carries no data, and a SYN
# without Convert data gets no answer, as the issue demands).
# The hooks see skbs, not wire packets, and TCP hands out 64 KiB GSO skbs
# whatever the device offloads are (segmentation happens after the egress
# hook). So gso_max_segs goes to 1 on both ends of LINK (one segment per
# skb) while the loss is on; PCT 0 puts back what they had (left at 1 on
# the server link, it slowed every later unshaped download: 1 GiB
# failovers at 380 instead of 1600 Mbit/s). With GRO on at the endpoint
# (topo_offload_xdp) a received GRO aggregate still counts as one.
# _gso_max_segs NS DEV: the device's gso_max_segs (65535, the default, if
# ip does not say)
_gso_max_segs() {
	ip -n "$1" -d link show dev "$2" | awk '
		{ for (i = 1; i < NF; i++) if ($i == "gso_max_segs") { v = $(i + 1); exit } }
		END { print (v ~ /^[0-9]+$/) ? v : 65535 }'
}

link_loss() {
	_link "$1" || return 1
	local per10k
	per10k=$(awk -v p="$2" 'BEGIN {
		if (p !~ /^[0-9]+(\.[0-9]+)?$/ || p > 100) exit 1
		printf "%d", p * 100 + 0.5 }') || {
		printf 'link_loss: bad percentage %s\n' "$2" >&2
		return 1
	}
	if [ "$per10k" -eq 0 ]; then
		_LINK_LOSS[_L_N]=''
		if [ -n "${_LINK_GSO[_L_N]}" ]; then
			ip -n "$_L_NS" link set dev "$_L_IF" gso_max_segs "${_LINK_GSO[_L_N]% *}" || return 1
			ip -n "$_L_PNS" link set dev "$_L_PIF" gso_max_segs "${_LINK_GSO[_L_N]#* }" || return 1
			_LINK_GSO[_L_N]=''
		fi
	else
		if [ -z "${_LINK_GSO[_L_N]}" ]; then
			_LINK_GSO[_L_N]="$(_gso_max_segs "$_L_NS" "$_L_IF") $(_gso_max_segs "$_L_PNS" "$_L_PIF")"
		fi
		ip -n "$_L_NS" link set dev "$_L_IF" gso_max_segs 1 || return 1
		ip -n "$_L_PNS" link set dev "$_L_PIF" gso_max_segs 1 || return 1
		_LINK_LOSS[_L_N]="numgen random mod 10000 < $per10k"
		[ "${3:-}" = spare-syn ] &&
			_LINK_LOSS[_L_N]="tcp flags & syn == 0 ${_LINK_LOSS[_L_N]}"
	fi
	_link_nft_apply
}

# link_blackhole LINK on|off: lose everything silently, both directions
link_blackhole() {
	_link "$1" || return 1
	case $2 in
	on) _LINK_BH[_L_N]=1 ;;
	off) _LINK_BH[_L_N]=0 ;;
	*)
		printf 'link_blackhole: on or off\n' >&2
		return 1
		;;
	esac
	_link_nft_apply
}

# link_restore LINK: undo link_loss, link_blackhole and link_down on LINK
# (what each case of a test may leave behind when it fails half-way);
# says what it undid. The shaper (link_rate) stays: cases set their rate.
link_restore() {
	_link "$1" || return 1
	if [ -n "${_LINK_LOSS[_L_N]}" ]; then
		info "link $1: loss was still on, off again"
		link_loss "$1" 0 || return 1
	fi
	if [ "${_LINK_BH[_L_N]}" = 1 ]; then
		info "link $1: blackhole was still on, off again"
		link_blackhole "$1" off || return 1
	fi
	# (read whole first: a piped grep -q under pipefail can miss)
	if [ -z "$(ip -n "$_L_NS" link show "$_L_IF" up)" ]; then
		info "link $1: was still down, up again"
		link_up "$1" || return 1
	fi
	return 0
}

# link_drops LINK: packets lost by link_loss + link_blackhole so far, both
# directions (counters restart whenever the link's impairments change)
link_drops() {
	_link "$1" || return 1
	{ ip netns exec "$_L_NS" nft list table netdev "mpc_l$_L_N" 2>/dev/null || true; } |
		awk '{ for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) }
		     END { print s + 0 }'
}

# link_down LINK / link_up LINK: the endpoint-side device goes down (the
# converter side loses carrier); link_up restores routes and neighbours
link_down() {
	_link "$1" || return 1
	ip -n "$_L_NS" link set "$_L_IF" down
}

link_up() {
	_link "$1" || return 1
	ip -n "$_L_NS" link set "$_L_IF" up || return 1
	case $_L_N in
	1 | 2) _topo_routes_client "$_L_N" || return 1 ;;
	3) _topo_routes_server || return 1 ;;
	esac
	topo_wait_ready
}

# ---- counters ----------------------------------------------------------------------

# nstat_ns NS [NSTAT ARGS...]: nstat with a history file per namespace
nstat_ns() {
	local ns=$1
	shift
	_topo_tmp
	ip netns exec "$ns" env NSTAT_HISTORY="$TOPO_TMP/nstat.$ns" nstat "$@"
}

# client_nic_bytes up|down IF: bytes the client sent (up) or received
# (down) on its interface IF so far
client_nic_bytes() {
	local f=tx_bytes
	[ "$1" = down ] && f=rx_bytes
	ip netns exec "$NS_CLIENT" cat "/sys/class/net/$2/statistics/$f"
}

# nstat_get NS COUNTER: absolute value (0 if unknown); the namespaces are
# fresh, so absolute values count this test only
nstat_get() {
	_nstat_all "$1" "$2" | awk -v c="$2" '$1 == c { v = $2 } END { print v + 0 }'
}

# _nstat_all NS [COUNTER]: "NAME VALUE" lines, absolute, of every counter
# of NS (or of COUNTER); nothing if nstat fails
_nstat_all() {
	local ns=$1
	shift
	nstat_ns "$ns" -asz "$@" 2>/dev/null || true
}

# nstat_save NS FILE: every counter of NS now (one nstat run), for
# nstat_deltas
nstat_save() {
	_nstat_all "$1" >"$2"
}

# nstat_deltas NS FILE COUNTER...: " COUNTER +N" for each, N = its value
# now minus its value in FILE (nstat_save); one nstat run
nstat_deltas() {
	local ns=$1 f=$2
	shift 2
	_nstat_all "$ns" | awk -v list="$*" '
		NR == FNR { old[$1] = $2; next }
		{ now[$1] = $2 }
		END { n = split(list, c, " ")
		      for (i = 1; i <= n; i++) printf " %s +%d", c[i], now[c[i]] - old[c[i]] }' "$f" -
}

# nstat_has NS COUNTER: the kernel has this counter (older kernels lack
# some: Debian's 6.1 has no MPTcpExtMPJoinSynTx)
nstat_has() {
	_nstat_all "$1" "$2" | awk -v c="$2" '$1 == c { f = 1 } END { exit !f }'
}

# link_bytes NS IFACE: "TX_BYTES RX_BYTES"
link_bytes() {
	ip netns exec "$1" sh -c \
		"cat /sys/class/net/$2/statistics/tx_bytes /sys/class/net/$2/statistics/rx_bytes" |
		tr '\n' ' ' | sed 's/ $//'
	echo
}

# mptcp_subflows NS [PORT]: established TCP subflows of MPTCP connections
# (ss -ti shows "tcp-ulp-mptcp" on each), optionally only those with PORT
# as source or destination port
mptcp_subflows() {
	local ns=$1 port=${2:-} filter=()
	[ -n "$port" ] && filter=("( sport = :$port or dport = :$port )")
	ip netns exec "$ns" ss -tniH state established "${filter[@]}" |
		grep -c 'tcp-ulp-mptcp' || true
}

# mptcp_conns NS: established MPTCP connections (ss -M)
mptcp_conns() {
	ip netns exec "$1" ss -MnH state established | grep -c . || true
}

# ---- transfers ----------------------------------------------------------------------

# xfer_port_alloc: the next free test port (from XFER_PORT_NEXT) into
# XFER_PORT, for a transfer whose port is needed before xfer_start (a
# proxy in between listens on it)
xfer_port_alloc() {
	XFER_PORT=$XFER_PORT_NEXT
	XFER_PORT_NEXT=$((XFER_PORT_NEXT + 1))
}

# xfer_start NS_CLIENT NS_SERVER [options] [-- extra client args]
#   --addr A          server address: the server listens on it, the client
#                     connects to it (v4 or v6, no brackets)
#   --listen A        listen address if different ("::" = any)
#   --connect A       client target if different (converter, ext addr...)
#   --port P          default: a fresh port per transfer (20000 upward)
#   --size N          both directions (default 16M); --up N, --down N
#   --mptcp           client and server; --client-mptcp / --server-mptcp
#   --parallel K      K concurrent connections
#   --timeout S       client deadline and server idle timeout (default 120)
#   --name LABEL      for messages and file names
#   --server-arg ARG  extra server argument (repeatable)
#   --convert C       RFC 8803: the client connects to the converter C
#                     (ADDR, ADDR:PORT or [V6]:PORT; port CONVERT_PORT,
#                     5124, if omitted) and asks it for the server's
#                     --addr/--connect address (see convert_client_setup)
# The transfer runs in the background; xfer_wait collects it.
xfer_start() {
	local ncli=$1 nsrv=$2
	shift 2
	local addr='' listen='' connect='' port='' up=16M down=16M cm=0 sm=0 par=1
	local timeout=120 name='' sargs=() cargs=()
	local convert=''
	while [ $# -gt 0 ]; do
		case $1 in
		--addr) addr=$2; shift 2 ;;
		--listen) listen=$2; shift 2 ;;
		--connect) connect=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--size) up=$2; down=$2; shift 2 ;;
		--up) up=$2; shift 2 ;;
		--down) down=$2; shift 2 ;;
		--mptcp) cm=1; sm=1; shift ;;
		--client-mptcp) cm=1; shift ;;
		--server-mptcp) sm=1; shift ;;
		--parallel) par=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--name) name=$2; shift 2 ;;
		--server-arg) sargs+=("$2"); shift 2 ;;
		--convert) convert=$2; shift 2 ;;
		--) shift; cargs+=("$@"); break ;;
		*) printf 'xfer_start: unknown option %s\n' "$1" >&2; return 1 ;;
		esac
	done
	listen=${listen:-$addr}
	connect=${connect:-$addr}
	if [ -z "$listen" ] || [ -z "$connect" ]; then
		printf 'xfer_start: --addr (or --listen and --connect) needed\n' >&2
		return 1
	fi
	[ -n "$port" ] || xfer_port_alloc
	port=${port:-$XFER_PORT}
	_topo_tmp
	XFER_NAME=${name:-xfer$port}
	local base="$TOPO_TMP/${XFER_NAME//[^A-Za-z0-9_.-]/_}.$port"
	XFER_CLIENT_JSON=$base.client.json
	XFER_SERVER_JSON=$base.server.jsonl
	XFER_CLIENT_ERR=$base.client.err
	XFER_SERVER_ERR=$base.server.err
	XFER_PORT=$port
	export XFER_PORT

	local hp_l hp_c
	case $listen in *:*) hp_l="[$listen]:$port" ;; *) hp_l="$listen:$port" ;; esac
	case $connect in *:*) hp_c="[$connect]:$port" ;; *) hp_c="$connect:$port" ;; esac
	[ "$sm" = 1 ] && sargs+=(--mptcp)
	[ "$cm" = 1 ] && cargs+=(--mptcp)

	bg_start "$nsrv" "$XFER" server --listen "$hp_l" --count "$par" \
		--timeout "$timeout" "${sargs[@]}" >"$XFER_SERVER_JSON" 2>"$XFER_SERVER_ERR"
	XFER_SERVER_PID=$BG_PID
	# wait until it listens (or died)
	local i
	for i in $(seq 100); do
		if ! kill -0 "$XFER_SERVER_PID" 2>/dev/null; then
			printf 'xfer %s: server failed to start: %s\n' "$XFER_NAME" \
				"$(tr '\n' ' ' <"$XFER_SERVER_ERR")"
			wait "$XFER_SERVER_PID" 2>/dev/null || true
			XFER_CLIENT_PID=
			return 1
		fi
		ip netns exec "$nsrv" ss -Htln "sport = :$port" | grep -q . && break
		sleep 0.05
	done
	if [ -n "$convert" ]; then
		cargs+=(--convert "$(_convert_hostport "$convert")")
	fi
	bg_start "$ncli" "$XFER" client --connect "$hp_c" --up "$up" --down "$down" \
		--parallel "$par" --timeout "$timeout" --json "${cargs[@]}" \
		>"$XFER_CLIENT_JSON" 2>"$XFER_CLIENT_ERR"
	XFER_CLIENT_PID=$BG_PID
	return 0
}

# xfer_wait: wait for the transfer xfer_start began, compare both sides
# (xfer compare), print one line, set XFER_OK (1/0), XFER_UP_MBPS,
# XFER_DOWN_MBPS (each measured by its receiver, summed over parallel
# connections), XFER_UP_BYTES, XFER_DOWN_BYTES, XFER_DURATION,
# XFER_SUBFLOWS (min over connections, from MPTCP_TCPINFO), XFER_SUMMARY
# (the key=value line). Returns 0 when everything matched.
# Also XFER_CLIENT_RC (the client's exit code: 3 = a converter answered
# with an Error TLV) and, with --convert, XFER_CONVERT_ERROR (first Error
# code, or "none"), XFER_SYN_DATA (connections whose SYN data, the
# Convert message, was acknowledged) and XFER_SYN_RETX (connections whose
# client retransmitted its SYN: their data was acknowledged after it).
# shellcheck disable=SC2034 # results are for the caller
xfer_wait() {
	local crc=0 src=0 kv why=''
	XFER_OK=0 XFER_UP_MBPS=0 XFER_DOWN_MBPS=0 XFER_UP_BYTES=0 XFER_DOWN_BYTES=0
	XFER_DURATION=0 XFER_SUBFLOWS=0 XFER_SUMMARY=
	XFER_CLIENT_RC=0 XFER_CONVERT_ERROR='' XFER_SYN_DATA=0 XFER_SYN_RETX=0
	if [ -z "${XFER_CLIENT_PID:-}" ]; then
		CASE_NO_RETRY=1
		printf 'xfer %s: FAILED (not started)\n' "${XFER_NAME:-?}"
		return 1
	fi
	wait "$XFER_CLIENT_PID" 2>/dev/null || crc=$?
	XFER_CLIENT_RC=$crc
	# the server exits after its connections; give it a moment
	wait_pid_timeout "$XFER_SERVER_PID" 10 || src=$?
	if [ "$src" -eq 124 ]; then
		bg_stop "$XFER_SERVER_PID"
		why="server did not finish"
	fi
	XFER_CLIENT_PID=
	XFER_SUMMARY=$("$XFER" compare "$XFER_CLIENT_JSON" "$XFER_SERVER_JSON" \
		2>"$XFER_CLIENT_JSON.compare") || true
	for kv in $XFER_SUMMARY; do
		case $kv in
		ok=*) XFER_OK=${kv#*=} ;;
		up_mbps=*) XFER_UP_MBPS=${kv#*=} ;;
		down_mbps=*) XFER_DOWN_MBPS=${kv#*=} ;;
		up_bytes=*) XFER_UP_BYTES=${kv#*=} ;;
		down_bytes=*) XFER_DOWN_BYTES=${kv#*=} ;;
		duration_s=*) XFER_DURATION=${kv#*=} ;;
		subflows_min=*) XFER_SUBFLOWS=${kv#*=} ;;
		convert_error=*) XFER_CONVERT_ERROR=${kv#*=} ;;
		syn_data=*) XFER_SYN_DATA=${kv#*=} ;;
		syn_retx=*) XFER_SYN_RETX=${kv#*=} ;;
		esac
	done
	[ "$crc" -eq 0 ] || why="${why:+$why, }client exit $crc"
	[ "$src" -eq 0 ] || [ "$src" -eq 124 ] || why="${why:+$why, }server exit $src"
	[ "$XFER_OK" = 1 ] || why="${why:+$why, }mismatch"
	if [ -z "$why" ]; then
		printf 'xfer %s: OK, up %s B @ %s Mbit/s, down %s B @ %s Mbit/s, %s s, subflows %s, sha256 equal\n' \
			"$XFER_NAME" "$XFER_UP_BYTES" "$XFER_UP_MBPS" "$XFER_DOWN_BYTES" \
			"$XFER_DOWN_MBPS" "$XFER_DURATION" "$XFER_SUBFLOWS"
		return 0
	fi
	XFER_OK=0
	CASE_NO_RETRY=1
	printf 'xfer %s: FAILED (%s)\n' "$XFER_NAME" "$why"
	cat "$XFER_CLIENT_JSON.compare" "$XFER_CLIENT_ERR" "$XFER_SERVER_ERR" 2>/dev/null |
		grep -v 'listening on' | head -20 | sed 's/^/    /' || true
	return 1
}

# _bpf_lookup MAP KEY EXPR: the value at u32 KEY of our pinned MAP,
# BTF-formatted by bpftool, printed as the python3 expression EXPR of it
# (v); bpftool's error as is
_bpf_lookup() {
	bpftool -j map lookup pinned "$MPC_PIN/$1" key \
		$(($2 & 255)) $((($2 >> 8) & 255)) $((($2 >> 16) & 255)) $(($2 >> 24)) 2>&1 |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
v = d.get("formatted", d)["value"]
print('"$3"')' 2>&1
}

# conv_state_dump: what a stalled converted transfer looks like, for the
# log (CI keeps nothing else): each connection of mpconvctl conns -j with
# its whole mpc_conn (bpftool, BTF-formatted: subflow dn_una/dn_nxt,
# offsets, DATA_ACK), the non-zero counters, ss -tinM at the client and
# ss -tin at the server, the client's non-zero MPTcp counters
conv_state_dump() {
	local conns id sf
	conns=$(mpc_ctl -j conns 2>&1)
	info "state: mpconvctl conns: $(head -c 3000 <<<"$conns")"
	for id in $(python3 -c '
import json, sys
for c in json.load(sys.stdin)["connections"][:4]:
    print(c["id"])' <<<"$conns" 2>/dev/null); do
		info "state: mpc_conns[$id]: $(_bpf_lookup mpc_conns "$id" 'json.dumps(v, separators=(",", ":"))' |
			head -c 8000)"
		# the down run records of its first 4 subflows (multi.h; key
		# conn_id * MPC_MAX_SUBFLOWS (8) + subflow): sf_una, n, then
		# subflow seq:DSN+len per record
		for sf in 0 1 2 3; do
			info "state: mpc_runs_dn[$id/$sf]: $(_bpf_lookup mpc_runs_dn $((id * 8 + sf)) \
				'"tag %d sf_una %d n %d full %d evicted %d " % (v["tag"], v["q"]["sf_una"], v["q"]["n"], v["q"]["full"], v["q"]["evicted"]) + " ".join("%d:%d+%d" % (r["sf"], r["dsn"], r["len"]) for r in v["q"]["r"][:v["q"]["n"]])' |
				head -c 3000)"
		done
	done
	info "state: counters: $(mpc_ctl stats 2>&1 | awk 'NF == 2 && $2 != 0 { printf "%s %s, ", $1, $2 }')"
	ip netns exec "$NS_CLIENT" ss -tinM state established 2>&1 | head -n 40 | sed 's/^/    client ss: /'
	ip netns exec "$NS_SERVER" ss -tin state established 2>&1 | head -n 12 | sed 's/^/    server ss: /'
	info "state: client MPTcp: $(ip netns exec "$NS_CLIENT" nstat -az 2>/dev/null |
		awk '/MPTcp/ && $2 != 0 { printf "%s %s, ", $1, $2 }')"
	# what reaches the client now (absolute sequence numbers, DSS
	# mappings): STATE_PCAP_SECS (3) on each of its links
	local ifc pids=() secs=${STATE_PCAP_SECS:-3}
	[ "$secs" -gt 0 ] || return 0
	for ifc in "$IF_C1" "$IF_C2"; do
		timeout "$secs" ip netns exec "$NS_CLIENT" tcpdump -nn -S -v -l -i "$ifc" -c 30 tcp 2>/dev/null |
			grep -v '^\s*$' | head -n 60 | sed "s/^/    $ifc: /" &
		pids+=($!)
	done
	wait "${pids[@]}" 2>/dev/null || true
}

# xfer_watch SECS: wait up to SECS for the client of xfer_start to end;
# still running then (the transfer should long be done), it prints
# conv_state_dump once while the stall is live. xfer_wait follows as ever.
xfer_watch() {
	local end=$((SECONDS + $1))
	while kill -0 "${XFER_CLIENT_PID:-0}" 2>/dev/null; do
		if [ "$SECONDS" -ge "$end" ]; then
			info "xfer $XFER_NAME still running after $1 s; the state now:"
			conv_state_dump
			return 0
		fi
		nap 0.2
	done
}

# xfer_check NS_CLIENT NS_SERVER [xfer_start options]: one verified
# transfer, start to end (see xfer_start, xfer_wait)
xfer_check() {
	xfer_start "$@" || return 1
	xfer_wait
}

# ---- the kernel-terminated converter to compare with ---------------------------

# socat_conv_start PORT [LOG]: `mptcpize run socat -b131072`, the
# kernel-terminated converter the issues compare mpconv with, in the
# converter namespace: MPTCP listener on PORT (all addresses; the client
# connects to IP4_M1 and joins from its second endpoint), one plain TCP
# connection per client to IP4_S1:PORT (a new process per connection,
# `fork`). Sets SOCAT_PID and SOCAT_CMD; 1 with SOCAT_WHY set if it did not start or its
# listener is not MPTCP. backlog=1024: socat's default (5) overflows with
# parallel connects (SYN retransmits after 1 s).
SOCAT_PID='' SOCAT_WHY='' SOCAT_CMD=''
socat_conv_start() {
	local port=$1 log=${2:-}
	_topo_tmp
	log=${log:-$TOPO_TMP/socat.$port.log}
	SOCAT_WHY=''
	local cmd=(mptcpize run socat -b131072
		"TCP-LISTEN:$port,fork,reuseaddr,backlog=1024" "TCP:$IP4_S1:$port")
	# shellcheck disable=SC2034 # for the caller (bench/configs.sh)
	SOCAT_CMD="${cmd[*]}"
	bg_start "$NS_CONV" "${cmd[@]}" >"$log" 2>&1
	SOCAT_PID=$BG_PID
	if ! wait_listen "$NS_CONV" "$port" "$SOCAT_PID"; then
		SOCAT_WHY="socat did not start: $(tail -n 3 "$log" 2>/dev/null | tr '\n' ' ')"
	elif [ "$(cat "/proc/$SOCAT_PID/comm" 2>/dev/null)" != socat ] ||
		! _is_mptcp_listener "$NS_CONV" "$port"; then
		SOCAT_WHY="no MPTCP socat listener on port $port (mptcpize did not work?)"
	fi
	[ -z "$SOCAT_WHY" ] && return 0
	socat_conv_stop
	return 1
}

# socat_conv_stop: stop socat_conv_start's socat and the children it forked
socat_conv_stop() {
	_stop_tree "$SOCAT_PID"
	SOCAT_PID=''
}

# ---- RFC 8803 Convert clients ---------------------------------------------------

# the converter's Convert service port (mpconvd --listen, docs/configuration.md)
CONVERT_PORT=${CONVERT_PORT:-5124}
export CONVERT_PORT

# convert_client_setup NS: the kernel in NS (the client) sends data in the
# SYN without a TFO cookie. That is how an RFC 8803 client puts its Convert
# message in the SYN (0-RTT): xfer --convert sets TCP_FASTOPEN_CONNECT and
# makes the message its first write. net.ipv4.tcp_fastopen is per network
# namespace (a new one starts at 0x1); the bits used here:
#   0x1  client side of TFO enabled (TCP_FASTOPEN_CONNECT, MSG_FASTOPEN)
#   0x4  client: data in the SYN even without a cookie from the peer (no
#        cookie-request round trip first; the converter decides with its
#        own Cookie TLV, RFC 8803 6.2.7, not with a TFO cookie)
# Without 0x4 the first SYN only asks for a cookie and the message follows
# the handshake (xfer reports "syn_data": false). Bits already set (e.g.
# 0x2, server side) are kept. Call it once after topo_create.
convert_client_setup() {
	local ns=$1 cur
	cur=$(ip netns exec "$ns" sysctl -n net.ipv4.tcp_fastopen) || return 1
	_sysctl "$ns" "net.ipv4.tcp_fastopen=$((cur | 0x1 | 0x4))"
}

# _convert_hostport C: C as xfer --convert wants it, CONVERT_PORT added
# when C has no port (ADDR, [V6]) and brackets around a bare IPv6 address
_convert_hostport() {
	case $1 in
	\[*\]:*) printf '%s\n' "$1" ;;
	\[*\]) printf '%s:%s\n' "$1" "$CONVERT_PORT" ;;
	*:*:*) printf '[%s]:%s\n' "$1" "$CONVERT_PORT" ;;
	*:*) printf '%s\n' "$1" ;;
	*) printf '%s:%s\n' "$1" "$CONVERT_PORT" ;;
	esac
}

# convert_probe NS C [xfer client args...]: one `xfer client --convert C
# --json` in NS, in the foreground and without a server: for exchanges
# that never reach one (Error replies, --convert-info alone, malformed
# messages with --convert-raw). Sets CONVERT_RC (xfer's exit code: 0 ok, 1
# failed, 3 Error TLV), CONVERT_ERROR (the first Error code, or "none"),
# CONVERT_SYN_DATA (connections whose SYN data was acknowledged),
# CONVERT_JSON (the client's JSON document; CONVERT_JSON.err its stderr).
# --timeout defaults to CONVERT_TIMEOUT (10 s). Returns 0: look at
# CONVERT_RC.
# shellcheck disable=SC2034 # results are for the caller
convert_probe() {
	local ns=$1 conv=$2 kv
	shift 2
	_topo_tmp
	CONVERT_JSON=$(mktemp "$TOPO_TMP/convert.XXXXXX") || return 1
	CONVERT_RC=0 CONVERT_ERROR=none CONVERT_SYN_DATA=0
	ip netns exec "$ns" "$XFER" client --convert "$(_convert_hostport "$conv")" \
		--timeout "${CONVERT_TIMEOUT:-10}" --json "$@" \
		>"$CONVERT_JSON" 2>"$CONVERT_JSON.err" || CONVERT_RC=$?
	# xfer compare with no server records still summarises the client
	for kv in $("$XFER" compare "$CONVERT_JSON" /dev/null 2>/dev/null || true); do
		case $kv in
		convert_error=*) CONVERT_ERROR=${kv#*=} ;;
		syn_data=*) CONVERT_SYN_DATA=${kv#*=} ;;
		esac
	done
	return 0
}

# mpconvd_wait PIN [SECONDS]: until the agent whose maps are pinned at PIN
# has attached and serves (mpc_agent.running == 1); fails after SECONDS
# (default 10). Pins appear before the programs are attached, so waiting
# for a pin alone races the first SYN.
mpconvd_wait() {
	local pin=$1 secs=${2:-10} i
	for i in $(seq $((secs * 10))); do
		if "$MPC_ROOT/build/mpconvctl" -j -p "$pin" stats 2>/dev/null |
			grep -q '"running":1'; then
			return 0
		fi
		sleep 0.1
	done
	printf 'mpconvd_wait: %s not running after %ss\n' "$pin" "$secs" >&2
	return 1
}

# ---- the converter (mpconvd) for explicit-mode tests ------------------------
#
# mpc_start runs build/mpconvd in NS_CONV through bg_start_bpf (the pins
# stay visible in the root namespace's bpffs) as an explicit-mode network
# converter on m1,m2,m3: service $IP4_M1:$CONVERT_PORT, external addresses
# IP4_EXT,IP6_EXT, clients 192.0.2.0/24 and 2001:db8::/32, pins under
# /sys/fs/bpf/mpc-e2e-$TOPO_ID (removed by topo_destroy). Extra mpconvd
# flags given to mpc_start come after these, so they override them
# (mpconvd applies flags in order). The topology must come from
# `topo_create --xdp` for both datapaths (see README.md, "explicit-mode
# converter").

MPC_DATAPATH=${MPC_DATAPATH:-xdp}
MPCONVD=${MPCONVD:-$MPC_ROOT/build/mpconvd}
MPCONVCTL=${MPCONVCTL:-$MPC_ROOT/build/mpconvctl}
MPC_PIN=
MPC_PID=
MPC_LOG=
MPC_STARTS=0
_MPC_HOOKED=0

# mpc_has_key KEY: this mpconvd has the configuration key KEY (--help)
mpc_has_key() {
	local h
	h=$("$MPCONVD" --help 2>/dev/null) || true
	printf '%s\n' "$h" | grep -q -- "^  --$1 "
}

# mpc_listen_multi: --listen takes a comma-separated list (v4 and v6)
mpc_listen_multi() {
	local h
	h=$("$MPCONVD" --help 2>/dev/null) || true
	printf '%s\n' "$h" | grep -- '^  --listen ' | grep -q ','
}

# mpc_start [--datapath xdp|tc] [--gro-interfaces IF,...] [--wait-pin-only]
# [MPCONVD FLAGS...]: start the converter, wait until it serves. With tc,
# GRO goes off on m1-m3 except on the --gro-interfaces ones. Sets MPC_PID, MPC_PIN, MPC_LOG (a
# new log file per start). Returns 1 (log printed) if it exits or does not
# come up within 10 s.
mpc_start() {
	local dp=$MPC_DATAPATH args=() i d gro_keep=''
	while [ $# -gt 0 ]; do
		case $1 in
		--datapath) dp=$2; shift 2 ;;
		--gro-interfaces) gro_keep=$2; args+=("$1" "$2"); shift 2 ;;
		*) args+=("$1"); shift ;;
		esac
	done
	_topo_tmp
	# one agent per pin root: a previous one still running (its stop case
	# skipped by E2E_CASES, or a test that forgot) is stopped first, or
	# both would serve the same maps
	if [ -n "$MPC_PID" ] && kill -0 "$MPC_PID" 2>/dev/null; then
		info "mpc_start: stopping the running agent $MPC_PID first"
		mpc_stop || true
	fi
	[ "$TOPO_XDP" = 1 ] ||
		warn "mpc_start: topology without --xdp (checksum offload still on)"
	if [ "$dp" = tc ]; then
		# TC cannot grow the TCP header of a GRO/GSO super-packet: one
		# segment per skb on the converter's ingress (harmless if the
		# agent does it too)
		for d in "$IF_M1" "$IF_M2" "$IF_M3"; do
			if [[ ",$gro_keep," == *",$d,"* ]]; then
				# only the client's packets arrive there: GRO
				# stays on (mpconvd --gro-interfaces)
				topo_ethtool "$NS_CONV" "$d" gro on || return 1
			else
				topo_ethtool "$NS_CONV" "$d" gro off || return 1
			fi
		done
	fi
	MPC_PIN=/sys/fs/bpf/mpc-e2e-$TOPO_ID
	MPC_STARTS=$((MPC_STARTS + 1))
	MPC_LOG=$TOPO_TMP/mpconvd.$MPC_STARTS.log
	if [ "$_MPC_HOOKED" = 0 ]; then
		topo_on_destroy _mpc_cleanup
		_MPC_HOOKED=1
	fi
	bg_start_bpf "$NS_CONV" "$MPCONVD" --role network --mode explicit \
		--listen "$IP4_M1:$CONVERT_PORT" \
		--interfaces "$IF_M1,$IF_M2,$IF_M3" \
		--external-address "$IP4_EXT,$IP6_EXT" \
		--allow "192.0.2.0/24,2001:db8::/32" \
		--datapath "$dp" --pin-root "$MPC_PIN" \
		"${args[@]}" >"$MPC_LOG" 2>&1
	MPC_PID=$BG_PID
	for i in $(seq 100); do
		if ! kill -0 "$MPC_PID" 2>/dev/null; then
			wait "$MPC_PID" 2>/dev/null
			printf 'mpc_start: mpconvd exited (%s):\n' "$?"
			sed 's/^/    /' "$MPC_LOG"
			MPC_PID=
			return 1
		fi
		if [ -e "$MPC_PIN/mpc_stats" ] && grep -q 'running:' "$MPC_LOG"; then
			return 0
		fi
		sleep 0.1
	done
	printf 'mpc_start: mpconvd not running after 10 s:\n'
	sed 's/^/    /' "$MPC_LOG"
	return 1
}

# mpc_stop: SIGTERM, wait (5 s) for the clean exit; returns its exit code
# (124 if it had to be killed)
mpc_stop() {
	local rc=0
	[ -n "$MPC_PID" ] || return 0
	kill -TERM "$MPC_PID" 2>/dev/null || true
	wait_pid_timeout "$MPC_PID" 5 || rc=$?
	if [ "$rc" -eq 124 ]; then
		bg_stop "$MPC_PID"
	fi
	MPC_PID=
	return "$rc"
}

# mpc_kill9: SIGKILL the agent (pins and attached programs stay)
mpc_kill9() {
	[ -n "$MPC_PID" ] || return 1
	kill -KILL "$MPC_PID" 2>/dev/null || return 1
	wait "$MPC_PID" 2>/dev/null || true
	MPC_PID=
}

_mpc_cleanup() {
	if [ -n "$MPC_PID" ]; then
		bg_stop "$MPC_PID"
		MPC_PID=
	fi
	[ -n "$MPC_PIN" ] && rm -rf "$MPC_PIN"
	return 0
}

# mpc_ctl ARGS...: mpconvctl on this test's pins (root namespace is fine)
mpc_ctl() {
	"$MPCONVCTL" -p "$MPC_PIN" "$@"
}

# mpc_counter NAME: a counter from `mpconvctl -j stats` (data path
# "stats", "drops" or the agent's "agent" section; the names do not
# overlap). Prints the value; returns 1 (prints nothing) if absent.
mpc_counter() {
	local v
	v=$(mpc_ctl -j stats 2>/dev/null | grep -o "\"$1\":[0-9]*" | sed -n '1s/.*://p')
	[ -n "$v" ] || return 1
	printf '%s\n' "$v"
}

# mpc_counter_at_least NAME MIN [SECONDS]: counter NAME once it reaches
# MIN, or its value after 30 looks 0.1 s apart (about 3 s, longer under
# TCG, where one mpconvctl round is slow), or with SECONDS after at least
# that many seconds by the clock. The agent publishes its counters once
# per second, join_up_bytes only when a connection's state leaves the
# maps (up to 10 s after its close). 0 when it does not exist
mpc_counter_at_least() {
	local v n=0 end=$((SECONDS + ${3:-0}))
	while :; do
		v=$(mpc_counter "$1" || echo 0)
		n=$((n + 1))
		{ [ "$v" -ge "$2" ] || { [ "$n" -ge 30 ] && [ "$SECONDS" -ge "$end" ]; }; } && break
		sleep 0.1
	done
	printf '%s\n' "$v"
}

# mpc_counters_save FILE: the whole `mpconvctl -j stats` document, for
# deltas with mpc_counter_delta
mpc_counters_save() {
	mpc_ctl -j stats >"$1" 2>/dev/null
}

# mpc_counter_delta FILE NAME: NAME now minus NAME in FILE (missing = 0 in
# FILE); returns 1 if NAME is not a counter now
mpc_counter_delta() {
	local now old
	now=$(mpc_counter "$2") || return 1
	old=$(grep -o "\"$2\":[0-9]*" "$1" 2>/dev/null | sed -n '1s/.*://p')
	printf '%s\n' $((now - ${old:-0}))
}

# mpc_has_agent_counters: mpconvctl -j stats has a non-empty "agent"
# section (the agent's counters: errors by code, fastclose_sent, ...)
mpc_has_agent_counters() {
	local j
	j=$(mpc_ctl -j stats 2>/dev/null) || return 1
	case $j in *'"agent":{"'*) return 0 ;; esac
	return 1
}

# mpc_has_conns_cmd: mpconvctl has the `conns` subcommand
mpc_has_conns_cmd() {
	mpc_ctl -j conns >/dev/null 2>&1
}

# mpc_conns_n: connections in the converter's table (`mpconvctl -j
# conns`); prints nothing and returns 1 without that subcommand
mpc_conns_n() {
	local out
	out=$(mpc_ctl -j conns 2>/dev/null) || return 1
	printf '%s\n' "$out" | { grep -o '"id":' || true; } | wc -l
}

# mpc_flows_n: entries of the pinned flow table (bpftool, root namespace)
mpc_flows_n() {
	bpftool map dump pinned "$MPC_PIN/mpc_flows" 2>/dev/null | grep -c '"key":' || true
}

# mpc_wait_state_gone SECS: until the converter holds no connection and no
# flow (mpconvctl conns, when it exists, and mpc_flows); 1 on timeout
mpc_wait_state_gone() {
	local secs=$1 i n f
	for i in $(seq $((secs * 10))); do
		n=$(mpc_conns_n 2>/dev/null || echo 0)
		f=$(mpc_flows_n)
		[ "${n:-0}" -eq 0 ] && [ "${f:-0}" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# mpc_log_has REGEX: the current agent log matches (grep -E)
mpc_log_has() {
	grep -Eq -- "$1" "$MPC_LOG" 2>/dev/null
}

# ---- packet captures ---------------------------------------------------------

# pcap_start NS IFACE FILE [FILTER...]: tcpdump in the background (PCAP_PID),
# returns once it listens. Stop with pcap_stop before reading FILE.
pcap_start() {
	local ns=$1 dev=$2 file=$3 i
	shift 3
	bg_start "$ns" tcpdump -i "$dev" -n -U --immediate-mode -s 256 -w "$file" "$@" \
		>/dev/null 2>"$file.err"
	PCAP_PID=$BG_PID
	for i in $(seq 50); do
		grep -q 'listening on' "$file.err" 2>/dev/null && return 0
		kill -0 "$PCAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	printf 'pcap_start: tcpdump on %s/%s did not start: %s\n' "$ns" "$dev" \
		"$(tr '\n' ' ' <"$file.err")"
	return 1
}

# pcap_stop [PID]: let the last packets in, then stop tcpdump (default
# PCAP_PID)
pcap_stop() {
	local pid=${1:-$PCAP_PID}
	[ -n "$pid" ] || return 0
	sleep 0.3
	kill -INT "$pid" 2>/dev/null || true
	wait_pid_timeout "$pid" 3 >/dev/null || bg_stop "$pid"
	return 0
}

# pcap_read FILE [FILTER...]: one line per packet (tcpdump -nr, absolute
# timestamps, TCP flags as [S.], [P.], [R], ...)
pcap_read() {
	local file=$1
	shift
	tcpdump -nr "$file" -tt "$@" 2>/dev/null || true
}

# pcap_count FILE [FILTER...]: packets in FILE matching FILTER
pcap_count() {
	pcap_read "$@" | grep -c . || true
}

# ==== kernel feature probes and netem links (vmtest, test_netem_*.sh) ========
# Probes return 0 when the running kernel has the feature, 1 when it does
# not, and leave a one-line reason in PROBE_WHY. Each runs in a scratch
# namespace mpc-probe-<pid>-<n> that it removes, so neither the root
# namespace nor the test's topology is touched; call them before or after
# topo_create.

PROBE_WHY=
_PROBE_N=0

# _probe_run CMD...: CMD in a scratch namespace (lo up); its stderr in
# PROBE_ERR, its exit code returned
_probe_run() {
	local ns rc=0
	_PROBE_N=$((_PROBE_N + 1))
	ns=mpc-probe-$$-$_PROBE_N
	ip netns add "$ns" 2>/dev/null || { PROBE_ERR="cannot create a namespace"; return 2; }
	ip -n "$ns" link set lo up
	PROBE_ERR=$(ip netns exec "$ns" "$@" 2>&1 >/dev/null) || rc=$?
	ip netns del "$ns" 2>/dev/null
	return "$rc"
}

# probe_netem: a netem qdisc can be attached (sch_netem built in or
# loadable). The host kernel of the dev machines and CI has none.
probe_netem() {
	if _probe_run sh -c 'tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root'; then
		PROBE_WHY="sch_netem available"
		return 0
	fi
	PROBE_WHY="no sch_netem (tc: $(printf '%s' "$PROBE_ERR" | head -n1))"
	return 1
}

# probe_mptcp: IPPROTO_MPTCP sockets can be created (kernel MPTCP, and
# net.mptcp.enabled defaults to 1 in a new namespace)
probe_mptcp() {
	if [ ! -e /proc/sys/net/mptcp/enabled ]; then
		PROBE_WHY="kernel without MPTCP"
		return 1
	fi
	# shellcheck disable=SC2016 # perl code, not shell
	if _probe_run perl -e 'use Socket; socket(my $s, AF_INET, SOCK_STREAM, 262) or die "$!\n"'; then
		PROBE_WHY="MPTCP sockets available"
		return 0
	fi
	PROBE_WHY="no IPPROTO_MPTCP socket ($PROBE_ERR)"
	return 1
}

# probe_mptcp_tfo: an MPTCP client puts data in its SYN (TCP Fast Open on
# an IPPROTO_MPTCP socket, TCP_FASTOPEN_CONNECT), which an RFC 8803 client
# needs for its Convert message. Probed by behaviour, in a scratch
# namespace (net.ipv4.tcp_fastopen=0x607 there): a plain TCP listener on
# 127.0.0.1 must count the SYN data (TcpExtTCPFastOpenPassive) of an MPTCP
# SYN (MPTcpExtMPCapableSYNTX). Measured: Debian's 6.1.192 cloud kernel
# passes (client-side MPTCP TFO is in 6.1; MPTCP listeners got TFO in
# 6.2); a kernel without it fails the setsockopt with EOPNOTSUPP or sends
# the data after the handshake.
# shellcheck disable=SC2016 # perl code, not shell
_PROBE_TFO_PL='
use Socket;
sub ctr {
	my ($grp, $name) = @_;
	open(my $f, "<", "/proc/net/netstat") or return -1;
	my @l = <$f>;
	for my $i (0 .. $#l - 1) {
		my @k = split " ", $l[$i];
		my @v = split " ", $l[$i + 1];
		next unless $k[0] eq "$grp:" && $v[0] eq "$grp:";
		for my $j (1 .. $#k) { return $v[$j] if $k[$j] eq $name }
	}
	return -1;
}
socket(my $l, AF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
bind($l, sockaddr_in(0, inet_aton("127.0.0.1"))) or die "bind: $!\n";
listen($l, 1) or die "listen: $!\n";
my ($port) = sockaddr_in(getsockname($l));
socket(my $c, AF_INET, SOCK_STREAM, 262) or die "MPTCP socket: $!\n";
setsockopt($c, 6, 30, pack("i", 1)) or die "setsockopt TCP_FASTOPEN_CONNECT on IPPROTO_MPTCP: $!\n";
connect($c, sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!\n";
defined(send($c, "mpconv-probe", 0)) or die "send: $!\n";
accept(my $a, $l) or die "accept: $!\n";
sysread($a, my $buf, 64);
my $tfo = ctr("TcpExt", "TCPFastOpenPassive");
my $syn = ctr("MPTcpExt", "MPCapableSYNTX");
die "the MPTCP SYN carried no data (TCPFastOpenPassive $tfo, MPCapableSYNTX $syn)\n"
	unless $tfo >= 1 && $syn >= 1;
'
probe_mptcp_tfo() {
	probe_mptcp || return 1
	# shellcheck disable=SC2016 # $1 is for that sh
	if _probe_run sh -c 'sysctl -qw net.ipv4.tcp_fastopen=0x607 && exec perl -e "$1"' \
		sh "$_PROBE_TFO_PL"; then
		PROBE_WHY="an MPTCP SYN carries data (TCP_FASTOPEN_CONNECT)"
		return 0
	fi
	PROBE_WHY="no MPTCP + TCP Fast Open ($(printf '%s' "$PROBE_ERR" | head -n1))"
	return 1
}

# probe_nft_egress: nftables netdev egress hook (Linux 5.16+), which
# link_loss/link_blackhole/link_netem use for the outgoing direction
probe_nft_egress() {
	if _probe_run sh -c 'printf "%s\n" "table netdev mpc_probe {" "chain e { type filter hook egress device \"lo\" priority 0; }" "}" | nft -f -'; then
		PROBE_WHY="nft netdev egress hook available"
		return 0
	fi
	PROBE_WHY="no nft netdev egress hook ($(printf '%s' "$PROBE_ERR" | head -n1))"
	return 1
}

# vm_features: one line per probe, "name yes|no: reason" (vmtest prints it
# per kernel)
vm_features() {
	local p
	printf 'kernel %s\n' "$(uname -r)"
	for p in mptcp mptcp_tfo netem nft_egress; do
		if "probe_$p"; then
			printf '%-11s yes: %s\n' "$p" "$PROBE_WHY"
		else
			printf '%-11s no: %s\n' "$p" "$PROBE_WHY"
		fi
	done
}

# link_netem LINK off | NETEM-ARGS...: netem (tc-netem(8): "delay 10ms
# reorder 2% loss 1% rate 4mbit", ...) on LINK, the same arguments in each
# direction (so "delay 10ms" is a 20 ms RTT). At the endpoint, like
# link_rate: a root netem on the endpoint device for outgoing packets and
# one on an ifb fed by the nft ingress hook for incoming packets, so it
# holds whatever the converter's data path does (XDP_REDIRECT skips the
# converter's qdiscs). It takes the place of link_rate's tbf on LINK (use
# netem's own rate). gso_max_segs 1 on both ends of LINK, as link_loss
# does, so loss and reordering act on segments, not 64 KiB GSO skbs; an
# endpoint with GRO on (topo_offload_xdp) still hands aggregates to the
# ingress side: see netem_no_gro. Needs sch_netem (probe_netem).
link_netem() {
	_link "$1" || return 1
	shift
	local ifb
	ifb=$(_ifb_name "$_L_IF")
	if [ "$1" = off ]; then
		link_rate "$_L_N" off
		return
	fi
	ip -n "$_L_NS" link set dev "$_L_IF" gso_max_segs 1 || return 1
	ip -n "$_L_PNS" link set dev "$_L_PIF" gso_max_segs 1 || return 1
	ip netns exec "$_L_NS" tc qdisc replace dev "$_L_IF" root netem "$@" || return 1
	if ! ip -n "$_L_NS" link show "$ifb" >/dev/null 2>&1; then
		ip -n "$_L_NS" link add "$ifb" type ifb || return 1
		ip -n "$_L_NS" link set "$ifb" up || return 1
	fi
	ip netns exec "$_L_NS" tc qdisc replace dev "$ifb" root netem "$@" || return 1
	_LINK_IFB[_L_N]=1
	_link_nft_apply
}

# netem_no_gro NS DEV: per-packet ingress on an endpoint veth that the
# converter's XDP_REDIRECT sends into: GRO off, with an XDP_PASS program
# (build/bpf/pass.bpf.o) keeping the NAPI that XDP_REDIRECT into its peer
# needs (README: veth rules). Without GRO aggregates, netem's loss and
# reordering on the ingress ifb act on single segments.
netem_no_gro() {
	local ns=$1 dev=$2
	ip -n "$ns" link set dev "$dev" xdpdrv obj "$MPC_ROOT/build/bpf/pass.bpf.o" sec xdp || return 1
	topo_ethtool "$ns" "$dev" gro off
}

# netem_drops LINK: packets the netem qdiscs of LINK dropped so far (both
# directions: the endpoint device and its ingress ifb)
netem_drops() {
	_link "$1" || return 1
	{
		ip netns exec "$_L_NS" tc -s qdisc show dev "$_L_IF" 2>/dev/null
		ip netns exec "$_L_NS" tc -s qdisc show dev "$(_ifb_name "$_L_IF")" 2>/dev/null
	} | awk '/^qdisc netem/ { n = 1; next } /^qdisc/ { n = 0 }
		n && /dropped/ { for (i = 1; i < NF; i++) if ($i == "(dropped") { v = $(i + 1); sub(",", "", v); s += v } }
		END { print s + 0 }'
}

# ping_min_ms NS SRC DST [COUNT]: the smallest RTT (ms) of COUNT (5) pings
# from SRC to DST in NS; prints nothing and returns 1 if none came back
ping_min_ms() {
	local ns=$1 src=$2 dst=$3 count=${4:-5} v
	v=$(ip netns exec "$ns" ping -n -q -c "$count" -i 0.2 -W 2 -I "$src" "$dst" 2>/dev/null |
		awk -F'[/ =]+' '/^(rtt|round-trip)/ { print $6 }')
	[ -n "$v" ] || return 1
	printf '%s\n' "$v"
}
