/* The agent's context: owns the loop's handles, the uplink, the delivery (spool), the SNMP
 * poller and the ICMP prober.
 *
 * Samples from the poller and prober gather in the open batch; every second (and at once after a
 * probe round) the batch is closed with the next sequence number, encoded, checked against the
 * wire rules, and handed to the delivery, which writes it to the disk spool and sends it in
 * order when the uplink is up. The collector's cumulative ack trims the spool; after an outage
 * the spool is replayed oldest first, so every RRD file receives its points in time order. */
#ifndef RN_AGENT_H
#define RN_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "delivery.h"
#include "icmp_probe.h"
#include "plan_cache.h"
#include "service_probe.h"
#include "snmp_poller.h"
#include "uplink.h"
#include "vc_quality.h" /* VC media capture */

#define RN_AGENT_VERSION "0.1.0"
#define RN_AGENT_FLUSH_MS 1000
#define RN_AGENT_HEARTBEAT_MS 5000
#define RN_AGENT_MAX_BATCH_SAMPLES 5000

typedef struct {
    uv_loop_t *loop;
    rn_agent_config_t *config;
    rn_uplink_t *uplink;
    rn_delivery_t *delivery;
    rn_plan_cache_t *plan_cache;
    rn_snmp_poller_t *poller;
    rn_icmp_prober_t *prober;
    rn_service_prober_t *services; /* TCP/HTTP service probes; NULL if libcurl failed */
    rn_vc_quality_t *vc;           /* VC media capture (agent/vc_quality.h); NULL if it failed */
    uv_timer_t flush_timer, heartbeat_timer;
    uv_signal_t sigint, sigterm;
    char plan_digest[65];
    Rn__Sample **open;         /* the open batch */
    size_t n_open, cap_open;
    uint64_t dropped_batches;  /* batches that could not be encoded (a bug if ever non-zero) */
    bool stopping;
    int closing_parts;
} rn_agent_t;

/* Takes ownership of config and starts: connects, and measures once a plan arrives.
 * Returns 0 or a negative error (logged). */
int rn_agent_start(rn_agent_t *a, uv_loop_t *loop, rn_agent_config_t *config);

/* Flushes the open batch, closes every handle; the loop then ends. Idempotent. */
void rn_agent_stop(rn_agent_t *a);

#endif
