// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mpconvctl - look at a running mpconv through its pinned maps.
 *
 *   mpconvctl [-j|--json] [-p|--pin-root DIR] stats
 *
 * `stats` prints the data path's counters summed over CPUs and the drop
 * reasons; names come from the maps' BTF (see agent/counters.h). JSON
 * output (-j) is one object, like `ip -j` / `bpftool -j`.
 *
 * Exit codes: 0 ok, 1 runtime error (maps missing: is mpconvd running?),
 * 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <json-c/json.h>

#include "config.h"
#include "counters.h"

static int open_pin(const char *root, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "mpconvctl: %s: %s (is mpconvd running?)\n",
			path, strerror(errno));
	return fd;
}

static int cmd_stats(const char *root, int json)
{
	struct mpc_counter st[MPC_COUNTERS_MAX], dr[MPC_COUNTERS_MAX];
	int sfd, dfd, ns, nd, i;

	sfd = open_pin(root, "mpc_stats");
	if (sfd < 0)
		return 1;
	dfd = open_pin(root, "mpc_drops");
	if (dfd < 0) {
		close(sfd);
		return 1;
	}
	ns = mpc_counters_read_struct(sfd, 0, st, MPC_COUNTERS_MAX);
	nd = mpc_counters_read_enum(dfd, dr, MPC_COUNTERS_MAX);
	close(sfd);
	close(dfd);
	if (ns < 0 || nd < 0) {
		fprintf(stderr, "mpconvctl: reading counters: %s\n",
			strerror(-(ns < 0 ? ns : nd)));
		return 1;
	}
	if (json) {
		json_object *root_obj = json_object_new_object();
		json_object *jst = json_object_new_object();
		json_object *jdr = json_object_new_object();

		for (i = 0; i < ns; i++)
			json_object_object_add(
				jst, st[i].name,
				json_object_new_uint64(st[i].value));
		for (i = 0; i < nd; i++)
			json_object_object_add(
				jdr, dr[i].name,
				json_object_new_uint64(dr[i].value));
		json_object_object_add(root_obj, "stats", jst);
		json_object_object_add(root_obj, "drops", jdr);
		puts(json_object_to_json_string_ext(root_obj,
						    JSON_C_TO_STRING_PLAIN));
		json_object_put(root_obj);
		return 0;
	}
	printf("counters (summed over CPUs):\n");
	for (i = 0; i < ns; i++)
		printf("  %-24s %llu\n", st[i].name,
		       (unsigned long long)st[i].value);
	printf("drops by reason:\n");
	for (i = 0; i < nd; i++)
		printf("  %-24s %llu\n", dr[i].name,
		       (unsigned long long)dr[i].value);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mpconvctl [-j|--json] [-p|--pin-root DIR] stats\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"pin-root", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *root = MPC_PIN_ROOT_DEFAULT, *cmd;
	int o, json = 0;

	while ((o = getopt_long(argc, argv, "jp:h", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = 1;
			break;
		case 'p':
			root = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	cmd = optind < argc ? argv[optind] : "stats";
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(root, json);
	usage(stderr);
	return 2;
}
