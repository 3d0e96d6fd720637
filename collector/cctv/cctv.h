/* Police video surveillance: the state of every police station's cameras, and the "camera
 * offline" alarm, one per station (docs/api.md, "camera_offline").
 *
 * Evidence: the "rtsp" samples of the station's agent (agent/rtsp_probe.h), one per camera and
 * probe round: up 1 or 0. A camera is down after RN_CCTV_DOWN_AFTER down rounds in a row (one
 * lost TCP handshake on a busy LAN is not an outage), up again at its first good round (an RTSP
 * server that answered OPTIONS is there). A camera with no sample for RN_CCTV_STALE_ROUNDS
 * rounds is unknown: its agent is silent, which the node's own alarms report; its last state
 * still holds the station's alarm, since nothing says it came back.
 *
 * Alarm: evaluated once a second (rn_cctv_tick), so cameras that fail in the same round, as a
 * station's switch or power takes them all, are in one alarm's text from the start. While one
 * camera or more of a station is down there is ONE alarm for the station: entity
 * "cctv:<station>", node the station's node, text "camera offline at <station> (<node>): gate,
 * lockup (2 of 3 cameras)". Its text is written when it is raised; cameras failing or coming
 * back while it is open show in rn_cctv_camera (the API and dashboard), not in new pages. It
 * clears when every camera of the station is up again; the outage ends at the first good round
 * of the camera that came back last.
 *
 * The station's NVR (topology `nvr:`) is probed like a camera, under the camera name "nvr"
 * (RN_TOPOLOGY_NVR), and judged the same way, but it is not one of the cameras: while it is down
 * the station records nothing, so it has an alarm of its own, entity "cctv:<station>:nvr", text
 * "NVR 10.77.11.60 down at <station> (<node>): recording lost for its 2 cameras", raised and
 * cleared beside the cameras' alarm. rn_cctv_camera(c, station, "nvr") gives its state.
 *
 * A station with a `recording:` interface has its recording stream (its cameras' RTP to the NVR)
 * watched by the agent's RTP tracker: one "rec" sample every 5 s (rn_cctv_observe_rec). The
 * stream is bad in an interval with no stream, or with more loss than the station's
 * max_loss_pct. After RN_CCTV_REC_BAD_AFTER bad intervals in a row, while every camera and the
 * NVR are up (a camera or NVR down has its own alarm, which explains a missing stream), the
 * station gets a "recording degraded" alarm: entity "cctv:<station>:rec", S2 when no stream
 * reached the NVR, S3 for loss; it clears after RN_CCTV_REC_GOOD_AFTER good intervals in a row.
 * Without a sample for RN_CCTV_REC_STALE_MS the figures are unknown and the alarm holds.
 *
 * Pure logic like the alarm engine (collector/alarm/alarm.h): no I/O, no clock reads, one thread. */
#ifndef RN_CCTV_H
#define RN_CCTV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

#define RN_CCTV_DOWN_AFTER 2   /* down rounds in a row that make a camera down */
#define RN_CCTV_STALE_ROUNDS 5 /* rounds without a sample after which a camera is unknown */
#define RN_CCTV_REC_BAD_AFTER 2   /* bad recording intervals in a row that raise the alarm */
#define RN_CCTV_REC_GOOD_AFTER 2  /* good ones in a row that clear it */
#define RN_CCTV_REC_STALE_MS 30000 /* 6 of Plan.recordings' 5 s intervals (ingest/plan.h) */

typedef struct rn_cctv rn_cctv_t;

typedef enum { RN_CCTV_UNKNOWN, RN_CCTV_UP, RN_CCTV_DOWN } rn_cctv_state_t;

/* A station's alarm as the callback sees it; strings borrowed until the callback returns. The
 * callback sets id when raised is true (the collector takes it from the alarm engine, so both
 * share one numbering); a clear carries the same id back. */
/* Which of a station's alarms: its cameras (camera offline), its NVR (camera offline, recording
 * lost), or its recording stream (recording degraded). */
typedef enum { RN_CCTV_ALARM_CAMERAS, RN_CCTV_ALARM_NVR, RN_CCTV_ALARM_RECORDING } rn_cctv_kind_t;

typedef struct {
    uint64_t id;
    rn_cctv_kind_t kind;
    int severity;              /* 2, or 3 for a recording stream that only loses packets */
    const char *entity;        /* "cctv:<station>", "cctv:<station>:nvr" for its NVR,
                                * "cctv:<station>:rec" for its recording stream */
    const char *station, *node;
    const char *text;
    int64_t since_ms;          /* the first down round of the first camera down */
    int64_t until_ms;          /* clear: the first good round of the last camera back */
} rn_cctv_alarm_t;

typedef void (*rn_cctv_alarm_fn)(void *ctx, bool raised, rn_cctv_alarm_t *a, int64_t at_ms);

/* What is known of one camera now. */
typedef struct {
    rn_cctv_state_t state;
    int64_t last_ms;           /* time of the newest sample, 0 if none */
    int64_t changed_ms;        /* when the state last changed (its evidence's time), 0 never */
    double rtsp_ms;            /* newest response time, NAN when down or unknown */
} rn_cctv_camera_t;

/* What is known of a station's recording stream now. */
typedef struct {
    bool watched;              /* the station has a `recording:` interface */
    int64_t last_ms;           /* time of the newest "rec" sample, 0 if none */
    double streams, loss_pct, jitter_ms; /* its figures; NAN when unknown (or stale) */
    bool degraded;             /* the last RN_CCTV_REC_BAD_AFTER intervals or more were bad */
    uint64_t alarm_id;         /* its open "recording degraded" alarm, or 0 */
} rn_cctv_recording_t;

/* Creates the state for topo's stations (copied: topo is not kept), probe interval in seconds
 * (staleness). fn receives raises and clears. Returns 0 or -ENOMEM. */
int rn_cctv_new(const rn_topology_t *topo, uint32_t probe_interval_s, rn_cctv_alarm_fn fn,
                void *ctx, rn_cctv_t **out);

/* Swaps in a reloaded topology: camera state carries over by (station, camera) name; the alarm
 * of a station that is gone clears at now_ms. Returns 0 or -ENOMEM (the old stations are kept). */
int rn_cctv_set_topology(rn_cctv_t *c, const rn_topology_t *topo, uint32_t probe_interval_s,
                         int64_t now_ms);

/* One "rtsp" sample from node's agent: station, camera, its time, up (1/0; NAN says nothing)
 * and response time (NAN: none). A station not at node, an unknown camera or a sample not newer
 * than the camera's last are ignored. */
void rn_cctv_observe(rn_cctv_t *c, const char *node, const char *station, const char *camera,
                     int64_t t_ms, double up, double rtsp_ms);

/* One "rec" sample (a station's recording stream over one interval; agent/vc_quality.h):
 * station, time, streams, loss % and jitter ms (NAN: unknown). A station without a recording
 * interface, or a sample not newer than its last, is ignored. */
void rn_cctv_observe_rec(rn_cctv_t *c, const char *station, int64_t t_ms, double streams,
                         double loss_pct, double jitter_ms);

/* Fills out for a station's recording stream. Returns 0, or -ENOENT for an unknown station. */
int rn_cctv_recording(const rn_cctv_t *c, const char *station, rn_cctv_recording_t *out);

/* Advances to now_ms: stale cameras, then raises and clears station alarms. About once a
 * second. */
void rn_cctv_tick(rn_cctv_t *c, int64_t now_ms);

/* Fills out for one camera. Returns 0, or -ENOENT for an unknown station or camera. */
int rn_cctv_camera(const rn_cctv_t *c, const char *station, const char *camera,
                   rn_cctv_camera_t *out);

/* Returns the id of the station's open alarm, or 0. */
uint64_t rn_cctv_station_alarm(const rn_cctv_t *c, const char *station);

/* Returns the id of the station's open NVR alarm ("recording lost"), or 0. */
uint64_t rn_cctv_nvr_alarm(const rn_cctv_t *c, const char *station);

/* Frees everything without events. NULL is fine. */
void rn_cctv_free(rn_cctv_t *c);

#endif
