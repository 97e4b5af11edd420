// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TAP output for the C tests. */
#include <stdarg.h>
#include <stdio.h>

#include "og_test.h"

static int n_tests, n_failed;

void og_ok_at(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!pass)
		n_failed++;
	printf("%sok %d - ", pass ? "" : "not ", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!pass)
		printf(" (%s:%d)", file, line);
	putchar('\n');
	fflush(stdout);
}

void og_skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++n_tests, why);
	fflush(stdout);
}

void og_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int og_failed(void)
{
	return n_failed;
}

int og_done(void)
{
	printf("1..%d\n", n_tests);
	if (n_failed)
		printf("# %d of %d failed\n", n_failed, n_tests);
	fflush(stdout);
	return n_failed ? 1 : 0;
}
