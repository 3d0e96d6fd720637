/* Internals of the alarm engine shared by alarm.c (evidence, state, API) and alarm_corr.c (alarm
 * lifecycle, correlation, publishing). Not part of the engine's contract: include alarm.h. */
#ifndef RN_ALARM_INT_H
#define RN_ALARM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "alarm/alarm.h"
#include "alarm/impact.h"

#define RN__FLAP_MAX 16

/* Raise after n_bad bad samples in a row, clear after n_good good ones in a row. */
typedef struct {
    uint32_t bad, good;
    bool on;
    int64_t first_bad;  /* time of the first bad sample of the current bad run */
    int64_t first_good; /* time of the first good sample of the current good run */
    int64_t since;      /* when the current "on" spell's evidence started */
    int64_t changed;    /* time of the sample that last changed the state */
    int64_t last_t;     /* newest sample fed (per-stream ordering) */
} hyst_t;

typedef enum { ST_PENDING, ST_ROOT, ST_SYMPTOM } alarm_state_t;

typedef struct alarm {
    struct alarm *prev, *next;
    uint64_t id;
    rn_alarm_type_t type;
    alarm_state_t state;
    bool published;           /* at least one event went out */
    bool orphaned;            /* pending after its root cleared: publishes as PROMOTED */
    bool planned;
    struct alarm *root;       /* ST_SYMPTOM: its root */
    struct alarm *cause;      /* scratch of correlate() */
    uint64_t announced_root;  /* root id in the last event */
    int64_t since_ms, deadline_ms, raised_ms;
    int64_t until_ms;         /* set on clear: first good evidence (the outage end), 0 unknown */
    size_t node, link, service; /* indexes into e->ix, RN_IMPACT_NONE where not applicable */
    int severity;
    char *entity, *node_id, *vendor, *circuit, *service_name, *text;
    rn_impact_list_t inodes, iservices;
} alarm_t;

/* One node's checks of one service; at the service's host node also the service's own state
 * (alarm_svc.c): its down and certificate alarms and the newest certificate report. */
typedef struct {
    hyst_t h;
    alarm_t *a;
    hyst_t before_good;       /* h before the newest round's good check, which undo_good says */
    bool undo_good;           /* may be taken back by a failed check of the same round */
    alarm_t *a_down, *a_cert; /* host node only */
    double cert_days;         /* host node only; NAN until a report */
    int64_t cert_t;
} svc_st_t;

typedef struct {
    hyst_t ptp, ptr;          /* probe rounds to the parent, to the root */
    hyst_t ptc;               /* the parent's probe rounds to this node (downward evidence) */
    int64_t good_t;           /* start of the newest round over its uplinks (either side) that
                               * got a reply: the uplinks carried traffic then */
    int64_t last_seen;
    bool seen, silent;
    bool isolated;            /* several uplinks, all down */
    svc_st_t *svc;            /* per service, allocated on the first check */
    alarm_t *a_silent, *a_isolated, *a_path;
    /* VC quality: last intervals, bit 0 newest (1 = bad); the bad figures for the text */
    uint32_t vc_bits;
    int64_t vc_last_t, vc_first_bad;
    double vc_mos, vc_loss;
    alarm_t *a_vc;
} node_st_t;

typedef struct {
    rn_alarm_knobs_t k;
    double max_loss, max_latency, max_jitter; /* from the SLA class; 0 = no limit */
    int oper[2];              /* local, remote end: 0 unknown, 1 up, -1 down */
    int64_t oper_t[2];        /* time of the newest report of each end (ordering) */
    int64_t oper_down_t[2];   /* time of the first report of each end's current down spell */
    uint32_t good_after_down; /* rounds with replies, in a row, newer than that report */
    bool down, known;
    int64_t changed;          /* time of the last down/up change */
    int64_t flap_t[RN__FLAP_MAX]; /* ring of the last change times */
    uint32_t flap_n, flap_pos;
    bool flapping;
    uint16_t *win_sent, *win_lost; /* loss window ring (one allocation, win_sent owns it) */
    uint32_t win_len, win_pos, win_fill, sum_sent, sum_lost;
    uint32_t crit_n, crit_k;  /* cached loss threshold for crit_n echoes */
    bool loss_bad;
    uint32_t slow_bits, slow_fill; /* last rounds, bit 0 newest: 1 = slow */
    bool slow_bad;
    int64_t last_round_t;
    alarm_t *a_down, *a_degraded, *a_flap;
} link_st_t;

typedef struct {
    char *entity;
    int64_t start, end;
} maint_t;

struct rn_alarm_engine {
    const rn_topology_t *topo;
    rn_impact_t *ix;
    node_st_t *nodes;
    link_st_t *links;
    alarm_t *head, *tail;
    uint64_t next_id;
    int64_t now;
    rn_alarm_config_t cfg;    /* knob tables are engine-owned copies */
    rn_alarm_knobs_t defk;    /* knobs of nodes without uplinks and of service checks */
    maint_t *mw;
    size_t n_mw;
    rn_alarm_event_fn fn;
    void *ctx;
    bool dirty;               /* an alarm opened or closed since the last correlate() */
    uint64_t late, stale;     /* samples ignored as replays / superseded */
};

/* True if an office's checks of a service say it fails: its alarm holds, or its newest check
 * failed. Across offices one failed round is enough: every office failing the same service at
 * once, over paths that work, is the host (a glitch of one office's path or probe is not every
 * office's), and waiting for each office's own hysteresis cost a round beyond the 3 the NOC
 * is promised. An office's own alarm keeps its hysteresis. */
static inline bool rn__svc_office_fails(const hyst_t *h)
{
    return h->on || h->bad > 0;
}

/* alarm_view.c */

/* A link's status from its state (rn_alarm_link_status without the lookup). */
rn_alarm_status_t rn__link_status(const link_st_t *ls);

/* alarm_corr.c */

/* Opens an alarm of type about node (and link or service), its evidence starting at since_ms,
 * stores it in its state slot and returns it; NULL on allocation failure (the condition then
 * retries on its next change). */
alarm_t *rn__alarm_open(rn_alarm_engine_t *e, rn_alarm_type_t type, size_t node, size_t link,
                        size_t service, int64_t since_ms);

/* Ends an alarm: CLEARED if it was published, unlinks and frees it, empties its slot. */
void rn__alarm_close(rn_alarm_engine_t *e, alarm_t *a);

/* Same, with the time of the first good evidence of the clear (the outage's end) when it is known
 * to be earlier than the evidence that cleared it (up_after good rounds later). */
void rn__alarm_close_at(rn_alarm_engine_t *e, alarm_t *a, int64_t until_ms);

/* Unlinks and frees an alarm without any event (engine teardown). */
void rn__alarm_free(rn_alarm_engine_t *e, alarm_t *a);

/* Returns the state slot that holds alarm a's pointer, from its type and indexes; NULL if its
 * entity is not in the topology. */
alarm_t **rn__alarm_slot(rn_alarm_engine_t *e, const alarm_t *a);

/* (Re)computes type refinement, severity, strings, impact and text of a from current state. */
void rn__alarm_describe(rn_alarm_engine_t *e, alarm_t *a);

/* Recomputes every alarm's root and emits the events that follow (see alarm.c's header). */
void rn__correlate(rn_alarm_engine_t *e);

/* Fills a public snapshot of a (pointers into a). */
void rn__alarm_snapshot(const alarm_t *a, rn_alarm_t *out);

/* Returns true if node n's uplinks are all down (n has at least one). */
bool rn__node_cut(const rn_alarm_engine_t *e, size_t n);

/* Returns the alarm that explains why node n cannot reach service s over the network: the
 * highest cut between n and the service's hosts, else a path-lost alarm from n up; NULL if
 * none. */
alarm_t *rn__service_path_cause(const rn_alarm_engine_t *e, size_t n, size_t s);

/* alarm_svc.c */

/* Returns node n's check state array, allocated (zeroed, cert_days NAN) on first use; NULL on
 * allocation failure. */
svc_st_t *rn__svc_of(rn_alarm_engine_t *e, size_t n);

/* Returns the index of service s's host node (its first endpoint's), or RN_IMPACT_NONE. */
size_t rn__svc_host(const rn_alarm_engine_t *e, size_t s);

/* Returns true if node n's checks of service s are fresh (see alarm.h, service_fresh_ms). */
bool rn__svc_fresh(const rn_alarm_engine_t *e, size_t n, size_t s);

/* Opens or closes service s's SERVICE_DOWN alarm from the offices' checks now, and refreshes
 * its impact when the failing offices changed. */
void rn__svc_eval(rn_alarm_engine_t *e, size_t s);

/* Returns true if every fresh failing office of service s has a good round on its path that
 * started at or after its first failed check (nothing on the way explains the failures), and
 * no fresh office is still counting failures towards its own alarm (the page then names every
 * office at once). */
bool rn__svc_paths_proven(const rn_alarm_engine_t *e, size_t s);

#endif
