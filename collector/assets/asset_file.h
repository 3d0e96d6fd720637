/* The operator's asset file (docs/rajnet-assets.5): what the state bought, from whom, and who
 * maintains it until when. Joined to what the devices report by the asset register
 * (collector/assets/assets.h).
 *
 *   assets:
 *     - serial: CAT0952N20R          # entPhysicalSerialNum of the chassis or a module, and/or
 *       node: sdc                    # node id and device name (for a device without serial)
 *       device: core1
 *       description: VC setup, state data centre
 *       department: DoIT&C           # owner department
 *       purchase_order: DOITC/PO/2023/117
 *       supplier: Example Systems Pvt Ltd
 *       amc_vendor: Example AMC Services
 *       amc_end: 2027-03-31          # YYYY-MM-DD, the last day covered
 *       warranty_end: 2026-03-31
 *
 * Every entry names a serial, or a node and a device, or all three. Unknown keys are errors with
 * file:line, as in every configuration file of rajnet-mon (lib/yamldoc.h). */
#ifndef RN_ASSET_FILE_H
#define RN_ASSET_FILE_H

#include <stddef.h>
#include <stdint.h>

#define RN_ASSET_MAX_ENTRIES 100000 /* a state's worth of equipment, with room */

typedef struct {
    char *serial, *node, *device;            /* the keys: NULL when not given */
    char *description, *department, *purchase_order, *supplier, *amc_vendor;
    int64_t amc_end_ms, warranty_end_ms;     /* end of the last day covered (UTC); 0: none */
    char amc_end[11], warranty_end[11];      /* as written, YYYY-MM-DD, or "" */
    int line;                                /* where the entry starts */
} rn_asset_entry_t;

typedef struct {
    rn_asset_entry_t *v;
    size_t n;
} rn_asset_file_t;

/* Loads path into a new *out (owned by the caller, freed with rn_asset_file_free). Returns 0, a
 * negative errno (the file cannot be read), RN_EPARSE or RN_ESCHEMA, with "file:line: field: why"
 * in err. */
int rn_asset_file_load(const char *path, rn_asset_file_t **out, char *err, size_t err_len);

/* The same for a document in memory; name is used in messages (the fuzz target's entry). */
int rn_asset_file_parse(const char *name, const uint8_t *buf, size_t len, rn_asset_file_t **out,
                        char *err, size_t err_len);

void rn_asset_file_free(rn_asset_file_t *f);

/* Parses "YYYY-MM-DD" (a real date, years 1970-9999) into the Unix ms of the end of that day,
 * 24:00 UTC. Returns 0 or -EINVAL. */
int rn_asset_date_parse(const char *s, int64_t *end_ms);

#endif
