/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ops' consumers of the hot path's hooks (core/hooks.h): metrics and the access log. */
#ifndef OG_OPS_HOOKS_H
#define OG_OPS_HOOKS_H

/* Point og_hooks at metrics and the access log. Main thread, before the workers exist. */
void hooks_register(void);

#endif /* OG_OPS_HOOKS_H */
