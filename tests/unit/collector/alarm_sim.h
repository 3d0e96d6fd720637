/* The simulated RajNet for the alarm engine's tests (test_alarm.c, test_alarm_svc.c): a small
 * network model over deploy/sim/topology.yaml that turns cuts, heals, loss and latency into the
 * probe rounds, interface polls and agent frames the collector would receive, with explicit
 * times, and a log of the engine's events for the tests to assert on. */
#ifndef RN_TEST_ALARM_SIM_H
#define RN_TEST_ALARM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alarm/alarm.h"
#include "topology.h"

#define SIM_TOPOLOGY RN_SRCDIR "/deploy/sim/topology.yaml"
#define SIM_SECRETS RN_SRCDIR "/deploy/sim/secrets.yaml"
#define T0 1700000000000LL /* an epoch time in ms: engines see realistic clocks */
#define MAX_EVENTS 4096
#define N_NODES 6
#define NEVER INT64_MAX

/* indexes of sim_nodes[] the tests name */
#define JPR 1
#define AJM 2
#define SNG 3
#define AMR 4

/* ---- recorded events ---- */

typedef struct {
    rn_alarm_event_kind_t kind;
    rn_alarm_type_t type;
    uint64_t id, root_id;
    int severity;
    bool planned;
    int64_t at, since, until;
    char entity[64], node[64], vendor[32], circuit[64], text[800];
    char impact_nodes[256], impact_services[128]; /* joined with ',' */
} event_t;

extern event_t events[MAX_EVENTS];
extern size_t n_events;

/* The engine's event callback: records the event in events[] (printed too with
 * RN_TEST_VERBOSE set). */
void on_event(void *ctx, rn_alarm_event_kind_t kind, const rn_alarm_t *a, int64_t at);

/* Returns how many events of kind (and type, if type >= 0) were recorded. */
size_t count(rn_alarm_event_kind_t kind, int type);

/* Returns the first event of kind (and type if >= 0, entity if not NULL), or NULL. */
const event_t *find(rn_alarm_event_kind_t kind, int type, const char *entity);

/* ---- the network model ---- */

/* What happens to the simulated network. Times are absolute ms. */
typedef struct {
    const char *id, *parent, *device_if[2]; /* uplink ends: "device|ifname" of each end */
} sim_node_t;

typedef struct {
    rn_topology_t *topo;
    rn_alarm_engine_t *e;
    int64_t interval;           /* probe interval, ms */
    int64_t now;
    int64_t cut_at[N_NODES], heal_at[N_NODES]; /* of each node's uplink */
    int64_t lag[N_NODES];       /* a node's probes see the network this much late */
    int64_t phase[N_NODES];     /* a node's rounds start this much after the interval's */
    double rand_loss[N_NODES];  /* per-echo random loss on the node's uplink */
    double rtt[N_NODES];        /* rtt to the parent, ms */
    bool mute[N_NODES];         /* its agent sends nothing */
    int64_t flap_period[N_NODES]; /* the cut uplink goes down and up with this period */
    bool if_polls;              /* poll ifOperStatus every 5 s (or poll_every ms) */
    int64_t poll_every;         /* ms between polls; 0: 5000 */
    int64_t if_cache;           /* polls report the interface as it was this much earlier */
    bool sdc_if_only;           /* only sdc's agent reports interfaces */
    bool no_probes;             /* rounds are not fed */
    bool downward;              /* every agent also probes its children (as the daemon's plan) */
    bool inband;                /* an agent cut off from sdc delivers nothing live: its rounds
                                 * wait in its spool and replay when its path heals */
    bool blackhole[N_NODES];    /* the cut leaves the uplink's interfaces up */
    struct { const char *target; int64_t t; double loss; } spool[N_NODES][512];
    int n_spool[N_NODES];
} sim_t;

extern const sim_node_t sim_nodes[N_NODES];

/* Returns the index of node id in sim_nodes[] (fails the test for an unknown id). */
int sim_index(const char *id);

/* Returns true if any uplink on the path from node i to the root is cut at t. */
bool path_cut(const sim_t *s, int i, int64_t t);

/* Advances the model by its resolution (10 ms): rounds, frames and polls due now, then a tick. */
void sim_step(sim_t *s);

/* Runs the model for ms. */
void sim_run(sim_t *s, int64_t ms);

/* Starts a model at T0 with the given probe interval and config (NULL: defaults), runs it a
 * minute so every stream has history, and clears the event log. */
void sim_start(sim_t *s, int64_t interval, const rn_alarm_config_t *cfg);

/* Frees the model's engine and topology. */
void sim_stop(sim_t *s);

/* Cuts node id's uplink at t (absolute), healing it at heal (NEVER: not). */
void sim_cut(sim_t *s, const char *id, int64_t t, int64_t heal);

/* Collects the ids of published alarms. */
typedef struct {
    size_t roots, symptoms;
    char list[1024];
} census_t;

/* Returns how many roots and symptoms the engine publishes now, and a list of them. */
census_t census(sim_t *s);

#endif
