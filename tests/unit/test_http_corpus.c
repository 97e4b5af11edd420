// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Parser-only replay of the public HTTP/1.1 vectors (../shared/corpus/http1), no daemon needed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"
#include "../lib/og_test.h"

/*
 * What the gateway would do with these bytes, decided by the parser alone: the refusal status,
 * 200 for a complete request (the proxy's answer does not matter here), or 0 when the request
 * is incomplete (the gateway waits: a "timeout" in Http11Probe's terms). max_body mirrors the
 * daemon's default route limit (1 MiB -> 413).
 */
#define MAX_BODY (1024 * 1024)

static int verdict(const char *buf, size_t len)
{
	static struct http_msg m;
	struct http_chunked c;
	int rc;

	http_msg_init(&m);
	rc = http_parse_request_head(&m, buf, len);
	if (rc < 0)
		return -rc;
	if (rc == 0)
		return 0;
	if (m.body == HTTP_BODY_LENGTH) {
		if (m.content_length > MAX_BODY)
			return 413;
		return len - rc >= m.content_length ? 200 : 0;
	}
	if (m.body == HTTP_BODY_CHUNKED) {
		long r;

		http_chunked_init(&c);
		r = http_chunked_scan(&c, buf + rc, len - rc);
		if (r < 0)
			return 400;
		return c.done ? 200 : 0;
	}
	return 200;
}

/* ---- just enough JSON for flat JSONL records ---- */

static const char *json_key(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return p;
}

/* Decode the JSON string value of <key> into <out>; returns its length, or -1 (absent / null). */
static long json_str(const char *line, const char *key, char *out, size_t cap)
{
	const char *p = json_key(line, key);
	size_t n = 0;

	if (!p || *p != '"')
		return -1;
	for (p++; *p && *p != '"' && n + 1 < cap; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\\') {
			p++;
			switch (*p) {
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'u': {
				unsigned v = 0;

				sscanf(p + 1, "%4x", &v);
				p += 4;
				ch = v < 256 ? (unsigned char)v : '?';
				break;
			}
			default:
				ch = (unsigned char)*p;
				break;
			}
		}
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return (long)n;
}

static size_t b64_decode(const char *in, char *out)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *q = strchr(tbl, *in);

		if (!q)
			continue;
		acc = (acc << 6) | (unsigned)(q - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return n;
}

/* ---- Http11Probe ---- */

/* The recorded MAL-LONG-* requests stop at 8192 characters: rebuild them at the stated size. */
static size_t rebuild(const char *id, char *buf, size_t n, size_t cap)
{
	const char *host = "Host: localhost:8080\r\n";
	size_t k = 0;

#define PUT(s)	     (k += (size_t)snprintf(buf + k, cap - k, "%s", (s)))
#define RUN(ch, cnt) (memset(buf + k, (ch), (cnt)), k += (cnt))
	if (!strcmp(id, "MAL-LONG-URL")) {
		PUT("GET /"), RUN('A', 102400), PUT(" HTTP/1.1\r\n"), PUT(host), PUT("\r\n");
	} else if (!strcmp(id, "MAL-LONG-HEADER-VALUE")) {
		PUT("GET / HTTP/1.1\r\n"), PUT(host), PUT("X-Big: "), RUN('B', 102400),
		    PUT("\r\n\r\n");
	} else if (!strcmp(id, "MAL-MANY-HEADERS")) {
		PUT("GET / HTTP/1.1\r\n"), PUT(host);
		for (int i = 0; i < 10000; i++)
			k += (size_t)snprintf(buf + k, cap - k, "X-H-%d: value\r\n", i);
		PUT("\r\n");
	} else if (!strcmp(id, "MAL-LONG-HEADER-NAME")) {
		PUT("GET / HTTP/1.1\r\n"), PUT(host), RUN('A', 102400), PUT(": value\r\n\r\n");
	} else if (!strcmp(id, "MAL-LONG-METHOD")) {
		RUN('A', 102400), PUT(" / HTTP/1.1\r\n"), PUT(host), PUT("\r\n");
	} else if (!strcmp(id, "MAL-CHUNK-EXT-64K")) {
		PUT("POST / HTTP/1.1\r\n"), PUT(host),
		    PUT("Transfer-Encoding: chunked\r\n\r\n5;ext=");
		RUN('a', 65536), PUT("\r\nhello\r\n0\r\n\r\n");
	} else if (!strcmp(id, "MAL-NON-ASCII-URL")) { /* the record shows non-ASCII as '?' */
		PUT("GET /caf\xc3\xa9 HTTP/1.1\r\n"), PUT(host), PUT("\r\n");
	} else if (!strcmp(id, "MAL-URL-OVERLONG-UTF8")) {
		PUT("GET /\xc0\xaf HTTP/1.1\r\n"), PUT(host), PUT("\r\n");
	} else if (!strcmp(id, "MAL-NON-ASCII-HEADER-NAME")) {
		PUT("GET / HTTP/1.1\r\n"), PUT(host), PUT("X-T\xc3\xabst: value\r\n\r\n");
	} else {
		return n;
	}
	return k;
#undef PUT
#undef RUN
}

/* Does status <st> (0 = waited) satisfy Http11Probe's <expected>? Sets *reject_only. */
static int satisfies(const char *id, const char *expected, int st, int *reject_only)
{
	char e[256], *tok, *save;
	int ok = 0, any2xx = 0;

	snprintf(e, sizeof(e), "%s", expected);
	if (strstr(e, "(pass)"))
		*strstr(e, "(pass)") = '\0';
	for (tok = strtok_r(e, " /,+", &save); tok; tok = strtok_r(NULL, " /,+", &save)) {
		if (isdigit((unsigned char)tok[0]) && tok[1] == 'x') {
			any2xx = 1;
			ok |= st / 100 == tok[0] - '0';
		} else if (isdigit((unsigned char)tok[0])) {
			ok |= st == atoi(tok);
		} else if (!strcmp(tok, "timeout")) {
			ok |= st == 0;
		}
		/* "close" alone: the daemon always answers before closing, so a status is required
		 */
	}
	*reject_only = !any2xx && expected[0] != '!';
	if (!strcmp(id, "MAL-POST-CL-HUGE-NO-BODY") && st == 413)
		ok = 1; /* Http11Probe's own recorded run passes 413 + close here */
	return ok;
}

static char line[1 << 20], raw[1 << 20], big[1 << 20];

static void probes(const char *dir)
{
	char path[512], id[128], exp[256];
	int n = 0, asserted = 0, passed = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/vectors/http11probe/http11probe-vectors.jsonl", dir);
	f = fopen(path, "r");
	OK(f != NULL, "open %s", path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *sc = json_key(line, "scored");
		long len;
		int st, reject_only, good;

		if (json_str(line, "id", id, sizeof(id)) < 0 ||
		    json_str(line, "expected", exp, sizeof(exp)) < 0 || !sc)
			continue;
		n++;
		len = json_str(line, "rawRequest", raw, sizeof(raw));
		if (len < 0)
			len = 0; /* MAL-EMPTY-REQUEST: nothing sent */
		memcpy(big, raw, (size_t)len);
		len = (long)rebuild(id, big, (size_t)len, sizeof(big));
		st = verdict(big, (size_t)len);
		good = satisfies(id, exp, st, &reject_only);
		if (strncmp(sc, "true", 4) || !reject_only) {
			if (getenv("OG_VERBOSE"))
				og_diag("probe %s (expected %s): parser verdict %d", id, exp, st);
			continue;
		}
		asserted++;
		passed += good;
		OK(good, "probe %s (expected %s): parser verdict %d", id, exp, st);
	}
	fclose(f);
	og_diag("Http11Probe: %d probes; %d scored ones demand a rejection or a close; parser "
		"refuses %d",
		n, asserted, passed);
}

/* ---- llhttp: agreement with its strict verdicts (reported, not asserted) ---- */

static void llhttp(const char *dir)
{
	char path[512], type[64], title[256];
	int n = 0, agree = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/vectors/llhttp/llhttp-vectors.jsonl", dir);
	f = fopen(path, "r");
	OK(f != NULL, "open %s", path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *e;
		size_t len, hl;
		char *crlf;
		int want_ok, st, code = -1;

		if (json_str(line, "type", type, sizeof(type)) < 0 || strcmp(type, "request"))
			continue;
		e = json_key(line, "expect");
		if (!e)
			continue;
		if (*e == '{') {
			const char *c = json_key(e, "error_code");

			code = c ? atoi(c) : -1;
			if (code == 5 || code == 21 || code == 22 || code == 23)
				continue; /* pauses and data after close are not rejections */
		}
		want_ok = *e == '"';
		if (json_str(line, "raw_b64", raw, sizeof(raw)) < 0)
			continue;
		if (json_str(line, "title", title, sizeof(title)) < 0)
			title[0] = '\0';
		len = b64_decode(raw, line); /* the JSON line is no longer needed: reuse it */
		/* the vectors carry no Host: add one after the request line, as the baseline did */
		line[len] = '\0';
		crlf = memmem(line, len, "\r\n", 2);
		hl = crlf ? (size_t)(crlf + 2 - line) : len;
		memcpy(big, line, hl);
		memcpy(big + hl, line + hl, len - hl);
		/* ... unless it has its own: a second Host would make every such case a 400 */
		if (crlf && !strcasestr(line, "\r\nHost:")) {
			memcpy(big + hl, "Host: localhost\r\n", 17);
			memcpy(big + hl + 17, line + hl, len - hl);
			len += 17;
		}
		st = verdict(big, len);
		n++;
		agree += want_ok == (st == 200 || st == 0);
		if (getenv("OG_VERBOSE") && want_ok != (st == 200 || st == 0)) {
			og_diag("llhttp '%s': llhttp %s, parser %d", title,
				want_ok ? "ok" : "error", st);
		}
	}
	fclose(f);
	og_diag(
	    "llhttp: %d strict request cases, parser agrees with llhttp on %d (OG_VERBOSE=1 lists "
	    "the others: mostly methods llhttp does not know, which a gateway proxies)",
	    n, agree);
	OK(n > 100, "llhttp request cases replayed (%d)", n);
}

int main(void)
{
	const char *dir = getenv("OG_HTTP1_CORPUS");
	char def[] = "../shared/corpus/http1";
	FILE *readme;
	char p[600];

	if (!dir)
		dir = def;
	snprintf(p, sizeof(p), "%s/README.md", dir);
	readme = fopen(p, "r");
	OK(readme != NULL,
	   "HTTP/1.1 corpus at %s (../shared/corpus/http1 beside the repo, or set "
	   "OG_HTTP1_CORPUS)",
	   dir);
	if (!readme)
		return og_done();
	fclose(readme);
	probes(dir);
	llhttp(dir);
	return og_done();
}
