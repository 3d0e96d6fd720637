/* Unit tests of lib/wire.c: every message type goes through encode -> reader -> decode and comes
 * out equal; every kind of bad frame is refused with the right code and a reason naming the field.
 *
 * With RN_WIRE_WRITE_CORPUS=<dir> in the environment the binary also writes the fuzz seeds of
 * tests/fuzz/corpus/wire/ into <dir> (see tests/fuzz/README.md), from the same fixtures. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "error.h"
#include "metrics.h"
#include "wire.h"

/* ------------------------------------------------------------------------------------------------
 * Fixtures: one struct holds every message a test frame points into, so frames need no frees. */

typedef struct {
    Rn__Frame frame;
    Rn__Hello hello;
    Rn__Plan plan;
    Rn__Device dev[2], *devp[2];
    Rn__SnmpCredentials cred[2];
    Rn__IcmpTarget tgt[2], *tgtp[2];
    Rn__Batch batch;
    Rn__Sample smp[2], *smpp[2];
    Rn__Value val[RN_IF_N + RN_ICMP_N], *valp[RN_IF_N + RN_ICMP_N];
    Rn__Ack ack;
    Rn__Heartbeat hb;
} fx_t;

static Rn__Frame *fx_frame(fx_t *fx)
{
    memset(fx, 0, sizeof *fx);
    rn__frame__init(&fx->frame);
    fx->frame.version = RN_WIRE_VERSION;
    return &fx->frame;
}

static Rn__Frame *fx_hello(fx_t *fx)
{
    Rn__Frame *f = fx_frame(fx);
    rn__hello__init(&fx->hello);
    fx->hello.node_id = "jaipur/sanganer";
    fx->hello.agent_version = "0.1.0";
    fx->hello.wall_time_ms = 1717200000123;
    fx->hello.has_next_seq = 1;
    fx->hello.next_seq = 42;
    fx->hello.plan_digest = "sha256:4f2a";
    f->body_case = RN__FRAME__BODY_HELLO;
    f->hello = &fx->hello;
    return f;
}

/* A plan with a v2c device, a v3 authPriv device and two ICMP targets (IPv4 and IPv6). */
static Rn__Frame *fx_plan(fx_t *fx)
{
    Rn__Frame *f = fx_frame(fx);
    rn__plan__init(&fx->plan);
    for (int i = 0; i < 2; i++) {
        rn__device__init(&fx->dev[i]);
        rn__snmp_credentials__init(&fx->cred[i]);
        rn__icmp_target__init(&fx->tgt[i]);
        fx->dev[i].snmp = &fx->cred[i];
        fx->devp[i] = &fx->dev[i];
        fx->tgtp[i] = &fx->tgt[i];
    }
    fx->dev[0].name = "rtr1";
    fx->dev[0].addr = "10.77.1.1";
    fx->cred[0].version = 2;
    fx->cred[0].community = "jaipur-ro";
    fx->dev[1].name = "core1";
    fx->dev[1].addr = "udp:10.1.0.1:161";
    fx->dev[1].has_timeout_ms = 1;
    fx->dev[1].timeout_ms = 1500;
    fx->dev[1].has_retries = 1;
    fx->dev[1].retries = 2;
    fx->cred[1] = (Rn__SnmpCredentials)RN__SNMP_CREDENTIALS__INIT;
    fx->cred[1].version = 3;
    fx->cred[1].user = "noc";
    fx->cred[1].auth_proto = "SHA-256";
    fx->cred[1].auth_key = "auth-secret-1";
    fx->cred[1].priv_proto = "AES";
    fx->cred[1].priv_key = "priv-secret-1";
    fx->tgt[0].name = "jaipur";
    fx->tgt[0].addr = "10.2.0.1";
    fx->tgt[0].has_count = 1;
    fx->tgt[0].count = 20;
    fx->tgt[1].name = "sdc";
    fx->tgt[1].addr = "2001:db8::1";
    fx->plan.digest = "sha256:4f2a";
    fx->plan.poll_interval_s = 60;
    fx->plan.probe_interval_s = 1;
    fx->plan.n_devices = 2;
    fx->plan.devices = fx->devp;
    fx->plan.n_icmp = 2;
    fx->plan.icmp = fx->tgtp;
    f->body_case = RN__FRAME__BODY_PLAN;
    f->plan = &fx->plan;
    return f;
}

/* A batch of one "if" sample (Gi0/0, in/out known, errors unknown) and one "icmp" sample (all
 * gauges, jitter unknown). */
static Rn__Frame *fx_batch(fx_t *fx)
{
    Rn__Frame *f = fx_frame(fx);
    rn__batch__init(&fx->batch);
    for (int i = 0; i < RN_IF_N + RN_ICMP_N; i++) {
        rn__value__init(&fx->val[i]);
        fx->valp[i] = &fx->val[i];
    }
    for (int i = 0; i < 2; i++) {
        rn__sample__init(&fx->smp[i]);
        fx->smpp[i] = &fx->smp[i];
    }
    Rn__Value *v = fx->val;
    v[RN_IF_IN].has_counter = v[RN_IF_OUT].has_counter = 1;
    v[RN_IF_IN].counter = UINT64_MAX - 5;
    v[RN_IF_OUT].counter = 987654321;
    v[RN_IF_OPER].has_gauge = 1;
    v[RN_IF_OPER].gauge = 1;
    fx->smp[0] = (Rn__Sample)RN__SAMPLE__INIT;
    fx->smp[0].source = "if";
    fx->smp[0].device = "rtr1";
    fx->smp[0].object = "Gi0/0";
    fx->smp[0].time_ms = 1717200000000;
    fx->smp[0].n_values = RN_IF_N;
    fx->smp[0].values = fx->valp;
    fx->smp[0].has_speed_bps = 1;
    fx->smp[0].speed_bps = 34000000;
    Rn__Value *w = fx->val + RN_IF_N;
    static const double gauges[RN_ICMP_N] = { 1.25, 2.5, 4.75, 0.5, 0, 5, 20, 19 };
    for (int i = 0; i < RN_ICMP_N; i++) {
        w[i].has_gauge = i != RN_ICMP_JITTER;
        w[i].gauge = gauges[i];
    }
    fx->smp[1].source = "icmp";
    fx->smp[1].device = "";
    fx->smp[1].object = "jaipur";
    fx->smp[1].time_ms = 1717200000500;
    fx->smp[1].n_values = RN_ICMP_N;
    fx->smp[1].values = fx->valp + RN_IF_N;
    fx->batch.seq = 7;
    fx->batch.n_samples = 2;
    fx->batch.samples = fx->smpp;
    f->body_case = RN__FRAME__BODY_BATCH;
    f->batch = &fx->batch;
    return f;
}

static Rn__Frame *fx_ack(fx_t *fx)
{
    Rn__Frame *f = fx_frame(fx);
    rn__ack__init(&fx->ack);
    fx->ack.seq = 7;
    f->body_case = RN__FRAME__BODY_ACK;
    f->ack = &fx->ack;
    return f;
}

static Rn__Frame *fx_heartbeat(fx_t *fx)
{
    Rn__Frame *f = fx_frame(fx);
    rn__heartbeat__init(&fx->hb);
    fx->hb.wall_time_ms = 1717200001000;
    f->body_case = RN__FRAME__BODY_HEARTBEAT;
    f->heartbeat = &fx->hb;
    return f;
}

/* ------------------------------------------------------------------------------------------------
 * Helpers */

typedef struct {
    uint8_t *buf;
    size_t len;
} bytes_t;

static bytes_t encode(Rn__Frame *f)
{
    bytes_t b;
    assert_int_equal(rn_wire_encode(f, &b.buf, &b.len), 0);
    return b;
}

/* Packs a frame body as is (no length prefix, version untouched), for frames encode would fix. */
static bytes_t pack_raw(Rn__Frame *f)
{
    bytes_t b;
    b.len = protobuf_c_message_get_packed_size(&f->base);
    b.buf = malloc(b.len ? b.len : 1);
    assert_non_null(b.buf);
    protobuf_c_message_pack(&f->base, b.buf);
    return b;
}

static Rn__Frame *decode_ok(const uint8_t *body, size_t len)
{
    Rn__Frame *out = NULL;
    char why[256] = "";
    int rc = rn_wire_decode(body, len, &out, why, sizeof why);
    if (rc != 0)
        fail_msg("decode failed (%d): %s", rc, why);
    assert_non_null(out);
    return out;
}

/* Asserts that body is refused with err and a one-line reason containing field. */
static void assert_rejects(const uint8_t *body, size_t len, int err, const char *field)
{
    Rn__Frame *out = (Rn__Frame *)&out;
    char why[256] = "";
    int rc = rn_wire_decode(body, len, &out, why, sizeof why);
    if (rc != err || !strstr(why, field) || strchr(why, '\n'))
        fail_msg("expected %d naming \"%s\", got %d: \"%s\"", err, field, rc, why);
    assert_null(out);
}

/* Encodes f, then asserts its decode is refused with err naming field, and that rn_wire_check
 * (the sender's check, on f itself) refuses it with the same error and reason. */
static void assert_frame_rejected(Rn__Frame *f, int err, const char *field)
{
    bytes_t b = encode(f);
    assert_rejects(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN, err, field);
    char why[256] = "", why_check[256] = "";
    Rn__Frame *out = NULL;
    rn_wire_decode(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN, &out, why, sizeof why);
    int rc = rn_wire_check(f, b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN, why_check,
                           sizeof why_check);
    if (rc != err || strcmp(why, why_check) != 0)
        fail_msg("rn_wire_check: expected %d \"%s\", got %d \"%s\"", err, why, rc, why_check);
    free(b.buf);
}

/* Feeds a stream to a reader in pieces of `piece` bytes (0: all at once) and decodes every frame
 * body it yields into out[], at most max. Returns the number of frames. */
static size_t read_stream(const uint8_t *s, size_t n, size_t piece, Rn__Frame **out, size_t max)
{
    rn_wire_reader_t r;
    size_t got = 0;
    rn_wire_reader_init(&r);
    for (size_t at = 0; at < n;) {
        size_t k = piece == 0 || n - at < piece ? n - at : piece;
        assert_int_equal(rn_wire_reader_push(&r, s + at, k), 0);
        at += k;
        const uint8_t *body;
        size_t len;
        int rc;
        while ((rc = rn_wire_reader_next(&r, &body, &len)) == 1) {
            assert_true(got < max);
            out[got++] = decode_ok(body, len);
        }
        assert_int_equal(rc, 0);
    }
    rn_wire_reader_free(&r);
    return got;
}

/* Encodes f, reads it back through a reader in one piece and in 1-byte pieces, and returns the
 * decoded frame of the 1-byte pass (the other is compared to it and freed). */
static Rn__Frame *round_trip(Rn__Frame *f)
{
    bytes_t b = encode(f);
    char why[256] = "";
    if (rn_wire_check(f, b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN, why, sizeof why))
        fail_msg("rn_wire_check refused a frame that decodes: %s", why);
    Rn__Frame *whole[1], *bytewise[1];
    assert_int_equal(read_stream(b.buf, b.len, 0, whole, 1), 1);
    assert_int_equal(read_stream(b.buf, b.len, 1, bytewise, 1), 1);
    bytes_t again = encode(whole[0]);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.buf, b.buf, b.len);
    free(again.buf);
    free(b.buf);
    rn_wire_free(whole[0]);
    assert_int_equal(bytewise[0]->version, RN_WIRE_VERSION);
    return bytewise[0];
}

/* ------------------------------------------------------------------------------------------------
 * Round trips */

static void test_hello_round_trips_with_every_field(void **state)
{
    fx_t fx;
    Rn__Frame *f = round_trip(fx_hello(&fx));
    assert_int_equal(f->body_case, RN__FRAME__BODY_HELLO);
    assert_string_equal(f->hello->node_id, "jaipur/sanganer");
    assert_string_equal(f->hello->agent_version, "0.1.0");
    assert_true(f->hello->wall_time_ms == 1717200000123);
    assert_true(f->hello->has_next_seq);
    assert_int_equal(f->hello->next_seq, 42);
    assert_string_equal(f->hello->plan_digest, "sha256:4f2a");
    rn_wire_free(f);
}

static void test_hello_round_trips_without_optional_fields(void **state)
{
    fx_t fx;
    Rn__Frame *in = fx_hello(&fx);
    fx.hello.has_next_seq = 0;
    fx.hello.plan_digest = NULL;
    Rn__Frame *f = round_trip(in);
    assert_false(f->hello->has_next_seq);
    assert_null(f->hello->plan_digest);
    rn_wire_free(f);
}

static void test_plan_round_trips_with_devices_targets_and_v3_credentials(void **state)
{
    fx_t fx;
    Rn__Frame *f = round_trip(fx_plan(&fx));
    assert_int_equal(f->body_case, RN__FRAME__BODY_PLAN);
    Rn__Plan *p = f->plan;
    assert_string_equal(p->digest, "sha256:4f2a");
    assert_int_equal(p->poll_interval_s, 60);
    assert_int_equal(p->probe_interval_s, 1);
    assert_int_equal(p->n_devices, 2);
    assert_string_equal(p->devices[0]->name, "rtr1");
    assert_string_equal(p->devices[0]->addr, "10.77.1.1");
    assert_int_equal(p->devices[0]->snmp->version, 2);
    assert_string_equal(p->devices[0]->snmp->community, "jaipur-ro");
    assert_false(p->devices[0]->has_timeout_ms);
    assert_null(p->devices[0]->snmp->user);
    Rn__Device *d = p->devices[1];
    assert_string_equal(d->addr, "udp:10.1.0.1:161");
    assert_true(d->has_timeout_ms && d->timeout_ms == 1500);
    assert_true(d->has_retries && d->retries == 2);
    assert_int_equal(d->snmp->version, 3);
    assert_null(d->snmp->community);
    assert_string_equal(d->snmp->user, "noc");
    assert_string_equal(d->snmp->auth_proto, "SHA-256");
    assert_string_equal(d->snmp->auth_key, "auth-secret-1");
    assert_string_equal(d->snmp->priv_proto, "AES");
    assert_string_equal(d->snmp->priv_key, "priv-secret-1");
    assert_int_equal(p->n_icmp, 2);
    assert_string_equal(p->icmp[0]->name, "jaipur");
    assert_string_equal(p->icmp[0]->addr, "10.2.0.1");
    assert_true(p->icmp[0]->has_count && p->icmp[0]->count == 20);
    assert_string_equal(p->icmp[1]->addr, "2001:db8::1");
    assert_false(p->icmp[1]->has_count);
    rn_wire_free(f);
}

static void test_batch_round_trips_if_and_icmp_samples_with_unknown_values(void **state)
{
    fx_t fx;
    Rn__Frame *f = round_trip(fx_batch(&fx));
    Rn__Batch *b = f->batch;
    assert_int_equal(f->body_case, RN__FRAME__BODY_BATCH);
    assert_int_equal(b->seq, 7);
    assert_int_equal(b->n_samples, 2);
    Rn__Sample *s = b->samples[0];
    assert_string_equal(s->source, "if");
    assert_string_equal(s->device, "rtr1");
    assert_string_equal(s->object, "Gi0/0");
    assert_true(s->time_ms == 1717200000000);
    assert_true(s->has_speed_bps && s->speed_bps == 34000000);
    assert_int_equal(s->n_values, RN_IF_N);
    assert_true(s->values[RN_IF_IN]->has_counter);
    assert_true(s->values[RN_IF_IN]->counter == UINT64_MAX - 5);
    assert_int_equal(s->values[RN_IF_OUT]->counter, 987654321);
    assert_false(s->values[RN_IF_INERR]->has_counter || s->values[RN_IF_INERR]->has_gauge);
    assert_true(s->values[RN_IF_OPER]->has_gauge && s->values[RN_IF_OPER]->gauge == 1);
    s = b->samples[1];
    assert_string_equal(s->source, "icmp");
    assert_string_equal(s->device, "");
    assert_string_equal(s->object, "jaipur");
    assert_false(s->has_speed_bps);
    assert_int_equal(s->n_values, RN_ICMP_N);
    assert_true(s->values[RN_ICMP_RTTAVG]->gauge == 2.5);
    assert_true(s->values[RN_ICMP_RECV]->gauge == 19);
    assert_false(s->values[RN_ICMP_JITTER]->has_gauge || s->values[RN_ICMP_JITTER]->has_counter);
    rn_wire_free(f);
}

static void test_ack_round_trips(void **state)
{
    fx_t fx;
    Rn__Frame *f = round_trip(fx_ack(&fx));
    assert_int_equal(f->body_case, RN__FRAME__BODY_ACK);
    assert_int_equal(f->ack->seq, 7);
    rn_wire_free(f);
}

static void test_heartbeat_round_trips(void **state)
{
    fx_t fx;
    Rn__Frame *f = round_trip(fx_heartbeat(&fx));
    assert_int_equal(f->body_case, RN__FRAME__BODY_HEARTBEAT);
    assert_true(f->heartbeat->wall_time_ms == 1717200001000);
    rn_wire_free(f);
}

/* Five frames, one of each type, concatenated into one stream. */
static bytes_t five_frame_stream(void)
{
    Rn__Frame *(*const build[])(fx_t *) = { fx_hello, fx_plan, fx_batch, fx_ack, fx_heartbeat };
    bytes_t s = { NULL, 0 };
    for (size_t i = 0; i < 5; i++) {
        fx_t fx;
        bytes_t b = encode(build[i](&fx));
        s.buf = realloc(s.buf, s.len + b.len);
        assert_non_null(s.buf);
        memcpy(s.buf + s.len, b.buf, b.len);
        s.len += b.len;
        free(b.buf);
    }
    return s;
}

static void check_five_frames(size_t piece)
{
    static const Rn__Frame__BodyCase order[5] = {
        RN__FRAME__BODY_HELLO, RN__FRAME__BODY_PLAN, RN__FRAME__BODY_BATCH, RN__FRAME__BODY_ACK,
        RN__FRAME__BODY_HEARTBEAT,
    };
    bytes_t s = five_frame_stream();
    Rn__Frame *out[5];
    assert_int_equal(read_stream(s.buf, s.len, piece, out, 5), 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(out[i]->body_case, order[i]);
        rn_wire_free(out[i]);
    }
    free(s.buf);
}

static void test_reader_splits_back_to_back_frames_fed_in_one_piece(void **state)
{
    check_five_frames(0);
}

static void test_reader_splits_back_to_back_frames_fed_one_byte_at_a_time(void **state)
{
    check_five_frames(1);
}

static void test_reader_splits_back_to_back_frames_fed_in_odd_pieces(void **state)
{
    check_five_frames(7);
    check_five_frames(61);
}

static void test_reader_waits_for_the_whole_header_and_body(void **state)
{
    static const uint8_t stream[] = { 0, 0, 0, 2, 0x28, 0x00 };
    rn_wire_reader_t r;
    const uint8_t *body;
    size_t len;
    rn_wire_reader_init(&r);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), 0);
    assert_int_equal(rn_wire_reader_push(&r, stream, 3), 0);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), 0);
    assert_int_equal(rn_wire_reader_push(&r, stream + 3, 2), 0);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), 0);
    assert_int_equal(rn_wire_reader_push(&r, stream + 5, 1), 0);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), 1);
    assert_int_equal(len, 2);
    assert_memory_equal(body, stream + 4, 2);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), 0);
    rn_wire_reader_free(&r);
}

static void test_reader_refuses_an_oversize_length_prefix(void **state)
{
    uint32_t n = RN_WIRE_MAX_FRAME + 1;
    const uint8_t prefix[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                                (uint8_t)n };
    rn_wire_reader_t r;
    const uint8_t *body;
    size_t len;
    rn_wire_reader_init(&r);
    assert_int_equal(rn_wire_reader_push(&r, prefix, 4), 0);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), RN_ETOOBIG);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), RN_ETOOBIG); /* stays failed */
    rn_wire_reader_free(&r);
}

static void test_reader_refuses_an_empty_body(void **state)
{
    static const uint8_t stream[] = { 0, 0, 0, 0 };
    rn_wire_reader_t r;
    const uint8_t *body;
    size_t len;
    rn_wire_reader_init(&r);
    assert_int_equal(rn_wire_reader_push(&r, stream, 4), 0);
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), RN_EFRAME);
    rn_wire_reader_free(&r);
}

static void test_reader_accepts_a_max_size_frame_and_gives_memory_back(void **state)
{
    size_t n = RN_WIRE_MAX_FRAME;
    uint8_t *s = calloc(1, RN_WIRE_HEADER_LEN + n);
    assert_non_null(s);
    s[1] = (uint8_t)(n >> 16);
    rn_wire_reader_t r;
    const uint8_t *body;
    size_t len;
    rn_wire_reader_init(&r);
    for (size_t at = 0; at < RN_WIRE_HEADER_LEN + n; at += 65536) {
        size_t k = RN_WIRE_HEADER_LEN + n - at < 65536 ? RN_WIRE_HEADER_LEN + n - at : 65536;
        assert_int_equal(rn_wire_reader_push(&r, s + at, k), 0);
    }
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), 1);
    assert_int_equal(len, n);
    assert_true(r.cap <= 2 * (RN_WIRE_HEADER_LEN + n));
    assert_int_equal(rn_wire_reader_next(&r, &body, &len), 0);
    assert_true(r.cap <= 64 * 1024);
    rn_wire_reader_free(&r);
    free(s);
}

static void test_reader_push_refuses_when_a_whole_frame_is_left_unread(void **state)
{
    size_t n = RN_WIRE_MAX_FRAME;
    uint8_t *s = calloc(1, RN_WIRE_HEADER_LEN + n);
    assert_non_null(s);
    s[1] = (uint8_t)(n >> 16);
    rn_wire_reader_t r;
    rn_wire_reader_init(&r);
    assert_int_equal(rn_wire_reader_push(&r, s, RN_WIRE_HEADER_LEN + n), 0);
    assert_int_equal(rn_wire_reader_push(&r, s, 1), RN_ETOOBIG);
    rn_wire_reader_free(&r);
    free(s);
}

/* ------------------------------------------------------------------------------------------------
 * Encoding limits */

static void test_encode_sets_the_version_and_a_big_endian_prefix(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_ack(&fx);
    f->version = 99;
    bytes_t b = encode(f);
    assert_int_equal(f->version, RN_WIRE_VERSION);
    size_t n = (size_t)b.buf[0] << 24 | (size_t)b.buf[1] << 16 | (size_t)b.buf[2] << 8 | b.buf[3];
    assert_int_equal(n, b.len - RN_WIRE_HEADER_LEN);
    free(b.buf);
}

static void test_encode_refuses_a_body_over_the_frame_limit(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    size_t n = 5000;
    Rn__Sample *s = calloc(n, sizeof *s), **sp = calloc(n, sizeof *sp);
    char *object = malloc(256);
    assert_true(s && sp && object);
    memset(object, 'x', 255);
    object[255] = '\0';
    for (size_t i = 0; i < n; i++) {
        s[i] = fx.smp[0];
        s[i].object = object;
        sp[i] = &s[i];
    }
    fx.batch.n_samples = n;
    fx.batch.samples = sp;
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(rn_wire_encode(f, &out, &len), RN_ETOOBIG);
    assert_null(out);
    free(s);
    free(sp);
    free(object);
}

static void test_decode_refuses_a_body_over_the_frame_limit(void **state)
{
    uint8_t *big = calloc(1, RN_WIRE_MAX_FRAME + 1);
    assert_non_null(big);
    assert_rejects(big, RN_WIRE_MAX_FRAME + 1, RN_ETOOBIG, "frame");
    free(big);
}

/* ------------------------------------------------------------------------------------------------
 * Rejections: malformed encodings */

static void test_wrong_version_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_heartbeat(&fx);
    f->version = RN_WIRE_VERSION + 1;
    bytes_t b = pack_raw(f);
    assert_rejects(b.buf, b.len, RN_EVERSION, "version");
    free(b.buf);
}

static void test_wrong_version_wins_over_an_unknown_body(void **state)
{
    static const uint8_t body[] = { 0x08, 0x7f, 0x3a, 0x01, 0xff }; /* version 127, field 7 */
    assert_rejects(body, sizeof body, RN_EVERSION, "version: 127");
}

static void test_frame_without_body_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_frame(&fx);
    assert_frame_rejected(f, RN_EFRAME, "body");
}

static void test_frame_with_two_bodies_is_refused(void **state)
{
    /* version, ack{seq 1}, heartbeat{wall_time_ms 5} */
    static const uint8_t body[] = { 0x08, RN_WIRE_VERSION, 0x2a, 0x02, 0x08, 0x01, 0x32, 0x02,
                                    0x08, 0x05 };
    assert_rejects(body, sizeof body, RN_EFRAME, "heartbeat: second body");
}

static void test_empty_body_is_refused(void **state)
{
    assert_rejects((const uint8_t *)"", 0, RN_EFRAME, "frame");
}

static void test_truncated_body_is_refused_naming_the_message(void **state)
{
    fx_t fx;
    bytes_t b = encode(fx_hello(&fx));
    for (size_t cut = 1; cut < 6; cut++)
        assert_rejects(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN - cut, RN_EFRAME,
                       "hello");
    free(b.buf);
}

static void test_garbage_bytes_are_refused(void **state)
{
    static const uint8_t junk1[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff };
    static const uint8_t junk2[] = { 'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P' };
    static const uint8_t junk3[] = { 0x00, 0x01, 0x02 };
    assert_rejects(junk1, sizeof junk1, RN_EFRAME, "frame");
    assert_rejects(junk2, sizeof junk2, RN_EFRAME, "frame");
    assert_rejects(junk3, sizeof junk3, RN_EFRAME, "frame");
}

static void test_wrong_wire_type_is_refused_naming_the_field(void **state)
{
    static const uint8_t body[] = { 0x0a, 0x01, 0x01 }; /* version as a string */
    assert_rejects(body, sizeof body, RN_EFRAME, "version: wire type 2");
}

static void test_missing_required_field_is_refused_naming_it(void **state)
{
    /* version, hello{node_id "jaipur", wall_time_ms 5}: no agent_version */
    static const uint8_t hello[] = { 0x08, RN_WIRE_VERSION, 0x12, 0x0a, 0x0a, 0x06, 'j', 'a',
                                     'i',  'p',  'u',  'r',  0x18, 0x05 };
    /* version, batch{seq 1, samples[0]{source "if", device "", time_ms 5}}: no object */
    static const uint8_t batch[] = { 0x08, RN_WIRE_VERSION, 0x22, 0x0c, 0x08, 0x01, 0x12, 0x08,
                                     0x0a, 0x02, 'i',  'f',  0x12, 0x00, 0x20, 0x05 };
    static const uint8_t no_version[] = { 0x2a, 0x02, 0x08, 0x01 };
    assert_rejects(hello, sizeof hello, RN_EFRAME, "hello.agent_version: missing");
    assert_rejects(batch, sizeof batch, RN_EFRAME, "batch.samples[0].object: missing");
    assert_rejects(no_version, sizeof no_version, RN_EFRAME, "version: missing");
}

static void test_nul_byte_inside_a_string_is_refused(void **state)
{
    /* version, hello{node_id "ab\0c", agent_version "1", wall_time_ms 5} */
    static const uint8_t body[] = { 0x08, RN_WIRE_VERSION, 0x12, 0x0b, 0x0a, 0x04, 'a', 'b',
                                    0x00, 'c',  0x12, 0x01, '1',  0x18, 0x05 };
    assert_rejects(body, sizeof body, RN_EFRAME, "hello.node_id: contains a NUL");
}

static void test_unknown_fields_are_skipped(void **state)
{
    /* version, ack{seq 3, field 9 varint 1}, field 15 string "x" */
    static const uint8_t body[] = { 0x08, RN_WIRE_VERSION, 0x2a, 0x04, 0x08, 0x03, 0x48, 0x01,
                                    0x7a, 0x01, 'x' };
    Rn__Frame *f = decode_ok(body, sizeof body);
    assert_int_equal(f->ack->seq, 3);
    rn_wire_free(f);
}

/* ------------------------------------------------------------------------------------------------
 * Rejections: well-formed frames that break the rules */

static void test_bad_node_ids_are_refused(void **state)
{
    static const char *const bad[] = { "../etc", "Jaipur", "", "a//b", "/jaipur", "jaipur/",
                                       "-x", "jaipur/_b", "a b", "jaipur.sanganer" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_t fx;
        Rn__Frame *f = fx_hello(&fx);
        fx.hello.node_id = (char *)bad[i];
        assert_false(rn_wire_node_id_valid(bad[i]));
        assert_frame_rejected(f, RN_EFRAME, "hello.node_id");
    }
}

static void test_good_node_ids_are_accepted(void **state)
{
    static const char *const good[] = { "sdc", "jaipur", "jaipur/sanganer", "a/b/c_d-e",
                                        "0ajmer/9" };
    char longest[RN_WIRE_MAX_NAME + 2];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(rn_wire_node_id_valid(good[i]));
    memset(longest, 'a', sizeof longest - 1);
    longest[RN_WIRE_MAX_NAME] = '\0';
    assert_true(rn_wire_node_id_valid(longest));
    longest[RN_WIRE_MAX_NAME] = 'a';
    longest[RN_WIRE_MAX_NAME + 1] = '\0';
    assert_false(rn_wire_node_id_valid(longest));
    assert_false(rn_wire_node_id_valid(NULL));
}

static void test_hello_with_empty_agent_version_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_hello(&fx);
    fx.hello.agent_version = "";
    assert_frame_rejected(f, RN_EFRAME, "hello.agent_version: empty");
}

static void test_sample_with_wrong_value_count_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.smp[1].n_values = 5;
    assert_frame_rejected(f, RN_EFRAME,
                          "batch.samples[1].values: 5 values, template \"icmp\" needs 8");
}

static void test_sample_with_unknown_source_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.smp[0].source = "bgp";
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].source: \"bgp\" has no template");
}

static void test_value_with_both_counter_and_gauge_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.val[RN_IF_INERR].has_counter = fx.val[RN_IF_INERR].has_gauge = 1;
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].values[2]: both counter and gauge");
}

static void test_value_of_the_wrong_kind_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.val[RN_IF_IN].has_counter = 0;
    fx.val[RN_IF_IN].has_gauge = 1;
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].values[0]: gauge set for counter");
    f = fx_batch(&fx);
    fx.val[RN_IF_N + RN_ICMP_LOSS].has_gauge = 0;
    fx.val[RN_IF_N + RN_ICMP_LOSS].has_counter = 1;
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[1].values[5]: counter set for gauge");
}

static void test_nan_and_infinite_gauges_are_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.val[RN_IF_N + RN_ICMP_RTTAVG].gauge = NAN;
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[1].values[1].gauge: not finite");
    f = fx_batch(&fx);
    fx.val[RN_IF_OPER].gauge = -INFINITY;
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].values[6].gauge: not finite");
}

static void test_sample_without_time_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.smp[1].time_ms = 0;
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[1].time_ms");
}

static void test_batch_seq_zero_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.batch.seq = 0;
    assert_frame_rejected(f, RN_EFRAME, "batch.seq");
}

static void test_too_long_name_is_refused(void **state)
{
    char name[RN_WIRE_MAX_NAME + 2];
    memset(name, 'r', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    fx_t fx;
    Rn__Frame *f = fx_plan(&fx);
    fx.dev[0].name = name;
    assert_frame_rejected(f, RN_ETOOBIG, "plan.devices[0].name: 256 bytes");
    name[RN_WIRE_MAX_NAME] = '\0'; /* exactly the limit is fine */
    bytes_t b = encode(f);
    Rn__Frame *g = decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN);
    assert_int_equal(strlen(g->plan->devices[0]->name), RN_WIRE_MAX_NAME);
    rn_wire_free(g);
    free(b.buf);
}

static void test_control_byte_in_a_name_is_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    fx.smp[0].object = "Gi0/0\x1b[2J";
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].object: control byte 0x1b");
}

static void test_invalid_utf8_in_a_name_is_refused(void **state)
{
    static const char *const bad[] = { "rtr\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                       "ab\xe2\x82" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_t fx;
        Rn__Frame *f = fx_batch(&fx);
        fx.smp[0].device = (char *)bad[i];
        assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].device: invalid UTF-8");
    }
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    /* Devanagari "jaipur" and an emoji are fine */
    fx.smp[0].object = "\xe0\xa4\x9c\xe0\xa4\xaf\xe0\xa4\xaa\xe0\xa5\x81\xe0\xa4\xb0"
                       " \xf0\x9f\x93\xa1";
    bytes_t b = encode(f);
    rn_wire_free(decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN));
    free(b.buf);
}

static void test_plan_intervals_out_of_range_are_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_plan(&fx);
    fx.plan.poll_interval_s = 0;
    assert_frame_rejected(f, RN_EFRAME, "plan.poll_interval_s: 0");
    f = fx_plan(&fx);
    fx.plan.probe_interval_s = RN_WIRE_MAX_INTERVAL_S + 1;
    assert_frame_rejected(f, RN_EFRAME, "plan.probe_interval_s: 86401");
    f = fx_plan(&fx);
    fx.plan.poll_interval_s = RN_WIRE_MAX_INTERVAL_S;
    bytes_t b = encode(f);
    rn_wire_free(decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN));
    free(b.buf);
}

/* UDP echo peers (agent/udp_echo.h): a node id, a numeric address, port and count in range,
 * each peer once. */
static void test_plan_echo_peers_are_checked(void **state)
{
    fx_t fx;
    Rn__EchoPeer e[2], *ep[2] = { &e[0], &e[1] };
    for (int i = 0; i < 2; i++) {
        rn__echo_peer__init(&e[i]);
        e[i].name = i ? "sdc" : "jaipur/sanganer";
        e[i].addr = i ? "10.77.0.1" : "fd00::1";
        e[i].has_count = e[i].has_port = 1;
        e[i].count = 50;
        e[i].port = 8862;
    }
    Rn__Frame *f = fx_plan(&fx);
    fx.plan.echo = ep;
    fx.plan.n_echo = 2;
    bytes_t b = encode(f);
    Rn__Frame *back = decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN);
    assert_int_equal(back->plan->n_echo, 2);
    assert_string_equal(back->plan->echo[0]->name, "jaipur/sanganer");
    assert_int_equal(back->plan->echo[1]->count, 50);
    rn_wire_free(back);
    free(b.buf);
    e[1].addr = "sdc.example";
    assert_frame_rejected(f, RN_EFRAME, "plan.echo[1].addr: not a numeric");
    e[1].addr = "10.77.0.1", e[1].port = 70000;
    assert_frame_rejected(f, RN_EFRAME, "plan.echo[1].port: 70000");
    e[1].port = 8862, e[1].count = 0;
    assert_frame_rejected(f, RN_EFRAME, "plan.echo[1].count: 0");
    e[1].count = 5, e[1].name = "jaipur/sanganer";
    assert_frame_rejected(f, RN_EFRAME, "plan.echo[1].name: \"jaipur/sanganer\" used twice");
    e[1].name = "../etc";
    assert_frame_rejected(f, RN_EFRAME, "plan.echo[1].name");
}

/* Makes the plan of fx carry its v2c device as an agentless child's (Plan.child_devices, with
 * Device.node) and its first ICMP target as a child target, as the plan-children seed. */
static Rn__Frame *fx_plan_children(fx_t *fx)
{
    Rn__Frame *f = fx_plan(fx);
    fx->dev[0].node = "jaipur/sanganer/bagru";
    fx->plan.child_devices = fx->devp;
    fx->plan.n_child_devices = 1;
    fx->plan.devices = fx->devp + 1;
    fx->plan.n_devices = 1;
    fx->tgt[0].name = "jaipur/sanganer/bagru";
    fx->tgt[0].has_child = fx->tgt[0].child = 1;
    return f;
}

/* Downward evidence: an agentless child's devices come in Plan.child_devices and must name their
 * node (a node id); Device.node elsewhere and Sample.node, both optional, must be node ids. */
static void test_device_and_sample_nodes_are_checked(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_plan_children(&fx);
    Rn__Frame *back = round_trip(f);
    assert_int_equal(back->plan->n_devices, 1);
    assert_null(back->plan->devices[0]->node);
    assert_int_equal(back->plan->n_child_devices, 1);
    assert_string_equal(back->plan->child_devices[0]->node, "jaipur/sanganer/bagru");
    assert_string_equal(back->plan->child_devices[0]->name, "rtr1");
    assert_true(back->plan->icmp[0]->has_child && back->plan->icmp[0]->child);
    assert_false(back->plan->icmp[1]->has_child);
    rn_wire_free(back);
    fx.dev[0].node = NULL;
    assert_frame_rejected(f, RN_EFRAME, "plan.child_devices[0].node: empty");
    fx.dev[0].node = "";
    assert_frame_rejected(f, RN_EFRAME, "plan.child_devices[0].node: empty");
    fx.dev[0].node = "Jaipur/Bagru";
    assert_frame_rejected(f, RN_EFRAME, "plan.child_devices[0].node: \"Jaipur/Bagru\" is not a");
    fx.dev[0].node = "jaipur//bagru";
    assert_frame_rejected(f, RN_EFRAME, "plan.child_devices[0].node");
    fx.dev[0].node = "jaipur/sanganer/bagru";
    fx.dev[1].node = "../etc"; /* plan.devices may name a node too, but a valid one */
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[0].node: \"../etc\" is not a node id");
    fx.dev[1].node = "jaipur/sanganer";
    back = round_trip(f);
    assert_string_equal(back->plan->devices[0]->node, "jaipur/sanganer");
    rn_wire_free(back);
    fx.dev[0].snmp = NULL; /* a child device is checked as a device: credentials required */
    assert_frame_rejected(f, RN_EFRAME, "plan.child_devices[0].snmp");

    f = fx_batch(&fx);
    fx.smp[0].node = "jaipur/sanganer/bagru";
    back = round_trip(f);
    assert_string_equal(back->batch->samples[0]->node, "jaipur/sanganer/bagru");
    assert_null(back->batch->samples[1]->node);
    rn_wire_free(back);
    fx.smp[0].node = "";
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].node: \"\" is not a node id");
    fx.smp[0].node = "/bagru";
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].node: \"/bagru\" is not a node id");
    fx.smp[0].node = "bagru\x01";
    assert_frame_rejected(f, RN_EFRAME, "batch.samples[0].node: control byte");
}

/* Plan.child_devices is bounded before unpack, as Plan.devices is. */
static void test_too_many_child_devices_are_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_plan_children(&fx);
    Rn__Device **many = calloc(RN_WIRE_MAX_DEVICES + 1, sizeof *many);
    assert_non_null(many);
    for (size_t i = 0; i <= RN_WIRE_MAX_DEVICES; i++)
        many[i] = &fx.dev[0];
    fx.plan.child_devices = many;
    fx.plan.n_child_devices = RN_WIRE_MAX_DEVICES;
    Rn__Frame *back = round_trip(f);
    assert_int_equal(back->plan->n_child_devices, RN_WIRE_MAX_DEVICES);
    rn_wire_free(back);
    fx.plan.n_child_devices = RN_WIRE_MAX_DEVICES + 1;
    assert_frame_rejected(f, RN_ETOOBIG, "plan.child_devices[256]: more than 256 entries");
    free(many);
}

/* Fills x[0..2] with the extra OIDs of the plan-extra seed: a gauge, a counter and one whose
 * OID has a leading dot, as the topology allows. xp points at them. */
static void fx_extras(Rn__ExtraOid x[3], Rn__ExtraOid *xp[3])
{
    static const char *const f[3][3] = {
        { "cpu", "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", "gauge" },
        { "modem-resets", "1.3.6.1.4.1.99999.2.1.0", "counter" },
        { "temp_c", ".1.3.6.1.4.1.9.9.13.1.3.1.3.1", "gauge" },
    };
    for (int i = 0; i < 3; i++) {
        rn__extra_oid__init(&x[i]);
        x[i].name = (char *)f[i][0], x[i].oid = (char *)f[i][1], x[i].kind = (char *)f[i][2];
        xp[i] = &x[i];
    }
}

/* Extra OIDs of a device (topology `extra:`): at most 32, each with a [a-z0-9_-] name of 1-63
 * bytes unique in the device, a numeric OID and kind gauge or counter. */
static void test_device_extra_oids_are_checked(void **state)
{
    fx_t fx;
    Rn__ExtraOid x[3], *xp[3];
    fx_extras(x, xp);
    Rn__Frame *f = fx_plan(&fx);
    fx.dev[1].extra = xp, fx.dev[1].n_extra = 3;
    bytes_t b = encode(f);
    Rn__Frame *back = decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN);
    assert_int_equal(back->plan->devices[1]->n_extra, 3);
    assert_string_equal(back->plan->devices[1]->extra[1]->name, "modem-resets");
    assert_string_equal(back->plan->devices[1]->extra[1]->kind, "counter");
    assert_string_equal(back->plan->devices[1]->extra[2]->oid, ".1.3.6.1.4.1.9.9.13.1.3.1.3.1");
    rn_wire_free(back);
    free(b.buf);
    x[1].kind = "rate";
    assert_frame_rejected(f, RN_EFRAME,
                          "plan.devices[1].extra[1].kind: \"rate\", expected gauge or counter");
    x[1].kind = "Gauge";
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].extra[1].kind: \"Gauge\"");
    x[1].kind = "";
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].extra[1].kind: empty");
    x[1].kind = "counter";
    static const char *const bad_oids[] = { "1", "1.3.6.", "1..3", "1.3.6.1.x", "iso.3.6.1",
                                            "1.3.4294967296", "-1.3", "1.3.6 ", "." };
    for (size_t i = 0; i < sizeof bad_oids / sizeof bad_oids[0]; i++) {
        x[0].oid = (char *)bad_oids[i];
        assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].extra[0].oid: \"");
        assert_frame_rejected(f, RN_EFRAME, "is not a numeric OID");
    }
    /* 128 arcs of up to 10 digits is the longest OID the topology takes: longer than other
     * strings on the wire, and accepted */
    char long_oid[1500] = "1.3";
    for (int i = 0; i < 126; i++)
        strcat(long_oid, ".4294967295");
    x[0].oid = long_oid;
    b = encode(f);
    rn_wire_free(decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN));
    free(b.buf);
    strcat(long_oid, ".1"); /* 129 arcs */
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].extra[0].oid: \"1.3.4294967295");
    x[0].oid = "";
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].extra[0].oid: empty");
    x[0].oid = "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1";
    x[2].name = "Temp";
    assert_frame_rejected(f, RN_EFRAME,
                          "plan.devices[1].extra[2].name: \"Temp\" is not 1-63 of [a-z0-9_-]");
    x[2].name = "temp c";
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].extra[2].name: \"temp c\"");
    char name64[65];
    memset(name64, 'a', 64), name64[64] = '\0';
    x[2].name = name64;
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].extra[2].name: \"aaaa");
    name64[63] = '\0'; /* 63 bytes: accepted */
    b = encode(f);
    rn_wire_free(decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN));
    free(b.buf);
    x[2].name = "cpu";
    assert_frame_rejected(f, RN_EFRAME,
                          "plan.devices[1].extra[2].name: \"cpu\" used twice in the device");
    x[2].name = "temp_c";
    /* more than 32: refused before unpacking, by the scan */
    Rn__ExtraOid many[RN_WIRE_MAX_EXTRA + 1], *manyp[RN_WIRE_MAX_EXTRA + 1];
    char names[RN_WIRE_MAX_EXTRA + 1][8];
    for (size_t i = 0; i <= RN_WIRE_MAX_EXTRA; i++) {
        rn__extra_oid__init(&many[i]);
        snprintf(names[i], sizeof names[i], "x%zu", i);
        many[i].name = names[i], many[i].oid = "1.3.6.1.2.1.1.3.0", many[i].kind = "gauge";
        manyp[i] = &many[i];
    }
    fx.dev[1].extra = manyp, fx.dev[1].n_extra = RN_WIRE_MAX_EXTRA;
    b = encode(f);
    back = decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN);
    assert_int_equal(back->plan->devices[1]->n_extra, RN_WIRE_MAX_EXTRA);
    rn_wire_free(back);
    free(b.buf);
    fx.dev[1].n_extra = RN_WIRE_MAX_EXTRA + 1;
    assert_frame_rejected(f, RN_ETOOBIG, "plan.devices[1].extra[32]: more than 32 entries");
}

static void test_bad_snmp_credentials_are_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_plan(&fx);
    fx.cred[0].version = 4;
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[0].snmp.version: 4");
    f = fx_plan(&fx);
    fx.cred[0].community = NULL;
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[0].snmp.community: empty");
    f = fx_plan(&fx);
    fx.cred[1].user = "";
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].snmp.user: empty");
    f = fx_plan(&fx);
    fx.cred[1].auth_proto = "SHA1";
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].snmp.auth_proto");
    f = fx_plan(&fx);
    fx.cred[1].priv_key = NULL;
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].snmp.priv_key: empty");
    f = fx_plan(&fx);
    fx.cred[1].auth_proto = fx.cred[1].auth_key = NULL;
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].snmp.priv_proto: privacy needs");
}

static void test_device_addresses_are_checked(void **state)
{
    static const char *const good[] = { "10.77.1.1", "udp:10.77.1.1:161", "tcp:rtr1.jaipur:1161",
                                        "udp6:[2001:db8::1]:161", "2001:db8::1", "[::1]",
                                        "rtr1", "udp:core-1.sdc.example" };
    static const char *const bad[] = { "10.77.1.1:0", "10.77.1.1:65536", "udp:", "[::1",
                                       "[x]:1", "rtr 1", "-rtr", "a..b", "10.0.0.1:16x1",
                                       "ssh:10.0.0.1:22" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        fx_t fx;
        Rn__Frame *f = fx_plan(&fx);
        fx.dev[0].addr = (char *)good[i];
        bytes_t b = encode(f);
        rn_wire_free(decode_ok(b.buf + RN_WIRE_HEADER_LEN, b.len - RN_WIRE_HEADER_LEN));
        free(b.buf);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_t fx;
        Rn__Frame *f = fx_plan(&fx);
        fx.dev[1].addr = (char *)bad[i];
        assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].addr");
    }
}

/* Service targets and SLA limits: a plan carries them, and the gate refuses the malformed. */
static Rn__Frame *fx_plan_services(fx_t *fx, Rn__ServiceTarget svc[2], Rn__ServiceTarget *svcp[2])
{
    Rn__Frame *f = fx_plan(fx);
    for (int i = 0; i < 2; i++) {
        rn__service_target__init(&svc[i]);
        svcp[i] = &svc[i];
    }
    svc[0].name = "vc";
    svc[0].kind = "tcp";
    svc[0].object = "vc-1720";
    svc[0].addr = "10.77.0.10";
    svc[0].has_port = 1;
    svc[0].port = 1720;
    svc[0].host_node = "sdc";
    svc[1].name = "emitra";
    svc[1].kind = "http";
    svc[1].object = "emitra-http";
    svc[1].url = "https://emitra.sdc.example/health";
    fx->plan.n_services = 2;
    fx->plan.services = svcp;
    fx->tgt[0].has_max_latency_ms = fx->tgt[0].has_max_loss_pct = 1;
    fx->tgt[0].max_latency_ms = 150;
    fx->tgt[0].max_loss_pct = 2.98;
    return f;
}

static void test_plan_round_trips_service_targets_and_sla_limits(void **state)
{
    fx_t fx;
    Rn__ServiceTarget svc[2], *svcp[2];
    (void)state;
    Rn__Frame *f = round_trip(fx_plan_services(&fx, svc, svcp));
    Rn__Plan *p = f->plan;
    assert_int_equal(p->n_services, 2);
    assert_string_equal(p->services[0]->object, "vc-1720");
    assert_true(p->services[0]->has_port && p->services[0]->port == 1720);
    assert_string_equal(p->services[1]->url, "https://emitra.sdc.example/health");
    assert_null(p->services[1]->addr);
    assert_true(p->icmp[0]->has_max_latency_ms && p->icmp[0]->max_latency_ms == 150);
    assert_false(p->icmp[1]->has_max_loss_pct);
    rn_wire_free(f);
}

static void test_bad_service_targets_and_limits_are_refused(void **state)
{
    fx_t fx;
    Rn__ServiceTarget svc[2], *svcp[2];
    (void)state;
    Rn__Frame *f = fx_plan_services(&fx, svc, svcp);
    svc[0].kind = "udp";
    assert_frame_rejected(f, RN_EFRAME, "plan.services[0].kind: \"udp\"");
    f = fx_plan_services(&fx, svc, svcp);
    svc[0].has_port = 0;
    assert_frame_rejected(f, RN_EFRAME, "plan.services[0].port: 0");
    f = fx_plan_services(&fx, svc, svcp);
    svc[0].addr = NULL;
    assert_frame_rejected(f, RN_EFRAME, "plan.services[0].addr");
    f = fx_plan_services(&fx, svc, svcp);
    svc[1].url = "ftp://emitra/";
    assert_frame_rejected(f, RN_EFRAME, "plan.services[1].url: not an http");
    f = fx_plan_services(&fx, svc, svcp);
    svc[1].object = "../etc";
    assert_frame_rejected(f, RN_EFRAME, "plan.services[1].object");
    f = fx_plan_services(&fx, svc, svcp);
    svc[0].host_node = "Sdc!";
    assert_frame_rejected(f, RN_EFRAME, "plan.services[0].host_node");
    f = fx_plan_services(&fx, svc, svcp);
    fx.tgt[0].max_loss_pct = 101;
    assert_frame_rejected(f, RN_EFRAME, "plan.icmp[0].max_loss_pct: 101");
    f = fx_plan_services(&fx, svc, svcp);
    fx.tgt[0].max_latency_ms = NAN;
    assert_frame_rejected(f, RN_EFRAME, "plan.icmp[0].max_latency_ms");
}

/* ---- VC capture (agent/vc_quality.h) ---- */

static Rn__Frame *fx_plan_capture(fx_t *fx, Rn__Capture cap[2], Rn__Capture *capp[2])
{
    Rn__Frame *f = fx_plan(fx);
    for (int i = 0; i < 2; i++) {
        rn__capture__init(&cap[i]);
        capp[i] = &cap[i];
    }
    cap[0].name = "vc";
    cap[0].ifname = "wan0";
    cap[0].filter = "udp portrange 16384-32767 or host 10.77.0.10";
    cap[0].has_interval_s = 1;
    cap[0].interval_s = 5;
    cap[1].name = "vc-backup";
    cap[1].ifname = "eth1.42";
    cap[1].filter = "udp";
    cap[1].has_codec_ie = cap[1].has_codec_bpl = 1;
    cap[1].codec_ie = 11;
    cap[1].codec_bpl = 19;
    fx->plan.n_captures = 2;
    fx->plan.captures = capp;
    return f;
}

static void test_plan_round_trips_vc_captures(void **state)
{
    fx_t fx;
    Rn__Capture cap[2], *capp[2];
    (void)state;
    Rn__Frame *f = round_trip(fx_plan_capture(&fx, cap, capp));
    assert_int_equal(f->plan->n_captures, 2);
    assert_string_equal(f->plan->captures[0]->ifname, "wan0");
    assert_string_equal(f->plan->captures[0]->filter, "udp portrange 16384-32767 or host 10.77.0.10");
    assert_int_equal(f->plan->captures[0]->interval_s, 5);
    assert_false(f->plan->captures[0]->has_codec_ie);
    assert_true(f->plan->captures[1]->codec_bpl == 19);
    rn_wire_free(f);
}

static void test_bad_vc_captures_are_refused(void **state)
{
    fx_t fx;
    Rn__Capture cap[2], *capp[2];
    (void)state;
    Rn__Frame *f = fx_plan_capture(&fx, cap, capp);
    cap[0].ifname = "../../etc";
    assert_frame_rejected(f, RN_EFRAME, "plan.captures[0].ifname");
    f = fx_plan_capture(&fx, cap, capp);
    cap[0].ifname = "a-very-long-interface";
    assert_frame_rejected(f, RN_EFRAME, "plan.captures[0].ifname");
    f = fx_plan_capture(&fx, cap, capp);
    cap[1].filter = "";
    assert_frame_rejected(f, RN_EFRAME, "plan.captures[1].filter: empty");
    f = fx_plan_capture(&fx, cap, capp);
    cap[1].name = "vc";
    assert_frame_rejected(f, RN_EFRAME, "plan.captures[1].name: \"vc\" used twice");
    f = fx_plan_capture(&fx, cap, capp);
    cap[0].interval_s = 0;
    assert_frame_rejected(f, RN_EFRAME, "plan.captures[0].interval_s: 0");
    f = fx_plan_capture(&fx, cap, capp);
    cap[1].codec_ie = 96;
    assert_frame_rejected(f, RN_EFRAME, "plan.captures[1].codec_ie");
    f = fx_plan_capture(&fx, cap, capp);
    cap[1].codec_bpl = 0;
    assert_frame_rejected(f, RN_EFRAME, "plan.captures[1].codec_bpl");
}

/* Police stations' recording streams (Plan.recordings): the same checks as a VC capture, under
 * their own field's name, and a round trip that keeps them apart from the VC captures. */
static void test_plan_recordings_checked_apart(void **state)
{
    fx_t fx;
    Rn__Capture cap[2], *capp[2];
    (void)state;
    Rn__Frame *f = fx_plan_capture(&fx, cap, capp);
    cap[1].name = "ps-sanganer";
    cap[1].ifname = "cctv0";
    cap[1].filter = "udp and dst host 10.77.11.60";
    fx.plan.n_captures = 1;
    fx.plan.recordings = &capp[1];
    fx.plan.n_recordings = 1;
    f = round_trip(f);
    assert_int_equal(f->plan->n_captures, 1);
    assert_int_equal(f->plan->n_recordings, 1);
    assert_string_equal(f->plan->recordings[0]->name, "ps-sanganer");
    assert_string_equal(f->plan->recordings[0]->ifname, "cctv0");
    rn_wire_free(f);
    f = fx_plan_capture(&fx, cap, capp);
    fx.plan.n_captures = 1;
    fx.plan.recordings = &capp[1];
    fx.plan.n_recordings = 1;
    cap[1].ifname = "cctv/0";
    assert_frame_rejected(f, RN_EFRAME, "plan.recordings[0].ifname");
    f = fx_plan_capture(&fx, cap, capp);
    fx.plan.n_captures = 0; /* both named "vc": twice in one field */
    fx.plan.recordings = capp;
    fx.plan.n_recordings = 2;
    cap[1].name = "vc";
    assert_frame_rejected(f, RN_EFRAME, "plan.recordings[1].name: \"vc\" used twice");
}

static void test_icmp_target_needs_a_numeric_address(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_plan(&fx);
    fx.tgt[1].addr = "sdc.example";
    assert_frame_rejected(f, RN_EFRAME, "plan.icmp[1].addr: not a numeric");
    f = fx_plan(&fx);
    fx.tgt[0].count = 0;
    assert_frame_rejected(f, RN_EFRAME, "plan.icmp[0].count: 0");
}

static void test_device_timeout_and_retries_are_bounded(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_plan(&fx);
    fx.dev[1].timeout_ms = 0;
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].timeout_ms");
    f = fx_plan(&fx);
    fx.dev[1].retries = RN_WIRE_MAX_RETRIES + 1;
    assert_frame_rejected(f, RN_EFRAME, "plan.devices[1].retries");
}

static void test_too_many_samples_are_refused(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx);
    size_t n = RN_WIRE_MAX_SAMPLES + 1;
    Rn__Sample **sp = calloc(n, sizeof *sp);
    assert_non_null(sp);
    Rn__Sample tiny = RN__SAMPLE__INIT; /* small enough that 20001 fit in one frame */
    tiny.source = "if";
    tiny.device = "";
    tiny.object = "x";
    tiny.time_ms = 1;
    for (size_t i = 0; i < n; i++)
        sp[i] = &tiny;
    fx.batch.n_samples = n;
    fx.batch.samples = sp;
    assert_frame_rejected(f, RN_ETOOBIG, "batch.samples");
    free(sp);
}

static void test_heartbeat_and_hello_need_a_positive_wall_time(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_heartbeat(&fx);
    fx.hb.wall_time_ms = -1;
    assert_frame_rejected(f, RN_EFRAME, "heartbeat.wall_time_ms: -1");
    f = fx_hello(&fx);
    fx.hello.wall_time_ms = 0;
    assert_frame_rejected(f, RN_EFRAME, "hello.wall_time_ms: 0");
}

static void test_reason_is_optional_and_truncated_safely(void **state)
{
    fx_t fx;
    Rn__Frame *f = fx_batch(&fx), *out = NULL;
    fx.smp[1].n_values = 5;
    bytes_t b = encode(f);
    char tiny[8];
    assert_int_equal(rn_wire_decode(b.buf + 4, b.len - 4, &out, NULL, 0), RN_EFRAME);
    assert_int_equal(rn_wire_decode(b.buf + 4, b.len - 4, &out, tiny, sizeof tiny), RN_EFRAME);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_null(out);
    free(b.buf);
}

/* ------------------------------------------------------------------------------------------------
 * Compressed frames (RN_WIRE_ZLIB): a replay's batches travel several to a frame */

/* A compressed frame made by hand around any content (rn_wire_compress would refuse bad
 * content only by size), with `tail` extra bytes after the zlib stream inside the body. */
static bytes_t zframe(const uint8_t *content, size_t n, size_t tail)
{
    uLongf zlen = compressBound((uLong)n);
    bytes_t b = { malloc(RN_WIRE_HEADER_LEN + zlen + tail), 0 };
    assert_non_null(b.buf);
    assert_int_equal(compress2(b.buf + RN_WIRE_HEADER_LEN, &zlen, content, (uLong)n, 9), Z_OK);
    memset(b.buf + RN_WIRE_HEADER_LEN + zlen, 0x5a, tail);
    uint32_t prefix = (uint32_t)(zlen + tail) | RN_WIRE_ZLIB;
    for (int i = 0; i < 4; i++)
        b.buf[i] = (uint8_t)(prefix >> (24 - 8 * i));
    b.len = RN_WIRE_HEADER_LEN + zlen + tail;
    return b;
}

/* Pushes a stream into a reader at once and returns what next() says after the good frames
 * before the failure (their count in *frames). */
static int read_until_error(const uint8_t *s, size_t n, size_t *frames)
{
    rn_wire_reader_t r;
    const uint8_t *body;
    size_t len;
    int rc;
    rn_wire_reader_init(&r);
    assert_int_equal(rn_wire_reader_push(&r, s, n), 0);
    *frames = 0;
    while ((rc = rn_wire_reader_next(&r, &body, &len)) == 1)
        (*frames)++;
    rn_wire_reader_free(&r);
    return rc;
}

static void test_compressed_frame_reads_back_as_the_frames_inside(void **state)
{
    fx_t fx;
    bytes_t five = five_frame_stream(), before = encode(fx_batch(&fx)), after = encode(fx_ack(&fx));
    uint8_t *z;
    size_t zlen;
    assert_int_equal(rn_wire_compress(five.buf, five.len, &z, &zlen), 0);
    assert_true(zlen < five.len);
    assert_true(z[0] & 0x80); /* the flag in the length prefix */
    size_t n = before.len + zlen + after.len;
    uint8_t *s = malloc(n);
    assert_non_null(s);
    memcpy(s, before.buf, before.len);
    memcpy(s + before.len, z, zlen);
    memcpy(s + before.len + zlen, after.buf, after.len);
    static const Rn__Frame__BodyCase order[7] = {
        RN__FRAME__BODY_BATCH, RN__FRAME__BODY_HELLO, RN__FRAME__BODY_PLAN, RN__FRAME__BODY_BATCH,
        RN__FRAME__BODY_ACK, RN__FRAME__BODY_HEARTBEAT, RN__FRAME__BODY_ACK,
    };
    static const size_t pieces[] = { 0, 1, 7, 4096 };
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        Rn__Frame *out[7];
        assert_int_equal(read_stream(s, n, pieces[p], out, 7), 7);
        for (int i = 0; i < 7; i++) {
            assert_int_equal(out[i]->body_case, order[i]);
            rn_wire_free(out[i]);
        }
    }
    free(s), free(z), free(five.buf), free(before.buf), free(after.buf);
}

static void test_compressed_frame_inflating_past_the_limit_is_refused(void **state)
{
    /* a zlib bomb: 2 MiB of zeros deflate to ~2 KiB; the reader stops at RN_WIRE_MAX_FRAME */
    size_t n = 2u << 20;
    uint8_t *zeros = calloc(1, n);
    assert_non_null(zeros);
    bytes_t b = zframe(zeros, n, 0);
    assert_true(b.len < 8192);
    size_t frames;
    assert_int_equal(read_until_error(b.buf, b.len, &frames), RN_ETOOBIG);
    assert_int_equal(frames, 0);
    free(b.buf);
    free(zeros);
}

static void test_compressed_frame_with_bad_content_is_refused(void **state)
{
    fx_t fx;
    bytes_t ack = encode(fx_ack(&fx));
    size_t frames;
    /* not a zlib stream at all */
    uint8_t garbage[] = { 0x80, 0, 0, 6, 'n', 'o', 't', 'z', 'i', 'p' };
    assert_int_equal(read_until_error(garbage, sizeof garbage, &frames), RN_EFRAME);
    /* bytes after the end of the zlib stream */
    bytes_t b = zframe(ack.buf, ack.len, 3);
    assert_int_equal(read_until_error(b.buf, b.len, &frames), RN_EFRAME);
    free(b.buf);
    /* a frame cut short inside: the good frame before it still comes out */
    uint8_t cut[64];
    memcpy(cut, ack.buf, ack.len);
    memcpy(cut + ack.len, ack.buf, ack.len - 1);
    b = zframe(cut, 2 * ack.len - 1, 0);
    assert_int_equal(read_until_error(b.buf, b.len, &frames), RN_EFRAME);
    assert_int_equal(frames, 1);
    free(b.buf);
    /* a compressed frame inside a compressed frame */
    bytes_t inner = zframe(ack.buf, ack.len, 0);
    b = zframe(inner.buf, inner.len, 0);
    assert_int_equal(read_until_error(b.buf, b.len, &frames), RN_EFRAME);
    free(b.buf), free(inner.buf);
    /* an empty frame inside, and nothing inside */
    static const uint8_t empty[] = { 0, 0, 0, 0 };
    b = zframe(empty, sizeof empty, 0);
    assert_int_equal(read_until_error(b.buf, b.len, &frames), RN_EFRAME);
    free(b.buf);
    b = zframe(empty, 0, 0);
    assert_int_equal(read_until_error(b.buf, b.len, &frames), RN_EFRAME);
    free(b.buf);
    free(ack.buf);
}

static void test_compress_refuses_empty_and_oversize_input(void **state)
{
    uint8_t *z;
    size_t zlen;
    uint8_t one = 0;
    assert_int_equal(rn_wire_compress(&one, 0, &z, &zlen), RN_EFRAME);
    uint8_t *big = calloc(1, RN_WIRE_MAX_FRAME + 1);
    assert_non_null(big);
    assert_int_equal(rn_wire_compress(big, RN_WIRE_MAX_FRAME + 1, &z, &zlen), RN_ETOOBIG);
    free(big);
}

static void test_heartbeat_codings_round_trip(void **state)
{
    fx_t fx;
    Rn__Frame *in = fx_heartbeat(&fx);
    in->heartbeat->has_codings = 1;
    in->heartbeat->codings = RN_WIRE_CODING_ZLIB | 0x40; /* unknown bits are not an error */
    Rn__Frame *f = round_trip(in);
    assert_true(f->heartbeat->has_codings);
    assert_int_equal(f->heartbeat->codings, RN_WIRE_CODING_ZLIB | 0x40);
    rn_wire_free(f);
}

/* ------------------------------------------------------------------------------------------------
 * Fuzz seeds (RN_WIRE_WRITE_CORPUS=<dir>) */

static void write_seed(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void write_frame_seed(const char *dir, const char *name, Rn__Frame *f)
{
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(f, &buf, &len) != 0)
        exit(1);
    write_seed(dir, name, buf, len);
    free(buf);
}

/* Writes the seeds: every frame type in a few variants (length-prefixed, as on the wire), one
 * stream of five frames, and a few malformed inputs. */
static void write_corpus(const char *dir)
{
    fx_t fx;
    Rn__Frame *f;
    write_frame_seed(dir, "hello.bin", fx_hello(&fx));
    f = fx_hello(&fx);
    fx.hello.has_next_seq = 0;
    fx.hello.plan_digest = NULL;
    write_frame_seed(dir, "hello-minimal.bin", f);
    write_frame_seed(dir, "plan.bin", fx_plan(&fx));
    Rn__EchoPeer echo = RN__ECHO_PEER__INIT, *echop = &echo; /* UDP echo peers */
    echo.name = "sdc", echo.addr = "10.77.0.1", echo.has_count = 1, echo.count = 50;
    f = fx_plan(&fx);
    fx.plan.echo = &echop, fx.plan.n_echo = 1;
    write_frame_seed(dir, "plan-echo.bin", f);
    Rn__ExtraOid extra[3], *extrap[3]; /* extra OIDs of a device */
    fx_extras(extra, extrap);
    f = fx_plan(&fx);
    fx.dev[1].extra = extrap, fx.dev[1].n_extra = 3;
    write_frame_seed(dir, "plan-extra.bin", f);
    extra[1].kind = "rate";
    write_frame_seed(dir, "bad-extra-kind.bin", f);
    extra[1].kind = "counter", extra[0].oid = "1.3.6.1.x";
    write_frame_seed(dir, "bad-extra-oid.bin", f);
    f = fx_plan(&fx);
    fx.plan.n_devices = fx.plan.n_icmp = 0;
    write_frame_seed(dir, "plan-empty.bin", f);
    write_frame_seed(dir, "plan-children.bin", fx_plan_children(&fx)); /* downward evidence */
    f = fx_plan_children(&fx);
    fx.dev[0].node = "Jaipur";
    write_frame_seed(dir, "bad-child-device-node.bin", f);
    f = fx_batch(&fx);
    fx.smp[0].node = "jaipur/sanganer/bagru";
    write_frame_seed(dir, "batch-child-node.bin", f);
    fx.smp[0].node = "../bagru";
    write_frame_seed(dir, "bad-sample-node.bin", f);
    f = fx_plan(&fx);
    fx.dev[0].addr = "udp6:[2001:db8::7]:161";
    fx.cred[1].priv_proto = fx.cred[1].priv_key = NULL;
    write_frame_seed(dir, "plan-ipv6-authnopriv.bin", f);
    write_frame_seed(dir, "batch.bin", fx_batch(&fx));
    f = fx_batch(&fx);
    fx.batch.n_samples = 1;
    fx.batch.samples = fx.smpp + 1;
    write_frame_seed(dir, "batch-icmp-only.bin", f);
    f = fx_batch(&fx);
    fx.batch.n_samples = 0;
    write_frame_seed(dir, "batch-empty.bin", f);
    write_frame_seed(dir, "ack.bin", fx_ack(&fx));
    write_frame_seed(dir, "heartbeat.bin", fx_heartbeat(&fx));
    bytes_t s = five_frame_stream();
    write_seed(dir, "stream-five-frames.bin", s.buf, s.len);
    free(s.buf);
    f = fx_batch(&fx);
    fx.smp[1].n_values = 5;
    write_frame_seed(dir, "bad-value-count.bin", f);
    f = fx_hello(&fx);
    fx.hello.node_id = "../etc";
    write_frame_seed(dir, "bad-node-id.bin", f);
    f = fx_batch(&fx);
    fx.val[RN_IF_N].gauge = NAN;
    write_frame_seed(dir, "bad-nan-gauge.bin", f);
    f = fx_batch(&fx);
    fx.val[RN_IF_INERR].has_counter = fx.val[RN_IF_INERR].has_gauge = 1;
    write_frame_seed(dir, "bad-counter-and-gauge.bin", f);
    f = fx_batch(&fx);
    fx.smp[0].object = "\xe0\xa4\x9c\xe0\xa4\xaf\xe0\xa4\xaa\xe0\xa5\x81\xe0\xa4\xb0";
    write_frame_seed(dir, "batch-utf8-object.bin", f);
    static const uint8_t two_bodies[] = { 0, 0, 0, 10, 0x08, RN_WIRE_VERSION, 0x2a, 0x02, 0x08,
                                          0x01, 0x32, 0x02, 0x08, 0x05 };
    write_seed(dir, "bad-two-bodies.bin", two_bodies, sizeof two_bodies);
    static const uint8_t oversize[] = { 0x00, 0x10, 0x00, 0x01, 0x08, RN_WIRE_VERSION };
    write_seed(dir, "bad-oversize-prefix.bin", oversize, sizeof oversize);
    static const uint8_t truncated[] = { 0, 0, 0, 9, 0x08, RN_WIRE_VERSION, 0x12, 0x0a, 0x0a,
                                         0x06, 'j', 'a', 'i' };
    write_seed(dir, "bad-truncated.bin", truncated, sizeof truncated);
    /* compressed frames (RN_WIRE_ZLIB) */
    s = five_frame_stream();
    uint8_t *z;
    size_t zlen;
    if (rn_wire_compress(s.buf, s.len, &z, &zlen) != 0)
        exit(1);
    write_seed(dir, "stream-compressed.bin", z, zlen);
    free(z);
    bytes_t nested = zframe(s.buf, s.len, 0), twice = zframe(nested.buf, nested.len, 0);
    write_seed(dir, "bad-compressed-nested.bin", twice.buf, twice.len);
    free(nested.buf), free(twice.buf), free(s.buf);
    uint8_t *zeros = calloc(1, 2u << 20);
    bytes_t bomb = zframe(zeros, 2u << 20, 0);
    write_seed(dir, "bad-compressed-bomb.bin", bomb.buf, bomb.len);
    free(bomb.buf), free(zeros);
}

int main(void)
{
    const char *corpus = getenv("RN_WIRE_WRITE_CORPUS");
    if (corpus)
        write_corpus(corpus);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_round_trips_with_every_field),
        cmocka_unit_test(test_hello_round_trips_without_optional_fields),
        cmocka_unit_test(test_plan_round_trips_with_devices_targets_and_v3_credentials),
        cmocka_unit_test(test_batch_round_trips_if_and_icmp_samples_with_unknown_values),
        cmocka_unit_test(test_ack_round_trips),
        cmocka_unit_test(test_plan_echo_peers_are_checked), /* UDP echo peers */
        cmocka_unit_test(test_device_extra_oids_are_checked), /* extra OIDs */
        cmocka_unit_test(test_device_and_sample_nodes_are_checked), /* downward evidence */
        cmocka_unit_test(test_too_many_child_devices_are_refused),
        cmocka_unit_test(test_heartbeat_round_trips),
        cmocka_unit_test(test_reader_splits_back_to_back_frames_fed_in_one_piece),
        cmocka_unit_test(test_reader_splits_back_to_back_frames_fed_one_byte_at_a_time),
        cmocka_unit_test(test_reader_splits_back_to_back_frames_fed_in_odd_pieces),
        cmocka_unit_test(test_reader_waits_for_the_whole_header_and_body),
        cmocka_unit_test(test_reader_refuses_an_oversize_length_prefix),
        cmocka_unit_test(test_reader_refuses_an_empty_body),
        cmocka_unit_test(test_reader_accepts_a_max_size_frame_and_gives_memory_back),
        cmocka_unit_test(test_reader_push_refuses_when_a_whole_frame_is_left_unread),
        cmocka_unit_test(test_encode_sets_the_version_and_a_big_endian_prefix),
        cmocka_unit_test(test_encode_refuses_a_body_over_the_frame_limit),
        cmocka_unit_test(test_decode_refuses_a_body_over_the_frame_limit),
        cmocka_unit_test(test_wrong_version_is_refused),
        cmocka_unit_test(test_wrong_version_wins_over_an_unknown_body),
        cmocka_unit_test(test_frame_without_body_is_refused),
        cmocka_unit_test(test_frame_with_two_bodies_is_refused),
        cmocka_unit_test(test_empty_body_is_refused),
        cmocka_unit_test(test_truncated_body_is_refused_naming_the_message),
        cmocka_unit_test(test_garbage_bytes_are_refused),
        cmocka_unit_test(test_wrong_wire_type_is_refused_naming_the_field),
        cmocka_unit_test(test_missing_required_field_is_refused_naming_it),
        cmocka_unit_test(test_nul_byte_inside_a_string_is_refused),
        cmocka_unit_test(test_unknown_fields_are_skipped),
        cmocka_unit_test(test_bad_node_ids_are_refused),
        cmocka_unit_test(test_good_node_ids_are_accepted),
        cmocka_unit_test(test_hello_with_empty_agent_version_is_refused),
        cmocka_unit_test(test_sample_with_wrong_value_count_is_refused),
        cmocka_unit_test(test_sample_with_unknown_source_is_refused),
        cmocka_unit_test(test_value_with_both_counter_and_gauge_is_refused),
        cmocka_unit_test(test_value_of_the_wrong_kind_is_refused),
        cmocka_unit_test(test_nan_and_infinite_gauges_are_refused),
        cmocka_unit_test(test_sample_without_time_is_refused),
        cmocka_unit_test(test_batch_seq_zero_is_refused),
        cmocka_unit_test(test_too_long_name_is_refused),
        cmocka_unit_test(test_control_byte_in_a_name_is_refused),
        cmocka_unit_test(test_invalid_utf8_in_a_name_is_refused),
        cmocka_unit_test(test_plan_intervals_out_of_range_are_refused),
        cmocka_unit_test(test_bad_snmp_credentials_are_refused),
        cmocka_unit_test(test_device_addresses_are_checked),
        cmocka_unit_test(test_icmp_target_needs_a_numeric_address),
        cmocka_unit_test(test_plan_round_trips_service_targets_and_sla_limits),
        cmocka_unit_test(test_plan_round_trips_vc_captures), /* VC capture */
        cmocka_unit_test(test_bad_vc_captures_are_refused),
        cmocka_unit_test(test_plan_recordings_checked_apart),
        cmocka_unit_test(test_bad_service_targets_and_limits_are_refused),
        cmocka_unit_test(test_device_timeout_and_retries_are_bounded),
        cmocka_unit_test(test_too_many_samples_are_refused),
        cmocka_unit_test(test_heartbeat_and_hello_need_a_positive_wall_time),
        cmocka_unit_test(test_reason_is_optional_and_truncated_safely),
        cmocka_unit_test(test_compressed_frame_reads_back_as_the_frames_inside),
        cmocka_unit_test(test_compressed_frame_inflating_past_the_limit_is_refused),
        cmocka_unit_test(test_compressed_frame_with_bad_content_is_refused),
        cmocka_unit_test(test_compress_refuses_empty_and_oversize_input),
        cmocka_unit_test(test_heartbeat_codings_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
