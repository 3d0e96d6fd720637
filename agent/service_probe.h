/* Service prober: is VC and e-governance reachable from this node, and how fast? Every probe
 * interval it makes one TCP connect to each "tcp" service target (VC MCU 1720/5060, portals 443)
 * and one HTTP(S) GET of each "http" target's URL, and emits one sample per target:
 *   "tcp":  connect_ms (TCP handshake, name lookup excluded), up (1 connected, 0 not);
 *   "http": status, ttfb_ms and total_ms (from the request's start, lookup and TLS included),
 *           cert_days (days until the server certificate expires; unknown for plain http and
 *           for a certificate that does not verify: expired, unknown CA, wrong name; the probe
 *           is then down and rn_service_prober_why says which), up (1 for a 2xx/3xx answer).
 * The sample's object is the target's `object` ("vc-1720", "emitra-http"), its time the round's
 * start. A target that fails gives up 0 and unknown times, at the latest after the probe timeout
 * (90% of the interval, at most 10 s), so every round gives every target one sample.
 *
 * This is the only module that speaks libcurl; see service_probe.c for why libcurl. The agent is
 * not linked against it: it is loaded (http_lib.h) when the first target arrives, so an agent
 * without service targets never maps it. */
#ifndef RN_SERVICE_PROBE_H
#define RN_SERVICE_PROBE_H

#include <uv.h>

#include "sample.h"
#include "wire.h"

#define RN_SERVICE_MAX_TIMEOUT_MS 10000u

typedef struct rn_service_prober rn_service_prober_t;

/* Creates a prober with no targets; libcurl is not loaded yet. emit/ctx receive every sample.
 * Returns 0 or -ENOMEM. */
int rn_service_prober_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx,
                          rn_service_prober_t **out);

/* Replaces the targets (copies from the borrowed array) and the interval; probes in flight for
 * the old targets are abandoned without a sample. The first round starts within a tenth of the
 * interval (at most 100 ms). A target that cannot be probed (unknown kind) is skipped with a log
 * line. The first call with a target loads libcurl; when it cannot be loaded (logged once), the
 * targets are kept but never probed, no sample is emitted for them, and rn_service_prober_why
 * says why ("libcurl.so.4 not loaded: ..."). Returns 0, -EINVAL (interval 0) or -ENOMEM. */
int rn_service_prober_set_targets(rn_service_prober_t *p, Rn__ServiceTarget *const *targets,
                                  size_t n, uint32_t interval_s);

/* Uses ca_file (PEM bundle, copied; NULL: the system's) to verify HTTPS servers from the next
 * round on. Tests and sites with a private CA use it. Returns 0 or -ENOMEM. */
int rn_service_prober_set_ca(rn_service_prober_t *p, const char *ca_file);

/* Returns why the last probe of the target with this object failed ("connection refused",
 * "timed out after 1800 ms", "HTTP 503"), "" if it succeeded or has not run, NULL for an unknown
 * object. Borrowed until the next round or set_targets. */
const char *rn_service_prober_why(const rn_service_prober_t *p, const char *object);

/* Stops probing, abandons probes in flight and frees the prober once every handle is closed;
 * cb (may be NULL) fires then. */
void rn_service_prober_close(rn_service_prober_t *p, void (*cb)(void *data), void *data);

#endif
