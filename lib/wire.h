/* Wire protocol (RN_WIRE_VERSION): framing, encoding and validation of the messages in lib/rajnet.proto.
 *
 * A frame on the stream is a 4-byte big-endian body length followed by the body, one encoded
 * rn.Frame. The daemons build and read the protobuf-c generated structs (Rn__Frame and friends)
 * directly; only this module calls protobuf-c's pack and unpack. Every frame that comes off the
 * network goes through rn_wire_decode(), which checks it against the limits below, so code past it
 * may trust sizes, names and value counts. */
#ifndef RN_WIRE_H
#define RN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "rajnet.pb-c.h"

#define RN_WIRE_VERSION 2u        /* 2: Plan.echo (UDP echo peers) */
#define RN_WIRE_HEADER_LEN 4u
#define RN_WIRE_MAX_FRAME (1u << 20)   /* body bytes */
#define RN_WIRE_MAX_NAME 255u          /* node id, device, object, source, address, strings */
#define RN_WIRE_MAX_SAMPLES 20000u     /* per batch */
#define RN_WIRE_MAX_DEVICES 256u       /* per plan */
#define RN_WIRE_MAX_TARGETS 4096u      /* per plan */
#define RN_WIRE_MAX_INTERVAL_S 86400u  /* plan poll/probe intervals are 1 .. this */
#define RN_WIRE_MAX_TIMEOUT_MS 60000u  /* device timeout_ms, when set, is 1 .. this */
#define RN_WIRE_MAX_RETRIES 10u        /* device retries, when set */
#define RN_WIRE_MAX_PROBE_COUNT 1000u  /* icmp target count, when set, is 1 .. this */
#define RN_WIRE_MAX_ECHO_PEERS 64u     /* UDP echo peers per plan */
#define RN_WIRE_MAX_EXTRA 32u          /* extra OIDs per device (the topology's limit) */
#define RN_WIRE_MAX_EXTRA_NAME 63u     /* extra OID name: 1 .. this of [a-z0-9_-] */
#define RN_WIRE_MAX_ENTITIES 1024u     /* entPhysicalTable rows per inventory (a full chassis
                                        * with every port is a few hundred) */

/* Encodes frame (its version field is set to RN_WIRE_VERSION) with the length prefix into a new
 * buffer. On success *out is malloc'd and owned by the caller. Returns 0, -ENOMEM, or RN_ETOOBIG
 * when the body would exceed RN_WIRE_MAX_FRAME. */
int rn_wire_encode(Rn__Frame *frame, uint8_t **out, size_t *out_len);

/* Decodes and validates one frame body (without its length prefix). On success *out is owned by
 * the caller and released with rn_wire_free(). On failure returns RN_EFRAME, RN_EVERSION or
 * RN_ETOOBIG and writes a one-line reason naming the offending field into why. */
int rn_wire_decode(const uint8_t *body, size_t len, Rn__Frame **out, char *why, size_t why_len);

/* Runs the checks rn_wire_decode() would run on body, without decoding it: body must be the
 * encoding of f (rn_wire_encode's output past RN_WIRE_HEADER_LEN), whose fields are validated in
 * place of the decoded copy's. A sender uses it to refuse a frame the peer would refuse, without
 * a second copy of the frame in memory. Returns 0, or the error and reason of rn_wire_decode(). */
int rn_wire_check(const Rn__Frame *f, const uint8_t *body, size_t len, char *why, size_t why_len);

void rn_wire_free(Rn__Frame *frame);

/* True if s is a valid node id: segments of [a-z0-9_-] (starting with a letter or digit)
 * joined by '/', at most RN_WIRE_MAX_NAME bytes. */
int rn_wire_node_id_valid(const char *s);

/* True if s is a numeric OID: 2 to 128 arcs of decimal digits (each below 2^32) joined by '.',
 * a leading '.' allowed. The topology and the plan check extra SNMP objects with it. */
int rn_wire_numeric_oid(const char *s);

/* Compressed frames. A length prefix with RN_WIRE_ZLIB set announces a body (length in the low
 * bits, at most RN_WIRE_MAX_FRAME) that is a zlib stream (RFC 1950) of whole, uncompressed frames,
 * length prefixes included, at most RN_WIRE_MAX_FRAME bytes once inflated. A peer sends one only
 * after the other said it reads them (Heartbeat.codings, lib/rajnet.proto); the reader below
 * inflates them and hands out the frames inside one by one, so callers never see the coding. */
#define RN_WIRE_ZLIB 0x80000000u
#define RN_WIRE_CODING_ZLIB 1u          /* Heartbeat.codings bit: this peer reads RN_WIRE_ZLIB */
#define RN_WIRE_CODING_INVENTORY 2u     /* Heartbeat.codings bit: this collector reads Inventory */

/* Compresses len bytes of whole frames (each with its prefix, none compressed, len at most
 * RN_WIRE_MAX_FRAME) into one RN_WIRE_ZLIB frame. On success *out is malloc'd and owned by the
 * caller; it may be longer than the input (incompressible bytes): compare. Returns 0, -ENOMEM,
 * RN_ETOOBIG (len too large) or RN_EFRAME (len 0). */
int rn_wire_compress(const uint8_t *frames, size_t len, uint8_t **out, size_t *out_len);

/* Splits a byte stream into frame bodies, inflating compressed frames. */
typedef struct {
    uint8_t *buf;
    size_t len, cap, off; /* unread bytes are buf[off .. len) */
    uint8_t *inner;       /* the inflated content of the last compressed frame */
    size_t inner_len, inner_cap, inner_off; /* frames not handed out yet: inner[inner_off ..) */
} rn_wire_reader_t;

void rn_wire_reader_init(rn_wire_reader_t *r);
void rn_wire_reader_free(rn_wire_reader_t *r);

/* Appends received bytes. Returns 0 or -ENOMEM; or RN_ETOOBIG if a whole frame (or an oversize
 * length prefix) is still waiting unread: call next() until it returns 0 after every push, and the
 * buffer never holds more than one frame plus the bytes of one push. */
int rn_wire_reader_push(rn_wire_reader_t *r, const void *data, size_t len);

/* Takes the next complete frame body; the frames inside a compressed frame come out one by one,
 * in order. Returns 1 and sets body/len (valid until the next push or next call), 0 when more
 * bytes are needed, RN_ETOOBIG when the length prefix announces a body over RN_WIRE_MAX_FRAME or
 * a compressed frame inflates to more than that (the stream cannot be resynchronised: close it),
 * RN_EFRAME for an empty body or a compressed frame that is not a well-formed zlib stream of
 * whole, uncompressed frames, or -ENOMEM. */
int rn_wire_reader_next(rn_wire_reader_t *r, const uint8_t **body, size_t *len);

#endif
