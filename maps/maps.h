/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * maps.h - the BTF map definitions of the mpconv data path (BPF only; the
 * agent reaches the maps through the skeleton or the pins listed in
 * maps/README.md). One line per map says what it holds.
 */
#ifndef MPCONV_MAPS_H
#define MPCONV_MAPS_H

#include "mpconv/abi.h"

/* named per-CPU counters (struct mpc_stats), one entry */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mpc_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_stats SEC(".maps");

/*
 * per-CPU drop counts keyed by enum mpc_drop_reason. A hash, not an array:
 * array maps only take BTF integer keys (the kernel refuses an enum key
 * with EINVAL), and the enum key is what makes `bpftool map dump` print
 * reason names. Entries are created on the first drop of each reason.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MPC_DROP__MAX);
	__type(key, enum mpc_drop_reason);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mpc_drops SEC(".maps");

#endif /* MPCONV_MAPS_H */
