/* Wire protocol (RN_WIRE_VERSION): length-prefixed framing, encoding, and the validation gate
 * every received frame passes through.
 *
 * Decoding a frame body happens in three steps, each stricter than the last:
 *   1. scan: a bounds-checked cursor walks the raw protobuf bytes against the generated
 *      descriptors. It rejects truncated or malformed encodings, wrong wire types, missing
 *      required fields, NUL bytes inside strings (protobuf-c would silently cut the string
 *      there), a second oneof member, and repeated fields over their limit, before protobuf-c
 *      allocates anything. Because it knows where it is, its reason names the field
 *      ("batch.samples[3].object: missing").
 *   2. unpack: protobuf-c builds the Rn__Frame with its default allocator.
 *   3. validate (lib/wire_check.c): one validator per message type checks the meaning: version,
 *      names, node ids, addresses, SNMP credentials, intervals, sample templates and values.
 * The first failure wins and is reported as a one-line reason: "<field path>: <what>". */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"
#include "wire_int.h"

#define SCAN_MAX_VALUES 16u          /* values per sample before unpack; templates fix the count */
#define READER_KEEP_CAP (64u * 1024) /* an idle reader gives back a buffer larger than this */

/* ---------------------------------------------------------------------------------------------
 * Encoding */

int rn_wire_encode(Rn__Frame *frame, uint8_t **out, size_t *out_len)
{
    frame->version = RN_WIRE_VERSION;
    size_t body = protobuf_c_message_get_packed_size(&frame->base);
    if (body > RN_WIRE_MAX_FRAME)
        return RN_ETOOBIG;
    uint8_t *buf = malloc(RN_WIRE_HEADER_LEN + body);
    if (!buf)
        return -ENOMEM;
    buf[0] = (uint8_t)(body >> 24);
    buf[1] = (uint8_t)(body >> 16);
    buf[2] = (uint8_t)(body >> 8);
    buf[3] = (uint8_t)body;
    protobuf_c_message_pack(&frame->base, buf + RN_WIRE_HEADER_LEN);
    *out = buf;
    *out_len = RN_WIRE_HEADER_LEN + body;
    return 0;
}

void rn_wire_free(Rn__Frame *frame)
{
    if (frame)
        protobuf_c_message_free_unpacked(&frame->base, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Step 1: the scan. A cursor over the body whose reads fail (return -1) instead of running off the
 * end; the scan turns a failure into a reason naming the field being read. */

typedef struct {
    const uint8_t *p, *end;
} cursor_t;

typedef struct {
    char *why;
    size_t why_len;
} scan_t;

/* Repeated fields whose count the scan bounds before protobuf-c allocates one struct per entry. */
static const struct {
    const ProtobufCMessageDescriptor *msg;
    unsigned field_id, max;
} scan_limits[] = {
    { &rn__batch__descriptor, 2, RN_WIRE_MAX_SAMPLES },
    { &rn__plan__descriptor, 4, RN_WIRE_MAX_DEVICES },
    { &rn__plan__descriptor, 5, RN_WIRE_MAX_TARGETS },
    { &rn__plan__descriptor, 6, RN_WIRE_MAX_TARGETS },
    { &rn__plan__descriptor, 7, 8 }, /* VC capture: RN_WIRE_MAX_CAPTURES below */
    { &rn__plan__descriptor, 8, RN_WIRE_MAX_ECHO_PEERS }, /* UDP echo peers */
    { &rn__plan__descriptor, 9, RN_WIRE_MAX_DEVICES }, /* agentless children's devices */
    { &rn__device__descriptor, 6, RN_WIRE_MAX_EXTRA }, /* extra OIDs */
    { &rn__sample__descriptor, 5, SCAN_MAX_VALUES },
    { &rn__inventory__descriptor, 7, RN_WIRE_MAX_ENTITIES }, /* entPhysicalTable rows */
};

static unsigned scan_limit(const ProtobufCMessageDescriptor *d, unsigned id)
{
    for (size_t i = 0; i < sizeof scan_limits / sizeof scan_limits[0]; i++)
        if (scan_limits[i].msg == d && scan_limits[i].field_id == id)
            return scan_limits[i].max;
    return UINT32_MAX;
}

/* Reads a base-128 varint of at most 10 bytes. Returns 0, or -1 if truncated or too long. */
static int cur_varint(cursor_t *c, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end)
            return -1;
        uint8_t b = *c->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Reads the payload of a field of wire type wt: sets *data and *len to a length-delimited payload
 * (wire type 2) or skips a fixed or varint one. Returns 0, or -1 if it runs past the end or the
 * wire type is a group or undefined. */
static int cur_payload(cursor_t *c, unsigned wt, const uint8_t **data, size_t *len)
{
    uint64_t v;
    size_t n;
    switch (wt) {
    case 0: return cur_varint(c, &v);
    case 1: n = 8; break;
    case 5: n = 4; break;
    case 2:
        if (cur_varint(c, &v) < 0)
            return -1;
        if (v > (uint64_t)(c->end - c->p))
            return -1;
        n = (size_t)v;
        break;
    default: return -1;
    }
    if (n > (size_t)(c->end - c->p))
        return -1;
    *data = c->p;
    *len = n;
    c->p += n;
    return 0;
}

/* The wire type protobuf uses for a field of type t. */
static unsigned wire_type_of(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64: return 1;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32: return 5;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE: return 2;
    default: return 0;
    }
}

/* Joins a parent path and a field name, with "[i]" for an entry of a repeated field. */
static void child_path(char *out, const char *parent, const ProtobufCFieldDescriptor *f,
                       unsigned index)
{
    const char *dot = parent[0] ? "." : "";
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        pathf(out, "%s%s%s[%u]", parent, dot, f->name, index);
    else
        pathf(out, "%s%s%s", parent, dot, f->name);
}

static int scan_message(scan_t *s, const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                        const char *path);

/* Checks one known field's payload: its wire type, its count against the limit, NUL bytes in a
 * string, and recursively a sub-message. seen is how many times the field occurred before this
 * one. Returns 0 or an RN_E* code with the reason written. */
static int scan_field(scan_t *s, const ProtobufCMessageDescriptor *d,
                      const ProtobufCFieldDescriptor *f, unsigned wt, const uint8_t *data,
                      size_t len, unsigned seen, const char *path)
{
    char sub[PATH_MAX_LEN];
    child_path(sub, path, f, seen);
    int packed = f->label == PROTOBUF_C_LABEL_REPEATED && wt == 2 && wire_type_of(f->type) != 2;
    if (wt != wire_type_of(f->type) && !packed)
        return fail(s->why, s->why_len, RN_EFRAME, "%s: wire type %u, expected %u", sub, wt,
                    wire_type_of(f->type));
    if (seen >= scan_limit(d, f->id))
        return fail(s->why, s->why_len, RN_ETOOBIG, "%s: more than %u entries", sub, seen);
    if (f->type == PROTOBUF_C_TYPE_STRING && memchr(data, 0, len))
        return fail(s->why, s->why_len, RN_EFRAME, "%s: contains a NUL byte", sub);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return scan_message(s, f->descriptor, data, len, sub);
    return 0;
}

/* Walks the encoded message in p[0..n) of type d, whose field path is path ("" for the frame).
 * Unknown fields are skipped, as protobuf requires; known ones go through scan_field. Returns 0
 * or an RN_E* code with the reason written. */
static int scan_message(scan_t *s, const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                        const char *path)
{
    unsigned count[32] = { 0 };
    const ProtobufCFieldDescriptor *oneof = NULL;
    const char *at = path[0] ? path : "frame";
    cursor_t c = { p, p + n };
    if (d->n_fields > 32)
        return fail(s->why, s->why_len, RN_EFRAME, "%s: message too wide to check", at);
    while (c.p < c.end) {
        uint64_t key;
        const uint8_t *data = NULL;
        size_t len = 0;
        if (cur_varint(&c, &key) < 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
            return fail(s->why, s->why_len, RN_EFRAME, "%s: bad field key at byte %zu", at,
                        (size_t)(c.p - p));
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
        unsigned i = f ? (unsigned)(f - d->fields) : 0;
        if (cur_payload(&c, (unsigned)(key & 7), &data, &len) < 0) {
            char sub[PATH_MAX_LEN];
            if (f)
                child_path(sub, path, f, count[i]);
            return fail(s->why, s->why_len, RN_EFRAME, "%s: truncated or malformed",
                        f ? sub : at);
        }
        if (!f)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && oneof && oneof != f)
            return fail(s->why, s->why_len, RN_EFRAME, "%s: second body (already has %s)",
                        f->name, oneof->name);
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            oneof = f;
        int err = scan_field(s, d, f, (unsigned)(key & 7), data, len, count[i]++, path);
        if (err)
            return err;
    }
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && count[i] == 0)
            return fail(s->why, s->why_len, RN_EFRAME, "%s%s%s: missing", path,
                        path[0] ? "." : "", d->fields[i].name);
    return 0;
}


/* The version is checked before anything else so that a peer speaking another version gets
 * RN_EVERSION even when the rest of its frame would not scan as ours. */
static int peek_version(const uint8_t *body, size_t len, uint32_t *version)
{
    cursor_t c = { body, body + len };
    while (c.p < c.end) {
        uint64_t key, v;
        const uint8_t *data;
        size_t n;
        if (cur_varint(&c, &key) < 0)
            return -1;
        if (key == ((1u << 3) | 0)) {
            if (cur_varint(&c, &v) < 0)
                return -1;
            *version = (uint32_t)v;
            return 0;
        }
        if (cur_payload(&c, (unsigned)(key & 7), &data, &n) < 0)
            return -1;
    }
    return -1;
}

/* The checks of a body that need no decoding: size, version, and the scan of every field against
 * the limits. Returns 0 or the error with why written. */
static int check_encoding(const uint8_t *body, size_t len, char *why, size_t why_len)
{
    scan_t s = { why, why_len };
    uint32_t version;
    if (why && why_len)
        why[0] = '\0';
    if (len > RN_WIRE_MAX_FRAME)
        return fail(why, why_len, RN_ETOOBIG, "frame: %zu bytes, at most %u", len,
                    RN_WIRE_MAX_FRAME);
    if (len == 0)
        return fail(why, why_len, RN_EFRAME, "frame: empty body");
    if (peek_version(body, len, &version) == 0 && version != RN_WIRE_VERSION)
        return fail(why, why_len, RN_EVERSION, "version: %u, expected %u", version,
                    RN_WIRE_VERSION);
    return scan_message(&s, &rn__frame__descriptor, body, len, "");
}

int rn_wire_check(const Rn__Frame *f, const uint8_t *body, size_t len, char *why, size_t why_len)
{
    int err = check_encoding(body, len, why, why_len);
    if (!err && (err = rn__wire_validate(f, why, why_len)) && why && why_len && !why[0])
        fail(why, why_len, err, "body: missing");
    return err;
}

int rn_wire_decode(const uint8_t *body, size_t len, Rn__Frame **out, char *why, size_t why_len)
{
    *out = NULL;
    int err = check_encoding(body, len, why, why_len);
    if (err)
        return err;
    Rn__Frame *f = rn__frame__unpack(NULL, len, body);
    if (!f)
        return fail(why, why_len, RN_EFRAME, "frame: protobuf-c refused the encoding");
    if ((err = rn__wire_validate(f, why, why_len))) {
        if (why && why_len && !why[0])
            fail(why, why_len, err, "body: missing");
        rn_wire_free(f);
        return err;
    }
    *out = f;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The stream reader. Unread bytes live in buf[off..len). Consumed bytes are dropped (the unread
 * tail moved to the front) only when more room is needed, so a body handed out by next() stays put
 * until the next push. The buffer grows by doubling; when the reader runs empty and holds more than
 * READER_KEEP_CAP it gives the memory back, so an idle connection that once carried a 1 MiB plan
 * does not keep 1 MiB. A compressed frame is inflated whole into `inner` (bounded by
 * RN_WIRE_MAX_FRAME, so a zlib bomb costs at most that), and its frames are handed out from there
 * before the next outer frame; `inner` is given back the same way once it is read. */

void rn_wire_reader_init(rn_wire_reader_t *r)
{
    memset(r, 0, sizeof *r);
}

void rn_wire_reader_free(rn_wire_reader_t *r)
{
    free(r->buf);
    free(r->inner);
    memset(r, 0, sizeof *r);
}

/* Forgets consumed bytes once everything is read; frees a big buffer then. */
static void reader_settle(rn_wire_reader_t *r)
{
    if (r->inner_off >= r->inner_len) {
        r->inner_off = r->inner_len = 0;
        if (r->inner_cap > READER_KEEP_CAP) {
            free(r->inner);
            r->inner = NULL;
            r->inner_cap = 0;
        }
    }
    if (r->off < r->len)
        return;
    r->off = r->len = 0;
    if (r->cap > READER_KEEP_CAP) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
}

int rn_wire_reader_push(rn_wire_reader_t *r, const void *data, size_t len)
{
    reader_settle(r);
    if (len == 0)
        return 0;
    size_t unread = r->len - r->off;
    if (unread >= RN_WIRE_HEADER_LEN + RN_WIRE_MAX_FRAME)
        return RN_ETOOBIG; /* a whole frame (or an oversize prefix) is waiting: call next() */
    if (len > SIZE_MAX - unread)
        return -ENOMEM;
    if (r->off > 0 && r->len + len > r->cap) {
        memmove(r->buf, r->buf + r->off, unread);
        r->off = 0;
        r->len = unread;
    }
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + len)
            cap = cap > SIZE_MAX / 2 ? r->len + len : cap * 2;
        uint8_t *buf = realloc(r->buf, cap);
        if (!buf)
            return -ENOMEM;
        r->buf = buf;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    return 0;
}

/* Reads a frame's 4-byte length prefix. */
static uint32_t prefix_of(const uint8_t *h)
{
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* Inflates a compressed frame's body into r->inner, growing it up to RN_WIRE_MAX_FRAME. Returns
 * 0, RN_ETOOBIG when it inflates to more, RN_EFRAME when it is not one whole zlib stream (bytes
 * after its end included) or inflates to nothing, or -ENOMEM. */
static int inflate_body(rn_wire_reader_t *r, const uint8_t *body, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)body;
    z.avail_in = (uInt)len;
    size_t out = 0;
    int zrc = Z_OK, rc = 0;
    while (zrc == Z_OK) {
        if (out == r->inner_cap) {
            size_t cap = r->inner_cap ? r->inner_cap * 2 : 16384;
            if (r->inner_cap >= RN_WIRE_MAX_FRAME) {
                rc = RN_ETOOBIG;
                break;
            }
            cap = cap > RN_WIRE_MAX_FRAME ? RN_WIRE_MAX_FRAME : cap;
            uint8_t *grown = realloc(r->inner, cap);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            r->inner = grown;
            r->inner_cap = cap;
        }
        z.next_out = r->inner + out;
        z.avail_out = (uInt)(r->inner_cap - out);
        zrc = inflate(&z, Z_NO_FLUSH);
        out = r->inner_cap - z.avail_out;
        if (zrc == Z_BUF_ERROR && z.avail_out == 0)
            zrc = Z_OK; /* only room was missing: grow */
    }
    if (rc == 0 && (zrc != Z_STREAM_END || z.avail_in != 0 || out == 0))
        rc = zrc == Z_MEM_ERROR ? -ENOMEM : RN_EFRAME;
    inflateEnd(&z);
    r->inner_len = rc ? 0 : out;
    r->inner_off = 0;
    return rc;
}

/* Takes the next frame out of the inflated content. Returns 1 with body/len set, 0 when it is
 * used up, or RN_EFRAME for a cut, empty, oversize or compressed frame inside. */
static int next_inner(rn_wire_reader_t *r, const uint8_t **body, size_t *len)
{
    size_t left = r->inner_len - r->inner_off;
    if (left == 0)
        return 0;
    if (left < RN_WIRE_HEADER_LEN)
        return RN_EFRAME;
    uint32_t n = prefix_of(r->inner + r->inner_off);
    if (n == 0 || n > left - RN_WIRE_HEADER_LEN) /* also the flag: it makes n too large */
        return RN_EFRAME;
    *body = r->inner + r->inner_off + RN_WIRE_HEADER_LEN;
    *len = n;
    r->inner_off += RN_WIRE_HEADER_LEN + n;
    return 1;
}

int rn_wire_reader_next(rn_wire_reader_t *r, const uint8_t **body, size_t *len)
{
    int rc = next_inner(r, body, len);
    if (rc != 0) {
        if (rc < 0)
            r->inner_off = r->inner_len; /* the stream is failed; forget the rest */
        return rc;
    }
    reader_settle(r);
    size_t unread = r->len - r->off;
    if (unread < RN_WIRE_HEADER_LEN)
        return 0;
    const uint8_t *h = r->buf + r->off;
    uint32_t n = prefix_of(h);
    uint32_t zlib = n & RN_WIRE_ZLIB;
    n &= ~RN_WIRE_ZLIB;
    if (n > RN_WIRE_MAX_FRAME)
        return RN_ETOOBIG; /* not consumed: the stream stays failed */
    if (n == 0) {
        r->off += RN_WIRE_HEADER_LEN;
        return RN_EFRAME;
    }
    if (unread - RN_WIRE_HEADER_LEN < n)
        return 0;
    r->off += RN_WIRE_HEADER_LEN + n;
    if (!zlib) {
        *body = h + RN_WIRE_HEADER_LEN;
        *len = n;
        return 1;
    }
    if ((rc = inflate_body(r, h + RN_WIRE_HEADER_LEN, n)) != 0)
        return rc;
    if ((rc = next_inner(r, body, len)) < 0)
        r->inner_off = r->inner_len;
    return rc == 0 ? RN_EFRAME : rc; /* inflate_body refused empty content */
}

int rn_wire_compress(const uint8_t *frames, size_t len, uint8_t **out, size_t *out_len)
{
    if (len == 0)
        return RN_EFRAME;
    if (len > RN_WIRE_MAX_FRAME)
        return RN_ETOOBIG;
    uLong bound = compressBound((uLong)len);
    uint8_t *buf = malloc(RN_WIRE_HEADER_LEN + bound);
    if (!buf)
        return -ENOMEM;
    uLongf body = bound;
    /* Level 9: a few percent smaller than the default at a cost (a few ms per 64 KiB) that a
     * replay capped at a thin link's rate never feels. */
    if (compress2(buf + RN_WIRE_HEADER_LEN, &body, frames, (uLong)len, Z_BEST_COMPRESSION) !=
        Z_OK) {
        free(buf);
        return -ENOMEM; /* with a compressBound buffer only memory can be missing */
    }
    if (body > RN_WIRE_MAX_FRAME) {
        free(buf);
        return RN_ETOOBIG;
    }
    uint32_t prefix = (uint32_t)body | RN_WIRE_ZLIB;
    buf[0] = (uint8_t)(prefix >> 24);
    buf[1] = (uint8_t)(prefix >> 16);
    buf[2] = (uint8_t)(prefix >> 8);
    buf[3] = (uint8_t)prefix;
    *out = buf;
    *out_len = RN_WIRE_HEADER_LEN + body;
    return 0;
}
