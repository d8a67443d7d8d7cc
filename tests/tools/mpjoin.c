// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mpjoin - send one crafted MP_JOIN handshake and report the answer.
 *
 * The Linux MPTCP stack only ever sends correct joins; this tool sends the
 * wrong ones a converter must refuse (RFC 8684 3.2): a SYN with MP_JOIN
 * for a token, and, when a SYN/ACK with MP_JOIN comes back, a third ACK
 * whose MP_JOIN carries a wrong HMAC (random bytes: the tool knows no
 * keys). It prints one line of key=value pairs:
 *
 *   syn_reply=rst|synack|none  [syn_rst_reason=N]
 *   [ack_tries=K] ack_reply=rst|none|-  [ack_rst_reason=N]
 *
 * K: how often the third ACK went out (it is sent again until answered).
 *
 * N is the MP_TCPRST reason (-1: a RST without MP_TCPRST).
 *
 *   mpjoin --src ADDR --dst ADDR:PORT --sport PORT --token HEX
 *          [--timeout S] [--backup]
 *
 * IPv4 only. Needs CAP_NET_RAW. The kernel answers a SYN/ACK for a port
 * without a socket with a RST of its own: the caller drops outgoing RSTs
 * from --sport (tests/e2e/test_explicit_joins.sh does it with nft).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "pkt.h"
#include "mpconv/mptcp_opt.h"
#include "mpconv/tcpopt.h"
#include "mpconv/xlate.h" /* MPC_TH_* */

struct probe {
	struct mpc_ip src, dst;
	uint16_t sport, dport;
	uint32_t token;
	int timeout_ms;
	bool backup;
	int tx, rx; /* raw sockets: IP_HDRINCL sender, TCP receiver */
};

static void usage(FILE *f)
{
	fputs("usage: mpjoin --src ADDR --dst ADDR:PORT --sport PORT "
	      "--token HEX [--timeout S] [--backup]\n",
	      f);
}

static uint32_t rnd32(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)time(NULL) * 2654435761u;
	return v;
}

static int send_seg(const struct probe *p, struct mpc_tcp_seg *s)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint8_t buf[MPC_PKT_MAX];
	int n;

	n = mpc_seg_build(buf, sizeof(buf), s);
	if (n < 0)
		return -1;
	memcpy(&to.sin_addr, &p->dst.a[12], 4);
	if (sendto(p->tx, buf, (size_t)n, 0, (struct sockaddr *)&to,
		   sizeof(to)) != n) {
		perror("mpjoin: sendto");
		return -1;
	}
	return 0;
}

static void seg_init(const struct probe *p, struct mpc_tcp_seg *s)
{
	memset(s, 0, sizeof(*s));
	s->family = 4;
	s->src = p->src;
	s->dst = p->dst;
	s->sport = p->sport;
	s->dport = p->dport;
	s->win = 64240;
}

static void opts_done(struct mpc_tcp_seg *s, uint32_t off)
{
	int n = mpc_tcpopt_put_nops(s->opts, off, MPC_TCPOPT_MAXLEN);

	s->optlen = (uint8_t)(off + (n > 0 ? (uint32_t)n : 0));
}

static bool mptcp_find(const struct mpc_tcp_seg *s, uint8_t subtype,
		       struct mpc_mptcp_opt *o)
{
	int i;

	for (i = 0; i < s->to.n_mptcp; i++)
		if (!mpc_mptcp_parse(s->opts, s->to.mptcp_off[i], s->optlen,
				     o) &&
		    o->subtype == subtype)
			return true;
	return false;
}

/* the next segment of our 4-tuple from the peer within timeout_ms; 0, or
 * -1 on timeout */
static int recv_seg(const struct probe *p, uint8_t *buf, size_t cap,
		    struct mpc_tcp_seg *s, int timeout_ms)
{
	struct timespec t0, t;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (left > 0) {
		struct pollfd pf = {.fd = p->rx, .events = POLLIN};
		ssize_t n;

		if (poll(&pf, 1, left) > 0) {
			n = recv(p->rx, buf, cap, 0);
			if (n > 0 && !mpc_seg_parse(buf, (size_t)n, s) &&
			    s->family == 4 && s->sport == p->dport &&
			    s->dport == p->sport &&
			    !memcmp(s->src.a, p->dst.a, 16) &&
			    !memcmp(s->dst.a, p->src.a, 16))
				return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
	return -1;
}

static int rst_reason(const struct mpc_tcp_seg *s)
{
	struct mpc_mptcp_opt o;

	return mptcp_find(s, MPC_MP_TCPRST, &o) ? o.u.rst.reason : -1;
}

/* a decimal port, 1..65535; 0 when invalid */
static uint16_t port_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (*s && !*end && v > 0 && v < 65536) ? (uint16_t)v : 0;
}

static int parse_args(int argc, char **argv, struct probe *p)
{
	static const struct option lo[] = {
		{"src", required_argument, NULL, 's'},
		{"dst", required_argument, NULL, 'd'},
		{"sport", required_argument, NULL, 'p'},
		{"token", required_argument, NULL, 't'},
		{"timeout", required_argument, NULL, 'T'},
		{"backup", no_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	bool have_src = false, have_dst = false, have_tok = false;
	char *colon, *end;
	double sec;
	int c;

	p->timeout_ms = 3000;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			have_src = !mpc_ip_parse(optarg, &p->src);
			break;
		case 'd':
			colon = strrchr(optarg, ':');
			if (!colon)
				return -1;
			*colon = '\0';
			have_dst = !mpc_ip_parse(optarg, &p->dst);
			p->dport = port_arg(colon + 1);
			break;
		case 'p':
			p->sport = port_arg(optarg);
			break;
		case 't':
			p->token = (uint32_t)strtoul(optarg, NULL, 16);
			have_tok = true;
			break;
		case 'T':
			sec = strtod(optarg, &end);
			if (*end || sec <= 0 || sec > 60)
				return -1;
			p->timeout_ms = (int)(sec * 1000);
			break;
		case 'b':
			p->backup = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!have_src || !have_dst || !have_tok || !p->sport || !p->dport)
		return -1;
	/* IPv4 only: both addresses in the v4-mapped form */
	if (p->src.a[10] != 0xff || p->dst.a[10] != 0xff)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct mpc_mptcp_opt mj = {.subtype = MPC_MP_JOIN};
	struct probe p;
	struct mpc_tcp_seg s, r;
	uint8_t buf[4096];
	uint32_t off = 0, isn = rnd32();
	int one = 1, i, tries = 0, rto = 1000, left;
	struct timespec t0, t1;
	bool got = false;

	memset(&p, 0, sizeof(p));
	if (parse_args(argc, argv, &p)) {
		usage(stderr);
		return 2;
	}
	p.tx = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	p.rx = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (p.tx < 0 || p.rx < 0 ||
	    setsockopt(p.tx, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		perror("mpjoin: raw socket");
		return 2;
	}

	/* SYN + MP_JOIN (RFC 8684 Figure 5) */
	seg_init(&p, &s);
	s.seq = isn;
	s.flags = MPC_TH_SYN;
	off += mpc_tcpopt_put_mss(s.opts, off, MPC_TCPOPT_MAXLEN, 1460);
	mj.variant = MPC_JOIN_SYN;
	mj.flags = p.backup ? MPC_JOIN_B : 0;
	mj.u.join.addr_id = 1;
	mj.u.join.token = p.token;
	mj.u.join.nonce = rnd32();
	off += (uint32_t)mpc_mptcp_build(s.opts, off, 40 - off, &mj);
	opts_done(&s, off);
	if (send_seg(&p, &s))
		return 2;
	if (recv_seg(&p, buf, sizeof(buf), &r, p.timeout_ms)) {
		printf("syn_reply=none ack_reply=-\n");
		return 0;
	}
	if (r.flags & MPC_TH_RST) {
		printf("syn_reply=rst syn_rst_reason=%d ack_reply=-\n",
		       rst_reason(&r));
		return 0;
	}
	if ((r.flags & (MPC_TH_SYN | MPC_TH_ACK)) !=
		    (MPC_TH_SYN | MPC_TH_ACK) ||
	    r.ack != isn + 1 || !mptcp_find(&r, MPC_MP_JOIN, &mj) ||
	    mj.variant != MPC_JOIN_SYNACK) {
		printf("syn_reply=other flags=0x%02x ack_reply=-\n", r.flags);
		return 0;
	}
	printf("syn_reply=synack ");

	/* third ACK + MP_JOIN with an HMAC nobody could have computed */
	seg_init(&p, &s);
	s.seq = isn + 1;
	s.ack = r.seq + 1;
	s.flags = MPC_TH_ACK;
	memset(&mj, 0, sizeof(mj));
	mj.subtype = MPC_MP_JOIN;
	mj.variant = MPC_JOIN_ACK;
	for (i = 0; i < MPC_JOIN_HMAC_LEN; i += 4) {
		uint32_t v = rnd32();

		memcpy(&mj.u.join.hmac[i], &v, 4);
	}
	off = (uint32_t)mpc_mptcp_build(s.opts, 0, 40, &mj);
	opts_done(&s, off);
	left = p.timeout_ms;
	/* sent again until answered: RFC 8684 3.2, the third ACK "MUST be
	 * retransmitted if this ACK is not received"; after 1, 2, 4 ... s,
	 * and at once on a repeated SYN/ACK (the peer did not get it). One
	 * unanswered third ACK made a test fail "ack_reply=none" (vmtest,
	 * 6.1, TC, a busy host) */
	for (;;) {
		int wait = rto < left ? rto : left;

		if (send_seg(&p, &s))
			return 2;
		tries++;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		got = !recv_seg(&p, buf, sizeof(buf), &r, wait);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left -= (int)((t1.tv_sec - t0.tv_sec) * 1000 +
			      (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (got &&
		    (r.flags & (MPC_TH_SYN | MPC_TH_ACK)) ==
			    (MPC_TH_SYN | MPC_TH_ACK) &&
		    !(r.flags & MPC_TH_RST) && left > 0)
			continue;
		if (got || left <= 0)
			break;
		rto *= 2;
	}
	printf("ack_tries=%d ", tries);
	if (!got)
		printf("ack_reply=none\n");
	else if (r.flags & MPC_TH_RST)
		printf("ack_reply=rst ack_rst_reason=%d\n", rst_reason(&r));
	else
		printf("ack_reply=other flags=0x%02x\n", r.flags);
	return 0;
}
