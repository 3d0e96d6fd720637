/* Plans (collector/ingest/plan.c): what each agent is told to measure, decoded the way an agent decodes
 * it. Mostly downward evidence: every agent probes its children, and polls the devices of its
 * agentless children; the topology makes sure such a child's parent runs an agent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "ingest/plan.h"
#include "topology.h"
#include "wire.h"

static const char secrets[] = "ro: { community: ro-secret }\n"
                              "v3: { auth: SHA, auth_key: auth-key-0001, priv: AES, "
                              "priv_key: priv-key-0001 }\n";

/* The head of a topology: two SLA classes (block uplinks "bhq", village uplinks "gp"), the root
 * and one district. */
static const char head[] =
    "settings: { poll_interval_s: 60, probe_interval_s: 10, probe_count: 7 }\n"
    "vendors: { bsnl: { name: BSNL } }\n"
    "sla_classes:\n"
    "  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, max_jitter_ms: 30 }\n"
    "  bhq: { availability: 99.0, max_latency_ms: 150, max_loss_pct: 2.0, max_jitter_ms: 50 }\n"
    "  gp:  { availability: 97.0, max_latency_ms: 600, max_loss_pct: 3.0, max_jitter_ms: 80 }\n"
    "nodes:\n"
    "  sdc:\n"
    "    tier: sdc\n"
    "    devices: [{ name: core1, addr: 10.77.0.1, snmp: { version: 3, user: noc, secret: v3 } }]\n"
    "  jaipur:\n"
    "    tier: district\n"
    "    parent: sdc\n"
    "    devices: [{ name: rtr1, addr: 10.77.1.1, snmp: { version: 2c, secret: ro } }]\n"
    "    uplinks: [{ circuit: C-JPR, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq,\n"
    "                local: { device: rtr1, ifname: wan0 }, remote: { device: core1, ifname: j } }]\n";

/* Appends a node to buf (at *len): its id, tier, parent, agent flag ("" to leave it out), its
 * first device's address (NULL: no device), and its uplink's SLA class. */
static void add_node(char *buf, size_t cap, size_t *len, const char *id, const char *tier,
                     const char *parent, const char *agent, const char *addr, const char *sla)
{
    *len += (size_t)snprintf(buf + *len, cap - *len, "  %s:\n    tier: %s\n    parent: %s\n%s%s%s",
                             id, tier, parent, agent[0] ? "    agent: " : "", agent,
                             agent[0] ? "\n" : "");
    if (!addr)
        return;
    *len += (size_t)snprintf(
        buf + *len, cap - *len,
        "    devices: [{ name: rtr1, addr: %s, snmp: { version: 2c, secret: ro } }]\n"
        "    uplinks: [{ circuit: C-%s, vendor: bsnl, kind: radio, mbps: 2, sla: %s,\n"
        "                local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, "
        "ifname: x } }]\n", addr, addr, sla);
}

/* The test tree: block jaipur/sanganer (an agent) with children gp-bagru (agentless, a second
 * device "modem" with an extra OID), gp-kalwar (agentless), gp-jobner (runs an agent) and
 * gp-empty (agentless, no device); block jaipur/amer with an agentless child gp-kunda. */
static rn_topology_t *load_tree(void)
{
    static char buf[8192];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s", head);
    add_node(buf, sizeof buf, &len, "jaipur/sanganer", "block", "jaipur", "", "10.77.11.1",
             "bhq");
    add_node(buf, sizeof buf, &len, "jaipur/sanganer/gp-bagru", "village", "jaipur/sanganer",
             "false", NULL, NULL);
    len += (size_t)snprintf(buf + len, sizeof buf - len,
                            "    devices: [{ name: rtr1, addr: 10.77.122.1, snmp: { version: 2c, "
                            "secret: ro } },\n              { name: modem, addr: 10.77.122.2, "
                            "snmp: { version: 2c, secret: ro }, extra: [{ name: rssi, oid: "
                            "1.3.6.1.4.1.99999.1.0, kind: gauge }] }]\n"
                            "    uplinks: [{ circuit: C-BGR, vendor: bsnl, kind: vsat, mbps: 1, "
                            "sla: gp,\n                local: { device: rtr1, ifname: wan0 }, "
                            "remote: { device: rtr1, ifname: x } }]\n");
    add_node(buf, sizeof buf, &len, "jaipur/sanganer/gp-kalwar", "village", "jaipur/sanganer",
             "no", "10.77.122.9", "gp");
    add_node(buf, sizeof buf, &len, "jaipur/sanganer/gp-jobner", "village", "jaipur/sanganer",
             "true", "10.77.122.17", "gp");
    add_node(buf, sizeof buf, &len, "jaipur/sanganer/gp-empty", "village", "jaipur/sanganer",
             "false", NULL, NULL);
    add_node(buf, sizeof buf, &len, "jaipur/amer", "block", "jaipur", "", "10.77.12.1", "bhq");
    add_node(buf, sizeof buf, &len, "jaipur/amer/gp-kunda", "village", "jaipur/amer", "false",
             "10.77.121.1", "gp");
    rn_topology_t *t = NULL;
    char err[512] = "";
    int rc = rn_topology_load_buffers("tree.yaml", (const uint8_t *)buf, strlen(buf),
                                      (const uint8_t *)secrets, sizeof secrets - 1, &t, err,
                                      sizeof err);
    if (rc != 0)
        fail_msg("topology refused: %s\n%s", err, buf);
    return t;
}

/* Encodes the plan of node and decodes it as an agent does (rn_wire_decode). */
static Rn__Frame *plan_of(const rn_topology_t *t, const char *node)
{
    uint8_t *buf;
    size_t len;
    char digest[65], why[256] = "";
    assert_int_equal(rn_plan_encode(t, node, &buf, &len, digest), 0);
    Rn__Frame *f = NULL;
    int rc = rn_wire_decode(buf + RN_WIRE_HEADER_LEN, len - RN_WIRE_HEADER_LEN, &f, why,
                            sizeof why);
    free(buf);
    if (rc != 0)
        fail_msg("plan of %s refused by the wire check: %s", node, why);
    assert_string_equal(f->plan->digest, digest);
    return f;
}

/* Returns the ICMP target named name in the plan, or NULL. */
static const Rn__IcmpTarget *target(const Rn__Plan *p, const char *name)
{
    for (size_t i = 0; i < p->n_icmp; i++)
        if (strcmp(p->icmp[i]->name, name) == 0)
            return p->icmp[i];
    return NULL;
}

static void test_block_probes_parent_root_and_every_child(void **state)
{
    rn_topology_t *t = load_tree();
    Rn__Frame *f = plan_of(t, "jaipur/sanganer");
    const Rn__Plan *p = f->plan;
    /* up first (parent, root), then the children with a device, in file order */
    static const char *const want[] = { "jaipur", "sdc", "jaipur/sanganer/gp-bagru",
                                        "jaipur/sanganer/gp-kalwar",
                                        "jaipur/sanganer/gp-jobner" };
    assert_int_equal(p->n_icmp, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(p->icmp[i]->name, want[i]);
        assert_int_equal(p->icmp[i]->count, 7);
        assert_int_equal(p->icmp[i]->has_child && p->icmp[i]->child, i >= 2);
    }
    assert_null(target(p, "jaipur/sanganer/gp-empty")); /* no device: no address to probe */
    assert_null(target(p, "jaipur/amer/gp-kunda"));     /* another block's */
    const Rn__IcmpTarget *bagru = target(p, "jaipur/sanganer/gp-bagru");
    assert_string_equal(bagru->addr, "10.77.122.1"); /* the first device's address */
    /* the one hop down: the village uplink's class alone */
    assert_true(bagru->has_max_latency_ms && bagru->max_latency_ms == 600);
    assert_true(bagru->has_max_loss_pct && bagru->max_loss_pct > 2.999 &&
                bagru->max_loss_pct < 3.001);
    assert_true(bagru->has_max_jitter_ms && bagru->max_jitter_ms == 80);
    /* up the tree, unchanged: the block's class to the parent, summed to the root */
    assert_true(target(p, "jaipur")->max_latency_ms == 150);
    assert_true(target(p, "sdc")->max_latency_ms == 230);
    assert_false(target(p, "sdc")->has_child);
    rn_wire_free(f);
    rn_topology_free(t);
}

static void test_block_polls_its_agentless_childrens_devices(void **state)
{
    rn_topology_t *t = load_tree();
    Rn__Frame *f = plan_of(t, "jaipur/sanganer");
    const Rn__Plan *p = f->plan;
    assert_int_equal(p->n_devices, 1); /* its own, without a node */
    assert_string_equal(p->devices[0]->name, "rtr1");
    assert_string_equal(p->devices[0]->addr, "10.77.11.1");
    assert_null(p->devices[0]->node);
    /* gp-bagru's two and gp-kalwar's one; not gp-jobner's (it has its own agent) */
    assert_int_equal(p->n_child_devices, 3);
    const Rn__Device *const *c = (const Rn__Device *const *)p->child_devices;
    assert_string_equal(c[0]->node, "jaipur/sanganer/gp-bagru");
    assert_string_equal(c[0]->name, "rtr1");
    assert_string_equal(c[1]->node, "jaipur/sanganer/gp-bagru");
    assert_string_equal(c[1]->name, "modem");
    assert_string_equal(c[1]->addr, "10.77.122.2");
    assert_int_equal(c[1]->n_extra, 1); /* its extra OIDs come along */
    assert_string_equal(c[1]->extra[0]->name, "rssi");
    assert_string_equal(c[1]->extra[0]->oid, "1.3.6.1.4.1.99999.1.0");
    assert_string_equal(c[2]->node, "jaipur/sanganer/gp-kalwar");
    assert_string_equal(c[2]->snmp->community, "ro-secret"); /* the child's credentials */
    assert_int_equal(c[2]->snmp->version, 2);
    rn_wire_free(f);
    rn_topology_free(t);
}

static void test_root_probes_districts_down_and_a_leaf_only_up(void **state)
{
    rn_topology_t *t = load_tree();
    Rn__Frame *f = plan_of(t, "sdc");
    assert_int_equal(f->plan->n_icmp, 1);
    assert_string_equal(f->plan->icmp[0]->name, "jaipur");
    assert_true(f->plan->icmp[0]->has_child && f->plan->icmp[0]->child);
    assert_true(f->plan->icmp[0]->max_latency_ms == 80); /* the district's uplink */
    assert_int_equal(f->plan->n_child_devices, 0);
    rn_wire_free(f);
    f = plan_of(t, "jaipur");
    assert_int_equal(f->plan->n_icmp, 3); /* sdc up; both blocks down */
    assert_false(f->plan->icmp[0]->has_child);
    assert_true(f->plan->icmp[1]->child && f->plan->icmp[2]->child);
    assert_int_equal(f->plan->n_child_devices, 0); /* its children run agents */
    rn_wire_free(f);
    f = plan_of(t, "jaipur/sanganer/gp-jobner"); /* a village with an agent: nothing below */
    assert_int_equal(f->plan->n_icmp, 2);
    assert_string_equal(f->plan->icmp[0]->name, "jaipur/sanganer");
    assert_true(f->plan->icmp[0]->max_latency_ms == 600);
    assert_true(f->plan->icmp[1]->max_latency_ms == 600 + 150 + 80);
    assert_int_equal(f->plan->n_devices, 1);
    rn_wire_free(f);
    /* an agentless village whose agent connects all the same: probes, but its devices stay its
     * parent's to poll (never two pollers into one file) */
    f = plan_of(t, "jaipur/sanganer/gp-bagru");
    assert_int_equal(f->plan->n_icmp, 2);
    assert_string_equal(f->plan->icmp[0]->name, "jaipur/sanganer");
    assert_int_equal(f->plan->n_devices, 0);
    assert_int_equal(f->plan->n_child_devices, 0);
    rn_wire_free(f);
    rn_topology_free(t);
}

/* A block with 30 villages: 32 targets and 30 child devices, well inside the wire's limits. */
static void test_block_with_thirty_villages(void **state)
{
    static char buf[32768];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s", head);
    add_node(buf, sizeof buf, &len, "jaipur/sanganer", "block", "jaipur", "", "10.77.11.1",
             "bhq");
    for (int i = 0; i < 30; i++) {
        char id[64], addr[32];
        snprintf(id, sizeof id, "jaipur/sanganer/gp-%02d", i);
        snprintf(addr, sizeof addr, "10.78.%d.1", i);
        add_node(buf, sizeof buf, &len, id, "village", "jaipur/sanganer", "false", addr, "gp");
    }
    assert_true(len < sizeof buf - 1);
    rn_topology_t *t = NULL;
    char err[512];
    assert_int_equal(rn_topology_load_buffers("thirty.yaml", (const uint8_t *)buf, len,
                                              (const uint8_t *)secrets, sizeof secrets - 1, &t,
                                              err, sizeof err),
                     0);
    Rn__Frame *f = plan_of(t, "jaipur/sanganer");
    assert_int_equal(f->plan->n_icmp, 32);
    assert_int_equal(f->plan->n_child_devices, 30);
    assert_string_equal(f->plan->icmp[31]->name, "jaipur/sanganer/gp-29");
    assert_string_equal(f->plan->child_devices[29]->node, "jaipur/sanganer/gp-29");
    assert_string_equal(f->plan->child_devices[29]->addr, "10.78.29.1");
    rn_wire_free(f);
    rn_topology_free(t);
}

/* Whether a sample with Sample.node from an agent may be stored under that node. */
static void test_agentless_child_is_only_the_agents_own(void **state)
{
    rn_topology_t *t = load_tree();
    const rn_node_t *c = rn_plan_agentless_child(t, "jaipur/sanganer", "jaipur/sanganer/gp-bagru");
    assert_non_null(c);
    assert_string_equal(c->id, "jaipur/sanganer/gp-bagru");
    assert_non_null(rn_plan_agentless_child(t, "jaipur/sanganer", "jaipur/sanganer/gp-empty"));
    assert_null(rn_plan_agentless_child(t, "jaipur/sanganer", "jaipur/sanganer/gp-jobner"));
    assert_null(rn_plan_agentless_child(t, "jaipur/sanganer", "jaipur/amer/gp-kunda"));
    assert_null(rn_plan_agentless_child(t, "jaipur", "jaipur/sanganer/gp-bagru")); /* grandchild */
    assert_null(rn_plan_agentless_child(t, "jaipur/sanganer", "jaipur/sanganer"));  /* itself */
    assert_null(rn_plan_agentless_child(t, "jaipur/sanganer", "jaipur"));           /* parent */
    assert_null(rn_plan_agentless_child(t, "jaipur/sanganer", "jaipur/sanganer/gp-nowhere"));
    assert_null(rn_plan_agentless_child(t, "bikaner", "jaipur/sanganer/gp-bagru"));
    assert_null(rn_plan_agentless_child(t, "jaipur/sanganer", NULL));
    rn_topology_free(t);
}

/* Loads head + extra and returns the error (the load must fail with RN_ETOPOLOGY). */
static const char *load_error(const char *extra)
{
    static char err[512];
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", head, extra);
    rn_topology_t *t = NULL;
    int rc = rn_topology_load_buffers("bad.yaml", (const uint8_t *)buf, strlen(buf),
                                      (const uint8_t *)secrets, sizeof secrets - 1, &t, err,
                                      sizeof err);
    assert_null(t);
    if (rc != RN_ETOPOLOGY)
        fail_msg("expected RN_ETOPOLOGY, got %d: %s", rc, err);
    return err;
}

static void test_topology_needs_an_agent_above_every_agentless_node(void **state)
{
    const char *err = load_error("  jaipur/a:\n    tier: block\n    parent: jaipur\n"
                                 "    agent: false\n"
                                 "  jaipur/a/v:\n    tier: village\n    parent: jaipur/a\n"
                                 "    agent: false\n");
    print_message("%s\n", err);
    assert_non_null(strstr(err, "bad.yaml:21: nodes.jaipur/a/v.agent:"));
    assert_non_null(strstr(err, "its parent 'jaipur/a' must run one"));
    char root[sizeof head + 32];
    snprintf(root, sizeof root, "%s", head);
    char *at = strstr(root, "    tier: sdc\n");
    assert_non_null(at);
    static char buf[4096];
    snprintf(buf, sizeof buf, "%.*s    agent: false\n%s", (int)(at - root), root, at);
    rn_topology_t *t = NULL;
    char e2[512];
    assert_int_equal(rn_topology_load_buffers("root.yaml", (const uint8_t *)buf, strlen(buf),
                                              (const uint8_t *)secrets, sizeof secrets - 1, &t,
                                              e2, sizeof e2),
                     RN_ETOPOLOGY);
    print_message("%s\n", e2);
    assert_non_null(strstr(e2, "root.yaml:8: nodes.sdc.agent: the root must run an agent"));
}

/* A plan holds at most RN_WIRE_MAX_DEVICES devices: an agent's own and its agentless children's
 * together must fit, or the agent would refuse its plan. */
static void test_topology_refuses_more_child_devices_than_a_plan_holds(void **state)
{
    for (unsigned total = RN_WIRE_MAX_DEVICES; total <= RN_WIRE_MAX_DEVICES + 1; total++) {
        static char buf[65536];
        size_t len = (size_t)snprintf(buf, sizeof buf, "%s", head);
        add_node(buf, sizeof buf, &len, "jaipur/sanganer", "block", "jaipur", "", "10.77.11.1",
                 "bhq");
        add_node(buf, sizeof buf, &len, "jaipur/sanganer/gp-big", "village", "jaipur/sanganer",
                 "false", NULL, NULL);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "    devices:\n");
        for (unsigned i = 0; i < total - 1; i++) /* the block has one */
            len += (size_t)snprintf(buf + len, sizeof buf - len,
                                    "      - { name: d%u, addr: 10.79.%u.%u, snmp: { version: "
                                    "2c, secret: ro } }\n", i, i / 200, i % 200 + 1);
        assert_true(len < sizeof buf - 1);
        rn_topology_t *t = NULL;
        char err[512] = "";
        int rc = rn_topology_load_buffers("big.yaml", (const uint8_t *)buf, len,
                                          (const uint8_t *)secrets, sizeof secrets - 1, &t, err,
                                          sizeof err);
        if (total == RN_WIRE_MAX_DEVICES) { /* exactly full: loads, and the plan decodes */
            if (rc != 0)
                fail_msg("%s", err);
            Rn__Frame *f = plan_of(t, "jaipur/sanganer");
            assert_int_equal(f->plan->n_devices + f->plan->n_child_devices, total);
            rn_wire_free(f);
            rn_topology_free(t);
        } else {
            assert_int_equal(rc, RN_ETOPOLOGY);
            print_message("%s\n", err);
            assert_non_null(strstr(err, "big.yaml:23: nodes.jaipur/sanganer/gp-big.agent: "
                                        "'jaipur/sanganer' and its agentless children have more "
                                        "than 256 devices"));
        }
    }
}

/* Every service target the plan names maps back to its service from the sample's object alone
 * (what the collector's session does with "tcp" and "http" samples); other names do not. */
static void test_service_of_object_inverts_the_plan(void **state)
{
    (void)state;
    rn_topology_t *t = NULL;
    char err[512] = "";
    assert_int_equal(rn_topology_load(RN_SRCDIR "/deploy/sim/topology.yaml",
                                      RN_SRCDIR "/deploy/sim/secrets.yaml", &t, err, sizeof err),
                     0);
    Rn__Frame *f = plan_of(t, "jaipur/sanganer");
    assert_true(f->plan->n_services >= 3); /* vc-1720, emitra-8080, emitra-http */
    for (size_t i = 0; i < f->plan->n_services; i++) {
        const rn_service_t *sv = rn_plan_service_of_object(t, f->plan->services[i]->object);
        assert_non_null(sv);
        assert_string_equal(sv->name, f->plan->services[i]->name);
    }
    assert_null(rn_plan_service_of_object(t, "emitra"));
    assert_null(rn_plan_service_of_object(t, "vcx-1720"));
    assert_null(rn_plan_service_of_object(t, NULL));
    rn_wire_free(f);
    rn_topology_free(t);
}

/* Police station cameras: the station's node's plan holds its cameras (and the ingest screen
 * allows their "rtsp" series); its parent's plan holds none. */
static void test_station_cameras_in_the_agents_plan(void **state)
{
    (void)state;
    char err[1024];
    rn_topology_t *t = NULL;
    assert_int_equal(rn_topology_load(RN_SRCDIR "/deploy/sim/topology.yaml",
                                      RN_SRCDIR "/deploy/sim/secrets.yaml", &t, err, sizeof err),
                     0);
    Rn__Frame *f = plan_of(t, "jaipur/sanganer");
    assert_int_equal(f->plan->n_cameras, 3); /* gate, lockup, then the NVR */
    assert_string_equal(f->plan->cameras[0]->station, "ps-sanganer");
    assert_string_equal(f->plan->cameras[0]->name, "gate");
    assert_string_equal(f->plan->cameras[1]->addr, "10.77.11.62");
    assert_false(f->plan->cameras[1]->has_port); /* the agent's default, 554 */
    assert_string_equal(f->plan->cameras[2]->name, "nvr"); /* RTSP OPTIONS like a camera */
    assert_string_equal(f->plan->cameras[2]->addr, "10.77.11.60");
    const Rn__IcmpTarget *ping = target(f->plan, "cam:ps-sanganer:lockup");
    assert_non_null(ping);
    assert_string_equal(ping->addr, "10.77.11.62");
    assert_false(ping->has_max_loss_pct);
    ping = target(f->plan, "cam:ps-sanganer:nvr"); /* and pinged */
    assert_non_null(ping);
    assert_string_equal(ping->addr, "10.77.11.60");
    assert_string_equal(f->plan->icmp[0]->name, "jaipur"); /* the parent still first */
    /* its recording stream (topology `recording: { ifname: cctv0 }`): a capture of its own
     * field, not a VC capture, filtering the cameras' UDP to the NVR */
    assert_int_equal(f->plan->n_recordings, 1);
    assert_string_equal(f->plan->recordings[0]->name, "ps-sanganer");
    assert_string_equal(f->plan->recordings[0]->ifname, "cctv0");
    assert_string_equal(f->plan->recordings[0]->filter, "udp and dst host 10.77.11.60 and (src "
                        "host 10.77.11.61 or src host 10.77.11.62)");
    assert_int_equal(f->plan->recordings[0]->interval_s, 5);
    for (size_t i = 0; i < f->plan->n_captures; i++)
        assert_string_not_equal(f->plan->captures[i]->name, "ps-sanganer");
    rn_wire_free(f);
    f = plan_of(t, "jaipur");
    assert_int_equal(f->plan->n_cameras, 0);
    assert_int_equal(f->plan->n_recordings, 0);
    rn_wire_free(f);
    rn_plan_series_t *s;
    assert_int_equal(rn_plan_series_new(t, "jaipur/sanganer", &s), 0);
    assert_true(rn_plan_series_allows(s, NULL, "rtsp", "ps-sanganer", "lockup"));
    assert_true(rn_plan_series_allows(s, NULL, "rtsp", "ps-sanganer", "nvr"));
    assert_false(rn_plan_series_allows(s, NULL, "rtsp", "ps-kishangarh", "nvr")); /* has none */
    assert_false(rn_plan_series_allows(s, NULL, "rtsp", "ps-kishangarh", "gate"));
    assert_true(rn_plan_series_allows(s, NULL, "rec", "", "ps-sanganer"));
    assert_false(rn_plan_series_allows(s, NULL, "rtp", "", "ps-sanganer")); /* never VC */
    assert_false(rn_plan_series_allows(s, NULL, "rec", "", "ps-kishangarh")); /* has none */
    rn_plan_series_free(s);
    rn_topology_free(t);
}

/* Police stations at an agentless node: its parent's agent probes their cameras as it polls the
 * node's devices. The parent's plan holds them after its own, tagged with the child (Camera.node),
 * and pings them; the ingest screen allows their "rtsp" series under the child only. A child that
 * runs an agent keeps its stations in its own plan. */
static void test_agentless_childs_station_in_the_parents_plan(void **state)
{
    (void)state;
    static char buf[8192];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s", head);
    add_node(buf, sizeof buf, &len, "jaipur/sanganer", "block", "jaipur", "", "10.77.11.1",
             "bhq");
    len += (size_t)snprintf(buf + len, sizeof buf - len,
                            "    stations: [{ name: ps-sanganer, cameras: [{ name: gate, addr: "
                            "10.77.11.61 }] }]\n");
    add_node(buf, sizeof buf, &len, "jaipur/sanganer/gp-bagru", "village", "jaipur/sanganer",
             "false", "10.77.122.1", "gp");
    len += (size_t)snprintf(buf + len, sizeof buf - len,
                            "    stations: [{ name: ps-bagru, nvr: 10.77.122.60, cameras: [{ name: "
                            "gate, addr: 10.77.122.61 }, { name: road, addr: 10.77.122.62 }] }]\n");
    add_node(buf, sizeof buf, &len, "jaipur/sanganer/gp-jobner", "village", "jaipur/sanganer",
             "true", "10.77.122.17", "gp");
    len += (size_t)snprintf(buf + len, sizeof buf - len,
                            "    stations: [{ name: ps-jobner, cameras: [{ name: gate, addr: "
                            "10.77.122.81 }] }]\n");
    rn_topology_t *t = NULL;
    char err[512] = "";
    if (rn_topology_load_buffers("cctv.yaml", (const uint8_t *)buf, strlen(buf),
                                 (const uint8_t *)secrets, sizeof secrets - 1, &t, err,
                                 sizeof err) != 0)
        fail_msg("topology refused: %s\n%s", err, buf);
    Rn__Frame *f = plan_of(t, "jaipur/sanganer");
    const Rn__Plan *p = f->plan;
    assert_int_equal(p->n_cameras, 4); /* its own first, then gp-bagru's; not gp-jobner's */
    assert_string_equal(p->cameras[0]->station, "ps-sanganer");
    assert_null(p->cameras[0]->node);
    assert_string_equal(p->cameras[1]->station, "ps-bagru");
    assert_string_equal(p->cameras[1]->node, "jaipur/sanganer/gp-bagru");
    assert_string_equal(p->cameras[2]->name, "road");
    assert_string_equal(p->cameras[2]->addr, "10.77.122.62");
    assert_string_equal(p->cameras[2]->node, "jaipur/sanganer/gp-bagru");
    assert_string_equal(p->cameras[3]->name, "nvr"); /* the child's NVR, the child's too */
    assert_string_equal(p->cameras[3]->addr, "10.77.122.60");
    assert_string_equal(p->cameras[3]->node, "jaipur/sanganer/gp-bagru");
    const Rn__IcmpTarget *ping = target(p, "cam:ps-bagru:road");
    assert_non_null(ping);
    assert_string_equal(ping->addr, "10.77.122.62");
    assert_null(target(p, "cam:ps-jobner:gate"));
    rn_wire_free(f);
    f = plan_of(t, "jaipur/sanganer/gp-jobner"); /* an agent of its own */
    assert_int_equal(f->plan->n_cameras, 1);
    assert_string_equal(f->plan->cameras[0]->station, "ps-jobner");
    assert_null(f->plan->cameras[0]->node);
    rn_wire_free(f);
    f = plan_of(t, "jaipur/sanganer/gp-bagru"); /* the plan of an agentless node: nothing */
    assert_int_equal(f->plan->n_cameras, 0);
    rn_wire_free(f);
    rn_plan_series_t *s;
    assert_int_equal(rn_plan_series_new(t, "jaipur/sanganer", &s), 0);
    assert_true(rn_plan_series_allows(s, "jaipur/sanganer/gp-bagru", "rtsp", "ps-bagru", "road"));
    assert_false(rn_plan_series_allows(s, NULL, "rtsp", "ps-bagru", "road")); /* not the block's */
    assert_true(rn_plan_series_allows(s, NULL, "rtsp", "ps-sanganer", "gate"));
    assert_false(rn_plan_series_allows(s, "jaipur/sanganer/gp-bagru", "rtsp", "ps-sanganer",
                                       "gate"));
    assert_false(rn_plan_series_allows(s, "jaipur/sanganer/gp-jobner", "rtsp", "ps-jobner",
                                       "gate"));
    rn_plan_series_free(s);
    rn_topology_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_probes_parent_root_and_every_child),
        cmocka_unit_test(test_block_polls_its_agentless_childrens_devices),
        cmocka_unit_test(test_root_probes_districts_down_and_a_leaf_only_up),
        cmocka_unit_test(test_block_with_thirty_villages),
        cmocka_unit_test(test_agentless_child_is_only_the_agents_own),
        cmocka_unit_test(test_topology_needs_an_agent_above_every_agentless_node),
        cmocka_unit_test(test_topology_refuses_more_child_devices_than_a_plan_holds),
        cmocka_unit_test(test_service_of_object_inverts_the_plan),
        cmocka_unit_test(test_station_cameras_in_the_agents_plan), /* police stations */
        cmocka_unit_test(test_agentless_childs_station_in_the_parents_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
