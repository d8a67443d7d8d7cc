#!/usr/bin/env bash
# Run each libFuzzer target for a bounded time on a scratch copy of its
# committed seed corpus (new inputs never pollute the committed corpus),
# and print one line per target with the executions it made.
#
# usage: tests/fuzz/run.sh SECONDS build/fuzz/fuzz_X [build/fuzz/fuzz_Y ...]
# Findings (crash-*, leak-*, timeout-*) are written to build/fuzz/findings/.
set -euo pipefail

secs=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
findings="$top/build/fuzz/findings"
mkdir -p "$findings"
status=0

for bin in "$@"; do
	name=$(basename "$bin")
	scratch=$(mktemp -d "/tmp/mpc-$name.XXXXXX")
	cp -r "$top/tests/fuzz/corpus/$name/." "$scratch/" 2>/dev/null || true
	log="$findings/$name.log"
	set +e
	"$bin" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$findings/$name-" "$scratch" >"$log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz $name: ${secs}s, ${execs:-?} executions, no findings"
	else
		echo "fuzz $name: FAILED (exit $rc), see $log and $findings/$name-*"
		tail -n 30 "$log"
		status=1
	fi
	rm -rf "$scratch"
done
exit $status
