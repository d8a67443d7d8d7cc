#!/usr/bin/env bash
# Install every Debian 12 package mpconv needs, and nothing that is
# already there. `make deps` runs it unconditionally; the demo, test and
# bench targets run it with --check, which only calls apt when a package
# is missing (so a second `make test` does not touch the network).
#
# usage: tools/deps.sh [--check] [GROUP...]   groups: build test bench vm all
set -euo pipefail

build=(clang llvm gcc make pkg-config bpftool libbpf-dev libxdp-dev
	libelf-dev zlib1g-dev libssl-dev libjson-c-dev libinih-dev
	libcmocka-dev libclang-rt-14-dev cppcheck clang-tidy clang-format)
# mptcpize: only a Recommends of mptcpd, which --no-install-recommends skips
test=(iproute2 nftables ethtool mptcpd mptcpize xdp-tools tcpdump procps psmisc iputils-ping xxd python3
	kmod socat)
bench=(haproxy iperf3 gnuplot-nox linux-perf)
vm=(qemu-system-x86 qemu-utils cpio busybox-static lz4 zstd xz-utils
	linux-image-cloud-amd64)

check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(all)

want=()
for g in "${groups[@]}"; do
	case "$g" in
	build) want+=("${build[@]}") ;;
	test) want+=("${build[@]}" "${test[@]}") ;;
	bench) want+=("${build[@]}" "${test[@]}" "${bench[@]}") ;;
	vm) want+=("${vm[@]}") ;;
	all) want+=("${build[@]}" "${test[@]}" "${bench[@]}" "${vm[@]}") ;;
	*) echo "deps.sh: unknown group $g" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	[ $check -eq 1 ] || echo "deps: all ${#want[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# haproxy's postinst would start the packaged service; the benchmarks
# start their own instance, so keep the packaged one from running.
# (matched in the shell: `printf | grep -qx` under pipefail fails when grep
# exits before printf's last write)
if [[ " ${missing[*]} " == *" haproxy "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
