/* SNMP inventory walk: sysDescr, sysObjectID and entPhysicalTable of one device.
 *
 * Why a walk of the whole entPhysicalEntry rather than one column per varbind, as the interface
 * walk does: the table is read once a day, and a single walk in OID order needs no per-column
 * bookkeeping. It is column-major, so rows appear in the order of their index in the first
 * column and later columns find them by binary search. Column 3 (entPhysicalVendorType, an OID
 * nobody reads) is jumped over, and the walk stops at column 14 (alias, asset id, FRU, dates,
 * URIs: not reported by the devices RajNet runs, or not needed by the register), which saves
 * about a third of the requests. A C3750 stack with 58 entities takes 13 GETBULKs of 50.
 *
 * Every string that comes off the device is cleaned (inventory_text) before it is kept:
 * it goes to the wire, whose validator refuses control bytes and malformed UTF-8, and into JSON
 * and CSV. A C3750's sysDescr has CR LF in it. */
#include "snmp_inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"

static const oid sys_descr_oid[] = { 1, 3, 6, 1, 2, 1, 1, 1, 0 };
static const oid sys_objid_oid[] = { 1, 3, 6, 1, 2, 1, 1, 2, 0 };
static const oid ent_entry[] = { 1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1 }; /* entPhysicalEntry */
#define ENT_ENTRY_LEN (sizeof ent_entry / sizeof ent_entry[0])
#define COL_FIRST 2   /* entPhysicalDescr */
#define COL_VENDOR 3  /* entPhysicalVendorType: skipped */
#define COL_END 14    /* entPhysicalAlias and later: not walked */

void rn_snmp_inventory_init(rn_snmp_inventory_t *x, const char *device, const char *addr)
{
    memset(x, 0, sizeof *x);
    x->device = device, x->addr = addr;
}

/* Frees the rows' strings and forgets them, keeping the array. Returns nothing. */
static void drop_rows(rn_snmp_inventory_t *x)
{
    for (size_t i = 0; i < x->n_ents; i++)
        for (int k = 0; k < RN_ENT_N_STR; k++)
            free(x->ents[i].str[k]);
    x->n_ents = 0;
}

void rn_snmp_inventory_free(rn_snmp_inventory_t *x)
{
    drop_rows(x);
    free(x->ents);
    x->ents = NULL;
    x->cap_ents = 0;
}

bool rn_snmp_inventory_due(const rn_snmp_inventory_t *x, rn_mono_ns_t now, bool rebooted)
{
    if (!x->have || rebooted)
        return true;
    return (int64_t)((now - x->last_done) / 1000000) >= RN_SNMP_INVENTORY_PERIOD_MS;
}

void rn_snmp_inventory_begin(rn_snmp_inventory_t *x)
{
    drop_rows(x);
    x->scalars_done = x->done = false;
    x->sys_descr[0] = x->sys_object_id[0] = '\0';
    memcpy(x->next, ent_entry, sizeof ent_entry);
    x->next_len = ENT_ENTRY_LEN;
    x->n_skipped = 0;
}

netsnmp_pdu *rn_snmp_inventory_next_pdu(rn_snmp_inventory_t *x, bool getnext, int max_reps)
{
    netsnmp_pdu *pdu;
    if (!x->scalars_done) {
        if ((pdu = snmp_pdu_create(SNMP_MSG_GET))) {
            snmp_add_null_var(pdu, sys_descr_oid, sizeof sys_descr_oid / sizeof(oid));
            snmp_add_null_var(pdu, sys_objid_oid, sizeof sys_objid_oid / sizeof(oid));
        }
        return pdu;
    }
    if (!(pdu = snmp_pdu_create(getnext ? SNMP_MSG_GETNEXT : SNMP_MSG_GETBULK)))
        return NULL;
    pdu->non_repeaters = 0;
    pdu->max_repetitions = max_reps;
    snmp_add_null_var(pdu, x->next, x->next_len);
    return pdu;
}

/* Copies an SNMP octet string as a loggable, wire-safe string: at most out_len - 1 bytes, control
 * bytes as spaces, bytes above 0x7e as '?', trailing spaces dropped. Returns out. */
static char *inventory_text(const u_char *s, size_t len, char *out, size_t out_len)
{
    size_t n = 0;
    for (size_t i = 0; s && i < len && n + 1 < out_len; i++)
        out[n++] = s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i] > 0x7e ? '?' : (char)s[i];
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out;
}

/* Returns the row with this index, inserting an empty one in order if there is none; NULL when
 * out of memory or over RN_WIRE_MAX_ENTITIES rows (counted in n_skipped). */
static rn_snmp_entity_t *row_get(rn_snmp_inventory_t *x, uint32_t index)
{
    size_t lo = 0, hi = x->n_ents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x->ents[mid].index == index)
            return &x->ents[mid];
        if (x->ents[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (x->n_ents >= RN_WIRE_MAX_ENTITIES) {
        x->n_skipped++;
        return NULL;
    }
    if (x->n_ents == x->cap_ents) {
        size_t cap = x->cap_ents ? 2 * x->cap_ents : 64;
        rn_snmp_entity_t *v = realloc(x->ents, cap * sizeof *v);
        if (!v)
            return NULL;
        x->ents = v, x->cap_ents = cap;
    }
    memmove(&x->ents[lo + 1], &x->ents[lo], (x->n_ents - lo) * sizeof *x->ents);
    x->n_ents++;
    memset(&x->ents[lo], 0, sizeof x->ents[lo]);
    x->ents[lo].index = index;
    return &x->ents[lo];
}

/* Stores one column value of one row. Values of an unexpected type are ignored. Returns
 * nothing. */
static void store_column(rn_snmp_inventory_t *x, unsigned col, uint32_t index,
                         const netsnmp_variable_list *vb)
{
    static const int str_of[COL_END] = { [2] = RN_ENT_DESCR + 1, [7] = RN_ENT_NAME + 1,
                                         [8] = RN_ENT_HW + 1,    [9] = RN_ENT_FW + 1,
                                         [10] = RN_ENT_SW + 1,   [11] = RN_ENT_SERIAL + 1,
                                         [12] = RN_ENT_MFG + 1,  [13] = RN_ENT_MODEL + 1 };
    char text[RN_SNMP_INVENTORY_STR];
    rn_snmp_entity_t *r = row_get(x, index);
    if (!r)
        return;
    if (col < COL_END && str_of[col] && vb->type == ASN_OCTET_STR) {
        inventory_text(vb->val.string, vb->val_len, text, sizeof text);
        int k = str_of[col] - 1;
        if (text[0] && !r->str[k])
            r->str[k] = strdup(text); /* out of memory: the column stays empty */
    } else if (vb->type == ASN_INTEGER && vb->val.integer) {
        long v = *vb->val.integer;
        if (col == 4 && v >= 0)
            r->contained_in = (uint32_t)v, r->has_contained_in = true;
        else if (col == 5 && v >= 0)
            r->klass = (uint32_t)v, r->has_class = true;
        else if (col == 6)
            r->rel_pos = (int32_t)v, r->has_rel_pos = true;
    }
}

/* Absorbs the scalars' GET. Returns nothing: a missing scalar stays empty. */
static void absorb_scalars(rn_snmp_inventory_t *x, const netsnmp_pdu *pdu)
{
    for (const netsnmp_variable_list *vb = pdu->variables; vb; vb = vb->next_variable) {
        if (vb->type == ASN_OCTET_STR &&
            snmp_oid_compare(vb->name, vb->name_length, sys_descr_oid,
                             sizeof sys_descr_oid / sizeof(oid)) == 0)
            inventory_text(vb->val.string, vb->val_len, x->sys_descr,
                                   sizeof x->sys_descr);
        else if (vb->type == ASN_OBJECT_ID && vb->val.objid) { /* numeric, whatever MIBs */
            size_t n = 0, len = vb->val_len / sizeof(oid);
            for (size_t i = 0; i < len && n < sizeof x->sys_object_id - 12; i++)
                n += (size_t)snprintf(x->sys_object_id + n, sizeof x->sys_object_id - n,
                                      i ? ".%lu" : "%lu", (unsigned long)vb->val.objid[i]);
        }
    }
    x->scalars_done = true;
}

int rn_snmp_inventory_absorb(rn_snmp_inventory_t *x, const netsnmp_pdu *pdu, rn_mono_ns_t now)
{
    if (!x->scalars_done) {
        absorb_scalars(x, pdu); /* noSuchName (v1) for the pair: both stay empty */
        return 0;
    }
    if (pdu->errstat != SNMP_ERR_NOERROR) {
        if (pdu->errstat == SNMP_ERR_NOSUCHNAME) /* SNMPv1's end of the MIB */
            goto complete;
        return RN_ESNMP;
    }
    const netsnmp_variable_list *vb = pdu->variables;
    if (!vb)
        goto complete;
    for (; vb; vb = vb->next_variable) {
        if (vb->type == SNMP_ENDOFMIBVIEW || vb->name_length != ENT_ENTRY_LEN + 2 ||
            snmp_oid_compare(vb->name, ENT_ENTRY_LEN, ent_entry, ENT_ENTRY_LEN) != 0 ||
            vb->name[ENT_ENTRY_LEN] >= COL_END)
            goto complete; /* past the columns we want (or an index we do not understand) */
        if (snmp_oid_compare(vb->name, vb->name_length, x->next, x->next_len) <= 0)
            goto complete; /* not increasing: a broken agent, stop rather than loop */
        unsigned col = (unsigned)vb->name[ENT_ENTRY_LEN];
        memcpy(x->next, vb->name, vb->name_length * sizeof(oid));
        x->next_len = vb->name_length;
        if (col >= COL_FIRST && col != COL_VENDOR)
            store_column(x, col, (uint32_t)vb->name[ENT_ENTRY_LEN + 1], vb);
        if (col == COL_VENDOR) { /* jump to the next column; later varbinds in this answer
                                  * are of column 3 too and fall below the new start */
            x->next[ENT_ENTRY_LEN] = COL_VENDOR + 1;
            x->next_len = ENT_ENTRY_LEN + 1;
            return 0;
        }
    }
    return 0;
complete:
    x->done = x->have = true;
    x->last_done = now;
    if (x->n_skipped)
        rn_warn("device %s (%s): entPhysicalTable has more than %u rows; %u left out",
                x->device, x->addr, RN_WIRE_MAX_ENTITIES, x->n_skipped);
    return 1;
}

void rn_snmp_inventory_message(const rn_snmp_inventory_t *x, const char *node, int64_t time_ms,
                               long sys_uptime, Rn__Inventory *msg, Rn__PhysicalEntity **ents,
                               Rn__PhysicalEntity *storage)
{
    rn__inventory__init(msg);
    msg->device = (char *)x->device;
    msg->node = (char *)node;
    msg->time_ms = time_ms;
    msg->sys_descr = x->sys_descr[0] ? (char *)x->sys_descr : NULL;
    msg->sys_object_id = x->sys_object_id[0] ? (char *)x->sys_object_id : NULL;
    msg->has_sys_uptime = sys_uptime >= 0;
    msg->sys_uptime = sys_uptime;
    for (size_t i = 0; i < x->n_ents; i++) {
        const rn_snmp_entity_t *r = &x->ents[i];
        Rn__PhysicalEntity *e = &storage[i];
        rn__physical_entity__init(e);
        e->index = r->index;
        e->has_ent_class = r->has_class, e->ent_class = r->klass;
        e->has_contained_in = r->has_contained_in, e->contained_in = r->contained_in;
        e->has_parent_rel_pos = r->has_rel_pos, e->parent_rel_pos = r->rel_pos;
        e->descr = r->str[RN_ENT_DESCR], e->name = r->str[RN_ENT_NAME];
        e->hw_rev = r->str[RN_ENT_HW], e->fw_rev = r->str[RN_ENT_FW];
        e->sw_rev = r->str[RN_ENT_SW], e->serial = r->str[RN_ENT_SERIAL];
        e->mfg = r->str[RN_ENT_MFG], e->model = r->str[RN_ENT_MODEL];
        ents[i] = e;
    }
    msg->n_entities = x->n_ents;
    msg->entities = ents;
}
