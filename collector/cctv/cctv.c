/* Police station cameras and their "camera offline" alarm (cctv.h). The state mirrors the
 * topology's stations in file order, one entry per station holding its cameras; a reload builds
 * a new mirror and carries each camera's state over by name. */
#include "cctv/cctv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTITY_MAX 80 /* "cctv:", a station name of at most 63 and ":nvr" */

typedef struct {
    char *name;
    rn_cctv_state_t state;     /* held state: UNKNOWN only until the first verdict */
    uint32_t bad;              /* down rounds in a row */
    int64_t first_bad;         /* time of the first of them */
    int64_t last_t, changed;
    double ms;
} cam_t;

typedef struct {
    char *name, *node;
    cam_t *cams;
    size_t n;
    uint64_t alarm_id;         /* 0: no alarm open */
    int64_t since;
    char *text;
    /* the NVR (topology `nvr:`), probed as camera RN_TOPOLOGY_NVR; its own alarm */
    bool has_nvr;
    cam_t nvr;
    char *nvr_addr, *nvr_text;
    uint64_t nvr_alarm;
    int64_t nvr_since;
    /* the recording stream (topology `recording:`), its "rec" samples; its own alarm */
    bool has_rec;
    double rec_max_loss;
    char *rec_ifname, *rec_text;
    int64_t rec_t, rec_first_bad, rec_since;
    double rec_streams, rec_loss, rec_jitter;
    uint32_t rec_bad, rec_good;   /* bad or good intervals in a row */
    bool rec_no_stream;           /* the newest bad interval had no stream at all */
    uint64_t rec_alarm;
    int rec_severity;
} st_t;

struct rn_cctv {
    st_t *st;
    size_t n;
    int64_t stale_ms, now;
    rn_cctv_alarm_fn fn;
    void *ctx;
};

static void free_stations(st_t *st, size_t n)
{
    for (size_t i = 0; st && i < n; i++) {
        for (size_t k = 0; st[i].cams && k < st[i].n; k++)
            free(st[i].cams[k].name);
        free(st[i].cams);
        free(st[i].name);
        free(st[i].node);
        free(st[i].text);
        free(st[i].nvr.name);
        free(st[i].nvr_addr);
        free(st[i].nvr_text);
        free(st[i].rec_ifname);
        free(st[i].rec_text);
    }
    free(st);
}

/* Builds the mirror of topo's stations, every camera unknown. Returns 0 or -ENOMEM. */
static int mirror(const rn_topology_t *topo, st_t **out, size_t *n_out)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < topo->n_nodes; i++)
        n += topo->nodes[i].n_stations;
    st_t *st = calloc(n ? n : 1, sizeof *st);
    if (!st)
        return -ENOMEM;
    for (size_t i = 0; i < topo->n_nodes; i++)
        for (size_t s = 0; s < topo->nodes[i].n_stations; s++, k++) {
            const rn_station_t *ts = &topo->nodes[i].stations[s];
            st[k].name = strdup(ts->name);
            st[k].node = strdup(topo->nodes[i].id);
            st[k].cams = calloc(ts->n_cameras ? ts->n_cameras : 1, sizeof *st[k].cams);
            st[k].n = ts->n_cameras;
            st[k].has_nvr = ts->nvr != NULL;
            st[k].nvr.ms = NAN;
            st[k].has_rec = ts->rec_ifname != NULL;
            st[k].rec_max_loss = ts->rec_max_loss_pct;
            st[k].rec_streams = st[k].rec_loss = st[k].rec_jitter = NAN;
            if (ts->rec_ifname && !(st[k].rec_ifname = strdup(ts->rec_ifname))) {
                free_stations(st, k + 1);
                return -ENOMEM;
            }
            if (!st[k].name || !st[k].node || !st[k].cams ||
                (ts->nvr && (!(st[k].nvr.name = strdup(RN_TOPOLOGY_NVR)) ||
                             !(st[k].nvr_addr = strdup(ts->nvr))))) {
                free_stations(st, k + 1);
                return -ENOMEM;
            }
            for (size_t c = 0; c < ts->n_cameras; c++) {
                st[k].cams[c].ms = NAN;
                if (!(st[k].cams[c].name = strdup(ts->cameras[c].name))) {
                    free_stations(st, k + 1);
                    return -ENOMEM;
                }
            }
        }
    *out = st;
    *n_out = n;
    return 0;
}

static int64_t stale_after(uint32_t probe_interval_s)
{
    return (int64_t)(probe_interval_s ? probe_interval_s : 10) * 1000 * RN_CCTV_STALE_ROUNDS;
}

int rn_cctv_new(const rn_topology_t *topo, uint32_t probe_interval_s, rn_cctv_alarm_fn fn,
                void *ctx, rn_cctv_t **out)
{
    rn_cctv_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int rc = mirror(topo, &c->st, &c->n);
    if (rc) {
        free(c);
        return rc;
    }
    c->stale_ms = stale_after(probe_interval_s);
    c->fn = fn;
    c->ctx = ctx;
    *out = c;
    return 0;
}

static st_t *find_station(const rn_cctv_t *c, const char *name)
{
    for (size_t i = 0; name && i < c->n; i++)
        if (strcmp(c->st[i].name, name) == 0)
            return &c->st[i];
    return NULL;
}

/* Returns the camera of s with this name, its NVR for RN_TOPOLOGY_NVR (no camera has that
 * name), or NULL. */
static cam_t *find_cam(const st_t *s, const char *name)
{
    for (size_t k = 0; s && name && k < s->n; k++)
        if (strcmp(s->cams[k].name, name) == 0)
            return &s->cams[k];
    if (s && s->has_nvr && name && strcmp(name, RN_TOPOLOGY_NVR) == 0)
        return (cam_t *)&s->nvr;
    return NULL;
}

/* Publishes the clear of station s's alarm at at_ms and forgets it. */
static void clear_alarm(rn_cctv_t *c, st_t *s, int64_t until, int64_t at_ms)
{
    char entity[ENTITY_MAX];
    snprintf(entity, sizeof entity, "cctv:%s", s->name);
    rn_cctv_alarm_t a = { .id = s->alarm_id, .kind = RN_CCTV_ALARM_CAMERAS, .severity = 2,
                          .entity = entity, .station = s->name, .node = s->node,
                          .text = s->text ? s->text : "", .since_ms = s->since, .until_ms = until };
    c->fn(c->ctx, false, &a, at_ms);
    s->alarm_id = 0;
    free(s->text);
    s->text = NULL;
}

/* Publishes the clear of station s's NVR alarm at at_ms and forgets it. */
static void clear_nvr_alarm(rn_cctv_t *c, st_t *s, int64_t until, int64_t at_ms)
{
    char entity[ENTITY_MAX];
    snprintf(entity, sizeof entity, "cctv:%s:" RN_TOPOLOGY_NVR, s->name);
    rn_cctv_alarm_t a = { .id = s->nvr_alarm, .kind = RN_CCTV_ALARM_NVR, .severity = 2,
                          .entity = entity, .station = s->name, .node = s->node,
                          .text = s->nvr_text ? s->nvr_text : "", .since_ms = s->nvr_since,
                          .until_ms = until };
    c->fn(c->ctx, false, &a, at_ms);
    s->nvr_alarm = 0;
    free(s->nvr_text);
    s->nvr_text = NULL;
}

/* Carries station old's NVR state and alarm over to s (a reload), or clears the alarm at now_ms
 * when s has no NVR any more. */
static void carry_nvr(rn_cctv_t *c, st_t *old, st_t *s, int64_t now_ms)
{
    if (!s->has_nvr) {
        if (old->nvr_alarm)
            clear_nvr_alarm(c, old, 0, now_ms);
        return;
    }
    if (old->has_nvr) {
        char *name = s->nvr.name;
        s->nvr = old->nvr;
        s->nvr.name = name;
    }
    s->nvr_alarm = old->nvr_alarm;
    s->nvr_since = old->nvr_since;
    s->nvr_text = old->nvr_text;
    old->nvr_text = NULL;
}

/* Publishes the clear of station s's recording alarm at at_ms and forgets it. */
static void clear_rec_alarm(rn_cctv_t *c, st_t *s, int64_t until, int64_t at_ms)
{
    char entity[ENTITY_MAX];
    snprintf(entity, sizeof entity, "cctv:%s:rec", s->name);
    rn_cctv_alarm_t a = { .id = s->rec_alarm, .kind = RN_CCTV_ALARM_RECORDING,
                          .severity = s->rec_severity, .entity = entity, .station = s->name,
                          .node = s->node, .text = s->rec_text ? s->rec_text : "",
                          .since_ms = s->rec_since, .until_ms = until };
    c->fn(c->ctx, false, &a, at_ms);
    s->rec_alarm = 0;
    free(s->rec_text);
    s->rec_text = NULL;
}

/* Carries station old's recording state and alarm over to s (a reload), or clears the alarm at
 * now_ms when s has no recording interface any more. */
static void carry_rec(rn_cctv_t *c, st_t *old, st_t *s, int64_t now_ms)
{
    if (!s->has_rec) {
        if (old->rec_alarm)
            clear_rec_alarm(c, old, 0, now_ms);
        return;
    }
    s->rec_t = old->rec_t;
    s->rec_first_bad = old->rec_first_bad;
    s->rec_streams = old->rec_streams;
    s->rec_loss = old->rec_loss;
    s->rec_jitter = old->rec_jitter;
    s->rec_bad = old->rec_bad;
    s->rec_good = old->rec_good;
    s->rec_no_stream = old->rec_no_stream;
    s->rec_alarm = old->rec_alarm;
    s->rec_since = old->rec_since;
    s->rec_severity = old->rec_severity;
    s->rec_text = old->rec_text;
    old->rec_text = NULL;
}

int rn_cctv_set_topology(rn_cctv_t *c, const rn_topology_t *topo, uint32_t probe_interval_s,
                         int64_t now_ms)
{
    st_t *st;
    size_t n;
    int rc = mirror(topo, &st, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->n; i++) {
        st_t *old = &c->st[i], *s = NULL;
        for (size_t j = 0; j < n && !s; j++)
            if (!strcmp(st[j].name, old->name) && !strcmp(st[j].node, old->node))
                s = &st[j];
        if (!s) {
            if (old->alarm_id)
                clear_alarm(c, old, 0, now_ms); /* the station is gone */
            if (old->nvr_alarm)
                clear_nvr_alarm(c, old, 0, now_ms);
            if (old->rec_alarm)
                clear_rec_alarm(c, old, 0, now_ms);
            continue;
        }
        carry_nvr(c, old, s, now_ms);
        carry_rec(c, old, s, now_ms);
        for (size_t k = 0; k < old->n; k++) {
            cam_t *nc = find_cam(s, old->cams[k].name);
            if (!nc)
                continue;
            char *name = nc->name;
            *nc = old->cams[k];
            nc->name = name;
        }
        s->alarm_id = old->alarm_id;
        s->since = old->since;
        s->text = old->text;
        old->text = NULL;
    }
    free_stations(c->st, c->n);
    c->st = st;
    c->n = n;
    c->stale_ms = stale_after(probe_interval_s);
    return 0;
}

void rn_cctv_observe(rn_cctv_t *c, const char *node, const char *station, const char *camera,
                     int64_t t_ms, double up, double rtsp_ms)
{
    st_t *s = find_station(c, station);
    cam_t *k = s && node && !strcmp(s->node, node) ? find_cam(s, camera) : NULL;
    if (!k || isnan(up) || t_ms <= k->last_t)
        return;
    k->last_t = t_ms;
    if (up >= 0.5) {
        k->bad = 0;
        k->ms = rtsp_ms;
        if (k->state != RN_CCTV_UP)
            k->state = RN_CCTV_UP, k->changed = t_ms;
        return;
    }
    k->ms = NAN;
    if (k->bad++ == 0)
        k->first_bad = t_ms;
    if (k->bad >= RN_CCTV_DOWN_AFTER && k->state != RN_CCTV_DOWN)
        k->state = RN_CCTV_DOWN, k->changed = k->first_bad;
}

void rn_cctv_observe_rec(rn_cctv_t *c, const char *station, int64_t t_ms, double streams,
                         double loss_pct, double jitter_ms)
{
    st_t *s = find_station(c, station);
    if (!s || !s->has_rec || t_ms <= s->rec_t || isnan(streams))
        return;
    s->rec_t = t_ms;
    s->rec_streams = streams;
    s->rec_loss = streams >= 1 ? loss_pct : NAN;
    s->rec_jitter = streams >= 1 ? jitter_ms : NAN;
    bool no_stream = streams < 1;
    bool bad = no_stream || (!isnan(loss_pct) && loss_pct > s->rec_max_loss);
    if (!bad) {
        s->rec_bad = 0;
        s->rec_good++;
        return;
    }
    s->rec_good = 0;
    if (s->rec_bad++ == 0)
        s->rec_first_bad = t_ms;
    s->rec_no_stream = no_stream;
}

/* Raises station s's recording alarm: no stream reached its NVR (S2), or too much loss (S3). */
static void raise_rec_alarm(rn_cctv_t *c, st_t *s, int64_t now_ms)
{
    char text[384], entity[ENTITY_MAX];
    if (s->rec_no_stream)
        snprintf(text, sizeof text, "recording degraded at %s (%s): no stream from its %zu "
                 "camera%s reaches NVR %s (watched on %s)", s->name, s->node, s->n,
                 s->n == 1 ? "" : "s", s->nvr_addr, s->rec_ifname);
    else
        snprintf(text, sizeof text, "recording degraded at %s (%s): %.1f%% loss on the stream "
                 "to NVR %s (limit %g%%, watched on %s)", s->name, s->node, s->rec_loss,
                 s->nvr_addr, s->rec_max_loss, s->rec_ifname);
    if (!(s->rec_text = strdup(text)))
        return; /* retried at the next tick */
    snprintf(entity, sizeof entity, "cctv:%s:rec", s->name);
    s->rec_severity = s->rec_no_stream ? 2 : 3;
    rn_cctv_alarm_t a = { .kind = RN_CCTV_ALARM_RECORDING, .severity = s->rec_severity,
                          .entity = entity, .station = s->name, .node = s->node,
                          .text = s->rec_text, .since_ms = s->rec_first_bad };
    c->fn(c->ctx, true, &a, now_ms);
    s->rec_alarm = a.id ? a.id : 1;
    s->rec_since = s->rec_first_bad;
}

/* Raises or clears station s's recording alarm. A bad stream counts only while every camera and
 * the NVR are up: one of them down has its own alarm, which already explains the stream. */
static void tick_rec(rn_cctv_t *c, st_t *s, int64_t now_ms)
{
    if (!s->has_rec)
        return;
    bool all_up = !s->has_nvr || s->nvr.state == RN_CCTV_UP;
    for (size_t k = 0; k < s->n && all_up; k++)
        all_up = s->cams[k].state == RN_CCTV_UP;
    bool fresh = s->rec_t && now_ms - s->rec_t <= RN_CCTV_REC_STALE_MS;
    if (!s->rec_alarm && fresh && all_up && s->rec_bad >= RN_CCTV_REC_BAD_AFTER)
        raise_rec_alarm(c, s, now_ms);
    else if (s->rec_alarm && s->rec_good >= RN_CCTV_REC_GOOD_AFTER)
        clear_rec_alarm(c, s, s->rec_t, now_ms);
}

/* Raises station s's alarm, its text listing the cameras down now. */
static void raise_alarm(rn_cctv_t *c, st_t *s, size_t n_down, int64_t now_ms)
{
    char text[1024], entity[ENTITY_MAX];
    int64_t since = 0;
    size_t len = (size_t)snprintf(text, sizeof text, "camera offline at %s (%s): ", s->name,
                                  s->node);
    for (size_t k = 0, listed = 0; k < s->n && len < sizeof text; k++) {
        if (s->cams[k].state != RN_CCTV_DOWN)
            continue;
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", listed++ ? ", " : "",
                                s->cams[k].name);
        if (!since || s->cams[k].changed < since)
            since = s->cams[k].changed;
    }
    if (len < sizeof text)
        snprintf(text + len, sizeof text - len, " (%zu of %zu camera%s)", n_down, s->n,
                 s->n == 1 ? "" : "s");
    if (!(s->text = strdup(text)))
        return; /* retried at the next tick */
    snprintf(entity, sizeof entity, "cctv:%s", s->name);
    rn_cctv_alarm_t a = { .kind = RN_CCTV_ALARM_CAMERAS, .severity = 2, .entity = entity,
                          .station = s->name, .node = s->node, .text = s->text,
                          .since_ms = since };
    c->fn(c->ctx, true, &a, now_ms);
    s->alarm_id = a.id ? a.id : 1; /* a callback that assigns no id still marks it open */
    s->since = since;
}

/* Raises station s's NVR alarm: nothing of the station is recorded while it is down. */
static void raise_nvr_alarm(rn_cctv_t *c, st_t *s, int64_t now_ms)
{
    char text[256], entity[ENTITY_MAX];
    snprintf(text, sizeof text, "NVR %s down at %s (%s): recording lost for its %zu camera%s",
             s->nvr_addr, s->name, s->node, s->n, s->n == 1 ? "" : "s");
    if (!(s->nvr_text = strdup(text)))
        return; /* retried at the next tick */
    snprintf(entity, sizeof entity, "cctv:%s:" RN_TOPOLOGY_NVR, s->name);
    rn_cctv_alarm_t a = { .kind = RN_CCTV_ALARM_NVR, .severity = 2, .entity = entity,
                          .station = s->name, .node = s->node, .text = s->nvr_text,
                          .since_ms = s->nvr.changed };
    c->fn(c->ctx, true, &a, now_ms);
    s->nvr_alarm = a.id ? a.id : 1;
    s->nvr_since = s->nvr.changed;
}

void rn_cctv_tick(rn_cctv_t *c, int64_t now_ms)
{
    c->now = now_ms;
    for (size_t i = 0; i < c->n; i++) {
        st_t *s = &c->st[i];
        size_t down = 0;
        int64_t until = 0;
        for (size_t k = 0; k < s->n; k++) {
            down += s->cams[k].state == RN_CCTV_DOWN;
            if (s->cams[k].changed > until)
                until = s->cams[k].changed;
        }
        if (down && !s->alarm_id)
            raise_alarm(c, s, down, now_ms);
        else if (!down && s->alarm_id)
            clear_alarm(c, s, until, now_ms);
        bool nvr_down = s->has_nvr && s->nvr.state == RN_CCTV_DOWN;
        if (nvr_down && !s->nvr_alarm)
            raise_nvr_alarm(c, s, now_ms);
        else if (!nvr_down && s->nvr_alarm)
            clear_nvr_alarm(c, s, s->nvr.changed, now_ms);
        tick_rec(c, s, now_ms);
    }
}

int rn_cctv_camera(const rn_cctv_t *c, const char *station, const char *camera,
                   rn_cctv_camera_t *out)
{
    const cam_t *k = find_cam(find_station(c, station), camera);
    if (!k)
        return -ENOENT;
    bool stale = !k->last_t || (c->now && c->now - k->last_t > c->stale_ms);
    *out = (rn_cctv_camera_t){ .state = stale ? RN_CCTV_UNKNOWN : k->state,
                               .last_ms = k->last_t, .changed_ms = k->changed,
                               .rtsp_ms = stale ? NAN : k->ms };
    return 0;
}

uint64_t rn_cctv_station_alarm(const rn_cctv_t *c, const char *station)
{
    const st_t *s = find_station(c, station);
    return s ? s->alarm_id : 0;
}

int rn_cctv_recording(const rn_cctv_t *c, const char *station, rn_cctv_recording_t *out)
{
    const st_t *s = find_station(c, station);
    if (!s)
        return -ENOENT;
    bool stale = !s->rec_t || (c->now && c->now - s->rec_t > RN_CCTV_REC_STALE_MS);
    *out = (rn_cctv_recording_t){ .watched = s->has_rec, .last_ms = s->rec_t,
                                  .streams = stale ? NAN : s->rec_streams,
                                  .loss_pct = stale ? NAN : s->rec_loss,
                                  .jitter_ms = stale ? NAN : s->rec_jitter,
                                  .degraded = s->rec_bad >= RN_CCTV_REC_BAD_AFTER,
                                  .alarm_id = s->rec_alarm };
    return 0;
}

uint64_t rn_cctv_nvr_alarm(const rn_cctv_t *c, const char *station)
{
    const st_t *s = find_station(c, station);
    return s ? s->nvr_alarm : 0;
}

void rn_cctv_free(rn_cctv_t *c)
{
    if (!c)
        return;
    free_stations(c->st, c->n);
    free(c);
}
