/* Topology loading: reads topology.yaml and secrets.yaml through yamldoc's schema tables, then
 * checks that the pieces fit (topology_check.c: parents exist and form one tree, links name known
 * vendors, SLA classes, devices and interfaces, services sit on known nodes) and copies each
 * device's secret into it. Every failure names file, line and field. */
#include "metrics.h"
#include "topology.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "topology_int.h" /* cameras: topology_cctv.c; checks: topology_check.c */
#include "wire.h"
#include "yamldoc.h"

#define U32MAX 4294967295.0
#define F(key, type, req, st, member, lo, hi) { key, type, req, offsetof(st, member), lo, hi }

/* The entries of secrets.yaml: a name and the credential fields it may carry. */
typedef struct {
    rn_snmp_cred_t *creds;
    size_t n;
} secrets_t;

typedef struct {
    yaml_node_t *settings, *vendors, *sla_classes, *services, *nodes;
    yaml_node_t *udp_echo; /* UDP echo pairs */
} top_t;

static void free_cred(rn_snmp_cred_t *c)
{
    free(c->name);
    free(c->community);
    free(c->user);
    free(c->auth_proto);
    free(c->auth_key);
    free(c->priv_proto);
    free(c->priv_key);
}

static const char *const auth_protos[] = { "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384",
                                           "SHA-512", NULL };
static const char *const priv_protos[] = { "DES", "AES", "AES-192", "AES-256", NULL };

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Checks one secret: either a community, or USM keys of known protocols and at least 8 bytes. */
static int check_secret(rn_yaml_t *y, const rn_snmp_cred_t *c, yaml_node_t *at, const char *where)
{
    if (c->community && (c->auth_key || c->priv_key))
        return rn_yaml_fail(y, at, where, "give either community or USM keys, not both");
    if (!c->community && !c->auth_key)
        return rn_yaml_fail(y, at, where, "needs community (v1/v2c) or auth and auth_key (v3)");
    if (c->auth_key && (!c->auth_proto || !in_list(c->auth_proto, auth_protos)))
        return rn_yaml_fail(y, at, where, "auth must be one of MD5, SHA, SHA-224, SHA-256, "
                                          "SHA-384, SHA-512");
    if (c->priv_key && (!c->priv_proto || !in_list(c->priv_proto, priv_protos)))
        return rn_yaml_fail(y, at, where, "priv must be one of DES, AES, AES-192, AES-256");
    if (c->priv_key && !c->auth_key)
        return rn_yaml_fail(y, at, where, "priv_key needs auth_key (USM has no privacy "
                                          "without authentication)");
    if ((c->auth_key && strlen(c->auth_key) < 8) || (c->priv_key && strlen(c->priv_key) < 8))
        return rn_yaml_fail(y, at, where, "USM keys must be at least 8 characters");
    return 0;
}

/* Reads a parsed secrets document into s. Returns y->rc. */
static int read_secrets(rn_yaml_t *y, secrets_t *s)
{
    static const rn_yaml_field_t fields[] = {
        F("community", RN_YF_STR, false, rn_snmp_cred_t, community, 0, 0),
        F("auth", RN_YF_STR, false, rn_snmp_cred_t, auth_proto, 0, 0),
        F("auth_key", RN_YF_STR, false, rn_snmp_cred_t, auth_key, 0, 0),
        F("priv", RN_YF_STR, false, rn_snmp_cred_t, priv_proto, 0, 0),
        F("priv_key", RN_YF_STR, false, rn_snmp_cred_t, priv_key, 0, 0),
    };
    yaml_node_t *root = rn_yaml_root(y);
    s->n = rn_yaml_map_len(root);
    s->creds = alloc_array(y, s->n, sizeof *s->creds);
    for (size_t i = 0; s->creds && i < s->n && !y->rc; i++) {
        yaml_node_t *k = rn_yaml_map_key(y, root, i);
        const char *name = rn_yaml_scalar(y, k, "(top)");
        if (!name)
            break;
        s->creds[i].name = dup_or_fail(y, name);
        rn_yaml_read_map(y, rn_yaml_map_value(y, root, i), name, fields,
                         sizeof fields / sizeof fields[0], &s->creds[i]);
        if (!y->rc)
            check_secret(y, &s->creds[i], k, name);
    }
    return y->rc;
}

static void free_secrets(secrets_t *s)
{
    for (size_t i = 0; s->creds && i < s->n; i++)
        free_cred(&s->creds[i]);
    free(s->creds);
}

static const rn_snmp_cred_t *find_secret(const secrets_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->creds[i].name && strcmp(s->creds[i].name, name) == 0)
            return &s->creds[i];
    return NULL;
}

/* Reads `key: { ... }` mappings of a section into an array of structs of `size` bytes whose
 * first member is the char *name. Returns the count through n. */
static void *read_named(rn_yaml_t *y, yaml_node_t *section, const char *where,
                        const rn_yaml_field_t *fields, size_t n_fields, size_t size, size_t *n)
{
    *n = 0;
    if (!section || !rn_yaml_is_map(y, section, where))
        return NULL;
    size_t count = rn_yaml_map_len(section);
    char *arr = alloc_array(y, count, size);
    char path[512];
    for (size_t i = 0; arr && i < count && !y->rc; i++) {
        const char *name = rn_yaml_scalar(y, rn_yaml_map_key(y, section, i), where);
        if (!name)
            break;
        snprintf(path, sizeof path, "%s.%s", where, name);
        *(char **)(arr + i * size) = dup_or_fail(y, name);
        *n = i + 1;
        rn_yaml_read_map(y, rn_yaml_map_value(y, section, i), path, fields, n_fields,
                         arr + i * size);
    }
    return arr;
}

static void read_settings(rn_yaml_t *y, yaml_node_t *node, rn_settings_t *s)
{
    static const rn_yaml_field_t fields[] = {
        F("poll_interval_s", RN_YF_U32, false, rn_settings_t, poll_interval_s, 1, 86400),
        F("probe_interval_s", RN_YF_U32, false, rn_settings_t, probe_interval_s, 1, 86400),
        F("probe_count", RN_YF_U32, false, rn_settings_t, probe_count, 1, 1000),
    };
    s->poll_interval_s = 60;
    s->probe_interval_s = 10;
    s->probe_count = 5;
    if (node)
        rn_yaml_read_map(y, node, "settings", fields, sizeof fields / sizeof fields[0], s);
}

/* Reads a device's `extra:` list of SNMP objects polled with its interfaces:
 * { name: cpu, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.8.1, kind: gauge }. */
static void read_extras(rn_yaml_t *y, yaml_node_t *seq, const char *where, rn_device_t *d)
{
    static const rn_yaml_field_t fields[] = {
        F("name", RN_YF_STR, true, rn_extra_oid_t, name, 0, 0),
        F("oid", RN_YF_STR, true, rn_extra_oid_t, oid, 0, 0),
        F("kind", RN_YF_STR, true, rn_extra_oid_t, kind, 0, 0),
    };
    static const char *const kinds[] = { "gauge", "counter", NULL };
    char path[700];
    snprintf(path, sizeof path, "%s.extra", where);
    if (!rn_yaml_is_seq(y, seq, path))
        return;
    size_t n = rn_yaml_seq_len(seq);
    if (n > RN_TOPOLOGY_MAX_EXTRA) {
        rn_yaml_fail(y, seq, path, "%zu extra OIDs, at most %d", n, RN_TOPOLOGY_MAX_EXTRA);
        return;
    }
    if (!(d->extra = alloc_array(y, n, sizeof *d->extra)))
        return;
    for (size_t i = 0; i < n && !y->rc; i++) {
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        rn_extra_oid_t *e = &d->extra[i];
        snprintf(path, sizeof path, "%s.extra[%zu]", where, i);
        d->n_extra = i + 1;
        if (rn_yaml_read_map(y, item, path, fields, sizeof fields / sizeof fields[0], e))
            return;
        size_t len = strlen(e->name);
        if (len == 0 || len > 63 || strspn(e->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
            rn_yaml_fail(y, item, path, "name '%s' is not 1-63 of [a-z0-9_-]", e->name);
        else if (!rn_wire_numeric_oid(e->oid))
            rn_yaml_fail(y, item, path, "oid '%s' is not a numeric OID (e.g. 1.3.6.1.2.1.1.3.0)",
                         e->oid);
        else if (!in_list(e->kind, kinds))
            rn_yaml_fail(y, item, path, "kind '%s' is not gauge or counter", e->kind);
        for (size_t j = 0; j < i && !y->rc; j++)
            if (strcmp(d->extra[j].name, e->name) == 0)
                rn_yaml_fail(y, item, path, "name '%s' used twice in this device", e->name);
    }
}

/* Reads a node's devices list. A device's snmp mapping names a version, a user and a secret;
 * the secret's fields are copied in by resolve_devices(). */
static void read_devices(rn_yaml_t *y, yaml_node_t *seq, const char *where, rn_node_t *node)
{
    typedef struct {
        char *name, *addr;
        yaml_node_t *snmp, *extra;
        uint32_t timeout_ms, retries;
        uint32_t version;
        char *user, *secret;
    } dev_raw_t;
    static const rn_yaml_field_t dev_fields[] = {
        F("name", RN_YF_STR, true, dev_raw_t, name, 0, 0),
        F("addr", RN_YF_STR, true, dev_raw_t, addr, 0, 0),
        F("snmp", RN_YF_NODE, true, dev_raw_t, snmp, 0, 0),
        F("timeout_ms", RN_YF_U32, false, dev_raw_t, timeout_ms, 10, 60000),
        F("retries", RN_YF_U32, false, dev_raw_t, retries, 0, 10),
        F("extra", RN_YF_NODE, false, dev_raw_t, extra, 0, 0), /* extra SNMP objects */
    };
    static const rn_yaml_field_t snmp_fields[] = {
        F("version", RN_YF_SNMPVER, true, dev_raw_t, version, 0, 0),
        F("user", RN_YF_STR, false, dev_raw_t, user, 0, 0),
        F("secret", RN_YF_STR, true, dev_raw_t, secret, 0, 0),
    };
    if (!rn_yaml_is_seq(y, seq, where))
        return;
    node->n_devices = rn_yaml_seq_len(seq);
    node->devices = alloc_array(y, node->n_devices, sizeof *node->devices);
    char path[600], spath[700];
    for (size_t i = 0; node->devices && i < node->n_devices && !y->rc; i++) {
        rn_device_t *d = &node->devices[i];
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        dev_raw_t raw = { .timeout_ms = 1000, .retries = 2 };
        snprintf(path, sizeof path, "%s[%zu]", where, i);
        snprintf(spath, sizeof spath, "%s.snmp", path);
        rn_yaml_read_map(y, item, path, dev_fields, sizeof dev_fields / sizeof dev_fields[0], &raw);
        if (!y->rc)
            rn_yaml_read_map(y, raw.snmp, spath, snmp_fields, 3, &raw);
        *d = (rn_device_t){ .name = raw.name, .addr = raw.addr, .secret_name = raw.secret,
                            .timeout_ms = raw.timeout_ms, .retries = raw.retries,
                            .line = rn_yaml_line(item) };
        d->snmp.version = raw.version;
        d->snmp.user = raw.user;
        if (!y->rc && raw.extra)
            read_extras(y, raw.extra, path, d);
        if (!y->rc && raw.version == 3 && !raw.user)
            rn_yaml_fail(y, raw.snmp, spath, "version 3 needs user");
        for (size_t j = 0; j < i && !y->rc; j++)
            if (strcmp(node->devices[j].name, d->name) == 0)
                rn_yaml_fail(y, item, path, "device name '%s' used twice in this node", d->name);
    }
}

/* Reads one end of a link: device and ifname, and on the remote end an optional node. */
static void read_if_ref(rn_yaml_t *y, yaml_node_t *n, const char *where, rn_if_ref_t *ref,
                        char **remote_node)
{
    typedef struct { char *device, *ifname, *node; } end_t;
    static const rn_yaml_field_t fields[] = {
        F("device", RN_YF_STR, true, end_t, device, 0, 0),
        F("ifname", RN_YF_STR, true, end_t, ifname, 0, 0),
        F("node", RN_YF_STR, false, end_t, node, 0, 0),
    };
    end_t e = { 0 };
    rn_yaml_read_map(y, n, where, fields, remote_node ? 3 : 2, &e);
    ref->device = e.device;
    ref->ifname = e.ifname;
    if (remote_node)
        *remote_node = e.node;
}

static void read_uplinks(rn_yaml_t *y, yaml_node_t *seq, const char *where, rn_node_t *node)
{
    typedef struct {
        rn_link_t link;
        yaml_node_t *local, *remote;
    } link_raw_t;
    static const rn_yaml_field_t fields[] = {
        F("circuit", RN_YF_STR, true, link_raw_t, link.circuit, 0, 0),
        F("vendor", RN_YF_STR, true, link_raw_t, link.vendor, 0, 0),
        F("kind", RN_YF_STR, true, link_raw_t, link.kind, 0, 0),
        F("mbps", RN_YF_DOUBLE, true, link_raw_t, link.mbps, 0.001, 1e6),
        F("sla", RN_YF_STR, true, link_raw_t, link.sla, 0, 0),
        F("role", RN_YF_STR, false, link_raw_t, link.role, 0, 0),
        F("monthly_charge", RN_YF_DOUBLE, false, link_raw_t, link.monthly_charge, 0, 1e12),
        F("local", RN_YF_NODE, true, link_raw_t, local, 0, 0),
        F("remote", RN_YF_NODE, true, link_raw_t, remote, 0, 0),
    };
    static const char *const kinds[] = { "mpls", "leased", "radio", "vsat", "fibre", NULL };
    static const char *const roles[] = { "primary", "backup", NULL };
    if (!rn_yaml_is_seq(y, seq, where))
        return;
    node->n_uplinks = rn_yaml_seq_len(seq);
    node->uplinks = alloc_array(y, node->n_uplinks, sizeof *node->uplinks);
    char path[600], sub[700];
    for (size_t i = 0; node->uplinks && i < node->n_uplinks && !y->rc; i++) {
        link_raw_t raw = { 0 };
        rn_link_t *l = &node->uplinks[i];
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        snprintf(path, sizeof path, "%s[%zu]", where, i);
        rn_yaml_read_map(y, item, path, fields, sizeof fields / sizeof fields[0], &raw);
        *l = raw.link;
        l->line = rn_yaml_line(item);
        if (y->rc)
            return;
        snprintf(sub, sizeof sub, "%s.local", path);
        read_if_ref(y, raw.local, sub, &l->local, NULL);
        snprintf(sub, sizeof sub, "%s.remote", path);
        read_if_ref(y, raw.remote, sub, &l->remote, &l->remote_node);
        if (!y->rc && !in_list(l->kind, kinds))
            rn_yaml_fail(y, item, path, "kind '%s' is not one of mpls, leased, radio, vsat, fibre",
                         l->kind);
        if (!y->rc && !l->role)
            l->role = dup_or_fail(y, "primary");
        if (!y->rc && !in_list(l->role, roles))
            rn_yaml_fail(y, item, path, "role '%s' is not primary or backup", l->role);
    }
}

/* True if no segment of the id is a sample source name, which would collide in the RRD tree. */
static bool id_segments_free(const char *id)
{
    char seg[256];
    while (*id) {
        size_t n = strcspn(id, "/");
        snprintf(seg, sizeof seg, "%.*s", (int)n, id);
        if (rn_template_find(seg))
            return false;
        id += n;
        if (*id == '/')
            id++;
    }
    return true;
}

static void read_nodes(rn_yaml_t *y, yaml_node_t *section, rn_topology_t *t)
{
    typedef struct {
        char *tier, *parent;
        yaml_node_t *devices, *uplinks, *agent;
        yaml_node_t *stations; /* topology_cctv.c */
    } node_raw_t;
    static const rn_yaml_field_t fields[] = {
        F("tier", RN_YF_STR, true, node_raw_t, tier, 0, 0),
        F("parent", RN_YF_STR, false, node_raw_t, parent, 0, 0),
        F("devices", RN_YF_NODE, false, node_raw_t, devices, 0, 0),
        F("uplinks", RN_YF_NODE, false, node_raw_t, uplinks, 0, 0),
        F("agent", RN_YF_NODE, false, node_raw_t, agent, 0, 0),
        F("stations", RN_YF_NODE, false, node_raw_t, stations, 0, 0),
    };
    static const char *const tiers[] = { "sdc", "district", "block", "village", NULL };
    if (!rn_yaml_is_map(y, section, "nodes"))
        return;
    t->n_nodes = rn_yaml_map_len(section);
    t->nodes = alloc_array(y, t->n_nodes, sizeof *t->nodes);
    char path[512], sub[600];
    for (size_t i = 0; t->nodes && i < t->n_nodes && !y->rc; i++) {
        rn_node_t *n = &t->nodes[i];
        yaml_node_t *k = rn_yaml_map_key(y, section, i);
        const char *id = rn_yaml_scalar(y, k, "nodes");
        if (!id)
            return;
        snprintf(path, sizeof path, "nodes.%s", id);
        n->id = dup_or_fail(y, id);
        n->line = rn_yaml_line(k);
        if (!rn_wire_node_id_valid(id) || !id_segments_free(id)) {
            rn_yaml_fail(y, k, path, "'%s' is not a valid node id (lowercase segments of "
                         "[a-z0-9_-] joined by '/'; sample source names such as 'if', 'icmp', "
                         "'tcp', 'http', 'udpecho' are reserved)", id);
            return;
        }
        node_raw_t raw = { 0 };
        rn_yaml_read_map(y, rn_yaml_map_value(y, section, i), path, fields,
                         sizeof fields / sizeof fields[0], &raw);
        n->tier = raw.tier;
        n->parent_id = raw.parent;
        n->agent = true;
        if (raw.agent) {
            snprintf(sub, sizeof sub, "%s.agent", path);
            const char *v = rn_yaml_scalar(y, raw.agent, sub);
            if (v && (!strcmp(v, "false") || !strcmp(v, "no")))
                n->agent = false;
            else if (v && strcmp(v, "true") != 0 && strcmp(v, "yes") != 0)
                rn_yaml_fail(y, raw.agent, sub, "'%s' is not true or false", v);
        }
        yaml_node_t *devs = raw.devices, *ups = raw.uplinks;
        if (y->rc)
            return;
        if (!in_list(n->tier, tiers))
            rn_yaml_fail(y, k, path, "tier '%s' is not one of sdc, district, block, village",
                         n->tier);
        snprintf(sub, sizeof sub, "%s.devices", path);
        if (devs)
            read_devices(y, devs, sub, n);
        snprintf(sub, sizeof sub, "%s.uplinks", path);
        if (ups)
            read_uplinks(y, ups, sub, n);
        snprintf(sub, sizeof sub, "%s.stations", path);
        if (raw.stations && !y->rc)
            rn__topology_read_stations(y, raw.stations, sub, n);
    }
}

/* VC capture: a vc service's "rtp_ports: [min, max]", the UDP port range of its media. */
static void read_rtp_ports(rn_yaml_t *y, yaml_node_t *node, rn_service_t *s)
{
    char path[512];
    snprintf(path, sizeof path, "services.%s.rtp_ports", s->name);
    if (strcmp(s->kind, "vc") != 0) {
        rn_yaml_fail(y, node, path, "only a vc service has RTP ports");
        return;
    }
    if (!rn_yaml_is_seq(y, node, path))
        return;
    if (rn_yaml_seq_len(node) != 2) {
        rn_yaml_fail(y, node, path, "expected [min, max]");
        return;
    }
    unsigned long v[2] = { 0, 0 };
    for (size_t k = 0; k < 2 && !y->rc; k++) {
        yaml_node_t *pn = rn_yaml_seq_item(y, node, k);
        const char *ps = rn_yaml_scalar(y, pn, path);
        char *end = NULL;
        v[k] = ps ? strtoul(ps, &end, 10) : 0;
        if (ps && (*end || v[k] < 1 || v[k] > 65535))
            rn_yaml_fail(y, pn, path, "port '%s' is not in 1..65535", ps);
    }
    if (!y->rc && v[0] > v[1])
        rn_yaml_fail(y, node, path, "min %lu is above max %lu", v[0], v[1]);
    if (!y->rc) {
        s->rtp_port_min = (uint16_t)v[0];
        s->rtp_port_max = (uint16_t)v[1];
    }
}

static void read_services(rn_yaml_t *y, yaml_node_t *section, rn_topology_t *t)
{
    typedef struct {
        char *name, *kind;
        yaml_node_t *endpoints;
        yaml_node_t *rtp_ports; /* VC capture: [min, max] */
    } svc_raw_t;
    static const rn_yaml_field_t svc_fields[] = {
        F("kind", RN_YF_STR, true, svc_raw_t, kind, 0, 0),
        F("endpoints", RN_YF_NODE, true, svc_raw_t, endpoints, 0, 0),
        F("rtp_ports", RN_YF_NODE, false, svc_raw_t, rtp_ports, 0, 0),
    };
    typedef struct { char *node, *addr, *url; yaml_node_t *tcp; } ep_t;
    static const rn_yaml_field_t ep_fields[] = {
        F("node", RN_YF_STR, true, ep_t, node, 0, 0),
        F("addr", RN_YF_STR, false, ep_t, addr, 0, 0),
        F("url", RN_YF_STR, false, ep_t, url, 0, 0),
        F("tcp", RN_YF_NODE, false, ep_t, tcp, 0, 0),
    };
    size_t n_raw = 0;
    svc_raw_t *raw = read_named(y, section, "services", svc_fields, 3, sizeof *raw, &n_raw);
    t->services = alloc_array(y, n_raw, sizeof *t->services);
    for (size_t i = 0; raw && t->services && i < n_raw; i++)
        t->services[i] = (rn_service_t){ .name = raw[i].name, .kind = raw[i].kind };
    t->n_services = t->services ? n_raw : 0;
    char path[512], sub[600];
    for (size_t i = 0; t->services && i < t->n_services && !y->rc; i++) {
        rn_service_t *s = &t->services[i];
        yaml_node_t *seq = raw[i].endpoints;
        snprintf(path, sizeof path, "services.%s.endpoints", s->name);
        if (strcmp(s->kind, "vc") != 0 && strcmp(s->kind, "egov") != 0)
            rn_yaml_fail(y, seq, path, "kind '%s' is not vc or egov", s->kind);
        if (!y->rc && raw[i].rtp_ports) /* VC capture */
            read_rtp_ports(y, raw[i].rtp_ports, s);
        if (y->rc || !rn_yaml_is_seq(y, seq, path))
            break;
        s->n_endpoints = rn_yaml_seq_len(seq);
        s->endpoints = alloc_array(y, s->n_endpoints, sizeof *s->endpoints);
        for (size_t j = 0; s->endpoints && j < s->n_endpoints && !y->rc; j++) {
            ep_t ep = { 0 };
            snprintf(sub, sizeof sub, "%s[%zu]", path, j);
            yaml_node_t *item = rn_yaml_seq_item(y, seq, j);
            rn_yaml_read_map(y, item, sub, ep_fields, 4, &ep);
            rn_endpoint_t *e = &s->endpoints[j];
            e->node = ep.node;
            e->addr = ep.addr;
            e->url = ep.url;
            if (!y->rc && !e->addr && !e->url)
                rn_yaml_fail(y, item, sub, "needs addr or url");
            if (y->rc || !ep.tcp || !rn_yaml_is_seq(y, ep.tcp, sub))
                continue;
            e->n_tcp = rn_yaml_seq_len(ep.tcp);
            e->tcp = alloc_array(y, e->n_tcp, sizeof *e->tcp);
            for (size_t p = 0; e->tcp && p < e->n_tcp && !y->rc; p++) {
                yaml_node_t *pn = rn_yaml_seq_item(y, ep.tcp, p);
                const char *ps = rn_yaml_scalar(y, pn, sub);
                char *end = NULL;
                unsigned long v = ps ? strtoul(ps, &end, 10) : 0;
                if (ps && (*end || v < 1 || v > 65535))
                    rn_yaml_fail(y, pn, sub, "tcp port '%s' is not in 1..65535", ps);
                e->tcp[p] = (uint16_t)v;
            }
        }
    }
    if (!t->services)
        for (size_t i = 0; raw && i < n_raw; i++)
            free(raw[i].name), free(raw[i].kind);
    free(raw);
}

/* Copies each device's secret in and checks it matches the SNMP version asked for. */
static int resolve_devices(rn_yaml_t *y, rn_topology_t *t, const secrets_t *sec)
{
    char where[512];
    for (size_t i = 0; i < t->n_nodes && !y->rc; i++) {
        for (size_t j = 0; j < t->nodes[i].n_devices && !y->rc; j++) {
            rn_device_t *d = &t->nodes[i].devices[j];
            snprintf(where, sizeof where, "nodes.%s.devices[%zu].snmp.secret", t->nodes[i].id, j);
            const rn_snmp_cred_t *c = find_secret(sec, d->secret_name);
            if (!c)
                return fail_line(y, d->line, where, "no secret '%s' in the secrets file",
                                 d->secret_name);
            if (d->snmp.version == 3 ? !c->auth_key : !c->community)
                return fail_line(y, d->line, where, "secret '%s' has no %s", d->secret_name,
                                 d->snmp.version == 3 ? "USM keys" : "community");
            d->snmp.name = dup_or_fail(y, c->name);
            if (c->community)
                d->snmp.community = dup_or_fail(y, c->community);
            if (c->auth_key) {
                d->snmp.auth_proto = dup_or_fail(y, c->auth_proto);
                d->snmp.auth_key = dup_or_fail(y, c->auth_key);
            }
            if (c->priv_key) {
                d->snmp.priv_proto = dup_or_fail(y, c->priv_proto);
                d->snmp.priv_key = dup_or_fail(y, c->priv_key);
            }
        }
    }
    return y->rc;
}

/* SLA reports: an SLA class as read, with its optional nested keys still as nodes. */
typedef struct {
    rn_sla_class_t sla; /* first: read_named() stores the name there */
    yaml_node_t *restore, *penalty, *partial_loss;
} sla_raw_t;

/* Reads restore_hours { S1, S2, S3 }, penalty [[availability, pct], ...] (availability strictly
 * descending) and partial_loss_counts (true/false) of one SLA class. Returns y->rc. */
static int read_sla_extras(rn_yaml_t *y, sla_raw_t *raw, rn_sla_class_t *c)
{
    typedef struct { double s[3]; } restore_t;
    static const rn_yaml_field_t restore_fields[] = {
        F("S1", RN_YF_DOUBLE, false, restore_t, s[0], 0, 8760),
        F("S2", RN_YF_DOUBLE, false, restore_t, s[1], 0, 8760),
        F("S3", RN_YF_DOUBLE, false, restore_t, s[2], 0, 8760),
    };
    char where[512];
    if (raw->restore) {
        restore_t r = { { 0 } };
        snprintf(where, sizeof where, "sla_classes.%s.restore_hours", c->name);
        if (rn_yaml_read_map(y, raw->restore, where, restore_fields, 3, &r) == 0)
            memcpy(c->restore_hours, r.s, sizeof r.s);
    }
    if (!y->rc && raw->partial_loss) {
        snprintf(where, sizeof where, "sla_classes.%s.partial_loss_counts", c->name);
        const char *v = rn_yaml_scalar(y, raw->partial_loss, where);
        if (v && (!strcmp(v, "true") || !strcmp(v, "yes")))
            c->partial_loss_counts = true;
        else if (v && strcmp(v, "false") != 0 && strcmp(v, "no") != 0)
            rn_yaml_fail(y, raw->partial_loss, where, "'%s' is not true or false", v);
    }
    if (y->rc || !raw->penalty)
        return y->rc;
    snprintf(where, sizeof where, "sla_classes.%s.penalty", c->name);
    if (!rn_yaml_is_seq(y, raw->penalty, where))
        return y->rc;
    size_t n = rn_yaml_seq_len(raw->penalty);
    c->penalty = alloc_array(y, n, sizeof *c->penalty);
    for (size_t i = 0; c->penalty && i < n && !y->rc; i++) {
        yaml_node_t *slab = rn_yaml_seq_item(y, raw->penalty, i);
        if (!rn_yaml_is_seq(y, slab, where) || rn_yaml_seq_len(slab) != 2) {
            rn_yaml_fail(y, slab, where, "slab %zu must be [availability, pct]", i);
            break;
        }
        double v[2];
        for (size_t k = 0; k < 2 && !y->rc; k++) {
            yaml_node_t *num = rn_yaml_seq_item(y, slab, k);
            const char *txt = rn_yaml_scalar(y, num, where);
            char *end = NULL;
            v[k] = txt ? strtod(txt, &end) : 0;
            if (txt && (end == txt || *end || v[k] < 0 || v[k] > 100))
                rn_yaml_fail(y, num, where, "'%s' is not a number in 0..100", txt);
        }
        if (y->rc)
            break;
        if (i > 0 && v[0] >= c->penalty[i - 1].availability)
            rn_yaml_fail(y, slab, where, "slab %zu: availability %g must be below the slab "
                         "before it (%g)", i, v[0], c->penalty[i - 1].availability);
        c->penalty[i] = (rn_penalty_slab_t){ .availability = v[0], .pct = v[1] };
        c->n_penalty = i + 1;
    }
    return y->rc;
}

/* Reads the `udp_echo:` list of pairs, { a: NODE, b: NODE, count: N }, once the nodes are known:
 * both nodes must exist, differ, have a device (the address the peer's agent is reached at), and
 * a pair may be named once (in either order). */
static void read_echo_pairs(rn_yaml_t *y, yaml_node_t *seq, rn_topology_t *t)
{
    static const rn_yaml_field_t fields[] = {
        F("a", RN_YF_STR, true, rn_echo_pair_t, a, 0, 0),
        F("b", RN_YF_STR, true, rn_echo_pair_t, b, 0, 0),
        F("count", RN_YF_U32, false, rn_echo_pair_t, count, 1, 1000),
    };
    char where[64];
    if (!rn_yaml_is_seq(y, seq, "udp_echo"))
        return;
    size_t n = rn_yaml_seq_len(seq);
    if (!(t->echo_pairs = alloc_array(y, n, sizeof *t->echo_pairs)))
        return;
    for (size_t i = 0; i < n && !y->rc; i++) {
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        rn_echo_pair_t *e = &t->echo_pairs[i];
        snprintf(where, sizeof where, "udp_echo[%zu]", i);
        t->n_echo_pairs = i + 1;
        e->line = item ? rn_yaml_line(item) : 0;
        if (rn_yaml_read_map(y, item, where, fields, sizeof fields / sizeof fields[0], e))
            return;
        const char *ends[2] = { e->a, e->b };
        for (size_t k = 0; k < 2; k++) {
            const rn_node_t *nd = rn_topology_node(t, ends[k]);
            if (!nd)
                return (void)fail_line(y, e->line, where, "unknown node '%s'", ends[k]);
            if (nd->n_devices == 0)
                return (void)fail_line(y, e->line, where, "node '%s' has no device: no address "
                                       "to reach its agent at", ends[k]);
        }
        if (strcmp(e->a, e->b) == 0)
            return (void)fail_line(y, e->line, where, "a node cannot echo with itself ('%s')",
                                   e->a);
        size_t uses[2] = { 1, 1 }; /* pairs naming a, b: each is a peer in the node's plan */
        for (size_t j = 0; j < i; j++) {
            const rn_echo_pair_t *o = &t->echo_pairs[j];
            if ((!strcmp(o->a, e->a) && !strcmp(o->b, e->b)) ||
                (!strcmp(o->a, e->b) && !strcmp(o->b, e->a)))
                return (void)fail_line(y, e->line, where, "pair %s - %s is already at line %d",
                                       e->a, e->b, o->line);
            for (size_t k = 0; k < 2; k++)
                uses[k] += !strcmp(o->a, ends[k]) || !strcmp(o->b, ends[k]);
        }
        for (size_t k = 0; k < 2; k++)
            if (uses[k] > RN_WIRE_MAX_ECHO_PEERS)
                return (void)fail_line(y, e->line, where, "node '%s' is in more than %u pairs",
                                       ends[k], RN_WIRE_MAX_ECHO_PEERS);
    }
}

/* Reads the sections of an already parsed topology document into t. */
static int read_topology(rn_yaml_t *y, rn_topology_t *t, const secrets_t *sec)
{
    static const rn_yaml_field_t top_fields[] = {
        F("settings", RN_YF_NODE, false, top_t, settings, 0, 0),
        F("vendors", RN_YF_NODE, true, top_t, vendors, 0, 0),
        F("sla_classes", RN_YF_NODE, true, top_t, sla_classes, 0, 0),
        F("services", RN_YF_NODE, false, top_t, services, 0, 0),
        F("nodes", RN_YF_NODE, true, top_t, nodes, 0, 0),
        F("udp_echo", RN_YF_NODE, false, top_t, udp_echo, 0, 0),
    };
    static const rn_yaml_field_t vendor_fields[] = {
        F("name", RN_YF_STR, true, rn_vendor_t, display, 0, 0),
        F("contact", RN_YF_STR, false, rn_vendor_t, contact, 0, 0),
    };
    static const rn_yaml_field_t sla_fields[] = {
        F("availability", RN_YF_DOUBLE, true, sla_raw_t, sla.availability, 0, 100),
        F("max_latency_ms", RN_YF_DOUBLE, true, sla_raw_t, sla.max_latency_ms, 0, 1e6),
        F("max_loss_pct", RN_YF_DOUBLE, true, sla_raw_t, sla.max_loss_pct, 0, 100),
        F("max_jitter_ms", RN_YF_DOUBLE, false, sla_raw_t, sla.max_jitter_ms, 0, 1e6),
        F("min_outage_s", RN_YF_DOUBLE, false, sla_raw_t, sla.min_outage_s, 0, 86400),
        /* SLA reports (optional; see read_sla_extras) */
        F("restore_hours", RN_YF_NODE, false, sla_raw_t, restore, 0, 0),
        F("penalty", RN_YF_NODE, false, sla_raw_t, penalty, 0, 0),
        F("partial_loss_counts", RN_YF_NODE, false, sla_raw_t, partial_loss, 0, 0),
    };
    top_t top = { 0 };
    rn_yaml_read_map(y, rn_yaml_root(y), "(top)", top_fields,
                     sizeof top_fields / sizeof top_fields[0], &top);
    read_settings(y, top.settings, &t->settings);
    t->vendors = read_named(y, top.vendors, "vendors", vendor_fields, 2, sizeof *t->vendors,
                            &t->n_vendors);
    size_t n_sla = 0;
    sla_raw_t *sla_raw = read_named(y, top.sla_classes, "sla_classes", sla_fields,
                                    sizeof sla_fields / sizeof sla_fields[0], sizeof *sla_raw,
                                    &n_sla);
    t->sla_classes = sla_raw ? alloc_array(y, n_sla, sizeof *t->sla_classes) : NULL;
    for (size_t i = 0; sla_raw && i < n_sla; i++) {
        if (t->sla_classes) {
            t->sla_classes[i] = sla_raw[i].sla;
            t->n_sla_classes = i + 1;
            if (!y->rc)
                read_sla_extras(y, &sla_raw[i], &t->sla_classes[i]);
        } else {
            free(sla_raw[i].sla.name);
        }
    }
    free(sla_raw);
    if (top.services)
        read_services(y, top.services, t);
    if (!y->rc)
        read_nodes(y, top.nodes, t);
    if (!y->rc)
        rn__topology_resolve_tree(y, t);
    if (!y->rc)
        resolve_devices(y, t, sec);
    if (!y->rc)
        rn__topology_resolve_links(y, t);
    if (!y->rc && top.udp_echo)
        read_echo_pairs(y, top.udp_echo, t);
    if (!y->rc)
        rn__topology_check_stations(y, t);
    return y->rc;
}

/* The common tail of both loaders: secrets first (so devices can be resolved), then the
 * topology; the parsed documents are freed here whatever happens. */
static int load_docs(rn_yaml_t *ty, int trc, rn_yaml_t *sy, int src, rn_topology_t **out)
{
    secrets_t sec = { 0 };
    rn_topology_t *t = NULL;
    int rc = src;
    if (rc == 0 && sy->loaded)
        rc = read_secrets(sy, &sec);
    if (rc == 0)
        rc = trc;
    if (rc == 0 && !(t = calloc(1, sizeof *t)))
        rc = -ENOMEM;
    if (rc == 0 && !(t->path = strdup(ty->file)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = read_topology(ty, t, &sec);
    if (rc == -ENOMEM && ty->err_len)
        snprintf(ty->err, ty->err_len, "%s: out of memory", ty->file);
    rn_yaml_free(ty);
    rn_yaml_free(sy);
    free_secrets(&sec);
    if (rc) {
        rn_topology_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int rn_topology_load(const char *path, const char *secrets_path, rn_topology_t **out, char *err,
                     size_t err_len)
{
    rn_yaml_t ty, sy = { 0 };
    *out = NULL;
    int src = secrets_path ? rn_yaml_load(&sy, secrets_path, err, err_len) : 0;
    int trc = src ? 0 : rn_yaml_load(&ty, path, err, err_len);
    if (src)
        memset(&ty, 0, sizeof ty);
    return load_docs(&ty, trc, &sy, src, out);
}

int rn_topology_load_buffers(const char *name, const uint8_t *buf, size_t len,
                             const uint8_t *secrets, size_t secrets_len, rn_topology_t **out,
                             char *err, size_t err_len)
{
    rn_yaml_t ty, sy = { 0 };
    *out = NULL;
    int src = secrets ? rn_yaml_load_buffer(&sy, "secrets", secrets, secrets_len, err, err_len)
                      : 0;
    int trc = src ? 0 : rn_yaml_load_buffer(&ty, name, buf, len, err, err_len);
    if (src)
        memset(&ty, 0, sizeof ty);
    return load_docs(&ty, trc, &sy, src, out);
}

static void free_node(rn_node_t *n)
{
    free(n->id);
    free(n->tier);
    free(n->parent_id);
    for (size_t i = 0; n->devices && i < n->n_devices; i++) {
        rn_device_t *d = &n->devices[i];
        free(d->name);
        free(d->addr);
        free(d->secret_name);
        free_cred(&d->snmp);
        for (size_t j = 0; d->extra && j < d->n_extra; j++)
            free(d->extra[j].name), free(d->extra[j].oid), free(d->extra[j].kind);
        free(d->extra);
    }
    free(n->devices);
    for (size_t i = 0; n->uplinks && i < n->n_uplinks; i++) {
        rn_link_t *l = &n->uplinks[i];
        free(l->circuit);
        free(l->vendor);
        free(l->kind);
        free(l->sla);
        free(l->role);
        free(l->local.device);
        free(l->local.ifname);
        free(l->remote_node);
        free(l->remote.device);
        free(l->remote.ifname);
    }
    free(n->uplinks);
    rn__topology_free_stations(n);
}

void rn_topology_free(rn_topology_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->nodes && i < t->n_nodes; i++)
        free_node(&t->nodes[i]);
    free(t->nodes);
    free(t->by_id);
    for (size_t i = 0; t->vendors && i < t->n_vendors; i++) {
        free(t->vendors[i].name);
        free(t->vendors[i].display);
        free(t->vendors[i].contact);
    }
    free(t->vendors);
    for (size_t i = 0; t->sla_classes && i < t->n_sla_classes; i++) {
        free(t->sla_classes[i].name);
        free(t->sla_classes[i].penalty);
    }
    free(t->sla_classes);
    for (size_t i = 0; t->services && i < t->n_services; i++) {
        rn_service_t *s = &t->services[i];
        free(s->name);
        free(s->kind);
        for (size_t j = 0; s->endpoints && j < s->n_endpoints; j++) {
            free(s->endpoints[j].node);
            free(s->endpoints[j].addr);
            free(s->endpoints[j].url);
            free(s->endpoints[j].tcp);
        }
        free(s->endpoints);
    }
    free(t->services);
    for (size_t i = 0; t->echo_pairs && i < t->n_echo_pairs; i++)
        free(t->echo_pairs[i].a), free(t->echo_pairs[i].b);
    free(t->echo_pairs);
    free(t->path);
    free(t);
}
