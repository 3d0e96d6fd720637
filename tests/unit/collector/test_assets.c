/* Unit tests of the asset file parser (collector/assets/asset_file.c), the asset register's join,
 * discrepancies, replacements and contract alarms (collector/assets/assets.c), and its persistence:
 * restore at start and the event store's asset tables (collector/events/event_store.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>
#include <uv.h>

#include "assets/asset_file.h"
#include "assets/assets.h"
#include "collector.h"
#include "error.h"
#include "events/event_store.h"

#define DAY 86400000LL
#define NOW (20000LL * DAY + 12 * 3600000LL) /* 2024-10-04 12:00 UTC */

static rn_asset_file_t *parse(const char *text, int *rc, char *err, size_t err_len)
{
    rn_asset_file_t *f = NULL;
    *rc = rn_asset_file_parse("assets.yaml", (const uint8_t *)text, strlen(text), &f, err,
                              err_len);
    return f;
}

static void test_file_reads_every_field(void **state)
{
    (void)state;
    char err[256] = "";
    int rc;
    rn_asset_file_t *f = parse("assets:\n"
                               "  - serial: CAT0952N20R\n"
                               "    description: VC setup\n"
                               "    department: DoIT&C\n"
                               "    purchase_order: PO/1\n"
                               "    supplier: S\n"
                               "    amc_vendor: V\n"
                               "    amc_end: 2024-02-29\n"
                               "    warranty_end: 2025-01-01\n"
                               "  - node: jaipur\n"
                               "    device: rtr1\n",
                               &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->v[0].serial, "CAT0952N20R");
    assert_string_equal(f->v[0].department, "DoIT&C");
    assert_string_equal(f->v[0].amc_end, "2024-02-29");
    /* 2024-02-29 is day 19782; the contract covers that whole day */
    assert_int_equal(f->v[0].amc_end_ms, 19783LL * DAY);
    assert_int_equal(f->v[0].line, 2);
    assert_null(f->v[1].serial);
    assert_string_equal(f->v[1].device, "rtr1");
    assert_int_equal(f->v[1].amc_end_ms, 0);
    rn_asset_file_free(f);
}

static void test_file_errors_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        { "assets:\n  - serial: A\n    colour: red\n", "assets.yaml:3" },
        { "assets:\n  - serial: A\n    amc_end: 2023-02-29\n", "not a date" },
        { "assets:\n  - serial: A\n    warranty_end: 31-12-2025\n", "not a date" },
        { "assets:\n  - node: jaipur\n", "needs a serial" },
        { "assets:\n  - serial: A\n  - serial: A\n", "listed already at line 2" },
        { "assets:\n  - {node: a, device: b}\n  - {node: a, device: b}\n", "listed already" },
        { "assets: {a: 1}\n", "assets" },
        { "other: 1\n", "assets" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        int rc;
        rn_asset_file_t *f = parse(cases[i].text, &rc, err, sizeof err);
        assert_int_not_equal(rc, 0);
        assert_null(f);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
}

/* ---- the register ---- */

typedef struct {
    int raised, cleared;
    char last_text[512], last_entity[256];
    int kind;
} seen_t;

static void on_alarm(void *ctx, bool raised, rn_asset_alarm_t *a, int64_t at_ms)
{
    seen_t *s = ctx;
    (void)at_ms;
    if (raised) {
        s->raised++;
        a->id = (uint64_t)s->raised;
        snprintf(s->last_text, sizeof s->last_text, "%s", a->text);
        snprintf(s->last_entity, sizeof s->last_entity, "%s", a->entity);
        s->kind = (int)a->kind;
    } else {
        s->cleared++;
    }
}

/* An inventory of device sw1 with a chassis (index 1001) and a power supply (1003). */
static void inventory(Rn__Inventory *m, Rn__PhysicalEntity *e, Rn__PhysicalEntity **pe,
                      const char *chassis_serial)
{
    rn__inventory__init(m);
    m->device = "sw1";
    m->time_ms = NOW;
    m->sys_descr = "Cisco IOS";
    m->sys_object_id = "1.3.6.1.4.1.9.1.516";
    rn__physical_entity__init(&e[0]);
    rn__physical_entity__init(&e[1]);
    e[0].index = 1001, e[0].has_ent_class = true, e[0].ent_class = 3;
    e[0].serial = (char *)chassis_serial, e[0].model = "WS-C3750-48PS-S", e[0].name = "1";
    e[1].index = 1003, e[1].has_ent_class = true, e[1].ent_class = 6, e[1].serial = "LIT1";
    pe[0] = &e[0], pe[1] = &e[1];
    m->entities = pe;
    m->n_entities = 2;
}

typedef struct {
    char rows[8][160];
    size_t n;
} rows_t;

static void on_row(void *ctx, const rn_asset_row_t *w)
{
    rows_t *r = ctx;
    if (r->n < 8)
        snprintf(r->rows[r->n++], sizeof r->rows[0], "%s/%s %s %s %s", w->node ? w->node : "-",
                 w->device ? w->device : "-", w->serial, w->entry && w->entry->department
                                                              ? w->entry->department : "-",
                 w->discrepancy ? w->discrepancy : "ok");
}

static rn_asset_file_t *two_entries(void)
{
    char err[256];
    int rc;
    rn_asset_file_t *f = parse("assets:\n"
                               "  - serial: SER-A\n"
                               "    department: DoIT&C\n"
                               "    amc_end: 2024-10-24\n" /* 20 days after NOW */
                               "  - serial: GONE\n"
                               "    department: Police\n"
                               "    warranty_end: 2030-01-01\n",
                               &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    return f;
}

static void test_join_by_serial_and_discrepancies(void **state)
{
    (void)state;
    seen_t seen = { 0 };
    rn_assets_t *r;
    assert_int_equal(rn_assets_new(on_alarm, &seen, &r), 0);
    rn_assets_set_file(r, two_entries());
    Rn__Inventory m;
    Rn__PhysicalEntity e[2], *pe[2];
    inventory(&m, e, pe, "SER-A");
    assert_int_equal(rn_assets_observe(r, "jaipur", &m, NOW), 1);
    assert_int_equal(rn_assets_observe(r, "jaipur", &m, NOW), 0); /* a repeat */
    m.device = "sw2";
    e[0].serial = "SER-UNLISTED";
    assert_int_equal(rn_assets_observe(r, "jaipur", &m, NOW), 1);
    rows_t rows = { 0 };
    assert_int_equal(rn_assets_foreach(r, on_row, &rows), 3);
    assert_string_equal(rows.rows[0], "jaipur/sw1 SER-A DoIT&C ok");
    assert_string_equal(rows.rows[1], "jaipur/sw2 SER-UNLISTED - not_in_file");
    assert_string_equal(rows.rows[2], "-/- GONE Police not_reported");
    rn_assets_free(r);
}

static void test_serial_change_in_a_slot_is_a_replacement(void **state)
{
    (void)state;
    seen_t seen = { 0 };
    rn_assets_t *r;
    assert_int_equal(rn_assets_new(on_alarm, &seen, &r), 0);
    Rn__Inventory m;
    Rn__PhysicalEntity e[2], *pe[2];
    inventory(&m, e, pe, "OLD1");
    rn_assets_observe(r, "jaipur", &m, NOW);
    assert_int_equal(seen.raised, 0);
    e[1].serial = NULL; /* a serial that goes missing is no replacement */
    rn_assets_observe(r, "jaipur", &m, NOW + 1000);
    assert_int_equal(seen.raised, 0);
    e[0].serial = "NEW1";
    assert_int_equal(rn_assets_observe(r, "jaipur", &m, NOW + 2000), 1);
    assert_int_equal(seen.raised, 1);
    assert_int_equal(seen.kind, RN_ASSET_ALARM_REPLACED);
    assert_string_equal(seen.last_entity, "asset:jaipur/sw1:1001");
    assert_non_null(strstr(seen.last_text, "serial NEW1, was OLD1"));
    rn_assets_tick(r, NOW + RN_ASSETS_REPLACED_HOLD_MS);     /* held a day */
    assert_int_equal(seen.cleared, 0);
    rn_assets_tick(r, NOW + 2000 + RN_ASSETS_REPLACED_HOLD_MS);
    assert_int_equal(seen.cleared, 1);
    rn_assets_free(r);
}

static void test_contract_alarm_30_days_before_and_clears_on_renewal(void **state)
{
    (void)state;
    seen_t seen = { 0 };
    rn_assets_t *r;
    assert_int_equal(rn_assets_new(on_alarm, &seen, &r), 0);
    rn_assets_set_file(r, two_entries());
    rn_assets_tick(r, 19990LL * DAY); /* 2024-09-24: AMC ends in 30+ days */
    assert_int_equal(seen.raised, 0);
    rn_assets_tick(r, NOW); /* 20.5 days before the end of the 24th: "in 21 days" */
    assert_int_equal(seen.raised, 1);
    assert_int_equal(seen.kind, RN_ASSET_ALARM_CONTRACT);
    assert_string_equal(seen.last_entity, "asset:SER-A:amc");
    assert_non_null(strstr(seen.last_text, "ends 2024-10-24 (in 21 days)"));
    rn_assets_tick(r, NOW + DAY); /* still the same alarm */
    assert_int_equal(seen.raised, 1);
    char err[256];
    int rc;
    rn_assets_set_file(r, parse("assets:\n  - serial: SER-A\n    amc_end: 2025-10-24\n", &rc,
                                err, sizeof err));
    rn_assets_tick(r, NOW + DAY);
    assert_int_equal(seen.cleared, 1);
    rn_assets_free(r);
}

/* ---- persistence: restore at start, the event store's tables ---- */

typedef struct {
    int n;
    char old_serial[32], new_serial[32], where[64];
} repl_seen_t;

static void on_replaced(void *ctx, const char *node, const char *device,
                        const rn_asset_replaced_t *x)
{
    repl_seen_t *s = ctx;
    s->n++;
    snprintf(s->old_serial, sizeof s->old_serial, "%s", x->old_serial);
    snprintf(s->new_serial, sizeof s->new_serial, "%s", x->new_serial);
    snprintf(s->where, sizeof s->where, "%s/%s:%u", node, device, (unsigned)x->index);
}

static void test_restored_inventory_then_new_serial_is_a_replacement(void **state)
{
    (void)state;
    seen_t seen = { 0 };
    repl_seen_t repl = { 0 };
    rn_assets_t *r;
    assert_int_equal(rn_assets_new(on_alarm, &seen, &r), 0);
    rn_assets_on_replaced(r, on_replaced, &repl);
    Rn__Inventory m;
    Rn__PhysicalEntity e[2], *pe[2];
    inventory(&m, e, pe, "OLD1");
    m.node = "jaipur"; /* stored with its node */
    assert_int_equal(rn_assets_restore(r, "jaipur", &m, NOW), 1);
    assert_int_equal(seen.raised, 0); /* read back quietly */
    rows_t rows = { 0 };
    assert_int_equal(rn_assets_foreach(r, on_row, &rows), 1);
    assert_string_equal(rows.rows[0], "jaipur/sw1 OLD1 - not_in_file");
    m.node = NULL; /* the agent's own device, resent after the restart */
    assert_int_equal(rn_assets_observe(r, "jaipur", &m, NOW + 1000), 0); /* same: a repeat */
    e[0].serial = "NEW1"; /* swapped while the collector was down */
    assert_int_equal(rn_assets_observe(r, "jaipur", &m, NOW + 2000), 1);
    assert_int_equal(seen.raised, 1);
    assert_string_equal(seen.last_entity, "asset:jaipur/sw1:1001");
    assert_int_equal(repl.n, 1);
    assert_string_equal(repl.where, "jaipur/sw1:1001");
    assert_string_equal(repl.old_serial, "OLD1");
    assert_string_equal(repl.new_serial, "NEW1");
    rn_assets_free(r);
}

static void test_report_before_the_store_answers_is_compared_with_it(void **state)
{
    (void)state;
    seen_t seen = { 0 };
    repl_seen_t repl = { 0 };
    rn_assets_t *r;
    assert_int_equal(rn_assets_new(on_alarm, &seen, &r), 0);
    rn_assets_on_replaced(r, on_replaced, &repl);
    Rn__Inventory m;
    Rn__PhysicalEntity e[2], *pe[2];
    inventory(&m, e, pe, "NEW1");
    assert_int_equal(rn_assets_observe(r, "jaipur", &m, NOW), 1); /* the agent was quicker */
    e[0].serial = "OLD1";
    assert_int_equal(rn_assets_restore(r, "jaipur", &m, NOW), 0); /* the stored, older one */
    assert_int_equal(repl.n, 1);
    assert_string_equal(repl.old_serial, "OLD1");
    assert_string_equal(repl.new_serial, "NEW1");
    rows_t rows = { 0 };
    rn_assets_foreach(r, on_row, &rows);
    assert_string_equal(rows.rows[0], "jaipur/sw1 NEW1 - not_in_file"); /* the report stays */
    rn_assets_free(r);
}

static void test_restored_replacement_alarm_only_within_the_hold(void **state)
{
    (void)state;
    seen_t seen = { 0 };
    repl_seen_t repl = { 0 };
    rn_assets_t *r;
    assert_int_equal(rn_assets_new(on_alarm, &seen, &r), 0);
    rn_assets_on_replaced(r, on_replaced, &repl);
    Rn__Inventory m;
    Rn__PhysicalEntity e[2], *pe[2];
    inventory(&m, e, pe, "NEW1");
    rn_assets_restore(r, "jaipur", &m, NOW);
    rn_asset_replaced_t old = { NOW - 3 * DAY, 1001, "1", "WS-C3750", "A0", "OLD1" };
    rn_asset_replaced_t recent = { NOW - 3600000, 1001, "1", "WS-C3750", "OLD1", "NEW1" };
    assert_int_equal(rn_assets_restore_replaced(r, "jaipur", "sw9", &old, NOW), -ENOENT);
    assert_int_equal(rn_assets_restore_replaced(r, "jaipur", "sw1", &old, NOW), 0);
    assert_int_equal(seen.raised, 0); /* three days ago: history, no alarm */
    assert_int_equal(rn_assets_restore_replaced(r, "jaipur", "sw1", &recent, NOW), 0);
    assert_int_equal(seen.raised, 1); /* an hour ago: up again until a day after it */
    assert_int_equal(repl.n, 0);      /* restored, not stored again */
    rn_assets_tick(r, NOW - 3600000 + RN_ASSETS_REPLACED_HOLD_MS);
    assert_int_equal(seen.cleared, 1);
    rn_assets_free(r);
}

typedef struct {
    int done, status;
    size_t n_inv, n_repl;
    char inv[256], repl[256];
    uint8_t blob[64];
    size_t blob_len;
} store_seen_t;

static void on_write(void *data, int status)
{
    store_seen_t *s = data;
    s->done++;
    if (status)
        s->status = status;
}

static void on_invs(void *data, int status, const rn_asset_inv_rec_t *v, size_t n)
{
    store_seen_t *s = data;
    s->done++, s->status = status, s->n_inv = n;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(s->inv);
        snprintf(s->inv + k, sizeof s->inv - k, "%s/%s@%lld:%zu ", v[i].node, v[i].device,
                 (long long)v[i].updated_ms, v[i].len);
    }
    if (n && v[n - 1].len <= sizeof s->blob)
        memcpy(s->blob, v[n - 1].inventory, s->blob_len = v[n - 1].len);
}

static void on_repls(void *data, int status, const rn_asset_repl_rec_t *v, size_t n)
{
    store_seen_t *s = data;
    s->done++, s->status = status, s->n_repl = n;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(s->repl);
        snprintf(s->repl + k, sizeof s->repl - k, "%s/%s:%u:%s->%s ", v[i].node, v[i].device,
                 (unsigned)v[i].index, v[i].old_serial, v[i].new_serial);
    }
}

static void on_closed(void *data)
{
    *(int *)data = 1;
}

/* Opens the store at path, runs fn(store, seen), runs the loop until it is idle, closes. */
static void with_store(const char *path, void (*fn)(rn_event_store_t *, store_seen_t *),
                       store_seen_t *seen)
{
    uv_loop_t loop;
    rn_event_store_t *s;
    char err[256];
    int closed = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(rn_event_store_open(&loop, path, &s, err, sizeof err), 0);
    fn(s, seen);
    uv_run(&loop, UV_RUN_DEFAULT);
    rn_event_store_close(s, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void write_rows(rn_event_store_t *s, store_seen_t *seen)
{
    static const uint8_t a[] = { 1, 2, 3 }, b[] = { 4, 5, 6, 7 };
    rn_asset_inv_rec_t inv = { "jaipur", "sw1", NOW, a, sizeof a };
    assert_int_equal(rn_event_store_asset_put(s, &inv, on_write, seen), 0);
    inv.updated_ms = NOW + 1, inv.inventory = b, inv.len = sizeof b; /* replaces the row */
    assert_int_equal(rn_event_store_asset_put(s, &inv, on_write, seen), 0);
    inv.node = "ajmer", inv.len = 0;
    assert_int_equal(rn_event_store_asset_put(s, &inv, on_write, seen), -EINVAL);
    for (int i = 0; i < 20; i++) { /* more than are read back per device */
        char o[16], n[16];
        snprintf(o, sizeof o, "S%d", i), snprintf(n, sizeof n, "S%d", i + 1);
        rn_asset_repl_rec_t x = { "jaipur", "sw1", NOW + i, 1001, NULL, "WS", o, n };
        assert_int_equal(rn_event_store_asset_replaced(s, &x, on_write, seen), 0);
    }
}

static void read_rows(rn_event_store_t *s, store_seen_t *seen)
{
    assert_int_equal(rn_event_store_asset_inventories(s, on_invs, seen), 0);
    assert_int_equal(rn_event_store_asset_replacements(s, 2, on_repls, seen), 0);
    assert_int_equal(rn_event_store_asset_replacements(s, 0, on_repls, seen), -EINVAL);
}

static void test_event_store_keeps_inventories_and_replacements(void **state)
{
    (void)state;
    char dir[] = "/tmp/rn-test-assets-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/events.db", dir);
    store_seen_t w = { 0 }, r = { 0 };
    with_store(path, write_rows, &w);
    assert_int_equal(w.done, 22);
    assert_int_equal(w.status, 0);
    with_store(path, read_rows, &r); /* another run: read back from the file */
    assert_int_equal(r.status, 0);
    assert_string_equal(r.inv, "jaipur/sw1@1728043200001:4 ");
    assert_int_equal(r.blob_len, 4);
    assert_int_equal(r.blob[3], 7);
    assert_string_equal(r.repl, "jaipur/sw1:1001:S18->S19 jaipur/sw1:1001:S19->S20 ");
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* An agent may report inventories of its own devices and its agentless children's, nothing else
 * (collector/asset_register.c, as session.c does for samples). */
static void test_inventory_of_a_node_the_agent_does_not_speak_for_is_dropped(void **state)
{
    (void)state;
    static const char topo[] =
        "settings: { poll_interval_s: 60, probe_interval_s: 10, probe_count: 7 }\n"
        "vendors: { bsnl: { name: BSNL } }\n"
        "sla_classes:\n"
        "  gp: { availability: 97.0, max_latency_ms: 600, max_loss_pct: 3.0, max_jitter_ms: 80 }\n"
        "nodes:\n"
        "  sdc: { tier: sdc, devices: [{ name: core1, addr: 10.77.0.1, snmp: { version: 2c, secret: ro } }] }\n"
        "  jaipur:\n    tier: district\n    parent: sdc\n"
        "    devices: [{ name: sw1, addr: 10.77.1.1, snmp: { version: 2c, secret: ro } }]\n"
        "    uplinks: [{ circuit: C-1, vendor: bsnl, kind: mpls, mbps: 2, sla: gp,\n"
        "                local: { device: sw1, ifname: w }, remote: { device: core1, ifname: j } }]\n"
        "  jaipur/gp-bagru:\n    tier: village\n    parent: jaipur\n    agent: false\n"
        "    devices: [{ name: rtr1, addr: 10.77.2.1, snmp: { version: 2c, secret: ro } }]\n"
        "    uplinks: [{ circuit: C-2, vendor: bsnl, kind: vsat, mbps: 1, sla: gp,\n"
        "                local: { device: rtr1, ifname: w }, remote: { device: sw1, ifname: x } }]\n"
        "  ajmer:\n    tier: district\n    parent: sdc\n"
        "    devices: [{ name: sw1, addr: 10.77.3.1, snmp: { version: 2c, secret: ro } }]\n"
        "    uplinks: [{ circuit: C-3, vendor: bsnl, kind: mpls, mbps: 2, sla: gp,\n"
        "                local: { device: sw1, ifname: w }, remote: { device: core1, ifname: a } }]\n";
    static const char secrets[] = "ro: { community: public }\n";
    rn_collector_t c;
    memset(&c, 0, sizeof c);
    char err[512] = "";
    if (rn_topology_load_buffers("t.yaml", (const uint8_t *)topo, strlen(topo),
                                 (const uint8_t *)secrets, sizeof secrets - 1, &c.topo, err,
                                 sizeof err))
        fail_msg("topology refused: %s", err);
    assert_int_equal(rn_assets_new(NULL, NULL, &c.assets), 0);
    Rn__Inventory m;
    Rn__PhysicalEntity e[2], *pe[2];
    inventory(&m, e, pe, "SER-A");
    rn_collector_assets_inventory(&c, "jaipur", &m);            /* its own */
    m.node = "jaipur", m.device = "sw2";
    rn_collector_assets_inventory(&c, "jaipur", &m);            /* its own, named */
    m.node = "jaipur/gp-bagru", m.device = "rtr1";
    rn_collector_assets_inventory(&c, "jaipur", &m);            /* an agentless child */
    assert_int_equal(c.assets_foreign, 0);
    m.node = "ajmer", m.device = "sw1";
    rn_collector_assets_inventory(&c, "jaipur", &m);            /* another agent's node */
    m.node = "jaipur";
    rn_collector_assets_inventory(&c, "jaipur/gp-bagru", &m);   /* a child for its parent */
    assert_int_equal(c.assets_foreign, 2);
    rows_t rows = { 0 };
    assert_int_equal(rn_assets_foreach(c.assets, on_row, &rows), 3);
    assert_string_equal(rows.rows[0], "jaipur/sw1 SER-A - not_in_file");
    assert_string_equal(rows.rows[1], "jaipur/sw2 SER-A - not_in_file");
    assert_string_equal(rows.rows[2], "jaipur/gp-bagru/rtr1 SER-A - not_in_file");
    rn_assets_free(c.assets);
    rn_topology_free(c.topo);
}

static void test_dates(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(rn_asset_date_parse("1970-01-01", &ms), 0);
    assert_int_equal(ms, DAY);
    assert_int_equal(rn_asset_date_parse("2000-02-29", &ms), 0);
    assert_int_equal(rn_asset_date_parse("1900-02-29", &ms), -EINVAL);
    assert_int_equal(rn_asset_date_parse("2023-13-01", &ms), -EINVAL);
    assert_int_equal(rn_asset_date_parse("2023-1-01x", &ms), -EINVAL);
    assert_int_equal(rn_asset_date_parse("+023-01-01", &ms), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_reads_every_field),
        cmocka_unit_test(test_file_errors_name_file_and_line),
        cmocka_unit_test(test_join_by_serial_and_discrepancies),
        cmocka_unit_test(test_serial_change_in_a_slot_is_a_replacement),
        cmocka_unit_test(test_contract_alarm_30_days_before_and_clears_on_renewal),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_restored_inventory_then_new_serial_is_a_replacement),
        cmocka_unit_test(test_report_before_the_store_answers_is_compared_with_it),
        cmocka_unit_test(test_restored_replacement_alarm_only_within_the_hold),
        cmocka_unit_test(test_event_store_keeps_inventories_and_replacements),
        cmocka_unit_test(test_inventory_of_a_node_the_agent_does_not_speak_for_is_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
