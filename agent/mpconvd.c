// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mpconvd - the mpconv agent.
 *
 * Lifecycle (libbpf-bootstrap order): parse options -> libbpf print hook
 * -> open/load the skeleton, re-adopting pinned maps -> attach to every
 * interface -> loop on signals and timers -> detach what we attached ->
 * unpin on a clean exit.
 *
 * Exit codes: 0 clean stop, 2 bad options/config, 3 load failure,
 * 4 attach failure.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "config.h"
#include "conv.h"
#include "counters.h"
#include "datapath.h"
#include "log.h"
#include "mpconv.skel.h"

enum { EXIT_OPTS = 2, EXIT_LOAD = 3, EXIT_ATTACH = 4 };

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	if (level != LIBBPF_WARN || mpc_quiet_libbpf) {
		if (mpc_log_level < MPC_LOG_DEBUG)
			return 0;
	}
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt,
		      va_list ap)
{
	if ((level != LIBXDP_WARN || mpc_quiet_libbpf) &&
	    mpc_log_level < MPC_LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: mpconvd [--config FILE] [--KEY VALUE ...]\n\n"
		"Every configuration key can be given in FILE (INI, keys at "
		"top level or in [mpconvd])\nor as a flag; flags win. Keys:\n");
	for (i = 0; i < mpc_config_nkeys; i++)
		fprintf(f, "  --%-18s %-22s %s\n", mpc_config_keys[i].name,
			mpc_config_keys[i].arg, mpc_config_keys[i].help);
	fprintf(f, "  --%-18s %-22s %s\n", "config", "FILE",
		"read keys from FILE first");
	fprintf(f, "  --%-18s %-22s %s\n", "help", "", "this text");
}

static int parse_args(int argc, char **argv, struct mpc_config *c)
{
	struct option opts[32];
	char err[200];
	size_t i;
	int o;

	/* the long options are the config keys, plus config and help */
	for (i = 0; i < mpc_config_nkeys && i < 29; i++)
		opts[i] = (struct option){mpc_config_keys[i].name,
					  required_argument, NULL, (int)i};
	opts[i++] = (struct option){"config", required_argument, NULL, 'c'};
	opts[i++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[i] = (struct option){0};

	/* pass 1: the file, so that flags override it in pass 2 */
	opterr = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c' && mpc_config_load(c, optarg, err, sizeof(err))) {
			fprintf(stderr, "mpconvd: %s\n", err);
			return -1;
		}
		if (o == 'h') {
			usage(stdout);
			exit(0);
		}
	}
	optind = 0;
	opterr = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c')
			continue;
		if (o == '?' || o < 0 || (size_t)o >= mpc_config_nkeys) {
			usage(stderr);
			return -1;
		}
		if (mpc_config_set(c, mpc_config_keys[o].name, optarg, err,
				   sizeof(err))) {
			fprintf(stderr, "mpconvd: %s\n", err);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mpconvd: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (mpc_config_validate(c, err, sizeof(err))) {
		fprintf(stderr, "mpconvd: %s\n", err);
		return -1;
	}
	return 0;
}

static void log_stats(struct mpc_dp *dp)
{
	struct mpc_counter c[MPC_COUNTERS_MAX];
	char line[1024];
	int n, i, off = 0;

	n = mpc_counters_read_struct(bpf_map__fd(dp->skel->maps.mpc_stats), 0,
				     c, MPC_COUNTERS_MAX);
	for (i = 0; i < n && off < (int)sizeof(line) - 64; i++)
		if (c[i].value)
			off += snprintf(line + off, sizeof(line) - off,
					" %s=%llu", c[i].name,
					(unsigned long long)c[i].value);
	if (n > 0)
		log_info("stats:%s", off ? line : " (all zero)");
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	const struct mpc_slow_hdr *h = data;

	if (size < sizeof(*h) || sizeof(*h) + h->cap_len > size)
		return 0;
	conv_slow(ctx, h, (const uint8_t *)data + sizeof(*h), h->cap_len);
	return 0;
}

/* smallest MTU of the attached interfaces: leg MSS clamping */
static uint16_t min_mtu(const struct mpc_config *cfg)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), i;
	uint16_t mtu = 0;

	for (i = 0; fd >= 0 && i < cfg->n_interfaces; i++) {
		struct ifreq ifr = {0};

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
			 cfg->interfaces[i]);
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 &&
		    (!mtu || ifr.ifr_mtu < mtu))
			mtu = (uint16_t)ifr.ifr_mtu;
	}
	if (fd >= 0)
		close(fd);
	return mtu ? mtu : 1500;
}

/* ICMP errors about legs (Destination Unreachable -> Error 97) */
static int icmp_open(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);

	if (fd >= 0 && family == AF_INET6) {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	return fd;
}

static void icmp_read(struct conv *cv, int fd, int family)
{
	uint8_t buf[2048];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (family == AF_INET) {
			size_t ihl = (size_t)(buf[0] & 0xf) * 4;

			/* v4 raw sockets deliver the IP header too */
			if ((size_t)n < ihl + 8)
				continue;
			conv_icmp(cv, 4, buf[ihl], buf[ihl + 1], buf + ihl + 8,
				  (uint32_t)((size_t)n - ihl - 8));
		} else if (n >= 8) {
			conv_icmp(cv, 6, buf[0], buf[1], buf + 8,
				  (uint32_t)(n - 8));
		}
	}
}

/* rtnetlink link and address events, for the announced addresses (key
 * `announce`): the agent withdraws one the moment its link goes down or
 * it is deleted, not at its next once-a-second look (conv.c, ADD_ADDR) */
static int links_open(const struct mpc_config *cfg)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			     RTMGRP_IPV6_IFADDR,
	};
	int fd;

	if (!cfg->n_announce)
		return -1;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		log_warn("rtnetlink: %s: address changes seen once a second",
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* the interface name of an RTM_NEWLINK/RTM_DELLINK message, NULL if none */
static const char *link_name(struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)IFLA_PAYLOAD(nh);
	struct rtattr *a;

	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		char *name = RTA_DATA(a);
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type == IFLA_IFNAME && n > 0 && n <= IFNAMSIZ &&
		    name[n - 1] == '\0')
			return name;
	}
	return NULL;
}

static void links_read(struct conv *cv, int fd)
{
	/* aligned for struct nlmsghdr */
	uint64_t buf[8192 / sizeof(uint64_t)];
	ssize_t n;

	for (;;) {
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		int len;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			conv_links_changed(cv, NULL); /* events lost: look */
			continue;
		}
		if (n <= 0)
			return;
		len = (int)n;
		for (; NLMSG_OK(nh, (unsigned int)len);
		     nh = NLMSG_NEXT(nh, len)) {
			const struct ifinfomsg *ifi = NLMSG_DATA(nh);
			const char *down = NULL;

			switch (nh->nlmsg_type) {
			case RTM_NEWLINK:
			case RTM_DELLINK:
				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
					continue;
				if (nh->nlmsg_type == RTM_DELLINK ||
				    (ifi->ifi_flags & (IFF_UP | IFF_RUNNING)) !=
					    (IFF_UP | IFF_RUNNING))
					down = link_name(nh);
				conv_links_changed(cv, down);
				break;
			case RTM_NEWADDR:
			case RTM_DELADDR:
				conv_links_changed(cv, NULL);
				break;
			default:
				break;
			}
		}
	}
}

enum { EV_SIG, EV_RING, EV_TIMER, EV_ICMP4, EV_ICMP6, EV_LINKS };

int main(int argc, char **argv)
{
	struct itimerspec its = {.it_interval = {0, 20000000},
				 .it_value = {0, 20000000}};
	int sfd, tfd = -1, efd = -1, i4 = -1, i6 = -1, nl = -1, err, ret = 0;
	struct ring_buffer *rb = NULL;
	struct epoll_event ev;
	uint64_t stats_next = 0;
	struct mpc_config cfg;
	struct conv cv = {0};
	struct mpc_dp dp;
	sigset_t mask;

	mpc_config_defaults(&cfg);
	if (parse_args(argc, argv, &cfg))
		return EXIT_OPTS;
	mpc_log_level = (enum mpc_log_level)cfg.log_level;
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
	cfg.mtu = min_mtu(&cfg);

	/* signals arrive on a descriptor: no async handler state */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return EXIT_LOAD;
	}

	err = mpc_dp_open(&dp, &cfg);
	if (err) {
		close(sfd);
		return EXIT_LOAD;
	}
	err = conv_init(&cv, &cfg, bpf_map__fd(dp.skel->maps.mpc_conns),
			bpf_map__fd(dp.skel->maps.mpc_flows),
			bpf_map__fd(dp.skel->maps.mpc_config),
			bpf_map__fd(dp.skel->maps.mpc_agent), cfg.max_conns);
	if (err) {
		log_err("converter init: %s", strerror(-err));
		ret = EXIT_LOAD;
		goto out_close;
	}
	if (dp.adopted)
		conv_adopt(&cv);
	rb = ring_buffer__new(bpf_map__fd(dp.skel->maps.mpc_slow), ring_cb, &cv,
			      NULL);
	if (!rb) {
		log_err("slow-path ring: %s", strerror(errno));
		ret = EXIT_LOAD;
		goto out_close;
	}
	err = mpc_dp_attach(&dp, &cfg);
	if (err) {
		ret = EXIT_ATTACH;
		goto out_detach;
	}

	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	efd = epoll_create1(EPOLL_CLOEXEC);
	i4 = icmp_open(AF_INET);
	i6 = icmp_open(AF_INET6);
	nl = links_open(&cfg);
	if (tfd < 0 || efd < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		log_err("timer/epoll: %s", strerror(errno));
		ret = 1;
		goto out_detach;
	}
	ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = EV_SIG};
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u32 = EV_RING;
	epoll_ctl(efd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb), &ev);
	ev.data.u32 = EV_TIMER;
	epoll_ctl(efd, EPOLL_CTL_ADD, tfd, &ev);
	if (i4 >= 0) {
		ev.data.u32 = EV_ICMP4;
		epoll_ctl(efd, EPOLL_CTL_ADD, i4, &ev);
	}
	if (i6 >= 0) {
		ev.data.u32 = EV_ICMP6;
		epoll_ctl(efd, EPOLL_CTL_ADD, i6, &ev);
	}
	if (nl >= 0) {
		ev.data.u32 = EV_LINKS;
		epoll_ctl(efd, EPOLL_CTL_ADD, nl, &ev);
	}
	conv_running(&cv, true);
	log_info(
		"running: role %s, mode %s, datapath %s, %d interface(s), pins in %s",
		cfg.role == MPC_ROLE_NETWORK ? "network" : "cpe",
		cfg.mode == MPC_MODE_EXPLICIT ? "explicit" : "transparent",
		dp.mode == MPC_DP_XDP ? "xdp" : "tc", dp.n_ifs, cfg.pin_root);

	for (;;) {
		struct epoll_event evs[8];
		int n, k;

		n = epoll_wait(efd, evs, 8, conv_nudge_wait_ms(&cv));
		if (n < 0 && errno != EINTR) {
			log_err("epoll: %s", strerror(errno));
			ret = 1;
			break;
		}
		for (k = 0; k < n; k++) {
			struct signalfd_siginfo si;
			uint64_t ticks;

			switch (evs[k].data.u32) {
			case EV_RING:
				ring_buffer__consume(rb);
				break;
			case EV_TIMER:
				if (read(tfd, &ticks, sizeof(ticks)) < 0)
					break;
				conv_tick(&cv, 0);
				if (cfg.stats_interval &&
				    ++stats_next >= cfg.stats_interval * 50u) {
					stats_next = 0;
					log_stats(&dp);
				}
				break;
			case EV_ICMP4:
				icmp_read(&cv, i4, AF_INET);
				break;
			case EV_ICMP6:
				icmp_read(&cv, i6, AF_INET6);
				break;
			case EV_LINKS:
				links_read(&cv, nl);
				break;
			case EV_SIG:
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					log_stats(&dp);
					break;
				}
				log_info("signal %u: stopping", si.ssi_signo);
				goto out_detach;
			}
		}
		conv_nudge_run(&cv);
	}

out_detach:
	if (cv.agent_fd > 0)
		conv_running(&cv, false);
	mpc_dp_detach(&dp);
out_close:
	ring_buffer__free(rb);
	conv_fini(&cv);
	mpc_dp_close(&dp, true);
	if (tfd >= 0)
		close(tfd);
	if (efd >= 0)
		close(efd);
	if (i4 >= 0)
		close(i4);
	if (i6 >= 0)
		close(i6);
	if (nl >= 0)
		close(nl);
	close(sfd);
	return ret;
}
