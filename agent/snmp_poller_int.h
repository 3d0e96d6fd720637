/* Private declarations shared by snmp_poller.c (sessions, schedule, devices) and
 * snmp_poller_walk.c (the walk and the other requests of a poll); other modules use
 * snmp_poller.h. */
#ifndef RN_SNMP_POLLER_INT_H
#define RN_SNMP_POLLER_INT_H

#include "snmp_poller.h"
#include "snmp_counters.h"
#include "snmp_extra.h"
#include "snmp_inventory.h"
#include "snmp_uv.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "clock.h"

#define MAX_REPS 25            /* GETBULK max-repetitions */

/* Arcs kept of the last OID of each walked column. Our columns are at most 11 arcs with a
 * one-arc ifIndex; net-snmp's MAX_OID_LEN (128) would be 14 KB a device, most of the poller's
 * memory. A longer OID ends its column as one outside it does. */
#define WALK_OID_LEN 32

/* What the last net-snmp callback reported, consumed by dev_advance(). */
typedef enum { EV_NONE, EV_DISCOVERED, EV_REPLY, EV_TIMEOUT, EV_ERROR } dev_event_t;
typedef enum { PH_IDLE, PH_DISCOVER, PH_WALK, PH_EXTRA, PH_INVENTORY } dev_phase_t;

typedef struct snmp_dev {
    rn_snmp_poller_t *poller;
    uv_timer_t tick;
    rn_snmp_uv_t snmp; /* the session and its handles (lib/snmp_uv.h); snmp.sessp NULL unopened */
    bool closing;
    int open_handles;  /* the tick timer, and the bridge while open */
    /* configuration, copied from the plan */
    char *node;              /* Device.node: an agentless child's id; NULL for our own node */
    char *name, *addr, *community, *user, *auth_proto, *auth_key, *priv_proto, *priv_key;
    rn_snmp_extras_t extras; /* extra OIDs (agent/snmp_extra.h) */
    rn_snmp_inventory_t inv; /* asset inventory walk (agent/snmp_inventory.h) */
    int inv_rc;              /* the last inventory answer: 1 complete, 0 more, < 0 error */
    uint32_t version, timeout_ms, retries;
    /* schedule */
    rn_mono_ns_t start;
    uint64_t skipped;
    /* the poll in progress */
    dev_phase_t phase;
    dev_event_t event;
    int reqid, reps;
    int64_t poll_wall_ms;
    rn_mono_ns_t poll_mono;
    oid last[RN_COL_N][WALK_OID_LEN];
    size_t last_len[RN_COL_N];
    bool col_done[RN_COL_N];
    int req_cols[RN_COL_N], n_req_cols, n_nonrep; /* scalars first, as non-repeaters */
    unsigned n_requests, n_varbinds, n_wrong_type;
    u_char engine[SNMP_MAXBUF_SMALL];
    size_t engine_len;
    rn_snmp_row_t *rows;
    size_t n_rows, cap_rows;
    char sys_name[RN_SNMP_NAME_LEN]; /* sysName.0 of this poll, "" unknown (reports only) */
    long sys_uptime;         /* sysUpTime.0 in hundredths of a second, -1 unknown */
    /* the last successful poll, to see counter discontinuities (agent/snmp_counters.h) */
    rn_snmp_counters_t counters;
    char why[160];  /* why the poll failed */
    char note[160]; /* a remark on a poll that succeeded */
    /* what we last said about this device, so a repeated failure is logged once */
    char last_problem[160];
} snmp_dev_t;

struct rn_snmp_poller {
    uv_loop_t *loop;
    rn_snmp_sample_fn emit;
    void *ctx;
    snmp_dev_t **devs;
    size_t n_devs;
    uint32_t interval_s;
    uint64_t rng;
    rn_snmp_report_fn report;  /* NULL: no reports, no sysName/sysUpTime */
    void *report_ctx;
    rn_snmp_inventory_fn inventory; /* NULL: no inventory walks */
    void *inventory_ctx;
    uv_timer_t anchor;
    int pending_closes; /* devices and the anchor still closing */
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;
};

/* ---- snmp_poller_walk.c ---------------------------------------------------------------------- */

void rn_snmp_dev_walk_reset(snmp_dev_t *d);
int rn_snmp_dev_walk_send(snmp_dev_t *d);
int rn_snmp_dev_extra_send(snmp_dev_t *d);
int rn_snmp_dev_inventory_send(snmp_dev_t *d);
int rn_snmp_dev_discover_send(snmp_dev_t *d);
int rn_snmp_dev_discover_done(snmp_dev_t *d);
void rn_snmp_dev_forget_engine(snmp_dev_t *d);

#endif
