# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# bench/lib.sh - measurement helpers for bench/run.sh (sourced after
# tests/e2e/lib.sh). Nothing here builds topology: that is lib.sh's job.
#
#   bench_rec CFG TEST METRIC REP VALUE     one sample into $BENCH_CSV
#   bench_fail CFG TEST REP REASON          a measurement that failed
#   bench_na CFG TEST REASON                not available (no number)
#   cpu_snap                                "BUSY SOFTIRQ" ticks, whole machine
#   proc_ticks PID...                       utime+stime(+children) of trees
#   proc_pss_kib PID...                     Pss of process trees
#   mem_used_kib / mem_field_kib NAME       /proc/meminfo
#   perf_start / perf_stop                  perf stat -a cycles,instructions
#   bpf_stats_snap NS                       run_time_ns run_cnt of attached progs
# shellcheck disable=SC2034 # CLK_TCK, PERF_WHY: read by bench/run.sh

CLK_TCK=$(getconf CLK_TCK)

# ---- results ----------------------------------------------------------------

# CSV columns: config,test,metric,rep,value,status,note
# status: ok (value is a number) | failed (the measurement ran, its transfer
# failed: no number) | na (could not run at all: note says why)
_csv_clean() {
	printf '%s' "$*" | tr ',\n\r"' ';  '"'"
}

bench_rec() {
	printf '%s,%s,%s,%s,%s,ok,\n' "$1" "$2" "$3" "$4" "$5" >>"$BENCH_CSV"
}

bench_fail() {
	printf '%s,%s,*,%s,,failed,%s\n' "$1" "$2" "$3" "$(_csv_clean "$4")" >>"$BENCH_CSV"
	printf '  %s %s rep %s: FAILED: %s\n' "$1" "$2" "$3" "$4"
}

bench_na() {
	printf '%s,%s,*,*,,na,%s\n' "$1" "$2" "$(_csv_clean "$3")" >>"$BENCH_CSV"
}

# ---- arithmetic ----------------------------------------------------------------

# calc EXPR [FORMAT]: awk arithmetic, default format %.3f
calc() {
	awk "BEGIN { printf \"${2:-%.3f}\", ($1) }"
}

# ---- CPU -------------------------------------------------------------------------

# cpu_snap: "BUSY SOFTIRQ" in clock ticks (USER_HZ) since boot, all CPUs:
# busy = user + nice + system + irq + softirq (guest time is inside user;
# idle, iowait and steal are not busy)
cpu_snap() {
	awk '$1 == "cpu" { printf "%.0f %.0f\n", $2 + $3 + $4 + $7 + $8, $8; exit }' /proc/stat
}

# proc_ticks PID...: sum over the process trees of utime + stime + cutime +
# cstime (clock ticks). cutime/cstime hold children that exited and were
# reaped, live children count with their own times, so the delta between
# two snapshots is the CPU the whole tree used in between.
proc_ticks() {
	local p files=()
	for p in "$@"; do
		while read -r p; do
			files+=("/proc/$p/stat")
		done < <(_proc_tree "$p")
	done
	[ ${#files[@]} -gt 0 ] || { echo 0; return 0; }
	# the comm field may hold spaces: count fields after the last ')'
	cat "${files[@]}" 2>/dev/null | awk '{
		sub(/^.*\) /, "")
		# now $1 = state (field 3); utime = field 14 -> $12
		s += $12 + $13 + $14 + $15
	} END { printf "%.0f\n", s }'
}

# proc_children_n PID: number of live children
proc_children_n() {
	cat /proc/"$1"/task/*/children 2>/dev/null | wc -w
}

# proc_pss_kib PID...: Pss (kB) summed over the process trees
proc_pss_kib() {
	local p files=()
	for p in "$@"; do
		while read -r p; do
			files+=("/proc/$p/smaps_rollup")
		done < <(_proc_tree "$p")
	done
	[ ${#files[@]} -gt 0 ] || { echo 0; return 0; }
	cat "${files[@]}" 2>/dev/null | awk '$1 == "Pss:" { s += $2 } END { print s + 0 }'
}

# ---- memory ------------------------------------------------------------------------

# mem_used_kib: MemTotal - MemFree - Buffers - Cached (anonymous memory,
# slab, page tables, kernel stacks, ...: what connections cost, without the
# page cache)
mem_used_kib() {
	awk '{ v[$1] = $2 } END {
		print v["MemTotal:"] - v["MemFree:"] - v["Buffers:"] - v["Cached:"] }' /proc/meminfo
}

# mem_kernel_kib: Slab + KernelStack + PageTables: the kernel's share of
# connections (socket objects, forked processes' tasks, stacks and page
# tables), steadier than mem_used_kib when other work runs on the machine
mem_kernel_kib() {
	awk '$1 == "Slab:" || $1 == "KernelStack:" || $1 == "PageTables:" { s += $2 } END { print s }' /proc/meminfo
}

mem_field_kib() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# slab_objsize NAME: object size in bytes of a slab cache (/proc/slabinfo)
slab_objsize() {
	awk -v n="$1" '$1 == n { print $4; f = 1 } END { if (!f) print 0 }' /proc/slabinfo 2>/dev/null
}

# ns_sock_mem NS: "TCP_SOCKETS MPTCP_SOCKETS SKMEM_BYTES" in NS: established
# sockets (ss -t also lists MPTCP subflows; TIME-WAIT ones of earlier tests
# are left out, they expire while we measure), and the buffer memory they
# hold: skmem r (receive queue) + t (in flight below TCP) + w (write
# queue) of the TCP sockets, forward-alloc quota excluded
ns_sock_mem() {
	local ns=$1 ntcp nmp skm
	ntcp=$(ip netns exec "$ns" ss -tnH state established | grep -c . || true)
	nmp=$(ip netns exec "$ns" ss -MnH state established | grep -c . || true)
	skm=$(ip netns exec "$ns" ss -tmnH state established | awk '{
		if (match($0, /skmem:\([^)]*\)/)) {
			s = substr($0, RSTART + 7, RLENGTH - 8); n = split(s, f, ",")
			for (i = 1; i <= n; i++) {
				if (f[i] ~ /^r[0-9]/) b += substr(f[i], 2)
				else if (f[i] ~ /^t[0-9]/) b += substr(f[i], 2)
				else if (f[i] ~ /^w[0-9]/) b += substr(f[i], 2)
			}
		}
	} END { printf "%.0f\n", b }')
	printf '%s %s %s\n' "$ntcp" "$nmp" "$skm"
}

# ns_established NS PORT: established TCP sockets with PORT as source or
# destination port (accept-queue sockets included)
ns_established() {
	ip netns exec "$1" ss -tnH state established "( sport = :$2 or dport = :$2 )" |
		grep -c . || true
}

# ---- perf ----------------------------------------------------------------------------

PERF_OK=0
PERF_WHY=

# perf_probe: can perf count cycles and instructions system-wide here?
perf_probe() {
	local out
	if ! command -v perf >/dev/null 2>&1; then
		PERF_WHY="perf not installed (linux-perf)"
		return 1
	fi
	out=$(perf stat -a -x, -e cycles,instructions -- sleep 0.2 2>&1 >/dev/null) || true
	if printf '%s\n' "$out" | grep '^[0-9][0-9]*,,cycles' >/dev/null &&
		printf '%s\n' "$out" | grep '^[0-9][0-9]*,,instructions' >/dev/null; then
		PERF_OK=1
		return 0
	fi
	if printf '%s\n' "$out" | grep 'not supported' >/dev/null; then
		PERF_WHY="perf stat -a -e cycles,instructions: <not supported> (no hardware PMU exposed to this guest)"
	else
		PERF_WHY="perf stat -a -e cycles,instructions failed: $(printf '%s' "$out" | head -2 | tr '\n' ' ')"
	fi
	return 1
}

PERF_PID=
PERF_OUT=

# perf_start FILE: perf stat -a on cycles,instructions until perf_stop
perf_start() {
	PERF_PID=
	[ "$PERF_OK" = 1 ] || return 0
	PERF_OUT=$1
	perf stat -a -x, -e cycles,instructions -o "$PERF_OUT" &
	PERF_PID=$!
	# perf needs a moment to open its counters
	sleep 0.2
}

# perf_stop: "CYCLES INSTRUCTIONS" (empty if perf is not in use)
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
	awk -F, '$3 == "cycles" { c = $1 } $3 == "instructions" { i = $1 }
		END { if (c != "" && i != "") print c, i }' "$PERF_OUT" 2>/dev/null
}

# ---- BPF program statistics -------------------------------------------------------

# bpf_prog_ids NS: ids of the XDP/TC programs attached in NS
bpf_prog_ids() {
	nsenter --net="/run/netns/$1" bpftool net show 2>/dev/null |
		grep -o ' id [0-9]*' | awk '{ print $2 }' | sort -un
}

# bpf_stats_snap ID...: "RUN_TIME_NS RUN_CNT" summed over the programs
# (needs kernel.bpf_stats_enabled=1; 0 0 otherwise)
bpf_stats_snap() {
	local id t=0 c=0 tt cc
	for id in "$@"; do
		# the first line: "ID: TYPE name NAME ... run_time_ns T run_cnt C"
		read -r tt cc < <(bpftool prog show id "$id" 2>/dev/null | awk 'NR == 1 {
			for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
		} END { printf "%.0f %.0f\n", t, c }') || continue
		t=$((t + tt)) c=$((c + cc))
	done
	printf '%s %s\n' "$t" "$c"
}

# ---- statistics ------------------------------------------------------------------

# percentiles P...: numbers on stdin, prints the nearest-rank percentiles
percentiles() {
	sort -g | awk -v ps="$*" '{ v[NR] = $1 } END {
		n = split(ps, p, " ")
		for (i = 1; i <= n; i++) {
			if (NR == 0) { printf "%s%s", (i > 1 ? " " : ""), "nan"; continue }
			k = int(p[i] / 100 * NR + 0.999999); if (k < 1) k = 1; if (k > NR) k = NR
			printf "%s%s", (i > 1 ? " " : ""), v[k]
		}
		printf "\n"
	}'
}

# bench_summarize CSV: one line per (config,test,metric) with ok samples:
#   config,test,metric,n,median,min,max,,
# and per (config,test) with failed or na samples:
#   config,test,*,0,,,,failed|na,NFAILED;first reason
# (median of an even count: mean of the two middle values)
bench_summarize() {
	awk -F, 'NR > 1 || $1 != "config" {
		if ($6 == "ok") {
			k = $1 SUBSEP $2 SUBSEP $3
			if (!(k in n)) order[++no] = k
			v[k, ++n[k]] = $5 + 0
		} else {
			k = $1 SUBSEP $2
			if (!(k in bad)) { border[++nb] = k; bnote[k] = $7; bst[k] = $6 }
			bad[k]++
		}
	}
	END {
		for (i = 1; i <= no; i++) {
			k = order[i]; m = n[k]
			for (a = 1; a <= m; a++) s[a] = v[k, a]
			for (a = 2; a <= m; a++) {      # insertion sort, m is small
				x = s[a]
				for (b = a - 1; b >= 1 && s[b] > x; b--) s[b + 1] = s[b]
				s[b + 1] = x
			}
			med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
			split(k, f, SUBSEP)
			printf "%s,%s,%s,%d,%.6g,%.6g,%.6g,,\n", f[1], f[2], f[3], m, med, s[1], s[m]
		}
		for (i = 1; i <= nb; i++) {
			k = border[i]; split(k, f, SUBSEP)
			printf "%s,%s,*,0,,,,%s,%d;%s\n", f[1], f[2], bst[k], bad[k], bnote[k]
		}
	}' "$1"
}

# _json_str S: S as a JSON string
_json_str() {
	awk -v s="$1" 'BEGIN {
		gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s)
		printf "\"%s\"", s }'
}

# bench_write_json META CSV OUT: results as JSON (meta, summary, samples)
bench_write_json() {
	local meta=$1 csv=$2 out=$3
	{
		printf '{\n  "meta": {\n'
		awk -F= 'function js(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); return "\"" s "\"" }
			NF >= 2 { k = $1; v = substr($0, length($1) + 2)
				printf "%s    %s: %s", (n++ ? ",\n" : ""), js(k), js(v) }
			END { printf "\n" }' "$meta"
		printf '  },\n  "summary": [\n'
		bench_summarize "$csv" | awk -F, 'function js(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
			function num(s) { return s == "" ? "null" : s }
			{ printf "%s    {\"config\": %s, \"test\": %s, \"metric\": %s, \"n\": %d, \"median\": %s, \"min\": %s, \"max\": %s, \"status\": %s, \"note\": %s}",
				(n++ ? ",\n" : ""), js($1), js($2), js($3), $4, num($5), num($6), num($7),
				js($8 == "" ? "ok" : $8), js($9) }
			END { printf "\n" }'
		printf '  ],\n  "samples": [\n'
		awk -F, 'function js(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
			$1 == "config" { next }
			{ printf "%s    {\"config\": %s, \"test\": %s, \"metric\": %s, \"rep\": %s, \"value\": %s, \"status\": %s, \"note\": %s}",
				(n++ ? ",\n" : ""), js($1), js($2), js($3), ($4 == "*" ? "null" : $4),
				($5 == "" ? "null" : $5), js($6), js($7) }
			END { printf "\n" }' "$csv"
		printf '  ]\n}\n'
	} >"$out"
}
