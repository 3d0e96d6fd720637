/* GET /api/v1/assets: the asset register (collector/assets/assets.h) as JSON or CSV (docs/api.md).
 *
 * Filters, all optional and combined with AND: district (the first segment of the node id),
 * node (that node and its subtree), department, amc_vendor (exact), expiring_within (days: AMC
 * or warranty ends within that many days from now, or has ended), discrepancy (1: only rows that
 * are one, 0: only rows that are not). format=csv gives one row per asset without the entities
 * (for a spreadsheet), otherwise JSON with every entity and replacement. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "assets/assets.h"
#include "report/csv.h"
#include "http/http_int.h"

typedef struct {
    const char *district, *node, *department, *amc_vendor;
    int64_t expiring_ms;  /* -1: no filter; else a contract ends before now + this */
    int discrepancy;      /* -1 any, 0 none, 1 only */
    int64_t now;
    json_t *rows;         /* JSON */
    FILE *csv;            /* CSV */
    size_t n;
} q_t;

/* Returns true if node id n is node or under it. */
static bool under(const char *n, const char *node)
{
    size_t k = strlen(node);
    return n && strncmp(n, node, k) == 0 && (n[k] == '\0' || n[k] == '/');
}

/* Returns true if the row passes every filter of q. */
static bool wanted(const q_t *q, const rn_asset_row_t *w)
{
    const rn_asset_entry_t *e = w->entry;
    if (q->district) {
        size_t k = strlen(q->district);
        if (!w->node || strncmp(w->node, q->district, k) || (w->node[k] && w->node[k] != '/'))
            return false;
    }
    if (q->node && !under(w->node, q->node))
        return false;
    if (q->department && (!e || !e->department || strcmp(e->department, q->department)))
        return false;
    if (q->amc_vendor && (!e || !e->amc_vendor || strcmp(e->amc_vendor, q->amc_vendor)))
        return false;
    if (q->expiring_ms >= 0) {
        int64_t lim = q->now + q->expiring_ms;
        if (!e || !((e->amc_end_ms && e->amc_end_ms <= lim) ||
                    (e->warranty_end_ms && e->warranty_end_ms <= lim)))
            return false;
    }
    if (q->discrepancy >= 0 && (w->discrepancy != NULL) != (q->discrepancy == 1))
        return false;
    return true;
}

/* Returns a JSON string, or null for NULL/"". */
static json_t *jstr(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *entry_json(const rn_asset_entry_t *e)
{
    if (!e)
        return json_null();
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:i}", "serial", jstr(e->serial),
                     "node", jstr(e->node), "device", jstr(e->device), "description",
                     jstr(e->description), "department", jstr(e->department),
                     "purchase_order", jstr(e->purchase_order), "supplier", jstr(e->supplier),
                     "amc_vendor", jstr(e->amc_vendor), "amc_end", jstr(e->amc_end), "line",
                     e->line);
}

static json_t *row_json(const rn_asset_row_t *w)
{
    json_t *ents = json_array(), *repl = json_array();
    for (size_t i = 0; i < w->n_entities; i++) {
        const rn_asset_entity_t *x = &w->entities[i];
        json_array_append_new(ents, json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
            "index", (json_int_t)x->index, "class", (json_int_t)x->klass, "contained_in",
            (json_int_t)x->contained_in, "descr", jstr(x->descr), "name", jstr(x->name),
            "model", jstr(x->model), "serial", jstr(x->serial), "hw_rev", jstr(x->hw_rev),
            "fw_rev", jstr(x->fw_rev), "sw_rev", jstr(x->sw_rev), "mfg", jstr(x->mfg)));
    }
    for (size_t i = w->n_replaced; i-- > 0;) { /* newest first */
        const rn_asset_replaced_t *x = &w->replaced[i];
        json_array_append_new(repl, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}", "at_ms",
            (json_int_t)x->at_ms, "index", (json_int_t)x->index, "name", x->name, "model",
            x->model, "old_serial", x->old_serial, "new_serial", x->new_serial));
    }
    json_t *j = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "node", jstr(w->node),
                          "device", jstr(w->device), "sys_descr", jstr(w->sys_descr),
                          "sys_object_id", jstr(w->sys_object_id), "model", jstr(w->model),
                          "serial", jstr(w->serial), "entities", ents, "replaced", repl,
                          "entry", entry_json(w->entry), "discrepancy", jstr(w->discrepancy));
    if (j) {
        json_object_set_new(j, "updated_ms", w->updated_ms ? json_integer(w->updated_ms)
                                                           : json_null());
        json_object_set_new(j, "warranty_end",
                            jstr(w->entry ? w->entry->warranty_end : NULL));
    }
    return j;
}

static void on_row(void *ctx, const rn_asset_row_t *w)
{
    q_t *q = ctx;
    if (!wanted(q, w))
        return;
    q->n++;
    if (q->rows) {
        json_array_append_new(q->rows, row_json(w));
        return;
    }
    const rn_asset_entry_t *e = w->entry;
    char last[96] = "";
    if (w->n_replaced)
        snprintf(last, sizeof last, "%s -> %s", w->replaced[w->n_replaced - 1].old_serial,
                 w->replaced[w->n_replaced - 1].new_serial);
    const char *v[] = { w->node, w->device, w->model, w->serial, w->sys_object_id,
                        e ? e->department : NULL, e ? e->purchase_order : NULL,
                        e ? e->supplier : NULL, e ? e->amc_vendor : NULL,
                        e ? e->amc_end : NULL, e ? e->warranty_end : NULL,
                        e ? e->description : NULL, w->discrepancy, last };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        rn_csv_field(q->csv, v[i]);
        putc(i + 1 == sizeof v / sizeof v[0] ? '\n' : ',', q->csv);
    }
}

/* Reads the filters into q. Returns false after replying 400. */
static bool read_filters(rn_http_req_t *r, q_t *q)
{
    int64_t days, disc;
    q->district = rn__http_arg(r, "district");
    q->node = rn__http_arg(r, "node");
    q->department = rn__http_arg(r, "department");
    q->amc_vendor = rn__http_arg(r, "amc_vendor");
    if (!rn__http_arg_int(r, "expiring_within", -1, 0, 36500, &days) ||
        !rn__http_arg_int(r, "discrepancy", -1, 0, 1, &disc))
        return false;
    q->expiring_ms = days < 0 ? -1 : days * 86400000LL;
    q->discrepancy = (int)disc;
    q->now = rn_clock_wall_ms();
    return true;
}

/* GET /api/v1/assets: the register's rows, filtered, as JSON or CSV, with its alarms. */
static void api_assets(rn_http_req_t *r, const char *arg)
{
    static const char *const allowed[] = { "district", "node", "department", "amc_vendor",
                                           "expiring_within", "discrepancy", "format", NULL };
    (void)arg;
    if (!rn__http_args_only(r, allowed))
        return;
    q_t q = { 0 };
    if (!read_filters(r, &q))
        return;
    const char *format = rn__http_arg(r, "format");
    if (format && strcmp(format, "csv") && strcmp(format, "json"))
        return rn__http_error(r, 400, "format: '%.40s' is not csv or json", format);
    const rn_assets_t *reg = rn__http_assets(r->http);
    if (format && strcmp(format, "csv") == 0) {
        char *buf = NULL;
        size_t len = 0;
        if (!(q.csv = rn__http_text_open(&buf, &len)))
            return rn__http_error(r, 503, "out of memory");
        fputs("node,device,model,serial,sys_object_id,department,purchase_order,supplier,"
              "amc_vendor,amc_end,warranty_end,description,discrepancy,last_replaced\n", q.csv);
        if (reg)
            rn_assets_foreach(reg, on_row, &q);
        if (fclose(q.csv) != 0) {
            free(buf);
            return rn__http_error(r, 503, "out of memory");
        }
        return rn__http_reply(r, 200, "text/csv; charset=utf-8", buf, len);
    }
    if (!(q.rows = json_array()))
        return rn__http_error(r, 503, "out of memory");
    if (reg)
        rn_assets_foreach(reg, on_row, &q);
    json_t *alarms = json_array();
    rn__api_asset_alarms(reg, alarms);
    rn__http_json(r, 200, json_pack("{s:o,s:I,s:o,s:I,s:I}", "assets", q.rows, "count",
                                    (json_int_t)q.n, "alarms", alarms, "expiry_warn_days",
                                    (json_int_t)RN_ASSETS_EXPIRY_WARN_DAYS,
                                    "inventories_dropped",
                                    (json_int_t)rn__http_assets_foreign(r->http)));
}

static void on_alarm(void *ctx, const rn_asset_alarm_t *a)
{
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:o,s:s,s:I}", "id", (json_int_t)a->id,
        "type", a->kind == RN_ASSET_ALARM_REPLACED ? "device_replaced" : "contract_expiring",
        "entity", a->entity, "node", jstr(a->node), "text", a->text, "since_ms",
        (json_int_t)a->since_ms));
}

void rn__api_asset_alarms(const rn_assets_t *reg, json_t *out)
{
    if (reg && out)
        rn_assets_alarms(reg, on_alarm, out);
}

const rn_http_route_t rn_api_assets_routes[] = {
    { "GET", "/api/v1/assets", false, api_assets },
    { NULL, NULL, false, NULL },
};
