// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_mptcp_opt - include/mpconv/mptcp_opt.h against RFC 8684 section 3
 * and against bytes the Linux kernel put on the wire.
 *
 * Every parse in this file reads from a heap copy of exactly `len` bytes
 * (see parse_exact()), so ASan or valgrind flags any read past len.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/sha.h>

#include "mpconv/tcpopt.h"
#include "mpconv/mptcp_opt.h"

/* ---- helpers ------------------------------------------------------------ */

/* parse from a heap buffer of exactly len bytes (len may be 0) */
static int parse_exact(const __u8 *bytes, __u32 off, __u32 len,
		       struct mpc_mptcp_opt *o)
{
	__u8 *b = malloc(len ? len : 1);
	int rc;

	assert_non_null(b);
	memcpy(b, bytes, len);
	rc = mpc_mptcp_parse(b, off, len, o);
	free(b);
	return rc;
}

static void hex(const char *tag, const __u8 *b, size_t n)
{
	size_t i;

	fprintf(stderr, "%s:", tag);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02x", b[i]);
	fprintf(stderr, "\n");
}

static void assert_bytes(const __u8 *got, const __u8 *want, size_t n)
{
	if (memcmp(got, want, n)) {
		hex("want", want, n);
		hex("got ", got, n);
		fail_msg("bytes differ");
	}
}

/*
 * The codec contract for one valid encoding `enc` of n bytes: it parses
 * at offset 0 and at an offset behind NOPs, build reproduces the bytes
 * exactly at both offsets, and parsing the built bytes gives the same
 * struct. Returns the parsed struct in *out.
 */
static void roundtrip(const __u8 *enc, __u32 n, struct mpc_mptcp_opt *out)
{
	static const __u32 offs[] = {0, 1, 7};
	struct mpc_mptcp_opt o, o2;
	__u8 in[MPC_TCPOPT_CAP], bld[MPC_TCPOPT_CAP];
	__u32 k;
	int rc;

	assert_true(n >= 3 && n <= MPC_TCPOPT_MAXLEN);
	for (k = 0; k < MPC_ARRAY_SIZE(offs); k++) {
		__u32 off = offs[k];

		if (off + n > MPC_TCPOPT_MAXLEN)
			continue;
		memset(in, MPC_TCPOPT_NOP, sizeof(in));
		memcpy(in + off, enc, n);
		rc = parse_exact(in, off, off + n, &o);
		if (rc) {
			hex("input", enc, n);
			fail_msg("parse at %u: %d", off, rc);
		}
		assert_int_equal(o.len, n);
		assert_int_equal(mpc_mptcp_len(&o), n);

		memset(bld, 0xee, sizeof(bld));
		rc = mpc_mptcp_build(bld, off, off + n, &o);
		assert_int_equal(rc, n);
		assert_bytes(bld + off, enc, n);
		/* nothing outside [off, off + n) was touched */
		assert_int_equal(off ? bld[off - 1] : 0xee, 0xee);
		assert_int_equal(bld[off + n], 0xee);

		rc = parse_exact(bld, off, off + n, &o2);
		assert_int_equal(rc, 0);
		assert_memory_equal(&o, &o2, sizeof(o));
	}
	if (out)
		*out = o;
}

/* build *o, check the length helpers agree, parse back, compare structs */
static void build_parse(const struct mpc_mptcp_opt *o, __u32 want_len)
{
	struct mpc_mptcp_opt p;
	__u8 b[MPC_TCPOPT_CAP];
	int rc;

	assert_int_equal(mpc_mptcp_len(o), want_len);
	rc = mpc_mptcp_build(b, 0, MPC_TCPOPT_MAXLEN, o);
	assert_int_equal(rc, want_len);
	rc = parse_exact(b, 0, want_len, &p);
	assert_int_equal(rc, 0);
	assert_int_equal(p.len, want_len);
	p.len = o->len; /* build ignores len */
	assert_memory_equal(&p, o, sizeof(p));
	roundtrip(b, want_len, NULL);
}

static __u64 be64(const __u8 *p)
{
	__u64 v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- RFC 8684 figures, laid out by hand -------------------------------- */

/* Figure 4, SYN (A->B): version 1, flags A (checksum) + H (HMAC-SHA256) */
static const __u8 rfc_cap_syn[] = {0x1e, 0x04, 0x01, 0x81};
/* Figure 4, SYN/ACK (B->A): B's key */
static const __u8 rfc_cap_synack[] = {0x1e, 0x0c, 0x01, 0x01, 0x11, 0x22,
				      0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
/* Figure 4, ACK (A->B): A's key, B's key; flags C + H */
static const __u8 rfc_cap_ack[] = {0x1e, 0x14, 0x01, 0x21, 0xa1, 0xa2, 0xa3,
				   0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0x11, 0x22,
				   0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
/* Figure 4, ACK with first data: + Data-Level Length 0x05dc */
static const __u8 rfc_cap_data[] = {0x1e, 0x16, 0x01, 0x01, 0xa1, 0xa2,
				    0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
				    0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
				    0x77, 0x88, 0x05, 0xdc};
/* Figure 4, ACK with first data and checksum 0xbeef; flags A + H */
static const __u8 rfc_cap_data_csum[] = {0x1e, 0x18, 0x01, 0x81, 0xa1, 0xa2,
					 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
					 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
					 0x77, 0x88, 0x05, 0xdc, 0xbe, 0xef};
/* Figure 5, MP_JOIN SYN: B=1, Address ID 7, token, nonce */
static const __u8 rfc_join_syn[] = {0x1e, 0x0c, 0x11, 0x07, 0xde, 0xad,
				    0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
/* Figure 6, MP_JOIN SYN/ACK: B=0, Address ID 9, 64-bit HMAC, nonce */
static const __u8 rfc_join_synack[] = {0x1e, 0x10, 0x10, 0x09, 0xc1, 0xc2,
				       0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
				       0x0a, 0x0b, 0x0c, 0x0d};
/* Figure 7, MP_JOIN ACK: 160-bit HMAC */
static const __u8 rfc_join_ack[] = {0x1e, 0x18, 0x10, 0x00, 0x00, 0x01,
				    0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
				    0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13};
/* Figure 9, DSS with every flag (F m M a A) and checksum: 28 octets */
static const __u8 rfc_dss_full[] = {0x1e, 0x1c, 0x20, 0x1f, /* F m M a A */
				    0x01, 0x02, 0x03, 0x04,
				    0x05, 0x06, 0x07, 0x08, /* Data ACK (8) */
				    0x11, 0x12, 0x13, 0x14,
				    0x15, 0x16, 0x17, 0x18, /* DSN (8) */
				    0x21, 0x22, 0x23, 0x24, /* SSN */
				    0x05, 0xb4,	 /* Data-Level Length */
				    0xab, 0xcd}; /* Checksum */
/* Figure 9, DSS with 4-octet Data ACK and 4-octet DSN, no checksum */
static const __u8 rfc_dss_small[] = {0x1e, 0x12, 0x20, 0x05, 0xaa, 0xbb,
				     0xcc, 0xdd, 0x11, 0x22, 0x33, 0x44,
				     0x00, 0x00, 0x00, 0x01, 0x00, 0x64};
/* Figure 9, DATA_ACK only (4 octets) */
static const __u8 rfc_dss_ack[] = {0x1e, 0x08, 0x20, 0x01,
				   0x12, 0x34, 0x56, 0x78};
/* Figure 9 / 3.3.1, infinite mapping: M, Data-Level Length 0, csum 0 */
static const __u8 rfc_dss_inf[] = {0x1e, 0x10, 0x20, 0x04, 0x11, 0x22,
				   0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
				   0x00, 0x00, 0x00, 0x00};
/* Figure 12, ADD_ADDR IPv4 192.0.2.9, ID 3, E=0, HMAC */
static const __u8 rfc_add4_hmac[] = {0x1e, 0x10, 0x30, 0x03, 0xc0, 0x00,
				     0x02, 0x09, 0xf1, 0xf2, 0xf3, 0xf4,
				     0xf5, 0xf6, 0xf7, 0xf8};
/* Figure 12, ADD_ADDR IPv4 + port 8080, E=0, HMAC */
static const __u8 rfc_add4_port_hmac[] = {0x1e, 0x12, 0x30, 0x03, 0xc0, 0x00,
					  0x02, 0x09, 0x1f, 0x90, 0xf1, 0xf2,
					  0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8};
/* Figure 12, ADD_ADDR IPv4 echo (E=1, no HMAC) */
static const __u8 rfc_add4_echo[] = {0x1e, 0x08, 0x31, 0x03,
				     0xc0, 0x00, 0x02, 0x09};
/* Figure 12, ADD_ADDR IPv4 + port echo */
static const __u8 rfc_add4_port_echo[] = {0x1e, 0x0a, 0x31, 0x03, 0xc0,
					  0x00, 0x02, 0x09, 0x1f, 0x90};
/* Figure 12 sized for IPv6 (2001:db8::1), E=0, HMAC */
static const __u8 rfc_add6_hmac[] = {0x1e, 0x1c, 0x30, 0x04, 0x20, 0x01, 0x0d,
				     0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xf1,
				     0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8};
/* Figure 12, IPv6 + port 443, E=0, HMAC: 30 octets */
static const __u8 rfc_add6_port_hmac[] = {0x1e, 0x1e, 0x30, 0x04, 0x20, 0x01,
					  0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
					  0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
					  0x00, 0x01, 0x01, 0xbb, 0xf1, 0xf2,
					  0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8};
/* Figure 12, IPv6 echo */
static const __u8 rfc_add6_echo[] = {0x1e, 0x14, 0x31, 0x04, 0x20, 0x01, 0x0d,
				     0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
/* Figure 12, IPv6 + port echo */
static const __u8 rfc_add6_port_echo[] = {0x1e, 0x16, 0x31, 0x04, 0x20, 0x01,
					  0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
					  0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
					  0x00, 0x01, 0x01, 0xbb};
/* Figure 13, REMOVE_ADDR of IDs 1, 5, 9 (Length = 3 + n) */
static const __u8 rfc_rm3[] = {0x1e, 0x06, 0x40, 0x01, 0x05, 0x09};
/* Figure 11, MP_PRIO with B=1 */
static const __u8 rfc_prio[] = {0x1e, 0x03, 0x51};
/* Figure 16, MP_FAIL with a 64-bit DSN */
static const __u8 rfc_fail[] = {0x1e, 0x0c, 0x60, 0x00, 0x01, 0x02,
				0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
/* Figure 14, MP_FASTCLOSE with the receiver's key */
static const __u8 rfc_fastclose[] = {0x1e, 0x0c, 0x70, 0x00, 0x11, 0x22,
				     0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
/* Figure 15, MP_TCPRST: T=1, reason 0x05 (unacceptable performance) */
static const __u8 rfc_tcprst[] = {0x1e, 0x04, 0x81, 0x05};

struct vec {
	const char *name;
	const __u8 *b;
	__u32 n;
};

#define VEC(x)                   \
	{                        \
#x, x, sizeof(x) \
	}

static const struct vec rfc_vecs[] = {
	VEC(rfc_cap_syn),	VEC(rfc_cap_synack),
	VEC(rfc_cap_ack),	VEC(rfc_cap_data),
	VEC(rfc_cap_data_csum), VEC(rfc_join_syn),
	VEC(rfc_join_synack),	VEC(rfc_join_ack),
	VEC(rfc_dss_full),	VEC(rfc_dss_small),
	VEC(rfc_dss_ack),	VEC(rfc_dss_inf),
	VEC(rfc_add4_hmac),	VEC(rfc_add4_port_hmac),
	VEC(rfc_add4_echo),	VEC(rfc_add4_port_echo),
	VEC(rfc_add6_hmac),	VEC(rfc_add6_port_hmac),
	VEC(rfc_add6_echo),	VEC(rfc_add6_port_echo),
	VEC(rfc_rm3),		VEC(rfc_prio),
	VEC(rfc_fail),		VEC(rfc_fastclose),
	VEC(rfc_tcprst),
};

static void test_rfc_mp_capable(void **state)
{
	struct mpc_mptcp_opt o;

	(void)state;
	roundtrip(rfc_cap_syn, sizeof(rfc_cap_syn), &o);
	assert_int_equal(o.subtype, MPC_MP_CAPABLE);
	assert_int_equal(o.variant, MPC_CAP_SYN);
	assert_int_equal(o.u.cap.version, 1);
	assert_int_equal(o.flags, MPC_CAP_A | MPC_CAP_H);
	assert_int_equal(o.u.cap.skey, 0);

	roundtrip(rfc_cap_synack, sizeof(rfc_cap_synack), &o);
	assert_int_equal(o.variant, MPC_CAP_SYNACK);
	assert_int_equal(o.flags, MPC_CAP_H);
	assert_true(o.u.cap.skey == 0x1122334455667788ull);
	assert_int_equal(o.u.cap.rkey, 0);

	roundtrip(rfc_cap_ack, sizeof(rfc_cap_ack), &o);
	assert_int_equal(o.variant, MPC_CAP_ACK);
	assert_int_equal(o.flags, MPC_CAP_C | MPC_CAP_H);
	assert_true(o.u.cap.skey == 0xa1a2a3a4a5a6a7a8ull);
	assert_true(o.u.cap.rkey == 0x1122334455667788ull);
	assert_int_equal(o.u.cap.dll, 0);

	roundtrip(rfc_cap_data, sizeof(rfc_cap_data), &o);
	assert_int_equal(o.variant, MPC_CAP_DATA);
	assert_true(o.u.cap.skey == 0xa1a2a3a4a5a6a7a8ull);
	assert_true(o.u.cap.rkey == 0x1122334455667788ull);
	assert_int_equal(o.u.cap.dll, 1500);
	assert_int_equal(o.u.cap.csum, 0);

	roundtrip(rfc_cap_data_csum, sizeof(rfc_cap_data_csum), &o);
	assert_int_equal(o.variant, MPC_CAP_DATA_CSUM);
	assert_int_equal(o.flags, MPC_CAP_A | MPC_CAP_H);
	assert_int_equal(o.u.cap.dll, 1500);
	assert_int_equal(o.u.cap.csum, 0xbeef);
}

static void test_rfc_mp_join(void **state)
{
	static const __u8 thmac[] = {0xc1, 0xc2, 0xc3, 0xc4,
				     0xc5, 0xc6, 0xc7, 0xc8};
	struct mpc_mptcp_opt o;
	int i;

	(void)state;
	roundtrip(rfc_join_syn, sizeof(rfc_join_syn), &o);
	assert_int_equal(o.subtype, MPC_MP_JOIN);
	assert_int_equal(o.variant, MPC_JOIN_SYN);
	assert_int_equal(o.flags, MPC_JOIN_B);
	assert_int_equal(o.u.join.addr_id, 7);
	assert_int_equal(o.u.join.token, 0xdeadbeef);
	assert_int_equal(o.u.join.nonce, 0x01020304);

	roundtrip(rfc_join_synack, sizeof(rfc_join_synack), &o);
	assert_int_equal(o.variant, MPC_JOIN_SYNACK);
	assert_int_equal(o.flags, 0);
	assert_int_equal(o.u.join.addr_id, 9);
	assert_memory_equal(o.u.join.hmac, thmac, 8);
	for (i = 8; i < MPC_JOIN_HMAC_LEN; i++)
		assert_int_equal(o.u.join.hmac[i], 0);
	assert_int_equal(o.u.join.nonce, 0x0a0b0c0d);

	roundtrip(rfc_join_ack, sizeof(rfc_join_ack), &o);
	assert_int_equal(o.variant, MPC_JOIN_ACK);
	assert_int_equal(o.flags, 0);
	for (i = 0; i < MPC_JOIN_HMAC_LEN; i++)
		assert_int_equal(o.u.join.hmac[i], i);
}

static void test_rfc_dss(void **state)
{
	struct mpc_mptcp_opt o;

	(void)state;
	roundtrip(rfc_dss_full, sizeof(rfc_dss_full), &o);
	assert_int_equal(o.subtype, MPC_MP_DSS);
	assert_int_equal(o.flags, MPC_DSS_A | MPC_DSS_A8 | MPC_DSS_M |
					  MPC_DSS_M8 | MPC_DSS_F);
	assert_int_equal(o.variant, MPC_DSS_V_CSUM);
	assert_true(o.u.dss.data_ack == 0x0102030405060708ull);
	assert_true(o.u.dss.dsn == 0x1112131415161718ull);
	assert_int_equal(o.u.dss.ssn, 0x21222324);
	assert_int_equal(o.u.dss.dll, 1460);
	assert_int_equal(o.u.dss.csum, 0xabcd);
	assert_int_equal(mpc_dss_len(o.flags, true), MPC_MPTCPOLEN_DSS_MAX);

	roundtrip(rfc_dss_small, sizeof(rfc_dss_small), &o);
	assert_int_equal(o.flags, MPC_DSS_A | MPC_DSS_M);
	assert_int_equal(o.variant, 0);
	assert_true(o.u.dss.data_ack == 0xaabbccdd);
	assert_true(o.u.dss.dsn == 0x11223344);
	assert_int_equal(o.u.dss.ssn, 1);
	assert_int_equal(o.u.dss.dll, 100);
	assert_false(mpc_dss_is_infinite(&o));

	roundtrip(rfc_dss_ack, sizeof(rfc_dss_ack), &o);
	assert_int_equal(o.flags, MPC_DSS_A);
	assert_true(o.u.dss.data_ack == 0x12345678);
	assert_true(o.u.dss.dsn == 0);

	roundtrip(rfc_dss_inf, sizeof(rfc_dss_inf), &o);
	assert_int_equal(o.flags, MPC_DSS_M);
	assert_int_equal(o.variant, MPC_DSS_V_CSUM);
	assert_true(o.u.dss.dsn == 0x11223344);
	assert_int_equal(o.u.dss.dll, 0);
	assert_true(mpc_dss_is_infinite(&o));
}

static void test_rfc_add_addr(void **state)
{
	static const __u8 v4[16] = {192, 0, 2, 9};
	static const __u8 v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const __u8 hm[8] = {0xf1, 0xf2, 0xf3, 0xf4,
				   0xf5, 0xf6, 0xf7, 0xf8};
	static const __u8 zero[8];
	static const struct {
		const __u8 *b;
		__u32 n, variant, echo, id, port;
	} t[] = {
		{rfc_add4_hmac, sizeof(rfc_add4_hmac), 0, 0, 3, 0},
		{rfc_add4_port_hmac, sizeof(rfc_add4_port_hmac),
		 MPC_ADDR_V_PORT, 0, 3, 8080},
		{rfc_add4_echo, sizeof(rfc_add4_echo), 0, 1, 3, 0},
		{rfc_add4_port_echo, sizeof(rfc_add4_port_echo),
		 MPC_ADDR_V_PORT, 1, 3, 8080},
		{rfc_add6_hmac, sizeof(rfc_add6_hmac), MPC_ADDR_V_IPV6, 0, 4,
		 0},
		{rfc_add6_port_hmac, sizeof(rfc_add6_port_hmac),
		 MPC_ADDR_V_IPV6 | MPC_ADDR_V_PORT, 0, 4, 443},
		{rfc_add6_echo, sizeof(rfc_add6_echo), MPC_ADDR_V_IPV6, 1, 4,
		 0},
		{rfc_add6_port_echo, sizeof(rfc_add6_port_echo),
		 MPC_ADDR_V_IPV6 | MPC_ADDR_V_PORT, 1, 4, 443},
	};
	static const __u32 lens[] = {16, 18, 8, 10, 28, 30, 20, 22};
	struct mpc_mptcp_opt o;
	size_t i;

	(void)state;
	for (i = 0; i < MPC_ARRAY_SIZE(t); i++) {
		assert_int_equal(t[i].n, lens[i]); /* all eight lengths */
		roundtrip(t[i].b, t[i].n, &o);
		assert_int_equal(o.subtype, MPC_MP_ADD_ADDR);
		assert_int_equal(o.variant, t[i].variant);
		assert_int_equal(o.flags, t[i].echo ? MPC_ADDR_E : 0);
		assert_int_equal(o.u.add.addr_id, t[i].id);
		assert_int_equal(o.u.add.port, t[i].port);
		assert_memory_equal(o.u.add.addr,
				    (t[i].variant & MPC_ADDR_V_IPV6) ? v6 : v4,
				    16);
		assert_memory_equal(o.u.add.hmac, t[i].echo ? zero : hm, 8);
		assert_int_equal(mpc_add_addr_len(o.variant, o.flags), t[i].n);
	}
}

static void test_rfc_other(void **state)
{
	struct mpc_mptcp_opt o;

	(void)state;
	roundtrip(rfc_rm3, sizeof(rfc_rm3), &o);
	assert_int_equal(o.subtype, MPC_MP_REMOVE_ADDR);
	assert_int_equal(o.u.rm.n, 3);
	assert_int_equal(o.u.rm.ids[0], 1);
	assert_int_equal(o.u.rm.ids[1], 5);
	assert_int_equal(o.u.rm.ids[2], 9);
	assert_int_equal(o.u.rm.ids[3], 0);

	roundtrip(rfc_prio, sizeof(rfc_prio), &o);
	assert_int_equal(o.subtype, MPC_MP_PRIO);
	assert_int_equal(o.flags, MPC_PRIO_B);

	roundtrip(rfc_fail, sizeof(rfc_fail), &o);
	assert_int_equal(o.subtype, MPC_MP_FAIL);
	assert_true(o.u.fail.dsn == 0x0102030405060708ull);

	roundtrip(rfc_fastclose, sizeof(rfc_fastclose), &o);
	assert_int_equal(o.subtype, MPC_MP_FASTCLOSE);
	assert_true(o.u.fclose.rkey == 0x1122334455667788ull);

	roundtrip(rfc_tcprst, sizeof(rfc_tcprst), &o);
	assert_int_equal(o.subtype, MPC_MP_TCPRST);
	assert_int_equal(o.flags, MPC_RST_T);
	assert_int_equal(o.u.rst.reason, MPC_RST_BAD_PERFORMANCE);
}

/* ---- round trips from structs ------------------------------------------ */

static void test_roundtrip_cap_join(void **state)
{
	struct mpc_mptcp_opt o;
	__u32 v, fl;
	int i;

	(void)state;
	for (v = MPC_CAP_SYN; v <= MPC_CAP_DATA_CSUM; v++) {
		for (fl = 0; fl <= 0xff; fl++) {
			if (!(fl & MPC_CAP_CRYPTO))
				continue; /* not encodable, see bad_fields */
			memset(&o, 0, sizeof(o));
			o.subtype = MPC_MP_CAPABLE;
			o.variant = v;
			o.flags = fl;
			o.u.cap.version = 1;
			if (v >= MPC_CAP_SYNACK)
				o.u.cap.skey = 0x0102030405060708ull * v;
			if (v >= MPC_CAP_ACK)
				o.u.cap.rkey = ~0ull - v;
			if (v >= MPC_CAP_DATA)
				o.u.cap.dll = 0xfff0 + v;
			if (v >= MPC_CAP_DATA_CSUM)
				o.u.cap.csum = 0x8001;
			build_parse(&o, (__u32[]){0, 4, 12, 20, 22, 24}[v]);
		}
	}
	for (v = MPC_JOIN_SYN; v <= MPC_JOIN_ACK; v++) {
		for (fl = 0; fl <= (v == MPC_JOIN_ACK ? 0xfffu : 0xfu);
		     fl += (v == MPC_JOIN_ACK ? 0x111 : 1)) {
			memset(&o, 0, sizeof(o));
			o.subtype = MPC_MP_JOIN;
			o.variant = v;
			o.flags = fl;
			if (v != MPC_JOIN_ACK) {
				o.u.join.addr_id = 0xfe;
				o.u.join.nonce = 0x89abcdef;
			}
			if (v == MPC_JOIN_SYN)
				o.u.join.token = 0x76543210;
			for (i = 0; i < (v == MPC_JOIN_ACK ? 20 : 8); i++)
				o.u.join.hmac[i] = (__u8)(0xa0 + i);
			if (v == MPC_JOIN_SYN)
				memset(o.u.join.hmac, 0, sizeof(o.u.join.hmac));
			build_parse(&o, (__u32[]){0, 12, 16, 24}[v]);
		}
	}
}

/* every DSS flag combination (all 5 bits), with and without checksum */
static void test_roundtrip_dss_all_flags(void **state)
{
	struct mpc_mptcp_opt o;
	__u32 fl, csum, rsv, want, n = 0;

	(void)state;
	for (fl = 0; fl < 32; fl++) {
		for (csum = 0; csum < 2; csum++) {
			if (csum && !(fl & MPC_DSS_M))
				continue; /* no checksum without a mapping */
			for (rsv = 0; rsv < 2; rsv++) {
				memset(&o, 0, sizeof(o));
				o.subtype = MPC_MP_DSS;
				/* reserved bits survive the round trip */
				o.flags = fl | (rsv ? 0xa60 : 0);
				o.variant = csum ? MPC_DSS_V_CSUM : 0;
				if (fl & MPC_DSS_A)
					o.u.dss.data_ack =
						(fl & MPC_DSS_A8)
							? 0xfedcba9876543210ull
							: 0x76543210;
				if (fl & MPC_DSS_M) {
					o.u.dss.dsn =
						(fl & MPC_DSS_M8)
							? 0x0123456789abcdefull
							: 0x89abcdef;
					o.u.dss.ssn = 0x10203040;
					o.u.dss.dll = (__u16)(fl * 100);
					if (csum)
						o.u.dss.csum = 0x5aa5;
				}
				want = 4 +
				       ((fl & MPC_DSS_A)
						? ((fl & MPC_DSS_A8) ? 8 : 4)
						: 0) +
				       ((fl & MPC_DSS_M)
						? ((fl & MPC_DSS_M8) ? 8 : 4) +
							  6 + 2 * csum
						: 0);
				assert_int_equal(mpc_dss_len(fl, csum), want);
				build_parse(&o, want);
				n++;
			}
		}
	}
	assert_int_equal(n, 2 * (32 + 16));
}

static void test_roundtrip_addr_rm_misc(void **state)
{
	struct mpc_mptcp_opt o;
	__u32 v, fl, n, k;

	(void)state;
	for (v = 0; v <= MPC_ADDR_V_ALL; v++) {
		for (fl = 0; fl <= 0xf; fl++) {
			memset(&o, 0, sizeof(o));
			o.subtype = MPC_MP_ADD_ADDR;
			o.variant = v;
			o.flags = fl;
			o.u.add.addr_id = (__u8)(v * 16 + fl);
			for (k = 0; k < ((v & MPC_ADDR_V_IPV6) ? 16 : 4); k++)
				o.u.add.addr[k] = (__u8)(k + 1);
			if (v & MPC_ADDR_V_PORT)
				o.u.add.port = 0; /* present but zero */
			if (!(fl & MPC_ADDR_E))
				memset(o.u.add.hmac, 0x5c, 8);
			build_parse(&o, mpc_add_addr_len(v, fl));
		}
	}
	for (n = 1; n <= MPC_RM_ADDR_MAX; n++) {
		memset(&o, 0, sizeof(o));
		o.subtype = MPC_MP_REMOVE_ADDR;
		o.flags = n & 0xf;
		o.u.rm.n = n;
		for (k = 0; k < n; k++)
			o.u.rm.ids[k] = (__u8)(255 - k);
		build_parse(&o, 3 + n);
	}
	assert_int_equal(MPC_RM_ADDR_MAX, 37);
	for (fl = 0; fl <= 0xf; fl++) {
		memset(&o, 0, sizeof(o));
		o.subtype = MPC_MP_PRIO;
		o.flags = fl;
		build_parse(&o, 3);

		memset(&o, 0, sizeof(o));
		o.subtype = MPC_MP_TCPRST;
		o.flags = fl;
		o.u.rst.reason = (__u8)(fl * 17);
		build_parse(&o, 4);
	}
	for (fl = 0; fl <= 0xfff; fl += 0x333) {
		memset(&o, 0, sizeof(o));
		o.subtype = MPC_MP_FAIL;
		o.flags = fl;
		o.u.fail.dsn = 0x8000000000000001ull + fl;
		build_parse(&o, 12);

		memset(&o, 0, sizeof(o));
		o.subtype = MPC_MP_FASTCLOSE;
		o.flags = fl;
		o.u.fclose.rkey = ~0ull - fl;
		build_parse(&o, 12);
	}
}

/* ---- real bytes from the Linux kernel ---------------------------------- */

/*
 * Captured on Linux 6.18 (Debian 12 userland, iproute2 mptcp endpoints):
 * two network namespaces joined by a veth pair, client 192.0.2.1, server
 * 192.0.2.2 with a second address 192.0.2.3 announced by
 *   ip mptcp endpoint add 192.0.2.3 dev <veth> id 5 port 5001 signal
 * (limits: subflows 2 add_addr_accepted 2 on both sides). A python3
 * client/server pair (socket.IPPROTO_MPTCP = 262) exchanged a few bytes;
 * the script then ran `ip mptcp endpoint change id 5 backup` (MP_PRIO),
 * `ip mptcp endpoint delete id 5` (REMOVE_ADDR), and the client closed with
 * SO_LINGER 0 (MP_FASTCLOSE + MP_TCPRST on the RST). tcpdump -w on the
 * client's veth; each vector is the whole TCP option area of one segment
 * (doff * 4 - 20 bytes). Runs: net.mptcp.checksum_enabled=0 ("plain"), =1
 * ("csum"), =1 without the signal endpoint ("csum2", for MP_CAPABLE with
 * data and checksum), and one where the server did shutdown(SHUT_WR)
 * ("fin", for DATA_FIN).
 */
/* plain #1 SYN: MSS, SACK_PERM, TS, NOP, WS, MP_CAPABLE v1 flags H */
static const __u8 k_syn[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
			     0x60, 0xb1, 0xdd, 0x71, 0x00, 0x00, 0x00, 0x00,
			     0x01, 0x03, 0x03, 0x0a, 0x1e, 0x04, 0x01, 0x01};
/* plain #2 SYN/ACK: MP_CAPABLE with the server's key */
static const __u8 k_synack[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
				0x9c, 0x3e, 0xa7, 0x4b, 0x60, 0xb1, 0xdd, 0x71,
				0x01, 0x03, 0x03, 0x0a, 0x1e, 0x0c, 0x01, 0x01,
				0xd7, 0xa8, 0x68, 0xbd, 0xd5, 0xa2, 0xef, 0x97};
/* plain #3 third ACK: MP_CAPABLE with both keys */
static const __u8 k_ack[] = {0x01, 0x01, 0x08, 0x0a, 0x60, 0xb1, 0xdd, 0x71,
			     0x9c, 0x3e, 0xa7, 0x4b, 0x1e, 0x14, 0x01, 0x01,
			     0xef, 0x60, 0xa1, 0xba, 0xde, 0x57, 0xaf, 0x3e,
			     0xd7, 0xa8, 0x68, 0xbd, 0xd5, 0xa2, 0xef, 0x97};
/* plain #4 first data (11 bytes): MP_CAPABLE with data-level length */
static const __u8 k_ack_data[] = {
	0x01, 0x01, 0x08, 0x0a, 0x60, 0xb1, 0xdd, 0x71, 0x9c, 0x3e, 0xa7, 0x4b,
	0x1e, 0x16, 0x01, 0x01, 0xef, 0x60, 0xa1, 0xba, 0xde, 0x57, 0xaf, 0x3e,
	0xd7, 0xa8, 0x68, 0xbd, 0xd5, 0xa2, 0xef, 0x97, 0x00, 0x0b, 0x01, 0x01};
/* plain #5 server ACK: DSS with a 64-bit Data ACK */
static const __u8 k_dss_ack[] = {0x01, 0x01, 0x08, 0x0a, 0x9c, 0x3e,
				 0xa7, 0x4b, 0x60, 0xb1, 0xdd, 0x71,
				 0x1e, 0x0c, 0x20, 0x03, 0xa8, 0x27,
				 0x01, 0x80, 0x54, 0x20, 0xc9, 0x46};
/* plain #6: ADD_ADDR 192.0.2.3 port 5001, ID 5, with HMAC */
static const __u8 k_add_addr[] = {0x01, 0x01, 0x08, 0x0a, 0x9c, 0x3e, 0xa7,
				  0x4b, 0x60, 0xb1, 0xdd, 0x71, 0x1e, 0x12,
				  0x30, 0x05, 0xc0, 0x00, 0x02, 0x03, 0x13,
				  0x89, 0xf9, 0x42, 0x27, 0xa0, 0x53, 0x2a,
				  0x8e, 0xae, 0x01, 0x01};
/* plain #7: the client's ADD_ADDR echo (E=1, no HMAC) */
static const __u8 k_add_addr_echo[] = {0x01, 0x01, 0x08, 0x0a, 0x60, 0xb1,
				       0xdd, 0x71, 0x9c, 0x3e, 0xa7, 0x4b,
				       0x1e, 0x0a, 0x31, 0x05, 0xc0, 0x00,
				       0x02, 0x03, 0x13, 0x89, 0x01, 0x01};
/* plain #8 server data (16 bytes): DSS A a M m, 64-bit ACK and DSN */
static const __u8 k_dss_data[] = {0x01, 0x01, 0x08, 0x0a, 0x9c, 0x3e, 0xa7,
				  0x4b, 0x60, 0xb1, 0xdd, 0x71, 0x1e, 0x1a,
				  0x20, 0x0f, 0xa8, 0x27, 0x01, 0x80, 0x54,
				  0x20, 0xc9, 0x46, 0x25, 0xd9, 0xd3, 0xc8,
				  0xc1, 0xfb, 0x58, 0x1b, 0x00, 0x00, 0x00,
				  0x01, 0x00, 0x10, 0x01, 0x01};
/* plain #10: MP_JOIN SYN to 192.0.2.3:5001 */
static const __u8 k_join_syn[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08,
				  0x0a, 0x86, 0x44, 0x72, 0x53, 0x00, 0x00,
				  0x00, 0x00, 0x01, 0x03, 0x03, 0x0a, 0x1e,
				  0x0c, 0x10, 0x00, 0x42, 0x1c, 0x08, 0x05,
				  0x54, 0x0c, 0xf0, 0xb1};
/* plain #11: MP_JOIN SYN/ACK */
static const __u8 k_join_synack[] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0xba, 0x0b, 0x7e, 0x29,
	0x86, 0x44, 0x72, 0x53, 0x01, 0x03, 0x03, 0x0a, 0x1e, 0x10, 0x10, 0x05,
	0xcb, 0xda, 0x81, 0x1f, 0x60, 0xb5, 0x6b, 0x35, 0x0d, 0xb7, 0x67, 0x91};
/* plain #12: MP_JOIN ACK */
static const __u8 k_join_ack[] = {
	0x01, 0x01, 0x08, 0x0a, 0x86, 0x44, 0x72, 0x53, 0xba, 0x0b, 0x7e, 0x29,
	0x1e, 0x18, 0x10, 0x00, 0x35, 0x49, 0x90, 0xc3, 0x7a, 0x2f, 0xb4, 0x91,
	0x2e, 0xee, 0xa9, 0x84, 0x8c, 0x19, 0xbf, 0x93, 0x25, 0x78, 0x19, 0x64};
/* plain #16: DSS + MP_PRIO (backup) on the joined subflow */
static const __u8 k_dss_prio[] = {0x01, 0x01, 0x08, 0x0a, 0xba, 0x0b, 0x7e,
				  0x29, 0x86, 0x44, 0x72, 0x53, 0x1e, 0x0c,
				  0x20, 0x03, 0xa8, 0x27, 0x01, 0x80, 0x54,
				  0x20, 0xc9, 0x46, 0x1e, 0x03, 0x51, 0x01};
/* plain #17: DSS + REMOVE_ADDR of ID 5 */
static const __u8 k_dss_rm[] = {0x01, 0x01, 0x08, 0x0a, 0x9c, 0x3e, 0xa8,
				0x17, 0x60, 0xb1, 0xde, 0x3d, 0x1e, 0x0c,
				0x20, 0x03, 0xa8, 0x27, 0x01, 0x80, 0x54,
				0x20, 0xc9, 0x46, 0x1e, 0x04, 0x40, 0x05};
/* plain #25 RST: MP_FASTCLOSE (server's key) + MP_TCPRST (T=0, reason 0) */
static const __u8 k_fastclose_rst[] = {0x01, 0x01, 0x08, 0x0a, 0x60, 0xb1,
				       0xea, 0x56, 0x9c, 0x3e, 0xb3, 0x03,
				       0x1e, 0x0c, 0x70, 0x00, 0xd7, 0xa8,
				       0x68, 0xbd, 0xd5, 0xa2, 0xef, 0x97,
				       0x1e, 0x04, 0x80, 0x00};
/* csum #1 SYN: MP_CAPABLE flags A + H */
static const __u8 k_syn_csum[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02,
				  0x08, 0x0a, 0xac, 0xe7, 0x2c, 0x1e,
				  0x00, 0x00, 0x00, 0x00, 0x01, 0x03,
				  0x03, 0x0a, 0x1e, 0x04, 0x01, 0x81};
/* csum #10 client data: DSS A M m (32-bit ACK, 64-bit DSN) + checksum */
static const __u8 k_dss_csum24[] = {
	0x01, 0x01, 0x08, 0x0a, 0xac, 0xe7, 0x2c, 0x1f, 0x7f, 0x8c, 0x32, 0x25,
	0x1e, 0x18, 0x20, 0x0d, 0xaf, 0xbb, 0xd8, 0xa4, 0x7d, 0x1b, 0xac, 0xe1,
	0x98, 0x06, 0x06, 0xe6, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0xa1, 0x43};
/* csum #12 server data: DSS A a M m + checksum (the 28-byte maximum) */
static const __u8 k_dss_csum28[] = {0x01, 0x01, 0x08, 0x0a, 0x7f, 0x8c, 0x32,
				    0x26, 0xac, 0xe7, 0x2c, 0x1f, 0x1e, 0x1c,
				    0x20, 0x0f, 0x7d, 0x1b, 0xac, 0xe1, 0x98,
				    0x06, 0x06, 0xf1, 0x1b, 0xea, 0xc2, 0x7e,
				    0xaf, 0xbb, 0xd8, 0xa4, 0x00, 0x00, 0x00,
				    0x01, 0x00, 0x10, 0xb9, 0xb8};
/* csum2 #4 first data: MP_CAPABLE with data-level length and checksum */
static const __u8 k_cap_data_csum[] = {
	0x01, 0x01, 0x08, 0x0a, 0x70, 0xa5, 0xe5, 0x27, 0x7b, 0xc5, 0xa7, 0xca,
	0x1e, 0x18, 0x01, 0x81, 0x6c, 0x62, 0x11, 0x28, 0xfa, 0x46, 0x38, 0x7c,
	0xea, 0x8c, 0x61, 0x03, 0x35, 0x80, 0x2a, 0xdf, 0x00, 0x0b, 0x28, 0x1d};
/* fin #10: DSS with DATA_FIN (F), SSN 0, data-level length 1 */
static const __u8 k_data_fin[] = {0x01, 0x01, 0x08, 0x0a, 0x35, 0xf2, 0xc0,
				  0x33, 0xdd, 0xe7, 0xe0, 0xfb, 0x1e, 0x1a,
				  0x20, 0x1f, 0x06, 0xea, 0x70, 0x58, 0xb9,
				  0xe1, 0xa2, 0x8d, 0x60, 0x49, 0x96, 0xba,
				  0x4f, 0xd2, 0xa7, 0x6f, 0x00, 0x00, 0x00,
				  0x00, 0x00, 0x01, 0x01, 0x01};

static const struct vec kernel_areas[] = {
	VEC(k_syn),	      VEC(k_synack),	    VEC(k_ack),
	VEC(k_ack_data),      VEC(k_dss_ack),	    VEC(k_add_addr),
	VEC(k_add_addr_echo), VEC(k_dss_data),	    VEC(k_join_syn),
	VEC(k_join_synack),   VEC(k_join_ack),	    VEC(k_dss_prio),
	VEC(k_dss_rm),	      VEC(k_fastclose_rst), VEC(k_syn_csum),
	VEC(k_dss_csum24),    VEC(k_dss_csum28),    VEC(k_cap_data_csum),
	VEC(k_data_fin),
};

/* walk one captured option area and parse its MPTCP options */
static int walk_parse(const struct vec *v, struct mpc_mptcp_opt *o, int max)
{
	struct mpc_tcpopts t;
	__u8 b[MPC_TCPOPT_CAP] = {0};
	int i, rc;

	assert_true(v->n <= MPC_TCPOPT_MAXLEN && v->n % 4 == 0);
	memcpy(b, v->b, v->n);
	rc = mpc_tcpopt_walk(b, v->n, &t);
	assert_int_equal(rc, 0);
	assert_true(t.n_mptcp <= max);
	for (i = 0; i < t.n_mptcp; i++) {
		rc = parse_exact(v->b, t.mptcp_off[i], v->n, &o[i]);
		if (rc)
			fail_msg("%s option %d: %d", v->name, i, rc);
		assert_int_equal(o[i].len, t.mptcp_len[i]);
		/* and the bytes survive a rebuild */
		roundtrip(v->b + t.mptcp_off[i], t.mptcp_len[i], NULL);
	}
	return t.n_mptcp;
}

static void sha256_of_key(__u64 key, __u8 *out)
{
	__u8 k[8];
	int i;

	for (i = 0; i < 8; i++)
		k[i] = (__u8)(key >> (56 - 8 * i));
	SHA256(k, sizeof(k), out);
}

static void test_kernel_vectors(void **state)
{
	struct mpc_mptcp_opt o[MPC_TCPOPT_MAX_MPTCP];
	__u64 ckey, skey;
	__u8 h[32];
	size_t i;

	(void)state;
	for (i = 0; i < MPC_ARRAY_SIZE(kernel_areas); i++)
		assert_true(walk_parse(&kernel_areas[i], o, 2) >= 1);

	/* handshake */
	assert_int_equal(walk_parse(&kernel_areas[0], o, 1), 1);
	assert_int_equal(o[0].variant, MPC_CAP_SYN);
	assert_int_equal(o[0].flags, MPC_CAP_H);
	walk_parse(&kernel_areas[1], o, 1);
	assert_int_equal(o[0].variant, MPC_CAP_SYNACK);
	skey = o[0].u.cap.skey;
	assert_true(skey == 0xd7a868bdd5a2ef97ull);
	walk_parse(&kernel_areas[2], o, 1);
	assert_int_equal(o[0].variant, MPC_CAP_ACK);
	ckey = o[0].u.cap.skey;
	assert_true(ckey == 0xef60a1bade57af3eull);
	assert_true(o[0].u.cap.rkey == skey);
	walk_parse(&kernel_areas[3], o, 1);
	assert_int_equal(o[0].variant, MPC_CAP_DATA);
	assert_int_equal(o[0].u.cap.dll, 11); /* "hello mptcp" */

	/* DSS: the data ACK is the client's IDSN + 1 + 11 bytes */
	walk_parse(&kernel_areas[4], o, 1);
	assert_int_equal(o[0].subtype, MPC_MP_DSS);
	assert_int_equal(o[0].flags, MPC_DSS_A | MPC_DSS_A8);
	sha256_of_key(ckey, h);
	assert_true(o[0].u.dss.data_ack == be64(h + 24) + 1 + 11);

	walk_parse(&kernel_areas[5], o, 1);
	assert_int_equal(o[0].subtype, MPC_MP_ADD_ADDR);
	assert_int_equal(o[0].variant, MPC_ADDR_V_PORT);
	assert_int_equal(o[0].flags, 0);
	assert_int_equal(o[0].u.add.addr_id, 5);
	assert_memory_equal(o[0].u.add.addr, ((__u8[]){192, 0, 2, 3}), 4);
	assert_int_equal(o[0].u.add.port, 5001);
	walk_parse(&kernel_areas[6], o, 1);
	assert_int_equal(o[0].flags, MPC_ADDR_E);
	assert_int_equal(o[0].u.add.port, 5001);

	/* server's first DSN is its IDSN + 1 */
	walk_parse(&kernel_areas[7], o, 1);
	assert_int_equal(o[0].flags,
			 MPC_DSS_A | MPC_DSS_A8 | MPC_DSS_M | MPC_DSS_M8);
	assert_int_equal(o[0].variant, 0);
	sha256_of_key(skey, h);
	assert_true(o[0].u.dss.dsn == be64(h + 24) + 1);
	assert_int_equal(o[0].u.dss.ssn, 1);
	assert_int_equal(o[0].u.dss.dll, 16);

	/* MP_JOIN SYN carries the server's token: SHA-256(key)[0..3] */
	walk_parse(&kernel_areas[8], o, 1);
	assert_int_equal(o[0].variant, MPC_JOIN_SYN);
	assert_int_equal(o[0].u.join.token,
			 (__u32)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]);
	assert_int_equal(o[0].u.join.addr_id, 0);
	walk_parse(&kernel_areas[9], o, 1);
	assert_int_equal(o[0].variant, MPC_JOIN_SYNACK);
	assert_int_equal(o[0].u.join.addr_id, 5);
	walk_parse(&kernel_areas[10], o, 1);
	assert_int_equal(o[0].variant, MPC_JOIN_ACK);

	assert_int_equal(walk_parse(&kernel_areas[11], o, 2), 2);
	assert_int_equal(o[1].subtype, MPC_MP_PRIO);
	assert_int_equal(o[1].flags, MPC_PRIO_B);
	assert_int_equal(walk_parse(&kernel_areas[12], o, 2), 2);
	assert_int_equal(o[1].subtype, MPC_MP_REMOVE_ADDR);
	assert_int_equal(o[1].u.rm.n, 1);
	assert_int_equal(o[1].u.rm.ids[0], 5);
	assert_int_equal(walk_parse(&kernel_areas[13], o, 2), 2);
	assert_int_equal(o[0].subtype, MPC_MP_FASTCLOSE);
	assert_true(o[0].u.fclose.rkey == skey);
	assert_int_equal(o[1].subtype, MPC_MP_TCPRST);
	assert_int_equal(o[1].u.rst.reason, MPC_RST_UNSPECIFIED);

	/* checksum runs */
	walk_parse(&kernel_areas[14], o, 1);
	assert_int_equal(o[0].flags, MPC_CAP_A | MPC_CAP_H);
	walk_parse(&kernel_areas[15], o, 1);
	assert_int_equal(o[0].flags, MPC_DSS_A | MPC_DSS_M | MPC_DSS_M8);
	assert_int_equal(o[0].variant, MPC_DSS_V_CSUM);
	assert_int_equal(o[0].len, 24);
	assert_int_equal(o[0].u.dss.dll, 11);
	assert_int_equal(o[0].u.dss.csum, 0xa143);
	walk_parse(&kernel_areas[16], o, 1);
	assert_int_equal(o[0].len, MPC_MPTCPOLEN_DSS_MAX);
	assert_int_equal(o[0].variant, MPC_DSS_V_CSUM);
	assert_int_equal(o[0].u.dss.csum, 0xb9b8);
	walk_parse(&kernel_areas[17], o, 1);
	assert_int_equal(o[0].variant, MPC_CAP_DATA_CSUM);
	assert_int_equal(o[0].u.cap.dll, 11);
	assert_int_equal(o[0].u.cap.csum, 0x281d);

	walk_parse(&kernel_areas[18], o, 1);
	assert_true(o[0].flags & MPC_DSS_F);
	assert_int_equal(o[0].u.dss.ssn, 0);
	assert_int_equal(o[0].u.dss.dll, 1);
}

/* ---- truncation ---------------------------------------------------------- */

/* every valid encoding this file knows: RFC figures + kernel options */
static void for_each_encoding(void (*fn)(const __u8 *, __u32, const char *))
{
	struct mpc_tcpopts t;
	size_t i;
	int k;

	for (i = 0; i < MPC_ARRAY_SIZE(rfc_vecs); i++)
		fn(rfc_vecs[i].b, rfc_vecs[i].n, rfc_vecs[i].name);
	for (i = 0; i < MPC_ARRAY_SIZE(kernel_areas); i++) {
		assert_int_equal(mpc_tcpopt_walk(kernel_areas[i].b,
						 kernel_areas[i].n, &t),
				 0);
		for (k = 0; k < t.n_mptcp; k++)
			fn(kernel_areas[i].b + t.mptcp_off[k], t.mptcp_len[k],
			   kernel_areas[i].name);
	}
}

static int n_prefix_checks;

/* the buffer ends early: the option's own length runs past len */
static void check_short_buffer(const __u8 *enc, __u32 n, const char *name)
{
	struct mpc_mptcp_opt o;
	__u8 in[MPC_TCPOPT_CAP];
	__u32 k, off;
	int rc;

	for (off = 0; off < 3; off += 2) {
		memset(in, MPC_TCPOPT_NOP, sizeof(in));
		memcpy(in + off, enc, n);
		for (k = off; k < off + n; k++) {
			rc = parse_exact(in, off, k, &o);
			if (rc != -MPC_E_TRUNC)
				fail_msg("%s cut to %u at %u: %d", name,
					 k - off, off, rc);
			n_prefix_checks++;
		}
	}
}

/*
 * The option says it is shorter (as a walker would hand it over): any
 * prefix length is -MPC_E_LEN unless it is itself a valid encoding of
 * the subtype with these flags (MP_CAPABLE 24 -> 22 -> 20 -> 12 -> 4,
 * DSS with checksum -> without, ADD_ADDR with port -> without, fewer
 * REMOVE_ADDR IDs); then it must parse and rebuild to the same bytes.
 * REMOVE_ADDR cut to 3 has no ID left: -MPC_E_FIELD.
 */
static void check_short_length(const __u8 *enc, __u32 n, const char *name)
{
	struct mpc_mptcp_opt o;
	__u8 in[MPC_TCPOPT_CAP];
	__u32 k;
	int rc;

	for (k = 0; k < n; k++) {
		memcpy(in, enc, n);
		in[1] = (__u8)k;
		rc = parse_exact(in, 0, k < 2 ? 2 : k, &o);
		n_prefix_checks++;
		if (rc == 0) {
			assert_true(k >= 3);
			roundtrip(in, k, NULL);
			continue;
		}
		if (rc == -MPC_E_FIELD && (enc[2] >> 4) == MPC_MP_REMOVE_ADDR &&
		    k == 3)
			continue;
		if (rc != -MPC_E_LEN)
			fail_msg("%s length %u: %d", name, k, rc);
	}
}

static void test_truncated_prefixes(void **state)
{
	(void)state;
	n_prefix_checks = 0;
	for_each_encoding(check_short_buffer);
	for_each_encoding(check_short_length);
	assert_true(n_prefix_checks > 1000);
}

/* ---- overlong and inconsistent input ------------------------------------ */

static int parse_bytes(const __u8 *b, __u32 n)
{
	struct mpc_mptcp_opt o;

	return parse_exact(b, 0, n, &o);
}

/* copy enc, set the length byte to l, pad with zeros to l bytes */
static int parse_with_len(const __u8 *enc, __u32 n, __u32 l)
{
	__u8 b[MPC_TCPOPT_CAP] = {0};

	memcpy(b, enc, MPC_MIN(n, l));
	b[1] = (__u8)l;
	return parse_bytes(b, l);
}

static void test_wrong_lengths(void **state)
{
	static const __u32 cap_ok[] = {4, 12, 20, 22, 24};
	static const __u32 join_ok[] = {12, 16, 24};
	__u32 l;
	size_t i;
	bool ok;

	(void)state;
	for (l = 3; l <= MPC_TCPOPT_MAXLEN; l++) {
		for (ok = false, i = 0; i < MPC_ARRAY_SIZE(cap_ok); i++)
			ok |= l == cap_ok[i];
		assert_int_equal(parse_with_len(rfc_cap_data_csum, 24, l),
				 ok ? 0 : -MPC_E_LEN);
		for (ok = false, i = 0; i < MPC_ARRAY_SIZE(join_ok); i++)
			ok |= l == join_ok[i];
		assert_int_equal(parse_with_len(rfc_join_ack, 24, l),
				 ok ? 0 : -MPC_E_LEN);
		/* DSS A a M m (F): 26 without, 28 with checksum */
		assert_int_equal(parse_with_len(rfc_dss_full, 28, l),
				 (l == 26 || l == 28) ? 0 : -MPC_E_LEN);
		/* DSS A only: 8; a checksum needs a mapping */
		assert_int_equal(parse_with_len(rfc_dss_ack, 8, l),
				 l == 8 ? 0 : -MPC_E_LEN);
		/* ADD_ADDR E=1: 8 10 20 22; E=0: 16 18 28 30 */
		assert_int_equal(parse_with_len(rfc_add4_echo, 8, l),
				 (l == 8 || l == 10 || l == 20 || l == 22)
					 ? 0
					 : -MPC_E_LEN);
		assert_int_equal(parse_with_len(rfc_add4_hmac, 16, l),
				 (l == 16 || l == 18 || l == 28 || l == 30)
					 ? 0
					 : -MPC_E_LEN);
		assert_int_equal(parse_with_len(rfc_prio, 3, l),
				 l == 3 ? 0 : -MPC_E_LEN);
		assert_int_equal(parse_with_len(rfc_fail, 12, l),
				 l == 12 ? 0 : -MPC_E_LEN);
		assert_int_equal(parse_with_len(rfc_fastclose, 12, l),
				 l == 12 ? 0 : -MPC_E_LEN);
		assert_int_equal(parse_with_len(rfc_tcprst, 4, l),
				 l == 4 ? 0 : -MPC_E_LEN);
		assert_int_equal(parse_with_len(rfc_rm3, 6, l),
				 l == 3 ? -MPC_E_FIELD : 0);
	}
	/* DSS with no flags at all is 4 bytes (an empty DSS) */
	assert_int_equal(parse_bytes((__u8[]){0x1e, 0x04, 0x20, 0x00}, 4), 0);
	/* flags that need more than the option has */
	assert_int_equal(parse_bytes((__u8[]){0x1e, 0x04, 0x20, 0x01}, 4),
			 -MPC_E_LEN);
	/* MP_PRIO as in RFC 6824 (v0, with an Address ID) */
	assert_int_equal(parse_bytes((__u8[]){0x1e, 0x04, 0x51, 0x07}, 4),
			 -MPC_E_LEN);
	/* DSS and ADD_ADDR too short for their flags byte */
	assert_int_equal(parse_bytes((__u8[]){0x1e, 0x03, 0x20}, 3),
			 -MPC_E_LEN);
	assert_int_equal(parse_bytes((__u8[]){0x1e, 0x03, 0x30}, 3),
			 -MPC_E_LEN);
	/* length byte below the minimum of any MPTCP option */
	assert_int_equal(parse_bytes((__u8[]){0x1e, 0x02, 0x00}, 3),
			 -MPC_E_LEN);
	assert_int_equal(parse_bytes((__u8[]){0x1e, 0x00, 0x00}, 3),
			 -MPC_E_LEN);
}

static void test_overlong(void **state)
{
	__u8 b[MPC_TCPOPT_CAP];
	struct mpc_mptcp_opt o;

	(void)state;
	/* a REMOVE_ADDR longer than any TCP option area (41 > 40) */
	memset(b, 1, sizeof(b));
	b[0] = 0x1e;
	b[1] = 41;
	b[2] = 0x40;
	assert_int_equal(parse_exact(b, 0, 64, &o), -MPC_E_LEN);
	/* the longest one that fits: 37 IDs */
	b[1] = 40;
	assert_int_equal(parse_exact(b, 0, 40, &o), 0);
	assert_int_equal(o.u.rm.n, MPC_RM_ADDR_MAX);
	assert_int_equal(o.u.rm.ids[36], 1);
	/* len beyond the buffer capacity */
	assert_int_equal(mpc_mptcp_parse(b, 0, MPC_TCPOPT_CAP + 1, &o),
			 -MPC_E_LEN);
	/* offset at or past len */
	assert_int_equal(parse_exact(b, 40, 40, &o), -MPC_E_TRUNC);
	assert_int_equal(parse_exact(b, 0, 0, &o), -MPC_E_TRUNC);
	/* the length byte is past len */
	assert_int_equal(parse_exact(b, 0, 1, &o), -MPC_E_TRUNC);
	/* not an MPTCP option */
	b[0] = MPC_TCPOPT_TS;
	assert_int_equal(parse_exact(b, 0, 40, &o), -MPC_E_UNKNOWN);
}

static void test_bad_fields(void **state)
{
	__u8 b[MPC_TCPOPT_CAP];
	struct mpc_mptcp_opt o;
	__u8 st;

	(void)state;
	/* MP_CAPABLE version 0 (RFC 6824), any length */
	memcpy(b, rfc_cap_synack, 12);
	b[2] = 0x00;
	assert_int_equal(parse_exact(b, 0, 12, &o), -MPC_E_VERSION);
	/* the caller can still see what was offered */
	assert_int_equal(o.subtype, MPC_MP_CAPABLE);
	assert_int_equal(o.u.cap.version, 0);
	assert_int_equal(o.flags, MPC_CAP_H);
	assert_int_equal(o.len, 12);
	/* a future version on a SYN */
	memcpy(b, rfc_cap_syn, 4);
	b[2] = 0x02;
	assert_int_equal(parse_exact(b, 0, 4, &o), -MPC_E_VERSION);
	assert_int_equal(o.u.cap.version, 2);
	b[1] = 3; /* version is known before the flags byte */
	assert_int_equal(parse_exact(b, 0, 3, &o), -MPC_E_VERSION);
	/* MP_CAPABLE without a crypto algorithm (D..H all 0) */
	memcpy(b, rfc_cap_syn, 4);
	b[3] = MPC_CAP_A | MPC_CAP_B | MPC_CAP_C;
	assert_int_equal(parse_exact(b, 0, 4, &o), -MPC_E_FIELD);
	b[3] = 0x02; /* G alone is an (unknown) algorithm: accepted */
	assert_int_equal(parse_exact(b, 0, 4, &o), 0);

	/* REMOVE_ADDR with zero IDs */
	assert_int_equal(parse_exact((__u8[]){0x1e, 0x03, 0x40}, 0, 3, &o),
			 -MPC_E_FIELD);

	/*
	 * "ADD_ADDR IPVer 5": RFC 8684 has no IPVer field (RFC 6824 had);
	 * the nibble is (rsv)|E, the family comes from the length, and the
	 * reserved bits MUST be ignored by the receiver. 0x35 is E=1 with
	 * reserved bits 010: accepted, bits kept for a byte-exact rebuild.
	 */
	memcpy(b, rfc_add4_echo, 8);
	b[2] = 0x35;
	roundtrip(b, 8, &o);
	assert_int_equal(o.flags, 0x5);
	assert_true(o.flags & MPC_ADDR_E);
	assert_int_equal(o.variant, 0);
	/* ...but a nibble whose E bit disagrees with the length is LEN */
	b[2] = 0x34;
	assert_int_equal(parse_exact(b, 0, 8, &o), -MPC_E_LEN);

	/* unknown subtypes 0x9..0xe and MP_EXPERIMENTAL 0xf */
	for (st = 0x9; st <= 0xf; st++) {
		memcpy(b, rfc_fail, 12);
		b[2] = (__u8)(st << 4);
		assert_int_equal(parse_exact(b, 0, 12, &o), -MPC_E_UNKNOWN);
		assert_int_equal(o.subtype, st);
	}
}

static void test_build_errors(void **state)
{
	static const struct vec *const all = rfc_vecs;
	struct mpc_mptcp_opt o, good;
	__u8 b[MPC_TCPOPT_CAP], ref[MPC_TCPOPT_CAP];
	size_t i;
	__u32 off;

	(void)state;
	/* cap too small by one byte, at several offsets: nothing written */
	for (i = 0; i < MPC_ARRAY_SIZE(rfc_vecs); i++) {
		assert_int_equal(parse_exact(all[i].b, 0, all[i].n, &o), 0);
		for (off = 0; off <= 10; off += 5) {
			memset(b, 0x77, sizeof(b));
			memcpy(ref, b, sizeof(b));
			assert_int_equal(
				mpc_mptcp_build(b, off, off + all[i].n - 1, &o),
				-MPC_E_NOSPACE);
			assert_memory_equal(b, ref, sizeof(b));
			assert_int_equal(mpc_mptcp_build(b, off, off + all[i].n,
							 &o),
					 all[i].n);
		}
		assert_int_equal(mpc_mptcp_build(b, 41, 40, &o),
				 -MPC_E_NOSPACE);
		assert_int_equal(mpc_mptcp_build(b, 64, 64, &o),
				 -MPC_E_NOSPACE);
		/* cap is clamped to the buffer capacity */
		assert_int_equal(mpc_mptcp_build(b, 63, 1000, &o),
				 -MPC_E_NOSPACE);
	}

	/* unencodable structs */
	parse_exact(rfc_cap_ack, 0, 20, &good);
	o = good;
	o.u.cap.version = 0;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o = good;
	o.flags = MPC_CAP_A; /* no crypto bit */
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o = good;
	o.flags = 0x101; /* wider than the flags byte */
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o = good;
	o.variant = 0;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o.variant = MPC_CAP_DATA_CSUM + 1;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);

	parse_exact(rfc_join_syn, 0, 12, &good);
	o = good;
	o.flags = 0x10;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o.variant = MPC_JOIN_ACK; /* 12 bits are fine there */
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), 24);
	o.variant = 4;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);

	parse_exact(rfc_rm3, 0, 6, &good);
	o = good;
	o.u.rm.n = 0;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o.u.rm.n = MPC_RM_ADDR_MAX + 1;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o.u.rm.n = MPC_RM_ADDR_MAX;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), 40);
	assert_int_equal(mpc_mptcp_build(b, 1, 40, &o), -MPC_E_NOSPACE);

	parse_exact(rfc_add4_echo, 0, 8, &good);
	o = good;
	o.variant = MPC_ADDR_V_ALL + 1;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	o = good;
	o.flags = 0x10;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);

	parse_exact(rfc_dss_full, 0, 28, &good);
	o = good;
	o.flags = 0x1000;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	for (i = MPC_MP_PRIO; i <= MPC_MP_TCPRST; i++) {
		memset(&o, 0, sizeof(o));
		o.subtype = (__u8)i;
		o.flags = (i == MPC_MP_PRIO || i == MPC_MP_TCPRST) ? 0x10
								   : 0x1000;
		assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
	}
	memset(&o, 0, sizeof(o));
	o.subtype = 0x9;
	assert_int_equal(mpc_mptcp_len(&o), -MPC_E_FIELD);
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), -MPC_E_FIELD);
}

/* build conveniences: 32-bit DSS values, checksum only with M */
static void test_build_dss_semantics(void **state)
{
	static const __u8 want[] = {0x1e, 0x12, 0x20, 0x05, 0x89, 0xab,
				    0xcd, 0xef, 0x76, 0x54, 0x32, 0x10,
				    0x00, 0x00, 0x00, 0x07, 0x00, 0x08};
	struct mpc_mptcp_opt o = {.subtype = MPC_MP_DSS};
	__u8 b[MPC_TCPOPT_CAP];

	(void)state;
	o.flags = MPC_DSS_A | MPC_DSS_M;
	o.u.dss.data_ack = 0x0123456789abcdefull; /* low 32 bits sent */
	o.u.dss.dsn = 0xfedcba9876543210ull;
	o.u.dss.ssn = 7;
	o.u.dss.dll = 8;
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), sizeof(want));
	assert_bytes(b, want, sizeof(want));
	/* checksum flagged for a pure DATA_ACK: nothing to attach it to */
	memset(&o, 0, sizeof(o));
	o.subtype = MPC_MP_DSS;
	o.variant = MPC_DSS_V_CSUM;
	o.flags = MPC_DSS_A;
	o.u.dss.data_ack = 0x12345678;
	assert_int_equal(mpc_mptcp_len(&o), 8);
	assert_int_equal(mpc_mptcp_build(b, 0, 40, &o), 8);
	assert_bytes(b, rfc_dss_ack, 8);
}

/* walker + parser together on an area with three MPTCP options */
static void test_walk_multi(void **state)
{
	struct mpc_mptcp_opt o;
	struct mpc_tcpopts t;
	__u8 b[MPC_TCPOPT_CAP] = {0};
	__u32 off = 0;
	int rc;

	(void)state;
	memcpy(b + off, rfc_dss_ack, 8);
	off += 8;
	memcpy(b + off, rfc_add4_port_hmac, 18);
	off += 18;
	memcpy(b + off, rfc_prio, 3);
	off += 3;
	memcpy(b + off, rfc_rm3, 6);
	off += 6;
	rc = mpc_tcpopt_put_nops(b, off, 40);
	assert_int_equal(rc, 1);
	off += rc;
	assert_int_equal(mpc_tcpopt_walk(b, off, &t), 0);
	assert_int_equal(t.n_mptcp, 4);
	assert_int_equal(parse_exact(b, t.mptcp_off[0], off, &o), 0);
	assert_int_equal(o.subtype, MPC_MP_DSS);
	assert_int_equal(parse_exact(b, t.mptcp_off[1], off, &o), 0);
	assert_int_equal(o.subtype, MPC_MP_ADD_ADDR);
	assert_int_equal(parse_exact(b, t.mptcp_off[2], off, &o), 0);
	assert_int_equal(o.subtype, MPC_MP_PRIO);
	assert_int_equal(parse_exact(b, t.mptcp_off[3], off, &o), 0);
	assert_int_equal(o.subtype, MPC_MP_REMOVE_ADDR);
	/* rebuild the whole area from the parsed structs */
	{
		__u8 r[MPC_TCPOPT_CAP] = {0};
		__u32 w = 0;
		int i;

		for (i = 0; i < t.n_mptcp; i++) {
			parse_exact(b, t.mptcp_off[i], off, &o);
			rc = mpc_mptcp_build(r, w, 40, &o);
			assert_true(rc > 0);
			w += rc;
		}
		w += mpc_tcpopt_put_nops(r, w, 40);
		assert_int_equal(w, off);
		assert_bytes(r, b, off);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_mp_capable),
		cmocka_unit_test(test_rfc_mp_join),
		cmocka_unit_test(test_rfc_dss),
		cmocka_unit_test(test_rfc_add_addr),
		cmocka_unit_test(test_rfc_other),
		cmocka_unit_test(test_roundtrip_cap_join),
		cmocka_unit_test(test_roundtrip_dss_all_flags),
		cmocka_unit_test(test_roundtrip_addr_rm_misc),
		cmocka_unit_test(test_kernel_vectors),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_wrong_lengths),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_dss_semantics),
		cmocka_unit_test(test_walk_multi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
