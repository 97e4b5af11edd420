/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Request path normalisation (RFC 3986 section 6.2.2) so route policy cannot be bypassed by
 * spelling. */
#ifndef OG_NORMALIZE_H
#define OG_NORMALIZE_H

#include <stddef.h>

/*
 * Normalise the path <p> (<len> bytes, starting with '/') in place, as Envoy's
 * normalize_path + merge_slashes do: percent-encoded unreserved characters
 * (ALPHA DIGIT - . _ ~) are decoded, other percent-encodings get upper-case hex,
 * "." and ".." segments are removed (".." never climbs above the root) and runs of
 * '/' become one. The result is never longer than the input.
 *
 * Returns the new length, or -1 when the path cannot be normalised safely: an encoded
 * '/' (%2F) or '\' (%5C) would be read as a separator by some origins and not by others,
 * and an encoded NUL (%00) ends the string in many; ordergate answers 400 to those.
 * The caller guarantees what the parser already checked: every '%' is followed by two
 * hex digits. No allocation, no global state (fuzzed by tests/fuzz/fuzz_normalize.c).
 */
int http_normalize_path(char *p, size_t len);

struct http_msg;
/*
 * Normalise the path of request <m>, parsed from <buf>, in place: the path span shrinks,
 * the query moves up behind it and the target span shrinks with it, so routing and the
 * request line sent upstream see the same bytes. Returns 0, or -1 (answer 400).
 */
int http_msg_normalize(struct http_msg *m, char *buf);

#endif /* OG_NORMALIZE_H */
