/* The agent's connection to the collector: one mutually authenticated TLS 1.3 connection at a
 * time, to the first collector that answers, trying the collectors in turn.
 *
 * Failover: the collectors are an order of preference. After a session ends the next attempt
 * goes to the first collector (a failed attempt moves down the list). While the session is with
 * another one, the first is probed (a TLS handshake, no hello) after 6 heartbeats (30 s),
 * doubling to 60 (5 min), and when it answers the session moves back to it. Each collector keeps
 * its own acks: the owner's spool replays to whichever is current (docs/architecture.md,
 * "Failover", says what that means for a node's data). The TLS client
 * context lives as long as the uplink, so a reconnect after a flap resumes the session (a
 * ticket) instead of a full handshake. Frames are decoded and validated here; the owner sees
 * only well-formed frames.
 *
 * Liveness (lib/rajnet.proto): the uplink sends a Heartbeat right after the owner's Hello and
 * every RN_UPLINK_HEARTBEAT_MS; the collector answers each one. When nothing at all arrives for
 * RN_UPLINK_SILENCE_MS (3 heartbeats) the session is dead, most often a black hole beyond the
 * router that TCP would not report for many minutes: the uplink says so once and reconnects.
 * While the path stays dead it tries again every 2 to 4 s (uplink.c says why not slower, and
 * why not faster) and logs only the first failure; after the heal the first attempt that gets
 * through says how long the collector was lost.
 *
 * Compression: once the collector's heartbeat says it reads zlib frames, rn_uplink_send_frames()
 * sends a run of frames as one compressed frame (lib/wire.h) when that is shorter. */
#ifndef RN_UPLINK_H
#define RN_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "wire.h"

#ifndef RN_UPLINK_HEARTBEAT_MS /* tests/unit/agent/test_uplink.c builds uplink.c with less */
#define RN_UPLINK_HEARTBEAT_MS 5000
#endif
#define RN_UPLINK_SILENCE_MS (3 * RN_UPLINK_HEARTBEAT_MS)

typedef struct rn_uplink rn_uplink_t;

typedef struct {
    /* TLS is up: send the hello now (rn_uplink_send). */
    void (*connected)(void *ctx);
    /* takes ownership of frame; heartbeats stay inside the uplink */
    void (*frame)(void *ctx, Rn__Frame *frame);
    /* the connection is gone (after `connected`) */
    void (*disconnected)(void *ctx);
    /* The collector answered the first heartbeat (so whether it reads compressed frames is
     * known), or did not within RN_UPLINK_READY_WAIT_MS (an older collector): send batches now.
     * Fires once per connection, after `connected`. May be NULL. */
    void (*ready)(void *ctx);
} rn_uplink_cbs_t;

#define RN_UPLINK_READY_WAIT_MS 2000

/* Loads the TLS credentials named in config and starts connecting to its collectors (config is
 * borrowed; it must outlive the uplink). Returns 0, or a negative error with the reason (the
 * file named) in err. */
int rn_uplink_new(uv_loop_t *loop, const rn_agent_config_t *config, const rn_uplink_cbs_t *cbs,
                  void *ctx, rn_uplink_t **out, char *err, size_t err_len);

/* Queues a complete frame for sending as it is; takes ownership of buf (malloc'd). Returns 0, or
 * -ENOTCONN when not connected (buf is freed; the caller keeps its own copy to resend). */
int rn_uplink_send(rn_uplink_t *u, uint8_t *buf, size_t len);

/* Queues len bytes of one or more whole frames (each with its length prefix, none compressed);
 * takes ownership of buf. When the collector reads zlib frames and compressing saves bytes,
 * they go out as one compressed frame. *wire_len (may be NULL) is set to the bytes queued for
 * the wire, len or fewer. Returns 0 or -ENOTCONN, as rn_uplink_send(). */
int rn_uplink_send_frames(rn_uplink_t *u, uint8_t *buf, size_t len, size_t *wire_len);

/* Bytes written but not yet handed to the kernel (for the owner's flow control). */
size_t rn_uplink_pending_bytes(const rn_uplink_t *u);

/* True from `connected` until the connection is lost. */
bool rn_uplink_connected(const rn_uplink_t *u);
/* True from `ready` until the connection is lost. */
bool rn_uplink_ready(const rn_uplink_t *u);
/* The codings the collector's last heartbeat on this connection named (RN_WIRE_CODING_*); 0
 * before it answered, and for an older collector. */
uint32_t rn_uplink_peer_codings(const rn_uplink_t *u);

/* Closes the connection and frees the uplink in the last close callback; cb may be NULL. */
void rn_uplink_close(rn_uplink_t *u, void (*cb)(void *data), void *data);

#endif
