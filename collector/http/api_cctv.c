/* GET /api/v1/cctv: police stations and their cameras, up or down (collector/cctv/cctv.h;
 * docs/api.md). Filter district (the first segment of the station's node id; a name that is no
 * district node is a 404, so a typo is not an empty page). One row per station in topology
 * order: its node, NVR and its state, open "camera offline" alarms, counts, every camera's state,
 * and its recording stream's figures and "recording degraded" alarm. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cctv/cctv.h"
#include "http/http_int.h"
#include "series/latest.h"
#include "metrics.h"
#include "sources.h"

static const char *state_name(rn_cctv_state_t s)
{
    return s == RN_CCTV_UP ? "up" : s == RN_CCTV_DOWN ? "down" : "unknown";
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

/* Returns true if node id n lies in district d (its first segment is d). */
static bool in_district(const char *n, const char *d)
{
    size_t k = strlen(d);
    return strncmp(n, d, k) == 0 && (n[k] == '\0' || n[k] == '/');
}

/* A camera's newest ping (plan.c: ICMP target "cam:<station>:<camera>") into loss and rtt;
 * NAN when none. A camera that pings but does not answer RTSP has a hung video server; one that
 * does neither has lost power or its cable. */
static void ping_of(const struct rn_latest *l, const char *node, const char *station,
                    const char *camera, double *loss, double *rtt)
{
    char name[RN_WIRE_MAX_NAME + 1];
    rn_latest_series_t buf;
    snprintf(name, sizeof name, "cam:%s:%s", station, camera);
    const rn_latest_series_t *s = l ? rn_latest_find(l, node, RN_SRC_ICMP, "", name, &buf) : NULL;
    *loss = s && s->n >= RN_ICMP_N ? s->v[RN_ICMP_LOSS] : NAN;
    *rtt = s && s->n >= RN_ICMP_N ? s->v[RN_ICMP_RTTAVG] : NAN;
}

/* Returns the node whose agent sends n's ping series: n itself, or for an agentless node its
 * nearest ancestor with an agent (plan.c puts the "cam:" targets in that agent's plan, and ICMP
 * series are stored under the node that measured them). */
static const rn_node_t *pinger_of(const rn_node_t *n)
{
    const rn_node_t *p = n;
    while (p && !p->agent)
        p = p->parent;
    return p ? p : n;
}

/* Adds the station's NVR state to row: "nvr_state" up|down|unknown (null without an NVR),
 * "nvr_rtsp_ms" and "nvr_alarm_id" (its open "recording lost" alarm). */
static void nvr_json(json_t *row, const rn_cctv_t *cc, const rn_station_t *st)
{
    rn_cctv_camera_t v = { .state = RN_CCTV_UNKNOWN, .rtsp_ms = NAN };
    if (cc && st->nvr)
        rn_cctv_camera(cc, st->name, RN_TOPOLOGY_NVR, &v);
    uint64_t alarm = cc ? rn_cctv_nvr_alarm(cc, st->name) : 0;
    json_object_set_new(row, "nvr_state", st->nvr ? json_string(state_name(v.state))
                                                  : json_null());
    json_object_set_new(row, "nvr_rtsp_ms", num_or_null(v.rtsp_ms));
    json_object_set_new(row, "nvr_alarm_id", alarm ? json_integer((json_int_t)alarm)
                                                   : json_null());
}

/* Returns the station's "recording" object: its recording stream's newest interval
 * ({"ifname", "state": "ok|degraded|unknown", "streams", "loss_pct", "jitter_ms", "last_ms",
 * "alarm_id"}), or null for a station without a `recording:` interface. */
static json_t *recording_json(const rn_cctv_t *cc, const rn_station_t *st)
{
    rn_cctv_recording_t r = { .streams = NAN, .loss_pct = NAN, .jitter_ms = NAN };
    if (!st->rec_ifname)
        return json_null();
    if (cc)
        rn_cctv_recording(cc, st->name, &r);
    const char *state = isnan(r.streams) ? "unknown" : r.degraded ? "degraded" : "ok";
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "ifname", st->rec_ifname, "state", state,
                     "streams", num_or_null(r.streams), "loss_pct", num_or_null(r.loss_pct),
                     "jitter_ms", num_or_null(r.jitter_ms), "last_ms",
                     r.last_ms ? json_integer(r.last_ms) : json_null(), "alarm_id",
                     r.alarm_id ? json_integer((json_int_t)r.alarm_id) : json_null());
}

/* Returns one station's row. */
static json_t *station_json(const rn_http_t *h, const rn_node_t *n, const rn_station_t *st)
{
    const rn_cctv_t *cc = rn__http_cctv(h);
    const rn_node_t *pinger = pinger_of(n);
    json_t *cams = json_array();
    size_t counts[3] = { 0, 0, 0 };
    for (size_t k = 0; k < st->n_cameras; k++) {
        rn_cctv_camera_t v = { .state = RN_CCTV_UNKNOWN, .rtsp_ms = NAN };
        if (cc)
            rn_cctv_camera(cc, st->name, st->cameras[k].name, &v);
        counts[v.state]++;
        double loss, rtt;
        ping_of(rn__http_latest(h), pinger->id, st->name, st->cameras[k].name, &loss, &rtt);
        json_array_append_new(cams, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "name",
            st->cameras[k].name, "addr", st->cameras[k].addr, "state", state_name(v.state),
            "last_ms", v.last_ms ? json_integer(v.last_ms) : json_null(), "changed_ms",
            v.changed_ms ? json_integer(v.changed_ms) : json_null(), "rtsp_ms",
            num_or_null(v.rtsp_ms), "ping_loss_pct", num_or_null(loss), "ping_ms",
            num_or_null(rtt)));
    }
    uint64_t alarm = cc ? rn_cctv_station_alarm(cc, st->name) : 0;
    const char *slash = strchr(n->id, '/');
    json_t *row = json_pack("{s:s,s:s,s:s%,s:o,s:o,s:I,s:I,s:I,s:o}", "station", st->name, "node",
                     n->id, "district", n->id, slash ? (size_t)(slash - n->id) : strlen(n->id),
                     "nvr", st->nvr ? json_string(st->nvr) : json_null(), "alarm_id",
                     alarm ? json_integer((json_int_t)alarm) : json_null(), "up",
                     (json_int_t)counts[RN_CCTV_UP], "down", (json_int_t)counts[RN_CCTV_DOWN],
                     "unknown", (json_int_t)counts[RN_CCTV_UNKNOWN], "cameras", cams);
    if (row) {
        nvr_json(row, cc, st);
        json_object_set_new(row, "recording", recording_json(cc, st));
    }
    return row;
}

/* GET /api/v1/cctv: every police station's cameras, or one district's. */
static void api_cctv(rn_http_req_t *r, const char *arg)
{
    static const char *const allowed[] = { "district", NULL };
    (void)arg;
    if (!rn__http_args_only(r, allowed))
        return;
    const rn_topology_t *t = rn__http_topo(r->http);
    const char *district = rn__http_arg(r, "district");
    if (district) {
        const rn_node_t *d = rn_topology_node(t, district);
        if (!d || strcmp(d->tier, "district") != 0)
            return rn__http_error(r, 404, "no district '%.64s' in the topology", district);
    }
    json_t *rows = json_array();
    size_t down = 0;
    for (size_t i = 0; rows && i < t->n_nodes; i++) {
        const rn_node_t *n = &t->nodes[i];
        if (district && !in_district(n->id, district))
            continue;
        for (size_t s = 0; s < n->n_stations; s++) {
            json_t *row = station_json(r->http, n, &n->stations[s]);
            down += json_integer_value(json_object_get(row, "down")) > 0;
            json_array_append_new(rows, row);
        }
    }
    if (!rows)
        return rn__http_error(r, 503, "out of memory");
    rn__http_json(r, 200, json_pack("{s:o,s:o,s:I,s:I}", "district",
                                    district ? json_string(district) : json_null(), "stations",
                                    rows, "count", (json_int_t)json_array_size(rows),
                                    "stations_down", (json_int_t)down));
}

const rn_http_route_t rn_api_cctv_routes[] = {
    { "GET", "/api/v1/cctv", false, api_cctv },
    { NULL, NULL, false, NULL },
};
