/* The agent's connection to the collector: one mutually authenticated TLS 1.3 connection at a
 * time, to the first collector that answers; on loss, reconnects with exponential backoff (1 s
 * doubling to 30 s, +-20% jitter so a district's agents do not reconnect in the same instant),
 * trying the collectors in turn. The TLS client context lives as long as the uplink, so a
 * reconnect after a flap resumes the session (a ticket) instead of a full handshake.
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

/* Loads the TLS credentials named in config and starts connecting to its collectors (config is
 * borrowed; it must outlive the uplink). Returns 0, or a negative error with the reason (the
 * file named) in err. */
int rn_uplink_new(uv_loop_t *loop, const rn_agent_config_t *config, const rn_uplink_cbs_t *cbs,
                  void *ctx, rn_uplink_t **out, char *err, size_t err_len);

/* Queues a complete frame for sending; takes ownership of buf (malloc'd). Returns 0, or
 * -ENOTCONN when not connected (buf is freed; the caller keeps its own copy to resend). */
int rn_uplink_send(rn_uplink_t *u, uint8_t *buf, size_t len);

/* Bytes written but not yet handed to the kernel (for the owner's flow control). */
size_t rn_uplink_pending_bytes(const rn_uplink_t *u);

/* True if the current connection resumed an earlier TLS session. */
bool rn_uplink_resumed(const rn_uplink_t *u);
bool rn_uplink_connected(const rn_uplink_t *u);

/* Closes the connection and frees the uplink in the last close callback; cb may be NULL. */
void rn_uplink_close(rn_uplink_t *u, void (*cb)(void *data), void *data);

#endif
