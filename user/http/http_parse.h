/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Strict, resumable HTTP/1.1 message-head parser and chunked-body scanner (RFC 9112), no I/O. */
#ifndef OG_HTTP_PARSE_H
#define OG_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The parser works in place over the caller's buffer: the head is never copied,
 * every string is a span (offset, length) into that buffer. The caller appends
 * bytes and calls again with the same buffer start and a larger length; the
 * parser resumes where it stopped (it only re-reads the unfinished line).
 * No allocation, no I/O, no global state: safe to fuzz and to call from any thread.
 */

#define HTTP_MAX_REQUEST_LINE 8192  /* bytes, without CRLF: longer -> 414 */
#define HTTP_MAX_HEAD	      32768 /* bytes of header section: longer -> 431 */
#define HTTP_MAX_HEADERS      100   /* header fields: more -> 431 */
#define HTTP_MAX_CHUNK_EXT    256   /* bytes of chunk extensions per chunk: more -> 400 */
#define HTTP_MAX_METHOD	      32 /* bytes of method token: longer -> 400 (longest registered: 17) */

/* Return values of http_parse_request_head / http_parse_response_head. */
#define HTTP_PARSE_AGAIN 0 /* need more bytes */
/* > 0: head complete, value = bytes of head (request/status line through the empty line). */
/* < 0: -(HTTP status to answer), e.g. -400, -414, -431, -501, -505. */

enum http_method {
	HTTP_M_OTHER = 0, /* a valid token we do not know: proxied as is */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_PATCH,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_CONNECT,
	HTTP_M__COUNT
};

/* Body framing decided from the head (RFC 9112 section 6.3). */
enum http_body {
	HTTP_BODY_NONE = 0, /* no body (no CL/TE, or a response that cannot have one) */
	HTTP_BODY_LENGTH,   /* Content-Length: content_length bytes */
	HTTP_BODY_CHUNKED,  /* Transfer-Encoding ending in chunked */
	HTTP_BODY_EOF,	    /* responses only: read until the upstream closes */
};

struct http_span {
	uint32_t off; /* offset from the start of the buffer */
	uint32_t len; /* bytes */
};

struct http_header {
	struct http_span name;
	struct http_span value; /* leading/trailing OWS trimmed */
	int8_t kid;		/* enum http_known_hdr of the name, -1 for any other */
};

/* Header fields the gateway acts on, found during the parse (index into headers[], -1 = absent). */
enum http_known_hdr {
	HTTP_H_HOST = 0,
	HTTP_H_CONTENT_LENGTH,
	HTTP_H_TRANSFER_ENCODING,
	HTTP_H_CONNECTION,
	HTTP_H_EXPECT,
	HTTP_H_X_REQUEST_ID,
	HTTP_H_X_FORWARDED_FOR,
	HTTP_H_UPGRADE,
	HTTP_H_KEEP_ALIVE,
	HTTP_H_TE,
	HTTP_H_TRAILER,
	HTTP_H_PROXY_CONNECTION,
	HTTP_H__COUNT
};

/* Flags (http_msg.flags) */
#define HTTP_F_KEEP_ALIVE      0x01 /* connection persists after this message */
#define HTTP_F_EXPECT_CONTINUE 0x02 /* Expect: 100-continue */
#define HTTP_F_CONN_HAS_TOKENS 0x04 /* Connection lists extra hop-by-hop field names */

/* One message head: a request or a response. */
struct http_msg {
	/* parse state (opaque to callers) */
	uint32_t pos;	     /* bytes consumed so far */
	uint32_t line_start; /* start of the line being parsed */
	uint8_t state;	     /* internal */
	uint8_t is_response; /* internal */
	uint8_t n_host;	     /* internal: Host fields seen */
	uint8_t te;	 /* internal: HTTP_TE_* bits gathered over all Transfer-Encoding fields */
	uint8_t cl_seen; /* internal: a Content-Length field was seen */
	uint8_t conn;	 /* internal: Connection tokens seen (close / keep-alive) */
	uint16_t err;	 /* internal: status of the refusal, repeated on later calls */
	uint32_t hdr_start; /* internal: offset of the first header line (limit HTTP_MAX_HEAD) */

	/* request line (requests) */
	uint8_t method;		   /* enum http_method */
	struct http_span method_s; /* the method token as sent */
	struct http_span target;   /* request-target as sent */
	struct http_span path;	   /* target up to '?' (origin-form) */
	struct http_span query;	   /* after '?', without it; len 0 when absent */
	/*
	 * Added: host[:port] of an absolute-form or authority-form target (len 0 for
	 * origin-form). For absolute-form, path is the part after the authority; when
	 * that is empty ("GET http://h?q HTTP/1.1") path is a 1-byte span holding "/"
	 * (the last '/' of "://"), so path always starts with '/' except in
	 * asterisk-form (OPTIONS only), where path is "*". query is as usual.
	 */
	struct http_span authority;

	/* status line (responses) */
	uint16_t status; /* 100..999 */
	struct http_span reason;

	uint8_t version_minor;	 /* HTTP/1.<minor>: 0 or 1 */
	uint8_t body;		 /* enum http_body */
	uint8_t flags;		 /* HTTP_F_* */
	uint64_t content_length; /* bytes, when body == HTTP_BODY_LENGTH */
	uint32_t head_len;	 /* bytes of the whole head, set when complete */

	uint16_t n_headers;
	int16_t known[HTTP_H__COUNT]; /* index into headers[] of the first such field, or -1 */
	struct http_header headers[HTTP_MAX_HEADERS];
};

/* Reset <m> to parse a new message. Cheap: does not clear headers[]. */
void http_msg_init(struct http_msg *m);

/*
 * Parse (more of) a request head in <buf>[0..<len>). Returns HTTP_PARSE_AGAIN,
 * the head length (> 0) when complete, or -status when the request must be
 * refused and the connection closed. Refuses every smuggling vector listed in
 * tests/unit/test_http_parse.c: CL with TE, differing duplicate CL, TE not ending
 * in chunked, obs-fold, whitespace before the colon, invalid token characters,
 * bare CR, NUL, bare LF, a missing Host on HTTP/1.1, versions other than 1.0/1.1.
 */
int http_parse_request_head(struct http_msg *m, const char *buf, size_t len);

/*
 * Parse (more of) a response head. <req_method> is the method of the request it
 * answers (HEAD and CONNECT change framing). Returns like http_parse_request_head;
 * errors are -502 (an invalid upstream response). 1xx responses are returned as
 * complete heads too: the caller forwards them and parses the next head.
 */
int http_parse_response_head(struct http_msg *m, const char *buf, size_t len, int req_method);

/* Header value helpers. <buf> is the buffer the message was parsed from. */
static inline const char *http_span_ptr(const char *buf, struct http_span s)
{
	return buf + s.off;
}
/* Case-insensitive compare of span <s> with NUL-terminated <lit>. */
int http_span_ieq(const char *buf, struct http_span s, const char *lit);
/* Index of the first header named <name> (case-insensitive), or -1. */
int http_find_header(const struct http_msg *m, const char *buf, const char *name);
/*
 * 1 when header index <i> is hop-by-hop (RFC 9110 7.6.1, plus fields listed in Connection).
 * Content-Length and Host are never hop-by-hop, even when Connection lists them: dropping the
 * length of a forwarded body would smuggle it to the upstream as a second request.
 */
int http_is_hop_by_hop(const struct http_msg *m, const char *buf, int i);

/* Chunked body scanner: validates framing so chunked bytes can be forwarded verbatim. */
struct http_chunked {
	uint64_t remaining;	/* data bytes left in the current chunk */
	uint32_t ext_len;	/* bytes of chunk extension seen in the current size line */
	uint32_t line_len;	/* bytes in the current size/trailer line */
	uint32_t trailer_bytes; /* bytes of trailer section so far (limit HTTP_MAX_HEAD) */
	uint8_t state;		/* internal */
	uint8_t done;		/* 1 when the last chunk and trailers are complete */
	uint64_t body_bytes;	/* data bytes (excluding framing) seen so far */
};

void http_chunked_init(struct http_chunked *c);
/*
 * Scan <len> bytes of chunked framing in <in>. Returns the number of bytes that
 * belong to the body (<= len; fewer only when done became 1 and the rest belongs
 * to the next message), or -400 on bad framing (bad hex, size overflow, chunk
 * extension over HTTP_MAX_CHUNK_EXT, missing CRLF after data, bare CR/LF, bad
 * trailer field). Resumable at any byte boundary.
 */
long http_chunked_scan(struct http_chunked *c, const char *in, size_t len);

/* Name of a method id ("GET"), or "OTHER". */
const char *http_method_name(int method);
/* Canonical reason phrase for <status> ("Not Found"), or "Unknown". */
const char *http_reason(int status);

#endif /* OG_HTTP_PARSE_H */
