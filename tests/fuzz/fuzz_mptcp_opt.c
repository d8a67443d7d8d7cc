// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * fuzz_mptcp_opt - libFuzzer target for include/mpconv/mptcp_opt.h.
 *
 * The input's first (up to) 40 bytes are a TCP option area. Properties
 * checked (abort() on violation):
 *
 *  1. The area is walked with mpc_tcpopt_walk() and every MPTCP option it
 *     reports is parsed; in addition mpc_mptcp_parse() is tried at every
 *     offset, so the parser also sees what the walker would reject. All
 *     parses read from a heap copy of exactly len bytes: ASan catches any
 *     read past len.
 *  2. Canonical codec: whenever parse succeeds, build() writes exactly
 *     o.len bytes, they equal the input option bytes, mpc_mptcp_len()
 *     agrees, and parsing the built bytes gives a struct identical
 *     (memcmp) to the first. No normalisation is needed: reserved bits are
 *     kept in o.flags, 4- and 8-byte DSS values are told apart by the
 *     flags, the DSS checksum and ADD_ADDR port presence by o.variant.
 *  3. Builder from arbitrary structs: the input (zero-padded to the struct
 *     size) is also taken as a struct mpc_mptcp_opt; if build accepts it,
 *     the result has mpc_mptcp_len() bytes, parses, and rebuilding the
 *     parsed struct gives the same bytes.
 *  4. Return codes are 0 or a negative enum mpc_err.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpconv/tcpopt.h"
#include "mpconv/mptcp_opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const __u8 *b, __u32 off, __u32 n)
{
	__u32 i;

	fprintf(stderr, "fuzz_mptcp_opt: %s (off %u):", what, off);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02x", b[off + i]);
	fprintf(stderr, "\n");
	abort();
}

static void check_rc(int rc, const char *what)
{
	if (rc > 0 || rc <= -MPC_E__MAX) {
		fprintf(stderr, "fuzz_mptcp_opt: %s returned %d\n", what, rc);
		abort();
	}
}

/* property 2 for an option accepted at b[off] */
static void check_canonical(const __u8 *b, __u32 off,
			    const struct mpc_mptcp_opt *o)
{
	__u8 out[MPC_TCPOPT_CAP];
	struct mpc_mptcp_opt o2;
	__u32 n = o->len;
	int rc;

	if (n < MPC_MPTCPOLEN_MIN || n > MPC_TCPOPT_MAXLEN)
		die("accepted length out of range", b, off, 3);
	if (mpc_mptcp_len(o) != (int)n)
		die("mpc_mptcp_len disagrees", b, off, n);
	memset(out, 0xa5, sizeof(out));
	rc = mpc_mptcp_build(out, off, off + n, o);
	if (rc != (int)n)
		die("build of a parsed option failed", b, off, n);
	if (memcmp(out + off, b + off, n))
		die("build is not byte-exact", b, off, n);
	if (rc = mpc_mptcp_build(out, off, off + n - 1, o),
	    rc != -MPC_E_NOSPACE)
		die("build ignored cap", b, off, n);
	rc = mpc_mptcp_parse(out, off, off + n, &o2);
	if (rc || memcmp(o, &o2, sizeof(o2)))
		die("re-parse differs", b, off, n);
	/* the same option at offset 0 */
	rc = mpc_mptcp_build(out, 0, MPC_TCPOPT_MAXLEN, o);
	if (rc != (int)n || memcmp(out, b + off, n))
		die("build at 0 differs", b, off, n);
}

static int parse_heap(const __u8 *area, __u32 off, __u32 len,
		      struct mpc_mptcp_opt *o)
{
	__u8 *h = malloc(len ? len : 1);
	int rc;

	if (!h)
		abort();
	memcpy(h, area, len);
	rc = mpc_mptcp_parse(h, off, len, o);
	free(h);
	check_rc(rc, "parse");
	return rc;
}

/* property 3 */
static void check_struct(const uint8_t *data, size_t size)
{
	struct mpc_mptcp_opt s, p;
	__u8 b1[MPC_TCPOPT_CAP], b2[MPC_TCPOPT_CAP];
	int n, rc;

	memset(&s, 0, sizeof(s));
	memcpy(&s, data, size < sizeof(s) ? size : sizeof(s));
	n = mpc_mptcp_build(b1, 0, MPC_TCPOPT_MAXLEN, &s);
	check_rc(n < 0 ? n : 0, "build");
	if (n < 0) {
		if (n == -MPC_E_FIELD && mpc_mptcp_len(&s) >= 0)
			die("build FIELD but len ok", b1, 0, 0);
		return;
	}
	if (n != mpc_mptcp_len(&s))
		die("build/len disagree", b1, 0, n);
	rc = mpc_mptcp_parse(b1, 0, n, &p);
	if (rc)
		die("built struct does not parse", b1, 0, n);
	rc = mpc_mptcp_build(b2, 0, MPC_TCPOPT_MAXLEN, &p);
	if (rc != n || memcmp(b1, b2, n))
		die("build(parse(build(s))) != build(s)", b1, 0, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u8 area[MPC_TCPOPT_CAP] = {0};
	struct mpc_mptcp_opt o;
	struct mpc_tcpopts t;
	__u32 len = size > MPC_TCPOPT_MAXLEN ? MPC_TCPOPT_MAXLEN : size;
	__u32 i, off;
	int rc;

	memcpy(area, data, len);

	/* 1: what the walker hands over */
	rc = mpc_tcpopt_walk(area, len, &t);
	check_rc(rc, "walk");
	for (i = 0; i < t.n_mptcp && i < MPC_TCPOPT_MAX_MPTCP; i++) {
		rc = parse_heap(area, t.mptcp_off[i], len, &o);
		if (rc == 0) {
			if (o.len != t.mptcp_len[i])
				die("len differs from walker", area,
				    t.mptcp_off[i], 2);
			check_canonical(area, t.mptcp_off[i], &o);
		}
	}
	/* 1: every offset, walker or not */
	for (off = 0; off <= len; off++) {
		rc = parse_heap(area, off, len, &o);
		if (rc == 0)
			check_canonical(area, off, &o);
	}
	check_struct(data, size);
	return 0;
}
