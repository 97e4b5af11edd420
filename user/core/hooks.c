// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The hook table, callable before ops registers its consumers (tests, early start). */
#include "core/hooks.h"

static void none_req(struct og_worker *w, const struct og_req_event *e)
{
}

static void none_up(struct og_worker *w, int ups, int srv, int status, uint64_t ns)
{
}

static void none_upconn(struct og_worker *w, int ups, int srv, int d_active, int d_idle)
{
}

static void none_error(struct og_worker *w, const char *reason)
{
}

static void none_worker(struct og_worker *w)
{
}

struct og_hooks og_hooks = {
    .request_done = none_req,
    .upstream_done = none_up,
    .upconn = none_upconn,
    .error = none_error,
    .worker_init = none_worker,
};
_Atomic int og_hook_detail;
