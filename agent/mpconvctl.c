// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mpconvctl - look at a running mpconv through its pinned maps.
 *
 *   mpconvctl [-j|--json] [-p|--pin-root DIR] stats
 *   mpconvctl [-j|--json] [-p|--pin-root DIR] conns
 *
 * `stats` prints the data path's counters summed over CPUs, the drop
 * reasons and the agent's counters; names come from the maps' BTF (see
 * agent/counters.h). `conns` lists converted connections: both ends, the
 * leg, protocol, state, bytes each way, idle time. JSON output (-j) is one
 * object, like `ip -j` / `bpftool -j`.
 *
 * Exit codes: 0 ok, 1 runtime error (maps missing: is mpconvd running?),
 * 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <json-c/json.h>

#include "config.h"
#include "counters.h"
#include "mpconv/conn.h"

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

static json_object *counters_json(const struct mpc_counter *c, int n)
{
	json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < n; i++)
		json_object_object_add(o, c[i].name,
				       json_object_new_uint64(c[i].value));
	return o;
}

static void counters_print(const char *title, const struct mpc_counter *c,
			   int n)
{
	int i;

	printf("%s:\n", title);
	for (i = 0; i < n; i++)
		printf("  %-26s %llu\n", c[i].name,
		       (unsigned long long)c[i].value);
}

static int cmd_stats(const char *root, int json)
{
	struct mpc_counter st[MPC_COUNTERS_MAX], dr[MPC_COUNTERS_MAX],
		ag[MPC_COUNTERS_MAX];
	int sfd, dfd, afd, ns, nd, na = 0;

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
	/* the agent's counters: absent on a data path without an agent */
	afd = open_pin(root, "mpc_agent");
	if (afd >= 0) {
		na = mpc_counters_read_struct(afd, 0, ag, MPC_COUNTERS_MAX);
		close(afd);
		if (na < 0)
			na = 0;
	}
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "stats", counters_json(st, ns));
		json_object_object_add(o, "drops", counters_json(dr, nd));
		json_object_object_add(o, "agent", counters_json(ag, na));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return 0;
	}
	counters_print("data path counters (summed over CPUs)", st, ns);
	counters_print("drops by reason", dr, nd);
	if (na)
		counters_print("agent", ag, na);
	return 0;
}

static const char *state_name(__u32 s)
{
	static const char *const names[] = {
		[MPC_CS_FREE] = "free",
		[MPC_CS_LEG_SYN_SENT] = "leg-syn-sent",
		[MPC_CS_SYNACK_SENT] = "synack-sent",
		[MPC_CS_ESTABLISHED] = "established",
		[MPC_CS_CLOSING] = "closing",
		[MPC_CS_ERROR] = "error-answer",
		[MPC_CS_DEAD] = "dead",
		[MPC_CS_NOKEY] = "nokey",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void endpoint(char *buf, size_t len, const __u32 *w, __u8 family,
		     __u16 port)
{
	char a[INET6_ADDRSTRLEN];

	if (family == 4) {
		inet_ntop(AF_INET, &w[3], a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, w, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, port);
	}
}

static const char *sf_state(const struct mpc_subflow *sf)
{
	if (!(sf->flags & MPC_SF_ACTIVE))
		return "closed";
	return (sf->flags & MPC_SF_BACKUP) ? "backup" : "active";
}

/* every subflow slot in use: the first, and joins (closed ones too) */
static json_object *subflows_json(const struct mpc_conn *c)
{
	json_object *arr = json_object_new_array();
	unsigned int i;

	for (i = 0; i < MPC_MAX_SUBFLOWS; i++) {
		const struct mpc_subflow *sf = &c->sf[i];
		json_object *o;
		char rem[64], loc[64];

		if (!sf->family)
			continue;
		endpoint(rem, sizeof(rem), sf->remote, sf->family, sf->rport);
		endpoint(loc, sizeof(loc), sf->local, sf->family, sf->lport);
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int((int)i));
		json_object_object_add(o, "client",
				       json_object_new_string(rem));
		/* the converter's end: the service or an announced address */
		json_object_object_add(o, "service",
				       json_object_new_string(loc));
		json_object_object_add(o, "state",
				       json_object_new_string(sf_state(sf)));
		json_object_object_add(o, "up_bytes",
				       json_object_new_uint64(sf->up_bytes));
		json_object_object_add(o, "down_bytes",
				       json_object_new_uint64(sf->down_bytes));
		json_object_object_add(o, "segments_to_client",
				       json_object_new_uint64(sf->acks));
		/* what the downstream scheduler knows (include/mpconv/multi.h) */
		json_object_object_add(o, "srtt_us",
				       json_object_new_int64(sf->srtt_us));
		json_object_object_add(
			o, "rate_kbit_s",
			json_object_new_int64((int64_t)sf->rate * 8));
		json_object_object_add(
			o, "in_flight",
			json_object_new_int64(
				(int64_t)(uint32_t)(sf->dn_nxt - sf->dn_una)));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* text: one indented line per subflow when there are joins */
static void subflows_print(const struct mpc_conn *c)
{
	unsigned int i;

	if (!c->sf[1].family)
		return;
	for (i = 0; i < MPC_MAX_SUBFLOWS; i++) {
		const struct mpc_subflow *sf = &c->sf[i];
		char rem[64], loc[64];

		if (!sf->family)
			continue;
		endpoint(rem, sizeof(rem), sf->remote, sf->family, sf->rport);
		endpoint(loc, sizeof(loc), sf->local, sf->family, sf->lport);
		printf("      sf%u %-7s %-26s %-26s %12llu %12llu\n", i,
		       sf_state(sf), rem, loc, (unsigned long long)sf->up_bytes,
		       (unsigned long long)sf->down_bytes);
	}
}

static int cmd_conns(const char *root, int json)
{
	json_object *arr = json ? json_object_new_array() : NULL;
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info), id;
	struct timespec ts;
	__u64 now;
	int fd, n = 0;

	fd = open_pin(root, "mpc_conns");
	if (fd < 0)
		return 1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return 1;
	}
	/* the data path stamps with bpf_ktime_get_coarse_ns() */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	if (!json)
		printf("%-5s %-12s %-5s %-26s %-26s %-26s %12s %12s %6s\n",
		       "id", "state", "proto", "client", "service", "server",
		       "up_bytes", "down_bytes", "idle_s");
	for (id = 0; id < info.max_entries; id++) {
		char cli[64], svc[64], srv[64], leg[64];
		struct mpc_conn c;
		__u64 last, idle;

		if (bpf_map_lookup_elem(fd, &id, &c) || c.state == MPC_CS_FREE)
			continue;
		n++;
		endpoint(cli, sizeof(cli), c.sf[0].remote, c.sf[0].family,
			 c.sf[0].rport);
		endpoint(svc, sizeof(svc), c.sf[0].local, c.sf[0].family,
			 c.sf[0].lport);
		endpoint(srv, sizeof(srv), c.leg_remote, c.leg_family,
			 c.leg_rport);
		endpoint(leg, sizeof(leg), c.leg_local, c.leg_family,
			 c.leg_lport);
		last = c.last_up_ns > c.last_down_ns ? c.last_up_ns
						     : c.last_down_ns;
		idle = last && now > last ? (now - last) / 1000000000ull : 0;
		if (json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "id",
					       json_object_new_int64(id));
			json_object_object_add(
				o, "state",
				json_object_new_string(state_name(c.state)));
			json_object_object_add(
				o, "protocol",
				json_object_new_string((c.flags & MPC_CF_PLAIN)
							       ? "tcp"
							       : "mptcp"));
			json_object_object_add(o, "client",
					       json_object_new_string(cli));
			json_object_object_add(o, "service",
					       json_object_new_string(svc));
			json_object_object_add(o, "leg",
					       json_object_new_string(leg));
			json_object_object_add(o, "server",
					       json_object_new_string(srv));
			if (!(c.flags & MPC_CF_PLAIN)) {
				char tok[16];

				/* the token MP_JOINs name (as ss -M shows) */
				snprintf(tok, sizeof(tok), "%08x",
					 c.token_local);
				json_object_object_add(
					o, "token",
					json_object_new_string(tok));
			}
			json_object_object_add(
				o, "subflows",
				json_object_new_int(c.n_subflows));
			json_object_object_add(
				o, "up_bytes",
				json_object_new_uint64(c.up_bytes));
			json_object_object_add(
				o, "down_bytes",
				json_object_new_uint64(c.down_bytes));
			json_object_object_add(
				o, "up_packets",
				json_object_new_uint64(c.up_pkts));
			json_object_object_add(
				o, "down_packets",
				json_object_new_uint64(c.down_pkts));
			json_object_object_add(o, "idle_s",
					       json_object_new_uint64(idle));
			json_object_object_add(o, "sf", subflows_json(&c));
			json_object_array_add(arr, o);
		} else {
			printf("%-5u %-12s %-5s %-26s %-26s %-26s %12llu %12llu %6llu\n",
			       id, state_name(c.state),
			       (c.flags & MPC_CF_PLAIN) ? "tcp" : "mptcp", cli,
			       svc, srv, (unsigned long long)c.up_bytes,
			       (unsigned long long)c.down_bytes,
			       (unsigned long long)idle);
			subflows_print(&c);
		}
	}
	close(fd);
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "connections", arr);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("%d connection(s)\n", n);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mpconvctl [-j|--json] [-p|--pin-root DIR] stats|conns\n");
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
	if (strcmp(cmd, "conns") == 0)
		return cmd_conns(root, json);
	usage(stderr);
	return 2;
}
