/* SNMP poller: the only module that speaks net-snmp.
 *
 * Polls the devices of the agent's plan on the libuv loop with net-snmp's single-session
 * asynchronous API (one session and one uv_poll per device socket, one uv_timer for net-snmp's
 * retransmission timeouts): no blocking call and no extra thread. Each poll walks IF-MIB columns
 * with GETBULK (ifName, ifHCInOctets, ifHCOutOctets, ifOperStatus, ifIn/OutErrors,
 * ifIn/OutDiscards, ifHighSpeed, ifCounterDiscontinuityTime) plus sysUpTime.0, and emits one
 * "if" sample per interface through the sample callback. When counters cannot be compared with
 * the last successful poll (sysUpTime went back, ifCounterDiscontinuityTime moved, or an ifIndex
 * now names another interface), that poll's counters are sent as unknown and the reason is
 * logged once at info level. A device's extra OIDs (plan Device.extra) are fetched with one GET
 * after the walk and emitted as one "gauge" or "counter" sample each (lib/metrics.h), object =
 * the extra's name; a missing or mistyped one is sent as unknown and logged once. A device that
 * does not answer costs its own timeout only, never a stall of others.
 *
 * A device may belong to another node than the agent's (Device.node: an agentless child whose
 * devices the agent polls across the link); its samples come with that node's id. A device is
 * known by its node and name together, so a child's "rtr1" and the agent's own never mix. */
#ifndef RN_SNMP_POLLER_H
#define RN_SNMP_POLLER_H

#include <stdbool.h>
#include <uv.h>

#include "sample.h"
#include "wire.h"

typedef struct rn_snmp_poller rn_snmp_poller_t;

/* Receives one sample, as rn_sample_fn (lib/sample.h), and the node of its device: NULL for the
 * agent's own, else the device's Device.node. */
typedef void (*rn_snmp_sample_fn)(void *ctx, const char *node, const char *source,
                                  const char *device, const char *object, int64_t time_ms,
                                  const rn_value_t *values, size_t n_values, uint64_t speed_bps);

/* Creates a poller with no devices. emit/ctx receive every sample. Returns 0 or -ENOMEM. */
int rn_snmp_poller_new(uv_loop_t *loop, rn_snmp_sample_fn emit, void *ctx,
                       rn_snmp_poller_t **out);

/* Replaces the set of devices (copies what it needs from the borrowed array) and the poll
 * interval. Polls in flight for removed devices are abandoned. Returns 0 or a negative error. */
int rn_snmp_poller_set_devices(rn_snmp_poller_t *p, Rn__Device *const *devices, size_t n,
                               uint32_t interval_s);

/* Sets the devices of a plan: its node's own (Plan.devices) and its agentless children's
 * (Plan.child_devices), as rn_snmp_poller_set_devices. Returns 0 or a negative error. */
int rn_snmp_poller_set_plan(rn_snmp_poller_t *p, const Rn__Plan *plan, uint32_t interval_s);

/* What one poll of one device found (for `rajnet-agent check`). Strings are borrowed until the
 * callback returns. */
typedef struct {
    const char *node;        /* the device's node (Device.node), NULL for the agent's own */
    const char *device, *addr;
    bool ok;                 /* the walk completed with at least one interface */
    const char *why;         /* when !ok: why ("no answer after 3 tries") */
    const char *sys_name;    /* sysName.0, "" when unknown */
    long sys_uptime;         /* sysUpTime.0 in hundredths of a second, -1 when unknown */
    size_t n_interfaces;     /* "if" samples emitted by this poll */
} rn_snmp_report_t;
typedef void (*rn_snmp_report_fn)(void *ctx, const rn_snmp_report_t *r);

/* Calls fn after every poll of every device, after that poll's samples, and adds sysName.0 to
 * each poll's walk (the daemon leaves this off: one more varbind in the first request).
 * NULL turns it off. Takes effect from the next poll. */
void rn_snmp_poller_set_report(rn_snmp_poller_t *p, rn_snmp_report_fn fn, void *ctx);

/* Receives a device's inventory (agent/snmp_inventory.h: sysDescr, sysObjectID, entPhysicalTable)
 * after a poll that walked it: once a day, and after a reboot. msg and everything in it are
 * borrowed until the callback returns; msg->node is NULL for the agent's own devices. */
typedef void (*rn_snmp_inventory_fn)(void *ctx, const Rn__Inventory *msg);

/* Turns inventory walks on (fn) or off (NULL). Takes effect from the next poll. */
void rn_snmp_poller_set_inventory(rn_snmp_poller_t *p, rn_snmp_inventory_fn fn, void *ctx);

/* Makes every device's inventory due at its next poll (the agent's SIGHUP). */
void rn_snmp_poller_refresh_inventory(rn_snmp_poller_t *p);

/* Stops polling and frees the poller once every handle is closed; cb (may be NULL) fires then. */
void rn_snmp_poller_close(rn_snmp_poller_t *p, void (*cb)(void *data), void *data);

#endif
