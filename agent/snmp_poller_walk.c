/* SNMP poller, the walk (see snmp_poller.c for how a poll runs): the IF-MIB columns and scalars
 * we ask for, the GETBULK/GETNEXT requests that walk them, the absorption of replies column by
 * column into the device's sorted rows, the other requests of a poll (extra OIDs, inventory,
 * SNMPv3 engine id discovery) and the net-snmp callback that records each reply's outcome.
 * snmp_poller.c keeps the sessions, the schedule, the poll's steps and the devices. */
#include "snmp_poller_int.h"
#include "snmp_usm.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define MAX_ROWS 4096          /* interfaces kept per device and poll */

static int on_snmp_pdu(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic);

/* The OIDs of the IF-MIB columns we walk and of the two scalars asked for as GETBULK
 * non-repeaters (their one varbind is the value), indexed by RN_COL_* (agent/snmp_counters.h):
 * sysUpTime on every poll, sysName only when a report is wanted (rn_snmp_poller_set_report). */
typedef struct {
    oid prefix[11];
    size_t len;
    u_char type; /* the ASN type we accept */
} column_t;

#define IFX(n) { 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, n }, 11 /* ifXTable column n */
#define IFT(n) { 1, 3, 6, 1, 2, 1, 2, 2, 1, n }, 10       /* ifTable column n */
static const column_t columns[RN_COL_N] = {
    [RN_COL_NAME] = { IFX(1), ASN_OCTET_STR },
    [RN_COL_HCIN] = { IFX(6), ASN_COUNTER64 },
    [RN_COL_HCOUT] = { IFX(10), ASN_COUNTER64 },
    [RN_COL_HSPEED] = { IFX(15), ASN_GAUGE },
    [RN_COL_OPER] = { IFT(8), ASN_INTEGER },
    [RN_COL_IN] = { IFT(10), ASN_COUNTER },
    [RN_COL_INDISC] = { IFT(13), ASN_COUNTER },
    [RN_COL_INERR] = { IFT(14), ASN_COUNTER },
    [RN_COL_OUT] = { IFT(16), ASN_COUNTER },
    [RN_COL_OUTDISC] = { IFT(19), ASN_COUNTER },
    [RN_COL_OUTERR] = { IFT(20), ASN_COUNTER },
    [RN_COL_DISCTIME] = { IFX(19), ASN_TIMETICKS }, /* ifCounterDiscontinuityTime */
    [RN_COL_SYSUPTIME] = { { 1, 3, 6, 1, 2, 1, 1, 3 }, 8, ASN_TIMETICKS }, /* SNMPv2-MIB */
    [RN_COL_SYSNAME] = { { 1, 3, 6, 1, 2, 1, 1, 5 }, 8, ASN_OCTET_STR },   /* sysName */
};

/* Points every column of the walk at its start again, before a poll; sysName only when a report
 * is wanted. Returns nothing. */
void rn_snmp_dev_walk_reset(snmp_dev_t *d)
{
    for (int c = 0; c < RN_COL_N; c++) {
        memcpy(d->last[c], columns[c].prefix, columns[c].len * sizeof(oid));
        d->last_len[c] = columns[c].len;
        d->col_done[c] = c == RN_COL_SYSNAME && !d->poller->report;
    }
}

/* ---- the walk ---------------------------------------------------------------------------- */

/* Returns the row of ifIndex idx, inserting it in order; NULL when the table is full or memory
 * runs out. Rows arrive mostly in increasing order, so the common case appends. */
static rn_snmp_row_t *row_get(snmp_dev_t *d, oid idx)
{
    size_t lo = 0, hi = d->n_rows;
    if (hi && d->rows[hi - 1].ifindex < idx)
        lo = hi;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->rows[mid].ifindex == idx)
            return &d->rows[mid];
        if (d->rows[mid].ifindex < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (d->n_rows == d->cap_rows) {
        if (d->cap_rows >= MAX_ROWS)
            return NULL;
        /* by half, not double: a 17-port router then fits 24 rows instead of 32, in two
         * buffers a device (rn_snmp_counters_keep) */
        size_t cap = d->cap_rows ? d->cap_rows + d->cap_rows / 2 : 16;
        cap = cap < MAX_ROWS ? cap : MAX_ROWS;
        rn_snmp_row_t *r = realloc(d->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        d->rows = r;
        d->cap_rows = cap;
    }
    memmove(&d->rows[lo + 1], &d->rows[lo], (d->n_rows - lo) * sizeof *d->rows);
    d->n_rows++;
    memset(&d->rows[lo], 0, sizeof d->rows[lo]);
    d->rows[lo].ifindex = idx;
    return &d->rows[lo];
}

/* Stores one varbind's value in its row if the type is the one the column has. Returns false
 * when the type is wrong (the value then stays unknown). */
static bool row_store(rn_snmp_row_t *row, int col, const netsnmp_variable_list *vb)
{
    u_char want = columns[col].type;
    if (vb->type != want && !(want == ASN_GAUGE && vb->type == ASN_UNSIGNED))
        return false;
    switch (vb->type) {
    case ASN_OCTET_STR: {
        size_t n = vb->val_len < RN_SNMP_NAME_LEN - 1 ? vb->val_len : RN_SNMP_NAME_LEN - 1;
        for (size_t i = 0; i < n; i++) {
            u_char c = vb->val.string[i];
            row->name[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        }
        row->name[n] = '\0';
        break;
    }
    case ASN_COUNTER64:
        if (!vb->val.counter64 || vb->val_len < sizeof(struct counter64))
            return false;
        row->v[col] = ((uint64_t)vb->val.counter64->high << 32) | vb->val.counter64->low;
        break;
    default: /* INTEGER, Counter32, Gauge32: all carried as a long */
        if (!vb->val.integer || vb->val_len < sizeof(long))
            return false;
        row->v[col] = (uint64_t)(*vb->val.integer & 0xffffffffL);
        break;
    }
    row->have |= 1u << col;
    return true;
}

/* Stores sysUpTime.0 or sysName.0 and ends its column. Returns true. */
static bool absorb_scalar(snmp_dev_t *d, int col, const netsnmp_variable_list *vb)
{
    rn_snmp_row_t tmp = { 0 };
    d->col_done[col] = true;
    if (!row_store(&tmp, col, vb))
        d->n_wrong_type++;
    else if (col == RN_COL_SYSNAME)
        memcpy(d->sys_name, tmp.name, sizeof d->sys_name);
    else
        d->sys_uptime = (long)tmp.v[col];
    return true;
}

/* Absorbs one varbind of column col: ends the column at its subtree's end, an exception or a
 * non-increasing OID, otherwise records the value. Returns true if the column advanced. */
static bool walk_absorb_one(snmp_dev_t *d, int col, const netsnmp_variable_list *vb)
{
    const column_t *c = &columns[col];
    if (vb->type == SNMP_ENDOFMIBVIEW || vb->type == SNMP_NOSUCHOBJECT ||
        vb->type == SNMP_NOSUCHINSTANCE || vb->name_length <= c->len ||
        vb->name_length > WALK_OID_LEN ||
        snmp_oid_compare(vb->name, c->len, c->prefix, c->len) != 0) {
        d->col_done[col] = true;
        return false;
    }
    if (snmp_oid_compare(vb->name, vb->name_length, d->last[col], d->last_len[col]) <= 0) {
        snprintf(d->note, sizeof d->note, "agent returned OIDs out of order");
        d->col_done[col] = true;
        return false;
    }
    memcpy(d->last[col], vb->name, vb->name_length * sizeof(oid));
    d->last_len[col] = vb->name_length;
    if (col >= RN_COL_FIRST_SCALAR) /* a scalar: its .0 instance is all there is */
        return absorb_scalar(d, col, vb);
    if (vb->name_length != c->len + 1)
        return true; /* not a plain ifIndex row: walk past it */
    rn_snmp_row_t *row = row_get(d, vb->name[c->len]);
    if (row && !row_store(row, col, vb))
        d->n_wrong_type++;
    return true;
}

/* Returns the column that varbind i of a reply to the last request belongs to: the
 * non-repeaters come first, one varbind each, then the repeated columns in turn. -1 when a reply
 * carries more than the request asked for. */
static int reply_col(const snmp_dev_t *d, int i)
{
    if (i < d->n_nonrep)
        return d->req_cols[i];
    int n_rep = d->n_req_cols - d->n_nonrep;
    return n_rep > 0 ? d->req_cols[d->n_nonrep + (i - d->n_nonrep) % n_rep] : -1;
}

/* Absorbs a walk reply. Returns 0, or -EPROTO with d->why set when the reply made no progress
 * (an empty or useless reply would otherwise loop forever). */
static int walk_absorb(snmp_dev_t *d, const netsnmp_pdu *pdu)
{
    bool progress = false;
    int i = 0;
    for (const netsnmp_variable_list *vb = pdu->variables; vb; vb = vb->next_variable, i++) {
        int col = reply_col(d, i);
        d->n_varbinds++;
        if (col >= 0 && !d->col_done[col] && walk_absorb_one(d, col, vb))
            progress = true;
    }
    if (progress)
        return 0;
    bool all_done = true;
    for (int k = 0; k < d->n_req_cols; k++)
        all_done = all_done && d->col_done[d->req_cols[k]];
    if (all_done)
        return 0;
    snprintf(d->why, sizeof d->why, "reply with %d varbinds made no progress", i);
    return -EPROTO;
}

/* Handles an error-status in a walk reply. v1 says noSuchName at the end of a column: that column
 * ends and the walk goes on (returns 0). Any other error returns -EPROTO with d->why set. */
static int walk_error_status(snmp_dev_t *d, const netsnmp_pdu *pdu)
{
    long idx = pdu->errindex;
    if (d->version == 1 && pdu->errstat == SNMP_ERR_NOSUCHNAME && idx >= 1 &&
        idx <= d->n_req_cols) {
        d->col_done[d->req_cols[idx - 1]] = true;
        return 0;
    }
    if (pdu->errstat == SNMP_ERR_TOOBIG && d->reps > 1) {
        d->reps /= 2; /* ask for less and try again */
        return 0;
    }
    snprintf(d->why, sizeof d->why, "agent answered error-status %s (index %ld)",
             snmp_errstring((int)pdu->errstat), idx);
    return -EPROTO;
}

/* Sends the next walk request for every unfinished column. Returns 1 when nothing is left to ask
 * (the walk is complete), 0 when a request is in flight, RN_ESNMP with d->why set on failure. */
int rn_snmp_dev_walk_send(snmp_dev_t *d)
{
    netsnmp_pdu *pdu = snmp_pdu_create(d->version == 1 ? SNMP_MSG_GETNEXT : SNMP_MSG_GETBULK);
    if (!pdu) {
        snprintf(d->why, sizeof d->why, "out of memory");
        return RN_ESNMP;
    }
    d->n_req_cols = d->n_nonrep = 0;
    for (int k = 0; k < RN_COL_N; k++) { /* scalars first: GETBULK wants its non-repeaters there */
        int c = (RN_COL_FIRST_SCALAR + k) % RN_COL_N;
        if (d->col_done[c])
            continue;
        snmp_add_null_var(pdu, d->last[c], d->last_len[c]);
        d->req_cols[d->n_req_cols++] = c;
        if (c >= RN_COL_FIRST_SCALAR && d->version != 1)
            d->n_nonrep++;
    }
    pdu->non_repeaters = d->n_nonrep;
    pdu->max_repetitions = d->reps;
    if (d->n_req_cols == 0) {
        snmp_free_pdu(pdu);
        return 1;
    }
    d->reqid = pdu->reqid;
    if (snmp_sess_async_send(d->snmp.sessp, pdu, on_snmp_pdu, d) == 0) {
        int liberr = 0, syserr = 0;
        char *msg = NULL;
        snmp_sess_error(d->snmp.sessp, &liberr, &syserr, &msg);
        snprintf(d->why, sizeof d->why, "cannot send: %s", msg ? msg : "unknown error");
        free(msg);
        snmp_free_pdu(pdu);
        return RN_ESNMP;
    }
    d->n_requests++;
    return 0;
}

/* Sends one GET for every extra OID of the device (agent/snmp_extra.h). Returns 0 when it is
 * in flight, RN_ESNMP with d->why set on failure. */
int rn_snmp_dev_extra_send(snmp_dev_t *d)
{
    netsnmp_pdu *pdu = rn_snmp_extras_get_pdu(&d->extras);
    if (!pdu) {
        snprintf(d->why, sizeof d->why, "out of memory");
        return RN_ESNMP;
    }
    d->reqid = pdu->reqid;
    if (snmp_sess_async_send(d->snmp.sessp, pdu, on_snmp_pdu, d) == 0) {
        snprintf(d->why, sizeof d->why, "cannot send the extra OIDs' GET: %s",
                 snmp_api_errstring(snmp_sess_session(d->snmp.sessp)->s_snmp_errno));
        snmp_free_pdu(pdu);
        return RN_ESNMP;
    }
    d->n_requests++;
    return 0;
}

/* Sends the next request of the inventory walk (agent/snmp_inventory.h). Returns 0 when it is
 * in flight, RN_ESNMP with d->why set on failure. */
int rn_snmp_dev_inventory_send(snmp_dev_t *d)
{
    netsnmp_pdu *pdu = rn_snmp_inventory_next_pdu(&d->inv, d->version == 1, MAX_REPS);
    if (!pdu) {
        snprintf(d->why, sizeof d->why, "out of memory");
        return RN_ESNMP;
    }
    d->reqid = pdu->reqid;
    if (snmp_sess_async_send(d->snmp.sessp, pdu, on_snmp_pdu, d) == 0) {
        snprintf(d->why, sizeof d->why, "cannot send the inventory walk: %s",
                 snmp_api_errstring(snmp_sess_session(d->snmp.sessp)->s_snmp_errno));
        snmp_free_pdu(pdu);
        return RN_ESNMP;
    }
    d->n_requests++;
    return 0;
}

/* Sends the SNMPv3 engine id discovery request: an empty GET from the empty noAuthNoPriv user,
 * which an agent answers with a usmStatsUnknownEngineIDs Report carrying its engine id.
 * Returns 0 when it is in flight, RN_ESNMP with d->why set on failure. */
int rn_snmp_dev_discover_send(snmp_dev_t *d)
{
    netsnmp_pdu *pdu = rn_snmp_discovery_pdu();
    if (!pdu) {
        snprintf(d->why, sizeof d->why, "out of memory");
        return RN_ESNMP;
    }
    d->reqid = pdu->reqid;
    if (snmp_sess_async_send(d->snmp.sessp, pdu, on_snmp_pdu, d) == 0) {
        snprintf(d->why, sizeof d->why, "cannot send the engine id probe: %s",
                 snmp_api_errstring(snmp_sess_session(d->snmp.sessp)->s_snmp_errno));
        snmp_free_pdu(pdu);
        return RN_ESNMP;
    }
    d->n_requests++;
    return 0;
}

/* Installs the discovered engine id and localises the user's keys for it (lib/snmp_usm.c).
 * Returns 0, or -ENOMEM or RN_ESNMP with d->why set. */
int rn_snmp_dev_discover_done(snmp_dev_t *d)
{
    netsnmp_session *s = snmp_sess_session(d->snmp.sessp);
    return rn_snmp_install_user(s, d->engine, d->engine_len, d->why, sizeof d->why);
}

/* Forgets the engine id of a v3 session so that the next poll discovers it again (the device
 * may have been replaced or reset). */
void rn_snmp_dev_forget_engine(snmp_dev_t *d)
{
    netsnmp_session *s = snmp_sess_session(d->snmp.sessp);
    if (d->version == 3 && s)
        rn_snmp_forget_engine(s);
}

/* Handles a Report PDU. Returns 1 (net-snmp's "handled"). notInTimeWindow is left to net-snmp,
 * which re-sends with the engine time it just learnt. */
static int on_report(snmp_dev_t *d, const netsnmp_pdu *pdu)
{
    int type = snmpv3_get_report_type((netsnmp_pdu *)pdu);
    if (type == SNMPERR_NOT_IN_TIME_WINDOW &&
        (d->phase == PH_WALK || d->phase == PH_EXTRA || d->phase == PH_INVENTORY))
        return 1;
    if (d->phase == PH_DISCOVER && pdu->securityEngineIDLen > 0 &&
        pdu->securityEngineIDLen <= sizeof d->engine) {
        memcpy(d->engine, pdu->securityEngineID, pdu->securityEngineIDLen);
        d->engine_len = pdu->securityEngineIDLen;
        d->event = EV_DISCOVERED;
        return 1;
    }
    snprintf(d->why, sizeof d->why, "agent refused the request: %s", snmp_api_errstring(type));
    d->event = EV_ERROR;
    return 1;
}

/* The net-snmp callback of every request: records the outcome in d->event and returns 1. It runs
 * inside snmp_sess_read2/snmp_sess_timeout, so it sends nothing and calls no user callback. */
static int on_snmp_pdu(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
    snmp_dev_t *d = magic;
    if (d->closing || d->phase == PH_IDLE)
        return 1;
    if (op == NETSNMP_CALLBACK_OP_TIMED_OUT) {
        d->event = EV_TIMEOUT;
        return 1;
    }
    if (op == NETSNMP_CALLBACK_OP_RESEND)
        return 1; /* a retransmission: still waiting */
    if (op == NETSNMP_CALLBACK_OP_SEC_ERROR && d->phase == PH_DISCOVER)
        return 1; /* the unauthenticated Report we asked for: it follows at once */
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || !pdu) {
        snprintf(d->why, sizeof d->why, "request failed (net-snmp op %d): %s", op,
                 snmp_api_errstring(s->s_snmp_errno));
        d->event = EV_ERROR;
        return 1;
    }
    if (pdu->command == SNMP_MSG_REPORT)
        return on_report(d, pdu);
    if (reqid != d->reqid || pdu->command != SNMP_MSG_RESPONSE)
        return 1; /* stale or unexpected: keep waiting for ours */
    if (d->phase == PH_DISCOVER) {
        snprintf(d->why, sizeof d->why, "agent answered the engine id probe without a Report");
        d->event = EV_ERROR;
        return 1;
    }
    int rc = 0;
    if (d->phase == PH_EXTRA)
        rn_snmp_extras_absorb(&d->extras, pdu); /* a bad answer leaves values unknown */
    else if (d->phase == PH_INVENTORY)
        d->inv_rc = rn_snmp_inventory_absorb(&d->inv, pdu, rn_clock_mono_ns());
    else
        rc = pdu->errstat != SNMP_ERR_NOERROR ? walk_error_status(d, pdu) : walk_absorb(d, pdu);
    d->event = rc == 0 ? EV_REPLY : EV_ERROR;
    return 1;
}
