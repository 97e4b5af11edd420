/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ordergated's YAML config: the parsed model, the loader and its file:line:column errors. */
#ifndef OG_CONFIG_H
#define OG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ordergate/og_shared.h" /* OG_LANE_* */

/*
 * A loaded config is immutable: workers hold a pointer to it, a reload builds a
 * new one and swaps the pointer, the old one is freed once no worker uses it.
 * Every string and array lives in the config's own allocation (freed by
 * config_free), so nothing here is shared with the YAML parser.
 */

#define CFG_MAX_LISTEN	       16
#define CFG_MAX_SERVERS	       64 /* per upstream */
#define CFG_MAX_UPSTREAMS      64
#define CFG_MAX_ROUTES	       256
#define CFG_MAX_METHODS	       10 /* methods one route may list */
#define CFG_MAX_RESP_HEADERS   16
#define CFG_REQUEST_BUFFER_MAX 65536 /* route request_buffer: default and most */

#define CFG_MAX_TRUSTED 64 /* trusted_proxies entries */

/* A network: AF_INET/AF_INET6 address and prefix (the layout the lanes config shares). */
struct cfg_cidr {
	uint8_t family;	    /* AF_INET or AF_INET6 */
	uint8_t prefix_len; /* bits, 0..32 or 0..128 */
	uint8_t addr[16];   /* network byte order, host bits zero; IPv4 in bytes 0..3 */
};

/* Is <addr> (4 or 16 bytes of <family>) inside <n>? */
int cfg_cidr_match(const struct cfg_cidr *n, int family, const void *addr);

struct cfg_addr {
	struct sockaddr_storage
	    ss; /* resolved numeric address (no DNS: "host:port" must be numeric, or "localhost") */
	socklen_t len;
	char text[64]; /* as written, e.g. "127.0.0.1:8080" */
};

enum cfg_balance {
	CFG_BAL_ROUND_ROBIN = 0,
	CFG_BAL_LEAST_REQUEST,
	CFG_BAL_HASH_HEADER, /* balance: hash(header:NAME) */
	CFG_BAL_HASH_SOURCE, /* balance: hash(source) */
};

struct cfg_health {
	int enabled;	      /* 1 when a health: section is present */
	char *path;	      /* GET path, default "/healthz" */
	uint32_t interval_ms; /* default 1000 */
	uint32_t timeout_ms;  /* default 500 */
	uint32_t rise;	      /* consecutive successes to mark up, default 2 */
	uint32_t fall;	      /* consecutive failures to mark down, default 3 */
};

/* Upstream response statuses 500..599 that count as a server failure (bit status - 500). */
struct cfg_statuses {
	uint64_t bits[2];
};

struct cfg_breaker {
	uint32_t
	    consecutive_failures; /* open after this many in a row; 0 = breaker off. default 5 */
	uint32_t open_ms; /* stay open this long, then let one probe through. default 30000 */
	struct cfg_statuses statuses; /* responses that count, default 502, 503, 504 */
};

struct cfg_outlier {
	uint32_t consecutive_5xx;      /* eject a server after this many failures in a row; 0 = off.
					  default 5 (the name is historical: see statuses) */
	uint32_t eject_ms;	       /* ejection time, default 10000 */
	uint32_t max_ejection_percent; /* at most this share of a pool ejected at once, and never
					  its last usable server. default 50 */
	struct cfg_statuses statuses;  /* responses that count, default 502, 503, 504 */
};

struct cfg_upstream {
	char *name;
	int n_servers;
	struct cfg_addr servers[CFG_MAX_SERVERS];
	enum cfg_balance balance;
	char *hash_header;	     /* for CFG_BAL_HASH_HEADER, lower-case */
	uint32_t keepalive;	     /* idle connections kept per server per worker, default 32 */
	uint32_t connect_timeout_ms; /* default 1000 */
	uint32_t timeout_ms; /* response (first byte and between reads) timeout, default 30000 */
	uint32_t retries;    /* extra attempts when safe (see proxy rules), default 1 */
	uint32_t keepalive_timeout_ms; /* idle pooled connections closed after this, default 4000 */
	uint32_t keepalive_requests;   /* requests per pooled connection, default 1000 */
	uint32_t max_connections;      /* busy connections per server per worker; more get 503
					  pool-exhausted. default 1024 */
	struct cfg_health health;
	struct cfg_breaker breaker;
	struct cfg_outlier outlier;
};

/* route idempotency: { ... } (lanes/idem.c; docs/config.md "Idempotency") */
enum cfg_idem_scope {
	CFG_IDEM_SCOPE_SOURCE = 0, /* the client address: keys are per client host (default) */
	CFG_IDEM_SCOPE_HEADER,	   /* the value of a header (an account id, a token) */
	CFG_IDEM_SCOPE_NONE,	   /* the route only: keys are global on the route */
};

struct cfg_idem {
	uint32_t window_ms;    /* a finished answer is replayed this long, default 60000 */
	uint32_t max_entries;  /* keys held at once, default 16384 */
	uint32_t max_key;      /* longest Idempotency-Key, bytes, default 128 */
	uint32_t max_response; /* largest response stored, bytes, default 8192 */
	enum cfg_idem_scope scope;
	char *scope_header; /* CFG_IDEM_SCOPE_HEADER: lower-case field name */
};

/* route fault: { ... } (proxy/fault.c; docs/operations.md "Fault injection") */
struct cfg_fault {
	uint32_t delay_ms;	  /* added before the upstream exchange */
	uint32_t delay_jitter_ms; /* delay drawn uniformly from delay_ms +- this */
	uint32_t delay_percent;	  /* of requests delayed, 0..100 */
	uint32_t abort_status;	  /* answered instead of proxying, default 503 */
	uint32_t abort_percent;	  /* of requests aborted, 0..100 */
};

struct cfg_header {
	char *name;
	char *value;
};

/* limit: { rps, burst, key } of a route: a token bucket per (route, key). */
enum cfg_limit_key {
	CFG_LKEY_NONE = 0,   /* key: none, one bucket for the whole route */
	CFG_LKEY_SOURCE = 1, /* key: source, one bucket per client address */
	CFG_LKEY_HEADER = 2, /* key: header:NAME, one bucket per value of that header */
};

struct cfg_limit {
	uint32_t rps;	   /* sustained requests per second, 1..10000000 */
	uint32_t burst;	   /* requests admitted at once from a full bucket; default = rps */
	int key_kind;	   /* enum cfg_limit_key; default CFG_LKEY_SOURCE */
	char *key_header;  /* CFG_LKEY_HEADER: the header name, lower case */
	uint32_t key_hlen; /* bytes of key_header */
	uint64_t key_seed; /* hash of the route's name: buckets follow the name across reloads */
};

struct cfg_route {
	char *name; /* "name:" or generated "route<N>" */
	/* match */
	char *path;		      /* exact path, or NULL */
	char *path_prefix;	      /* prefix, or NULL */
	int n_methods;		      /* 0 = any method */
	int methods[CFG_MAX_METHODS]; /* enum http_method; HTTP_M_OTHER entries use method_names */
	char *method_names[CFG_MAX_METHODS]; /* as written, upper case */
	char *header_name; /* match.header: { name: X, value: Y } (case-insensitive name, exact
			      value) */
	char *header_value;
	/* action: exactly one of respond / upstream */
	int is_respond;
	uint16_t status; /* respond.status */
	char *body;	 /* respond.body, may be "" */
	size_t body_len;
	int n_resp_headers;
	struct cfg_header resp_headers[CFG_MAX_RESP_HEADERS];
	int upstream;	   /* index into config.upstreams when !is_respond */
	uint64_t max_body; /* bytes, default 1 MiB (max_body: "10m" | 1048576) */
	/* request bodies up to this many bytes are read whole before anything goes upstream
	 * (nginx's proxy_request_buffering); larger ones stream. 0 = always stream */
	uint32_t request_buffer;
	/* Added: lengths precomputed at load so router_match never calls strlen. */
	uint32_t path_len;			    /* bytes of path (exact), 0 when NULL */
	uint32_t path_prefix_len;		    /* bytes of path_prefix, 0 when NULL */
	uint32_t header_value_len;		    /* bytes of header_value */
	uint32_t method_name_lens[CFG_MAX_METHODS]; /* bytes of method_names[i] */
	int has_idem; /* idempotency: present (upstream routes only) */
	struct cfg_idem idem;
	int has_fault; /* fault: present (upstream routes only) */
	struct cfg_fault fault;
	uint8_t lane;		/* lane: OG_LANE_*; OG_LANE_NONE = ride the connection's lane */
	int has_limit;		/* 1 when a limit: section is present */
	struct cfg_limit limit; /* valid when has_limit */
};

/* An address prefix: lanes.trusted, lanes.<lane>.match.src_cidrs. */

#define CFG_MAX_CIDRS 64 /* per list */
#define CFG_MAX_PORTS 64 /* lanes.<lane>.match.dst_ports */

/* One lane of lanes: order / normal / bulk. */
struct cfg_lane {
	char class_str[16];	  /* class: "1:10" as written (normalised), "" = none */
	uint32_t class_id;	  /* HTB handle 0xMMMMmmmm of class_str, 0 = none */
	uint32_t slo_p99_ms;	  /* 0 = no latency objective */
	uint32_t reserve_workers; /* workers reserved for this lane (order only) */
	uint32_t others_nice;	  /* order only: nice of the other workers when reserving, 10 */
	uint32_t max_inflight;	  /* normal/bulk: static in-flight ceiling, 0 = none; the law
				   * and its limit work below it */
	uint16_t *dst_ports;	  /* match.dst_ports: listener ports that put a connection here */
	int n_dst_ports;
	struct cfg_cidr *src_cidrs; /* match.src_cidrs: client prefixes that put it here */
	int n_src_cidrs;
};

/* lanes: present or not; lane[] is indexed by OG_LANE_* (lane[OG_LANE_NONE] unused). */
struct cfg_lanes {
	int present;
	struct cfg_cidr *trusted; /* sources whose x-traffic-tier header is honoured */
	int n_trusted;
	struct cfg_lane lane[OG_LANE_MAX];
};

/* limits.slow: the slow loop's thresholds (per source, per second over a slow_ms window) and
 * what a source over one gets (user/lanes/slow.h). */
struct cfg_slow {
	uint32_t syn_rate;	  /* SYNs/s, default 500 */
	uint32_t pkt_rate;	  /* packets/s, default 50000 */
	uint32_t reject_rate;	  /* L7 429s/s, default 50 */
	uint32_t throttle_pps;	  /* the og_throttle bucket's rate, default 100 */
	uint32_t throttle_burst;  /* and its size, default 200 */
	uint32_t throttle_ttl_ms; /* first TTL (doubles per repeat), default 10000 */
	uint32_t calm_windows;	  /* calm windows before an early release, default 3 */
};

/* limits: the controller's periods and the requests it never limits. */
struct cfg_limits {
	int present;		/* 1 when a limits: section was written */
	uint32_t fast_ms;	/* fast loop period, default 100 */
	uint32_t slow_ms;	/* slow loop period (kernel flow stats), default 1000 */
	double decrease;	/* deepest multiplicative cut per fast window, default 0.7 */
	double queue_tolerance; /* order p50 over its quiet baseline by this share: cut; 0 = off */
	int dry_run;		/* count what would be rejected, admit it; default 0 */
	char *cancel_method;	/* cancel.method, NULL = no cancel rule */
	char *cancel_prefix;	/* cancel.path_prefix, NULL = any path */
	uint32_t cancel_prefix_len;
	char *kill_path; /* kill_switch.path, NULL = none */
	uint32_t kill_path_len;
	uint32_t floor;	      /* lowest in-flight limit the controller sets, default 4 */
	uint32_t ceiling;     /* highest before a lane goes back to unlimited, default 4096 */
	uint32_t grow_after;  /* fast windows under the SLO before a limit grows, default 3 */
	struct cfg_slow slow; /* limits.slow (defaults filled in even when absent) */
};

/* xdp: attach the datapath to an interface (done by the kernel link, user/lanes/kern). */
struct cfg_xdp {
	int present;
	char ifname[16]; /* interface name, IFNAMSIZ */
	int mode;	 /* enum dp_xdp_mode: 0 auto, 1 native, 2 generic (skb) */
	char *pin_path;	 /* bpffs dir of the maps; NULL: /sys/fs/bpf/ordergate or the adopted's */
};

struct cfg_access_log {
	int enabled; /* default 1 when a path is given */
	char *path;  /* file path, or "stderr"/"stdout" */
};

struct config {
	char *source;	  /* file path, or "<embedded>" */
	uint32_t workers; /* default: number of online CPUs */
	int n_listen;
	struct cfg_addr listen[CFG_MAX_LISTEN];
	struct cfg_addr admin;	/* admin.listen, default 127.0.0.1:9901 */
	int admin_enabled;	/* 0 when admin: { listen: "" } / admin: off */
	char *admin_token_file; /* admin.token_file, or NULL */
	char *user;		/* run as this user after start (from root), or NULL */
	/* trusted_proxies: only clients in these networks may send X-Forwarded-For; from anyone
	 * else it is dropped and replaced by the client address */
	int n_trusted;
	struct cfg_cidr trusted[CFG_MAX_TRUSTED];
	char *admin_token; /* its content: state-changing admin requests need "Bearer <it>" */
	int n_upstreams;
	struct cfg_upstream upstreams[CFG_MAX_UPSTREAMS];
	int n_routes;
	struct cfg_route routes[CFG_MAX_ROUTES];
	struct cfg_access_log access_log;
	uint32_t shutdown_grace_ms; /* default 5000 */
	/* timeouts (ms) for client connections */
	uint32_t header_timeout_ms;    /* whole head must arrive within this, default 10000 */
	uint32_t body_timeout_ms;      /* between body reads, default 30000 */
	uint32_t keepalive_timeout_ms; /* idle keep-alive, default 60000 */
	uint32_t write_timeout_ms;     /* a blocked write, default 30000 */
	uint32_t max_connections;      /* per worker, default 65536 */
	struct cfg_lanes lanes;	       /* lanes: (present = 0 when absent) */
	struct cfg_limits limits;      /* limits: (defaults filled in even when absent) */
	struct cfg_xdp xdp;	       /* xdp: (present = 0: userspace only) */
	int lanes_active; /* derived: lanes present or some route has a limit (admission runs) */
	/* order_reserve: the last <percent> of each worker's connection slots are kept for
	 * connections accepted on these local ports (the order listeners) */
	struct {
		uint32_t percent; /* default 10 */
		int n_ports;	  /* 0 = no reserve */
		uint16_t ports[CFG_MAX_LISTEN];
	} order_reserve;
	/* Added: internal, every string above is one block on this list (config_free). */
	void *mem;
};

/* Does upstream status <st> count as a server failure for <set>? */
static inline int cfg_status_counts(const struct cfg_statuses *set, unsigned st)
{
	return st >= 500 && st < 600 && (set->bits[(st - 500) / 64] >> ((st - 500) % 64) & 1);
}

/* The config `ordergated` runs with no arguments (listen :8080, /ping -> pong, admin
 * 127.0.0.1:9901). */
extern const char config_default_yaml[];

/*
 * Load and validate the YAML file <path>. Returns a new config, or NULL with
 * "<path>:<line>:<column>: <what is wrong>" in <err> (lines and columns from 1).
 * Refuses unknown keys, wrong types, bad addresses, bad prefixes and ports, and
 * routes naming missing upstreams.
 */
struct config *config_load_file(const char *path, char *err, size_t errlen);
/* Same for an in-memory document; <name> is used in error messages. */
struct config *config_load_string(const char *yaml, size_t len, const char *name, char *err,
				  size_t errlen);
/* Free a config from config_load_*; NULL is fine. */
void config_free(struct config *c);
/* Write the effective config (defaults filled in) as YAML to <f> (for /config). */
struct evbuffer;
void config_dump(const struct config *c, struct evbuffer *out);

#endif /* OG_CONFIG_H */
