/* SNMP poller: the only module that speaks net-snmp.
 *
 * Polls the devices of the agent's plan on the libuv loop with net-snmp's single-session
 * asynchronous API (one session and one uv_poll per device socket, one uv_timer for net-snmp's
 * retransmission timeouts): no blocking call and no extra thread. Each poll walks IF-MIB columns
 * with GETBULK (ifName, ifHCInOctets, ifHCOutOctets, ifOperStatus, ifIn/OutErrors,
 * ifIn/OutDiscards, ifHighSpeed) and emits one "if" sample per interface through the sample
 * callback. A device that does not answer costs its own timeout only, never a stall of others. */
#ifndef RN_SNMP_POLLER_H
#define RN_SNMP_POLLER_H

#include <uv.h>

#include "sample.h"
#include "wire.h"

typedef struct rn_snmp_poller rn_snmp_poller_t;

/* Creates a poller with no devices. emit/ctx receive every sample. Returns 0 or -ENOMEM. */
int rn_snmp_poller_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx, rn_snmp_poller_t **out);

/* Replaces the set of devices (copies what it needs from the borrowed array) and the poll
 * interval. Polls in flight for removed devices are abandoned. Returns 0 or a negative error. */
int rn_snmp_poller_set_devices(rn_snmp_poller_t *p, Rn__Device *const *devices, size_t n,
                               uint32_t interval_s);

/* Stops polling and frees the poller once every handle is closed; cb (may be NULL) fires then. */
void rn_snmp_poller_close(rn_snmp_poller_t *p, void (*cb)(void *data), void *data);

#endif
