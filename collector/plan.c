#include "plan.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* The plan borrows every string from the topology; only the arrays are its own. */
typedef struct {
    Rn__Plan plan;
    Rn__Device *devices;
    Rn__SnmpCredentials *creds;
    Rn__Device **device_ptrs;
    Rn__IcmpTarget targets[2];
    Rn__IcmpTarget *target_ptrs[2];
} plan_parts_t;

static void fill_device(const rn_device_t *d, Rn__Device *out, Rn__SnmpCredentials *cred)
{
    rn__snmp_credentials__init(cred);
    cred->version = d->snmp.version;
    cred->community = d->snmp.community;
    cred->user = d->snmp.user;
    cred->auth_proto = d->snmp.auth_proto;
    cred->auth_key = d->snmp.auth_key;
    cred->priv_proto = d->snmp.priv_proto;
    cred->priv_key = d->snmp.priv_key;
    rn__device__init(out);
    out->name = d->name;
    out->addr = d->addr;
    out->snmp = cred;
    out->has_timeout_ms = out->has_retries = 1;
    out->timeout_ms = d->timeout_ms;
    out->retries = d->retries;
}

static void add_target(plan_parts_t *p, const rn_node_t *n, uint32_t count)
{
    if (!n || n->n_devices == 0)
        return;
    Rn__IcmpTarget *t = &p->targets[p->plan.n_icmp];
    rn__icmp_target__init(t);
    t->name = n->id;
    t->addr = n->devices[0].addr;
    t->has_count = 1;
    t->count = count;
    p->target_ptrs[p->plan.n_icmp++] = t;
}

/* Fills parts with the plan of node n. Returns 0 or -ENOMEM. */
static int build(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    rn__plan__init(&p->plan);
    p->plan.digest = "";
    p->plan.poll_interval_s = topo->settings.poll_interval_s;
    p->plan.probe_interval_s = topo->settings.probe_interval_s;
    size_t nd = n->n_devices;
    p->devices = calloc(nd ? nd : 1, sizeof *p->devices);
    p->creds = calloc(nd ? nd : 1, sizeof *p->creds);
    p->device_ptrs = calloc(nd ? nd : 1, sizeof *p->device_ptrs);
    if (!p->devices || !p->creds || !p->device_ptrs)
        return -ENOMEM;
    for (size_t i = 0; i < nd; i++) {
        fill_device(&n->devices[i], &p->devices[i], &p->creds[i]);
        p->device_ptrs[i] = &p->devices[i];
    }
    p->plan.n_devices = nd;
    p->plan.devices = p->device_ptrs;
    p->plan.icmp = p->target_ptrs;
    const rn_node_t *root = rn_topology_root(topo);
    add_target(p, n->parent, topo->settings.probe_count);
    if (root && root != n && root != n->parent)
        add_target(p, root, topo->settings.probe_count);
    return 0;
}

static void free_parts(plan_parts_t *p)
{
    free(p->devices);
    free(p->creds);
    free(p->device_ptrs);
}

/* Hex SHA-256 of the plan packed with an empty digest. Returns 0 or -ENOMEM. */
static int digest_plan(const Rn__Plan *plan, char hex[65])
{
    size_t len = rn__plan__get_packed_size(plan);
    uint8_t *buf = malloc(len ? len : 1);
    unsigned char md[32];
    unsigned int md_len = 0;
    if (!buf)
        return -ENOMEM;
    rn__plan__pack(plan, buf);
    int ok = EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL);
    free(buf);
    if (!ok || md_len != sizeof md)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof md; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int rn_plan_encode(const rn_topology_t *topo, const char *node_id, uint8_t **frame,
                   size_t *frame_len, char digest[65])
{
    const rn_node_t *n = rn_topology_node(topo, node_id);
    if (!n)
        return -ENOENT;
    plan_parts_t p = { 0 };
    int rc = build(topo, n, &p);
    if (rc == 0)
        rc = digest_plan(&p.plan, digest);
    if (rc == 0) {
        p.plan.digest = digest;
        Rn__Frame f = RN__FRAME__INIT;
        f.body_case = RN__FRAME__BODY_PLAN;
        f.plan = &p.plan;
        rc = rn_wire_encode(&f, frame, frame_len);
    }
    free_parts(&p);
    return rc;
}
