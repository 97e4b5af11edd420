// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target: chunked body scanner, split anywhere, and on bodies we frame ourselves. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* Scan <d> in pieces whose sizes come from <cuts> (0 = the rest); returns the scan result
 * as one call would: consumed bytes (or -400) and the final state in <c>. */
static long scan_split(struct http_chunked *c, const char *d, size_t n, const uint8_t *cuts,
		       size_t ncuts)
{
	size_t off = 0, k = 0;

	http_chunked_init(c);
	while (off < n) {
		size_t piece = k < ncuts && cuts[k] ? cuts[k] : n - off;
		long r;

		k++;
		if (piece > n - off)
			piece = n - off;
		r = http_chunked_scan(c, d + off, piece);
		if (r < 0)
			return r;
		CHECK((size_t)r <= piece);
		off += (size_t)r;
		if (c->done)
			return (long)off;
		CHECK((size_t)r == piece); /* not done: every byte belongs to the body */
	}
	return (long)off;
}

/* Mode 1: raw bytes, one-shot vs split at data-derived points must agree. */
static void raw(const uint8_t *data, size_t size)
{
	struct http_chunked a, b;
	size_t ncuts = size > 8 ? 8 : size;
	long ra, rb;

	if (size < 1)
		return;
	http_chunked_init(&a);
	ra = http_chunked_scan(&a, (const char *)data + ncuts, size - ncuts);
	CHECK(ra < 0 || (size_t)ra <= size - ncuts);
	CHECK(ra < 0 || a.done || (size_t)ra == size - ncuts);
	rb = scan_split(&b, (const char *)data + ncuts, size - ncuts, data, ncuts);
	CHECK((ra < 0) == (rb < 0));
	if (ra >= 0) {
		CHECK(ra == rb && a.done == b.done && a.body_bytes == b.body_bytes);
	}
}

/* Mode 2: frame the payload ourselves in valid chunks (sizes, hex case, leading zeros and
 * extensions from the data): the scanner must accept it whole, count every data byte, and
 * stop exactly at its end, leaving a pipelined byte alone. */
static void framed(const uint8_t *data, size_t size)
{
	static char out[1 << 17];
	struct http_chunked c;
	size_t o = 0, i = 0, payload = 0;
	long r;

	while (i < size && o + 300 < sizeof(out) - 16) {
		size_t len = data[i] % 64 + 1, ctl = data[i];

		i++;
		if (len > size - i)
			len = size - i;
		if (len == 0)
			break;
		o += (size_t)snprintf(out + o, 64, (ctl & 0x40) ? "%s%zX" : "%s%zx",
				      (ctl & 0x80) ? "000" : "", len);
		if (ctl & 0x20)
			o +=
			    (size_t)snprintf(out + o, 64, ";ext=%s", (ctl & 1) ? "\"q v\"" : "tok");
		out[o++] = '\r';
		out[o++] = '\n';
		memcpy(out + o, data + i, len);
		o += len;
		i += len;
		payload += len;
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, "0\r\nX-T: 1\r\n\r\nG", 14); /* "G": the next request's first byte */
	o += 13;
	r = scan_split(&c, out, o + 1, data, size > 6 ? 6 : size);
	CHECK(r == (long)o && c.done && c.body_bytes == payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		framed(data + 1, size - 1);
	else
		raw(data + 1, size - 1);
	return 0;
}
