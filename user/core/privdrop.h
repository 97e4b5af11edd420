/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Dropping root after start: the config's `user`, keeping only the capabilities still needed. */
#ifndef OG_PRIVDROP_H
#define OG_PRIVDROP_H

#include <stddef.h>

/*
 * Become <user> (its uid, primary gid, no supplementary groups) once every socket and file
 * the daemon needs is open, keeping only CAP_NET_BIND_SERVICE (a reload may bind a new
 * port below 1024) and, when <keep_bpf>, CAP_BPF (the kernel link keeps updating maps). Nothing to
 * do when <user> is NULL or the process is not root. Returns 0, or -errno with the reason in <err>.
 * Main thread; the admin thread may already run (glibc applies setuid/setgid to every thread).
 */
int privdrop(const char *user, int keep_bpf, char *err, size_t errlen);

#endif /* OG_PRIVDROP_H */
