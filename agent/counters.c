// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* counters.c - per-CPU counter maps read through their BTF */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "counters.h"

/* the map's info and its BTF as loaded in the kernel */
static int map_btf(int map_fd, struct bpf_map_info *info, struct btf **btf)
{
	__u32 len = sizeof(*info);
	int err;

	memset(info, 0, sizeof(*info));
	err = bpf_obj_get_info_by_fd(map_fd, info, &len);
	if (err)
		return -errno;
	if (!info->btf_id)
		return -ENOENT;
	*btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!*btf)
		return -errno ? -errno : -ENOENT;
	return 0;
}

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, MPC_COUNTER_NAME_MAX, "%s", src ? src : "?");
}

int mpc_counters_read_struct(int map_fd, __u32 key, struct mpc_counter *out,
			     int max)
{
	struct bpf_map_info info;
	const struct btf_type *t;
	const struct btf_member *m;
	struct btf *btf = NULL;
	int ncpu, n = 0, err, i, c;
	__u32 vsz;
	__u8 *vals = NULL;

	err = map_btf(map_fd, &info, &btf);
	if (err)
		return err;
	t = btf__type_by_id(btf,
			    btf__resolve_type(btf, info.btf_value_type_id));
	if (!t || !btf_is_struct(t)) {
		err = -EINVAL;
		goto out;
	}
	/* per-CPU maps hand out one value per possible CPU */
	ncpu = info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
			       info.type == BPF_MAP_TYPE_PERCPU_HASH
		       ? libbpf_num_possible_cpus()
		       : 1;
	if (ncpu <= 0) {
		err = ncpu ? ncpu : -EINVAL;
		goto out;
	}
	/* per-CPU values are laid out every round_up(value_size, 8) bytes */
	vsz = (info.value_size + 7) & ~7u;
	vals = calloc(ncpu, vsz);
	if (!vals) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(map_fd, &key, vals)) {
		err = -errno;
		goto out;
	}
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t) && n < max; i++, m++) {
		__u32 off = btf_member_bit_offset(t, i) / 8;
		const struct btf_type *mt =
			btf__type_by_id(btf, btf__resolve_type(btf, m->type));

		if (!mt || !btf_is_int(mt) || mt->size != 8)
			continue;
		copy_name(out[n].name, btf__name_by_offset(btf, m->name_off));
		out[n].value = 0;
		for (c = 0; c < ncpu; c++) {
			__u64 v;

			memcpy(&v, vals + (size_t)c * vsz + off, sizeof(v));
			out[n].value += v;
		}
		n++;
	}
	err = n;
out:
	free(vals);
	btf__free(btf);
	return err;
}

int mpc_counters_read_enum(int map_fd, struct mpc_counter *out, int max)
{
	struct bpf_map_info info;
	const struct btf_type *t;
	const struct btf_enum *e;
	struct btf *btf = NULL;
	int ncpu, n = 0, err, i, c;
	__u64 *vals = NULL;

	err = map_btf(map_fd, &info, &btf);
	if (err)
		return err;
	t = btf__type_by_id(btf, btf__resolve_type(btf, info.btf_key_type_id));
	if (!t || !btf_is_enum(t) || info.value_size != 8) {
		err = -EINVAL;
		goto out;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		err = ncpu ? ncpu : -EINVAL;
		goto out;
	}
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals) {
		err = -ENOMEM;
		goto out;
	}
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t) && n < max; i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);
		__u32 key = (__u32)e->val;

		/* the __MAX sentinel is not a reason */
		if (name && strstr(name, "__MAX"))
			continue;
		copy_name(out[n].name, name);
		out[n].value = 0;
		if (bpf_map_lookup_elem(map_fd, &key, vals) == 0)
			for (c = 0; c < ncpu; c++)
				out[n].value += vals[c];
		n++;
	}
	err = n;
out:
	free(vals);
	btf__free(btf);
	return err;
}

__u64 mpc_counter_get(const struct mpc_counter *c, int n, const char *name,
		      int *found)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(c[i].name, name) == 0) {
			if (found)
				*found = 1;
			return c[i].value;
		}
	}
	if (found)
		*found = 0;
	return 0;
}
