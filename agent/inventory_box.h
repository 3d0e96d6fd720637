/* The agent's last inventory frame per device (agent/snmp_inventory.h), kept to be sent on every
 * connection to a collector that reads them.
 *
 * Why not the spool: an inventory is a state, not a series; only the latest one of a device
 * matters, and the collector's register takes a repeat as a no-op (collector/assets/assets.h). So the
 * box holds one encoded frame per device, replaced by each new walk, and sends them all again
 * after each reconnect: a frame lost in a cut is resent at the next connection. */
#ifndef RN_INVENTORY_BOX_H
#define RN_INVENTORY_BOX_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

typedef struct rn_inventory_box rn_inventory_box_t;

/* Returns a new empty box, or NULL when out of memory. */
rn_inventory_box_t *rn_inventory_box_new(void);
void rn_inventory_box_free(rn_inventory_box_t *b);

/* Encodes msg as a frame and keeps it as the device's (node, device) latest, replacing the one
 * before. Returns 0, -ENOMEM or RN_ETOOBIG. */
int rn_inventory_box_put(rn_inventory_box_t *b, const Rn__Inventory *msg);

/* Calls send(ctx, copy, len) with a malloc'd copy of every kept frame (send takes ownership);
 * stops at the first send that returns non-zero. Returns the number of frames sent. */
size_t rn_inventory_box_send_all(const rn_inventory_box_t *b,
                                 int (*send)(void *ctx, uint8_t *buf, size_t len), void *ctx);

/* Calls send as above for the frame of one device, if kept. Returns 0, -ENOENT or send's
 * error. */
int rn_inventory_box_send_one(const rn_inventory_box_t *b, const char *node, const char *device,
                              int (*send)(void *ctx, uint8_t *buf, size_t len), void *ctx);

#endif
