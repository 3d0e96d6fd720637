/* The asset file: a schema table per entry (lib/yamldoc.h), then the checks that span fields
 * (a key given, dates that are dates, a serial or device listed once). */
#include "assets/asset_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "yamldoc.h"

typedef struct {
    char *serial, *node, *device, *description, *department, *purchase_order, *supplier;
    char *amc_vendor, *amc_end, *warranty_end;
} raw_entry_t;

#define F(k, m) { k, RN_YF_STR, false, offsetof(raw_entry_t, m), 0, 0 }
static const rn_yaml_field_t entry_fields[] = {
    F("serial", serial),         F("node", node),
    F("device", device),         F("description", description),
    F("department", department), F("purchase_order", purchase_order),
    F("supplier", supplier),     F("amc_vendor", amc_vendor),
    F("amc_end", amc_end),       F("warranty_end", warranty_end),
};
#undef F

int rn_asset_date_parse(const char *s, int64_t *end_ms)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d, n = 0;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-')
        return -EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return -EINVAL;
    /* days since 1970-01-01 (civil calendar, H. Hinnant's days_from_civil) */
    int yy = y - (m <= 2);
    int era = yy / 400, yoe = yy - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *end_ms = (days + 1) * 86400000LL;
    return 0;
}

/* Moves the strings of raw into e, checks the keys and dates. Returns y->rc. */
static int take_entry(rn_yaml_t *y, const yaml_node_t *node, const char *where, raw_entry_t *raw,
                      rn_asset_entry_t *e)
{
    e->serial = raw->serial, e->node = raw->node, e->device = raw->device;
    e->description = raw->description, e->department = raw->department;
    e->purchase_order = raw->purchase_order, e->supplier = raw->supplier;
    e->amc_vendor = raw->amc_vendor;
    e->line = rn_yaml_line(node);
    const char *dates[2] = { raw->amc_end, raw->warranty_end };
    char *text[2] = { e->amc_end, e->warranty_end };
    int64_t *ms[2] = { &e->amc_end_ms, &e->warranty_end_ms };
    for (int i = 0; i < 2; i++) {
        if (dates[i] && rn_asset_date_parse(dates[i], ms[i]) != 0)
            rn_yaml_fail(y, node, where, "%s: '%.40s' is not a date YYYY-MM-DD",
                         i ? "warranty_end" : "amc_end", dates[i]);
        else if (dates[i])
            memcpy(text[i], dates[i], 11);
    }
    free(raw->amc_end), free(raw->warranty_end);
    if (!e->serial && !(e->node && e->device))
        rn_yaml_fail(y, node, where, "needs a serial, or a node and a device");
    if ((e->node != NULL) != (e->device != NULL) && !e->serial)
        rn_yaml_fail(y, node, where, "node and device go together");
    return y->rc;
}

/* Refuses an entry whose serial, or node and device, an earlier one already names. Returns
 * y->rc. */
static int check_unique(rn_yaml_t *y, const yaml_node_t *node, const char *where,
                        const rn_asset_file_t *f)
{
    const rn_asset_entry_t *e = &f->v[f->n];
    for (size_t i = 0; i < f->n && y->rc == 0; i++) {
        const rn_asset_entry_t *o = &f->v[i];
        if (e->serial && o->serial && strcmp(e->serial, o->serial) == 0)
            rn_yaml_fail(y, node, where, "serial %.64s is listed already at line %d", e->serial,
                         o->line);
        else if (!e->serial && !o->serial && strcmp(e->node, o->node) == 0 &&
                 strcmp(e->device, o->device) == 0)
            rn_yaml_fail(y, node, where, "device %.64s/%.64s is listed already at line %d",
                         e->node, e->device, o->line);
    }
    return y->rc;
}

/* Reads the document's `assets` sequence into f. Returns y->rc. */
static int read_assets(rn_yaml_t *y, rn_asset_file_t *f)
{
    yaml_node_t *root = rn_yaml_root(y), *seq = NULL;
    static const rn_yaml_field_t top[] = {
        { "assets", RN_YF_NODE, true, 0, 0, 0 },
    };
    if (!root || rn_yaml_read_map(y, root, "", top, 1, &seq) != 0)
        return y->rc ? y->rc : RN_ESCHEMA;
    if (!rn_yaml_is_seq(y, seq, "assets"))
        return y->rc;
    size_t n = rn_yaml_seq_len(seq);
    if (n > RN_ASSET_MAX_ENTRIES)
        return rn_yaml_fail(y, seq, "assets", "%zu entries, at most %d", n, RN_ASSET_MAX_ENTRIES);
    if (!(f->v = calloc(n ? n : 1, sizeof *f->v)))
        return -ENOMEM;
    for (size_t i = 0; i < n && y->rc == 0; i++) {
        char where[32];
        snprintf(where, sizeof where, "assets[%zu]", i);
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        raw_entry_t raw = { 0 };
        if (!item || !rn_yaml_is_map(y, item, where))
            break;
        int rc = rn_yaml_read_map(y, item, where, entry_fields,
                                  sizeof entry_fields / sizeof entry_fields[0], &raw);
        rn_asset_entry_t *e = &f->v[f->n];
        if (rc != 0) { /* free what was read before the error */
            char **s = (char **)&raw;
            for (size_t k = 0; k < sizeof raw / sizeof(char *); k++)
                free(s[k]);
            break;
        }
        take_entry(y, item, where, &raw, e);
        if (y->rc == 0)
            check_unique(y, item, where, f);
        f->n++; /* owned by f from here, also on error */
    }
    return y->rc;
}

/* Shared tail of load and parse: reads y into a new file. Returns 0 or the error. */
static int finish(rn_yaml_t *y, int rc, rn_asset_file_t **out)
{
    rn_asset_file_t *f = NULL;
    if (rc == 0 && !(f = calloc(1, sizeof *f)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = read_assets(y, f);
    rn_yaml_free(y);
    if (rc != 0) {
        rn_asset_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int rn_asset_file_load(const char *path, rn_asset_file_t **out, char *err, size_t err_len)
{
    rn_yaml_t y;
    int rc = rn_yaml_load(&y, path, err, err_len);
    return finish(&y, rc, out);
}

int rn_asset_file_parse(const char *name, const uint8_t *buf, size_t len, rn_asset_file_t **out,
                        char *err, size_t err_len)
{
    rn_yaml_t y;
    int rc = rn_yaml_load_buffer(&y, name, buf, len, err, err_len);
    return finish(&y, rc, out);
}

void rn_asset_file_free(rn_asset_file_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        rn_asset_entry_t *e = &f->v[i];
        free(e->serial), free(e->node), free(e->device), free(e->description);
        free(e->department), free(e->purchase_order), free(e->supplier), free(e->amc_vendor);
    }
    free(f->v);
    free(f);
}
