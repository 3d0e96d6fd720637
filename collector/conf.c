#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgpath.h"
#include "collector.h"
#include "http/http.h"
#include "yamldoc.h"

typedef struct {
    char *listen, *topology, *secrets, *data_dir, *state_dir, *rrdcached;
    yaml_node_t *log_level;       /* a node, so that an error names the value's line */
    char *assets;                 /* the asset register's file (collector/assets/asset_file.h) */
    uint32_t max_clock_skew_s, max_future_skew_s;
    yaml_node_t *tls;
    yaml_node_t *http;            /* HTTP API section, read by read_http */
    yaml_node_t *notify;          /* notify section, read by rn_notify_config_read */
} raw_t;

typedef struct {
    char *cert, *key, *ca;
} tls_raw_t;

#define F(key, type, req, member, lo, hi) { key, type, req, offsetof(raw_t, member), lo, hi }

/* Reads the tls section; paths are taken relative to the config file's folder. */
static int read_tls(rn_yaml_t *y, yaml_node_t *node, const char *path, rn_collector_config_t *c)
{
    static const rn_yaml_field_t fields[] = {
        { "cert", RN_YF_STR, true, offsetof(tls_raw_t, cert), 0, 0 },
        { "key", RN_YF_STR, true, offsetof(tls_raw_t, key), 0, 0 },
        { "ca", RN_YF_STR, true, offsetof(tls_raw_t, ca), 0, 0 },
    };
    tls_raw_t t = { 0 };
    if (rn_yaml_read_map(y, node, "tls", fields, 3, &t) == 0) {
        c->tls_cert = rn_cfg_resolve_path(path, t.cert);
        c->tls_key = rn_cfg_resolve_path(path, t.key);
        c->tls_ca = rn_cfg_resolve_path(path, t.ca);
        if (!c->tls_cert || !c->tls_key || !c->tls_ca)
            y->rc = -ENOMEM;
    }
    free(t.cert), free(t.key), free(t.ca);
    return y->rc;
}

/* --- HTTP API: the `http:` section (see config.h) --- */
typedef struct {
    char *listen, *dashboard_dir;
    uint32_t max_connections, max_per_ip, timeout_s;
    yaml_node_t *tokens, *tls, *allowed_hosts;
} http_raw_t;

static int read_http_token(rn_yaml_t *y, yaml_node_t *node, const char *where, rn_http_token_t *t)
{
    static const rn_yaml_field_t fields[] = {
        { "name", RN_YF_STR, true, offsetof(rn_http_token_t, name), 0, 0 },
        { "token", RN_YF_STR, true, offsetof(rn_http_token_t, token), 0, 0 },
        { "role", RN_YF_STR, true, offsetof(rn_http_token_t, role), 0, 0 },
    };
    if (rn_yaml_read_map(y, node, where, fields, 3, t))
        return y->rc;
    if (strcmp(t->role, "operator") && strcmp(t->role, "admin") && strcmp(t->role, "viewer"))
        return rn_yaml_fail(y, node, where, "role '%s' is not operator, admin or viewer", t->role);
    if (strlen(t->token) < 8)
        return rn_yaml_fail(y, node, where, "token is shorter than 8 characters");
    return 0;
}

/* Reads http.allowed_hosts: DNS names (letters, digits, '-', '.'), kept in lower case without a
 * trailing dot, as rn__http_host_allowed compares them. Returns 0 or y->rc. */
static int read_allowed_hosts(rn_yaml_t *y, yaml_node_t *seq, rn_http_config_t *h)
{
    if (!rn_yaml_is_seq(y, seq, "http.allowed_hosts"))
        return y->rc;
    size_t n = rn_yaml_seq_len(seq);
    h->allowed_hosts = calloc(n ? n : 1, sizeof *h->allowed_hosts);
    if (!h->allowed_hosts)
        return y->rc = -ENOMEM;
    for (size_t i = 0; i < n && y->rc == 0; i++) {
        char where[48];
        snprintf(where, sizeof where, "http.allowed_hosts[%zu]", i);
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        const char *v = rn_yaml_scalar(y, item, where);
        if (!v)
            break;
        size_t len = strlen(v);
        if (len && v[len - 1] == '.')
            len--;
        bool ok = len > 0 && len <= 253 && v[0] != '.' && v[0] != '-';
        for (size_t k = 0; ok && k < len; k++)
            ok = isalnum((unsigned char)v[k]) || v[k] == '-' || v[k] == '.';
        if (!ok)
            return rn_yaml_fail(y, item, where, "'%s' is not a DNS name", v);
        if (!(h->allowed_hosts[i] = strndup(v, len)))
            return y->rc = -ENOMEM;
        for (char *p = h->allowed_hosts[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        h->n_allowed_hosts = i + 1;
    }
    return y->rc;
}

static int read_http(rn_yaml_t *y, yaml_node_t *node, const char *path, rn_http_config_t *h)
{
    static const rn_yaml_field_t fields[] = {
        { "listen", RN_YF_STR, false, offsetof(http_raw_t, listen), 0, 0 },
        { "dashboard_dir", RN_YF_STR, false, offsetof(http_raw_t, dashboard_dir), 0, 0 },
        { "tokens", RN_YF_NODE, false, offsetof(http_raw_t, tokens), 0, 0 },
        { "tls", RN_YF_NODE, false, offsetof(http_raw_t, tls), 0, 0 },
        { "max_connections", RN_YF_U32, false, offsetof(http_raw_t, max_connections), 1, 100000 },
        { "max_connections_per_ip", RN_YF_U32, false, offsetof(http_raw_t, max_per_ip), 1, 100000 },
        { "timeout_s", RN_YF_U32, false, offsetof(http_raw_t, timeout_s), 1, 3600 },
        { "allowed_hosts", RN_YF_NODE, false, offsetof(http_raw_t, allowed_hosts), 0, 0 },
    };
    http_raw_t r = { .max_connections = 512, .max_per_ip = 64, .timeout_s = 15 };
    if (!node)
        return 0;
    h->enabled = true;
    if (rn_yaml_read_map(y, node, "http", fields, sizeof fields / sizeof fields[0], &r))
        goto out;
    h->max_connections = r.max_connections;
    h->max_per_ip = r.max_per_ip;
    h->timeout_s = r.timeout_s;
    if (rn_cfg_split_hostport(r.listen ? r.listen : "127.0.0.1:8080", &h->listen_host,
                              &h->listen_port) != 0) {
        rn_yaml_fail(y, node, "http.listen", "'%s' is not host:port", r.listen);
        goto out;
    }
    if (r.dashboard_dir && !(h->dashboard_dir = rn_cfg_resolve_path(path, r.dashboard_dir)))
        y->rc = -ENOMEM;
    if (r.tls) {
        tls_raw_t t = { 0 };
        static const rn_yaml_field_t tf[] = {
            { "cert", RN_YF_STR, true, offsetof(tls_raw_t, cert), 0, 0 },
            { "key", RN_YF_STR, true, offsetof(tls_raw_t, key), 0, 0 },
        };
        if (rn_yaml_read_map(y, r.tls, "http.tls", tf, 2, &t) == 0) {
            h->tls_cert = rn_cfg_resolve_path(path, t.cert);
            h->tls_key = rn_cfg_resolve_path(path, t.key);
            if (!h->tls_cert || !h->tls_key)
                y->rc = -ENOMEM;
        }
        free(t.cert), free(t.key);
    }
    if (r.tokens && rn_yaml_is_seq(y, r.tokens, "http.tokens")) {
        size_t n = rn_yaml_seq_len(r.tokens);
        h->tokens = calloc(n ? n : 1, sizeof *h->tokens);
        if (!h->tokens) {
            y->rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n && y->rc == 0; i++) {
            char where[48];
            snprintf(where, sizeof where, "http.tokens[%zu]", i);
            h->n_tokens = i + 1;
            if (read_http_token(y, rn_yaml_seq_item(y, r.tokens, i), where, &h->tokens[i]))
                break;
            for (size_t j = 0; j < i; j++)
                if (strcmp(h->tokens[j].token, h->tokens[i].token) == 0 ||
                    strcmp(h->tokens[j].name, h->tokens[i].name) == 0)
                    rn_yaml_fail(y, rn_yaml_seq_item(y, r.tokens, i), where,
                                 "name or token repeats http.tokens[%zu]", j);
        }
    }
    if (y->rc == 0 && r.allowed_hosts)
        read_allowed_hosts(y, r.allowed_hosts, h);
out:
    free(r.listen);
    free(r.dashboard_dir);
    return y->rc;
}

/* Frees a token list (the secrets wiped first). */
static void free_tokens(rn_http_token_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].name);
        if (t[i].token)
            explicit_bzero(t[i].token, strlen(t[i].token));
        free(t[i].token);
        free(t[i].role);
    }
    free(t);
}

static void free_http(rn_http_config_t *h)
{
    free(h->listen_host);
    free(h->dashboard_dir);
    free_tokens(h->tokens, h->n_tokens);
    for (size_t i = 0; i < h->n_allowed_hosts; i++)
        free(h->allowed_hosts[i]);
    free(h->allowed_hosts);
    free(h->tls_cert);
    free(h->tls_key);
}
/* --- end HTTP API --- */

static void free_raw(raw_t *r)
{
    free(r->listen);
    free(r->topology);
    free(r->secrets);
    free(r->data_dir);
    free(r->state_dir);
    free(r->rrdcached);
    free(r->assets);
}

/* Turns the raw strings into the config, checking values that the schema cannot. */
static int cook(rn_yaml_t *y, const char *path, raw_t *r, rn_collector_config_t *c)
{
    yaml_node_t *root = rn_yaml_root(y);
    if (rn_cfg_split_hostport(r->listen, &c->listen_host, &c->listen_port) != 0)
        return rn_yaml_fail(y, root, "listen", "'%s' is not host:port", r->listen);
    const char *level = r->log_level ? rn_yaml_scalar(y, r->log_level, "log_level") : NULL;
    if (y->rc)
        return y->rc;
    if (level && rn_log_level_parse(level, &c->log_level) != 0)
        return rn_yaml_fail(y, r->log_level, "log_level", "'%s' is not error, warn, info or debug",
                            level);
    c->topology_path = rn_cfg_resolve_path(path, r->topology);
    c->secrets_path = r->secrets ? rn_cfg_resolve_path(path, r->secrets) : NULL;
    c->data_dir = rn_cfg_resolve_path(path, r->data_dir);
    c->state_dir = rn_cfg_resolve_path(path, r->state_dir ? r->state_dir : r->data_dir);
    c->assets_path = r->assets ? rn_cfg_resolve_path(path, r->assets) : NULL;
    if (r->assets && !c->assets_path)
        return y->rc = -ENOMEM;
    c->max_clock_skew_s = r->max_clock_skew_s;
    c->max_future_skew_s = r->max_future_skew_s;
    if (r->rrdcached) {
        const char *a = r->rrdcached;
        bool unix_path = strncmp(a, "unix:", 5) == 0 || a[0] == '/';
        if (*a == '\0' || (unix_path && a[a[0] == '/' ? 0 : 5] != '/') ||
            (!unix_path && strpbrk(a, " \t/") != NULL))
            return rn_yaml_fail(y, root, "rrdcached",
                                "'%s' is not unix:/absolute/path or host[:port]", a);
        c->rrdcached = r->rrdcached;
        r->rrdcached = NULL;
    }
    if (read_tls(y, r->tls, path, c))
        return y->rc;
    if (read_http(y, r->http, path, &c->http)) /* HTTP API */
        return y->rc;
    if (r->notify && rn_notify_config_read(y, r->notify, &c->notify))
        return y->rc;
    if (!c->notify.state_dir && c->state_dir &&
        asprintf(&c->notify.state_dir, "%s/notify", c->state_dir) < 0)
        return y->rc = -ENOMEM;
    if (!c->topology_path || !c->data_dir || !c->state_dir || (r->secrets && !c->secrets_path))
        return y->rc = -ENOMEM;
    return 0;
}

int rn_collector_config_load(const char *path, rn_collector_config_t **out, char *err,
                             size_t err_len)
{
    static const rn_yaml_field_t fields[] = {
        F("listen", RN_YF_STR, true, listen, 0, 0),
        F("topology", RN_YF_STR, true, topology, 0, 0),
        F("secrets", RN_YF_STR, false, secrets, 0, 0),
        F("data_dir", RN_YF_STR, true, data_dir, 0, 0),
        F("state_dir", RN_YF_STR, false, state_dir, 0, 0),
        F("notify", RN_YF_NODE, false, notify, 0, 0),
        F("log_level", RN_YF_NODE, false, log_level, 0, 0),
        F("max_clock_skew_s", RN_YF_U32, false, max_clock_skew_s, 0, 86400),
        F("max_future_skew_s", RN_YF_U32, false, max_future_skew_s, 0, 86400),
        F("tls", RN_YF_NODE, true, tls, 0, 0),
        F("rrdcached", RN_YF_STR, false, rrdcached, 0, 0),
        F("http", RN_YF_NODE, false, http, 0, 0), /* HTTP API */
        F("assets", RN_YF_STR, false, assets, 0, 0), /* the asset register's file */
    };
    raw_t raw = { .max_clock_skew_s = 5, .max_future_skew_s = 300 };
    rn_collector_config_t *c = calloc(1, sizeof *c);
    rn_yaml_t y;
    int rc = c ? rn_yaml_load(&y, path, err, err_len) : -ENOMEM;
    if (c && rc == 0) {
        c->log_level = RN_LOG_INFO;
        rc = rn_yaml_read_map(&y, rn_yaml_root(&y), "(top)", fields,
                              sizeof fields / sizeof fields[0], &raw);
        if (rc == 0)
            rc = cook(&y, path, &raw, c);
    }
    if (c)
        rn_yaml_free(&y);
    free_raw(&raw);
    if (rc) {
        rn_collector_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void rn_collector_config_free(rn_collector_config_t *c)
{
    if (!c)
        return;
    free(c->listen_host);
    free(c->topology_path);
    free(c->secrets_path);
    free(c->data_dir);
    free(c->state_dir);
    rn_notify_config_free(&c->notify);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_ca);
    free(c->rrdcached);
    free(c->assets_path);
    free_http(&c->http); /* HTTP API */
    while (c->retired) {
        rn_conf_retired_t *r = c->retired;
        c->retired = r->next;
        free_tokens(r->tokens, r->n_tokens);
        free(r);
    }
    free(c);
}

/* ---- SIGHUP: the file read again -------------------------------------------------------------- */

/* True when the strings differ (NULL equals only NULL). */
static bool str_differs(const char *a, const char *b)
{
    return !(a == b || (a && b && strcmp(a, b) == 0));
}

/* Logs that key changed in path but needs a restart. Returns 1 when it differs, else 0. */
static size_t needs_restart(const char *path, const char *key, bool differs)
{
    if (differs)
        rn_warn("reload: %s: %s changed: needs a restart (the old value stays until then)", path,
                key);
    return differs ? 1 : 0;
}

/* True when the http sections differ in anything but their tokens. */
static bool http_differs(const rn_http_config_t *a, const rn_http_config_t *b)
{
    bool d = a->enabled != b->enabled || str_differs(a->listen_host, b->listen_host) ||
             a->listen_port != b->listen_port || str_differs(a->dashboard_dir, b->dashboard_dir) ||
             str_differs(a->tls_cert, b->tls_cert) || str_differs(a->tls_key, b->tls_key) ||
             a->max_connections != b->max_connections || a->max_per_ip != b->max_per_ip ||
             a->timeout_s != b->timeout_s || a->n_allowed_hosts != b->n_allowed_hosts;
    for (size_t i = 0; !d && i < a->n_allowed_hosts; i++)
        d = str_differs(a->allowed_hosts[i], b->allowed_hosts[i]);
    return d;
}

/* Logs every setting of nw that differs from cur and cannot change while running. Returns how
 * many. */
static size_t restart_only(const rn_collector_config_t *cur, const rn_collector_config_t *nw,
                           const char *path)
{
    size_t k = 0;
    k += needs_restart(path, "listen", str_differs(cur->listen_host, nw->listen_host) ||
                                           cur->listen_port != nw->listen_port);
    k += needs_restart(path, "data_dir", str_differs(cur->data_dir, nw->data_dir));
    k += needs_restart(path, "state_dir", str_differs(cur->state_dir, nw->state_dir));
    k += needs_restart(path, "tls", str_differs(cur->tls_cert, nw->tls_cert) ||
                                        str_differs(cur->tls_key, nw->tls_key) ||
                                        str_differs(cur->tls_ca, nw->tls_ca));
    k += needs_restart(path, "rrdcached", str_differs(cur->rrdcached, nw->rrdcached));
    k += needs_restart(path, "notify.state_dir",
                       str_differs(cur->notify.state_dir, nw->notify.state_dir));
    k += needs_restart(path, "http (all but tokens)", http_differs(&cur->http, &nw->http));
    return k;
}

/* True when the token lists differ (names, secrets, roles, order). */
static bool tokens_differ(const rn_http_config_t *a, const rn_http_config_t *b)
{
    if (a->n_tokens != b->n_tokens)
        return true;
    for (size_t i = 0; i < a->n_tokens; i++)
        if (str_differs(a->tokens[i].name, b->tokens[i].name) ||
            str_differs(a->tokens[i].token, b->tokens[i].token) ||
            str_differs(a->tokens[i].role, b->tokens[i].role))
            return true;
    return false;
}

/* Moves nw's tokens into cur and hands them to the server; cur's old list is kept until the
 * config is freed (requests in flight point into it). Returns 0 or -ENOMEM (nothing changed). */
static int swap_tokens(rn_collector_t *c, rn_collector_config_t *cur, rn_collector_config_t *nw)
{
    rn_conf_retired_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->tokens = cur->http.tokens, r->n_tokens = cur->http.n_tokens;
    r->next = cur->retired;
    cur->retired = r;
    cur->http.tokens = nw->http.tokens, cur->http.n_tokens = nw->http.n_tokens;
    nw->http.tokens = NULL, nw->http.n_tokens = 0;
    rn_http_set_tokens(c->http, cur->http.tokens, cur->http.n_tokens);
    rn_info("reload: http.tokens: %zu token(s) (was %zu); the replaced ones are refused from now "
            "on", cur->http.n_tokens, r->n_tokens);
    return 0;
}

/* Swaps the string at *a with the one at *b when they differ. Returns 1 if they did. */
static size_t take_str(char **a, char **b)
{
    if (!str_differs(*a, *b))
        return 0;
    char *t = *a;
    *a = *b, *b = t;
    return 1;
}

/* Applies what may change while running from nw to cur (and the running modules). Returns how
 * many settings changed. */
static size_t apply(rn_collector_t *c, rn_collector_config_t *cur, rn_collector_config_t *nw)
{
    static const char *const level[] = { "error", "warn", "info", "debug" };
    size_t k = 0;
    if (nw->log_level != cur->log_level) { /* said at the quieter of the two levels */
        rn_log(nw->log_level < cur->log_level ? nw->log_level : cur->log_level,
               "reload: log_level %s -> %s", level[cur->log_level], level[nw->log_level]);
        cur->log_level = nw->log_level;
        rn_log_set_level(nw->log_level);
        k++;
    }
    if (str_differs(nw->notify.state_dir, cur->notify.state_dir)) { /* the journal stays */
        free(nw->notify.state_dir);
        nw->notify.state_dir = cur->notify.state_dir ? strdup(cur->notify.state_dir) : NULL;
    }
    if (!rn_notify_config_equal(&cur->notify, &nw->notify)) {
        rn_notify_config_t t = cur->notify;
        cur->notify = nw->notify, nw->notify = t;
        if (rn_notifier_reconfigure(c->notifier, &cur->notify) == 0)
            k++;
    }
    if (cur->http.enabled && nw->http.enabled && tokens_differ(&cur->http, &nw->http) &&
        swap_tokens(c, cur, nw) == 0)
        k++;
    k += take_str(&cur->topology_path, &nw->topology_path);
    k += take_str(&cur->secrets_path, &nw->secrets_path);
    k += take_str(&cur->assets_path, &nw->assets_path);
    k += cur->max_clock_skew_s != nw->max_clock_skew_s;
    k += cur->max_future_skew_s != nw->max_future_skew_s;
    cur->max_clock_skew_s = nw->max_clock_skew_s;
    cur->max_future_skew_s = nw->max_future_skew_s;
    return k;
}

int rn_collector_config_reload(rn_collector_t *c)
{
    char err[1024];
    rn_collector_config_t *nw;
    int rc = rn_collector_config_load(c->config_path, &nw, err, sizeof err);
    if (rc) {
        rn_error("reload: keeping the current settings: %s", err);
        return rc;
    }
    size_t restart = restart_only(c->config, nw, c->config_path);
    size_t changed = apply(c, c->config, nw);
    rn_info("reload: %s read: %zu setting(s) changed, %zu need a restart", c->config_path, changed,
            restart);
    rn_collector_config_free(nw);
    return 0;
}
