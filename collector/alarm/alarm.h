/* The alarm engine: evidence in (probe rounds, interface status, service checks, agent frames),
 * alarm events out, correlated over the topology tree (docs/architecture.md, "Alarms").
 *
 * Pure logic. No I/O, no libuv, no threads, no clock reads: every input carries its time in ms,
 * and rn_alarm_tick(now) drives the timers (settle windows, silence, flapping, promotion). The
 * engine's clock is the now of the last tick (the collector's wall clock, ms), never read from
 * the system, so a test replays a scenario to the millisecond; samples keep the agents' times
 * (outage starts), so an agent with a skewed clock cannot move the engine's. Tick before the
 * first observation. One thread calls it (the loop).
 *
 * RULES (defaults; per SLA class and per link overridable through rn_alarm_config_t)
 *
 * Evidence flows both ways. An "icmp" round from node X to its parent is evidence for X's
 * uplinks (upward), and so is a round from X's parent to X (downward: every agent probes its
 * children too); a round from X to the root (sdc) is path evidence. Both directions matter
 * because RajNet's links mostly fail as black holes (interfaces stay up) and most offices reach
 * the collector over the very uplink that failed: the cut-off side is silent until its spool
 * replays, so the side still heard must carry the detection. Villages never run an agent: their
 * links are seen from above only (and their routers polled across the link by the parent). An "if" sample (node, device, ifname) maps to the link whose local
 * end (at the child) or remote end (at the parent) it is. ifOperStatus 1 is up, 2 (down) and
 * 7 (lowerLayerDown) are down, anything else says nothing. Per stream, a sample not newer than
 * the last one is a duplicate; a sample older than late_ms behind the engine's clock is a replay
 * from an agent's spool and does not move live state (outage refinement is the event store's job).
 *
 * Link down (S1). down_after (N=2) consecutive rounds at 100% loss to the parent or from the
 * parent (whichever side is still heard: a link is down when its far end stops answering the
 * near end), or either interface end down (one poll is enough: ifOperStatus is a state, not a noisy measurement).
 * Up after up_after (M=3) consecutive rounds with a reply on each side that went bad, and no
 * end down; the outage ends at the first good round of the side that recovered last. At 1 s probing a
 * cut shows at worst as one partial round then two full ones: raised <= 3 s after the cut
 * (N=2 rounds + the in-flight one); healed rounds come back within 1 s, so cleared <= 4 s.
 * N=2 rounds is 10 lost echoes in a row: at 1% random loss that is 1e-20 per round.
 *
 * Node isolated. A node with one uplink is isolated exactly when that link is down: no second
 * alarm, the LINK_DOWN alarm is the isolation and its impact starts with the node itself. A node
 * with several uplinks: one down (others up) is REDUNDANCY_LOST (S2, no impact: traffic takes
 * the backup); all down is NODE_ISOLATED (S1) whose symptoms are the per-link alarms. A probe to
 * the parent at 100% loss means no uplink carries traffic, so it marks every uplink of X down.
 *
 * Path lost (S1). Rounds to the root at 100% loss (N/M as above) while the parent answers: a
 * link above the parent is down. It is a symptom of that link's alarm. If no upstream alarm
 * appears within the settle window it is raised on its own (better a page naming the evidence
 * than a silent outage), and later path-lost siblings attach to the first one.
 *
 * Link degraded (S2), from rounds to the parent (from the parent when the node runs no agent)
 * with at least one reply (100% rounds are down
 * evidence, not loss). Latency/jitter: a round is slow when rttavg > max_latency_ms or jitter
 * > max_jitter_ms; raised when slow_of (6) of the last slow_in (10) rounds are slow, cleared
 * when none of the last slow_of rounds is. Loss: 5 echoes per round make one lost echo 20% for
 * that round, so a round alone says nothing against a 1% limit. Losses are summed over the last
 * loss_window (120) rounds (600 echoes) and the link is degraded when that count is implausible
 * for a link within its SLA: P(Binomial(sent, max_loss) >= lost) < loss_alpha (1e-6). For a 1%
 * limit and 600 echoes that is >= 21 lost (3.5%): a 1% link stays quiet (P < 1e-6 per round,
 * < 0.1% per 10 minutes), a 5% link (30 expected) trips within about two minutes. Cleared when
 * the window's loss is back to <= loss_clear_factor (2) x max_loss. Needs loss_min_sent (100)
 * echoes before judging.
 *
 * Flapping (S2). More than flap_changes (K=2) up/down changes of a link within flap_window_ms
 * (60 s): down, up, down again. One LINK_FLAPPING alarm; while it lasts, the link's down spells
 * are its symptoms (recorded, never paged). Cleared after flap_quiet_ms (120 s) without change;
 * a link still down then gets its LINK_DOWN promoted to root (so a link that bounced twice in a
 * minute and then stays down is paged S2 "flapping" first and S1 "down" two minutes later).
 *
 * Node silent (S3). A node seen at least once and with no frame for silent_after_ms (30 s).
 * Never-seen nodes are "unknown", not silent. Cleared by the next frame.
 *
 * Agent down (S3, no vendor). A silent node whose parent still reaches it (the parent's rounds
 * to it, no older than late_ms, answered): the network is fine, the agent is not. The same
 * alarm as node silent, typed by the evidence whenever it is described; a silent node whose
 * parent does not reach it is a symptom of that link's alarm instead. When that link heals, the
 * node's silence waits silent_after_ms (its agent needs a few seconds to notice the dead
 * session and reconnect) before it would be promoted as agent down.
 *
 * Service unreachable (S2), from (node, service) checks, N bad to raise, M good to clear. A
 * node's checks of a service are fresh while its newest is no older than service_fresh_ms; a
 * service no node checked freshly is unknown (rn_alarm_service_state), not up.
 *
 * Service down (S2, entity = the service, node = its host, the first endpoint's node). Every
 * office that checks the service freshly fails it (its alarm holds, or its newest check failed:
 * one round at every office is enough) and at least service_down_min_offices (2) do: one office
 * alone cannot tell its own side from the host's.
 * Offices whose failure a cut or path-lost alarm on their way explains do not count, either
 * way (a black-holed block is no evidence against the host). ONE alarm for the service; its
 * impact lists every office that lost it; each office's "service unreachable" is its symptom.
 * When every failing office's path is proven fine (a good round to the root, or to its parent
 * when that is the root, in progress at its first failed check or later) nothing above can
 * explain it and it is published at once; else after the settle window. Cleared when the
 * condition ends: an office's checks succeed again (M good, the outage ends at its first good
 * check) or too few fresh failing offices remain. A service with several endpoints is judged
 * as a whole.
 *
 * Certificate expiring (S3, entity = the service, node = its host). An HTTPS check reports
 * cert_days, the days until the server certificate's notAfter; under cert_warn_days (14) from
 * any office raises it, the next report at or over it clears it (a renewed certificate). A
 * certificate that no longer verifies fails the check itself (service unreachable/down).
 *
 * VC quality low (S2), from a node's "rtp" samples (MOS, loss per capture interval), M of N
 * intervals bad to raise (see rn_alarm_observe_vc). A symptom of a cut or a degraded link on the
 * way from the office to the VC service's host (its cause, as a degraded link is a cause of
 * nothing else), else a root of its own.
 *
 * CORRELATION. An alarm whose node lies under a cut (a down single uplink, an isolated node or a
 * flapping link on its path towards the root; for services, on the path to the service's host)
 * is a symptom of the highest such alarm; symptoms always point at a root (root_id), never at
 * another symptom. Silent nodes under a silent node, path-lost under path-lost, a service
 * unreachable while that service is down at its host, and a service unreachable under the same
 * service unreachable from an ancestor are symptoms too. A new root
 * is held for settle_ms (1.5 probe intervals) before it is published, and re-parented if an
 * upstream alarm appears meanwhile: a block can cross its threshold before its district does.
 * An alarm on a link into the root (nothing above to wait for) is published at once. When a root
 * clears, each of its symptoms that still holds is held promote_hold_ms ((M+2) probe intervals:
 * long enough for its own evidence to recover) and then promoted to a root of its own.
 *
 * IMPACT. A cut at node C (its uplinks down, or isolated) takes C's subtree off the network, and
 * those offices lose every service with no endpoint inside C's subtree (docs/architecture.md,
 * "The network it models").
 *
 * MAINTENANCE. An alarm whose evidence starts inside a window set for its entity (circuit or
 * node), its node or any ancestor of its node is `planned`; a symptom of a planned root is too.
 *
 * EVENTS. RAISED: a new root, page it. SYMPTOM_OF: an alarm is (now) a symptom of root_id;
 * record it, do not page. PROMOTED: a symptom whose root cleared became a root; page it.
 * CLEARED: the condition ended (root_id tells whether it was a symptom). Roots are published
 * before their symptoms. An alarm that ends before it is published produces no event. */
#ifndef RN_ALARM_H
#define RN_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

typedef struct rn_alarm_engine rn_alarm_engine_t;

typedef enum {
    RN_ALARM_LINK_DOWN,           /* entity = circuit; the node's only uplink, or one of several
                                   * when none works (then a symptom of NODE_ISOLATED) */
    RN_ALARM_LINK_DEGRADED,       /* entity = circuit */
    RN_ALARM_LINK_FLAPPING,       /* entity = circuit */
    RN_ALARM_NODE_SILENT,         /* entity = node */
    RN_ALARM_NODE_ISOLATED,       /* entity = node; only for nodes with several uplinks */
    RN_ALARM_REDUNDANCY_LOST,     /* entity = circuit; a down uplink while another carries */
    RN_ALARM_SERVICE_UNREACHABLE, /* entity = service name, node = where it is checked from */
    RN_ALARM_PATH_LOST,           /* entity = node: it reaches its parent but not the root */
    RN_ALARM_VC_QUALITY,          /* entity = the vc service, node = the office: "VC quality low
                                   * at <office>" (VC media capture, agent/vc_quality.h) */
    RN_ALARM_AGENT_DOWN,          /* entity = node: silent while its parent reaches it */
    RN_ALARM_SERVICE_DOWN,        /* entity = service name, node = its host: every office that
                                   * checks it fails while their paths are fine */
    RN_ALARM_CERT_EXPIRING,       /* entity = service name, node = its host: the HTTPS
                                   * certificate expires within cert_warn_days */
    RN_ALARM_DEVICE_REPLACED,     /* entity = asset:<node>/<device>:<entPhysicalIndex>: a new
                                   * serial in a slot (collector/assets/assets.h; not the engine's) */
    RN_ALARM_CONTRACT_EXPIRING,   /* entity = asset:<serial>:amc|warranty: the asset file's
                                   * contract ends within 30 days (collector/assets/assets.h) */
    RN_ALARM_CAMERA_OFFLINE,      /* entity = cctv:<station>, node = the station's node: one or
                                   * more of its cameras down (collector/cctv/cctv.h; not the
                                   * engine's) */
    RN_ALARM_RECORDING_DEGRADED,  /* entity = cctv:<station>:rec: its cameras' stream to the NVR
                                   * is missing or lossy (collector/cctv/cctv.h) */
    RN_ALARM_TYPE_COUNT
} rn_alarm_type_t;

typedef enum {
    RN_ALARM_EV_RAISED,
    RN_ALARM_EV_SYMPTOM_OF,
    RN_ALARM_EV_PROMOTED,
    RN_ALARM_EV_CLEARED,
} rn_alarm_event_kind_t;

/* Status of a link or node for the API and dashboard. */
typedef enum {
    RN_STATUS_UNKNOWN,  /* no evidence yet */
    RN_STATUS_UP,
    RN_STATUS_DOWN,     /* link: down; node: cut off (isolated or under a down link) */
    RN_STATUS_DEGRADED, /* link only */
    RN_STATUS_FLAPPING, /* link only */
    RN_STATUS_SILENT,   /* node only: its agent sends nothing, the network looks fine */
} rn_alarm_status_t;

/* One alarm, as seen by callbacks and iterators. Every pointer is borrowed: valid until the
 * callback returns (copy what you keep). */
typedef struct {
    uint64_t id;                  /* unique per engine, never reused, > 0 */
    rn_alarm_type_t type;
    int severity;                 /* 1 (S1, worst) .. 3 */
    const char *entity;           /* circuit, node id or service name (see the type) */
    const char *node;             /* the node the alarm is about (link: its child end) */
    const char *vendor;           /* vendor key for link alarms, else NULL */
    const char *circuit;          /* circuit for link alarms, else NULL */
    const char *service;          /* SERVICE_UNREACHABLE, SERVICE_DOWN, CERT_EXPIRING (and the
                                   * vc service of VC_QUALITY), else NULL */
    uint64_t root_id;             /* 0: a root; else the root it is a symptom of */
    int64_t since_ms;             /* time of the first bad evidence (the outage start) */
    int64_t raised_ms;            /* when first published, 0 if never */
    int64_t until_ms;             /* CLEARED: time of the first good evidence (the outage end),
                                   * 0 if not known (then the clear's own time is the end) */
    bool planned;                 /* inside a maintenance window */
    const char *const *impact_nodes; /* offices cut off, the alarm's own node first */
    size_t n_impact_nodes;
    const char *const *impact_services; /* services those offices lose */
    size_t n_impact_services;
    const char *text;             /* one readable line for the NOC */
} rn_alarm_t;

/* Receives an event. at_ms is the engine's clock. Must not call back into the engine. */
typedef void (*rn_alarm_event_fn)(void *ctx, rn_alarm_event_kind_t kind, const rn_alarm_t *alarm,
                                  int64_t at_ms);

/* Detection knobs. A zero field means "not set here": the per-link override wins over the
 * per-SLA-class entry, which wins over rn_alarm_config_t.knobs, which wins over the built-in
 * default shown in brackets. */
typedef struct {
    uint32_t down_after;      /* N: rounds at 100% loss that take a link down [2] */
    uint32_t up_after;        /* M: rounds with a reply that bring it up [3] */
    uint32_t flap_changes;    /* K: more than K changes within flap_window_ms is flapping [2] */
    int64_t flap_window_ms;   /* [60000] */
    int64_t flap_quiet_ms;    /* flapping clears after this long without a change [120000] */
    uint32_t slow_of;         /* latency/jitter: slow_of of the last slow_in rounds [6] */
    uint32_t slow_in;         /* [10] */
    uint32_t loss_window;     /* rounds whose losses are summed [120] */
    uint32_t loss_min_sent;   /* echoes in the window before loss is judged [100] */
    double loss_alpha;        /* false-alarm probability per judgement [1e-6] */
    double loss_clear_factor; /* clear when window loss <= this x max_loss_pct [2.0] */
} rn_alarm_knobs_t;

/* Knobs for one SLA class (name = class) or one link (name = circuit). */
typedef struct {
    const char *name;
    rn_alarm_knobs_t knobs;
} rn_alarm_knob_entry_t;

typedef struct {
    int64_t probe_interval_ms;  /* [topology settings.probe_interval_s] */
    uint32_t probe_count;       /* echoes per round when a sample says 0 sent [settings] */
    int64_t settle_ms;          /* hold a new root this long [1.5 x probe interval] */
    int64_t promote_hold_ms;    /* hold an orphaned symptom [(up_after + 2) x probe interval] */
    int64_t silent_after_ms;    /* [30000] */
    int64_t late_ms;            /* older samples are replays and move nothing [10000] */
    int severity[RN_ALARM_TYPE_COUNT]; /* 0: default (S1 down/isolated/path lost, S2 degraded,
                                        * flapping, redundancy lost, service unreachable,
                                        * service down; S3 silent, agent down, certificate
                                        * expiring) */
    rn_alarm_knobs_t knobs;
    const rn_alarm_knob_entry_t *classes; /* per SLA class (the lead fills from the topology) */
    size_t n_classes;
    const rn_alarm_knob_entry_t *links;   /* per circuit */
    size_t n_links;
    /* VC quality (RN_ALARM_VC_QUALITY): an interval is bad when its MOS is under vc_min_mos
     * [3.6] or its loss over vc_max_loss_pct [3]; raised when vc_bad_of [3] of the last
     * vc_bad_in [5] intervals are bad, cleared when none of the last vc_bad_of is. */
    double vc_min_mos, vc_max_loss_pct;
    uint32_t vc_bad_of, vc_bad_in;
    int64_t vc_promote_hold_ms; /* a VC symptom whose root cleared waits this long (its own
                                 * figures need vc_bad_of intervals to clear) [20000] */
    /* Services: a node's checks are fresh for service_fresh_ms [max(late_ms, 3 probe
     * intervals)]; SERVICE_DOWN needs service_down_min_offices failing offices [2];
     * CERT_EXPIRING under cert_warn_days [14]. */
    int64_t service_fresh_ms;
    uint32_t service_down_min_offices;
    double cert_warn_days;
} rn_alarm_config_t;

/* Creates an engine over topo (borrowed: it must stay valid until the engine is freed or given
 * another topology). cfg may be NULL (all defaults); it is copied. fn receives every event.
 * Returns 0, -EINVAL (no root in topo) or -ENOMEM. */
int rn_alarm_engine_new(const rn_topology_t *topo, const rn_alarm_config_t *cfg,
                        rn_alarm_event_fn fn, void *ctx, rn_alarm_engine_t **out);

/* Swaps in a reloaded topology (borrowed as above; the old one may be freed after the call).
 * Link, node and service state carries over by circuit, node id and service name; alarms whose
 * entity still exists are kept (impact and text recomputed), the others are cleared (CLEARED
 * events). Returns 0 or -ENOMEM (then the engine keeps the old topology, which must stay valid). */
int rn_alarm_engine_set_topology(rn_alarm_engine_t *e, const rn_topology_t *topo);

/* Clears nothing, emits nothing: frees everything. NULL is fine. */
void rn_alarm_engine_free(rn_alarm_engine_t *e);

/* One ICMP probe round from node to target (a node id: its parent, the root, or one of its
 * children). sent is the
 * echo count (0: probe_count), loss_pct 0..100, rtt_ms and jitter_ms NAN when nothing came back.
 * Unknown nodes or targets are ignored. */
void rn_alarm_observe_icmp(rn_alarm_engine_t *e, const char *node, const char *target,
                           int64_t t_ms, uint32_t sent, double loss_pct, double rtt_ms,
                           double jitter_ms);

/* ifOperStatus of interface ifname of device, polled at node. Interfaces that are no link's end
 * are ignored. */
void rn_alarm_observe_ifstatus(rn_alarm_engine_t *e, const char *node, const char *device,
                               const char *ifname, int64_t t_ms, int oper);

/* A TCP/HTTP check of service from node: one probe round (t_ms, its start) of all the
 * service's targets. A failed check with the same t_ms as a good one before it turns that round
 * bad (its targets may arrive in two batches); any other check not newer than the last is a
 * duplicate. */
void rn_alarm_observe_service(rn_alarm_engine_t *e, const char *node, const char *service,
                              int64_t t_ms, bool reachable);

/* An HTTPS check of service from node saw a server certificate that expires in days (NAN: no
 * certificate, or it did not verify; says nothing). */
void rn_alarm_observe_cert(rn_alarm_engine_t *e, const char *node, const char *service,
                           int64_t t_ms, double days);

/* VC media quality seen at node over one capture interval (an "rtp" sample): its estimated MOS
 * and loss percent; intervals without media (NAN) say nothing. See the vc_* knobs. The alarm is
 * a symptom of a down, flapping or degraded link on the office's path to the VC host. */
void rn_alarm_observe_vc(rn_alarm_engine_t *e, const char *node, int64_t t_ms, double mos,
                         double loss_pct);

/* Any frame from node's agent (hello, batch, heartbeat). */
void rn_alarm_observe_node_seen(rn_alarm_engine_t *e, const char *node, int64_t t_ms);

/* Advances the clock to now_ms: publishes roots whose settle window ended, promotes orphaned
 * symptoms, raises silence, ends flapping. Call it about once a second. */
void rn_alarm_tick(rn_alarm_engine_t *e, int64_t now_ms);

/* Declares a maintenance window [start_ms, end_ms) for entity (circuit or node id; a node
 * covers its subtree). Returns 0 or -ENOMEM. Alarms already started are not re-flagged. */
int rn_alarm_set_maintenance(rn_alarm_engine_t *e, const char *entity, int64_t start_ms,
                             int64_t end_ms);

/* Forgets every maintenance window (before loading the current set again). */
void rn_alarm_clear_maintenance(rn_alarm_engine_t *e);

/* Calls fn for every published alarm: roots first (oldest first), then symptoms. Returns the
 * number of alarms visited. fn must not call back into the engine. */
size_t rn_alarm_foreach(rn_alarm_engine_t *e, void (*fn)(void *ctx, const rn_alarm_t *a),
                        void *ctx);

/* Status of the link with this circuit / of this node; UNKNOWN for names not in the topology. */
rn_alarm_status_t rn_alarm_link_status(const rn_alarm_engine_t *e, const char *circuit);
rn_alarm_status_t rn_alarm_node_status(const rn_alarm_engine_t *e, const char *node);

/* Returns 1 if node reaches service now (every link on the path to one of its endpoints is not
 * known down), 0 if not, -ENOENT for an unknown node or service. */
int rn_alarm_reaches(const rn_alarm_engine_t *e, const char *node, const char *service);

/* What the engine knows of one service now. */
typedef struct {
    size_t n_ok;          /* offices whose fresh checks reach it */
    size_t n_failing;     /* offices whose fresh checks fail (SERVICE_UNREACHABLE held) */
    size_t n_checking;    /* offices with fresh checks: ok, failing, or changing state */
    bool down;            /* a SERVICE_DOWN alarm is open */
    double cert_days;     /* newest certificate report, NAN if none */
} rn_alarm_service_state_t;

/* Fills out for service. Returns 0, or -ENOENT for a service not in the topology. A service
 * with n_checking 0 is unknown: nothing says it works. */
int rn_alarm_service_state(const rn_alarm_engine_t *e, const char *service,
                           rn_alarm_service_state_t *out);

/* VOCABULARY (alarm_names.c; docs/api.md, "Vocabulary"). One spelling of each word, used by the
 * event store's rows, the API, the notifiers (webhook, exec, journal, syslog) and the reports:
 *
 *   type      link_down link_degraded link_flapping node_silent node_isolated redundancy_lost
 *             service_unreachable path_lost vc_quality agent_down service_down cert_expiring
 *             device_replaced contract_expiring camera_offline recording_degraded
 *             (SNMP: rnAlarmType = rn_alarm_type_t + 1, linkDown(1) .. recordingDegraded(16))
 *   severity  1 S1 worst, 2 S2, 3 S3: "S1".."S3" as text (the event store), the number in JSON,
 *             syslog SD and traps (the MIB's rnAlarmSeverity labels: critical(1) major(2)
 *             minor(3))
 *   event     raised symptom_of promoted cleared (the event store's history adds escalated,
 *             acknowledged and comment: rn_alarm_hist_kind_name)
 *
 * The parsers also take the older spellings: any case, ' ' or '-' for '_' ("link down",
 * "Link-Down"), "VC quality low" / "VC_quality_low" (vc_quality), "certificate expiring"
 * (cert_expiring); "critical", "major", "minor", "1".."3" (S1..S3); "symptom of", "symptom". */

/* Returns the static name of a type ("link_down"), "unknown" for a value out of range. */
const char *rn_alarm_type_name(rn_alarm_type_t type);

/* Returns the type spelled s (any spelling above), or -EINVAL (NULL, unknown). */
int rn_alarm_type_parse(const char *s);

/* Returns the name of the type spelled s, or s itself when it names none (a row written by a
 * newer collector keeps its word). */
const char *rn_alarm_type_canonical(const char *s);

/* Returns "S1".."S3" for severity 1..3, "S3" (the least) for anything else. */
const char *rn_alarm_severity_name(int severity);

/* Returns the severity 1..3 spelled s ("S1", "1", "critical", ...), or -EINVAL. */
int rn_alarm_severity_parse(const char *s);

/* Returns the static name of an event kind ("symptom_of"), "unknown" out of range. */
const char *rn_alarm_event_name(rn_alarm_event_kind_t kind);

/* Returns the event kind spelled s ("symptom of", "symptom" too), or -EINVAL. */
int rn_alarm_event_parse(const char *s);

/* Continues alarm numbering at next_id (at least; never goes back), so ids stay unique across
 * collector restarts: the event store knows the highest id ever issued. */
void rn_alarm_engine_set_next_id(rn_alarm_engine_t *e, uint64_t next_id);

/* Takes the next alarm id for an alarm raised outside the engine (the asset register's), so that
 * ids stay unique across both. Returns it. */
uint64_t rn_alarm_engine_take_id(rn_alarm_engine_t *e);

#endif
