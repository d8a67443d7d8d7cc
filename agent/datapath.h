/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * datapath.h - load, pin, attach and detach the BPF data path.
 *
 * Maps are pinned by name under the configured pin root; a new agent
 * re-adopts them (libbpf reuses pinned maps of the same definition) and
 * replaces the programs already attached by a previous agent atomically
 * (XDP_FLAGS_REPLACE / BPF_TC_F_REPLACE), so established flows never see
 * a gap. Attachments are netlink-based, not bpf_link-based, so they
 * survive the agent being killed.
 */
#ifndef MPCONV_AGENT_DATAPATH_H
#define MPCONV_AGENT_DATAPATH_H

#include <stdbool.h>

#include "config.h"

struct mpconv;
struct xdp_program;

/* TC filter identity: fixed so a restarted agent finds and replaces it */
#define MPC_TC_HANDLE 0x4d50 /* "MP" */
#define MPC_TC_PRIO 1

struct mpc_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	bool xdp;     /* our XDP program is attached */
	bool xdp_skb; /* ... in generic (skb) mode */
	bool tc;      /* our TC filter is attached */
	bool tc_hook; /* we created the clsact qdisc */
	int gro_was;  /* GRO before we turned it off (TC), -1 unknown */
};

struct mpc_features {
	bool native_xdp;   /* at least one interface took driver-mode XDP */
	bool libxdp_multi; /* libxdp's multi-program dispatcher works */
	bool tc_api;	   /* bpf_tc_* netlink attach works */
	bool af_xdp;	   /* AF_XDP sockets exist (not used: see design) */
	bool sched_cls;	   /* the kernel runs TC programs we need */
};

struct mpc_dp {
	struct mpconv *skel;
	enum mpc_datapath mode; /* resolved: MPC_DP_XDP or MPC_DP_TC */
	struct mpc_iface ifs[MPC_MAX_IFACES];
	int n_ifs;
	bool adopted; /* pinned maps of a previous agent were reused */
	char pin_root[128];
	struct mpc_features feat;
	bool feat_probed;
};

/* >0 while libbpf warnings are expected and replaced by our own line */
extern int mpc_quiet_libbpf;

/*
 * Probe what the kernel offers before loading: the helpers the data path
 * cannot do without (bpf_loop, bpf_xdp_load_bytes, bpf_redirect_neigh)
 * fail the start with one clear line; optional features (AF_XDP, the TC
 * attach API) are logged in one line. Native XDP and the libxdp
 * dispatcher are probed when attaching. Returns 0 or -EOPNOTSUPP.
 */
int mpc_probe_features(struct mpc_features *f);

/*
 * Probe what the kernel offers before loading: the helpers the data path
 * cannot do without (bpf_loop, bpf_xdp_load_bytes, ...) fail the start with
 * one clear line; optional features (AF_XDP, the TC data path) are logged
 * in one line. Native XDP and the libxdp dispatcher are probed when
 * attaching. Returns 0 or -EOPNOTSUPP.
 */
int mpc_probe_features(struct mpc_features *f);

/* mount bpffs at /sys/fs/bpf if it is not there; 0 or -errno */
int mpc_bpffs_ensure(const char *pin_root);

int mpc_dp_open(struct mpc_dp *dp, const struct mpc_config *c);
int mpc_dp_attach(struct mpc_dp *dp, const struct mpc_config *c);
/* detach only what this agent attached or replaced */
void mpc_dp_detach(struct mpc_dp *dp);
/* close the skeleton; unpin maps only if `unpin` */
void mpc_dp_close(struct mpc_dp *dp, bool unpin);

#endif /* MPCONV_AGENT_DATAPATH_H */
