#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfgpath.h"
#include "wire.h"
#include "yamldoc.h"

typedef struct {
    char *node, *state_dir, *log_level;
    yaml_node_t *collectors;
} raw_t;

#define F(key, type, req, member) { key, type, req, offsetof(raw_t, member), 0, 0 }

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
    c->node_id = r->node;
    r->node = NULL;
    if (!(c->state_dir = rn_cfg_resolve_path(path, r->state_dir)))
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
    };
    raw_t raw = { 0 };
    rn_agent_config_t *c = calloc(1, sizeof *c);
    rn_yaml_t y;
    int rc = c ? rn_yaml_load(&y, path, err, err_len) : -ENOMEM;
    if (c && rc == 0) {
        c->log_level = RN_LOG_INFO;
        rc = rn_yaml_read_map(&y, rn_yaml_root(&y), "(top)", fields, 4, &raw);
        if (rc == 0)
            rc = cook(&y, path, &raw, c);
    }
    if (c)
        rn_yaml_free(&y);
    free(raw.node);
    free(raw.state_dir);
    free(raw.log_level);
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
    free(c);
}
