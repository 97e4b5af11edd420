/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A tiny TAP producer for C tests: tests/run counts its ok / not ok lines. */
#ifndef OG_TEST_H
#define OG_TEST_H

#include <stdio.h>

/* Record one assertion: prints "ok N - msg" or "not ok N - msg (file:line)". */
void og_ok_at(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record a skipped check with its reason: "ok N # SKIP reason". */
void og_skip(const char *why);
/* Print a diagnostic line ("# ...") that does not count. */
void og_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan and return the process exit code (0 when nothing failed). */
int og_done(void);
/* Number of failed assertions so far. */
int og_failed(void);

#define OK(cond, ...) og_ok_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* Compare two unsigned values and show both on failure. */
#define OK_EQ(got, want, what)                                                                     \
	do {                                                                                       \
		unsigned long long _g = (unsigned long long)(got);                                 \
		unsigned long long _w = (unsigned long long)(want);                                \
		og_ok_at(_g == _w, __FILE__, __LINE__, "%s: got %llu want %llu", what, _g, _w);    \
	} while (0)

#endif /* OG_TEST_H */
