// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* config.c - mpconvd configuration from an INI file and flags */
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "mpconv/conn.h"
#include "mpconv/sched.h"

const struct mpc_config_key mpc_config_keys[] = {
	{"role", "network|cpe", "which converter this is (default network)"},
	{"mode", "explicit|transparent",
	 "RFC 8803 Convert service or on-path interception (default explicit)"},
	{"listen", "ADDR:PORT[,...]",
	 "address(es) and port of the Convert service ([v6]:port for IPv6)"},
	{"interfaces", "IF[,IF...]", "interfaces to attach the data path to"},
	{"allow", "PREFIX[,PREFIX...]",
	 "client prefixes allowed to use the converter"},
	{"external-address", "ADDR[,ADDR...]",
	 "source address(es) of the TCP legs toward servers"},
	{"datapath", "auto|xdp|tc",
	 "which hook translates packets (default auto: xdp if native XDP works)"},
	{"pin-root", "DIR",
	 "bpffs directory for pinned maps (default " MPC_PIN_ROOT_DEFAULT ")"},
	{"log-level", "err|warn|info|debug",
	 "agent log verbosity (default info)"},
	{"stats-interval", "SECONDS",
	 "log counters every SECONDS (default 0 = never)"},
	{"idle-timeout", "SECONDS",
	 "reset converted connections idle this long (default 300)"},
	{"port-range", "LO-HI",
	 "source ports of the legs, apart from the host's ephemeral range "
	 "(default 61000-65535)"},
	{"max-conns", "N", "connection table size (default 16384)"},
	{"scheduler", "[PREFIX[@PORT]=]aggregate|backup[,...]",
	 "how the server's data is spread over subflows, per destination "
	 "(first match; an item without a destination is the default, "
	 "aggregate if none)"},
	{"max-subflows", "N",
	 "subflows per MPTCP connection, 1..8; joins beyond are refused "
	 "(default 1: joins off)"},
	{"gro-interfaces", "IF[,IF...]",
	 "datapath tc: interfaces that receive only MPTCP clients' packets, "
	 "where GRO stays on (default none: GRO off on every interface)"},
	{"announce", "ADDR[,ADDR...]",
	 "other addresses of the converter announced to MPTCP clients "
	 "(ADD_ADDR), where they may join; withdrawn (REMOVE_ADDR) while "
	 "gone or down (default none)"},
	{"leg-timeout", "SECONDS",
	 "give up on an unanswered server SYN after this long: Network "
	 "Failure (default 10)"},
};
const size_t mpc_config_nkeys =
	sizeof(mpc_config_keys) / sizeof(mpc_config_keys[0]);

void mpc_config_defaults(struct mpc_config *c)
{
	memset(c, 0, sizeof(*c));
	c->role = MPC_ROLE_NETWORK;
	c->mode = MPC_MODE_EXPLICIT;
	c->datapath = MPC_DP_AUTO;
	snprintf(c->pin_root, sizeof(c->pin_root), "%s", MPC_PIN_ROOT_DEFAULT);
	c->log_level = MPC_LOG_INFO;
	c->idle_timeout = 300;
	c->port_lo = 61000;
	c->port_hi = 65535;
	c->max_conns = 16384;
	/* 1 until the TC data path holds 200 concurrent two-subflow
	 * connections (docs/multipath-plan.md "What is left") */
	c->max_subflows = 1;
	c->leg_timeout = 10;
}

int mpc_ip_parse(const char *s, struct mpc_ip *ip)
{
	uint8_t v4[4];

	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, v4) == 1) {
		ip->a[10] = 0xff;
		ip->a[11] = 0xff;
		memcpy(ip->a + 12, v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->a) == 1)
		return 0;
	return -1;
}

bool mpc_ip_is_v4(const struct mpc_ip *ip)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0,	  0,
					0, 0, 0, 0, 0xff, 0xff};

	return memcmp(ip->a, pfx, sizeof(pfx)) == 0;
}

void mpc_ip_str(const struct mpc_ip *ip, char *buf, size_t len)
{
	if (mpc_ip_is_v4(ip))
		inet_ntop(AF_INET, ip->a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, ip->a, buf, (socklen_t)len);
}

bool mpc_prefix_match(const struct mpc_prefix *p, const struct mpc_ip *ip)
{
	unsigned int full = p->len / 8, rem = p->len % 8;

	if (memcmp(p->ip.a, ip->a, full) != 0)
		return false;
	if (!rem)
		return true;
	return ((p->ip.a[full] ^ ip->a[full]) & (0xff00 >> rem)) == 0;
}

static int parse_prefix(const char *s, struct mpc_prefix *p)
{
	char buf[64], *slash, *end;
	long len;
	bool v4;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (mpc_ip_parse(buf, &p->ip))
		return -1;
	v4 = mpc_ip_is_v4(&p->ip);
	if (!slash) {
		len = 128;
	} else {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || *end || slash[1] == '\0' || len < 0 ||
		    len > (v4 ? 32 : 128))
			return -1;
		if (v4)
			len += 96;
	}
	p->len = (uint8_t)len;
	/* host bits must be zero: 192.0.2.1/24 is almost always a typo */
	{
		struct mpc_prefix norm = *p;
		unsigned int i;

		for (i = 0; i < 16; i++) {
			unsigned int bits =
				len >= (long)(i + 1) * 8 ? 8
				: len > (long)i * 8
					? (unsigned int)(len - i * 8)
					: 0;

			norm.ip.a[i] &= (uint8_t)(0xff00 >> bits);
		}
		if (memcmp(norm.ip.a, p->ip.a, 16) != 0)
			return -1;
	}
	return 0;
}

/* a port number 1..65535, the whole string */
static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int parse_endpoint(const char *s, struct mpc_endpoint *ep)
{
	char buf[80], *host = buf, *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');

		if (!rb || rb[1] != ':')
			return -1;
		*rb = '\0';
		host = buf + 1;
		colon = rb + 1;
	} else {
		colon = strrchr(buf, ':');
		if (!colon || strchr(buf, ':') != colon)
			return -1; /* IPv6 needs brackets */
		*colon = '\0';
	}
	if (parse_port(colon + 1, &ep->port))
		return -1;
	if (mpc_ip_parse(host, &ep->ip))
		return -1;
	ep->set = true;
	return 0;
}

/* split a comma-separated list, calling fn on each trimmed element */
static int for_each_item(const char *value, int (*fn)(void *, const char *),
			 void *arg)
{
	char *copy = strdup(value), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok)
			err = fn(arg, tok);
	}
	free(copy);
	return err;
}

static int add_listen(void *arg, const char *s)
{
	struct mpc_config *c = arg;

	if (c->n_listen >= MPC_MAX_LISTEN)
		return -1;
	if (parse_endpoint(s, &c->listen[c->n_listen]))
		return -1;
	c->n_listen++;
	return 0;
}

static int add_ifname(char (*list)[IF_NAMESIZE], int *n, const char *s)
{
	if (*n >= MPC_MAX_IFACES || strlen(s) >= IF_NAMESIZE)
		return -1;
	snprintf(list[(*n)++], IF_NAMESIZE, "%s", s);
	return 0;
}

static int add_iface(void *arg, const char *s)
{
	struct mpc_config *c = arg;

	return add_ifname(c->interfaces, &c->n_interfaces, s);
}

static int add_gro_iface(void *arg, const char *s)
{
	struct mpc_config *c = arg;

	return add_ifname(c->gro_ifaces, &c->n_gro_ifaces, s);
}

bool mpc_ifname_in(const char (*list)[IF_NAMESIZE], int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static int add_allow(void *arg, const char *s)
{
	struct mpc_config *c = arg;

	if (c->n_allow >= MPC_MAX_ALLOW)
		return -1;
	if (parse_prefix(s, &c->allow[c->n_allow]))
		return -1;
	c->n_allow++;
	return 0;
}

static int parse_policy(const char *s, uint8_t *policy)
{
	if (!strcmp(s, "aggregate"))
		*policy = MPC_SCHED_AGGREGATE;
	else if (!strcmp(s, "backup"))
		*policy = MPC_SCHED_BACKUP;
	else
		return -1;
	return 0;
}

/* [PREFIX[@PORT]=]POLICY */
static int add_sched(void *arg, const char *s)
{
	struct mpc_config *c = arg;
	struct mpc_sched_rule *r;
	char buf[96], *eq, *at;

	snprintf(buf, sizeof(buf), "%s", s);
	eq = strrchr(buf, '=');
	if (!eq)
		return parse_policy(buf, &c->sched_default);
	*eq = '\0';
	if (c->n_sched >= MPC_MAX_SCHED_RULES)
		return -1;
	r = &c->sched[c->n_sched];
	r->port = 0;
	at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (parse_port(at + 1, &r->port))
			return -1;
	}
	if (parse_prefix(buf, &r->dst) || parse_policy(eq + 1, &r->policy))
		return -1;
	c->n_sched++;
	return 0;
}

uint8_t mpc_sched_for(const struct mpc_config *c, const struct mpc_ip *dst,
		      uint16_t port)
{
	int i;

	for (i = 0; i < c->n_sched; i++)
		if (mpc_prefix_match(&c->sched[i].dst, dst) &&
		    (!c->sched[i].port || c->sched[i].port == port))
			return c->sched[i].policy;
	return c->sched_default;
}

static int add_ext(void *arg, const char *s)
{
	struct mpc_config *c = arg;

	if (c->n_ext >= MPC_MAX_EXT)
		return -1;
	if (mpc_ip_parse(s, &c->ext[c->n_ext]))
		return -1;
	c->n_ext++;
	return 0;
}

static int add_announce(void *arg, const char *s)
{
	struct mpc_config *c = arg;
	struct mpc_ip ip;
	int i;

	if (c->n_announce >= MPC_MAX_ANNOUNCE || mpc_ip_parse(s, &ip))
		return -1;
	for (i = 0; i < c->n_announce; i++)
		if (!memcmp(&c->announce[i], &ip, sizeof(ip)))
			return -1; /* one Address ID per address */
	c->announce[c->n_announce++] = ip;
	return 0;
}

static int pick(const char *value, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
			return i;
	return -1;
}

int mpc_config_set(struct mpc_config *c, const char *key, const char *value,
		   char *err, size_t errlen)
{
	static const char *const roles[] = {"network", "cpe"};
	static const char *const modes[] = {"explicit", "transparent"};
	static const char *const dps[] = {"auto", "xdp", "tc"};
	int v;

	if (strcmp(key, "role") == 0) {
		v = pick(value, roles, 2);
		if (v < 0)
			goto bad;
		c->role = (enum mpc_role)v;
	} else if (strcmp(key, "mode") == 0) {
		v = pick(value, modes, 2);
		if (v < 0)
			goto bad;
		c->mode = (enum mpc_mode)v;
	} else if (strcmp(key, "listen") == 0) {
		c->n_listen = 0;
		if (for_each_item(value, add_listen, c))
			goto bad;
	} else if (strcmp(key, "interfaces") == 0) {
		c->n_interfaces = 0;
		if (for_each_item(value, add_iface, c))
			goto bad;
	} else if (strcmp(key, "gro-interfaces") == 0) {
		c->n_gro_ifaces = 0;
		if (for_each_item(value, add_gro_iface, c))
			goto bad;
	} else if (strcmp(key, "allow") == 0) {
		c->n_allow = 0;
		if (for_each_item(value, add_allow, c))
			goto bad;
	} else if (strcmp(key, "external-address") == 0) {
		c->n_ext = 0;
		if (for_each_item(value, add_ext, c))
			goto bad;
	} else if (strcmp(key, "announce") == 0) {
		c->n_announce = 0;
		if (for_each_item(value, add_announce, c))
			goto bad;
	} else if (strcmp(key, "datapath") == 0) {
		v = pick(value, dps, 3);
		if (v < 0)
			goto bad;
		c->datapath = (enum mpc_datapath)v;
	} else if (strcmp(key, "pin-root") == 0) {
		if (value[0] != '/' || strlen(value) >= sizeof(c->pin_root))
			goto bad;
		snprintf(c->pin_root, sizeof(c->pin_root), "%s", value);
	} else if (strcmp(key, "log-level") == 0) {
		v = mpc_log_level_parse(value);
		if (v < 0)
			goto bad;
		c->log_level = v;
	} else if (strcmp(key, "stats-interval") == 0) {
		char *end;
		unsigned long s;

		errno = 0;
		s = strtoul(value, &end, 10);
		if (errno || *end || !*value || s > 86400)
			goto bad;
		c->stats_interval = (unsigned int)s;
	} else if (strcmp(key, "idle-timeout") == 0) {
		char *end;
		unsigned long secs;

		errno = 0;
		secs = strtoul(value, &end, 10);
		if (errno || *end || !*value || secs < 1 || secs > 7 * 86400)
			goto bad;
		c->idle_timeout = (unsigned int)secs;
	} else if (strcmp(key, "port-range") == 0) {
		unsigned long lo, hi;
		char *end;

		errno = 0;
		lo = strtoul(value, &end, 10);
		if (errno || *end != '-')
			goto bad;
		hi = strtoul(end + 1, &end, 10);
		if (errno || *end || lo < 1024 || hi > 65535 || lo > hi)
			goto bad;
		c->port_lo = (uint16_t)lo;
		c->port_hi = (uint16_t)hi;
	} else if (strcmp(key, "leg-timeout") == 0) {
		char *end;
		unsigned long secs;

		errno = 0;
		secs = strtoul(value, &end, 10);
		if (errno || *end || !*value || secs < 1 || secs > 600)
			goto bad;
		c->leg_timeout = (unsigned int)secs;
	} else if (strcmp(key, "max-conns") == 0) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || *end || !*value || n < 16 || n > (1ul << 22))
			goto bad;
		c->max_conns = (uint32_t)n;
	} else if (strcmp(key, "scheduler") == 0) {
		c->n_sched = 0;
		c->sched_default = MPC_SCHED_AGGREGATE;
		if (for_each_item(value, add_sched, c))
			goto bad;
	} else if (strcmp(key, "max-subflows") == 0) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (errno || *end || !*value || n < 1 || n > MPC_MAX_SUBFLOWS)
			goto bad;
		c->max_subflows = (unsigned int)n;
	} else {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad value for %s: '%s'", key, value);
	return -1;
}

struct ini_ctx {
	struct mpc_config *c;
	char *err;
	size_t errlen;
	int failed;
};

static int on_ini_key(void *user, const char *section, const char *name,
		      const char *value)
{
	struct ini_ctx *ctx = user;
	char msg[160];

	if (section[0] && strcmp(section, "mpconvd") != 0) {
		snprintf(ctx->err, ctx->errlen, "unknown section [%s]",
			 section);
		ctx->failed = 1;
		return 0;
	}
	if (mpc_config_set(ctx->c, name, value, msg, sizeof(msg))) {
		snprintf(ctx->err, ctx->errlen, "%s", msg);
		ctx->failed = 1;
		return 0;
	}
	return 1;
}

int mpc_config_load(struct mpc_config *c, const char *path, char *err,
		    size_t errlen)
{
	struct ini_ctx ctx = {.c = c, .err = err, .errlen = errlen};
	int line;

	err[0] = '\0';
	line = ini_parse(path, on_ini_key, &ctx);
	if (line < 0) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	if (line > 0) {
		/* keep the first error message, prefix file and line */
		char msg[200];

		snprintf(msg, sizeof(msg), "%s:%d: %s", path, line,
			 err[0] ? err : "syntax error");
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	return 0;
}

static int validate_announce(const struct mpc_config *c, char *err,
			     size_t errlen)
{
	struct mpc_endpoint svc[MPC_DP_MAX_LISTEN];
	char a[64];
	int i, j;

	if (!c->n_announce)
		return 0;
	if (c->role != MPC_ROLE_NETWORK || c->mode != MPC_MODE_EXPLICIT) {
		snprintf(err, errlen,
			 "announce= needs role=network and mode=explicit");
		return -1;
	}
	if (c->max_subflows < 2) {
		/* clients would open joins that are all refused */
		snprintf(err, errlen, "announce= needs max-subflows >= 2");
		return -1;
	}
	for (i = 0; i < c->n_announce; i++) {
		bool fam = false;

		mpc_ip_str(&c->announce[i], a, sizeof(a));
		for (j = 0; j < c->n_listen; j++) {
			if (!memcmp(&c->listen[j].ip, &c->announce[i],
				    sizeof(c->announce[i]))) {
				snprintf(err, errlen,
					 "announce: %s is a listen address "
					 "(Address ID 0, never announced)",
					 a);
				return -1;
			}
			fam |= mpc_ip_is_v4(&c->listen[j].ip) ==
			       mpc_ip_is_v4(&c->announce[i]);
		}
		if (!fam) {
			snprintf(err, errlen,
				 "announce: %s: no listen endpoint of its "
				 "family (its port would be unknown)",
				 a);
			return -1;
		}
	}
	if (mpc_config_services(c, svc, MPC_DP_MAX_LISTEN) < 0) {
		snprintf(err, errlen,
			 "listen= and announce= need more than %d service "
			 "endpoints (each announced address takes one per "
			 "listen port of its family)",
			 MPC_DP_MAX_LISTEN);
		return -1;
	}
	return 0;
}

int mpc_config_validate(const struct mpc_config *c, char *err, size_t errlen)
{
	int i;

	if (c->n_interfaces == 0) {
		snprintf(err, errlen, "no interfaces given (interfaces=)");
		return -1;
	}
	for (i = 0; i < c->n_gro_ifaces; i++) {
		if (!mpc_ifname_in(c->interfaces, c->n_interfaces,
				   c->gro_ifaces[i])) {
			snprintf(err, errlen,
				 "gro-interfaces: %s is not in interfaces=",
				 c->gro_ifaces[i]);
			return -1;
		}
	}
	if (c->role == MPC_ROLE_NETWORK && c->mode == MPC_MODE_EXPLICIT) {
		if (!c->n_listen) {
			snprintf(err, errlen,
				 "explicit mode needs listen=ADDR:PORT");
			return -1;
		}
		if (c->n_ext == 0) {
			snprintf(err, errlen,
				 "explicit mode needs external-address=");
			return -1;
		}
	}
	return validate_announce(c, err, errlen);
}

/*
 * The endpoints the data path treats as the service (SYNs with a Convert
 * message or MP_JOIN go to the agent): every listen endpoint, then each
 * announced address with the port of every listen endpoint of its family
 * (an ADD_ADDR without a port means "the port of this connection", RFC
 * 8684 3.4.1). Returns how many, or -1 when they do not fit in max.
 */
int mpc_config_services(const struct mpc_config *c, struct mpc_endpoint *out,
			int max)
{
	int i, j, n = 0;

	for (i = 0; i < c->n_listen; i++) {
		if (n >= max)
			return -1;
		out[n++] = c->listen[i];
	}
	for (i = 0; i < c->n_announce; i++)
		for (j = 0; j < c->n_listen; j++) {
			if (mpc_ip_is_v4(&c->announce[i]) !=
			    mpc_ip_is_v4(&c->listen[j].ip))
				continue;
			if (n >= max)
				return -1;
			out[n].ip = c->announce[i];
			out[n].port = c->listen[j].port;
			out[n++].set = true;
		}
	return n;
}

int mpc_config_announce_id(const struct mpc_config *c, const struct mpc_ip *ip)
{
	int i;

	for (i = 0; i < c->n_announce; i++)
		if (!memcmp(&c->announce[i], ip, sizeof(*ip)))
			return i + 1;
	return 0;
}
