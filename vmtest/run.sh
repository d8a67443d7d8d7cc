#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup functions are called from traps
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# vmtest/run.sh - the kernel matrix (`make vmtest`): boot every kernel of
# vmtest/KERNELS under qemu (TCG), run the BPF fixtures and the end-to-end
# tests (with netem) inside, print a PASS/FAIL table per kernel and test
# group and the wall time; exit 1 if anything failed (a kernel splat or a
# splat check that could not run counts as a failure). See vmtest/README.md.
#
# usage: vmtest/run.sh [-k PACKAGE]... [--cmd 'SHELL COMMAND'] [--keep DIR]
#   -k, --kernel PKG   boot this kernel package instead of vmtest/KERNELS
#                      (repeatable; installed with apt-get when missing)
#   --cmd CMD          run CMD in the guest instead of the test plan (its
#                      output is printed; for debugging and measurements)
#   --keep DIR         copy each kernel's results (logs, dmesg, console)
#                      to DIR/<release>/ (also VMTEST_KEEP=DIR)
# env: VMTEST_SMP (2), VMTEST_TCG_THREAD (multi|single), VMTEST_MEM (2G),
#   VMTEST_TIMEOUT (hard limit per kernel, s; default 2700), VMTEST_JOBS
#   (kernels booted at once; default nproc), VMTEST_GROUPS
#   ("fixtures e2e"), VMTEST_E2E (e2e tests to run, "name[:timeout] ...",
#   default all), VMTEST_E2E_ENV
#   (their knobs, "VAR=value;VAR=value", see DEFAULT_E2E_ENV),
#   VMTEST_CACHE (virtiofs cache of the root share, default always),
#   MPC_FAIL_DIGEST (a file: the failed checks are appended, one per line)
#
# Needs root (virtiofsd, a private read-only bind mount of /). Starts
# exactly two virtiofsd and one qemu per kernel, ends them by PID and
# removes its temporary directory on every exit path.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# what runs in the guest (vmtest/guest.sh has the timeouts per test): by
# default every tests/e2e/test_*.sh, netem ones first, with sizes for what
# TCG moves here (a single TCP flow ~120 Mbit/s each way unshaped, per-
# packet netem/nft/ifb paths a few tens of Mbit/s; vmtest/README.md)
# test_explicit_multipath needs two links at rates TCG cannot carry (its
# aggregation bounds); at 8 + 8 Mbit/s the client's path manager often
# did not join in time on the host either: skipped, with the reason
DEFAULT_E2E_ENV="SIZE=4M;NETEM_MBIT=8;LINK_MBIT=8;test_harness_mptcp:SIZE=16M;BIG=256M;PAR=10;V6_SIZE=4M;LOSS_SIZE=32M;KILL_SIZE=24M;KILL_RATE=16mbit;DATAPATHS=xdp tc;test_explicit_multipath:MULTI_SKIP=vmtest: the aggregation bounds need two links at rates TCG cannot carry, the multipath data path is verified on this kernel by fixture_runner and test_explicit_joins"

VMTEST_SMP=${VMTEST_SMP:-2}
# TCG threading: single (default) = one host thread for all vCPUs, which
# does not have MTTCG's cross-vCPU code-patching races (vmtest/README.md,
# the 6.12 int3 oops; 27 min for both kernels on d05608e); multi = one
# host thread per vCPU (faster; not measured side by side)
VMTEST_TCG_THREAD=${VMTEST_TCG_THREAD:-single}
VMTEST_MEM=${VMTEST_MEM:-2G}
VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-2700}
# kernels booted at once: each guest's single TCG thread takes one host
# CPU, so by default one per host CPU (vmtest/README.md "Time")
VMTEST_JOBS=${VMTEST_JOBS:-$(nproc)}
VMTEST_GROUPS=${VMTEST_GROUPS:-fixtures e2e}
VMTEST_E2E=${VMTEST_E2E:-}
VMTEST_E2E_ENV=${VMTEST_E2E_ENV:-$DEFAULT_E2E_ENV}
VMTEST_KEEP=${VMTEST_KEEP:-}
VIRTIOFSD=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
# virtiofs cache mode of the host root share (the guest only reads it)
VMTEST_CACHE=${VMTEST_CACHE:-always}
QEMU=${QEMU:-qemu-system-x86_64}

# modules the guest loads from its initramfs (with their dependencies);
# built-in ones are skipped, missing ones reported. The host root's
# /lib/modules/<release> stays available to modprobe after switch_root.
GUEST_MODULES=(virtio_pci virtiofs overlay veth sch_netem sch_tbf sch_htb
	sch_ingress sch_prio ifb tun dummy nf_tables nft_fwd_netdev nft_dup_netdev
	nft_numgen nft_ct cls_bpf act_bpf tcp_bbr)

kernels=()
cmd=''
while [ $# -gt 0 ]; do
	case $1 in
	-k | --kernel) kernels+=("$2"); shift 2 ;;
	--cmd) cmd=$2; shift 2 ;;
	--keep) VMTEST_KEEP=$2; shift 2 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "vmtest: unknown argument $1 (see --help)" >&2
		exit 2
		;;
	esac
done
if [ ${#kernels[@]} -eq 0 ]; then
	if [ -n "${VMTEST_KERNELS:-}" ]; then
		read -r -a kernels <<<"$VMTEST_KERNELS"
	else
		mapfile -t kernels < <(sed 's/#.*//' vmtest/KERNELS | awk 'NF { print $1 }')
	fi
fi
[ ${#kernels[@]} -gt 0 ] || { echo "vmtest: no kernel to boot (vmtest/KERNELS)" >&2; exit 2; }
# the guest mounts a tmpfs of its own on /tmp: a tree there is not visible
case $top in
/tmp | /tmp/*)
	echo "vmtest: the tree is under /tmp ($top), where the guest mounts its own tmpfs; clone it elsewhere (e.g. /var/tmp)" >&2
	exit 2
	;;
esac
[ "$(id -u)" -eq 0 ] || { echo "vmtest: needs root (virtiofsd, bind mounts)" >&2; exit 2; }
for c in "$QEMU" "$VIRTIOFSD" cpio busybox unshare modprobe; do
	command -v "$c" >/dev/null || { echo "vmtest: $c missing (tools/deps.sh vm)" >&2; exit 2; }
done
if [ -z "$cmd" ]; then
	for f in build/tests/fixture_runner build/mpconvd build/mpconvctl build/tools/xfer; do
		[ -x "$f" ] || { echo "vmtest: $f not built (make all build/tests/fixture_runner)" >&2; exit 2; }
	done
fi

wall_start=$(date +%s)
tmp=$(mktemp -d /tmp/mpc-vmtest.XXXXXX)
PIDS=()
KIDS=() # kernel jobs (VMTEST_JOBS > 1)

log() {
	printf 'vmtest: %s\n' "$*"
}

# stop PID: TERM, 3 s, KILL; only processes this script started
stop_pid() {
	local pid=$1 _
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	PIDS=()
}

# the read-only view of / only exists in virtiofsd's private mount
# namespace; its mount point here is an empty directory, removed with
# rmdir (never recursively: if it ever held the host's root, rm -rf
# would walk it)
remove_tmp() {
	local d
	[ -d "$tmp" ] || return 0
	for d in "$tmp"/*/lower; do
		[ -d "$d" ] || continue
		if mountpoint -q "$d"; then
			echo "vmtest: $d is still a mount point; leaving $tmp alone" >&2
			return 1
		fi
		rmdir "$d" 2>/dev/null || {
			echo "vmtest: $d not empty; leaving $tmp alone" >&2
			return 1
		}
	done
	rm -rf "$tmp"
}

on_exit() {
	local rc=$? k
	trap - EXIT INT TERM HUP
	# kernel jobs first: each stops its own qemu and virtiofsd
	for k in "${KIDS[@]}"; do
		kill -TERM "$k" 2>/dev/null || true
	done
	for k in "${KIDS[@]}"; do
		wait "$k" 2>/dev/null || true
	done
	stop_all
	remove_tmp || true
	exit "$rc"
}
trap on_exit EXIT
trap 'echo "vmtest: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- kernels -----------------------------------------------------------------

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_pkg() {
	local pkg=$1
	pkg_installed "$pkg" && return 0
	log "installing $pkg"
	export DEBIAN_FRONTEND=noninteractive
	local apt=(apt-get -o DPkg::Lock::Timeout=300 -y -q)
	if ! "${apt[@]}" install --no-install-recommends "$pkg"; then
		"${apt[@]}" update
		"${apt[@]}" install --no-install-recommends "$pkg"
	fi
}

# kernel_release PKG: the release (uname -r) of the kernel PKG installs,
# following Depends from a meta-package to the package that ships
# /boot/vmlinuz-<release>
kernel_release() {
	local queue=("$1") seen=' ' p f deps
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		case $seen in *" $p "*) continue ;; esac
		seen+="$p "
		pkg_installed "$p" || continue
		f=$(dpkg-query -L "$p" 2>/dev/null | grep -m1 '^/boot/vmlinuz-' || true)
		if [ -n "$f" ]; then
			printf '%s\n' "${f#/boot/vmlinuz-}"
			return 0
		fi
		deps=$(dpkg-query -W -f='${Depends}' "$p" 2>/dev/null | sed 's/[,|]/\n/g' |
			awk '{ print $1 }' | grep '^linux-image-' || true)
		# shellcheck disable=SC2206 # package names have no spaces
		queue+=($deps)
	done
	return 1
}

# ---- initramfs ------------------------------------------------------------------

# build_initramfs RELEASE OUT: busybox-static, /init, the modules of
# GUEST_MODULES and their dependencies (decompressed: busybox insmod only
# reads plain .ko)
build_initramfs() {
	local krel=$1 out=$2 st m line path rel params n=0 loaded=' '
	st=$(dirname "$out")/initramfs
	mkdir -p "$st"/{bin,etc,dev,proc,sys,tmp,lower,rw,newroot} "$st/lib/modules/$krel"
	cp /bin/busybox "$st/bin/busybox"
	cp vmtest/initramfs-init.sh "$st/init"
	chmod 755 "$st/init"
	printf 'TOP=%q\nKREL=%q\n' "$top" "$krel" >"$st/etc/vmtest.conf"
	: >"$st/etc/vmtest-modules"
	for m in "${GUEST_MODULES[@]}"; do
		if ! line=$(modprobe -S "$krel" --show-depends "$m" 2>&1); then
			log "$krel: module $m not available ($line)"
			continue
		fi
		while read -r kind path params; do
			[ "$kind" = insmod ] || continue
			rel=${path#/lib/modules/"$krel"/}
			case $loaded in *" $rel "*) continue ;; esac
			loaded+="$rel "
			mkdir -p "$st/lib/modules/$krel/$(dirname "$rel")"
			case $rel in
			*.ko.xz) xz -dc "$path" >"$st/lib/modules/$krel/${rel%.xz}"; rel=${rel%.xz} ;;
			*.ko.zst) zstd -qdc "$path" >"$st/lib/modules/$krel/${rel%.zst}"; rel=${rel%.zst} ;;
			*.ko.gz) gzip -dc "$path" >"$st/lib/modules/$krel/${rel%.gz}"; rel=${rel%.gz} ;;
			*) cp "$path" "$st/lib/modules/$krel/$rel" ;;
			esac
			printf '%s %s\n' "$rel" "$params" >>"$st/etc/vmtest-modules"
			n=$((n + 1))
		done <<<"$line"
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "/lib/modules/$krel/$f" ] && cp "/lib/modules/$krel/$f" "$st/lib/modules/$krel/"
	done
	depmod -b "$st" "$krel" 2>/dev/null || true
	(cd "$st" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
	rm -rf "$st"
	log "$krel: initramfs $(($(stat -c %s "$out") / 1024)) KiB, $n modules"
}

# ---- one kernel -------------------------------------------------------------------

# wait_socket PATH PID: until virtiofsd PID listens on PATH (5 s)
wait_socket() {
	local _
	for _ in $(seq 50); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

RESULTS=()  # "release<TAB>group<TAB>test<TAB>status<TAB>secs<TAB>note"
FAILED=0

add_result() {
	RESULTS+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$@")")
	[ "$4" = PASS ] || [ "$4" = SKIP ] || FAILED=$((FAILED + 1))
}

SPLAT_RE='WARNING:|BUG:|KASAN|UBSAN|Oops|general protection|refcount_t:|Kernel panic|kernel BUG'
# splats of the emulator, not of the guest's code: reported in full, not
# counted (vmtest/README.md "Known emulator artifacts"). One so far: a
# single-step debug trap (DR6.BS) taken in kernel mode, which the kernel
# itself never arms outside kprobes/kgdb (neither is used here) and which
# an eBPF program or a process without ptrace cannot arm
SPLAT_KNOWN_RE='WARNING: CPU: [0-9]+ PID: [0-9]+ at arch/x86/kernel/traps\.c:[0-9]+ exc_debug_kernel\+'
VERIFIER_RE='BEGIN PROG LOAD LOG|failed to load program|failed to load object|Permission denied.*verifier|processed [0-9]+ insns .* (R[0-9]|invalid)'

# run_kernel PKG
run_kernel() {
	local pkg=$1 krel vmlinuz dir res rc qpid vr vs deadline start secs
	local status splats f kt
	if ! ensure_pkg "$pkg"; then
		add_result "$pkg" kernel install FAIL 0 "apt-get install $pkg failed"
		return
	fi
	if ! krel=$(kernel_release "$pkg"); then
		add_result "$pkg" kernel install FAIL 0 "no /boot/vmlinuz-* from $pkg"
		return
	fi
	vmlinuz=/boot/vmlinuz-$krel
	if [ ! -r "$vmlinuz" ] || [ ! -d "/lib/modules/$krel" ]; then
		add_result "$krel" kernel install FAIL 0 "$vmlinuz or /lib/modules/$krel missing"
		return
	fi
	dir=$tmp/$krel
	res=$dir/results
	mkdir -p "$dir/lower" "$res"
	build_initramfs "$krel" "$dir/initramfs.gz"

	{
		printf 'TOP=%q\n' "$top"
		printf 'PATH=%q\n' "$PATH"
		printf 'KREL=%q\n' "$krel"
		printf 'VMTEST_GROUPS=%q\n' "$VMTEST_GROUPS"
		printf 'VMTEST_E2E=%q\n' "$VMTEST_E2E"
		printf 'VMTEST_E2E_ENV=%q\n' "$VMTEST_E2E_ENV"
		printf 'VMTEST_CMD=%q\n' "$cmd"
	} >"$res/job.env"

	# the host root, read-only: a bind mount of / (not recursive: /proc,
	# /sys, /dev, /run/netns and /tmp's mounts stay out) made read-only in
	# virtiofsd's own private mount namespace, so a guest can write
	# nowhere on the host even if it remounted its side read-write.
	# This virtiofsd (QEMU 7.2's C daemon) has no "--sandbox none": its
	# modes are namespace (default) and chroot; chroot is enough inside
	# the private namespace and needs no extra namespaces.
	# shellcheck disable=SC2016 # expanded by that sh, not here
	unshare --mount --propagation private -- sh -c \
		'mount --bind / "$1" && mount -o remount,bind,ro "$1" && exec "$2" --socket-path="$3" -o source="$1" -o sandbox=chroot -o cache=$4 -o no_posix_lock -o no_flock' \
		sh "$dir/lower" "$VIRTIOFSD" "$dir/root.sock" "$VMTEST_CACHE" >"$dir/virtiofsd-root.log" 2>&1 &
	vr=$!
	PIDS+=("$vr")
	"$VIRTIOFSD" --socket-path="$dir/results.sock" -o source="$res" -o sandbox=chroot \
		-o cache=none >"$dir/virtiofsd-results.log" 2>&1 &
	vs=$!
	PIDS+=("$vs")
	if ! wait_socket "$dir/root.sock" "$vr" || ! wait_socket "$dir/results.sock" "$vs"; then
		cat "$dir"/virtiofsd-*.log >&2
		add_result "$krel" kernel boot FAIL 0 "virtiofsd did not start"
		stop_all
		return
	fi

	local accel=tcg,thread=$VMTEST_TCG_THREAD
	log "$krel: booting ($accel, -smp $VMTEST_SMP, -m $VMTEST_MEM, timeout ${VMTEST_TIMEOUT}s)"
	start=$(date +%s)
	# -nodefaults: no NIC (no user-mode network to the outside), no VGA
	"$QEMU" -accel "$accel" -cpu max -smp "$VMTEST_SMP" -m "$VMTEST_MEM" \
		-nodefaults -no-reboot -nographic -display none -monitor none \
		-object "memory-backend-memfd,id=mem,size=$VMTEST_MEM,share=on" \
		-numa node,memdev=mem \
		-chardev "socket,id=vfsroot,path=$dir/root.sock" \
		-device vhost-user-fs-pci,chardev=vfsroot,tag=mpc-root \
		-chardev "socket,id=vfsres,path=$dir/results.sock" \
		-device vhost-user-fs-pci,chardev=vfsres,tag=mpc-results \
		-serial "file:$dir/console.log" \
		-kernel "$vmlinuz" -initrd "$dir/initramfs.gz" \
		-append "console=ttyS0 loglevel=5 panic=-1 mitigations=off" \
		</dev/null >"$dir/qemu.log" 2>&1 &
	qpid=$!
	PIDS+=("$qpid")
	deadline=$((start + VMTEST_TIMEOUT))
	kt=''
	while kill -0 "$qpid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			kt="hard timeout after ${VMTEST_TIMEOUT}s"
			log "$krel: $kt, stopping qemu"
			break
		fi
		sleep 1
	done
	rc=0
	if [ -n "$kt" ]; then
		stop_pid "$qpid"
		rc=124
	else
		wait "$qpid" || rc=$?
	fi
	stop_all
	secs=$(($(date +%s) - start))
	log "$krel: guest ran ${secs}s (qemu exit $rc)"

	if [ -n "$cmd" ]; then
		cat "$res/logs/cmd-command.log" 2>/dev/null || true
	fi
	if [ -f "$res/results.tsv" ]; then
		while IFS=$'\t' read -r g t status s note; do
			add_result "$krel" "$g" "$t" "$status" "$s" "$note"
		done <"$res/results.tsv"
	fi
	if [ ! -f "$res/done" ]; then
		add_result "$krel" kernel run-complete FAIL "$secs" \
			"${kt:-guest stopped before the end (qemu exit $rc)}; console: $(grep -a -m1 -E 'vmtest-init:|Kernel panic' "$dir/console.log" | head -c 160)"
		echo "----- $krel: console (last 40 lines) -----"
		tail -n 40 "$dir/console.log" | tr -d '\r'
		echo "-----"
	fi

	# kernel splats: the guest's dmesg (written last); without it the
	# check could not run, which is a failure, not a pass
	if [ -s "$res/dmesg.txt" ] && grep -q 'Linux version' "$res/dmesg.txt"; then
		splats=$(grep -a -E "$SPLAT_RE" "$res/dmesg.txt" | grep -a -v -E "$SPLAT_KNOWN_RE" || true)
		if grep -a -q -E "$SPLAT_KNOWN_RE" "$res/dmesg.txt"; then
			echo "----- $krel: known emulator artifact in dmesg (not counted, vmtest/README.md) -----"
			grep -a -E -A30 "$SPLAT_KNOWN_RE" "$res/dmesg.txt" | head -n 60
			echo "-----"
		fi
		if [ -n "$splats" ]; then
			add_result "$krel" kernel dmesg-splat-check FAIL 0 "$(printf '%s' "$splats" | head -n1 | sed 's/^\[[^]]*\] //' | head -c 120)"
			echo "----- $krel: kernel splats in dmesg -----"
			grep -a -E -A30 "$SPLAT_RE" "$res/dmesg.txt" | head -n 120
			echo "-----"
		else
			add_result "$krel" kernel dmesg-splat-check PASS 0
		fi
	else
		splats=$(grep -a -E "$SPLAT_RE" "$dir/console.log" || true)
		add_result "$krel" kernel dmesg-splat-check FAIL 0 \
			"no dmesg captured${splats:+; console shows: $(printf '%s' "$splats" | head -n1 | head -c 100)}"
	fi

	# BPF verifier rejections anywhere in the test logs (fixture runner,
	# mpconvd logs kept from failed tests)
	if [ -d "$res/logs" ] && [ -z "$cmd" ]; then
		f=$(grep -a -r -l -E "$VERIFIER_RE" "$res/logs" 2>/dev/null | sed "s|^$res/logs/||" | sort || true)
		if [ -n "$f" ]; then
			add_result "$krel" kernel bpf-verifier FAIL 0 \
				"program load rejected in $(grep -c . <<<"$f") logs, e.g. $(head -n1 <<<"$f")"
		else
			add_result "$krel" kernel bpf-verifier PASS 0
		fi
	fi

	report_failures "$krel" "$res"
	if [ -f "$res/features.txt" ]; then
		echo "----- $krel: kernel features (lib.sh probes) -----"
		cat "$res/features.txt"
	fi
	if [ -n "$VMTEST_KEEP" ]; then
		mkdir -p "$VMTEST_KEEP/$krel"
		cp -a "$res/." "$dir/console.log" "$VMTEST_KEEP/$krel/" 2>/dev/null || true
		log "$krel: results kept in $VMTEST_KEEP/$krel"
	fi
}

# report_failures RELEASE RESULTS: the tail of each failed test's log, and
# for a fixture runner that failed, the verifier's words
report_failures() {
	local krel=$1 res=$2 g t status s note l
	[ -f "$res/results.tsv" ] || return 0
	while IFS=$'\t' read -r g t status s note; do
		[ "$status" = FAIL ] || continue
		l=$res/logs/$g-$t.log
		echo "----- $krel: $g/$t failed ($note): failed checks and cases -----"
		tools/fail-digest.sh "${krel%%-*}/$t" "$l" "$note"
		# (no match is no error: set -e and pipefail would end the
		# report here, before the verifier log and the table)
		grep -n -B 8 -E '^ *not ok|^FAIL:' "$l" 2>/dev/null | grep -v -- '-  ok - ' | head -n 60 || true
		echo "----- $krel: $g/$t: last 40 lines -----"
		tail -n 40 "$l" 2>/dev/null || echo "(no log)"
		echo "-----"
	done <"$res/results.tsv"
	l=$res/logs/fixtures-fixture_runner-verbose.log
	if [ -f "$l" ]; then
		echo "----- $krel: verifier log of the programs that failed to load (fixture_runner -v) -----"
		# per rejected program: its name, then the end of its log (the
		# rejected instruction, the message and the source line before it)
		awk '/BEGIN PROG LOAD LOG/ { p = 1; n = 0; print; next }
		     /END PROG LOAD LOG/ { s = (n > 30) ? n - 30 : 0
			for (i = s; i < n; i++) print buf[i]; print; p = 0; next }
		     p { buf[n++] = $0; next }
		     /failed to load|not ok/ { print }' "$l" | tail -n 150
		echo "-----"
	fi
}

# ---- main ------------------------------------------------------------------------

# one kernel in a background job: its own PIDS, traps that stop its qemu
# and virtiofsd, its report into $tmp/job.N.out and its results (lines
# of RESULTS) into $tmp/job.N.tsv
kernel_job() {
	local i=$1 pkg=$2
	PIDS=()
	RESULTS=()
	trap 'stop_all' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
	run_kernel "$pkg" >"$tmp/job.$i.out" 2>&1
	if [ ${#RESULTS[@]} -gt 0 ]; then
		printf '%s\n' "${RESULTS[@]}" >"$tmp/job.$i.tsv"
	fi
}

# job_report I: print job I's report (as it ends)
job_report() {
	echo "===== vmtest: ${kernels[$1]} ====="
	cat "$tmp/job.$1.out" 2>/dev/null || true
}

# job_results I: take job I's results (in the order of the kernels)
job_results() {
	local i=$1 r f
	if [ -f "$tmp/job.$i.tsv" ]; then
		while IFS= read -r r; do
			IFS=$'\t' read -r -a f <<<"$r"
			add_result "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[4]}" "${f[5]:-}"
		done <"$tmp/job.$i.tsv"
	else
		add_result "${kernels[$i]}" kernel job FAIL 0 "its job ended without results"
	fi
}

if [ "$VMTEST_JOBS" -le 1 ] || [ ${#kernels[@]} -eq 1 ]; then
	for k in "${kernels[@]}"; do
		run_kernel "$k"
	done
else
	# packages first, one at a time (apt and dpkg take a lock)
	for k in "${kernels[@]}"; do
		ensure_pkg "$k" || true
	done
	log "${#kernels[@]} kernels, $VMTEST_JOBS at a time; each one's report follows when it ends (live guest logs: $tmp/<release>/results/logs/)"
	declare -A JOB_OF=() # PID -> index into kernels
	for i in "${!kernels[@]}"; do
		while [ ${#JOB_OF[@]} -ge "$VMTEST_JOBS" ]; do
			wait -n -p done_pid "${!JOB_OF[@]}" || true
			job_report "${JOB_OF[$done_pid]}"
			unset "JOB_OF[$done_pid]"
		done
		kernel_job "$i" "${kernels[$i]}" &
		JOB_OF[$!]=$i
		KIDS+=("$!")
	done
	while [ ${#JOB_OF[@]} -gt 0 ]; do
		wait -n -p done_pid "${!JOB_OF[@]}" || true
		job_report "${JOB_OF[$done_pid]}"
		unset "JOB_OF[$done_pid]"
	done
	KIDS=()
	for i in "${!kernels[@]}"; do
		job_results "$i"
	done
fi

wall=$(($(date +%s) - wall_start))
echo
echo "vmtest results (kernel x group x test)"
printf '%-26s %-9s %-32s %-5s %6s  %s\n' kernel group test result time note
for r in "${RESULTS[@]}"; do
	IFS=$'\t' read -r k g t status s note <<<"$r"
	printf '%-26s %-9s %-32s %-5s %5ss  %s\n' "$k" "$g" "$t" "$status" "$s" "$note"
done
echo
echo "per kernel and group (passed/skipped/failed)"
printf '%s\n' "${RESULTS[@]}" | awk -F'\t' '
	{ key = $1 "\t" $2; if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
	  if ($4 == "PASS") p[key]++; else if ($4 == "SKIP") s[key]++; else f[key]++ }
	END { for (i = 1; i <= n; i++) { k = order[i]; split(k, a, "\t")
		printf "%-26s %-9s %s  %d passed, %d skipped, %d failed\n", a[1], a[2],
			(f[k] ? "FAIL" : "PASS"), p[k], s[k], f[k] } }'
printf 'vmtest wall time: %dm%02ds\n' $((wall / 60)) $((wall % 60))
pass=0 skip=0
for r in "${RESULTS[@]}"; do
	case $(cut -f4 <<<"$r") in PASS) pass=$((pass + 1)) ;; SKIP) skip=$((skip + 1)) ;; esac
done
if [ "$FAILED" -eq 0 ]; then
	echo "vmtest: PASS ($pass passed, $skip skipped, 0 failed)"
	exit 0
fi
echo "vmtest: FAIL ($pass passed, $skip skipped, $FAILED failed)"
exit 1
