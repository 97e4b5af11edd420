/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ordergatectl's command table, typed options and shared output helpers. */
#ifndef OG_CTL_H
#define OG_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dp/dp.h"

enum ctl_opt_type {
	CTL_FLAG,  /* bool, no argument */
	CTL_STR,   /* const char * */
	CTL_U64,   /* __u64, decimal or 0x hex */
	CTL_ENUM,  /* int, one of ctl_opt.enums */
	CTL_RATE,  /* __u64 bits/s, tc syntax (1gbit) */
	CTL_SECS,  /* __u64 ns, from seconds (fractions allowed) */
	CTL_LANE,  /* int OG_LANE_* by name (none|order|normal|bulk) */
	CTL_IFACE, /* const char *, must name an existing interface */
};

struct ctl_enum {
	const char *name;
	int val;
};

struct ctl_opt {
	const char *name; /* long name without "--"; for positionals the metavar */
	char short_name;  /* 0: none */
	enum ctl_opt_type type;
	size_t off;	     /* offsetof() into the command's options struct */
	const char *metavar; /* argument placeholder in help */
	const char *help;
	const struct ctl_enum *enums; /* CTL_ENUM: NULL-name terminated */
	bool positional;	      /* filled from bare arguments, in table order */
	bool required;
};

struct ctl_cmd {
	const char *name;	      /* "attach", or "throttle set" for a two-word command */
	const char *summary;	      /* one line for the command list and help */
	const struct ctl_opt *opts;   /* terminated by an entry with name NULL */
	size_t size;		      /* sizeof the options struct */
	const void *defaults;	      /* initial options (size bytes), or NULL for zeros */
	bool uses_maps;		      /* takes the global --pin-path */
	int (*run)(const void *opts); /* returns the exit code */
};

#define CTL_END                                                                                    \
	{                                                                                          \
		0                                                                                  \
	}

/* The command table (commands.c), NULL-terminated. */
extern const struct ctl_cmd *const ctl_cmds[];

/* Global --pin-path (NULL: OG_PIN_DIR). */
extern const char *ctl_pin_path;

/*
 * Parse <argc>/<argv> (the words after the command name) into <opts> for <cmd>.
 * Returns 0, 1 when help was printed, or -EINVAL after printing a usage error.
 */
int ctl_parse(const struct ctl_cmd *cmd, int argc, char **argv, void *opts);
/* Print <cmd>'s generated help to <f>. */
void ctl_usage(const struct ctl_cmd *cmd, FILE *f);
/* Print the command list to <f>. */
void ctl_usage_all(FILE *f);

/* Print "ordergatectl: <msg>" to stderr; returns 1 (the error exit code). */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Root check + dp_maps_open(ctl_pin_path); prints the error. Returns 0 or 1. */
int ctl_maps(struct dp_maps *m);
/* Pin dir in use: ctl_pin_path or OG_PIN_DIR. */
const char *ctl_pin_dir(void);
/* Seconds between monotonic <then_ns> and <now_ns> (0 if <then_ns> is 0 or later). */
double ctl_age(__u64 now_ns, __u64 then_ns);
/* Human byte/packet counts: "1.2M", "532". */
const char *ctl_human(__u64 v, char *buf, size_t len);

/* The daemon's admin API (daemon.c): address from <opt>, $ORDERGATE_ADMIN or the default;
 * GET <path> into a malloc'ed NUL-terminated *<body> with the HTTP *<status> (0 or -errno);
 * print the /flows rows as a table (or the JSON); print <path>'s body under <title>
 * (<quiet_absent>: a daemon that does not answer is not an error). */
const char *ctl_admin_addr(const char *opt);
int ctl_admin_get(const char *addr, const char *path, char **body, int *status);
int ctl_admin_flows(const char *addr, __u64 top, bool json);
int ctl_admin_show(const char *addr, const char *path, const char *title, bool quiet_absent);

/* Keep libbpf/libxdp to warnings, minus the noise of our own probes
 * (ORDERGATECTL_DEBUG=1 shows everything). */
void ctl_quiet_libs(void);

#endif /* OG_CTL_H */
