// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config addresses: numeric "host:port" (IPv4, [IPv6], localhost) to sockaddr, never DNS. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

static int addr_wild(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Two listening addresses that cannot both be bound (same port, same or wildcard address). */
int cfg_addr_clash(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family || addr_port(&a->ss) != addr_port(&b->ss))
		return 0;
	if (addr_wild(&a->ss) || addr_wild(&b->ss))
		return 1;
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		       &((const struct sockaddr_in6 *)&b->ss)->sin6_addr, 16);
}

/*
 * "host:port" with a numeric host: IPv4, [IPv6], "localhost" (127.0.0.1), or
 * empty (":8080", all IPv4 addresses). <connect> refuses wildcard hosts.
 */
int cfg_get_addr(struct cfg_ld *ld, const struct cfg_node *v, const char *what, int connect,
		 struct cfg_addr *a)
{
	char host[64], g[64];
	const char *s = v->s, *colon;
	size_t hl;
	unsigned long port = 0;

	memset(a, 0, sizeof(*a));
	if (v->type != CFG_N_SCALAR || cfg_is_null(v))
		return cfg_fail(ld, v, "%s must be a string \"host:port\", got %s", what,
				cfg_got(v, g, sizeof(g)));
	if (v->len >= sizeof(a->text) || memchr(s, 0, v->len))
		return cfg_fail(ld, v, "%s %s is not a valid \"host:port\"", what,
				cfg_got(v, g, sizeof(g)));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return cfg_fail(ld, v, "%s %s: missing \"]\" after the IPv6 address", what,
					cfg_got(v, g, sizeof(g)));
		if (rb[1] != ':')
			return cfg_fail(ld, v, "%s %s has no port (write \"[::1]:8080\")", what,
					cfg_got(v, g, sizeof(g)));
		hl = (size_t)(rb - s - 1);
		memcpy(host, s + 1, hl);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return cfg_fail(
			    ld, v,
			    "%s %s has no port (write \"host:port\", e.g. \"127.0.0.1:8080\")",
			    what, cfg_got(v, g, sizeof(g)));
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl))
			return cfg_fail(ld, v,
					"%s %s: IPv6 addresses need brackets, e.g. \"[::1]:8080\"",
					what, cfg_got(v, g, sizeof(g)));
		memcpy(host, s, hl);
	}
	host[hl] = 0;
	if (!colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad_port;
	port = strtoul(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		goto bad_port;
	if (s[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return cfg_fail(ld, v, "%s %s: \"%s\" is not a numeric IPv6 address", what,
					cfg_got(v, g, sizeof(g)), host);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;

		if (!hl)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (!strcmp(host, "localhost"))
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return cfg_fail(
			    ld, v,
			    "%s %s: \"%s\" is not a numeric IPv4 address or localhost (no "
			    "DNS lookups at load time)",
			    what, cfg_got(v, g, sizeof(g)), host);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		a->len = sizeof(*s4);
	}
	if (connect && addr_wild(&a->ss))
		return cfg_fail(ld, v, "%s %s is a wildcard address; name a host to connect to",
				what, cfg_got(v, g, sizeof(g)));
	memcpy(a->text, s, v->len);
	return 0;
bad_port:
	return cfg_fail(ld, v, "%s %s: the port must be an integer from 1 to 65535", what,
			cfg_got(v, g, sizeof(g)));
}
