// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* setgroups/setgid/setuid to the configured user with PR_SET_KEEPCAPS, then capset to what is left.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/privdrop.h"

int privdrop(const char *user, int keep_bpf, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e;

	if (!user || geteuid() != 0)
		return 0;
	e = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (e || !res) {
		snprintf(err, errlen, "user \"%s\": %s", user, e ? strerror(e) : "no such user");
		return e ? -e : -ENOENT;
	}
	if (pw.pw_uid == 0)
		return 0;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(1, &pw.pw_gid) || setgid(pw.pw_gid) ||
	    setuid(pw.pw_uid))
		goto fail;
	/* after setuid the permitted set is kept (KEEPCAPS), the effective one is empty:
	 * narrow both to what is still needed */
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_NET_BIND_SERVICE;
	/* The kernel writer, the slow loop and the reuseport steering (new listeners on
	 * reload) use maps after start. 6.18 lets an fd opened as root be used without a
	 * capability, but kernels that check kernel.unprivileged_bpf_disabled (set by Debian)
	 * on every bpf(2) command refuse even that without CAP_BPF: keep it */
	if (keep_bpf)
		d[CAP_TO_INDEX(CAP_BPF)].effective = d[CAP_TO_INDEX(CAP_BPF)].permitted =
		    CAP_TO_MASK(CAP_BPF);
	if (syscall(SYS_capset, &h, d) || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		goto fail;
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "dropping to user \"%s\": %s", user, strerror(e));
	return -e;
}
