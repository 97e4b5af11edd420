// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Access log: JSON escaping checked by jq, ring drop accounting, logger flush and reopen. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/accesslog.h"
#include "../lib/og_test.h"

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Run jq <filter> over file <path>; returns its first output line in <out>. */
static int jq(const char *filter, const char *path, char *out, size_t cap)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "jq -c -r '%s' < %s 2>&1", filter, path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	out[0] = 0;
	if (!fgets(out, (int)cap, p))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	while (fgetc(p) != EOF)
		;
	return pclose(p);
}

int main(void)
{
	char dir[] = "/tmp/og_alog_XXXXXX", path[128], path2[128], line[ALOG_LINE_MAX], got[4096];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(40001)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	static const char nasty[] = "/a\"b\\c\x01\x1f\x7f\xc3\xa9\td?q=1&x=<>";
	struct alog_entry e = {
	    .req_id = "r-1",
	    .req_id_len = 3,
	    .client = (struct sockaddr *)&sin,
	    .method = "POST",
	    .method_len = 4,
	    .path = nasty,
	    .path_len = sizeof(nasty) - 1,
	    .route = "orders",
	    .status = 201,
	    .bytes_in = 123,
	    .bytes_out = 4567,
	    .dur_ns = 1234567,
	    .upstream = "127.0.0.1:9001",
	    .up_ns = 999999,
	};
	int have_jq = system("command -v jq >/dev/null 2>&1") == 0;
	FILE *f;
	size_t n;

	OK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof(path), "%s/one.json", dir);
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);

	/* 2026-11-23T09:00:00.045Z */
	n = alog_format(line, sizeof(line), &e, 1795424400045000000ull);
	OK(n > 0 && line[n - 1] == '\n' && !memchr(line, '\n', n - 1), "one line ending in \\n");
	OK_EQ(alog_format(line, 100, &e, 0), 0, "small buffer refused");
	n = alog_format(line, sizeof(line), &e, 1795424400045000000ull);
	f = fopen(path, "w");
	fwrite(line, 1, n, f);
	fclose(f);
	if (!have_jq) {
		og_skip("jq not installed: make deps");
	} else {
		OK(jq(".ts", path, got, sizeof(got)) == 0 &&
		       !strcmp(got, "2026-11-23T09:00:00.045Z"),
		   "ts RFC 3339 UTC with ms: %s", got);
		OK(jq(".path", path, got, sizeof(got)) == 0 &&
		       !strcmp(got, "/a\"b\\c\x01\x1f\x7f\xc3\x83\xc2\xa9\td?q=1&x=<>"),
		   "path escapes round-trip through jq (bytes >= 0x80 as \\u00XX)");
		OK(jq("[.req_id,.client,.method,.route,.upstream]|join(\" \")", path, got,
		      sizeof(got)) == 0 &&
		       !strcmp(got, "r-1 10.1.2.3:40001 POST orders 127.0.0.1:9001"),
		   "string fields: %s", got);
		OK(jq("[.status,.bytes_in,.bytes_out,.duration_ms,.upstream_ms]|map(tostring)|"
		      "join(\" \")",
		      path, got, sizeof(got)) == 0 &&
		       !strcmp(got, "201 123 4567 1.234 0.999"),
		   "numeric fields: %s", got);
		OK(jq("keys|join(\",\")", path, got, sizeof(got)) == 0 &&
		       !strcmp(got, "bytes_in,bytes_out,client,duration_ms,method,path,req_id,"
				    "route,status,ts,upstream,upstream_ms"),
		   "exactly the 12 fields: %s", got);
	}

	/* no upstream, no route, IPv6 client, huge path: nulls and truncation stay valid JSON */
	char *big = malloc(20000);

	memset(big, '"', 20000);
	e.upstream = NULL;
	e.route = NULL;
	e.req_id = NULL;
	e.client = (struct sockaddr *)&sin6;
	e.path = big;
	e.path_len = 20000;
	e.status = 0;
	n = alog_format(line, sizeof(line), &e, 0);
	OK(n <= ALOG_LINE_MAX && line[n - 1] == '\n', "20000-byte path cut to %zu bytes", n);
	f = fopen(path, "w");
	fwrite(line, 1, n, f);
	fclose(f);
	if (have_jq) {
		OK(jq("[.upstream,.upstream_ms,.route,.req_id]|map(tostring)|join(\" \")", path,
		      got, sizeof(got)) == 0 &&
		       !strcmp(got, "null null null null"),
		   "absent fields are null: %s", got);
		OK(jq(".client", path, got, sizeof(got)) == 0 && !strcmp(got, "[2001:db8::1]:443"),
		   "IPv6 client: %s", got);
		OK(jq(".path|length", path, got, sizeof(got)) == 0 && atoi(got) > 1000,
		   "truncated path still parses, %s chars", got);
	}
	free(big);
	e.path = "/x";
	e.path_len = 2;

	/* ring + logger thread: every accepted line reaches the file, in order */
	struct cfg_access_log c = {.enabled = 1, .path = path};
	char err[256];
	struct alog_worker *a;

	unlink(path);
	OK(alog_configure(&c, err, sizeof(err)) == 0 && alog_on(), "configure turns the log on");
	a = alog_worker_new(0);
	OK(a != NULL, "worker ring");
	OK(alog_start() == 0, "logger thread starts");
	for (int i = 0; i < 1000; i++)
		alog_write(a, &e);
	for (int t = 0; t < 200 && count_lines(path) < 1000; t++)
		usleep(10 * 1000); /* the logger flushes every ALOG_FLUSH_MS */
	OK_EQ(count_lines(path), 1000, "1000 lines flushed by the logger within 2 s");
	/* reopen after rotation: the new file gets the next lines, the old keeps its own */
	snprintf(path2, sizeof(path2), "%s/one.json.1", dir);
	OK(rename(path, path2) == 0, "rotate (rename)");
	OK(alog_reopen() == 0, "alog_reopen");
	for (int i = 0; i < 10; i++)
		alog_write(a, &e);
	alog_stop();
	OK_EQ(count_lines(path), 10, "reopened file has the 10 new lines");
	OK_EQ(count_lines(path2), 1000, "rotated file kept its 1000 lines");
	if (have_jq)
		OK(jq("[inputs|select(.status == 0)]|length", path2, got, sizeof(got)) == 0 &&
		       atoi(got) == 999,
		   "every line after the first of the rotated file is JSON: %s", got);

	/* full ring: drop and count, never block; drops + accepted = offered */
	unlink(path);
	OK(alog_configure(&c, err, sizeof(err)) == 0, "configure again");
	a = alog_worker_new(0);
	/* bursts of 20000 lines (~5 MiB) outrun the 50 ms flush: the ring fills and drops */
	uint64_t offered = 0, dropped = 0, written = 0;

	for (int round = 0; round < 5 && !dropped; round++) {
		for (int i = 0; i < 20000; i++)
			alog_write(a, &e);
		offered += 20000;
		dropped = alog_dropped();
	}
	written = alog_written();
	OK(dropped > 0, "%llu of %llu lines dropped when the ring filled, none blocked",
	   (unsigned long long)dropped, (unsigned long long)offered);
	OK_EQ(dropped + written, offered, "dropped + accepted = offered");
	alog_stop();
	OK_EQ(count_lines(path), written, "every accepted line was flushed at stop");

	/* off: no lines */
	struct cfg_access_log off = {0};

	OK(alog_configure(&off, err, sizeof(err)) == 0 && !alog_on(), "disabled log is off");
	/* unopenable path: refused with a message, state kept */
	struct cfg_access_log badc = {.enabled = 1, .path = "/nonexistent-dir/x.log"};

	OK(alog_configure(&badc, err, sizeof(err)) < 0 && strstr(err, "/nonexistent-dir/x.log"),
	   "bad path refused: %s", err);

	unlink(path);
	unlink(path2);
	rmdir(dir);
	return og_done();
}
