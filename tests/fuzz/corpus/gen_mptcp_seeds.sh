#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Regenerates tests/fuzz/corpus/fuzz_mptcp_opt/: one TCP option area per
# MPTCP option variant (RFC 8684 section 3), plus whole option areas the
# Linux kernel sent (the same captures as tests/unit/test_mptcp_opt.c).
# The generated files are committed; rerun after changing this list:
#   tests/fuzz/corpus/gen_mptcp_seeds.sh
set -euo pipefail

dir="$(cd "$(dirname "$0")" && pwd)/fuzz_mptcp_opt"
mkdir -p "$dir"
rm -f "$dir"/*

# seed NAME HEX: write the bytes HEX (spaces allowed) to $dir/NAME
seed() {
	local hex="${2// /}" esc="" i
	for ((i = 0; i < ${#hex}; i += 2)); do
		esc+="\\x${hex:i:2}"
	done
	printf '%b' "$esc" >"$dir/$1"
}

# MP_CAPABLE (Figure 4): SYN, SYN/ACK, ACK, ACK + data, + checksum
seed cap_syn "1e040181"
seed cap_synack "1e0c0101 1122334455667788"
seed cap_ack "1e140121 a1a2a3a4a5a6a7a8 1122334455667788"
seed cap_data "1e160101 a1a2a3a4a5a6a7a8 1122334455667788 05dc"
seed cap_data_csum "1e180181 a1a2a3a4a5a6a7a8 1122334455667788 05dc beef"
# MP_JOIN (Figures 5-7)
seed join_syn "1e0c1107 deadbeef 01020304"
seed join_synack "1e101009 c1c2c3c4c5c6c7c8 0a0b0c0d"
seed join_ack "1e181000 000102030405060708090a0b0c0d0e0f10111213"
# DSS (Figure 9): flag combinations, checksum inferred from the length
seed dss_empty "1e042000"
seed dss_ack4 "1e082001 12345678"
seed dss_ack8 "1e0c2003 0102030405060708"
seed dss_map4 "1e0e2004 11223344 00000001 0064"
seed dss_map4_csum "1e102004 11223344 00000001 0064 abcd"
seed dss_map8 "1e12200c 1112131415161718 00000001 0064"
seed dss_map8_csum "1e14200c 1112131415161718 00000001 0064 abcd"
seed dss_ack4_map4 "1e122005 aabbccdd 11223344 00000001 0064"
seed dss_ack8_map4_csum "1e182007 0102030405060708 11223344 00000001 0064 abcd"
seed dss_full_csum "1e1c201f 0102030405060708 1112131415161718 21222324 05b4 abcd"
seed dss_fin "1e1a201f 0102030405060708 1112131415161718 00000000 0001"
seed dss_infinite "1e102004 11223344 00000000 0000 0000"
seed dss_reserved "1e082fe1 12345678"
# ADD_ADDR (Figure 12): all eight lengths
seed add4_hmac "1e103003 c0000209 f1f2f3f4f5f6f7f8"
seed add4_port_hmac "1e123003 c0000209 1f90 f1f2f3f4f5f6f7f8"
seed add4_echo "1e083103 c0000209"
seed add4_port_echo "1e0a3103 c0000209 1f90"
seed add6_hmac "1e1c3004 20010db8000000000000000000000001 f1f2f3f4f5f6f7f8"
seed add6_port_hmac "1e1e3004 20010db8000000000000000000000001 01bb f1f2f3f4f5f6f7f8"
seed add6_echo "1e143104 20010db8000000000000000000000001"
seed add6_port_echo "1e163104 20010db8000000000000000000000001 01bb"
# REMOVE_ADDR (Figure 13): one, three, and the 37 IDs a 40-byte area holds
seed rm1 "1e044005"
seed rm3 "1e064001 0509"
seed rm37 "1e2840$(printf '%02x' $(seq 1 37) | tr -d '\n')"
# MP_PRIO, MP_FAIL, MP_FASTCLOSE, MP_TCPRST (Figures 11, 16, 14, 15)
seed prio "1e0351"
seed fail "1e0c6000 0102030405060708"
seed fastclose "1e0c7000 1122334455667788"
seed tcprst "1e048105"
# several options in one area, NOP-padded
seed multi "1e082001 12345678 1e123003 c0000209 1f90 f1f2f3f4f5f6f7f8 1e0351 1e064001 0509 01"

# Linux 6.18 captures (see tests/unit/test_mptcp_opt.c): whole option areas
seed k_syn "020405b40402080a60b1dd71000000000103030a1e040101"
seed k_synack "020405b40402080a9c3ea74b60b1dd710103030a1e0c0101d7a868bdd5a2ef97"
seed k_ack "0101080a60b1dd719c3ea74b1e140101ef60a1bade57af3ed7a868bdd5a2ef97"
seed k_ack_data "0101080a60b1dd719c3ea74b1e160101ef60a1bade57af3ed7a868bdd5a2ef97000b0101"
seed k_dss_data "0101080a9c3ea74b60b1dd711e1a200fa82701805420c94625d9d3c8c1fb581b0000000100100101"
seed k_add_addr "0101080a9c3ea74b60b1dd711e123005c00002031389f94227a0532a8eae0101"
seed k_join_synack "020405b40402080aba0b7e29864472530103030a1e101005cbda811f60b56b350db76791"
seed k_dss_rm "0101080a9c3ea81760b1de3d1e0c2003a82701805420c9461e044005"
seed k_fastclose_rst "0101080a60b1ea569c3eb3031e0c7000d7a868bdd5a2ef971e048000"
seed k_dss_csum28 "0101080a7f8c3226ace72c1f1e1c200f7d1bace1980606f11beac27eafbbd8a4000000010010b9b8"

echo "$(ls "$dir" | wc -l) seeds in $dir"
