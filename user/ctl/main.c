// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ordergatectl entry point: find the command in the table, parse its options, run it. */
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

/* Does <name> ("throttle set") match the words at argv[0..]? Returns words used or 0. */
static int match(const char *name, int argc, char **argv)
{
	const char *sp = strchr(name, ' ');

	if (!sp)
		return !strcmp(name, argv[0]) ? 1 : 0;
	if (argc < 2 || strncmp(name, argv[0], sp - name) || argv[0][sp - name])
		return 0;
	return !strcmp(sp + 1, argv[1]) ? 2 : 0;
}

int main(int argc, char **argv)
{
	const struct ctl_cmd *const *c;
	int i = 1, used, ret;
	void *opts;

	ctl_quiet_libs();
	/* the global --pin-path may also come before the command */
	while (i < argc && !strncmp(argv[i], "--pin-path", 10)) {
		if (argv[i][10] == '=')
			ctl_pin_path = argv[i] + 11;
		else if (!argv[i][10] && i + 1 < argc)
			ctl_pin_path = argv[++i];
		else
			return ctl_fail("--pin-path needs a directory"), 2;
		if (ctl_pin_path[0] != '/')
			return ctl_fail("--pin-path must be an absolute path on bpffs"), 2;
		i++;
	}
	if (i >= argc || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
	    !strcmp(argv[i], "help")) {
		ctl_usage_all(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	for (c = ctl_cmds; *c; c++) {
		used = match((*c)->name, argc - i, argv + i);
		if (used)
			break;
	}
	if (!*c) {
		/* a group word alone ("throttle") lists its sub-commands */
		for (c = ctl_cmds; *c; c++)
			if (!strncmp((*c)->name, argv[i], strlen(argv[i])) &&
			    (*c)->name[strlen(argv[i])] == ' ')
				fprintf(stderr, "  ordergatectl %-16s %s\n", (*c)->name,
					(*c)->summary);
		return ctl_fail("unknown command '%s'; see `ordergatectl --help`", argv[i]), 2;
	}
	opts = calloc(1, (*c)->size ? (*c)->size : 1);
	if (!opts)
		return ctl_fail("out of memory");
	ret = ctl_parse(*c, argc - i - used, argv + i + used, opts);
	if (ret == 0)
		ret = (*c)->run(opts);
	else
		ret = ret > 0 ? 0 : 2;
	free(opts);
	return ret;
}
