/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * mptcp_crypto.h - the MPTCP v1 cryptography the agent needs (RFC 8684,
 * HMAC-SHA256 crypto algorithm, bit "H"): key -> token/IDSN (3.1), key
 * generation with token-collision avoidance, MP_JOIN HMACs (3.2) and the
 * ADD_ADDR HMAC (3.4.1). SHA-256 and HMAC-SHA256 come from OpenSSL
 * libcrypto; nothing here implements a hash.
 *
 * Byte order, once for every function below:
 *  - An MPTCP key is a __u64 holding the key's NUMERIC value in host byte
 *    order, i.e. what MPC_RD64() returns for the 8 key bytes of an
 *    MP_CAPABLE option. The crypto always uses the key's 8-byte
 *    network-order (big-endian) encoding, which is exactly the bytes on the
 *    wire (RFC 8684 3.1: "the key MUST be hashed in network byte order").
 *  - A token is the numeric value of the token field (host order, as
 *    MPC_RD32() returns it); on the wire it is sent big-endian.
 *  - An IDSN is a 64-bit numeric value in host order.
 *  - An MP_JOIN random number (R-A, R-B) is the numeric value of the 32-bit
 *    "Sender's Random Number" field (host order, as MPC_RD32() returns it);
 *    it enters the HMAC message in network byte order (the wire bytes).
 *  - Byte arrays (HMAC outputs, IP addresses, generic HMAC messages) are
 *    raw octet strings in wire order and are used as they are.
 *  - A port is a host-order number; it enters the ADD_ADDR message
 *    big-endian, as on the wire.
 *
 * Return values: 0 on success, a negative errno otherwise (-EINVAL for bad
 * arguments, -EIO when libcrypto failed, -EBUSY when key generation ran out
 * of tries). The *_verify() helpers return true only for a correct value
 * and compare in constant time (CRYPTO_memcmp); a libcrypto failure makes
 * them return false.
 *
 * Every function is thread-safe (no state besides OpenSSL's own).
 */
#ifndef MPCONV_AGENT_MPTCP_CRYPTO_H
#define MPCONV_AGENT_MPTCP_CRYPTO_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#define MPC_SHA256_LEN 32	  /* SHA-256 and HMAC-SHA256 output */
#define MPC_MPTCP_KEY_LEN 8	  /* one MPTCP key on the wire */
#define MPC_MPJ_SYNACK_HMAC_LEN 8 /* leftmost 64 bits of HMAC-B */
#define MPC_MPJ_ACK_HMAC_LEN 20	  /* leftmost 160 bits of HMAC-A */
#ifndef MPC_ADD_ADDR_HMAC_LEN	  /* also in mpconv/mptcp_opt.h */
#define MPC_ADD_ADDR_HMAC_LEN 8	  /* rightmost 64 bits of the HMAC */
#endif
#define MPC_KEYGEN_DEFAULT_TRIES 256

/* ---- primitives (OpenSSL) ---------------------------------------------- */

/* SHA-256 of len bytes at data (data may be NULL when len is 0) */
int mpc_sha256(const void *data, size_t len, __u8 out[MPC_SHA256_LEN]);

/*
 * The generic MPTCP HMAC: HMAC-SHA256 with the 16-byte key
 * BE64(key1) || BE64(key2) over the len message bytes at msg (raw octets,
 * used as given; msg may be NULL when len is 0). The full 32-byte result
 * is written to out. This is the kernel's mptcp_crypto_hmac_sha() without
 * its 32-byte message limit.
 */
int mpc_mptcp_hmac(__u64 key1, __u64 key2, const __u8 *msg, size_t len,
		   __u8 out[MPC_SHA256_LEN]);

/* constant-time equality of two len-byte buffers (CRYPTO_memcmp) */
bool mpc_crypto_memeq(const void *a, const void *b, size_t len);

/* ---- RFC 8684 3.1: key, token, IDSN ----------------------------------- */

/*
 * SHA-256 over BE64(key). token = the most significant (leftmost) 32 bits
 * of the digest, read big-endian: digest[0..3]. idsn = the least
 * significant (rightmost) 64 bits, read big-endian: digest[24..31].
 * Either output pointer may be NULL.
 */
int mpc_mptcp_key_sha(__u64 key, __u32 *token, __u64 *idsn);

/*
 * Answers whether a token is already used by one of the caller's
 * connections. Called with the candidate token (host order) and ctx.
 */
typedef bool (*mpc_token_in_use_fn)(__u32 token, void *ctx);

/*
 * Generate a key with RAND_bytes() (a CSPRNG, as RFC 8684 3.1 and
 * RFC 4086 ask) whose token in_use() does not report as taken. A candidate
 * whose token is in use is discarded and a fresh key drawn, up to
 * max_tries candidates in all (0 means MPC_KEYGEN_DEFAULT_TRIES); then
 * -EBUSY. in_use may be NULL (no collision check). Since equal keys have
 * equal tokens, a token not in use also means the key is not in use.
 *
 * The predicate is only consulted: the caller must record the token
 * (under the same lock the predicate reads) before calling again, or two
 * calls may hand out the same token.
 *
 * On success *key, and when not NULL *token and *idsn, are set; on
 * failure *key is set to 0 and the others are left alone.
 */
int mpc_mptcp_key_gen(mpc_token_in_use_fn in_use, void *ctx,
		      unsigned int max_tries, __u64 *key, __u32 *token,
		      __u64 *idsn);

/* ---- RFC 8684 3.2: MP_JOIN --------------------------------------------- */

/*
 * Roles follow RFC 8684 3.2 / Figure 8: Host A is the subflow initiator
 * (the host that sends the SYN + MP_JOIN and later the ACK + HMAC-A),
 * Host B the responder (sends SYN/ACK + HMAC-B). key_a / key_b are the
 * keys hosts A and B announced in the connection's MP_CAPABLE handshake -
 * whichever of them initiated that connection. r_a is the random number
 * A sent in its SYN, r_b the one B sent in its SYN/ACK.
 *
 * Every function takes its arguments in the same order (key_a, key_b,
 * r_a, r_b) whichever host computes it; the functions put them in the
 * order the RFC prescribes:
 *   HMAC-A = HMAC(Key = Key-A || Key-B, Msg = R-A || R-B)
 *   HMAC-B = HMAC(Key = Key-B || Key-A, Msg = R-B || R-A)
 */

/* full 32-byte HMAC-B (sent, truncated, by B in the SYN/ACK) */
int mpc_mpj_hmac_b(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
		   __u8 out[MPC_SHA256_LEN]);

/* full 32-byte HMAC-A (sent, truncated, by A in the third ACK) */
int mpc_mpj_hmac_a(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
		   __u8 out[MPC_SHA256_LEN]);

/*
 * B's SYN/ACK value: the leftmost 64 bits of HMAC-B, i.e. bytes 0..7 of the
 * digest, in the order they go into the "Sender's Truncated HMAC" field.
 */
int mpc_mpj_synack_hmac(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
			__u8 out[MPC_MPJ_SYNACK_HMAC_LEN]);

/* A's ACK value: the leftmost 160 bits of HMAC-A (digest bytes 0..19) */
int mpc_mpj_ack_hmac(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
		     __u8 out[MPC_MPJ_ACK_HMAC_LEN]);

/* A checks the 8 bytes received in B's SYN/ACK (constant time) */
bool mpc_mpj_synack_verify(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
			   const __u8 rcvd[MPC_MPJ_SYNACK_HMAC_LEN]);

/* B checks the 20 bytes received in A's ACK (constant time) */
bool mpc_mpj_ack_verify(__u64 key_a, __u64 key_b, __u32 r_a, __u32 r_b,
			const __u8 rcvd[MPC_MPJ_ACK_HMAC_LEN]);

/* ---- RFC 8684 3.4.1: ADD_ADDR ------------------------------------------- */

/*
 * The ADD_ADDR truncated HMAC: the RIGHTMOST 64 bits (digest bytes
 * 24..31) of HMAC(Key = BE64(key_sender) || BE64(key_receiver),
 * Msg = Address ID || address || BE16(port)), where key_sender is the key
 * of the host that sends the ADD_ADDR and key_receiver the peer's.
 *
 * addr is addr_len (4 for IPv4, 16 for IPv6) bytes in network order (the
 * bytes of a struct in_addr / in6_addr, as in the option). port is the
 * host-order port of the option, 0 when the option carries no port: RFC
 * 8684 3.4.1 says "If the port is not present in the ADD_ADDR option, the
 * HMAC message will nevertheless include 2 octets of value zero", and Linux
 * (add_addr_generate_hmac()) does so, so the message is always
 * 1 + addr_len + 2 bytes. Other addr_len values give -EINVAL.
 */
int mpc_add_addr_hmac(__u64 key_sender, __u64 key_receiver, __u8 addr_id,
		      const __u8 *addr, size_t addr_len, __u16 port,
		      __u8 out[MPC_ADD_ADDR_HMAC_LEN]);

/* the receiver checks a received truncated HMAC (constant time) */
bool mpc_add_addr_verify(__u64 key_sender, __u64 key_receiver, __u8 addr_id,
			 const __u8 *addr, size_t addr_len, __u16 port,
			 const __u8 rcvd[MPC_ADD_ADDR_HMAC_LEN]);

#endif /* MPCONV_AGENT_MPTCP_CRYPTO_H */
