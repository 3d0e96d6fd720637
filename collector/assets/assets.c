/* The asset register (collector/assets/assets.h): devices in an array sorted by (node, device), the
 * asset file with two sorted indexes (by serial, by node and device) for the join, and the alarms
 * up now in a list. A state has a few thousand devices; an inventory arrives once a day per
 * device, so a sorted array with memmove on insert is plenty. */
#include "assets/assets.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *node, *device, *sys_descr, *sys_object_id;
    int64_t updated_ms;
    rn_asset_entity_t *ents;
    size_t n_ents;
    rn_asset_replaced_t repl[RN_ASSETS_MAX_REPLACED];
    size_t n_repl;
} asset_dev_t;

typedef struct alarm_rec {
    struct alarm_rec *next;
    rn_asset_alarm_t a;
    int64_t clear_at;   /* replaced: when it clears itself */
    bool mark;          /* contract: still due at this tick */
} alarm_rec_t;

struct rn_assets {
    rn_asset_alarm_fn fn;
    void *ctx;
    rn_asset_replaced_fn repl_fn; /* persistence of replacements (rn_assets_on_replaced) */
    void *repl_ctx;
    asset_dev_t **devs;
    size_t n_devs, cap_devs;
    rn_asset_file_t *file;
    const rn_asset_entry_t **by_serial, **by_dev; /* file entries with a serial / node+device */
    size_t n_by_serial, n_by_dev;
    alarm_rec_t *alarms;
};

static const char *nz(const char *s)
{
    return s ? s : "";
}

static char *dup0(const char *s)
{
    return strdup(s ? s : "");
}

int rn_assets_new(rn_asset_alarm_fn fn, void *ctx, rn_assets_t **out)
{
    rn_assets_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->fn = fn, r->ctx = ctx;
    *out = r;
    return 0;
}

/* Frees an entity's strings. Returns nothing. */
static void entity_free(rn_asset_entity_t *e)
{
    free(e->descr), free(e->name), free(e->hw_rev), free(e->fw_rev), free(e->sw_rev);
    free(e->serial), free(e->mfg), free(e->model);
}

static void replaced_free(rn_asset_replaced_t *x)
{
    free(x->name), free(x->model), free(x->old_serial), free(x->new_serial);
}

static void dev_free(asset_dev_t *d)
{
    for (size_t i = 0; i < d->n_ents; i++)
        entity_free(&d->ents[i]);
    for (size_t i = 0; i < d->n_repl; i++)
        replaced_free(&d->repl[i]);
    free(d->ents), free(d->node), free(d->device), free(d->sys_descr), free(d->sys_object_id);
    free(d);
}

static void alarm_rec_free(alarm_rec_t *x)
{
    free(x->a.entity), free(x->a.node), free(x->a.text), free(x);
}

void rn_assets_free(rn_assets_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_devs; i++)
        dev_free(r->devs[i]);
    for (alarm_rec_t *a = r->alarms, *n; a; a = n) {
        n = a->next;
        alarm_rec_free(a);
    }
    free(r->devs), free(r->by_serial), free(r->by_dev);
    rn_asset_file_free(r->file);
    free(r);
}

/* ---- the file and its indexes -------------------------------------------------------------- */

static int cmp_serial(const void *a, const void *b)
{
    return strcmp((*(const rn_asset_entry_t *const *)a)->serial,
                  (*(const rn_asset_entry_t *const *)b)->serial);
}

static int cmp_nd(const char *n1, const char *d1, const char *n2, const char *d2)
{
    int c = strcmp(n1, n2);
    return c ? c : strcmp(d1, d2);
}

static int cmp_dev_entry(const void *a, const void *b)
{
    const rn_asset_entry_t *x = *(const rn_asset_entry_t *const *)a;
    const rn_asset_entry_t *y = *(const rn_asset_entry_t *const *)b;
    return cmp_nd(x->node, x->device, y->node, y->device);
}

void rn_assets_set_file(rn_assets_t *r, rn_asset_file_t *file)
{
    rn_asset_file_free(r->file);
    free(r->by_serial), free(r->by_dev);
    r->file = file;
    r->by_serial = r->by_dev = NULL;
    r->n_by_serial = r->n_by_dev = 0;
    size_t n = file ? file->n : 0;
    if (!n || !(r->by_serial = calloc(n, sizeof *r->by_serial)) ||
        !(r->by_dev = calloc(n, sizeof *r->by_dev)))
        return; /* out of memory: the join finds nothing, every device is a discrepancy */
    for (size_t i = 0; i < n; i++) {
        const rn_asset_entry_t *e = &file->v[i];
        if (e->serial)
            r->by_serial[r->n_by_serial++] = e;
        else /* node and device: an entry with a serial is joined by its serial only */
            r->by_dev[r->n_by_dev++] = e;
    }
    qsort(r->by_serial, r->n_by_serial, sizeof *r->by_serial, cmp_serial);
    qsort(r->by_dev, r->n_by_dev, sizeof *r->by_dev, cmp_dev_entry);
}

/* Returns the file entry with this serial, or NULL. */
static const rn_asset_entry_t *entry_by_serial(const rn_assets_t *r, const char *serial)
{
    size_t lo = 0, hi = r->n_by_serial;
    while (serial && serial[0] && lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(serial, r->by_serial[mid]->serial);
        if (c == 0)
            return r->by_serial[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Returns the file entry naming this node and device (without a serial), or NULL. */
static const rn_asset_entry_t *entry_by_dev(const rn_assets_t *r, const char *node,
                                            const char *device)
{
    size_t lo = 0, hi = r->n_by_dev;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_nd(node, device, r->by_dev[mid]->node, r->by_dev[mid]->device);
        if (c == 0)
            return r->by_dev[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The entry a device joins: the chassis serial's first, then any entity's, then its name. */
static const rn_asset_entry_t *device_entry(const rn_assets_t *r, const asset_dev_t *d)
{
    const rn_asset_entry_t *e = NULL;
    for (size_t i = 0; i < d->n_ents && !e; i++)
        if (d->ents[i].klass == 3)
            e = entry_by_serial(r, d->ents[i].serial);
    for (size_t i = 0; i < d->n_ents && !e; i++)
        e = entry_by_serial(r, d->ents[i].serial);
    return e ? e : entry_by_dev(r, d->node, d->device);
}

/* ---- alarms -------------------------------------------------------------------------------- */

/* Opens an alarm up since since_ms and tells the callback. Returns it, or NULL when out of
 * memory. */
static alarm_rec_t *alarm_raise(rn_assets_t *r, rn_asset_alarm_kind_t kind, const char *entity,
                                const char *node, const char *text, int64_t since_ms,
                                int64_t now_ms)
{
    alarm_rec_t *x = calloc(1, sizeof *x);
    if (!x || !(x->a.entity = strdup(entity)) || !(x->a.text = strdup(text)) ||
        (node && !(x->a.node = strdup(node)))) {
        if (x)
            alarm_rec_free(x);
        return NULL;
    }
    x->a.kind = kind;
    x->a.since_ms = since_ms;
    x->next = r->alarms;
    r->alarms = x;
    if (r->fn)
        r->fn(r->ctx, true, &x->a, now_ms);
    return x;
}

/* Unlinks every alarm for which keep() is false, telling the callback. Returns nothing. */
static void alarm_sweep(rn_assets_t *r, bool (*keep)(const alarm_rec_t *x, int64_t now),
                        int64_t now_ms)
{
    for (alarm_rec_t **p = &r->alarms; *p;) {
        alarm_rec_t *x = *p;
        if (keep(x, now_ms)) {
            p = &x->next;
            continue;
        }
        *p = x->next;
        if (r->fn)
            r->fn(r->ctx, false, &x->a, now_ms);
        alarm_rec_free(x);
    }
}

static bool keep_alarm(const alarm_rec_t *x, int64_t now)
{
    return x->a.kind == RN_ASSET_ALARM_REPLACED ? now < x->clear_at : x->mark;
}

/* Returns the node of the device that reports serial, or NULL. */
static const char *node_of_serial(const rn_assets_t *r, const char *serial)
{
    for (size_t i = 0; serial && i < r->n_devs; i++)
        for (size_t k = 0; k < r->devs[i]->n_ents; k++)
            if (strcmp(r->devs[i]->ents[k].serial, serial) == 0)
                return r->devs[i]->node;
    return NULL;
}

/* Judges one contract of entry e: keeps or raises its alarm when it ends within the warning
 * time (or has ended). Returns nothing. */
static void judge_contract(rn_assets_t *r, const rn_asset_entry_t *e, bool amc, int64_t now_ms)
{
    int64_t end = amc ? e->amc_end_ms : e->warranty_end_ms;
    if (!end || end - now_ms > RN_ASSETS_EXPIRY_WARN_DAYS * 86400000LL)
        return;
    char entity[600], text[1024], when[48];
    if (e->serial)
        snprintf(entity, sizeof entity, "asset:%s:%s", e->serial, amc ? "amc" : "warranty");
    else
        snprintf(entity, sizeof entity, "asset:%s/%s:%s", e->node, e->device,
                 amc ? "amc" : "warranty");
    for (alarm_rec_t *x = r->alarms; x; x = x->next)
        if (x->a.kind == RN_ASSET_ALARM_CONTRACT && strcmp(x->a.entity, entity) == 0) {
            x->mark = true;
            return;
        }
    int64_t left = end - now_ms, days = (left + 86399999) / 86400000; /* days, rounded up */
    if (left > 0)
        snprintf(when, sizeof when, "in %" PRId64 " days", days);
    else
        snprintf(when, sizeof when, "ended %" PRId64 " days ago", (int64_t)(-left / 86400000LL));
    const char *node = e->node ? e->node : node_of_serial(r, e->serial);
    snprintf(text, sizeof text, "%s of %s%s%s%s%s ends %s (%s)%s%s", amc ? "AMC" : "warranty",
             e->description ? e->description : "an asset", e->serial ? ", serial " : "",
             nz(e->serial), node ? " at " : "", nz(node), amc ? e->amc_end : e->warranty_end,
             when, amc && e->amc_vendor ? ", AMC vendor " : "", amc ? nz(e->amc_vendor) : "");
    alarm_rec_t *x = alarm_raise(r, RN_ASSET_ALARM_CONTRACT, entity, node, text, now_ms, now_ms);
    if (x)
        x->mark = true;
}

void rn_assets_tick(rn_assets_t *r, int64_t now_ms)
{
    for (alarm_rec_t *x = r->alarms; x; x = x->next)
        x->mark = false;
    for (size_t i = 0; r->file && i < r->file->n; i++) {
        judge_contract(r, &r->file->v[i], true, now_ms);
        judge_contract(r, &r->file->v[i], false, now_ms);
    }
    alarm_sweep(r, keep_alarm, now_ms);
}

size_t rn_assets_alarms(const rn_assets_t *r, void (*fn)(void *ctx, const rn_asset_alarm_t *a),
                        void *ctx)
{
    size_t n = 0;
    for (const alarm_rec_t *x = r->alarms; x; x = x->next, n++)
        fn(ctx, &x->a);
    return n;
}

/* ---- inventories --------------------------------------------------------------------------- */

/* Returns the position of (node, device) in r->devs, or where it would go (*found false). */
static size_t dev_find(const rn_assets_t *r, const char *node, const char *device, bool *found)
{
    size_t lo = 0, hi = r->n_devs;
    *found = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_nd(node, device, r->devs[mid]->node, r->devs[mid]->device);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Returns true if the device holds exactly what msg says (a repeat). */
static bool same_inventory(const asset_dev_t *d, const Rn__Inventory *m)
{
    if (d->n_ents != m->n_entities || strcmp(d->sys_descr, nz(m->sys_descr)) ||
        strcmp(d->sys_object_id, nz(m->sys_object_id)))
        return false;
    for (size_t i = 0; i < d->n_ents; i++) {
        const rn_asset_entity_t *a = &d->ents[i];
        const Rn__PhysicalEntity *b = m->entities[i];
        if (a->index != b->index || a->klass != b->ent_class || strcmp(a->serial, nz(b->serial)) ||
            strcmp(a->model, nz(b->model)) || strcmp(a->name, nz(b->name)) ||
            strcmp(a->descr, nz(b->descr)) || strcmp(a->hw_rev, nz(b->hw_rev)) ||
            strcmp(a->fw_rev, nz(b->fw_rev)) || strcmp(a->sw_rev, nz(b->sw_rev)) ||
            strcmp(a->mfg, nz(b->mfg)) || a->contained_in != b->contained_in)
            return false;
    }
    return true;
}

/* Copies msg's entities into a new array. Returns it (n in *n), NULL when out of memory. */
static rn_asset_entity_t *copy_entities(const Rn__Inventory *m)
{
    rn_asset_entity_t *v = calloc(m->n_entities ? m->n_entities : 1, sizeof *v);
    bool ok = v != NULL;
    for (size_t i = 0; ok && i < m->n_entities; i++) {
        const Rn__PhysicalEntity *b = m->entities[i];
        rn_asset_entity_t *a = &v[i];
        a->index = b->index, a->klass = b->ent_class, a->contained_in = b->contained_in;
        ok = (a->descr = dup0(b->descr)) && (a->name = dup0(b->name)) &&
             (a->hw_rev = dup0(b->hw_rev)) && (a->fw_rev = dup0(b->fw_rev)) &&
             (a->sw_rev = dup0(b->sw_rev)) && (a->serial = dup0(b->serial)) &&
             (a->mfg = dup0(b->mfg)) && (a->model = dup0(b->model));
    }
    if (!ok && v) {
        for (size_t i = 0; i < m->n_entities; i++)
            entity_free(&v[i]);
        free(v);
        v = NULL;
    }
    return v;
}

void rn_assets_on_replaced(rn_assets_t *r, rn_asset_replaced_fn fn, void *ctx)
{
    r->repl_fn = fn, r->repl_ctx = ctx;
}

/* Appends a copy of x to d's history, the oldest going when it is full. Returns the copy, or NULL
 * when out of memory. */
static rn_asset_replaced_t *history_add(asset_dev_t *d, const rn_asset_replaced_t *x)
{
    if (d->n_repl == RN_ASSETS_MAX_REPLACED) {
        replaced_free(&d->repl[0]);
        memmove(&d->repl[0], &d->repl[1], (RN_ASSETS_MAX_REPLACED - 1) * sizeof d->repl[0]);
        d->n_repl--;
    }
    rn_asset_replaced_t *c = &d->repl[d->n_repl];
    c->at_ms = x->at_ms, c->index = x->index;
    c->name = dup0(x->name), c->model = dup0(x->model);
    c->old_serial = dup0(x->old_serial), c->new_serial = dup0(x->new_serial);
    if (!c->name || !c->model || !c->old_serial || !c->new_serial) {
        replaced_free(c), memset(c, 0, sizeof *c);
        return NULL;
    }
    d->n_repl++;
    return c;
}

/* Raises the "device replaced" alarm of replacement x at d, up since x->at_ms until
 * RN_ASSETS_REPLACED_HOLD_MS later. The slot's alarm of an earlier replacement, if still up, is
 * cleared first: its text names serials that are no longer the news. Returns nothing. */
static void raise_replaced(rn_assets_t *r, const asset_dev_t *d, const rn_asset_replaced_t *x,
                           int64_t now_ms)
{
    char entity[600], text[1200];
    bool up = false;
    snprintf(entity, sizeof entity, "asset:%s/%s:%" PRIu32, d->node, d->device, x->index);
    for (alarm_rec_t *a = r->alarms; a; a = a->next)
        if (a->a.kind == RN_ASSET_ALARM_REPLACED && strcmp(a->a.entity, entity) == 0)
            a->clear_at = INT64_MIN, up = true;
    if (up) /* contract alarms keep their mark from the last tick: only this one goes */
        alarm_sweep(r, keep_alarm, now_ms);
    snprintf(text, sizeof text, "device replaced at %s/%s: %s%s%s (index %" PRIu32 ") serial %s, "
             "was %s", d->node, d->device, x->name, x->model[0] ? ", " : "", x->model, x->index,
             x->new_serial, x->old_serial);
    alarm_rec_t *a = alarm_raise(r, RN_ASSET_ALARM_REPLACED, entity, d->node, text, x->at_ms,
                                 now_ms);
    if (a)
        a->clear_at = x->at_ms + RN_ASSETS_REPLACED_HOLD_MS;
}

/* Records a replacement at old's slot, hands it to the persistence callback and raises its
 * alarm. Returns nothing. */
static void replaced(rn_assets_t *r, asset_dev_t *d, const rn_asset_entity_t *old,
                     const rn_asset_entity_t *now_e, int64_t now_ms)
{
    rn_asset_replaced_t x = { now_ms, now_e->index, now_e->name[0] ? now_e->name : now_e->descr,
                              now_e->model, old->serial, now_e->serial };
    history_add(d, &x); /* out of memory: the alarm still tells */
    if (r->repl_fn)
        r->repl_fn(r->repl_ctx, d->node, d->device, &x);
    raise_replaced(r, d, &x, now_ms);
}

/* Compares old and new entities slot by slot for serial changes. Returns nothing. */
static void find_replacements(rn_assets_t *r, asset_dev_t *d, const rn_asset_entity_t *ov,
                              size_t n_old, const rn_asset_entity_t *nv, size_t n, int64_t now_ms)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) { /* both sorted by index (the wire says so) */
        while (j < n_old && ov[j].index < nv[i].index)
            j++;
        if (j < n_old && ov[j].index == nv[i].index && ov[j].serial[0] && nv[i].serial[0] &&
            strcmp(ov[j].serial, nv[i].serial) != 0)
            replaced(r, d, &ov[j], &nv[i], now_ms);
    }
}

/* Frees n entities and their array. Returns nothing. */
static void entities_free(rn_asset_entity_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        entity_free(&v[i]);
    free(v);
}

/* Makes room for a new device (node, device) at pos. Returns it, or NULL (-ENOMEM or -ENOSPC in
 * *rc). */
static asset_dev_t *dev_insert(rn_assets_t *r, size_t pos, const char *node, const char *device,
                               int *rc)
{
    asset_dev_t *d = NULL;
    *rc = -ENOSPC;
    if (r->n_devs >= RN_ASSETS_MAX_DEVICES)
        return NULL;
    *rc = -ENOMEM;
    if (r->n_devs == r->cap_devs) {
        size_t cap = r->cap_devs ? 2 * r->cap_devs : 16;
        asset_dev_t **v = realloc(r->devs, cap * sizeof *v);
        if (!v)
            return NULL;
        r->devs = v, r->cap_devs = cap;
    }
    if (!(d = calloc(1, sizeof *d)) || !(d->node = strdup(node)) ||
        !(d->device = strdup(device))) {
        if (d)
            free(d->node), free(d);
        return NULL;
    }
    memmove(&r->devs[pos + 1], &r->devs[pos], (r->n_devs - pos) * sizeof *r->devs);
    r->devs[pos] = d;
    r->n_devs++;
    *rc = 0;
    return d;
}

/* Absorbs an inventory: a report (restore false) or one read back from the store (restore true:
 * quiet for a new device; for a device a report came in for first, the stored one is the older
 * and is compared against it). Returns as rn_assets_observe. */
static int absorb(rn_assets_t *r, const char *agent_node, const Rn__Inventory *msg, bool restore,
                  int64_t now_ms)
{
    const char *node = msg->node && msg->node[0] ? msg->node : agent_node;
    bool found;
    int rc = 0;
    size_t pos = dev_find(r, node, msg->device, &found);
    asset_dev_t *d = found ? r->devs[pos] : NULL;
    if (d && !restore && same_inventory(d, msg)) {
        d->updated_ms = msg->time_ms;
        return 0;
    }
    char *descr = dup0(msg->sys_descr), *oid = dup0(msg->sys_object_id);
    rn_asset_entity_t *nv = copy_entities(msg);
    if (!descr || !oid || !nv)
        rc = -ENOMEM;
    else if (d && restore) /* the stored inventory is the older one */
        find_replacements(r, d, nv, msg->n_entities, d->ents, d->n_ents, now_ms);
    else if (d)
        find_replacements(r, d, d->ents, d->n_ents, nv, msg->n_entities, now_ms);
    else
        d = dev_insert(r, pos, node, msg->device, &rc);
    if (rc < 0 || (found && restore)) {
        entities_free(nv, nv ? msg->n_entities : 0);
        free(descr), free(oid);
        return rc;
    }
    entities_free(d->ents, d->n_ents);
    free(d->sys_descr), free(d->sys_object_id);
    d->ents = nv, d->n_ents = msg->n_entities;
    d->sys_descr = descr, d->sys_object_id = oid;
    d->updated_ms = msg->time_ms;
    return 1;
}

int rn_assets_observe(rn_assets_t *r, const char *agent_node, const Rn__Inventory *msg,
                      int64_t now_ms)
{
    return absorb(r, agent_node, msg, false, now_ms);
}

int rn_assets_restore(rn_assets_t *r, const char *node, const Rn__Inventory *msg,
                      int64_t now_ms)
{
    return absorb(r, node, msg, true, now_ms);
}

int rn_assets_restore_replaced(rn_assets_t *r, const char *node, const char *device,
                               const rn_asset_replaced_t *x, int64_t now_ms)
{
    bool found;
    size_t pos = dev_find(r, node, device, &found);
    if (!found)
        return -ENOENT;
    if (!history_add(r->devs[pos], x))
        return -ENOMEM;
    if (now_ms < x->at_ms + RN_ASSETS_REPLACED_HOLD_MS)
        raise_replaced(r, r->devs[pos], x, now_ms);
    return 0;
}

/* ---- listing ------------------------------------------------------------------------------- */

size_t rn_assets_foreach(const rn_assets_t *r, void (*fn)(void *ctx, const rn_asset_row_t *row),
                         void *ctx)
{
    size_t n_file = r->file ? r->file->n : 0, rows = 0;
    bool *seen = calloc(n_file ? n_file : 1, sizeof *seen);
    for (size_t i = 0; i < r->n_devs; i++, rows++) {
        const asset_dev_t *d = r->devs[i];
        rn_asset_row_t row = { d->node, d->device, d->sys_descr, d->sys_object_id, "", "",
                               d->updated_ms, d->ents, d->n_ents, d->repl, d->n_repl, NULL,
                               NULL };
        for (size_t k = 0; k < d->n_ents && !row.serial[0]; k++)
            if (d->ents[k].klass == 3 && d->ents[k].serial[0])
                row.model = d->ents[k].model, row.serial = d->ents[k].serial;
        for (size_t k = 0; k < d->n_ents && !row.serial[0]; k++)
            if (d->ents[k].serial[0])
                row.model = d->ents[k].model, row.serial = d->ents[k].serial;
        row.entry = device_entry(r, d);
        if (!row.entry)
            row.discrepancy = "not_in_file";
        else if (seen)
            seen[row.entry - r->file->v] = true;
        /* every other serial the device reports also counts as seen */
        for (size_t k = 0; seen && k < d->n_ents; k++) {
            const rn_asset_entry_t *e = entry_by_serial(r, d->ents[k].serial);
            if (e)
                seen[e - r->file->v] = true;
        }
        fn(ctx, &row);
    }
    for (size_t i = 0; seen && i < n_file; i++) {
        if (seen[i])
            continue;
        const rn_asset_entry_t *e = &r->file->v[i];
        rn_asset_row_t row = { e->node, e->device, "", "", "", nz(e->serial), 0, NULL, 0, NULL,
                               0, e, "not_reported" };
        fn(ctx, &row);
        rows++;
    }
    free(seen);
    return rows;
}
