// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_convert: include/mpconv/convert.h, RFC 8803 Convert messages.
 *
 * Vectors are laid out by hand from the RFC figures. The test_rule_* tests
 * are the executable list of the validity rules of RFC 8803 section 6 (and
 * of the decisions D1..D12 in convert.h where the RFC leaves room): each
 * asserts the exact answer a receiver must give.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mpconv/convert.h"

/* ---- vectors ---------------------------------------------------------- */

/* Figure 13: Version 1, Total Length w words, Magic 0x2263 */
#define HDR(w) 0x01, (w), 0x22, 0x63
/* 2001:db8::1 (RFC 3849 documentation prefix) */
#define ADDR6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
/* ::ffff:192.0.2.1 (RFC 4291 2.5.5.2 IPv4-mapped, RFC 5737 TEST-NET-1) */
#define ADDR4M(a, b, c, d) 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d
#define ADDR4 ADDR4M(192, 0, 2, 1)
#define COOKIE8 0xc0, 0x0c, 0x1e, 0x5a, 0x11, 0x22, 0x33, 0x44

/* Figure 15: Info TLV */
static const __u8 v_info[] = {HDR(2), 0x01, 0x01, 0x00, 0x00};
/* Figure 17: Base Connect TLV to [2001:db8::1]:80 */
static const __u8 v_connect6[] = {HDR(6), 0x0a, 0x05, 0x00, 0x50, ADDR6};
/* Figure 17: Base Connect TLV to 192.0.2.1:443, v4-mapped */
static const __u8 v_connect4[] = {HDR(6), 0x0a, 0x05, 0x01, 0xbb, ADDR4};
/* Figures 18, 19: Extended Connect, TCP Options MSS 1460 (2,4),
 * SACK-permitted (4,2), TFO with an 8-byte cookie (34,10): 16 bytes, no
 * padding; TLV 36 bytes = 9 words */
static const __u8 v_connect_ext[] = {HDR(10), 0x0a, 0x09, 0x00, 0x50,
				     ADDR6,   0x02, 0x04, 0x05, 0xb4,
				     0x04,    0x02, 0x22, 0x0a, COOKIE8};
/* Figures 18, 19: Extended Connect, SACK-permitted, Timestamp and MPTCP
 * without content (7.4, 7.5): 6 bytes + 2 bytes of zero padding */
static const __u8 v_connect_ext_pad[] = {HDR(8), 0x0a, 0x07, 0x00, 0x50,
					 ADDR4,	 0x04, 0x02, 0x08, 0x02,
					 0x1e,	 0x02, 0x00, 0x00};
/* Figure 21 then Figure 17: Cookie TLV (8-byte cookie) + Base Connect */
static const __u8 v_cookie_connect[] = {HDR(9), 0x16, 0x03, 0x00, 0x00, COOKIE8,
					0x0a,	0x05, 0x00, 0x50, ADDR6};
/* Info + Cookie: a client asking for capabilities with its cookie */
static const __u8 v_info_cookie[] = {HDR(5), 0x01, 0x01, 0x00, 0x00,
				     0x16,   0x03, 0x00, 0x00, COOKIE8};
/* Figures 5 and 6 "SYN+ACK [ ]": a header without TLVs (D3) */
static const __u8 v_hdr_only[] = {HDR(1)};
/* Figure 20: Extended TCP Header TLV with SYN+ACK options MSS 1460, NOP,
 * NOP, SACK-permitted, NOP, WS 7 (12 bytes) */
static const __u8 v_xhdr[] = {HDR(5), 0x14, 0x04, 0x00, 0x00, 0x02,
			      0x04,   0x05, 0xb4, 0x01, 0x01, 0x04,
			      0x02,   0x01, 0x03, 0x03, 0x07};
/* Figure 20: a SYN+ACK without options */
static const __u8 v_xhdr_empty[] = {HDR(2), 0x14, 0x01, 0x00, 0x00};
/* Figure 16: Supported TCP Extensions: SACK-permitted (4), Timestamp (8),
 * MPTCP (30), TFO (34) */
static const __u8 v_supported[] = {HDR(3), 0x15, 0x02, 0x00, 0x00,
				   0x04,   0x08, 0x1e, 0x22};
/* Figure 16: MPTCP only, padded with 0 to a 32-bit boundary */
static const __u8 v_supported_pad[] = {HDR(3), 0x15, 0x02, 0x00, 0x00,
				       0x1e,   0x00, 0x00, 0x00};
/* Figure 16: a converter that supports nothing */
static const __u8 v_supported_none[] = {HDR(2), 0x15, 0x01, 0x00, 0x00};
/* Figure 17 sent by a converter: an incoming connection (5.2) */
static const __u8 v_connect_in[] = {HDR(6), 0x0a, 0x05, 0xc3, 0x50, ADDR4};
/* Figure 20 + Figure 16 in one reply */
static const __u8 v_xhdr_supported[] = {HDR(4), 0x14, 0x01, 0x00, 0x00,
					0x15,	0x02, 0x00, 0x00, 0x1e,
					0x00,	0x00, 0x00};

/* Figure 22 (and 23) for each code of Table 2 */
/* Unsupported Version (0): Value = the version supported, 1 */
static const __u8 v_err_version[] = {HDR(2), 0x1e, 0x01, 0x00, 0x01};
/* Malformed Message (1), Figure 23: Zeros, echo of "header + Info" */
static const __u8 v_err_malformed[] = {HDR(4), 0x1e, 0x03, 0x01, 0x00,
				       HDR(2), 0x01, 0x01, 0x00, 0x00};
/* Unsupported Message (2), Figure 23: echo of a client's "header + TLV of
 * type 20" */
static const __u8 v_err_unsupported_msg[] = {HDR(4), 0x1e, 0x03, 0x02, 0x00,
					     HDR(2), 0x14, 0x01, 0x00, 0x00};
/* Missing Cookie (3): first Value byte zero, then the cookie */
static const __u8 v_err_missing_cookie[] = {HDR(4), 0x1e, 0x03,
					    0x03,   0x00, COOKIE8};
/* Not Authorized (32): Value zero */
static const __u8 v_err_not_authorized[] = {HDR(2), 0x1e, 0x01, 0x20, 0x00};
/* Unsupported TCP Option (33): TCP-AO (29) and 253, padded */
static const __u8 v_err_unsupported_opt[] = {HDR(3), 0x1e, 0x02, 0x21, 0x1d,
					     0xfd,   0x00, 0x00, 0x00};
/* Resource Exceeded (64): Value 0, the default delay */
static const __u8 v_err_resource[] = {HDR(2), 0x1e, 0x01, 0x40, 0x00};
/* Network Failure (65): retry after 30 s */
static const __u8 v_err_network[] = {HDR(2), 0x1e, 0x01, 0x41, 0x1e};
/* Connection Reset (96): Value zero */
static const __u8 v_err_conn_reset[] = {HDR(2), 0x1e, 0x01, 0x60, 0x00};
/* Destination Unreachable (97): ICMP Code 3 (port unreachable) */
static const __u8 v_err_unreach[] = {HDR(2), 0x1e, 0x01, 0x61, 0x03};

struct vec {
	const char *name;
	const __u8 *b;
	size_t len;
	enum mpc_conv_role from;
	__u8 tlvs;
};

#define VEC(v, r, t)                   \
	{                              \
#v, v, sizeof(v), r, t \
	}
#define C MPC_CONV_FROM_CLIENT
#define T MPC_CONV_FROM_CONVERTER

static const struct vec valid[] = {
	VEC(v_info, C, MPC_CONV_F_INFO),
	VEC(v_connect6, C, MPC_CONV_F_CONNECT),
	VEC(v_connect4, C, MPC_CONV_F_CONNECT),
	VEC(v_connect_ext, C, MPC_CONV_F_CONNECT),
	VEC(v_connect_ext_pad, C, MPC_CONV_F_CONNECT),
	VEC(v_cookie_connect, C, MPC_CONV_F_COOKIE | MPC_CONV_F_CONNECT),
	VEC(v_info_cookie, C, MPC_CONV_F_INFO | MPC_CONV_F_COOKIE),
	VEC(v_hdr_only, C, 0),
	VEC(v_hdr_only, T, 0),
	VEC(v_xhdr, T, MPC_CONV_F_XHDR),
	VEC(v_xhdr_empty, T, MPC_CONV_F_XHDR),
	VEC(v_supported, T, MPC_CONV_F_SUPPORTED),
	VEC(v_supported_pad, T, MPC_CONV_F_SUPPORTED),
	VEC(v_supported_none, T, MPC_CONV_F_SUPPORTED),
	VEC(v_connect_in, T, MPC_CONV_F_CONNECT),
	VEC(v_xhdr_supported, T, MPC_CONV_F_XHDR | MPC_CONV_F_SUPPORTED),
	VEC(v_err_version, T, MPC_CONV_F_ERROR),
	VEC(v_err_malformed, T, MPC_CONV_F_ERROR),
	VEC(v_err_unsupported_msg, T, MPC_CONV_F_ERROR),
	VEC(v_err_missing_cookie, T, MPC_CONV_F_ERROR),
	VEC(v_err_not_authorized, T, MPC_CONV_F_ERROR),
	VEC(v_err_unsupported_opt, T, MPC_CONV_F_ERROR),
	VEC(v_err_resource, T, MPC_CONV_F_ERROR),
	VEC(v_err_network, T, MPC_CONV_F_ERROR),
	VEC(v_err_conn_reset, T, MPC_CONV_F_ERROR),
	VEC(v_err_unreach, T, MPC_CONV_F_ERROR),
};

/* ---- helpers ---------------------------------------------------------- */

/* parse from an exact-size heap copy, so that ASan would see over-reads */
static int parse(const __u8 *b, size_t len, enum mpc_conv_role from,
		 struct mpc_conv_msg *m)
{
	__u8 *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len)
		memcpy(copy, b, len);
	rc = mpc_conv_parse(copy, len, from, m);
	free(copy);
	return rc;
}

static void expect(const __u8 *b, size_t len, enum mpc_conv_role from, int rc,
		   __u8 action, __u8 code)
{
	struct mpc_conv_msg m;

	assert_int_equal(parse(b, len, from, &m), rc);
	assert_int_equal(m.answer.action, action);
	if (action == MPC_CONV_ACT_ERROR)
		assert_int_equal(m.answer.code, code);
	else
		assert_int_equal(m.answer.code, 0);
}

/* what a converter must answer (from a client) */
#define EXPECT_ERR(v, rc, code) \
	expect(v, sizeof(v), C, rc, MPC_CONV_ACT_ERROR, code)
/* what a client must do (from a converter) */
#define EXPECT_RESET(v, rc) expect(v, sizeof(v), T, rc, MPC_CONV_ACT_RESET, 0)
#define EXPECT_OK(v, from) expect(v, sizeof(v), from, 0, MPC_CONV_ACT_ACCEPT, 0)

/* rebuild a parsed message with the builders, TLVs in input order */
static int rebuild(const __u8 *in, const struct mpc_conv_msg *m, __u8 *out)
{
	unsigned order[MPC_CONV_NTYPES], cnt = 0, k, j;
	int n, t = 0;

	n = mpc_conv_put_hdr(out, MPC_CONV_CAP);
	for (k = 0; k < MPC_CONV_NTYPES; k++)
		if (m->tlvs & (1u << k))
			order[cnt++] = k;
	for (k = 1; k < cnt; k++)
		for (j = k;
		     j > 0 && m->tlv_off[order[j - 1]] > m->tlv_off[order[j]];
		     j--) {
			unsigned x = order[j];

			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (k = 0; k < cnt; k++) {
		switch (order[k]) {
		case MPC_CONV_I_INFO:
			t = mpc_conv_put_info(out, n, MPC_CONV_CAP);
			break;
		case MPC_CONV_I_CONNECT:
			t = mpc_conv_put_connect(out, n, MPC_CONV_CAP, m->port,
						 m->addr, in, m->opt_off,
						 m->opt_len);
			break;
		case MPC_CONV_I_XHDR:
			t = mpc_conv_put_xhdr(out, n, MPC_CONV_CAP, in,
					      m->xhdr_off, m->xhdr_len);
			break;
		case MPC_CONV_I_SUPPORTED:
			t = mpc_conv_put_supported(out, n, MPC_CONV_CAP, in,
						   m->sup_off, m->sup_n);
			break;
		case MPC_CONV_I_COOKIE:
			t = mpc_conv_put_cookie(out, n, MPC_CONV_CAP, in,
						m->cookie_off, m->cookie_len);
			break;
		case MPC_CONV_I_ERROR:
			switch (m->err_code) {
			case MPC_CONV_E_MALFORMED:
			case MPC_CONV_E_UNSUPPORTED_MSG:
			case MPC_CONV_E_MISSING_COOKIE:
				t = mpc_conv_put_error_data(
					out, n, MPC_CONV_CAP, m->err_code, in,
					m->err_off, m->err_len);
				break;
			case MPC_CONV_E_NOT_AUTHORIZED:
			case MPC_CONV_E_RESOURCE_EXCEEDED:
			case MPC_CONV_E_NETWORK_FAILURE:
			case MPC_CONV_E_CONNECTION_RESET:
			case MPC_CONV_E_DEST_UNREACHABLE:
				t = mpc_conv_put_error_u8(out, n, MPC_CONV_CAP,
							  m->err_code,
							  m->err_value);
				break;
			default: /* version and kind lists, unknown codes */
				t = mpc_conv_put_error(out, n, MPC_CONV_CAP,
						       m->err_code, in,
						       m->err_off, m->err_len);
				break;
			}
			break;
		}
		if (t < 0)
			return t;
		n += t;
	}
	assert_int_equal(mpc_conv_set_total(out, n), 0);
	return n;
}

/* ---- byte-exact builders ----------------------------------------------- */

static void assert_built(const __u8 *out, int n, const __u8 *want,
			 size_t want_len)
{
	assert_int_equal(n, (int)want_len);
	assert_memory_equal(out, want, want_len);
}

static void test_build_info_figure15(void **state)
{
	__u8 out[MPC_CONV_CAP];
	int n = mpc_conv_put_hdr(out, sizeof(out));

	n += mpc_conv_put_info(out, n, sizeof(out));
	assert_int_equal(mpc_conv_set_total(out, n), 0);
	assert_built(out, n, v_info, sizeof(v_info));
}

static void test_build_connect_base_figure17(void **state)
{
	static const __u8 a6[16] = {ADDR6}, a4[16] = {ADDR4};
	__u8 out[MPC_CONV_CAP];
	int n = mpc_conv_put_hdr(out, sizeof(out));

	n += mpc_conv_put_connect(out, n, sizeof(out), 80, a6, NULL, 0, 0);
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_connect6, sizeof(v_connect6));

	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_connect(out, n, sizeof(out), 443, a4, NULL, 0, 0);
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_connect4, sizeof(v_connect4));
}

static void test_build_connect_extended_figure18(void **state)
{
	static const __u8 a6[16] = {ADDR6}, a4[16] = {ADDR4};
	static const __u8 opts[] = {0x02, 0x04, 0x05, 0xb4,   0x04,
				    0x02, 0x22, 0x0a, COOKIE8};
	static const __u8 opts_pad[] = {0x04, 0x02, 0x08, 0x02, 0x1e, 0x02};
	__u8 out[MPC_CONV_CAP];
	int n = mpc_conv_put_hdr(out, sizeof(out));

	n += mpc_conv_put_connect(out, n, sizeof(out), 80, a6, opts, 0,
				  sizeof(opts));
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_connect_ext, sizeof(v_connect_ext));

	memset(out, 0xaa, sizeof(out)); /* padding must be written as 0 */
	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_connect(out, n, sizeof(out), 80, a4, opts_pad, 0,
				  sizeof(opts_pad));
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_connect_ext_pad, sizeof(v_connect_ext_pad));
}

static void test_build_cookie_connect_figure21(void **state)
{
	static const __u8 a6[16] = {ADDR6}, cookie[] = {COOKIE8};
	__u8 out[MPC_CONV_CAP];
	int n = mpc_conv_put_hdr(out, sizeof(out));

	n += mpc_conv_put_cookie(out, n, sizeof(out), cookie, 0,
				 sizeof(cookie));
	n += mpc_conv_put_connect(out, n, sizeof(out), 80, a6, NULL, 0, 0);
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_cookie_connect, sizeof(v_cookie_connect));
}

static void test_build_xhdr_figure20(void **state)
{
	static const __u8 synack[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01,
				      0x04, 0x02, 0x01, 0x03, 0x03, 0x07};
	static const __u8 odd[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02};
	static const __u8 want_odd[] = {HDR(4), 0x14, 0x03, 0x00, 0x00,
					0x02,	0x04, 0x05, 0xb4, 0x04,
					0x02,	0x00, 0x00};
	__u8 out[MPC_CONV_CAP];
	int n = mpc_conv_put_hdr(out, sizeof(out));

	n += mpc_conv_put_xhdr(out, n, sizeof(out), synack, 0, sizeof(synack));
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_xhdr, sizeof(v_xhdr));

	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_xhdr(out, n, sizeof(out), NULL, 0, 0);
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_xhdr_empty, sizeof(v_xhdr_empty));

	/* options stripped to a length that is not a multiple of 4 */
	memset(out, 0xaa, sizeof(out));
	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_xhdr(out, n, sizeof(out), odd, 0, sizeof(odd));
	mpc_conv_set_total(out, n);
	assert_built(out, n, want_odd, sizeof(want_odd));
}

static void test_build_supported_figure16(void **state)
{
	static const __u8 kinds[] = {4, 8, 30, 34}, mptcp[] = {30};
	const __u64 map[4] = {(1ull << 4) | (1ull << 8) | (1ull << 30) |
				      (1ull << 34),
			      0, 0, 0};
	const __u64 none[4] = {0, 0, 0, 0};
	__u8 out[MPC_CONV_CAP];
	int n = mpc_conv_put_hdr(out, sizeof(out));

	n += mpc_conv_put_supported(out, n, sizeof(out), kinds, 0,
				    sizeof(kinds));
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_supported, sizeof(v_supported));

	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_supported_map(out, n, sizeof(out), map);
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_supported, sizeof(v_supported));

	memset(out, 0xaa, sizeof(out));
	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_supported(out, n, sizeof(out), mptcp, 0, 1);
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_supported_pad, sizeof(v_supported_pad));

	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_supported_map(out, n, sizeof(out), none);
	mpc_conv_set_total(out, n);
	assert_built(out, n, v_supported_none, sizeof(v_supported_none));
}

static void test_build_error_each_code_figure22(void **state)
{
	static const __u8 echo_m[] = {HDR(2), 0x01, 0x01, 0x00, 0x00};
	static const __u8 echo_u[] = {HDR(2), 0x14, 0x01, 0x00, 0x00};
	static const __u8 cookie[] = {COOKIE8};
	const __u64 unsup[4] = {1ull << 29, 0, 0, 1ull << (253 - 192)};
	__u8 out[MPC_CONV_CAP];
	int n;

#define ONE(call, want)                                          \
	do {                                                     \
		memset(out, 0xaa, sizeof(out));                  \
		n = mpc_conv_put_hdr(out, sizeof(out));          \
		n += call;                                       \
		assert_int_equal(mpc_conv_set_total(out, n), 0); \
		assert_built(out, n, want, sizeof(want));        \
	} while (0)
	ONE(mpc_conv_put_error_u8(out, n, sizeof(out),
				  MPC_CONV_E_UNSUPPORTED_VERSION, 1),
	    v_err_version);
	ONE(mpc_conv_put_error_data(out, n, sizeof(out), MPC_CONV_E_MALFORMED,
				    echo_m, 0, sizeof(echo_m)),
	    v_err_malformed);
	ONE(mpc_conv_put_error_data(out, n, sizeof(out),
				    MPC_CONV_E_UNSUPPORTED_MSG, echo_u, 0,
				    sizeof(echo_u)),
	    v_err_unsupported_msg);
	ONE(mpc_conv_put_error_data(out, n, sizeof(out),
				    MPC_CONV_E_MISSING_COOKIE, cookie, 0,
				    sizeof(cookie)),
	    v_err_missing_cookie);
	ONE(mpc_conv_put_error_u8(out, n, sizeof(out),
				  MPC_CONV_E_NOT_AUTHORIZED, 0),
	    v_err_not_authorized);
	ONE(mpc_conv_put_error(out, n, sizeof(out), MPC_CONV_E_NOT_AUTHORIZED,
			       NULL, 0, 0),
	    v_err_not_authorized);
	ONE(mpc_conv_put_error_kinds(out, n, sizeof(out), unsup),
	    v_err_unsupported_opt);
	ONE(mpc_conv_put_error_u8(out, n, sizeof(out),
				  MPC_CONV_E_RESOURCE_EXCEEDED, 0),
	    v_err_resource);
	ONE(mpc_conv_put_error_u8(out, n, sizeof(out),
				  MPC_CONV_E_NETWORK_FAILURE, 30),
	    v_err_network);
	ONE(mpc_conv_put_error_u8(out, n, sizeof(out),
				  MPC_CONV_E_CONNECTION_RESET, 0),
	    v_err_conn_reset);
	ONE(mpc_conv_put_error_u8(out, n, sizeof(out),
				  MPC_CONV_E_DEST_UNREACHABLE, 3),
	    v_err_unreach);
#undef ONE
}

/* ---- parse: decoded fields --------------------------------------------- */

static void test_parse_fields_info(void **state)
{
	struct mpc_conv_msg m;

	assert_int_equal(parse(v_info, sizeof(v_info), C, &m), 0);
	assert_int_equal(m.version, 1);
	assert_int_equal(m.total_words, 2);
	assert_int_equal(m.msg_len, 8);
	assert_int_equal(m.avail, 8);
	assert_int_equal(m.tlvs, MPC_CONV_F_INFO);
	assert_int_equal(m.n_tlvs, 1);
	assert_int_equal(m.tlv_off[MPC_CONV_I_INFO], 4);
	assert_int_equal(m.tlv_words[MPC_CONV_I_INFO], 1);
}

static void test_parse_fields_connect(void **state)
{
	static const __u8 a6[16] = {ADDR6}, a4[16] = {ADDR4};
	struct mpc_conv_msg m;

	assert_int_equal(parse(v_connect6, sizeof(v_connect6), C, &m), 0);
	assert_int_equal(m.port, 80);
	assert_memory_equal(m.addr, a6, 16);
	assert_int_equal(m.opt_n, 0);
	assert_int_equal(m.opt_len, 0);

	assert_int_equal(parse(v_connect4, sizeof(v_connect4), C, &m), 0);
	assert_int_equal(m.port, 443);
	assert_memory_equal(m.addr, a4, 16);
	assert_true(mpc_conv_addr_is_v4mapped(m.addr));

	assert_int_equal(parse(v_connect_ext, sizeof(v_connect_ext), C, &m), 0);
	assert_int_equal(m.tlv_words[MPC_CONV_I_CONNECT], 9);
	assert_int_equal(m.opt_off, 24);
	assert_int_equal(m.opt_len, 16);
	assert_int_equal(m.opt_n, 3);

	assert_int_equal(
		parse(v_connect_ext_pad, sizeof(v_connect_ext_pad), C, &m), 0);
	assert_int_equal(m.opt_off, 24);
	assert_int_equal(m.opt_len, 6); /* padding excluded */
	assert_int_equal(m.opt_n, 3);
}

static void test_parse_fields_cookie_connect(void **state)
{
	static const __u8 cookie[] = {COOKIE8};
	struct mpc_conv_msg m;

	assert_int_equal(
		parse(v_cookie_connect, sizeof(v_cookie_connect), C, &m), 0);
	assert_int_equal(m.tlvs, MPC_CONV_F_COOKIE | MPC_CONV_F_CONNECT);
	assert_int_equal(m.n_tlvs, 2);
	assert_int_equal(m.tlv_off[MPC_CONV_I_COOKIE], 4);
	assert_int_equal(m.tlv_off[MPC_CONV_I_CONNECT], 16);
	assert_int_equal(m.cookie_off, 8);
	assert_int_equal(m.cookie_len, 8);
	assert_memory_equal(v_cookie_connect + m.cookie_off, cookie, 8);
	assert_int_equal(m.port, 80);
}

static void test_parse_fields_converter_tlvs(void **state)
{
	struct mpc_conv_msg m;

	assert_int_equal(parse(v_xhdr, sizeof(v_xhdr), T, &m), 0);
	assert_int_equal(m.answer.action, MPC_CONV_ACT_ACCEPT);
	assert_int_equal(m.xhdr_off, 8);
	assert_int_equal(m.xhdr_len, 12);

	assert_int_equal(parse(v_xhdr_empty, sizeof(v_xhdr_empty), T, &m), 0);
	assert_int_equal(m.xhdr_len, 0);

	assert_int_equal(parse(v_supported, sizeof(v_supported), T, &m), 0);
	assert_int_equal(m.sup_off, 8);
	assert_int_equal(m.sup_n, 4);
	assert_int_equal(parse(v_supported_pad, sizeof(v_supported_pad), T, &m),
			 0);
	assert_int_equal(m.sup_n, 1);
	assert_int_equal(
		parse(v_supported_none, sizeof(v_supported_none), T, &m), 0);
	assert_int_equal(m.sup_n, 0);
}

static void test_parse_fields_error_each_code(void **state)
{
	static const struct {
		const __u8 *b;
		size_t len;
		__u8 code, value;
		__u16 off, n;
	} t[] = {
		{v_err_version, sizeof(v_err_version), 0, 0, 7, 1},
		{v_err_malformed, sizeof(v_err_malformed), 1, 0, 8, 8},
		{v_err_unsupported_msg, sizeof(v_err_unsupported_msg), 2, 0, 8,
		 8},
		{v_err_missing_cookie, sizeof(v_err_missing_cookie), 3, 0, 8,
		 8},
		{v_err_not_authorized, sizeof(v_err_not_authorized), 32, 0, 7,
		 1},
		{v_err_unsupported_opt, sizeof(v_err_unsupported_opt), 33, 0, 7,
		 2},
		{v_err_resource, sizeof(v_err_resource), 64, 0, 7, 1},
		{v_err_network, sizeof(v_err_network), 65, 30, 7, 1},
		{v_err_conn_reset, sizeof(v_err_conn_reset), 96, 0, 7, 1},
		{v_err_unreach, sizeof(v_err_unreach), 97, 3, 7, 1},
	};
	struct mpc_conv_msg m;
	size_t k;

	for (k = 0; k < MPC_ARRAY_SIZE(t); k++) {
		assert_int_equal(parse(t[k].b, t[k].len, T, &m), 0);
		assert_int_equal(m.err_code, t[k].code);
		assert_int_equal(m.err_value, t[k].value);
		assert_int_equal(m.err_off, t[k].off);
		assert_int_equal(m.err_len, t[k].n);
	}
	/* the lists themselves */
	assert_int_equal(parse(v_err_unsupported_opt,
			       sizeof(v_err_unsupported_opt), T, &m),
			 0);
	assert_int_equal(v_err_unsupported_opt[m.err_off], 29);
	assert_int_equal(v_err_unsupported_opt[m.err_off + 1], 253);
}

/* ---- round trips, prefixes, trailing data ------------------------------ */

static void test_roundtrip_every_valid_message(void **state)
{
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg m;
	size_t k;

	for (k = 0; k < MPC_ARRAY_SIZE(valid); k++) {
		const struct vec *v = &valid[k];
		int n;

		assert_int_equal(parse(v->b, v->len, v->from, &m), 0);
		assert_int_equal(m.tlvs, v->tlvs);
		assert_int_equal(m.msg_len, v->len);
		/* 6.2.8: a client resets on every Error TLV */
		assert_int_equal(m.answer.action,
				 (v->tlvs & MPC_CONV_F_ERROR)
					 ? MPC_CONV_ACT_RESET
					 : MPC_CONV_ACT_ACCEPT);
		memset(out, 0xaa, sizeof(out));
		n = rebuild(v->b, &m, out);
		if (n != (int)v->len)
			fail_msg("%s: rebuilt %d bytes", v->name, n);
		assert_memory_equal(out, v->b, v->len);
	}
}

static void test_every_prefix_is_incomplete(void **state)
{
	struct mpc_conv_msg m;
	size_t k, p;

	for (k = 0; k < MPC_ARRAY_SIZE(valid); k++) {
		const struct vec *v = &valid[k];

		for (p = 0; p < v->len; p++) {
			int rc = parse(v->b, p, v->from, &m);

			assert_int_equal(rc, -MPC_E_TRUNC);
			if (p == 0 && v->from == C) {
				/* 6: a SYN without payload has no Convert
				 * TLVs: ignore it */
				assert_int_equal(m.answer.action,
						 MPC_CONV_ACT_IGNORE);
				continue;
			}
			if (m.answer.action != MPC_CONV_ACT_INCOMPLETE)
				fail_msg("%s: prefix %zu: action %u", v->name,
					 p, m.answer.action);
			assert_int_equal(m.need, p < 4 ? 4 : v->len);
			assert_int_equal(m.avail, p);
		}
	}
}

static void test_user_data_after_message_is_not_parsed(void **state)
{
	static const char data[] = "GET / HTTP/1.1\r\n\0\0\0\0";
	__u8 buf[2048];
	struct mpc_conv_msg m;
	size_t k;

	for (k = 0; k < MPC_ARRAY_SIZE(valid); k++) {
		const struct vec *v = &valid[k];

		memcpy(buf, v->b, v->len);
		memcpy(buf + v->len, data, sizeof(data));
		assert_int_equal(parse(buf, v->len + sizeof(data), v->from, &m),
				 0);
		assert_int_equal(m.msg_len, v->len);
		assert_int_equal(m.avail, v->len);
	}
	/* a 1020-byte message followed by more than 1024 bytes of data */
	memset(buf, 0xee, sizeof(buf));
	buf[0] = 1;
	buf[1] = 255;
	buf[2] = 0x22;
	buf[3] = 0x63;
	buf[4] = MPC_CONV_TLV_COOKIE;
	buf[5] = 254;
	buf[6] = buf[7] = 0;
	assert_int_equal(parse(buf, sizeof(buf), C, &m), 0);
	assert_int_equal(m.msg_len, 1020);
	assert_int_equal(m.cookie_len, 1012);
}

static void test_parse_never_reads_past_len(void **state)
{
	/* the heap copy in parse() is exact; ASan builds catch over-reads. A
	 * message claiming more than it has is incomplete, not read on. */
	static const __u8 b[] = {HDR(255), 0x16, 0xfe, 0x00, 0x00, 0x01};
	struct mpc_conv_msg m;

	assert_int_equal(parse(b, sizeof(b), C, &m), -MPC_E_TRUNC);
	assert_int_equal(m.answer.action, MPC_CONV_ACT_INCOMPLETE);
	assert_int_equal(m.need, 1020);
}

/* ---- the rules of section 6, one test each ------------------------------ */

/* 6: "the Transport Converter SHOULD silently ignore SYNs with no Convert
 * TLVs" -- an empty payload */
static void test_rule_syn_without_payload_is_ignored(void **state)
{
	expect(v_info, 0, C, -MPC_E_TRUNC, MPC_CONV_ACT_IGNORE, 0);
	/* a client waits for the converter's header */
	expect(v_info, 0, T, -MPC_E_TRUNC, MPC_CONV_ACT_INCOMPLETE, 0);
}

/* 6.1 Magic "MUST be set to 0x2263 ... distinguish any data supplied by an
 * application from Convert TLVs" */
static void test_rule_wrong_magic_is_not_convert(void **state)
{
	static const __u8 http[] = "GET / HTTP/1.1\r\n";
	static const __u8 bad[] = {HDR(2), 0x01, 0x01, 0x00, 0x00};
	__u8 b[sizeof(bad)];

	expect(http, sizeof(http) - 1, C, -MPC_E_FIELD, MPC_CONV_ACT_IGNORE, 0);
	memcpy(b, bad, sizeof(b));
	b[3] = 0x64;
	expect(b, sizeof(b), C, -MPC_E_FIELD, MPC_CONV_ACT_IGNORE, 0);
	/* D2: a client cannot continue after a converter's non-Convert data */
	expect(b, sizeof(b), T, -MPC_E_FIELD, MPC_CONV_ACT_RESET, 0);
	/* decided on the bytes present: 3 bytes with a wrong first magic byte */
	b[2] = 0x21;
	expect(b, 3, C, -MPC_E_FIELD, MPC_CONV_ACT_IGNORE, 0);
	expect(b, 2, C, -MPC_E_TRUNC, MPC_CONV_ACT_INCOMPLETE, 0);
}

/* 6.1 "Version 0 is reserved ... MUST NOT be used"; 6.2.8 Unsupported
 * Version with "the version supported by the peer" */
static void test_rule_version_0_is_unsupported_version(void **state)
{
	static const __u8 b[] = {0x00, 0x02, 0x22, 0x63, 0x01, 0x01, 0, 0};
	static const __u8 want[] = {HDR(2), 0x1e, 0x01, 0x00, 0x01};
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg m;

	EXPECT_ERR(b, -MPC_E_VERSION, MPC_CONV_E_UNSUPPORTED_VERSION);
	EXPECT_RESET(b, -MPC_E_VERSION);
	parse(b, sizeof(b), C, &m);
	assert_built(out, mpc_conv_build_answer(out, sizeof(out), &m, b), want,
		     sizeof(want));
}

static void test_rule_version_2_is_unsupported_version(void **state)
{
	static const __u8 b[] = {0x02, 0x02, 0x22, 0x63, 0x01, 0x01, 0, 0};

	EXPECT_ERR(b, -MPC_E_VERSION, MPC_CONV_E_UNSUPPORTED_VERSION);
	EXPECT_RESET(b, -MPC_E_VERSION);
}

/* 6.1 "A Total Length of zero is invalid and the connection MUST be reset"
 * (by either side: no Error TLV) */
static void test_rule_total_length_zero_resets(void **state)
{
	static const __u8 b[] = {0x01, 0x00, 0x22, 0x63, 0x01, 0x01, 0, 0};

	expect(b, sizeof(b), C, -MPC_E_LEN, MPC_CONV_ACT_RESET, 0);
	expect(b, sizeof(b), T, -MPC_E_LEN, MPC_CONV_ACT_RESET, 0);
}

/* 6.2.2 "If a Client receives a TLV of type 0x0, it MUST reset ... If a
 * Converter receives a TLV of type 0x0, it MUST return an Unsupported
 * Message Error TLV" */
static void test_rule_type_0_is_unsupported_message(void **state)
{
	static const __u8 b[] = {HDR(2), 0x00, 0x01, 0x00, 0x00};
	static const __u8 want[] = {HDR(4), 0x1e, 0x03, 0x02, 0x00,
				    HDR(2), 0x00, 0x01, 0x00, 0x00};
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg m;

	EXPECT_ERR(b, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
	EXPECT_RESET(b, -MPC_E_UNKNOWN);
	/* Figure 23: the answer echoes the message */
	parse(b, sizeof(b), C, &m);
	assert_int_equal(m.answer.where, 4);
	assert_built(out, mpc_conv_build_answer(out, sizeof(out), &m, b), want,
		     sizeof(want));
}

/* 6.2.8 Unsupported Message: "a message type received from a Client is not
 * supported" (unassigned, Specification Required, Private Use types) */
static void test_rule_unknown_type_is_unsupported_message(void **state)
{
	__u8 b[] = {HDR(2), 0x02, 0x01, 0x00, 0x00};
	static const __u8 types[] = {2, 9, 11, 23, 31, 127, 128, 192, 255};
	size_t k;

	for (k = 0; k < sizeof(types); k++) {
		b[4] = types[k];
		EXPECT_ERR(b, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
		EXPECT_RESET(b, -MPC_E_UNKNOWN);
	}
}

/* D1: Error, Extended TCP Header, Supported TCP Extensions come from a
 * converter only (6.2.4, 6.2.6, 6.2.8) */
static void test_rule_client_must_not_send_converter_tlvs(void **state)
{
	static const __u8 e[] = {HDR(2), 0x1e, 0x01, 0x20, 0x00};
	static const __u8 x[] = {HDR(2), 0x14, 0x01, 0x00, 0x00};
	static const __u8 s[] = {HDR(3), 0x15, 0x02, 0x00, 0x00, 30, 0, 0, 0};

	EXPECT_ERR(e, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
	EXPECT_ERR(x, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
	EXPECT_ERR(s, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
}

/* D1: Info (6.2.3 "sent by a Client") and Cookie (6.2.7, a client's) from a
 * converter make the client reset */
static void test_rule_converter_must_not_send_client_tlvs(void **state)
{
	EXPECT_RESET(v_info, -MPC_E_UNKNOWN);
	EXPECT_RESET(v_info_cookie, -MPC_E_UNKNOWN);
	EXPECT_RESET(v_cookie_connect, -MPC_E_UNKNOWN);
}

/* 6.2.1 "If a Client receives two or more instances of the same TLV ..., it
 * MUST reset ... If a Converter receives two or more instances ..., it MUST
 * return a Malformed Message Error TLV" */
static void test_rule_duplicate_tlv_is_malformed(void **state)
{
	static const __u8 c[] = {HDR(3), 0x01, 0x01, 0, 0, 0x01, 0x01, 0, 0};
	static const __u8 t[] = {HDR(3), 0x14, 0x01, 0, 0, 0x14, 0x01, 0, 0};
	static const __u8 want[] = {HDR(5), 0x1e, 0x04, 0x01, 0x00,
				    HDR(3), 0x01, 0x01, 0x00, 0x00,
				    0x01,   0x01, 0x00, 0x00};
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg m;

	EXPECT_ERR(c, -MPC_E_DUP, MPC_CONV_E_MALFORMED);
	EXPECT_RESET(t, -MPC_E_DUP);
	parse(c, sizeof(c), C, &m);
	assert_int_equal(m.answer.where, 8);
	assert_built(out, mpc_conv_build_answer(out, sizeof(out), &m, c), want,
		     sizeof(want));
}

/* 6.2.1 "A given TLV MUST only appear once on a connection" (D11) */
static void test_rule_duplicate_tlv_across_messages(void **state)
{
	struct mpc_conv_msg m;
	__u8 seen = 0;

	assert_int_equal(parse(v_info, sizeof(v_info), C, &m), 0);
	assert_int_equal(mpc_conv_note_seen(&seen, &m, C), 0);
	assert_int_equal(parse(v_connect6, sizeof(v_connect6), C, &m), 0);
	assert_int_equal(mpc_conv_note_seen(&seen, &m, C), 0);
	assert_int_equal(parse(v_info_cookie, sizeof(v_info_cookie), C, &m), 0);
	assert_int_equal(mpc_conv_note_seen(&seen, &m, C), -MPC_E_DUP);
	assert_int_equal(m.answer.action, MPC_CONV_ACT_ERROR);
	assert_int_equal(m.answer.code, MPC_CONV_E_MALFORMED);
	assert_int_equal(m.answer.where, 4);

	seen = 0;
	assert_int_equal(parse(v_xhdr, sizeof(v_xhdr), T, &m), 0);
	assert_int_equal(mpc_conv_note_seen(&seen, &m, T), 0);
	assert_int_equal(mpc_conv_note_seen(&seen, &m, T), -MPC_E_DUP);
	assert_int_equal(m.answer.action, MPC_CONV_ACT_RESET);
}

/* 6.2.1 Length "covers Type, Length, and Value": 0 is invalid */
static void test_rule_tlv_length_zero_is_malformed(void **state)
{
	static const __u8 c[] = {HDR(2), 0x01, 0x00, 0x00, 0x00};
	static const __u8 t[] = {HDR(2), 0x14, 0x00, 0x00, 0x00};

	EXPECT_ERR(c, -MPC_E_LEN, MPC_CONV_E_MALFORMED);
	EXPECT_RESET(t, -MPC_E_LEN);
}

/* 9 "MUST check that the Convert TLVs are properly framed within the
 * boundary indicated by the Total Length" */
static void test_rule_tlv_past_total_length_is_malformed(void **state)
{
	/* Connect of 5 words in a message of 5 words (header included) */
	static const __u8 c[] = {HDR(5), 0x0a, 0x05, 0x00, 0x50, ADDR6};
	static const __u8 t[] = {HDR(2), 0x14, 0x02, 0, 0, 0x02, 0x04, 5, 0xb4};
	struct mpc_conv_msg m;

	EXPECT_ERR(c, -MPC_E_LEN, MPC_CONV_E_MALFORMED);
	EXPECT_RESET(t, -MPC_E_LEN);
	/* found from the Length byte alone, before the rest arrives */
	expect(c, 6, C, -MPC_E_LEN, MPC_CONV_ACT_ERROR, MPC_CONV_E_MALFORMED);
	parse(c, 6, C, &m);
	assert_int_equal(m.answer.where, 5);
}

/* 9 / 6.1 "The Total Length field unambiguously marks the number of 32-bit
 * words that carry Convert TLVs": TLVs must fill it exactly. Lengths are
 * whole words, so a shortfall leaves a word that is read as a TLV. */
static void test_rule_tlvs_must_fill_total_length(void **state)
{
	/* one word too many in the total: zero padding -> TLV type 0 */
	static const __u8 zero[] = {HDR(3), 0x01, 0x01, 0, 0, 0, 0, 0, 0};
	/* user data counted in the total: "GET " is TLV type 'G' */
	static const __u8 data[] = {HDR(3), 0x01, 0x01, 0,  0,
				    'G',    'E',  'T',	' '};
	/* one word too few: the TLV passes the total */
	static const __u8 shrt[] = {HDR(1), 0x01, 0x01, 0, 0};
	struct mpc_conv_msg m;

	EXPECT_ERR(zero, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
	EXPECT_ERR(data, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
	/* the total says 1 word: the Info TLV is user data (D3) */
	assert_int_equal(parse(shrt, sizeof(shrt), C, &m), 0);
	assert_int_equal(m.tlvs, 0);
	assert_int_equal(m.msg_len, 4);
	/* and with a TLV that starts inside but ends outside */
	{
		static const __u8 b[] = {HDR(3), 0x01, 0x01, 0, 0, 0x16, 0x02,
					 0,	 0,    1,    2, 3, 4};
		EXPECT_ERR(b, -MPC_E_LEN, MPC_CONV_E_MALFORMED);
	}
}

/* D3: a header without TLVs is a valid message from either side */
static void test_rule_header_only_message_is_valid(void **state)
{
	struct mpc_conv_msg m;

	EXPECT_OK(v_hdr_only, C);
	EXPECT_OK(v_hdr_only, T);
	parse(v_hdr_only, sizeof(v_hdr_only), C, &m);
	assert_int_equal(m.tlvs, 0);
	assert_int_equal(m.msg_len, 4);
}

/* Table 1 / Figure 15: the Info TLV is one word, its second half "Zero" */
static void test_rule_info_length_and_zero_field(void **state)
{
	static const __u8 len2[] = {HDR(3), 0x01, 0x02, 0, 0, 0, 0, 0, 0};
	static const __u8 nz[] = {HDR(2), 0x01, 0x01, 0x00, 0x01};
	struct mpc_conv_msg m;

	EXPECT_ERR(len2, -MPC_E_LEN, MPC_CONV_E_MALFORMED);
	EXPECT_ERR(nz, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	parse(nz, sizeof(nz), C, &m);
	assert_int_equal(m.answer.where, 6);
}

/* 6.2.5: "the Base Connect TLV has a length set to 5": less is malformed */
static void test_rule_connect_shorter_than_base_is_malformed(void **state)
{
	static const __u8 b[] = {HDR(5), 0x0a, 0x04, 0x00, 0x50, 0x20,
				 0x01,	 0x0d, 0xb8, 0,	   0,	 0,
				 0,	 0,    0,    0,	   0};

	EXPECT_ERR(b, -MPC_E_LEN, MPC_CONV_E_MALFORMED);
}

/* 6.2.5 "IPv4 addresses MUST be encoded using the IPv4-mapped IPv6 address
 * format" (D6: the IPv4-compatible ::a.b.c.d form is refused) */
static void test_rule_connect_ipv4_must_be_v4mapped(void **state)
{
	static const __u8 b[] = {HDR(6), 0x0a, 0x05, 0x00, 0x50, 0, 0,
				 0,	 0,    0,    0,	   0,	 0, 0,
				 0,	 0,    0,    192,  0,	 2, 1};

	EXPECT_ERR(b, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_RESET(b, -MPC_E_FIELD);
}

static void connect_to(__u8 *b, const __u8 *addr)
{
	static const __u8 base[] = {HDR(6), 0x0a, 0x05, 0x00, 0x50};

	memcpy(b, base, sizeof(base));
	memcpy(b + sizeof(base), addr, 16);
}

/* 6.2.5 "MUST NOT include multicast, broadcast, or host loopback addresses
 * ... it MUST reply with a Malformed Message Error TLV"; D6 */
static void
test_rule_connect_address_not_multicast_broadcast_loopback(void **state)
{
	static const __u8 bad[][16] = {
		{ADDR4M(224, 0, 0, 1)},	      /* multicast */
		{ADDR4M(239, 255, 255, 250)}, /* multicast */
		{ADDR4M(255, 255, 255, 255)}, /* limited broadcast */
		{ADDR4M(127, 0, 0, 1)},	      /* loopback */
		{ADDR4M(127, 1, 2, 3)},	      /* loopback /8 */
		{ADDR4M(0, 0, 0, 0)},	      /* D6: unspecified */
		{ADDR4M(0, 1, 2, 3)},	      /* D6: "this network" */
		{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		{0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, /* ::1 */
		{0},						  /* D6: :: */
	};
	static const __u8 good[][16] = {
		{ADDR4},
		{ADDR6},
		{ADDR4M(10, 0, 0, 255)}, /* directed broadcast? not known */
		{ADDR4M(223, 255, 255, 255)},
		{ADDR4M(240, 0, 0, 1)}, /* reserved, not in the RFC's list */
		{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1},
	};
	__u8 b[24];
	size_t k;

	for (k = 0; k < MPC_ARRAY_SIZE(bad); k++) {
		assert_false(mpc_conv_peer_ok(bad[k]));
		connect_to(b, bad[k]);
		EXPECT_ERR(b, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
		EXPECT_RESET(b, -MPC_E_FIELD);
	}
	for (k = 0; k < MPC_ARRAY_SIZE(good); k++) {
		assert_true(mpc_conv_peer_ok(good[k]));
		connect_to(b, good[k]);
		EXPECT_OK(b, C);
	}
}

/* D6: port 0 cannot be connected to */
static void test_rule_connect_port_zero_is_malformed(void **state)
{
	static const __u8 b[] = {HDR(6), 0x0a, 0x05, 0x00, 0x00, ADDR6};

	EXPECT_ERR(b, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
}

#define XCONNECT(w) HDR((w) + 1), 0x0a, (w), 0x00, 0x50, ADDR6

/* 6.2.5 "option types 0 (EOL) and 1 (NOP) ... MUST NOT be placed inside the
 * TCP options field of the Connect TLV" */
static void test_rule_connect_options_no_eol_no_nop(void **state)
{
	static const __u8 nop[] = {XCONNECT(6), 0x01, 0x04, 0x02, 0x00};
	static const __u8 nop2[] = {XCONNECT(6), 0x04, 0x02, 0x01, 0x00};
	/* a whole zero word is a kind-0 option, not padding (D5) */
	static const __u8 eol[] = {XCONNECT(6), 0x00, 0x00, 0x00, 0x00};
	static const __u8 eol2[] = {XCONNECT(7), 0x04, 0x02, 0x08, 0x02,
				    0x00,	 0x00, 0x00, 0x00};

	EXPECT_ERR(nop, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_ERR(nop2, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_ERR(eol, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_ERR(eol2, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_RESET(nop, -MPC_E_FIELD);
}

/* 6.2.5 "The minimum value for the TCP option Length is 2", and Figure 19:
 * each option lies inside the field */
static void test_rule_connect_option_length_at_least_2(void **state)
{
	static const __u8 l1[] = {XCONNECT(6), 0x04, 0x01, 0x00, 0x00};
	static const __u8 l0[] = {XCONNECT(6), 0x1e, 0x00, 0x00, 0x00};
	static const __u8 past[] = {XCONNECT(6), 0x04, 0x02, 0x22, 0x04};

	EXPECT_ERR(l1, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_ERR(l0, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_ERR(past, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	/* a kind byte alone at the end of the field */
	{
		static const __u8 b[] = {XCONNECT(6), 0x04, 0x02, 0x08, 0x1e};
		struct mpc_conv_msg m;

		EXPECT_ERR(b, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
		parse(b, sizeof(b), C, &m);
		assert_int_equal(m.answer.where, 27);
	}
}

/* 6.2.5 "The TCP options field always ends on a 32-bit boundary after being
 * padded with zeros" (D5: 1..3 zero bytes) */
static void test_rule_connect_options_zero_padding(void **state)
{
	static const __u8 nz[] = {XCONNECT(6), 0x04, 0x02, 0x00, 0x01};
	static const __u8 ok[] = {XCONNECT(6), 0x04, 0x02, 0x00, 0x00};
	static const __u8 ok3[] = {XCONNECT(7), 0x22, 0x06, 1,	 2,
				   3,		4,    0x00, 0x00};
	struct mpc_conv_msg m;

	EXPECT_ERR(nz, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	parse(nz, sizeof(nz), C, &m);
	assert_int_equal(m.answer.where, 27);
	EXPECT_OK(ok, C);
	EXPECT_OK(ok3, C);
}

/* 6.2.4 "TCP option Kinds 1 and 2 ... MUST NOT appear in this list";
 * D10: nor 3 (7.2), 5 (7.3), 29 (7.7) */
static void test_rule_supported_extensions_not_kinds_1_2(void **state)
{
	__u8 b[] = {HDR(3), 0x15, 0x02, 0x00, 0x00, 0x1e, 0x01, 0x00, 0x00};
	static const __u8 bad[] = {1, 2, 3, 5, 29};
	size_t k;

	for (k = 0; k < sizeof(bad); k++) {
		b[9] = bad[k];
		EXPECT_RESET(b, -MPC_E_FIELD);
	}
	b[9] = 0x22;
	EXPECT_OK(b, T);
}

/* 6.2.4 "The list ... is padded with 0 to end on a 32-bit boundary" (D5) */
static void test_rule_supported_extensions_zero_padding(void **state)
{
	static const __u8 gap[] = {HDR(3), 0x15, 0x02, 0, 0, 0x1e, 0, 0x22, 0};
	static const __u8 word[] = {HDR(4), 0x15, 0x03, 0, 0, 0x1e, 0,
				    0,	    0,	  0,	0, 0, 0};
	static const __u8 lead[] = {HDR(3), 0x15, 0x02, 0, 0, 0, 0, 0, 0};

	EXPECT_RESET(gap, -MPC_E_FIELD);
	EXPECT_RESET(word, -MPC_E_FIELD);
	EXPECT_RESET(lead, -MPC_E_FIELD);
}

/* 6.2.4, 6.2.6 "Unassigned ... ignored by the Client/receiver" (D8) */
static void test_rule_unassigned_fields_are_ignored(void **state)
{
	__u8 s[sizeof(v_supported)], x[sizeof(v_xhdr)];

	memcpy(s, v_supported, sizeof(s));
	memcpy(x, v_xhdr, sizeof(x));
	s[6] = 0xab;
	s[7] = 0xcd;
	x[6] = 0xff;
	EXPECT_OK(s, T);
	EXPECT_OK(x, T);
}

/* D9: the Extended TCP Header is a copy of SYN+ACK options, <= 40 bytes */
static void test_rule_xhdr_at_most_40_bytes_of_options(void **state)
{
	__u8 b[4 + 4 + 44];

	memset(b, 0, sizeof(b));
	b[0] = 1;
	b[1] = 13;
	b[2] = 0x22;
	b[3] = 0x63;
	b[4] = 0x14;
	b[5] = 12;
	EXPECT_RESET(b, -MPC_E_LEN);
	/* 40 bytes of options is the most a SYN+ACK has */
	b[1] = 12;
	b[5] = 11;
	expect(b, 48, T, 0, MPC_CONV_ACT_ACCEPT, 0);
}

/* Figure 21: "Zero" before the Opaque Cookie (D8), and a cookie (D9) */
static void test_rule_cookie_zero_field_and_not_empty(void **state)
{
	static const __u8 nz[] = {HDR(3), 0x16, 0x02, 0x00, 0x01, 1, 2, 3, 4};
	static const __u8 empty[] = {HDR(2), 0x16, 0x01, 0x00, 0x00};

	EXPECT_ERR(nz, -MPC_E_FIELD, MPC_CONV_E_MALFORMED);
	EXPECT_ERR(empty, -MPC_E_LEN, MPC_CONV_E_MALFORMED);
}

/* 6.2.8 "Upon reception of an Error TLV, a Client MUST reset the
 * associated connection": valid message, answer reset */
static void test_rule_error_tlv_makes_client_reset(void **state)
{
	static const __u8 unknown_code[] = {HDR(3), 0x1e, 0x02, 0x80, 0x01,
					    0x02,   0x03, 0x04, 0x05};
	struct mpc_conv_msg m;

	expect(v_err_not_authorized, sizeof(v_err_not_authorized), T, 0,
	       MPC_CONV_ACT_RESET, 0);
	/* D9: codes this parser does not know are valid too */
	expect(unknown_code, sizeof(unknown_code), T, 0, MPC_CONV_ACT_RESET, 0);
	parse(unknown_code, sizeof(unknown_code), T, &m);
	assert_int_equal(m.err_code, 0x80);
	assert_int_equal(m.err_off, 7);
	assert_int_equal(m.err_len, 5);
}

/* 6.2.8 Unsupported Version: "Value field MUST be set to the version
 * supported ... list ... padded with zeros" */
static void test_rule_error_unsupported_version_shape(void **state)
{
	static const __u8 empty[] = {HDR(2), 0x1e, 0x01, 0x00, 0x00};
	static const __u8 gap[] = {HDR(3), 0x1e, 0x02, 0x00, 0x01, 0, 2, 0, 0};
	static const __u8 two[] = {HDR(3), 0x1e, 0x02, 0x00, 0x01, 2, 0, 0, 0};
	static const __u8 pad[] = {HDR(3), 0x1e, 0x02, 0x00, 0x01, 0, 0, 0, 0};

	EXPECT_RESET(empty, -MPC_E_FIELD);
	EXPECT_RESET(gap, -MPC_E_FIELD);
	EXPECT_RESET(pad, -MPC_E_FIELD); /* D5: 4 bytes of padding */
	expect(two, sizeof(two), T, 0, MPC_CONV_ACT_RESET, 0);
}

/* 6.2.8 Malformed / Unsupported Message: Figure 23 "Zeros", then the echo */
static void test_rule_error_echo_shape(void **state)
{
	static const __u8 nz[] = {HDR(3), 0x1e, 0x02, 0x01, 0x01, HDR(1)};
	static const __u8 none[] = {HDR(2), 0x1e, 0x01, 0x02, 0x00};

	EXPECT_RESET(nz, -MPC_E_FIELD);
	EXPECT_RESET(none, -MPC_E_LEN);
}

/* 6.2.8 Missing Cookie: "The first byte of the Value field MUST be set to
 * zero and the remaining bytes ... contain the Cookie" */
static void test_rule_error_missing_cookie_shape(void **state)
{
	static const __u8 nz[] = {HDR(3), 0x1e, 0x02, 0x03, 0x01, 1, 2, 3, 4};
	static const __u8 none[] = {HDR(2), 0x1e, 0x01, 0x03, 0x00};

	EXPECT_RESET(nz, -MPC_E_FIELD);
	EXPECT_RESET(none, -MPC_E_LEN);
}

/* 6.2.8 Not Authorized, Connection Reset: "The Value field MUST be set to
 * zero"; D9: the one-byte-value codes are one word */
static void test_rule_error_one_byte_value_shape(void **state)
{
	__u8 nz[] = {HDR(2), 0x1e, 0x01, 0x20, 0x01};
	__u8 two[] = {HDR(3), 0x1e, 0x02, 0x40, 0x00, 0, 0, 0, 0};
	static const __u8 codes[] = {32, 64, 65, 96, 97};
	size_t k;

	EXPECT_RESET(nz, -MPC_E_FIELD);
	nz[6] = MPC_CONV_E_CONNECTION_RESET;
	EXPECT_RESET(nz, -MPC_E_FIELD);
	for (k = 0; k < sizeof(codes); k++) {
		two[6] = codes[k];
		EXPECT_RESET(two, -MPC_E_LEN);
	}
}

/* 6.2.8 Unsupported TCP Option: a list of kinds, padded with zeros (D10: no
 * kind 0 or 1) */
static void test_rule_error_unsupported_option_shape(void **state)
{
	static const __u8 empty[] = {HDR(2), 0x1e, 0x01, 0x21, 0x00};
	static const __u8 nop[] = {HDR(2), 0x1e, 0x01, 0x21, 0x01};
	static const __u8 gap[] = {HDR(3), 0x1e, 0x02, 0x21, 29, 0, 30, 0, 0};

	EXPECT_RESET(empty, -MPC_E_FIELD);
	EXPECT_RESET(nop, -MPC_E_FIELD);
	EXPECT_RESET(gap, -MPC_E_FIELD);
}

/* D4: an error shows as soon as its bytes are present */
static void test_rule_error_found_before_message_is_complete(void **state)
{
	static const __u8 b[] = {HDR(20), 0x01, 0x01, 0x00, 0x00, 0x00};

	expect(b, sizeof(b), C, -MPC_E_UNKNOWN, MPC_CONV_ACT_ERROR,
	       MPC_CONV_E_UNSUPPORTED_MSG);
	/* a complete TLV's contents are checked while later ones are missing */
	{
		static const __u8 c[] = {HDR(20), 0x01, 0x01, 0x00, 0x01, 0x0a};
		expect(c, sizeof(c), C, -MPC_E_FIELD, MPC_CONV_ACT_ERROR,
		       MPC_CONV_E_MALFORMED);
	}
}

/* D4 / section 9: the framing of the whole message is checked before the
 * TLV contents */
static void test_rule_framing_checked_before_contents(void **state)
{
	/* Connect to ::1 (content: Malformed), then a TLV of type 0 */
	static const __u8 b[] = {HDR(7), 0x0a, 0x05, 0x00, 0x50, 0, 0, 0, 0,
				 0,	 0,    0,    0,	   0,	 0, 0, 0, 0,
				 0,	 0,    1,    0,	   1,	 0, 0};

	EXPECT_ERR(b, -MPC_E_UNKNOWN, MPC_CONV_E_UNSUPPORTED_MSG);
}

static void test_rule_bad_role_is_refused(void **state)
{
	struct mpc_conv_msg m;

	assert_int_equal(mpc_conv_parse(v_info, sizeof(v_info),
					(enum mpc_conv_role)2, &m),
			 -MPC_E_FIELD);
	assert_int_equal(m.answer.action, MPC_CONV_ACT_RESET);
}

/* ---- Extended Connect options vs what the converter supports ----------- */

/* 6.2.5 "first checks whether or not it supports the TCP Options listed"; 7 */
static void test_check_opts_unsupported_kinds(void **state)
{
	const __u64 sup[4] = {(1ull << 4) | (1ull << 8) | (1ull << 29) |
				      (1ull << 30) | (1ull << 34),
			      0, 0, 0};
	/* MSS, WS, SACK (ignored, 7.1-7.3), SACK-permitted, TS without
	 * value, MPTCP without content, TFO 8-byte cookie: all fine.
	 * 33 bytes + 3 of padding: a 14-word TLV */
	static const __u8 ok[] = {
		XCONNECT(14),
		2,
		4,
		5,
		0xb4, /* MSS */
		3,
		3,
		7, /* WS */
		5,
		10,
		1,
		2,
		3,
		4,
		5,
		6,
		7,
		8, /* SACK */
		4,
		2, /* SACK-permitted */
		8,
		2, /* TS */
		30,
		2, /* MPTCP */
		34,
		10,
		COOKIE8, /* TFO */
		0,
		0,
		0,
	};
	/* TCP-AO (7.7, even when "supported"), TS with values (7.4), MPTCP
	 * with content (7.5), TFO with a 3-byte cookie (7.6), unknown 253
	 * twice, listed once. 28 bytes: a 12-word TLV */
	static const __u8 bad[] = {
		XCONNECT(12),
		29,
		4,
		1,
		2, /* TCP-AO */
		8,
		10,
		1,
		2,
		3,
		4,
		5,
		6,
		7,
		8, /* TS with values */
		30,
		3,
		0, /* MPTCP MP_CAPABLE */
		34,
		5,
		1,
		2,
		3, /* TFO, odd cookie */
		253,
		2, /* unknown */
		253,
		4,
		9,
		9, /* unknown again */
	};
	const __u64 want[4] = {(1ull << 8) | (1ull << 29) | (1ull << 30) |
				       (1ull << 34),
			       0, 0, 1ull << (253 - 192)};
	static const __u8 want_err[] = {HDR(3), 0x1e, 0x02, 0x21, 8,
					29,	30,   34,   253};
	__u64 unsup[4];
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg m;
	int n;

	assert_int_equal(parse(ok, sizeof(ok), C, &m), 0);
	assert_int_equal(m.opt_n, 7);
	assert_int_equal(m.opt_len, 33);
	assert_int_equal(mpc_conv_check_opts(ok, &m, sup, unsup), 0);
	assert_int_equal(unsup[0] | unsup[1] | unsup[2] | unsup[3], 0);

	assert_int_equal(parse(bad, sizeof(bad), C, &m), 0);
	assert_int_equal(mpc_conv_check_opts(bad, &m, sup, unsup), 5);
	assert_memory_equal(unsup, want, sizeof(want));
	n = mpc_conv_put_hdr(out, sizeof(out));
	n += mpc_conv_put_error_kinds(out, n, sizeof(out), unsup);
	mpc_conv_set_total(out, n);
	assert_built(out, n, want_err, sizeof(want_err));
	/* and the client reads it back */
	assert_int_equal(parse(out, n, T, &m), 0);
	assert_int_equal(m.err_code, MPC_CONV_E_UNSUPPORTED_OPT);
	assert_int_equal(m.err_len, 5);

	/* Base Connect: nothing to check */
	assert_int_equal(parse(v_connect6, sizeof(v_connect6), C, &m), 0);
	assert_int_equal(mpc_conv_check_opts(v_connect6, &m, sup, unsup), 0);
}

/* ---- builders: limits --------------------------------------------------- */

static void test_builders_reject_small_buffers(void **state)
{
	static const __u8 a6[16] = {ADDR6}, cookie[] = {COOKIE8};
	static const __u8 opts[] = {0x04, 0x02, 0x08, 0x02, 0x1e, 0x02};
	static const __u8 kinds[] = {4, 8, 30};
	const __u64 map[4] = {1ull << 30, 0, 0, 0};
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg m;
	size_t k;

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(mpc_conv_put_hdr(out, 3), -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_info(out, 4, 7), -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_connect(out, 4, 23, 80, a6, NULL, 0, 0),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_connect(out, 4, 31, 80, a6, opts, 0,
					      sizeof(opts)),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_xhdr(out, 4, 11, opts, 0, 4),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_supported(out, 4, 11, kinds, 0, 3),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_supported_map(out, 4, 11, map),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_cookie(out, 4, 15, cookie, 0, 8),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_error(out, 4, 7, 0x80, NULL, 0, 0),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_error_u8(out, 4, 7, 64, 0),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_error_data(out, 4, 15, 3, cookie, 0, 8),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_error_kinds(out, 4, 7, map),
			 -MPC_E_NOSPACE);
	/* nothing was written */
	for (k = 0; k < sizeof(out); k++)
		assert_int_equal(out[k], 0xaa);
	/* exactly enough is enough */
	assert_int_equal(mpc_conv_put_hdr(out, 4), 4);
	assert_int_equal(mpc_conv_put_info(out, 4, 8), 4);
	assert_int_equal(mpc_conv_put_connect(out, 4, 32, 80, a6, opts, 0,
					      sizeof(opts)),
			 28);
	assert_int_equal(mpc_conv_put_error_kinds(out, 4, 8, map), 4);
	/* the 1020-byte message limit holds whatever cap says */
	assert_int_equal(mpc_conv_put_info(out, 1020, MPC_CONV_CAP),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_info(out, 1016, MPC_CONV_CAP), 4);
	assert_int_equal(mpc_conv_put_cookie(out, 4, MPC_CONV_CAP, out, 0,
					     1013),
			 -MPC_E_NOSPACE);
	assert_int_equal(
		mpc_conv_put_cookie(out, 4, MPC_CONV_CAP, out, 0, 1012), 1016);
	/* the answer builder too */
	parse((const __u8[]){0, 1, 0x22, 0x63}, 4, C, &m);
	assert_int_equal(mpc_conv_build_answer(out, 7, &m, out),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_build_answer(out, 8, &m, out), 8);
}

static void test_builders_refuse_what_the_parser_refuses(void **state)
{
	static const __u8 a6[16] = {ADDR6}, lo[16] = {ADDR4M(127, 0, 0, 1)};
	static const __u8 nop[] = {0x01, 0x04, 0x02, 0x00};
	static const __u8 zero[] = {0x00, 0x00, 0x00, 0x00};
	static const __u8 shortopt[] = {0x04, 0x01};
	static const __u8 over[] = {0x22, 0x0a, 1, 2};
	static const __u8 kind2[] = {4, 2}, kind0[] = {30, 0};
	const __u64 bad_map[4] = {1ull << 3, 0, 0, 0};
	const __u64 none[4] = {0, 0, 0, 0};
	__u8 out[MPC_CONV_CAP], opts41[41];

	memset(opts41, 0, sizeof(opts41));
	assert_int_equal(mpc_conv_put_connect(out, 4, sizeof(out), 80, lo, NULL,
					      0, 0),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_connect(out, 4, sizeof(out), 0, a6, NULL,
					      0, 0),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_connect(out, 4, sizeof(out), 80, a6, nop,
					      0, sizeof(nop)),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_connect(out, 4, sizeof(out), 80, a6, zero,
					      0, sizeof(zero)),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_connect(out, 4, sizeof(out), 80, a6,
					      shortopt, 0, sizeof(shortopt)),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_connect(out, 4, sizeof(out), 80, a6, over,
					      0, sizeof(over)),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_supported(out, 4, sizeof(out), kind2, 0,
						sizeof(kind2)),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_supported(out, 4, sizeof(out), kind0, 0,
						sizeof(kind0)),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_supported_map(out, 4, sizeof(out),
						    bad_map),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_error_kinds(out, 4, sizeof(out), none),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_xhdr(out, 4, sizeof(out), opts41, 0, 41),
			 -MPC_E_LEN);
	assert_int_equal(mpc_conv_put_cookie(out, 4, sizeof(out), opts41, 0, 0),
			 -MPC_E_LEN);
	assert_int_equal(mpc_conv_put_error_data(out, 4, sizeof(out), 1, out, 0,
						 0),
			 -MPC_E_LEN);
	assert_int_equal(mpc_conv_put_error_u8(out, 4, sizeof(out),
					       MPC_CONV_E_NOT_AUTHORIZED, 1),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_put_error_u8(out, 4, sizeof(out),
					       MPC_CONV_E_UNSUPPORTED_VERSION,
					       0),
			 -MPC_E_FIELD);
	assert_int_equal(mpc_conv_set_total(out, 0), -MPC_E_LEN);
	assert_int_equal(mpc_conv_set_total(out, 6), -MPC_E_LEN);
	assert_int_equal(mpc_conv_set_total(out, 1024), -MPC_E_LEN);
	assert_int_equal(mpc_conv_set_total(out, 1020), 0);
	assert_int_equal(out[1], 255);
}

/* D12: the echo is cut to what one reply can carry */
static void test_answer_echo_is_cut_to_one_reply(void **state)
{
	__u8 in[MPC_CONV_CAP], out[MPC_CONV_CAP];
	struct mpc_conv_msg m;
	int n;

	/* a 1020-byte message whose last TLV has type 0 */
	memset(in, 0, sizeof(in));
	in[0] = 1;
	in[1] = 255;
	in[2] = 0x22;
	in[3] = 0x63;
	in[4] = MPC_CONV_TLV_COOKIE;
	in[5] = 253;
	for (n = 8; n < 1016; n++)
		in[n] = (__u8)n;
	assert_int_equal(parse(in, 1020, C, &m), -MPC_E_UNKNOWN);
	assert_int_equal(m.answer.code, MPC_CONV_E_UNSUPPORTED_MSG);
	assert_int_equal(m.answer.where, 1016);
	n = mpc_conv_build_answer(out, sizeof(out), &m, in);
	assert_int_equal(n, 1020);
	assert_int_equal(out[1], 255);
	assert_int_equal(out[5], 254);
	assert_memory_equal(out + 8, in, MPC_CONV_ECHO_MAX);
	/* and it is a valid Error TLV */
	assert_int_equal(parse(out, n, T, &m), 0);
	assert_int_equal(m.err_code, MPC_CONV_E_UNSUPPORTED_MSG);
	assert_int_equal(m.err_len, MPC_CONV_ECHO_MAX);
	/* an answer that is not an Error TLV builds nothing */
	parse(v_info, sizeof(v_info), C, &m);
	assert_int_equal(mpc_conv_build_answer(out, sizeof(out), &m, v_info),
			 0);
}

static void test_answer_builder_edges(void **state)
{
	static const __u8 dup[] = {HDR(3), 0x01, 0x01, 0, 0, 0x01, 0x01, 0, 0};
	const __u64 nop[4] = {(1ull << 1) | (1ull << 29), 0, 0, 0};
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg m;

	/* a kind that can never be unsupported (D10) */
	assert_int_equal(mpc_conv_put_error_kinds(out, 4, sizeof(out), nop),
			 -MPC_E_FIELD);
	/* nothing to answer with an Error TLV */
	parse(v_info, sizeof(v_info), C, &m);
	assert_int_equal(mpc_conv_put_answer(out, 4, sizeof(out), &m, v_info),
			 0);
	/* an echo needs 8 bytes at least */
	parse(dup, sizeof(dup), C, &m);
	assert_int_equal(m.answer.code, MPC_CONV_E_MALFORMED);
	assert_int_equal(mpc_conv_put_answer(out, 1016, sizeof(out), &m, dup),
			 -MPC_E_NOSPACE);
	assert_int_equal(mpc_conv_put_answer(out, 4, 11, &m, dup),
			 -MPC_E_NOSPACE);
	/* cut to the room there is: 4 of the 12 bytes */
	assert_int_equal(mpc_conv_put_answer(out, 4, 12, &m, dup), 8);
	assert_memory_equal(out + 8, dup, 4);
	assert_int_equal(mpc_conv_build_answer(out, 3, &m, dup),
			 -MPC_E_NOSPACE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_info_figure15),
		cmocka_unit_test(test_build_connect_base_figure17),
		cmocka_unit_test(test_build_connect_extended_figure18),
		cmocka_unit_test(test_build_cookie_connect_figure21),
		cmocka_unit_test(test_build_xhdr_figure20),
		cmocka_unit_test(test_build_supported_figure16),
		cmocka_unit_test(test_build_error_each_code_figure22),
		cmocka_unit_test(test_parse_fields_info),
		cmocka_unit_test(test_parse_fields_connect),
		cmocka_unit_test(test_parse_fields_cookie_connect),
		cmocka_unit_test(test_parse_fields_converter_tlvs),
		cmocka_unit_test(test_parse_fields_error_each_code),
		cmocka_unit_test(test_roundtrip_every_valid_message),
		cmocka_unit_test(test_every_prefix_is_incomplete),
		cmocka_unit_test(test_user_data_after_message_is_not_parsed),
		cmocka_unit_test(test_parse_never_reads_past_len),
		cmocka_unit_test(test_rule_syn_without_payload_is_ignored),
		cmocka_unit_test(test_rule_wrong_magic_is_not_convert),
		cmocka_unit_test(test_rule_version_0_is_unsupported_version),
		cmocka_unit_test(test_rule_version_2_is_unsupported_version),
		cmocka_unit_test(test_rule_total_length_zero_resets),
		cmocka_unit_test(test_rule_type_0_is_unsupported_message),
		cmocka_unit_test(test_rule_unknown_type_is_unsupported_message),
		cmocka_unit_test(test_rule_client_must_not_send_converter_tlvs),
		cmocka_unit_test(test_rule_converter_must_not_send_client_tlvs),
		cmocka_unit_test(test_rule_duplicate_tlv_is_malformed),
		cmocka_unit_test(test_rule_duplicate_tlv_across_messages),
		cmocka_unit_test(test_rule_tlv_length_zero_is_malformed),
		cmocka_unit_test(test_rule_tlv_past_total_length_is_malformed),
		cmocka_unit_test(test_rule_tlvs_must_fill_total_length),
		cmocka_unit_test(test_rule_header_only_message_is_valid),
		cmocka_unit_test(test_rule_info_length_and_zero_field),
		cmocka_unit_test(
			test_rule_connect_shorter_than_base_is_malformed),
		cmocka_unit_test(test_rule_connect_ipv4_must_be_v4mapped),
		cmocka_unit_test(
			test_rule_connect_address_not_multicast_broadcast_loopback),
		cmocka_unit_test(test_rule_connect_port_zero_is_malformed),
		cmocka_unit_test(test_rule_connect_options_no_eol_no_nop),
		cmocka_unit_test(test_rule_connect_option_length_at_least_2),
		cmocka_unit_test(test_rule_connect_options_zero_padding),
		cmocka_unit_test(test_rule_supported_extensions_not_kinds_1_2),
		cmocka_unit_test(test_rule_supported_extensions_zero_padding),
		cmocka_unit_test(test_rule_unassigned_fields_are_ignored),
		cmocka_unit_test(test_rule_xhdr_at_most_40_bytes_of_options),
		cmocka_unit_test(test_rule_cookie_zero_field_and_not_empty),
		cmocka_unit_test(test_rule_error_tlv_makes_client_reset),
		cmocka_unit_test(test_rule_error_unsupported_version_shape),
		cmocka_unit_test(test_rule_error_echo_shape),
		cmocka_unit_test(test_rule_error_missing_cookie_shape),
		cmocka_unit_test(test_rule_error_one_byte_value_shape),
		cmocka_unit_test(test_rule_error_unsupported_option_shape),
		cmocka_unit_test(
			test_rule_error_found_before_message_is_complete),
		cmocka_unit_test(test_rule_framing_checked_before_contents),
		cmocka_unit_test(test_rule_bad_role_is_refused),
		cmocka_unit_test(test_check_opts_unsupported_kinds),
		cmocka_unit_test(test_builders_reject_small_buffers),
		cmocka_unit_test(test_builders_refuse_what_the_parser_refuses),
		cmocka_unit_test(test_answer_echo_is_cut_to_one_reply),
		cmocka_unit_test(test_answer_builder_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
