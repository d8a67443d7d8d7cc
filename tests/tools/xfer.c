// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * xfer - verified bulk traffic over TCP or MPTCP, IPv4 or IPv6.
 *
 * Every end-to-end test and benchmark drives traffic with this tool.
 *
 *   xfer server [--listen [ADDR]:PORT] [--mptcp] [--once | --count K]
 *               [--timeout S] [--no-hash] [--no-verify] [--half-close]
 *   xfer client --connect ADDR:PORT [--up N] [--down N] [--parallel K]
 *               [--bind ADDR[:PORT]] [--mptcp] [--expect-mptcp]
 *               [--timeout S] [--seed N] [--no-hash] [--no-verify] [--json]
 *               [--half-close]
 *               [--convert ADDR[:PORT] [--convert-sendto] [--convert-info]
 *                [--convert-opt KIND[:HEX]]... [--convert-cookie HEX]
 *                [--convert-raw HEX] [--convert-data N] [--expect-syn-data]]
 *   xfer compare CLIENT.json SERVER.jsonl
 *
 * Sizes take k/M/G/T suffixes, powers of 1024 ("64M" = 67108864).
 *
 * Wire protocol (version 1)
 * -------------------------
 * The client opens a connection and sends a request header of 32 bytes,
 * all fields in network byte order:
 *
 *    0      4    5    6       8               16              24       32
 *   +------+----+----+-------+---------------+---------------+---------+
 *   |magic |ver |flg | rsvd  |     seed      |   up bytes    |down bytes|
 *   +------+----+----+-------+---------------+---------------+---------+
 *   magic = 0x4d504358 ("MPCX"), ver = 1, flg = 0, rsvd = 0;
 *   seed  = 64-bit per-connection seed of both data streams;
 *   up    = bytes the client sends after the header;
 *   down  = bytes the server sends.
 *
 * (32 rather than 16 bytes: two 64-bit counts alone fill 16 bytes, and the
 * magic, version and seed are what make a stray or corrupted stream fail
 * loudly instead of being counted.)
 *
 * Right after the header the client sends `up` bytes of the upload stream;
 * as soon as the server has parsed the header it sends `down` bytes of the
 * download stream, while concurrently reading the upload. Both directions
 * run at the same time (non-blocking sockets, poll()), so neither side can
 * deadlock when both directions are larger than the socket buffers. There
 * is no reply header and no trailer: each stream is exactly `up` (resp.
 * `down`) bytes, which is what a converter or proxy in the path must carry
 * unchanged.
 *
 * Closing: each side knows how many bytes it gets, so it shuts its write
 * side (FIN / DATA_FIN) once it has sent everything AND received everything
 * announced, then reads until EOF: fewer bytes than announced before EOF is
 * a short transfer, more is an error. So the connection never runs
 * half-closed while data flows and each direction's rate is measured the
 * same way whichever finishes first.
 * --half-close (either side) sends FIN as soon as its own direction is
 * done instead, to exercise half-closed connections on purpose.
 *
 * Data streams are deterministic: byte i of a stream is byte (i mod 8),
 * little-endian, of W(i / 8), where
 *   W(w)  = splitmix64(key + (w + 1) * 0x9e3779b97f4a7c15)  (finaliser only)
 *   key   = splitmix64(seed ^ 0x75706c6f61642121)  upload   ("upload!!")
 *   key   = splitmix64(seed ^ 0x646f776e6c6f6164)  download ("download")
 * so the receiver regenerates what it should get and detects the first
 * differing byte (reported with its offset), and the two directions never
 * carry the same bytes (a reflected stream fails too).
 *
 * Output
 * ------
 * The server prints one JSON object per finished connection on its own
 * line (JSON lines). The client prints one human-readable line per
 * connection plus a total, or with --json one JSON document with
 * "connections" (same object as the server's lines) and "total". Each
 * connection object has role, proto, local, peer, seed (hex), bytes_sent,
 * bytes_received, sha256_sent, sha256_received (hex of the payload bytes,
 * header excluded; null with --no-hash), verified (received bytes matched
 * the expected stream byte for byte; null with --no-verify), duration_s,
 * rate_mbps (sent+received over duration), rate_sent_mbps and
 * rate_received_mbps (each direction over the time until it finished),
 * ok, error and, on MPTCP sockets, "mptcp": fallback flag, subflows (as
 * many as exist at the end), data_subflows (those that carried payload)
 * and per-subflow addresses and byte counters from MPTCP_TCPINFO /
 * MPTCP_SUBFLOW_ADDRS, sampled when both payloads are through and again
 * before close().
 *
 * `xfer compare` pairs client and server connections by seed and checks
 * client.sent == server.received and server.sent == client.received (byte
 * counts, announced sizes and SHA-256 where both sides hashed, byte-level
 * verification), then prints one summary line of key=value pairs for shell
 * scripts (tests/e2e/lib.sh): ok, conns, errors, hashed, up_bytes,
 * down_bytes, up_mbps and down_mbps (each direction timed by its
 * receiver, summed over connections), duration_s, subflows_min and
 * subflows_max (data_subflows over the client's connections).
 *
 * Exit codes: 0 every connection complete and verified; 1 a short
 * transfer, a data mismatch, an error or a timeout; 2 usage error; 3 (client
 * with --convert) a converter answered with an RFC 8803 Error TLV on at
 * least one connection (takes precedence over 1).
 *
 * --timeout S: client: deadline for each connection, connect included
 * (default 300 s, 0 = none); server: a connection fails after S seconds
 * without progress (default 0 = none).
 *
 * RFC 8803 Convert client (explicit converter)
 * ---------------------------------------------
 * --convert ADDR[:PORT] (port 5124 if omitted): the socket (IPPROTO_MPTCP
 * with --mptcp, TCP otherwise) goes to the converter, and --connect names
 * the server the converter is asked to reach. TCP_FASTOPEN_CONNECT is set
 * before connect(), which then returns at once; the first write is the
 * Convert message, so the kernel sends it as SYN payload (0-RTT). That needs
 * net.ipv4.tcp_fastopen with 0x1 (client) and 0x4 (data in the SYN without
 * a cookie) in the client's namespace (tests/e2e/lib.sh:
 * convert_client_setup); otherwise the SYN carries a cookie request and the
 * message follows the handshake. --convert-sendto: sendto(MSG_FASTOPEN)
 * without connect() instead (the older API; same packets).
 *
 * The message: fixed header, [Info TLV (--convert-info)], Connect TLV with
 * the --connect address (IPv4 as v4-mapped IPv6) and port, Extended when
 * --convert-opt KIND[:HEXVALUE] is given (repeatable, in order: "2:05b4" MSS
 * 1460, "30" MP_CAPABLE without value), [Cookie TLV (--convert-cookie
 * HEX)]. Without --connect the message has no Connect TLV (--convert-info
 * alone: ask for the Supported TCP Extensions) and no transfer follows.
 * --convert-raw HEX sends those bytes instead of a built message (malformed
 * messages on purpose). --convert-data N appends the first N bytes of what
 * follows the message (the 32-byte request header, then the upload stream)
 * to the same first write: RFC 8803 section 6, user data right after the
 * TLVs in the SYN.
 *
 * Then the reply is read from the start of the byte stream, exactly: the
 * fixed header, Total Length * 4 bytes, nothing of what follows; and parsed
 * with mpc_conv_parse(MPC_CONV_FROM_CONVERTER) (include/mpconv/convert.h).
 * An Error TLV: the client resets the connection (SO_LINGER 0 + close(), as
 * section 6.2.8 requires), reports the code and exits 3. An invalid reply:
 * reset, exit 1. A valid one: the request header and the transfer follow
 * unchanged (the server sees plain TCP from the converter's address).
 * With --parallel K each connection does its own exchange.
 *
 * Whether the SYN data was acknowledged comes from the socket after the
 * reply: TCP_INFO (MPTCP_TCPINFO of the subflows on an MPTCP socket),
 * tcpi_options & TCPI_OPT_SYN_DATA, and tcpi_fastopen_client_fail.
 * "syn_data" is true when that flag is set AND the first send() put bytes
 * in the SYN (the kernel also sets the flag when the SYN-ACK carried data
 * after a SYN without any). --expect-syn-data fails the connection (reset)
 * when it is false, unless the client retransmitted its SYN
 * (tfo_client_fail syn_retransmitted): the retransmission carries no
 * data, and mpconv then acknowledges the SYN only so that the data comes
 * again with the MPTCP keys (agent/conv.c, syn_only_ack()).
 *
 * JSON, per connection: "convert" {converter, mode, message (hex),
 * message_len, data_len, first_write, syn_payload (what the first send()
 * put in the SYN, 0 = none), tcpi_syn_data (the raw flag), reply_s (from
 * connect()/sendto() to the whole reply), reply (hex), reply_len, action,
 * invalid (why a reply was refused), tlvs [{type, name, len, value
 * (hex)}], xhdr (hex of the Extended TCP Header options), supported
 * [kinds]}, "syn_data" (bool),
 * "tfo_client_fail" (none | cookie_unavailable | data_not_acked |
 * syn_retransmitted), "convert_error" (code or null), "convert_error_name",
 * "convert_error_value" (hex of the Error TLV's Value field as sent,
 * padding included), "convert_error_data" (hex: the echo, the cookie, the
 * kinds or versions, or the one-byte value). connect_s is the time until
 * the reply. The document gets "convert" and "convert_errors"; `xfer
 * compare` adds convert_error (first code or none), convert_errors,
 * syn_data (connections whose SYN data was acked) and syn_retx (those
 * whose SYN was retransmitted) to its summary line.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/mptcp.h>
#include <linux/tcp.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "mpconv/convert.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

#define XFER_MAGIC 0x4d504358u /* "MPCX" */
#define XFER_VERSION 1
#define XFER_HDR_LEN 32
#define XFER_BUF (256 * 1024)
#define XFER_KEY_UP 0x75706c6f61642121ULL
#define XFER_KEY_DOWN 0x646f776e6c6f6164ULL
#define XFER_MAX_SUBFLOWS 8
/* a subflow with more acked+received bytes than this carried payload */
#define XFER_SUBFLOW_DATA 64
#define XFER_MAX_PARALLEL 1024
#define XFER_ADDRSTR (INET6_ADDRSTRLEN + 8)
#define XFER_DEFAULT_PORT "5201"
#define XFER_CONVERT_PORT "5124" /* mpconvd's Convert service (docs/) */
#define XFER_RAW_MAX 4096	 /* --convert-raw: may exceed 1020 on purpose */
#define XFER_CONV_DATA_MAX XFER_BUF

struct xfer_hdr {
	uint32_t magic;
	uint8_t version;
	uint8_t flags;
	uint64_t seed;
	uint64_t up;
	uint64_t down;
};

struct opts {
	/* common */
	int mptcp;
	int hash;
	int verify;
	int half_close;
	double timeout;
	/* server */
	const char *listen;
	long count;
	/* client */
	const char *connect;
	const char *bind;
	uint64_t up;
	uint64_t down;
	long parallel;
	int json;
	int expect_mptcp;
	uint64_t seed;
	int have_seed;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	struct sockaddr_storage src;
	socklen_t src_len;
	/* client: RFC 8803 Convert (explicit converter) */
	const char *convert;
	struct sockaddr_storage conv;
	socklen_t conv_len;
	int convert_sendto;
	int convert_info;
	int expect_syn_data;
	uint64_t convert_data;
	unsigned char conv_opts[MPC_CONV_TLV_MAX]; /* Extended Connect */
	size_t conv_opts_len;
	unsigned char conv_cookie[MPC_CONV_TLV_MAX];
	size_t conv_cookie_len;
	int have_raw;
	unsigned char conv_raw[XFER_RAW_MAX];
	size_t conv_raw_len;
	/* the message every connection sends (built or raw) */
	unsigned char conv_msg[XFER_RAW_MAX];
	size_t conv_msg_len;
};

struct subflow_info {
	char local[XFER_ADDRSTR];
	char remote[XFER_ADDRSTR];
	uint64_t bytes_sent;
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint64_t bytes_retrans;
	uint32_t total_retrans;
};

struct mptcp_state {
	int valid; /* MPTCP_INFO answered: the socket is an MPTCP socket */
	int fallback;
	int subflows; /* additional subflows, as the kernel counts them */
	int subflows_max;
	int n_sub;  /* entries filled in sub[] */
	int n_data; /* of those, subflows that carried payload */
	struct subflow_info sub[XFER_MAX_SUBFLOWS];
};

/* one connection's Convert exchange (client with --convert) */
struct conv_result {
	const struct opts *o; /* set when this connection used --convert */
	size_t first_len;     /* bytes of the first write */
	size_t syn_payload;   /* what the first send() put in the SYN */
	int deferred;	  /* nothing sent yet: the first write makes the SYN */
	double t_connect; /* connect()/sendto() called */
	double reply_s;	  /* from t_connect to the whole reply */
	int reply_done;	  /* a whole message was read and parsed */
	unsigned char reply[MPC_CONV_CAP];
	size_t reply_len; /* bytes read */
	int parse_rc;
	struct mpc_conv_msg m;
	const char *invalid; /* why the reply was refused */
	int error_tlv;	     /* the reply carried an Error TLV */
	int tcpinfo;	     /* 0 none, 1 TCP_INFO, 2 MPTCP_TCPINFO */
	int tcpi_syn_data;   /* TCPI_OPT_SYN_DATA */
	int syn_data;	     /* that, and the SYN did carry data */
	int tfo_fail;	     /* tcpi_fastopen_client_fail */
};

struct result {
	const char *role;
	int index;
	int ok;
	char error[160];
	char local[XFER_ADDRSTR];
	char peer[XFER_ADDRSTR];
	uint64_t seed;
	uint64_t want_tx; /* announced sizes, from this side's view */
	uint64_t want_rx;
	uint64_t sent;
	uint64_t received;
	int hashed;
	unsigned char sha_sent[32];
	unsigned char sha_recv[32];
	int verify; /* verification was on */
	int verified;
	double t_start; /* CLOCK_MONOTONIC seconds */
	double t_tx_done;
	double t_rx_done;
	double t_end;
	double connect_s;
	int is_mptcp_socket;
	struct mptcp_state mp;
	struct conv_result conv;
};

/* what one connection moves once the header is known */
struct job {
	uint64_t tx_key;
	uint64_t tx_len;
	uint64_t rx_key;
	uint64_t rx_len;
	const unsigned char *prefix; /* sent before the payload, not counted */
	size_t prefix_len;
	/* already sent with the Convert message (--convert-data): prefix
	 * bytes, then payload bytes (counted and hashed by run_transfer) */
	size_t prefix_done;
	uint64_t tx_done;
	double deadline; /* absolute, 0 = none */
	double idle;	 /* seconds without progress, 0 = none */
	int hash;
	int verify;
	int half_close;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- small helpers ---------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_err(struct result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error[0])
		return; /* keep the first error, it is the cause */
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->ok = 0;
}

static uint64_t splitmix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t gen_word(uint64_t key, uint64_t w)
{
	return splitmix64(key + (w + 1) * 0x9e3779b97f4a7c15ULL);
}

/* stream bytes [off, off + len) of the stream with this key */
static void gen_fill(uint64_t key, uint64_t off, unsigned char *buf, size_t len)
{
	uint64_t w = off >> 3, v, le;
	unsigned int sh = off & 7;
	size_t i = 0;

	if (sh) {
		v = gen_word(key, w++);
		for (; sh < 8 && i < len; sh++)
			buf[i++] = (unsigned char)(v >> (8 * sh));
	}
	for (; i + 8 <= len; i += 8) {
		le = htole64(gen_word(key, w++));
		memcpy(buf + i, &le, 8);
	}
	if (i < len) {
		v = gen_word(key, w);
		for (sh = 0; i < len; sh++)
			buf[i++] = (unsigned char)(v >> (8 * sh));
	}
}

static uint64_t stream_key(uint64_t seed, uint64_t dir)
{
	return splitmix64(seed ^ dir);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put_be64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint32_t get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static void hdr_encode(const struct xfer_hdr *h, unsigned char *p)
{
	memset(p, 0, XFER_HDR_LEN);
	put_be32(p, h->magic);
	p[4] = h->version;
	p[5] = h->flags;
	put_be64(p + 8, h->seed);
	put_be64(p + 16, h->up);
	put_be64(p + 24, h->down);
}

/* 0 or a static string saying what is wrong */
static const char *hdr_decode(const unsigned char *p, struct xfer_hdr *h)
{
	h->magic = get_be32(p);
	h->version = p[4];
	h->flags = p[5];
	h->seed = get_be64(p + 8);
	h->up = get_be64(p + 16);
	h->down = get_be64(p + 24);
	if (h->magic != XFER_MAGIC)
		return "bad magic in request header";
	if (h->version != XFER_VERSION)
		return "unsupported protocol version";
	if (h->flags || p[6] || p[7])
		return "reserved header bits set";
	return NULL;
}

static void addr_str(const struct sockaddr_storage *ss, char *out,
		     size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
		snprintf(out, outlen, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
		snprintf(out, outlen, "[%s]:%u", host, port);
	} else {
		snprintf(out, outlen, "?");
	}
}

static void sock_names(int fd, struct result *r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (!getsockname(fd, (struct sockaddr *)&ss, &len))
		addr_str(&ss, r->local, sizeof(r->local));
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (!getpeername(fd, (struct sockaddr *)&ss, &len))
		addr_str(&ss, r->peer, sizeof(r->peer));
}

/*
 * "ADDR:PORT", "[V6]:PORT", "ADDR" (port = defport) or ":PORT"/"*:PORT"
 * (wildcard, when passive). Numeric addresses only.
 */
static int parse_hostport(const char *in, const char *defport, int passive,
			  struct sockaddr_storage *ss, socklen_t *len)
{
	char buf[256], *host = buf, *port = NULL, *colon;
	struct addrinfo hints, *res = NULL;
	int rc;

	if (strlen(in) >= sizeof(buf))
		return -1;
	strcpy(buf, in);
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');

		if (!end)
			return -1;
		*end = '\0';
		host = buf + 1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return -1;
	} else {
		colon = strrchr(buf, ':');
		/* exactly one colon: host:port; more: a bare IPv6 address */
		if (colon && colon == strchr(buf, ':')) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (!port || !*port)
		port = (char *)defport;
	if (!*host || !strcmp(host, "*"))
		host = passive ? NULL : (char *)"localhost";

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) |
			 (host ? AI_NUMERICHOST : 0);
	if (!host)
		hints.ai_family = AF_INET6; /* dual-stack wildcard */
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc && !host) {
		hints.ai_family = AF_INET;
		rc = getaddrinfo(host, port, &hints, &res);
	}
	if (rc || !res)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* "64M" -> 67108864; k/M/G/T are powers of 1024, optional "iB"/"B" */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	if (*s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift) {
		end++;
		if (!strcmp(end, "iB"))
			end += 2;
		else if (!strcmp(end, "B"))
			end += 1;
	}
	if (*end)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void hex32(const unsigned char *d, char *out)
{
	static const char hx[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[64] = '\0';
}

/* poll timeout in ms for the nearer of deadline and idle limit; -1 none */
static int poll_ms(const struct job *j, double last_progress, double t)
{
	double lim = -1, rem;

	if (j->deadline > 0)
		lim = j->deadline - t;
	if (j->idle > 0) {
		rem = last_progress + j->idle - t;
		if (lim < 0 || rem < lim)
			lim = rem;
	}
	if (lim < 0 && j->deadline <= 0 && j->idle <= 0)
		return -1;
	if (lim <= 0)
		return 0;
	if (lim > 3600)
		return 3600 * 1000;
	return (int)(lim * 1000) + 1;
}

/* ---- MPTCP introspection -------------------------------------------- */

static uint64_t mptcp_bytes(const struct mptcp_state *m)
{
	uint64_t b = 0;
	int i;

	for (i = 0; i < m->n_sub; i++)
		b += m->sub[i].bytes_sent + m->sub[i].bytes_received;
	return b;
}

/*
 * Snapshot of the MPTCP state (nothing on a TCP socket). Called when both
 * payloads are through and again before close(); subflows may already be
 * gone at the second call, so the snapshot with more bytes wins.
 */
static void mptcp_collect(int fd, struct mptcp_state *best)
{
	struct mptcp_info mi;
	socklen_t len = sizeof(mi);
	struct mptcp_state snap, *m = &snap;
	struct {
		struct mptcp_subflow_data d;
		struct tcp_info ti[XFER_MAX_SUBFLOWS];
	} tib;
	struct {
		struct mptcp_subflow_data d;
		struct mptcp_subflow_addrs a[XFER_MAX_SUBFLOWS];
	} ab;
	unsigned int i, n_ti = 0, n_a = 0;
	socklen_t plen = sizeof(int);
	int proto = 0;

	memset(m, 0, sizeof(*m));
	memset(&mi, 0, sizeof(mi));
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) < 0 ||
	    proto != IPPROTO_MPTCP)
		return;
	m->valid = 1;
	/*
	 * A socket that fell back to TCP refuses MPTCP_INFO, answers with
	 * nothing or sets the fallback flag, depending on the kernel.
	 */
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &mi, &len) < 0 || len == 0 ||
	    (mi.mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK)) {
		m->fallback = 1;
		goto keep;
	}
	m->subflows = mi.mptcpi_subflows;
	m->subflows_max = mi.mptcpi_subflows_max;

	memset(&tib, 0, sizeof(tib));
	tib.d.size_subflow_data = sizeof(tib.d);
	tib.d.size_user = sizeof(struct tcp_info);
	len = sizeof(tib);
	if (!getsockopt(fd, SOL_MPTCP, MPTCP_TCPINFO, &tib, &len))
		n_ti = tib.d.num_subflows < XFER_MAX_SUBFLOWS
			       ? tib.d.num_subflows
			       : XFER_MAX_SUBFLOWS;
	memset(&ab, 0, sizeof(ab));
	ab.d.size_subflow_data = sizeof(ab.d);
	ab.d.size_user = sizeof(struct mptcp_subflow_addrs);
	len = sizeof(ab);
	if (!getsockopt(fd, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &ab, &len))
		n_a = ab.d.num_subflows < XFER_MAX_SUBFLOWS ? ab.d.num_subflows
							    : XFER_MAX_SUBFLOWS;
	for (i = 0; i < n_ti; i++) {
		struct subflow_info *s = &m->sub[i];
		const struct tcp_info *t = &tib.ti[i];

		s->bytes_sent = t->tcpi_bytes_sent;
		s->bytes_acked = t->tcpi_bytes_acked;
		s->bytes_received = t->tcpi_bytes_received;
		s->bytes_retrans = t->tcpi_bytes_retrans;
		s->total_retrans = t->tcpi_total_retrans;
		if (i < n_a) {
			struct sockaddr_storage ss;

			memset(&ss, 0, sizeof(ss));
			memcpy(&ss, &ab.a[i].ss_local,
			       sizeof(ab.a[i].ss_local));
			addr_str(&ss, s->local, sizeof(s->local));
			memset(&ss, 0, sizeof(ss));
			memcpy(&ss, &ab.a[i].ss_remote,
			       sizeof(ab.a[i].ss_remote));
			addr_str(&ss, s->remote, sizeof(s->remote));
		}
	}
	m->n_sub = (int)n_ti;
	for (i = 0; i < n_ti; i++)
		if (m->sub[i].bytes_acked + m->sub[i].bytes_received >
		    XFER_SUBFLOW_DATA)
			m->n_data++;
keep:
	if (!best->valid || mptcp_bytes(m) >= mptcp_bytes(best))
		*best = *m;
	else
		best->fallback |= m->fallback;
}

/* ---- the transfer loop ---------------------------------------------- */

/*
 * Account for n received bytes: verify them against the expected stream,
 * hash them. Bytes past the announced length are an error.
 */
static int rx_chunk(const struct job *j, struct result *r, EVP_MD_CTX *h,
		    unsigned char *vbuf, const unsigned char *buf, size_t n)
{
	size_t room = j->rx_len - r->received, k = 0;
	int extra = n > room;

	if (extra)
		n = room;
	if (vbuf && n) {
		gen_fill(j->rx_key, r->received, vbuf, n);
		if (memcmp(vbuf, buf, n) != 0) {
			while (vbuf[k] == buf[k])
				k++;
			if (h)
				EVP_DigestUpdate(h, buf, k);
			r->received += k;
			set_err(r, "data mismatch at offset %" PRIu64,
				r->received);
			return -1;
		}
	}
	if (h && n)
		EVP_DigestUpdate(h, buf, n);
	r->received += n;
	if (extra) {
		set_err(r,
			"peer sent more than the %" PRIu64 " announced bytes",
			j->rx_len);
		return -1;
	}
	return 0;
}

/*
 * Full duplex: send job->tx_len stream bytes (after job->prefix), then
 * shut the write side; read until EOF, expecting exactly job->rx_len.
 * Sockets are non-blocking; poll() only when neither direction moved.
 */
static void run_transfer(int fd, const struct job *j, struct result *r)
{
	unsigned char *txbuf = NULL, *rxbuf = NULL, *vbuf = NULL;
	EVP_MD_CTX *htx = NULL, *hrx = NULL;
	size_t txpos = 0, txlen = 0, prefix_off = 0;
	int fin_sent = 0, rx_eof = 0;
	double t, last = now_s();
	unsigned int md_len;

	r->want_tx = j->tx_len;
	r->want_rx = j->rx_len;
	r->verify = j->verify;
	r->verified = 0;
	r->t_start = last;
	r->t_tx_done = r->t_rx_done = 0;
	txbuf = malloc(XFER_BUF);
	rxbuf = malloc(XFER_BUF);
	if (j->verify)
		vbuf = malloc(XFER_BUF);
	if (!txbuf || !rxbuf || (j->verify && !vbuf)) {
		set_err(r, "out of memory");
		goto out;
	}
	if (j->hash) {
		htx = EVP_MD_CTX_new();
		hrx = EVP_MD_CTX_new();
		if (!htx || !hrx ||
		    !EVP_DigestInit_ex(htx, EVP_sha256(), NULL) ||
		    !EVP_DigestInit_ex(hrx, EVP_sha256(), NULL)) {
			set_err(r, "EVP sha256 init failed");
			goto out;
		}
	}
	if (set_nonblock(fd) < 0) {
		set_err(r, "fcntl: %s", strerror(errno));
		goto out;
	}
	/* what went out with the Convert message (--convert-data) */
	prefix_off = j->prefix_done;
	while (r->sent < j->tx_done) {
		uint64_t left = j->tx_done - r->sent;
		size_t k = left < XFER_BUF ? (size_t)left : XFER_BUF;

		gen_fill(j->tx_key, r->sent, txbuf, k);
		if (htx)
			EVP_DigestUpdate(htx, txbuf, k);
		r->sent += k;
		if (r->sent == j->tx_len)
			r->t_tx_done = now_s();
	}

	while (!fin_sent || !rx_eof) {
		int progress = 0;
		ssize_t n;

		if (prefix_off < j->prefix_len) {
			n = send(fd, j->prefix + prefix_off,
				 j->prefix_len - prefix_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				prefix_off += (size_t)n;
				progress = 1;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				set_err(r, "send header: %s", strerror(errno));
				goto out;
			}
		}
		if (prefix_off == j->prefix_len && r->sent < j->tx_len) {
			if (txpos == txlen) {
				uint64_t left = j->tx_len - r->sent;

				txlen = left < XFER_BUF ? (size_t)left
							: XFER_BUF;
				gen_fill(j->tx_key, r->sent, txbuf, txlen);
				txpos = 0;
			}
			n = send(fd, txbuf + txpos, txlen - txpos,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				if (htx)
					EVP_DigestUpdate(htx, txbuf + txpos,
							 (size_t)n);
				txpos += (size_t)n;
				r->sent += (uint64_t)n;
				progress = 1;
				if (r->sent == j->tx_len)
					r->t_tx_done = now_s();
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				set_err(r, "send: %s after %" PRIu64 " bytes",
					strerror(errno), r->sent);
				goto out;
			}
		}
		if (!rx_eof) {
			n = recv(fd, rxbuf, XFER_BUF, MSG_DONTWAIT);
			if (n > 0) {
				if (rx_chunk(j, r, hrx, vbuf, rxbuf,
					     (size_t)n) < 0)
					goto out;
				if (r->received == j->rx_len)
					r->t_rx_done = now_s();
				progress = 1;
			} else if (n == 0) {
				if (r->received < j->rx_len) {
					set_err(r,
						"short transfer: EOF after %" PRIu64
						" of %" PRIu64 " bytes",
						r->received, j->rx_len);
					goto out;
				}
				rx_eof = 1;
				progress = 1;
			} else if (errno != EAGAIN && errno != EINTR) {
				set_err(r, "recv: %s after %" PRIu64 " bytes",
					strerror(errno), r->received);
				goto out;
			}
		}
		/* FIN when this direction is done, by default when both are */
		if (!fin_sent && prefix_off == j->prefix_len &&
		    r->sent == j->tx_len &&
		    (j->half_close || r->received == j->rx_len)) {
			if (r->received == j->rx_len)
				mptcp_collect(fd, &r->mp);
			if (shutdown(fd, SHUT_WR) < 0) {
				set_err(r, "shutdown: %s", strerror(errno));
				goto out;
			}
			fin_sent = 1;
			progress = 1;
		}
		t = now_s();
		if (progress) {
			last = t;
		} else {
			struct pollfd pfd = {.fd = fd, .events = 0};
			int ms, pr;

			if (j->deadline > 0 && t >= j->deadline) {
				set_err(r,
					"timeout (sent %" PRIu64
					", received %" PRIu64 ")",
					r->sent, r->received);
				goto out;
			}
			if (j->idle > 0 && t - last >= j->idle) {
				set_err(r,
					"idle timeout (sent %" PRIu64
					", received %" PRIu64 ")",
					r->sent, r->received);
				goto out;
			}
			if (prefix_off < j->prefix_len || r->sent < j->tx_len)
				pfd.events |= POLLOUT;
			if (!rx_eof)
				pfd.events |= POLLIN;
			ms = poll_ms(j, last, t);
			pr = poll(&pfd, 1, ms);
			if (pr < 0 && errno != EINTR) {
				set_err(r, "poll: %s", strerror(errno));
				goto out;
			}
			if (pr > 0 && (pfd.revents & (POLLERR | POLLNVAL)) &&
			    !(pfd.revents & POLLIN)) {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);

				getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
					   &sl);
				set_err(r, "socket error: %s",
					soerr ? strerror(soerr) : "POLLERR");
				goto out;
			}
		}
	}
	r->ok = 1;
	r->verified = j->verify;
out:
	r->t_end = now_s();
	if (!r->t_tx_done)
		r->t_tx_done = r->t_end;
	if (!r->t_rx_done)
		r->t_rx_done = r->t_end;
	if (htx && hrx) {
		EVP_DigestFinal_ex(htx, r->sha_sent, &md_len);
		EVP_DigestFinal_ex(hrx, r->sha_recv, &md_len);
		r->hashed = 1;
	}
	EVP_MD_CTX_free(htx);
	EVP_MD_CTX_free(hrx);
	free(txbuf);
	free(rxbuf);
	free(vbuf);
}

/* ---- JSON ------------------------------------------------------------- */

static double mbps(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0;
}

static json_object *jdbl(double v)
{
	char s[64];

	/* fixed precision: json-c would print all 17 digits */
	snprintf(s, sizeof(s), "%.3f", v);
	return json_object_new_double_s(v, s);
}

static json_object *jhash(int have, const unsigned char *d)
{
	char hx[65];

	if (!have)
		return NULL;
	hex32(d, hx);
	return json_object_new_string(hx);
}

static json_object *jhex(const unsigned char *d, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	json_object *j;
	char *s = malloc(2 * n + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = hx[d[i] >> 4];
		s[2 * i + 1] = hx[d[i] & 15];
	}
	s[2 * n] = '\0';
	j = json_object_new_string(s);
	free(s);
	return j;
}

static const char *conv_tlv_name(unsigned int type)
{
	switch (type) {
	case MPC_CONV_TLV_INFO:
		return "Info";
	case MPC_CONV_TLV_CONNECT:
		return "Connect";
	case MPC_CONV_TLV_XHDR:
		return "Extended TCP Header";
	case MPC_CONV_TLV_SUPPORTED:
		return "Supported TCP Extensions";
	case MPC_CONV_TLV_COOKIE:
		return "Cookie";
	case MPC_CONV_TLV_ERROR:
		return "Error";
	default:
		return "unknown";
	}
}

/* RFC 8803 Table 2 */
static const char *conv_err_name(unsigned int code)
{
	switch (code) {
	case MPC_CONV_E_UNSUPPORTED_VERSION:
		return "Unsupported Version";
	case MPC_CONV_E_MALFORMED:
		return "Malformed Message";
	case MPC_CONV_E_UNSUPPORTED_MSG:
		return "Unsupported Message";
	case MPC_CONV_E_MISSING_COOKIE:
		return "Missing Cookie";
	case MPC_CONV_E_NOT_AUTHORIZED:
		return "Not Authorized";
	case MPC_CONV_E_UNSUPPORTED_OPT:
		return "Unsupported TCP Option";
	case MPC_CONV_E_RESOURCE_EXCEEDED:
		return "Resource Exceeded";
	case MPC_CONV_E_NETWORK_FAILURE:
		return "Network Failure";
	case MPC_CONV_E_CONNECTION_RESET:
		return "Connection Reset";
	case MPC_CONV_E_DEST_UNREACHABLE:
		return "Destination Unreachable";
	default:
		return "unknown";
	}
}

static const char *conv_action_name(unsigned int a)
{
	switch (a) {
	case MPC_CONV_ACT_ACCEPT:
		return "accept";
	case MPC_CONV_ACT_INCOMPLETE:
		return "incomplete";
	case MPC_CONV_ACT_IGNORE:
		return "ignore";
	case MPC_CONV_ACT_ERROR:
		return "error";
	default:
		return "reset";
	}
}

/* tcpi_fastopen_client_fail (enum tcp_fastopen_client_fail) */
static const char *tfo_fail_name(int v)
{
	switch (v) {
	case TFO_COOKIE_UNAVAILABLE:
		return "cookie_unavailable";
	case TFO_DATA_NOT_ACKED:
		return "data_not_acked";
	case TFO_SYN_RETRANSMITTED:
		return "syn_retransmitted";
	default:
		return "none";
	}
}

/* the reply's TLVs in message order, from their framing alone (so that an
 * invalid reply is shown too); value = the bytes after Type and Length */
static json_object *conv_tlvs_json(const struct conv_result *cv)
{
	json_object *arr = json_object_new_array(), *t;
	size_t len = cv->reply_len, total = len, off = 4;

	if (len >= 2 && cv->reply[1])
		total = MPC_MIN(len, (size_t)cv->reply[1] * 4);
	while (off + 2 <= total) {
		unsigned int type = cv->reply[off], words = cv->reply[off + 1];
		size_t end = MPC_MIN(off + (size_t)words * 4, total);

		t = json_object_new_object();
		json_object_object_add(t, "type",
				       json_object_new_int((int)type));
		json_object_object_add(
			t, "name", json_object_new_string(conv_tlv_name(type)));
		json_object_object_add(t, "len",
				       json_object_new_int((int)words * 4));
		json_object_object_add(t, "value",
				       jhex(cv->reply + off + 2,
					    end > off + 2 ? end - off - 2 : 0));
		json_object_array_add(arr, t);
		if (!words)
			break;
		off += (size_t)words * 4;
	}
	return arr;
}

static void conv_json(json_object *o, const struct result *r)
{
	const struct conv_result *cv = &r->conv;
	const struct mpc_conv_msg *m = &cv->m;
	const struct opts *op = cv->o;
	json_object *c = json_object_new_object(), *arr;
	unsigned int k, off, words;

	json_object_object_add(c, "converter",
			       json_object_new_string(op->convert));
	json_object_object_add(c, "mode",
			       json_object_new_string(op->convert_sendto
							      ? "sendto"
							      : "connect"));
	json_object_object_add(c, "message",
			       jhex(op->conv_msg, op->conv_msg_len));
	json_object_object_add(c, "message_len",
			       json_object_new_int((int)op->conv_msg_len));
	json_object_object_add(
		c, "data_len",
		json_object_new_int64((int64_t)op->convert_data));
	json_object_object_add(c, "first_write",
			       json_object_new_int64((int64_t)cv->first_len));
	json_object_object_add(c, "syn_payload",
			       json_object_new_int64((int64_t)cv->syn_payload));
	json_object_object_add(
		c, "tcpi_syn_data",
		cv->tcpinfo ? json_object_new_boolean(cv->tcpi_syn_data)
			    : NULL);
	json_object_object_add(c, "reply_s",
			       cv->reply_done ? jdbl(cv->reply_s) : NULL);
	json_object_object_add(c, "reply",
			       cv->reply_len ? jhex(cv->reply, cv->reply_len)
					     : NULL);
	json_object_object_add(c, "reply_len",
			       json_object_new_int((int)cv->reply_len));
	json_object_object_add(
		c, "action",
		cv->reply_done ? json_object_new_string(
					 conv_action_name(m->answer.action))
			       : NULL);
	json_object_object_add(c, "invalid",
			       cv->invalid ? json_object_new_string(cv->invalid)
					   : NULL);
	json_object_object_add(c, "tlvs",
			       cv->reply_len >= 4 ? conv_tlvs_json(cv) : NULL);
	if (cv->reply_done && !cv->parse_rc) {
		if (m->tlvs & MPC_CONV_F_XHDR)
			json_object_object_add(c, "xhdr",
					       jhex(cv->reply + m->xhdr_off,
						    m->xhdr_len));
		if (m->tlvs & MPC_CONV_F_SUPPORTED) {
			arr = json_object_new_array();
			for (k = 0; k < m->sup_n; k++)
				json_object_array_add(
					arr,
					json_object_new_int(
						cv->reply[m->sup_off + k]));
			json_object_object_add(c, "supported", arr);
		}
	}
	json_object_object_add(o, "convert", c);
	json_object_object_add(
		o, "syn_data",
		cv->tcpinfo ? json_object_new_boolean(cv->syn_data) : NULL);
	json_object_object_add(
		o, "tfo_client_fail",
		cv->tcpinfo
			? json_object_new_string(tfo_fail_name(cv->tfo_fail))
			: NULL);
	if (!cv->error_tlv) {
		json_object_object_add(o, "convert_error", NULL);
		return;
	}
	off = m->tlv_off[MPC_CONV_I_ERROR];
	words = m->tlv_words[MPC_CONV_I_ERROR];
	json_object_object_add(o, "convert_error",
			       json_object_new_int(m->err_code));
	json_object_object_add(
		o, "convert_error_name",
		json_object_new_string(conv_err_name(m->err_code)));
	json_object_object_add(o, "convert_error_value",
			       jhex(cv->reply + off + 3, words * 4 - 3));
	json_object_object_add(o, "convert_error_data",
			       jhex(cv->reply + m->err_off, m->err_len));
}

static json_object *result_json(const struct result *r, int mptcp_sock)
{
	json_object *o = json_object_new_object(), *m, *arr, *s;
	char seed[24];
	double dur = r->t_end - r->t_start;
	int i;

	snprintf(seed, sizeof(seed), "%016" PRIx64, r->seed);
	json_object_object_add(o, "role", json_object_new_string(r->role));
	if (r->index >= 0)
		json_object_object_add(o, "index",
				       json_object_new_int(r->index));
	json_object_object_add(o, "proto",
			       json_object_new_string(mptcp_sock ? "mptcp"
								 : "tcp"));
	json_object_object_add(o, "local", json_object_new_string(r->local));
	json_object_object_add(o, "peer", json_object_new_string(r->peer));
	json_object_object_add(o, "seed", json_object_new_string(seed));
	json_object_object_add(o, "expect_sent",
			       json_object_new_int64((int64_t)r->want_tx));
	json_object_object_add(o, "expect_received",
			       json_object_new_int64((int64_t)r->want_rx));
	json_object_object_add(o, "bytes_sent",
			       json_object_new_int64((int64_t)r->sent));
	json_object_object_add(o, "bytes_received",
			       json_object_new_int64((int64_t)r->received));
	json_object_object_add(o, "sha256_sent", jhash(r->hashed, r->sha_sent));
	json_object_object_add(o, "sha256_received",
			       jhash(r->hashed, r->sha_recv));
	json_object_object_add(o, "verified",
			       r->verify ? json_object_new_boolean(r->verified)
					 : NULL);
	if (r->connect_s > 0)
		json_object_object_add(o, "connect_s", jdbl(r->connect_s));
	json_object_object_add(o, "duration_s", jdbl(dur > 0 ? dur : 0));
	json_object_object_add(o, "rate_mbps",
			       jdbl(mbps(r->sent + r->received, dur)));
	json_object_object_add(o, "rate_sent_mbps",
			       jdbl(mbps(r->sent, r->t_tx_done - r->t_start)));
	json_object_object_add(
		o, "rate_received_mbps",
		jdbl(mbps(r->received, r->t_rx_done - r->t_start)));
	json_object_object_add(o, "ok", json_object_new_boolean(r->ok));
	json_object_object_add(o, "error",
			       r->error[0] ? json_object_new_string(r->error)
					   : NULL);
	if (r->conv.o)
		conv_json(o, r);
	if (r->mp.valid) {
		m = json_object_new_object();
		json_object_object_add(m, "fallback",
				       json_object_new_boolean(r->mp.fallback));
		json_object_object_add(m, "subflows",
				       json_object_new_int(r->mp.n_sub));
		json_object_object_add(m, "data_subflows",
				       json_object_new_int(r->mp.n_data));
		json_object_object_add(m, "extra_subflows",
				       json_object_new_int(r->mp.subflows));
		arr = json_object_new_array();
		for (i = 0; i < r->mp.n_sub; i++) {
			const struct subflow_info *si = &r->mp.sub[i];

			s = json_object_new_object();
			json_object_object_add(
				s, "local", json_object_new_string(si->local));
			json_object_object_add(
				s, "remote",
				json_object_new_string(si->remote));
			json_object_object_add(
				s, "bytes_sent",
				json_object_new_int64((int64_t)si->bytes_sent));
			json_object_object_add(
				s, "bytes_acked",
				json_object_new_int64(
					(int64_t)si->bytes_acked));
			json_object_object_add(
				s, "bytes_received",
				json_object_new_int64(
					(int64_t)si->bytes_received));
			json_object_object_add(
				s, "bytes_retrans",
				json_object_new_int64(
					(int64_t)si->bytes_retrans));
			json_object_object_add(
				s, "total_retrans",
				json_object_new_int64(si->total_retrans));
			json_object_array_add(arr, s);
		}
		json_object_object_add(m, "subflow", arr);
		json_object_object_add(o, "mptcp", m);
	}
	return o;
}

static void print_json_line(json_object *o)
{
	pthread_mutex_lock(&out_lock);
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	      stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* ---- server ------------------------------------------------------------ */

struct server_state {
	const struct opts *o;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long active;
	long done;
	long failed;
};

struct server_conn {
	struct server_state *st;
	int fd;
	double t_accept;
};

/* read the request header; 0 ok, -1 error (set in r) */
static int read_header(int fd, unsigned char *hb, double idle, struct result *r)
{
	size_t got = 0;
	double last = now_s();

	while (got < XFER_HDR_LEN) {
		ssize_t n =
			recv(fd, hb + got, XFER_HDR_LEN - got, MSG_DONTWAIT);

		if (n > 0) {
			got += (size_t)n;
			last = now_s();
			continue;
		}
		if (n == 0) {
			set_err(r,
				"EOF inside the request header (%zu of %d "
				"bytes)",
				got, XFER_HDR_LEN);
			return -1;
		}
		if (errno == EAGAIN || errno == EINTR) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			int ms = -1;

			if (idle > 0) {
				double rem = last + idle - now_s();

				if (rem <= 0) {
					set_err(r, "idle timeout waiting for "
						   "the request header");
					return -1;
				}
				ms = (int)(rem * 1000) + 1;
			}
			poll(&pfd, 1, ms);
			continue;
		}
		set_err(r, "recv header: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void *server_conn_main(void *arg)
{
	struct server_conn *c = arg;
	struct server_state *st = c->st;
	const struct opts *o = st->o;
	unsigned char hb[XFER_HDR_LEN];
	struct xfer_hdr h;
	struct result *r;
	struct job j;
	const char *bad;
	json_object *jo;

	r = calloc(1, sizeof(*r));
	if (!r) {
		close(c->fd);
		goto done_nomem;
	}
	r->role = "server";
	r->index = -1;
	r->ok = 1;
	r->t_start = r->t_end = r->t_tx_done = r->t_rx_done = c->t_accept;
	sock_names(c->fd, r);
	if (set_nonblock(c->fd) < 0) {
		set_err(r, "fcntl: %s", strerror(errno));
		goto report;
	}
	if (read_header(c->fd, hb, o->timeout, r) < 0)
		goto report;
	bad = hdr_decode(hb, &h);
	if (bad) {
		set_err(r, "%s", bad);
		goto report;
	}
	r->seed = h.seed;
	memset(&j, 0, sizeof(j));
	j.tx_key = stream_key(h.seed, XFER_KEY_DOWN);
	j.tx_len = h.down;
	j.rx_key = stream_key(h.seed, XFER_KEY_UP);
	j.rx_len = h.up;
	j.idle = o->timeout;
	j.hash = o->hash;
	j.verify = o->verify;
	j.half_close = o->half_close;
	run_transfer(c->fd, &j, r);
	/* the clock started at accept(), header included */
	r->t_start = c->t_accept;
	mptcp_collect(c->fd, &r->mp);
report:
	if (r->t_end <= c->t_accept)
		r->t_end = now_s();
	jo = result_json(r, o->mptcp);
	print_json_line(jo);
	json_object_put(jo);
	close(c->fd);
	pthread_mutex_lock(&st->lock);
	st->failed += !r->ok;
	goto done_locked;
done_nomem:
	pthread_mutex_lock(&st->lock);
	st->failed++;
done_locked:
	st->active--;
	st->done++;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	free(r);
	free(c);
	return NULL;
}

static int listen_socket(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0;
	char name[XFER_ADDRSTR];

	if (parse_hostport(o->listen, XFER_DEFAULT_PORT, 1, &ss, &len) < 0) {
		fprintf(stderr, "xfer: bad --listen address '%s'\n", o->listen);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
		    o->mptcp ? IPPROTO_MPTCP : IPPROTO_TCP);
	if (fd < 0) {
		fprintf(stderr, "xfer: socket(%s): %s%s\n",
			o->mptcp ? "IPPROTO_MPTCP" : "IPPROTO_TCP",
			strerror(errno),
			o->mptcp && errno == ENOPROTOOPT
				? " (net.mptcp.enabled=0 in this namespace?)"
				: "");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	addr_str(&ss, name, sizeof(name));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "xfer: bind %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 1024) < 0) {
		fprintf(stderr, "xfer: listen %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	fprintf(stderr, "xfer: listening on %s (%s)\n", name,
		o->mptcp ? "mptcp" : "tcp");
	return fd;
}

/*
 * The connection threads are joined, never detached: a detached thread
 * still runs its thread-local destructors (OpenSSL's among them) after it
 * said it was done, and main's exit() runs OPENSSL_cleanup() meanwhile.
 * One server aborted so, "double free or corruption (fasttop)" (vmtest,
 * 6.12, test_netem_converter). Finished threads are reaped at each accept,
 * so a server without --count keeps only the live ones.
 */
struct server_threads {
	pthread_t *th;
	size_t n, cap;
};

static void threads_reap(struct server_threads *t)
{
	size_t i = 0;

	while (i < t->n) {
		if (pthread_tryjoin_np(t->th[i], NULL) == 0)
			t->th[i] = t->th[--t->n];
		else
			i++;
	}
}

static int threads_add(struct server_threads *t, pthread_t th)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		pthread_t *p = realloc(t->th, cap * sizeof(*p));

		if (!p)
			return -1;
		t->th = p;
		t->cap = cap;
	}
	t->th[t->n++] = th;
	return 0;
}

static int run_server(const struct opts *o)
{
	struct server_threads thr = {0};
	struct server_state st;
	long accepted = 0;
	size_t i;
	int lfd, rc, accept_err = 0;

	memset(&st, 0, sizeof(st));
	st.o = o;
	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.cond, NULL);
	lfd = listen_socket(o);
	if (lfd < 0)
		return 1;
	while (o->count <= 0 || accepted < o->count) {
		struct server_conn *c;
		pthread_t th;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "xfer: accept: %s\n", strerror(errno));
			accept_err = 1;
			break;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->st = &st;
		c->fd = fd;
		c->t_accept = now_s();
		accepted++;
		pthread_mutex_lock(&st.lock);
		st.active++;
		pthread_mutex_unlock(&st.lock);
		threads_reap(&thr);
		if (pthread_create(&th, NULL, server_conn_main, c)) {
			/* no thread: handle it inline rather than drop it */
			server_conn_main(c);
		} else if (threads_add(&thr, th)) {
			pthread_detach(th); /* no memory to remember it */
		}
	}
	/*
	 * The listener stays open until the last connection is done: MPTCP
	 * MP_JOIN SYNs for additional subflows are looked up through it, a
	 * closed listener answers them with a RST.
	 */
	pthread_mutex_lock(&st.lock);
	while (st.active > 0)
		pthread_cond_wait(&st.cond, &st.lock);
	rc = st.failed || accept_err ? 1 : 0;
	pthread_mutex_unlock(&st.lock);
	for (i = 0; i < thr.n; i++)
		pthread_join(thr.th[i], NULL);
	free(thr.th);
	close(lfd);
	return rc;
}

/* ---- client ------------------------------------------------------------ */

struct client_conn {
	const struct opts *o;
	int index;
	double deadline;
	struct result r;
};

/*
 * The connect path: socket, optional bind, non-blocking connect() bounded
 * by the deadline. Returns a connected socket or -1 (error set in r).
 *
 * With --convert (RFC 8803): the socket goes to the converter with
 * TCP_FASTOPEN_CONNECT set, and connect() returns at once without sending
 * anything (deferred: the SYN leaves with the first write, which
 * conv_exchange() makes the Convert message); with --convert-sendto there
 * is no connect() at all, conv_exchange()'s sendto(MSG_FASTOPEN) does it.
 * If the kernel cannot send data in the SYN (no cookie cached and no 0x4
 * in net.ipv4.tcp_fastopen), connect() sends a plain SYN with a cookie
 * request and returns EINPROGRESS: the message then follows the handshake.
 */
static int conn_open(const struct opts *o, double deadline, struct result *r)
{
	const struct sockaddr_storage *dst = o->convert ? &o->conv : &o->dst;
	int fd, soerr = 0;
	socklen_t sl = sizeof(soerr);
	double t0 = now_s();

	addr_str(dst, r->peer, sizeof(r->peer));
	fd = socket(dst->ss_family, SOCK_STREAM | SOCK_CLOEXEC,
		    o->mptcp ? IPPROTO_MPTCP : IPPROTO_TCP);
	if (fd < 0) {
		set_err(r, "socket(%s): %s",
			o->mptcp ? "IPPROTO_MPTCP" : "IPPROTO_TCP",
			strerror(errno));
		return -1;
	}
	if (o->src_len) {
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&o->src, o->src_len) <
		    0) {
			set_err(r, "bind %s: %s", o->bind, strerror(errno));
			goto fail;
		}
	}
	if (set_nonblock(fd) < 0) {
		set_err(r, "fcntl: %s", strerror(errno));
		goto fail;
	}
	if (o->convert) {
		int one = 1;

		r->conv.o = o;
		if (o->convert_sendto) {
			r->conv.deferred = 1;
			return fd;
		}
		if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one,
			       sizeof(one)) < 0) {
			set_err(r, "TCP_FASTOPEN_CONNECT: %s%s",
				strerror(errno),
				errno == EOPNOTSUPP
					? " (net.ipv4.tcp_fastopen without "
					  "0x1 in this namespace)"
					: "");
			goto fail;
		}
		r->conv.t_connect = now_s();
		if (connect(fd, (const struct sockaddr *)&o->conv,
			    o->conv_len) == 0) {
			r->conv.deferred = 1;
			return fd;
		}
		if (errno == EINPROGRESS)
			return fd;
		set_err(r, "connect %s: %s", o->convert, strerror(errno));
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&o->dst, o->dst_len) < 0) {
		if (errno != EINPROGRESS) {
			set_err(r, "connect %s: %s", o->connect,
				strerror(errno));
			goto fail;
		}
		for (;;) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int ms = -1, pr;

			if (deadline > 0) {
				double rem = deadline - now_s();

				if (rem <= 0) {
					set_err(r, "connect %s: timeout",
						o->connect);
					goto fail;
				}
				ms = (int)(rem * 1000) + 1;
			}
			pr = poll(&pfd, 1, ms);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0) {
				set_err(r, "poll: %s", strerror(errno));
				goto fail;
			}
			if (pr > 0)
				break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
		    soerr) {
			set_err(r, "connect %s: %s", o->connect,
				strerror(soerr ? soerr : errno));
			goto fail;
		}
	}
	r->connect_s = now_s() - t0;
	sock_names(fd, r);
	return fd;
fail:
	close(fd);
	return -1;
}

/* ---- RFC 8803 Convert client ------------------------------------------ */

/* SO_LINGER 0 + close(): the kernel resets the connection (RST; on an
 * MPTCP socket every subflow is reset and MP_FASTCLOSE is sent) */
static void conn_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* wait until fd is ready for ev or the deadline passes (error in r) */
static int wait_fd(int fd, short ev, double deadline, struct result *r,
		   const char *what)
{
	struct pollfd pfd = {.fd = fd, .events = ev};

	for (;;) {
		int ms = -1, pr;

		if (deadline > 0) {
			double rem = deadline - now_s();

			if (rem <= 0) {
				set_err(r, "%s: timeout", what);
				return -1;
			}
			ms = (int)(rem * 1000) + 1;
		}
		pr = poll(&pfd, 1, ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			set_err(r, "poll: %s", strerror(errno));
			return -1;
		}
		if (pr > 0)
			return 0; /* errors show in the next send/recv */
	}
}

static const char *conv_rc_desc(int rc)
{
	switch (-rc) {
	case MPC_E_TRUNC:
		return "truncated";
	case MPC_E_LEN:
		return "bad length (Total Length 0, or a TLV length)";
	case MPC_E_FIELD:
		return "bad field (wrong magic: not a Convert message, or a "
		       "value the RFC forbids)";
	case MPC_E_UNKNOWN:
		return "TLV type 0, unknown, or one a converter never sends";
	case MPC_E_DUP:
		return "duplicate TLV";
	case MPC_E_VERSION:
		return "unsupported version";
	default:
		return "refused";
	}
}

/*
 * Whether the SYN's data was acknowledged: tcpi_options & TCPI_OPT_SYN_DATA
 * and tcpi_fastopen_client_fail, from MPTCP_TCPINFO (any subflow; only the
 * first one can have sent SYN data) on an MPTCP socket, else TCP_INFO (a
 * TCP socket, or an MPTCP socket that fell back, which hands SOL_TCP to
 * its subflow).
 */
static void tfo_info(int fd, struct conv_result *cv)
{
	struct {
		struct mptcp_subflow_data d;
		struct tcp_info ti[XFER_MAX_SUBFLOWS];
	} tib;
	struct tcp_info ti;
	socklen_t len, plen = sizeof(int);
	unsigned int i, n;
	int proto = 0;

	if (!getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) &&
	    proto == IPPROTO_MPTCP) {
		memset(&tib, 0, sizeof(tib));
		tib.d.size_subflow_data = sizeof(tib.d);
		tib.d.size_user = sizeof(struct tcp_info);
		len = sizeof(tib);
		if (!getsockopt(fd, SOL_MPTCP, MPTCP_TCPINFO, &tib, &len) &&
		    tib.d.num_subflows > 0) {
			n = MPC_MIN(tib.d.num_subflows, XFER_MAX_SUBFLOWS);
			cv->tcpinfo = 2;
			for (i = 0; i < n; i++)
				if (tib.ti[i].tcpi_options & TCPI_OPT_SYN_DATA)
					cv->tcpi_syn_data = 1;
			cv->tfo_fail = tib.ti[0].tcpi_fastopen_client_fail;
			goto out;
		}
	}
	memset(&ti, 0, sizeof(ti));
	len = sizeof(ti);
	if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) && len >= 8) {
		cv->tcpinfo = 1;
		cv->tcpi_syn_data = !!(ti.tcpi_options & TCPI_OPT_SYN_DATA);
		cv->tfo_fail = ti.tcpi_fastopen_client_fail;
	}
out:
	/* the flag also means "data received in the SYN-ACK" (seen on 6.18
	 * with a SYN that only asked for a cookie): only SYN data counts */
	cv->syn_data = cv->tcpi_syn_data && cv->syn_payload > 0;
}

/*
 * The client's half of RFC 8803 on a socket from conn_open(): the first
 * write is the Convert message plus --convert-data bytes of what follows
 * it (request header hb, then the upload stream), so it leaves as SYN
 * data; then the reply is read, exactly its Total Length, and parsed.
 * Returns 0 to go on (the caller sends the rest: *hdr_done header and
 * *pay_done payload bytes are out already), or -1 with the error in r and
 * the connection reset and closed: after an Error TLV (6.2.8 "a Client
 * MUST reset"), an invalid reply (D2 in convert.h), a failure, or
 * --expect-syn-data without acknowledged SYN data.
 */
static int conv_exchange(int fd, const struct opts *o, double deadline,
			 const unsigned char *hb, struct result *r,
			 size_t *hdr_done, uint64_t *pay_done)
{
	struct conv_result *cv = &r->conv;
	size_t len = o->conv_msg_len + (size_t)o->convert_data, off = 0;
	size_t hb_n = MPC_MIN((size_t)o->convert_data, (size_t)XFER_HDR_LEN);
	size_t got = 0, want = MPC_CONV_HDR_LEN;
	unsigned char *buf = malloc(len);
	int first = 1, rc;
	ssize_t n;

	if (!buf) {
		set_err(r, "out of memory");
		goto fail;
	}
	memcpy(buf, o->conv_msg, o->conv_msg_len);
	memcpy(buf + o->conv_msg_len, hb, hb_n);
	if (o->convert_data > hb_n)
		gen_fill(stream_key(r->seed, XFER_KEY_UP), 0,
			 buf + o->conv_msg_len + hb_n,
			 (size_t)o->convert_data - hb_n);
	*hdr_done = hb_n;
	*pay_done = o->convert_data - hb_n;
	cv->first_len = len;

	while (off < len) {
		if (first && o->convert_sendto) {
			cv->t_connect = now_s();
			n = sendto(fd, buf, len, MSG_FASTOPEN | MSG_NOSIGNAL,
				   (const struct sockaddr *)&o->conv,
				   o->conv_len);
		} else {
			n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		}
		/* non-blocking: the first call returns what went into the
		 * SYN, or EINPROGRESS when the SYN left without data */
		if (first && n > 0 && cv->deferred)
			cv->syn_payload = (size_t)n;
		first = 0;
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR ||
			      errno == EINPROGRESS || errno == EALREADY)) {
			if (wait_fd(fd, POLLOUT, deadline, r,
				    "connect to the converter") < 0)
				goto fail;
			continue;
		}
		set_err(r, "send Convert message to %s: %s%s", o->convert,
			strerror(errno),
			errno == EOPNOTSUPP && o->convert_sendto
				? " (net.ipv4.tcp_fastopen without 0x1?)"
				: "");
		goto fail;
	}

	for (;;) {
		while (got < want) {
			n = recv(fd, cv->reply + got, want - got, MSG_DONTWAIT);
			if (n > 0) {
				got += (size_t)n;
				continue;
			}
			cv->reply_len = got;
			if (n == 0) {
				if (got)
					set_err(r,
						"converter closed inside its "
						"Convert reply (%zu of %zu "
						"bytes)",
						got, want);
				else
					set_err(r, "converter closed without "
						   "a Convert reply");
				goto fail;
			}
			if (errno == EAGAIN || errno == EINTR) {
				if (wait_fd(fd, POLLIN, deadline, r,
					    "Convert reply") < 0)
					goto fail;
				continue;
			}
			set_err(r, "Convert reply from %s: %s", o->convert,
				strerror(errno));
			goto fail;
		}
		cv->reply_len = got;
		rc = mpc_conv_parse(cv->reply, (__u32)got,
				    MPC_CONV_FROM_CONVERTER, &cv->m);
		if (rc == -MPC_E_TRUNC &&
		    cv->m.answer.action == MPC_CONV_ACT_INCOMPLETE &&
		    cv->m.need > got && cv->m.need <= MPC_CONV_MAXLEN) {
			want = cv->m.need;
			continue;
		}
		break;
	}
	cv->parse_rc = rc;
	cv->reply_done = 1;
	cv->reply_s = now_s() - cv->t_connect;
	r->connect_s = cv->reply_s;
	tfo_info(fd, cv);
	sock_names(fd, r);
	if (!rc && (cv->m.tlvs & MPC_CONV_F_ERROR)) {
		cv->error_tlv = 1;
		set_err(r, "converter answered with Error %u (%s)",
			cv->m.err_code, conv_err_name(cv->m.err_code));
		goto reset;
	}
	if (rc || cv->m.answer.action != MPC_CONV_ACT_ACCEPT) {
		cv->invalid = conv_rc_desc(rc);
		set_err(r, "invalid Convert reply: %s (offset %u)", cv->invalid,
			cv->m.answer.where);
		goto reset;
	}
	if (o->expect_syn_data && !cv->syn_data &&
	    cv->tfo_fail != TFO_SYN_RETRANSMITTED) {
		set_err(r,
			"SYN data not acknowledged (--expect-syn-data; "
			"%zu bytes in the SYN, tfo_client_fail %s)",
			cv->syn_payload, tfo_fail_name(cv->tfo_fail));
		goto reset;
	}
	free(buf);
	return 0;
fail:
	if (!cv->reply_done) {
		tfo_info(fd, cv);
		sock_names(fd, r);
	}
reset:
	conn_reset(fd);
	free(buf);
	return -1;
}

static void *client_conn_main(void *arg)
{
	struct client_conn *c = arg;
	const struct opts *o = c->o;
	struct result *r = &c->r;
	unsigned char hb[XFER_HDR_LEN];
	struct xfer_hdr h;
	struct job j;
	size_t hdr_done = 0;
	uint64_t pay_done = 0;
	int fd;

	r->t_start = r->t_end = r->t_tx_done = r->t_rx_done = now_s();
	/* the header first: --convert-data may put some of it in the SYN */
	memset(&h, 0, sizeof(h));
	h.magic = XFER_MAGIC;
	h.version = XFER_VERSION;
	h.seed = r->seed;
	h.up = o->up;
	h.down = o->down;
	hdr_encode(&h, hb);
	fd = conn_open(o, c->deadline, r);
	if (fd < 0) {
		r->t_end = r->t_tx_done = r->t_rx_done = now_s();
		return NULL;
	}
	if (o->convert) {
		if (conv_exchange(fd, o, c->deadline, hb, r, &hdr_done,
				  &pay_done) < 0) {
			r->t_end = r->t_tx_done = r->t_rx_done = now_s();
			return NULL;
		}
		if (!o->connect) {
			/* no Connect TLV (--convert-info alone): done */
			mptcp_collect(fd, &r->mp);
			r->t_end = r->t_tx_done = r->t_rx_done = now_s();
			close(fd);
			return NULL;
		}
	}

	memset(&j, 0, sizeof(j));
	j.tx_key = stream_key(h.seed, XFER_KEY_UP);
	j.tx_len = h.up;
	j.rx_key = stream_key(h.seed, XFER_KEY_DOWN);
	j.rx_len = h.down;
	j.prefix = hb;
	j.prefix_len = sizeof(hb);
	j.prefix_done = hdr_done;
	j.tx_done = pay_done;
	j.deadline = c->deadline;
	j.hash = o->hash;
	j.verify = o->verify;
	j.half_close = o->half_close;
	run_transfer(fd, &j, r);
	mptcp_collect(fd, &r->mp);
	if (r->ok && o->expect_mptcp && (!r->mp.valid || r->mp.fallback))
		set_err(r, "connection fell back to TCP (--expect-mptcp)");
	close(fd);
	return NULL;
}

static void print_hex(const unsigned char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", d[i]);
}

/* the Convert exchange of one connection, under its line */
static void print_conv_text(const struct result *r)
{
	const struct conv_result *cv = &r->conv;
	const struct mpc_conv_msg *m = &cv->m;
	unsigned int k, off, words;

	printf("  convert via %s (%s): %zu bytes in the SYN", cv->o->convert,
	       cv->o->convert_sendto ? "sendto" : "connect", cv->syn_payload);
	if (cv->tcpinfo)
		printf(", SYN data %s",
		       cv->syn_data ? "acked" : tfo_fail_name(cv->tfo_fail));
	if (!cv->reply_done) {
		printf(", no reply (%zu bytes)\n", cv->reply_len);
		return;
	}
	printf(", reply %zu bytes after %.3f s: ", cv->reply_len, cv->reply_s);
	print_hex(cv->reply, cv->reply_len);
	printf("\n");
	if (cv->invalid)
		printf("  convert reply invalid: %s\n", cv->invalid);
	if (cv->parse_rc)
		return;
	if (m->tlvs & MPC_CONV_F_SUPPORTED) {
		printf("  converter supports TCP option kinds:");
		for (k = 0; k < m->sup_n; k++)
			printf(" %u", cv->reply[m->sup_off + k]);
		printf("\n");
	}
	if (m->tlvs & MPC_CONV_F_XHDR) {
		printf("  server's SYN+ACK options: ");
		print_hex(cv->reply + m->xhdr_off, m->xhdr_len);
		printf("\n");
	}
	if (cv->error_tlv) {
		off = m->tlv_off[MPC_CONV_I_ERROR];
		words = m->tlv_words[MPC_CONV_I_ERROR];
		printf("  convert error %u (%s), value ", m->err_code,
		       conv_err_name(m->err_code));
		print_hex(cv->reply + off + 3, words * 4 - 3);
		printf("\n");
	}
}

static void print_text(const struct client_conn *c, long n, double wall,
		       uint64_t tot_tx, uint64_t tot_rx, long failed)
{
	char hs[65], hr[65];
	long i;

	for (i = 0; i < n; i++) {
		const struct result *r = &c[i].r;
		double dur = r->t_end - r->t_start;

		if (r->hashed) {
			hex32(r->sha_sent, hs);
			hex32(r->sha_recv, hr);
		} else {
			strcpy(hs, "-");
			strcpy(hr, "-");
		}
		printf("conn %d %s -> %s %s", r->index, r->local, r->peer,
		       c->o->mptcp ? "mptcp" : "tcp");
		if (r->mp.valid)
			printf("(%s, %d subflows)",
			       r->mp.fallback ? "fallback" : "active",
			       r->mp.n_sub);
		printf(": sent %" PRIu64 " sha256 %s, received %" PRIu64
		       " sha256 %s, %.3f s, %.1f/%.1f Mbit/s up/down, %s%s%s\n",
		       r->sent, hs, r->received, hr, dur,
		       mbps(r->sent, r->t_tx_done - r->t_start),
		       mbps(r->received, r->t_rx_done - r->t_start),
		       r->ok ? "OK" : "FAILED", r->error[0] ? ": " : "",
		       r->error);
		if (r->conv.o)
			print_conv_text(r);
	}
	printf("total: %ld/%ld ok, sent %" PRIu64 ", received %" PRIu64
	       ", %.3f s, %.1f Mbit/s\n",
	       n - failed, n, tot_tx, tot_rx, wall,
	       mbps(tot_tx + tot_rx, wall));
}

/*
 * The Convert message every connection sends: --convert-raw as given, or
 * fixed header, [Info], [Connect naming o->dst, Extended with
 * --convert-opt], [Cookie]. 0 or -1 (message printed).
 */
static int conv_build(struct opts *o)
{
	unsigned char *b = o->conv_msg;
	__u8 addr[16];
	__u16 port;
	int n, t = 0;

	if (o->have_raw) {
		memcpy(o->conv_msg, o->conv_raw, o->conv_raw_len);
		o->conv_msg_len = o->conv_raw_len;
		return 0;
	}
	n = mpc_conv_put_hdr(b, MPC_CONV_CAP);
	if (o->convert_info) {
		t = mpc_conv_put_info(b, (__u32)n, MPC_CONV_CAP);
		if (t < 0)
			goto nospace;
		n += t;
	}
	if (o->connect) {
		memset(addr, 0, sizeof(addr));
		if (o->dst.ss_family == AF_INET) {
			const struct sockaddr_in *s4 =
				(const struct sockaddr_in *)&o->dst;

			/* 6.2.5: IPv4 as an IPv4-mapped IPv6 address */
			addr[10] = addr[11] = 0xff;
			memcpy(addr + 12, &s4->sin_addr, 4);
			port = ntohs(s4->sin_port);
		} else {
			const struct sockaddr_in6 *s6 =
				(const struct sockaddr_in6 *)&o->dst;

			memcpy(addr, &s6->sin6_addr, 16);
			port = ntohs(s6->sin6_port);
		}
		t = mpc_conv_put_connect(b, (__u32)n, MPC_CONV_CAP, port, addr,
					 o->conv_opts, 0,
					 (__u32)o->conv_opts_len);
		if (t == -MPC_E_FIELD) {
			fprintf(stderr,
				"xfer: no valid Connect TLV for %s (port 0, "
				"a loopback/multicast/broadcast/unspecified "
				"address, or --convert-opt kinds 0/1): use "
				"--convert-raw to send one anyway\n",
				o->connect);
			return -1;
		}
		if (t < 0)
			goto nospace;
		n += t;
	}
	if (o->conv_cookie_len) {
		t = mpc_conv_put_cookie(b, (__u32)n, MPC_CONV_CAP,
					o->conv_cookie, 0,
					(__u32)o->conv_cookie_len);
		if (t < 0)
			goto nospace;
		n += t;
	}
	mpc_conv_set_total(b, (__u32)n);
	o->conv_msg_len = (size_t)n;
	return 0;
nospace:
	fprintf(stderr,
		"xfer: the Convert message does not fit in 1020 bytes\n");
	return -1;
}

static int run_client(struct opts *o)
{
	struct client_conn *c;
	pthread_t *th;
	json_object *doc, *arr, *tot;
	double t0, t_end = 0, t_tx = 0, t_rx = 0, wall;
	uint64_t tot_tx = 0, tot_rx = 0;
	long i, failed = 0, conv_errors = 0;
	const struct sockaddr_storage *sdst = o->convert ? &o->conv : &o->dst;

	if (o->connect && parse_hostport(o->connect, XFER_DEFAULT_PORT, 0,
					 &o->dst, &o->dst_len) < 0) {
		fprintf(stderr, "xfer: bad --connect address '%s'\n",
			o->connect);
		return 2;
	}
	if (o->convert && parse_hostport(o->convert, XFER_CONVERT_PORT, 0,
					 &o->conv, &o->conv_len) < 0) {
		fprintf(stderr, "xfer: bad --convert address '%s'\n",
			o->convert);
		return 2;
	}
	if (o->bind &&
	    parse_hostport(o->bind, "0", 0, &o->src, &o->src_len) < 0) {
		fprintf(stderr, "xfer: bad --bind address '%s'\n", o->bind);
		return 2;
	}
	if (o->src_len && o->src.ss_family != sdst->ss_family) {
		fprintf(stderr, "xfer: --bind and --%s families differ\n",
			o->convert ? "convert" : "connect");
		return 2;
	}
	if (o->convert && conv_build(o) < 0)
		return 2;
	if (!o->have_seed &&
	    getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed))
		o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	c = calloc((size_t)o->parallel, sizeof(*c));
	th = calloc((size_t)o->parallel, sizeof(*th));
	if (!c || !th) {
		fprintf(stderr, "xfer: out of memory\n");
		free(c);
		free(th);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < o->parallel; i++) {
		c[i].o = o;
		c[i].index = (int)i;
		c[i].deadline = o->timeout > 0 ? t0 + o->timeout : 0;
		c[i].r.role = "client";
		c[i].r.index = (int)i;
		c[i].r.ok = 1;
		c[i].r.seed = splitmix64(o->seed + (uint64_t)i);
		if (pthread_create(&th[i], NULL, client_conn_main, &c[i])) {
			set_err(&c[i].r, "pthread_create failed");
			th[i] = 0;
		}
	}
	for (i = 0; i < o->parallel; i++) {
		struct result *r = &c[i].r;

		if (th[i])
			pthread_join(th[i], NULL);
		if (!r->ok)
			failed++;
		if (r->conv.error_tlv)
			conv_errors++;
		tot_tx += r->sent;
		tot_rx += r->received;
		if (r->t_end > t_end)
			t_end = r->t_end;
		if (r->t_tx_done > t_tx)
			t_tx = r->t_tx_done;
		if (r->t_rx_done > t_rx)
			t_rx = r->t_rx_done;
	}
	wall = t_end - t0;

	if (!o->json) {
		print_text(c, o->parallel, wall, tot_tx, tot_rx, failed);
	} else {
		doc = json_object_new_object();
		arr = json_object_new_array();
		for (i = 0; i < o->parallel; i++)
			json_object_array_add(arr,
					      result_json(&c[i].r, o->mptcp));
		json_object_object_add(doc, "role",
				       json_object_new_string("client"));
		json_object_object_add(
			doc, "proto",
			json_object_new_string(o->mptcp ? "mptcp" : "tcp"));
		json_object_object_add(
			doc, "connect",
			o->connect ? json_object_new_string(o->connect) : NULL);
		if (o->convert) {
			json_object_object_add(
				doc, "convert",
				json_object_new_string(o->convert));
			json_object_object_add(
				doc, "convert_errors",
				json_object_new_int((int)conv_errors));
		}
		json_object_object_add(doc, "parallel",
				       json_object_new_int((int)o->parallel));
		json_object_object_add(doc, "up",
				       json_object_new_int64((int64_t)o->up));
		json_object_object_add(doc, "down",
				       json_object_new_int64((int64_t)o->down));
		json_object_object_add(doc, "connections", arr);
		tot = json_object_new_object();
		json_object_object_add(tot, "connections",
				       json_object_new_int((int)o->parallel));
		json_object_object_add(
			tot, "ok",
			json_object_new_int((int)(o->parallel - failed)));
		json_object_object_add(tot, "failed",
				       json_object_new_int((int)failed));
		json_object_object_add(tot, "bytes_sent",
				       json_object_new_int64((int64_t)tot_tx));
		json_object_object_add(tot, "bytes_received",
				       json_object_new_int64((int64_t)tot_rx));
		json_object_object_add(tot, "duration_s", jdbl(wall));
		json_object_object_add(tot, "rate_mbps",
				       jdbl(mbps(tot_tx + tot_rx, wall)));
		json_object_object_add(tot, "rate_sent_mbps",
				       jdbl(mbps(tot_tx, t_tx - t0)));
		json_object_object_add(tot, "rate_received_mbps",
				       jdbl(mbps(tot_rx, t_rx - t0)));
		json_object_object_add(doc, "total", tot);
		json_object_object_add(doc, "ok",
				       json_object_new_boolean(failed == 0));
		print_json_line(doc);
		json_object_put(doc);
	}
	free(c);
	free(th);
	if (conv_errors)
		return 3;
	return failed ? 1 : 0;
}

/* ---- compare ------------------------------------------------------------ */

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return -1;
	return json_object_get_int64(v);
}

static double jnum(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	return json_object_get_double(v);
}

static int jbool(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return -1; /* absent or null */
	return json_object_get_boolean(v);
}

static int same_str(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int run_compare(const char *cpath, const char *spath)
{
	json_object *cdoc, *conns, *tot, *srv = NULL;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, k, n_srv = 0, n_c;
	ssize_t ll;
	int bad = 0, hashed = 0, sub_min = -1, sub_max = 0;
	int conv_err = -1, conv_errs = 0, syn_data = 0, syn_retx = 0;
	uint64_t up = 0, down = 0;
	double up_mbps = 0, down_mbps = 0, dur_max = 0;

	cdoc = json_object_from_file(cpath);
	if (!cdoc || !json_object_object_get_ex(cdoc, "connections", &conns) ||
	    !json_object_is_type(conns, json_type_array)) {
		fprintf(stderr,
			"compare: %s: no client JSON with connections\n",
			cpath);
		printf("ok=0 conns=0 error=no-client-json\n");
		json_object_put(cdoc);
		return 1;
	}
	srv = json_object_new_array();
	f = fopen(spath, "r");
	if (!f) {
		fprintf(stderr, "compare: %s: %s\n", spath, strerror(errno));
	} else {
		while ((ll = getline(&line, &cap, f)) > 0) {
			json_object *o;

			if (ll <= 1)
				continue;
			o = json_tokener_parse(line);
			if (!o || !json_object_is_type(o, json_type_object)) {
				fprintf(stderr,
					"compare: %s: unparsable line: %s",
					spath, line);
				json_object_put(o);
				bad++;
				continue;
			}
			json_object_array_add(srv, o);
			n_srv++;
		}
		fclose(f);
		free(line);
	}

	n_c = json_object_array_length(conns);
	for (k = 0; k < n_c; k++) {
		json_object *c = json_object_array_get_idx(conns, k), *s = NULL,
			    *mp, *v;
		const char *seed = jstr(c, "seed");
		size_t m;
		int64_t c_tx = jint(c, "bytes_sent"), c_rx;
		int64_t want_up = jint(c, "expect_sent");
		int64_t want_down = jint(c, "expect_received");
		int idx = (int)jint(c, "index");

		c_rx = jint(c, "bytes_received");
		if (jint(c, "convert_error") >= 0) {
			if (conv_err < 0)
				conv_err = (int)jint(c, "convert_error");
			conv_errs++;
		}
		if (jbool(c, "syn_data") == 1)
			syn_data++;
		if (same_str(jstr(c, "tfo_client_fail"), "syn_retransmitted"))
			syn_retx++;
		for (m = 0; m < n_srv && seed; m++) {
			json_object *cand = json_object_array_get_idx(srv, m);

			if (same_str(jstr(cand, "seed"), seed)) {
				s = cand;
				break;
			}
		}
		if (jbool(c, "ok") != 1) {
			fprintf(stderr, "compare: conn %d: client failed: %s\n",
				idx, jstr(c, "error") ?: "?");
			bad++;
		}
		if (!s) {
			fprintf(stderr,
				"compare: conn %d (seed %s): no server record\n",
				idx, seed ?: "?");
			bad++;
			continue;
		}
		if (jbool(s, "ok") != 1) {
			fprintf(stderr, "compare: conn %d: server failed: %s\n",
				idx, jstr(s, "error") ?: "?");
			bad++;
		}
		if (c_tx != want_up || jint(s, "bytes_received") != want_up) {
			fprintf(stderr,
				"compare: conn %d: upload %" PRId64
				" announced, client sent %" PRId64
				", server received %" PRId64 "\n",
				idx, want_up, c_tx, jint(s, "bytes_received"));
			bad++;
		}
		if (c_rx != want_down || jint(s, "bytes_sent") != want_down) {
			fprintf(stderr,
				"compare: conn %d: download %" PRId64
				" announced, server sent %" PRId64
				", client received %" PRId64 "\n",
				idx, want_down, jint(s, "bytes_sent"), c_rx);
			bad++;
		}
		/* hashes are compared where both sides computed them */
		if (jstr(c, "sha256_sent") && jstr(s, "sha256_received") &&
		    jstr(s, "sha256_sent") && jstr(c, "sha256_received")) {
			hashed++;
			if (!same_str(jstr(c, "sha256_sent"),
				      jstr(s, "sha256_received"))) {
				fprintf(stderr,
					"compare: conn %d: upload sha256 "
					"client %s != server %s\n",
					idx, jstr(c, "sha256_sent") ?: "null",
					jstr(s, "sha256_received") ?: "null");
				bad++;
			}
			if (!same_str(jstr(s, "sha256_sent"),
				      jstr(c, "sha256_received"))) {
				fprintf(stderr,
					"compare: conn %d: download sha256 "
					"server %s != client %s\n",
					idx, jstr(s, "sha256_sent") ?: "null",
					jstr(c, "sha256_received") ?: "null");
				bad++;
			}
		}
		if (jbool(c, "verified") == 0 || jbool(s, "verified") == 0) {
			fprintf(stderr, "compare: conn %d: not verified\n",
				idx);
			bad++;
		}
		up += (uint64_t)(c_tx > 0 ? c_tx : 0);
		down += (uint64_t)(c_rx > 0 ? c_rx : 0);
		/*
		 * Each direction is timed by its receiver; summed over the
		 * connections, which run concurrently.
		 */
		up_mbps += jnum(s, "rate_received_mbps");
		down_mbps += jnum(c, "rate_received_mbps");
		if (jnum(c, "duration_s") > dur_max)
			dur_max = jnum(c, "duration_s");
		if (json_object_object_get_ex(c, "mptcp", &mp) && mp &&
		    json_object_object_get_ex(mp, "data_subflows", &v)) {
			int ns = json_object_get_int(v);

			if (sub_min < 0 || ns < sub_min)
				sub_min = ns;
			if (ns > sub_max)
				sub_max = ns;
		}
	}
	if (n_srv > n_c) {
		fprintf(stderr,
			"compare: %zu server records for %zu client "
			"connections\n",
			n_srv, n_c);
		bad++;
	}
	tot = NULL;
	json_object_object_get_ex(cdoc, "total", &tot);
	printf("ok=%d conns=%zu errors=%d hashed=%d up_bytes=%" PRIu64
	       " down_bytes=%" PRIu64 " up_mbps=%.1f down_mbps=%.1f"
	       " duration_s=%.3f subflows_min=%d subflows_max=%d",
	       bad == 0 && n_c > 0, n_c, bad, hashed, up, down, up_mbps,
	       down_mbps, tot ? jnum(tot, "duration_s") : dur_max,
	       sub_min < 0 ? 0 : sub_min, sub_max);
	if (jstr(cdoc, "convert")) { /* a --convert client: more keys */
		if (conv_err >= 0)
			printf(" convert_error=%d", conv_err);
		else
			printf(" convert_error=none");
		printf(" convert_errors=%d syn_data=%d syn_retx=%d", conv_errs,
		       syn_data, syn_retx);
	}
	printf("\n");
	json_object_put(srv);
	json_object_put(cdoc);
	return bad == 0 && n_c > 0 ? 0 : 1;
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage:\n"
		"  xfer server [--listen [ADDR]:PORT] [--mptcp] [--once | --count K]\n"
		"              [--timeout S] [--no-hash] [--no-verify] [--half-close]\n"
		"  xfer client --connect ADDR:PORT [--up N] [--down N] [--parallel K]\n"
		"              [--bind ADDR[:PORT]] [--mptcp] [--expect-mptcp]\n"
		"              [--timeout S] [--seed N] [--no-hash] [--no-verify] [--json]\n"
		"              [--half-close]\n"
		"              [--convert ADDR[:PORT] [--convert-sendto] [--convert-info]\n"
		"               [--convert-opt KIND[:HEX]]... [--convert-cookie HEX]\n"
		"               [--convert-raw HEX] [--convert-data N] [--expect-syn-data]]\n"
		"  xfer compare CLIENT.json SERVER.jsonl\n"
		"sizes: k/M/G/T suffixes are powers of 1024. Protocol and output\n"
		"formats: see the comment at the top of tests/tools/xfer.c.\n");
}

enum {
	OPT_LISTEN = 256,
	OPT_MPTCP,
	OPT_ONCE,
	OPT_COUNT,
	OPT_TIMEOUT,
	OPT_NO_HASH,
	OPT_NO_VERIFY,
	OPT_CONNECT,
	OPT_BIND,
	OPT_UP,
	OPT_DOWN,
	OPT_PARALLEL,
	OPT_JSON,
	OPT_EXPECT_MPTCP,
	OPT_SEED,
	OPT_HALF_CLOSE,
	OPT_CONVERT,
	OPT_CONVERT_SENDTO,
	OPT_CONVERT_INFO,
	OPT_CONVERT_OPT,
	OPT_CONVERT_COOKIE,
	OPT_CONVERT_RAW,
	OPT_CONVERT_DATA,
	OPT_EXPECT_SYN_DATA,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"mptcp", no_argument, NULL, OPT_MPTCP},
	{"once", no_argument, NULL, OPT_ONCE},
	{"count", required_argument, NULL, OPT_COUNT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"no-hash", no_argument, NULL, OPT_NO_HASH},
	{"no-verify", no_argument, NULL, OPT_NO_VERIFY},
	{"connect", required_argument, NULL, OPT_CONNECT},
	{"bind", required_argument, NULL, OPT_BIND},
	{"up", required_argument, NULL, OPT_UP},
	{"down", required_argument, NULL, OPT_DOWN},
	{"parallel", required_argument, NULL, OPT_PARALLEL},
	{"json", no_argument, NULL, OPT_JSON},
	{"expect-mptcp", no_argument, NULL, OPT_EXPECT_MPTCP},
	{"seed", required_argument, NULL, OPT_SEED},
	{"half-close", no_argument, NULL, OPT_HALF_CLOSE},
	{"convert", required_argument, NULL, OPT_CONVERT},
	{"convert-sendto", no_argument, NULL, OPT_CONVERT_SENDTO},
	{"convert-info", no_argument, NULL, OPT_CONVERT_INFO},
	{"convert-opt", required_argument, NULL, OPT_CONVERT_OPT},
	{"convert-cookie", required_argument, NULL, OPT_CONVERT_COOKIE},
	{"convert-raw", required_argument, NULL, OPT_CONVERT_RAW},
	{"convert-data", required_argument, NULL, OPT_CONVERT_DATA},
	{"expect-syn-data", no_argument, NULL, OPT_EXPECT_SYN_DATA},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* hex digits (an optional 0x first) into out; -1 if odd, bad or > cap */
static int parse_hex(const char *s, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	int hi, lo;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (*s) {
		if (!s[1])
			return -1;
		hi = hexval(s[0]);
		lo = hexval(s[1]);
		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	*len = n;
	return 0;
}

/* --convert-opt KIND[:HEX]: one TCP option (kind, length, value) appended
 * to the Extended Connect TCP Options field */
static int parse_conv_opt(struct opts *o, const char *arg)
{
	unsigned char val[253];
	char kbuf[16];
	const char *colon = strchr(arg, ':');
	size_t klen = colon ? (size_t)(colon - arg) : strlen(arg), vlen = 0;
	long kind;

	if (klen == 0 || klen >= sizeof(kbuf))
		return -1;
	memcpy(kbuf, arg, klen);
	kbuf[klen] = '\0';
	if (parse_long(kbuf, 0, 255, &kind) < 0)
		return -1;
	if (colon && parse_hex(colon + 1, val, sizeof(val), &vlen) < 0)
		return -1;
	if (o->conv_opts_len + 2 + vlen > sizeof(o->conv_opts))
		return -1;
	o->conv_opts[o->conv_opts_len++] = (unsigned char)kind;
	o->conv_opts[o->conv_opts_len++] = (unsigned char)(2 + vlen);
	memcpy(o->conv_opts + o->conv_opts_len, val, vlen);
	o->conv_opts_len += vlen;
	return 0;
}

/* option combinations for --convert; 0 or -1 (message printed) */
static int check_convert_opts(const struct opts *o)
{
	int extra = o->convert_sendto || o->convert_info || o->conv_opts_len ||
		    o->conv_cookie_len || o->have_raw || o->convert_data ||
		    o->expect_syn_data;

	if (!o->convert) {
		if (extra) {
			fprintf(stderr, "xfer: --convert-* and "
					"--expect-syn-data need --convert\n");
			return -1;
		}
		if (!o->connect) {
			fprintf(stderr, "xfer client: --connect ADDR:PORT is "
					"required\n");
			return -1;
		}
		return 0;
	}
	if (o->have_raw &&
	    (o->convert_info || o->conv_opts_len || o->conv_cookie_len)) {
		fprintf(stderr, "xfer: --convert-raw replaces the built "
				"message: no --convert-info/-opt/-cookie\n");
		return -1;
	}
	if (!o->connect && !o->have_raw && !o->convert_info &&
	    !o->conv_cookie_len) {
		fprintf(stderr,
			"xfer: --convert without --connect sends no Connect "
			"TLV: give --convert-info, --convert-cookie or "
			"--convert-raw\n");
		return -1;
	}
	if (!o->connect && (o->conv_opts_len || o->convert_data)) {
		fprintf(stderr, "xfer: --convert-opt and --convert-data need "
				"--connect\n");
		return -1;
	}
	if (o->convert_data > XFER_HDR_LEN + o->up) {
		fprintf(stderr,
			"xfer: --convert-data %" PRIu64
			" is more than the %d-byte header plus --up\n",
			o->convert_data, XFER_HDR_LEN);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *mode;
	int server, ch;
	char *end;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(mode, "compare")) {
		if (argc != 4) {
			usage(stderr);
			return 2;
		}
		return run_compare(argv[2], argv[3]);
	}
	if (strcmp(mode, "server") != 0 && strcmp(mode, "client") != 0) {
		usage(stderr);
		return 2;
	}
	server = !strcmp(mode, "server");

	memset(&o, 0, sizeof(o));
	o.hash = 1;
	o.verify = 1;
	o.parallel = 1;
	o.listen = ":" XFER_DEFAULT_PORT;
	o.timeout = server ? 0 : 300;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (ch) {
		case OPT_LISTEN:
			o.listen = optarg;
			break;
		case OPT_MPTCP:
			o.mptcp = 1;
			break;
		case OPT_ONCE:
			o.count = 1;
			break;
		case OPT_COUNT:
			if (parse_long(optarg, 1, LONG_MAX, &o.count) < 0)
				goto bad;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			o.timeout = strtod(optarg, &end);
			if (errno || end == optarg || *end || o.timeout < 0)
				goto bad;
			break;
		case OPT_NO_HASH:
			o.hash = 0;
			break;
		case OPT_NO_VERIFY:
			o.verify = 0;
			break;
		case OPT_CONNECT:
			o.connect = optarg;
			break;
		case OPT_BIND:
			o.bind = optarg;
			break;
		case OPT_UP:
			if (parse_size(optarg, &o.up) < 0)
				goto bad;
			break;
		case OPT_DOWN:
			if (parse_size(optarg, &o.down) < 0)
				goto bad;
			break;
		case OPT_PARALLEL:
			if (parse_long(optarg, 1, XFER_MAX_PARALLEL,
				       &o.parallel) < 0)
				goto bad;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_EXPECT_MPTCP:
			o.expect_mptcp = 1;
			break;
		case OPT_SEED:
			errno = 0;
			o.seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end)
				goto bad;
			o.have_seed = 1;
			break;
		case OPT_HALF_CLOSE:
			o.half_close = 1;
			break;
		case OPT_CONVERT:
			o.convert = optarg;
			break;
		case OPT_CONVERT_SENDTO:
			o.convert_sendto = 1;
			break;
		case OPT_CONVERT_INFO:
			o.convert_info = 1;
			break;
		case OPT_CONVERT_OPT:
			if (parse_conv_opt(&o, optarg) < 0)
				goto bad;
			break;
		case OPT_CONVERT_COOKIE:
			if (parse_hex(optarg, o.conv_cookie,
				      MPC_CONV_ECHO_MAX - 4,
				      &o.conv_cookie_len) < 0 ||
			    !o.conv_cookie_len)
				goto bad;
			break;
		case OPT_CONVERT_RAW:
			if (parse_hex(optarg, o.conv_raw, sizeof(o.conv_raw),
				      &o.conv_raw_len) < 0)
				goto bad;
			o.have_raw = 1;
			break;
		case OPT_CONVERT_DATA:
			if (parse_size(optarg, &o.convert_data) < 0 ||
			    o.convert_data > XFER_CONV_DATA_MAX)
				goto bad;
			break;
		case OPT_EXPECT_SYN_DATA:
			o.expect_syn_data = 1;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xfer: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (server)
		return run_server(&o);
	if (check_convert_opts(&o) < 0)
		return 2;
	return run_client(&o);
bad:
	fprintf(stderr, "xfer: bad value '%s'\n", optarg);
	usage(stderr);
	return 2;
}
