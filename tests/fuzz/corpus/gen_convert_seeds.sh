#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# gen_convert_seeds.sh - (re)write the seed corpus of tests/fuzz/fuzz_convert.c
# into tests/fuzz/corpus/fuzz_convert/. Run from anywhere; the files are
# committed, so run it again only when the seeds change.
#
# Each seed is one byte for the sender's role (00 client, 01 converter)
# followed by an RFC 8803 Convert message (and sometimes user data after
# it). Every TLV type and every Error code of Table 2 appears, plus a few
# invalid messages so that each error path starts covered.
set -euo pipefail

dir="$(cd "$(dirname "$0")" && pwd)/fuzz_convert"
mkdir -p "$dir"
rm -f "$dir"/*

# seed NAME HEXBYTES... (spaces between bytes are optional)
seed() {
	local name=$1 hex esc="" k
	shift
	hex=$(printf '%s' "$*" | tr -d ' \n')
	for ((k = 0; k < ${#hex}; k += 2)); do
		esc+="\\x${hex:k:2}"
	done
	printf '%b' "$esc" >"$dir/$name"
}

# repeat HEXBYTE COUNT
repeat() {
	local out="" k
	for ((k = 0; k < $2; k++)); do
		out+=$1
	done
	printf '%s' "$out"
}

C=00 # from a client
T=01 # from a converter
ADDR6="20010db8 00000000 00000000 00000001" # 2001:db8::1
ADDR4="00000000 00000000 0000ffff c0000201" # ::ffff:192.0.2.1
COOKIE8="c00c1e5a 11223344"

# -- from a client: valid (Figures 13, 15, 17, 18, 19, 21) --
seed c_info $C 01022263 01010000
seed c_connect6 $C 01062263 0a050050 $ADDR6
seed c_connect4 $C 01062263 0a0501bb $ADDR4
seed c_connect_ext $C 010a2263 0a090050 $ADDR6 020405b4 0402 220a $COOKIE8
seed c_connect_ext_pad $C 01082263 0a070050 $ADDR4 04020802 1e020000
seed c_cookie_connect $C 01092263 16030000 $COOKIE8 0a050050 $ADDR6
seed c_info_cookie $C 01052263 01010000 16030000 $COOKIE8
seed c_hdr_only $C 01012263
seed c_connect_data $C 01062263 0a050050 $ADDR6 474554202f20485454502f312e310d0a
# a 1020-byte message: a 1012-byte cookie
seed c_cookie_max $C 01ff2263 16fe0000 "$(repeat a5 1012)"

# -- from a client: invalid --
seed c_bad_version0 $C 00022263 01010000
seed c_bad_version2 $C 02022263 01010000
seed c_total0 $C 01002263 01010000
seed c_bad_magic $C 474554202f20485454502f312e310d0a
seed c_type0 $C 01022263 00010000
seed c_dup_info $C 01032263 01010000 01010000
seed c_past_total $C 01052263 0a050050 $ADDR6
seed c_loopback $C 01062263 0a050050 $(echo 0000000000000000 0000ffff 7f000001)
seed c_connect_nop $C 01072263 0a060050 $ADDR6 01040200
seed c_client_sends_error $C 01022263 1e012000
seed c_truncated $C 01062263 0a050050 20010db8

# -- from a converter: valid (Figures 16, 17, 20, 22, 23) --
seed t_xhdr $T 01052263 14040000 020405b4 01010402 01030307
seed t_xhdr_empty $T 01022263 14010000
seed t_supported $T 01032263 15020000 04081e22
seed t_supported_pad $T 01032263 15020000 1e000000
seed t_connect_in $T 01062263 0a05c350 $ADDR4
seed t_xhdr_supported $T 01042263 14010000 15020000 1e000000
seed t_err_version $T 01022263 1e010001
seed t_err_malformed $T 01042263 1e030100 01022263 01010000
seed t_err_unsupported_msg $T 01042263 1e030200 01022263 14010000
seed t_err_missing_cookie $T 01042263 1e030300 $COOKIE8
seed t_err_not_authorized $T 01022263 1e012000
seed t_err_unsupported_opt $T 01032263 1e02211d fd000000
seed t_err_resource $T 01022263 1e014000
seed t_err_network $T 01022263 1e01411e
seed t_err_conn_reset $T 01022263 1e016000
seed t_err_unreach $T 01022263 1e016103
seed t_err_unknown_code $T 01032263 1e028001 02030405

# -- from a converter: invalid --
seed t_info $T 01022263 01010000
seed t_supported_kind2 $T 01032263 15020000 1e020000
seed t_dup_xhdr $T 01032263 14010000 14010000

echo "wrote $(ls "$dir" | wc -l) seeds to $dir"
