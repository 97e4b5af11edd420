// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Typed option parsing and generated help for ordergatectl's command table. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "ctl/ctl.h"

const char *ctl_pin_path;

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("ordergatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static const char *type_meta(const struct ctl_opt *o)
{
	if (o->metavar)
		return o->metavar;
	switch (o->type) {
	case CTL_U64:
		return "N";
	case CTL_RATE:
		return "RATE";
	case CTL_SECS:
		return "SECONDS";
	case CTL_LANE:
		return "LANE";
	case CTL_IFACE:
		return "IFACE";
	default:
		return "VALUE";
	}
}

void ctl_usage(const struct ctl_cmd *cmd, FILE *f)
{
	const struct ctl_opt *o;

	fprintf(f, "Usage: ordergatectl %s", cmd->name);
	for (o = cmd->opts; o->name; o++)
		if (o->positional)
			fprintf(f, o->required ? " %s" : " [%s]", o->name);
	fprintf(f, " [options]\n\n%s\n\nOptions:\n", cmd->summary);
	for (o = cmd->opts; o->name; o++) {
		char left[64];

		if (o->positional)
			continue;
		if (o->type == CTL_FLAG)
			snprintf(left, sizeof(left), "%s%c%s--%s", o->short_name ? "-" : "",
				 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "",
				 o->name);
		else
			snprintf(left, sizeof(left), "%s%c%s--%s %s", o->short_name ? "-" : "",
				 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "",
				 o->name, type_meta(o));
		fprintf(f, "  %-26s %s%s", left[0] == ' ' ? left + 1 : left, o->help,
			o->required ? " (required)" : "");
		if (o->type == CTL_ENUM) {
			const struct ctl_enum *e;

			fputs(" [", f);
			for (e = o->enums; e->name; e++)
				fprintf(f, "%s%s", e == o->enums ? "" : "|", e->name);
			fputc(']', f);
		}
		fputc('\n', f);
	}
	if (cmd->uses_maps)
		fprintf(f, "  %-26s %s\n", "--pin-path DIR",
			"bpffs directory of the maps (default " OG_PIN_DIR ")");
	fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
	for (o = cmd->opts; o->name; o++)
		if (o->positional && o->help)
			fprintf(f, "\n  %-26s %s", o->name, o->help);
	fputc('\n', f);
}

void ctl_usage_all(FILE *f)
{
	const struct ctl_cmd *const *c;

	fprintf(f, "Usage: ordergatectl [--pin-path DIR] COMMAND [ARGS] [options]\n\n"
		   "Control ordergate's kernel datapath (XDP/TC lanes, maps, HTB qdisc).\n\n"
		   "Commands:\n");
	for (c = ctl_cmds; *c; c++)
		fprintf(f, "  %-16s %s\n", (*c)->name, (*c)->summary);
	fprintf(f, "\n`ordergatectl COMMAND --help` describes a command's options.\n"
		   "Environment: ORDERGATE_STATE_DIR (attach state files, default " DP_STATE_DIR
		   "),\n  ORDERGATECTL_DEBUG=1 (all libbpf/libxdp messages).\n");
}

static int parse_u64(const char *s, __u64 *v)
{
	unsigned long long x;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

/* Store <arg> for option <o> at <opts> + <o>->off; prints a usage error on failure. */
static int set_opt(const struct ctl_cmd *cmd, const struct ctl_opt *o, const char *arg, void *opts)
{
	char *p = (char *)opts + o->off, err[256];
	int lane, ret;

	switch (o->type) {
	case CTL_FLAG:
		*(bool *)p = true;
		return 0;
	case CTL_STR:
		*(const char **)p = arg;
		return 0;
	case CTL_IFACE:
		if (dp_ifindex(arg, err, sizeof(err)) < 0)
			return ctl_fail("%s", err), -EINVAL;
		*(const char **)p = arg;
		return 0;
	case CTL_U64:
		if (parse_u64(arg, (__u64 *)p))
			return ctl_fail("%s: %s is not a number", cmd->name, arg), -EINVAL;
		return 0;
	case CTL_RATE:
		ret = dp_rate_parse(arg, (__u64 *)p, err, sizeof(err));
		if (ret)
			return ctl_fail("%s", err), ret;
		return 0;
	case CTL_SECS: {
		char *end;
		double d = strtod(arg, &end);

		if (*end || end == arg || !(d > 0) || d > 315360000.0)
			return ctl_fail("%s: %s is not a positive number of seconds", cmd->name,
					arg),
			       -EINVAL;
		*(__u64 *)p = (__u64)llround(d * 1e9);
		return 0;
	}
	case CTL_LANE:
		lane = dp_lane_parse(arg);
		if (lane < 0)
			return ctl_fail("%s: unknown lane '%s' (none|order|normal|bulk)", cmd->name,
					arg),
			       -EINVAL;
		*(int *)p = lane;
		return 0;
	case CTL_ENUM: {
		const struct ctl_enum *e;

		char list[128] = "";

		for (e = o->enums; e->name; e++) {
			if (!strcmp(e->name, arg)) {
				*(int *)p = e->val;
				return 0;
			}
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 e == o->enums ? "" : "|", e->name);
		}
		return ctl_fail("%s: --%s must be %s, not '%s'", cmd->name, o->name, list, arg),
		       -EINVAL;
	}
	}
	return -EINVAL;
}

int ctl_parse(const struct ctl_cmd *cmd, int argc, char **argv, void *opts)
{
	const struct ctl_opt *o, *pos = cmd->opts;
	bool seen[64] = {false}, dashdash = false;
	int i;

	if (cmd->defaults)
		memcpy(opts, cmd->defaults, cmd->size);
	else
		memset(opts, 0, cmd->size);
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;

		if (!dashdash && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			ctl_usage(cmd, stdout);
			return 1;
		}
		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (dashdash || a[0] != '-' || !a[1]) {
			while (pos->name && !pos->positional)
				pos++;
			if (!pos->name) {
				ctl_fail("%s: unexpected argument '%s'", cmd->name, a);
				goto usage;
			}
			if (set_opt(cmd, pos, a, opts))
				return -EINVAL;
			seen[pos - cmd->opts] = true;
			pos++;
			continue;
		}
		eq = strchr(a, '=');
		if (cmd->uses_maps && !strncmp(a, "--pin-path", 10) && (!a[10] || a[10] == '=')) {
			val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (!val || !*val) {
				ctl_fail("--pin-path needs a directory");
				goto usage;
			}
			if (val[0] != '/') {
				ctl_fail("--pin-path must be an absolute path on bpffs (got '%s')",
					 val);
				goto usage;
			}
			ctl_pin_path = val;
			continue;
		}
		for (o = cmd->opts; o->name; o++) {
			size_t n = strlen(o->name);

			if (o->positional)
				continue;
			if (a[1] != '-'
				? (o->short_name && a[1] == o->short_name && !a[2])
				: (!strncmp(a + 2, o->name, n) && (!a[2 + n] || a[2 + n] == '=')))
				break;
		}
		if (!o->name) {
			ctl_fail("%s: unknown option '%s'", cmd->name, a);
			goto usage;
		}
		if (o->type != CTL_FLAG) {
			val = a[1] == '-' && eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (!val) {
				ctl_fail("%s: option --%s needs a value", cmd->name, o->name);
				goto usage;
			}
		} else if (a[1] == '-' && eq) {
			ctl_fail("%s: option --%s takes no value", cmd->name, o->name);
			goto usage;
		}
		if (set_opt(cmd, o, val, opts))
			return -EINVAL;
		seen[o - cmd->opts] = true;
	}
	for (o = cmd->opts; o->name; o++) {
		if (o->required && !seen[o - cmd->opts]) {
			if (o->positional)
				ctl_fail("%s: missing %s", cmd->name, o->name);
			else
				ctl_fail("%s: missing --%s", cmd->name, o->name);
			goto usage;
		}
	}
	return 0;
usage:
	fprintf(stderr, "Try `ordergatectl %s --help`.\n", cmd->name);
	return -EINVAL;
}
