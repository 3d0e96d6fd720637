/* The agent's connection to the collector: one TCP connection at a time, to the first collector
 * that answers; on loss, reconnects with exponential backoff (1 s doubling to 30 s, +-20% jitter
 * so a district's agents do not reconnect in the same instant), trying the collectors in turn.
 * Frames are decoded and validated here; the owner sees only well-formed frames. */
#ifndef RN_UPLINK_H
#define RN_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "wire.h"

typedef struct rn_uplink rn_uplink_t;

typedef struct {
    void (*connected)(void *ctx);                /* send hello and any unacked batches */
    void (*frame)(void *ctx, Rn__Frame *frame);  /* takes ownership of frame */
    void (*disconnected)(void *ctx);
} rn_uplink_cbs_t;

/* Starts connecting to collectors (borrowed; must outlive the uplink). Returns 0 or -ENOMEM. */
int rn_uplink_new(uv_loop_t *loop, const rn_hostport_t *collectors, size_t n,
                  const rn_uplink_cbs_t *cbs, void *ctx, rn_uplink_t **out);

/* Queues a complete frame for sending; takes ownership of buf (malloc'd). Returns 0, or
 * -ENOTCONN when not connected (buf is freed; the caller keeps its own copy to resend). */
int rn_uplink_send(rn_uplink_t *u, uint8_t *buf, size_t len);

bool rn_uplink_connected(const rn_uplink_t *u);

/* Closes the connection and frees the uplink in the last close callback; cb may be NULL. */
void rn_uplink_close(rn_uplink_t *u, void (*cb)(void *data), void *data);

#endif
