/* SNMP extra OIDs: a device's extra objects (CPU, memory, temperature, optical power, modem
 * status) fetched with one GET after its interface walk.
 *
 * Why it exists: these are scalars the operator names per device in the topology, so unlike the
 * IF-MIB columns there is nothing to walk: one GET asks for all of them (at most 32, so they fit
 * one request), and each becomes one sample of source "gauge" or "counter" whose object is its
 * name. A value that is missing or of the wrong type is sent as unknown and logged once per
 * extra, until it answers again, so a device that lacks one OID does not fill the log.
 *
 * The plan's extras are checked here again although lib/wire.c already refuses bad ones: the
 * OID must parse into net-snmp's form, and a device with an unusable extra is not polled. */
#include "snmp_extra.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "sources.h"

#define EXTRA_NAME_LEN 64 /* name bytes, with the NUL: the series object */

/* ---- configuration ------------------------------------------------------------------------ */

/* Parses a numeric OID ("1.3.6.1.2.1.1.3.0", a leading dot allowed) into id/len. Returns true
 * if it is one: 2 to MAX_OID_LEN arcs of decimal digits, each below 2^32. */
static bool parse_oid(const char *text, oid *id, size_t *len)
{
    const char *p = text && *text == '.' ? text + 1 : text;
    size_t n = 0;
    while (p && *p) {
        if (n == MAX_OID_LEN || *p < '0' || *p > '9')
            return false;
        uint64_t arc = 0;
        while (*p >= '0' && *p <= '9' && arc <= 0xffffffffull)
            arc = arc * 10 + (uint64_t)(*p++ - '0');
        if (arc > 0xffffffffull || (*p && *p != '.') || (*p == '.' && !p[1]))
            return false;
        id[n++] = (oid)arc;
        p += *p == '.';
    }
    *len = n;
    return n >= 2;
}

/* Returns true if name can be a series object: 1 to EXTRA_NAME_LEN - 1 of [a-z0-9_-]. */
static bool extra_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= EXTRA_NAME_LEN)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

const char *rn_snmp_extras_config_error(const Rn__Device *src, char *buf, size_t len)
{
    oid id[MAX_OID_LEN];
    size_t n;
    if (src->n_extra > RN_SNMP_MAX_EXTRA) {
        snprintf(buf, len, "%zu extra OIDs, at most %d", src->n_extra, RN_SNMP_MAX_EXTRA);
        return buf;
    }
    for (size_t i = 0; i < src->n_extra; i++) {
        const Rn__ExtraOid *x = src->extra[i];
        const char *bad = !extra_name_ok(x->name)             ? "name is not 1-63 of [a-z0-9_-]"
                          : !parse_oid(x->oid, id, &n)        ? "oid is not a numeric OID"
                          : !x->kind || (strcmp(x->kind, "gauge") && strcmp(x->kind, "counter"))
                              ? "kind is not gauge or counter"
                              : NULL;
        for (size_t j = 0; !bad && j < i; j++)
            if (strcmp(src->extra[j]->name, x->name) == 0)
                bad = "name used twice";
        if (bad) {
            snprintf(buf, len, "extra[%zu] (%.64s): %s", i, x->name ? x->name : "?", bad);
            return buf;
        }
    }
    return NULL;
}

int rn_snmp_extras_init(rn_snmp_extras_t *x, const Rn__Device *src, const char *device,
                        const char *addr)
{
    memset(x, 0, sizeof *x);
    x->device = device, x->addr = addr;
    x->v = calloc(src->n_extra ? src->n_extra : 1, sizeof *x->v);
    if (!x->v)
        return -ENOMEM;
    for (size_t i = 0; i < src->n_extra; i++) {
        rn_snmp_extra_t *e = &x->v[i];
        x->n = i + 1;
        e->name = strdup(src->extra[i]->name);
        e->oid_text = strdup(src->extra[i]->oid);
        e->counter = strcmp(src->extra[i]->kind, "counter") == 0;
        if (!e->name || !e->oid_text)
            return -ENOMEM;
        parse_oid(e->oid_text, e->id, &e->len); /* checked by rn_snmp_extras_config_error */
    }
    return 0;
}

void rn_snmp_extras_free(rn_snmp_extras_t *x)
{
    for (size_t i = 0; i < x->n; i++)
        free(x->v[i].name), free(x->v[i].oid_text);
    free(x->v);
    x->v = NULL;
    x->n = 0;
}

bool rn_snmp_extras_same(const rn_snmp_extras_t *x, const Rn__Device *src)
{
    if (x->n != src->n_extra)
        return false;
    for (size_t i = 0; i < x->n; i++) {
        const rn_snmp_extra_t *e = &x->v[i];
        const Rn__ExtraOid *s = src->extra[i];
        if (!s->name || !s->oid || !s->kind || strcmp(e->name, s->name) ||
            strcmp(e->oid_text, s->oid) || e->counter != (strcmp(s->kind, "counter") == 0))
            return false;
    }
    return true;
}

/* ---- one poll ------------------------------------------------------------------------------ */

void rn_snmp_extras_reset(rn_snmp_extras_t *x)
{
    for (size_t i = 0; i < x->n; i++)
        x->v[i].value.kind = RN_VALUE_UNKNOWN;
}

netsnmp_pdu *rn_snmp_extras_get_pdu(const rn_snmp_extras_t *x)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
    for (size_t i = 0; pdu && i < x->n; i++)
        snmp_add_null_var(pdu, x->v[i].id, x->v[i].len);
    return pdu;
}

/* Logs a problem with extra e once (until it answers again). Returns nothing. */
static void extra_problem(const rn_snmp_extras_t *x, rn_snmp_extra_t *e, const char *why)
{
    if (e->complained)
        return;
    e->complained = true;
    rn_warn("device %s (%s): extra %s (%s): %s; sent as unknown", x->device, x->addr, e->name,
            e->oid_text, why);
}

/* Stores the GET's varbind for extra e as its value when its type fits the kind, else logs why.
 * Returns nothing. */
static void extra_store(const rn_snmp_extras_t *x, rn_snmp_extra_t *e,
                        const netsnmp_variable_list *vb)
{
    char why[64];
    bool counter_type = vb->type == ASN_COUNTER || vb->type == ASN_COUNTER64;
    bool gauge_type = vb->type == ASN_INTEGER || vb->type == ASN_GAUGE ||
                      vb->type == ASN_TIMETICKS;
    if (snmp_oid_compare(vb->name, vb->name_length, e->id, e->len) != 0) {
        extra_problem(x, e, "the answer names another OID");
        return;
    }
    if (vb->type == SNMP_NOSUCHOBJECT || vb->type == SNMP_NOSUCHINSTANCE ||
        vb->type == SNMP_ENDOFMIBVIEW) {
        extra_problem(x, e, vb->type == SNMP_NOSUCHOBJECT     ? "noSuchObject"
                            : vb->type == SNMP_NOSUCHINSTANCE ? "noSuchInstance"
                                                              : "endOfMibView");
        return;
    }
    if (e->counter ? !counter_type : !gauge_type) {
        snprintf(why, sizeof why, "ASN.1 type 0x%02x, not %s", vb->type,
                 e->counter ? "Counter32/Counter64" : "INTEGER/Gauge32/TimeTicks");
        extra_problem(x, e, why);
        return;
    }
    if (vb->type == ASN_COUNTER64 ? !vb->val.counter64 || vb->val_len < sizeof(struct counter64)
                                  : !vb->val.integer || vb->val_len < sizeof(long)) {
        extra_problem(x, e, "value too short");
        return;
    }
    if (vb->type == ASN_COUNTER64) {
        e->value.kind = RN_VALUE_COUNTER;
        e->value.counter = ((uint64_t)vb->val.counter64->high << 32) | vb->val.counter64->low;
    } else if (e->counter) {
        e->value.kind = RN_VALUE_COUNTER;
        e->value.counter = (uint64_t)(*vb->val.integer & 0xffffffffL);
    } else {
        e->value.kind = RN_VALUE_GAUGE; /* INTEGER is signed; Gauge32 and TimeTicks are not */
        e->value.gauge = vb->type == ASN_INTEGER ? (double)*vb->val.integer
                                                 : (double)(*vb->val.integer & 0xffffffffL);
    }
    if (e->complained)
        rn_info("device %s (%s): extra %s answers again", x->device, x->addr, e->name);
    e->complained = false;
}

void rn_snmp_extras_absorb(rn_snmp_extras_t *x, const netsnmp_pdu *pdu)
{
    char why[96];
    if (pdu->errstat != SNMP_ERR_NOERROR) {
        snprintf(why, sizeof why, "the GET was answered with error-status %s (index %ld)",
                 snmp_errstring((int)pdu->errstat), pdu->errindex);
        for (size_t i = 0; i < x->n; i++)
            extra_problem(x, &x->v[i], why);
        return;
    }
    size_t i = 0;
    for (const netsnmp_variable_list *vb = pdu->variables; vb && i < x->n;
         vb = vb->next_variable, i++)
        extra_store(x, &x->v[i], vb);
    for (; i < x->n; i++)
        extra_problem(x, &x->v[i], "missing from the answer");
}

void rn_snmp_extras_emit(const rn_snmp_extras_t *x, rn_sample_fn emit, void *ctx,
                         int64_t time_ms, bool rebooted, const bool *stop)
{
    for (size_t i = 0; i < x->n && !*stop; i++) {
        const rn_snmp_extra_t *e = &x->v[i];
        rn_value_t v = e->value;
        if (e->counter && rebooted)
            v.kind = RN_VALUE_UNKNOWN;
        emit(ctx, e->counter ? RN_SRC_COUNTER : RN_SRC_GAUGE, x->device, e->name, time_ms, &v,
             RN_EXTRA_N, 0);
    }
}
