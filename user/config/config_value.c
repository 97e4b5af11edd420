// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config scalars and mappings: typed getters, key lookup with suggestions, the error line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

int cfg_fail(struct cfg_ld *ld, const struct cfg_node *n, const char *fmt, ...)
{
	va_list ap;
	int k =
	    snprintf(ld->err, ld->errlen, "%s:%d:%d: ", ld->name, n ? n->line : 1, n ? n->col : 1);

	if (k < 0 || (size_t)k >= ld->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ld->err + k, ld->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int cfg_oom(struct cfg_ld *ld)
{
	snprintf(ld->err, ld->errlen, "%s: out of memory", ld->name);
	return -ENOMEM;
}

char *cfg_keep(struct cfg_ld *ld, const char *s, size_t n)
{
	return cfg_strndup(&ld->c->mem, s, n);
}

int cfg_is_null(const struct cfg_node *n)
{
	return n->type == CFG_N_SCALAR && n->plain &&
	       (!n->len || !strcmp(n->s, "~") || !strcmp(n->s, "null"));
}

/* How a value looks in a "got ..." phrase: the scalar quoted (printable, cut at 40), or its kind.
 */
const char *cfg_got(const struct cfg_node *n, char *buf, size_t len)
{
	size_t o = 0;

	if (n->type == CFG_N_SEQ)
		return "a list";
	if (n->type == CFG_N_MAP)
		return "a mapping";
	if (cfg_is_null(n))
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

int cfg_is_plain_word(const struct cfg_node *n, const char *w)
{
	return n->type == CFG_N_SCALAR && n->plain && n->len == strlen(w) && !strcmp(n->s, w);
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

/*
 * Find key node <k> in <keys> (NULL-terminated). Returns its index, or -EINVAL
 * after writing "unknown key" (with the closest known key) or the refusal text.
 */
int cfg_key_index(struct cfg_ld *ld, const struct cfg_node *k, const char *const *keys,
		  const struct cfg_refused *ref, const char *where)
{
	const char *best = NULL;
	int bestd = 3;
	char g[64];

	if (k->type != CFG_N_SCALAR || cfg_is_null(k) || strlen(k->s) != k->len)
		return cfg_fail(ld, k, "keys must be names, got %s %s", cfg_got(k, g, sizeof(g)),
				where);
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k->s, keys[i]))
			return i;
	for (int i = 0; ref && ref[i].key; i++)
		if (!strcmp(k->s, ref[i].key))
			return cfg_fail(ld, k, "\"%s\" %s", ref[i].key, ref[i].why);
	for (int i = 0; keys[i]; i++) {
		int d = edit_distance(k->s, keys[i]);

		if (d < bestd && d < (int)strlen(keys[i])) {
			bestd = d;
			best = keys[i];
		}
	}
	if (best)
		return cfg_fail(ld, k, "unknown key %s %s (did you mean \"%s\"?)",
				cfg_got(k, g, sizeof(g)), where, best);
	return cfg_fail(ld, k, "unknown key %s %s", cfg_got(k, g, sizeof(g)), where);
}

/* A mapping with scalar keys, each once. <what> names the value for the type error. */
int cfg_want_map(struct cfg_ld *ld, const struct cfg_node *n, const char *what, const char *where)
{
	char g[64];

	if (n->type != CFG_N_MAP)
		return cfg_fail(ld, n, "%s must be a mapping { key: value, ... }%s%s, got %s", what,
				*where ? " " : "", where, cfg_got(n, g, sizeof(g)));
	for (int i = 0; i < n->n; i++) {
		const struct cfg_node *ki = n->kids[2 * i];

		if (ki->type != CFG_N_SCALAR)
			continue; /* cfg_key_index reports it */
		for (int j = 0; j < i; j++) {
			const struct cfg_node *kj = n->kids[2 * j];

			if (kj->type == CFG_N_SCALAR && kj->len == ki->len &&
			    !memcmp(kj->s, ki->s, ki->len))
				return cfg_fail(ld, ki, "duplicate key %s %s (first at %d:%d)",
						cfg_got(ki, g, sizeof(g)), where, kj->line,
						kj->col);
		}
	}
	return 0;
}

int cfg_get_u32(struct cfg_ld *ld, const struct cfg_node *v, const char *key, uint32_t lo,
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
	return cfg_fail(ld, v, "\"%s\" must be an integer from %u to %u%s, got %s", key, lo, hi,
			unit, cfg_got(v, g, sizeof(g)));
}

/* A string scalar without NUL bytes (so it can be used as a C string). */
int cfg_get_str(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || cfg_is_null(v))
		return cfg_fail(ld, v, "\"%s\" must be a string, got %s", key,
				cfg_got(v, g, sizeof(g)));
	if (memchr(v->s, 0, v->len))
		return cfg_fail(ld, v, "\"%s\" must not contain NUL bytes", key);
	*out = cfg_keep(ld, v->s, v->len);
	return *out ? 0 : cfg_oom(ld);
}

static int is_tchar(unsigned char ch)
{
	return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

int cfg_is_token(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Names used as metric labels and in the dump: letters, digits and _ . : / - */
int cfg_get_name(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || !v->len || v->len > CFG_MAX_NAME)
		goto bad;
	for (size_t i = 0; i < v->len; i++)
		if (!isalnum((unsigned char)v->s[i]) && !strchr("_.:/-", v->s[i]))
			goto bad;
	*out = cfg_keep(ld, v->s, v->len);
	return *out ? 0 : cfg_oom(ld);
bad:
	return cfg_fail(ld, v, "%s must be 1 to %d letters, digits or _ . : / -, got %s", key,
			CFG_MAX_NAME, cfg_got(v, g, sizeof(g)));
}

/* A header value we may write on the wire: no CR, LF or NUL. */
int cfg_get_field_value(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR)
		return cfg_fail(ld, v, "\"%s\" must be a string, got %s", key,
				cfg_got(v, g, sizeof(g)));
	for (size_t i = 0; i < v->len; i++)
		if (v->s[i] == '\r' || v->s[i] == '\n' || v->s[i] == 0)
			return cfg_fail(ld, v, "\"%s\" must not contain CR, LF or NUL", key);
	*out = cfg_keep(ld, cfg_is_null(v) ? "" : v->s, cfg_is_null(v) ? 0 : v->len);
	return *out ? 0 : cfg_oom(ld);
}

int cfg_get_header_name(struct cfg_ld *ld, const struct cfg_node *v, const char *key, char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || !cfg_is_token(v->s, v->len) || v->len > 256)
		return cfg_fail(ld, v,
				"%s must be a header name (a token like \"x-user-id\"), got %s",
				key, cfg_got(v, g, sizeof(g)));
	*out = cfg_keep(ld, v->s, v->len);
	return *out ? 0 : cfg_oom(ld);
}

/* A request path as it appears before '?': starts with '/', no spaces or controls. */
int cfg_get_path(struct cfg_ld *ld, const struct cfg_node *v, const char *key, int allow_star,
		 char **out)
{
	char g[64];

	if (v->type != CFG_N_SCALAR || cfg_is_null(v))
		return cfg_fail(ld, v, "\"%s\" must be a path starting with \"/\", got %s", key,
				cfg_got(v, g, sizeof(g)));
	if (allow_star && v->len == 1 && v->s[0] == '*')
		goto ok;
	if (v->s[0] != '/' || v->len > CFG_MAX_PATH)
		return cfg_fail(ld, v, "\"%s\" must be a path starting with \"/\", got %s", key,
				cfg_got(v, g, sizeof(g)));
	for (size_t i = 0; i < v->len; i++) {
		unsigned char ch = (unsigned char)v->s[i];

		if (ch <= 0x20 || ch == 0x7f)
			return cfg_fail(
			    ld, v, "\"%s\" must not contain spaces or control characters", key);
		if (ch == '?' || ch == '#')
			return cfg_fail(ld, v,
					"\"%s\" must not contain '%c' (routes match the path only, "
					"not the query)",
					key, ch);
	}
ok:
	*out = cfg_keep(ld, v->s, v->len);
	return *out ? 0 : cfg_oom(ld);
}
