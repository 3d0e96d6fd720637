/* The collector's own configuration file (YAML):
 *
 *   listen: 0.0.0.0:7400          # where agents connect (host:port)
 *   topology: topology.yaml       # relative paths are taken from this file's folder
 *   secrets: secrets.yaml
 *   data_dir: /var/lib/rajnet/rrd # RRD files
 *   state_dir: /var/lib/rajnet    # the event store (events.db); defaults to data_dir
 *   log_level: info               # error, warn, info, debug
 *   max_clock_skew_s: 5           # warn when an agent's clock is further off
 *   max_future_skew_s: 300        # drop samples stamped later than now + this [300]; counted
 *                                 # per node (rajnet_collector_samples_future_total)
 *   notify: { ... }               # optional: SNMP traps/informs, syslog, webhooks, exec hooks
 *                                 # (collector/notify/notify.h documents the section)
 *   rrdcached: unix:/run/rrdcached.sock  # optional: write RRDs through rrdcached (unix:/path,
 *                                 # /path or host[:port]); data_dir must be its -b directory
 *   tls:                          # mutual TLS 1.3 with every agent (deploy/pki/rajnet-pki)
 *     cert: collector.crt
 *     key: collector.key
 *     ca: ca.crt                  # agents' certificates must chain to this CA
 *   assets: assets.yaml           # optional: the asset file (docs/rajnet-assets.5), read again
 *                                 # on SIGHUP
 *   http:                         # optional: the HTTP API (docs/api.md); absent = no HTTP server
 *     listen: 127.0.0.1:8080      # [127.0.0.1:8080]
 *     dashboard_dir: /usr/share/rajnet/dashboard   # static files served at / [none]
 *     tokens:                     # bearer tokens for writes; role operator (or admin) may write,
 *       - { name: noc-shift-a, token: "s3cret-a", role: operator }   # viewer is read-only;
 *                                 # admin may also backdate maintenance windows
 *     allowed_hosts: [noc.rajnet.example]  # Host header names accepted besides IP literals,
 *                                 # localhost and the listen address (DNS rebinding) [none]
 *     tls: { cert: http.crt, key: http.key }      # optional: HTTPS instead of HTTP
 *     max_connections: 512        # in all [512]
 *     max_connections_per_ip: 64  # [64]
 *     timeout_s: 15               # idle connections are closed after this [15]
 *
 * SIGHUP reads the file again (rn_collector_config_reload): log_level, notify, http.tokens, the
 * topology, secrets and assets paths and max_*_skew_s take effect; every other setting needs a
 * restart (logged, the old value kept); a file with an error changes nothing (logged with
 * file:line and why).
 */
#ifndef RN_COLLECTOR_CONFIG_H
#define RN_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "notify/notify.h"

/* --- HTTP API (collector/http/http.h): the `http:` section --- */
typedef struct {
    char *name, *token, *role;    /* role: "operator", "admin" or "viewer" (docs/api.md) */
} rn_http_token_t;

typedef struct {
    bool enabled;                 /* the section is present */
    char *listen_host;
    uint16_t listen_port;
    char *dashboard_dir;          /* NULL: no static files */
    rn_http_token_t *tokens;
    size_t n_tokens;
    char *tls_cert, *tls_key;     /* both NULL: plain HTTP */
    uint32_t max_connections, max_per_ip, timeout_s;
    char **allowed_hosts;         /* Host names accepted besides the built-in ones (http_parse.c) */
    size_t n_allowed_hosts;
} rn_http_config_t;
/* --- end HTTP API --- */

/* Token lists replaced by a reload: requests in flight may still point into them (http.h). */
typedef struct rn_conf_retired {
    struct rn_conf_retired *next;
    rn_http_token_t *tokens;
    size_t n_tokens;
} rn_conf_retired_t;

typedef struct {
    char *listen_host;
    uint16_t listen_port;
    char *topology_path, *secrets_path, *data_dir, *state_dir;
    rn_log_level_t log_level;
    uint32_t max_clock_skew_s;
    uint32_t max_future_skew_s; /* samples stamped later than now + this are dropped */
    char *tls_cert, *tls_key, *tls_ca;
    char *rrdcached;           /* rrdcached address, or NULL: RRD files are written directly */
    rn_notify_config_t notify; /* notify: traps, syslog, webhooks, exec (collector/notify/notify.h) */
    rn_http_config_t http;        /* HTTP API */
    char *assets_path;            /* the asset file (docs/rajnet-assets.5), NULL: none */
    rn_conf_retired_t *retired;   /* http tokens replaced by reloads, freed with the config */
} rn_collector_config_t;

/* Loads path into a new config. Returns 0, or a negative error with "file:line: field: why" in
 * err. */
int rn_collector_config_load(const char *path, rn_collector_config_t **out, char *err,
                             size_t err_len);

void rn_collector_config_free(rn_collector_config_t *c);

struct rn_collector;

/* SIGHUP: reads c's collector.yaml again and applies what may change while the collector runs:
 * log_level (at once), notify (rn_notifier_reconfigure: queued notifications are kept),
 * http.tokens (rn_http_set_tokens: the old tokens are refused from the next request), and the
 * topology, secrets and assets paths and max_*_skew_s (read by the reloads and sessions that
 * follow). Any other setting that differs (listen, tls, data_dir, state_dir, rrdcached,
 * notify.state_dir, the rest of http) is logged as needing a restart and keeps its value. A file
 * that fails to load changes nothing and is logged with file:line and the reason. Call on the
 * loop thread, before the topology is reloaded. Returns 0 or the load's negative error. */
int rn_collector_config_reload(struct rn_collector *c);

#endif
