/* SLA report computation against hand-computed figures: outages and maintenance windows are
 * written to a real event store and read back with the same queries the collector uses, then
 * rn_report_compute() must give the availability, downtime, MTTR, longest outage and penalty
 * computed by hand below. Also: the renderers produce CSV, HTML and a PDF. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/event_store.h"
#include "report/report.h"
#include "report/report_run.h"
#include "topology.h"

#define S 1000LL
#define T0 1793491200000LL /* 2026-11-01T00:00:00Z */
#define T1 (T0 + 2592000 * S) /* 30 days */

static const char topo_yaml[] =
    "vendors:\n"
    "  bsnl: { name: BSNL, contact: noc@bsnl.example }\n"
    "  airjaldi: { name: AirJaldi, contact: ops@airjaldi.example }\n"
    "sla_classes:\n"
    "  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, min_outage_s: 0,\n"
    "         restore_hours: { S1: 2, S2: 8 },\n"
    "         penalty: [[99.5, 0], [99.0, 5], [98.0, 10], [0, 20]] }\n"
    "  bhq: { availability: 99.0, max_latency_ms: 150, max_loss_pct: 2.0, min_outage_s: 60,\n"
    "         partial_loss_counts: false,\n"
    "         penalty: [[99.0, 0], [97.0, 10], [0, 25]] }\n"
    "nodes:\n"
    "  sdc: { tier: sdc, devices: [{ name: core1, addr: 10.0.0.1, snmp: { version: 2c, "
    "secret: s } }] }\n"
    "  jaipur:\n"
    "    tier: district\n"
    "    parent: sdc\n"
    "    devices: [{ name: rtr1, addr: 10.0.1.1, snmp: { version: 2c, secret: s } }]\n"
    "    uplinks:\n"
    "      - { circuit: JPR-MPLS-0042, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq,\n"
    "          monthly_charge: 100000, local: { device: rtr1, ifname: wan0 },\n"
    "          remote: { device: core1, ifname: jaipur } }\n"
    "  jaipur/sanganer:\n"
    "    tier: block\n"
    "    parent: jaipur\n"
    "    devices: [{ name: rtr1, addr: 10.0.11.1, snmp: { version: 2c, secret: s } }]\n"
    "    uplinks:\n"
    "      - { circuit: JPR-SNG-RF-3301, vendor: airjaldi, kind: radio, mbps: 8, sla: bhq,\n"
    "          monthly_charge: 20000, local: { device: rtr1, ifname: wan0 },\n"
    "          remote: { device: rtr1, ifname: sanganer } }\n";
static const char secrets_yaml[] = "s: { community: public }\n";

static rn_topology_t *load_topo(void)
{
    rn_topology_t *t = NULL;
    char err[512] = "";
    int rc = rn_topology_load_buffers("topo", (const uint8_t *)topo_yaml, strlen(topo_yaml),
                                      (const uint8_t *)secrets_yaml, strlen(secrets_yaml), &t,
                                      err, sizeof err);
    if (rc)
        fail_msg("topology: %s", err);
    return t;
}

/* ---------------------------------------------------------------- the synthetic store */

typedef struct {
    int pending, failed;
    rn_outage_rec_t *outages;
    size_t n_outages;
    rn_maintenance_rec_t *maint;
    size_t n_maint;
} ctx_t;

static void on_write(void *data, int status)
{
    ctx_t *c = data;
    c->pending--;
    if (status)
        c->failed++;
}

static void on_id(void *data, int status, uint64_t id)
{
    (void)id;
    on_write(data, status);
}

static char *dup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void on_outages(void *data, int status, const rn_outage_rec_t *o, size_t n)
{
    ctx_t *c = data;
    c->pending--;
    assert_int_equal(status, 0);
    c->outages = calloc(n + 1, sizeof *o);
    for (size_t i = 0; i < n; i++) {
        c->outages[i] = o[i];
        c->outages[i].entity = dup0(o[i].entity);
        c->outages[i].circuit = dup0(o[i].circuit);
        c->outages[i].vendor = dup0(o[i].vendor);
        c->outages[i].root_cause = dup0(o[i].root_cause);
    }
    c->n_outages = n;
}

static void on_maint(void *data, int status, const rn_maintenance_rec_t *m, size_t n)
{
    ctx_t *c = data;
    c->pending--;
    assert_int_equal(status, 0);
    c->maint = calloc(n + 1, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        c->maint[i] = m[i];
        c->maint[i].entity = dup0(m[i].entity);
        c->maint[i].reason = c->maint[i].created_by = NULL;
    }
    c->n_maint = n;
}

static void drain(uv_loop_t *loop, ctx_t *c)
{
    for (int i = 0; c->pending > 0 && i < 5000; i++)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(c->pending, 0);
    assert_int_equal(c->failed, 0);
}

/* An alarm and, unless it is a symptom, its outage [start, end) (end 0: still open). */
static void add(rn_event_store_t *s, ctx_t *c, uint64_t id, const char *circuit, uint64_t root,
                int64_t start, int64_t end, bool planned)
{
    rn_alarm_rec_t a = { .id = id, .type = "link_down", .severity = "S1", .entity = circuit,
                         .circuit = circuit, .root_id = root, .raised_at_ms = start,
                         .planned = planned, .text = "link down" };
    c->pending++;
    assert_int_equal(rn_event_store_alarm_raise(s, &a, on_write, c), 0);
    if (root)
        return; /* a symptom: alarm_log.c opens no outage for it */
    rn_outage_rec_t o = { .alarm_id = id, .entity = circuit, .kind = RN_OUTAGE_LINK,
                          .circuit = circuit, .root_cause = "link down", .start_ms = start,
                          .planned = planned };
    c->pending++;
    assert_int_equal(rn_event_store_outage_open(s, &o, on_write, c), 0);
    if (end) {
        c->pending++;
        assert_int_equal(rn_event_store_outage_close(s, id, end, on_write, c), 0);
    }
}

static void maint(rn_event_store_t *s, ctx_t *c, const char *entity, int64_t start, int64_t end)
{
    rn_maintenance_rec_t m = { .entity = entity, .start_ms = start, .end_ms = end,
                               .created_by = "test", .reason = "planned work" };
    c->pending++;
    assert_int_equal(rn_event_store_maintenance_add(s, &m, on_id, c), 0);
}

static void free_ctx(ctx_t *c)
{
    for (size_t i = 0; i < c->n_outages; i++) {
        free((char *)c->outages[i].entity);
        free((char *)c->outages[i].circuit);
        free((char *)c->outages[i].vendor);
        free((char *)c->outages[i].root_cause);
    }
    free(c->outages);
    for (size_t i = 0; i < c->n_maint; i++)
        free((char *)c->maint[i].entity);
    free(c->maint);
}

static const rn_report_link_t *find_link(const rn_report_t *r, const char *circuit)
{
    for (size_t i = 0; i < r->n_links; i++)
        if (!strcmp(r->links[i].circuit, circuit))
            return &r->links[i];
    return NULL;
}

static const rn_report_vendor_t *find_vendor(const rn_report_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_vendors; i++)
        if (!strcmp(r->vendors[i].name, name))
            return &r->vendors[i];
    return NULL;
}

/* The schedule (times from T0, in seconds), and what it must give:
 * district JPR-MPLS-0042 (dhq, min 0 s, charge 100000):
 *   A  100000 + 10800 s: charged 10800 (the block's alarm 2 is its symptom: no outage)
 *   B  500000 + 7200 s, maintenance on the circuit over its first 3600 s: charged 3600
 *   C  900000 + 3600 s, planned: not charged
 *   maintenance 3600, downtime 14400, availability (2592000-3600-14400)/(2592000-3600)
 *   = 2574000/2588400 = 99.44367 %: below 99.5, at least 99.0 -> 5 % of 100000 = 5000;
 *   2 outages, MTTR 7200, longest 10800 > restore S1 2 h -> restore breach.
 * block JPR-SNG-RF-3301 (bhq, min 60 s, charge 20000):
 *   D  200000 + 30 s: listed, under min_outage_s, not counted
 *   E  1000000 + 30000 s: charged 30000
 *   F  opened at T1 - 1000 s, still open (now = T1 + 5000 s): clipped to 1000
 *   maintenance on the node 1500000 + 172800 s: excluded from the period
 *   downtime 31000, availability (2592000-172800-31000)/(2592000-172800) = 2388200/2419200
 *   = 98.71859 %: at least 97 -> 10 % of 20000 = 2000; 2 outages, MTTR 15500, longest 30000. */
static void test_availability_penalty_from_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/rn-report-test-XXXXXX", path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/events.db", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_event_store_t *s = NULL;
    char err[256];
    assert_int_equal(rn_event_store_open(&loop, path, &s, err, sizeof err), 0);
    ctx_t c = { 0 };
    const char *dl = "JPR-MPLS-0042", *bl = "JPR-SNG-RF-3301";
    add(s, &c, 1, dl, 0, T0 + 100000 * S, T0 + 110800 * S, false);
    drain(&loop, &c);
    add(s, &c, 2, bl, 1, T0 + 100005 * S, 0, false); /* symptom of 1 */
    add(s, &c, 3, dl, 0, T0 + 500000 * S, T0 + 507200 * S, false);
    maint(s, &c, dl, T0 + 500000 * S, T0 + 503600 * S);
    add(s, &c, 4, dl, 0, T0 + 900000 * S, T0 + 903600 * S, true);
    add(s, &c, 5, bl, 0, T0 + 200000 * S, T0 + 200030 * S, false);
    add(s, &c, 6, bl, 0, T0 + 1000000 * S, T0 + 1030000 * S, false);
    add(s, &c, 7, bl, 0, T1 - 1000 * S, 0, false);
    maint(s, &c, "jaipur/sanganer", T0 + 1500000 * S, T0 + 1672800 * S);
    add(s, &c, 8, dl, 0, T0 - 7200 * S, T0 - 3600 * S, false); /* before the period */
    drain(&loop, &c);
    c.pending += 2;
    assert_int_equal(rn_event_store_outages_range(s, T0, T1, on_outages, &c), 0);
    assert_int_equal(rn_event_store_maintenance_list(s, T0, T1, on_maint, &c), 0);
    drain(&loop, &c);
    rn_event_store_close(s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    rn_topology_t *t = load_topo();
    rn_report_input_t in = { .outages = c.outages, .n_outages = c.n_outages, .maint = c.maint,
                             .n_maint = c.n_maint, .now_ms = T1 + 5000 * S };
    rn_report_t *r = NULL;
    assert_int_equal(rn_report_compute(t, &in, T0, T1, NULL, &r), 0);
    assert_int_equal(r->n_links, 2);

    const rn_report_link_t *d = find_link(r, dl);
    assert_non_null(d);
    assert_float_equal(d->maintenance_s, 3600, 1e-9);
    assert_float_equal(d->downtime_s, 14400, 1e-9);
    assert_float_equal(d->availability_pct, 2574000.0 / 2588400.0 * 100, 1e-9);
    assert_int_equal(d->n_outages, 2);
    assert_float_equal(d->mttr_s, 7200, 1e-9);
    assert_float_equal(d->longest_s, 10800, 1e-9);
    assert_true(d->breach_availability);
    assert_true(d->breach_restore);
    assert_float_equal(d->penalty_pct, 5, 1e-9);
    assert_float_equal(d->penalty_amount, 5000, 1e-9);
    assert_int_equal(d->n_listed, 2); /* C was planned: not even listed */

    const rn_report_link_t *b = find_link(r, bl);
    assert_non_null(b);
    assert_float_equal(b->maintenance_s, 172800, 1e-9);
    assert_float_equal(b->downtime_s, 31000, 1e-9);
    assert_float_equal(b->availability_pct, 2388200.0 / 2419200.0 * 100, 1e-9);
    assert_int_equal(b->n_outages, 2);
    assert_int_equal(b->n_listed, 3);
    assert_false(b->outages[0].counted); /* D, 30 s < 60 s */
    assert_true(b->outages[2].open);
    assert_float_equal(b->mttr_s, 15500, 1e-9);
    assert_float_equal(b->longest_s, 30000, 1e-9);
    assert_false(b->breach_restore); /* bhq has no restore target */
    assert_float_equal(b->penalty_amount, 2000, 1e-9);

    assert_float_equal(find_vendor(r, "bsnl")->penalty_amount, 5000, 1e-9);
    assert_float_equal(find_vendor(r, "airjaldi")->penalty_amount, 2000, 1e-9);
    assert_int_equal(find_vendor(r, "airjaldi")->n_breached, 1);

    /* renderers */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(rn_report_csv(r, "bsnl", m), 0);
    fclose(m);
    assert_non_null(strstr(buf, "bsnl,jaipur,JPR-MPLS-0042,dhq,2592000.000,3600.000,14400.000"));
    assert_null(strstr(buf, "JPR-SNG-RF-3301"));
    free(buf);
    m = open_memstream(&buf, &len);
    assert_int_equal(rn_report_html(r, NULL, m), 0);
    fclose(m);
    assert_non_null(strstr(buf, "AirJaldi"));
    assert_non_null(strstr(buf, "</html>"));
    free(buf);
    snprintf(path, sizeof path, "%s/r.pdf", dir);
    assert_int_equal(rn_report_pdf(r, NULL, path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 1000);

    /* RN_REPORT_SAMPLE_DIR=DIR: keep this report's renderings (how docs/sample-report/synthetic
     * was made) */
    const char *sample = getenv("RN_REPORT_SAMPLE_DIR");
    if (sample) {
        char p2[600];
        for (size_t i = 0; i < r->n_vendors; i++) {
            snprintf(p2, sizeof p2, "%s/sla-2026-11-%s.csv", sample, r->vendors[i].name);
            FILE *f = fopen(p2, "w");
            assert_non_null(f);
            assert_int_equal(rn_report_csv(r, r->vendors[i].name, f), 0);
            fclose(f);
        }
        snprintf(p2, sizeof p2, "%s/sla-2026-11.html", sample);
        FILE *f = fopen(p2, "w");
        assert_non_null(f);
        assert_int_equal(rn_report_html(r, NULL, f), 0);
        fclose(f);
        snprintf(p2, sizeof p2, "%s/sla-2026-11.pdf", sample);
        assert_int_equal(rn_report_pdf(r, NULL, p2), 0);
    }

    rn_report_free(r);
    rn_topology_free(t);
    free_ctx(&c);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Overlapping outages of one link count once; a vendor filter keeps only its links. */
static void test_overlap_counted_once_and_vendor_filter(void **state)
{
    (void)state;
    rn_topology_t *t = load_topo();
    rn_outage_rec_t o[] = {
        { .alarm_id = 1, .entity = "JPR-MPLS-0042", .circuit = "JPR-MPLS-0042",
          .root_cause = "a", .start_ms = T0 + 1000 * S, .ended = true, .end_ms = T0 + 2000 * S },
        { .alarm_id = 2, .entity = "JPR-MPLS-0042", .circuit = "JPR-MPLS-0042",
          .root_cause = "b", .start_ms = T0 + 1500 * S, .ended = true, .end_ms = T0 + 2500 * S },
        { .alarm_id = 3, .entity = "jaipur", .kind = RN_OUTAGE_NODE, .root_cause = "node",
          .start_ms = T0, .ended = true, .end_ms = T0 + 100000 * S },
    };
    rn_report_input_t in = { .outages = o, .n_outages = 3, .now_ms = T1 };
    rn_report_t *r = NULL;
    assert_int_equal(rn_report_compute(t, &in, T0, T1, "bsnl", &r), 0);
    assert_int_equal(r->n_links, 1);
    assert_float_equal(r->links[0].downtime_s, 1500, 1e-9);
    assert_int_equal(r->links[0].n_outages, 2);
    rn_report_free(r);
    assert_int_equal(rn_report_compute(t, &in, T0, T1, "nobody", &r), -EINVAL);
    rn_topology_free(t);
}

/* The departments' view: a service's availability counts only its spells down at its host,
 * merged, clipped to the period and outside maintenance on the service or its host; the CSV and
 * HTML of the full report list it, and so do a vendor's, beside its links. */
static void test_service_availability(void **state)
{
    (void)state;
    static const char more[] =
        "services:\n"
        "  emitra: { kind: egov, endpoints: [{ node: sdc, addr: 10.0.0.20, tcp: [8080] }] }\n"
        "  vc: { kind: vc, endpoints: [{ node: sdc, addr: 10.0.0.10, tcp: [1720] }] }\n";
    char yaml[sizeof topo_yaml + sizeof more];
    snprintf(yaml, sizeof yaml, "%s%s", topo_yaml, more);
    rn_topology_t *t = NULL;
    char err[512] = "";
    if (rn_topology_load_buffers("topo", (const uint8_t *)yaml, strlen(yaml),
                                 (const uint8_t *)secrets_yaml, strlen(secrets_yaml), &t, err,
                                 sizeof err))
        fail_msg("topology: %s", err);
    rn_report_svc_down_t d[] = {
        { "emitra", T0 - 100 * S, T0 + 500 * S },        /* clipped at the period's start */
        { "emitra", T0 + 400 * S, T0 + 1000 * S },       /* overlaps: counted once */
        { "emitra", T0 + 5000 * S, T0 + 6000 * S },      /* half inside maintenance on sdc */
        { "vc", T1 + 10 * S, T1 + 20 * S },              /* after the period */
    };
    rn_maintenance_rec_t m[] = { { .entity = "sdc", .start_ms = T0 + 5500 * S,
                                   .end_ms = T0 + 7000 * S } };
    rn_report_input_t in = { .service_down = d, .n_service_down = 4, .maint = m, .n_maint = 1,
                             .now_ms = T1 };
    rn_report_t *r = NULL;
    assert_int_equal(rn_report_compute(t, &in, T0, T1, NULL, &r), 0);
    assert_int_equal(r->n_services, 2);
    const rn_report_service_t *e = &r->services[0], *v = &r->services[1];
    assert_string_equal(e->name, "emitra");
    assert_string_equal(e->host, "sdc");
    assert_float_equal(e->downtime_s, 1000 + 500, 1e-9);
    assert_float_equal(e->maintenance_s, 1500, 1e-9);
    assert_int_equal(e->n_outages, 3);
    assert_float_equal(e->availability_pct, (2592000.0 - 1500 - 1500) / (2592000 - 1500) * 100,
                       1e-9);
    assert_float_equal(v->availability_pct, 100, 1e-12);
    assert_int_equal(v->n_outages, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(rn_report_csv(r, NULL, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "\nservice,kind,host,period_s,"));
    assert_non_null(strstr(buf, "\nemitra,egov,sdc,2592000.000,1500.000,1500.000,99.9421,3,"));
    free(buf);
    f = open_memstream(&buf, &len); /* a vendor's file has them too, beside its links */
    assert_int_equal(rn_report_csv(r, "bsnl", f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "\nservice,kind,host,period_s,"));
    assert_non_null(strstr(buf, "\nemitra,egov,sdc,2592000.000,1500.000,1500.000,99.9421,3,"));
    assert_non_null(strstr(buf, "\nvc,vc,sdc,2592000.000,1500.000,0.000,100.0000,0,"));
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(rn_report_html(r, "bsnl", f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "<h2>Services</h2>"));
    assert_non_null(strstr(buf, "<tr><td>emitra</td><td>egov</td><td>sdc</td><td>30 d 00:00:00"
                                "</td><td>0:25:00</td><td>0:25:00</td><td class=bad>99.9421</td>"
                                "<td>3</td>"));
    assert_non_null(strstr(buf, "<tr><td>vc</td><td>vc</td><td>sdc</td><td>30 d 00:00:00</td>"
                                "<td>0:25:00</td><td>0:00:00</td><td>100.0000</td>"));
    free(buf);
    /* and the PDF renders them (its text: tests/integration/test_services.sh, pdftotext);
     * RN_REPORT_SERVICES_PDF=FILE keeps it */
    const char *keep = getenv("RN_REPORT_SERVICES_PDF");
    char pdf[] = "/tmp/rn-report-services-XXXXXX";
    int fd = mkstemp(pdf);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rn_report_pdf(r, "bsnl", keep ? keep : pdf), 0);
    struct stat st;
    assert_int_equal(stat(keep ? keep : pdf, &st), 0);
    assert_true(st.st_size > 1000);
    unlink(pdf);
    rn_report_free(r);
    rn_topology_free(t);
}

static void test_penalty_slabs_and_month(void **state)
{
    (void)state;
    rn_penalty_slab_t s[] = { { 99.5, 0 }, { 99.0, 5 }, { 98.0, 10 }, { 0, 20 } };
    assert_float_equal(rn_report_penalty_pct(s, 4, 100), 0, 0);
    assert_float_equal(rn_report_penalty_pct(s, 4, 99.5), 0, 0);
    assert_float_equal(rn_report_penalty_pct(s, 4, 99.49), 5, 0);
    assert_float_equal(rn_report_penalty_pct(s, 4, 98.0), 10, 0);
    assert_float_equal(rn_report_penalty_pct(s, 4, 50), 20, 0);
    assert_float_equal(rn_report_penalty_pct(s, 3, 50), 10, 0);
    assert_float_equal(rn_report_penalty_pct(NULL, 0, 50), 0, 0);
    int64_t a, b;
    assert_int_equal(rn_report_month("2026-11", &a, &b), 0);
    assert_int_equal(a, T0);
    assert_int_equal(b, T1);
    assert_int_equal(rn_report_month("2026-12", &a, &b), 0);
    assert_int_equal(b - a, 31 * 86400 * S);
    assert_int_equal(rn_report_month("2026-13", &a, &b), -EINVAL);
    assert_int_equal(rn_report_month("2026-1x", &a, &b), -EINVAL);
    double v[] = { 5, 1, NAN, 3, 2, 4 };
    rn_report_pct_t p = rn_report_percentiles(v, 6);
    assert_true(p.have);
    assert_float_equal(p.p50, 3, 0);
    assert_float_equal(p.p95, 5, 0);
}

/* The monthly run is due once: in the cron tick that crosses 00:05:00 UTC on the 1st. */
static void test_monthly_due_once_on_the_first(void **state)
{
    (void)state;
    char m[8] = "";
    int64_t due = T1 + 5 * 60 * S; /* 2026-12-01T00:05:00Z */
    assert_true(rn_report_monthly_due(due, 1000, m));
    assert_string_equal(m, "2026-11");
    assert_true(rn_report_monthly_due(due + 999, 1000, m));
    assert_false(rn_report_monthly_due(due + 1000, 1000, m));
    assert_false(rn_report_monthly_due(due - 1, 1000, m));
    assert_false(rn_report_monthly_due(due + 86400 * S, 1000, m)); /* the 2nd */
    int64_t jan = 1798761600000LL + 5 * 60 * S; /* 2027-01-01T00:05:00Z */
    assert_true(rn_report_monthly_due(jan, 1000, m));
    assert_string_equal(m, "2026-12");
}

static void test_topology_sla_keys(void **state)
{
    (void)state;
    rn_topology_t *t = load_topo();
    const rn_sla_class_t *d = &t->sla_classes[0];
    assert_string_equal(d->name, "dhq");
    assert_int_equal(d->n_penalty, 4);
    assert_float_equal(d->penalty[1].availability, 99.0, 0);
    assert_float_equal(d->penalty[3].pct, 20, 0);
    assert_float_equal(d->restore_hours[0], 2, 0);
    assert_float_equal(d->restore_hours[1], 8, 0);
    assert_false(t->sla_classes[1].partial_loss_counts);
    assert_float_equal(t->nodes[1].uplinks[0].monthly_charge, 100000, 0);
    rn_topology_free(t);
}

/* fontconfig (under pango) keeps its font cache for the life of the process: not our leak.
 * Read by LeakSanitizer in the sanitizer build; an unused function otherwise. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_availability_penalty_from_store),
        cmocka_unit_test(test_overlap_counted_once_and_vendor_filter),
        cmocka_unit_test(test_service_availability),
        cmocka_unit_test(test_penalty_slabs_and_month),
        cmocka_unit_test(test_monthly_due_once_on_the_first),
        cmocka_unit_test(test_topology_sla_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
