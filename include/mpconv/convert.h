/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * convert.h - RFC 8803 (0-RTT TCP Convert Protocol) messages: parse and build.
 *
 * A Convert message is the 4-byte fixed header (RFC 8803 6.1) followed by
 * TLVs (6.2); its Total Length is counted in 32-bit words and is an 8-bit
 * field, so a message is at most 255 * 4 = 1020 bytes. Bytes after the
 * message are user data; the parser never looks at them.
 *
 * Buffers: in BPF every buffer the parser reads or a builder writes must be
 * MPC_CONV_CAP (1024) bytes long (a per-CPU map value as scratch), so that
 * MPC_RD8/MPC_WR8 with MPC_CONV_MASK stay inside it. On the host any buffer
 * works: the code only touches indexes below the length it was given
 * (which it caps at 1020, so the mask never changes an index).
 *
 * Parse: mpc_conv_parse() validates one message against every rule of
 * RFC 8803 section 6 and returns 0 or a negative enum mpc_err; in every case
 * m->answer says what the receiver must do (enum mpc_conv_action). The
 * parser only ever produces the Error codes Unsupported Version,
 * Malformed Message and Unsupported Message; the others (Missing Cookie,
 * Not Authorized, Unsupported TCP Option, ...) are policy decisions of the
 * caller, helped by mpc_conv_check_opts() and the builders.
 *
 * Where RFC 8803 leaves room, the choices made here are (each is also
 * noted at the check that implements it):
 *  D1  Roles. A client sends Info, Connect, Cookie. A converter sends
 *      Connect (incoming connections, 4.2 and 5.2), Extended TCP Header,
 *      Supported TCP Extensions, Error. Any other known type from a
 *      client gets Unsupported Message (6.2.8: "a message type received
 *      from a Client is not supported"); from a converter it resets.
 *  D2  A client answers every invalid message with a reset: the RFC
 *      mandates it for type 0, duplicates, Total Length 0 and Error TLVs,
 *      and for anything else a client has no other answer (it does not
 *      send Error TLVs, and it cannot tell where user data starts).
 *  D3  A header-only message (Total Length 1) is valid from both sides:
 *      Figures 5 and 6 show "SYN+ACK [ ]" although 6 says "one or more
 *      TLVs". m->tlvs == 0 then; a converter that got it in a SYN applies
 *      "SHOULD silently ignore SYNs with no Convert TLVs" (6) itself, the
 *      parser does not know whether the bytes came in a SYN.
 *  D4  Checks run in this order and the first failure is reported: magic,
 *      version, Total Length, then TLV framing in message order (type,
 *      duplicate, length), then TLV contents in the order Info, Connect,
 *      Extended TCP Header, Supported Extensions, Cookie, Error (all
 *      content faults get the same answer). Framing of the whole message
 *      before contents follows section 9 ("MUST check that the Convert TLVs
 *      are properly framed within the boundary indicated by the Total
 *      Length"). An error is reported as soon as the bytes that show it are
 *      present, even when later bytes of the message are still missing.
 *  D5  Zero padding (Connect TCP Options, Supported TCP Extensions, the
 *      lists of Error codes 0 and 33) must be shorter than 4 bytes ("padded
 *      to end on a 32-bit boundary"); a zero word where an entry is expected
 *      is an entry of kind/version 0, which the RFC forbids.
 *  D6  Connect addresses: ::/96 (which holds ::, ::1 and the deprecated
 *      IPv4-compatible form) is refused because IPv4 "MUST be encoded
 *      using the IPv4-mapped IPv6 address format"; 0.0.0.0/8 and :: are
 *      refused like loopback (RFC 6890 marks them "Destination: False", and
 *      a Linux connect() to them reaches the local host); "broadcast" is
 *      the limited broadcast 255.255.255.255 only (directed broadcasts
 *      depend on configuration the parser does not have). Port 0 is
 *      refused (reserved, not connectable). All Malformed Message.
 *  D7  Extended Connect TCP Options: kind 1 anywhere is Malformed (6.2.5
 *      "MUST NOT be placed" and the field has no one-byte entries); kind 0
 *      where a kind is expected starts the padding. Section 7.1 "MUST
 *      ignore options with Kind=0, 1, or 2" is applied by
 *      mpc_conv_check_opts() to kind 2 (and 3, 5 of 7.2, 7.3), which the
 *      parser accepts. Kind-specific lengths are not the parser's
 *      business: mpc_conv_check_opts() reports those it cannot use.
 *  D8  Fields the RFC names "Zero" (Info, Cookie, Figure 23's "Zeros",
 *      Missing Cookie's first value byte, Not Authorized and Connection
 *      Reset values) must be zero. "Unassigned" fields (Extended TCP
 *      Header, Supported TCP Extensions) are "ignored by the receiver"
 *      and so are not checked: those two are the only non-canonical
 *      inputs the parser accepts.
 *  D9  TLV sizes: Info exactly 1 word (Table 1), Connect >= 5 words
 *      (Figure 17), Cookie >= 2 words (an empty cookie cannot be
 *      validated), Extended TCP Header <= 11 words (a SYN+ACK carries at
 *      most 40 bytes of options; none is fine). Error TLV per code:
 *      0 and 33 a non-empty list; 1 and 2 an echo of >= 4 bytes (every
 *      message has a 4-byte header to echo); 3 a cookie of >= 4 bytes;
 *      32, 64, 65, 96, 97 exactly one word (their Value is one byte);
 *      unknown codes any length (the client resets on every Error TLV).
 *  D10 Supported TCP Extensions: besides kinds 1 and 2 (6.2.4), kinds 3,
 *      5 and 29 are refused (7.2, 7.3, 7.7 "MUST NOT announce/advertise").
 *      Error 33 lists never hold kinds 0 or 1 (they cannot be in a Connect).
 *  D11 Duplicates: 6.2.1 forbids a TLV twice "on a connection"; the parser
 *      sees one message, so callers that read several messages on one
 *      connection accumulate with mpc_conv_note_seen().
 *  D12 Echo (Figure 23): the echoed message is the received Convert
 *      message (not the user data after it), cut to what fits in one reply
 *      (1012 bytes after the reply's header and the Error TLV's 4 bytes).
 *
 * Verifier note (kernel 6.18, clang 14; tests/fixtures/bpf/probe_convert).
 * A masked read MPC_RD8(b, start + pos, MASK) makes the verifier mark pos
 * precise ("mark_precise: ... r1 &= 1023 ... r3 += r4"), so an offset that
 * MPC_LOOP carries from one call to the next is never widened: each call
 * sees a new, larger range and the callback is verified again, up to the
 * limit of whatever bounds the offset. Rule V1: every carried offset is
 * also capped by a constant at the top of its callback (off >=
 * MPC_CONV_MAXLEN, pos >= MPC_CONV_TLV_MAX), so its range saturates after
 * a few calls and later states are pruned. Without it the probe processed
 * 329532 instructions (mpc_conv_check_opts() alone 176696, where the only
 * other bound was a 16-bit length); with it about 35000. Other changes
 * (where the exact-fill check sits, guards after the loops) moved the
 * count by +-20% depending on exploration order and were not kept.
 */
#ifndef MPCONV_CONVERT_H
#define MPCONV_CONVERT_H

#include "compat.h"

#define MPC_CONV_VERSION 1
#define MPC_CONV_MAGIC 0x2263
#define MPC_CONV_HDR_LEN 4
#define MPC_CONV_MAXLEN 1020 /* 255 words */
#define MPC_CONV_CAP 1024
#define MPC_CONV_MASK (MPC_CONV_CAP - 1)
#define MPC_CONV_TLV_MAX (MPC_CONV_MAXLEN - MPC_CONV_HDR_LEN) /* 1016 */
#define MPC_CONV_CONNECT_WORDS 5 /* Base Connect TLV, Figure 17 */
#define MPC_CONV_CONNECT_LEN 20
#define MPC_CONV_XHDR_MAX_OPTS 40 /* TCP option space of a SYN+ACK */
#define MPC_CONV_ECHO_MAX (MPC_CONV_TLV_MAX - 4) /* D12: 1012 */
#define MPC_CONV_MSG_SIZE 76 /* sizeof(struct mpc_conv_msg) */

enum mpc_conv_tlv_type {
	MPC_CONV_TLV_INFO = 1,
	MPC_CONV_TLV_CONNECT = 10,
	MPC_CONV_TLV_XHDR = 20,	     /* Extended TCP Header */
	MPC_CONV_TLV_SUPPORTED = 21, /* Supported TCP Extensions */
	MPC_CONV_TLV_COOKIE = 22,
	MPC_CONV_TLV_ERROR = 30,
};

/* index of each TLV type in mpc_conv_msg.tlv_off/tlv_words */
enum mpc_conv_tlv_idx {
	MPC_CONV_I_INFO,
	MPC_CONV_I_CONNECT,
	MPC_CONV_I_XHDR,
	MPC_CONV_I_SUPPORTED,
	MPC_CONV_I_COOKIE,
	MPC_CONV_I_ERROR,
	MPC_CONV_NTYPES
};

/* presence bits in mpc_conv_msg.tlvs */
#define MPC_CONV_F_INFO (1u << MPC_CONV_I_INFO)
#define MPC_CONV_F_CONNECT (1u << MPC_CONV_I_CONNECT)
#define MPC_CONV_F_XHDR (1u << MPC_CONV_I_XHDR)
#define MPC_CONV_F_SUPPORTED (1u << MPC_CONV_I_SUPPORTED)
#define MPC_CONV_F_COOKIE (1u << MPC_CONV_I_COOKIE)
#define MPC_CONV_F_ERROR (1u << MPC_CONV_I_ERROR)
/* D1: which side may send which TLV */
#define MPC_CONV_FROM_CLIENT_OK \
	(MPC_CONV_F_INFO | MPC_CONV_F_CONNECT | MPC_CONV_F_COOKIE)
#define MPC_CONV_FROM_CONVERTER_OK                                     \
	(MPC_CONV_F_CONNECT | MPC_CONV_F_XHDR | MPC_CONV_F_SUPPORTED | \
	 MPC_CONV_F_ERROR)

/* RFC 8803 Table 2 */
enum mpc_conv_errcode {
	MPC_CONV_E_UNSUPPORTED_VERSION = 0,
	MPC_CONV_E_MALFORMED = 1,
	MPC_CONV_E_UNSUPPORTED_MSG = 2,
	MPC_CONV_E_MISSING_COOKIE = 3,
	MPC_CONV_E_NOT_AUTHORIZED = 32,
	MPC_CONV_E_UNSUPPORTED_OPT = 33,
	MPC_CONV_E_RESOURCE_EXCEEDED = 64,
	MPC_CONV_E_NETWORK_FAILURE = 65,
	MPC_CONV_E_CONNECTION_RESET = 96,
	MPC_CONV_E_DEST_UNREACHABLE = 97,
};

/* who sent the bytes given to mpc_conv_parse() */
enum mpc_conv_role {
	MPC_CONV_FROM_CLIENT = 0,    /* we are the converter */
	MPC_CONV_FROM_CONVERTER = 1, /* we are the client */
};

/* what the receiver must do (mpc_conv_msg.answer.action) */
enum mpc_conv_action {
	/* valid message: act on its TLVs, user data starts at msg_len */
	MPC_CONV_ACT_ACCEPT = 0,
	/* valid so far, but the message needs m->need bytes: wait for more */
	MPC_CONV_ACT_INCOMPLETE = 1,
	/* not a Convert message: ignore the SYN silently (6) */
	MPC_CONV_ACT_IGNORE = 2,
	/* converter: send an Error TLV with answer.code (mpc_conv_put_answer)
	 * and close the connection, without an immediate RST (6.2.2) */
	MPC_CONV_ACT_ERROR = 3,
	/* reset the connection */
	MPC_CONV_ACT_RESET = 4,
};

struct mpc_conv_answer {
	__u8 action; /* enum mpc_conv_action */
	__u8 code;   /* enum mpc_conv_errcode, with MPC_CONV_ACT_ERROR */
	__u16 where; /* input offset of the offending byte (diagnostics) */
};

/*
 * A parsed message. Offsets are from the start of the input buffer (the
 * message's first byte), lengths in bytes unless named *_words or *_n.
 * Everything is valid when mpc_conv_parse() returned 0; after a failure
 * the fields of TLVs recorded before the fault are valid.
 */
struct mpc_conv_msg {
	__u8 version;	  /* fixed header: Version */
	__u8 total_words; /* fixed header: Total Length */
	__u16 msg_len;	  /* total_words * 4: where user data starts */
	__u16 avail;	  /* bytes of the message present in the input */
	__u16 need;	  /* bytes needed, with MPC_CONV_ACT_INCOMPLETE */
	struct mpc_conv_answer answer;
	__u8 tlvs;			 /* MPC_CONV_F_* of the TLVs present */
	__u8 n_tlvs;			 /* how many */
	__u8 tlv_words[MPC_CONV_NTYPES]; /* each TLV's Length field */
	__u16 tlv_off[MPC_CONV_NTYPES];	 /* each TLV's Type byte */
	/* Connect (10) */
	__u16 port;    /* Remote Peer Port */
	__u8 addr[16]; /* Remote Peer IP Address, network order */
	__u16 opt_off; /* Extended Connect: first TCP option */
	__u16 opt_len; /* option bytes, zero padding excluded */
	__u16 opt_n;   /* number of options (0: Base Connect) */
	/* Extended TCP Header (20) */
	__u16 xhdr_off; /* Returned Extended TCP header */
	__u16 xhdr_len;
	/* Supported TCP Extensions (21) */
	__u16 sup_off; /* first Kind */
	__u16 sup_n;   /* number of kinds, padding excluded */
	/* Cookie (22) */
	__u16 cookie_off; /* Opaque Cookie */
	__u16 cookie_len;
	/* Error (30) */
	__u8 err_code;	/* Error Code */
	__u8 err_value; /* one-byte Value (codes 32, 64, 65, 96, 97) */
	__u16 err_off;	/* Value part: see mpc_conv_chk_error() */
	__u16 err_len;
	__u16 _pad; /* zero */
};

_Static_assert(sizeof(struct mpc_conv_msg) == MPC_CONV_MSG_SIZE,
	       "mpc_conv_msg is part of map values: keep its size");

/* ---- small helpers -------------------------------------------------- */

MPC_INLINE __u32 mpc_conv_type_idx(__u8 type)
{
	switch (type) {
	case MPC_CONV_TLV_INFO:
		return MPC_CONV_I_INFO;
	case MPC_CONV_TLV_CONNECT:
		return MPC_CONV_I_CONNECT;
	case MPC_CONV_TLV_XHDR:
		return MPC_CONV_I_XHDR;
	case MPC_CONV_TLV_SUPPORTED:
		return MPC_CONV_I_SUPPORTED;
	case MPC_CONV_TLV_COOKIE:
		return MPC_CONV_I_COOKIE;
	case MPC_CONV_TLV_ERROR:
		return MPC_CONV_I_ERROR;
	default:
		return MPC_CONV_NTYPES;
	}
}

/*
 * Bit k of a 256-bit kind bitmap. The switch instead of map[k >> 6] keeps
 * the verifier away from variable-offset stack reads ("invalid
 * variable-offset read from stack") when the map is on the BPF stack.
 */
MPC_INLINE bool mpc_conv_kind_test(const __u64 *map, __u8 k)
{
	__u64 w;

	switch (k >> 6) {
	case 0:
		w = map[0];
		break;
	case 1:
		w = map[1];
		break;
	case 2:
		w = map[2];
		break;
	default:
		w = map[3];
		break;
	}
	return (w >> (k & 63)) & 1;
}

MPC_INLINE void mpc_conv_kind_set(__u64 *map, __u8 k)
{
	__u64 bit = 1ull << (k & 63);

	switch (k >> 6) {
	case 0:
		map[0] |= bit;
		break;
	case 1:
		map[1] |= bit;
		break;
	case 2:
		map[2] |= bit;
		break;
	default:
		map[3] |= bit;
		break;
	}
}

MPC_INLINE bool mpc_conv_addr_is_v4mapped(const __u8 *a)
{
	__u32 k;

	for (k = 0; k < 10; k++)
		if (a[k])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

/*
 * Whether a Remote Peer IP Address (16 bytes, network order) may be used:
 * 6.2.5 "The Remote Peer IP Address MUST be encoded as an IPv6 address.
 * IPv4 addresses MUST be encoded using the IPv4-mapped IPv6 address format
 * ... MUST NOT include multicast, broadcast, or host loopback addresses".
 * See D6 for the unspecified addresses and ::/96.
 */
MPC_INLINE bool mpc_conv_peer_ok(const __u8 *a)
{
	__u32 k;

	if (mpc_conv_addr_is_v4mapped(a)) {
		if (a[12] == 0) /* 0.0.0.0/8: D6 */
			return false;
		if (a[12] == 127) /* 127.0.0.0/8 loopback */
			return false;
		if (a[12] >= 224 && a[12] <= 239) /* 224.0.0.0/4 multicast */
			return false;
		if (a[12] == 255 && a[13] == 255 && a[14] == 255 &&
		    a[15] == 255) /* limited broadcast */
			return false;
		return true;
	}
	if (a[0] == 0xff) /* ff00::/8 multicast */
		return false;
	for (k = 0; k < 12; k++)
		if (a[k])
			return true;
	/* ::/96: ::, ::1 (loopback), IPv4-compatible (not v4-mapped): D6 */
	return false;
}

/* ---- parser --------------------------------------------------------- */

/* state of the TLV framing walk */
struct mpc_conv_walk {
	const __u8 *b;
	struct mpc_conv_msg *m;
	__u32 avail;   /* message bytes present */
	__u32 total;   /* message bytes (Total Length * 4) */
	__u32 off;     /* next TLV */
	__u32 allowed; /* MPC_CONV_F_* this sender may send */
	__u32 where;
	int rc;
	__u8 code; /* Error code for a converter to send */
};

/*
 * Bound of the TLV walk. Every call either stops the walk or records a TLV
 * whose type is one of the MPC_CONV_NTYPES known types and was not recorded
 * before (duplicates and unknown types stop the walk). So at most
 * MPC_CONV_NTYPES calls record, and the next one must stop: the walk never
 * needs more than MPC_CONV_NTYPES + 1 calls, whatever the input.
 */
#define MPC_CONV_WALK_STEPS (MPC_CONV_NTYPES + 1)

/* one TLV per call; see MPC_LOOP for why this is a callback */
MPC_CALLBACK long mpc_conv_tlv_step(__u32 i, void *arg)
{
	struct mpc_conv_walk *w = arg;
	struct mpc_conv_msg *m = w->m;
	const __u8 *b = w->b;
	__u32 off = w->off, idx, words, bit;
	__u8 type;

	(void)i;
	/* the constant cap on the carried offset is for the verifier (V1) */
	if (off >= w->total || off >= MPC_CONV_MAXLEN)
		return 1;
	if (off >= w->avail) {
		w->where = off;
		goto trunc;
	}
	type = MPC_RD8(b, off, MPC_CONV_MASK);
	/* 6.2.2 "Type 0x0 is a reserved value. If a Client receives a TLV of
	 * type 0x0, it MUST reset ... If a Converter receives a TLV of type
	 * 0x0, it MUST return an Unsupported Message Error TLV" */
	if (type == 0)
		goto unsupported;
	/* 6.2.8 Unsupported Message: "a message type received from a Client
	 * is not supported"; "invalid or unknown TLVs" (0-31 range) */
	idx = mpc_conv_type_idx(type);
	if (idx >= MPC_CONV_NTYPES)
		goto unsupported;
	bit = 1u << idx;
	/* D1: a TLV the sender's role never sends */
	if (!(w->allowed & bit))
		goto unsupported;
	/* 6.2.1 "A given TLV MUST only appear once ... If a Client receives
	 * two or more instances of the same TLV ..., it MUST reset ... If a
	 * Converter receives two or more instances ..., it MUST return a
	 * Malformed Message Error TLV" */
	if (m->tlvs & bit) {
		w->rc = -MPC_E_DUP;
		goto malformed;
	}
	w->where = off;
	if (off + 2 > w->avail)
		goto trunc;
	words = MPC_RD8(b, off + 1, MPC_CONV_MASK);
	w->where = off + 1;
	/* 6.2.1 "The Length field covers Type, Length, and Value fields": at
	 * least one word, and 0 would never advance */
	if (words == 0)
		goto badlen;
	/* 9 "MUST check that the Convert TLVs are properly framed within the
	 * boundary indicated by the Total Length" */
	if (off + words * 4 > w->total)
		goto badlen;
	switch (idx) {
	case MPC_CONV_I_INFO:
		/* Table 1: the Info TLV has Length 1 (Figure 15) */
		if (words != 1)
			goto badlen;
		break;
	case MPC_CONV_I_CONNECT:
		/* 6.2.5: Base Connect "has a length set to 5", Extended spans
		 * more; less cannot hold port and address (Figure 17) */
		if (words < MPC_CONV_CONNECT_WORDS)
			goto badlen;
		break;
	case MPC_CONV_I_XHDR:
		/* D9: a copy of SYN+ACK options, at most 40 bytes */
		if (words > 1 + MPC_CONV_XHDR_MAX_OPTS / 4)
			goto badlen;
		break;
	case MPC_CONV_I_COOKIE:
		/* D9: Figure 21 with an empty Opaque Cookie is useless */
		if (words < 2)
			goto badlen;
		break;
	default:
		break;
	}
	if (off + words * 4 > w->avail) {
		w->where = off;
		goto trunc;
	}
	m->tlvs |= bit;
	m->n_tlvs++;
	if (idx < MPC_CONV_NTYPES) { /* always; the verifier wants it said */
		m->tlv_off[idx] = off;
		m->tlv_words[idx] = words;
	}
	w->off = off + words * 4;
	return 0;
trunc:
	w->rc = -MPC_E_TRUNC;
	return 1;
unsupported:
	w->rc = -MPC_E_UNKNOWN;
	w->code = MPC_CONV_E_UNSUPPORTED_MSG;
	w->where = off;
	return 1;
badlen:
	w->rc = -MPC_E_LEN;
malformed:
	w->code = MPC_CONV_E_MALFORMED;
	if (w->rc == -MPC_E_DUP)
		w->where = off;
	return 1;
}

/* state of the Extended Connect TCP Options walk (parse) */
struct mpc_conv_opt_walk {
	const __u8 *b;
	__u32 start; /* first byte of the TCP Options field */
	__u32 n;     /* field length, padding included */
	__u32 pos;   /* next option, relative to start */
	__u32 end;   /* end of the last option (relative) */
	__u32 nopt;
	__u32 where;
	int rc;
};

/* the field is at most 1016 - 20 = 996 bytes and every option takes >= 2,
 * so 498 options plus the call that ends the walk */
#define MPC_CONV_OPT_STEPS ((MPC_CONV_TLV_MAX - MPC_CONV_CONNECT_LEN) / 2 + 1)

MPC_CALLBACK long mpc_conv_opt_step(__u32 i, void *arg)
{
	struct mpc_conv_opt_walk *w = arg;
	const __u8 *b = w->b;
	__u32 pos = w->pos, off, k, olen;
	__u8 kind;

	(void)i;
	/* pos never passes n (checked below); the constant cap is for the
	 * verifier (V1) */
	if (pos >= MPC_CONV_TLV_MAX || pos >= w->n)
		return 1;
	off = w->start + pos;
	kind = MPC_RD8(b, off, MPC_CONV_MASK);
	w->where = off;
	if (kind == 0) {
		/* 6.2.5 "The TCP options field always ends on a 32-bit
		 * boundary after being padded with zeros"; D5: fewer than 4
		 * zeros, else it is a kind-0 option ("MUST NOT be placed") */
		if (w->n - pos >= 4)
			goto bad;
		for (k = 1; k < 4; k++) {
			if (pos + k >= w->n)
				break;
			if (MPC_RD8(b, off + k, MPC_CONV_MASK)) {
				w->where = off + k;
				goto bad;
			}
		}
		w->pos = w->n;
		return 1;
	}
	/* 6.2.5 "option types 0 (EOL) and 1 (NOP) ... MUST NOT be placed
	 * inside the TCP options field of the Connect TLV" (D7) */
	if (kind == 1)
		goto bad;
	/* Figure 19: kind and length; "The minimum value for the TCP option
	 * Length is 2", and the option must stay inside the field */
	if (pos + 2 > w->n)
		goto bad;
	olen = MPC_RD8(b, off + 1, MPC_CONV_MASK);
	w->where = off + 1;
	if (olen < 2 || pos + olen > w->n)
		goto bad;
	w->pos = pos + olen;
	w->end = w->pos;
	w->nopt++;
	return 0;
bad:
	w->rc = -MPC_E_FIELD;
	return 1;
}

/* state of a check of a list of one-byte entries then zero padding */
struct mpc_conv_list_walk {
	const __u8 *b;
	__u32 start;
	__u32 n;      /* bytes, padding included */
	__u32 k;      /* entries before the padding */
	__u32 forbid; /* bit v set: entry v (< 32) is not allowed */
	__u32 where;
	int rc;
};

/* a list lives in one TLV, so it is shorter than 1016 bytes */
#define MPC_CONV_LIST_STEPS MPC_CONV_TLV_MAX

MPC_CALLBACK long mpc_conv_list_step(__u32 i, void *arg)
{
	struct mpc_conv_list_walk *w = arg;
	__u8 v;

	if (i >= w->n)
		return 1;
	v = MPC_RD8(w->b, w->start + i, MPC_CONV_MASK);
	if (i > w->k) {
		if (v == 0)
			return 0;
		goto bad; /* an entry after the padding started */
	}
	if (v == 0) {
		/* D5: padding to the 32-bit boundary, so < 4 bytes */
		w->k = i;
		if (w->n - i >= 4)
			goto bad;
		return 0;
	}
	if (v < 32 && ((w->forbid >> v) & 1))
		goto bad;
	return 0;
bad:
	w->where = w->start + i;
	w->rc = -MPC_E_FIELD;
	return 1;
}

/* entries in b[start, start + n) before zero padding; -MPC_E_FIELD if bad */
MPC_INLINE int mpc_conv_chk_list(const __u8 *b, __u32 start, __u32 n,
				 __u32 forbid, __u32 *count, __u32 *where)
{
	struct mpc_conv_list_walk w = {
		.b = b, .start = start, .n = n, .k = n, .forbid = forbid};

	MPC_LOOP(MPC_CONV_LIST_STEPS, mpc_conv_list_step, &w);
	if (w.rc) {
		*where = w.where;
		return w.rc;
	}
	*count = w.k;
	return 0;
}

/* D10: kinds a Supported TCP Extensions TLV never lists */
#define MPC_CONV_SUP_FORBID \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 29))
/* D10: kinds an Unsupported TCP Option list never holds */
#define MPC_CONV_UNSUP_FORBID ((1u << 0) | (1u << 1))
#define MPC_CONV_TCPOPT_AO 29

MPC_INLINE int mpc_conv_chk_info(const __u8 *b, struct mpc_conv_msg *m,
				 __u32 *where)
{
	__u32 off = m->tlv_off[MPC_CONV_I_INFO];

	/* Figure 15: the Info TLV's second half is "Zero" (D8) */
	*where = off + 2;
	if (MPC_RD16(b, off + 2, MPC_CONV_MASK))
		return -MPC_E_FIELD;
	return 0;
}

MPC_INLINE int mpc_conv_chk_connect(const __u8 *b, struct mpc_conv_msg *m,
				    __u32 *where)
{
	struct mpc_conv_opt_walk w = {.b = b};
	__u32 off = m->tlv_off[MPC_CONV_I_CONNECT], k;

	m->port = MPC_RD16(b, off + 2, MPC_CONV_MASK);
	for (k = 0; k < 16; k++)
		m->addr[k] = MPC_RD8(b, off + 4 + k, MPC_CONV_MASK);
	/* D6: port 0 is reserved and cannot be connected to */
	*where = off + 2;
	if (m->port == 0)
		return -MPC_E_FIELD;
	/* 6.2.5 "If a Converter receives a Connect TLV with such invalid
	 * addresses, it MUST reply with a Malformed Message Error TLV" */
	*where = off + 4;
	if (!mpc_conv_peer_ok(m->addr))
		return -MPC_E_FIELD;
	if (m->tlv_words[MPC_CONV_I_CONNECT] == MPC_CONV_CONNECT_WORDS)
		return 0;
	/* Extended Connect (Figure 18): a well-formed TCP Options field */
	w.start = off + MPC_CONV_CONNECT_LEN;
	w.n = m->tlv_words[MPC_CONV_I_CONNECT] * 4 - MPC_CONV_CONNECT_LEN;
	/* every call advances by >= 2 bytes or ends the walk, so
	 * MPC_CONV_OPT_STEPS calls reach the end of the field */
	MPC_LOOP(MPC_CONV_OPT_STEPS, mpc_conv_opt_step, &w);
	if (!w.rc && w.pos < w.n) /* cannot happen; kept as a guard */
		w.rc = -MPC_E_LEN;
	if (w.rc) {
		*where = w.where;
		return w.rc;
	}
	/* n >= 4 and padding < 4 bytes, so nopt >= 1 here */
	m->opt_off = w.start;
	m->opt_len = w.end;
	m->opt_n = w.nopt;
	return 0;
}

MPC_INLINE int mpc_conv_chk_xhdr(const __u8 *b, struct mpc_conv_msg *m,
				 __u32 *where)
{
	__u32 off = m->tlv_off[MPC_CONV_I_XHDR];

	(void)b;
	(void)where;
	/* 6.2.6 "The Unassigned field MUST be set to zero by the sender and
	 * ignored by the receiver": not checked (D8) */
	m->xhdr_off = off + 4;
	m->xhdr_len = m->tlv_words[MPC_CONV_I_XHDR] * 4 - 4;
	return 0;
}

MPC_INLINE int mpc_conv_chk_supported(const __u8 *b, struct mpc_conv_msg *m,
				      __u32 *where)
{
	__u32 off = m->tlv_off[MPC_CONV_I_SUPPORTED], n = 0;
	int rc;

	/* 6.2.4 "The Unassigned field MUST be set to zero by the Transport
	 * Converter and ignored by the Client": not checked (D8).
	 * "TCP option Kinds 1 and 2 ... MUST NOT appear in this list", "The
	 * list ... is padded with 0 to end on a 32-bit boundary" (D5, D10) */
	rc = mpc_conv_chk_list(b, off + 4,
			       m->tlv_words[MPC_CONV_I_SUPPORTED] * 4 - 4,
			       MPC_CONV_SUP_FORBID, &n, where);
	if (rc)
		return rc;
	m->sup_off = off + 4;
	m->sup_n = n;
	return 0;
}

MPC_INLINE int mpc_conv_chk_cookie(const __u8 *b, struct mpc_conv_msg *m,
				   __u32 *where)
{
	__u32 off = m->tlv_off[MPC_CONV_I_COOKIE];

	/* Figure 21: "Zero" before the Opaque Cookie (D8) */
	*where = off + 2;
	if (MPC_RD16(b, off + 2, MPC_CONV_MASK))
		return -MPC_E_FIELD;
	m->cookie_off = off + 4;
	m->cookie_len = m->tlv_words[MPC_CONV_I_COOKIE] * 4 - 4;
	return 0;
}

/*
 * Error TLV (6.2.8, Figure 22), shape per code (D9). err_off/err_len:
 *  0 (Unsupported Version), 33 (Unsupported TCP Option): the list of
 *    versions/kinds (err_len entries, padding excluded);
 *  1, 2 (Figure 23): the echoed message; 3: the cookie;
 *  32, 64, 65, 96, 97: the one Value byte (also in err_value);
 *  other codes: every byte after the Error Code.
 */
MPC_INLINE int mpc_conv_chk_error(const __u8 *b, struct mpc_conv_msg *m,
				  __u32 *where)
{
	__u32 off = m->tlv_off[MPC_CONV_I_ERROR], n = 0;
	__u32 tb = m->tlv_words[MPC_CONV_I_ERROR] * 4;
	__u8 code = MPC_RD8(b, off + 2, MPC_CONV_MASK);
	__u8 v = MPC_RD8(b, off + 3, MPC_CONV_MASK);
	int rc;

	m->err_code = code;
	m->err_off = off + 3;
	m->err_len = tb - 3;
	*where = off + 3;
	switch (code) {
	case MPC_CONV_E_UNSUPPORTED_VERSION:
		/* "The Value field MUST be set to the version supported ...
		 * each version is encoded in 8 bits ... MUST be padded with
		 * zeros to end on a 32-bit boundary"; version 0 "MUST NOT be
		 * used", so a zero is padding */
		rc = mpc_conv_chk_list(b, off + 3, tb - 3, 0, &n, where);
		if (rc)
			return rc;
		if (n == 0)
			return -MPC_E_FIELD;
		m->err_len = n;
		return 0;
	case MPC_CONV_E_MALFORMED:
	case MPC_CONV_E_UNSUPPORTED_MSG:
		/* "the Value field MUST echo the received message using the
		 * format depicted in Figure 23": Zeros, then the echo */
		if (v)
			return -MPC_E_FIELD;
		if (tb < 8)
			return -MPC_E_LEN;
		m->err_off = off + 4;
		m->err_len = tb - 4;
		return 0;
	case MPC_CONV_E_MISSING_COOKIE:
		/* "The first byte of the Value field MUST be set to zero and
		 * the remaining bytes ... contain the Cookie" */
		if (v)
			return -MPC_E_FIELD;
		if (tb < 8)
			return -MPC_E_LEN;
		m->err_off = off + 4;
		m->err_len = tb - 4;
		return 0;
	case MPC_CONV_E_UNSUPPORTED_OPT:
		/* "The Value field is set to the type of the unsupported TCP
		 * option ... the list ... MUST be padded with zeros to end on
		 * a 32-bit boundary" */
		rc = mpc_conv_chk_list(b, off + 3, tb - 3,
				       MPC_CONV_UNSUP_FORBID, &n, where);
		if (rc)
			return rc;
		if (n == 0)
			return -MPC_E_FIELD;
		m->err_len = n;
		return 0;
	case MPC_CONV_E_NOT_AUTHORIZED:
	case MPC_CONV_E_CONNECTION_RESET:
		/* "The Value field MUST be set to zero." */
		if (v)
			return -MPC_E_FIELD;
		/* fall through */
	case MPC_CONV_E_RESOURCE_EXCEEDED: /* delay in seconds */
	case MPC_CONV_E_NETWORK_FAILURE:   /* delay in seconds */
	case MPC_CONV_E_DEST_UNREACHABLE:  /* "MUST echo the Code field" */
		/* D9: the Value is the one byte after the code */
		if (tb != 4)
			return -MPC_E_LEN;
		m->err_value = v;
		m->err_len = 1;
		return 0;
	default:
		return 0;
	}
}

/* record a failure: what the receiver must do depends on who sent it */
MPC_INLINE int mpc_conv_fail(struct mpc_conv_msg *m, enum mpc_conv_role from,
			     int rc, __u8 code, __u32 where)
{
	m->answer.where = where;
	if (from == MPC_CONV_FROM_CLIENT) {
		m->answer.action = MPC_CONV_ACT_ERROR;
		m->answer.code = code;
	} else {
		/* D2 */
		m->answer.action = MPC_CONV_ACT_RESET;
		m->answer.code = 0;
	}
	return rc;
}

MPC_INLINE int mpc_conv_set_action(struct mpc_conv_msg *m, int rc, __u8 action,
				   __u32 where)
{
	m->answer.action = action;
	m->answer.code = 0;
	m->answer.where = where;
	return rc;
}

/*
 * Parse the Convert message at the start of b[0, len); from says who sent
 * it. Returns 0 (m->answer.action is MPC_CONV_ACT_ACCEPT, or
 * MPC_CONV_ACT_RESET for a valid message from a converter that carries an
 * Error TLV: 6.2.8 "Upon reception of an Error TLV, a Client MUST reset")
 * or a negative enum mpc_err with m->answer set:
 *  -MPC_E_TRUNC    incomplete (converter: IGNORE when len == 0, a SYN
 *                  without payload has no Convert TLVs)
 *  -MPC_E_FIELD    wrong magic (not Convert: converter IGNORE, client
 *                  RESET), or a field value the RFC forbids
 *  -MPC_E_VERSION  version other than 1
 *  -MPC_E_LEN      Total Length 0 (RESET by both), TLV length 0, past the
 *                  Total Length, or wrong for its type
 *  -MPC_E_UNKNOWN  type 0, unknown type, type the sender must not send
 *  -MPC_E_DUP      a TLV twice
 */
MPC_INLINE int mpc_conv_parse(const __u8 *b, __u32 len, enum mpc_conv_role from,
			      struct mpc_conv_msg *m)
{
	struct mpc_conv_walk w = {.b = b, .m = m};
	__u32 where = 0, total;
	int rc = 0;

	mpc_memset(m, 0, sizeof(*m));
	if (from != MPC_CONV_FROM_CLIENT && from != MPC_CONV_FROM_CONVERTER)
		return mpc_conv_set_action(m, -MPC_E_FIELD, MPC_CONV_ACT_RESET,
					   0);
	/* the message is at most 1020 bytes; the rest is user data */
	if (len > MPC_CONV_MAXLEN)
		len = MPC_CONV_MAXLEN;
	m->need = MPC_CONV_HDR_LEN;
	m->avail = MPC_MIN(len, MPC_CONV_HDR_LEN);

	/* 6 "the Transport Converter SHOULD silently ignore SYNs with no
	 * Convert TLVs": nothing at all */
	if (len == 0)
		return mpc_conv_set_action(m, -MPC_E_TRUNC,
					   from == MPC_CONV_FROM_CLIENT
						   ? MPC_CONV_ACT_IGNORE
						   : MPC_CONV_ACT_INCOMPLETE,
					   0);
	/* 6.1 "The Magic Number field MUST be set to 0x2263. This field is
	 * meant to ... unambiguously distinguish any data supplied by an
	 * application from Convert TLVs": other bytes are not Convert, which
	 * a converter ignores (6) and a client cannot continue with (D2).
	 * Checked on the bytes present, so a short prefix is incomplete. */
	if ((len > 2 && MPC_RD8(b, 2, MPC_CONV_MASK) != MPC_CONV_MAGIC >> 8) ||
	    (len > 3 &&
	     MPC_RD8(b, 3, MPC_CONV_MASK) != (MPC_CONV_MAGIC & 0xff)))
		return mpc_conv_set_action(m, -MPC_E_FIELD,
					   from == MPC_CONV_FROM_CLIENT
						   ? MPC_CONV_ACT_IGNORE
						   : MPC_CONV_ACT_RESET,
					   2);
	if (len < MPC_CONV_HDR_LEN)
		return mpc_conv_set_action(m, -MPC_E_TRUNC,
					   MPC_CONV_ACT_INCOMPLETE, 0);
	m->version = MPC_RD8(b, 0, MPC_CONV_MASK);
	m->total_words = MPC_RD8(b, 1, MPC_CONV_MASK);
	/* 6.1 "This document specifies version 1. Version 0 is reserved ...
	 * MUST NOT be used"; 6.2.8 Unsupported Version "MUST be generated by
	 * a peer ... when it receives a request having a version number that
	 * it does not support" (value: mpc_conv_put_answer) */
	if (m->version != MPC_CONV_VERSION)
		return mpc_conv_fail(m, from, -MPC_E_VERSION,
				     MPC_CONV_E_UNSUPPORTED_VERSION, 0);
	/* 6.1 "A Total Length of zero is invalid and the connection MUST be
	 * reset upon reception of a header with such a total length." */
	if (m->total_words == 0)
		return mpc_conv_set_action(m, -MPC_E_LEN, MPC_CONV_ACT_RESET,
					   1);
	total = m->total_words * 4;
	m->msg_len = total;
	m->need = total;
	m->avail = MPC_MIN(len, total);

	/* TLV framing (D4): 6.2.1, 6.2.2, 9 */
	w.avail = m->avail;
	w.total = total;
	w.off = MPC_CONV_HDR_LEN;
	w.allowed = from == MPC_CONV_FROM_CLIENT ? MPC_CONV_FROM_CLIENT_OK
						 : MPC_CONV_FROM_CONVERTER_OK;
	MPC_LOOP(MPC_CONV_WALK_STEPS, mpc_conv_tlv_step, &w);
	/* 9 "properly framed within the boundary indicated by the Total
	 * Length": the TLVs fill it exactly. Cannot fail (each TLV is whole
	 * words inside the total, and MPC_CONV_WALK_STEPS calls reach its
	 * end); kept so that a change to the walk cannot pass silently. */
	if (!w.rc && w.off != total) {
		w.rc = -MPC_E_LEN;
		w.code = MPC_CONV_E_MALFORMED;
		w.where = w.off;
	}
	if (w.rc && w.rc != -MPC_E_TRUNC)
		return mpc_conv_fail(m, from, w.rc, w.code, w.where);

	/* contents of the TLVs that are complete; any fault is Malformed
	 * Message for a converter (6.2.8 "cannot be successfully parsed and
	 * validated") and a reset for a client (D2) */
	if (m->tlvs & MPC_CONV_F_INFO)
		rc = mpc_conv_chk_info(b, m, &where);
	if (!rc && (m->tlvs & MPC_CONV_F_CONNECT))
		rc = mpc_conv_chk_connect(b, m, &where);
	if (!rc && (m->tlvs & MPC_CONV_F_XHDR))
		rc = mpc_conv_chk_xhdr(b, m, &where);
	if (!rc && (m->tlvs & MPC_CONV_F_SUPPORTED))
		rc = mpc_conv_chk_supported(b, m, &where);
	if (!rc && (m->tlvs & MPC_CONV_F_COOKIE))
		rc = mpc_conv_chk_cookie(b, m, &where);
	if (!rc && (m->tlvs & MPC_CONV_F_ERROR))
		rc = mpc_conv_chk_error(b, m, &where);
	if (rc)
		return mpc_conv_fail(m, from, rc, MPC_CONV_E_MALFORMED, where);

	if (w.rc) /* -MPC_E_TRUNC: valid so far */
		return mpc_conv_set_action(m, w.rc, MPC_CONV_ACT_INCOMPLETE,
					   w.where);
	/* 6.2.8 "Upon reception of an Error TLV, a Client MUST reset the
	 * associated connection." The message itself is valid. */
	if (m->tlvs & MPC_CONV_F_ERROR)
		return mpc_conv_set_action(m, 0, MPC_CONV_ACT_RESET,
					   m->tlv_off[MPC_CONV_I_ERROR]);
	return mpc_conv_set_action(m, 0, MPC_CONV_ACT_ACCEPT, 0);
}

/*
 * D11: 6.2.1 "A given TLV MUST only appear once on a connection". Call
 * after each successful parse on one connection with the same *seen
 * (zero at first): returns 0, or -MPC_E_DUP with m->answer set (converter:
 * Malformed Message; client: reset).
 */
MPC_INLINE int mpc_conv_note_seen(__u8 *seen, struct mpc_conv_msg *m,
				  enum mpc_conv_role from)
{
	__u8 dup = *seen & m->tlvs;
	__u32 k, where = 0;

	if (!dup) {
		*seen |= m->tlvs;
		return 0;
	}
	for (k = 0; k < MPC_CONV_NTYPES; k++) {
		if ((dup >> k) & 1) {
			where = m->tlv_off[k];
			break;
		}
	}
	return mpc_conv_fail(m, from, -MPC_E_DUP, MPC_CONV_E_MALFORMED, where);
}

/* ---- Extended Connect: which requested options can be honoured ------- */

struct mpc_conv_opt_class {
	const __u8 *b;
	const __u64 *supported;
	__u64 *unsup;
	__u32 start, n, pos;
	int count;
};

MPC_CALLBACK long mpc_conv_opt_class_step(__u32 i, void *arg)
{
	struct mpc_conv_opt_class *c = arg;
	__u32 pos = c->pos, off, olen;
	bool bad;
	__u8 kind;

	(void)i;
	if (pos >= MPC_CONV_TLV_MAX || pos + 2 > c->n)
		return 1;
	off = c->start + pos;
	kind = MPC_RD8(c->b, off, MPC_CONV_MASK);
	olen = MPC_RD8(c->b, off + 1, MPC_CONV_MASK);
	if (kind < 2 || olen < 2) /* padding (or not parsed first) */
		return 1;
	c->pos = pos + olen;
	switch (kind) {
	case 2: /* 7.1 "MUST ignore options with Kind=0, 1, or 2" */
	case 3: /* 7.2 "MUST ignore option Kind=3" */
	case 5: /* 7.3 "MUST ignore option Kind=5" */
		return 0;
	case MPC_CONV_TCPOPT_AO:
		/* 7.7 "If a Transport Converter receives a Connect TLV that
		 * contains the TCP-AO, it MUST reject ... Unsupported TCP
		 * Option" */
		bad = true;
		break;
	case 8:	 /* 7.4 "MAY include the Timestamp option ... but without
		  * any timestamp" */
	case 30: /* 7.5 "may include the Multipath TCP option ... but
		  * without any content" */
		bad = olen != 2 || !mpc_conv_kind_test(c->supported, kind);
		break;
	case 34: /* 7.6: TFO cookie request (empty) or a cookie of 4..16
		  * bytes, even (RFC 7413 4.1.1) */
		bad = (olen != 2 && (olen < 6 || olen > 18 || (olen & 1))) ||
		      !mpc_conv_kind_test(c->supported, kind);
		break;
	default:
		bad = !mpc_conv_kind_test(c->supported, kind);
		break;
	}
	if (bad && !mpc_conv_kind_test(c->unsup, kind)) {
		mpc_conv_kind_set(c->unsup, kind);
		c->count++;
	}
	return 0;
}

/*
 * 6.2.5 "Upon reception of an Extended Connect TLV, a Transport Converter
 * first checks whether or not it supports the TCP Options listed ... If
 * not, it returns an error TLV set to 'Unsupported TCP Option'".
 * b and m from a successful mpc_conv_parse(); supported: 256-bit bitmap of
 * the kinds this converter can use in its SYN. Fills unsup (256 bits) with
 * the kinds that cannot be honoured and returns how many (0: go ahead;
 * otherwise answer with mpc_conv_put_error_kinds(..., unsup)). Kinds 2, 3
 * and 5 are ignored (section 7), TCP-AO is always refused, and
 * Timestamp/MPTCP with content or TFO with a bad cookie length count as
 * unsupported (section 7 allows them only in those shapes).
 */
MPC_INLINE int mpc_conv_check_opts(const __u8 *b, const struct mpc_conv_msg *m,
				   const __u64 *supported, __u64 *unsup)
{
	struct mpc_conv_opt_class c = {.b = b,
				       .supported = supported,
				       .unsup = unsup,
				       .start = m->opt_off,
				       .n = m->opt_len};

	unsup[0] = unsup[1] = unsup[2] = unsup[3] = 0;
	if (!(m->tlvs & MPC_CONV_F_CONNECT) || !m->opt_n)
		return 0;
	MPC_LOOP(MPC_CONV_OPT_STEPS, mpc_conv_opt_class_step, &c);
	return c.count;
}

/* ---- builders -------------------------------------------------------- */
/*
 * Each builder writes one element at b[off] (off counted from the first
 * byte of the message being built) and returns the bytes written, always a
 * multiple of 4, or -MPC_E_NOSPACE when it would pass cap or the 1020-byte
 * message limit, or -MPC_E_FIELD/-MPC_E_LEN for contents the parser would
 * refuse. In BPF, b and every src are MPC_CONV_CAP-byte buffers. src_off
 * lets a builder copy straight out of a received message.
 *
 * A message: n = mpc_conv_put_hdr(b, cap); n += mpc_conv_put_...(b, n,
 * cap, ...); ...; mpc_conv_set_total(b, n).
 */

MPC_INLINE __u32 mpc_conv_room(__u32 cap)
{
	return cap < MPC_CONV_MAXLEN ? cap : MPC_CONV_MAXLEN;
}

/* bytes of a TLV of n bytes once padded, and whether it fits at off */
MPC_INLINE int mpc_conv_tlv_fits(__u32 off, __u32 cap, __u32 n)
{
	__u32 tb = (n + 3) & ~3u;

	if (n > MPC_CONV_MAXLEN || off > MPC_CONV_MAXLEN ||
	    off + tb > mpc_conv_room(cap))
		return -MPC_E_NOSPACE;
	return tb;
}

struct mpc_conv_copy {
	const __u8 *src;
	__u8 *dst;
	__u32 soff, doff, n;
};

#define MPC_CONV_COPY_STEPS MPC_CONV_MAXLEN

MPC_CALLBACK long mpc_conv_copy_step(__u32 i, void *arg)
{
	struct mpc_conv_copy *c = arg;

	if (i >= c->n)
		return 1;
	MPC_WR8(c->dst, c->doff + i, MPC_CONV_MASK,
		MPC_RD8(c->src, c->soff + i, MPC_CONV_MASK));
	return 0;
}

/* n <= 1020 bytes; byte-wise through MPC_LOOP (n is data-dependent) */
MPC_INLINE void mpc_conv_copy(__u8 *dst, __u32 doff, const __u8 *src,
			      __u32 soff, __u32 n)
{
	struct mpc_conv_copy c = {
		.src = src, .dst = dst, .soff = soff, .doff = doff, .n = n};

	if (n)
		MPC_LOOP(MPC_CONV_COPY_STEPS, mpc_conv_copy_step, &c);
}

/* zeros from off to the next multiple of 4 (off + 3 is inside the TLV) */
MPC_INLINE void mpc_conv_zero_pad(__u8 *b, __u32 off)
{
	__u32 k;

	for (k = 0; k < 3; k++) {
		if (((off + k) & 3) == 0)
			break;
		MPC_WR8(b, off + k, MPC_CONV_MASK, 0);
	}
}

MPC_INLINE void mpc_conv_put_tl(__u8 *b, __u32 off, __u8 type, __u32 tb)
{
	MPC_WR8(b, off, MPC_CONV_MASK, type);
	MPC_WR8(b, off + 1, MPC_CONV_MASK, tb / 4);
}

/* fixed header at b[0], Total Length 1 until mpc_conv_set_total() */
MPC_INLINE int mpc_conv_put_hdr(__u8 *b, __u32 cap)
{
	if (cap < MPC_CONV_HDR_LEN)
		return -MPC_E_NOSPACE;
	MPC_WR8(b, 0, MPC_CONV_MASK, MPC_CONV_VERSION);
	MPC_WR8(b, 1, MPC_CONV_MASK, 1);
	MPC_WR16(b, 2, MPC_CONV_MASK, MPC_CONV_MAGIC);
	return MPC_CONV_HDR_LEN;
}

/* Total Length of the message at b[0] that is msg_len bytes long */
MPC_INLINE int mpc_conv_set_total(__u8 *b, __u32 msg_len)
{
	if (msg_len < MPC_CONV_HDR_LEN || msg_len > MPC_CONV_MAXLEN ||
	    (msg_len & 3))
		return -MPC_E_LEN;
	MPC_WR8(b, 1, MPC_CONV_MASK, msg_len / 4);
	return 0;
}

/* Info TLV (Figure 15) */
MPC_INLINE int mpc_conv_put_info(__u8 *b, __u32 off, __u32 cap)
{
	int tb = mpc_conv_tlv_fits(off, cap, 4);

	if (tb < 0)
		return tb;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_INFO, tb);
	MPC_WR16(b, off + 2, MPC_CONV_MASK, 0);
	return tb;
}

/*
 * Connect TLV: Base (Figure 17) when opt_len == 0, else Extended (Figure
 * 18) with opt_len bytes of kind/length options from src[src_off], which
 * are checked like the parser does, then zero padding. addr is 16 bytes.
 */
MPC_INLINE int mpc_conv_put_connect(__u8 *b, __u32 off, __u32 cap, __u16 port,
				    const __u8 *addr, const __u8 *src,
				    __u32 src_off, __u32 opt_len)
{
	struct mpc_conv_opt_walk w = {.b = b};
	int tb = mpc_conv_tlv_fits(off, cap, MPC_CONV_CONNECT_LEN + opt_len);
	__u32 k;

	if (tb < 0)
		return tb;
	if (port == 0 || !mpc_conv_peer_ok(addr))
		return -MPC_E_FIELD;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_CONNECT, tb);
	MPC_WR16(b, off + 2, MPC_CONV_MASK, port);
	for (k = 0; k < 16; k++)
		MPC_WR8(b, off + 4 + k, MPC_CONV_MASK, addr[k]);
	if (!opt_len)
		return tb;
	mpc_conv_copy(b, off + MPC_CONV_CONNECT_LEN, src, src_off, opt_len);
	mpc_conv_zero_pad(b, off + MPC_CONV_CONNECT_LEN + opt_len);
	/* the options must end exactly where the padding starts */
	w.start = off + MPC_CONV_CONNECT_LEN;
	w.n = tb - MPC_CONV_CONNECT_LEN;
	MPC_LOOP(MPC_CONV_OPT_STEPS, mpc_conv_opt_step, &w);
	if (w.rc || w.end != opt_len)
		return -MPC_E_FIELD;
	return tb;
}

/* Extended TCP Header TLV (Figure 20): a copy of SYN+ACK options */
MPC_INLINE int mpc_conv_put_xhdr(__u8 *b, __u32 off, __u32 cap, const __u8 *src,
				 __u32 src_off, __u32 opt_len)
{
	int tb;

	if (opt_len > MPC_CONV_XHDR_MAX_OPTS)
		return -MPC_E_LEN;
	tb = mpc_conv_tlv_fits(off, cap, 4 + opt_len);
	if (tb < 0)
		return tb;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_XHDR, tb);
	MPC_WR16(b, off + 2, MPC_CONV_MASK, 0); /* Unassigned */
	mpc_conv_copy(b, off + 4, src, src_off, opt_len);
	mpc_conv_zero_pad(b, off + 4 + opt_len);
	return tb;
}

/* a list of n one-byte entries at b[start], then checked like the parser */
MPC_INLINE int mpc_conv_put_list(__u8 *b, __u32 start, __u32 tb_end,
				 const __u8 *src, __u32 src_off, __u32 n,
				 __u32 forbid)
{
	__u32 count = 0, where = 0;

	mpc_conv_copy(b, start, src, src_off, n);
	mpc_conv_zero_pad(b, start + n);
	if (mpc_conv_chk_list(b, start, tb_end - start, forbid, &count,
			      &where) ||
	    count != n)
		return -MPC_E_FIELD;
	return 0;
}

/* Supported TCP Extensions TLV (Figure 16) listing n kinds from src */
MPC_INLINE int mpc_conv_put_supported(__u8 *b, __u32 off, __u32 cap,
				      const __u8 *src, __u32 src_off, __u32 n)
{
	int tb = mpc_conv_tlv_fits(off, cap, 4 + n);

	if (tb < 0)
		return tb;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_SUPPORTED, tb);
	MPC_WR16(b, off + 2, MPC_CONV_MASK, 0); /* Unassigned */
	if (mpc_conv_put_list(b, off + 4, off + tb, src, src_off, n,
			      MPC_CONV_SUP_FORBID))
		return -MPC_E_FIELD;
	return tb;
}

/* state of writing the kinds set in a 256-bit map, ascending */
struct mpc_conv_kmap {
	const __u64 *map;
	__u8 *b;
	__u32 off, n;
};

MPC_CALLBACK long mpc_conv_kmap_step(__u32 i, void *arg)
{
	struct mpc_conv_kmap *k = arg;

	if (i > 255)
		return 1;
	if (mpc_conv_kind_test(k->map, i)) {
		/* room was checked for popcount(map) entries */
		MPC_WR8(k->b, k->off + k->n, MPC_CONV_MASK, i);
		k->n++;
	}
	return 0;
}

MPC_INLINE __u32 mpc_conv_kmap_count(const __u64 *map)
{
	return __builtin_popcountll(map[0]) + __builtin_popcountll(map[1]) +
	       __builtin_popcountll(map[2]) + __builtin_popcountll(map[3]);
}

/* the kinds of map (ascending) at b[start] and the padding up to tb_end */
MPC_INLINE int mpc_conv_put_kmap(__u8 *b, __u32 start, __u32 tb_end,
				 const __u64 *map, __u32 forbid)
{
	struct mpc_conv_kmap k = {.map = map, .b = b, .off = start};
	__u32 count = 0, where = 0;

	MPC_LOOP(256, mpc_conv_kmap_step, &k);
	mpc_conv_zero_pad(b, start + k.n);
	if (mpc_conv_chk_list(b, start, tb_end - start, forbid, &count,
			      &where) ||
	    count != k.n)
		return -MPC_E_FIELD;
	return 0;
}

/* Supported TCP Extensions TLV listing the kinds set in a 256-bit map */
MPC_INLINE int mpc_conv_put_supported_map(__u8 *b, __u32 off, __u32 cap,
					  const __u64 *map)
{
	int tb = mpc_conv_tlv_fits(off, cap, 4 + mpc_conv_kmap_count(map));

	if (tb < 0)
		return tb;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_SUPPORTED, tb);
	MPC_WR16(b, off + 2, MPC_CONV_MASK, 0);
	if (mpc_conv_put_kmap(b, off + 4, off + tb, map, MPC_CONV_SUP_FORBID))
		return -MPC_E_FIELD;
	return tb;
}

/* Cookie TLV (Figure 21) with a cookie of len >= 1 bytes from src */
MPC_INLINE int mpc_conv_put_cookie(__u8 *b, __u32 off, __u32 cap,
				   const __u8 *src, __u32 src_off, __u32 len)
{
	int tb = mpc_conv_tlv_fits(off, cap, 4 + len);

	if (tb < 0)
		return tb;
	if (len == 0)
		return -MPC_E_LEN;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_COOKIE, tb);
	MPC_WR16(b, off + 2, MPC_CONV_MASK, 0);
	mpc_conv_copy(b, off + 4, src, src_off, len);
	mpc_conv_zero_pad(b, off + 4 + len);
	return tb;
}

/*
 * Error TLV (Figure 22): code, then len Value bytes from src (none when
 * len == 0: the Value is then a single zero byte), zero-padded. Generic:
 * it does not check the per-code shape; the helpers below do.
 */
MPC_INLINE int mpc_conv_put_error(__u8 *b, __u32 off, __u32 cap, __u8 code,
				  const __u8 *src, __u32 src_off, __u32 len)
{
	int tb = mpc_conv_tlv_fits(off, cap, 3 + (len ? len : 1));

	if (tb < 0)
		return tb;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_ERROR, tb);
	MPC_WR8(b, off + 2, MPC_CONV_MASK, code);
	MPC_WR8(b, off + 3, MPC_CONV_MASK, 0);
	mpc_conv_copy(b, off + 3, src, src_off, len);
	mpc_conv_zero_pad(b, off + 3 + (len ? len : 1));
	return tb;
}

/*
 * Error TLV with a one-byte Value: Unsupported Version (value: the
 * version, MPC_CONV_VERSION), Not Authorized and Connection Reset (0),
 * Resource Exceeded and Network Failure (delay in seconds, 0: default),
 * Destination Unreachable (the ICMP Code).
 */
MPC_INLINE int mpc_conv_put_error_u8(__u8 *b, __u32 off, __u32 cap, __u8 code,
				     __u8 value)
{
	int tb = mpc_conv_tlv_fits(off, cap, 4);

	if (tb < 0)
		return tb;
	if ((code == MPC_CONV_E_NOT_AUTHORIZED ||
	     code == MPC_CONV_E_CONNECTION_RESET) &&
	    value)
		return -MPC_E_FIELD;
	if (code == MPC_CONV_E_UNSUPPORTED_VERSION && !value)
		return -MPC_E_FIELD;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_ERROR, tb);
	MPC_WR8(b, off + 2, MPC_CONV_MASK, code);
	MPC_WR8(b, off + 3, MPC_CONV_MASK, value);
	return tb;
}

/*
 * Error TLV whose Value is a zero byte then len >= 1 bytes from src:
 * Malformed Message / Unsupported Message echoing the received message
 * (Figure 23), or Missing Cookie with the cookie (the caller cuts an echo to
 * what fits: D12).
 */
MPC_INLINE int mpc_conv_put_error_data(__u8 *b, __u32 off, __u32 cap, __u8 code,
				       const __u8 *src, __u32 src_off,
				       __u32 len)
{
	int tb = mpc_conv_tlv_fits(off, cap, 4 + len);

	if (tb < 0)
		return tb;
	if (len == 0)
		return -MPC_E_LEN;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_ERROR, tb);
	MPC_WR8(b, off + 2, MPC_CONV_MASK, code);
	MPC_WR8(b, off + 3, MPC_CONV_MASK, 0);
	mpc_conv_copy(b, off + 4, src, src_off, len);
	mpc_conv_zero_pad(b, off + 4 + len);
	return tb;
}

/* Unsupported TCP Option error listing the kinds of a 256-bit map
 * (as filled by mpc_conv_check_opts()), ascending */
MPC_INLINE int mpc_conv_put_error_kinds(__u8 *b, __u32 off, __u32 cap,
					const __u64 *unsup)
{
	__u32 n = mpc_conv_kmap_count(unsup);
	int tb;

	if (n == 0)
		return -MPC_E_FIELD;
	tb = mpc_conv_tlv_fits(off, cap, 3 + n);
	if (tb < 0)
		return tb;
	mpc_conv_put_tl(b, off, MPC_CONV_TLV_ERROR, tb);
	MPC_WR8(b, off + 2, MPC_CONV_MASK, MPC_CONV_E_UNSUPPORTED_OPT);
	if (mpc_conv_put_kmap(b, off + 3, off + tb, unsup,
			      MPC_CONV_UNSUP_FORBID))
		return -MPC_E_FIELD;
	return tb;
}

/*
 * The Error TLV that m->answer asks for, after a failed mpc_conv_parse()
 * of in: Unsupported Version with the version we support, or Malformed /
 * Unsupported Message echoing the received message (D12). Returns the
 * bytes written, 0 when the answer is not an Error TLV, or a negative
 * mpc_err.
 */
MPC_INLINE int mpc_conv_put_answer(__u8 *b, __u32 off, __u32 cap,
				   const struct mpc_conv_msg *m, const __u8 *in)
{
	__u32 room = mpc_conv_room(cap), n;

	if (m->answer.action != MPC_CONV_ACT_ERROR)
		return 0;
	switch (m->answer.code) {
	case MPC_CONV_E_UNSUPPORTED_VERSION:
		return mpc_conv_put_error_u8(b, off, cap, m->answer.code,
					     MPC_CONV_VERSION);
	case MPC_CONV_E_MALFORMED:
	case MPC_CONV_E_UNSUPPORTED_MSG:
		if (off + 8 > room)
			return -MPC_E_NOSPACE;
		n = MPC_MIN((__u32)m->avail, (room - off - 4) & ~3u);
		return mpc_conv_put_error_data(b, off, cap, m->answer.code, in,
					       0, n);
	default:
		return mpc_conv_put_error_u8(b, off, cap, m->answer.code, 0);
	}
}

/* a whole reply: fixed header + mpc_conv_put_answer(); 0 if none is due */
MPC_INLINE int mpc_conv_build_answer(__u8 *b, __u32 cap,
				     const struct mpc_conv_msg *m,
				     const __u8 *in)
{
	int n, t;

	if (m->answer.action != MPC_CONV_ACT_ERROR)
		return 0;
	n = mpc_conv_put_hdr(b, cap);
	if (n < 0)
		return n;
	t = mpc_conv_put_answer(b, n, cap, m, in);
	if (t < 0)
		return t;
	n += t;
	mpc_conv_set_total(b, n);
	return n;
}

#endif /* MPCONV_CONVERT_H */
