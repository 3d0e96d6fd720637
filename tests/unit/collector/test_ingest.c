/* Ingest checks (collector/ingest.c): samples stamped in the future are dropped, one node's
 * distinct series are capped, and the ack covers only a contiguous prefix of stored batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest.h"
#include "wire.h"

/* A heap sample (freed by rn__sample__free_unpacked, as decoded ones are). */
static Rn__Sample *sample(const char *node, const char *source, const char *device,
                          const char *object, int64_t time_ms)
{
    Rn__Sample *x = malloc(sizeof *x);
    assert_non_null(x);
    rn__sample__init(x);
    x->node = node ? strdup(node) : NULL;
    x->source = strdup(source);
    x->device = strdup(device);
    x->object = strdup(object);
    x->time_ms = time_ms;
    return x;
}

/* An empty heap batch with room for cap samples. */
static Rn__Batch *batch(size_t cap)
{
    Rn__Batch *b = malloc(sizeof *b);
    assert_non_null(b);
    rn__batch__init(b);
    b->samples = calloc(cap, sizeof *b->samples);
    assert_non_null(b->samples);
    return b;
}

/* An agent an hour ahead: its samples are dropped, the others kept in order. */
static void test_future_dropped(void **state)
{
    (void)state;
    const int64_t now = 1790000000000;
    Rn__Batch *b = batch(4);
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "a", now - 10000);
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "b", now + 3600000);
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "c", now + 300000); /* at the limit */
    b->samples[b->n_samples++] = sample(NULL, "icmp", "", "d", now + 300001);
    int64_t ahead;
    assert_int_equal(rn_ingest_drop_future(b, now, 300, &ahead), 2);
    assert_int_equal(ahead, 3600000);
    assert_int_equal(b->n_samples, 2);
    assert_string_equal(b->samples[0]->object, "a");
    assert_string_equal(b->samples[1]->object, "c");
    assert_int_equal(rn_ingest_drop_future(b, now, 300, &ahead), 0);
    assert_int_equal(ahead, 0);
    rn__batch__free_unpacked(b, NULL);
}

/* Past RN_INGEST_MAX_SERIES distinct series, new ones are dropped and known ones kept. */
static void test_series_cap(void **state)
{
    (void)state;
    rn_ingest_node_t g = { 0 };
    char obj[32], first[160];
    for (int i = 0; i < RN_INGEST_MAX_SERIES; i += 512) {
        Rn__Batch *b = batch(512);
        for (int j = 0; j < 512; j++) {
            snprintf(obj, sizeof obj, "port%d", i + j);
            b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", obj, 1);
        }
        assert_int_equal(rn_ingest_drop_over_cap(&g, b, first, sizeof first), 0);
        assert_int_equal(b->n_samples, 512);
        rn__batch__free_unpacked(b, NULL);
    }
    assert_int_equal(g.n_series, RN_INGEST_MAX_SERIES);
    Rn__Batch *b = batch(4);
    b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", "port7", 2);       /* known */
    b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", "forged-1", 2);    /* new */
    b->samples[b->n_samples++] = sample("child", "if", "rtr1", "port7", 2);    /* new: a node */
    b->samples[b->n_samples++] = sample(NULL, "if", "rtr1", "port4095", 2);    /* known */
    assert_int_equal(rn_ingest_drop_over_cap(&g, b, first, sizeof first), 2);
    assert_string_equal(first, "/if/rtr1/forged-1");
    assert_int_equal(b->n_samples, 2);
    assert_string_equal(b->samples[0]->object, "port7");
    assert_string_equal(b->samples[1]->object, "port4095");
    assert_int_equal(g.n_series, RN_INGEST_MAX_SERIES);
    rn__batch__free_unpacked(b, NULL);
    rn_ingest_node_free(&g);
}

/* Batch 2 fails, 3 is stored: the ack stays at 1 (the old cumulative ack said 3, and 2's
 * resend was then dropped as too old); 2's resend stored moves it to 3. */
static void test_ack_contiguous(void **state)
{
    (void)state;
    rn_ingest_node_t g = { 0 };
    uint64_t acked = 0;
    acked = rn_ingest_ack_stored(&g, acked, 1);
    assert_int_equal(acked, 1);
    /* 2 and 3 in flight together; 2 fails (not noted), 3 is stored */
    acked = rn_ingest_ack_stored(&g, acked, 3);
    assert_int_equal(acked, 1);
    assert_true(rn_ingest_ack_has(&g, 3));
    assert_false(rn_ingest_ack_has(&g, 2));
    acked = rn_ingest_ack_stored(&g, acked, 5); /* 4 still in flight */
    assert_int_equal(acked, 1);
    acked = rn_ingest_ack_stored(&g, acked, 2); /* the resend of 2 */
    assert_int_equal(acked, 3);
    assert_false(rn_ingest_ack_has(&g, 3));
    assert_true(rn_ingest_ack_has(&g, 5));
    acked = rn_ingest_ack_stored(&g, acked, 4);
    assert_int_equal(acked, 5);
    assert_false(rn_ingest_ack_has(&g, 5));
    assert_int_equal(rn_ingest_ack_stored(&g, acked, 3), 5); /* a late duplicate */
    assert_int_equal(rn_ingest_ack_stored(&g, acked, 6), 6);
    for (size_t i = 0; i < RN_INGEST_ACK_WINDOW; i++)
        assert_int_equal(g.done[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_future_dropped),
        cmocka_unit_test(test_series_cap),
        cmocka_unit_test(test_ack_contiguous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
