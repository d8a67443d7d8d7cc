// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * fuzz_convert: libFuzzer target for include/mpconv/convert.h.
 *
 * Input: bit 0 of the first byte selects who sent the rest (0 client, 1
 * converter); the rest is a Convert message and whatever follows it.
 *
 * Properties (any violation aborts):
 *  - the parser reads nothing outside [0, len) (ASan, exact-size copy);
 *  - rc and m->answer agree (which actions go with which rc and role);
 *  - every offset/length in struct mpc_conv_msg stays inside the bytes
 *    present, and each TLV's fields inside that TLV;
 *  - an accepted message, rebuilt by the builders from the struct, equals
 *    the consumed input bytes. The only normalisation: the Unassigned
 *    fields of the Extended TCP Header and Supported TCP Extensions TLVs
 *    are zeroed in the input first (RFC 8803 6.2.4 and 6.2.6: "ignored by
 *    the receiver", so the parser accepts any value and the builders write
 *    zero; decision D8 in convert.h);
 *  - every prefix of an accepted message is "incomplete" (checked for two
 *    prefixes per input);
 *  - when the answer is an Error TLV, mpc_conv_build_answer() builds a reply
 *    that a client parses as valid, carrying that code (and the echo of the
 *    input for Malformed / Unsupported Message);
 *  - for an accepted Extended Connect, the Unsupported TCP Option error
 *    built from mpc_conv_check_opts() parses back with the same kinds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpconv/convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #c);                                 \
			abort();                                               \
		}                                                              \
	} while (0)

static int rebuild(const __u8 *in, const struct mpc_conv_msg *m, __u8 *out)
{
	unsigned order[MPC_CONV_NTYPES], cnt = 0, k, j;
	int n, t = 0;

	n = mpc_conv_put_hdr(out, MPC_CONV_CAP);
	for (k = 0; k < MPC_CONV_NTYPES; k++)
		if (m->tlvs & (1u << k))
			order[cnt++] = k;
	for (k = 1; k < cnt; k++) {
		for (j = k; j > 0; j--) {
			unsigned x = order[j];

			if (m->tlv_off[order[j - 1]] < m->tlv_off[x])
				break;
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
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
	CHECK(mpc_conv_set_total(out, n) == 0);
	return n;
}

/* [off, off + len) inside [lo, hi) */
static int inside(unsigned off, unsigned len, unsigned lo, unsigned hi)
{
	return off >= lo && off + len <= hi;
}

static void check_fields(const struct mpc_conv_msg *m)
{
	unsigned k, lo, hi, present = 0;

	for (k = 0; k < MPC_CONV_NTYPES; k++) {
		if (!(m->tlvs & (1u << k))) {
			CHECK(m->tlv_off[k] == 0 && m->tlv_words[k] == 0);
			continue;
		}
		present++;
		CHECK(m->tlv_words[k] >= 1);
		CHECK(inside(m->tlv_off[k], m->tlv_words[k] * 4u, 4, m->avail));
		CHECK((m->tlv_off[k] & 3) == 0);
	}
	CHECK(present == m->n_tlvs);
	CHECK(m->tlvs < (1u << MPC_CONV_NTYPES));

#define TLV_RANGE(i)                            \
	do {                                    \
		lo = m->tlv_off[i];             \
		hi = lo + m->tlv_words[i] * 4u; \
	} while (0)
	if (m->opt_n) {
		TLV_RANGE(MPC_CONV_I_CONNECT);
		CHECK(m->opt_off == lo + MPC_CONV_CONNECT_LEN);
		CHECK(inside(m->opt_off, m->opt_len, lo, hi));
		CHECK(hi - (m->opt_off + m->opt_len) < 4);
		CHECK(m->opt_len >= 2 * m->opt_n);
	}
	if (m->xhdr_off) {
		TLV_RANGE(MPC_CONV_I_XHDR);
		CHECK(inside(m->xhdr_off, m->xhdr_len, lo + 4, hi));
		CHECK(m->xhdr_len <= MPC_CONV_XHDR_MAX_OPTS);
	}
	if (m->sup_off) {
		TLV_RANGE(MPC_CONV_I_SUPPORTED);
		CHECK(inside(m->sup_off, m->sup_n, lo + 4, hi));
		CHECK(hi - (m->sup_off + m->sup_n) < 4);
	}
	if (m->cookie_off) {
		TLV_RANGE(MPC_CONV_I_COOKIE);
		CHECK(inside(m->cookie_off, m->cookie_len, lo + 4, hi));
		CHECK(m->cookie_len >= 4);
	}
	if (m->err_off) {
		TLV_RANGE(MPC_CONV_I_ERROR);
		CHECK(inside(m->err_off, m->err_len, lo + 3, hi));
		CHECK(m->err_len >= 1);
	}
#undef TLV_RANGE
}

static void check_answer(const __u8 *in, const struct mpc_conv_msg *m)
{
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg r;
	int n = mpc_conv_build_answer(out, sizeof(out), m, in);

	CHECK(n >= 8 && n <= MPC_CONV_MAXLEN && (n & 3) == 0);
	CHECK(mpc_conv_parse(out, n, MPC_CONV_FROM_CONVERTER, &r) == 0);
	CHECK(r.tlvs == MPC_CONV_F_ERROR);
	CHECK(r.answer.action == MPC_CONV_ACT_RESET);
	CHECK(r.err_code == m->answer.code);
	if (m->answer.code == MPC_CONV_E_UNSUPPORTED_VERSION) {
		CHECK(r.err_len == 1 && out[r.err_off] == MPC_CONV_VERSION);
	} else {
		/* D12: the message as received, cut to what fits */
		unsigned e = MPC_MIN((unsigned)m->avail, MPC_CONV_ECHO_MAX);

		CHECK(r.err_len == ((e + 3) & ~3u));
		CHECK(memcmp(out + r.err_off, in, e) == 0);
	}
}

static void check_opts(const __u8 *in, const struct mpc_conv_msg *m)
{
	/* SACK-permitted, Timestamp, MPTCP, TFO, and 200 */
	const __u64 sup[4] = {(1ull << 4) | (1ull << 8) | (1ull << 30) |
				      (1ull << 34),
			      0, 0, 1ull << (200 - 192)};
	__u64 unsup[4];
	__u8 out[MPC_CONV_CAP];
	struct mpc_conv_msg r;
	int cnt = mpc_conv_check_opts(in, m, sup, unsup), n, t, k;

	CHECK(cnt >= 0 && cnt <= m->opt_n);
	if (!cnt) {
		CHECK(!(unsup[0] | unsup[1] | unsup[2] | unsup[3]));
		return;
	}
	CHECK(!mpc_conv_kind_test(unsup, 0) && !mpc_conv_kind_test(unsup, 1));
	CHECK(!mpc_conv_kind_test(unsup, 2) && !mpc_conv_kind_test(unsup, 3));
	CHECK(!mpc_conv_kind_test(unsup, 5));
	n = mpc_conv_put_hdr(out, sizeof(out));
	t = mpc_conv_put_error_kinds(out, n, sizeof(out), unsup);
	CHECK(t > 0);
	n += t;
	CHECK(mpc_conv_set_total(out, n) == 0);
	CHECK(mpc_conv_parse(out, n, MPC_CONV_FROM_CONVERTER, &r) == 0);
	CHECK(r.err_code == MPC_CONV_E_UNSUPPORTED_OPT);
	CHECK(r.err_len == cnt);
	for (k = 0; k < cnt; k++)
		CHECK(mpc_conv_kind_test(unsup, out[r.err_off + k]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum mpc_conv_role from;
	struct mpc_conv_msg m, p;
	__u8 *in, out[MPC_CONV_CAP], norm[MPC_CONV_CAP];
	size_t len;
	int rc, n;

	if (size < 1)
		return 0;
	from = (data[0] & 1) ? MPC_CONV_FROM_CONVERTER : MPC_CONV_FROM_CLIENT;
	len = size - 1;
	in = malloc(len ? len : 1);
	CHECK(in);
	memcpy(in, data + 1, len);

	rc = mpc_conv_parse(in, len, from, &m);

	/* rc and answer */
	CHECK(rc <= 0 && rc > -MPC_E__MAX && rc != -MPC_E_NOSPACE);
	CHECK(m.avail <= MPC_MIN(len, (size_t)MPC_CONV_MAXLEN));
	CHECK((m.msg_len & 3) == 0 && m.msg_len <= MPC_CONV_MAXLEN);
	CHECK(m._pad == 0);
	switch (m.answer.action) {
	case MPC_CONV_ACT_ACCEPT:
		CHECK(rc == 0 && !(from == MPC_CONV_FROM_CONVERTER &&
				   (m.tlvs & MPC_CONV_F_ERROR)));
		break;
	case MPC_CONV_ACT_INCOMPLETE:
		CHECK(rc == -MPC_E_TRUNC && m.need > len);
		break;
	case MPC_CONV_ACT_IGNORE:
		CHECK(from == MPC_CONV_FROM_CLIENT);
		CHECK(rc == -MPC_E_FIELD || (rc == -MPC_E_TRUNC && len == 0));
		break;
	case MPC_CONV_ACT_ERROR:
		CHECK(from == MPC_CONV_FROM_CLIENT && rc < 0);
		CHECK(m.answer.code == MPC_CONV_E_UNSUPPORTED_VERSION ||
		      m.answer.code == MPC_CONV_E_MALFORMED ||
		      m.answer.code == MPC_CONV_E_UNSUPPORTED_MSG);
		check_answer(in, &m);
		break;
	case MPC_CONV_ACT_RESET:
		CHECK(rc < 0 || (from == MPC_CONV_FROM_CONVERTER &&
				 (m.tlvs & MPC_CONV_F_ERROR)));
		/* a converter resets only on Total Length 0 (6.1) */
		CHECK(from == MPC_CONV_FROM_CONVERTER || rc == -MPC_E_LEN);
		break;
	default:
		CHECK(0);
	}
	CHECK(m.answer.where <= m.avail || m.answer.where < MPC_CONV_HDR_LEN);

	if (rc == 0 || rc == -MPC_E_TRUNC)
		check_fields(&m);
	if (rc != 0)
		goto out;

	CHECK(m.msg_len <= len && m.avail == m.msg_len);
	/* rebuild and compare, after normalising the Unassigned fields */
	memcpy(norm, in, m.msg_len);
	if (m.tlvs & MPC_CONV_F_XHDR)
		norm[m.tlv_off[MPC_CONV_I_XHDR] + 2] =
			norm[m.tlv_off[MPC_CONV_I_XHDR] + 3] = 0;
	if (m.tlvs & MPC_CONV_F_SUPPORTED)
		norm[m.tlv_off[MPC_CONV_I_SUPPORTED] + 2] =
			norm[m.tlv_off[MPC_CONV_I_SUPPORTED] + 3] = 0;
	n = rebuild(in, &m, out);
	if (n != m.msg_len || memcmp(out, norm, m.msg_len)) {
		fprintf(stderr, "rebuild: %d bytes, message %u\n", n,
			m.msg_len);
		CHECK(0);
	}
	/* and the rebuilt message parses to the same struct */
	CHECK(mpc_conv_parse(out, n, from, &p) == 0);
	CHECK(memcmp(&p, &m, sizeof(m)) == 0);

	/* prefixes are incomplete */
	CHECK(mpc_conv_parse(in, m.msg_len / 2, from, &p) == -MPC_E_TRUNC);
	CHECK(p.answer.action == MPC_CONV_ACT_INCOMPLETE ||
	      (m.msg_len / 2 == 0 && from == MPC_CONV_FROM_CLIENT));
	CHECK(mpc_conv_parse(in, m.msg_len - 1, from, &p) == -MPC_E_TRUNC);
	CHECK(p.answer.action == MPC_CONV_ACT_INCOMPLETE);

	if (from == MPC_CONV_FROM_CLIENT && m.opt_n)
		check_opts(in, &m);
out:
	free(in);
	return 0;
}
