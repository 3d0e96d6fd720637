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
#include "rtsp_probe.h"
#include "service_probe.h"
#include "snmp_poller.h"
#include "uplink.h"
#include "vc_quality.h" /* VC media capture */
#include "udp_echo.h"   /* UDP echo between agents */

#define RN_AGENT_VERSION "0.1.0"
#define RN_AGENT_FLUSH_MS 1000
#define RN_AGENT_MAX_BATCH_SAMPLES 5000
/* Exit status when a new plan needs a capture and the agent has given up CAP_NET_RAW (privs.h):
 * systemd's Restart=on-failure starts it again, and the cached plan opens the capture. */
#define RN_AGENT_EXIT_RESTART 3

/* How main started the agent; a reload (SIGHUP) needs it. */
typedef struct {
    const char *config_path;   /* re-read on SIGHUP; borrowed, must outlive the agent */
    bool log_syslog;           /* --syslog */
    bool log_verbose;          /* -v: debug logging, whatever log_level a reload reads */
} rn_agent_opts_t;

typedef struct {
    uv_loop_t *loop;
    rn_agent_config_t *config;
    rn_agent_opts_t opts;
    rn_uplink_t *uplink;
    rn_agent_config_t *uplink_config; /* what the uplink borrows: config, or an older one */
    bool uplink_stale;         /* a reload changed TLS files: a new uplink at the next connect */
    bool delivery_reopening;   /* a reload changed spool/rate settings: the spool is reopening */
    uint64_t reopen_acked;     /* highest ack seen by the delivery being reopened or meanwhile */
    bool net_raw_dropped;      /* CAP_NET_RAW given up after the first plan (privs.h) */
    int exit_status;           /* for main once the loop ends: 0, 1 or RN_AGENT_EXIT_RESTART */
    rn_delivery_t *delivery;
    rn_plan_cache_t *plan_cache;
    rn_snmp_poller_t *poller;
    struct rn_inventory_box *inventories; /* last inventory per device (agent/inventory_box.h) */
    rn_icmp_prober_t *prober;
    rn_service_prober_t *services; /* TCP/HTTP service probes; NULL if libcurl failed */
    rn_vc_quality_t *vc;           /* VC media capture (agent/vc_quality.h); NULL if it failed */
    rn_vc_quality_t *recordings;   /* police stations' recording streams, the same in recording
                                    * mode (Plan.recordings); NULL if it failed */
    rn_udp_echo_t *echo;           /* UDP echo (agent/udp_echo.h); NULL if it failed */
    rn_rtsp_prober_t *cameras;     /* police station cameras (agent/rtsp_probe.h) */
    uv_timer_t flush_timer;
    uv_signal_t sigint, sigterm, sighup;
    char plan_digest[65];
    Rn__Sample **open;         /* the open batch */
    size_t n_open, cap_open;
    uint64_t dropped_batches;  /* batches that could not be encoded (a bug if ever non-zero) */
    size_t status_queued_kib;  /* KiB queued on the uplink as STATUS= last said it */
    bool stopping;
    int closing_parts;
} rn_agent_t;

/* Takes ownership of config and starts: connects, and measures once a plan arrives. opts is
 * copied. Returns 0 or a negative error (logged).
 *
 * SIGHUP reloads opts->config_path. A file with an error is logged (file:line) and the running
 * configuration kept. Otherwise these apply at once: log_level; spool_fsync, spool_max_mb and
 * uplink_rate_kbps (the spool is closed and reopened: nothing on disk is lost, unacked batches
 * are sent again and the collector drops the duplicates); collectors and collector_name (the
 * connection is remade only when they changed). The tls files are loaded again (a certificate
 * renewed in place counts) and checked before anything is applied; the new context serves the
 * next connection. node and state_dir are logged as needing a restart and keep their running
 * values. The cached plan is applied again: its captures that are not running are retried while
 * the agent holds CAP_NET_RAW (before its first plan); afterwards a reload only logs them. */
int rn_agent_start(rn_agent_t *a, uv_loop_t *loop, rn_agent_config_t *config,
                   const rn_agent_opts_t *opts);

/* Flushes the open batch, closes every handle; the loop then ends. Idempotent. */
void rn_agent_stop(rn_agent_t *a);

#endif
