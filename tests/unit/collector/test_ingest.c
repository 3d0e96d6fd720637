/* Ingest checks (collector/ingest/ingest.c): samples stamped in the future are dropped, a node feeds
 * only the series its plan asks for and a capped number of them, and the ack covers only a
 * contiguous prefix of stored batches. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/ingest.h"
#include "ingest/plan.h"
#include "ingest/session.h"
#include "topology.h"
#include "wire.h"

/* A heap sample (freed by rn__sample__free_unpacked, as decoded ones are). */
static Rn__Sample *sample(const char *node, const char *source, const char *device,
                          const char *object, int64_t time_ms)
{
    Rn__Sample *x = malloc(sizeof *x);
    assert_non_null(x);
    rn__sample__init(x);
    x->node = node ? strdup(node) : NULL;
    x->source = strdup(source);
    x->device = strdup(device);
    x->object = strdup(object);
    x->time_ms = time_ms;
    return x;
}

/* An empty heap batch with room for cap samples. */
static Rn__Batch *batch(size_t cap)
{
    Rn__Batch *b = malloc(sizeof *b);
    assert_non_null(b);
    rn__batch__init(b);
    b->samples = calloc(cap, sizeof *b->samples);
    assert_non_null(b->samples);
    return b;
}

/* An agent an hour ahead: its samples are dropped, the others kept in order. */
static void test_future_dropped(void **state)
{
    (void)state;
    const int64_t now = 1790000000000;
    Rn__Batch *b = batch(4);
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "a", now - 10000);
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "b", now + 3600000);
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "c", now + 300000); /* at the limit */
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "d", now + 300001);
    int64_t ahead;
    assert_int_equal(rn_ingest_drop_future(b, now, 300, &ahead), 2);
    assert_int_equal(ahead, 3600000);
    assert_int_equal(b->n_samples, 2);
    assert_string_equal(b->samples[0]->object, "a");
    assert_string_equal(b->samples[1]->object, "c");
    assert_int_equal(rn_ingest_drop_future(b, now, 300, &ahead), 0);
    assert_int_equal(ahead, 0);
    rn__batch__free_unpacked(b, NULL);
}

/* Past RN_INGEST_MAX_SERIES distinct series, new ones are dropped and known ones kept. */
static void test_series_cap(void **state)
{
    (void)state;
    rn_ingest_node_t g = { 0 };
    rn_ingest_screen_t r;
    char obj[32];
    for (int i = 0; i < RN_INGEST_MAX_SERIES; i += 512) {
        Rn__Batch *b = batch(512);
        for (int j = 0; j < 512; j++) {
            snprintf(obj, sizeof obj, "port%d", i + j);
            b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", obj, 1);
        }
        assert_int_equal(rn_ingest_screen_series(&g, NULL, b, &r), 0);
        assert_int_equal(r.over_cap + r.unplanned, 0);
        assert_int_equal(b->n_samples, 512);
        rn__batch__free_unpacked(b, NULL);
    }
    assert_int_equal(g.n_series, RN_INGEST_MAX_SERIES);
    Rn__Batch *b = batch(4);
    b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", "port7", 2);       /* known */
    b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", "forged-1", 2);    /* new */
    b->samples[b->n_samples++] = sample("child", "if", "rtr1", "port7", 2);    /* new: a node */
    b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", "port4095", 2);    /* known */
    assert_int_equal(rn_ingest_screen_series(&g, NULL, b, &r), 0);
    assert_int_equal(r.over_cap, 2);
    assert_int_equal(r.unplanned, 0);
    assert_string_equal(r.first_over_cap, "/if/rtr1/forged-1");
    assert_int_equal(b->n_samples, 2);
    assert_string_equal(b->samples[0]->object, "port7");
    assert_string_equal(b->samples[1]->object, "port4095");
    assert_int_equal(g.n_series, RN_INGEST_MAX_SERIES);
    rn__batch__free_unpacked(b, NULL);
    rn_ingest_node_free(&g);
}

/* A district hub with every kind of series: its router with an extra OID, an agentless village
 * whose router it polls, a block child running its own agent, an echo peer, and the services
 * (a VC service with RTP ports: a capture; an e-governance portal: tcp and http targets). */
static const char plan_topo[] =
    "settings: { poll_interval_s: 60, probe_interval_s: 10, probe_count: 5 }\n"
    "vendors: { bsnl: { name: BSNL } }\n"
    "sla_classes:\n"
    "  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, max_jitter_ms: 30 }\n"
    "  gp:  { availability: 97.0, max_latency_ms: 600, max_loss_pct: 3.0, max_jitter_ms: 80 }\n"
    "services:\n"
    "  vc:     { kind: vc, rtp_ports: [16384, 32767], endpoints: [{ node: sdc, addr: 10.77.0.10, "
    "tcp: [1720] }] }\n"
    "  emitra: { kind: egov, endpoints: [{ node: sdc, addr: 10.77.0.20, tcp: [8080], "
    "url: \"http://10.77.0.20:8080/health\" }] }\n"
    "udp_echo:\n"
    "  - { a: jaipur, b: ajmer }\n"
    "nodes:\n"
    "  sdc:\n"
    "    tier: sdc\n"
    "    devices: [{ name: core1, addr: 10.77.0.1, snmp: { version: 2c, secret: ro } }]\n"
    "  jaipur:\n"
    "    tier: district\n"
    "    parent: sdc\n"
    "    devices: [{ name: rtr1, addr: 10.77.1.1, snmp: { version: 2c, secret: ro },\n"
    "                extra: [{ name: temp, oid: 1.3.6.1.4.1.99999.1.0, kind: gauge }] }]\n"
    "    uplinks: [{ circuit: C-JPR, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq,\n"
    "                local: { device: rtr1, ifname: wan0 }, remote: { device: core1, ifname: j } }]\n"
    "  ajmer:\n"
    "    tier: district\n"
    "    parent: sdc\n"
    "    devices: [{ name: rtr1, addr: 10.77.2.1, snmp: { version: 2c, secret: ro } }]\n"
    "    uplinks: [{ circuit: C-AJM, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq,\n"
    "                local: { device: rtr1, ifname: wan0 }, remote: { device: core1, ifname: a } }]\n"
    "  jaipur/gp-a:\n"
    "    tier: village\n"
    "    parent: jaipur\n"
    "    agent: false\n"
    "    devices: [{ name: rtr1, addr: 10.77.121.1, snmp: { version: 2c, secret: ro },\n"
    "                extra: [{ name: rx, oid: 1.3.6.1.4.1.99999.2.0, kind: counter }] }]\n"
    "    uplinks: [{ circuit: C-GPA, vendor: bsnl, kind: radio, mbps: 2, sla: gp,\n"
    "                local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, ifname: x } }]\n"
    "  jaipur/gp-b:\n"
    "    tier: village\n"
    "    parent: jaipur\n"
    "    devices: [{ name: rtr1, addr: 10.77.122.1, snmp: { version: 2c, secret: ro } }]\n"
    "    uplinks: [{ circuit: C-GPB, vendor: bsnl, kind: radio, mbps: 2, sla: gp,\n"
    "                local: { device: rtr1, ifname: wan0 }, remote: { device: rtr1, ifname: y } }]\n";

static rn_topology_t *load_plan_topo(void)
{
    static const char secrets[] = "ro: { community: ro-secret }\n";
    rn_topology_t *t = NULL;
    char err[512] = "";
    if (rn_topology_load_buffers("hub.yaml", (const uint8_t *)plan_topo, sizeof plan_topo - 1,
                                 (const uint8_t *)secrets, sizeof secrets - 1, &t, err,
                                 sizeof err) != 0)
        fail_msg("topology refused: %s", err);
    return t;
}

/* Every series kind an agent sends for its plan is kept; made-up sources, devices, objects and
 * nodes are dropped and named; a known series is not looked up again; a plan rebuilt for a new
 * topology (replan) drops what the old one allowed and the new one does not. */
static void test_plan_screens_series(void **state)
{
    (void)state;
    rn_topology_t *t = load_plan_topo();
    rn_ingest_node_t g = { 0 };
    assert_int_equal(rn_plan_series_new(t, "jaipur", &g.plan), 0);
    assert_int_equal(rn_plan_series_new(t, "nowhere", &(rn_plan_series_t *){ NULL }), -ENOENT);
    static const char *const legit[][4] = {
        { NULL, "if", "rtr1", "wan0" },          /* any interface of a plan device */
        { NULL, "if", "rtr1", "ge-0/0/1.100" },
        { NULL, "gauge", "rtr1", "temp" },        /* its extra OID */
        { NULL, "icmp", "", "sdc" },              /* parent and root */
        { NULL, "icmp", "", "jaipur/gp-a" },      /* children, agentless or not */
        { NULL, "icmp", "", "jaipur/gp-b" },
        { NULL, "udpecho", "", "ajmer" },         /* the echo peer */
        { NULL, "tcp", "", "vc-1720" },           /* services */
        { NULL, "tcp", "", "emitra-8080" },
        { NULL, "http", "", "emitra-http" },
        { NULL, "rtp", "", "vc" },                /* the capture */
        { NULL, "tcphs", "", "vc" },
        { NULL, "pcap", "", "vc" },
        { "jaipur/gp-a", "if", "rtr1", "wan0" },  /* the agentless child's device */
        { "jaipur/gp-a", "counter", "rtr1", "rx" },
    };
    static const char *const forged[][4] = {
        { NULL, "if", "rtr9", "wan0" },           /* no such device */
        { NULL, "counter", "rtr1", "temp" },      /* the extra's kind is gauge */
        { NULL, "gauge", "rtr1", "made-up" },
        { NULL, "icmp", "", "ajmer" },            /* not a target of jaipur */
        { NULL, "udpecho", "", "sdc" },
        { NULL, "tcp", "", "emitra-22" },
        { NULL, "rtp", "", "vc2" },
        { NULL, "junk", "", "x" },
        { NULL, "icmp", "rtr1", "sdc" },          /* a probe with a device */
        { "jaipur/gp-b", "if", "rtr1", "wan0" },  /* runs its own agent */
        { "ajmer", "if", "rtr1", "wan0" },        /* not a child */
        { "jaipur/gp-a", "gauge", "rtr1", "temp" }, /* jaipur's extra, not gp-a's */
    };
    size_t nl = sizeof legit / sizeof legit[0], nf = sizeof forged / sizeof forged[0];
    Rn__Batch *b = batch(nl + nf);
    for (size_t i = 0; i < nl || i < nf; i++) { /* interleaved: the kept ones stay in order */
        if (i < nf)
            b->samples[b->n_samples++] = sample(forged[i][0], forged[i][1], forged[i][2],
                                                forged[i][3], 1);
        if (i < nl)
            b->samples[b->n_samples++] = sample(legit[i][0], legit[i][1], legit[i][2],
                                                legit[i][3], 1);
    }
    rn_ingest_screen_t r;
    assert_int_equal(rn_ingest_screen_series(&g, g.plan, b, &r), 0);
    assert_int_equal(r.unplanned, nf);
    assert_int_equal(r.over_cap, 0);
    assert_string_equal(r.first_unplanned, "/if/rtr9/wan0");
    assert_int_equal(b->n_samples, nl);
    for (size_t i = 0; i < nl; i++) {
        const Rn__Sample *x = b->samples[i];
        assert_string_equal(x->node ? x->node : "-", legit[i][0] ? legit[i][0] : "-");
        assert_string_equal(x->source, legit[i][1]);
        assert_string_equal(x->device, legit[i][2]);
        assert_string_equal(x->object, legit[i][3]);
    }
    assert_int_equal(g.n_series, nl);
    rn__batch__free_unpacked(b, NULL);

    /* A new topology without the echo pair and the extra OID: the old allowances go with it */
    rn_ingest_node_replan(&g);
    assert_null(g.plan);
    assert_int_equal(g.n_series, 0);
    static char smaller[sizeof plan_topo];
    snprintf(smaller, sizeof smaller, "%s", plan_topo);
    char *echo = strstr(smaller, "udp_echo:\n");
    memmove(echo, strstr(echo, "nodes:\n"), strlen(strstr(echo, "nodes:\n")) + 1);
    rn_topology_t *t2 = NULL;
    char err[512];
    static const char secrets[] = "ro: { community: ro-secret }\n";
    assert_int_equal(rn_topology_load_buffers("hub2.yaml", (const uint8_t *)smaller,
                                              strlen(smaller), (const uint8_t *)secrets,
                                              sizeof secrets - 1, &t2, err, sizeof err), 0);
    assert_int_equal(rn_plan_series_new(t2, "jaipur", &g.plan), 0);
    b = batch(2);
    b->samples[b->n_samples++] = sample(NULL, "udpecho", "", "ajmer", 2);
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "sdc", 2);
    assert_int_equal(rn_ingest_screen_series(&g, g.plan, b, &r), 0);
    assert_int_equal(r.unplanned, 1);
    assert_string_equal(r.first_unplanned, "/udpecho//ajmer");
    assert_int_equal(b->n_samples, 1);
    rn__batch__free_unpacked(b, NULL);
    rn_ingest_node_free(&g);
    assert_null(g.plan);
    rn_topology_free(t2);
    rn_topology_free(t);
}

/* Batch 2 fails, 3 is stored: the ack stays at 1 (the old cumulative ack said 3, and 2's
 * resend was then dropped as too old); 2's resend stored moves it to 3. */
static void test_ack_contiguous(void **state)
{
    (void)state;
    rn_ingest_node_t g = { 0 };
    uint64_t acked = 0;
    acked = rn_ingest_ack_stored(&g, acked, 1);
    assert_int_equal(acked, 1);
    /* 2 and 3 in flight together; 2 fails (not noted), 3 is stored */
    acked = rn_ingest_ack_stored(&g, acked, 3);
    assert_int_equal(acked, 1);
    assert_true(rn_ingest_ack_has(&g, 3));
    assert_false(rn_ingest_ack_has(&g, 2));
    acked = rn_ingest_ack_stored(&g, acked, 5); /* 4 still in flight */
    assert_int_equal(acked, 1);
    acked = rn_ingest_ack_stored(&g, acked, 2); /* the resend of 2 */
    assert_int_equal(acked, 3);
    assert_false(rn_ingest_ack_has(&g, 3));
    assert_true(rn_ingest_ack_has(&g, 5));
    acked = rn_ingest_ack_stored(&g, acked, 4);
    assert_int_equal(acked, 5);
    assert_false(rn_ingest_ack_has(&g, 5));
    assert_int_equal(rn_ingest_ack_stored(&g, acked, 3), 5); /* a late duplicate */
    assert_int_equal(rn_ingest_ack_stored(&g, acked, 6), 6);
    for (size_t i = 0; i < RN_INGEST_ACK_WINDOW; i++)
        assert_int_equal(g.done[i], 0);
}

/* One entry per node: get makes it once and hands the same entry back (a reconnect finds its
 * acked seq), find never makes one, free leaves the list empty. */
static void test_state_lookup_one_entry_per_node(void **state)
{
    (void)state;
    rn_node_state_t *list = NULL;
    assert_null(rn_ingest_state_find(list, "jaipur"));
    rn_node_state_t *j = rn_ingest_state_get(&list, "jaipur");
    assert_non_null(j);
    assert_string_equal(j->id, "jaipur");
    assert_int_equal(j->heard_mono_ms, 0); /* never heard: not "silent" */
    j->acked_seq = 42;
    rn_node_state_t *s = rn_ingest_state_get(&list, "sanganer");
    assert_non_null(s);
    assert_ptr_not_equal(s, j);
    assert_ptr_equal(rn_ingest_state_get(&list, "jaipur"), j);
    assert_ptr_equal(rn_ingest_state_find(list, "jaipur"), j);
    assert_int_equal(rn_ingest_state_find(list, "jaipur")->acked_seq, 42);
    assert_null(rn_ingest_state_find(list, "jaipu"));
    size_t n = 0;
    for (rn_node_state_t *x = list; x; x = x->next)
        n++;
    assert_int_equal(n, 2);
    rn_ingest_states_free(&list);
    assert_null(list);
}

/* The hello timeout counts on the clock given (the monotonic one): exactly past
 * RN_SESSION_HELLO_TIMEOUT_S, and never for a session that said hello or is closing. */
static void test_hello_overdue_after_timeout(void **state)
{
    (void)state;
    rn_session_t s = { 0 };
    rn_node_state_t n = { 0 };
    s.opened_ms = 5000;
    int64_t limit = s.opened_ms + RN_SESSION_HELLO_TIMEOUT_S * 1000;
    assert_false(rn_session_hello_overdue(&s, s.opened_ms));
    assert_false(rn_session_hello_overdue(&s, limit));
    assert_true(rn_session_hello_overdue(&s, limit + 1));
    s.node = &n;
    assert_false(rn_session_hello_overdue(&s, limit + 60000));
    s.node = NULL;
    s.closing = true;
    assert_false(rn_session_hello_overdue(&s, limit + 60000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_future_dropped),
        cmocka_unit_test(test_series_cap),
        cmocka_unit_test(test_plan_screens_series),
        cmocka_unit_test(test_ack_contiguous),
        cmocka_unit_test(test_state_lookup_one_entry_per_node),
        cmocka_unit_test(test_hello_overdue_after_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
