// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_crypto: agent/mptcp_crypto.c (RFC 8684 token/IDSN, key generation,
 * MP_JOIN and ADD_ADDR HMACs) and include/mpconv/csum.h (RFC 1071/1624
 * checksum, RFC 8684 3.3.1 DSS checksum).
 *
 * Expected values come from outside the code under test:
 *  - the Linux KUnit vectors of net/mptcp/crypto_test.c (copied below);
 *  - crypto_vectors.h, derived from the RFC definitions by
 *    tests/unit/vectors/derive_crypto_vectors.sh with coreutils sha256sum,
 *    xxd and bash arithmetic (no OpenSSL, no mpconv code); CI re-derives it
 *    with tests/unit/check_crypto_vectors.sh;
 *  - hand arithmetic (test_dss_hand) and a naive reference sum (ref_sum).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpconv/csum.h"
#include "mptcp_crypto.h"
#include "crypto_vectors.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t from_hex(const char *hex, __u8 *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int v;

	assert_int_equal(strlen(hex) % 2, 0);
	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (__u8)v;
	}
	return n;
}

static void assert_hex(const __u8 *got, size_t len, const char *want_hex)
{
	__u8 want[64];

	assert_int_equal(from_hex(want_hex, want, sizeof(want)), len);
	assert_memory_equal(got, want, len);
}

static __u32 be32_at(const void *p)
{
	const __u8 *b = p;

	return ((__u32)b[0] << 24) | ((__u32)b[1] << 16) | ((__u32)b[2] << 8) |
	       b[3];
}

static __u64 be64_at(const void *p)
{
	return ((__u64)be32_at(p) << 32) | be32_at((const __u8 *)p + 4);
}

static void put_be32_at(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

/* deterministic xorshift64*: the same 1000 "random" cases on every run */
static __u64 rng_state = 0x6d70636f6e76ULL; /* "mpconv" */

static __u64 rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* naive RFC 1071 sum, independent of csum.h: folded, not complemented */
static __u16 ref_sum(const __u8 *b, size_t len)
{
	__u64 s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s += (i & 1) ? b[i] : (__u64)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* the DSS checksum by building Figure 10 in memory, with ref_sum */
static __u16 ref_dss(__u64 dsn, __u32 ssn, __u16 dlen, const __u8 *p,
		     size_t len)
{
	static __u8 buf[16 + 65536];

	put_be32_at(buf, (__u32)(dsn >> 32));
	put_be32_at(buf + 4, (__u32)dsn);
	put_be32_at(buf + 8, ssn);
	put_be32_at(buf + 12, (__u32)dlen << 16);
	memcpy(buf + 16, p, len);
	return (__u16)~ref_sum(buf, 16 + len);
}

/* ---- SHA-256 / generic HMAC ------------------------------------------------ */

static void test_sha256_fips(void **state)
{
	__u8 md[MPC_SHA256_LEN];

	/* FIPS 180-2 B.1 and the empty message */
	assert_int_equal(mpc_sha256("abc", 3, md), 0);
	assert_hex(
		md, sizeof(md),
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(mpc_sha256(NULL, 0, md), 0);
	assert_hex(
		md, sizeof(md),
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(mpc_sha256(NULL, 1, md), -EINVAL);
	assert_int_equal(mpc_sha256("abc", 3, NULL), -EINVAL);
}

/*
 * Linux net/mptcp/crypto_test.c. The kernel test reads key1, key2 and the
 * nonces big-endian from the ASCII CHARACTERS of its strings (not from the
 * hex they look like): key "0b0b0b0b0b0b0b0b" gives key1 = key2 =
 * 0x3062306230623062, msg "48692054" gives nonce1 = 0x34383639 ("4869")
 * and nonce2 = 0x32303534 ("2054"). mptcp_crypto_hmac_sha(key1, key2, msg)
 * = HMAC(BE64(key1) || BE64(key2), BE32(nonce1) || BE32(nonce2)).
 */
static const struct {
	const char *key, *msg, *result;
} kunit_vectors[] = {
	{
		.key = "0b0b0b0b0b0b0b0b",
		.msg = "48692054",
		.result =
			"8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa",
	},
	{
		.key = "aaaaaaaaaaaaaaaa",
		.msg = "dddddddd",
		.result =
			"2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9",
	},
	{
		.key = "0102030405060708",
		.msg = "cdcdcdcd",
		.result =
			"e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d",
	},
};

static void test_hmac_kunit(void **state)
{
	__u8 msg[8], out[MPC_SHA256_LEN];
	__u32 nonce1, nonce2;
	__u64 key1, key2;
	size_t i;

	for (i = 0; i < MPC_ARRAY_SIZE(kunit_vectors); i++) {
		key1 = be64_at(&kunit_vectors[i].key[0]);
		key2 = be64_at(&kunit_vectors[i].key[8]);
		nonce1 = be32_at(&kunit_vectors[i].msg[0]);
		nonce2 = be32_at(&kunit_vectors[i].msg[4]);
		put_be32_at(&msg[0], nonce1);
		put_be32_at(&msg[4], nonce2);

		memset(out, 0, sizeof(out));
		assert_int_equal(mpc_mptcp_hmac(key1, key2, msg, 8, out), 0);
		assert_hex(out, sizeof(out), kunit_vectors[i].result);

		/* the same computation is HMAC-A with A = (key1, nonce1) ... */
		memset(out, 0, sizeof(out));
		assert_int_equal(
			mpc_mpj_hmac_a(key1, key2, nonce1, nonce2, out), 0);
		assert_hex(out, sizeof(out), kunit_vectors[i].result);

		/* ... and HMAC-B when host B holds key1 and nonce1 */
		memset(out, 0, sizeof(out));
		assert_int_equal(
			mpc_mpj_hmac_b(key2, key1, nonce2, nonce1, out), 0);
		assert_hex(out, sizeof(out), kunit_vectors[i].result);
	}
}

static void test_hmac_args(void **state)
{
	__u8 a[MPC_SHA256_LEN], b[MPC_SHA256_LEN];
	static const __u8 z;

	/* empty message: NULL and a pointer give the same HMAC */
	assert_int_equal(mpc_mptcp_hmac(1, 2, NULL, 0, a), 0);
	assert_int_equal(mpc_mptcp_hmac(1, 2, &z, 0, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	/* the key is key1 || key2, order matters */
	assert_int_equal(mpc_mptcp_hmac(2, 1, NULL, 0, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(mpc_mptcp_hmac(1, 2, NULL, 1, a), -EINVAL);
	assert_int_equal(mpc_mptcp_hmac(1, 2, &z, 1, NULL), -EINVAL);
	assert_true(mpc_crypto_memeq(a, a, sizeof(a)));
	assert_false(mpc_crypto_memeq(a, b, sizeof(a)));
}

/* ---- RFC 8684 3.1 ----------------------------------------------------------- */

static void test_token_idsn(void **state)
{
	__u8 be[8], md[MPC_SHA256_LEN];
	__u64 idsn;
	__u32 token;
	size_t i;

	for (i = 0; i < MPC_ARRAY_SIZE(cv_keys); i++) {
		token = 0;
		idsn = 0;
		assert_int_equal(
			mpc_mptcp_key_sha(cv_keys[i].key, &token, &idsn), 0);
		assert_int_equal(token, cv_keys[i].token);
		assert_true(idsn == cv_keys[i].idsn);
		/* the key is hashed as its 8 network-order bytes */
		put_be32_at(be, (__u32)(cv_keys[i].key >> 32));
		put_be32_at(be + 4, (__u32)cv_keys[i].key);
		assert_int_equal(mpc_sha256(be, sizeof(be), md), 0);
		assert_hex(md, sizeof(md), cv_keys[i].sha256);
		/* either output may be omitted */
		token = 0;
		assert_int_equal(
			mpc_mptcp_key_sha(cv_keys[i].key, &token, NULL), 0);
		assert_int_equal(token, cv_keys[i].token);
		idsn = 0;
		assert_int_equal(mpc_mptcp_key_sha(cv_keys[i].key, NULL, &idsn),
				 0);
		assert_true(idsn == cv_keys[i].idsn);
	}
}

/* ---- key generation --------------------------------------------------------- */

#define SET_SLOTS (1u << 15) /* > 3 x 10000 tokens, power of two */

struct token_set {
	__u32 slot[SET_SLOTS];
	bool used[SET_SLOTS];
	unsigned int n;
	unsigned long calls;
};

static bool set_has(const struct token_set *s, __u32 t)
{
	__u32 i = (t * 2654435761u) & (SET_SLOTS - 1);

	while (s->used[i]) {
		if (s->slot[i] == t)
			return true;
		i = (i + 1) & (SET_SLOTS - 1);
	}
	return false;
}

static void set_add(struct token_set *s, __u32 t)
{
	__u32 i = (t * 2654435761u) & (SET_SLOTS - 1);

	assert_true(s->n < SET_SLOTS / 2);
	while (s->used[i]) {
		assert_int_not_equal(s->slot[i], t);
		i = (i + 1) & (SET_SLOTS - 1);
	}
	s->used[i] = true;
	s->slot[i] = t;
	s->n++;
}

static bool set_in_use(__u32 token, void *ctx)
{
	struct token_set *s = ctx;

	s->calls++;
	return set_has(s, token);
}

static void check_key(__u64 key, __u32 token, __u64 idsn)
{
	__u64 i2;
	__u32 t2;

	assert_int_equal(mpc_mptcp_key_sha(key, &t2, &i2), 0);
	assert_int_equal(token, t2);
	assert_true(idsn == i2);
}

static void test_keygen_unique(void **state)
{
	struct token_set *s = calloc(1, sizeof(*s));
	__u64 key, idsn;
	__u32 token;
	size_t i;

	assert_non_null(s);
	/* tokens of the derived vectors are "in use" from the start */
	for (i = 0; i < MPC_ARRAY_SIZE(cv_keys); i++)
		set_add(s, cv_keys[i].token);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(mpc_mptcp_key_gen(set_in_use, s, 0, &key,
						   &token, &idsn),
				 0);
		assert_false(set_has(s, token));
		check_key(key, token, idsn);
		set_add(s, token);
	}
	assert_int_equal(s->n, 10000 + MPC_ARRAY_SIZE(cv_keys));
	assert_true(s->calls >= 10000);
	free(s);
}

/* rejects its first `reject` candidates, remembers what it saw */
struct reject_first {
	unsigned int reject;
	unsigned int calls;
	__u32 last;
};

static bool reject_first_n(__u32 token, void *ctx)
{
	struct reject_first *r = ctx;

	r->last = token;
	return r->calls++ < r->reject;
}

static void test_keygen_retry(void **state)
{
	struct reject_first r = {.reject = 100};
	__u64 key = 0, idsn;
	__u32 token;

	assert_int_equal(mpc_mptcp_key_gen(reject_first_n, &r, 0, &key, &token,
					   &idsn),
			 0);
	assert_int_equal(r.calls, 101);
	assert_int_equal(token, r.last);
	check_key(key, token, idsn);

	/* exactly max_tries candidates, then -EBUSY and *key = 0 */
	r = (struct reject_first){.reject = 10};
	key = 1;
	assert_int_equal(mpc_mptcp_key_gen(reject_first_n, &r, 10, &key, &token,
					   &idsn),
			 -EBUSY);
	assert_int_equal(r.calls, 10);
	assert_true(key == 0);
	/* 11 tries are enough for 10 rejections */
	r = (struct reject_first){.reject = 10};
	assert_int_equal(mpc_mptcp_key_gen(reject_first_n, &r, 11, &key, &token,
					   NULL),
			 0);
	assert_int_equal(r.calls, 11);
	assert_int_equal(token, r.last);

	/* everything in use: the default number of tries */
	r = (struct reject_first){.reject = ~0u};
	assert_int_equal(mpc_mptcp_key_gen(reject_first_n, &r, 0, &key, NULL,
					   NULL),
			 -EBUSY);
	assert_int_equal(r.calls, MPC_KEYGEN_DEFAULT_TRIES);

	/* no predicate, no optional outputs */
	assert_int_equal(mpc_mptcp_key_gen(NULL, NULL, 0, &key, NULL, NULL), 0);
	assert_int_equal(mpc_mptcp_key_gen(NULL, NULL, 0, NULL, &token, NULL),
			 -EINVAL);
}

/* three quarters of the token space in use: real, frequent retries */
static bool low_bits_set(__u32 token, void *ctx)
{
	(*(unsigned long *)ctx)++;
	return (token & 3) != 0;
}

static void test_keygen_dense(void **state)
{
	unsigned long calls = 0;
	__u64 key, idsn;
	__u32 token;
	int i;

	for (i = 0; i < 2000; i++) {
		assert_int_equal(mpc_mptcp_key_gen(low_bits_set, &calls, 0,
						   &key, &token, &idsn),
				 0);
		assert_int_equal(token & 3, 0);
		check_key(key, token, idsn);
	}
	/* geometric with p = 1/4: about 8000 calls, never near 4000 */
	assert_true(calls > 4000);
}

/* ---- RFC 8684 3.2 MP_JOIN ---------------------------------------------------- */

static void test_mpj_vectors(void **state)
{
	__u8 full[MPC_SHA256_LEN], syn[MPC_MPJ_SYNACK_HMAC_LEN],
		ack[MPC_MPJ_ACK_HMAC_LEN];
	size_t i, bit;

	for (i = 0; i < MPC_ARRAY_SIZE(cv_mpj); i++) {
		const struct cv_mpj *v = &cv_mpj[i];

		assert_int_equal(mpc_mpj_hmac_a(v->key_a, v->key_b, v->r_a,
						v->r_b, full),
				 0);
		assert_hex(full, sizeof(full), v->hmac_a);
		assert_int_equal(mpc_mpj_hmac_b(v->key_a, v->key_b, v->r_a,
						v->r_b, full),
				 0);
		assert_hex(full, sizeof(full), v->hmac_b);
		assert_int_equal(mpc_mpj_synack_hmac(v->key_a, v->key_b, v->r_a,
						     v->r_b, syn),
				 0);
		assert_hex(syn, sizeof(syn), v->synack);
		assert_int_equal(mpc_mpj_ack_hmac(v->key_a, v->key_b, v->r_a,
						  v->r_b, ack),
				 0);
		assert_hex(ack, sizeof(ack), v->ack);

		/* A accepts B's SYN/ACK, B accepts A's ACK */
		assert_true(mpc_mpj_synack_verify(v->key_a, v->key_b, v->r_a,
						  v->r_b, syn));
		assert_true(mpc_mpj_ack_verify(v->key_a, v->key_b, v->r_a,
					       v->r_b, ack));
		/* any flipped bit is refused */
		for (bit = 0; bit < 8 * sizeof(syn); bit++) {
			syn[bit / 8] ^= 1u << (bit % 8);
			assert_false(mpc_mpj_synack_verify(
				v->key_a, v->key_b, v->r_a, v->r_b, syn));
			syn[bit / 8] ^= 1u << (bit % 8);
		}
		for (bit = 0; bit < 8 * sizeof(ack); bit++) {
			ack[bit / 8] ^= 1u << (bit % 8);
			assert_false(mpc_mpj_ack_verify(v->key_a, v->key_b,
							v->r_a, v->r_b, ack));
			ack[bit / 8] ^= 1u << (bit % 8);
		}
		/* roles swapped (A's values passed as B's) do not verify */
		assert_false(mpc_mpj_synack_verify(v->key_b, v->key_a, v->r_b,
						   v->r_a, syn));
		assert_false(mpc_mpj_ack_verify(v->key_b, v->key_a, v->r_b,
						v->r_a, ack));
		/* another nonce does not verify */
		assert_false(mpc_mpj_synack_verify(v->key_a, v->key_b,
						   v->r_a ^ 1, v->r_b, syn));
		assert_false(mpc_mpj_ack_verify(v->key_a, v->key_b, v->r_a,
						v->r_b ^ 0x80000000u, ack));
	}
	assert_int_equal(mpc_mpj_synack_hmac(1, 2, 3, 4, NULL), -EINVAL);
	assert_int_equal(mpc_mpj_ack_hmac(1, 2, 3, 4, NULL), -EINVAL);
	assert_false(mpc_mpj_synack_verify(1, 2, 3, 4, NULL));
	assert_false(mpc_mpj_ack_verify(1, 2, 3, 4, NULL));
}

/* ---- RFC 8684 3.4.1 ADD_ADDR -------------------------------------------------- */

static void test_add_addr_vectors(void **state)
{
	__u8 addr[16], th[MPC_ADD_ADDR_HMAC_LEN], full[MPC_SHA256_LEN];
	__u8 msg[1 + 16 + 2];
	size_t i, alen, bit;

	for (i = 0; i < MPC_ARRAY_SIZE(cv_add_addr); i++) {
		const struct cv_add_addr *v = &cv_add_addr[i];

		alen = from_hex(v->addr, addr, sizeof(addr));
		assert_int_equal(alen, v->addr_len);
		memset(th, 0, sizeof(th));
		assert_int_equal(mpc_add_addr_hmac(v->key_sender,
						   v->key_receiver, v->id, addr,
						   alen, v->port, th),
				 0);
		assert_hex(th, sizeof(th), v->thmac);

		/* the full HMAC of the message, through the generic HMAC */
		msg[0] = v->id;
		memcpy(msg + 1, addr, alen);
		msg[1 + alen] = (__u8)(v->port >> 8);
		msg[2 + alen] = (__u8)v->port;
		assert_int_equal(mpc_mptcp_hmac(v->key_sender, v->key_receiver,
						msg, 3 + alen, full),
				 0);
		assert_hex(full, sizeof(full), v->hmac);
		/* the RIGHTMOST 64 bits */
		assert_memory_equal(th, full + 24, sizeof(th));

		assert_true(mpc_add_addr_verify(v->key_sender, v->key_receiver,
						v->id, addr, alen, v->port,
						th));
		for (bit = 0; bit < 8 * sizeof(th); bit++) {
			th[bit / 8] ^= 1u << (bit % 8);
			assert_false(mpc_add_addr_verify(
				v->key_sender, v->key_receiver, v->id, addr,
				alen, v->port, th));
			th[bit / 8] ^= 1u << (bit % 8);
		}
		/* keys in the receiver's order, another ID, port, address */
		assert_false(mpc_add_addr_verify(v->key_receiver, v->key_sender,
						 v->id, addr, alen, v->port,
						 th));
		assert_false(mpc_add_addr_verify(v->key_sender, v->key_receiver,
						 v->id + 1, addr, alen, v->port,
						 th));
		assert_false(mpc_add_addr_verify(v->key_sender, v->key_receiver,
						 v->id, addr, alen,
						 v->port ? 0 : 1, th));
		addr[alen - 1] ^= 1;
		assert_false(mpc_add_addr_verify(v->key_sender, v->key_receiver,
						 v->id, addr, alen, v->port,
						 th));
	}
	/* with and without port differ (vectors 0 and 1: same everything else) */
	assert_int_equal(cv_add_addr[0].port, 0);
	assert_int_not_equal(cv_add_addr[1].port, 0);
	assert_string_not_equal(cv_add_addr[0].thmac, cv_add_addr[1].thmac);

	assert_int_equal(mpc_add_addr_hmac(1, 2, 0, addr, 5, 0, th), -EINVAL);
	assert_int_equal(mpc_add_addr_hmac(1, 2, 0, addr, 0, 0, th), -EINVAL);
	assert_int_equal(mpc_add_addr_hmac(1, 2, 0, NULL, 4, 0, th), -EINVAL);
	assert_int_equal(mpc_add_addr_hmac(1, 2, 0, addr, 4, 0, NULL), -EINVAL);
	assert_false(mpc_add_addr_verify(1, 2, 0, addr, 4, 0, NULL));
	assert_false(mpc_add_addr_verify(1, 2, 0, addr, 6, 0, th));
}

/* ---- checksum primitives ----------------------------------------------------- */

static void test_csum_basics(void **state)
{
	/* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	static const __u8 ex[] = {0x00, 0x01, 0xf2, 0x03,
				  0xf4, 0xf5, 0xf6, 0xf7};
	__u32 s = 0;

	assert_int_equal(mpc_csum_partial(ex, sizeof(ex), &s), 0);
	assert_int_equal(mpc_csum_fold(s), 0xddf2);
	assert_int_equal(mpc_csum_finish(s), 0x220d);

	/* end-around carry */
	assert_int_equal(mpc_csum_add(0xffffffffu, 1), 1);
	assert_int_equal(mpc_csum_add(0x80000000u, 0x80000000u), 1);
	assert_int_equal(mpc_csum_add(0, 0), 0);
	assert_int_equal(mpc_csum_sub(5, 3), 2);
	assert_int_equal(mpc_csum_fold(0), 0);
	assert_int_equal(mpc_csum_fold(0xffffffffu), 0xffff);
	assert_int_equal(mpc_csum_fold(0x0001ffffu), 0x0001);
	assert_int_equal(mpc_csum_finish(0), 0xffff);
	assert_int_equal(mpc_csum_fold(mpc_csum_add32(0, 0x12345678)),
			 0x1234 + 0x5678);
	assert_int_equal(
		mpc_csum_fold(mpc_csum_add64(0, 0x0001000200030004ULL)), 10);
	assert_int_equal(mpc_csum_fold(mpc_csum_add16(7, 0xfff8)), 0xffff);
}

/* partial sums over every length, odd ones included, vs the naive sum */
static void test_csum_partial_lengths(void **state)
{
	static __u8 buf[600];
	__u32 len, s, k;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (__u8)rng();
	for (len = 0; len <= sizeof(buf); len++) {
		s = 0;
		assert_int_equal(mpc_csum_partial(buf, len, &s), 0);
		assert_int_equal(mpc_csum_fold(s), ref_sum(buf, len));
	}
	/* a sum continued through blocks split at every (odd) offset */
	for (k = 0; k <= 200; k++) {
		__u32 a = 0, b = 0, total;

		assert_int_equal(mpc_csum_partial(buf, k, &a), 0);
		assert_int_equal(mpc_csum_partial(buf + k, 201 - k, &b), 0);
		total = mpc_csum_block_add(a, b, k);
		assert_int_equal(mpc_csum_fold(total), ref_sum(buf, 201));
	}
	/* a non-zero start value is carried in */
	s = 0x1234;
	assert_int_equal(mpc_csum_partial(buf, 3, &s), 0);
	assert_int_equal(mpc_csum_fold(s),
			 mpc_csum_fold(mpc_csum_add(0x1234, ref_sum(buf, 3))));
}

static void test_csum_limits(void **state)
{
	__u8 *big = malloc(MPC_CSUM_MAX_LEN + 1);
	__u32 s = 0x55;
	__u16 c = 0x1111;

	assert_non_null(big);
	memset(big, 0xa5, MPC_CSUM_MAX_LEN + 1);
	assert_int_equal(mpc_csum_partial(big, MPC_CSUM_MAX_LEN + 1, &s),
			 -MPC_E_LEN);
	assert_int_equal(s, 0x55); /* untouched */
	assert_int_equal(mpc_dss_csum(1, 2, 3, big, MPC_CSUM_MAX_LEN + 1, &c),
			 -MPC_E_LEN);
	assert_int_equal(c, 0x1111);
	assert_false(
		mpc_dss_csum_verify(1, 2, 3, big, MPC_CSUM_MAX_LEN + 1, 0));

	/* the largest accepted buffer, through every loop step */
	s = 0;
	assert_int_equal(mpc_csum_partial(big, MPC_CSUM_MAX_LEN, &s), 0);
	assert_int_equal(mpc_csum_fold(s), ref_sum(big, MPC_CSUM_MAX_LEN));
	assert_int_equal(mpc_dss_csum(0xfedcba9876543210ULL, 7, 0xffff, big,
				      0xffff, &c),
			 0);
	assert_int_equal(c, ref_dss(0xfedcba9876543210ULL, 7, 0xffff, big,
				    0xffff));
	assert_true(mpc_dss_csum_verify(0xfedcba9876543210ULL, 7, 0xffff, big,
					0xffff, c));
	free(big);
}

/* ---- DSS checksum ------------------------------------------------------------ */

/*
 * By hand, cv_dss[0]: DSN 0x0123456789abcdef, SSN 1, length 5, "hello".
 * Words: 0123 4567 89ab cdef | 0000 0001 | 0005 0000 | 6865 6c6c 6f00
 *   0x0123 + 0x4567 = 0x0468a      + 0x89ab = 0x0d035
 *   + 0xcdef = 0x19e24             + 0x0001 = 0x19e25
 *   + 0x0005 = 0x19e2a             + 0x6865 = 0x2068f
 *   + 0x6c6c = 0x272fb             + 0x6f00 = 0x2e1fb
 *   fold: 0xe1fb + 0x2 = 0xe1fd;   checksum = ~0xe1fd = 0x1e02
 */
static void test_dss_hand(void **state)
{
	static const __u8 hello[] = {'h', 'e', 'l', 'l', 'o'};
	__u16 c = 0;

	assert_int_equal(
		mpc_dss_csum(0x0123456789abcdefULL, 1, 5, hello, 5, &c), 0);
	assert_int_equal(c, 0x1e02);
	assert_int_equal(cv_dss[0].csum, 0x1e02); /* the script agrees */
	assert_true(mpc_dss_csum_verify(0x0123456789abcdefULL, 1, 5, hello, 5,
					0x1e02));
	assert_false(mpc_dss_csum_verify(0x0123456789abcdefULL, 1, 5, hello, 5,
					 0x1e03));
	/* the pseudo-header alone: 0x19e2a folds to 0x9e2b */
	assert_int_equal(
		mpc_csum_fold(mpc_dss_pseudo_sum(0x0123456789abcdefULL, 1, 5)),
		0x9e2b);
}

static void test_dss_vectors(void **state)
{
	__u8 p[256];
	__u32 psum;
	size_t i, len, bit;
	__u16 c;

	for (i = 0; i < MPC_ARRAY_SIZE(cv_dss); i++) {
		const struct cv_dss *v = &cv_dss[i];

		len = from_hex(v->payload, p, sizeof(p));
		c = 0;
		assert_int_equal(mpc_dss_csum(v->dsn, v->ssn, v->dlen, p,
					      (__u32)len, &c),
				 0);
		assert_int_equal(c, v->csum);
		assert_int_equal(c, ref_dss(v->dsn, v->ssn, v->dlen, p, len));
		assert_true(mpc_dss_csum_verify(v->dsn, v->ssn, v->dlen, p,
						(__u32)len, v->csum));
		psum = 0;
		assert_int_equal(mpc_csum_partial(p, (__u32)len, &psum), 0);
		assert_int_equal(mpc_dss_csum_finish(v->dsn, v->ssn, v->dlen,
						     psum),
				 v->csum);
		assert_true(mpc_dss_csum_check(v->dsn, v->ssn, v->dlen, psum,
					       v->csum));

		/* one flipped bit anywhere is detected */
		for (bit = 0; bit < 8 * len; bit++) {
			p[bit / 8] ^= 1u << (bit % 8);
			assert_false(mpc_dss_csum_verify(v->dsn, v->ssn,
							 v->dlen, p, (__u32)len,
							 v->csum));
			p[bit / 8] ^= 1u << (bit % 8);
		}
		for (bit = 0; bit < 64; bit++)
			assert_false(mpc_dss_csum_verify(v->dsn ^ (1ULL << bit),
							 v->ssn, v->dlen, p,
							 (__u32)len, v->csum));
		for (bit = 0; bit < 32; bit++)
			assert_false(mpc_dss_csum_verify(
				v->dsn, v->ssn ^ (1u << bit), v->dlen, p,
				(__u32)len, v->csum));
		for (bit = 0; bit < 16; bit++) {
			assert_false(mpc_dss_csum_verify(
				v->dsn, v->ssn, (__u16)(v->dlen ^ (1u << bit)),
				p, (__u32)len, v->csum));
			assert_false(mpc_dss_csum_verify(
				v->dsn, v->ssn, v->dlen, p, (__u32)len,
				(__u16)(v->csum ^ (1u << bit))));
		}
	}
}

/* a mapping received as several segments of odd sizes */
static void test_dss_segments(void **state)
{
	static const __u32 cuts[] = {1, 3, 64, 65, 127, 128, 131};
	static __u8 p[131];
	__u32 total = 0, prev = 0, seg;
	size_t i;
	__u16 c;

	for (i = 0; i < sizeof(p); i++)
		p[i] = (__u8)(7 * i + 3); /* cv_dss[4]'s pattern */
	for (i = 0; i < MPC_ARRAY_SIZE(cuts); i++) {
		seg = 0;
		assert_int_equal(
			mpc_csum_partial(p + prev, cuts[i] - prev, &seg), 0);
		total = mpc_csum_block_add(total, seg, prev);
		prev = cuts[i];
	}
	assert_int_equal(mpc_dss_csum_finish(cv_dss[4].dsn, cv_dss[4].ssn,
					     cv_dss[4].dlen, total),
			 cv_dss[4].csum);
	assert_int_equal(mpc_dss_csum(cv_dss[4].dsn, cv_dss[4].ssn,
				      cv_dss[4].dlen, p, sizeof(p), &c),
			 0);
	assert_int_equal(c, cv_dss[4].csum);
}

/* RFC 1624 incremental updates agree with full recomputation */
static void test_csum_incremental(void **state)
{
	static __u8 p[300];
	__u64 dsn, dsn2;
	__u32 ssn, ssn2, len, off, w32, n32;
	__u16 dlen, dlen2, c, full, w16, n16;
	int n;

	for (n = 0; n < 1000; n++) {
		dsn = rng();
		ssn = (__u32)rng();
		dlen = (__u16)rng();
		len = (__u32)(rng() % (sizeof(p) + 1));
		for (off = 0; off < len; off++)
			p[off] = (__u8)rng();
		assert_int_equal(mpc_dss_csum(dsn, ssn, dlen, p, len, &c), 0);
		assert_int_equal(c, ref_dss(dsn, ssn, dlen, p, len));

		/* 64-bit DSN */
		dsn2 = rng();
		full = ref_dss(dsn2, ssn, dlen, p, len);
		assert_int_equal(mpc_csum_replace64(c, dsn, dsn2), full);
		/* 32-bit subflow sequence number */
		ssn2 = (__u32)rng();
		full = ref_dss(dsn, ssn2, dlen, p, len);
		assert_int_equal(mpc_csum_replace32(c, ssn, ssn2), full);
		/* 16-bit data-level length */
		dlen2 = (__u16)rng();
		full = ref_dss(dsn, ssn, dlen2, p, len);
		assert_int_equal(mpc_csum_replace16(c, dlen, dlen2), full);

		/* a 16-bit and a 32-bit word at an even payload offset */
		if (len >= 4) {
			off = (__u32)(rng() % (len - 2)) & ~1u;
			w16 = (__u16)((p[off] << 8) | p[off + 1]);
			n16 = (__u16)rng();
			p[off] = (__u8)(n16 >> 8);
			p[off + 1] = (__u8)n16;
			full = ref_dss(dsn, ssn, dlen, p, len);
			assert_int_equal(mpc_csum_replace16(c, w16, n16), full);
			c = full;

			off = (__u32)(rng() % (len - 3)) & ~1u;
			w32 = be32_at(p + off);
			n32 = (__u32)rng();
			put_be32_at(p + off, n32);
			full = ref_dss(dsn, ssn, dlen, p, len);
			assert_int_equal(mpc_csum_replace32(c, w32, n32), full);
		}
	}
}

/*
 * Zero edges. RFC 1624 eqn. 3 and a full computation differ only for data
 * that becomes all zero: full gives ~0x0000 = 0xffff, incremental 0x0000,
 * and the receiver check (sum including the checksum must be 0xffff)
 * accepts only 0xffff there. Data summing to negative zero (0xffff) has
 * checksum 0x0000 and also accepts 0xffff.
 */
static void test_csum_zero_edge(void **state)
{
	static const __u8 ones[] = {0xff, 0xff};
	__u16 c1, c0;

	assert_int_equal(mpc_dss_csum(0, 0, 1, NULL, 0, &c1), 0);
	assert_int_equal(c1, 0xfffe);
	assert_int_equal(mpc_dss_csum(0, 0, 0, NULL, 0, &c0), 0);
	assert_int_equal(c0, 0xffff);
	assert_int_equal(cv_dss[2].csum, 0xffff); /* the script agrees */
	assert_int_equal(mpc_csum_replace16(c1, 1, 0), 0x0000);
	assert_true(mpc_dss_csum_verify(0, 0, 0, NULL, 0, 0xffff));
	assert_false(mpc_dss_csum_verify(0, 0, 0, NULL, 0, 0x0000));
	assert_false(mpc_dss_csum_verify(0, 0, 0, NULL, 0, 0x0001));

	assert_int_equal(mpc_dss_csum(0, 0, 0, ones, 2, &c0), 0);
	assert_int_equal(c0, 0x0000);
	assert_true(mpc_dss_csum_verify(0, 0, 0, ones, 2, 0x0000));
	assert_true(mpc_dss_csum_verify(0, 0, 0, ones, 2, 0xffff));
	assert_false(mpc_dss_csum_verify(0, 0, 0, ones, 2, 0x0001));
	/* incremental into negative zero matches the full computation */
	assert_int_equal(mpc_csum_replace16(c1, 1, 0xffff), 0x0000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips),
		cmocka_unit_test(test_hmac_kunit),
		cmocka_unit_test(test_hmac_args),
		cmocka_unit_test(test_token_idsn),
		cmocka_unit_test(test_keygen_unique),
		cmocka_unit_test(test_keygen_retry),
		cmocka_unit_test(test_keygen_dense),
		cmocka_unit_test(test_mpj_vectors),
		cmocka_unit_test(test_add_addr_vectors),
		cmocka_unit_test(test_csum_basics),
		cmocka_unit_test(test_csum_partial_lengths),
		cmocka_unit_test(test_csum_limits),
		cmocka_unit_test(test_dss_hand),
		cmocka_unit_test(test_dss_vectors),
		cmocka_unit_test(test_dss_segments),
		cmocka_unit_test(test_csum_incremental),
		cmocka_unit_test(test_csum_zero_edge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
