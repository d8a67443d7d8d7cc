# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# bench/configs.sh - the configurations bench/run.sh compares. Each one is
# a function `bench_<name> ACTION` (sourced after tests/e2e/lib.sh, called
# with the topology up):
#
#   bench_<name> label   print the row label ("(b) mptcpize socat")
#   bench_<name> start   start the converter; on success set the CFG_*
#                        variables below and return 0; otherwise set
#                        CFG_NA to the reason and return 1 (the run goes on
#                        and the rows say "not available yet: CFG_NA")
#   bench_<name> stop    stop what start started (by PID), undo changes
#
# What start sets:
#   CFG_CONNECT      address the client connects to (proxy or server)
#   CFG_LISTEN       address the xfer server listens on (in NS_SERVER)
#   CFG_PORT         port of both (a proxy listens on CFG_CONNECT:CFG_PORT)
#   CFG_CLIENT_ARGS  extra `xfer client` arguments (--mptcp ...)
#   CFG_MPTCP        1: the client speaks MPTCP (a "both links" row applies)
#   CFG_PIDS         converter processes whose CPU and memory are its own
#                    share (process trees: forked children count)
#   CFG_BPF_IDS      BPF programs whose run time is the converter's share
#   CFG_MEM_NA       non-empty: the idle-connection memory test does not
#                    apply (the reason)
#   CFG_CMD          the command line that runs, for the report
#   CFG_TOOL         traffic tool of the bulk test: xfer (default) or
#                    iperf3 (no byte check, for the tool-ceiling row)
#   CFG_TESTS        tests that apply (default "bulk conn mem")
#   CFG_REF          configuration whose numbers are this row's baseline
#                    (ratios "vs the same offloads" in the report)
#   CFG_MAPS         pinned BPF maps, for the report (mpconv)
#
# Adding a configuration: write bench_<name>, add <name> to BENCH_CONFIGS
# (bench/run.sh) and a line to the table in bench/report.sh.
# shellcheck disable=SC2034 # the CFG_* variables are read by bench/run.sh

BENCH_CONVERT_PORT=${CONVERT_PORT:-5124}
BENCH_PIN_ROOT=/sys/fs/bpf/mpc-bench-$$
# run.sh points this at a copy taken at the start (a rebuild in the shared
# tree during the run must not change or break the binary under test)
BENCH_MPCONVD=${BENCH_MPCONVD:-$MPC_ROOT/build/mpconvd}

_cfg_reset() {
	CFG_CONNECT='' CFG_LISTEN='' CFG_PORT='' CFG_CLIENT_ARGS=() CFG_MPTCP=0
	CFG_PIDS=() CFG_BPF_IDS=() CFG_MEM_NA='' CFG_NA='' CFG_CMD=''
	CFG_TOOL=xfer CFG_TESTS="bulk conn mem" CFG_REF='' CFG_MAPS=''
}

_log_tail() {
	tail -n 3 "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//' || true
}

# ---- (a) plain IP forwarding ---------------------------------------------------

bench_plain() {
	case $1 in
	label) echo "(a) plain forwarding" ;;
	start)
		_cfg_reset
		# needs topo_create with TOPO_SERVER_DEFAULT_ROUTE=1 (run.sh)
		if ! ip -n "$NS_SERVER" route show default | grep . >/dev/null; then
			CFG_NA="the server has no default route (TOPO_SERVER_DEFAULT_ROUTE=0)"
			return 1
		fi
		CFG_CONNECT=$IP4_S1 CFG_LISTEN=$IP4_S1 CFG_PORT=5201
		CFG_MEM_NA=''
		CFG_CMD="ip_forward=1 in the converter namespace, client TCP -> server TCP, routed"
		;;
	stop) ;;
	esac
}

# ---- (a') the same with iperf3: what the traffic tool costs ----------------------

bench_plain_iperf3() {
	case $1 in
	label) echo "(a') plain forwarding, iperf3" ;;
	start)
		bench_plain start || return 1
		if ! command -v iperf3 >/dev/null 2>&1; then
			CFG_NA="iperf3 not installed"
			return 1
		fi
		CFG_PORT=5211 CFG_TOOL=iperf3 CFG_TESTS=bulk
		CFG_CMD="as (a), driven by iperf3 -n SIZE [-R] instead of xfer: no stream generation or byte check (bulk only, reference for the tool's cost)"
		;;
	stop) ;;
	esac
}

# ---- (b) mptcpize run socat ---------------------------------------------------------

_SOCAT_PID=

bench_socat() {
	case $1 in
	label) echo "(b) mptcpize socat" ;;
	start)
		_cfg_reset
		CFG_PORT=5202
		if ! socat_conv_start "$CFG_PORT" "$TOPO_TMP/socat.log"; then
			CFG_NA=$SOCAT_WHY
			return 1
		fi
		_SOCAT_PID=$SOCAT_PID
		CFG_CONNECT=$IP4_M1 CFG_LISTEN=$IP4_S1 CFG_MPTCP=1
		CFG_CLIENT_ARGS=(--mptcp --expect-mptcp)
		CFG_PIDS=("$_SOCAT_PID")
		CFG_CMD=$SOCAT_CMD
		;;
	stop)
		_stop_tree "$_SOCAT_PID"
		_SOCAT_PID=
		;;
	esac
}

# ---- (c) mptcpize run haproxy ----------------------------------------------------

_HAPROXY_PID=

bench_haproxy() {
	case $1 in
	label) echo "(c) mptcpize haproxy" ;;
	start)
		_cfg_reset
		CFG_PORT=5203
		local dir=$TOPO_TMP/haproxy
		mkdir -p "$dir"
		# minimal TCP-mode proxy; -db keeps it in the foreground (no
		# daemon, no master-worker), so BG_PID is haproxy itself and
		# nothing of the packaged service (/etc/haproxy) is used
		cat >"$dir/haproxy.cfg" <<-EOF
			global
			    maxconn 4096
			defaults
			    mode tcp
			    timeout connect 10s
			    timeout client 300s
			    timeout server 300s
			listen bench
			    bind $IP4_M1:$CFG_PORT
			    server srv $IP4_S1:$CFG_PORT
		EOF
		local cmd=(mptcpize run haproxy -db -f "$dir/haproxy.cfg")
		bg_start "$NS_CONV" "${cmd[@]}" >"$TOPO_TMP/haproxy.log" 2>&1
		_HAPROXY_PID=$BG_PID
		if ! wait_listen "$NS_CONV" "$CFG_PORT" "$_HAPROXY_PID"; then
			CFG_NA="haproxy did not start: $(_log_tail "$TOPO_TMP/haproxy.log")"
			_stop_tree "$_HAPROXY_PID"
			return 1
		fi
		if [ "$(cat "/proc/$_HAPROXY_PID/comm" 2>/dev/null)" != haproxy ] ||
			! tr '\0' ' ' <"/proc/$_HAPROXY_PID/cmdline" | grep "$dir/haproxy.cfg" >/dev/null ||
			! _is_mptcp_listener "$NS_CONV" "$CFG_PORT"; then
			CFG_NA="no MPTCP haproxy listener of ours on port $CFG_PORT"
			_stop_tree "$_HAPROXY_PID"
			return 1
		fi
		CFG_CONNECT=$IP4_M1 CFG_LISTEN=$IP4_S1 CFG_MPTCP=1
		CFG_CLIENT_ARGS=(--mptcp --expect-mptcp)
		CFG_PIDS=("$_HAPROXY_PID")
		CFG_CMD="${cmd[*]} (mode tcp, maxconn 4096, defaults otherwise)"
		;;
	stop)
		_stop_tree "$_HAPROXY_PID"
		_HAPROXY_PID=
		;;
	esac
}

# ---- offload profiles ---------------------------------------------------------------
#
# mpconv needs other veth offloads than the kernel rows (tests/e2e/lib.sh,
# topo_offload_xdp and mpc_start): "tx off gro on" on all six veths (no
# CHECKSUM_PARTIAL packets, GRO so that XDP_REDIRECT is delivered), and for
# TC also "gro off" on m1-m3 (TC cannot grow the TCP header of a GRO/GSO
# super-packet). tx off also turns TSO off: every hop then carries
# MTU-sized packets, which costs far more than the translation itself, so
# each mpconv row has a plain-forwarding reference with the same profile.

_OFFLOADS_SAVED=()

# _offload_save NS DEV: remember "NS DEV tx on|off gro on|off"
_offload_save() {
	local tx gro
	tx=$(ip netns exec "$1" ethtool -k "$2" | awk '$1 == "tx-checksumming:" { print $2 }')
	gro=$(ip netns exec "$1" ethtool -k "$2" | awk '$1 == "generic-receive-offload:" { print $2 }')
	_OFFLOADS_SAVED+=("$1 $2 tx ${tx:-on} gro ${gro:-off}")
}

# offload_profile xdp|tc: apply the profile (the previous settings are
# saved once and come back with offload_restore)
offload_profile() {
	local d
	if [ ${#_OFFLOADS_SAVED[@]} -eq 0 ]; then
		for d in "$IF_C1" "$IF_C2"; do _offload_save "$NS_CLIENT" "$d"; done
		for d in "$IF_M1" "$IF_M2" "$IF_M3"; do _offload_save "$NS_CONV" "$d"; done
		_offload_save "$NS_SERVER" "$IF_S1"
	fi
	topo_offload_xdp || return 1
	if [ "$1" = tc ]; then
		for d in "$IF_M1" "$IF_M2" "$IF_M3"; do
			topo_ethtool "$NS_CONV" "$d" gro off || return 1
		done
	elif [ "$1" = tc_gro ]; then
		# GRO on where the clients' packets arrive, off where the
		# server's do (mpconvd --gro-interfaces m1,m2)
		topo_ethtool "$NS_CONV" "$IF_M3" gro off || return 1
	fi
}

offload_restore() {
	local i
	for i in "${_OFFLOADS_SAVED[@]}"; do
		# shellcheck disable=SC2086 # "NS DEV tx X gro Y"
		topo_ethtool $i || true
	done
	_OFFLOADS_SAVED=()
}

_offload_text() {
	case $1 in
	xdp) echo "offloads: tx off, gro on (all six veths; TSO off)" ;;
	tc) echo "offloads: tx off, gro on (all six veths; TSO off), gro off on m1-m3" ;;
	tc_gro) echo "offloads: tx off, gro on (all six veths; TSO off), gro off on m3 only" ;;
	esac
}

# ---- (a-tc), (a-xdp) plain forwarding with mpconv's offloads ------------------------

bench_plain_tc() {
	case $1 in
	label) echo "(a-tc) plain forwarding, offloads of (d)" ;;
	*) _bench_plain_offload "$1" tc 5212 ;;
	esac
}

bench_plain_tc_gro() {
	case $1 in
	label) echo "(a-tc-gro) plain forwarding, offloads of (d-gro)" ;;
	*) _bench_plain_offload "$1" tc_gro 5214 ;;
	esac
}

bench_plain_xdp() {
	case $1 in
	label) echo "(a-xdp) plain forwarding, offloads of (e)" ;;
	*) _bench_plain_offload "$1" xdp 5213 ;;
	esac
}

_bench_plain_offload() {
	case $1 in
	start)
		bench_plain start || return 1
		if ! offload_profile "$2"; then
			CFG_NA="cannot apply the $2 offload profile (ethtool)"
			offload_restore
			return 1
		fi
		CFG_PORT=$3 CFG_TESTS="bulk conn"
		CFG_CMD="as (a); $(_offload_text "$2")"
		;;
	stop) offload_restore ;;
	esac
}

# ---- (d), (e) mpconv --------------------------------------------------------------

bench_mpconv_tc() {
	case $1 in
	label) echo "(d) mpconv TC" ;;
	*) _bench_mpconv "$1" tc ;;
	esac
}

# (d-gro): TC with GRO left on where the clients' packets arrive
bench_mpconv_tc_gro() {
	case $1 in
	label) echo "(d-gro) mpconv TC, GRO on m1/m2" ;;
	*) _bench_mpconv "$1" tc_gro ;;
	esac
}

bench_mpconv_xdp() {
	case $1 in
	label) echo "(e) mpconv XDP" ;;
	*) _bench_mpconv "$1" xdp ;;
	esac
}

_MPCONV_PID=
_MPCONV_ROUTE_DEL=0
_MPCONV_PIN_HOOK=0
_MPCONV_TFO_OLD=

# _mpconv_ready PID LOG SECS: the agent serves (same test as lib.sh's
# mpc_start: its stats map is pinned and it logged "running:"); the
# Convert service is not a listening socket (the agent answers the
# Convert SYNs through its slow path), so ss cannot tell
_mpconv_ready() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		if [ -e "$BENCH_PIN_ROOT/mpc_stats" ] && grep 'running:' "$2" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# _mpconv_maps: "name key K value V max N; ..." of the pinned maps
_mpconv_maps() {
	local f out=''
	for f in "$BENCH_PIN_ROOT"/*; do
		[ -e "$f" ] || continue
		out="$out$(basename "$f") $(bpftool map show pinned "$f" 2>/dev/null |
			grep -o 'key [0-9]*B  value [0-9]*B  max_entries [0-9]*' | head -n 1 | tr -s ' ' || true); "
	done
	printf '%s\n' "${out%; }"
}

_bench_mpconv() {
	local action=$1 dp=$2 why=() log=$TOPO_TMP/mpconvd-$2.log probe help
	case $action in
	start)
		_cfg_reset
		case $dp in tc) CFG_PORT=5204 ;; tc_gro) CFG_PORT=5206 ;; *) CFG_PORT=5205 ;; esac
		local cmd=("$BENCH_MPCONVD" --role network --mode explicit
			--listen "$IP4_M1:$BENCH_CONVERT_PORT"
			--interfaces "$IF_M1,$IF_M2,$IF_M3" --external-address "$IP4_EXT"
			--allow 192.0.2.0/24 --datapath "${dp%_gro}" --pin-root "$BENCH_PIN_ROOT")
		[ "$dp" = tc_gro ] && cmd+=(--gro-interfaces "$IF_M1,$IF_M2")
		CFG_CMD="build/mpconvd ${cmd[*]:1}; client: xfer client --mptcp --convert $IP4_M1:$BENCH_CONVERT_PORT --connect $IP4_S1:PORT; $(_offload_text "$dp")"
		# an option parse error sends nothing: unknown option or
		# "requires an argument" tells whether --convert exists
		probe=$("$XFER" client --convert 2>&1 || true)
		if printf '%s\n' "$probe" | grep "unrecognized option '--convert'" >/dev/null; then
			why+=("xfer has no --convert yet (RFC 8803 client side)")
		fi
		if [ ! -x "$BENCH_MPCONVD" ]; then
			why+=("build/mpconvd not built")
			CFG_NA=$(printf '%s; ' "${why[@]}")
			CFG_NA=${CFG_NA%; }
			return 1
		fi
		offload_profile "$dp" || why+=("cannot apply the $dp offload profile (ethtool)")
		# translated or nothing: the server must not reach the client
		# directly while mpconv is measured (plain routing would carry
		# an untranslated connection and give a fake number)
		if ip -n "$NS_SERVER" route show default | grep . >/dev/null; then
			ip -n "$NS_SERVER" route del default 2>/dev/null || true
			ip -n "$NS_SERVER" -6 route del default 2>/dev/null || true
			_MPCONV_ROUTE_DEL=1
		fi
		# the Convert message rides in the SYN (TFO without cookie) in
		# the client namespace; restored at stop
		_MPCONV_TFO_OLD=$(ip netns exec "$NS_CLIENT" sysctl -n net.ipv4.tcp_fastopen)
		if declare -F convert_client_setup >/dev/null; then
			convert_client_setup "$NS_CLIENT" || why+=("convert_client_setup failed")
		else
			_sysctl "$NS_CLIENT" "net.ipv4.tcp_fastopen=$((_MPCONV_TFO_OLD | 0x5))"
		fi
		if [ "$_MPCONV_PIN_HOOK" = 0 ]; then
			topo_on_destroy "rm -rf '$BENCH_PIN_ROOT'"
			_MPCONV_PIN_HOOK=1
		fi
		# nsenter --net keeps the mount namespace (bpffs pins visible)
		bg_start_bpf "$NS_CONV" "${cmd[@]}" >"$log" 2>&1
		_MPCONV_PID=$BG_PID
		if ! _mpconv_ready "$_MPCONV_PID" "$log" 10; then
			if kill -0 "$_MPCONV_PID" 2>/dev/null; then
				why+=("mpconvd did not come up within 10 s (no $BENCH_PIN_ROOT/mpc_stats or no 'running:' log line)")
			else
				why+=("mpconvd exited: $(_log_tail "$log")")
			fi
		fi
		if kill -0 "$_MPCONV_PID" 2>/dev/null; then
			if [ "$dp" != xdp ]; then
				tc -n "$NS_CONV" filter show dev "$IF_M1" ingress | grep bpf >/dev/null ||
					why+=("no TC program on $IF_M1 ingress")
			else
				ip -n "$NS_CONV" link show "$IF_M1" | grep 'xdp' >/dev/null ||
					why+=("no XDP program on $IF_M1")
			fi
		fi
		if [ ${#why[@]} -gt 0 ]; then
			CFG_NA=$(printf '%s; ' "${why[@]}")
			CFG_NA=${CFG_NA%; }
			_bench_mpconv stop "$dp"
			return 1
		fi
		CFG_CONNECT=$IP4_S1 CFG_LISTEN=$IP4_S1 CFG_MPTCP=1
		CFG_CLIENT_ARGS=(--mptcp --expect-mptcp --convert "$IP4_M1:$BENCH_CONVERT_PORT")
		# the Convert message must have ridden in the SYN (0-RTT)
		help=$("$XFER" --help 2>&1 || true)
		if printf '%s\n' "$help" | grep -- '--expect-syn-data' >/dev/null; then
			CFG_CLIENT_ARGS+=(--expect-syn-data)
		fi
		CFG_PIDS=("$_MPCONV_PID")
		mapfile -t CFG_BPF_IDS < <(bpf_prog_ids "$NS_CONV")
		CFG_REF=plain_$dp
		CFG_MAPS=$(_mpconv_maps)
		CFG_MEM_NA="no per-connection sockets or processes: the per-connection map state is reported separately"
		# one verified (SHA-256) transfer before any number is taken
		if ! xfer_check "$NS_CLIENT" "$NS_SERVER" --listen "$CFG_LISTEN" \
			--connect "$CFG_CONNECT" --port "$CFG_PORT" --size 16M \
			--timeout 30 --name "mpconv-$dp-smoke" -- "${CFG_CLIENT_ARGS[@]}" >>"$BENCH_LOG" 2>&1; then
			CFG_NA="a verified 16 MiB transfer through mpconv ($dp) failed: $(grep 'FAILED' "$BENCH_LOG" | tail -n 1 || true)"
			_bench_mpconv stop "$dp"
			return 1
		fi
		;;
	stop)
		if [ -n "$_MPCONV_PID" ]; then
			# SIGTERM: the agent detaches and removes its pins
			kill -TERM "$_MPCONV_PID" 2>/dev/null || true
			wait_pid_timeout "$_MPCONV_PID" 5 || bg_stop "$_MPCONV_PID"
			_MPCONV_PID=
		fi
		rm -rf "$BENCH_PIN_ROOT"
		if [ -n "$_MPCONV_TFO_OLD" ]; then
			_sysctl "$NS_CLIENT" "net.ipv4.tcp_fastopen=$_MPCONV_TFO_OLD"
			_MPCONV_TFO_OLD=
		fi
		if [ "$_MPCONV_ROUTE_DEL" = 1 ]; then
			_topo_routes_server
			_MPCONV_ROUTE_DEL=0
		fi
		offload_restore
		;;
	esac
}
