#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgpath.h"
#include "tls.h"
#include "wire.h"
#include "yamldoc.h"

typedef struct {
    char *node, *state_dir, *log_level, *spool_fsync, *service_ca;
    yaml_node_t *collectors, *tls;
    uint32_t spool_max_mb, uplink_rate_kbps;
    uint32_t udp_echo_port; /* UDP echo reflector */
} raw_t;

typedef struct {
    char *cert, *key, *ca, *collector_name;
} tls_raw_t;

#define F(key, type, req, member) { key, type, req, offsetof(raw_t, member), 0, 0 }
#define T(key, member) { key, RN_YF_STR, true, offsetof(tls_raw_t, member), 0, 0 }

/* Reads the tls section; file paths are taken relative to the config file's folder. */
static int read_tls(rn_yaml_t *y, yaml_node_t *node, const char *path, rn_agent_config_t *c)
{
    static const rn_yaml_field_t fields[] = {
        T("cert", cert), T("key", key), T("ca", ca), T("collector_name", collector_name),
    };
    tls_raw_t t = { 0 };
    if (rn_yaml_read_map(y, node, "tls", fields, 4, &t) == 0) {
        c->tls_cert = rn_cfg_resolve_path(path, t.cert);
        c->tls_key = rn_cfg_resolve_path(path, t.key);
        c->tls_ca = rn_cfg_resolve_path(path, t.ca);
        c->collector_name = t.collector_name;
        t.collector_name = NULL;
        if (!c->tls_cert || !c->tls_key || !c->tls_ca)
            y->rc = -ENOMEM;
    }
    free(t.cert), free(t.key), free(t.ca), free(t.collector_name);
    return y->rc;
}

/* Reads the collectors list into c. Returns y->rc. */
static int read_collectors(rn_yaml_t *y, yaml_node_t *seq, rn_agent_config_t *c)
{
    if (!rn_yaml_is_seq(y, seq, "collectors"))
        return y->rc;
    c->n_collectors = rn_yaml_seq_len(seq);
    if (c->n_collectors == 0)
        return rn_yaml_fail(y, seq, "collectors", "needs at least one host:port");
    if (!(c->collectors = calloc(c->n_collectors, sizeof *c->collectors)))
        return y->rc = -ENOMEM;
    for (size_t i = 0; i < c->n_collectors && !y->rc; i++) {
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        const char *s = rn_yaml_scalar(y, item, "collectors");
        if (s && rn_cfg_split_hostport(s, &c->collectors[i].host, &c->collectors[i].port) != 0)
            rn_yaml_fail(y, item, "collectors", "'%s' is not host:port", s);
    }
    return y->rc;
}

static int cook(rn_yaml_t *y, const char *path, raw_t *r, rn_agent_config_t *c)
{
    yaml_node_t *root = rn_yaml_root(y);
    if (!rn_wire_node_id_valid(r->node))
        return rn_yaml_fail(y, root, "node", "'%s' is not a valid node id", r->node);
    if (r->log_level && rn_log_level_parse(r->log_level, &c->log_level) != 0)
        return rn_yaml_fail(y, root, "log_level", "'%s' is not error, warn, info or debug",
                            r->log_level);
    static const char *const fsyncs[] = { "interval", "always", "never" }; /* rn_spool_fsync_t */
    c->spool_fsync = -1;
    for (int i = 0; i < 3 && r->spool_fsync; i++)
        if (strcmp(r->spool_fsync, fsyncs[i]) == 0)
            c->spool_fsync = i;
    if (!r->spool_fsync)
        c->spool_fsync = 0;
    if (c->spool_fsync < 0)
        return rn_yaml_fail(y, root, "spool_fsync", "'%s' is not always, interval or never",
                            r->spool_fsync);
    c->spool_max_mb = r->spool_max_mb;
    c->uplink_rate_kbps = r->uplink_rate_kbps;
    c->udp_echo_port = r->udp_echo_port;
    c->node_id = r->node;
    r->node = NULL;
    if (read_tls(y, r->tls, path, c))
        return y->rc;
    if (!(c->state_dir = rn_cfg_resolve_path(path, r->state_dir)))
        return y->rc = -ENOMEM;
    if (r->service_ca && !(c->service_ca = rn_cfg_resolve_path(path, r->service_ca)))
        return y->rc = -ENOMEM;
    return read_collectors(y, r->collectors, c);
}

int rn_agent_config_load(const char *path, rn_agent_config_t **out, char *err, size_t err_len)
{
    static const rn_yaml_field_t fields[] = {
        F("node", RN_YF_STR, true, node),
        F("collectors", RN_YF_NODE, true, collectors),
        F("state_dir", RN_YF_STR, true, state_dir),
        F("log_level", RN_YF_STR, false, log_level),
        F("tls", RN_YF_NODE, true, tls),
        F("spool_fsync", RN_YF_STR, false, spool_fsync),
        F("service_ca", RN_YF_STR, false, service_ca),
        { "spool_max_mb", RN_YF_U32, false, offsetof(raw_t, spool_max_mb), 16, 1048576 },
        { "uplink_rate_kbps", RN_YF_U32, false, offsetof(raw_t, uplink_rate_kbps), 0, 10000000 },
        { "udp_echo_port", RN_YF_U32, false, offsetof(raw_t, udp_echo_port), 0, 65535 },
    };
    raw_t raw = { .spool_max_mb = 256, .udp_echo_port = 8862 /* RN_UDP_ECHO_DEFAULT_PORT */ };
    rn_agent_config_t *c = calloc(1, sizeof *c);
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
    free(raw.node);
    free(raw.state_dir);
    free(raw.log_level);
    free(raw.spool_fsync);
    free(raw.service_ca);
    if (rc) {
        rn_agent_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void rn_agent_config_free(rn_agent_config_t *c)
{
    if (!c)
        return;
    free(c->node_id);
    for (size_t i = 0; c->collectors && i < c->n_collectors; i++)
        free(c->collectors[i].host);
    free(c->collectors);
    free(c->state_dir);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_ca);
    free(c->collector_name);
    free(c->service_ca);
    free(c);
}

int rn_agent_config_check_tls(const rn_agent_config_t *c, char *err, size_t err_len)
{
    return rn_tls_check_files(RN_TLS_CLIENT, "tls", c->tls_cert, c->tls_key, c->tls_ca, err,
                              err_len);
}

bool rn_agent_config_same_collectors(const rn_agent_config_t *a, const rn_agent_config_t *b)
{
    if (a->n_collectors != b->n_collectors || strcmp(a->collector_name, b->collector_name) != 0)
        return false;
    for (size_t i = 0; i < a->n_collectors; i++)
        if (a->collectors[i].port != b->collectors[i].port ||
            strcmp(a->collectors[i].host, b->collectors[i].host) != 0)
            return false;
    return true;
}
