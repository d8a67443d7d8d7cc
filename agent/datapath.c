// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* datapath.c - load, pin, attach and detach the BPF data path */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "datapath.h"
#include "mpconv/conn.h"
#include "log.h"
#include "mpconv.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static bool has_helper(enum bpf_prog_type t, enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(t, id, NULL) == 1;
}

int mpc_probe_features(struct mpc_features *f)
{
	static const struct {
		enum bpf_func_id id;
		const char *name;
		const char *since;
	} need[] = {
		{BPF_FUNC_loop, "bpf_loop", "5.17"},
		{BPF_FUNC_xdp_load_bytes, "bpf_xdp_load_bytes", "5.18"},
		{BPF_FUNC_ringbuf_output, "bpf_ringbuf_output", "5.8"},
		{BPF_FUNC_fib_lookup, "bpf_fib_lookup", "4.18"},
	};
	size_t i;
	int fd;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!has_helper(BPF_PROG_TYPE_XDP, need[i].id)) {
			log_err("kernel lacks the BPF helper %s (Linux >= %s): "
				"the data path cannot load",
				need[i].name, need[i].since);
			return -EOPNOTSUPP;
		}
	}
	f->sched_cls =
		libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) ==
			1 &&
		has_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_redirect_neigh);
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	f->af_xdp = fd >= 0;
	if (fd >= 0)
		close(fd);
	log_info("kernel features: bpf_loop yes, TC data path %s, AF_XDP %s "
		 "(not needed: the slow path is a ring buffer)",
		 f->sched_cls ? "yes" : "no (no sched_cls/redirect_neigh)",
		 f->af_xdp ? "yes" : "no");
	return 0;
}

int mpc_bpffs_ensure(const char *pin_root)
{
	struct statfs sfs;

	if (statfs("/sys/fs/bpf", &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		mkdir("/sys/fs/bpf", 0700);
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			log_err("mount bpffs on /sys/fs/bpf: %s",
				strerror(errno));
			return -errno;
		}
		log_info("mounted bpffs on /sys/fs/bpf");
	}
	if (mkdir(pin_root, 0700) && errno != EEXIST) {
		log_err("mkdir %s: %s", pin_root, strerror(errno));
		return -errno;
	}
	return 0;
}

/* does a pinned map of this name exist already (a previous agent's)? */
static bool pin_exists(const char *root, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	return access(path, F_OK) == 0;
}

/*
 * Why mpconv__load() failed, told from libbpf's own messages while it
 * runs: the verifier rejected a program (libbpf then prints the whole
 * verifier log, which can be megabytes: below --log-level debug only its
 * last lines are kept for the error message), or a pinned map does not
 * match this build's definition (libbpf: "couldn't reuse pinned map").
 */
#define LOAD_TAIL_LINES 10
static struct {
	libbpf_print_fn_t next;
	char prog[64];	  /* the program the kernel refused */
	char tail[2048];  /* last LOAD_TAIL_LINES lines of its verifier log */
	char pinned[320]; /* libbpf's first line about a pinned map */
} load_why;

static void load_why_tail(const char *log, const char *end)
{
	const char *b = end;
	int n = 0;

	while (b > log && b[-1] == '\n')
		end = --b;
	while (b > log && n < LOAD_TAIL_LINES)
		if (*--b == '\n' && ++n == LOAD_TAIL_LINES)
			b++;
	if (end - b >= (long)sizeof(load_why.tail))
		b = end - (sizeof(load_why.tail) - 1);
	snprintf(load_why.tail, sizeof(load_why.tail), "%.*s", (int)(end - b),
		 b);
}

/* "libbpf: prog 'NAME': ..." */
static void load_why_prog(const char *s)
{
	const char *p = strstr(s, "prog '");

	if (p)
		sscanf(p, "prog '%63[^']'", load_why.prog);
}

static int load_why_print(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	static const char begin[] = "-- BEGIN PROG LOAD LOG --\n";
	char *s = NULL, *b, *e;
	bool shown = true;
	va_list aq;

	va_copy(aq, ap);
	if (level != LIBBPF_WARN || vasprintf(&s, fmt, aq) < 0)
		s = NULL;
	va_end(aq);
	if (s && (b = strstr(s, begin))) {
		/* "prog 'NAME': -- BEGIN PROG LOAD LOG --\nLOG-- END ..." */
		load_why_prog(s);
		b += sizeof(begin) - 1;
		e = strstr(b, "-- END PROG LOAD LOG --");
		load_why_tail(b, e ? e : b + strlen(b));
		shown = mpc_log_level >= MPC_LOG_DEBUG;
	} else if (s && strstr(s, "BPF program load failed")) {
		load_why_prog(s);
	} else if (s && strstr(s, "pinned map") && !load_why.pinned[0]) {
		/* "couldn't reuse pinned map at '...': parameter mismatch" */
		snprintf(load_why.pinned, sizeof(load_why.pinned), "%s", s);
		load_why.pinned[strcspn(load_why.pinned, "\n")] = '\0';
	}
	free(s);
	if (!shown || !load_why.next)
		return 0;
	return load_why.next(level, fmt, ap);
}

static void load_why_report(int err, const char *pin_root)
{
	struct utsname u;
	char *line, *save = NULL;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	if (load_why.prog[0] && load_why.tail[0]) {
		log_err("load BPF programs: the kernel's verifier (Linux %s) "
			"rejected program '%s' (%s); the end of its log:",
			u.release, load_why.prog, strerror(-err));
		for (line = strtok_r(load_why.tail, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			log_err("  %s", line);
		log_err("%s", mpc_log_level >= MPC_LOG_DEBUG
				      ? "(the whole verifier log is above)"
				      : "(the whole verifier log: --log-level "
					"debug)");
	} else if (load_why.prog[0]) {
		log_err("load BPF programs: the kernel (Linux %s) refused "
			"program '%s': %s (no verifier log; libbpf's messages "
			"above, more with --log-level debug)",
			u.release, load_why.prog, strerror(-err));
	} else if (load_why.pinned[0]) {
		log_err("load BPF programs: %s (%s): a map pinned under %s by "
			"an older, incompatible mpconv? stop that agent and "
			"remove %s",
			strerror(-err), load_why.pinned, pin_root, pin_root);
	} else {
		log_err("load BPF programs: %s (libbpf's messages above; "
			"more with --log-level debug)",
			strerror(-err));
	}
}

int mpc_dp_open(struct mpc_dp *dp, const struct mpc_config *c)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = c->pin_root);
	int err;

	memset(dp, 0, sizeof(*dp));
	err = mpc_probe_features(&dp->feat);
	if (err)
		return err;
	if (c->datapath == MPC_DP_TC && !dp->feat.sched_cls) {
		log_err("datapath tc requested, but the kernel cannot run it");
		return -EOPNOTSUPP;
	}
	err = mpc_bpffs_ensure(c->pin_root);
	if (err)
		return err;
	dp->adopted = pin_exists(c->pin_root, "mpc_stats");
	snprintf(dp->pin_root, sizeof(dp->pin_root), "%s", c->pin_root);
	dp->skel = mpconv__open_opts(&opts);
	if (!dp->skel) {
		log_err("open BPF object: %s", strerror(errno));
		return -errno;
	}
	bpf_map__set_max_entries(dp->skel->maps.mpc_conns, c->max_conns);
	bpf_map__set_max_entries(dp->skel->maps.mpc_runs_up,
				 c->max_conns * MPC_MAX_SUBFLOWS);
	bpf_map__set_max_entries(dp->skel->maps.mpc_runs_dn,
				 c->max_conns * MPC_MAX_SUBFLOWS);
	bpf_map__set_max_entries(dp->skel->maps.mpc_flows,
				 c->max_conns * (1 + MPC_MAX_SUBFLOWS));
	memset(&load_why, 0, sizeof(load_why));
	load_why.next = libbpf_set_print(load_why_print);
	err = mpconv__load(dp->skel);
	libbpf_set_print(load_why.next);
	if (err) {
		load_why_report(err, c->pin_root);
		mpconv__destroy(dp->skel);
		dp->skel = NULL;
		return err;
	}
	if (dp->adopted)
		log_info("re-adopted pinned maps under %s", c->pin_root);
	return 0;
}

/* id of the program attached to ifindex if it is one of ours, else 0 */
static __u32 our_xdp_prog(int ifindex, __u32 mode_flag)
{
	struct bpf_prog_info info = {0};
	__u32 id = 0, len = sizeof(info);
	int fd, ours;

	if (bpf_xdp_query_id(ifindex, (int)mode_flag, &id) || !id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return 0;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       strcmp(info.name, "mpconv_xdp") == 0;
	close(fd);
	return ours ? id : 0;
}

static int xdp_replace(struct mpc_iface *ifc, int prog_fd, __u32 old_id,
		       bool skb_mode)
{
	__u32 flags = XDP_FLAGS_REPLACE |
		      (skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int old_fd = bpf_prog_get_fd_by_id(old_id), err;
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);

	if (old_fd < 0)
		return -errno;
	err = bpf_xdp_attach(ifc->ifindex, prog_fd, flags, &opts);
	close(old_fd);
	return err;
}

int mpc_quiet_libbpf;

/* which way libxdp attached: through its dispatcher, or alone (legacy) */
static void probe_multiprog(struct mpc_dp *dp, struct mpc_iface *ifc)
{
	struct xdp_multiprog *mp =
		xdp_multiprog__get_from_ifindex(ifc->ifindex);
	bool multi;

	if (libxdp_get_error(mp))
		return;
	multi = !xdp_multiprog__is_legacy(mp);
	xdp_multiprog__close(mp);
	if (!dp->feat_probed) {
		dp->feat_probed = true;
		dp->feat.libxdp_multi = multi;
		if (!multi)
			log_info(
				"libxdp multi-program dispatcher unavailable on "
				"this kernel: mpconv_xdp attached alone (other "
				"XDP programs cannot share these interfaces)");
	}
}

static int attach_xdp(struct mpc_dp *dp, struct mpc_iface *ifc, bool allow_skb)
{
	int prog_fd = bpf_program__fd(dp->skel->progs.mpconv_xdp), err;
	struct xdp_program *xp;
	__u32 old;

	/* a previous agent's program: swap it atomically, no gap */
	old = our_xdp_prog(ifc->ifindex, XDP_FLAGS_DRV_MODE);
	if (old && !xdp_replace(ifc, prog_fd, old, false)) {
		ifc->xdp = true;
		log_info("%s: replaced running XDP program %u", ifc->name, old);
		return 0;
	}
	old = our_xdp_prog(ifc->ifindex, XDP_FLAGS_SKB_MODE);
	if (old && !xdp_replace(ifc, prog_fd, old, true)) {
		ifc->xdp = ifc->xdp_skb = true;
		log_info("%s: replaced running generic XDP program %u",
			 ifc->name, old);
		return 0;
	}

	xp = xdp_program__from_fd(prog_fd);
	err = libxdp_get_error(xp);
	if (err)
		return err;
	/* libxdp first tries its multi-program dispatcher and, where the
	 * kernel refuses it (freplace EPERM on some hosts), attaches the
	 * program alone; its complaints are replaced by one line below */
	mpc_quiet_libbpf++;
	err = xdp_program__attach(xp, ifc->ifindex, XDP_MODE_NATIVE, 0);
	mpc_quiet_libbpf--;
	if (!err) {
		dp->feat.native_xdp = true;
	} else if (allow_skb) {
		log_warn("%s: native XDP failed (%s), using generic XDP",
			 ifc->name, strerror(-err));
		err = xdp_program__attach(xp, ifc->ifindex, XDP_MODE_SKB, 0);
		ifc->xdp_skb = !err;
	}
	xdp_program__close(xp);
	if (err)
		return err;
	ifc->xdp = true;
	probe_multiprog(dp, ifc);
	return 0;
}

/* GRO state through the ethtool ioctl: -1 on error, else 0/1 */
static int gro_get(const char *ifname)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_GGRO};
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return rc ? -1 : (int)!!ev.data;
}

static int gro_set(const char *ifname, int on)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_SGRO, .data = (__u32)on};
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return rc;
}

static int attach_tc(struct mpc_dp *dp, struct mpc_iface *ifc, bool keep_gro)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MPC_TC_HANDLE,
		    .priority = MPC_TC_PRIO, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(dp->skel->progs.mpconv_tc));
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	ifc->tc_hook = !err;
	/* BPF_TC_F_REPLACE: a previous agent's filter is swapped in place */
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return err;
	ifc->tc = true;
	dp->feat.tc_api = true;
	/* TC cannot grow the TCP header of a GSO super-packet (stale
	 * csum_start, see bpf/lib/emit.h): aggregate nothing on ingress,
	 * except where only clients' packets arrive (gro-interfaces):
	 * upstream translation never grows the header, so their GRO
	 * super-packets are translated once and leave as GSO packets */
	if (keep_gro) {
		ifc->gro_was = -1; /* untouched, nothing to restore */
		log_info("%s: GRO %s (gro-interfaces: only MPTCP clients' "
			 "packets arrive here)",
			 ifc->name,
			 gro_get(ifc->name) == 1 ? "stays on" : "is off");
		return 0;
	}
	ifc->gro_was = gro_get(ifc->name);
	if (ifc->gro_was == 1) {
		if (gro_set(ifc->name, 0) == 0)
			log_info("%s: GRO off while the TC data path runs (it "
				 "must grow TCP headers of single segments)",
				 ifc->name);
		else
			log_warn("%s: cannot turn GRO off: downstream GSO "
				 "packets will be dropped (MPC_DROP_GSO)",
				 ifc->name);
	}
	return 0;
}

int mpc_dp_attach(struct mpc_dp *dp, const struct mpc_config *c)
{
	enum mpc_datapath mode = c->datapath;
	int i, err;

	for (i = 0; i < c->n_interfaces; i++) {
		struct mpc_iface *ifc = &dp->ifs[i];

		snprintf(ifc->name, sizeof(ifc->name), "%s", c->interfaces[i]);
		ifc->ifindex = (int)if_nametoindex(ifc->name);
		if (!ifc->ifindex) {
			log_err("interface %s: %s", ifc->name, strerror(errno));
			return -ENODEV;
		}
	}
	dp->n_ifs = c->n_interfaces;

	if (mode == MPC_DP_AUTO) {
		/* XDP when every interface takes it natively, else TC */
		mode = MPC_DP_XDP;
		for (i = 0; i < dp->n_ifs; i++) {
			err = attach_xdp(dp, &dp->ifs[i], false);
			if (err) {
				log_info("%s: native XDP unavailable (%s): "
					 "datapath auto -> tc",
					 dp->ifs[i].name, strerror(-err));
				mpc_dp_detach(dp);
				mode = MPC_DP_TC;
				break;
			}
		}
	} else if (mode == MPC_DP_XDP) {
		for (i = 0; i < dp->n_ifs; i++) {
			err = attach_xdp(dp, &dp->ifs[i], true);
			if (err) {
				log_err("%s: attach XDP: %s", dp->ifs[i].name,
					strerror(-err));
				return err;
			}
		}
	}
	if (mode == MPC_DP_TC) {
		for (i = 0; i < dp->n_ifs; i++) {
			err = attach_tc(dp, &dp->ifs[i],
					mpc_ifname_in(c->gro_ifaces,
						      c->n_gro_ifaces,
						      dp->ifs[i].name));
			if (err) {
				log_err("%s: attach TC: %s", dp->ifs[i].name,
					strerror(-err));
				return err;
			}
		}
	}
	dp->mode = mode;
	for (i = 0; i < dp->n_ifs; i++)
		log_info("%s (ifindex %d): %s", dp->ifs[i].name,
			 dp->ifs[i].ifindex,
			 dp->ifs[i].tc	      ? "tc ingress"
			 : dp->ifs[i].xdp_skb ? "xdp generic"
					      : "xdp native");
	return 0;
}

void mpc_dp_detach(struct mpc_dp *dp)
{
	int i;

	for (i = 0; i < dp->n_ifs; i++) {
		struct mpc_iface *ifc = &dp->ifs[i];

		if (ifc->xdp) {
			__u32 flags = ifc->xdp_skb ? XDP_FLAGS_SKB_MODE
						   : XDP_FLAGS_DRV_MODE;

			/* detach only if what runs there is still ours */
			if (our_xdp_prog(ifc->ifindex, flags))
				bpf_xdp_detach(ifc->ifindex, flags, NULL);
			ifc->xdp = ifc->xdp_skb = false;
		}
		if (ifc->tc) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
				    .attach_point = BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MPC_TC_HANDLE,
				    .priority = MPC_TC_PRIO);

			bpf_tc_detach(&hook, &opts);
			if (ifc->gro_was == 1)
				gro_set(ifc->name, 1);
			/* deleting the clsact qdisc takes both points; with
			 * INGRESS alone libbpf only flushes the filters */
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			if (ifc->tc_hook)
				bpf_tc_hook_destroy(&hook);
			ifc->tc = ifc->tc_hook = false;
		}
	}
}

void mpc_dp_close(struct mpc_dp *dp, bool unpin)
{
	struct bpf_map *m;

	if (!dp->skel)
		return;
	if (unpin) {
		/* quietly: whoever removed the directory already unpinned */
		bpf_object__for_each_map(m, dp->skel->obj)
			if (bpf_map__is_pinned(m) &&
			    access(bpf_map__pin_path(m), F_OK) == 0)
				bpf_map__unpin(m, NULL);
	}
	mpconv__destroy(dp->skel);
	dp->skel = NULL;
	if (unpin) {
		/* our pin directory, and libxdp's state directory: both only
		 * when empty (an empty xdp/ holds no state; libxdp makes it
		 * again when it needs it, and an agent restarted after SIGKILL
		 * cannot know who made it) */
		rmdir(dp->pin_root);
		rmdir("/sys/fs/bpf/xdp");
	}
}
