/* The asset register: what every polled device reports it is (sysDescr, sysObjectID, ENTITY-MIB
 * entPhysicalTable, from the agents' Inventory frames: agent/snmp_inventory.h), joined to the
 * operator's asset file (collector/assets/asset_file.h).
 *
 * Rules, with the reasons:
 *  - Replaced: an entity whose serial differs from the serial last reported at the same
 *    entPhysicalIndex of the same device (both non-empty) is a replacement, "device replaced"
 *    (S3). The index is the slot: entity MIBs number slots and stack members stably, and a
 *    renumbered index without a serial change says nothing. The alarm stays up
 *    RN_ASSETS_REPLACED_HOLD_MS so that the NOC sees it the next morning, then clears itself;
 *    the last RN_ASSETS_MAX_REPLACED replacements of each device stay in the register.
 *  - Join: a file entry belongs to the device that reports its serial (on any entity), else to
 *    the device its node and device name. A device no entry belongs to, and an entry that belongs
 *    to no device, are discrepancies ("not_in_file", "not_reported").
 *  - Contracts: an entry whose amc_end or warranty_end is within RN_ASSETS_EXPIRY_WARN_DAYS (30)
 *    days, or past, raises "contract expiring" (S3), one alarm per entry and contract, until the
 *    file moves the date. 30 days is the notice a renewal needs (a purchase order).
 *
 * The register never reads a clock: every call that needs the time takes now_ms. Single thread
 * (the loop's). Alarms leave through the callback given at creation. */
#ifndef RN_ASSETS_H
#define RN_ASSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assets/asset_file.h"
#include "wire.h"

#define RN_ASSETS_EXPIRY_WARN_DAYS 30
#define RN_ASSETS_REPLACED_HOLD_MS (24LL * 3600 * 1000)
#define RN_ASSETS_MAX_REPLACED 16
#define RN_ASSETS_MAX_DEVICES 65536

typedef struct rn_assets rn_assets_t;

typedef enum { RN_ASSET_ALARM_REPLACED, RN_ASSET_ALARM_CONTRACT } rn_asset_alarm_kind_t;

/* An alarm of the register. The callback may set id when raised (the collector's alarm id); the
 * same struct comes back when it clears. Strings are owned by the register. */
typedef struct {
    rn_asset_alarm_kind_t kind;
    uint64_t id;
    char *entity;      /* "asset:<serial>" or "asset:<node>/<device>" (+ ":amc"/":warranty") */
    char *node;        /* the node, when known */
    char *text;        /* one line for the NOC */
    int64_t since_ms;
} rn_asset_alarm_t;

typedef void (*rn_asset_alarm_fn)(void *ctx, bool raised, rn_asset_alarm_t *a, int64_t at_ms);

/* One replacement seen. */
typedef struct {
    int64_t at_ms;
    uint32_t index;
    char *name, *model, *old_serial, *new_serial;
} rn_asset_replaced_t;

/* One entity of a device (strings owned by the register, "" when absent). */
typedef struct {
    uint32_t index, klass, contained_in;
    char *descr, *name, *hw_rev, *fw_rev, *sw_rev, *serial, *mfg, *model;
} rn_asset_entity_t;

/* One row of the register as listed: a device with its joined entry (NULL: not in the file),
 * or a file entry no device reports (device NULL). */
typedef struct {
    const char *node, *device;            /* device's, else the entry's (may be NULL) */
    const char *sys_descr, *sys_object_id;
    const char *model, *serial;           /* of the chassis (class 3), else the first with one */
    int64_t updated_ms;                   /* 0 for an entry only */
    const rn_asset_entity_t *entities;
    size_t n_entities;
    const rn_asset_replaced_t *replaced;  /* newest last */
    size_t n_replaced;
    const rn_asset_entry_t *entry;
    const char *discrepancy;              /* NULL, "not_in_file" or "not_reported" */
} rn_asset_row_t;

/* Creates an empty register without a file. fn receives every alarm raise and clear. Returns 0
 * or -ENOMEM. */
int rn_assets_new(rn_asset_alarm_fn fn, void *ctx, rn_assets_t **out);

/* Clears nothing, emits nothing: frees everything (also the file). NULL is fine. */
void rn_assets_free(rn_assets_t *r);

/* Takes ownership of file (NULL: no file) and replaces the one before; contracts are judged
 * again at the next tick. Returns nothing. */
void rn_assets_set_file(rn_assets_t *r, rn_asset_file_t *file);

/* Absorbs a device's inventory, reported by the agent of node agent_node (msg->node, when set,
 * is the device's node). A change of serial at an index raises "device replaced". Returns 1 if
 * anything changed, 0 for a repeat of what the register holds, -ENOMEM, or -ENOSPC over
 * RN_ASSETS_MAX_DEVICES devices. */
int rn_assets_observe(rn_assets_t *r, const char *agent_node, const Rn__Inventory *msg,
                      int64_t now_ms);

/* Persistence (collector/asset_register.c keeps the register in the event store): fn is called
 * with every replacement the register records (not those restored), node, device and x borrowed
 * until it returns. NULL stops it. Returns nothing. */
typedef void (*rn_asset_replaced_fn)(void *ctx, const char *node, const char *device,
                                     const rn_asset_replaced_t *x);
void rn_assets_on_replaced(rn_assets_t *r, rn_asset_replaced_fn fn, void *ctx);

/* Absorbs an inventory read back from the store at start (node: the device's node). A device the
 * register lacks is added quietly. A device an agent reported since the start (before the store
 * answered) keeps its report, which is compared against the stored one, the older: a serial
 * changed in a slot is "device replaced", as in rn_assets_observe. Returns 1 (added), 0, or
 * -ENOMEM / -ENOSPC. */
int rn_assets_restore(rn_assets_t *r, const char *node, const Rn__Inventory *msg,
                      int64_t now_ms);

/* Appends a stored replacement (oldest first) to the history of device (node, device), and, if
 * it happened less than RN_ASSETS_REPLACED_HOLD_MS before now_ms, raises its alarm again (up
 * since x->at_ms: the last run's was cleared as stale at the restart). Returns 0, -ENOENT (no
 * such device: restore the inventories first) or -ENOMEM. */
int rn_assets_restore_replaced(rn_assets_t *r, const char *node, const char *device,
                               const rn_asset_replaced_t *x, int64_t now_ms);

/* Judges contracts against now_ms and ends replaced alarms held long enough. Call it about once a
 * minute (and after set_file). Returns nothing. */
void rn_assets_tick(rn_assets_t *r, int64_t now_ms);

/* Calls fn for every row: devices in (node, device) order, then entries no device reports, in
 * file order. Returns the number of rows. */
size_t rn_assets_foreach(const rn_assets_t *r, void (*fn)(void *ctx, const rn_asset_row_t *row),
                         void *ctx);

/* Calls fn for every alarm up now. Returns their number. */
size_t rn_assets_alarms(const rn_assets_t *r, void (*fn)(void *ctx, const rn_asset_alarm_t *a),
                        void *ctx);

#endif
