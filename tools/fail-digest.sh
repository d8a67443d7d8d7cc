#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# tools/fail-digest.sh WHERE LOG [NOTE]: with MPC_FAIL_DIGEST=FILE set
# (.ci/run does), append what failed in a failed test's LOG to FILE, each
# line prefixed with WHERE, so that the end of a CI log says what failed
# even when the log in between is cut short. Without MPC_FAIL_DIGEST it
# does nothing. Used by tests/run-all.sh and vmtest/run.sh.
#
# An e2e test logs its cases as "--- NAME" ... "PASS: NAME" / "FAIL: NAME"
# (tests/e2e/lib.sh run_case). For each failed case the digest holds its
# FAIL line, then at most 6 of the case's own lines that say why: its
# "not ok" checks and failed transfers first, then its transfers' "xfer
# NAME: OK ..." results (rates, subflows). Checks outside any case ("not ok" lines of
# unit tests, "FAIL:" lines) follow as before. At most 24 lines per test.
[ -n "${MPC_FAIL_DIGEST:-}" ] || exit 0
{
	awk '
	function reset() { nb = 0; no = 0 }
	/^--- / { reset(); incase = 1; next }
	/^(PASS|SKIP): / { incase = 0; reset(); next }
	/^FAIL: / {
		print
		for (i = 1; i <= nb && i <= 6; i++) print bad[i]
		for (i = 1; i <= no && nb + i <= 6; i++) print ok[i]
		incase = 0; reset(); next
	}
	/^ *not ok|^ *xfer [^ ]*: FAILED/ {
		if (incase) bad[++nb] = $0
		else print
		next
	}
	/^ *xfer [^ ]*: OK/ { if (incase) ok[++no] = $0 }
	' "$2" 2>/dev/null | head -n 24 | cut -c 1-200 | sed "s|^ *|$1: |"
	[ -z "${3:-}" ] || echo "$1: $3"
} >>"$MPC_FAIL_DIGEST"
