/* The agent's context: owns the loop's handles, the uplink, the SNMP poller and the ICMP prober.
 *
 * Samples from the poller and prober gather in the open batch; every second the batch is closed
 * with the next sequence number, encoded, kept in the unacked queue and sent. The collector's
 * cumulative ack trims the queue; on reconnect everything unacked is sent again in order, so a
 * sample is stored at least once and the collector drops duplicates by (node, seq). The queue is
 * bounded in memory (RN_AGENT_MAX_UNACKED_BYTES): past that the oldest batches are dropped and
 * counted. The disk spool that removes that bound is issue 3's work. */
#ifndef RN_AGENT_H
#define RN_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "icmp_probe.h"
#include "snmp_poller.h"
#include "uplink.h"

#define RN_AGENT_VERSION "0.1.0"
#define RN_AGENT_FLUSH_MS 1000
#define RN_AGENT_HEARTBEAT_MS 5000
#define RN_AGENT_MAX_BATCH_SAMPLES 5000
#define RN_AGENT_MAX_UNACKED_BYTES (64u << 20)

typedef struct rn_unacked {
    uint64_t seq;
    uint8_t *frame;            /* complete encoded frame */
    size_t len;
    struct rn_unacked *next;
} rn_unacked_t;

typedef struct {
    uv_loop_t *loop;
    rn_agent_config_t *config;
    rn_uplink_t *uplink;
    rn_snmp_poller_t *poller;
    rn_icmp_prober_t *prober;
    uv_timer_t flush_timer, heartbeat_timer;
    uv_signal_t sigint, sigterm;
    char plan_digest[65];
    Rn__Sample **open;         /* the open batch */
    size_t n_open, cap_open;
    uint64_t next_seq;
    rn_unacked_t *unacked_head, *unacked_tail;
    size_t unacked_bytes;
    uint64_t dropped_batches;
    bool stopping;
    int closing_parts;
} rn_agent_t;

/* Takes ownership of config and starts: connects, and measures once a plan arrives.
 * Returns 0 or a negative error (logged). */
int rn_agent_start(rn_agent_t *a, uv_loop_t *loop, rn_agent_config_t *config);

/* Flushes the open batch, closes every handle; the loop then ends. Idempotent. */
void rn_agent_stop(rn_agent_t *a);

#endif
