// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pure text <-> value helpers: prefixes, addresses, lanes, tc rates and class ids. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dp/dp.h"

static const char *const lane_names[OG_LANE_MAX] = {"none", "order", "normal", "bulk"};

/* Parse an address of either family; returns the family or -EINVAL. */
static int addr_parse(const char *s, __be32 addr[4])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return AF_INET6;
	return -EINVAL;
}

int dp_prefix_parse(const char *s, struct dp_prefix *p, int *normalized, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	long len;
	int fam, bits, i;

	if (normalized)
		*normalized = 0;
	memset(p, 0, sizeof(*p));
	slash = strchr(s, '/');
	if (strlen(s) >= sizeof(buf) || (slash && (size_t)(slash - s) >= INET6_ADDRSTRLEN))
		goto bad;
	if (slash) {
		memcpy(buf, s, slash - s);
		buf[slash - s] = 0;
	} else {
		strcpy(buf, s);
	}
	fam = addr_parse(buf, p->addr);
	if (fam < 0)
		goto bad;
	bits = fam == AF_INET ? 32 : 128;
	if (slash) {
		char *end;

		if (!isdigit((unsigned char)slash[1]))
			goto bad;
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (*end || errno || len < 0 || len > bits) {
			snprintf(err, errlen, "%s: prefix length must be 0..%d", s, bits);
			return -EINVAL;
		}
	} else {
		len = bits;
	}
	p->family = fam;
	p->len = len;
	/* Clear host bits so the LPM key is canonical and `rules` prints what matches. */
	for (i = 0; i < 4; i++) {
		int lo = i * 32, keep = len - lo;
		__u32 w = ntohl(p->addr[i]), mask;

		mask = keep >= 32 ? 0xffffffffu : keep <= 0 ? 0 : ~(0xffffffffu >> keep);
		if ((w & mask) != w) {
			if (normalized)
				*normalized = 1;
			p->addr[i] = htonl(w & mask);
		}
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "%s: not an IPv4 or IPv6 address or prefix (e.g. 10.0.0.0/8, 2001:db8::/32)", s);
	return -EINVAL;
}

const char *dp_addr_str(__u8 family, const __be32 addr[4], char *buf, size_t len)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *dp_prefix_str(const struct dp_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", dp_addr_str(p->family, p->addr, a, sizeof(a)), p->len);
	return buf;
}

int dp_addr_parse(const char *s, struct og_addr_key *k, char *err, size_t errlen)
{
	int fam;

	memset(k, 0, sizeof(*k));
	fam = addr_parse(s, k->addr);
	if (fam < 0) {
		snprintf(err, errlen, "%s: not an IPv4 or IPv6 address", s);
		return -EINVAL;
	}
	k->family = fam;
	return 0;
}

void dp_prefix_to_lpm(const struct dp_prefix *p, struct og_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = OG_LPM_HDR_BITS + p->len;
	k->family = p->family;
	memcpy(k->addr, p->addr, sizeof(k->addr));
}

void dp_lpm_to_prefix(const struct og_lpm_key *k, struct dp_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = k->family;
	p->len = k->prefixlen >= OG_LPM_HDR_BITS ? k->prefixlen - OG_LPM_HDR_BITS : 0;
	memcpy(p->addr, k->addr, sizeof(p->addr));
}

const char *dp_lane_name(unsigned int lane)
{
	return lane < OG_LANE_MAX ? lane_names[lane] : "?";
}

int dp_lane_parse(const char *name)
{
	int i;

	for (i = 0; i < OG_LANE_MAX; i++)
		if (!strcasecmp(name, lane_names[i]))
			return i;
	if (name[0] >= '0' && name[0] < '0' + OG_LANE_MAX && !name[1])
		return name[0] - '0';
	return -EINVAL;
}

const char *dp_lsrc_name(unsigned int lsrc)
{
	static const char *const n[] = {"none", "pin", "prefix", "port", "default"};

	return lsrc < sizeof(n) / sizeof(n[0]) ? n[lsrc] : "?";
}

const char *dp_proto_name(unsigned int proto, char *buf, size_t len)
{
	if (proto == 6)
		return "tcp";
	if (proto == 17)
		return "udp";
	if (proto == 0)
		return "frag";
	snprintf(buf, len, "%u", proto);
	return buf;
}

int dp_rate_parse(const char *s, __u64 *bps, char *err, size_t errlen)
{
	static const struct {
		const char *sfx;
		double mul;
	} units[] = {
	    {"", 1},
	    {"bit", 1},
	    {"kbit", 1e3},
	    {"mbit", 1e6},
	    {"gbit", 1e9},
	    {"tbit", 1e12},
	    {"bps", 8},
	    {"kbps", 8e3},
	    {"mbps", 8e6},
	    {"gbps", 8e9},
	    {"tbps", 8e12},
	    {"kibit", 1024.},
	    {"mibit", 1048576.},
	    {"gibit", 1073741824.},
	};
	char *end;
	double v;
	size_t i;

	if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcasecmp(end, units[i].sfx)) {
			v *= units[i].mul;
			if (v > 10e12) {
				snprintf(err, errlen, "%s: rate above 10tbit", s);
				return -ERANGE;
			}
			if (v < 1)
				break;
			*bps = (__u64)(v + 0.5);
			return 0;
		}
	}
bad:
	snprintf(err, errlen, "%s: not a rate (e.g. 1gbit, 100mbit, 512kbit, 10mbps)", s);
	return -EINVAL;
}

const char *dp_rate_str(__u64 bps, char *buf, size_t len)
{
	static const struct {
		const char *sfx;
		__u64 div;
	} u[] = {{"tbit", 1000000000000ULL},
		 {"gbit", 1000000000ULL},
		 {"mbit", 1000000ULL},
		 {"kbit", 1000ULL}};
	size_t i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (bps >= u[i].div && bps % u[i].div == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(bps / u[i].div),
				 u[i].sfx);
			return buf;
		}
	}
	snprintf(buf, len, "%llubit", (unsigned long long)bps);
	return buf;
}

const char *dp_class_str(__u32 classid, char *buf, size_t len)
{
	snprintf(buf, len, "%x:%x", classid >> 16, classid & 0xffff);
	return buf;
}

int dp_class_parse(const char *s, __u32 *classid)
{
	unsigned long maj, min;
	char *end;

	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	maj = strtoul(s, &end, 16);
	if (*end != ':' || maj > 0xffff || !isxdigit((unsigned char)end[1]))
		return -EINVAL;
	min = strtoul(end + 1, &end, 16);
	if (*end || min > 0xffff)
		return -EINVAL;
	*classid = (__u32)(maj << 16 | min);
	return 0;
}
