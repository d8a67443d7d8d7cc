#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# bench/run.sh - side-by-side benchmarks, one run, one topology
# (tests/e2e/lib.sh: client, converter and server namespaces). `make bench`
# runs it; bench/report.sh turns the latest results into
# docs/benchmarks.md and docs/img/bench-*.png.
#
# Configurations (bench/configs.sh, one function each):
#   plain       (a) IP forwarding in the converter namespace, TCP end to end
#   plain_iperf3 (a') the same driven by iperf3: the traffic tool's ceiling
#   plain_tc, plain_xdp  (a-tc), (a-xdp) plain forwarding with the veth
#               offloads mpconv's TC / XDP datapath needs (TSO off ...)
#   socat       (b) mptcpize run socat -b131072: MPTCP client -> TCP server
#   haproxy     (c) mptcpize run haproxy (mode tcp)
#   mpconv_tc   (d) mpconvd --datapath tc  (client: xfer --convert)
#   plain_tc_gro, mpconv_tc_gro  (a-tc-gro), (d-gro): the same with GRO
#               left on at m1/m2 (mpconvd --gro-interfaces m1,m2)
#   mpconv_xdp  (e) mpconvd --datapath xdp
# Rows that cannot run say "not available yet: <reason>"; a transfer that
# fails is reported as failed, never as a number.
#
# Tests, each repeated BENCH_REPEAT times (repeats interleave the configs):
#   bulk   one connection, BENCH_SIZE upload then BENCH_SIZE download,
#          over link 1 only and (MPTCP clients) over both links:
#          Gbit/s, CPU-s/GB of the whole machine (/proc/stat), of which
#          softirq, the converter's own processes, perf cycles if any
#   conn   BENCH_CONNS connections of BENCH_CONN_SIZE each way, in batches
#          of BENCH_CONN_PARALLEL concurrent ones: connections/s, CPU per
#          connection, time to the answer and connection time percentiles
#   mem    BENCH_IDLE_CONNS idle connections held open: memory per
#          connection (whole machine, converter processes, its sockets)
# plus build/tests/fixture_runner --bench (BPF ns/packet).
#
# Knobs (environment):
#   BENCH_SIZE=3G  BENCH_REPEAT=3  BENCH_CONFIGS="plain plain_iperf3 socat
#   haproxy plain_tc mpconv_tc plain_xdp mpconv_xdp"
#   BENCH_TESTS="bulk conn mem fixture"
#   BENCH_CONNS=2000  BENCH_CONN_PARALLEL=50  BENCH_CONN_SIZE=1k
#   BENCH_IDLE_CONNS=1000 (max 1024)  BENCH_SHORT_LINKS=1 (paths of conn/mem:
#   1 = link 1 only, 12 = both)  BENCH_VERIFY=1 (0: xfer --no-verify)
#   BENCH_TIMEOUT=60 (a bulk transfer not done by then fails and is not
#   repeated)  BENCH_STALL=20 (no progress for that long: failed)  BENCH_QUIET_PCT=10 BENCH_QUIET_WAIT=60 (wait up to that
#   many seconds for background CPU load below that percentage at the
#   start)  BENCH_QUIET_BUDGET=60 (seconds of such waits before the
#   configurations, over the whole run)
#   BENCH_RESULTS=bench/results  BENCH_REPORT=1 (run bench/report.sh)
#   BENCH_CC=reno (TOPO_CC in every namespace; bbr and reno are allowed)
#
# Output: $BENCH_RESULTS/<UTC timestamp>.{csv,meta,json,log}
# Needs root, iproute2, socat, haproxy, mptcpd (mptcpize), gnuplot.
set -eEuo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$BENCH_DIR/../tests/e2e/lib.sh"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
# shellcheck source=bench/configs.sh
. "$BENCH_DIR/configs.sh"

BENCH_SIZE=${BENCH_SIZE:-3G}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_CONFIGS=${BENCH_CONFIGS:-plain plain_iperf3 socat haproxy plain_tc mpconv_tc plain_xdp mpconv_xdp}
BENCH_TESTS=${BENCH_TESTS:-bulk conn mem fixture}
BENCH_CONNS=${BENCH_CONNS:-2000}
BENCH_CONN_PARALLEL=${BENCH_CONN_PARALLEL:-50}
BENCH_CONN_SIZE=${BENCH_CONN_SIZE:-1k}
BENCH_IDLE_CONNS=${BENCH_IDLE_CONNS:-1000}
BENCH_SHORT_LINKS=${BENCH_SHORT_LINKS:-1}
BENCH_VERIFY=${BENCH_VERIFY:-1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-60}
# a transfer that makes no progress for this long fails (xfer server
# --timeout), so a stalled converter costs seconds, not BENCH_TIMEOUT
BENCH_STALL=${BENCH_STALL:-20}
# seconds, summed over the run, that the per-configuration checks may wait
# for a quiet machine (the first check waits up to BENCH_QUIET_WAIT)
BENCH_QUIET_BUDGET=${BENCH_QUIET_BUDGET:-60}
BENCH_QUIET_PCT=${BENCH_QUIET_PCT:-10}
BENCH_QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results}
BENCH_REPORT=${BENCH_REPORT:-1}
# reno, not the host's bbr: with bbr, MPTCP with a single subflow on this
# kernel moved 0.25-0.7 Gbit/s upload (receiver-side drops), with or
# without a proxy, so single-link rows measured that instead of the
# converter (docs/benchmarks.md, "Congestion control")
BENCH_CC=${BENCH_CC:-${TOPO_CC:-reno}}

NCPU=$(nproc)

# ---- helpers -----------------------------------------------------------------------

meta() {
	printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' ' ')" >>"$BENCH_META"
}

say() {
	printf '%s\n' "$*" | tee -a "$BENCH_LOG"
}

now_ns() {
	date +%s%N
}

# size "4G" -> bytes
size_bytes() {
	awk -v s="$1" 'BEGIN {
		n = s + 0; u = toupper(substr(s, length(s)))
		m = (u == "K") ? 1024 : (u == "M") ? 1048576 : (u == "G") ? 1073741824 : (u == "T") ? 1099511627776 : 1
		printf "%.0f", n * m }'
}

# busy_pct SECS: busy CPU of the whole machine over SECS, % of all CPUs
busy_pct() {
	local b0 b1
	read -r b0 _ < <(cpu_snap)
	sleep "$1"
	read -r b1 _ < <(cpu_snap)
	calc "($b1 - $b0) / ($1 * $CLK_TCK * $NCPU) * 100" "%.1f"
}

# busiest: the three processes using most CPU right now (top, 0.5 s)
busiest() {
	top -b -n 2 -d 0.5 -w 200 2>/dev/null | awk '/^top -/ { n++; f = 0 }
		n == 2 && f && c < 3 && $9 + 0 > 0 { printf "%s%s (%s%%)", (c++ ? ", " : ""), $12, $9 }
		n == 2 && $1 == "PID" { f = 1 }'
}

# quiet_wait [MAX_S] [SAMPLE_S]: wait up to MAX_S (BENCH_QUIET_WAIT) for the
# background load to drop below BENCH_QUIET_PCT; QUIET_PCT is the last
# reading (% of all CPUs), QUIET_TOP the busiest processes if it did not
quiet_wait() {
	local max=${1:-$BENCH_QUIET_WAIT} smp=${2:-2} t0
	t0=$(date +%s)
	QUIET_TOP=
	while :; do
		QUIET_PCT=$(busy_pct "$smp")
		awk -v p="$QUIET_PCT" -v m="$BENCH_QUIET_PCT" 'BEGIN { exit !(p < m) }' && return 0
		if [ $(($(date +%s) - t0)) -ge "$max" ]; then
			QUIET_TOP=$(busiest)
			say "WARNING: background load ${QUIET_PCT}% of all CPUs (busiest now: ${QUIET_TOP:-?}); the numbers that follow are disturbed"
			return 1
		fi
		say "waiting for a quiet machine: background load ${QUIET_PCT}% (>= ${BENCH_QUIET_PCT}%)"
	done
}

# client_paths LINKS: 1 = the client opens no extra subflow (link 1 only);
# 12 = the topology's default (subflow endpoint on c2: both links)
client_paths() {
	if [ "$1" = 1 ]; then
		ip -n "$NS_CLIENT" mptcp limits set subflows 0 add_addr_accepted 0
	else
		ip -n "$NS_CLIENT" mptcp limits set subflows 8 add_addr_accepted 8
	fi
}

# wait_reaped: the converter's forked children have exited (their CPU time
# is in the parent's cutime/cstime only once reaped)
wait_reaped() {
	local p i
	for p in "${CFG_PIDS[@]}"; do
		for ((i = 0; i < 100; i++)); do
			[ "$(proc_children_n "$p")" -eq 0 ] && break
			sleep 0.05
		done
	done
}

VERIFY_ARGS=()
SERVER_VERIFY_ARGS=()
declare -A BULK_GIVEUP=()

# ---- bulk ----------------------------------------------------------------------------

# _bulk_xfer DIR NAME: one verified xfer transfer of BENCH_SIZE in DIR;
# sets BULK_OK, BULK_GBPS, BULK_BYTES, BULK_SUBFLOWS, BULK_WHY
_bulk_xfer() {
	local up=0 down=0
	if [ "$1" = up ]; then up=$BENCH_SIZE; else down=$BENCH_SIZE; fi
	BULK_OK=0 BULK_WHY=''
	if xfer_start "$NS_CLIENT" "$NS_SERVER" --listen "$CFG_LISTEN" \
		--connect "$CFG_CONNECT" --port "$CFG_PORT" --up "$up" --down "$down" \
		--timeout "$BENCH_TIMEOUT" --name "$2" \
		--server-arg --no-hash "${SERVER_VERIFY_ARGS[@]}" \
		--server-arg --timeout --server-arg "$BENCH_STALL" \
		-- --no-hash "${VERIFY_ARGS[@]}" "${CFG_CLIENT_ARGS[@]}" >>"$BENCH_LOG" 2>&1 &&
		xfer_wait >>"$BENCH_LOG" 2>&1 && [ "$XFER_OK" = 1 ]; then
		BULK_OK=1
	else
		# the last FAILED line and the first two detail lines under it
		BULK_WHY=$(awk '/FAILED|failed to start/ { b = $0; n = 0; next }
			n < 2 && /^    / { sub(/^ +/, ""); b = b " | " $0; n++ } END { print b }' "$BENCH_LOG")
	fi
	if [ "$1" = up ]; then
		BULK_GBPS=$(calc "${XFER_UP_MBPS:-0} / 1000") BULK_BYTES=${XFER_UP_BYTES:-0}
	else
		BULK_GBPS=$(calc "${XFER_DOWN_MBPS:-0} / 1000") BULK_BYTES=${XFER_DOWN_BYTES:-0}
	fi
	BULK_SUBFLOWS=${XFER_SUBFLOWS:-0}
}

# _bulk_iperf3 DIR NAME: the same with iperf3 (-n BENCH_SIZE, -R for the
# download), for the tool-ceiling reference row
_bulk_iperf3() {
	local want out spid rx bps rev=()
	want=$(size_bytes "$BENCH_SIZE")
	[ "$1" = up ] || rev=(-R)
	out=$TOPO_TMP/$2.iperf3.json
	BULK_OK=0 BULK_WHY='' BULK_GBPS=0 BULK_BYTES=0 BULK_SUBFLOWS=0
	bg_start "$NS_SERVER" iperf3 -s -1 -B "$CFG_LISTEN" -p "$CFG_PORT" >"$out.server" 2>&1
	spid=$BG_PID
	if ! wait_listen "$NS_SERVER" "$CFG_PORT" "$spid"; then
		BULK_WHY="iperf3 server did not start: $(_log_tail "$out.server")"
		return 0
	fi
	ip netns exec "$NS_CLIENT" iperf3 -c "$CFG_CONNECT" -p "$CFG_PORT" -n "$want" \
		"${rev[@]}" -J >"$out" 2>>"$BENCH_LOG" || true
	wait_pid_timeout "$spid" 10 || bg_stop "$spid"
	# end.sum_received: {"start", "end", "seconds", "bytes", "bits_per_second", ...}
	# (its byte count comes from per-interval statistics and may differ
	# from -n by a few blocks either way)
	read -r rx bps < <(awk '/"sum_received"/ { f = 1 } f && /"bytes"/ { gsub(/[^0-9.]/, "", $2); b = $2 }
		f && /"bits_per_second"/ { gsub(/[^0-9.e+]/, "", $2); print b, $2; exit }' "$out") || true
	if [ -z "${rx:-}" ] || [ -z "${bps:-}" ] ||
		! awk -v r="$rx" -v w="$want" 'BEGIN { d = r - w; if (d < 0) d = -d; exit !(d <= w / 100) }'; then
		BULK_WHY="iperf3 received ${rx:-nothing} of $want bytes $(grep -o '"error":[^,]*' "$out" | head -1 || true)"
		return 0
	fi
	printf 'iperf3 %s: %s bytes at %s bit/s\n' "$2" "$rx" "$bps" >>"$BENCH_LOG"
	BULK_OK=1 BULK_BYTES=$rx BULK_GBPS=$(calc "$bps / 1e9")
}

# bench_bulk CFG LINKS DIR REP
bench_bulk() {
	local cfg=$1 links=$2 dir=$3 rep=$4 test="bulk_l${2}_$3"
	local b0 s0 b1 s1 p0 p1 t0 t1 bt0 bc0 bt1 bc1 perf gbps bytes gb line
	if [ -n "${BULK_GIVEUP[$cfg/$test]:-}" ]; then
		bench_fail "$cfg" "$test" "$rep" "not repeated: timed out in run ${BULK_GIVEUP[$cfg/$test]}"
		return 0
	fi
	[ "$CFG_MPTCP" = 1 ] && client_paths "$links"

	perf_start "$TOPO_TMP/perf.$cfg.$test.$rep"
	read -r bt0 bc0 < <(bpf_stats_snap "${CFG_BPF_IDS[@]}")
	p0=$(proc_ticks "${CFG_PIDS[@]}")
	read -r b0 s0 < <(cpu_snap)
	t0=$(now_ns)
	"_bulk_$CFG_TOOL" "$dir" "$cfg-$test-$rep"
	t1=$(now_ns)
	wait_reaped
	read -r b1 s1 < <(cpu_snap)
	p1=$(proc_ticks "${CFG_PIDS[@]}")
	read -r bt1 bc1 < <(bpf_stats_snap "${CFG_BPF_IDS[@]}")
	perf=$(perf_stop)

	if [ "$BULK_OK" != 1 ]; then
		bench_fail "$cfg" "$test" "$rep" "transfer failed: $BULK_WHY"
		# too slow for BENCH_TIMEOUT: once is enough
		case $BULK_WHY in *timeout*) BULK_GIVEUP[$cfg/$test]=$rep ;; esac
		return 0
	fi
	gbps=$BULK_GBPS bytes=$BULK_BYTES
	gb=$(calc "$bytes / 1e9" "%.6f")
	bench_rec "$cfg" "$test" gbps "$rep" "$gbps"
	bench_rec "$cfg" "$test" cpu_s_gb "$rep" "$(calc "($b1 - $b0) / $CLK_TCK / $gb")"
	bench_rec "$cfg" "$test" softirq_s_gb "$rep" "$(calc "($s1 - $s0) / $CLK_TCK / $gb")"
	bench_rec "$cfg" "$test" wall_s "$rep" "$(calc "($t1 - $t0) / 1e9")"
	line="$gbps Gbit/s, $(calc "($b1 - $b0) / $CLK_TCK / $gb") CPU-s/GB (softirq $(calc "($s1 - $s0) / $CLK_TCK / $gb"))"
	if [ ${#CFG_PIDS[@]} -gt 0 ]; then
		bench_rec "$cfg" "$test" conv_cpu_s_gb "$rep" "$(calc "($p1 - $p0) / $CLK_TCK / $gb")"
		line="$line, converter processes $(calc "($p1 - $p0) / $CLK_TCK / $gb")"
	fi
	if [ ${#CFG_BPF_IDS[@]} -gt 0 ] && [ "$bc1" -gt "$bc0" ]; then
		bench_rec "$cfg" "$test" bpf_s_gb "$rep" "$(calc "($bt1 - $bt0) / 1e9 / $gb")"
		bench_rec "$cfg" "$test" bpf_ns_pkt "$rep" "$(calc "($bt1 - $bt0) / ($bc1 - $bc0)" "%.1f")"
		line="$line, BPF $(calc "($bt1 - $bt0) / ($bc1 - $bc0)" "%.1f") ns/packet"
	fi
	if [ "$CFG_MPTCP" = 1 ]; then
		bench_rec "$cfg" "$test" subflows "$rep" "$BULK_SUBFLOWS"
		line="$line, $BULK_SUBFLOWS data subflow(s)"
	fi
	if [ -n "$perf" ]; then
		local cyc ins
		read -r cyc ins <<<"$perf"
		bench_rec "$cfg" "$test" gcycles_gb "$rep" "$(calc "$cyc / 1e9 / $gb")"
		bench_rec "$cfg" "$test" ipc "$rep" "$(calc "$ins / $cyc")"
		line="$line, $(calc "$cyc / 1e9 / $gb") Gcycles/GB"
	fi
	say "  $test: $line"
}

# ---- connection rate -------------------------------------------------------------

# the client side of the connection-rate test, run inside NS_CLIENT:
# BATCHES runs of `xfer client --parallel K`, one after the other
# shellcheck disable=SC2016 # expanded by the inner bash
CONN_LOOP='x=$1 dir=$2 n=$3; shift 3; f=0
for ((i = 0; i < n; i++)); do
	"$x" client "$@" >"$dir/c.$i.json" 2>>"$dir/client.err" || f=$((f + 1))
done
echo "$f" >"$dir/fails"'

# bench_conn CFG REP
bench_conn() {
	local cfg=$1 rep=$2 test=conn k=$BENCH_CONN_PARALLEL batches total
	local dir spid b0 b1 s0 s1 p0 p1 t0 t1 fails okc oks el a50 a90 a99 l50 l99
	batches=$(((BENCH_CONNS + k - 1) / k))
	total=$((batches * k))
	dir=$TOPO_TMP/conn.$cfg.$rep
	mkdir -p "$dir"
	[ "$CFG_MPTCP" = 1 ] && client_paths "$BENCH_SHORT_LINKS"

	bg_start "$NS_SERVER" "$XFER" server --listen "$CFG_LISTEN:$CFG_PORT" \
		--count "$total" --timeout "$BENCH_STALL" --no-hash >"$dir/server.jsonl" 2>"$dir/server.err"
	spid=$BG_PID
	if ! wait_listen "$NS_SERVER" "$CFG_PORT" "$spid"; then
		bench_fail "$cfg" "$test" "$rep" "xfer server did not start: $(_log_tail "$dir/server.err")"
		return 0
	fi
	p0=$(proc_ticks "${CFG_PIDS[@]}")
	read -r b0 s0 < <(cpu_snap)
	t0=$(now_ns)
	ip netns exec "$NS_CLIENT" bash -c "$CONN_LOOP" conn-loop "$XFER" "$dir" "$batches" \
		--connect "$CFG_CONNECT:$CFG_PORT" --parallel "$k" --up "$BENCH_CONN_SIZE" \
		--down "$BENCH_CONN_SIZE" --no-hash --json --timeout 60 "${CFG_CLIENT_ARGS[@]}" || true
	t1=$(now_ns)
	wait_reaped
	read -r b1 s1 < <(cpu_snap)
	p1=$(proc_ticks "${CFG_PIDS[@]}")
	wait_pid_timeout "$spid" 20 || bg_stop "$spid"

	fails=$(cat "$dir/fails" 2>/dev/null || echo "$batches")
	# connections the clients report ok, and server lines that are ok
	okc=$(cat "$dir"/c.*.json 2>/dev/null | grep -o '"total":{"connections":[0-9]*,"ok":[0-9]*' |
		awk -F: '{ s += $NF } END { print s + 0 }' || true)
	oks=$(grep -c '"ok":true' "$dir/server.jsonl" || true)
	if [ "$fails" != 0 ] || [ "$okc" != "$total" ] || [ "$oks" != "$total" ]; then
		bench_fail "$cfg" "$test" "$rep" "$okc/$total client and $oks/$total server connections ok, $fails failed batches: $(cat "$dir"/c.*.json 2>/dev/null | grep -o '"error":"[^"]*"' | head -n 2 | tr '\n' ' ' || true)$(_log_tail "$dir/client.err")"
		return 0
	fi
	el=$(calc "($t1 - $t0) / 1e9" "%.6f")
	bench_rec "$cfg" "$test" conns_s "$rep" "$(calc "$total / $el" "%.0f")"
	bench_rec "$cfg" "$test" cpu_ms_conn "$rep" "$(calc "($b1 - $b0) / $CLK_TCK * 1000 / $total")"
	bench_rec "$cfg" "$test" softirq_ms_conn "$rep" "$(calc "($s1 - $s0) / $CLK_TCK * 1000 / $total")"
	[ ${#CFG_PIDS[@]} -gt 0 ] &&
		bench_rec "$cfg" "$test" conv_cpu_ms_conn "$rep" "$(calc "($p1 - $p0) / $CLK_TCK * 1000 / $total")"
	# per connection, from the client's JSON (xfer times the transfer from
	# the moment connect() returned; the 3-decimal rates keep precision
	# that the millisecond duration_s field lacks):
	#   connect = connect_s: connect() until the handshake completed with
	#             whoever answers (the proxy for (b)/(c)), 1 ms resolution
	#   answer  = bytes_received * 8 / rate_received_mbps: from there to
	#             the last byte of the 1 KiB answer (one segment, so the
	#             first byte as well): request through the converter, the
	#             converter's own connect to the server, answer back
	#   ttfb    = connect + answer: connect() start to the answer's byte
	#   life    = (sent + received) * 8 / rate_mbps: from the connect to
	#             the close, FIN exchange included
	cat "$dir"/c.*.json | awk '{
		n = split($0, part, /\{"role":"client","index":/)
		for (i = 2; i <= n; i++) {
			p = part[i]
			tx = g(p, "bytes_sent"); rx = g(p, "bytes_received"); cs = g(p, "connect_s")
			r = g(p, "rate_mbps"); rr = g(p, "rate_received_mbps")
			if (rr > 0 && r > 0) {
				a = rx * 8 / rr / 1000
				printf "%.3f %.6f %.6f %.6f\n", cs * 1000, a, cs * 1000 + a, (tx + rx) * 8 / r / 1000
			}
		}
	}
	function g(s, k) {
		if (match(s, "\"" k "\":[0-9.]+")) return substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3) + 0
		return 0
	}' >"$dir/lat"
	local nlat c50 c99 t50 t90 t99
	nlat=$(wc -l <"$dir/lat")
	if [ "$nlat" -ne "$total" ]; then
		bench_fail "$cfg" "$test" "$rep" "timings of $nlat/$total connections in the client JSON"
		return 0
	fi
	read -r c50 c99 <<<"$(awk '{ print $1 }' "$dir/lat" | percentiles 50 99)"
	read -r a50 a90 a99 <<<"$(awk '{ print $2 }' "$dir/lat" | percentiles 50 90 99)"
	read -r t50 t90 t99 <<<"$(awk '{ print $3 }' "$dir/lat" | percentiles 50 90 99)"
	read -r l50 l99 <<<"$(awk '{ print $4 }' "$dir/lat" | percentiles 50 99)"
	bench_rec "$cfg" "$test" connect_p50_ms "$rep" "$c50"
	bench_rec "$cfg" "$test" connect_p99_ms "$rep" "$c99"
	bench_rec "$cfg" "$test" answer_p50_ms "$rep" "$a50"
	bench_rec "$cfg" "$test" answer_p90_ms "$rep" "$a90"
	bench_rec "$cfg" "$test" answer_p99_ms "$rep" "$a99"
	bench_rec "$cfg" "$test" ttfb_p50_ms "$rep" "$t50"
	bench_rec "$cfg" "$test" ttfb_p90_ms "$rep" "$t90"
	bench_rec "$cfg" "$test" ttfb_p99_ms "$rep" "$t99"
	bench_rec "$cfg" "$test" life_p50_ms "$rep" "$l50"
	bench_rec "$cfg" "$test" life_p99_ms "$rep" "$l99"
	say "  conn: $(calc "$total / $el" "%.0f") connections/s ($total in $el s, $k parallel), $(calc "($b1 - $b0) / $CLK_TCK * 1000 / $total") CPU-ms/connection, connect-to-answer p50/p90/p99 $t50/$t90/$t99 ms"
}

# ---- memory per idle connection --------------------------------------------------

# bench_mem CFG REP
bench_mem() {
	local cfg=$1 rep=$2 test=mem n=$BENCH_IDLE_CONNS dir spid cpid i cnt prev
	local m0 m1 sl0 sl1 k0 k1 pss0 pss1 tcp0 mp0 sk0 tcp1 mp1 sk1 otcp omp sum
	dir=$TOPO_TMP/mem.$cfg.$rep
	mkdir -p "$dir"
	[ "$CFG_MPTCP" = 1 ] && client_paths "$BENCH_SHORT_LINKS"
	bg_start "$NS_SERVER" "$XFER" server --listen "$CFG_LISTEN:$CFG_PORT" \
		--count "$n" --timeout 120 --no-hash >"$dir/server.jsonl" 2>"$dir/server.err"
	spid=$BG_PID
	if ! wait_listen "$NS_SERVER" "$CFG_PORT" "$spid"; then
		bench_fail "$cfg" "$test" "$rep" "xfer server did not start: $(_log_tail "$dir/server.err")"
		return 0
	fi
	# a stopped server: the kernel completes the handshakes and queues
	# the connections, nobody answers, so every connection stays open
	# and idle (the client's 32 + 1024 bytes sit in the server's queue)
	kill -STOP "$spid"
	sleep 1
	m0=$(mem_used_kib) sl0=$(mem_field_kib Slab) k0=$(mem_kernel_kib) pss0=$(proc_pss_kib "${CFG_PIDS[@]}")
	read -r tcp0 mp0 sk0 < <(ns_sock_mem "$NS_CONV")
	bg_start "$NS_CLIENT" "$XFER" client --connect "$CFG_CONNECT:$CFG_PORT" \
		--parallel "$n" --up 1k --down 1k --no-hash --json --timeout 120 \
		"${CFG_CLIENT_ARGS[@]}" >"$dir/client.json" 2>"$dir/client.err"
	cpid=$BG_PID
	# all n queued at the server, and the count stable for 1 s
	prev=-1
	for ((i = 0; i < 600; i++)); do
		cnt=$(ns_established "$NS_SERVER" "$CFG_PORT")
		if [ "$cnt" -ge "$n" ]; then
			[ "$cnt" = "$prev" ] && break
			prev=$cnt
			sleep 1
			continue
		fi
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	m1=$(mem_used_kib) sl1=$(mem_field_kib Slab) k1=$(mem_kernel_kib) pss1=$(proc_pss_kib "${CFG_PIDS[@]}")
	read -r tcp1 mp1 sk1 < <(ns_sock_mem "$NS_CONV")
	kill -CONT "$spid"
	wait_pid_timeout "$cpid" 150 || { bg_stop "$cpid"; }
	wait_pid_timeout "$spid" 30 || bg_stop "$spid"
	wait_reaped
	sum=$("$XFER" compare "$dir/client.json" "$dir/server.jsonl" 2>/dev/null || true)
	case " $sum " in
	*" ok=1 "*) ;;
	*)
		bench_fail "$cfg" "$test" "$rep" "$cnt/$n connections established; afterwards: ${sum:-no result} $(_log_tail "$dir/client.err")"
		return 0
		;;
	esac
	if [ "$cnt" -lt "$n" ]; then
		bench_fail "$cfg" "$test" "$rep" "only $cnt/$n connections were open at once"
		return 0
	fi
	bench_rec "$cfg" "$test" machine_kib_conn "$rep" "$(calc "($m1 - $m0) / $n" "%.2f")"
	bench_rec "$cfg" "$test" slab_kib_conn "$rep" "$(calc "($sl1 - $sl0) / $n" "%.2f")"
	bench_rec "$cfg" "$test" kernel_kib_conn "$rep" "$(calc "($k1 - $k0) / $n" "%.2f")"
	local line
	line="machine $(calc "($m1 - $m0) / $n" "%.2f") KiB/connection (kernel $(calc "($k1 - $k0) / $n" "%.2f"), of which slab $(calc "($sl1 - $sl0) / $n" "%.2f"))"
	if [ ${#CFG_PIDS[@]} -gt 0 ]; then
		otcp=$(slab_objsize TCP) omp=$(slab_objsize MPTCP)
		bench_rec "$cfg" "$test" conv_proc_kib_conn "$rep" "$(calc "($pss1 - $pss0) / $n" "%.2f")"
		bench_rec "$cfg" "$test" conv_socks_conn "$rep" "$(calc "($tcp1 - $tcp0 + $mp1 - $mp0) / $n" "%.2f")"
		bench_rec "$cfg" "$test" conv_skbuf_kib_conn "$rep" "$(calc "($sk1 - $sk0) / 1024 / $n" "%.2f")"
		bench_rec "$cfg" "$test" conv_sockobj_kib_conn "$rep" \
			"$(calc "(($tcp1 - $tcp0) * $otcp + ($mp1 - $mp0) * $omp) / 1024 / $n" "%.2f")"
		line="$line; converter: processes $(calc "($pss1 - $pss0) / $n" "%.2f") KiB Pss, $(calc "($tcp1 - $tcp0 + $mp1 - $mp0) / $n" "%.2f") sockets, buffers $(calc "($sk1 - $sk0) / 1024 / $n" "%.2f") KiB, socket objects ~$(calc "(($tcp1 - $tcp0) * $otcp + ($mp1 - $mp0) * $omp) / 1024 / $n" "%.2f") KiB"
	fi
	say "  mem: $line"
}

# ---- BPF per-packet cost ------------------------------------------------------------

bench_fixture() {
	local rep=$1 out rc=0 fr=$FIXTURE_RUNNER notok
	if [ ! -x "$fr" ]; then
		bench_na fixture all "build/tests/fixture_runner not built (make build/tests/fixture_runner)"
		return 1
	fi
	out=$("$fr" --bench 2>&1) || rc=$?
	if ! printf '%s\n' "$out" | grep '^# bench .* ns/packet' >/dev/null; then
		bench_fail fixture all "$rep" "fixture_runner --bench (exit $rc) printed no bench lines: $(printf '%s\n' "$out" | tail -n 2 | tr '\n' ' ')"
		return 0
	fi
	if [ "$rc" -ne 0 ] && [ "$rep" = 1 ]; then
		# the per-packet lines are still recorded: the bench programs
		# loaded and ran; which fixture failed goes into the report
		notok=$(printf '%s\n' "$out" | grep '^not ok' | head -3 | tr '\n' ';' || true)
		meta fixture_status "exit $rc: $(printf '%s\n' "$out" | grep '^# fixtures:' | sed 's/^# //' || true); ${notok%;}"
	fi
	# "# bench <prog> <what...> <ns> ns/packet[ (detail)][, <what...> <ns>
	# ns/packet ...][, N runs each]": one sample per "<ns> ns/packet"
	printf '%s\n' "$out" | awk -v rep="$rep" '$1 == "#" && $2 == "bench" {
		prog = $3; rest = $0; sub(/^# bench +[^ ]+ +/, "", rest)
		while (match(rest, /[0-9.]+ ns\/packet( \([^)]*\))?/)) {
			what = substr(rest, 1, RSTART - 1); m = substr(rest, RSTART, RLENGTH)
			rest = substr(rest, RSTART + RLENGTH)
			sub(/^[ ,]+/, "", what); sub(/ +$/, "", what)
			split(m, a, " "); detail = m; sub(/^[0-9.]+ ns\/packet ?/, "", detail)
			w = what (detail != "" ? " " detail : ""); gsub(/,/, ";", w); gsub(/ +/, "_", w)
			printf "fixture,%s,%s,%s,%s,ok,\n", prog, w, rep, a[1]
		}
	}' >"$TOPO_TMP/fixture.$rep.csv"
	cat "$TOPO_TMP/fixture.$rep.csv" >>"$BENCH_CSV"
	say "  fixture_runner --bench (exit $rc): $(awk -F, '{ printf "%s%s %s %s ns", (n++ ? ", " : ""), $2, $3, $5 }' "$TOPO_TMP/fixture.$rep.csv")"
}

# ---- main ----------------------------------------------------------------------------

require_root
require_mptcp
require_cmd ip tc nft ethtool ss nstat awk nsenter socat haproxy mptcpize bpftool

if [ ! -x "$XFER" ]; then
	make -C "$MPC_ROOT" --no-print-directory build/tools/xfer >&2 || die "cannot build $XFER"
fi
if [[ " $BENCH_TESTS " == *" fixture "* ]] && [ ! -x "$MPC_ROOT/build/tests/fixture_runner" ]; then
	make -C "$MPC_ROOT" --no-print-directory build/tests/fixture_runner >&2 ||
		warn "cannot build build/tests/fixture_runner: the BPF rows will say so"
fi
FIXTURE_RUNNER=$MPC_ROOT/build/tests/fixture_runner
[ "$BENCH_IDLE_CONNS" -le 1024 ] || die "BENCH_IDLE_CONNS at most 1024 (xfer --parallel)"
[ "$BENCH_CONN_PARALLEL" -le 1024 ] || die "BENCH_CONN_PARALLEL at most 1024"

mkdir -p "$BENCH_RESULTS"
TS=$(date -u +%Y%m%dT%H%M%SZ)
BENCH_CSV=$BENCH_RESULTS/$TS.csv
BENCH_META=$BENCH_RESULTS/$TS.meta
BENCH_LOG=$BENCH_RESULTS/$TS.log
BENCH_JSON=$BENCH_RESULTS/$TS.json
export BENCH_CSV BENCH_LOG
echo "config,test,metric,rep,value,status,note" >"$BENCH_CSV"
: >"$BENCH_META"
: >"$BENCH_LOG"
T_START=$(date +%s)

if [ "$BENCH_VERIFY" != 1 ]; then
	VERIFY_ARGS=(--no-verify)
	SERVER_VERIFY_ARGS=(--server-arg --no-verify)
fi
# 1000+ sockets per process (xfer --parallel, haproxy)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

commit=$(git -C "$MPC_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$MPC_ROOT" status --porcelain 2>/dev/null | head -1)" ]; then dirty=yes; else dirty=no; fi
meta timestamp "$TS"
meta date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
meta kernel "$(uname -r)"
meta cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
meta ncpu "$NCPU"
meta mem_total_kib "$(mem_field_kib MemTotal)"
meta commit "$commit"
meta dirty "$dirty"
meta clk_tck "$CLK_TCK"
meta socat "$(socat -V 2>/dev/null | awk '/socat version/ { print $3; exit }')"
meta haproxy "$(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')"
meta knobs "BENCH_QUIET_PCT=$BENCH_QUIET_PCT BENCH_SIZE=$BENCH_SIZE BENCH_REPEAT=$BENCH_REPEAT BENCH_CONNS=$BENCH_CONNS BENCH_CONN_PARALLEL=$BENCH_CONN_PARALLEL BENCH_CONN_SIZE=$BENCH_CONN_SIZE BENCH_IDLE_CONNS=$BENCH_IDLE_CONNS BENCH_SHORT_LINKS=$BENCH_SHORT_LINKS BENCH_VERIFY=$BENCH_VERIFY BENCH_CC=$BENCH_CC BENCH_STALL=$BENCH_STALL BENCH_TIMEOUT=$BENCH_TIMEOUT BENCH_TESTS='$BENCH_TESTS' BENCH_CONFIGS='$BENCH_CONFIGS'"
meta configs "$BENCH_CONFIGS"
for c in $BENCH_CONFIGS; do
	declare -F "bench_$c" >/dev/null || die "no configuration function bench_$c (bench/configs.sh)"
	meta "label.$c" "$("bench_$c" label)"
done

say "mpconv benchmarks $TS: kernel $(uname -r), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) x $NCPU, commit $commit (dirty: $dirty)"
say "knobs: $(awk -F= '$1 == "knobs" { print substr($0, 7) }' "$BENCH_META")"

if perf_probe; then meta perf "cycles,instructions system-wide"; else meta perf "unavailable: $PERF_WHY"; fi
say "perf: $(awk -F= '$1 == "perf" { print substr($0, 6) }' "$BENCH_META")"

quiet_wait || true
meta background_pct_start "$QUIET_PCT"
meta background_top "$QUIET_TOP"

TOPO_SERVER_DEFAULT_ROUTE=1
TOPO_CC=$BENCH_CC
topo_create
topo_on_destroy 'perf_stop >/dev/null'
# the binaries under test, copied: others may rebuild the shared tree
# while this runs (an exec of a half-written file fails)
mkdir -p "$TOPO_TMP/bin"
cp "$XFER" "$TOPO_TMP/bin/xfer"
XFER=$TOPO_TMP/bin/xfer
export XFER
meta xfer_sha256 "$(sha256sum "$XFER" | cut -c1-16)"
if [ -x "$BENCH_MPCONVD" ]; then
	cp "$BENCH_MPCONVD" "$TOPO_TMP/bin/mpconvd"
	BENCH_MPCONVD=$TOPO_TMP/bin/mpconvd
	meta mpconvd_sha256 "$(sha256sum "$BENCH_MPCONVD" | cut -c1-16)"
fi
meta congestion_control "$(ip netns exec "$NS_CLIENT" sysctl -n net.ipv4.tcp_congestion_control)"
meta offloads "$(ip netns exec "$NS_CONV" ethtool -k "$IF_M1" | awk '$1 ~ /^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):$/ { printf "%s %s ", $1, $2 }')"
BPF_STATS_OLD=

declare -A NA_REASON=()
QUIET_BUDGET=$BENCH_QUIET_BUDGET
for ((rep = 1; rep <= BENCH_REPEAT; rep++)); do
	for cfg in $BENCH_CONFIGS; do
		[ -z "${NA_REASON[$cfg]:-}" ] || continue
		say "=== repeat $rep/$BENCH_REPEAT: $("bench_$cfg" label)"
		# other work on the machine shows in every whole-machine number:
		# sample it before each configuration (wait up to 20 s for quiet)
		qt0=$(date +%s)
		quiet_wait "$((QUIET_BUDGET < 20 ? QUIET_BUDGET : 20))" 1 || true
		QUIET_BUDGET=$((QUIET_BUDGET - ($(date +%s) - qt0)))
		[ "$QUIET_BUDGET" -gt 0 ] || QUIET_BUDGET=0
		bench_rec "$cfg" background bg_pct "$rep" "$QUIET_PCT"
		[ -z "$QUIET_TOP" ] || meta "background_top.$cfg.$rep" "$QUIET_TOP"
		if ! "bench_$cfg" start; then
			NA_REASON[$cfg]=${CFG_NA:-unknown}
			bench_na "$cfg" all "${CFG_NA:-unknown}"
			say "  not available yet: ${CFG_NA:-unknown}"
			continue
		fi
		if [ "$rep" = 1 ]; then
			meta "cmd.$cfg" "$CFG_CMD"
			[ -z "$CFG_REF" ] || meta "ref.$cfg" "$CFG_REF"
			[ -z "$CFG_MAPS" ] || meta "maps.$cfg" "$CFG_MAPS"
		fi
		if [ ${#CFG_BPF_IDS[@]} -gt 0 ] && [ -z "$BPF_STATS_OLD" ]; then
			# BPF run-time statistics for the converter's share; global
			# switch, restored on exit
			BPF_STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
			sysctl -qw kernel.bpf_stats_enabled=1
			topo_on_destroy "sysctl -qw kernel.bpf_stats_enabled=$BPF_STATS_OLD"
		fi
		for t in $BENCH_TESTS; do
			[ "$t" != fixture ] || continue
			[[ " $CFG_TESTS " == *" $t "* ]] || [ "$rep" -gt 1 ] ||
				bench_na "$cfg" "$t" "does not apply to this row"
		done
		if [[ " $BENCH_TESTS " == *" bulk "* ]] && [[ " $CFG_TESTS " == *" bulk "* ]]; then
			for links in 1 12; do
				if [ "$links" = 12 ] && [ "$CFG_MPTCP" != 1 ]; then
					[ "$rep" -gt 1 ] || {
						bench_na "$cfg" bulk_l12_up "one TCP connection takes one path"
						bench_na "$cfg" bulk_l12_down "one TCP connection takes one path"
					}
					continue
				fi
				bench_bulk "$cfg" "$links" up "$rep"
				bench_bulk "$cfg" "$links" down "$rep"
			done
			[ "$CFG_MPTCP" = 1 ] && client_paths 12
		fi
		if [[ " $BENCH_TESTS " == *" conn "* ]] && [[ " $CFG_TESTS " == *" conn "* ]]; then
			bench_conn "$cfg" "$rep"
		fi
		if [[ " $BENCH_TESTS " == *" mem "* ]] && [[ " $CFG_TESTS " == *" mem "* ]]; then
			if [ -n "$CFG_MEM_NA" ]; then
				[ "$rep" -gt 1 ] || bench_na "$cfg" mem "$CFG_MEM_NA"
			else
				bench_mem "$cfg" "$rep"
			fi
		fi
		[ "$CFG_MPTCP" = 1 ] && client_paths 12
		"bench_$cfg" stop
	done
done

if [[ " $BENCH_TESTS " == *" fixture "* ]]; then
	say "=== BPF per-packet cost (BPF_PROG_TEST_RUN)"
	# (it loads build/bpf/*.bpf.o, which a concurrent build may rewrite;
	# a failure then shows as such)
	for ((rep = 1; rep <= BENCH_REPEAT; rep++)); do
		bench_fixture "$rep" || break
	done
fi

topo_destroy
quiet_wait 0 || true
meta background_pct_end "$QUIET_PCT"
meta background_top_end "$QUIET_TOP"
meta duration_s "$(($(date +%s) - T_START))"
bench_write_json "$BENCH_META" "$BENCH_CSV" "$BENCH_JSON"
say "results: $BENCH_JSON (+ .csv .meta .log), $(($(date +%s) - T_START)) s"
if [ "$BENCH_REPORT" = 1 ]; then
	"$BENCH_DIR/report.sh" "$BENCH_RESULTS/$TS"
fi
