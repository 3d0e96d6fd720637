/* SNMP extra OIDs: the scalars a device names besides its interfaces (plan Device.extra: CPU,
 * memory, temperature, optical power, modem status), one GET after each walk.
 *
 * Part of the SNMP poller (agent/snmp_poller.c), which owns the session and sends the request
 * this module builds; this module checks and copies the plan's extras, absorbs the answer and
 * emits one "gauge" or "counter" sample per extra (lib/metrics.h), object = the extra's name. A
 * value that is missing or of the wrong type goes out unknown and is logged once per extra, until
 * it answers again. Only the poller includes this header (it speaks net-snmp). */
#ifndef RN_SNMP_EXTRA_H
#define RN_SNMP_EXTRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "sample.h"
#include "wire.h"

#define RN_SNMP_MAX_EXTRA 32 /* extra OIDs per device: all in one GET */

/* One extra object of a device. */
typedef struct {
    char *name, *oid_text;  /* as in the plan: the series object, the numeric OID */
    bool counter;           /* source "counter" (DERIVE) rather than "gauge" */
    oid id[MAX_OID_LEN];
    size_t len;
    rn_value_t value;       /* this poll's, unknown until the GET answers */
    bool complained;        /* a problem was logged: say so when it answers again */
} rn_snmp_extra_t;

/* The extra objects of one device, embedded in it. */
typedef struct {
    rn_snmp_extra_t *v;     /* owned */
    size_t n;
    const char *device, *addr; /* borrowed from the device, for log lines */
} rn_snmp_extras_t;

/* Checks the extra OIDs of a plan device: at most RN_SNMP_MAX_EXTRA, each with a name of 1-63
 * [a-z0-9_-] used once, a numeric OID and kind gauge or counter. Returns NULL if they are
 * usable, else a reason written into buf, naming the extra ("extra[1] (cpu): ..."). */
const char *rn_snmp_extras_config_error(const Rn__Device *src, char *buf, size_t len);

/* Copies the extra OIDs of src (already checked by rn_snmp_extras_config_error) into x; device
 * and addr are borrowed for as long as x lives. Returns 0, or -ENOMEM with x still to be freed
 * by rn_snmp_extras_free. */
int rn_snmp_extras_init(rn_snmp_extras_t *x, const Rn__Device *src, const char *device,
                        const char *addr);

/* Frees what rn_snmp_extras_init allocated (also after it failed). */
void rn_snmp_extras_free(rn_snmp_extras_t *x);

/* Returns true if x polls exactly the extra OIDs of src (names, OIDs and kinds, in order). */
bool rn_snmp_extras_same(const rn_snmp_extras_t *x, const Rn__Device *src);

/* Makes every value unknown, at the start of a poll. */
void rn_snmp_extras_reset(rn_snmp_extras_t *x);

/* Returns a new GET PDU asking for every extra OID, in order (the caller sends or frees it), or
 * NULL when out of memory. */
netsnmp_pdu *rn_snmp_extras_get_pdu(const rn_snmp_extras_t *x);

/* Absorbs the answer to that GET: varbind i belongs to extra i. A value of the wrong type, an
 * exception, a missing varbind or an error-status (SNMPv1 says noSuchName for the whole
 * request) leaves the value unknown and is logged once per extra. */
void rn_snmp_extras_absorb(rn_snmp_extras_t *x, const netsnmp_pdu *pdu);

/* Emits one "gauge" or "counter" sample per extra, stamped time_ms; counters are unknown when
 * the device rebooted, as the interfaces' are. Stops early once *stop turns true (an emit
 * callback closed the poller). */
void rn_snmp_extras_emit(const rn_snmp_extras_t *x, rn_sample_fn emit, void *ctx,
                         int64_t time_ms, bool rebooted, const bool *stop);

#endif
