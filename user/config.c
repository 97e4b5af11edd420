// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The config schema: walks the YAML node tree, fills struct config, names file:line:column on error. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "http_parse.h"

#define CFG_MAX_FILE (4u << 20) /* a config is a few KiB; refuse anything absurd */
#define CFG_MAX_NAME 64
#define CFG_MAX_PATH 4096
#define MS_MAX 86400000u /* one day, in ms */

struct ld {
	const char *name;
	char *err;
	size_t errlen;
	struct config *c;
	void *heap; /* the node tree; freed when the load ends */
	const struct cfg_node *route_ups[CFG_MAX_ROUTES]; /* "upstream:" values, resolved last */
	const struct cfg_node *route_node[CFG_MAX_ROUTES];
	const struct cfg_node *route_name[CFG_MAX_ROUTES];
	const struct cfg_node *admin_node;
	const struct cfg_node *listen_node[CFG_MAX_LISTEN];
};

static int fail(struct ld *ld, const struct cfg_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ld *ld, const struct cfg_node *n, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(ld->err, ld->errlen, "%s:%d:%d: ", ld->name, n ? n->line : 1,
			 n ? n->col : 1);

	if (k < 0 || (size_t)k >= ld->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ld->err + k, ld->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int oom(struct ld *ld)
{
	snprintf(ld->err, ld->errlen, "%s: out of memory", ld->name);
	return -ENOMEM;
}

static char *keep(struct ld *ld, const char *s, size_t n)
{
	return cfg_strndup(&ld->c->mem, s, n);
}

static int is_null(const struct cfg_node *n)
{
	return n->type == CFG_N_SCALAR && n->plain &&
	       (!n->len || !strcmp(n->s, "~") || !strcmp(n->s, "null"));
}

/* How a value looks in a "got ..." phrase: the scalar quoted (printable, cut at 40), or its kind. */
static const char *got(const struct cfg_node *n, char *buf, size_t len)
{
	size_t o = 0;

	if (n->type == CFG_N_SEQ)
		return "a list";
	if (n->type == CFG_N_MAP)
		return "a mapping";
	if (is_null(n))
		return "nothing (null)";
	buf[o++] = '"';
	for (size_t i = 0; i < n->len && o + 5 < len; i++) {
		unsigned char ch = (unsigned char)n->s[i];

		if (i == 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	buf[o++] = '"';
	buf[o] = 0;
	return buf;
}

static int is_plain_word(const struct cfg_node *n, const char *w)
{
	return n->type == CFG_N_SCALAR && n->plain && !strcmp(n->s, w);
}

/* Levenshtein distance, capped: only used to suggest a key for a typo. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64], prev, tmp;

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int best = prev + (tolower((unsigned char)a[i - 1]) !=
					   tolower((unsigned char)b[j - 1]));

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

struct refused {
	const char *key;
	const char *why;
};

static const struct refused refused_top[] = {
	{ "lanes", "is not supported yet (planned with lane classification); remove it" },
	{ "limits", "is not supported yet (planned with adaptive rate limits); remove it" },
	{ "xdp",
	  "is not supported yet (planned with the kernel datapath in ordergated; use "
	  "`ordergatectl attach` meanwhile); remove it" },
	{ NULL, NULL },
};

static const struct refused refused_route[] = {
	{ "lane", "is not supported yet (planned with lane classification); remove it" },
	{ "limit", "is not supported yet (planned with adaptive rate limits); remove it" },
	{ NULL, NULL },
};

/*
 * Find key node <k> in <keys> (NULL-terminated). Returns its index, or -EINVAL
 * after writing "unknown key" (with the closest known key) or the refusal text.
 */
static int key_index(struct ld *ld, const struct cfg_node *k, const char *const *keys,
		     const struct refused *ref, const char *where)
{
	const char *best = NULL;
	int bestd = 3;
	char g[64];

	if (k->type != CFG_N_SCALAR || is_null(k))
		return fail(ld, k, "keys must be names, got %s %s", got(k, g, sizeof(g)), where);
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k->s, keys[i]))
			return i;
	for (int i = 0; ref && ref[i].key; i++)
		if (!strcmp(k->s, ref[i].key))
			return fail(ld, k, "\"%s\" %s", ref[i].key, ref[i].why);
	for (int i = 0; keys[i]; i++) {
		int d = edit_distance(k->s, keys[i]);

		if (d < bestd && d < (int)strlen(keys[i])) {
			bestd = d;
			best = keys[i];
		}
	}
	if (best)
		return fail(ld, k, "unknown key %s %s (did you mean \"%s\"?)", got(k, g, sizeof(g)),
			    where, best);
	return fail(ld, k, "unknown key %s %s", got(k, g, sizeof(g)), where);
}

/* A mapping with scalar keys, each once. <what> names the value for the type error. */
static int want_map(struct ld *ld, const struct cfg_node *n, const char *what, const char *where)
{
	char g[64];

	if (n->type != CFG_N_MAP)
		return fail(ld, n, "%s must be a mapping { key: value, ... }%s%s, got %s", what,
			    *where ? " " : "", where, got(n, g, sizeof(g)));
	for (int i = 0; i < n->n; i++) {
		const struct cfg_node *ki = n->kids[2 * i];

		if (ki->type != CFG_N_SCALAR)
			continue; /* key_index reports it */
		for (int j = 0; j < i; j++) {
			const struct cfg_node *kj = n->kids[2 * j];

			if (kj->type == CFG_N_SCALAR && kj->len == ki->len &&
			    !memcmp(kj->s, ki->s, ki->len))
				return fail(ld, ki, "duplicate key %s %s (first at %d:%d)",
					    got(ki, g, sizeof(g)), where, kj->line, kj->col);
		}
	}
	return 0;
}

static int get_u32(struct ld *ld, const struct cfg_node *v, const char *key, uint32_t lo,
		   uint32_t hi, const char *unit, uint32_t *out)
{
	unsigned long long x = 0;
	char g[64];

	if (v->type != CFG_N_SCALAR || !v->len || v->len > 10)
		goto bad;
	for (size_t i = 0; i < v->len; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			goto bad;
		x = x * 10 + (unsigned)(v->s[i] - '0');
	}
	if (x < lo || x > hi)
		goto bad;
	*out = (uint32_t)x;
	return 0;
bad:
	return fail(ld, v, "\"%s\" must be an integer from %u to %u%s, got %s", key, lo, hi, unit,
		    got(v, g, sizeof(g)));
}

#define GET_MS(ld, v, key, lo, hi, out) get_u32(ld, v, key, lo, hi, " (ms)", out)

/* A string scalar without NUL bytes (so it can be used as a C string). */
static int get_str(struct ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || is_null(v))
		return fail(ld, v, "\"%s\" must be a string, got %s", key, got(v, g, sizeof(g)));
	if (memchr(v->s, 0, v->len))
		return fail(ld, v, "\"%s\" must not contain NUL bytes", key);
	*out = keep(ld, v->s, v->len);
	return *out ? 0 : oom(ld);
}

static int is_tchar(unsigned char ch)
{
	return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int is_token(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Names used as metric labels and in the dump: letters, digits and _ . : / - */
static int get_name(struct ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || !v->len || v->len > CFG_MAX_NAME)
		goto bad;
	for (size_t i = 0; i < v->len; i++)
		if (!isalnum((unsigned char)v->s[i]) && !strchr("_.:/-", v->s[i]))
			goto bad;
	*out = keep(ld, v->s, v->len);
	return *out ? 0 : oom(ld);
bad:
	return fail(ld, v,
		    "%s must be 1 to %d letters, digits or _ . : / -, got %s", key, CFG_MAX_NAME,
		    got(v, g, sizeof(g)));
}

/* A header value we may write on the wire: no CR, LF or NUL. */
static int get_field_value(struct ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR)
		return fail(ld, v, "\"%s\" must be a string, got %s", key, got(v, g, sizeof(g)));
	for (size_t i = 0; i < v->len; i++)
		if (v->s[i] == '\r' || v->s[i] == '\n' || v->s[i] == 0)
			return fail(ld, v, "\"%s\" must not contain CR, LF or NUL", key);
	*out = keep(ld, is_null(v) ? "" : v->s, is_null(v) ? 0 : v->len);
	return *out ? 0 : oom(ld);
}

static int get_header_name(struct ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || !is_token(v->s, v->len) || v->len > 256)
		return fail(ld, v, "%s must be a header name (a token like \"x-user-id\"), got %s",
			    key, got(v, g, sizeof(g)));
	*out = keep(ld, v->s, v->len);
	return *out ? 0 : oom(ld);
}

/* A request path as it appears before '?': starts with '/', no spaces or controls. */
static int get_path(struct ld *ld, const struct cfg_node *v, const char *key, int allow_star,
		    char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || is_null(v))
		return fail(ld, v, "\"%s\" must be a path starting with \"/\", got %s", key,
			    got(v, g, sizeof(g)));
	if (allow_star && v->len == 1 && v->s[0] == '*')
		goto ok;
	if (v->s[0] != '/' || v->len > CFG_MAX_PATH)
		return fail(ld, v, "\"%s\" must be a path starting with \"/\", got %s", key,
			    got(v, g, sizeof(g)));
	for (size_t i = 0; i < v->len; i++) {
		unsigned char ch = (unsigned char)v->s[i];

		if (ch <= 0x20 || ch == 0x7f)
			return fail(ld, v, "\"%s\" must not contain spaces or control characters",
				    key);
		if (ch == '?' || ch == '#')
			return fail(ld, v,
				    "\"%s\" must not contain '%c' (routes match the path only, "
				    "not the query)",
				    key, ch);
	}
ok:
	*out = keep(ld, v->s, v->len);
	return *out ? 0 : oom(ld);
}

/* ---- addresses ------------------------------------------------------------------------ */

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
static int addr_clash(const struct cfg_addr *a, const struct cfg_addr *b)
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
static int get_addr(struct ld *ld, const struct cfg_node *v, const char *what, int connect,
		    struct cfg_addr *a)
{
	char host[64], g[64];
	const char *s = v->s, *colon;
	size_t hl;
	unsigned long port = 0;

	memset(a, 0, sizeof(*a));
	if (v->type != CFG_N_SCALAR || is_null(v))
		return fail(ld, v, "%s must be a string \"host:port\", got %s", what,
			    got(v, g, sizeof(g)));
	if (v->len >= sizeof(a->text) || memchr(s, 0, v->len))
		return fail(ld, v, "%s %s is not a valid \"host:port\"", what, got(v, g, sizeof(g)));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return fail(ld, v, "%s %s: missing \"]\" after the IPv6 address", what,
				    got(v, g, sizeof(g)));
		if (rb[1] != ':')
			return fail(ld, v, "%s %s has no port (write \"[::1]:8080\")", what,
				    got(v, g, sizeof(g)));
		hl = (size_t)(rb - s - 1);
		memcpy(host, s + 1, hl);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return fail(ld, v,
				    "%s %s has no port (write \"host:port\", e.g. \"127.0.0.1:8080\")",
				    what, got(v, g, sizeof(g)));
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl))
			return fail(ld, v,
				    "%s %s: IPv6 addresses need brackets, e.g. \"[::1]:8080\"",
				    what, got(v, g, sizeof(g)));
		memcpy(host, s, hl);
	}
	host[hl] = 0;
	if (!colon[1] || strlen(colon + 1) > 5 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad_port;
	port = strtoul(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		goto bad_port;
	if (s[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return fail(ld, v, "%s %s: \"%s\" is not a numeric IPv6 address", what,
				    got(v, g, sizeof(g)), host);
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
			return fail(ld, v,
				    "%s %s: \"%s\" is not a numeric IPv4 address or localhost (no "
				    "DNS lookups at load time)",
				    what, got(v, g, sizeof(g)), host);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		a->len = sizeof(*s4);
	}
	if (connect && addr_wild(&a->ss))
		return fail(ld, v, "%s %s is a wildcard address; name a host to connect to", what,
			    got(v, g, sizeof(g)));
	memcpy(a->text, s, v->len);
	return 0;
bad_port:
	return fail(ld, v, "%s %s: the port must be an integer from 1 to 65535", what,
		    got(v, g, sizeof(g)));
}

/* ---- sections ------------------------------------------------------------------------- */

static int load_listen(struct ld *ld, const struct cfg_node *v)
{
	struct config *c = ld->c;
	const struct cfg_node *one = v;
	char g[64];
	int n = 1;

	if (v->type == CFG_N_MAP || is_null(v))
		return fail(ld, v, "\"listen\" must be a list of \"host:port\", got %s",
			    got(v, g, sizeof(g)));
	if (v->type == CFG_N_SEQ) {
		n = v->n;
		if (!n)
			return fail(ld, v, "\"listen\" must name at least one \"host:port\"");
		if (n > CFG_MAX_LISTEN)
			return fail(ld, v->kids[CFG_MAX_LISTEN], "\"listen\" takes at most %d addresses",
				    CFG_MAX_LISTEN);
	}
	for (int i = 0; i < n; i++) {
		if (v->type == CFG_N_SEQ)
			one = v->kids[i];
		if (get_addr(ld, one, "listen address", 0, &c->listen[i]))
			return -EINVAL;
		ld->listen_node[i] = one;
		for (int j = 0; j < i; j++)
			if (addr_clash(&c->listen[i], &c->listen[j]))
				return fail(ld, one, "listen address \"%s\" overlaps \"%s\" (%d:%d)",
					    c->listen[i].text, c->listen[j].text,
					    ld->listen_node[j]->line, ld->listen_node[j]->col);
	}
	c->n_listen = n;
	return 0;
}

static int load_admin(struct ld *ld, const struct cfg_node *v)
{
	static const char *const keys[] = { "listen", NULL };
	struct config *c = ld->c;
	char g[64];
	int r;

	if (is_plain_word(v, "off")) {
		c->admin_enabled = 0;
		return 0;
	}
	if (v->type != CFG_N_MAP)
		return fail(ld, v, "\"admin\" must be off or a mapping { listen: \"host:port\" }, got %s",
			    got(v, g, sizeof(g)));
	if ((r = want_map(ld, v, "\"admin\"", "in admin")))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		if (key_index(ld, k, keys, NULL, "in admin") < 0)
			return -EINVAL;
		if ((x->type == CFG_N_SCALAR && !x->len) || is_plain_word(x, "off")) {
			c->admin_enabled = 0;
			continue;
		}
		if (get_addr(ld, x, "admin listen address", 0, &c->admin))
			return -EINVAL;
		c->admin_enabled = 1;
		ld->admin_node = x;
	}
	return 0;
}

static int load_access_log(struct ld *ld, const struct cfg_node *v)
{
	static const char *const keys[] = { "path", NULL };
	struct cfg_access_log *al = &ld->c->access_log;
	char g[64], *p = NULL;
	int r;

	if (is_plain_word(v, "off")) {
		al->enabled = 0;
		return 0;
	}
	if (v->type != CFG_N_MAP)
		return fail(ld, v,
			    "\"access_log\" must be off or a mapping { path: FILE|stderr|stdout|off "
			    "}, got %s",
			    got(v, g, sizeof(g)));
	if ((r = want_map(ld, v, "\"access_log\"", "in access_log")))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		if (key_index(ld, k, keys, NULL, "in access_log") < 0)
			return -EINVAL;
		if (get_str(ld, x, "path", &p))
			return -EINVAL;
		if (!*p)
			return fail(ld, x, "\"path\" must name a file, stderr, stdout or off");
		al->enabled = strcmp(p, "off") != 0;
		al->path = al->enabled ? p : NULL;
	}
	return 0;
}

static int load_health(struct ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	static const char *const keys[] = { "path", "interval_ms", "timeout_ms", "rise", "fall",
					    NULL };
	char where[128];
	int r;

	snprintf(where, sizeof(where), "in health of upstream \"%s\"", u->name);
	if ((r = want_map(ld, v, "\"health\"", where)))
		return r;
	u->health.enabled = 1;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = get_path(ld, x, "path", 0, &u->health.path);
			break;
		case 1:
			r = GET_MS(ld, x, "interval_ms", 10, MS_MAX, &u->health.interval_ms);
			break;
		case 2:
			r = GET_MS(ld, x, "timeout_ms", 1, MS_MAX, &u->health.timeout_ms);
			break;
		case 3:
			r = get_u32(ld, x, "rise", 1, 1000, "", &u->health.rise);
			break;
		case 4:
			r = get_u32(ld, x, "fall", 1, 1000, "", &u->health.fall);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

static int load_breaker(struct ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	static const char *const keys[] = { "consecutive_failures", "open_ms", NULL };
	char where[128];
	int r;

	snprintf(where, sizeof(where), "in breaker of upstream \"%s\"", u->name);
	if ((r = want_map(ld, v, "\"breaker\"", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = get_u32(ld, x, "consecutive_failures", 0, 1000000, " (0 = off)",
				    &u->breaker.consecutive_failures);
			break;
		case 1:
			r = GET_MS(ld, x, "open_ms", 1, MS_MAX, &u->breaker.open_ms);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

static int load_outlier(struct ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	static const char *const keys[] = { "consecutive_5xx", "eject_ms", NULL };
	char where[128];
	int r;

	snprintf(where, sizeof(where), "in outlier of upstream \"%s\"", u->name);
	if ((r = want_map(ld, v, "\"outlier\"", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = get_u32(ld, x, "consecutive_5xx", 0, 1000000, " (0 = off)",
				    &u->outlier.consecutive_5xx);
			break;
		case 1:
			r = GET_MS(ld, x, "eject_ms", 1, MS_MAX, &u->outlier.eject_ms);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

/* round_robin | least_request | hash(header:NAME) | hash(NAME) | hash(source) */
static int load_balance(struct ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	const char *s = v->s, *arg;
	size_t n;
	char g[64];

	if (v->type != CFG_N_SCALAR)
		goto bad;
	if (!strcmp(s, "round_robin")) {
		u->balance = CFG_BAL_ROUND_ROBIN;
		return 0;
	}
	if (!strcmp(s, "least_request")) {
		u->balance = CFG_BAL_LEAST_REQUEST;
		return 0;
	}
	if (strncmp(s, "hash(", 5) || v->len < 7 || s[v->len - 1] != ')')
		goto bad;
	arg = s + 5;
	n = v->len - 6;
	if (n == 6 && !memcmp(arg, "source", 6)) {
		u->balance = CFG_BAL_HASH_SOURCE;
		return 0;
	}
	if (n > 7 && !memcmp(arg, "header:", 7)) {
		arg += 7;
		n -= 7;
	}
	if (!is_token(arg, n) || n > 256)
		goto bad;
	u->hash_header = keep(ld, arg, n);
	if (!u->hash_header)
		return oom(ld);
	for (char *p = u->hash_header; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	u->balance = CFG_BAL_HASH_HEADER;
	return 0;
bad:
	return fail(ld, v,
		    "\"balance\" must be round_robin, least_request, hash(header:NAME) or "
		    "hash(source), got %s",
		    got(v, g, sizeof(g)));
}

static int load_servers(struct ld *ld, const struct cfg_node *v, struct cfg_upstream *u)
{
	char g[64];

	if (v->type != CFG_N_SEQ)
		return fail(ld, v, "\"servers\" must be a list of \"host:port\", got %s",
			    got(v, g, sizeof(g)));
	if (!v->n)
		return fail(ld, v, "\"servers\" of upstream \"%s\" must name at least one server",
			    u->name);
	if (v->n > CFG_MAX_SERVERS)
		return fail(ld, v->kids[CFG_MAX_SERVERS], "an upstream takes at most %d servers",
			    CFG_MAX_SERVERS);
	for (int i = 0; i < v->n; i++) {
		if (get_addr(ld, v->kids[i], "server", 1, &u->servers[i]))
			return -EINVAL;
		for (int j = 0; j < i; j++)
			if (u->servers[i].len == u->servers[j].len &&
			    !memcmp(&u->servers[i].ss, &u->servers[j].ss, u->servers[i].len))
				return fail(ld, v->kids[i],
					    "server \"%s\" is listed twice in upstream \"%s\"",
					    u->servers[i].text, u->name);
	}
	u->n_servers = v->n;
	return 0;
}

static int load_upstream(struct ld *ld, const struct cfg_node *k, const struct cfg_node *v,
			 struct cfg_upstream *u)
{
	static const char *const keys[] = { "servers", "balance", "keepalive",
					    "connect_timeout_ms", "timeout_ms", "retries",
					    "health", "breaker", "outlier", NULL };
	char where[128];
	const struct cfg_node *servers = NULL;
	int r;

	if (get_name(ld, k, "an upstream name", &u->name))
		return -EINVAL;
	u->balance = CFG_BAL_ROUND_ROBIN;
	u->keepalive = 32;
	u->connect_timeout_ms = 1000;
	u->timeout_ms = 30000;
	u->retries = 1;
	u->health.interval_ms = 1000;
	u->health.timeout_ms = 500;
	u->health.rise = 2;
	u->health.fall = 3;
	u->breaker.consecutive_failures = 5;
	u->breaker.open_ms = 30000;
	u->outlier.consecutive_5xx = 5;
	u->outlier.eject_ms = 10000;
	snprintf(where, sizeof(where), "in upstream \"%s\"", u->name);
	if ((r = want_map(ld, v, "an upstream", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *kk = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (key_index(ld, kk, keys, NULL, where)) {
		case 0:
			servers = x;
			r = load_servers(ld, x, u);
			break;
		case 1:
			r = load_balance(ld, x, u);
			break;
		case 2:
			r = get_u32(ld, x, "keepalive", 0, 100000, " (idle connections)",
				    &u->keepalive);
			break;
		case 3:
			r = GET_MS(ld, x, "connect_timeout_ms", 1, MS_MAX, &u->connect_timeout_ms);
			break;
		case 4:
			r = GET_MS(ld, x, "timeout_ms", 1, MS_MAX, &u->timeout_ms);
			break;
		case 5:
			r = get_u32(ld, x, "retries", 0, 10, "", &u->retries);
			break;
		case 6:
			r = load_health(ld, x, u);
			break;
		case 7:
			r = load_breaker(ld, x, u);
			break;
		case 8:
			r = load_outlier(ld, x, u);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (!servers)
		return fail(ld, v, "upstream \"%s\" has no \"servers\"", u->name);
	if (u->health.enabled && !u->health.path && !(u->health.path = keep(ld, "/healthz", 8)))
		return oom(ld);
	return 0;
}

static int load_upstreams(struct ld *ld, const struct cfg_node *v)
{
	struct config *c = ld->c;
	char g[64];
	int r;

	if (v->type != CFG_N_MAP)
		return fail(ld, v,
			    "\"upstreams\" must be a mapping of name: { servers: [...] }, got %s",
			    got(v, g, sizeof(g)));
	if ((r = want_map(ld, v, "\"upstreams\"", "in upstreams")))
		return r;
	if (v->n > CFG_MAX_UPSTREAMS)
		return fail(ld, v->kids[2 * CFG_MAX_UPSTREAMS], "at most %d upstreams",
			    CFG_MAX_UPSTREAMS);
	for (int i = 0; i < v->n; i++) {
		if ((r = load_upstream(ld, v->kids[2 * i], v->kids[2 * i + 1], &c->upstreams[i])))
			return r;
		c->n_upstreams = i + 1;
	}
	return 0;
}

static const struct {
	const char *name;
	int id;
} methods[] = {
	{ "GET", HTTP_M_GET },	       { "HEAD", HTTP_M_HEAD },	    { "POST", HTTP_M_POST },
	{ "PUT", HTTP_M_PUT },	       { "DELETE", HTTP_M_DELETE }, { "PATCH", HTTP_M_PATCH },
	{ "OPTIONS", HTTP_M_OPTIONS }, { "TRACE", HTTP_M_TRACE },   { "CONNECT", HTTP_M_CONNECT },
};

static int load_method(struct ld *ld, const struct cfg_node *v, struct cfg_route *rt)
{
	char g[64], up[HTTP_MAX_METHOD + 1];
	int id = HTTP_M_OTHER, i = rt->n_methods;

	if (v->type != CFG_N_SCALAR || !is_token(v->s, v->len) || v->len > HTTP_MAX_METHOD)
		return fail(ld, v, "\"method\" must be a method name like GET, got %s",
			    got(v, g, sizeof(g)));
	for (size_t j = 0; j <= v->len; j++)
		up[j] = (char)toupper((unsigned char)v->s[j]);
	for (size_t j = 0; j < sizeof(methods) / sizeof(methods[0]); j++) {
		if (!strcmp(v->s, methods[j].name))
			id = methods[j].id;
		else if (!strcmp(up, methods[j].name))
			return fail(ld, v,
				    "method %s never matches: methods are case-sensitive (did you "
				    "mean \"%s\"?)",
				    got(v, g, sizeof(g)), methods[j].name);
	}
	if (i >= CFG_MAX_METHODS)
		return fail(ld, v, "a route lists at most %d methods", CFG_MAX_METHODS);
	for (int j = 0; j < i; j++)
		if (!strcmp(rt->method_names[j], v->s))
			return fail(ld, v, "method %s is listed twice", got(v, g, sizeof(g)));
	rt->methods[i] = id;
	rt->method_names[i] = keep(ld, v->s, v->len);
	if (!rt->method_names[i])
		return oom(ld);
	rt->method_name_lens[i] = (uint32_t)v->len;
	rt->n_methods = i + 1;
	return 0;
}

static int load_match_header(struct ld *ld, const struct cfg_node *v, struct cfg_route *rt,
			     const char *where)
{
	static const char *const keys[] = { "name", "value", NULL };
	int r, have = 0;

	if ((r = want_map(ld, v, "\"header\"", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (key_index(ld, k, keys, NULL, where)) {
		case 0:
			r = get_header_name(ld, x, "header \"name\"", &rt->header_name);
			have |= 1;
			break;
		case 1:
			r = get_field_value(ld, x, "value", &rt->header_value);
			have |= 2;
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (have != 3)
		return fail(ld, v, "\"header\" needs both name and value, e.g. { name: x-lane, "
				   "value: order }");
	rt->header_value_len = (uint32_t)strlen(rt->header_value);
	return 0;
}

static int load_match(struct ld *ld, const struct cfg_node *v, struct cfg_route *rt,
		      const char *where)
{
	static const char *const keys[] = { "path", "path_prefix", "method", "header", NULL };
	char mwhere[96];
	const struct cfg_node *pathn = NULL;
	int r;

	snprintf(mwhere, sizeof(mwhere), "in match of %s", where + 3);
	if ((r = want_map(ld, v, "\"match\"", where)))
		return r;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (key_index(ld, k, keys, NULL, mwhere)) {
		case 0:
		case 1:
			if (pathn)
				return fail(ld, k,
					    "use either \"path\" or \"path_prefix\" in one match, "
					    "not both");
			pathn = k;
			if (!strcmp(k->s, "path")) {
				r = get_path(ld, x, "path", 1, &rt->path);
				rt->path_len = r ? 0 : (uint32_t)strlen(rt->path);
			} else {
				r = get_path(ld, x, "path_prefix", 0, &rt->path_prefix);
				rt->path_prefix_len = r ? 0 : (uint32_t)strlen(rt->path_prefix);
			}
			break;
		case 2:
			r = 0;
			if (x->type == CFG_N_SEQ) {
				if (!x->n)
					return fail(ld, x, "\"method\" lists no method");
				for (int j = 0; j < x->n && !r; j++)
					r = load_method(ld, x->kids[j], rt);
			} else {
				r = load_method(ld, x, rt);
			}
			break;
		case 3:
			r = load_match_header(ld, x, rt, mwhere);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	return 0;
}

/* Fields ordergated writes itself in a direct response. */
static const char *const own_headers[] = { "content-length", "transfer-encoding", "connection",
					   "keep-alive", "upgrade", "te", "trailer", "date",
					   "server", NULL };

static int load_respond(struct ld *ld, const struct cfg_node *v, struct cfg_route *rt,
			const char *where)
{
	static const char *const keys[] = { "status", "body", "headers", NULL };
	char rwhere[96];
	const struct cfg_node *bodyn = NULL;
	uint32_t st = 0;
	int r;

	snprintf(rwhere, sizeof(rwhere), "in respond of %s", where + 3);
	if ((r = want_map(ld, v, "\"respond\"", where)))
		return r;
	rt->status = 200;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];

		switch (key_index(ld, k, keys, NULL, rwhere)) {
		case 0:
			r = get_u32(ld, x, "status", 200, 599, "", &st);
			rt->status = (uint16_t)st;
			break;
		case 1: {
			char g[64];

			if (x->type != CFG_N_SCALAR)
				return fail(ld, x, "\"body\" must be a string, got %s",
					    got(x, g, sizeof(g)));
			bodyn = x;
			rt->body_len = is_null(x) ? 0 : x->len;
			rt->body = keep(ld, x->s, rt->body_len);
			r = rt->body ? 0 : oom(ld);
			break;
		}
		case 2:
			if ((r = want_map(ld, x, "\"headers\"", rwhere)))
				return r;
			if (x->n > CFG_MAX_RESP_HEADERS)
				return fail(ld, x->kids[2 * CFG_MAX_RESP_HEADERS],
					    "at most %d response headers", CFG_MAX_RESP_HEADERS);
			for (int j = 0; j < x->n && !r; j++) {
				struct cfg_header *h = &rt->resp_headers[j];
				const struct cfg_node *hk = x->kids[2 * j];

				r = get_header_name(ld, hk, "a response header name", &h->name);
				for (int o = 0; !r && own_headers[o]; o++)
					if (!strcasecmp(h->name, own_headers[o]))
						r = fail(ld, hk,
							 "response header \"%s\" is set by ordergated; "
							 "remove it",
							 h->name);
				if (!r)
					r = get_field_value(ld, x->kids[2 * j + 1], h->name,
							    &h->value);
				rt->n_resp_headers = j + 1;
			}
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if ((rt->status == 204 || rt->status == 304) && rt->body_len)
		return fail(ld, bodyn, "a %u response has no body; remove \"body\"", rt->status);
	if (!rt->body && !(rt->body = keep(ld, "", 0)))
		return oom(ld);
	return 0;
}

/* 1048576, "512k", "10m", "1g" (binary units). */
static int load_max_body(struct ld *ld, const struct cfg_node *v, uint64_t *out)
{
	unsigned long long x = 0, mul = 1;
	size_t n = v->len;
	char g[64];

	if (v->type != CFG_N_SCALAR || !n || n > 14)
		goto bad;
	switch (tolower((unsigned char)v->s[n - 1])) {
	case 'k':
		mul = 1ull << 10;
		n--;
		break;
	case 'm':
		mul = 1ull << 20;
		n--;
		break;
	case 'g':
		mul = 1ull << 30;
		n--;
		break;
	}
	if (!n)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (v->s[i] < '0' || v->s[i] > '9')
			goto bad;
		x = x * 10 + (unsigned)(v->s[i] - '0');
	}
	if (x > (64ull << 30) / mul)
		goto bad;
	*out = x * mul;
	return 0;
bad:
	return fail(ld, v,
		    "\"max_body\" must be a size in bytes (1048576) or with a k, m or g suffix "
		    "(\"10m\"), at most 64g, got %s",
		    got(v, g, sizeof(g)));
}

static int load_route(struct ld *ld, int idx, const struct cfg_node *v, struct cfg_route *rt)
{
	static const char *const keys[] = { "name", "match", "respond", "upstream", "max_body",
					    NULL };
	const struct cfg_node *action = NULL, *match = NULL;
	char where[48];
	int r;

	snprintf(where, sizeof(where), "in route %d", idx + 1);
	rt->max_body = 1u << 20;
	rt->upstream = -1;
	if ((r = want_map(ld, v, "a route", where)))
		return r;
	ld->route_node[idx] = v;
	for (int i = 0; i < v->n; i++) {
		const struct cfg_node *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
		int ki = key_index(ld, k, keys, refused_route, where);

		if ((ki == 2 || ki == 3) && action)
			return fail(ld, k,
				    "a route has exactly one action: \"respond\" or \"upstream\", "
				    "not both");
		switch (ki) {
		case 0:
			r = get_name(ld, x, "a route name", &rt->name);
			ld->route_name[idx] = x;
			break;
		case 1:
			match = k;
			r = load_match(ld, x, rt, where);
			break;
		case 2:
			action = k;
			rt->is_respond = 1;
			r = load_respond(ld, x, rt, where);
			break;
		case 3: {
			char g[64];

			action = k;
			if (x->type != CFG_N_SCALAR || is_null(x))
				return fail(ld, x,
					    "\"upstream\" must name an upstream, got %s",
					    got(x, g, sizeof(g)));
			ld->route_ups[idx] = x;
			break;
		}
		case 4:
			r = load_max_body(ld, x, &rt->max_body);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (!match)
		return fail(ld, v,
			    "route %d has no \"match\" (write match: {} to match every request)",
			    idx + 1);
	if (!action)
		return fail(ld, v, "route %d has no action: add \"respond\" or \"upstream\"",
			    idx + 1);
	return 0;
}

static int load_routes(struct ld *ld, const struct cfg_node *v)
{
	struct config *c = ld->c;
	char g[64];
	int r;

	if (v->type != CFG_N_SEQ)
		return fail(ld, v, "\"routes\" must be a list of routes, got %s",
			    got(v, g, sizeof(g)));
	if (v->n > CFG_MAX_ROUTES)
		return fail(ld, v->kids[CFG_MAX_ROUTES], "at most %d routes", CFG_MAX_ROUTES);
	for (int i = 0; i < v->n; i++) {
		c->n_routes = i + 1;
		if ((r = load_route(ld, i, v->kids[i], &c->routes[i])))
			return r;
	}
	return 0;
}

/* After the walk: route names (given or route<N>) unique, upstream names resolved. */
static int finish_routes(struct ld *ld)
{
	struct config *c = ld->c;
	char gen[32];

	for (int i = 0; i < c->n_routes; i++) {
		struct cfg_route *rt = &c->routes[i];

		if (!rt->name) {
			snprintf(gen, sizeof(gen), "route%d", i + 1);
			if (!(rt->name = keep(ld, gen, strlen(gen))))
				return oom(ld);
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(c->routes[j].name, rt->name))
				return fail(ld, ld->route_name[i] ? ld->route_name[i] : ld->route_node[i],
					    "route name \"%s\" is already used by route %d",
					    rt->name, j + 1);
		if (rt->is_respond)
			continue;
		for (int u = 0; u < c->n_upstreams; u++)
			if (!strcmp(c->upstreams[u].name, ld->route_ups[i]->s))
				rt->upstream = u;
		if (rt->upstream < 0) {
			char g[64];

			return fail(ld, ld->route_ups[i], "route %d names upstream %s, which is not defined%s",
				    i + 1, got(ld->route_ups[i], g, sizeof(g)),
				    c->n_upstreams ? " under \"upstreams\"" : " (there is no \"upstreams\" section)");
		}
	}
	return 0;
}

static uint32_t online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (uint32_t)n;
}

static int set_defaults(struct ld *ld)
{
	struct config *c = ld->c;
	struct cfg_node n = { .type = CFG_N_SCALAR, .s = (char *)"0.0.0.0:8080", .len = 12 };

	c->workers = online_cpus();
	c->admin_enabled = 1;
	c->shutdown_grace_ms = 5000;
	c->header_timeout_ms = 10000;
	c->body_timeout_ms = 30000;
	c->keepalive_timeout_ms = 60000;
	c->write_timeout_ms = 30000;
	c->max_connections = 65536;
	if (get_addr(ld, &n, "listen", 0, &c->listen[0]))
		return -EINVAL;
	c->n_listen = 1;
	n.s = (char *)"127.0.0.1:9901";
	n.len = 14;
	return get_addr(ld, &n, "admin", 0, &c->admin);
}

static int load_top(struct ld *ld, const struct cfg_node *root)
{
	static const char *const keys[] = {
		"workers",	     "listen",		 "admin",	       "upstreams",
		"routes",	     "access_log",	 "shutdown_grace_ms", "header_timeout_ms",
		"body_timeout_ms", "keepalive_timeout_ms", "write_timeout_ms", "max_connections",
		NULL,
	};
	struct config *c = ld->c;
	char g[64];
	int r;

	if (root->type != CFG_N_MAP)
		return fail(ld, root,
			    "the config must be a mapping of keys (workers, listen, routes, ...), "
			    "got %s",
			    got(root, g, sizeof(g)));
	if ((r = want_map(ld, root, "the config", "at top level")))
		return r;
	for (int i = 0; i < root->n; i++) {
		const struct cfg_node *k = root->kids[2 * i], *x = root->kids[2 * i + 1];

		switch (key_index(ld, k, keys, refused_top, "at top level")) {
		case 0:
			r = get_u32(ld, x, "workers", 1, 256, "", &c->workers);
			break;
		case 1:
			r = load_listen(ld, x);
			break;
		case 2:
			r = load_admin(ld, x);
			break;
		case 3:
			r = load_upstreams(ld, x);
			break;
		case 4:
			r = load_routes(ld, x);
			break;
		case 5:
			r = load_access_log(ld, x);
			break;
		case 6:
			r = GET_MS(ld, x, "shutdown_grace_ms", 0, MS_MAX, &c->shutdown_grace_ms);
			break;
		case 7:
			r = GET_MS(ld, x, "header_timeout_ms", 1, MS_MAX, &c->header_timeout_ms);
			break;
		case 8:
			r = GET_MS(ld, x, "body_timeout_ms", 1, MS_MAX, &c->body_timeout_ms);
			break;
		case 9:
			r = GET_MS(ld, x, "keepalive_timeout_ms", 0, MS_MAX,
				   &c->keepalive_timeout_ms);
			break;
		case 10:
			r = GET_MS(ld, x, "write_timeout_ms", 1, MS_MAX, &c->write_timeout_ms);
			break;
		case 11:
			r = get_u32(ld, x, "max_connections", 1, 10000000, " (per worker)",
				    &c->max_connections);
			break;
		default:
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if ((r = finish_routes(ld)))
		return r;
	for (int i = 0; c->admin_enabled && i < c->n_listen; i++)
		if (addr_clash(&c->admin, &c->listen[i]))
			return fail(ld, ld->admin_node ? ld->admin_node : ld->listen_node[i],
				    "admin address \"%s\" overlaps listen address \"%s\"%s",
				    c->admin.text, c->listen[i].text,
				    ld->admin_node ? "" : " (admin listens there by default)");
	return 0;
}

struct config *config_load_string(const char *yaml, size_t len, const char *name, char *err,
				  size_t errlen)
{
	struct ld *ld = calloc(1, sizeof(*ld));
	struct config *c = calloc(1, sizeof(*c));
	struct cfg_node *root;
	int r = -ENOMEM;

	if (!name)
		name = "<string>";
	if (!ld || !c) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	ld->name = name;
	ld->err = err;
	ld->errlen = errlen;
	ld->c = c;
	if (!(c->source = keep(ld, name, strlen(name)))) {
		r = oom(ld);
		goto out;
	}
	if ((r = set_defaults(ld)))
		goto out;
	root = cfg_yaml_parse(yaml, len, name, &ld->heap, err, errlen);
	r = root ? load_top(ld, root) : -EINVAL;
out:
	if (ld)
		cfg_free_chain(&ld->heap);
	free(ld);
	if (r) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load_file(const char *path, char *err, size_t errlen)
{
	struct config *c;
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > CFG_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 CFG_MAX_FILE);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	c = config_load_string(buf, got, path, err, errlen);
	free(buf);
	return c;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	cfg_free_chain(&c->mem);
	free(c);
}
