// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: the path normaliser against a slow reference, plus its invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/normalize.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

#define MAXP 4096

static int hexv(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int unres(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * Reference, written the other way round: decode into a copy, split into segments, keep a
 * stack (RFC 3986 5.2.4 with empty segments dropped), join. Returns length or -1.
 */
static int reference(const char *in, size_t n, char *out)
{
	char dec[MAXP * 3];
	size_t d = 0, o = 0;
	size_t seg_start[MAXP], nseg = 0;
	int trailing = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] != '%') {
			dec[d++] = in[i];
			continue;
		}
		if (i + 2 >= n || hexv(in[i + 1]) < 0 || hexv(in[i + 2]) < 0)
			return -1;
		int v = hexv(in[i + 1]) * 16 + hexv(in[i + 2]);

		if (v == '/' || v == '\\' || v == 0)
			return -1;
		if (unres((unsigned char)v)) {
			dec[d++] = (char)v;
		} else {
			dec[d++] = '%';
			dec[d++] = "0123456789ABCDEF"[v >> 4];
			dec[d++] = "0123456789ABCDEF"[v & 15];
		}
		i += 2;
	}
	/* segments of dec (it starts with '/') */
	for (size_t i = 1; i <= d; i++) {
		size_t s = i;

		while (i < d && dec[i] != '/')
			i++;
		size_t len = i - s;

		trailing = 0;
		if (len == 0) {
			trailing = i == d;
			continue;
		}
		if (len == 1 && dec[s] == '.') {
			trailing = i == d;
			continue;
		}
		if (len == 2 && dec[s] == '.' && dec[s + 1] == '.') {
			if (nseg)
				nseg--;
			trailing = i == d;
			continue;
		}
		seg_start[nseg++] = s;
	}
	/* join: segment k spans seg_start[k] .. next '/' */
	for (size_t k = 0; k < nseg; k++) {
		size_t s = seg_start[k];

		out[o++] = '/';
		while (s < d && dec[s] != '/')
			out[o++] = dec[s++];
	}
	if (o == 0 || trailing)
		out[o++] = '/';
	return (int)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[MAXP + 1], ref[MAXP * 3 + 2];
	size_t n = size > MAXP - 1 ? MAXP - 1 : size;
	int r, rr;

	a[0] = '/';
	memcpy(a + 1, data, n);
	n++;
	rr = reference(a, n, ref);
	r = http_normalize_path(a, n);
	CHECK(r == rr);
	if (r < 0)
		return 0;
	CHECK((size_t)r <= n && r >= 1 && a[0] == '/');
	CHECK(!memcmp(a, ref, (size_t)r));
	/* no empty, "." or ".." segment is left, nor an encoded unreserved character */
	for (int i = 0; i < r; i++) {
		if (a[i] == '/' && i + 1 < r)
			CHECK(a[i + 1] != '/');
		if (a[i] == '%')
			CHECK(i + 2 < r &&
			      !unres((unsigned char)(hexv(a[i + 1]) * 16 + hexv(a[i + 2]))));
	}
	/* idempotent */
	{
		char b[MAXP + 1];

		memcpy(b, a, (size_t)r);
		CHECK(http_normalize_path(b, (size_t)r) == r && !memcmp(a, b, (size_t)r));
	}
	return 0;
}
