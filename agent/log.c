// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* log.c - leveled logging of the agent to stderr */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

enum mpc_log_level mpc_log_level = MPC_LOG_INFO;

static const char *const names[] = {"err", "warn", "info", "debug"};

void mpc_log(enum mpc_log_level lvl, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (lvl > mpc_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "mpconvd %lld.%03ld %s: ", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int mpc_log_level_parse(const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}
