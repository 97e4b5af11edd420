/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Response formatting: status line, headers, the Date line, and whole error responses. */
#ifndef OG_RESP_FMT_H
#define OG_RESP_FMT_H

#include <stddef.h>
#include <time.h>

/* 1xx, 204 and 304 responses carry no body and no Content-Length (RFC 9110 6.4.1). */
static inline int resp_status_has_body(unsigned status)
{
	return !(status < 200 || status == 204 || status == 304);
}

/* "HTTP/1.1 <status> <reason>\r\nServer: ordergate\r\n" into <b> (<cap> bytes). Returns
 * the length it needed (snprintf's contract: >= cap means truncated). */
int resp_fmt_status(char *b, size_t cap, unsigned status);
/* "<name>: <value>\r\n"; same return contract. */
int resp_fmt_header(char *b, size_t cap, const char *name, const char *value);
/* "Date: Mon, 23 Nov 2026 09:00:00 GMT\r\n" for <t>; returns the length, 0 if <cap> is short. */
size_t resp_fmt_date(char *b, size_t cap, time_t t);
/*
 * A whole error response for <status> with `x-ordergate-reason: <reason>` and a short text
 * body into <buf> (<cap> bytes). <close>: Connection: close; <ka10>: Connection: keep-alive
 * (HTTP/1.0); <head>: no body; <date_line> is a resp_fmt_date line. Returns the length
 * (truncated to cap - 1; never below 512 B).
 */
int resp_fmt_error(char *buf, size_t cap, int status, const char *reason, int close, int ka10,
		   int head, const char *date_line, size_t date_len);

/* The Connection header lines responses add. */
extern const char resp_hdr_close[];	/* "Connection: close\r\n" */
extern const char resp_hdr_keepalive[]; /* "Connection: keep-alive\r\n" */
#define RESP_HDR_CLOSE_LEN     19
#define RESP_HDR_KEEPALIVE_LEN 24

#endif /* OG_RESP_FMT_H */
