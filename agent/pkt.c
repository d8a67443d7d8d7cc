// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* pkt.c - parse and build TCP/IP segments in the agent */
#include <string.h>

#include "mpconv/abi.h"
#include "mpconv/csum.h"
#include "mpconv/xlate.h"
#include "pkt.h"

void mpc_ip_from_words(struct mpc_ip *ip, const uint32_t w[4], int family)
{
	memset(ip, 0, sizeof(*ip));
	if (family == 4) {
		ip->a[10] = 0xff;
		ip->a[11] = 0xff;
		memcpy(ip->a + 12, &w[3], 4);
	} else {
		memcpy(ip->a, w, 16);
	}
}

void mpc_ip_to_words(const struct mpc_ip *ip, uint32_t w[4])
{
	memset(w, 0, 16);
	if (mpc_ip_is_v4(ip))
		memcpy(&w[3], ip->a + 12, 4);
	else
		memcpy(w, ip->a, 16);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void v4(struct mpc_ip *ip, const uint8_t *a)
{
	memset(ip, 0, sizeof(*ip));
	ip->a[10] = 0xff;
	ip->a[11] = 0xff;
	memcpy(ip->a + 12, a, 4);
}

int mpc_seg_parse(const uint8_t *l3, size_t len, struct mpc_tcp_seg *s)
{
	const uint8_t *th;
	size_t l4len, thlen;

	memset(s, 0, sizeof(*s));
	if (len < 20)
		return -1;
	if ((l3[0] >> 4) == 4) {
		size_t ihl = (size_t)(l3[0] & 0xf) * 4, tot = rd16(l3 + 2);

		if (ihl < 20 || tot < ihl || tot > len ||
		    l3[9] != MPC_IPPROTO_TCP)
			return -1;
		s->family = 4;
		s->ttl = l3[8];
		v4(&s->src, l3 + 12);
		v4(&s->dst, l3 + 16);
		th = l3 + ihl;
		l4len = tot - ihl;
	} else if ((l3[0] >> 4) == 6) {
		size_t plen;

		if (len < 40 || l3[6] != MPC_IPPROTO_TCP)
			return -1;
		plen = rd16(l3 + 4);
		if (40 + plen > len)
			return -1;
		s->family = 6;
		s->ttl = l3[7];
		memcpy(s->src.a, l3 + 8, 16);
		memcpy(s->dst.a, l3 + 24, 16);
		th = l3 + 40;
		l4len = plen;
	} else {
		return -1;
	}
	if (l4len < 20)
		return -1;
	thlen = (size_t)(th[12] >> 4) * 4;
	if (thlen < 20 || thlen > l4len)
		return -1;
	s->sport = rd16(th);
	s->dport = rd16(th + 2);
	s->seq = rd32(th + 4);
	s->ack = rd32(th + 8);
	s->flags = th[13];
	s->win = rd16(th + 14);
	s->optlen = (uint8_t)(thlen - 20);
	memcpy(s->opts, th + 20, s->optlen);
	if (mpc_tcpopt_walk(s->opts, s->optlen, &s->to))
		return -1;
	s->data = th + thlen;
	s->dlen = (uint32_t)(l4len - thlen);
	return 0;
}

int mpc_seg_parse_frame(const uint8_t *frame, size_t len, size_t l3_off,
			struct mpc_tcp_seg *s)
{
	if (l3_off >= len)
		return -1;
	return mpc_seg_parse(frame + l3_off, len - l3_off, s);
}

int mpc_seg_build(uint8_t *buf, size_t cap, const struct mpc_tcp_seg *s)
{
	size_t iplen = s->family == 4 ? 20 : 40, thlen = 20 + s->optlen;
	size_t l4len = thlen + s->dlen, total = iplen + l4len;
	uint8_t *th = buf + iplen;
	uint32_t sum = 0;
	uint16_t c;

	if (s->optlen % 4 || s->optlen > 40 || total > cap || total > 65535)
		return -1;
	memset(buf, 0, iplen + thlen);
	if (s->family == 4) {
		buf[0] = 0x45;
		wr16(buf + 2, (uint16_t)total);
		buf[6] = 0x40; /* DF */
		buf[8] = s->ttl ? s->ttl : 64;
		buf[9] = MPC_IPPROTO_TCP;
		memcpy(buf + 12, s->src.a + 12, 4);
		memcpy(buf + 16, s->dst.a + 12, 4);
		mpc_csum_partial(buf, 20, &sum);
		wr16(buf + 10, mpc_csum_finish(sum));
		sum = 0;
		mpc_csum_partial(buf + 12, 8, &sum);
	} else {
		buf[0] = 0x60;
		wr16(buf + 4, (uint16_t)l4len);
		buf[6] = MPC_IPPROTO_TCP;
		buf[7] = s->ttl ? s->ttl : 64;
		memcpy(buf + 8, s->src.a, 16);
		memcpy(buf + 24, s->dst.a, 16);
		mpc_csum_partial(buf + 8, 32, &sum);
	}
	sum = mpc_csum_add32(sum, (uint32_t)l4len);
	sum = mpc_csum_add16(sum, MPC_IPPROTO_TCP);

	wr16(th, s->sport);
	wr16(th + 2, s->dport);
	wr32(th + 4, s->seq);
	wr32(th + 8, s->ack);
	th[12] = (uint8_t)((thlen / 4) << 4);
	th[13] = s->flags;
	wr16(th + 14, s->win);
	memcpy(th + 20, s->opts, s->optlen);
	if (s->dlen)
		memcpy(th + thlen, s->data, s->dlen);
	mpc_csum_partial(th, l4len, &sum);
	c = mpc_csum_finish(sum);
	wr16(th + 16, c);
	return (int)total;
}
