// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libogdp's pure helpers: CIDR and address parsing, tc rates, lane names, class ids. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dp/dp.h"
#include "../lib/og_test.h"

struct cidr_case {
	const char *in;
	int ret;	 /* 0 or -errno */
	const char *out; /* dp_prefix_str of the result */
	int normalized;
};

static const struct cidr_case cidrs[] = {
    {"10.1.2.0/24", 0, "10.1.2.0/24", 0},
    {"10.1.2.3/24", 0, "10.1.2.0/24", 1},
    {"10.1.2.3", 0, "10.1.2.3/32", 0},
    {"0.0.0.0/0", 0, "0.0.0.0/0", 0},
    {"255.255.255.255/1", 0, "128.0.0.0/1", 1},
    {"192.168.1.128/25", 0, "192.168.1.128/25", 0},
    {"192.168.1.130/25", 0, "192.168.1.128/25", 1},
    {"10.0.0.0/31", 0, "10.0.0.0/31", 0},
    {"2001:db8::/32", 0, "2001:db8::/32", 0},
    {"2001:db8::1/32", 0, "2001:db8::/32", 1},
    {"2001:db8:ffff:ffff::/33", 0, "2001:db8:8000::/33", 1},
    {"::1", 0, "::1/128", 0},
    {"::/0", 0, "::/0", 0},
    {"fe80::1:2:3:4/64", 0, "fe80::/64", 1},
    {"2001:db8::ffff:ffff/96", 0, "2001:db8::/96", 1},
    {"2001:db8::ffff:ffff/127", 0, "2001:db8::ffff:fffe/127", 1},
    {"10.0.0.0/33", -EINVAL, NULL, 0},
    {"10.0.0.0/-1", -EINVAL, NULL, 0},
    {"10.0.0.0/", -EINVAL, NULL, 0},
    {"10.0.0.0/8x", -EINVAL, NULL, 0},
    {"10.0.0/8", -EINVAL, NULL, 0},
    {"10.0.0.256", -EINVAL, NULL, 0},
    {"2001:db8::/129", -EINVAL, NULL, 0},
    {"", -EINVAL, NULL, 0},
    {"/8", -EINVAL, NULL, 0},
    {"example.com", -EINVAL, NULL, 0},
    {" 10.0.0.1", -EINVAL, NULL, 0},
    {"10.0.0.1/ 8", -EINVAL, NULL, 0},
    {"1111:2222:3333:4444:5555:6666:7777:8888:9999/64", -EINVAL, NULL, 0},
};

struct rate_case {
	const char *in;
	int ret;
	__u64 bps;
	const char *str; /* dp_rate_str of the result */
};

static const struct rate_case rates[] = {
    {"1gbit", 0, 1000000000ULL, "1gbit"},
    {"100mbit", 0, 100000000ULL, "100mbit"},
    {"100Mbit", 0, 100000000ULL, "100mbit"},
    {"64kbit", 0, 64000ULL, "64kbit"},
    {"1.5gbit", 0, 1500000000ULL, "1500mbit"},
    {"10mbps", 0, 80000000ULL, "80mbit"},
    {"500kbps", 0, 4000000ULL, "4mbit"},
    {"1000bps", 0, 8000ULL, "8kbit"},
    {"12345", 0, 12345ULL, "12345bit"},
    {"12345bit", 0, 12345ULL, "12345bit"},
    {"1kibit", 0, 1024ULL, "1024bit"},
    {"10tbit", 0, 10000000000000ULL, "10tbit"},
    {"11tbit", -ERANGE, 0, NULL},
    {"0", -EINVAL, 0, NULL},
    {"0mbit", -EINVAL, 0, NULL},
    {"", -EINVAL, 0, NULL},
    {"fast", -EINVAL, 0, NULL},
    {"-1gbit", -EINVAL, 0, NULL},
    {"1 gbit", -EINVAL, 0, NULL},
    {"1gbits", -EINVAL, 0, NULL},
    {"1gb", -EINVAL, 0, NULL},
    {"0.1bit", -EINVAL, 0, NULL},
};

static void test_cidr(void)
{
	char err[256], buf[64];
	size_t i;

	for (i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++) {
		const struct cidr_case *c = &cidrs[i];
		struct dp_prefix p;
		int norm = -1, ret;

		err[0] = 0;
		ret = dp_prefix_parse(c->in, &p, &norm, err, sizeof(err));
		if (c->ret) {
			OK(ret == c->ret && err[0], "prefix '%s' refused (%d): %s", c->in, ret,
			   err);
			continue;
		}
		OK(ret == 0 && !strcmp(dp_prefix_str(&p, buf, sizeof(buf)), c->out) &&
		       norm == c->normalized,
		   "prefix '%s' -> %s (normalized %d), want %s (%d)", c->in, ret ? "error" : buf,
		   norm, c->out, c->normalized);
	}
}

static void test_lpm_key(void)
{
	struct og_lpm_key k;
	struct dp_prefix p, q;
	char err[128];

	dp_prefix_parse("10.20.0.0/16", &p, NULL, err, sizeof(err));
	dp_prefix_to_lpm(&p, &k);
	OK_EQ(k.prefixlen, OG_LPM_HDR_BITS + 16, "IPv4 /16 LPM prefixlen counts family+pad");
	OK_EQ(k.family, AF_INET, "LPM key family");
	OK(k.addr[0] == htonl(0x0a140000) && !k.addr[1] && !k.addr[2] && !k.addr[3] && !k.pad[0] &&
	       !k.pad[1] && !k.pad[2],
	   "IPv4 address in word 0 (network order), rest and pad zero");
	dp_lpm_to_prefix(&k, &q);
	OK(!memcmp(&p, &q, sizeof(p)), "LPM key converts back to the same prefix");

	dp_prefix_parse("2001:db8::/32", &p, NULL, err, sizeof(err));
	dp_prefix_to_lpm(&p, &k);
	OK_EQ(k.prefixlen, OG_LPM_HDR_BITS + 32, "IPv6 /32 LPM prefixlen");
	OK(k.addr[0] == htonl(0x20010db8) && !k.addr[1], "IPv6 address words in network order");
}

static void test_addr(void)
{
	struct og_addr_key k;
	char err[128], buf[64];

	OK(dp_addr_parse("192.0.2.7", &k, err, sizeof(err)) == 0 && k.family == AF_INET &&
	       k.addr[0] == htonl(0xc0000207) && !k.addr[1] && !k.pad[0],
	   "IPv4 address key");
	OK(!strcmp(dp_addr_str(k.family, k.addr, buf, sizeof(buf)), "192.0.2.7"),
	   "IPv4 address formats back (%s)", buf);
	OK(dp_addr_parse("2001:db8::7", &k, err, sizeof(err)) == 0 && k.family == AF_INET6 &&
	       k.addr[3] == htonl(7),
	   "IPv6 address key");
	OK(!strcmp(dp_addr_str(k.family, k.addr, buf, sizeof(buf)), "2001:db8::7"),
	   "IPv6 address formats back (%s)", buf);
	OK(dp_addr_parse("10.0.0.0/8", &k, err, sizeof(err)) == -EINVAL && err[0],
	   "a prefix is not an address: %s", err);
	OK(dp_addr_parse("nope", &k, err, sizeof(err)) == -EINVAL, "junk address refused");
}

static void test_rates(void)
{
	char err[256], buf[32];
	size_t i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		const struct rate_case *c = &rates[i];
		__u64 bps = 0;
		int ret;

		err[0] = 0;
		ret = dp_rate_parse(c->in, &bps, err, sizeof(err));
		if (c->ret) {
			OK(ret == c->ret && err[0], "rate '%s' refused (%d): %s", c->in, ret, err);
			continue;
		}
		OK(ret == 0 && bps == c->bps && !strcmp(dp_rate_str(bps, buf, sizeof(buf)), c->str),
		   "rate '%s' = %llu bit/s = %s (want %llu, %s)", c->in, (unsigned long long)bps,
		   buf, (unsigned long long)c->bps, c->str);
	}
}

static void test_lanes(void)
{
	static const char *const names[] = {"none", "order", "normal", "bulk"};
	char buf[16];
	__u32 cls;
	int i;

	for (i = 0; i < OG_LANE_MAX; i++) {
		OK(!strcmp(dp_lane_name(i), names[i]), "lane %d is named %s", i, names[i]);
		OK_EQ(dp_lane_parse(names[i]), i, names[i]);
	}
	OK_EQ(dp_lane_parse("ORDER"), OG_LANE_ORDER, "lane names are case-insensitive");
	OK_EQ(dp_lane_parse("3"), OG_LANE_BULK, "lane by number");
	OK(dp_lane_parse("express") == -EINVAL && dp_lane_parse("4") == -EINVAL &&
	       dp_lane_parse("") == -EINVAL && dp_lane_parse("11") == -EINVAL,
	   "unknown lanes refused");
	OK(!strcmp(dp_lane_name(OG_LANE_MAX), "?"), "out-of-range lane prints ?");
	OK(!strcmp(dp_lsrc_name(OG_LSRC_PIN), "pin") &&
	       !strcmp(dp_lsrc_name(OG_LSRC_PORT), "port") &&
	       !strcmp(dp_lsrc_name(OG_LSRC_DEFAULT), "default") &&
	       !strcmp(dp_lsrc_name(OG_LSRC_PREFIX), "prefix"),
	   "lane source names");
	OK(!strcmp(dp_proto_name(6, buf, sizeof(buf)), "tcp") &&
	       !strcmp(dp_proto_name(17, buf, sizeof(buf)), "udp") &&
	       !strcmp(dp_proto_name(132, buf, sizeof(buf)), "132"),
	   "protocol names");

	OK(!strcmp(dp_class_str(OG_CLASS_ORDER, buf, sizeof(buf)), "1:10"),
	   "OG_CLASS_ORDER is 1:10");
	OK(!strcmp(dp_class_str(OG_CLASS_BULK, buf, sizeof(buf)), "1:30"), "OG_CLASS_BULK is 1:30");
	OK(dp_class_parse("1:20", &cls) == 0 && cls == OG_CLASS_NORMAL, "1:20 parses to 0x%x", cls);
	OK(dp_class_parse("ffff:ffff", &cls) == 0 && cls == 0xffffffff, "ffff:ffff parses");
	OK(dp_class_parse("1:", &cls) == -EINVAL && dp_class_parse("10", &cls) == -EINVAL &&
	       dp_class_parse("1:2:3", &cls) == -EINVAL &&
	       dp_class_parse("10000:1", &cls) == -EINVAL,
	   "malformed class ids refused");
}

int main(void)
{
	test_cidr();
	test_lpm_key();
	test_addr();
	test_rates();
	test_lanes();
	return og_done();
}
