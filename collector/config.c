#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfgpath.h"
#include "yamldoc.h"

typedef struct {
    char *listen, *topology, *secrets, *data_dir, *log_level;
    uint32_t max_clock_skew_s;
    yaml_node_t *tls;
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

static void free_raw(raw_t *r)
{
    free(r->listen);
    free(r->topology);
    free(r->secrets);
    free(r->data_dir);
    free(r->log_level);
}

/* Turns the raw strings into the config, checking values that the schema cannot. */
static int cook(rn_yaml_t *y, const char *path, raw_t *r, rn_collector_config_t *c)
{
    yaml_node_t *root = rn_yaml_root(y);
    if (rn_cfg_split_hostport(r->listen, &c->listen_host, &c->listen_port) != 0)
        return rn_yaml_fail(y, root, "listen", "'%s' is not host:port", r->listen);
    if (r->log_level && rn_log_level_parse(r->log_level, &c->log_level) != 0)
        return rn_yaml_fail(y, root, "log_level", "'%s' is not error, warn, info or debug",
                            r->log_level);
    c->topology_path = rn_cfg_resolve_path(path, r->topology);
    c->secrets_path = r->secrets ? rn_cfg_resolve_path(path, r->secrets) : NULL;
    c->data_dir = rn_cfg_resolve_path(path, r->data_dir);
    c->max_clock_skew_s = r->max_clock_skew_s;
    if (read_tls(y, r->tls, path, c))
        return y->rc;
    if (!c->topology_path || !c->data_dir || (r->secrets && !c->secrets_path))
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
        F("log_level", RN_YF_STR, false, log_level, 0, 0),
        F("max_clock_skew_s", RN_YF_U32, false, max_clock_skew_s, 0, 86400),
        F("tls", RN_YF_NODE, true, tls, 0, 0),
    };
    raw_t raw = { .max_clock_skew_s = 5 };
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
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_ca);
    free(c);
}
