/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * config.h - mpconvd configuration: one table of keys, read from an INI
 * file (inih) and from command-line flags of the same names
 * (--KEY VALUE). Every key is documented in docs/configuration.md.
 */
#ifndef MPCONV_AGENT_CONFIG_H
#define MPCONV_AGENT_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpconv/abi.h"

#define MPC_PIN_ROOT_DEFAULT MPC_PIN_ROOT

#define MPC_MAX_IFACES 16
#define MPC_MAX_ALLOW 64
#define MPC_MAX_EXT 16
#define MPC_MAX_LISTEN 4
#define MPC_MAX_ANNOUNCE 3 /* ADD_ADDR Address IDs 1..3 */

enum mpc_role { MPC_ROLE_NETWORK, MPC_ROLE_CPE };
enum mpc_mode { MPC_MODE_EXPLICIT, MPC_MODE_TRANSPARENT };
enum mpc_datapath { MPC_DP_AUTO, MPC_DP_XDP, MPC_DP_TC };

/* an IPv4 or IPv6 address; IPv4 kept as ::ffff:a.b.c.d */
struct mpc_ip {
	uint8_t a[16];
};

struct mpc_prefix {
	struct mpc_ip ip;
	uint8_t len; /* in the v4-mapped space for IPv4: 96 + v4 length */
};

/* a downstream scheduler rule (key `scheduler`): destination -> policy */
struct mpc_sched_rule {
	struct mpc_prefix dst;
	uint16_t port;	/* host order; 0 = any */
	uint8_t policy; /* enum mpc_sched_policy (include/mpconv/sched.h) */
};

#define MPC_MAX_SCHED_RULES 16

struct mpc_endpoint {
	struct mpc_ip ip;
	uint16_t port; /* host order */
	bool set;
};

struct mpc_config {
	enum mpc_role role;
	enum mpc_mode mode;
	struct mpc_endpoint listen[MPC_MAX_LISTEN]; /* Convert service(s) */
	int n_listen;
	char interfaces[MPC_MAX_IFACES][IF_NAMESIZE];
	int n_interfaces;
	/* TC: interfaces where GRO stays on (only clients' packets arrive) */
	char gro_ifaces[MPC_MAX_IFACES][IF_NAMESIZE];
	int n_gro_ifaces;
	struct mpc_prefix allow[MPC_MAX_ALLOW];
	int n_allow;
	struct mpc_ip ext[MPC_MAX_EXT];
	int n_ext;
	/* addresses announced to MPTCP clients with ADD_ADDR (RFC 8684
	 * 3.4.1); entry i has Address ID i + 1 */
	struct mpc_ip announce[MPC_MAX_ANNOUNCE];
	int n_announce;
	enum mpc_datapath datapath;
	char pin_root[128];
	int log_level;
	unsigned int stats_interval; /* seconds, 0 = never */
	unsigned int idle_timeout;   /* seconds, 0 = default (300) */
	uint16_t port_lo, port_hi;   /* leg source ports */
	uint32_t max_conns;	     /* 0 = default */
	unsigned int max_subflows;   /* 1..MPC_MAX_SUBFLOWS */
	uint8_t sched_default;	     /* enum mpc_sched_policy */
	struct mpc_sched_rule sched[MPC_MAX_SCHED_RULES]; /* first match */
	int n_sched;
	unsigned int leg_timeout; /* seconds until Network Failure */
	uint16_t mtu;		  /* not a key: smallest interface MTU */
};

void mpc_config_defaults(struct mpc_config *c);
/* apply one key; returns 0 or -1 with a message in err */
int mpc_config_set(struct mpc_config *c, const char *key, const char *value,
		   char *err, size_t errlen);
/* INI file: keys at top level or in an [mpconvd] section */
int mpc_config_load(struct mpc_config *c, const char *path, char *err,
		    size_t errlen);
/* cross-key checks once everything is applied */
int mpc_config_validate(const struct mpc_config *c, char *err, size_t errlen);

/* the key table, for --help and the docs test */
struct mpc_config_key {
	const char *name;
	const char *arg; /* metavariable for --help */
	const char *help;
};
extern const struct mpc_config_key mpc_config_keys[];
extern const size_t mpc_config_nkeys;

/* address helpers shared with the rest of the agent */
int mpc_ip_parse(const char *s, struct mpc_ip *ip);
/* name is one of list[0..n-1] (interface names) */
bool mpc_ifname_in(const char (*list)[IF_NAMESIZE], int n, const char *name);
bool mpc_ip_is_v4(const struct mpc_ip *ip);
void mpc_ip_str(const struct mpc_ip *ip, char *buf, size_t len);
bool mpc_prefix_match(const struct mpc_prefix *p, const struct mpc_ip *ip);
/* the data path's service endpoints: listen, then announced addresses
 * with their family's listen ports; the count, or -1 if over max */
int mpc_config_services(const struct mpc_config *c, struct mpc_endpoint *out,
			int max);
/* Address ID of an announced address (1..MPC_MAX_ANNOUNCE), 0 if not */
int mpc_config_announce_id(const struct mpc_config *c, const struct mpc_ip *ip);
/* the scheduler policy for the server's data to dst:port */
uint8_t mpc_sched_for(const struct mpc_config *c, const struct mpc_ip *dst,
		      uint16_t port);

#endif /* MPCONV_AGENT_CONFIG_H */
