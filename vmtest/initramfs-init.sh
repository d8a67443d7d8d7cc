#!/bin/busybox sh
# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# /init of the vmtest initramfs (vmtest/run.sh packs it with a static
# busybox and the guest kernel's modules). It
#   1. loads the modules listed in /etc/vmtest-modules (insmod, in
#      dependency order, as modprobe --show-depends printed them),
#   2. mounts the host's root (virtiofs tag mpc-root, read-only: the host
#      shares a read-only bind mount) as the lower layer of an overlayfs
#      whose upper layer is a tmpfs, so the guest runs the host's very
#      binaries and scripts and can change its own view without touching
#      the host,
#   3. mounts the writable results share (virtiofs tag mpc-results) at
#      /mnt/vmtest in the new root,
#   4. switch_roots into it and runs $TOP/vmtest/guest.sh as PID 1.
# Anything that goes wrong here is printed on the console (the host's
# console.log) and the guest powers off: no results means FAIL on the host.

/bin/busybox mkdir -p /bin /proc /sys /dev /tmp /lower /rw /newroot
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() {
	echo "vmtest-init: $*" >/dev/console
}

halt_now() {
	say "$*; powering off"
	sync
	echo o >/proc/sysrq-trigger
	while :; do sleep 1; done
}

# shellcheck source=/dev/null
. /etc/vmtest.conf # TOP (the host tree), KREL
krel=$(uname -r)
# shellcheck disable=SC2153 # KREL comes from /etc/vmtest.conf
[ "$krel" = "$KREL" ] || say "booted $krel, initramfs built for $KREL"

while read -r path params; do
	[ -n "$path" ] || continue
	# shellcheck disable=SC2086 # module parameters, word splitting wanted
	insmod "/lib/modules/$krel/$path" $params 2>/tmp/insmod.err ||
		grep -q 'File exists' /tmp/insmod.err ||
		say "insmod $path failed: $(cat /tmp/insmod.err)"
done </etc/vmtest-modules

mount -t virtiofs -o ro mpc-root /lower || halt_now "cannot mount the host root (virtiofs mpc-root)"
mount -t tmpfs -o mode=0755,size=50% tmpfs /rw || halt_now "no tmpfs for the overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
	halt_now "cannot mount the overlay"
mkdir -p /newroot/mnt/vmtest
mount -t virtiofs mpc-results /newroot/mnt/vmtest || halt_now "cannot mount the results share"
# the guest's own modules also where its modprobe looks, if the host root
# does not have them (a kernel unpacked elsewhere)
if [ ! -d "/newroot/lib/modules/$krel/kernel" ]; then
	mkdir -p "/newroot/lib/modules/$krel"
	cp -a "/lib/modules/$krel/." "/newroot/lib/modules/$krel/"
fi
[ -x "/newroot$TOP/vmtest/guest.sh" ] || halt_now "$TOP/vmtest/guest.sh not found in the host root"

# keep the lower/upper mounts reachable under the new root
mkdir -p /newroot/mnt/vmtest-lower /newroot/mnt/vmtest-rw
mount --move /lower /newroot/mnt/vmtest-lower
mount --move /rw /newroot/mnt/vmtest-rw
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/bash "$TOP/vmtest/guest.sh"
