/* The collector's side of police video surveillance (collector/cctv/cctv.h): it owns the camera
 * state, feeds it the agents' "rtsp" samples, ticks it from the cron, swaps the topology on a
 * reload, and publishes its "camera offline" alarms as the alarm engine's own are published
 * (event store, notifiers, HTTP events, log), with ids from the engine so both share one
 * numbering. The same path as the asset register's alarms (asset_register.c). */
#include <math.h>
#include <string.h>

#include "cctv/cctv.h"
#include "clock.h"
#include "collector.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "sources.h"

/* A station's alarm, as rn_alarm_t for the collector's pipeline. */
static void on_cctv_alarm(void *ctx, bool raised, rn_cctv_alarm_t *a, int64_t at_ms)
{
    rn_collector_t *c = ctx;
    if (raised)
        a->id = rn_alarm_engine_take_id(c->alarms);
    const char *impact[1] = { a->node };
    rn_alarm_t x = { 0 };
    x.id = a->id;
    x.type = a->kind == RN_CCTV_ALARM_RECORDING ? RN_ALARM_RECORDING_DEGRADED
                                                : RN_ALARM_CAMERA_OFFLINE;
    x.severity = a->severity; /* S2: nothing recorded from those cameras; S3: a lossy stream */
    x.entity = a->entity;
    x.node = a->node;
    x.since_ms = a->since_ms;
    x.raised_ms = raised ? at_ms : 0;
    x.until_ms = raised ? 0 : a->until_ms;
    x.impact_nodes = impact;
    x.n_impact_nodes = 1;
    x.text = a->text;
    rn_collector_publish_alarm(c, raised ? RN_ALARM_EV_RAISED : RN_ALARM_EV_CLEARED, &x, at_ms);
}

int rn_collector_cctv_start(rn_collector_t *c)
{
    int rc = rn_cctv_new(c->topo, c->topo->settings.probe_interval_s, on_cctv_alarm, c,
                         &c->cctv);
    if (rc)
        rn_error("police station cameras: %s", rn_strerror(rc));
    return rc;
}

void rn_collector_cctv_reload(rn_collector_t *c)
{
    if (!c->cctv)
        return;
    int rc = rn_cctv_set_topology(c->cctv, c->topo, c->topo->settings.probe_interval_s,
                                  rn_clock_wall_ms());
    if (rc) /* the camera state then runs on the old topology's stations */
        rn_error("reload: police station cameras keep the old stations: %s", rn_strerror(rc));
}

void rn_collector_cctv_tick(rn_collector_t *c, int64_t now_ms)
{
    if (c->cctv)
        rn_cctv_tick(c->cctv, now_ms);
}

/* A sample value as a double, NAN when unknown or absent. */
static double value(const Rn__Sample *s, size_t i)
{
    if (i >= s->n_values || !s->values[i]->has_gauge)
        return NAN;
    return s->values[i]->gauge;
}

void rn_collector_cctv_observe(rn_collector_t *c, const char *node, const Rn__Sample *s)
{
    if (c->cctv && strcmp(s->source, RN_SRC_RTSP) == 0)
        rn_cctv_observe(c->cctv, node, s->device, s->object, s->time_ms, value(s, RN_RTSP_UP),
                        value(s, RN_RTSP_MS));
    else if (c->cctv && strcmp(s->source, RN_SRC_REC) == 0) /* a station's recording stream */
        rn_cctv_observe_rec(c->cctv, s->object, s->time_ms, value(s, RN_REC_STREAMS),
                            value(s, RN_REC_LOSS_PCT), value(s, RN_REC_JITTER_MS));
}

void rn_collector_cctv_free(rn_collector_t *c)
{
    rn_cctv_free(c->cctv);
    c->cctv = NULL;
}
