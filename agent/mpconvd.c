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
#include <sys/signalfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "config.h"
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

int main(int argc, char **argv)
{
	struct mpc_config cfg;
	struct mpc_dp dp;
	struct pollfd pfd;
	sigset_t mask;
	int sfd, err, ret = 0;

	mpc_config_defaults(&cfg);
	if (parse_args(argc, argv, &cfg))
		return EXIT_OPTS;
	mpc_log_level = (enum mpc_log_level)cfg.log_level;
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);

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
	err = mpc_dp_attach(&dp, &cfg);
	if (err) {
		ret = EXIT_ATTACH;
		goto out_detach;
	}
	log_info(
		"running: role %s, mode %s, datapath %s, %d interface(s), pins in %s",
		cfg.role == MPC_ROLE_NETWORK ? "network" : "cpe",
		cfg.mode == MPC_MODE_EXPLICIT ? "explicit" : "transparent",
		dp.mode == MPC_DP_XDP ? "xdp" : "tc", dp.n_ifs, cfg.pin_root);

	pfd = (struct pollfd){.fd = sfd, .events = POLLIN};
	for (;;) {
		int timeout = cfg.stats_interval
				      ? (int)cfg.stats_interval * 1000
				      : -1;
		struct signalfd_siginfo si;

		err = poll(&pfd, 1, timeout);
		if (err < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			ret = 1;
			break;
		}
		if (err == 0) {
			log_stats(&dp);
			continue;
		}
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			log_stats(&dp);
			continue;
		}
		log_info("signal %u: stopping", si.ssi_signo);
		break;
	}

out_detach:
	mpc_dp_detach(&dp);
	mpc_dp_close(&dp, true);
	close(sfd);
	return ret;
}
