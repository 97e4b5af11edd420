// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* og_tc_out (reply lane -> skb->priority) and og_tc_in (metadata/lookup -> skb->mark). */
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sched.h>

#include "bpf_fixture.h"

#define V4	    .family = AF_INET
#define V6	    .family = AF_INET6
#define TCP	    .proto = IPPROTO_TCP
#define UDP	    .proto = IPPROTO_UDP
#define ACT_UNSPEC  (-1)
#define PRESET_PRIO 7

/* Replies: source is the gateway (10.0.0.2 / fd00::2), destination the client. */
struct ocase {
	const char *name;
	struct pkt_spec spec;
	size_t trunc; /* send only this many bytes when non-zero */
	__u8 lane;
	__u32 priority; /* expected skb->priority */
};

static const struct ocase ocases[] = {
    {"reply from order port",
     {V4, TCP, .src = "10.0.0.2", .dst = "10.0.0.1", .sport = 9443, .dport = 40001, .payload = 200},
     0,
     OG_LANE_ORDER,
     OG_CLASS_ORDER},
    {"reply to bulk prefix",
     {V4, TCP, .src = "10.0.0.2", .dst = "10.20.1.1", .sport = 9443, .dport = 40002},
     0,
     OG_LANE_BULK,
     OG_CLASS_BULK},
    {"reply by default",
     {V4, UDP, .src = "10.0.0.2", .dst = "10.0.0.1", .sport = 53, .dport = 40003},
     0,
     OG_LANE_NORMAL,
     OG_CLASS_NORMAL},
    {"ipv6 reply from order port",
     {V6, TCP, .src = "fd00::2", .dst = "fd00::1", .sport = 9443, .dport = 40004},
     0,
     OG_LANE_ORDER,
     OG_CLASS_ORDER},
    {"ipv6 reply to bulk prefix",
     {V6, UDP, .src = "fd00::2", .dst = "fd00:20::5", .sport = 9443, .dport = 40005},
     0,
     OG_LANE_BULK,
     OG_CLASS_BULK},
    {"vlan reply from order port",
     {.vlans = 1, V4, TCP, .src = "10.0.0.2", .dst = "10.0.0.1", .sport = 9443, .dport = 40006},
     0,
     OG_LANE_ORDER,
     OG_CLASS_ORDER},
    {"later fragment to bulk prefix",
     {V4, UDP, .src = "10.0.0.2", .dst = "10.20.1.1", .frag_off = 20, .payload = 30},
     0,
     OG_LANE_BULK,
     OG_CLASS_BULK},
    {"arp leaves priority alone", {.ethertype = 0x0806}, 0, OG_LANE_NONE, PRESET_PRIO},
    {"icmp leaves priority alone",
     {V4, .proto = IPPROTO_ICMP, .src = "10.0.0.2", .dst = "10.0.0.1"},
     0,
     OG_LANE_NONE,
     PRESET_PRIO},
    {"truncated tcp leaves priority alone",
     {V4, TCP, .src = "10.0.0.2", .dst = "10.0.0.1", .sport = 9443, .dport = 40007},
     14 + 20 + 10,
     OG_LANE_NONE,
     PRESET_PRIO},
};

static void out_case(struct og_bpf *s, const struct ocase *c)
{
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct fx_tc_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(&c->spec, pkt, NULL);

	if (c->trunc)
		len = c->trunc;
	fx_lanes(s, b);
	fx_tc(s->progs.og_tc_out, pkt, len, 0, PRESET_PRIO, &o);
	fx_lanes(s, a);
	OK(o.ret == 0 && o.verdict == ACT_UNSPEC, "%s: TC_ACT_UNSPEC (got %d, run %d)", c->name,
	   o.verdict, o.ret);
	OK(o.priority == c->priority, "%s: priority %#x (want %#x)", c->name, o.priority,
	   c->priority);
	OK(o.mark == 0, "%s: mark untouched", c->name);
	OK(a[c->lane].tx_pkts - b[c->lane].tx_pkts == 1 &&
	       a[c->lane].tx_bytes - b[c->lane].tx_bytes == len,
	   "%s: tx counted in lane %u (%zu bytes)", c->name, c->lane, len);
	OK(a[0].tx_pkts + a[1].tx_pkts + a[2].tx_pkts + a[3].tx_pkts -
		       (b[0].tx_pkts + b[1].tx_pkts + b[2].tx_pkts + b[3].tx_pkts) ==
		   1 &&
	       a[c->lane].rx_pkts == b[c->lane].rx_pkts,
	   "%s: counted once, as tx only", c->name);
}

/* Reply priority from the pin on the client-view key, and from the flow's cached lane. */
static void out_pin_and_cache(struct og_bpf *s)
{
	struct pkt_spec in = {
	    V4, TCP, .src = "10.0.0.5", .dst = "10.0.0.2", .sport = 41000, .dport = 7001};
	struct pkt_spec out = {
	    V4, TCP, .src = "10.0.0.2", .dst = "10.0.0.5", .sport = 7001, .dport = 41000};
	struct og_port_key pk = {.port = 7001};
	struct og_lane_val lv = {.lane = OG_LANE_ORDER};
	struct og_config cfg;
	struct og_flow_key k;
	struct fx_xdp_out xo;
	struct fx_tc_out o;
	__u8 pi[PKT_MAX], po[PKT_MAX];
	size_t li = pkt_build(&in, pi, NULL), lo = pkt_build(&out, po, NULL);

	/* Two packets: the second is admitted into og_flows (admit.h). */
	fx_xdp(s, pi, li, &xo);
	fx_xdp(s, pi, li, &xo);
	OK(xo.meta.lane == OG_LANE_NORMAL, "ingress flow resolved to normal");
	/* Port rule written without a generation bump: the cached lane holds. */
	bpf_map_update_elem(bpf_map__fd(s->maps.og_port_lane), &pk, &lv, BPF_ANY);
	fx_tc(s->progs.og_tc_out, po, lo, 0, 0, &o);
	OK_EQ(o.priority, OG_CLASS_NORMAL, "reply uses the flow's cached lane");
	fx_bump_gen(s);
	fx_tc(s->progs.og_tc_out, po, lo, 0, 0, &o);
	OK_EQ(o.priority, OG_CLASS_ORDER, "after a rules_gen bump the reply re-resolves");
	/* A pin on the client-view key wins at once, even before XDP re-resolves. */
	fx_key(&in, &k);
	{
		struct og_flow_pin pin = {.lane = OG_LANE_BULK};

		bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_lane), &k, &pin, BPF_ANY);
	}
	fx_tc(s->progs.og_tc_out, po, lo, 0, 0, &o);
	OK_EQ(o.priority, OG_CLASS_BULK, "pin on the reverse key decides the reply's class");
	bpf_map_delete_elem(bpf_map__fd(s->maps.og_flow_lane), &k);
	fx_bump_gen(s);

	/* A lane without a class leaves the priority alone. */
	cfg = fx_get_cfg(s);
	cfg.lane_class[OG_LANE_ORDER] = 0;
	fx_set_cfg(s, &cfg);
	fx_tc(s->progs.og_tc_out, po, lo, 0, 5, &o);
	OK_EQ(o.priority, 5, "lane_class 0 leaves skb->priority untouched");
	cfg.lane_class[OG_LANE_ORDER] = OG_CLASS_ORDER;
	cfg.enabled = 0;
	fx_set_cfg(s, &cfg);
	fx_tc(s->progs.og_tc_out, po, lo, 0, 5, &o);
	OK(o.priority == 5 && o.verdict == ACT_UNSPEC, "disabled: priority untouched, no drop");
	cfg.enabled = 1;
	fx_set_cfg(s, &cfg);
}

/* A BIG TCP IPv4 super-packet carries tot_len 0; it still gets its class. */
static void out_big_tcp(struct og_bpf *s)
{
	struct pkt_spec p = {V4,
			     TCP,
			     .src = "10.0.0.2",
			     .dst = "10.0.0.1",
			     .sport = 9443,
			     .dport = 40100,
			     .payload = 100};
	struct fx_tc_out o;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(&p, pkt, NULL);

	pkt[14 + 2] = 0;
	pkt[14 + 3] = 0;
	fx_tc(s->progs.og_tc_out, pkt, len, 0, 0, &o);
	OK_EQ(o.priority, OG_CLASS_ORDER, "ipv4 tot_len 0 (BIG TCP) reply classified");
}

/* og_tc_in without metadata (skb test_run carries none): lookup or resolve. */
static void in_lookup(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.0.0.9", .sport = 42000, .dport = 9443};
	struct pkt_spec q = {V6, UDP, .src = "fd00:20::1", .sport = 42001, .dport = 80};
	struct pkt_spec arp = {.ethertype = 0x0806};
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	struct og_flow_key k;
	struct fx_tc_out o;
	__u8 pkt[PKT_MAX];
	size_t len;

	len = pkt_build(&p, pkt, NULL);
	fx_lanes(s, b);
	fx_tc(s->progs.og_tc_in, pkt, len, 0, 0, &o);
	fx_lanes(s, a);
	OK(o.verdict == ACT_UNSPEC && o.mark == OG_LANE_ORDER, "tc_in: mark %u = order lane",
	   o.mark);
	OK_EQ(a[OG_LANE_ORDER].tc_in_lookup - b[OG_LANE_ORDER].tc_in_lookup, 1,
	      "tc_in: counted as lookup in the order lane");
	OK_EQ(a[OG_LANE_ORDER].rx_pkts - b[OG_LANE_ORDER].rx_pkts, 0, "tc_in: no rx counted");

	fx_key(&p, &k);
	{
		struct og_flow_pin pin = {.lane = OG_LANE_BULK};

		bpf_map_update_elem(bpf_map__fd(s->maps.og_flow_lane), &k, &pin, BPF_ANY);
		fx_bump_gen(s);
	}
	fx_tc(s->progs.og_tc_in, pkt, len, 0, 0, &o);
	OK_EQ(o.mark, OG_LANE_BULK, "tc_in: pinned flow marked bulk");
	bpf_map_delete_elem(bpf_map__fd(s->maps.og_flow_lane), &k);
	fx_bump_gen(s);

	len = pkt_build(&q, pkt, NULL);
	fx_tc(s->progs.og_tc_in, pkt, len, 0, 0, &o);
	OK_EQ(o.mark, OG_LANE_BULK, "tc_in: ipv6 prefix marks bulk");

	len = pkt_build(&arp, pkt, NULL);
	fx_lanes(s, b);
	fx_tc(s->progs.og_tc_in, pkt, len, 77, 0, &o);
	fx_lanes(s, a);
	OK(o.mark == 77 && o.verdict == ACT_UNSPEC, "tc_in: arp keeps its mark (%u)", o.mark);
	OK_EQ(a[OG_LANE_NONE].tc_in_lookup - b[OG_LANE_NONE].tc_in_lookup, 1,
	      "tc_in: arp counted in lane none");
}

/*
 * og_tc_in with real XDP metadata: og_xdp runs in live-frame mode on a veth
 * in a private network namespace, so XDP_PASS frames enter the stack as skbs
 * carrying the metadata, and og_tc_in on that veth's ingress sees them. The
 * namespace belongs to this process and vanishes with it, even on a crash.
 */
static void in_meta(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.0.0.7", .sport = 43000, .dport = 9443};
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tco, .prog_fd = bpf_program__fd(s->progs.og_tc_in));
	struct xdp_md ctx = {};
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(&p, pkt, NULL);
	int ifindex, err;

	if (unshare(CLONE_NEWNET)) {
		OK(0, "private network namespace: %s", strerror(errno));
		return;
	}
	err = system("ip link add ogt0 type veth peer name ogt1 && ip link set ogt0 up && "
		     "ip link set ogt1 up");
	ifindex = if_nametoindex("ogt0");
	OK(err == 0 && ifindex > 0, "veth pair in a private netns");
	if (err || !ifindex)
		return;
	hook.ifindex = ifindex;
	err = bpf_tc_hook_create(&hook);
	OK(err == 0, "clsact on the veth (%d)", err);
	err = bpf_tc_attach(&hook, &tco);
	OK(err == 0, "og_tc_in attached at ingress (%d)", err);

	ctx.data_end = len;
	ctx.ingress_ifindex = ifindex;
	{
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 3,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		fx_lanes(s, b);
		err = bpf_prog_test_run_opts(bpf_program__fd(s->progs.og_xdp), &opts);
		fx_lanes(s, a);
	}
	OK(err == 0, "og_xdp live frames into the stack (%s)", err ? strerror(errno) : "ok");
	OK_EQ(a[OG_LANE_ORDER].rx_pkts - b[OG_LANE_ORDER].rx_pkts, 3, "og_xdp saw 3 frames");
	OK_EQ(a[OG_LANE_ORDER].tc_in_meta - b[OG_LANE_ORDER].tc_in_meta, 3,
	      "og_tc_in took the lane from XDP metadata 3 times");
	OK_EQ(a[OG_LANE_ORDER].tc_in_lookup - b[OG_LANE_ORDER].tc_in_lookup, 0,
	      "og_tc_in needed no lookup");
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
}

/*
 * The whole ingress path on a real link: og_xdp attached in native mode to
 * ogt1, og_tc_in on ogt1's ingress, og_tc_out on ogt0's egress; frames sent
 * with a packet socket on ogt0 cross the veth. Runs in the private netns
 * in_meta made.
 */
static void live_veth(struct og_bpf *s)
{
	struct pkt_spec p = {V4, TCP, .src = "10.0.0.8", .sport = 43100, .dport = 9443};
	struct og_lane_stats b[OG_LANE_MAX], a[OG_LANE_MAX];
	LIBBPF_OPTS(bpf_tc_hook, in1, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_hook, out0, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tci, .prog_fd = bpf_program__fd(s->progs.og_tc_in));
	LIBBPF_OPTS(bpf_tc_opts, tco, .prog_fd = bpf_program__fd(s->progs.og_tc_out));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	int if0 = if_nametoindex("ogt0"), if1 = if_nametoindex("ogt1"), fd, i, err, sent = 0;
	__u8 pkt[PKT_MAX];
	size_t len = pkt_build(&p, pkt, NULL);

	if (!if0 || !if1) {
		OK(0, "live veth: ogt0/ogt1 exist");
		return;
	}
	err = bpf_xdp_attach(if1, bpf_program__fd(s->progs.og_xdp), XDP_FLAGS_DRV_MODE, NULL);
	OK(err == 0, "og_xdp attached natively to a veth (%d)", err);
	in1.ifindex = if1;
	out0.ifindex = if0;
	bpf_tc_hook_create(&in1);
	bpf_tc_hook_create(&out0);
	OK(bpf_tc_attach(&in1, &tci) == 0 && bpf_tc_attach(&out0, &tco) == 0,
	   "og_tc_in on ogt1 ingress, og_tc_out on ogt0 egress");
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	sll.sll_ifindex = if0;
	sll.sll_halen = 6;
	fx_lanes(s, b);
	for (i = 0; fd >= 0 && i < 5; i++)
		sent +=
		    sendto(fd, pkt, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len;
	OK_EQ(sent, 5, "5 frames sent on ogt0");
	/* veth delivers from NAPI: wait for the counters, at most 2 s. */
	for (i = 0; i < 200; i++) {
		fx_lanes(s, a);
		if (a[OG_LANE_ORDER].tc_in_meta - b[OG_LANE_ORDER].tc_in_meta >= 5)
			break;
		usleep(10000);
	}
	OK_EQ(a[OG_LANE_ORDER].rx_pkts - b[OG_LANE_ORDER].rx_pkts, 5, "live: og_xdp counted 5");
	OK_EQ(a[OG_LANE_ORDER].tc_in_meta - b[OG_LANE_ORDER].tc_in_meta, 5,
	      "live: og_tc_in read native XDP metadata 5 times");
	/* Seen as replies, these frames reverse to 10.0.0.2:9443 -> client port
	 * 43100: no port rule there, so the default lane. */
	OK(a[OG_LANE_NORMAL].tx_pkts - b[OG_LANE_NORMAL].tx_pkts == 5,
	   "live: og_tc_out saw the 5 frames leave ogt0 (%llu in normal)",
	   (unsigned long long)(a[OG_LANE_NORMAL].tx_pkts - b[OG_LANE_NORMAL].tx_pkts));
	if (fd >= 0)
		close(fd);
	bpf_xdp_detach(if1, XDP_FLAGS_DRV_MODE, NULL);
	in1.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	out0.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&in1);
	bpf_tc_hook_destroy(&out0);
}

int main(void)
{
	struct og_config cfg = fx_cfg_default();
	struct og_bpf *s;
	size_t i;

	s = fx_load();
	OK(s != NULL, "skeleton loads unpinned with the test clock");
	if (!s)
		return og_done();
	fx_clock(s, 1000);
	fx_set_cfg(s, &cfg);
	OK(fx_port(s, 9443, OG_LANE_ORDER) == 0, "port rule");
	OK(fx_prefix(s, "10.20.0.0/16", OG_LANE_BULK, 0) == 0, "ipv4 prefix rule");
	OK(fx_prefix(s, "fd00:20::/32", OG_LANE_BULK, 0) == 0, "ipv6 prefix rule");
	for (i = 0; i < sizeof(ocases) / sizeof(ocases[0]); i++)
		out_case(s, &ocases[i]);
	out_pin_and_cache(s);
	out_big_tcp(s);
	in_lookup(s);
	in_meta(s);
	live_veth(s);
	og_bpf__destroy(s);
	return og_done();
}
