/* RTSP prober: is each police station camera alive? Every probe interval it opens one TCP
 * connection to each camera of the plan (Plan.cameras, port 554 unless the plan says otherwise),
 * sends
 *     OPTIONS rtsp://<addr>:<port>/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: rajnet-agent\r\n\r\n
 * and reads the reply's status line only. One "rtsp" sample per camera and round: device = the
 * station, object = the camera, values up (1 for "RTSP/1.0 2xx", else 0) and rtsp_ms (connect
 * start to the status line; unknown when down). Its time is the round's start. A camera of an
 * agentless child's station (Camera.node) gives its samples that node, as Sample.node.
 *
 * A camera that does not answer in time (90% of the interval, at most RN_RTSP_TIMEOUT_MS) is
 * down; reads are bounded to RN_RTSP_MAX_REPLY bytes (a status line longer than that is a bad
 * answer, not a reason to keep reading). OPTIONS needs no authentication on the cameras RajNet
 * buys (ONVIF profile S allows it); a 401 counts as up: the camera's RTSP server answered. */
#ifndef RN_RTSP_PROBE_H
#define RN_RTSP_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sample.h"
#include "wire.h"

#define RN_RTSP_TIMEOUT_MS 5000u /* a camera on a LAN answers in milliseconds */
#define RN_RTSP_MAX_REPLY 512u   /* bytes read per probe at most */
#define RN_RTSP_PORT 554u

typedef struct rn_rtsp_prober rn_rtsp_prober_t;

/* Parses the start of an RTSP reply, buf[0..len): "RTSP/1.<d> <3 digits> <reason>\r\n".
 * Returns the status code (100..599) once the whole line is there, 0 when more bytes are needed
 * (no line end yet, and len < RN_RTSP_MAX_REPLY), or RN_EPARSE for anything else (not RTSP, a
 * bad code, a line longer than RN_RTSP_MAX_REPLY). Reads nothing past buf + len. */
int rn_rtsp_parse_status(const uint8_t *buf, size_t len);

/* Returns whether a status code means the camera is up: 2xx, and 401 (its server answered and
 * wants credentials). */
int rn_rtsp_status_up(int status);

/* Receives one sample; node is the camera's Camera.node (an agentless child's station, for
 * Sample.node), NULL for the agent's own node. The same shape as rn_snmp_sample_fn. */
typedef void (*rn_rtsp_sample_fn)(void *ctx, const char *node, const char *source,
                                  const char *device, const char *object, int64_t time_ms,
                                  const rn_value_t *values, size_t n_values, uint64_t speed_bps);

/* Creates a prober with no cameras; emit/ctx receive every sample. Returns 0 or -ENOMEM. */
int rn_rtsp_prober_new(uv_loop_t *loop, rn_rtsp_sample_fn emit, void *ctx,
                       rn_rtsp_prober_t **out);

/* Replaces the cameras (copied from the borrowed array) and the interval; probes in flight for
 * the old ones are abandoned without a sample. The first round starts within 100 ms. A camera
 * whose address does not parse is skipped with a log line. Returns 0, -EINVAL (interval 0) or
 * -ENOMEM (the old cameras are kept). */
int rn_rtsp_prober_set_cameras(rn_rtsp_prober_t *p, Rn__Camera *const *cams, size_t n,
                               uint32_t interval_s);

/* Returns how many cameras the prober has. */
size_t rn_rtsp_prober_count(const rn_rtsp_prober_t *p);

/* Stops probing, abandons probes in flight, and frees the prober once every handle is closed;
 * cb (may be NULL) fires then. */
void rn_rtsp_prober_close(rn_rtsp_prober_t *p, void (*cb)(void *data), void *data);

#endif
