/* The `notify` section of collector.yaml (schema and defaults documented in notify.h).
 *
 * Read like every config here (collector/conf.c): a lib/yamldoc.h field table per mapping puts
 * the raw values in a struct (unknown keys, wrong types and out-of-range numbers are errors with
 * file:line), then one validation block per channel checks what a table cannot (target syntax,
 * SNMP version and USM settings, URL scheme) and reports at the line of the offending value.
 * The caller frees the result with rn_notify_config_free() whatever happened. */
#include "notify/notify_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cfgpath.h"
#include "error.h"

#define WHERE_LEN 64

/* Returns the value node of key in map (for error lines), or map itself when key is absent. */
static yaml_node_t *value_of(rn_yaml_t *y, yaml_node_t *map, const char *key)
{
    for (size_t i = 0; map && map->type == YAML_MAPPING_NODE && i < rn_yaml_map_len(map); i++) {
        yaml_node_t *k = rn_yaml_map_key(y, map, i);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return rn_yaml_map_value(y, map, i);
    }
    return map;
}

/* Parses a YAML boolean word. Returns 0, or -1 for anything else. */
static int parse_bool(const char *s, bool *out)
{
    static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

/* True if name is one of list (case-insensitive). */
static bool one_of(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(name, list[i]) == 0)
            return true;
    return false;
}

/* Checks a target's syntax; tcp_ok says whether tcp is allowed. Returns y->rc. */
static int check_target(rn_yaml_t *y, yaml_node_t *map, const char *where, const char *target,
                        bool tcp_ok)
{
    bool tcp;
    struct sockaddr_storage ss;
    if (rn__notify_parse_target(target, &tcp, &ss) != 0)
        return rn_yaml_fail(y, value_of(y, map, "target"), where,
                            "target '%s' is not %s:IP:port with a literal IP address", target,
                            tcp_ok ? "udp|tcp" : "udp");
    if (tcp && !tcp_ok)
        return rn_yaml_fail(y, value_of(y, map, "target"), where, "traps go over udp only");
    return 0;
}

typedef struct {
    rn_notify_trap_config_t c;
    char *inform;
} trap_raw_t;

/* Checks the USM settings of a v3 trap target. Returns y->rc. */
static int check_usm(rn_yaml_t *y, yaml_node_t *map, const char *where, trap_raw_t *r)
{
    static const char *const auths[] = { "MD5", "SHA", "SHA1", "SHA-224", "SHA-256", "SHA-384",
                                         "SHA-512" };
    static const char *const privs[] = { "DES", "AES", "AES-128", "AES-192", "AES-256" };
    if (!r->c.user)
        return rn_yaml_fail(y, map, where, "version 3 needs a user");
    if (!r->c.inform)
        return rn_yaml_fail(y, value_of(y, map, "inform"), where,
                            "version 3 needs inform: true (a v3 trap needs our engine id at the "
                            "NMS)");
    if (r->c.auth && !one_of(r->c.auth, auths, 7))
        return rn_yaml_fail(y, value_of(y, map, "auth"), where, "auth '%s' is not MD5, SHA or "
                            "SHA-224/256/384/512", r->c.auth);
    if (r->c.priv && !one_of(r->c.priv, privs, 5))
        return rn_yaml_fail(y, value_of(y, map, "priv"), where, "priv '%s' is not DES, AES or "
                            "AES-192/256", r->c.priv);
    if (r->c.priv_key && !r->c.auth_key)
        return rn_yaml_fail(y, value_of(y, map, "priv_key"), where, "priv_key needs an auth_key");
    if ((r->c.auth_key && strlen(r->c.auth_key) < 8) || (r->c.priv_key && strlen(r->c.priv_key) < 8))
        return rn_yaml_fail(y, map, where, "USM keys must be at least 8 characters");
    return 0;
}

/* Reads one trap target into out. Returns y->rc. */
static int read_trap(rn_yaml_t *y, yaml_node_t *map, const char *where,
                     rn_notify_trap_config_t *out)
{
#define T(key, type, req, member, lo, hi) { key, type, req, offsetof(trap_raw_t, member), lo, hi }
    static const rn_yaml_field_t fields[] = {
        T("target", RN_YF_STR, true, c.target, 0, 0),
        T("version", RN_YF_SNMPVER, false, c.version, 0, 0),
        T("inform", RN_YF_STR, false, inform, 0, 0),
        T("community", RN_YF_STR, false, c.community, 0, 0),
        T("user", RN_YF_STR, false, c.user, 0, 0),
        T("auth", RN_YF_STR, false, c.auth, 0, 0),
        T("auth_key", RN_YF_STR, false, c.auth_key, 0, 0),
        T("priv", RN_YF_STR, false, c.priv, 0, 0),
        T("priv_key", RN_YF_STR, false, c.priv_key, 0, 0),
        T("timeout_ms", RN_YF_U32, false, c.timeout_ms, 100, 60000),
        T("retries", RN_YF_U32, false, c.retries, 0, 10),
    };
#undef T
    trap_raw_t r = { .c = { .version = 2, .timeout_ms = 3000, .retries = 2 } };
    if (rn_yaml_read_map(y, map, where, fields, sizeof fields / sizeof fields[0], &r) == 0 &&
        check_target(y, map, where, r.c.target, false) == 0) {
        if (r.inform && parse_bool(r.inform, &r.c.inform) != 0)
            rn_yaml_fail(y, value_of(y, map, "inform"), where, "inform '%s' is not true or false",
                         r.inform);
        else if (r.c.version == 1)
            rn_yaml_fail(y, value_of(y, map, "version"), where, "SNMPv1 traps are not supported");
        else if (r.c.version == 2 && !r.c.community)
            rn_yaml_fail(y, map, where, "version 2c needs a community");
        else if (r.c.version == 3)
            check_usm(y, map, where, &r);
    }
    free(r.inform);
    *out = r.c; /* freed by rn_notify_config_free whatever happened */
    return y->rc;
}

/* Reads one syslog target into out. Returns y->rc. */
static int read_syslog(rn_yaml_t *y, yaml_node_t *map, const char *where,
                       rn_notify_syslog_config_t *out)
{
#define S(key, type, req, member, lo, hi) \
    { key, type, req, offsetof(rn_notify_syslog_config_t, member), lo, hi }
    static const rn_yaml_field_t fields[] = {
        S("target", RN_YF_STR, true, target, 0, 0),
        S("facility", RN_YF_U32, false, facility, 0, 23),
        S("timeout_ms", RN_YF_U32, false, timeout_ms, 100, 600000),
    };
#undef S
    out->facility = 16;
    out->timeout_ms = 5000;
    if (rn_yaml_read_map(y, map, where, fields, sizeof fields / sizeof fields[0], out) == 0)
        check_target(y, map, where, out->target, true);
    return y->rc;
}

/* Turns the raw alarms/reports words of a webhook or exec hook into *kinds (both by default;
 * at least one). Frees the words. Returns y->rc. */
static int read_kinds(rn_yaml_t *y, yaml_node_t *map, const char *where, char *alarms,
                      char *reports, unsigned *kinds)
{
    bool a = true, r = true;
    if (y->rc == 0 && alarms && parse_bool(alarms, &a) != 0)
        rn_yaml_fail(y, value_of(y, map, "alarms"), where, "alarms '%s' is not true or false",
                     alarms);
    else if (y->rc == 0 && reports && parse_bool(reports, &r) != 0)
        rn_yaml_fail(y, value_of(y, map, "reports"), where, "reports '%s' is not true or false",
                     reports);
    else if (y->rc == 0 && !a && !r)
        rn_yaml_fail(y, map, where, "alarms and reports are both false: the channel would get "
                     "nothing");
    *kinds = (a ? RN_NOTIFY_ALARMS : 0) | (r ? RN_NOTIFY_REPORTS : 0);
    free(alarms), free(reports);
    return y->rc;
}

typedef struct {
    rn_notify_webhook_config_t c;
    char *alarms, *reports;
} webhook_raw_t;

/* Reads one webhook into out. Returns y->rc. */
static int read_webhook(rn_yaml_t *y, yaml_node_t *map, const char *where,
                        rn_notify_webhook_config_t *out)
{
#define W(key, type, req, member, lo, hi) \
    { key, type, req, offsetof(webhook_raw_t, member), lo, hi }
    static const rn_yaml_field_t fields[] = {
        W("url", RN_YF_STR, true, c.url, 0, 0),
        W("timeout_ms", RN_YF_U32, false, c.timeout_ms, 100, 600000),
        W("alarms", RN_YF_STR, false, alarms, 0, 0),
        W("reports", RN_YF_STR, false, reports, 0, 0),
    };
#undef W
    webhook_raw_t r = { .c = { .timeout_ms = 5000 } };
    if (rn_yaml_read_map(y, map, where, fields, sizeof fields / sizeof fields[0], &r) == 0 &&
        strncmp(r.c.url, "http://", 7) != 0 && strncmp(r.c.url, "https://", 8) != 0)
        rn_yaml_fail(y, value_of(y, map, "url"), where, "url '%s' is not http:// or https://",
                     r.c.url);
    read_kinds(y, map, where, r.alarms, r.reports, &r.c.kinds);
    *out = r.c; /* freed by rn_notify_config_free whatever happened */
    return y->rc;
}

typedef struct {
    rn_notify_exec_config_t c;
    char *alarms, *reports;
} exec_raw_t;

/* Reads one exec hook into out. Returns y->rc. */
static int read_exec(rn_yaml_t *y, yaml_node_t *map, const char *where,
                     rn_notify_exec_config_t *out)
{
#define E(key, type, req, member, lo, hi) \
    { key, type, req, offsetof(exec_raw_t, member), lo, hi }
    static const rn_yaml_field_t fields[] = {
        E("command", RN_YF_STR, true, c.command, 0, 0),
        E("timeout_ms", RN_YF_U32, false, c.timeout_ms, 100, 3600000),
        E("alarms", RN_YF_STR, false, alarms, 0, 0),
        E("reports", RN_YF_STR, false, reports, 0, 0),
    };
#undef E
    exec_raw_t r = { .c = { .timeout_ms = 10000 } };
    rn_yaml_read_map(y, map, where, fields, sizeof fields / sizeof fields[0], &r);
    read_kinds(y, map, where, r.alarms, r.reports, &r.c.kinds);
    *out = r.c;
    return y->rc;
}

typedef int (*item_fn)(rn_yaml_t *y, yaml_node_t *map, const char *where, void *out);

static int trap_item(rn_yaml_t *y, yaml_node_t *m, const char *w, void *o)
{
    return read_trap(y, m, w, o);
}

static int syslog_item(rn_yaml_t *y, yaml_node_t *m, const char *w, void *o)
{
    return read_syslog(y, m, w, o);
}

static int webhook_item(rn_yaml_t *y, yaml_node_t *m, const char *w, void *o)
{
    return read_webhook(y, m, w, o);
}

static int exec_item(rn_yaml_t *y, yaml_node_t *m, const char *w, void *o)
{
    return read_exec(y, m, w, o);
}

/* Reads the list at node (absent: empty) into a new array of n items of size each, read by fn.
 * Returns y->rc; *arr and *n are set even on failure so that everything read can be freed. */
static int read_list(rn_yaml_t *y, yaml_node_t *node, const char *name, size_t size,
                     item_fn fn, void **arr, size_t *n)
{
    char where[WHERE_LEN];
    *arr = NULL, *n = 0;
    if (!node || y->rc)
        return y->rc;
    snprintf(where, sizeof where, "notify.%s", name);
    if (!rn_yaml_is_seq(y, node, where))
        return y->rc;
    size_t len = rn_yaml_seq_len(node);
    if (len > RN_NOTIFY_MAX_CHANNELS)
        return rn_yaml_fail(y, node, where, "%zu entries, at most %d channels", len,
                            RN_NOTIFY_MAX_CHANNELS);
    if (len == 0)
        return 0;
    if (!(*arr = calloc(len, size)))
        return y->rc = -ENOMEM;
    for (size_t i = 0; i < len && !y->rc; i++) {
        snprintf(where, sizeof where, "notify.%s[%zu]", name, i);
        (*n)++;
        fn(y, rn_yaml_seq_item(y, node, i), where, (char *)*arr + i * size);
    }
    return y->rc;
}

typedef struct {
    char *state_dir;
    uint32_t max_age_s, retry_initial_ms, retry_max_ms, max_queue;
    yaml_node_t *traps, *syslog, *webhooks, *exec;
} top_raw_t;

/* Reads the channel lists and checks what spans them. Returns y->rc. */
static int read_channels(rn_yaml_t *y, yaml_node_t *node, top_raw_t *raw, rn_notify_config_t *out)
{
    read_list(y, raw->traps, "traps", sizeof *out->traps, trap_item, (void **)&out->traps,
              &out->n_traps);
    read_list(y, raw->syslog, "syslog", sizeof *out->syslogs, syslog_item,
              (void **)&out->syslogs, &out->n_syslogs);
    read_list(y, raw->webhooks, "webhooks", sizeof *out->webhooks, webhook_item,
              (void **)&out->webhooks, &out->n_webhooks);
    read_list(y, raw->exec, "exec", sizeof *out->execs, exec_item, (void **)&out->execs,
              &out->n_execs);
    if (y->rc)
        return y->rc;
    if (out->n_traps + out->n_syslogs + out->n_webhooks + out->n_execs > RN_NOTIFY_MAX_CHANNELS)
        return rn_yaml_fail(y, node, "notify", "more than %d channels", RN_NOTIFY_MAX_CHANNELS);
    if (out->retry_max_ms < out->retry_initial_ms)
        return rn_yaml_fail(y, node, "notify.retry_max_ms", "is below retry_initial_ms");
    return 0;
}

int rn_notify_config_read(rn_yaml_t *y, yaml_node_t *node, rn_notify_config_t *out)
{
#define F(key, type, member, lo, hi) { key, type, false, offsetof(top_raw_t, member), lo, hi }
    static const rn_yaml_field_t fields[] = {
        F("state_dir", RN_YF_STR, state_dir, 0, 0),
        F("max_age_s", RN_YF_U32, max_age_s, 60, 30 * 86400),
        F("retry_initial_ms", RN_YF_U32, retry_initial_ms, 10, 3600000),
        F("retry_max_ms", RN_YF_U32, retry_max_ms, 100, 86400000),
        F("max_queue", RN_YF_U32, max_queue, 1, 1000000),
        F("traps", RN_YF_NODE, traps, 0, 0),
        F("syslog", RN_YF_NODE, syslog, 0, 0),
        F("webhooks", RN_YF_NODE, webhooks, 0, 0),
        F("exec", RN_YF_NODE, exec, 0, 0),
    };
#undef F
    top_raw_t raw = { .max_age_s = 86400, .retry_initial_ms = 1000, .retry_max_ms = 60000,
                      .max_queue = 10000 };
    memset(out, 0, sizeof *out);
    rn_yaml_read_map(y, node, "notify", fields, sizeof fields / sizeof fields[0], &raw);
    out->max_age_s = raw.max_age_s, out->retry_initial_ms = raw.retry_initial_ms;
    out->retry_max_ms = raw.retry_max_ms, out->max_queue = raw.max_queue;
    if (raw.state_dir) {
        out->state_dir = rn_cfg_resolve_path(y->file ? y->file : ".", raw.state_dir);
        if (!out->state_dir && !y->rc)
            y->rc = -ENOMEM;
    }
    free(raw.state_dir);
    if (y->rc)
        return y->rc;
    return read_channels(y, node, &raw, out);
}

void rn_notify_config_free(rn_notify_config_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_traps; i++) {
        rn_notify_trap_config_t *t = &c->traps[i];
        free(t->target), free(t->community), free(t->user), free(t->auth), free(t->priv);
        if (t->auth_key)
            explicit_bzero(t->auth_key, strlen(t->auth_key));
        if (t->priv_key)
            explicit_bzero(t->priv_key, strlen(t->priv_key));
        free(t->auth_key), free(t->priv_key);
    }
    for (size_t i = 0; i < c->n_syslogs; i++)
        free(c->syslogs[i].target);
    for (size_t i = 0; i < c->n_webhooks; i++)
        free(c->webhooks[i].url);
    for (size_t i = 0; i < c->n_execs; i++)
        free(c->execs[i].command);
    free(c->traps), free(c->syslogs), free(c->webhooks), free(c->execs);
    free(c->state_dir);
    memset(c, 0, sizeof *c);
}

/* True when both strings are NULL or equal. */
static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* True when the trap targets a and b are configured alike. */
static bool same_trap(const rn_notify_trap_config_t *a, const rn_notify_trap_config_t *b)
{
    return same_str(a->target, b->target) && a->version == b->version && a->inform == b->inform &&
           same_str(a->community, b->community) && same_str(a->user, b->user) &&
           same_str(a->auth, b->auth) && same_str(a->auth_key, b->auth_key) &&
           same_str(a->priv, b->priv) && same_str(a->priv_key, b->priv_key) &&
           a->timeout_ms == b->timeout_ms && a->retries == b->retries;
}

bool rn_notify_config_equal(const rn_notify_config_t *a, const rn_notify_config_t *b)
{
    if (!same_str(a->state_dir, b->state_dir) || a->max_age_s != b->max_age_s ||
        a->retry_initial_ms != b->retry_initial_ms || a->retry_max_ms != b->retry_max_ms ||
        a->max_queue != b->max_queue || a->n_traps != b->n_traps ||
        a->n_syslogs != b->n_syslogs || a->n_webhooks != b->n_webhooks ||
        a->n_execs != b->n_execs)
        return false;
    for (size_t i = 0; i < a->n_traps; i++)
        if (!same_trap(&a->traps[i], &b->traps[i]))
            return false;
    for (size_t i = 0; i < a->n_syslogs; i++)
        if (!same_str(a->syslogs[i].target, b->syslogs[i].target) ||
            a->syslogs[i].facility != b->syslogs[i].facility ||
            a->syslogs[i].timeout_ms != b->syslogs[i].timeout_ms)
            return false;
    for (size_t i = 0; i < a->n_webhooks; i++)
        if (!same_str(a->webhooks[i].url, b->webhooks[i].url) ||
            a->webhooks[i].timeout_ms != b->webhooks[i].timeout_ms ||
            a->webhooks[i].kinds != b->webhooks[i].kinds)
            return false;
    for (size_t i = 0; i < a->n_execs; i++)
        if (!same_str(a->execs[i].command, b->execs[i].command) ||
            a->execs[i].timeout_ms != b->execs[i].timeout_ms ||
            a->execs[i].kinds != b->execs[i].kinds)
            return false;
    return true;
}
