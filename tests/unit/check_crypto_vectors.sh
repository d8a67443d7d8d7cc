#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# check_crypto_vectors.sh - prove the committed tests/unit/crypto_vectors.h
# still derives from the RFC definitions: regenerate it with
# tests/unit/vectors/derive_crypto_vectors.sh into a temporary file and diff.
# Exit 0 when identical, 1 on any difference or when derivation fails.
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
committed=$here/crypto_vectors.h
tmp=$(mktemp "${TMPDIR:-/tmp}/crypto_vectors.XXXXXX.h") || exit 1
trap 'rm -f "$tmp"' EXIT

if ! "$here/vectors/derive_crypto_vectors.sh" >"$tmp"; then
	echo "check_crypto_vectors: derivation failed" >&2
	exit 1
fi
if [ ! -f "$committed" ]; then
	echo "check_crypto_vectors: $committed missing" >&2
	exit 1
fi
if ! diff -u "$committed" "$tmp"; then
	echo "check_crypto_vectors: $committed differs from a fresh derivation" >&2
	exit 1
fi
echo "check_crypto_vectors: crypto_vectors.h matches its derivation"
