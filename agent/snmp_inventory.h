/* SNMP inventory: what a polled device says it is, for the asset register (collector/assets/assets.h).
 *
 * Part of the SNMP poller (agent/snmp_poller.c), which owns the session and sends the requests
 * this module builds, as for the extra OIDs (agent/snmp_extra.h). After a successful interface
 * walk, when the inventory is due, the poller runs this walk in the same poll: one GET of
 * sysDescr.0 and sysObjectID.0, then a GETBULK (GETNEXT for SNMPv1) walk of ENTITY-MIB's
 * entPhysicalEntry columns 2 to 13 (descr, contained-in, class, parent position, name, hardware,
 * firmware and software revisions, serial, manufacturer, model). A device without ENTITY-MIB
 * gives an inventory without entities.
 *
 * Due: at the first poll, RN_SNMP_INVENTORY_PERIOD_MS after the last complete walk, and at the
 * first poll after a reboot (sysUpTime went back), since a reboot is when a module or the whole
 * box is swapped. A walk that fails (timeout) stays due: the next poll tries again. Only the
 * poller includes this header (it speaks net-snmp). */
#ifndef RN_SNMP_INVENTORY_H
#define RN_SNMP_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "clock.h"
#include "wire.h"

#ifndef RN_SNMP_INVENTORY_PERIOD_MS /* tests may build with less */
#define RN_SNMP_INVENTORY_PERIOD_MS (24LL * 3600 * 1000)
#endif
#define RN_SNMP_INVENTORY_STR 256 /* a DisplayString is at most 255 bytes */

/* entPhysicalTable string columns kept, in the order of Rn__PhysicalEntity's fields. */
enum { RN_ENT_DESCR, RN_ENT_NAME, RN_ENT_HW, RN_ENT_FW, RN_ENT_SW, RN_ENT_SERIAL, RN_ENT_MFG,
       RN_ENT_MODEL, RN_ENT_N_STR };

typedef struct {
    uint32_t index, klass, contained_in;
    int32_t rel_pos;
    bool has_class, has_contained_in, has_rel_pos;
    char *str[RN_ENT_N_STR];  /* owned; NULL when the column was empty or absent */
} rn_snmp_entity_t;

/* The inventory state of one device, embedded in it. */
typedef struct {
    const char *device, *addr;   /* borrowed from the device, for log lines */
    /* schedule */
    bool have;                   /* a walk completed once */
    rn_mono_ns_t last_done;      /* when it did */
    /* the walk in progress (or the last one complete) */
    bool scalars_done, done;
    oid next[MAX_OID_LEN];
    size_t next_len;
    char sys_descr[RN_SNMP_INVENTORY_STR], sys_object_id[RN_SNMP_INVENTORY_STR];
    rn_snmp_entity_t *ents;      /* owned, by index */
    size_t n_ents, cap_ents;
    unsigned n_skipped;          /* rows over RN_WIRE_MAX_ENTITIES */
} rn_snmp_inventory_t;

/* Starts x with nothing walked; device and addr are borrowed for as long as x lives. */
void rn_snmp_inventory_init(rn_snmp_inventory_t *x, const char *device, const char *addr);

/* Frees the rows (also of an inventory never walked). */
void rn_snmp_inventory_free(rn_snmp_inventory_t *x);

/* Returns true when a walk is due now (see the header comment); rebooted: this poll saw
 * sysUpTime go back. */
bool rn_snmp_inventory_due(const rn_snmp_inventory_t *x, rn_mono_ns_t now, bool rebooted);

/* Forgets the last walk's answers before a new walk. */
void rn_snmp_inventory_begin(rn_snmp_inventory_t *x);

/* Returns the next request of the walk (the caller sends or frees it): the scalars' GET first,
 * then a GETBULK with max_reps repetitions (GETNEXT when getnext). NULL when out of memory. */
netsnmp_pdu *rn_snmp_inventory_next_pdu(rn_snmp_inventory_t *x, bool getnext, int max_reps);

/* Absorbs an answer. Returns 1 when the walk is complete (x->done set, the schedule restarts at
 * now), 0 when another request is needed, or RN_ESNMP when the answer carries an error-status
 * (the walk stays due). */
int rn_snmp_inventory_absorb(rn_snmp_inventory_t *x, const netsnmp_pdu *pdu, rn_mono_ns_t now);

/* Fills msg (and ents, an array of n_ents pointers into storage that the caller provides, at
 * least x->n_ents of each) from the last complete walk; strings are borrowed from x until its
 * next begin or free. node may be NULL (the agent's own). */
void rn_snmp_inventory_message(const rn_snmp_inventory_t *x, const char *node, int64_t time_ms,
                               long sys_uptime, Rn__Inventory *msg, Rn__PhysicalEntity **ents,
                               Rn__PhysicalEntity *storage);


#endif
