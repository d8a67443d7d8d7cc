/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * sched.h - the downstream scheduler's choice (data from the TCP peer
 * toward the MPTCP peer): which subflow carries the next segment. A pure
 * function of per-subflow estimates, so that the data path and the unit
 * tests (tests/unit/test_sched.c) run the same code (the data path:
 * bpf/mpconv.bpf.c mpc_g_sched, docs/multipath-plan.md).
 *
 * Policies (chosen per destination prefix/port by the agent):
 *
 *   MPC_SCHED_AGGREGATE  every usable subflow, the one where this segment
 *                        is expected to arrive first: half the smoothed
 *                        RTT plus the time to drain what is in flight and
 *                        the segment at the subflow's delivery rate. Backup
 *                        subflows only when no other one is usable
 *                        (RFC 8684 3.3.8).
 *   MPC_SCHED_BACKUP     active-standby: the first usable primary (no
 *                        MPC_SCHED_F_BACKUP: set by our configuration or
 *                        by the peer's MP_PRIO) carries everything, even
 *                        with a full window (it queues there, it does not
 *                        spill over); the first usable backup only while
 *                        no primary is usable, so traffic moves back as
 *                        soon as one returns.
 *
 * Usable: MPC_SCHED_F_ACTIVE and not MPC_SCHED_F_DOWN. DOWN is the
 * caller's verdict: the link went down, or the subflow stopped making
 * progress (mpc_sched_stalled()); when nothing is usable the caller takes
 * mpc_sched_fallback(). A subflow whose window is full is
 * skipped while another one has room; when all are full the earliest
 * arrival still wins (a converter cannot hold the segment back).
 */
#ifndef MPCONV_SCHED_H
#define MPCONV_SCHED_H

#include "compat.h"

#define MPC_SCHED_F_ACTIVE 0x1u
#define MPC_SCHED_F_BACKUP 0x2u
#define MPC_SCHED_F_DOWN 0x4u

enum mpc_sched_policy {
	MPC_SCHED_AGGREGATE = 0,
	MPC_SCHED_BACKUP = 1,
};

/* what the scheduler knows of one subflow */
struct mpc_sched_sf {
	__u32 srtt_us;	/* smoothed RTT; 0 = no sample yet */
	__u32 inflight; /* bytes sent, not yet acknowledged on the subflow */
	__u32 cwnd;	/* bytes the subflow may have in flight; 0 = unknown */
	__u32 rate;	/* delivery rate, bytes per millisecond; 0 = unknown */
	__u32 flags;	/* MPC_SCHED_F_* */
};

#define MPC_SCHED_MAX 8
#define MPC_SCHED_RTT_UNKNOWN_US 100000 /* 100 ms until a sample */
#define MPC_SCHED_RATE_MIN 1		/* bytes/ms, never divide by 0 */
#define MPC_SCHED_IW 14480		/* bytes: 10 segments (RFC 6928) */

/* expected arrival of `len` more bytes on s, in microseconds */
MPC_INLINE __u64 mpc_sched_eta(const struct mpc_sched_sf *s, __u32 len)
{
	__u64 rtt = s->srtt_us ? s->srtt_us : MPC_SCHED_RTT_UNKNOWN_US;
	__u64 rate = s->rate;

	/* nothing known and nothing in flight: try it now, or it would
	 * never be measured (a fresh join next to a busy subflow) */
	if (!rate && !s->cwnd && !s->inflight)
		return 0;

	/* no rate sample: one window per RTT; with no window known either,
	 * what is in flight (at least an initial window) per RTT, so that a
	 * subflow being measured gets data like a TCP in slow start */
	if (!rate && s->cwnd)
		rate = (__u64)s->cwnd * 1000 / rtt;
	else if (!rate)
		rate = ((__u64)s->inflight + len > MPC_SCHED_IW
				? (__u64)s->inflight + len
				: MPC_SCHED_IW) *
		       1000 / rtt;
	if (rate < MPC_SCHED_RATE_MIN)
		rate = MPC_SCHED_RATE_MIN;
	return rtt / 2 + ((__u64)s->inflight + len) * 1000 / rate;
}

MPC_INLINE bool mpc_sched_usable(const struct mpc_sched_sf *s)
{
	return (s->flags & (MPC_SCHED_F_ACTIVE | MPC_SCHED_F_DOWN)) ==
	       MPC_SCHED_F_ACTIVE;
}

/* room for len more bytes (unknown window: yes) */
MPC_INLINE bool mpc_sched_room(const struct mpc_sched_sf *s, __u32 len)
{
	return !s->cwnd || (__u64)s->inflight + len <= s->cwnd;
}

struct mpc__sched_ctx {
	const struct mpc_sched_sf *sf;
	__u32 n, len;
	bool want_backup;
	int best, best_full;
	__u64 eta, eta_full;
};

/* mpc__sched_best() for subflow i (a bpf_loop() callback in BPF: the
 * verifier follows one subflow's branches once, not eight times over) */
MPC_CALLBACK long mpc__sched_one(__u32 i, void *arg)
{
	struct mpc__sched_ctx *x = arg;
	const struct mpc_sched_sf *s;
	__u64 idx = i, t;
	bool backup;

	MPC__OPAQUE(idx);
	if (idx >= MPC_SCHED_MAX || idx >= x->n)
		return 1;
	s = &x->sf[idx];
	backup = !!(s->flags & MPC_SCHED_F_BACKUP);
	if (!mpc_sched_usable(s) || backup != x->want_backup)
		return 0;
	t = mpc_sched_eta(s, x->len);
	if (mpc_sched_room(s, x->len)) {
		if (x->best < 0 || t < x->eta) {
			x->best = (int)idx;
			x->eta = t;
		}
	} else if (x->best_full < 0 || t < x->eta_full) {
		x->best_full = (int)idx;
		x->eta_full = t;
	}
	return 0;
}

/* the best of the usable subflows with (want_backup) or without the backup
 * flag; with room first, then any; -1 if none */
MPC_INLINE int mpc__sched_best(const struct mpc_sched_sf *sf, __u32 n,
			       __u32 len, bool want_backup)
{
	struct mpc__sched_ctx x = {.sf = sf,
				   .n = n,
				   .len = len,
				   .want_backup = want_backup,
				   .best = -1,
				   .best_full = -1};

	MPC_LOOP(MPC_SCHED_MAX, mpc__sched_one, &x);
	return x.best >= 0 ? x.best : x.best_full;
}

/*
 * The subflow (index into sf[0..n-1]) for the next `len` bytes, or -1
 * when none is usable (the caller drops the segment; the TCP peer
 * retransmits it, and the agent has been told the subflows are gone).
 */
MPC_INLINE int mpc_sched_pick(const struct mpc_sched_sf *sf, __u32 n,
			      __u32 policy, __u32 len)
{
	__u32 i, pass;
	int k;

	if (n > MPC_SCHED_MAX)
		n = MPC_SCHED_MAX;
	if (policy == MPC_SCHED_BACKUP) {
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < MPC_SCHED_MAX; i++) {
				bool backup;

				if (i >= n)
					break;
				backup = !!(sf[i].flags & MPC_SCHED_F_BACKUP);
				if (mpc_sched_usable(&sf[i]) &&
				    backup == (pass == 1))
					return (int)i;
			}
		return -1;
	}
	k = mpc__sched_best(sf, n, len, false);
	if (k < 0)
		k = mpc__sched_best(sf, n, len, true);
	return k;
}

/*
 * When mpc_sched_pick() finds nothing usable: the first active subflow (a
 * stalled one may come back; the segment has to go somewhere), or -1.
 */
MPC_INLINE int mpc_sched_fallback(const struct mpc_sched_sf *sf, __u32 n)
{
	__u32 i;

	for (i = 0; i < MPC_SCHED_MAX; i++) {
		if (i >= n)
			break;
		if (sf[i].flags & MPC_SCHED_F_ACTIVE)
			return (int)i;
	}
	return -1;
}

/*
 * A subflow stopped making progress: data in flight, and nothing heard
 * from the peer for max(4 * srtt, floor) nanoseconds after we sent
 * something (tx_ns: the first segment sent since the peer's last ACK,
 * 0 = none outstanding; floor: the caller's minimum, e.g. 200 ms so that
 * a delayed ACK or a short queue spike does not count). Counting from the
 * send, not from the last ACK: after a silence of the sender (the TCP
 * peer waiting for its retransmission timer) every subflow has old
 * unacknowledged data, but only one that does not answer is dead.
 */
MPC_INLINE bool mpc_sched_stalled(const struct mpc_sched_sf *s, __u64 tx_ns,
				  __u64 now_ns, __u64 floor_ns)
{
	__u64 lim =
		(__u64)(s->srtt_us ? s->srtt_us : MPC_SCHED_RTT_UNKNOWN_US) *
		4000;

	if (lim < floor_ns)
		lim = floor_ns;
	return s->inflight && tx_ns && now_ns > tx_ns && now_ns - tx_ns > lim;
}

#endif /* MPCONV_SCHED_H */
