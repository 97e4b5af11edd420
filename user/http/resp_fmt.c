// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Response formatting shared by precomputed direct responses and error responses. */
#include <stdio.h>

#include "http/http_parse.h"
#include "http/resp_fmt.h"

const char resp_hdr_close[] = "Connection: close\r\n";
const char resp_hdr_keepalive[] = "Connection: keep-alive\r\n";
_Static_assert(sizeof(resp_hdr_close) - 1 == RESP_HDR_CLOSE_LEN, "close header length");
_Static_assert(sizeof(resp_hdr_keepalive) - 1 == RESP_HDR_KEEPALIVE_LEN, "ka header length");

int resp_fmt_status(char *b, size_t cap, unsigned status)
{
	return snprintf(b, cap, "HTTP/1.1 %u %s\r\nServer: ordergate\r\n", status,
			http_reason((int)status));
}

int resp_fmt_header(char *b, size_t cap, const char *name, const char *value)
{
	return snprintf(b, cap, "%s: %s\r\n", name, value);
}

size_t resp_fmt_date(char *b, size_t cap, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	return strftime(b, cap, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

int resp_fmt_error(char *buf, size_t cap, int status, const char *reason, int close, int ka10,
		   int head, const char *date_line, size_t date_len)
{
	char body[160];
	int blen =
	    snprintf(body, sizeof(body), "%d %s (%s)\n", status, http_reason(status), reason);
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nServer: ordergate\r\n%.*sContent-Type: text/plain\r\n"
			 "Content-Length: %d\r\nx-ordergate-reason: %s\r\n%s\r\n%s",
			 status, http_reason(status), (int)date_len, date_line, blen, reason,
			 close	? resp_hdr_close
			 : ka10 ? resp_hdr_keepalive
				: "",
			 head ? "" : body);

	return n < (int)cap ? n : (int)cap - 1;
}
