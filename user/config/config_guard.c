// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config route sections that act around the upstream exchange: idempotency and fault. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config_keys.h"

/* Limits of the idempotency table (lanes/idem.h repeats them for the table itself). */
#define IDEM_CFG_MAX_KEY      255
#define IDEM_CFG_MAX_RESPONSE 61440
#define IDEM_CFG_MAX_ENTRIES  1048576

/* "source" | "none" | "header:NAME" */
static int load_scope(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		      const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	struct cfg_idem *im = w->obj;
	char g[64];

	if (v->type == CFG_N_SCALAR && !strcmp(v->s, "source")) {
		im->scope = CFG_IDEM_SCOPE_SOURCE;
		return 0;
	}
	if (v->type == CFG_N_SCALAR && !strcmp(v->s, "none")) {
		im->scope = CFG_IDEM_SCOPE_NONE;
		return 0;
	}
	if (v->type == CFG_N_SCALAR && v->len > 7 && !strncmp(v->s, "header:", 7) &&
	    cfg_is_token(v->s + 7, v->len - 7) && v->len - 7 <= 64) {
		im->scope = CFG_IDEM_SCOPE_HEADER;
		im->scope_header = cfg_keep(ld, v->s + 7, v->len - 7);
		if (!im->scope_header)
			return cfg_oom(ld);
		for (char *s = im->scope_header; *s; s++)
			*s = (char)tolower((unsigned char)*s);
		return 0;
	}
	return cfg_fail(ld, v, "\"scope\" must be source, none or header:NAME, got %s",
			cfg_got(v, g, sizeof(g)));
}

/* 8192, "8k" (binary k only: a stored response is small), within [d->lo, d->hi]. */
static int load_small_size(const struct cfg_walk *w, const struct cfg_key *d,
			   const struct cfg_node *k, const struct cfg_node *v)
{
	struct cfg_ld *ld = w->ld;
	const char *key = d->name;
	uint32_t lo = d->lo, hi = d->hi, *out = cfg_field(w, d);
	char g[64], tmp[16];
	size_t n = v->len;
	uint32_t mul = 1, x;
	struct cfg_node num;

	if (v->type == CFG_N_SCALAR && n > 1 && n < sizeof(tmp) &&
	    tolower((unsigned char)v->s[n - 1]) == 'k') {
		memcpy(tmp, v->s, n - 1);
		tmp[n - 1] = 0;
		num = *v;
		num.s = tmp;
		num.len = n - 1;
		mul = 1024;
		v = &num;
	}
	if (v->type != CFG_N_SCALAR || cfg_get_u32(ld, v, key, 0, UINT32_MAX / 1024, "", &x) ||
	    (uint64_t)x * mul < lo || (uint64_t)x * mul > hi)
		return cfg_fail(
		    ld, v,
		    "\"%s\" must be a size in bytes from %u to %u (or with a k suffix), "
		    "got %s",
		    key, lo, hi, cfg_got(v, g, sizeof(g)));
	*out = x * mul;
	return 0;
}

int cfg_load_idempotency(const struct cfg_walk *w, const struct cfg_key *d,
			 const struct cfg_node *k, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_MS(struct cfg_idem, "window_ms", window_ms, 1, CFG_MS_MAX),
	    CFG_U32(struct cfg_idem, "max_entries", max_entries, 1, IDEM_CFG_MAX_ENTRIES, ""),
	    CFG_U32(struct cfg_idem, "max_key", max_key, 1, IDEM_CFG_MAX_KEY, " (bytes)"),
	    CFG_FN_U32(struct cfg_idem, "max_response", max_response, 0, IDEM_CFG_MAX_RESPONSE, "",
		       load_small_size),
	    CFG_FN("scope", load_scope),
	    CFG_KEYS_END,
	};
	struct cfg_route *rt = w->obj;
	struct cfg_idem *im = &rt->idem;
	char iwhere[96];
	int r;

	if ((r = cfg_want_part(w, v, "idempotency", iwhere, sizeof(iwhere))))
		return r;
	rt->has_idem = 1;
	im->window_ms = 60000;
	im->max_entries = 16384;
	im->max_key = 128;
	im->max_response = 8192;
	im->scope = CFG_IDEM_SCOPE_SOURCE;
	return cfg_walk_keys(&(struct cfg_walk){w->ld, im, iwhere}, v, keys);
}

int cfg_load_fault(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		   const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_MS(struct cfg_fault, "delay_ms", delay_ms, 0, 600000),
	    CFG_MS(struct cfg_fault, "delay_jitter_ms", delay_jitter_ms, 0, 600000),
	    CFG_U32(struct cfg_fault, "delay_percent", delay_percent, 0, 100, " (%)"),
	    CFG_U32(struct cfg_fault, "abort_status", abort_status, 200, 599, ""),
	    CFG_U32(struct cfg_fault, "abort_percent", abort_percent, 0, 100, " (%)"),
	    CFG_KEYS_END,
	};
	struct cfg_seen seen[CFG_MAX_KEYS] = {0};
	struct cfg_ld *ld = w->ld;
	struct cfg_route *rt = w->obj;
	struct cfg_fault *f = &rt->fault;
	char fwhere[96];
	int r;

	if ((r = cfg_want_part(w, v, "fault", fwhere, sizeof(fwhere))))
		return r;
	rt->has_fault = 1;
	f->abort_status = 503;
	f->delay_percent = 100; /* a delay given without a percentage applies to every request */
	if ((r = cfg_walk_keys(&(struct cfg_walk){ld, f, fwhere, seen}, v, keys)))
		return r;
	if (f->delay_jitter_ms > f->delay_ms)
		return cfg_fail(ld, cfg_seen_key(seen, keys, "delay_jitter_ms").v,
				"\"delay_jitter_ms\" (%u) may not exceed \"delay_ms\" (%u): the "
				"delay is drawn from delay_ms +- delay_jitter_ms",
				f->delay_jitter_ms, f->delay_ms);
	if (!f->delay_ms)
		f->delay_percent = 0;
	return 0;
}
