// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* rawtx.c - send IP packets the agent built through raw sockets */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "rawtx.h"

int mpc_tx_open(struct mpc_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	/* IPPROTO_RAW implies IP_HDRINCL (and IPV6_HDRINCL) */
	tx->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (tx->fd4 < 0) {
		log_err("raw IPv4 socket: %s", strerror(errno));
		return -errno;
	}
	tx->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (tx->fd6 < 0)
		log_warn("raw IPv6 socket: %s (IPv6 conversion disabled)",
			 strerror(errno));
	return 0;
}

void mpc_tx_close(struct mpc_tx *tx)
{
	if (tx->fd4 >= 0)
		close(tx->fd4);
	if (tx->fd6 >= 0)
		close(tx->fd6);
	tx->fd4 = tx->fd6 = -1;
}

int mpc_tx_send(struct mpc_tx *tx, const uint8_t *l3, size_t len)
{
	ssize_t n;

	if (len < 20)
		return -EINVAL;
	if ((l3[0] >> 4) == 4) {
		struct sockaddr_in sin = {.sin_family = AF_INET};

		memcpy(&sin.sin_addr, l3 + 16, 4);
		n = sendto(tx->fd4, l3, len, 0, (struct sockaddr *)&sin,
			   sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

		if (len < 40 || tx->fd6 < 0)
			return -EAFNOSUPPORT;
		memcpy(&sin6.sin6_addr, l3 + 24, 16);
		n = sendto(tx->fd6, l3, len, 0, (struct sockaddr *)&sin6,
			   sizeof(sin6));
	}
	if (n < 0) {
		tx->errors++;
		log_debug("raw send: %s", strerror(errno));
		return -errno;
	}
	tx->sent++;
	return 0;
}
