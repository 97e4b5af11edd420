/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Structured one-line daemon logs to stderr: ts, level, then key=value pairs. */
#ifndef OG_LOG_H
#define OG_LOG_H

/* Log one line "ts=... level=<level> <fmt...>" to stderr. Any thread (one write(2) each). */
void og_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* OG_LOG_H */
