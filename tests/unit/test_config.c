// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* test_config.c - mpconvd configuration: keys, values, file, docs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "mpconv/sched.h"

static char err[256];

static int set(struct mpc_config *c, const char *k, const char *v)
{
	return mpc_config_set(c, k, v, err, sizeof(err));
}

static void test_issue_example(void **state)
{
	struct mpc_config c;
	struct mpc_ip ip;
	char buf[64];

	(void)state;
	mpc_config_defaults(&c);
	assert_int_equal(set(&c, "role", "network"), 0);
	assert_int_equal(set(&c, "mode", "explicit"), 0);
	assert_int_equal(set(&c, "listen", "192.0.2.1:5124"), 0);
	assert_int_equal(set(&c, "interfaces", "m1,m2,m3"), 0);
	assert_int_equal(set(&c, "external-address", "203.0.113.1"), 0);
	assert_int_equal(set(&c, "allow", "192.0.2.0/24"), 0);
	assert_int_equal(mpc_config_validate(&c, err, sizeof(err)), 0);

	assert_int_equal(c.n_interfaces, 3);
	assert_string_equal(c.interfaces[2], "m3");
	assert_int_equal(c.listen[0].port, 5124);
	mpc_ip_str(&c.listen[0].ip, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(c.n_allow, 1);
	assert_int_equal(c.allow[0].len, 96 + 24);
	assert_int_equal(mpc_ip_parse("192.0.2.200", &ip), 0);
	assert_true(mpc_prefix_match(&c.allow[0], &ip));
	assert_int_equal(mpc_ip_parse("192.0.3.1", &ip), 0);
	assert_false(mpc_prefix_match(&c.allow[0], &ip));
	/* an IPv6 address never matches an IPv4 prefix */
	assert_int_equal(mpc_ip_parse("2001:db8::1", &ip), 0);
	assert_false(mpc_prefix_match(&c.allow[0], &ip));
}

static void test_ipv6_values(void **state)
{
	struct mpc_config c;
	struct mpc_ip ip;

	(void)state;
	mpc_config_defaults(&c);
	assert_int_equal(set(&c, "listen", "[2001:db8:1::1]:5124"), 0);
	assert_false(mpc_ip_is_v4(&c.listen[0].ip));
	assert_int_equal(
		set(&c, "listen", "192.0.2.1:5124,[2001:db8:1::1]:5124"), 0);
	assert_int_equal(c.n_listen, 2);
	assert_true(mpc_ip_is_v4(&c.listen[0].ip));
	assert_false(mpc_ip_is_v4(&c.listen[1].ip));
	assert_int_equal(set(&c, "allow", "2001:db8:1::/64, 192.0.2.128/25"),
			 0);
	assert_int_equal(c.n_allow, 2);
	assert_int_equal(mpc_ip_parse("2001:db8:1::99", &ip), 0);
	assert_true(mpc_prefix_match(&c.allow[0], &ip));
	assert_int_equal(mpc_ip_parse("2001:db8:2::99", &ip), 0);
	assert_false(mpc_prefix_match(&c.allow[0], &ip));
	assert_int_equal(mpc_ip_parse("192.0.2.130", &ip), 0);
	assert_true(mpc_prefix_match(&c.allow[1], &ip));
	assert_int_equal(mpc_ip_parse("192.0.2.127", &ip), 0);
	assert_false(mpc_prefix_match(&c.allow[1], &ip));
	assert_int_equal(
		set(&c, "external-address", "203.0.113.1,2001:db8:ff::1"), 0);
	assert_int_equal(c.n_ext, 2);
}

static void test_bad_values(void **state)
{
	static const char *const bad[][2] = {
		{"role", "router"},
		{"mode", "explicitly"},
		{"listen", "192.0.2.1"},
		{"listen", "192.0.2.1:0"},
		{"listen", "192.0.2.1:65536"},
		{"listen", "2001:db8::1:5124"}, /* v6 needs brackets */
		{"listen", "[2001:db8::1]5124"},
		{"listen", "host.example:80"},
		{"allow", "192.0.2.1/24"}, /* host bits set */
		{"allow", "192.0.2.0/33"},
		{"allow", "192.0.2.0/"},
		{"allow", "2001:db8::/129"},
		{"external-address", "203.0.113.300"},
		{"datapath", "dpdk"},
		{"pin-root", "relative/path"},
		{"log-level", "loud"},
		{"stats-interval", "-1"},
		{"stats-interval", "10s"},
		{"interfaces", "an-interface-name-too-long"},
		{"no-such-key", "1"},
	};
	struct mpc_config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mpc_config_defaults(&c);
		err[0] = '\0';
		if (set(&c, bad[i][0], bad[i][1]) == 0)
			fail_msg("%s=%s accepted", bad[i][0], bad[i][1]);
		assert_true(strlen(err) > 0);
	}
}

static void test_validate(void **state)
{
	struct mpc_config c;

	(void)state;
	mpc_config_defaults(&c);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "interfaces"));
	assert_int_equal(set(&c, "interfaces", "m1"), 0);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "listen"));
	assert_int_equal(set(&c, "listen", "192.0.2.1:5124"), 0);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "external-address"));
	/* transparent mode needs neither */
	mpc_config_defaults(&c);
	assert_int_equal(set(&c, "interfaces", "m1"), 0);
	assert_int_equal(set(&c, "mode", "transparent"), 0);
	assert_int_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	/* gro-interfaces must name attached interfaces */
	assert_int_equal(set(&c, "interfaces", "m1,m2,m3"), 0);
	assert_int_equal(set(&c, "gro-interfaces", "m1,m2"), 0);
	assert_int_equal(c.n_gro_ifaces, 2);
	assert_string_equal(c.gro_ifaces[1], "m2");
	assert_int_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(set(&c, "gro-interfaces", "m1,eth9"), 0);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "eth9"));
	assert_int_not_equal(set(&c, "gro-interfaces",
				 "an-interface-name-too-long-for-linux"),
			     0);
}

/* announce: Address IDs, the data path's service endpoints, refusals */
static void test_announce(void **state)
{
	struct mpc_endpoint svc[MPC_DP_MAX_LISTEN];
	struct mpc_config c;
	struct mpc_ip ip;
	char buf[64];

	(void)state;
	mpc_config_defaults(&c);
	assert_int_equal(set(&c, "interfaces", "m1,m2,m3"), 0);
	assert_int_equal(
		set(&c, "listen", "192.0.2.1:5124,[2001:db8:1::1]:5125"), 0);
	assert_int_equal(set(&c, "external-address", "203.0.113.1"), 0);
	assert_int_equal(set(&c, "announce", "192.0.2.129, 2001:db8:2::1"), 0);
	assert_int_equal(c.n_announce, 2);
	/* joins are off by default: nobody could use the addresses */
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "max-subflows"));
	assert_int_equal(set(&c, "max-subflows", "2"), 0);
	assert_int_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	/* IDs in list order, from 1; anything else 0 */
	assert_int_equal(mpc_ip_parse("2001:db8:2::1", &ip), 0);
	assert_int_equal(mpc_config_announce_id(&c, &ip), 2);
	assert_int_equal(mpc_ip_parse("192.0.2.129", &ip), 0);
	assert_int_equal(mpc_config_announce_id(&c, &ip), 1);
	assert_int_equal(mpc_ip_parse("192.0.2.1", &ip), 0);
	assert_int_equal(mpc_config_announce_id(&c, &ip), 0);
	/* service endpoints: listen first, then each announced address
	 * with the listen port of its family */
	assert_int_equal(mpc_config_services(&c, svc, MPC_DP_MAX_LISTEN), 4);
	mpc_ip_str(&svc[2].ip, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.129");
	assert_int_equal(svc[2].port, 5124);
	mpc_ip_str(&svc[3].ip, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:2::1");
	assert_int_equal(svc[3].port, 5125);
	assert_int_equal(mpc_config_services(&c, svc, 3), -1);
	/* a third address does not fit the data path's four endpoints */
	assert_int_equal(set(&c, "announce",
			     "192.0.2.129,2001:db8:2::1,"
			     "198.51.100.9"),
			 0);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "service"));
	/* no listen endpoint of the family: the port would be unknown */
	assert_int_equal(set(&c, "listen", "192.0.2.1:5124"), 0);
	assert_int_equal(set(&c, "announce", "2001:db8:2::1"), 0);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "family"));
	/* a listen address is ID 0, never announced */
	assert_int_equal(set(&c, "announce", "192.0.2.1"), 0);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "listen address"));
	/* malformed, repeated, too many */
	assert_int_not_equal(set(&c, "announce", "192.0.2.300"), 0);
	assert_int_not_equal(set(&c, "announce", "192.0.2.129:5124"), 0);
	assert_int_not_equal(set(&c, "announce", "192.0.2.129,192.0.2.129"), 0);
	assert_int_not_equal(set(&c, "announce",
				 "192.0.2.5,192.0.2.6,"
				 "192.0.2.7,192.0.2.8"),
			     0);
	/* an explicit-mode network converter only */
	assert_int_equal(set(&c, "announce", "192.0.2.129"), 0);
	assert_int_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(set(&c, "role", "cpe"), 0);
	assert_int_not_equal(mpc_config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "announce"));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_scheduler(void **state)
{
	struct mpc_config c;
	struct mpc_ip a, b6, other;

	(void)state;
	mpc_config_defaults(&c);
	assert_int_equal(mpc_ip_parse("198.51.100.7", &a), 0);
	assert_int_equal(mpc_ip_parse("2001:db8:3::2", &b6), 0);
	assert_int_equal(mpc_ip_parse("203.0.113.9", &other), 0);
	/* default: aggregate for everything */
	assert_int_equal(mpc_sched_for(&c, &a, 443), MPC_SCHED_AGGREGATE);
	assert_int_equal(set(&c, "scheduler", "backup"), 0);
	assert_int_equal(mpc_sched_for(&c, &a, 443), MPC_SCHED_BACKUP);
	/* rules: first match, port optional, an item without '=' is the
	 * default wherever it stands */
	assert_int_equal(
		set(&c, "scheduler",
		    "198.51.100.0/24@443=backup, aggregate, "
		    "2001:db8:3::/48=backup, 198.51.100.0/24=aggregate"),
		0);
	assert_int_equal(c.n_sched, 3);
	assert_int_equal(mpc_sched_for(&c, &a, 443), MPC_SCHED_BACKUP);
	assert_int_equal(mpc_sched_for(&c, &a, 80), MPC_SCHED_AGGREGATE);
	assert_int_equal(mpc_sched_for(&c, &b6, 80), MPC_SCHED_BACKUP);
	assert_int_equal(mpc_sched_for(&c, &other, 443), MPC_SCHED_AGGREGATE);
	/* bad: unknown policy, port 0 or too big, host bits, no prefix */
	assert_int_not_equal(set(&c, "scheduler", "roundrobin"), 0);
	assert_int_not_equal(set(&c, "scheduler", "198.51.100.0/24@0=backup"),
			     0);
	assert_int_not_equal(
		set(&c, "scheduler", "198.51.100.0/24@65536=backup"), 0);
	assert_int_not_equal(set(&c, "scheduler", "198.51.100.1/24=backup"), 0);
	assert_int_not_equal(set(&c, "scheduler", "=backup"), 0);
	/* max-subflows: joins off unless configured */
	assert_int_equal(c.max_subflows, 1);
	assert_int_equal(set(&c, "max-subflows", "8"), 0);
	assert_int_equal(c.max_subflows, 8);
	assert_int_equal(set(&c, "max-subflows", "1"), 0);
	assert_int_equal(c.max_subflows, 1);
	assert_int_not_equal(set(&c, "max-subflows", "0"), 0);
	assert_int_not_equal(set(&c, "max-subflows", "9"), 0);
}

static void test_file(void **state)
{
	char path[] = "/tmp/mpc-config-XXXXXX";
	struct mpc_config c;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "; comment\n[mpconvd]\nrole = cpe\n"
			 "interfaces = m1, m2\ndatapath = tc\n");
	mpc_config_defaults(&c);
	assert_int_equal(mpc_config_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.role, MPC_ROLE_CPE);
	assert_int_equal(c.n_interfaces, 2);
	assert_string_equal(c.interfaces[1], "m2");
	assert_int_equal(c.datapath, MPC_DP_TC);

	/* a bad value names the file and the line */
	write_file(path, "role = cpe\n\ndatapath = fast\n");
	mpc_config_defaults(&c);
	assert_int_not_equal(mpc_config_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "datapath"));

	write_file(path, "[other]\nrole = cpe\n");
	assert_int_not_equal(mpc_config_load(&c, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "other"));
	unlink(path);
	assert_int_not_equal(mpc_config_load(&c, path, err, sizeof(err)), 0);
}

/* docs/configuration.md must document every key the agent accepts */
static void test_docs_list_every_key(void **state)
{
	const char *docs = getenv("MPC_DOCS") ? getenv("MPC_DOCS")
					      : "docs/configuration.md";
	static char text[65536];
	size_t i, n;
	FILE *f;

	(void)state;
	f = fopen(docs, "r");
	if (!f)
		skip();
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (i = 0; i < mpc_config_nkeys; i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "| `%s` |",
			 mpc_config_keys[i].name);
		if (!strstr(text, needle))
			fail_msg("%s does not document key %s", docs,
				 mpc_config_keys[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_ipv6_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_announce),
		cmocka_unit_test(test_scheduler),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_docs_list_every_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
