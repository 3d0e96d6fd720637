#include "ingest/plan.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"
#include "wire.h"

/* The plan borrows every string from the topology; only the arrays are its own. */
typedef struct {
    Rn__Plan plan;
    Rn__Device *devices;
    Rn__SnmpCredentials *creds;
    Rn__Device **device_ptrs;      /* the node's own, then its agentless children's */
    Rn__IcmpTarget *targets;       /* parent, root, then every child */
    Rn__IcmpTarget **target_ptrs;
    Rn__ServiceTarget *services;   /* service endpoints, with their object names: */
    Rn__ServiceTarget **service_ptrs;
    char (*objects)[RN_WIRE_MAX_NAME + 1];
    Rn__Capture capture;           /* VC capture: one per node, on its primary uplink */
    Rn__Capture *capture_ptr;
    char capture_filter[RN_WIRE_MAX_NAME + 1];
    Rn__EchoPeer *echo;            /* UDP echo peers */
    Rn__EchoPeer **echo_ptrs;
    Rn__ExtraOid *extras;          /* the devices' extra SNMP objects, all devices in a row */
    Rn__ExtraOid **extra_ptrs;
    Rn__Camera *cameras;           /* police station cameras (agent/rtsp_probe.h) */
    char (*camera_targets)[RN_WIRE_MAX_NAME + 1]; /* their ICMP target names */
    Rn__Camera **camera_ptrs;
    Rn__Capture *recs;             /* police stations' recording streams (Plan.recordings) */
    Rn__Capture **rec_ptrs;
    char (*rec_filters)[RN_WIRE_MAX_NAME + 1];
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

/* Copies the extra SNMP objects of device d into plan device out, from the extras arrays at *k
 * (advanced past them). */
static void add_extras(const rn_device_t *d, Rn__Device *out, plan_parts_t *p, size_t *k)
{
    out->extra = &p->extra_ptrs[*k];
    out->n_extra = d->n_extra;
    for (size_t j = 0; j < d->n_extra; j++, (*k)++) {
        rn__extra_oid__init(&p->extras[*k]);
        p->extras[*k].name = d->extra[j].name;
        p->extras[*k].oid = d->extra[j].oid;
        p->extras[*k].kind = d->extra[j].kind;
        p->extra_ptrs[*k] = &p->extras[*k];
    }
}

/* True if c is an agentless child of n: its devices are in n's plan (polled by n's agent). */
static bool agentless_child_of(const rn_node_t *c, const rn_node_t *n)
{
    return c->parent == n && !c->agent;
}

/* Returns the k-th node whose police stations n's agent probes: n itself first (when it runs an
 * agent), then its agentless children in topology order, as it polls their devices; NULL past
 * the last. */
static const rn_node_t *station_node(const rn_topology_t *topo, const rn_node_t *n, size_t k)
{
    if (n->agent && k-- == 0)
        return n;
    for (size_t i = 0; i < topo->n_nodes; i++)
        if (agentless_child_of(&topo->nodes[i], n) && k-- == 0)
            return &topo->nodes[i];
    return NULL;
}

/* Returns how many cameras n's agent probes (station_node). */
static size_t camera_count(const rn_topology_t *topo, const rn_node_t *n)
{
    size_t cams = 0;
    const rn_node_t *m;
    for (size_t k = 0; (m = station_node(topo, n, k)); k++)
        for (size_t s = 0; s < m->n_stations; s++)
            cams += m->stations[s].n_cameras + (m->stations[s].nvr != NULL);
    return cams;
}

/* Returns the address of camera c of station st, where c == st->n_cameras is its NVR (probed
 * as a camera named RN_TOPOLOGY_NVR, after the cameras), or NULL past the last. */
static const char *camera_addr(const rn_station_t *st, size_t c, const char **name)
{
    *name = c < st->n_cameras ? st->cameras[c].name : RN_TOPOLOGY_NVR;
    return c < st->n_cameras ? st->cameras[c].addr : c == st->n_cameras ? st->nvr : NULL;
}

/* The devices: node n's own (Plan.devices), then those of its agentless children
 * (Plan.child_devices, each naming its node), with their extra SNMP objects. An agentless node's
 * own devices are its parent's to poll: should an agent run there all the same, it gets none, so
 * no device is ever polled twice into the same files. Returns 0 or -ENOMEM. */
static int add_devices(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    size_t nd = 0, extras = 0, k = 0;
    for (size_t i = 0; i < topo->n_nodes; i++) {
        const rn_node_t *c = &topo->nodes[i];
        if ((c != n || !n->agent) && !agentless_child_of(c, n))
            continue;
        nd += c->n_devices;
        for (size_t j = 0; j < c->n_devices; j++)
            extras += c->devices[j].n_extra;
    }
    p->devices = calloc(nd ? nd : 1, sizeof *p->devices);
    p->creds = calloc(nd ? nd : 1, sizeof *p->creds);
    p->device_ptrs = calloc(nd ? nd : 1, sizeof *p->device_ptrs);
    p->extras = calloc(extras ? extras : 1, sizeof *p->extras);
    p->extra_ptrs = calloc(extras ? extras : 1, sizeof *p->extra_ptrs);
    if (!p->devices || !p->creds || !p->device_ptrs || !p->extras || !p->extra_ptrs)
        return -ENOMEM;
    size_t m = 0;
    for (size_t j = 0; n->agent && j < n->n_devices; j++, m++) {
        fill_device(&n->devices[j], &p->devices[m], &p->creds[m]);
        add_extras(&n->devices[j], &p->devices[m], p, &k);
        p->device_ptrs[m] = &p->devices[m];
    }
    p->plan.devices = p->device_ptrs;
    p->plan.n_devices = m;
    p->plan.child_devices = p->device_ptrs + m;
    for (size_t i = 0; i < topo->n_nodes; i++) {
        const rn_node_t *c = &topo->nodes[i];
        for (size_t j = 0; agentless_child_of(c, n) && j < c->n_devices; j++, m++) {
            fill_device(&c->devices[j], &p->devices[m], &p->creds[m]);
            add_extras(&c->devices[j], &p->devices[m], p, &k);
            p->devices[m].node = c->id;
            p->device_ptrs[m] = &p->devices[m];
            p->plan.n_child_devices++;
        }
    }
    return 0;
}

/* Returns the SLA class of node n's primary uplink (the first one if none says primary), or
 * NULL when it has no uplink or the class is unknown. */
static const rn_sla_class_t *uplink_sla(const rn_topology_t *topo, const rn_node_t *n)
{
    const rn_link_t *l = NULL;
    for (size_t i = 0; i < n->n_uplinks && !l; i++)
        if (n->uplinks[i].role && strcmp(n->uplinks[i].role, "primary") == 0)
            l = &n->uplinks[i];
    if (!l && n->n_uplinks)
        l = &n->uplinks[0];
    for (size_t i = 0; l && l->sla && i < topo->n_sla_classes; i++)
        if (strcmp(topo->sla_classes[i].name, l->sla) == 0)
            return &topo->sla_classes[i];
    return NULL;
}

/* Sets the SLA limits of a probe from node `from` up to its ancestor `to`: latency and jitter
 * limits add up along the path, loss limits combine as independent losses. A path with an
 * uplink of unknown class gets no limits. */
static void set_path_sla(const rn_topology_t *topo, const rn_node_t *from, const rn_node_t *to,
                         Rn__IcmpTarget *t)
{
    double lat = 0, jit = 0, pass = 1;
    for (const rn_node_t *n = from; n && n != to; n = n->parent) {
        const rn_sla_class_t *c = uplink_sla(topo, n);
        if (!c)
            return;
        lat += c->max_latency_ms;
        jit += c->max_jitter_ms;
        pass *= 1 - c->max_loss_pct / 100;
    }
    t->has_max_latency_ms = t->has_max_loss_pct = 1;
    t->max_latency_ms = lat;
    t->max_loss_pct = (1 - pass) * 100;
    t->has_max_jitter_ms = jit > 0;
    t->max_jitter_ms = jit;
}

/* Appends an ICMP target for node n at its first device's address, unless n is NULL or has no
 * device: an ancestor of self (up the tree) or, with child, a child of self (down the tree). */
static void add_target(plan_parts_t *p, const rn_topology_t *topo, const rn_node_t *self,
                       const rn_node_t *n, bool child)
{
    if (!n || n->n_devices == 0)
        return;
    Rn__IcmpTarget *t = &p->targets[p->plan.n_icmp];
    rn__icmp_target__init(t);
    t->name = n->id;
    t->addr = n->devices[0].addr;
    t->has_count = 1;
    t->count = topo->settings.probe_count;
    t->has_child = child;
    t->child = child;
    if (child)
        set_path_sla(topo, n, self, t); /* the one hop: the child's uplink */
    else
        set_path_sla(topo, self, n, t);
    p->target_ptrs[p->plan.n_icmp++] = t;
}

/* The ICMP targets: the parent (the uplink) and the root (where the services live), so a cut
 * anywhere on the path up shows as loss; then every child, so a child cut off behind its own
 * uplink (silent: its agent, if any, reaches the collector over that uplink) shows from above.
 * Returns 0 or -ENOMEM. */
static int add_targets(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    size_t max = 2, cams = camera_count(topo, n); /* police station cameras */
    for (size_t i = 0; i < topo->n_nodes; i++)
        max += topo->nodes[i].parent == n;
    p->targets = calloc(max + cams, sizeof *p->targets);
    p->target_ptrs = calloc(max + cams, sizeof *p->target_ptrs);
    p->camera_targets = calloc(cams ? cams : 1, sizeof *p->camera_targets);
    if (!p->targets || !p->target_ptrs || !p->camera_targets)
        return -ENOMEM;
    p->plan.icmp = p->target_ptrs;
    const rn_node_t *root = rn_topology_root(topo);
    add_target(p, topo, n, n->parent, false);
    if (root && root != n && root != n->parent)
        add_target(p, topo, n, root, false);
    for (size_t i = 0; i < topo->n_nodes; i++)
        if (topo->nodes[i].parent == n)
            add_target(p, topo, n, &topo->nodes[i], true);
    /* police station cameras, last (n's own, then its agentless children's: station names are
     * unique in the topology): "cam:<station>:<camera>", a name no node id can have, so the
     * alarm engine (which maps targets to nodes) ignores it; no SLA limits */
    const rn_node_t *m;
    const char *name, *addr;
    for (size_t j = 0, k = 0; (m = station_node(topo, n, j)); j++)
        for (size_t s = 0; s < m->n_stations; s++)
            for (size_t c = 0; (addr = camera_addr(&m->stations[s], c, &name)); c++, k++) {
                Rn__IcmpTarget *t = &p->targets[p->plan.n_icmp];
                rn__icmp_target__init(t);
                snprintf(p->camera_targets[k], sizeof p->camera_targets[k], "cam:%s:%s",
                         m->stations[s].name, name);
                t->name = p->camera_targets[k];
                t->addr = (char *)addr;
                t->has_count = 1;
                t->count = topo->settings.probe_count;
                p->target_ptrs[p->plan.n_icmp++] = t;
            }
    return 0;
}

/* Appends one service target; object is its series name: "<service>-<port>" or
 * "<service>-http", with "-<host node>" (its '/' as '-') after the service when the service has
 * more than one endpoint. */
static void add_service(plan_parts_t *p, const rn_service_t *sv, const rn_endpoint_t *ep,
                        const char *kind, uint32_t port)
{
    size_t i = p->plan.n_services;
    Rn__ServiceTarget *t = &p->services[i];
    char *obj = p->objects[i], host[RN_WIRE_MAX_NAME + 1] = "";
    rn__service_target__init(t);
    if (sv->n_endpoints > 1)
        snprintf(host, sizeof host, "-%s", ep->node);
    for (char *c = host; *c; c++)
        *c = *c == '/' ? '-' : *c;
    if (port)
        snprintf(obj, RN_WIRE_MAX_NAME + 1, "%s%s-%u", sv->name, host, port);
    else
        snprintf(obj, RN_WIRE_MAX_NAME + 1, "%s%s-http", sv->name, host);
    t->name = sv->name;
    t->kind = (char *)kind;
    t->object = obj;
    t->host_node = ep->node;
    if (port) {
        t->addr = ep->addr;
        t->has_port = 1;
        t->port = port;
    } else {
        t->url = ep->url;
    }
    p->service_ptrs[p->plan.n_services++] = t;
}

/* Adds every endpoint of every service that node n does not host itself: each TCP port (when
 * the endpoint has an address) and the URL. Returns 0 or -ENOMEM. */
static int add_services(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    size_t max = 0;
    for (size_t i = 0; i < topo->n_services; i++)
        for (size_t e = 0; e < topo->services[i].n_endpoints; e++)
            max += topo->services[i].endpoints[e].n_tcp + 1;
    p->services = calloc(max ? max : 1, sizeof *p->services);
    p->service_ptrs = calloc(max ? max : 1, sizeof *p->service_ptrs);
    p->objects = calloc(max ? max : 1, sizeof *p->objects);
    if (!p->services || !p->service_ptrs || !p->objects)
        return -ENOMEM;
    p->plan.services = p->service_ptrs;
    for (size_t i = 0; i < topo->n_services; i++) {
        const rn_service_t *sv = &topo->services[i];
        for (size_t e = 0; e < sv->n_endpoints; e++) {
            const rn_endpoint_t *ep = &sv->endpoints[e];
            if (ep->node && strcmp(ep->node, n->id) == 0)
                continue; /* a node does not probe what it hosts */
            for (size_t k = 0; ep->addr && k < ep->n_tcp; k++)
                add_service(p, sv, ep, RN_SRC_TCP, ep->tcp[k]);
            if (ep->url)
                add_service(p, sv, ep, RN_SRC_HTTP, 0);
        }
    }
    return 0;
}

/* VC capture (agent/vc_quality.h): a node with an uplink, when a vc service has RTP ports and
 * the node does not host it, captures on its primary uplink's local interface (in the simulated
 * RajNet the agent's namespace holds that interface): the RTP port range and the MCU addresses,
 * plus TCP SYNs to e-governance endpoints for handshake times. A filter that would not fit in a
 * plan string is cut at the last whole clause. */
static void add_capture(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    const rn_link_t *up = NULL;
    for (size_t i = 0; i < n->n_uplinks; i++)
        if (!up || (n->uplinks[i].role && strcmp(n->uplinks[i].role, "primary") == 0 &&
                    !(up->role && strcmp(up->role, "primary") == 0)))
            up = &n->uplinks[i];
    if (!up || !up->local.ifname)
        return;
    char *f = p->capture_filter;
    size_t cap = sizeof p->capture_filter, len = 0;
    bool any_vc = false;
    for (size_t i = 0; i < topo->n_services; i++) {
        const rn_service_t *sv = &topo->services[i];
        bool vc = strcmp(sv->kind, "vc") == 0;
        if (vc && !sv->rtp_port_min)
            continue;
        char clause[128];
        if (vc) {
            snprintf(clause, sizeof clause, "%s(udp portrange %u-%u)", len ? " or " : "",
                     sv->rtp_port_min, sv->rtp_port_max);
            if (len + strlen(clause) < cap)
                len += (size_t)snprintf(f + len, cap - len, "%s", clause);
        }
        for (size_t e = 0; e < sv->n_endpoints; e++) {
            const rn_endpoint_t *ep = &sv->endpoints[e];
            if (ep->node && strcmp(ep->node, n->id) == 0)
                continue;
            if (vc)
                any_vc = true;
            if (!ep->addr)
                continue;
            snprintf(clause, sizeof clause, "%s(%s host %s)", len ? " or " : "",
                     vc ? "udp and" : "tcp[tcpflags] & tcp-syn != 0 and", ep->addr);
            if (len + strlen(clause) < cap)
                len += (size_t)snprintf(f + len, cap - len, "%s", clause);
        }
    }
    if (!any_vc || !len)
        return;
    rn__capture__init(&p->capture);
    p->capture.name = "vc";
    p->capture.ifname = up->local.ifname;
    p->capture.filter = f;
    p->capture.has_interval_s = 1;
    p->capture.interval_s = 5;
    p->capture_ptr = &p->capture;
    p->plan.captures = &p->capture_ptr;
    p->plan.n_captures = 1;
}

/* UDP echo (agent/udp_echo.h): for every topology pair that names n, the other node as a peer,
 * at its first device's address (as for ICMP targets), on the reflector's default port.
 * Returns 0 or -ENOMEM. */
static int add_echo_peers(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    size_t max = topo->n_echo_pairs;
    p->echo = calloc(max ? max : 1, sizeof *p->echo);
    p->echo_ptrs = calloc(max ? max : 1, sizeof *p->echo_ptrs);
    if (!p->echo || !p->echo_ptrs)
        return -ENOMEM;
    p->plan.echo = p->echo_ptrs;
    for (size_t i = 0; i < topo->n_echo_pairs; i++) {
        const rn_echo_pair_t *e = &topo->echo_pairs[i];
        const char *other = !strcmp(e->a, n->id) ? e->b : !strcmp(e->b, n->id) ? e->a : NULL;
        const rn_node_t *peer = other ? rn_topology_node(topo, other) : NULL;
        if (!peer || peer->n_devices == 0) /* the topology checked both */
            continue;
        Rn__EchoPeer *ep = &p->echo[p->plan.n_echo];
        rn__echo_peer__init(ep);
        ep->name = peer->id;
        ep->addr = peer->devices[0].addr;
        ep->has_count = 1;
        ep->count = e->count ? e->count : topo->settings.probe_count;
        p->echo_ptrs[p->plan.n_echo++] = ep;
    }
    return 0;
}

/* Police station cameras (agent/rtsp_probe.h): every camera of the stations n's agent probes
 * (station_node), and each station's NVR as a camera named RN_TOPOLOGY_NVR, on the RTSP port;
 * an agentless child's carry its id (Camera.node), so their samples are stored and judged as
 * that child's. Returns 0 or -ENOMEM. */
static int add_cameras(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    size_t max = camera_count(topo, n);
    p->cameras = calloc(max ? max : 1, sizeof *p->cameras);
    p->camera_ptrs = calloc(max ? max : 1, sizeof *p->camera_ptrs);
    if (!p->cameras || !p->camera_ptrs)
        return -ENOMEM;
    p->plan.cameras = p->camera_ptrs;
    const rn_node_t *m;
    const char *name, *addr;
    for (size_t k = 0; (m = station_node(topo, n, k)); k++)
        for (size_t s = 0; s < m->n_stations; s++)
            for (size_t c = 0; (addr = camera_addr(&m->stations[s], c, &name)); c++) {
                Rn__Camera *cam = &p->cameras[p->plan.n_cameras];
                rn__camera__init(cam);
                cam->station = m->stations[s].name;
                cam->name = (char *)name;
                cam->addr = (char *)addr;
                cam->node = m == n ? NULL : m->id;
                p->camera_ptrs[p->plan.n_cameras++] = cam;
            }
    return 0;
}

/* Writes into f (cap bytes) the BPF filter of station st's recording stream: UDP from its cameras
 * to its NVR; when the cameras' clauses do not fit, UDP to the NVR alone (the NVR receives
 * nothing else over UDP that matters: its stream is what is watched). */
static void recording_filter(const rn_station_t *st, char *f, size_t cap)
{
    size_t len = (size_t)snprintf(f, cap, "udp and dst host %s and (", st->nvr);
    for (size_t c = 0; c < st->n_cameras && len < cap; c++)
        len += (size_t)snprintf(f + len, cap - len, "%ssrc host %s", c ? " or " : "",
                                st->cameras[c].addr);
    if (len + 1 < cap)
        snprintf(f + len, cap - len, ")");
    else
        snprintf(f, cap, "udp and dst host %s", st->nvr);
}

/* Police station recording streams (topology `recording:`): for every station n's agent probes
 * (station_node) with a recording interface, a capture on it named after the station, every
 * 5 s, in Plan.recordings (agent/vc_quality.h, recording mode: "rec" samples). Returns 0 or
 * -ENOMEM. */
static int add_recordings(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    size_t max = 0;
    const rn_node_t *m;
    for (size_t k = 0; (m = station_node(topo, n, k)); k++)
        for (size_t s = 0; s < m->n_stations; s++)
            max += m->stations[s].rec_ifname != NULL;
    if (!max)
        return 0;
    p->recs = calloc(max, sizeof *p->recs);
    p->rec_ptrs = calloc(max, sizeof *p->rec_ptrs);
    p->rec_filters = calloc(max, sizeof *p->rec_filters);
    if (!p->recs || !p->rec_ptrs || !p->rec_filters)
        return -ENOMEM;
    p->plan.recordings = p->rec_ptrs;
    for (size_t k = 0; (m = station_node(topo, n, k)); k++)
        for (size_t s = 0; s < m->n_stations; s++) {
            const rn_station_t *st = &m->stations[s];
            if (!st->rec_ifname)
                continue;
            size_t i = p->plan.n_recordings++;
            recording_filter(st, p->rec_filters[i], sizeof p->rec_filters[i]);
            rn__capture__init(&p->recs[i]);
            p->recs[i].name = st->name;
            p->recs[i].ifname = st->rec_ifname;
            p->recs[i].filter = p->rec_filters[i];
            p->recs[i].has_interval_s = 1;
            p->recs[i].interval_s = RN_PLAN_REC_INTERVAL_S;
            p->rec_ptrs[i] = &p->recs[i];
        }
    return 0;
}

/* Fills parts with the plan of node n. Returns 0 or -ENOMEM. */
static int build(const rn_topology_t *topo, const rn_node_t *n, plan_parts_t *p)
{
    rn__plan__init(&p->plan);
    p->plan.digest = "";
    p->plan.poll_interval_s = topo->settings.poll_interval_s;
    p->plan.probe_interval_s = topo->settings.probe_interval_s;
    if (add_devices(topo, n, p) != 0 || add_targets(topo, n, p) != 0)
        return -ENOMEM;
    add_capture(topo, n, p); /* VC capture */
    if (add_echo_peers(topo, n, p) != 0) /* UDP echo */
        return -ENOMEM;
    if (add_cameras(topo, n, p) != 0 || add_recordings(topo, n, p) != 0) /* police stations */
        return -ENOMEM;
    return add_services(topo, n, p);
}

static void free_parts(plan_parts_t *p)
{
    free(p->devices);
    free(p->creds);
    free(p->device_ptrs);
    free(p->targets);
    free(p->target_ptrs);
    free(p->services);
    free(p->service_ptrs);
    free(p->objects);
    free(p->echo);
    free(p->echo_ptrs);
    free(p->extras);
    free(p->extra_ptrs);
    free(p->cameras);
    free(p->camera_ptrs);
    free(p->camera_targets);
    free(p->recs);
    free(p->rec_ptrs);
    free(p->rec_filters);
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

const rn_node_t *rn_plan_agentless_child(const rn_topology_t *topo, const char *agent_node,
                                         const char *node_id)
{
    const rn_node_t *n = rn_topology_node(topo, agent_node);
    const rn_node_t *c = node_id ? rn_topology_node(topo, node_id) : NULL;
    return n && c && agentless_child_of(c, n) ? c : NULL;
}

/* ---- The series a plan asks for (plan.h, the collector's ingest screen) ---- */

/* The sources of one capture's samples, each with the capture's name as its object: VC media and
 * handshake times (agent/vc_quality.h), and the capture's own packet counters. */
static const char *const capture_sources[] = { RN_SRC_RTP, RN_SRC_TCPHS, RN_SRC_PCAP };

/* The series keys, sorted: node, source, device, object joined by SEP ("if" with object ""). */
struct rn_plan_series {
    char **keys;
    size_t n, cap;
};

#define SEP "\037" /* a byte no validated name holds (lib/wire.c) */

/* Appends the key of one series to s. Returns 0 or -ENOMEM. */
static int add_key(rn_plan_series_t *s, const char *node, const char *source, const char *device,
                   const char *object)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **k = realloc(s->keys, cap * sizeof *k);
        if (!k)
            return -ENOMEM;
        s->keys = k;
        s->cap = cap;
    }
    size_t len = strlen(node) + strlen(source) + strlen(device) + strlen(object) + 4;
    if (!(s->keys[s->n] = malloc(len)))
        return -ENOMEM;
    snprintf(s->keys[s->n++], len, "%s" SEP "%s" SEP "%s" SEP "%s", node, source, device, object);
    return 0;
}

/* Adds the series of the plan's devices: "if" on each, and each extra SNMP object under its
 * kind ("gauge" or "counter", the source the agent gives it). Returns 0 or -ENOMEM. */
static int add_device_keys(rn_plan_series_t *s, const Rn__Plan *plan)
{
    size_t n = plan->n_devices + plan->n_child_devices;
    for (size_t i = 0; i < n; i++) {
        const Rn__Device *d = i < plan->n_devices ? plan->devices[i]
                                                  : plan->child_devices[i - plan->n_devices];
        const char *node = d->node ? d->node : "";
        if (add_key(s, node, RN_SRC_IF, d->name, "") != 0)
            return -ENOMEM;
        for (size_t j = 0; j < d->n_extra; j++)
            if (add_key(s, node, d->extra[j]->kind, d->name, d->extra[j]->name) != 0)
                return -ENOMEM;
    }
    return 0;
}

/* Adds the series of the plan's probes and captures (device ""), and its cameras ("rtsp", device
 * the station). Returns 0 or -ENOMEM. */
static int add_probe_keys(rn_plan_series_t *s, const Rn__Plan *plan)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < plan->n_icmp; i++)
        rc = add_key(s, "", RN_SRC_ICMP, "", plan->icmp[i]->name);
    for (size_t i = 0; rc == 0 && i < plan->n_echo; i++)
        rc = add_key(s, "", RN_SRC_UDPECHO, "", plan->echo[i]->name);
    for (size_t i = 0; rc == 0 && i < plan->n_services; i++)
        rc = add_key(s, "", plan->services[i]->kind, "", plan->services[i]->object);
    for (size_t i = 0; rc == 0 && i < plan->n_cameras; i++) /* device: the station */
        rc = add_key(s, plan->cameras[i]->node ? plan->cameras[i]->node : "", RN_SRC_RTSP,
                     plan->cameras[i]->station, plan->cameras[i]->name);
    for (size_t i = 0; rc == 0 && i < plan->n_captures; i++)
        for (size_t k = 0; rc == 0 && k < sizeof capture_sources / sizeof *capture_sources; k++)
            rc = add_key(s, "", capture_sources[k], "", plan->captures[i]->name);
    for (size_t i = 0; rc == 0 && i < plan->n_recordings; i++) /* object: the station */
        rc = add_key(s, "", RN_SRC_REC, "", plan->recordings[i]->name);
    return rc;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rn_plan_series_new(const rn_topology_t *topo, const char *node_id, rn_plan_series_t **out)
{
    const rn_node_t *n = rn_topology_node(topo, node_id);
    *out = NULL;
    if (!n)
        return -ENOENT;
    plan_parts_t p = { 0 };
    rn_plan_series_t *s = calloc(1, sizeof *s);
    int rc = s ? build(topo, n, &p) : -ENOMEM;
    if (rc == 0 && (rc = add_device_keys(s, &p.plan)) == 0)
        rc = add_probe_keys(s, &p.plan);
    free_parts(&p);
    if (rc) {
        rn_plan_series_free(s);
        return rc;
    }
    qsort(s->keys, s->n, sizeof *s->keys, cmp_keys);
    *out = s;
    return 0;
}

const rn_service_t *rn_plan_service_of_object(const rn_topology_t *topo, const char *object)
{
    const rn_service_t *best = NULL;
    for (size_t i = 0; object && i < topo->n_services; i++) {
        const rn_service_t *sv = &topo->services[i];
        size_t len = strlen(sv->name);
        if (strncmp(object, sv->name, len) == 0 && object[len] == '-' &&
            (!best || len > strlen(best->name)))
            best = sv;
    }
    return best;
}

bool rn_plan_series_allows(const rn_plan_series_t *s, const char *node, const char *source,
                           const char *device, const char *object)
{
    char key[4 * (RN_WIRE_MAX_NAME + 1)];
    if (strcmp(source, RN_SRC_IF) == 0)
        object = "";
    int len = snprintf(key, sizeof key, "%s" SEP "%s" SEP "%s" SEP "%s", node ? node : "", source,
                       device, object);
    if (len < 0 || (size_t)len >= sizeof key)
        return false; /* longer than any planned name */
    const char *k = key;
    return bsearch(&k, s->keys, s->n, sizeof *s->keys, cmp_keys) != NULL;
}

void rn_plan_series_free(rn_plan_series_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s);
}
