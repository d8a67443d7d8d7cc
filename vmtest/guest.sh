#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# vmtest/guest.sh - runs inside the qemu guest as PID 1, after the
# initramfs (vmtest/initramfs-init.sh) switch_rooted into the overlay of
# the host's root. It mounts what tests need, runs the plan below with a
# timeout per test, writes the results into the results share and powers
# the guest off. vmtest/run.sh reads (on the host):
#
#   /mnt/vmtest/job.env       written by run.sh: TOP, PATH, VMTEST_* knobs
#   /mnt/vmtest/results.tsv   group TAB test TAB PASS|FAIL|SKIP TAB secs TAB note
#   /mnt/vmtest/logs/         one log per test (+ verifier log, kept files)
#   /mnt/vmtest/features.txt  what the kernel has (the lib.sh probes)
#   /mnt/vmtest/dmesg.txt     the whole kernel log, written last
#   /mnt/vmtest/done          the guest got to the end
#
# Not meant to be run on the host (it refuses to unless it is PID 1 or
# called with "run" inside a guest).

RES=/mnt/vmtest
SNAP=/run/mpc

# ---- PID 1: mounts, then the plan as a child, then power off ------------

pid1_setup() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	mount -t tmpfs -o mode=0755 tmpfs /run
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t bpf -o mode=0700 bpf /sys/fs/bpf
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	mkdir -p /run/netns /var/run
	hostname mpc-vmtest
	ip link set lo up
}

pid1_poweroff() {
	sync
	echo o >/proc/sysrq-trigger
	while :; do sleep 1; done
}

if [ $$ -eq 1 ]; then
	pid1_setup
	exec </dev/null >/dev/console 2>&1
	# shellcheck source=/dev/null
	. "$RES/job.env" || {
		echo "vmtest-guest: no $RES/job.env"
		pid1_poweroff
	}
	# A snapshot of the tree in guest memory: the host tree may be rebuilt
	# or edited while the guest runs (a replaced file is ESTALE through
	# the overlay), and bash reads scripts as it goes. Tests find the
	# build through their own path (lib.sh: MPC_ROOT), so they use it.
	mkdir -p "$SNAP"
	if ! cp -a "$TOP/build" "$TOP/tests" "$TOP/vmtest" "$SNAP/" 2>"$RES/snapshot.err"; then
		sleep 2
		rm -rf "${SNAP:?}"/*
		cp -a "$TOP/build" "$TOP/tests" "$TOP/vmtest" "$SNAP/" 2>"$RES/snapshot.err" || {
			echo "vmtest-guest: cannot copy the tree: $(head -n3 "$RES/snapshot.err")"
			printf 'vmtest\tsnapshot\tFAIL\t0\tcannot copy %s into the guest\n' "$TOP" >>"$RES/results.tsv"
		}
	fi
	# the plan runs as a child: this shell stays PID 1 and reaps orphans
	[ -f "$SNAP/vmtest/guest.sh" ] && bash "$SNAP/vmtest/guest.sh" run
	echo "vmtest-guest: plan finished (exit $?), powering off"
	dmesg >"$RES/dmesg.txt" 2>&1 && touch "$RES/done"
	pid1_poweroff
fi

if [ "${1:-}" != run ] || [ ! -f "$RES/job.env" ]; then
	echo "vmtest/guest.sh runs inside the vmtest guest (see vmtest/run.sh)" >&2
	exit 2
fi

# ---- the plan ---------------------------------------------------------------

set -u
# shellcheck source=/dev/null
. "$RES/job.env"
export PATH HOME=/root LANG=C.UTF-8 TERM=dumb
cd "$SNAP" || exit 1
mkdir -p "$RES/logs"

say() {
	printf 'vmtest-guest: %s\n' "$*"
}

# record GROUP NAME STATUS SECS [NOTE]
record() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$RES/results.tsv"
	say "$3 $1/$2 (${4}s) ${5:-}"
}

# run_one GROUP NAME TIMEOUT CMD...: one test, its output in
# logs/GROUP-NAME.log; exit 0 PASS, 77 SKIP (the "SKIP..." line is the
# note), anything else FAIL. E2E tests keep their TOPO_TMP (KEEP_TMP=1)
# under a TMPDIR of their own; small files of a failed test are copied to
# logs/GROUP-NAME/.
run_one() {
	local group=$1 name=$2 tmo=$3 rc start secs note='' log tmpd
	shift 3
	log=$RES/logs/$group-$name.log
	tmpd=/tmp/vmtest/$group-$name
	mkdir -p "$tmpd"
	say "start $group/$name (timeout ${tmo}s)"
	start=$(date +%s)
	TMPDIR=$tmpd KEEP_TMP=1 timeout --kill-after=10 "$tmo" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) record "$group" "$name" PASS "$secs" ;;
	77)
		note=$(grep -m1 -o 'SKIP.*' "$log" || true)
		record "$group" "$name" SKIP "$secs" "$note"
		;;
	*)
		[ "$rc" -eq 124 ] && note="timeout after ${tmo}s"
		[ -z "$note" ] && note="exit $rc"
		record "$group" "$name" FAIL "$secs" "$note"
		mkdir -p "$RES/logs/$group-$name"
		find "$tmpd" -type f -size -1024k ! -name '*.pcap*' -exec cp -t "$RES/logs/$group-$name/" {} + 2>/dev/null
		;;
	esac
	rm -rf "$tmpd"
	# whatever a killed test left behind (namespaces, pins) must not
	# disturb the next one
	ip -all netns delete 2>/dev/null
	find /sys/fs/bpf -mindepth 1 -maxdepth 1 -name 'mpc-*' -exec rm -rf {} + 2>/dev/null
	return 0
}

features() {
	# shellcheck source=tests/e2e/lib.sh
	(. tests/e2e/lib.sh && vm_features)
}

say "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"
features >"$RES/features.txt" 2>&1
sed 's/^/vmtest-guest: feature /' "$RES/features.txt"

if [ -n "${VMTEST_CMD:-}" ]; then
	run_one cmd command "${VMTEST_CMD_TIMEOUT:-1200}" bash -c "$VMTEST_CMD"
	cat "$RES/logs/cmd-command.log"
	exit 0
fi

# --- fixtures: BPF_PROG_TEST_RUN on this kernel's verifier and helpers
if [[ " $VMTEST_GROUPS " == *" fixtures "* ]]; then
	run_one fixtures fixture_runner 900 build/tests/fixture_runner
	if ! grep -q "^fixtures	fixture_runner	PASS" "$RES/results.tsv"; then
		# the verifier log of every program that failed to load
		timeout 900 build/tests/fixture_runner -v \
			>"$RES/logs/fixtures-fixture_runner-verbose.log" 2>&1 </dev/null
	fi
fi

# --- e2e: the end-to-end tests, netem ones first; VMTEST_E2E ("name[:timeout]
# ...") picks some, VMTEST_E2E_ENV ("VAR=value;test_x:VAR=value;...") sets
# their knobs: for every test, or (with a test name before the colon) for
# that one test, later entries winning
e2e_timeout() {
	case $1 in
	test_netem_harness) echo 300 ;;
	test_netem_converter) echo 420 ;;
	test_explicit_fallbacks) echo 300 ;;
	test_explicit_robustness) echo 600 ;;
	test_explicit_multipath) echo 900 ;;
	*) echo "${VMTEST_E2E_TIMEOUT:-480}" ;;
	esac
}
if [[ " $VMTEST_GROUPS " == *" e2e "* ]]; then
	IFS=';' read -r -a env_all <<<"${VMTEST_E2E_ENV:-}"
	plan=${VMTEST_E2E:-}
	if [ -z "$plan" ]; then
		for f in tests/e2e/test_netem_*.sh tests/e2e/test_*.sh; do
			[ -f "$f" ] || continue
			t=$(basename "$f" .sh)
			[[ " $plan " == *" $t "* ]] || plan+=" $t"
		done
	fi
	for t in $plan; do
		name=${t%%:*}
		tmo=$(e2e_timeout "$name")
		[ "$t" != "$name" ] && tmo=${t#*:}
		group=e2e
		case $name in test_netem_*) group=netem ;; esac
		if [ ! -f "tests/e2e/$name.sh" ]; then
			record "$group" "$name" FAIL 0 "tests/e2e/$name.sh not found"
			continue
		fi
		e2e_env=()
		for kv in "${env_all[@]}"; do
			case $kv in
			"$name":*=*) e2e_env+=("${kv#*:}") ;;
			*:*=*) ;;
			*=*) e2e_env+=("$kv") ;;
			esac
		done
		run_one "$group" "$name" "$tmo" env "${e2e_env[@]}" bash "tests/e2e/$name.sh"
	done
fi
exit 0
