// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config loader entry points and the top level (workers, listen, admin, access_log, timeouts). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_keys.h"

#define CFG_MAX_FILE (4u << 20) /* a config is a few KiB; refuse anything absurd */

static int load_listen(struct cfg_ld *ld, const struct cfg_node *v)
{
	struct config *c = ld->c;
	const struct cfg_node *one = v;
	char g[64];
	int n = 1;

	if (v->type == CFG_N_MAP || cfg_is_null(v))
		return cfg_fail(ld, v, "\"listen\" must be a list of \"host:port\", got %s",
				cfg_got(v, g, sizeof(g)));
	if (v->type == CFG_N_SEQ) {
		n = v->n;
		if (!n)
			return cfg_fail(ld, v, "\"listen\" must name at least one \"host:port\"");
		if (n > CFG_MAX_LISTEN)
			return cfg_fail(ld, v->kids[CFG_MAX_LISTEN],
					"\"listen\" takes at most %d addresses", CFG_MAX_LISTEN);
	}
	for (int i = 0; i < n; i++) {
		if (v->type == CFG_N_SEQ)
			one = v->kids[i];
		if (cfg_get_addr(ld, one, "listen address", 0, &c->listen[i]))
			return -EINVAL;
		ld->listen_node[i] = one;
		for (int j = 0; j < i; j++)
			if (cfg_addr_clash(&c->listen[i], &c->listen[j]))
				return cfg_fail(ld, one,
						"listen address \"%s\" overlaps \"%s\" (%d:%d)",
						c->listen[i].text, c->listen[j].text,
						ld->listen_node[j]->line, ld->listen_node[j]->col);
	}
	c->n_listen = n;
	return 0;
}

/* admin.token_file: the bearer token state-changing admin requests must carry, read now
 * (a reload re-reads it). One line of 16..256 visible ASCII characters. */
static int load_token(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
		      const struct cfg_node *x)
{
	struct cfg_ld *ld = w->ld;
	struct config *c = ld->c;
	char buf[260];
	size_t n;
	FILE *f;
	int r;

	if ((r = cfg_get_str(ld, x, "token_file", &c->admin_token_file)))
		return r;
	f = fopen(c->admin_token_file, "re");
	if (!f)
		return cfg_fail(ld, x, "admin token_file \"%s\": %s", c->admin_token_file,
				strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] <= 0x20 || buf[i] >= 0x7f)
			n = 0;
	if (n < 16 || n > 256)
		return cfg_fail(ld, x,
				"admin token_file \"%s\" must hold one line of 16 to 256 visible "
				"ASCII characters",
				c->admin_token_file);
	if (!(c->admin_token = cfg_keep(ld, buf, n)))
		return cfg_oom(ld);
	return 0;
}

static int load_admin_listen(const struct cfg_walk *w, const struct cfg_key *d,
			     const struct cfg_node *k, const struct cfg_node *x)
{
	struct cfg_ld *ld = w->ld;
	struct config *c = ld->c;

	if ((x->type == CFG_N_SCALAR && !x->len) || cfg_is_plain_word(x, "off")) {
		c->admin_enabled = 0;
		return 0;
	}
	if (cfg_get_addr(ld, x, "admin listen address", 0, &c->admin))
		return -EINVAL;
	c->admin_enabled = 1;
	ld->admin_node = x;
	return 0;
}

static int load_admin(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("listen", load_admin_listen),
	    CFG_FN("token_file", load_token),
	    CFG_KEYS_END,
	};
	struct config *c = ld->c;
	char g[64];
	int r;

	if (cfg_is_plain_word(v, "off")) {
		c->admin_enabled = 0;
		return 0;
	}
	if (v->type != CFG_N_MAP)
		return cfg_fail(
		    ld, v, "\"admin\" must be off or a mapping { listen: \"host:port\" }, got %s",
		    cfg_got(v, g, sizeof(g)));
	if ((r = cfg_want_map(ld, v, "\"admin\"", "in admin")))
		return r;
	return cfg_walk_keys(&(struct cfg_walk){ld, c, "in admin"}, v, keys);
}

static int load_access_path(const struct cfg_walk *w, const struct cfg_key *d,
			    const struct cfg_node *k, const struct cfg_node *x)
{
	struct cfg_access_log *al = w->obj;
	char *p = NULL;

	if (cfg_get_str(w->ld, x, "path", &p))
		return -EINVAL;
	if (!*p)
		return cfg_fail(w->ld, x, "\"path\" must name a file, stderr, stdout or off");
	al->enabled = strcmp(p, "off") != 0;
	al->path = al->enabled ? p : NULL;
	return 0;
}

static int load_access_log(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {CFG_FN("path", load_access_path), CFG_KEYS_END};
	struct cfg_access_log *al = &ld->c->access_log;
	char g[64];
	int r;

	if (cfg_is_plain_word(v, "off")) {
		al->enabled = 0;
		return 0;
	}
	if (v->type != CFG_N_MAP)
		return cfg_fail(
		    ld, v,
		    "\"access_log\" must be off or a mapping { path: FILE|stderr|stdout|off "
		    "}, got %s",
		    cfg_got(v, g, sizeof(g)));
	if ((r = cfg_want_map(ld, v, "\"access_log\"", "in access_log")))
		return r;
	return cfg_walk_keys(&(struct cfg_walk){ld, al, "in access_log"}, v, keys);
}

static uint32_t online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 256 ? 256 : (uint32_t)n;
}

static int set_defaults(struct cfg_ld *ld)
{
	struct config *c = ld->c;
	struct cfg_node n = {.type = CFG_N_SCALAR, .s = (char *)"0.0.0.0:8080", .len = 12};

	c->workers = online_cpus();
	c->admin_enabled = 1;
	c->shutdown_grace_ms = 5000;
	c->header_timeout_ms = 10000;
	c->body_timeout_ms = 30000;
	c->keepalive_timeout_ms = 60000;
	c->write_timeout_ms = 30000;
	c->max_connections = 65536;
	cfg_limits_defaults(&c->limits);
	c->order_reserve.percent = 10;
	if (cfg_get_addr(ld, &n, "listen", 0, &c->listen[0]))
		return -EINVAL;
	c->n_listen = 1;
	n.s = (char *)"127.0.0.1:9901";
	n.len = 14;
	return cfg_get_addr(ld, &n, "admin", 0, &c->admin);
}

/* order_reserve.ports: [8081] */
static int load_reserve_ports(const struct cfg_walk *w, const struct cfg_key *d,
			      const struct cfg_node *k, const struct cfg_node *x)
{
	struct cfg_ld *ld = w->ld;
	struct config *c = ld->c;
	char g[64];
	int r = 0;

	if (x->type != CFG_N_SEQ)
		return cfg_fail(ld, x, "\"ports\" must be a list of ports, got %s",
				cfg_got(x, g, sizeof(g)));
	if (x->n > CFG_MAX_LISTEN)
		return cfg_fail(ld, x->kids[CFG_MAX_LISTEN], "at most %d ports", CFG_MAX_LISTEN);
	for (int j = 0; j < x->n && !r; j++) {
		uint32_t port;

		r = cfg_get_u32(ld, x->kids[j], "ports", 1, 65535, "", &port);
		c->order_reserve.ports[j] = (uint16_t)port;
	}
	c->order_reserve.n_ports = x->n;
	return r;
}

/* order_reserve: { percent: 10, ports: [8081] } */
static int load_order_reserve(struct cfg_ld *ld, const struct cfg_node *v)
{
	static const struct cfg_key keys[] = {
	    CFG_U32(struct config, "percent", order_reserve.percent, 1, 90,
		    " (of max_connections)"),
	    CFG_FN("ports", load_reserve_ports),
	    CFG_KEYS_END,
	};
	int r;

	if ((r = cfg_want_map(ld, v, "\"order_reserve\"", "in order_reserve")))
		return r;
	return cfg_walk_keys(&(struct cfg_walk){ld, ld->c, "in order_reserve"}, v, keys);
}

static int load_workers(const struct cfg_walk *w, const struct cfg_key *d, const struct cfg_node *k,
			const struct cfg_node *x)
{
	w->ld->workers_node = x;
	return cfg_get_u32(w->ld, x, "workers", 1, 256, "", &w->ld->c->workers);
}

static int load_top(struct cfg_ld *ld, const struct cfg_node *root)
{
	static const struct cfg_key keys[] = {
	    CFG_FN("workers", load_workers),
	    CFG_SECT("listen", load_listen),
	    CFG_SECT("admin", load_admin),
	    CFG_SECT("upstreams", cfg_load_upstreams),
	    CFG_SECT("routes", cfg_load_routes),
	    CFG_SECT("access_log", load_access_log),
	    CFG_MS(struct config, "shutdown_grace_ms", shutdown_grace_ms, 0, CFG_MS_MAX),
	    CFG_MS(struct config, "header_timeout_ms", header_timeout_ms, 1, CFG_MS_MAX),
	    CFG_MS(struct config, "body_timeout_ms", body_timeout_ms, 1, CFG_MS_MAX),
	    CFG_MS(struct config, "keepalive_timeout_ms", keepalive_timeout_ms, 0, CFG_MS_MAX),
	    CFG_MS(struct config, "write_timeout_ms", write_timeout_ms, 1, CFG_MS_MAX),
	    CFG_U32(struct config, "max_connections", max_connections, 1, 10000000,
		    " (per worker)"),
	    CFG_SECT("lanes", cfg_load_lanes),
	    CFG_SECT("limits", cfg_load_limits),
	    CFG_SECT("xdp", cfg_load_xdp),
	    CFG_SECT("order_reserve", load_order_reserve),
	    CFG_SECT("trusted_proxies", cfg_load_trusted),
	    CFG_NAME(struct config, "user", user, "\"user\""),
	    CFG_KEYS_END,
	};
	struct config *c = ld->c;
	char g[64];
	int r;

	if (root->type != CFG_N_MAP)
		return cfg_fail(
		    ld, root,
		    "the config must be a mapping of keys (workers, listen, routes, ...), "
		    "got %s",
		    cfg_got(root, g, sizeof(g)));
	if ((r = cfg_want_map(ld, root, "the config", "at top level")))
		return r;
	if ((r = cfg_walk_keys(&(struct cfg_walk){ld, c, "at top level"}, root, keys)))
		return r;
	if ((r = cfg_finish_routes(ld)) || (r = cfg_finish_lanes(ld)))
		return r;
	for (int i = 0; c->admin_enabled && i < c->n_listen; i++)
		if (cfg_addr_clash(&c->admin, &c->listen[i]))
			return cfg_fail(ld, ld->admin_node ? ld->admin_node : ld->listen_node[i],
					"admin address \"%s\" overlaps listen address \"%s\"%s",
					c->admin.text, c->listen[i].text,
					ld->admin_node ? "" : " (admin listens there by default)");
	return 0;
}

struct config *config_load_string(const char *yaml, size_t len, const char *name, char *err,
				  size_t errlen)
{
	struct cfg_ld *ld = calloc(1, sizeof(*ld));
	struct config *c = calloc(1, sizeof(*c));
	struct cfg_node *root;
	int r = -ENOMEM;

	if (!name)
		name = "<string>";
	if (!ld || !c) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	ld->name = name;
	ld->err = err;
	ld->errlen = errlen;
	ld->c = c;
	if (!(c->source = cfg_keep(ld, name, strlen(name)))) {
		r = cfg_oom(ld);
		goto out;
	}
	if ((r = set_defaults(ld)))
		goto out;
	root = cfg_yaml_parse(yaml, len, name, &ld->heap, err, errlen);
	r = root ? load_top(ld, root) : -EINVAL;
out:
	if (ld)
		cfg_free_chain(&ld->heap);
	free(ld);
	if (r) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load_file(const char *path, char *err, size_t errlen)
{
	struct config *c;
	struct stat st;
	char *buf;
	ssize_t n;
	size_t nread = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > CFG_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 CFG_MAX_FILE);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (nread < (size_t)st.st_size &&
	       (n = read(fd, buf + nread, (size_t)st.st_size - nread)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		nread += (size_t)n;
	}
	close(fd);
	c = config_load_string(buf, nread, path, err, errlen);
	free(buf);
	return c;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	cfg_free_chain(&c->mem);
	free(c);
}
