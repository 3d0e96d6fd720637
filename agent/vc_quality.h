/* VC media quality from the wire: the plan's captures (interface + BPF filter), each feeding an
 * RTP tracker (agent/rtp_track.h) through a libpcap capture on the loop (agent/pcap_capture.h).
 * Every capture's interval it emits, with the capture's name as object and device "":
 *   "rtp":   packets, lost_pct, jitter_ms, mos, streams  (lib/metrics.h; loss, jitter and MOS
 *            unknown when no stream carried packets in the interval)
 *   "tcphs": handshakes, rtt_ms                           (passive SYN -> SYN/ACK times)
 * A capture that cannot open (no permission, no such interface, bad filter) is logged and
 * skipped; the others still run.
 *
 * Recording mode (rn_vc_quality_new_recording): the same trackers watch police stations'
 * recording streams, cameras to NVR (Plan.recordings; the capture's name is the station), and
 * emit only "rec": streams, packets, loss_pct, jitter_ms (lib/metrics.h). Never "rtp": the
 * collector's VC views and VC-quality alarm read "rtp" alone, and must not see these. */
#ifndef RN_VC_QUALITY_H
#define RN_VC_QUALITY_H

#include <uv.h>

#include "rtp_track.h"
#include "sample.h"
#include "wire.h"

#define RN_VC_DEFAULT_INTERVAL_S 10u
#define RN_VC_MAX_CAPTURES 8u

typedef struct rn_vc_quality rn_vc_quality_t;

/* Creates a module with no captures; emit/ctx receive every sample. Returns 0 or -ENOMEM. */
int rn_vc_quality_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx, rn_vc_quality_t **out);

/* The same in recording mode (above). Returns 0 or -ENOMEM. */
int rn_vc_quality_new_recording(uv_loop_t *loop, rn_sample_fn emit, void *ctx,
                                rn_vc_quality_t **out);

/* Replaces the captures with the plan's (borrowed array, copied). Unchanged captures (same name,
 * interface, filter, interval, codec) keep their trackers and streams. Returns 0, or the first
 * error of a capture that could not open (logged; the rest are running). */
int rn_vc_quality_set_captures(rn_vc_quality_t *q, Rn__Capture *const *caps, size_t n);

/* The number of captures running. */
size_t rn_vc_quality_running(const rn_vc_quality_t *q);

/* Stops every capture and frees the module once all handles are closed; cb (may be NULL)
 * fires then. */
void rn_vc_quality_close(rn_vc_quality_t *q, void (*cb)(void *data), void *data);

#endif
