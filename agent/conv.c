// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * conv.c - explicit-mode conversion (RFC 8803) in the agent.
 *
 * Life of a connection (network role, explicit mode):
 *
 *  client SYN (MP_CAPABLE, Convert message as SYN payload) -> slow path
 *    validate -> error answer | leg SYN to the server at once (0-RTT),
 *    flows installed so that every further packet of both tuples comes
 *    here (state LEG_SYN_SENT)
 *  server SYN/ACK -> leg ACK; SYN/ACK + MP_CAPABLE(our key) to the client
 *    (SYNACK_SENT)
 *  client third ACK (MP_CAPABLE with both keys, or the first data) ->
 *    offsets computed, state ESTABLISHED published: from now on the data
 *    path translates; the Convert reply goes out as the first bytes of our
 *    stream and is retransmitted until DATA_ACKed
 *  FIN/DATA_FIN are translated by the data path and copied here; subflow
 *    FINs, RSTs, MP_FASTCLOSE come here; DEAD connections linger briefly,
 *    then their state leaves the maps.
 *
 * Errors before the server answered are sent as an RFC 8803 Error TLV on
 * a plain TCP connection (SYN/ACK without MP_CAPABLE, data, FIN), never as
 * a bare RST.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <openssl/rand.h>

#include "conv.h"
#include "log.h"
#include "mptcp_crypto.h"
#include "pkt.h"
#include "tokidx.h"
#include "mpconv/convert.h"
#include "mpconv/mptcp_opt.h"
#include "mpconv/tcpopt.h"
#include "mpconv/xlate.h"

#define NSEC 1000000000ull
#define MSEC 1000000ull

#define LEG_SYN_RTO \
	(200 * MSEC) /* below the client's 1 s SYN timer: a lost
				    * leg SYN must not make it retransmit */
/* SYN/ACK retransmissions: every SYNACK_RTO until the client's own SYN
 * timer (1 s) is near, then backing off. A client that retransmitted its
 * SYN gets SYN/ACKs that acknowledge the SYN only (syn_only_ack()), which
 * costs it one round trip, so the first second is worth a few extra
 * packets. */
#define SYNACK_RTO (200 * MSEC)
#define SYNACK_FAST 4 /* retransmissions before backing off */
#define SYNACK_TRIES 8
#define REPLY_RTO (200 * MSEC)
#define REPLY_TRIES 8
#define ERR_RTO (500 * MSEC)
#define ERR_TRIES 5
#define DEAD_LINGER (3 * NSEC)
#define CLOSED_LINGER \
	(10 * NSEC) /* after a clean close: the peer's
				   * subflow FIN may follow its DATA_FIN late */
#define CLOSING_MAX (60 * NSEC)
#define IDLE_DEFAULT (300 * NSEC)
#define DSS_OVERHEAD 20 /* DSS with 4-byte DATA_ACK and DSN, padded */
#define OUR_WSCALE_DEFAULT 7

/* the TCP options the converter supports in an Extended Connect */
#define SUPPORTED_KINDS                                             \
	((1ull << MPC_TCPOPT_MSS) | (1ull << MPC_TCPOPT_WSCALE) |   \
	 (1ull << MPC_TCPOPT_SACK_PERM) | (1ull << MPC_TCPOPT_TS) | \
	 (1ull << MPC_TCPOPT_MPTCP) | (1ull << MPC_TCPOPT_FASTOPEN))

struct side_opts {
	uint16_t mss;
	uint8_t ws;
	bool has_ws, sack, ts;
	uint32_t tsval;
};

struct conv_conn {
	bool used;
	uint32_t state;
	uint32_t gen;
	/* subflow 0: client side */
	uint8_t family;
	struct mpc_ip cli, svc;
	uint16_t cport, sport;
	uint32_t cli_isn, syn_len; /* syn_len: payload of the client's SYN */
	/* the client retransmitted its SYN without the data: our SYN/ACKs
	 * acknowledge the SYN only (see syn_only_ack()) */
	bool synack_syn_only;
	uint8_t *user; /* SYN payload after the Convert TLVs */
	uint32_t user_len;
	bool mptcp;
	__u64 key_l, key_r, idsn_l, idsn_r;
	uint32_t dsn_up0; /* the peer's first DSN (IDSN + 1), 32 bits */
	bool have_key_r;  /* key_r known (MP_CAPABLE with both keys seen) */
	uint32_t token_l;
	bool tok_indexed; /* token_l is in the token index (tok_add) */
	struct side_opts copt, sopt;
	uint32_t sf_iss;
	uint32_t cli_ts; /* latest client TSval seen */
	/* leg */
	struct mpc_ip ext, srv;
	uint16_t eport, srvport;
	int ext_idx;
	uint32_t leg_iss, leg_irs;
	uint8_t synack_opts[MPC_TCPOPT_CAP];
	uint8_t synack_optlen;
	/* Convert */
	bool extended;
	uint8_t xopts[MPC_TCPOPT_CAP];
	uint8_t xoptlen;
	uint8_t reply[MPC_CONV_CAP];
	uint32_t reply_len;
	/* timers */
	uint64_t deadline;
	uint64_t since;
	unsigned int tries;
	uint64_t rto;
	/* teardown */
	bool sf_fin_rcvd, sf_fin_sent, user_acked;
	uint32_t cli_fin_seq; /* seq after the client's subflow FIN */
	/* multipath: the last hole filled per subflow (fill_hole()) */
	uint32_t fill_seq[MPC_MAX_SUBFLOWS];
	uint64_t fill_ns[MPC_MAX_SUBFLOWS];
	/* ADD_ADDR (announce_tick()): bit i = Address ID i + 1 */
	uint8_t ann_sent; /* announced, not withdrawn */
	uint8_t ann_echo; /* the client echoed it */
	uint8_t ann_tries[MPC_MAX_ANNOUNCE];
	uint64_t ann_due[MPC_MAX_ANNOUNCE];
	uint8_t rm_pend; /* withdrawn, REMOVE_ADDR to be repeated */
	uint8_t rm_tries[MPC_MAX_ANNOUNCE];
	uint64_t rm_due[MPC_MAX_ANNOUNCE];
	/* multipath: the client's lagging DATA_ACK we prompt past (nudge) */
	uint64_t nudge_due;
	uint32_t nudge_dack;
	bool nudge;
	uint8_t nudge_sf;
	uint16_t nudge_tries;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

/* the data path stamps with bpf_ktime_get_coarse_ns() */
static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

/* the DATA_ACK prompts' clock (ms steps: finer than the coarse clock) */
static uint64_t now_fine_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint32_t rand32(void)
{
	uint32_t v = 0;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (uint32_t)random() ^ (uint32_t)now_ns();
	return v;
}

static void ipstr(const struct mpc_ip *ip, char *b, size_t n)
{
	mpc_ip_str(ip, b, n);
}

/* ---- connection table ---------------------------------------------- */

static struct conv_conn *conn_get(struct conv *cv, uint32_t id)
{
	if (id >= cv->max_conns || !cv->conns[id].used)
		return NULL;
	return &cv->conns[id];
}

static uint32_t conn_id(const struct conv *cv, const struct conv_conn *c)
{
	return (uint32_t)(c - cv->conns);
}

static struct conv_conn *conn_alloc(struct conv *cv)
{
	uint32_t i, id;

	for (i = 0; i < cv->max_conns; i++) {
		id = (cv->next_id + i) % cv->max_conns;
		if (!cv->conns[id].used) {
			struct conv_conn *c = &cv->conns[id];
			uint32_t gen = c->gen + 1;

			memset(c, 0, sizeof(*c));
			c->used = true;
			c->gen = gen;
			cv->next_id = id + 1;
			cv->n_used++;
			return c;
		}
	}
	return NULL;
}

/* the token index (tokidx.h) reads tokens from the connection table */
static uint32_t tok_of(void *ctx, uint32_t id)
{
	return ((struct conv *)ctx)->conns[id].token_l;
}

static void tok_add(struct conv *cv, struct conv_conn *c)
{
	mpc_tokidx_add(&cv->tok, conn_id(cv, c));
	c->tok_indexed = true;
}

static void tok_del(struct conv *cv, struct conv_conn *c)
{
	if (c->tok_indexed)
		mpc_tokidx_del(&cv->tok, conn_id(cv, c));
	c->tok_indexed = false;
}

static bool tok_used(void *ctx, uint32_t id)
{
	return ((struct conv *)ctx)->conns[id].used;
}

static bool token_in_use(uint32_t token, void *arg)
{
	struct conv *cv = arg;

	return mpc_tokidx_find(&cv->tok, token, tok_used) != MPC_TOKIDX_NONE;
}

/* leg ports: a bitmap per external address, a range apart from the
 * host's ephemeral ports (port-range) */
static uint8_t *port_map(struct conv *cv, int ext)
{
	return cv->ports + (size_t)ext * 8192;
}

static int port_alloc(struct conv *cv, int ext)
{
	uint32_t n = cv->port_hi - cv->port_lo + 1, i, p;
	uint8_t *m = port_map(cv, ext);

	for (i = 0; i < n; i++) {
		p = cv->port_lo + (cv->port_next + i) % n;
		if (!(m[p / 8] & (1u << (p % 8)))) {
			m[p / 8] |= (uint8_t)(1u << (p % 8));
			cv->port_next = (cv->port_next + i + 1) % n;
			return (int)p;
		}
	}
	return -1;
}

static void port_free(struct conv *cv, int ext, uint16_t p)
{
	if (ext >= 0 && p)
		port_map(cv, ext)[p / 8] &= (uint8_t) ~(1u << (p % 8));
}

/* RFC 6888 REQ-2 (paired pooling): one client, one external address */
static int ext_pick(struct conv *cv, const struct mpc_ip *cli, bool want_v4)
{
	const struct mpc_config *cfg = cv->cfg;
	uint32_t h = 2166136261u;
	int i, n = 0, cand[MPC_MAX_EXT];

	for (i = 0; i < 16; i++)
		h = (h ^ cli->a[i]) * 16777619u;
	for (i = 0; i < cfg->n_ext; i++)
		if (mpc_ip_is_v4(&cfg->ext[i]) == want_v4)
			cand[n++] = i;
	if (!n)
		return -1;
	return cand[h % (uint32_t)n];
}

static void key_from(struct mpc_flow_key *k, const struct mpc_ip *s,
		     uint16_t sp, const struct mpc_ip *d, uint16_t dp,
		     uint8_t family)
{
	memset(k, 0, sizeof(*k));
	mpc_ip_to_words(s, k->saddr);
	mpc_ip_to_words(d, k->daddr);
	k->sport = sp;
	k->dport = dp;
	k->family = family;
}

static int flows_put(struct conv *cv, struct conv_conn *c)
{
	struct mpc_flow_key k;
	struct mpc_flow f = {.conn_id = conn_id(cv, c)};

	key_from(&k, &c->cli, c->cport, &c->svc, c->sport, c->family);
	f.kind = MPC_FLOW_SUBFLOW;
	f.sf = 0;
	if (bpf_map_update_elem(cv->flows_fd, &k, &f, BPF_ANY))
		return -errno;
	if (!c->eport)
		return 0;
	key_from(&k, &c->srv, c->srvport, &c->ext, c->eport, c->family);
	f.kind = MPC_FLOW_LEG;
	if (bpf_map_update_elem(cv->flows_fd, &k, &f, BPF_ANY))
		return -errno;
	return 0;
}

static void flows_del(struct conv *cv, struct conv_conn *c)
{
	const struct mpc_conn *m = &cv->conns_mem[conn_id(cv, c)];
	struct mpc_flow_key k;
	unsigned int i;

	key_from(&k, &c->cli, c->cport, &c->svc, c->sport, c->family);
	bpf_map_delete_elem(cv->flows_fd, &k);
	/* joined subflows (join_install): their identity is in the map */
	for (i = 1; i < MPC_MAX_SUBFLOWS; i++) {
		const struct mpc_subflow *sf = &m->sf[i];

		if (!sf->family)
			continue;
		memset(&k, 0, sizeof(k));
		memcpy(k.saddr, sf->remote, sizeof(k.saddr));
		memcpy(k.daddr, sf->local, sizeof(k.daddr));
		k.sport = sf->rport;
		k.dport = sf->lport;
		k.family = sf->family;
		bpf_map_delete_elem(cv->flows_fd, &k);
	}
	if (c->eport) {
		key_from(&k, &c->srv, c->srvport, &c->ext, c->eport, c->family);
		bpf_map_delete_elem(cv->flows_fd, &k);
	}
}

/* the data path's view: identity, offsets, state */
static int conn_publish(struct conv *cv, struct conv_conn *c)
{
	uint32_t id = conn_id(cv, c);
	struct mpc_conn m;
	struct mpc_subflow *sf = &m.sf[0];

	memset(&m, 0, sizeof(m));
	m.state = c->state;
	m.sched = mpc_sched_for(cv->cfg, &c->srv, c->srvport);
	if (!c->mptcp)
		m.flags |= MPC_CF_PLAIN;
	mpc_ip_to_words(&c->ext, m.leg_local);
	mpc_ip_to_words(&c->srv, m.leg_remote);
	m.leg_lport = c->eport;
	m.leg_rport = c->srvport;
	m.leg_family = c->family;
	m.n_subflows = 1;
	m.leg_iss = c->leg_iss;
	m.leg_irs = c->leg_irs;
	m.key_local = c->key_l;
	m.key_remote = c->key_r;
	m.token_local = c->token_l;
	m.conn_gen = c->gen;
	m.up_tsval = c->cli_ts;
	m.down_tsval = c->sopt.tsval;
	mpc_ip_to_words(&c->svc, sf->local);
	mpc_ip_to_words(&c->cli, sf->remote);
	sf->lport = c->sport;
	sf->rport = c->cport;
	sf->family = c->family;
	sf->flags = MPC_SF_ACTIVE;
	sf->iss = c->sf_iss;
	sf->irs_base = c->cli_isn + c->syn_len;

	if (c->state >= MPC_CS_ESTABLISHED) {
		uint32_t first_up = c->cli_isn + 1 + c->syn_len;
		uint32_t leg_first = c->leg_iss + 1 + c->user_len;

		if (c->mptcp) {
			uint32_t dsn_up = c->dsn_up0;
			uint32_t dsn_dn = (uint32_t)(c->idsn_l + 1);

			m.up_off = leg_first - dsn_up;
			sf->up_off = first_up - dsn_up;
			sf->up_ack = first_up;
			sf->dn_nxt = c->sf_iss + 1 + c->reply_len;
			sf->dn_una = c->sf_iss + 1;
			m.down_off = dsn_dn + c->reply_len - (c->leg_irs + 1);
			sf->down_off = c->sf_iss + 1 - dsn_dn;
			m.reply_end = dsn_dn + c->reply_len;
		} else {
			/* plain peer: DSN is the peer's subflow sequence */
			m.up_off = leg_first - first_up;
			sf->up_off = 0;
			m.down_off =
				c->sf_iss + 1 + c->reply_len - (c->leg_irs + 1);
			sf->down_off = 0;
			m.reply_end = c->sf_iss + 1 + c->reply_len;
		}
		m.max_data_ack = m.reply_end - c->reply_len;
		m.max_leg_ack = c->leg_iss + 1;
		m.leg_snd_nxt = leg_first;
		m.down_snd_nxt = m.reply_end;
		m.resent_hi = m.reply_end; /* nothing resent yet */
		m.last_up_ns = m.last_down_ns = now_ns();
		m.mss_down = c->copt.mss;
		if (c->copt.ts && c->sopt.ts)
			m.flags |= MPC_CF_LEG_TS | MPC_CF_SF_TS;
		if (c->copt.sack && c->sopt.sack)
			m.flags |= MPC_CF_SACK;
	}
	if (bpf_map_update_elem(cv->conns_fd, &id, &m, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * The newest timestamps the data path saw (conn.h up_tsval/down_tsval):
 * segments the agent makes long after the handshake must carry them, or
 * the peers discard them as old duplicates (PAWS, RFC 7323 5.3). c->cli_ts
 * is the client's newest TSval, c->sopt.tsval the server's.
 */
static void conn_sync_ts(struct conv_conn *c, const struct mpc_conn *m)
{
	if (mpc_after(m->up_tsval, c->cli_ts))
		c->cli_ts = m->up_tsval;
	if (mpc_after(m->down_tsval, c->sopt.tsval))
		c->sopt.tsval = m->down_tsval;
}

/* a snapshot of what the data path keeps for id, from the mmap (no
 * syscall: tick_conn() reads every connection every tick) */
static int conn_read(const struct conv *cv, uint32_t id, struct mpc_conn *m)
{
	if (id >= cv->max_conns)
		return -ENOENT;
	memcpy(m, &cv->conns_mem[id], sizeof(*m));
	return 0;
}

/*
 * Only the state word, stored in place through the mmap of mpc_conns: the
 * data path owns the observation fields. (A lookup + update of the whole
 * value wrote back the flags, FIN positions and ACK points read a moment
 * earlier: a server FIN translated in between was forgotten and the
 * connection hung in "closing".)
 */
static void conn_set_state(struct conv *cv, struct conv_conn *c, uint32_t state)
{
	uint32_t id = conn_id(cv, c);

	c->state = state;
	__atomic_store_n(&cv->conns_mem[id].state, state, __ATOMIC_RELEASE);
}

/* no DATA_ACK prompt due for c any more (conv.c "nudge") */
static void nudge_stop(struct conv *cv, struct conv_conn *c)
{
	if (!c->nudge)
		return;
	c->nudge = false;
	cv->n_nudge--;
}

/* a joined subflow's payload into join_up_bytes/join_down_bytes, as it
 * closes or its connection goes */
static void sf_bytes_count(struct conv *cv, const struct mpc_subflow *sf)
{
	cv->st.join_up_bytes +=
		__atomic_load_n(&sf->up_bytes, __ATOMIC_RELAXED);
	cv->st.join_down_bytes +=
		__atomic_load_n(&sf->down_bytes, __ATOMIC_RELAXED);
}

static void conn_free(struct conv *cv, struct conv_conn *c)
{
	uint32_t id = conn_id(cv, c);
	struct mpc_conn zero;
	unsigned int i;

	for (i = 1; i < MPC_MAX_SUBFLOWS; i++)
		if (cv->conns_mem[id].sf[i].flags & MPC_SF_ACTIVE)
			sf_bytes_count(cv, &cv->conns_mem[id].sf[i]);
	flows_del(cv, c);
	tok_del(cv, c);
	memset(&zero, 0, sizeof(zero));
	bpf_map_update_elem(cv->conns_fd, &id, &zero, BPF_ANY);
	port_free(cv, c->ext_idx, c->eport);
	free(c->user);
	c->user = NULL;
	nudge_stop(cv, c);
	c->used = false;
	cv->n_used--;
	cv->st.freed++;
}

static void go_dead(struct conv *cv, struct conv_conn *c)
{
	conn_set_state(cv, c, MPC_CS_DEAD);
	c->since = now_ns();
	c->deadline = c->since + DEAD_LINGER;
}

/* ---- sending -------------------------------------------------------- */

static int send_seg(struct conv *cv, struct mpc_tcp_seg *s)
{
	uint8_t buf[MPC_PKT_MAX];
	int n;

	n = mpc_seg_build(buf, sizeof(buf), s);
	if (n < 0)
		return -EINVAL;
	return mpc_tx_send(&cv->tx, buf, (size_t)n);
}

/* pad the option area to 4 and record its length */
static void opts_finish(struct mpc_tcp_seg *s, uint32_t off)
{
	int n = mpc_tcpopt_put_nops(s->opts, off, MPC_TCPOPT_MAXLEN);

	s->optlen = (uint8_t)(off + (n > 0 ? (uint32_t)n : 0));
}

/* a fresh segment from src:sport to dst:dport */
static void seg_addr(struct mpc_tcp_seg *s, uint8_t family,
		     const struct mpc_ip *src, uint16_t sport,
		     const struct mpc_ip *dst, uint16_t dport)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->src = *src;
	s->dst = *dst;
	s->sport = sport;
	s->dport = dport;
}

static void seg_to_client(struct conv_conn *c, struct mpc_tcp_seg *s)
{
	seg_addr(s, c->family, &c->svc, c->sport, &c->cli, c->cport);
}

static void seg_to_server(struct conv_conn *c, struct mpc_tcp_seg *s)
{
	seg_addr(s, c->family, &c->ext, c->eport, &c->srv, c->srvport);
}

/* from the converter to the client on subflow slot sf (joins, fillers) */
static void seg_to_sf(struct mpc_tcp_seg *s, const struct mpc_subflow *sf)
{
	struct mpc_ip l, r;

	mpc_ip_from_words(&l, sf->local, sf->family);
	mpc_ip_from_words(&r, sf->remote, sf->family);
	seg_addr(s, sf->family, &l, sf->lport, &r, sf->rport);
}

/*
 * The window field of the agent's own segments to the client: 64 KiB in
 * the scale we announced there (the server's, passed through), e.g. 8 MiB
 * at scale 7. Linux takes it as the send window when the segment's seq is
 * past the last update's (tcp_may_update_window()); the data path's next
 * segment carries the server's window again.
 */
static uint16_t sf_win(const struct conv_conn *c)
{
	return (uint16_t)(65535 >>
			  (c->sopt.has_ws && c->copt.has_ws ? c->sopt.ws : 0));
}

/* NOP NOP TS, when both sides agreed on timestamps */
static uint32_t put_ts(uint8_t *o, uint32_t off, uint32_t val, uint32_t ecr)
{
	o[off] = MPC_TCPOPT_NOP;
	o[off + 1] = MPC_TCPOPT_NOP;
	mpc_tcpopt_put_ts(o, off + 2, MPC_TCPOPT_MAXLEN, val, ecr);
	return off + 12;
}

/* DSS with 4-byte DATA_ACK and DSN, as the data path writes them; no
 * DATA_ACK while the peer's data sequence space is unknown */
static int put_dss(uint8_t *o, uint32_t off, bool ack, uint32_t data_ack,
		   bool map, uint32_t dsn, uint32_t ssn, uint16_t dll, bool fin)
{
	struct mpc_mptcp_opt d;
	int n;

	memset(&d, 0, sizeof(d));
	d.subtype = MPC_MP_DSS;
	d.flags = ack ? MPC_DSS_A : 0;
	d.u.dss.data_ack = data_ack;
	if (map) {
		d.flags |= MPC_DSS_M;
		d.u.dss.dsn = dsn;
		d.u.dss.ssn = ssn;
		d.u.dss.dll = dll;
	}
	if (fin)
		d.flags |= MPC_DSS_F;
	n = mpc_mptcp_build(o, off, MPC_TCPOPT_MAXLEN, &d);
	return n < 0 ? 0 : n;
}

static void send_leg_syn(struct conv *cv, struct conv_conn *c)
{
	struct mpc_tcp_seg s;
	uint32_t off = 0, k;
	uint16_t mss;

	seg_to_server(c, &s);
	s.seq = c->leg_iss;
	s.flags = MPC_TH_SYN;
	s.win = 65535;
	/* data toward the client grows by the DSS we insert: clamp */
	mss = c->copt.mss ? c->copt.mss : 536;
	if (mss > cv->mtu - (c->family == 4 ? 40 : 60))
		mss = cv->mtu - (c->family == 4 ? 40 : 60);
	if (c->mptcp)
		mss -= DSS_OVERHEAD;
	off += mpc_tcpopt_put_mss(s.opts, off, MPC_TCPOPT_MAXLEN, mss);
	if (c->copt.sack)
		off += mpc_tcpopt_put_sack_perm(s.opts, off, MPC_TCPOPT_MAXLEN);
	if (c->copt.ts)
		off += mpc_tcpopt_put_ts(s.opts, off, MPC_TCPOPT_MAXLEN,
					 c->copt.tsval, 0);
	if (c->copt.has_ws) {
		s.opts[off++] = MPC_TCPOPT_NOP;
		off += mpc_tcpopt_put_wscale(s.opts, off, MPC_TCPOPT_MAXLEN,
					     c->copt.ws);
	}
	/* Extended Connect: options with a value are copied; without one
	 * the converter generates its own (RFC 8803 6.2.5) */
	for (k = 0; k < c->xoptlen;) {
		uint8_t kind = c->xopts[k], len = c->xopts[k + 1];

		if (len < 2 || k + len > c->xoptlen)
			break;
		if (kind == MPC_TCPOPT_MPTCP && len == 2 && off + 4 <= 40) {
			struct mpc_mptcp_opt cap = {.subtype = MPC_MP_CAPABLE,
						    .variant = MPC_CAP_SYN,
						    .flags = MPC_CAP_H};

			cap.u.cap.version = MPC_MPTCP_VERSION;
			off += (uint32_t)mpc_mptcp_build(s.opts, off, 40, &cap);
		} else if (kind == MPC_TCPOPT_FASTOPEN && len == 2 &&
			   off + 2 <= 40) {
			s.opts[off++] = MPC_TCPOPT_FASTOPEN;
			s.opts[off++] = 2;
		} else if (len > 2 && kind != MPC_TCPOPT_MSS &&
			   kind != MPC_TCPOPT_WSCALE && kind != MPC_TCPOPT_TS &&
			   kind != MPC_TCPOPT_SACK_PERM && off + len <= 40) {
			memcpy(s.opts + off, c->xopts + k, len);
			off += len;
		}
		k += len;
	}
	opts_finish(&s, off);
	send_seg(cv, &s);
}

static void send_leg_ack_at(struct conv *cv, struct conv_conn *c, uint32_t seq,
			    uint32_t ack, bool with_user)
{
	struct mpc_tcp_seg s;
	uint32_t off = 0;

	seg_to_server(c, &s);
	s.seq = seq;
	s.ack = ack;
	s.flags = MPC_TH_ACK;
	s.win = 65535 >> (c->sopt.has_ws && c->copt.has_ws ? c->copt.ws : 0);
	if (c->copt.ts && c->sopt.ts)
		off = put_ts(s.opts, off, c->cli_ts, c->sopt.tsval);
	opts_finish(&s, off);
	if (with_user && c->user_len) {
		s.flags |= MPC_TH_PSH;
		s.data = c->user;
		s.dlen = c->user_len;
	}
	send_seg(cv, &s);
}

/* the third ACK of the leg handshake (with the client's SYN data) */
static void send_leg_ack(struct conv *cv, struct conv_conn *c, bool with_user)
{
	send_leg_ack_at(cv, c, c->leg_iss + 1, c->leg_irs + 1, with_user);
}

/* the server repeats its FIN after the leg closed: ACK it, as TCP does in
 * TIME_WAIT (our first ACK of it was lost) */
static void ack_server_fin(struct conv *cv, struct conv_conn *c,
			   const struct mpc_conn *m,
			   const struct mpc_tcp_seg *s)
{
	cv->st.fin_reacked++;
	send_leg_ack_at(cv, c, m->leg_snd_nxt, s->seq + s->dlen + 1, false);
}

/*
 * The TCP options of a SYN/ACK to the client: what its SYN (cli) offered
 * and the server's SYN/ACK (srv) accepted. MSS: the server's, within our
 * MTU (the client's segments keep their size on the leg, DSS -> NOPs);
 * window scale: the server's shift, so windows pass unchanged.
 */
static uint32_t put_synack_opts(const struct conv *cv, uint8_t *o,
				uint8_t family, const struct side_opts *cli,
				const struct side_opts *srv)
{
	uint16_t mss = srv->mss ? srv->mss : 536;
	uint32_t off = 0;

	if (mss > cv->mtu - (family == 4 ? 40 : 60))
		mss = cv->mtu - (family == 4 ? 40 : 60);
	off += mpc_tcpopt_put_mss(o, off, MPC_TCPOPT_MAXLEN, mss);
	if (cli->sack && srv->sack)
		off += mpc_tcpopt_put_sack_perm(o, off, MPC_TCPOPT_MAXLEN);
	if (cli->ts && srv->ts)
		off += mpc_tcpopt_put_ts(o, off, MPC_TCPOPT_MAXLEN, srv->tsval,
					 cli->tsval);
	if (cli->has_ws && srv->has_ws) {
		o[off++] = MPC_TCPOPT_NOP;
		off += mpc_tcpopt_put_wscale(o, off, MPC_TCPOPT_MAXLEN,
					     srv->ws);
	}
	return off;
}

static void send_synack(struct conv *cv, struct conv_conn *c)
{
	struct mpc_tcp_seg s;
	uint32_t off;

	seg_to_client(c, &s);
	s.seq = c->sf_iss;
	s.ack = c->cli_isn + 1 + (c->synack_syn_only ? 0 : c->syn_len);
	s.flags = MPC_TH_SYN | MPC_TH_ACK;
	s.win = 65535;
	off = put_synack_opts(cv, s.opts, c->family, &c->copt, &c->sopt);
	if (c->mptcp) {
		struct mpc_mptcp_opt cap = {.subtype = MPC_MP_CAPABLE,
					    .variant = MPC_CAP_SYNACK,
					    .flags = MPC_CAP_H};

		cap.u.cap.version = MPC_MPTCP_VERSION;
		cap.u.cap.skey = c->key_l;
		off += (uint32_t)mpc_mptcp_build(s.opts, off, 40, &cap);
	}
	opts_finish(&s, off);
	send_seg(cv, &s);
}

/* the Convert reply: first bytes of our stream toward the client */
static void send_reply(struct conv *cv, struct conv_conn *c)
{
	struct mpc_tcp_seg s;
	uint32_t off = 0;

	seg_to_client(c, &s);
	s.seq = c->sf_iss + 1;
	s.ack = c->cli_isn + 1 + c->syn_len;
	s.flags = MPC_TH_ACK | MPC_TH_PSH;
	s.win = sf_win(c);
	if (c->copt.ts && c->sopt.ts)
		off = put_ts(s.opts, off, c->sopt.tsval, c->cli_ts);
	if (c->mptcp)
		off += (uint32_t)put_dss(s.opts, off, c->state != MPC_CS_NOKEY,
					 c->dsn_up0, true,
					 (uint32_t)(c->idsn_l + 1), 1,
					 (uint16_t)c->reply_len, false);
	opts_finish(&s, off);
	s.data = c->reply;
	s.dlen = c->reply_len;
	send_seg(cv, &s);
}

/* RST toward the server at the leg's current send point */
static void rst_server(struct conv *cv, struct conv_conn *c, uint32_t seq)
{
	struct mpc_tcp_seg s;

	if (!c->eport)
		return;
	seg_to_server(c, &s);
	s.seq = seq;
	s.flags = MPC_TH_RST;
	send_seg(cv, &s);
}

/* MP_FASTCLOSE (in a RST, RFC 8684 3.5) or a plain RST to the client */
static void rst_client(struct conv *cv, struct conv_conn *c, uint32_t seq,
		       bool fastclose)
{
	struct mpc_tcp_seg s;
	uint32_t off = 0;

	seg_to_client(c, &s);
	s.seq = seq;
	s.flags = MPC_TH_RST;
	if (fastclose && c->mptcp && c->have_key_r) {
		struct mpc_mptcp_opt fc = {.subtype = MPC_MP_FASTCLOSE};

		fc.u.fclose.rkey = c->key_r;
		off += (uint32_t)mpc_mptcp_build(s.opts, off, 40, &fc);
		cv->st.fastclose_sent++;
	}
	opts_finish(&s, off);
	send_seg(cv, &s);
}

/* ---- errors: RFC 8803 Error TLV on a plain TCP connection ---------- */

static void err_send(struct conv *cv, struct conv_conn *c)
{
	struct mpc_tcp_seg s;
	uint32_t off;

	/* SYN/ACK without MP_CAPABLE: the client falls back to TCP */
	seg_to_client(c, &s);
	s.seq = c->sf_iss;
	s.ack = c->cli_isn + 1 + c->syn_len;
	s.flags = MPC_TH_SYN | MPC_TH_ACK;
	s.win = 65535;
	off = (uint32_t)mpc_tcpopt_put_mss(s.opts, 0, 40, 1220);
	opts_finish(&s, off);
	send_seg(cv, &s);
	/* the Error TLV, then FIN: no immediate RST (RFC 8803 6.2.2) */
	seg_to_client(c, &s);
	s.seq = c->sf_iss + 1;
	s.ack = c->cli_isn + 1 + c->syn_len;
	s.flags = MPC_TH_ACK | MPC_TH_PSH | MPC_TH_FIN;
	s.win = 65535;
	s.data = c->reply;
	s.dlen = c->reply_len;
	send_seg(cv, &s);
}

static void count_error(struct conv *cv, uint8_t code)
{
	switch (code) {
	case MPC_CONV_E_UNSUPPORTED_VERSION:
		cv->st.err_unsupported_version++;
		break;
	case MPC_CONV_E_MALFORMED:
		cv->st.err_malformed++;
		break;
	case MPC_CONV_E_UNSUPPORTED_MSG:
		cv->st.err_unsupported_msg++;
		break;
	case MPC_CONV_E_MISSING_COOKIE:
		cv->st.err_missing_cookie++;
		break;
	case MPC_CONV_E_NOT_AUTHORIZED:
		cv->st.err_not_authorized++;
		break;
	case MPC_CONV_E_UNSUPPORTED_OPT:
		cv->st.err_unsupported_opt++;
		break;
	case MPC_CONV_E_RESOURCE_EXCEEDED:
		cv->st.err_resource_exceeded++;
		break;
	case MPC_CONV_E_NETWORK_FAILURE:
		cv->st.err_network_failure++;
		break;
	case MPC_CONV_E_CONNECTION_RESET:
		cv->st.err_connection_reset++;
		break;
	case MPC_CONV_E_DEST_UNREACHABLE:
		cv->st.err_dest_unreachable++;
		break;
	default:
		break;
	}
}

static void conn_error(struct conv *cv, struct conv_conn *c, uint8_t code,
		       const uint8_t *echo, uint32_t echo_len, uint8_t value)
{
	char a[64];
	int n, t;

	n = mpc_conv_put_hdr(c->reply, MPC_CONV_CAP);
	if (code == MPC_CONV_E_MALFORMED ||
	    code == MPC_CONV_E_UNSUPPORTED_MSG) {
		if (echo_len > MPC_CONV_ECHO_MAX)
			echo_len = MPC_CONV_ECHO_MAX;
		echo_len &= ~3u;
		t = echo_len ? mpc_conv_put_error_data(c->reply, (uint32_t)n,
						       MPC_CONV_CAP, code, echo,
						       0, echo_len)
			     : mpc_conv_put_error_u8(c->reply, (uint32_t)n,
						     MPC_CONV_CAP, code, 0);
	} else {
		t = mpc_conv_put_error_u8(c->reply, (uint32_t)n, MPC_CONV_CAP,
					  code, value);
	}
	if (t < 0)
		t = mpc_conv_put_error_u8(c->reply, (uint32_t)n, MPC_CONV_CAP,
					  code, code == 0 ? 1 : 0);
	n += t > 0 ? t : 0;
	mpc_conv_set_total(c->reply, (uint32_t)n);
	c->reply_len = (uint32_t)n;
	count_error(cv, code);
	ipstr(&c->cli, a, sizeof(a));
	log_info("conn %u: %s:%u: Convert error %u", conn_id(cv, c), a,
		 c->cport, code);

	/* the leg, if any, goes away */
	if (c->eport && c->state == MPC_CS_LEG_SYN_SENT && c->leg_irs)
		rst_server(cv, c, c->leg_iss + 1);
	if (c->eport) {
		struct mpc_flow_key k;

		key_from(&k, &c->srv, c->srvport, &c->ext, c->eport, c->family);
		bpf_map_delete_elem(cv->flows_fd, &k);
		port_free(cv, c->ext_idx, c->eport);
		c->eport = 0;
	}
	c->state = MPC_CS_ERROR;
	c->mptcp = false;
	conn_publish(cv, c);
	flows_put(cv, c);
	c->tries = 0;
	c->rto = ERR_RTO;
	c->deadline = now_ns() + c->rto;
	err_send(cv, c);
}

/* ---- the client's SYN ---------------------------------------------- */

static void opts_of(const struct mpc_tcp_seg *s, struct side_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (s->to.flags & MPC_TO_MSS)
		o->mss = s->to.mss;
	if (s->to.flags & MPC_TO_WSCALE) {
		o->has_ws = true;
		o->ws = s->to.wscale > MPC_WSCALE_MAX ? MPC_WSCALE_MAX
						      : s->to.wscale;
	}
	o->sack = !!(s->to.flags & MPC_TO_SACK_PERM);
	if (s->to.flags & MPC_TO_TS) {
		o->ts = true;
		o->tsval = s->to.tsval;
	}
}

/* first MPTCP option of the segment, parsed; false if none parses */
static bool mptcp_first(const struct mpc_tcp_seg *s, uint8_t subtype,
			struct mpc_mptcp_opt *o)
{
	int i;

	for (i = 0; i < s->to.n_mptcp; i++)
		if (mpc_mptcp_parse(s->opts, s->to.mptcp_off[i], s->optlen,
				    o) == 0 &&
		    o->subtype == subtype)
			return true;
	return false;
}

/* an interface address as struct mpc_ip; false for other families */
static bool ifa_ip(const struct ifaddrs *i, struct mpc_ip *a)
{
	memset(a, 0, sizeof(*a));
	if (!i->ifa_addr)
		return false;
	if (i->ifa_addr->sa_family == AF_INET) {
		a->a[10] = a->a[11] = 0xff;
		memcpy(a->a + 12,
		       &((const struct sockaddr_in *)(const void *)i->ifa_addr)
				->sin_addr,
		       4);
		return true;
	}
	if (i->ifa_addr->sa_family == AF_INET6) {
		memcpy(a->a,
		       &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)
				->sin6_addr,
		       16);
		return true;
	}
	return false;
}

/* the segment carries a DATA_FIN (DSS with F) */
static bool seg_data_fin(const struct mpc_tcp_seg *s)
{
	struct mpc_mptcp_opt o;

	return mptcp_first(s, MPC_MP_DSS, &o) && (o.flags & MPC_DSS_F);
}

static bool ip_is_local(const struct mpc_ip *ip)
{
	struct ifaddrs *ifa, *i;
	bool local = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !local; i = i->ifa_next) {
		struct mpc_ip a;

		local = ifa_ip(i, &a) && memcmp(a.a, ip->a, 16) == 0;
	}
	freeifaddrs(ifa);
	return local;
}

/* the converter itself: its addresses, service and external addresses */
static bool is_converter(struct conv *cv, const struct mpc_ip *ip)
{
	int i;

	for (i = 0; i < cv->cfg->n_listen; i++)
		if (!memcmp(ip->a, cv->cfg->listen[i].ip.a, 16))
			return true;
	for (i = 0; i < cv->cfg->n_ext; i++)
		if (!memcmp(ip->a, cv->cfg->ext[i].a, 16))
			return true;
	return ip_is_local(ip);
}

static bool allowed(struct conv *cv, const struct mpc_ip *ip)
{
	int i;

	for (i = 0; i < cv->cfg->n_allow; i++)
		if (mpc_prefix_match(&cv->cfg->allow[i], ip))
			return true;
	return false;
}

/* ---- MP_JOIN (RFC 8684 3.2) -------------------------------------------
 *
 * A SYN with MP_JOIN for one of our tokens gets a SYN/ACK with our nonce
 * and the leftmost 64 bits of HMAC-B; the third ACK must carry HMAC-A
 * (160 bits), else RST with MP_TCPRST "MPTCP-specific error". Unknown
 * tokens get that RST at once. The handshake state lives here, not in the
 * maps: the data path passes the third ACK up (MPC_SLOW_JOIN, no flow).
 *
 * This version's data path carries one subflow per connection
 * (docs/multipath-plan.md), so a verified join is then refused with
 * "Administratively prohibited" (RFC 8684 3.2: local policy). The client
 * keeps its first subflow; both HMACs were checked against a real peer
 * on the way (join_verified), which is what installing the subflow will
 * build on.
 */
#define JOIN_PENDING 256
#define JOIN_LIFE (10 * NSEC)

struct conv_join {
	bool used;
	uint8_t family;
	uint8_t addr_id; /* the client's address id */
	bool backup;
	struct mpc_ip cli, svc;
	uint16_t cport, sport;
	uint32_t conn_id, gen;
	uint32_t cli_isn, iss;
	uint32_t nonce_l, nonce_r;
	struct side_opts copt;
	uint64_t expires;
};

static struct conv_join *join_find(struct conv *cv, const struct mpc_tcp_seg *s)
{
	uint64_t now = now_ns();
	unsigned int i;

	for (i = 0; i < JOIN_PENDING; i++) {
		struct conv_join *j = &cv->joins[i];

		if (j->used && j->expires <= now)
			j->used = false;
		if (j->used && j->family == s->family && j->cport == s->sport &&
		    j->sport == s->dport && !memcmp(j->cli.a, s->src.a, 16) &&
		    !memcmp(j->svc.a, s->dst.a, 16))
			return j;
	}
	return NULL;
}

static struct conv_join *join_alloc(struct conv *cv)
{
	uint64_t now = now_ns();
	unsigned int i;

	for (i = 0; i < JOIN_PENDING; i++)
		if (!cv->joins[i].used || cv->joins[i].expires <= now) {
			memset(&cv->joins[i], 0, sizeof(cv->joins[i]));
			cv->joins[i].used = true;
			cv->joins[i].expires = now + JOIN_LIFE;
			return &cv->joins[i];
		}
	return NULL;
}

/* the connection a join token names: ours, MPTCP, both keys known */
static bool tok_joinable(void *ctx, uint32_t id)
{
	const struct conv_conn *c = &((struct conv *)ctx)->conns[id];

	return c->used && c->mptcp && c->have_key_r;
}

static struct conv_conn *conn_by_token(struct conv *cv, uint32_t token)
{
	uint32_t id = mpc_tokidx_find(&cv->tok, token, tok_joinable);

	return id == MPC_TOKIDX_NONE ? NULL : &cv->conns[id];
}

/* RST with MP_TCPRST answering segment s (RFC 9293 3.10.7.1 for the
 * sequence numbers) */
static void join_rst(struct conv *cv, const struct mpc_tcp_seg *s,
		     uint8_t reason)
{
	struct mpc_mptcp_opt r = {.subtype = MPC_MP_TCPRST};
	struct mpc_tcp_seg o;
	uint32_t off = 0;

	seg_addr(&o, s->family, &s->dst, s->dport, &s->src, s->sport);
	if (s->flags & MPC_TH_ACK) {
		o.seq = s->ack;
		o.flags = MPC_TH_RST;
	} else {
		o.ack = s->seq + s->dlen + ((s->flags & MPC_TH_SYN) ? 1 : 0);
		o.flags = MPC_TH_RST | MPC_TH_ACK;
	}
	r.u.rst.reason = reason;
	off += (uint32_t)mpc_mptcp_build(o.opts, off, 40, &r);
	opts_finish(&o, off);
	send_seg(cv, &o);
}

static void join_send_synack(struct conv *cv, const struct conv_conn *c,
			     const struct conv_join *j)
{
	struct mpc_mptcp_opt mj = {.subtype = MPC_MP_JOIN,
				   .variant = MPC_JOIN_SYNACK};
	struct mpc_tcp_seg s;
	uint32_t off;

	seg_addr(&s, j->family, &j->svc, j->sport, &j->cli, j->cport);
	s.seq = j->iss;
	s.ack = j->cli_isn + 1;
	s.flags = MPC_TH_SYN | MPC_TH_ACK;
	s.win = 65535;
	/* the connection's terms: the leg's MSS, SACK, timestamps, scale */
	off = put_synack_opts(cv, s.opts, j->family, &j->copt, &c->sopt);
	/* an announced address's own ID, so that a REMOVE_ADDR of it
	 * closes this subflow at the client too; else 0, the address of the
	 * first subflow (RFC 8684 3.4.1) */
	mj.u.join.addr_id = (uint8_t)mpc_config_announce_id(cv->cfg, &j->svc);
	mj.u.join.nonce = j->nonce_l;
	/* A = the client (initiator), B = us */
	mpc_mpj_synack_hmac(c->key_r, c->key_l, j->nonce_r, j->nonce_l,
			    mj.u.join.hmac);
	off += (uint32_t)mpc_mptcp_build(s.opts, off, 40, &mj);
	opts_finish(&s, off);
	send_seg(cv, &s);
}

static void on_join_syn(struct conv *cv, const struct mpc_tcp_seg *s,
			const struct mpc_mptcp_opt *mj)
{
	struct conv_conn *c;
	struct conv_join *j;

	cv->st.join_syn++;
	if (!allowed(cv, &s->src)) {
		cv->st.syn_ignored++; /* nothing, ever, for them */
		return;
	}
	c = conn_by_token(cv, mj->u.join.token);
	if (!c) {
		cv->st.join_refused_token++;
		join_rst(cv, s, MPC_RST_MPTCP_ERROR);
		return;
	}
	j = join_find(cv, s);
	if (j && j->cli_isn == s->seq) {
		join_send_synack(cv, c, j); /* the client retransmitted */
		return;
	}
	if (!j)
		j = join_alloc(cv);
	if (!j) {
		cv->st.join_refused_full++;
		join_rst(cv, s, MPC_RST_NO_RESOURCES);
		return;
	}
	j->family = s->family;
	j->cli = s->src;
	j->svc = s->dst;
	j->cport = s->sport;
	j->sport = s->dport;
	j->conn_id = conn_id(cv, c);
	j->gen = c->gen;
	j->cli_isn = s->seq;
	j->iss = rand32();
	j->nonce_r = mj->u.join.nonce;
	j->nonce_l = rand32();
	j->addr_id = mj->u.join.addr_id;
	j->backup = !!(mj->flags & MPC_JOIN_B);
	opts_of(s, &j->copt);
	join_send_synack(cv, c, j);
}

/* the join's TCP options must be the first subflow's: the data path
 * passes window fields through unchanged (one scale for all subflows)
 * and writes SACK and timestamps as negotiated on the connection */
static bool join_terms_match(const struct conv_conn *c,
			     const struct side_opts *o)
{
	return o->ts == c->copt.ts && o->sack == c->copt.sack &&
	       o->has_ws == c->copt.has_ws &&
	       (!o->has_ws || o->ws == c->copt.ws);
}

/*
 * The fourth ACK of a join (RFC 8684 3.2: the peer sends no data on the
 * subflow before it), and the answer to a repeated third ACK. It carries
 * the connection's DATA_ACK, as every segment of ours does.
 */
static void send_join_ack(struct conv *cv, struct conv_conn *c, unsigned int i,
			  uint32_t tsecr, bool fin, uint32_t ack)
{
	const struct mpc_conn *m = &cv->conns_mem[conn_id(cv, c)];
	const struct mpc_subflow *sf = &m->sf[i & (MPC_MAX_SUBFLOWS - 1)];
	struct mpc_tcp_seg o;
	uint32_t off = 0;

	conn_sync_ts(c, m);
	seg_to_sf(&o, sf);
	o.seq = sf->dn_nxt;
	o.ack = fin ? ack : sf->up_ack;
	o.flags = MPC_TH_ACK | (fin ? MPC_TH_FIN : 0);
	o.win = sf_win(c);
	if (m->flags & MPC_CF_SF_TS)
		off = put_ts(o.opts, off, c->sopt.tsval, tsecr);
	off += (uint32_t)put_dss(o.opts, off, true, m->max_leg_ack - m->up_off,
				 false, 0, 0, 0, false);
	opts_finish(&o, off);
	send_seg(cv, &o);
}

/*
 * Install a verified join as subflow slot i of connection c, in the order
 * the data path needs (docs/design.md 3a: fields in place through the
 * mmap, never a whole value): the slot's fields, MPC_CF_MULTI (from then
 * on the data path keeps run records and takes subflow ACKs from them,
 * multi.h), the flow entry, MPC_SF_ACTIVE last; then the fourth ACK.
 * Returns 0, or -1 when policy refuses it (max-subflows, terms, state).
 */
static int join_install(struct conv *cv, struct conv_conn *c,
			const struct conv_join *j, const struct mpc_tcp_seg *s)
{
	uint32_t id = conn_id(cv, c), elapsed_ms;
	struct mpc_conn *m = &cv->conns_mem[id];
	struct mpc_flow f = {.conn_id = id, .kind = MPC_FLOW_SUBFLOW};
	unsigned int i, n = 0, slot = 0;
	struct mpc_subflow *sf;
	struct mpc_flow_key k;
	uint64_t now = now_ns();

	if (c->state != MPC_CS_ESTABLISHED || !c->mptcp ||
	    !join_terms_match(c, &j->copt))
		return -1;
	for (i = 0; i < MPC_MAX_SUBFLOWS; i++) {
		if (m->sf[i].flags & MPC_SF_ACTIVE)
			n++;
		else if (!slot && i && !m->sf[i].family)
			slot = i; /* slots are not reused within a connection */
	}
	if (n >= cv->cfg->max_subflows || !slot)
		return -1;
	sf = &m->sf[slot];
	mpc_ip_to_words(&j->svc, sf->local);
	mpc_ip_to_words(&j->cli, sf->remote);
	sf->lport = j->sport;
	sf->rport = j->cport;
	sf->iss = j->iss;
	sf->irs_base = j->cli_isn;
	/* the peer's DSS mappings place its data; these only seed the
	 * offsets the data path moves (xlate.h nonlinear) */
	sf->up_off = j->cli_isn + 1 - (m->leg_snd_nxt - m->up_off);
	sf->down_off = j->iss + 1 - m->down_snd_nxt;
	sf->up_nxt = j->cli_isn + 1;
	sf->up_ack = j->cli_isn + 1;
	sf->dn_nxt = j->iss + 1;
	sf->dn_una = j->iss + 1;
	sf->srtt_us = sf->rate = sf->dl_bytes = 0;
	sf->dl_ns = sf->tx_ns = 0;
	sf->up_bytes = sf->down_bytes = sf->acks = 0;
	/* the TSval we echo here until the data path sees more (xlate.h) */
	sf->ts_recent = (s->to.flags & MPC_TO_TS) ? s->to.tsval : 0;
	/* this subflow's timestamp clock onto the leg's (the first
	 * subflow's): the peer's newest TSval there, aged by the time since
	 * (Linux ticks in ms), minus what this subflow says now */
	sf->ts_off = 0;
	if ((m->flags & MPC_CF_SF_TS) && (s->to.flags & MPC_TO_TS)) {
		elapsed_ms =
			now > m->last_up_ns
				? (uint32_t)((now - m->last_up_ns) / 1000000)
				: 0;
		sf->ts_off = m->up_tsval + m->sf[0].ts_off + elapsed_ms -
			     s->to.tsval;
		if (mpc_after(m->up_tsval + m->sf[0].ts_off, m->leg_tsval_hi))
			m->leg_tsval_hi = m->up_tsval + m->sf[0].ts_off;
	}
	__atomic_store_n(&sf->family, j->family, __ATOMIC_RELEASE);
	/* the first subflow's stall clock (tx_ns) stays 0 until the data
	 * path sends there as a MULTI connection (multi.h) */
	__atomic_fetch_or(&m->flags, MPC_CF_MULTI, __ATOMIC_SEQ_CST);
	key_from(&k, &j->cli, j->cport, &j->svc, j->sport, j->family);
	f.sf = (uint8_t)slot;
	if (bpf_map_update_elem(cv->flows_fd, &k, &f, BPF_ANY)) {
		log_warn("conn %u: join flow: %s", id, strerror(errno));
		return -1;
	}
	__atomic_store_n(&sf->flags,
			 (uint8_t)(MPC_SF_ACTIVE |
				   (j->backup ? MPC_SF_BACKUP : 0)),
			 __ATOMIC_RELEASE);
	m->n_subflows = (uint8_t)(n + 1);
	send_join_ack(cv, c, slot,
		      (s->to.flags & MPC_TO_TS) ? s->to.tsval : c->cli_ts,
		      false, 0);
	log_debug("conn %u: subflow %u joined (%s), ts_off %u (its TSval %u, "
		  "first subflow's %u)",
		  id, slot, j->backup ? "backup" : "primary", sf->ts_off,
		  s->to.tsval, m->up_tsval);
	return 0;
}

static void on_join_ack(struct conv *cv, const struct mpc_tcp_seg *s)
{
	struct mpc_mptcp_opt mj;
	struct conv_conn *c;
	struct conv_join *j;

	j = join_find(cv, s);
	if (!j) {
		/* no handshake of ours (refused already and repeated by the
		 * peer, expired, or never): as TCP does for a segment to no
		 * socket */
		cv->st.join_stray++;
		join_rst(cv, s, MPC_RST_MPTCP_ERROR);
		return;
	}
	if (s->ack != j->iss + 1 || s->seq != j->cli_isn + 1)
		return; /* not an acceptable ACK of our SYN/ACK */
	c = conn_get(cv, j->conn_id);
	if (!c || c->gen != j->gen || !c->have_key_r ||
	    !mptcp_first(s, MPC_MP_JOIN, &mj) || mj.variant != MPC_JOIN_ACK ||
	    !mpc_mpj_ack_verify(c->key_r, c->key_l, j->nonce_r, j->nonce_l,
				mj.u.join.hmac)) {
		cv->st.join_refused_hmac++;
		join_rst(cv, s, MPC_RST_MPTCP_ERROR);
		j->used = false;
		return;
	}
	cv->st.join_verified++;
	if (join_install(cv, c, j, s)) {
		cv->st.join_refused_policy++;
		join_rst(cv, s, MPC_RST_ADMIN_PROHIBITED);
	} else {
		cv->st.join_accepted++;
	}
	j->used = false;
}

static void on_syn(struct conv *cv, const struct mpc_tcp_seg *s)
{
	static uint8_t msgbuf[MPC_CONV_CAP];
	struct mpc_mptcp_opt cap;
	struct mpc_conv_msg m;
	struct conv_conn *c;
	struct mpc_ip srv;
	char a[64], b[64];
	uint32_t mlen;
	int rc, port;

	cv->st.syn_in++;
	if (mptcp_first(s, MPC_MP_JOIN, &cap) && cap.variant == MPC_JOIN_SYN) {
		on_join_syn(cv, s, &cap);
		return;
	}
	/* SYNs without Convert data to the service port: silently dropped */
	if (!s->dlen) {
		cv->st.syn_ignored++;
		return;
	}
	mlen = s->dlen < MPC_CONV_CAP ? s->dlen : MPC_CONV_CAP;
	memset(msgbuf, 0, sizeof(msgbuf));
	memcpy(msgbuf, s->data, mlen);
	rc = mpc_conv_parse(msgbuf, mlen, MPC_CONV_FROM_CLIENT, &m);
	if (rc && m.answer.action == MPC_CONV_ACT_IGNORE) {
		cv->st.syn_ignored++;
		return;
	}

	c = conn_alloc(cv);
	if (!c) {
		log_warn("connection table full (%u)", cv->max_conns);
		return; /* no slot even for an answer: the client retries */
	}
	c->family = s->family;
	c->cli = s->src;
	c->svc = s->dst;
	c->cport = s->sport;
	c->sport = s->dport;
	c->cli_isn = s->seq;
	c->syn_len = s->dlen;
	c->sf_iss = rand32();
	c->ext_idx = -1;
	opts_of(s, &c->copt);
	c->cli_ts = c->copt.tsval;
	c->mptcp = mptcp_first(s, MPC_MP_CAPABLE, &cap) &&
		   cap.variant == MPC_CAP_SYN &&
		   !(cap.flags & MPC_CAP_A); /* no DSS checksums: fall back */
	c->since = now_ns();

	if (rc) {
		if (m.answer.action == MPC_CONV_ACT_INCOMPLETE)
			m.answer.code = MPC_CONV_E_MALFORMED;
		conn_error(cv, c, m.answer.code, msgbuf,
			   m.avail ? m.avail : mlen,
			   m.answer.code == MPC_CONV_E_UNSUPPORTED_VERSION
				   ? MPC_CONV_VERSION
				   : 0);
		return;
	}
	if (!allowed(cv, &c->cli)) {
		conn_error(cv, c, MPC_CONV_E_NOT_AUTHORIZED, NULL, 0, 0);
		return;
	}
	if (!(m.tlvs & MPC_CONV_F_CONNECT)) {
		/* Info alone: the list of what we convert, then close */
		__u64 kinds[4] = {SUPPORTED_KINDS, 0, 0, 0};
		int n = mpc_conv_put_hdr(c->reply, MPC_CONV_CAP), t;

		t = mpc_conv_put_supported_map(c->reply, (uint32_t)n,
					       MPC_CONV_CAP, kinds);
		n += t > 0 ? t : 0;
		mpc_conv_set_total(c->reply, (uint32_t)n);
		c->reply_len = (uint32_t)n;
		c->state = MPC_CS_ERROR; /* same plain answer-and-close path */
		c->mptcp = false;
		conn_publish(cv, c);
		flows_put(cv, c);
		c->rto = ERR_RTO;
		c->deadline = now_ns() + c->rto;
		err_send(cv, c);
		return;
	}
	memcpy(srv.a, m.addr, 16);
	if (!mpc_conv_peer_ok(m.addr) || is_converter(cv, &srv)) {
		conn_error(cv, c, MPC_CONV_E_MALFORMED, msgbuf, m.msg_len, 0);
		return;
	}
	if (m.opt_n) {
		__u64 sup[4] = {SUPPORTED_KINDS, 0, 0, 0}, unsup[4];

		if (mpc_conv_check_opts(msgbuf, &m, sup, unsup) > 0) {
			int n = mpc_conv_put_hdr(c->reply, MPC_CONV_CAP), t;

			t = mpc_conv_put_error_kinds(c->reply, (uint32_t)n,
						     MPC_CONV_CAP, unsup);
			n += t > 0 ? t : 0;
			mpc_conv_set_total(c->reply, (uint32_t)n);
			c->reply_len = (uint32_t)n;
			count_error(cv, MPC_CONV_E_UNSUPPORTED_OPT);
			c->state = MPC_CS_ERROR;
			c->mptcp = false;
			conn_publish(cv, c);
			flows_put(cv, c);
			c->rto = ERR_RTO;
			c->deadline = now_ns() + c->rto;
			err_send(cv, c);
			return;
		}
		c->extended = true;
		c->xoptlen = (uint8_t)(m.opt_len > 40 ? 40 : m.opt_len);
		memcpy(c->xopts, msgbuf + m.opt_off, c->xoptlen);
	}
	/* same family on both sides: the data path rewrites in place */
	if (mpc_ip_is_v4(&srv) != (c->family == 4)) {
		conn_error(cv, c, MPC_CONV_E_NETWORK_FAILURE, NULL, 0, 0);
		return;
	}
	c->ext_idx = ext_pick(cv, &c->cli, c->family == 4);
	port = c->ext_idx >= 0 ? port_alloc(cv, c->ext_idx) : -1;
	if (port < 0) {
		c->ext_idx = -1;
		conn_error(cv, c, MPC_CONV_E_RESOURCE_EXCEEDED, NULL, 0, 0);
		return;
	}
	c->ext = cv->cfg->ext[c->ext_idx];
	c->eport = (uint16_t)port;
	c->srv = srv;
	c->srvport = m.port;
	c->leg_iss = rand32();
	if (s->dlen > m.msg_len) {
		c->user_len = s->dlen - m.msg_len;
		c->user = malloc(c->user_len);
		if (!c->user) {
			conn_error(cv, c, MPC_CONV_E_RESOURCE_EXCEEDED, NULL, 0,
				   0);
			return;
		}
		memcpy(c->user, s->data + m.msg_len, c->user_len);
	}
	if (c->mptcp && mpc_mptcp_key_gen(token_in_use, cv, 0, &c->key_l,
					  &c->token_l, &c->idsn_l)) {
		conn_error(cv, c, MPC_CONV_E_RESOURCE_EXCEEDED, NULL, 0, 0);
		return;
	}
	if (c->mptcp)
		tok_add(cv, c);
	c->state = MPC_CS_LEG_SYN_SENT;
	if (conn_publish(cv, c) || flows_put(cv, c)) {
		conn_error(cv, c, MPC_CONV_E_RESOURCE_EXCEEDED, NULL, 0, 0);
		return;
	}
	cv->st.accepted++;
	ipstr(&c->cli, a, sizeof(a));
	ipstr(&c->srv, b, sizeof(b));
	log_debug("conn %u: %s:%u -> %s:%u (%s, %u bytes of SYN data)",
		  conn_id(cv, c), a, c->cport, b, c->srvport,
		  c->mptcp ? "MPTCP" : "plain TCP", s->dlen);
	c->tries = 0;
	c->rto = LEG_SYN_RTO;
	c->deadline = now_ns() + c->rto;
	send_leg_syn(cv, c); /* 0-RTT: at once */
}

/* ---- handshake packets --------------------------------------------- */

static bool from_client(const struct conv_conn *c, const struct mpc_tcp_seg *s)
{
	return s->sport == c->cport && !memcmp(s->src.a, c->cli.a, 16);
}

/* the Convert reply, for establish() and nokey() */
static void build_reply(struct conv_conn *c)
{
	int n = mpc_conv_put_hdr(c->reply, MPC_CONV_CAP), t = 0;

	/* + Extended TCP Header when the client asked with Extended Connect */
	if (c->extended)
		t = mpc_conv_put_xhdr(c->reply, (uint32_t)n, MPC_CONV_CAP,
				      c->synack_opts, 0, c->synack_optlen);
	n += t > 0 ? t : 0;
	mpc_conv_set_total(c->reply, (uint32_t)n);
	c->reply_len = (uint32_t)n;
}

static void establish(struct conv *cv, struct conv_conn *c,
		      const struct mpc_tcp_seg *s)
{
	char a[64], b[64];

	if (s->to.flags & MPC_TO_TS)
		c->cli_ts = s->to.tsval;
	build_reply(c);
	c->state = MPC_CS_ESTABLISHED;
	if (conn_publish(cv, c)) {
		log_err("conn %u: publish: %s", conn_id(cv, c),
			strerror(errno));
		return;
	}
	cv->st.established++;
	send_reply(cv, c);
	c->tries = 0;
	c->rto = REPLY_RTO;
	c->deadline = now_ns() + c->rto;
	ipstr(&c->cli, a, sizeof(a));
	ipstr(&c->srv, b, sizeof(b));
	log_info("conn %u: %s:%u -> %s:%u established (%s), leg from port %u",
		 conn_id(cv, c), a, c->cport, b, c->srvport,
		 c->mptcp ? "MPTCP" : "plain TCP", c->eport);
}

/* forward what a slow-path segment carries, translated by the core */
static void forward_up(struct conv *cv, struct conv_conn *c,
		       struct mpc_tcp_seg *s, unsigned int sfi)
{
	uint32_t id = conn_id(cv, c);
	struct mpc_xlate_out o;
	struct mpc_mptcp_opt scratch;
	struct mpc_conn m;
	struct mpc_seg seg;
	struct mpc_tcp_seg out;

	if (conn_read(cv, id, &m))
		return;
	memset(&seg, 0, sizeof(seg));
	seg.seq = s->seq;
	seg.ack = s->ack;
	seg.paylen = s->dlen;
	seg.win = s->win;
	seg.flags = s->flags & ~(MPC_TH_FIN | MPC_TH_SYN | MPC_TH_RST);
	seg.optlen = s->optlen;
	memcpy(seg.opts, s->opts, sizeof(seg.opts));
	seg.to = s->to;
	mpc_xlate_up(&m, &m.sf[sfi & (MPC_MAX_SUBFLOWS - 1)], &seg, &o,
		     &scratch, NULL);
	if (o.verdict != MPC_XV_FORWARD)
		return;
	if (!s->dlen && !(o.flags & MPC_TH_FIN))
		return;
	seg_to_server(c, &out);
	out.seq = o.seq;
	out.ack = o.ack;
	out.flags = o.flags;
	out.win = o.win;
	out.optlen = o.optlen;
	memcpy(out.opts, o.opts, sizeof(out.opts));
	out.data = s->data;
	out.dlen = s->dlen;
	send_seg(cv, &out);
}

static void nokey(struct conv *cv, struct conv_conn *c,
		  const struct mpc_tcp_seg *s)
{
	if (s->to.flags & MPC_TO_TS)
		c->cli_ts = s->to.tsval;
	build_reply(c);
	c->state = MPC_CS_NOKEY;
	conn_set_state(cv, c, c->state);
	cv->st.nokey++;
	send_reply(cv, c);
	c->tries = 0;
	c->rto = REPLY_RTO;
	c->since = now_ns();
	c->deadline = c->since + c->rto;
}

/* NOKEY: the first mapping tells where the peer's data sequence starts */
static void nokey_learn(struct conv *cv, struct conv_conn *c,
			struct mpc_tcp_seg *s)
{
	struct mpc_mptcp_opt o;

	if (mptcp_first(s, MPC_MP_CAPABLE, &o) &&
	    (o.variant == MPC_CAP_ACK || o.variant == MPC_CAP_DATA) &&
	    o.u.cap.rkey == c->key_l) {
		c->key_r = o.u.cap.skey;
		c->have_key_r = true;
		mpc_mptcp_key_sha(c->key_r, NULL, &c->idsn_r);
		c->dsn_up0 = (uint32_t)(c->idsn_r + 1);
	} else if (mptcp_first(s, MPC_MP_DSS, &o) && (o.flags & MPC_DSS_M) &&
		   o.u.dss.dll && s->dlen) {
		/* relative subflow seq 1 is the first byte after the SYN */
		c->dsn_up0 = (uint32_t)o.u.dss.dsn - o.u.dss.ssn + 1;
	} else if (s->dlen && s->to.n_mptcp == 0) {
		/* data without any MPTCP option: the client fell back to
		 * plain TCP (RFC 8684 3.7; Linux does after a lost SYN/ACK).
		 * Our reply sits at the same subflow positions either way. */
		c->mptcp = false;
		cv->st.fallback++;
	} else {
		return; /* a pure ACK: nothing to learn yet */
	}
	c->state = MPC_CS_ESTABLISHED;
	if (conn_publish(cv, c))
		return;
	cv->st.established++;
	c->tries = 0;
	c->rto = REPLY_RTO;
	c->deadline = now_ns() + c->rto;
	forward_up(cv, c, s, 0);
}

/*
 * The client retransmitted its SYN. Linux sends that SYN without the data
 * (the Convert message stays queued behind it) and, from then on, puts
 * its MPTCP keys only on a segment that starts right after the SYN
 * (mptcp_established_options_mp(): snd_isn is the end of the last SYN
 * sent). A SYN/ACK that acknowledged the data would leave the client no
 * such segment: its third ACK would carry a DSS without keys, we could
 * not compute its IDSN, our reply's DSS could not carry a DATA_ACK, and
 * the client would fall back to TCP (MPCapableDataFallback). So from now
 * on our SYN/ACKs acknowledge the SYN only: the client sends the data
 * again from ISN + 1, with MP_CAPABLE and both keys (RFC 8684 3.1), and
 * we drop the copy. Costs one round trip; the SYN was late anyway. Only
 * for a SYN without data (a duplicate of the first SYN changes nothing
 * at the client) and while the handshake is ours to shape.
 */
static void syn_only_ack(struct conv *cv, struct conv_conn *c,
			 const struct mpc_tcp_seg *s)
{
	if (c->synack_syn_only || !c->mptcp || !c->syn_len || s->dlen)
		return;
	if (c->state != MPC_CS_LEG_SYN_SENT && c->state != MPC_CS_SYNACK_SENT)
		return;
	c->synack_syn_only = true;
	cv->st.synack_syn_only++;
}

static void on_handshake(struct conv *cv, struct conv_conn *c,
			 struct mpc_tcp_seg *s)
{
	struct mpc_mptcp_opt cap;

	if (from_client(c, s)) {
		if (s->flags & MPC_TH_RST) {
			cv->st.client_rst++;
			if (c->eport && c->leg_irs)
				rst_server(cv, c, c->leg_iss + 1);
			conn_free(cv, c);
			return;
		}
		if (s->flags & MPC_TH_SYN) {
			cv->st.syn_dup++;
			/* the client gave up on MPTCP (SYN without it) */
			if (!(mptcp_first(s, MPC_MP_CAPABLE, &cap)) &&
			    c->state == MPC_CS_LEG_SYN_SENT)
				c->mptcp = false;
			syn_only_ack(cv, c, s);
			if (c->state == MPC_CS_SYNACK_SENT)
				send_synack(cv, c);
			else if (c->state == MPC_CS_ERROR)
				err_send(cv, c);
			return;
		}
		if (c->state == MPC_CS_NOKEY) {
			nokey_learn(cv, c, s);
			return;
		}
		if (c->state == MPC_CS_ERROR) {
			/* an ACK of our FIN ends it; anything else: resend */
			if ((s->flags & MPC_TH_ACK) &&
			    s->ack == c->sf_iss + 2 + c->reply_len)
				conn_free(cv, c);
			return;
		}
		if (c->state != MPC_CS_SYNACK_SENT || !(s->flags & MPC_TH_ACK))
			return;
		if (s->ack != c->sf_iss + 1)
			return;
		/* after a SYN-only SYN/ACK: the client's data again (with
		 * its keys), or a pure ACK past it when it took an earlier
		 * SYN/ACK that acknowledged the data (keyless, below) */
		if (c->synack_syn_only &&
		    !(s->seq == c->cli_isn + 1 && s->dlen >= c->syn_len) &&
		    !(s->seq == c->cli_isn + 1 + c->syn_len && !s->dlen))
			return;
		if (c->mptcp) {
			if (!mptcp_first(s, MPC_MP_CAPABLE, &cap) ||
			    (cap.variant != MPC_CAP_ACK &&
			     cap.variant != MPC_CAP_DATA) ||
			    cap.u.cap.rkey != c->key_l) {
				/* no MP_CAPABLE in the third ACK: the client
				 * fell back (RFC 8684 3.7); keys wrong: the
				 * same, it cannot be our MPTCP connection */
				if (s->to.n_mptcp == 0) {
					c->mptcp = false;
				} else if (mptcp_first(s, MPC_MP_DSS, &cap)) {
					/* a DSS without keys: Linux does this
					 * after retransmitting its SYN. Reply
					 * now; learn the peer's DSN base from
					 * its first mapping (RFC 8684 3.3.1) */
					nokey(cv, c, s);
					return;
				} else {
					rst_client(cv, c, c->sf_iss + 1, false);
					rst_server(cv, c, c->leg_iss + 1);
					conn_free(cv, c);
					return;
				}
			} else {
				c->key_r = cap.u.cap.skey;
				c->have_key_r = true;
				mpc_mptcp_key_sha(c->key_r, NULL, &c->idsn_r);
				c->dsn_up0 = (uint32_t)(c->idsn_r + 1);
			}
		}
		establish(cv, c, s);
		if (c->synack_syn_only && s->seq == c->cli_isn + 1) {
			/* the SYN's data again: we have it; the rest is new */
			s->seq += c->syn_len;
			s->data += c->syn_len;
			s->dlen -= c->syn_len;
		}
		if (s->dlen)
			forward_up(cv, c, s, 0);
		return;
	}

	/* from the server */
	if (c->state != MPC_CS_LEG_SYN_SENT)
		return; /* late duplicates */
	if (s->flags & MPC_TH_RST) {
		if ((s->flags & MPC_TH_ACK) && s->ack == c->leg_iss + 1) {
			cv->st.leg_rst++;
			conn_error(cv, c, MPC_CONV_E_CONNECTION_RESET, NULL, 0,
				   0);
		}
		return;
	}
	/* an ACK of something we never sent: the server still holds an old
	 * connection on this 4-tuple (its TIME_WAIT refusing our SYN on
	 * PAWS or sequence grounds, or a connection a previous agent left).
	 * RFC 9293 3.10.7.3, SYN-SENT: <SEQ=SEG.ACK><CTL=RST>; the old
	 * connection goes, and our next SYN retransmission gets a SYN/ACK
	 * instead of a Network Failure after leg-timeout. */
	if ((s->flags & MPC_TH_ACK) && s->ack != c->leg_iss + 1) {
		cv->st.leg_stale_rst++;
		rst_server(cv, c, s->ack);
		return;
	}
	if ((s->flags & (MPC_TH_SYN | MPC_TH_ACK)) !=
		    (MPC_TH_SYN | MPC_TH_ACK) ||
	    s->ack != c->leg_iss + 1)
		return;
	c->leg_irs = s->seq;
	opts_of(s, &c->sopt);
	/* the client learns the server's SYN+ACK options (6.2.6) */
	c->synack_optlen = s->optlen;
	memcpy(c->synack_opts, s->opts, s->optlen);
	/* our third ACK carries no MP_CAPABLE: the leg stays plain TCP
	 * even when the server speaks MPTCP */
	send_leg_ack(cv, c, true);
	c->state = MPC_CS_SYNACK_SENT;
	conn_set_state(cv, c, c->state);
	c->tries = 0;
	c->rto = SYNACK_RTO;
	c->deadline = now_ns() + c->rto;
	send_synack(cv, c);
}

/* ---- established: control packets ------------------------------------ */

static uint32_t sf_snd_nxt(const struct mpc_conn *m)
{
	/* a DATA_FIN takes a DSN, no subflow sequence number */
	uint32_t dsn = m->down_snd_nxt;

	/* with joins the data path keeps each subflow's head (multi.h) */
	if (m->flags & MPC_CF_MULTI)
		return m->sf[0].dn_nxt;

	if ((m->flags & MPC_CF_DOWN_FIN) && !(m->flags & MPC_CF_PLAIN))
		dsn--;
	return dsn + m->sf[0].down_off;
}

/* the first subflow's ACK as the data path sends it now */
static uint32_t sf0_ack(const struct mpc_conn *m)
{
	if (m->flags & MPC_CF_MULTI)
		return m->sf[0].up_ack;
	return m->max_leg_ack - m->up_off + m->sf[0].up_off;
}

static void send_sf_fin(struct conv *cv, struct conv_conn *c,
			const struct mpc_conn *m)
{
	struct mpc_tcp_seg s;
	uint32_t off = 0, data_ack = m->max_leg_ack - m->up_off;

	seg_to_client(c, &s);
	s.seq = sf_snd_nxt(m);
	/* past the client's FIN once it came */
	s.ack = c->sf_fin_rcvd ? c->cli_fin_seq + 1 : sf0_ack(m);
	s.flags = MPC_TH_FIN | MPC_TH_ACK;
	s.win = sf_win(c);
	if (m->flags & MPC_CF_SF_TS)
		off = put_ts(s.opts, off, c->sopt.tsval, c->cli_ts);
	if (c->mptcp)
		off += (uint32_t)put_dss(s.opts, off, true, data_ack, false, 0,
					 0, 0, false);
	opts_finish(&s, off);
	send_seg(cv, &s);
	c->sf_fin_sent = true;
}

static void ack_client_fin(struct conv *cv, struct conv_conn *c,
			   const struct mpc_conn *m)
{
	struct mpc_tcp_seg s;
	uint32_t off = 0;

	seg_to_client(c, &s);
	s.seq = sf_snd_nxt(m) + (c->sf_fin_sent ? 1 : 0);
	s.ack = c->cli_fin_seq + 1;
	s.flags = MPC_TH_ACK;
	s.win = sf_win(c);
	if (m->flags & MPC_CF_SF_TS)
		off = put_ts(s.opts, off, c->sopt.tsval, c->cli_ts);
	opts_finish(&s, off);
	send_seg(cv, &s);
}

/*
 * The leg finished both ways: the server acknowledged the FIN we
 * forwarded for the peer's DATA_FIN, and the peer DATA_ACKed the server's
 * FIN. A RST from either side after that is the normal end of a socket
 * (a passive closer has no TIME_WAIT), not a failure to pass on.
 */
/* a clean end: close our side of the subflow, keep answering a while */
static void closed_clean(struct conv *cv, struct conv_conn *c,
			 const struct mpc_conn *m)
{
	if (c->mptcp && !c->sf_fin_sent)
		send_sf_fin(cv, c, m);
	conn_set_state(cv, c, MPC_CS_DEAD);
	c->since = now_ns();
	c->deadline = c->since + (c->sf_fin_rcvd ? DEAD_LINGER : CLOSED_LINGER);
	cv->st.closed_clean++;
}

static void on_control(struct conv *cv, struct conv_conn *c,
		       struct mpc_tcp_seg *s, uint8_t why, bool client)
{
	uint32_t id = conn_id(cv, c);
	struct mpc_mptcp_opt o;
	struct mpc_conn m;

	if (conn_read(cv, id, &m))
		return;
	conn_sync_ts(c, &m);
	if (client) {
		if (s->to.flags & MPC_TO_TS)
			c->cli_ts = s->to.tsval;
		if ((s->flags & MPC_TH_RST) ||
		    mptcp_first(s, MPC_MP_FASTCLOSE, &o)) {
			if (mpc_leg_done(&m)) {
				go_dead(cv, c);
				return;
			}
			cv->st.client_rst++;
			rst_server(cv, c, m.leg_snd_nxt);
			if (!(s->flags & MPC_TH_RST))
				rst_client(cv, c, sf_snd_nxt(&m), false);
			go_dead(cv, c);
			return;
		}
		if (s->flags & MPC_TH_SYN) {
			cv->st.syn_dup++;
			return;
		}
		if (s->flags & MPC_TH_FIN) {
			/* a subflow FIN: forward what else it carries */
			forward_up(cv, c, s, 0);
			c->sf_fin_rcvd = true;
			c->cli_fin_seq = s->seq + s->dlen;
			if (c->state == MPC_CS_ESTABLISHED)
				conn_set_state(cv, c, MPC_CS_CLOSING);
			conn_read(cv, id, &m);
			if (c->mptcp && (m.flags & MPC_CF_DOWN_FIN) &&
			    !c->sf_fin_sent) {
				send_sf_fin(cv, c, &m);
				go_dead(cv, c);
			} else {
				ack_client_fin(cv, c, &m);
				if (!c->mptcp)
					go_dead(cv, c);
			}
			return;
		}
		if (why == MPC_XW_MPTCP_CTRL || why == MPC_XW_INFINITE_MAP ||
		    why == MPC_XW_DSS_CSUM) {
			/* MP_TCPRST/MP_FAIL/fallback we cannot follow: end it
			 * cleanly on both sides */
			rst_server(cv, c, m.leg_snd_nxt);
			rst_client(cv, c, sf_snd_nxt(&m), true);
			go_dead(cv, c);
		}
		return;
	}
	/* from the server */
	if (s->flags & MPC_TH_RST) {
		if (mpc_leg_done(&m)) {
			closed_clean(cv, c, &m);
			return;
		}
		cv->st.leg_rst++;
		rst_client(cv, c, sf_snd_nxt(&m), true);
		go_dead(cv, c);
		return;
	}
	if (s->flags & MPC_TH_SYN) {
		/* our leg ACK was lost: the server repeats its SYN/ACK */
		send_leg_ack(cv, c, false);
	} else if ((s->flags & MPC_TH_FIN) && mpc_leg_done(&m)) {
		ack_server_fin(cv, c, &m, s);
	}
}

/* ---- joined subflows (slot >= 1): their own control segments ---------- */

static void sf_close(struct conv *cv, struct conv_conn *c, unsigned int i)
{
	struct mpc_conn *m = &cv->conns_mem[conn_id(cv, c)];
	struct mpc_subflow *sf = &m->sf[i & (MPC_MAX_SUBFLOWS - 1)];

	if (!(sf->flags & MPC_SF_ACTIVE))
		return;
	__atomic_store_n(&sf->flags, 0, __ATOMIC_RELEASE);
	if (m->n_subflows)
		m->n_subflows--;
	sf_bytes_count(cv, sf);
	cv->st.sf_closed++;
}

/*
 * A control segment on joined subflow i: the peer closes the subflow (FIN:
 * our FIN/ACK; RST: forget it) or repeats its third ACK (our fourth was
 * lost). The subflow's flow entry stays until the connection goes: late
 * ACKs on it are translated like any other. What ends the connection
 * (MP_FASTCLOSE, MP_FAIL, a fallback) is handled as on the first subflow.
 */
static void on_join_sf(struct conv *cv, struct conv_conn *c,
		       struct mpc_tcp_seg *s, unsigned int i, uint8_t why)
{
	uint32_t tsecr = (s->to.flags & MPC_TO_TS) ? s->to.tsval : c->cli_ts;
	struct mpc_mptcp_opt o;

	if (s->flags & MPC_TH_SYN)
		return;
	if (mptcp_first(s, MPC_MP_FASTCLOSE, &o) ||
	    mptcp_first(s, MPC_MP_FAIL, &o) || why == MPC_XW_INFINITE_MAP ||
	    why == MPC_XW_DSS_CSUM) {
		if (c->state == MPC_CS_ESTABLISHED ||
		    c->state == MPC_CS_CLOSING)
			on_control(cv, c, s, why, true);
		return;
	}
	if (s->flags & MPC_TH_RST) {
		sf_close(cv, c, i);
		return;
	}
	if (s->flags & MPC_TH_FIN) {
		if (s->dlen && (c->state == MPC_CS_ESTABLISHED ||
				c->state == MPC_CS_CLOSING))
			forward_up(cv, c, s, i);
		send_join_ack(cv, c, i, tsecr, true, s->seq + s->dlen + 1);
		sf_close(cv, c, i);
		return;
	}
	if (mptcp_first(s, MPC_MP_JOIN, &o))
		send_join_ack(cv, c, i, tsecr, false, 0);
}

/*
 * MP_PRIO (RFC 8684 3.3.8) on subflow i: the peer wants it used as a
 * backup (B=1) or as a regular subflow again; the scheduler (sched.h)
 * honours the flag from the next segment on. The echo of our ADD_ADDR
 * (E=1, same ID and address) ends its retransmissions (announce_tick()).
 * The peer's own ADD_ADDR / REMOVE_ADDR need nothing from a converter
 * that never opens subflows.
 */
static void on_add_addr_echo(struct conv *cv, struct conv_conn *c,
			     const struct mpc_mptcp_opt *o);

static void on_signal(struct conv *cv, struct conv_conn *c,
		      const struct mpc_tcp_seg *s, unsigned int i)
{
	struct mpc_subflow *sf =
		&cv->conns_mem[conn_id(cv, c)].sf[i & (MPC_MAX_SUBFLOWS - 1)];
	struct mpc_mptcp_opt o;
	uint8_t f;

	if (mptcp_first(s, MPC_MP_ADD_ADDR, &o) && (o.flags & MPC_ADDR_E))
		on_add_addr_echo(cv, c, &o);
	if (!mptcp_first(s, MPC_MP_PRIO, &o) || !(sf->flags & MPC_SF_ACTIVE))
		return;
	f = sf->flags;
	f = (o.flags & MPC_PRIO_B) ? (f | MPC_SF_BACKUP)
				   : (f & (uint8_t)~MPC_SF_BACKUP);
	__atomic_store_n(&sf->flags, f, __ATOMIC_RELEASE);
	cv->st.mp_prio++;
}

/*
 * MPC_SLOW_FILL: subflow i has a hole at the peer's ACK s->ack whose data
 * the peer got on another subflow (include/mpconv/multi.h
 * mpc_multi_dead_hole: the server resent it while this subflow stalled,
 * and will not send it again). TCP on the peer's side holds everything
 * above the hole, so the subflow would be stuck for good. Fill it: the
 * same subflow bytes again, zeros mapped to the DSNs they had (dsn: all
 * below the peer's DATA_ACK), which the peer's MPTCP discards as old data
 * (RFC 8684 3.3: data is delivered by its DSN once; DSS checksums are not
 * negotiated by this converter, so the content is not checked). One
 * segment per call, at most one per subflow and hole every 5 ms: each
 * duplicate ACK of the peer asks again until the hole is gone.
 */
#define FILL_MAX 1400
#define FILL_GAP_NS 5000000ull

/* the client's MSS less what a segment with TS and a DSS mapping takes */
static uint32_t old_seg_cap(const struct mpc_conn *m)
{
	uint32_t cap = m->mss_down > 12 + DSS_OVERHEAD + 536
			       ? m->mss_down - 12u - DSS_OVERHEAD
			       : 536u;

	return cap > FILL_MAX ? FILL_MAX : cap;
}

/*
 * len zero bytes on subflow i at subflow seq `seq`, mapped to DSN `dsn`
 * (32 bits), all of it data the client acknowledged at the data level:
 * its MPTCP discards them (fill_hole(), nudge_send()). tsecr: the echo.
 */
static void send_old(struct conv *cv, struct conv_conn *c,
		     const struct mpc_conn *m, unsigned int i, uint32_t seq,
		     uint32_t dsn, uint32_t len, uint32_t tsecr)
{
	static const uint8_t zeros[FILL_MAX];
	const struct mpc_subflow *sf = &m->sf[i & (MPC_MAX_SUBFLOWS - 1)];
	struct mpc_tcp_seg o;
	uint32_t off = 0;

	if (len > FILL_MAX)
		len = FILL_MAX;
	conn_sync_ts(c, m);
	seg_to_sf(&o, sf);
	o.seq = seq;
	o.ack = sf->up_ack;
	o.flags = MPC_TH_ACK;
	o.win = sf_win(c);
	if (m->flags & MPC_CF_SF_TS)
		off = put_ts(o.opts, off, c->sopt.tsval, tsecr);
	off += (uint32_t)put_dss(o.opts, off, true, m->max_leg_ack - m->up_off,
				 true, dsn, seq - sf->iss, (uint16_t)len,
				 false);
	opts_finish(&o, off);
	o.data = zeros;
	o.dlen = len;
	send_seg(cv, &o);
}

static void fill_hole(struct conv *cv, struct conv_conn *c,
		      const struct mpc_tcp_seg *s, unsigned int i, uint32_t dsn,
		      uint32_t len)
{
	const struct mpc_conn *m = &cv->conns_mem[conn_id(cv, c)];
	uint64_t now = now_ns();
	uint32_t cap = old_seg_cap(m);

	i &= MPC_MAX_SUBFLOWS - 1;
	if (!c->mptcp || !(m->sf[i].flags & MPC_SF_ACTIVE) || !len ||
	    (c->state != MPC_CS_ESTABLISHED && c->state != MPC_CS_CLOSING))
		return;
	if (c->fill_seq[i] == s->ack && now - c->fill_ns[i] < FILL_GAP_NS)
		return;
	if (len > cap)
		len = cap;
	send_old(cv, c, m, i, s->ack, dsn, len,
		 (s->to.flags & MPC_TO_TS) ? s->to.tsval : c->cli_ts);
	c->fill_seq[i] = s->ack;
	c->fill_ns[i] = now;
	cv->st.hole_filled++;
}

/*
 * MPC_SLOW_NUDGE: the client acknowledged at subflow level everything we
 * sent on every subflow, but its DATA_ACK (dack) is behind: Linux moved
 * the data to its MPTCP socket after that ACK went out and sends no ACK
 * for the move alone (include/mpconv/multi.h mpc_multi_dack_lags). The
 * leg's ACK follows the DATA_ACK, so the server would wait for its RTO.
 * Prompt a fresh ACK: one byte the client already has (subflow seq just
 * below its ACK, mapped to a DSN below its DATA_ACK) is a retransmission
 * to its TCP, which answers at once with a duplicate ACK (RFC 5681 4.2)
 * carrying the DATA_ACK of that moment. At once, then after 1, 2, 4, 8
 * and 16 ms while the DATA_ACK stays at dack (conv_nudge_run()); after
 * that the server's own timer is as good.
 */
#define NUDGE_TRIES 6
#define NUDGE_FIRST_NS (1 * MSEC)

static void nudge_send(struct conv *cv, struct conv_conn *c,
		       const struct mpc_conn *m)
{
	const struct mpc_subflow *sf;
	unsigned int i = c->nudge_sf & (MPC_MAX_SUBFLOWS - 1);

	sf = &m->sf[i];
	if (!(sf->flags & MPC_SF_ACTIVE)) {
		i = 0;
		sf = &m->sf[0];
	}
	send_old(cv, c, m, i, sf->dn_una - 1, c->nudge_dack - 1, 1,
		 sf->ts_recent ? sf->ts_recent : c->cli_ts);
	cv->st.dack_nudged++;
}

static void on_nudge(struct conv *cv, struct conv_conn *c, unsigned int i,
		     uint32_t dack)
{
	const struct mpc_conn *m = &cv->conns_mem[conn_id(cv, c)];

	if (!c->mptcp ||
	    (c->state != MPC_CS_ESTABLISHED && c->state != MPC_CS_CLOSING) ||
	    mpc_after(m->max_data_ack, dack))
		return;
	if (!c->nudge)
		cv->n_nudge++;
	c->nudge = true;
	c->nudge_sf = (uint8_t)(i & (MPC_MAX_SUBFLOWS - 1));
	c->nudge_dack = dack;
	c->nudge_tries = 1;
	c->nudge_due = now_fine_ns() + NUDGE_FIRST_NS;
	nudge_send(cv, c, m);
}

int conv_nudge_wait_ms(const struct conv *cv)
{
	return cv->n_nudge ? 1 : -1;
}

void conv_nudge_run(struct conv *cv)
{
	uint64_t now;
	uint32_t i, left;

	if (!cv->n_nudge)
		return;
	now = now_fine_ns();
	left = cv->n_nudge;
	for (i = 0; i < cv->max_conns && left; i++) {
		struct conv_conn *c = &cv->conns[i];
		const struct mpc_conn *m = &cv->conns_mem[i];

		if (!c->used || !c->nudge)
			continue;
		left--;
		if (mpc_after(m->max_data_ack, c->nudge_dack) ||
		    c->nudge_tries >= NUDGE_TRIES ||
		    (c->state != MPC_CS_ESTABLISHED &&
		     c->state != MPC_CS_CLOSING)) {
			nudge_stop(cv, c);
			continue;
		}
		if (now < c->nudge_due)
			continue;
		c->nudge_due = now + (NUDGE_FIRST_NS << c->nudge_tries);
		c->nudge_tries++;
		nudge_send(cv, c, m);
	}
}

/* after DEAD: answer stragglers so the peers can finish */
static void on_closed(struct conv *cv, struct conv_conn *c,
		      struct mpc_tcp_seg *s)
{
	uint32_t id = conn_id(cv, c);
	struct mpc_conn m;

	if (conn_read(cv, id, &m))
		return;
	conn_sync_ts(c, &m);
	if (!from_client(c, s) && (s->flags & MPC_TH_FIN) && mpc_leg_done(&m)) {
		ack_server_fin(cv, c, &m, s);
		return;
	}
	if (from_client(c, s) && (s->flags & MPC_TH_FIN) && !c->mptcp)
		return;
	if (from_client(c, s) && (s->flags & MPC_TH_FIN)) {
		c->sf_fin_rcvd = true;
		c->cli_fin_seq = s->seq + s->dlen;
		if (!c->sf_fin_sent)
			send_sf_fin(cv, c, &m);
		else
			ack_client_fin(cv, c, &m);
		/* both subflow FINs exchanged: a short linger is enough */
		c->deadline = now_ns() + DEAD_LINGER;
	}
}

void conv_slow(struct conv *cv, const struct mpc_slow_hdr *h,
	       const uint8_t *frame, uint32_t len)
{
	struct mpc_tcp_seg s;
	struct conv_conn *c;

	if (h->reason == MPC_SLOW_NEIGH) {
		/* translated by XDP, next hop unresolved: send it ourselves */
		if (h->l3_off < len &&
		    !mpc_tx_send(&cv->tx, frame + h->l3_off, len - h->l3_off))
			cv->st.neigh_sent++;
		return;
	}
	if (mpc_seg_parse_frame(frame, len, h->l3_off, &s))
		return;
	if (h->reason == MPC_SLOW_SYN) {
		on_syn(cv, &s);
		return;
	}
	if (h->reason == MPC_SLOW_JOIN) {
		on_join_ack(cv, &s);
		return;
	}
	c = conn_get(cv, h->conn_id);
	if (!c)
		return;
	if (h->sf > 0 && h->sf < MPC_MAX_SUBFLOWS &&
	    (h->reason == MPC_SLOW_CONTROL || h->reason == MPC_SLOW_CLOSED)) {
		on_join_sf(cv, c, &s, h->sf, h->why);
		return;
	}
	switch (h->reason) {
	case MPC_SLOW_HANDSHAKE:
		on_handshake(cv, c, &s);
		break;
	case MPC_SLOW_CONTROL:
		on_control(cv, c, &s, h->why, h->sf != 0xff);
		break;
	case MPC_SLOW_NOTIFY:
		if (h->sf < MPC_MAX_SUBFLOWS)
			on_signal(cv, c, &s, h->sf);
		/* a FIN of the server, or the client's DATA_FIN (or FIN of
		 * a plain client); not an MPTCP signal (MP_PRIO, ADD_ADDR
		 * echo): those once moved the connection to CLOSING, and
		 * CLOSING_MAX later it was reset */
		if (c->state == MPC_CS_ESTABLISHED &&
		    ((s.flags & MPC_TH_FIN) ||
		     (h->sf != 0xff && seg_data_fin(&s)))) {
			c->since = now_ns();
			conn_set_state(cv, c, MPC_CS_CLOSING);
		}
		break;
	case MPC_SLOW_CLOSED:
		on_closed(cv, c, &s);
		break;
	case MPC_SLOW_FILL:
		if (h->sf < MPC_MAX_SUBFLOWS)
			fill_hole(cv, c, &s, h->sf, h->arg0, h->arg1);
		break;
	case MPC_SLOW_NUDGE:
		if (h->sf < MPC_MAX_SUBFLOWS)
			on_nudge(cv, c, h->sf, h->arg0);
		break;
	default:
		break;
	}
}

void conv_icmp(struct conv *cv, int family, uint8_t type, uint8_t code,
	       const uint8_t *inner, uint32_t len)
{
	struct mpc_tcp_seg s;
	uint32_t i;
	bool hard;

	/* Destination Unreachable about our leg SYN ends the attempt: the
	 * converter answers at once instead of retrying until leg-timeout
	 * (RFC 5461 calls net/host unreachable soft for an established
	 * connection; for a SYN no retry will do better). Fragmentation
	 * Needed (v4 code 4) is path MTU discovery, not an error. */
	if (family == 4)
		hard = type == 3 && code != 4;
	else
		hard = type == 1;
	if (!hard || len < 28)
		return;
	/* the quoted packet: our leg SYN (at least IP + 8 bytes of TCP) */
	memset(&s, 0, sizeof(s));
	if (family == 4) {
		size_t ihl = (size_t)(inner[0] & 0xf) * 4;

		if (ihl < 20 || len < ihl + 8 || inner[9] != MPC_IPPROTO_TCP)
			return;
		s.src.a[10] = s.src.a[11] = 0xff;
		memcpy(s.src.a + 12, inner + 12, 4);
		s.dst.a[10] = s.dst.a[11] = 0xff;
		memcpy(s.dst.a + 12, inner + 16, 4);
		s.sport = (uint16_t)(inner[ihl] << 8 | inner[ihl + 1]);
		s.dport = (uint16_t)(inner[ihl + 2] << 8 | inner[ihl + 3]);
	} else {
		if (len < 48 || inner[6] != MPC_IPPROTO_TCP)
			return;
		memcpy(s.src.a, inner + 8, 16);
		memcpy(s.dst.a, inner + 24, 16);
		s.sport = (uint16_t)(inner[40] << 8 | inner[41]);
		s.dport = (uint16_t)(inner[42] << 8 | inner[43]);
	}
	for (i = 0; i < cv->max_conns; i++) {
		struct conv_conn *c = &cv->conns[i];

		if (!c->used || c->state != MPC_CS_LEG_SYN_SENT ||
		    c->eport != s.sport || c->srvport != s.dport ||
		    memcmp(c->ext.a, s.src.a, 16) != 0 ||
		    memcmp(c->srv.a, s.dst.a, 16) != 0)
			continue;
		cv->st.icmp_unreach++;
		conn_error(cv, c, MPC_CONV_E_DEST_UNREACHABLE, NULL, 0, code);
		return;
	}
}

/* ---- timers ------------------------------------------------------------ */

/*
 * ADD_ADDR / REMOVE_ADDR (RFC 8684 3.4): the converter's other addresses
 * (key `announce`), so that clients join there. Address i of the list has
 * ID i + 1 (0 is the first subflow's). The data path takes joins to them
 * like joins to the service (mpc_config_services()).
 *
 * An address is "up" while some interface that is up and running holds
 * it: getifaddrs() at once on each rtnetlink link or address event
 * (conv_links_changed(), from mpconvd's loop) and once a second
 * (ann_refresh()). A link event that says the interface is down counts
 * its addresses as gone even when the interface is back by the time we
 * look: a flap shorter than our look would otherwise go unseen while the
 * client, whose end of the link went down too, has dropped its subflow
 * there (Linux 6.1 did at once; CI, vmtest) and would never be told to
 * join again. Each established MPTCP
 * connection whose keys we both know gets an ADD_ADDR for every up
 * address of its family on a pure ACK of its first subflow, repeated
 * ANN_TRIES times (ANN_RTO, doubling) until the client echoes it
 * (on_add_addr_echo()). An address that goes down is withdrawn with a
 * REMOVE_ADDR (RM_TRIES times) to every connection it was announced to;
 * the client then
 * closes its subflows to it (those got the address's ID in our SYN/ACK,
 * join_send_synack()). It is announced again when it comes back.
 *
 * No port field: the client joins on the port of its connection, the
 * listen port. Addresses of the other family are not announced (the
 * service there may have another port). A restarted agent announces
 * again to the connections it adopts; Linux treats a repeated ADD_ADDR
 * of an address it uses as already known.
 */
#define ANN_RTO (1 * NSEC)
#define ANN_TRIES 3
#define ANN_REFRESH (1 * NSEC)
/* REMOVE_ADDR is not acknowledged (RFC 8684 3.4.2): sent RM_TRIES times,
 * RM_GAP apart, unless the address is back */
#define RM_TRIES 3
#define RM_GAP (300 * MSEC)

static bool ann_fits(const struct conv *cv, const struct conv_conn *c,
		     unsigned int i)
{
	return mpc_ip_is_v4(&cv->cfg->announce[i]) == (c->family == 4);
}

/* a pure ACK on the first subflow with one MPTCP signal option, at the
 * subflow's current sequence numbers (as send_sf_fin()); false if that
 * subflow is gone */
static bool send_sf0_signal(struct conv *cv, struct conv_conn *c,
			    const struct mpc_conn *m,
			    const struct mpc_mptcp_opt *sig)
{
	uint32_t off = 0, data_ack = m->max_leg_ack - m->up_off;
	struct mpc_tcp_seg s;
	int n;

	if (!(m->sf[0].flags & MPC_SF_ACTIVE) || c->sf_fin_sent ||
	    c->sf_fin_rcvd)
		return false;
	/* the server's newest TSval, read now: one older by more than a
	 * tick fails the client's PAWS check and the segment is dropped */
	conn_sync_ts(c, m);
	seg_to_client(c, &s);
	s.seq = sf_snd_nxt(m);
	s.ack = sf0_ack(m);
	s.flags = MPC_TH_ACK;
	s.win = sf_win(c);
	if (m->flags & MPC_CF_SF_TS)
		off = put_ts(s.opts, off, c->sopt.tsval, c->cli_ts);
	n = mpc_mptcp_build(s.opts, off, MPC_TCPOPT_MAXLEN, sig);
	if (n < 0)
		return false;
	off += (uint32_t)n;
	/* the DATA_ACK too where it fits (not beside an IPv6 ADD_ADDR and
	 * timestamps: Linux drops it there as well) */
	if (off + 8 <= MPC_TCPOPT_MAXLEN)
		off += (uint32_t)put_dss(s.opts, off, true, data_ack, false, 0,
					 0, 0, false);
	opts_finish(&s, off);
	send_seg(cv, &s);
	return true;
}

static void send_add_addr(struct conv *cv, struct conv_conn *c,
			  const struct mpc_conn *m, unsigned int i)
{
	const struct mpc_ip *ip = &cv->cfg->announce[i];
	struct mpc_mptcp_opt o = {.subtype = MPC_MP_ADD_ADDR};
	bool v4 = mpc_ip_is_v4(ip);

	o.variant = v4 ? 0 : MPC_ADDR_V_IPV6;
	o.u.add.addr_id = (uint8_t)(i + 1);
	memcpy(o.u.add.addr, v4 ? ip->a + 12 : ip->a, v4 ? 4 : 16);
	/* no port: two zero bytes in the HMAC message */
	if (mpc_add_addr_hmac(c->key_l, c->key_r, o.u.add.addr_id, o.u.add.addr,
			      v4 ? 4 : 16, 0, o.u.add.hmac))
		return;
	if (send_sf0_signal(cv, c, m, &o))
		cv->st.add_addr_sent++;
}

static void send_rm_addr(struct conv *cv, struct conv_conn *c,
			 const struct mpc_conn *m, unsigned int i)
{
	struct mpc_mptcp_opt o = {.subtype = MPC_MP_REMOVE_ADDR};

	o.u.rm.n = 1;
	o.u.rm.ids[0] = (uint8_t)(i + 1);
	if (send_sf0_signal(cv, c, m, &o))
		cv->st.rm_addr_sent++;
}

static void on_add_addr_echo(struct conv *cv, struct conv_conn *c,
			     const struct mpc_mptcp_opt *o)
{
	unsigned int i = (unsigned int)o->u.add.addr_id - 1;
	const struct mpc_ip *ip;
	bool v4;

	if (o->u.add.addr_id == 0 || i >= (unsigned int)cv->cfg->n_announce ||
	    !(c->ann_sent & (1u << i)))
		return;
	ip = &cv->cfg->announce[i];
	v4 = mpc_ip_is_v4(ip);
	if (v4 != !(o->variant & MPC_ADDR_V_IPV6) ||
	    memcmp(o->u.add.addr, v4 ? ip->a + 12 : ip->a, v4 ? 4 : 16) != 0)
		return;
	if (!(c->ann_echo & (1u << i)))
		cv->st.add_addr_echoed++;
	c->ann_echo |= (uint8_t)(1u << i);
}

/* which announced addresses some up-and-running interface holds, into
 * *out, counting those of interface DOWN_IF (NULL: none) as down whatever
 * its flags say now; -1 if that cannot be known now */
static int ann_scan(const struct conv *cv, uint8_t *out, const char *down_if)
{
	struct ifaddrs *ifa, *it;
	uint8_t up = 0;
	int i;

	if (getifaddrs(&ifa))
		return -1;
	for (it = ifa; it; it = it->ifa_next) {
		struct mpc_ip a;

		if (!ifa_ip(it, &a) ||
		    (it->ifa_flags & (IFF_UP | IFF_RUNNING)) !=
			    (IFF_UP | IFF_RUNNING) ||
		    (down_if && it->ifa_name &&
		     strcmp(it->ifa_name, down_if) == 0))
			continue;
		i = mpc_config_announce_id(cv->cfg, &a);
		if (i)
			up |= (uint8_t)(1u << (i - 1));
	}
	freeifaddrs(ifa);
	*out = up;
	return 0;
}

/*
 * Subflows whose converter end is an address that went away: nothing
 * can be sent from there any more, so the scheduler must not wait for
 * them to stall. The client closes its end on our REMOVE_ADDR; its FIN
 * or RST may never arrive (no route back to it), so we do not wait.
 */
static void ann_close_subflows(struct conv *cv, struct conv_conn *c,
			       uint8_t gone)
{
	const struct mpc_conn *m = &cv->conns_mem[conn_id(cv, c)];
	unsigned int i;

	for (i = 1; i < MPC_MAX_SUBFLOWS; i++) {
		const struct mpc_subflow *sf = &m->sf[i];
		struct mpc_ip l;
		int a;

		if (!(sf->flags & MPC_SF_ACTIVE))
			continue;
		mpc_ip_from_words(&l, sf->local, sf->family);
		a = mpc_config_announce_id(cv->cfg, &l);
		if (a && (gone & (1u << (a - 1)))) {
			sf_close(cv, c, i);
			log_debug("conn %u: subflow %u closed: its address "
				  "went away",
				  conn_id(cv, c), i);
		}
	}
}

/* the announced addresses now up are UP: log the changes, withdraw those
 * gone (their subflows closed, REMOVE_ADDR to every connection they were
 * announced to); announce_tick() announces those back */
static void ann_apply(struct conv *cv, uint64_t now, uint8_t up)
{
	uint8_t gone;
	uint32_t id;
	unsigned int i;

	gone = (uint8_t)(cv->ann_up & ~up);
	if (up != cv->ann_up) {
		for (i = 0; i < (unsigned int)cv->cfg->n_announce; i++)
			if ((up ^ cv->ann_up) & (1u << i)) {
				char a[64];

				mpc_ip_str(&cv->cfg->announce[i], a, sizeof(a));
				log_info("announce: %s (ID %u) %s", a, i + 1,
					 (up & (1u << i)) ? "up" : "gone");
			}
	}
	cv->ann_up = up;
	if (!gone)
		return;
	for (id = 0; id < cv->max_conns; id++) {
		struct conv_conn *c = &cv->conns[id];
		uint8_t w = (uint8_t)(c->ann_sent & gone);

		if (!c->used)
			continue;
		ann_close_subflows(cv, c, gone);
		if (!w)
			continue;
		for (i = 0; i < MPC_MAX_ANNOUNCE; i++)
			if (w & (1u << i)) {
				send_rm_addr(cv, c, &cv->conns_mem[id], i);
				c->ann_tries[i] = 0;
				c->rm_tries[i] = 1;
				c->rm_due[i] = now + RM_GAP;
			}
		c->ann_sent &= (uint8_t)~w;
		c->ann_echo &= (uint8_t)~w;
		c->rm_pend |= w;
	}
}

/* look at the announced addresses now (ann_scan()'s DOWN_IF) and apply
 * what changed; unknown (getifaddrs() failed): keep what was announced */
static void ann_look(struct conv *cv, uint64_t now, const char *down_if)
{
	uint8_t up;

	cv->ann_checked = now;
	if (cv->cfg->n_announce && !ann_scan(cv, &up, down_if))
		ann_apply(cv, now, up);
}

/* the periodic look (ANN_REFRESH), for what no netlink event told */
static void ann_refresh(struct conv *cv, uint64_t now)
{
	if (now - cv->ann_checked >= ANN_REFRESH)
		ann_look(cv, now, NULL);
}

void conv_links_changed(struct conv *cv, const char *down_if)
{
	ann_look(cv, now_ns(), down_if);
}

/* from tick_conn(): announce and repeat unechoed ADD_ADDRs */
static void announce_tick(struct conv *cv, struct conv_conn *c,
			  const struct mpc_conn *m, uint64_t now)
{
	unsigned int i;

	if (c->state != MPC_CS_ESTABLISHED || !c->mptcp || !c->have_key_r)
		return;
	for (i = 0; c->rm_pend && i < MPC_MAX_ANNOUNCE; i++) {
		uint8_t bit = (uint8_t)(1u << i);

		if (!(c->rm_pend & bit) || now < c->rm_due[i])
			continue;
		/* back already (announced again below), or sent enough */
		if ((cv->ann_up & bit) || c->rm_tries[i] >= RM_TRIES) {
			c->rm_pend &= (uint8_t)~bit;
			continue;
		}
		send_rm_addr(cv, c, m, i);
		c->rm_tries[i]++;
		c->rm_due[i] = now + RM_GAP;
	}
	for (i = 0; i < (unsigned int)cv->cfg->n_announce; i++) {
		uint8_t bit = (uint8_t)(1u << i);

		if (!(cv->ann_up & bit) || (c->ann_echo & bit) ||
		    !ann_fits(cv, c, i) || c->ann_tries[i] >= ANN_TRIES ||
		    ((c->ann_sent & bit) && now < c->ann_due[i]))
			continue;
		send_add_addr(cv, c, m, i);
		c->ann_sent |= bit;
		c->ann_due[i] = now + (ANN_RTO << c->ann_tries[i]);
		c->ann_tries[i]++;
	}
}

static void tick_conn(struct conv *cv, struct conv_conn *c, uint64_t now)
{
	uint32_t id = conn_id(cv, c);
	uint64_t idle = cv->cfg->idle_timeout
				? (uint64_t)cv->cfg->idle_timeout * NSEC
				: IDLE_DEFAULT;
	struct mpc_conn m;

	switch (c->state) {
	case MPC_CS_LEG_SYN_SENT:
		if (now < c->deadline)
			return;
		if (now - c->since >= (uint64_t)cv->cfg->leg_timeout * NSEC) {
			cv->st.leg_timeout++;
			conn_error(cv, c, MPC_CONV_E_NETWORK_FAILURE, NULL, 0,
				   0);
			return;
		}
		cv->st.leg_syn_retx++;
		c->tries++;
		c->rto *= 2;
		c->deadline = now + c->rto;
		send_leg_syn(cv, c);
		return;
	case MPC_CS_SYNACK_SENT:
		if (now < c->deadline)
			return;
		if (++c->tries >= SYNACK_TRIES) {
			rst_server(cv, c, c->leg_iss + 1);
			conn_free(cv, c);
			return;
		}
		cv->st.synack_retx++;
		if (c->tries >= SYNACK_FAST)
			c->rto *= 2;
		c->deadline = now + c->rto;
		send_synack(cv, c);
		return;
	case MPC_CS_ERROR:
		if (now < c->deadline)
			return;
		if (++c->tries >= ERR_TRIES) {
			conn_free(cv, c);
			return;
		}
		c->rto *= 2;
		c->deadline = now + c->rto;
		err_send(cv, c);
		return;
	case MPC_CS_DEAD:
		if (now >= c->deadline)
			conn_free(cv, c);
		return;
	case MPC_CS_NOKEY:
		/* the reply until the peer sends data, then its mapping */
		if (now - c->since > CLOSING_MAX) {
			rst_client(cv, c, c->sf_iss + 1 + c->reply_len, false);
			rst_server(cv, c, c->leg_iss + 1 + c->user_len);
			conn_free(cv, c);
			return;
		}
		if (now >= c->deadline && c->tries < REPLY_TRIES) {
			cv->st.reply_retx++;
			c->tries++;
			c->rto *= 2;
			c->deadline = now + c->rto;
			send_reply(cv, c);
		}
		return;
	default:
		break;
	}

	/* ESTABLISHED / CLOSING: the data path's observations */
	if (conn_read(cv, id, &m))
		return;
	conn_sync_ts(c, &m);
	if (!(m.flags & MPC_CF_REPLY_ACKED) && now >= c->deadline &&
	    c->tries < REPLY_TRIES) {
		cv->st.reply_retx++;
		c->tries++;
		c->rto *= 2;
		c->deadline = now + c->rto;
		send_reply(cv, c);
	}
	if (cv->cfg->n_announce)
		announce_tick(cv, c, &cv->conns_mem[id], now);
	if (c->user_len && !c->user_acked) {
		if (!mpc_before(m.max_leg_ack, c->leg_iss + 1 + c->user_len))
			c->user_acked = true;
		else if (now >= c->deadline)
			send_leg_ack(cv, c, true);
	}
	/* both directions closed at the data level: close our side of the
	 * subflow (RFC 8684 3.3.3) and stop forwarding to the finished leg */
	if (mpc_leg_done(&m)) {
		closed_clean(cv, c, &m);
		return;
	}
	/* our DATA_FIN DATA_ACKed and the client closed its subflow: close
	 * ours (RFC 8684 3.3.3) */
	if (c->mptcp && (m.flags & MPC_CF_DOWN_FIN) && c->sf_fin_rcvd &&
	    !c->sf_fin_sent && !mpc_before(m.max_data_ack, m.down_snd_nxt)) {
		send_sf_fin(cv, c, &m);
		go_dead(cv, c);
		return;
	}
	if (c->state == MPC_CS_CLOSING && now - c->since > CLOSING_MAX) {
		rst_server(cv, c, m.leg_snd_nxt);
		rst_client(cv, c, sf_snd_nxt(&m), true);
		go_dead(cv, c);
		return;
	}
	if (now > m.last_up_ns + idle && now > m.last_down_ns + idle) {
		cv->st.idle_closed++;
		log_info("conn %u: idle for %llus: reset", id,
			 (unsigned long long)(idle / NSEC));
		rst_server(cv, c, m.leg_snd_nxt);
		rst_client(cv, c, sf_snd_nxt(&m), true);
		go_dead(cv, c);
	}
}

void conv_tick(struct conv *cv, uint64_t now_unused)
{
	static uint64_t published;
	uint64_t now = now_ns();
	uint32_t i, zero = 0;

	(void)now_unused;
	ann_refresh(cv, now);
	for (i = 0; i < cv->max_conns; i++)
		if (cv->conns[i].used)
			tick_conn(cv, &cv->conns[i], now);
	if (now - published >= 200 * MSEC) {
		published = now;
		cv->st.conns_open = cv->n_used;
		cv->st.tx_errors = cv->tx.errors;
		bpf_map_update_elem(cv->agent_fd, &zero, &cv->st, BPF_ANY);
	}
}

void conv_running(struct conv *cv, bool running)
{
	uint32_t zero = 0;

	cv->st.running = running;
	cv->st.conns_open = cv->n_used;
	bpf_map_update_elem(cv->agent_fd, &zero, &cv->st, BPF_ANY);
}

bool conv_used(const struct conv *cv, uint32_t id)
{
	return id < cv->max_conns && cv->conns[id].used;
}

/* ---- lifecycle ------------------------------------------------------- */

/* mpc_conns is BPF_F_MMAPABLE: values at id * sizeof(struct mpc_conn) */
static struct mpc_conn *conns_map_mmap(int fd, uint32_t max_conns, size_t *len)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return NULL;
	if (info.value_size != sizeof(struct mpc_conn) ||
	    info.max_entries < max_conns ||
	    !(info.map_flags & BPF_F_MMAPABLE)) {
		log_err("mpc_conns: value %u B, %u entries, flags 0x%x; this "
			"agent needs %zu B, >= %u entries, BPF_F_MMAPABLE",
			info.value_size, info.max_entries, info.map_flags,
			sizeof(struct mpc_conn), max_conns);
		errno = EINVAL;
		return NULL;
	}
	*len = ((size_t)info.max_entries * sizeof(struct mpc_conn) + page - 1) /
	       page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		log_err("mpc_conns: mmap: %s", strerror(errno));
		return NULL;
	}
	return p;
}

int conv_init(struct conv *cv, const struct mpc_config *cfg, int conns_fd,
	      int flows_fd, int config_fd, int agent_fd, uint32_t max_conns)
{
	struct mpc_endpoint svc[MPC_DP_MAX_LISTEN];
	struct mpc_dp_config dc;
	uint32_t zero = 0;
	int i, n;

	memset(cv, 0, sizeof(*cv));
	cv->cfg = cfg;
	cv->conns_fd = conns_fd;
	cv->flows_fd = flows_fd;
	cv->config_fd = config_fd;
	cv->agent_fd = agent_fd;
	/* keep counting from where a previous agent stopped */
	bpf_map_lookup_elem(agent_fd, &zero, &cv->st);
	cv->max_conns = max_conns;
	cv->mtu = cfg->mtu ? cfg->mtu : 1500;
	cv->port_lo = cfg->port_lo ? cfg->port_lo : 61000;
	cv->port_hi = cfg->port_hi ? cfg->port_hi : 65535;
	/* a random place in the pool (RFC 6056): a restarted agent does not
	 * hand out the 4-tuples of its predecessor's first legs again */
	cv->port_next = rand32() % (cv->port_hi - cv->port_lo + 1);
	cv->conns_mem = conns_map_mmap(conns_fd, max_conns, &cv->conns_mem_len);
	if (!cv->conns_mem)
		return -errno;
	cv->conns = calloc(max_conns, sizeof(*cv->conns));
	cv->joins = calloc(JOIN_PENDING, sizeof(*cv->joins));
	if (mpc_tokidx_init(&cv->tok, max_conns, tok_of, cv))
		return -ENOMEM;
	cv->ports = calloc(cfg->n_ext ? (size_t)cfg->n_ext : 1, 8192);
	if (!cv->conns || !cv->ports || !cv->joins)
		return -ENOMEM;
	if (mpc_tx_open(&cv->tx))
		return -errno;

	memset(&dc, 0, sizeof(dc));
	n = cfg->mode == MPC_MODE_EXPLICIT
		    ? mpc_config_services(cfg, svc, MPC_DP_MAX_LISTEN)
		    : 0;
	if (n < 0)
		return -E2BIG; /* mpc_config_validate() said so already */
	for (i = 0; i < n; i++) {
		mpc_ip_to_words(&svc[i].ip, dc.listen[i].addr);
		dc.listen[i].port = svc[i].port;
		dc.listen[i].family = mpc_ip_is_v4(&svc[i].ip) ? 4 : 6;
	}
	if (ann_scan(cv, &cv->ann_up, NULL))
		cv->ann_up = 0;
	cv->ann_checked = now_ns();
	dc.enabled = 1;
	if (bpf_map_update_elem(config_fd, &zero, &dc, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * A restarted agent finds the connections of its predecessor in the
 * pinned maps. Established ones keep being translated by the data path
 * regardless; the agent rebuilds what it needs for their teardown from
 * the durable fields (addresses, keys, offsets) and the flow table.
 */
int conv_adopt(struct conv *cv)
{
	struct mpc_flow_key k, next, *prev = NULL;
	uint32_t n = 0;
	struct mpc_flow f;

	while (bpf_map_get_next_key(cv->flows_fd, prev, &next) == 0) {
		struct conv_conn *c;
		struct mpc_conn m;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(cv->flows_fd, &k, &f) ||
		    f.conn_id >= cv->max_conns ||
		    conn_read(cv, f.conn_id, &m) || m.state == MPC_CS_FREE)
			continue;
		c = &cv->conns[f.conn_id];
		if (!c->used) {
			memset(c, 0, sizeof(*c));
			c->used = true;
			cv->n_used++;
			c->gen = m.conn_gen;
			c->ext_idx = -1;
			n++;
		}
		/* handshakes in flight cannot be resumed: the peers retry */
		c->state = m.state < MPC_CS_ESTABLISHED ? MPC_CS_DEAD : m.state;
		c->family = m.leg_family;
		c->mptcp = !(m.flags & MPC_CF_PLAIN);
		c->key_l = m.key_local;
		c->key_r = m.key_remote;
		c->have_key_r = c->mptcp && m.key_remote;
		c->token_l = m.token_local;
		/* each connection has two or more flow entries: index it
		 * once */
		if (c->mptcp && !c->tok_indexed)
			tok_add(cv, c);
		c->leg_iss = m.leg_iss;
		c->leg_irs = m.leg_irs;
		c->sf_iss = m.sf[0].iss;
		c->copt.ts = c->sopt.ts = !!(m.flags & MPC_CF_SF_TS);
		c->cli_ts = m.up_tsval;
		c->sopt.tsval = m.down_tsval;
		c->since = now_ns();
		c->deadline = c->since + DEAD_LINGER;
		c->tries = REPLY_TRIES; /* the reply was sent long ago */
		if (f.kind == MPC_FLOW_SUBFLOW && f.sf) {
			/* a joined subflow: its identity stays in the map
			 * (m.sf[f.sf]), where flows_del() finds it */
		} else if (f.kind == MPC_FLOW_SUBFLOW) {
			mpc_ip_from_words(&c->cli, k.saddr, k.family);
			mpc_ip_from_words(&c->svc, k.daddr, k.family);
			c->cport = k.sport;
			c->sport = k.dport;
		} else {
			int i;

			mpc_ip_from_words(&c->srv, k.saddr, k.family);
			mpc_ip_from_words(&c->ext, k.daddr, k.family);
			c->srvport = k.sport;
			c->eport = k.dport;
			for (i = 0; i < cv->cfg->n_ext; i++)
				if (!memcmp(cv->cfg->ext[i].a, c->ext.a, 16))
					c->ext_idx = i;
			if (c->ext_idx >= 0)
				port_map(cv, c->ext_idx)[c->eport / 8] |=
					(uint8_t)(1u << (c->eport % 8));
		}
		if (c->state == MPC_CS_DEAD)
			conn_set_state(cv, c, MPC_CS_DEAD);
	}
	if (n)
		log_info("adopted %u connection(s) from the pinned maps", n);
	cv->st.adopted += n;
	return (int)n;
}

void conv_fini(struct conv *cv)
{
	uint32_t i;

	if (cv->conns)
		for (i = 0; i < cv->max_conns; i++)
			free(cv->conns[i].user);
	free(cv->conns);
	free(cv->joins);
	mpc_tokidx_fini(&cv->tok);
	free(cv->ports);
	if (cv->conns_mem)
		munmap(cv->conns_mem, cv->conns_mem_len);
	mpc_tx_close(&cv->tx);
}
