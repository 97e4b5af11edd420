// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Request path normalisation in place: decode unreserved %XX, drop dot segments, merge slashes. */
#include <string.h>

#include "http/normalize.h"
#include "http/http_parse.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Pass 1: percent-decoding of unreserved characters. Returns the new length or -1. */
static int decode(char *p, size_t len)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t r = 0, w = 0;

	while (r < len) {
		unsigned char c = (unsigned char)p[r];
		int hi, lo, v;

		if (c != '%') {
			p[w++] = (char)c;
			r++;
			continue;
		}
		if (r + 2 >= len)
			return -1;
		hi = hexval((unsigned char)p[r + 1]);
		lo = hexval((unsigned char)p[r + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		v = hi << 4 | lo;
		/* an encoded separator or NUL means different things to different origins */
		if (v == '/' || v == '\\' || v == 0)
			return -1;
		r += 3;
		if (unreserved((unsigned char)v)) {
			p[w++] = (char)v;
			continue;
		}
		p[w++] = '%';
		p[w++] = hx[hi];
		p[w++] = hx[lo];
	}
	return (int)w;
}

/* Pass 2: RFC 3986 5.2.4 remove_dot_segments, with runs of '/' merged. */
static size_t dots(char *p, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		size_t e;

		while (r < n && p[r] == '/')
			r++;
		e = r;
		while (e < n && p[e] != '/')
			e++;
		if (e == r) { /* the path ends with '/' */
			p[w++] = '/';
			break;
		}
		if (e - r == 1 && p[r] == '.') {
			if (e == n)
				p[w++] = '/';
		} else if (e - r == 2 && p[r] == '.' && p[r + 1] == '.') {
			while (w > 0 && p[w - 1] != '/')
				w--;
			if (w > 0)
				w--; /* drop the last segment and its '/' */
			if (e == n)
				p[w++] = '/';
		} else {
			p[w++] = '/';
			memmove(p + w, p + r, e - r);
			w += e - r;
		}
		r = e;
	}
	if (w == 0)
		p[w++] = '/';
	return w;
}

/* Does the path need any work? Most do not: one pass, no writes. */
static int clean(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '%')
			return 0;
		if (p[i] == '/' && i + 1 < len && (p[i + 1] == '/' || p[i + 1] == '.'))
			return 0;
	}
	return 1;
}

int http_normalize_path(char *p, size_t len)
{
	int n;

	if (len == 0 || p[0] != '/')
		return (int)len; /* asterisk-form and authority-form have no path to normalise */
	if (clean(p, len))
		return (int)len;
	n = decode(p, len);
	if (n < 0)
		return -1;
	return (int)dots(p, (size_t)n);
}

int http_msg_normalize(struct http_msg *m, char *buf)
{
	char *path = buf + m->path.off;
	int n = http_normalize_path(path, m->path.len);
	uint32_t cut, tail;

	if (n < 0)
		return -1;
	cut = m->path.len - (uint32_t)n;
	if (!cut)
		return 0;
	/* the '?' and query move up behind the shorter path; the target shrinks with it */
	tail = m->target.off + m->target.len - (m->path.off + m->path.len);
	if (tail)
		memmove(path + n, path + m->path.len, tail);
	if (m->query.off > m->path.off)
		m->query.off -= cut;
	m->path.len = (uint32_t)n;
	m->target.len -= cut;
	return 0;
}
