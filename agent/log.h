/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* log.h - leveled logging of the agent to stderr */
#ifndef MPCONV_AGENT_LOG_H
#define MPCONV_AGENT_LOG_H

enum mpc_log_level { MPC_LOG_ERR, MPC_LOG_WARN, MPC_LOG_INFO, MPC_LOG_DEBUG };

extern enum mpc_log_level mpc_log_level;

void mpc_log(enum mpc_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "err", "warn", "info", "debug" -> level; -1 if unknown */
int mpc_log_level_parse(const char *s);

#define log_err(...) mpc_log(MPC_LOG_ERR, __VA_ARGS__)
#define log_warn(...) mpc_log(MPC_LOG_WARN, __VA_ARGS__)
#define log_info(...) mpc_log(MPC_LOG_INFO, __VA_ARGS__)
#define log_debug(...) mpc_log(MPC_LOG_DEBUG, __VA_ARGS__)

#endif /* MPCONV_AGENT_LOG_H */
