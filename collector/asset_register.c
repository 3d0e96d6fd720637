/* The collector's side of the asset register (collector/assets/assets.h): it owns the register, reads
 * the asset file named in collector.yaml (again on SIGHUP), feeds it the agents' Inventory
 * frames, and publishes its alarms as the alarm engine's own are published (event store,
 * notifiers, HTTP events, log), with ids from the engine so that both share one numbering.
 *
 * Persistence: every inventory the register takes and every replacement it records go to the
 * event store (tables asset_inventory, asset_replaced); at start both are read back, so the
 * register is whole before the agents reconnect, and the inventory an agent resends after the
 * restart is compared with the stored one: a box swapped while the collector was down is still
 * "device replaced". The writes carry no callback: on a full disk the store holds and retries
 * them (event_store.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "collector.h"
#include "error.h"
#include "log.h"
#include "ingest/plan.h"

#define ASSETS_TICK_MS 60000 /* contracts are judged in days: once a minute is plenty */
#define FOREIGN_LOG_MS 60000 /* a misbehaving agent resends on every connection: log a minute */

/* The register's alarms, as rn_alarm_t for the collector's pipeline. */
static void on_asset_alarm(void *ctx, bool raised, rn_asset_alarm_t *a, int64_t at_ms)
{
    rn_collector_t *c = ctx;
    if (raised)
        a->id = rn_alarm_engine_take_id(c->alarms);
    const char *impact[1] = { a->node };
    rn_alarm_t x = { 0 };
    x.id = a->id;
    x.type = a->kind == RN_ASSET_ALARM_REPLACED ? RN_ALARM_DEVICE_REPLACED
                                                : RN_ALARM_CONTRACT_EXPIRING;
    x.severity = 3; /* S3: a notice for the day shift, nothing is down */
    x.entity = a->entity;
    x.node = a->node;
    x.since_ms = a->since_ms;
    x.raised_ms = a->since_ms;
    x.until_ms = raised ? 0 : at_ms;
    x.impact_nodes = a->node ? impact : NULL;
    x.n_impact_nodes = a->node ? 1 : 0;
    x.text = a->text;
    rn_collector_publish_alarm(c, raised ? RN_ALARM_EV_RAISED : RN_ALARM_EV_CLEARED, &x, at_ms);
}

/* Loads the configured asset file into the register. Returns 0 or the loader's error (logged,
 * and the register keeps what it had). */
static int load_file(rn_collector_t *c, const char *why)
{
    char err[1024];
    rn_asset_file_t *f;
    const char *path = c->config->assets_path;
    if (!path)
        return 0;
    int rc = rn_asset_file_load(path, &f, err, sizeof err);
    if (rc) {
        rn_error("%s: asset file not loaded: %s", why, err);
        return rc;
    }
    rn_info("%s: asset file %s: %zu entries", why, path, f->n);
    rn_assets_set_file(c->assets, f);
    rn_assets_tick(c->assets, rn_clock_wall_ms());
    c->assets_ticked_ms = rn_clock_wall_ms();
    return 0;
}

/* A replacement the register recorded, to the store. */
static void on_replaced(void *ctx, const char *node, const char *device,
                        const rn_asset_replaced_t *x)
{
    rn_collector_t *c = ctx;
    rn_asset_repl_rec_t r = { node, device, x->at_ms, x->index, x->name, x->model,
                              x->old_serial, x->new_serial };
    int rc = c->events ? rn_event_store_asset_replaced(c->events, &r, NULL, NULL) : 0;
    if (rc)
        rn_warn("%s/%s: replacement not stored: %s", node, device, rn_strerror(rc));
}

/* The stored replacements (oldest first), after the inventories: into each device's history. */
static void on_stored_replacements(void *data, int status, const rn_asset_repl_rec_t *v,
                                   size_t n)
{
    rn_collector_t *c = data;
    size_t kept = 0;
    int64_t now = rn_clock_wall_ms();
    for (size_t i = 0; !status && c->assets && i < n; i++) {
        rn_asset_replaced_t x = { v[i].at_ms, v[i].index, (char *)v[i].name, (char *)v[i].model,
                                  (char *)v[i].old_serial, (char *)v[i].new_serial };
        kept += rn_assets_restore_replaced(c->assets, v[i].node, v[i].device, &x, now) == 0;
    }
    if (status)
        rn_error("asset register: replacements not read from the event store: %s",
                 rn_strerror(status));
    else
        rn_info("asset register: %zu of %zu stored replacements read back", kept, n);
}

/* The stored inventories: into the register, before (or against) what agents send now. */
static void on_stored_inventories(void *data, int status, const rn_asset_inv_rec_t *v, size_t n)
{
    rn_collector_t *c = data;
    size_t kept = 0;
    int64_t now = rn_clock_wall_ms();
    for (size_t i = 0; !status && c->assets && i < n; i++) {
        Rn__Inventory *m = rn__inventory__unpack(NULL, v[i].len, v[i].inventory);
        if (!m || !m->device || strcmp(m->device, v[i].device) != 0) {
            rn_warn("asset register: stored inventory of %s/%s unreadable: skipped", v[i].node,
                    v[i].device);
        } else {
            int rc = rn_assets_restore(c->assets, v[i].node, m, now);
            kept += rc >= 0;
            if (rc < 0)
                rn_warn("asset register: stored inventory of %s/%s not kept: %s", v[i].node,
                        v[i].device, rn_strerror(rc));
        }
        if (m)
            rn__inventory__free_unpacked(m, NULL);
    }
    if (status)
        rn_error("asset register: inventories not read from the event store: %s",
                 rn_strerror(status));
    else
        rn_info("asset register: %zu of %zu stored inventories read back", kept, n);
}

int rn_collector_assets_start(rn_collector_t *c)
{
    int rc = rn_assets_new(on_asset_alarm, c, &c->assets);
    if (rc)
        return rc;
    rn_assets_on_replaced(c->assets, on_replaced, c);
    load_file(c, "start");
    if (c->events && /* in this order: the replacements attach to the devices read first */
        ((rc = rn_event_store_asset_inventories(c->events, on_stored_inventories, c)) != 0 ||
         (rc = rn_event_store_asset_replacements(c->events, RN_ASSETS_MAX_REPLACED,
                                                 on_stored_replacements, c)) != 0))
        rn_error("asset register: not read from the event store: %s", rn_strerror(rc));
    return 0;
}

void rn_collector_assets_reload(rn_collector_t *c)
{
    if (c->assets)
        load_file(c, "reload");
}

void rn_collector_assets_tick(rn_collector_t *c, int64_t now_ms)
{
    if (!c->assets || now_ms - c->assets_ticked_ms < ASSETS_TICK_MS)
        return;
    c->assets_ticked_ms = now_ms;
    rn_assets_tick(c->assets, now_ms);
}

/* Returns true if the agent of node may report an inventory for m->node: its own node (m->node
 * absent or the same) or one of its agentless children, whose devices it polls (as for samples:
 * session.c). Anything else is dropped, counted, and logged at most once a minute. */
static bool node_allowed(rn_collector_t *c, const char *node, const Rn__Inventory *m)
{
    if (!m->node || !m->node[0] || strcmp(m->node, node) == 0 ||
        (c->topo && rn_plan_agentless_child(c->topo, node, m->node)))
        return true;
    int64_t now = (int64_t)(rn_clock_mono_ns() / 1000000);
    if (c->assets_foreign++ == 0 || now - c->assets_foreign_logged_ms >= FOREIGN_LOG_MS) {
        c->assets_foreign_logged_ms = now;
        rn_warn("node %s: inventory of %s names node '%s', which is neither %s nor an "
                "agentless child of it: dropped (%" PRIu64 " so far; logged once a minute)",
                node, m->device, m->node, node, c->assets_foreign);
    }
    return false;
}

/* Stores the device's inventory as the register now holds it. */
static void store_inventory(rn_collector_t *c, const char *node, const Rn__Inventory *m)
{
    Rn__Inventory copy = *m;
    copy.node = (char *)(m->node && m->node[0] ? m->node : node); /* stored with its node */
    size_t len = rn__inventory__get_packed_size(&copy);
    uint8_t *buf = len ? malloc(len) : NULL;
    int rc = -ENOMEM;
    if (buf) {
        rn__inventory__pack(&copy, buf);
        rn_asset_inv_rec_t r = { copy.node, m->device, m->time_ms, buf, len };
        rc = rn_event_store_asset_put(c->events, &r, NULL, NULL);
    }
    free(buf);
    if (rc)
        rn_warn("%s/%s: inventory not stored: %s", copy.node, m->device, rn_strerror(rc));
}

void rn_collector_assets_inventory(rn_collector_t *c, const char *node, const Rn__Inventory *m)
{
    if (!c->assets || !node_allowed(c, node, m))
        return;
    int rc = rn_assets_observe(c->assets, node, m, rn_clock_wall_ms());
    if (rc < 0)
        rn_warn("node %s: inventory of %s not kept: %s", node, m->device, rn_strerror(rc));
    else if (rc == 1)
        rn_info("node %s: inventory of %s%s%s: %zu entities", node, m->node ? m->node : "",
                m->node ? "/" : "", m->device, m->n_entities);
    if (rc >= 0 && c->events) /* a repeat too: its time is when the device was last seen */
        store_inventory(c, node, m);
}

void rn_collector_assets_free(rn_collector_t *c)
{
    rn_assets_free(c->assets);
    c->assets = NULL;
}
