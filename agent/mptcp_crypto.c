// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mptcp_crypto.c - RFC 8684 key/token/IDSN, MP_JOIN and ADD_ADDR HMACs on
 * top of OpenSSL 3 (EVP_Digest, one-shot HMAC, RAND_bytes, CRYPTO_memcmp).
 * Byte-order conventions are in mptcp_crypto.h.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "mptcp_crypto.h"

/* largest ADD_ADDR HMAC message: Address ID + IPv6 address + port */
#define MPC_ADD_ADDR_MSG_MAX (1 + 16 + 2)

static void put_be32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static void put_be64(__u8 *p, __u64 v)
{
	put_be32(p, (__u32)(v >> 32));
	put_be32(p + 4, (__u32)v);
}

static __u32 get_be32(const __u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) |
	       (__u32)p[3];
}

static __u64 get_be64(const __u8 *p)
{
	return ((__u64)get_be32(p) << 32) | (__u64)get_be32(p + 4);
}

int mpc_sha256(const void *data, size_t len, __u8 out[MPC_SHA256_LEN])
{
	static const __u8 empty;
	unsigned int outlen = 0;

	if (!out || (!data && len))
		return -EINVAL;
	if (!data)
		data = &empty;
	if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 ||
	    outlen != MPC_SHA256_LEN)
		return -EIO;
	return 0;
}

int mpc_mptcp_hmac(__u64 key1, __u64 key2, const __u8 *msg, size_t len,
		   __u8 out[MPC_SHA256_LEN])
{
	static const __u8 empty;
	__u8 key[2 * MPC_MPTCP_KEY_LEN];
	unsigned int outlen = 0;
	unsigned char *res;

	if (!out || (!msg && len))
		return -EINVAL;
	if (!msg)
		msg = &empty;
	/* the HMAC key is the two 64-bit keys in network byte order */
	put_be64(key, key1);
	put_be64(key + MPC_MPTCP_KEY_LEN, key2);
	res = HMAC(EVP_sha256(), key, (int)sizeof(key), msg, len, out, &outlen);
	OPENSSL_cleanse(key, sizeof(key));
	if (!res || outlen != MPC_SHA256_LEN)
		return -EIO;
	return 0;
}

bool mpc_crypto_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int mpc_mptcp_key_sha(__u64 key, __u32 *token, __u64 *idsn)
{
	__u8 in[MPC_MPTCP_KEY_LEN], md[MPC_SHA256_LEN];
	int rc;

	put_be64(in, key); /* RFC 8684 3.1: hashed in network byte order */
	rc = mpc_sha256(in, sizeof(in), md);
	if (rc)
		return rc;
	/* most significant 32 bits = leftmost digest bytes */
	if (token)
		*token = get_be32(md);
	/* least significant 64 bits = rightmost digest bytes (RFC 6234) */
	if (idsn)
		*idsn = get_be64(md + MPC_SHA256_LEN - 8);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int mpc_mptcp_key_gen(mpc_token_in_use_fn in_use, void *ctx,
		      unsigned int max_tries, __u64 *key, __u32 *token,
		      __u64 *idsn)
{
	__u8 rnd[MPC_MPTCP_KEY_LEN];
	unsigned int i;
	__u64 cand, cand_idsn;
	__u32 cand_token;
	int rc;

	if (!key)
		return -EINVAL;
	*key = 0;
	if (!max_tries)
		max_tries = MPC_KEYGEN_DEFAULT_TRIES;
	for (i = 0; i < max_tries; i++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -EIO;
		cand = get_be64(rnd);
		OPENSSL_cleanse(rnd, sizeof(rnd));
		rc = mpc_mptcp_key_sha(cand, &cand_token, &cand_idsn);
		if (rc)
			return rc;
		if (in_use && in_use(cand_token, ctx))
			continue;
		*key = cand;
		if (token)
			*token = cand_token;
		if (idsn)
			*idsn = cand_idsn;
		return 0;
	}
	return -EBUSY;
}

/* HMAC(BE64(k1) || BE64(k2), BE32(r1) || BE32(r2)): both MP_JOIN HMACs */
static int mpj_hmac(__u64 k1, __u64 k2, __u32 r1, __u32 r2,
		    __u8 out[MPC_SHA256_LEN])
{
	__u8 msg[8];

	put_be32(msg, r1);
	put_be32(msg + 4, r2);
	return mpc_mptcp_hmac(k1, k2, msg, sizeof(msg), out);
}

int mpc_mpj_hmac_b(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
		   __u8 out[MPC_SHA256_LEN])
{
	/* Key = Key-B || Key-A, Msg = R-B || R-A */
	return mpj_hmac(key_b, key_a, r_b, r_a, out);
}

int mpc_mpj_hmac_a(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
		   __u8 out[MPC_SHA256_LEN])
{
	/* Key = Key-A || Key-B, Msg = R-A || R-B */
	return mpj_hmac(key_a, key_b, r_a, r_b, out);
}

int mpc_mpj_synack_hmac(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
			__u8 out[MPC_MPJ_SYNACK_HMAC_LEN])
{
	__u8 md[MPC_SHA256_LEN];
	int rc;

	if (!out)
		return -EINVAL;
	rc = mpc_mpj_hmac_b(key_a, key_b, r_a, r_b, md);
	if (!rc)
		memcpy(out, md, MPC_MPJ_SYNACK_HMAC_LEN); /* leftmost 64 */
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

int mpc_mpj_ack_hmac(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
		     __u8 out[MPC_MPJ_ACK_HMAC_LEN])
{
	__u8 md[MPC_SHA256_LEN];
	int rc;

	if (!out)
		return -EINVAL;
	rc = mpc_mpj_hmac_a(key_a, key_b, r_a, r_b, md);
	if (!rc)
		memcpy(out, md, MPC_MPJ_ACK_HMAC_LEN); /* leftmost 160 */
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

bool mpc_mpj_synack_verify(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
			   const __u8 rcvd[MPC_MPJ_SYNACK_HMAC_LEN])
{
	__u8 exp[MPC_MPJ_SYNACK_HMAC_LEN];
	bool ok;

	if (!rcvd || mpc_mpj_synack_hmac(key_a, key_b, r_a, r_b, exp))
		return false;
	ok = mpc_crypto_memeq(exp, rcvd, sizeof(exp));
	OPENSSL_cleanse(exp, sizeof(exp));
	return ok;
}

bool mpc_mpj_ack_verify(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
			const __u8 rcvd[MPC_MPJ_ACK_HMAC_LEN])
{
	__u8 exp[MPC_MPJ_ACK_HMAC_LEN];
	bool ok;

	if (!rcvd || mpc_mpj_ack_hmac(key_a, key_b, r_a, r_b, exp))
		return false;
	ok = mpc_crypto_memeq(exp, rcvd, sizeof(exp));
	OPENSSL_cleanse(exp, sizeof(exp));
	return ok;
}

int mpc_add_addr_hmac(__u64 key_sender, __u64 key_receiver, __u8 addr_id,
		      const __u8 *addr, size_t addr_len, __u16 port,
		      __u8 out[MPC_ADD_ADDR_HMAC_LEN])
{
	__u8 msg[MPC_ADD_ADDR_MSG_MAX], md[MPC_SHA256_LEN];
	size_t n = 0;
	int rc;

	if (!addr || !out || (addr_len != 4 && addr_len != 16))
		return -EINVAL;
	msg[n++] = addr_id;
	memcpy(msg + n, addr, addr_len);
	n += addr_len;
	/* always two port bytes, zero when the option has no port */
	msg[n++] = (__u8)(port >> 8);
	msg[n++] = (__u8)port;
	rc = mpc_mptcp_hmac(key_sender, key_receiver, msg, n, md);
	if (!rc) /* rightmost 64 bits */
		memcpy(out, md + MPC_SHA256_LEN - MPC_ADD_ADDR_HMAC_LEN,
		       MPC_ADD_ADDR_HMAC_LEN);
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

bool mpc_add_addr_verify(__u64 key_sender, __u64 key_receiver, __u8 addr_id,
			 const __u8 *addr, size_t addr_len, __u16 port,
			 const __u8 rcvd[MPC_ADD_ADDR_HMAC_LEN])
{
	__u8 exp[MPC_ADD_ADDR_HMAC_LEN];
	bool ok;

	if (!rcvd || mpc_add_addr_hmac(key_sender, key_receiver, addr_id, addr,
				       addr_len, port, exp))
		return false;
	ok = mpc_crypto_memeq(exp, rcvd, sizeof(exp));
	OPENSSL_cleanse(exp, sizeof(exp));
	return ok;
}
