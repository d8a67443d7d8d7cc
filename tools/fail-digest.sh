#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# tools/fail-digest.sh WHERE LOG [NOTE]: with MPC_FAIL_DIGEST=FILE set
# (.ci/run does), append the failed checks of a failed test's LOG (its
# "not ok" and "FAIL:" lines, at most 8, each prefixed with WHERE) and the
# NOTE to FILE, so that the end of a CI log says what failed. Without
# MPC_FAIL_DIGEST it does nothing. Used by tests/run-all.sh and
# vmtest/run.sh.
[ -n "${MPC_FAIL_DIGEST:-}" ] || exit 0
{
	grep -E '^ *not ok|^FAIL:' "$2" 2>/dev/null | head -n 8 | cut -c 1-180 |
		sed "s|^ *|$1: |"
	[ -z "${3:-}" ] || echo "$1: $3"
} >>"$MPC_FAIL_DIGEST"
