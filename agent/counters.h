/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * counters.h - read the data path's per-CPU counter maps by their BTF.
 *
 * The value type of a counter map is a struct of __u64 fields (struct
 * mpc_stats) or a single __u64 (mpc_drops, keyed by an enum). Names come
 * from the map's own BTF as the kernel holds it, so mpconvctl, the fixture
 * runner and `bpftool map dump` always agree, and a new field needs no
 * code change here.
 */
#ifndef MPCONV_AGENT_COUNTERS_H
#define MPCONV_AGENT_COUNTERS_H

#include <linux/types.h>
#include <stddef.h>

#define MPC_COUNTER_NAME_MAX 48
#define MPC_COUNTERS_MAX 128

struct mpc_counter {
	char name[MPC_COUNTER_NAME_MAX];
	__u64 value; /* summed over all possible CPUs */
};

/*
 * Struct-valued array, per-CPU (mpc_stats, summed) or not (mpc_agent): one
 * counter per __u64 member of the value at `key`. Returns the number of
 * counters or -errno.
 */
int mpc_counters_read_struct(int map_fd, __u32 key, struct mpc_counter *out,
			     int max);

/*
 * Enum-keyed per-CPU hash of __u64 (mpc_drops): one counter per enumerator
 * of the key type, 0 where the map has no entry. Returns the number of
 * counters or -errno.
 */
int mpc_counters_read_enum(int map_fd, struct mpc_counter *out, int max);

/* value of `name` in out[0..n), or 0 with *found = 0 */
__u64 mpc_counter_get(const struct mpc_counter *c, int n, const char *name,
		      int *found);

#endif /* MPCONV_AGENT_COUNTERS_H */
