#!/usr/bin/env bash
# Run mpconv's test groups and print one PASS/FAIL/SKIP line per test, a
# table per group and a closing line CI can read:
#   mpconv-tests: PASS (41 passed, 2 skipped, 0 failed)
#
# usage: tests/run-all.sh [unit] [fixtures] [e2e]     (default: all three)
# Exit code 77 from a test means "skipped"; the test prints why.
# Needs root for fixtures and e2e (BPF, namespaces).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=${MPC_BUILD:-build}
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(unit fixtures e2e)
E2E_TIMEOUT=${E2E_TIMEOUT:-1200}

pass=0 fail=0 skip=0
results=()
logdir=$(mktemp -d /tmp/mpc-tests.XXXXXX)

record() { # group name status seconds [note]
	results+=("$(printf '%-9s %-44s %-5s %6ss %s' "$1" "$2" "$3" "$4" "${5:-}")")
	case "$3" in
	PASS) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
	printf '%s %s/%s (%ss) %s\n' "$3" "$1" "$2" "$4" "${5:-}"
}

run() { # group name timeout cmd...
	local group=$1 name=$2 tmo=$3 rc start note="" retried
	shift 3
	start=$(date +%s)
	timeout --kill-after=10 "$tmo" "$@" >"$logdir/$group-$name.log" 2>&1
	rc=$?
	local secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		# cases an e2e test ran twice (CASE_RETRY, tests/e2e/lib.sh):
		# named in the table, and with MPC_RETRY_DIGEST=FILE (.ci/run)
		# also collected there for the end of the CI log
		retried=$(grep '^RETRIED:' "$logdir/$group-$name.log" | cut -c 1-220)
		[ -n "$retried" ] && note="$(grep -c . <<<"$retried") case(s) passed at the second attempt"
		record "$group" "$name" PASS "$secs" "$note"
		if [ -n "$retried" ]; then
			sed "s|^|  $group/$name: |" <<<"$retried"
			[ -z "${MPC_RETRY_DIGEST:-}" ] ||
				sed "s|^|host/$group/$name: |" <<<"$retried" >>"$MPC_RETRY_DIGEST"
		fi
	elif [ $rc -eq 77 ]; then
		note=$(grep -m1 -o 'SKIP.*' "$logdir/$group-$name.log" || true)
		record "$group" "$name" SKIP "$secs" "$note"
	else
		[ $rc -eq 124 ] && note="timeout after ${tmo}s"
		record "$group" "$name" FAIL "$secs" "$note"
		tools/fail-digest.sh "host/$group/$name" "$logdir/$group-$name.log" "$note"
		echo "----- $group/$name output (last 60 lines) -----"
		tail -n 60 "$logdir/$group-$name.log"
		echo "-----"
	fi
}

# kernel splats during the run fail it (WARN/BUG/KASAN/verifier oops)
dmesg_mark=$(dmesg 2>/dev/null | wc -l)

# bpffs before the run: whatever the tests leave there that was not there
# fails the run. maps.debug and progs.debug are the kernel's own iterators,
# created with every bpffs mount (bpf_preload).
BPFFS=/sys/fs/bpf
bpffs_ls() { ls -A "$BPFFS" 2>/dev/null | grep -vx -e maps.debug -e progs.debug | sort; }
bpffs_was_mounted=0
[ "$(stat -f -c %T "$BPFFS" 2>/dev/null)" = bpf_fs ] && bpffs_was_mounted=1
bpffs_before=$(bpffs_ls)

for g in "${groups[@]}"; do
	case "$g" in
	unit)
		for t in "$build"/tests/test_*; do
			[ -x "$t" ] || continue
			run unit "$(basename "$t")" 300 "$t"
		done
		for s in tests/unit/check_*.sh; do
			[ -x "$s" ] || continue
			run unit "$(basename "$s" .sh)" 300 "$s"
		done
		;;
	fixtures)
		run fixtures fixture_runner 600 "$build/tests/fixture_runner"
		;;
	e2e)
		for s in tests/e2e/test_*.sh; do
			[ -f "$s" ] || continue
			run e2e "$(basename "$s" .sh)" "$E2E_TIMEOUT" bash "$s"
		done
		;;
	*)
		echo "run-all.sh: unknown group $g" >&2
		exit 2
		;;
	esac
done

splats=$(dmesg 2>/dev/null | tail -n +"$((dmesg_mark + 1))" |
	grep -E 'WARNING:|BUG:|KASAN|Oops|general protection|refcount_t' || true)
if [ -n "$splats" ]; then
	record kernel dmesg-splat-check FAIL 0 "kernel splat during tests"
	echo "$splats"
else
	record kernel dmesg-splat-check PASS 0
fi

# libxdp leaves an empty state directory (xdp/) behind when it probed its
# dispatcher for an agent that was SIGKILLed; it holds nothing once empty
if [ -d "$BPFFS/xdp" ] && ! printf '%s\n' "$bpffs_before" | grep -qx xdp; then
	rmdir "$BPFFS/xdp" 2>/dev/null || true
fi
bpffs_left=$(comm -13 <(printf '%s\n' "$bpffs_before") <(bpffs_ls) | tr '\n' ' ')
if [ -n "${bpffs_left// /}" ]; then
	record kernel bpffs-leak-check FAIL 0 "left in $BPFFS: $bpffs_left"
else
	record kernel bpffs-leak-check PASS 0
	# the run mounted bpffs (an agent or bpftool did): unmount it again
	if [ $bpffs_was_mounted = 0 ] && [ "$(stat -f -c %T "$BPFFS" 2>/dev/null)" = bpf_fs ] &&
		[ -z "$(bpffs_ls)" ]; then
		umount "$BPFFS" 2>/dev/null || true
	fi
fi

echo
echo "group     test                                         result  time"
printf '%s\n' "${results[@]}"
echo "logs: $logdir"
if [ $fail -eq 0 ]; then
	echo "mpconv-tests: PASS ($pass passed, $skip skipped, $fail failed)"
	exit 0
fi
echo "mpconv-tests: FAIL ($pass passed, $skip skipped, $fail failed)"
exit 1
