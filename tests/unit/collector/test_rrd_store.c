/* Tests of collector/rrd_store: real RRD files in a temporary directory, written through a real
 * uv loop, and read back with the rrdtool command (lastupdate, info, fetch) the way an operator
 * would. Sample times are explicit, in the past and aligned to the steps, so every run sees the
 * same rows; small steps keep the files quick to create. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "series/rrd_store.h"

#define MAX_SAMPLES 16
#define MAX_VALUES 8

/* One value of a test sample: 'c' counter, 'g' gauge, 'u' unknown. */
typedef struct {
    char kind;
    uint64_t c;
    double g;
} tv_t;
#define C(x) ((tv_t){ 'c', (x), 0 })
#define G(x) ((tv_t){ 'g', 0, (x) })
#define UNK ((tv_t){ 'u', 0, 0 })

typedef struct {
    const char *source, *device, *object;
    int64_t time_ms;
    uint64_t speed_bps;
    size_t n;
    tv_t v[MAX_VALUES];
} ts_t;

typedef struct {
    char root[64];          /* mkdtemp */
    char dir[128];          /* the store's data directory, root/data */
    uv_loop_t loop;
    rn_rrd_store_t *store;
    time_t t0;              /* two hours ago, aligned to the hour */
} fixture_t;

typedef struct {
    int fired, order, status;
    rn_rrd_result_t r;
} outcome_t;

static int fire_counter;

/* ---- helpers ------------------------------------------------------------------------------- */

/* Builds an owned batch frame (as rn_wire_decode would hand it over) from test samples. */
static Rn__Frame *make_frame(const ts_t *ss, size_t n)
{
    static const Rn__Value value_init = RN__VALUE__INIT;
    static const Rn__Sample sample_init = RN__SAMPLE__INIT;
    Rn__Value vals[MAX_SAMPLES][MAX_VALUES], *vptr[MAX_SAMPLES][MAX_VALUES];
    Rn__Sample sm[MAX_SAMPLES], *smp[MAX_SAMPLES];
    Rn__Batch b = RN__BATCH__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    assert_true(n <= MAX_SAMPLES);
    for (size_t i = 0; i < n; i++) {
        sm[i] = sample_init;
        sm[i].source = (char *)ss[i].source;
        sm[i].device = (char *)ss[i].device;
        sm[i].object = (char *)ss[i].object;
        sm[i].time_ms = ss[i].time_ms;
        sm[i].has_speed_bps = ss[i].speed_bps > 0;
        sm[i].speed_bps = ss[i].speed_bps;
        sm[i].n_values = ss[i].n;
        sm[i].values = vptr[i];
        for (size_t v = 0; v < ss[i].n; v++) {
            vals[i][v] = value_init;
            vals[i][v].has_counter = ss[i].v[v].kind == 'c';
            vals[i][v].counter = ss[i].v[v].c;
            vals[i][v].has_gauge = ss[i].v[v].kind == 'g';
            vals[i][v].gauge = ss[i].v[v].g;
            vptr[i][v] = &vals[i][v];
        }
        smp[i] = &sm[i];
    }
    b.seq = 1;
    b.n_samples = n;
    b.samples = smp;
    f.version = RN_WIRE_VERSION;
    f.body_case = RN__FRAME__BODY_BATCH;
    f.batch = &b;
    size_t len = rn__frame__get_packed_size(&f);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    rn__frame__pack(&f, buf);
    Rn__Frame *out = rn__frame__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(out);
    return out;
}

/* An "if" sample of rtr1/<object> at second t with the seven values given. */
static ts_t if_sample(const char *object, time_t t, uint64_t speed, tv_t in, tv_t out, tv_t oper)
{
    ts_t s = { "if", "rtr1", object, (int64_t)t * 1000, speed, 7,
               { in, out, C(1), C(2), C(3), C(4), oper } };
    return s;
}

static void on_written(void *data, int status, const rn_rrd_result_t *r)
{
    outcome_t *o = data;
    o->fired++;
    o->order = ++fire_counter;
    o->status = status;
    o->r = *r;
}

/* Writes one batch for node and runs the loop until it is done. */
static outcome_t write_batch(fixture_t *fx, const char *node, const ts_t *ss, size_t n)
{
    outcome_t o = { 0 };
    assert_int_equal(rn_rrd_store_write(fx->store, node, make_frame(ss, n), on_written, &o), 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(o.fired, 1);
    return o;
}

/* Runs a shell command and returns its standard output (static buffer). */
static const char *run(const char *fmt, ...)
{
    static char out[1 << 16];
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

/* Reads `rrdtool lastupdate`: returns the time and copies the value line ("v1 v2 ...") to vals. */
static time_t lastupdate(const char *path, char *vals, size_t len)
{
    const char *out = run("rrdtool lastupdate '%s' 2>&1", path);
    const char *line = strrchr(out, ':');
    assert_non_null(line);
    while (line > out && line[-1] != '\n')
        line--;
    char *end;
    long long t = strtoll(line, &end, 10);
    assert_true(*end == ':');
    snprintf(vals, len, "%s", end + 2);
    vals[strcspn(vals, "\n")] = '\0';
    return (time_t)t;
}

/* Asserts that `rrdtool info` of path has a line containing want. */
static void assert_info(const char *path, const char *want)
{
    const char *out = run("rrdtool info '%s' 2>&1", path);
    if (strstr(out, want) == NULL)
        fail_msg("rrdtool info %s has no \"%s\"", path, want);
}

/* Fetches the row of cf at resolution step that ends at t; fills vals (NaN for unknown, at most
 * 8) and returns how many values the row has. */
static int fetch_row(const char *path, const char *cf, unsigned step, time_t t, double vals[8])
{
    const char *out = run("rrdtool fetch '%s' %s -r %u -s %lld -e %lld 2>&1", path, cf, step,
                          (long long)(t - 2 * step), (long long)t);
    char key[32];
    snprintf(key, sizeof key, "\n%lld:", (long long)t);
    const char *row = strstr(out, key);
    if (row == NULL)
        fail_msg("no row %lld in:\n%s", (long long)t, out);
    char line[512];
    snprintf(line, sizeof line, "%s", row + strlen(key));
    line[strcspn(line, "\n")] = '\0';
    int n = 0;
    for (char *p = line, *end; n < 8; n++, p = end) {
        vals[n] = strtod(p, &end);
        if (end == p)
            break;
    }
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- fixture ------------------------------------------------------------------------------- */

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/rn-rrd-test-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->dir, sizeof fx->dir, "%s/data", fx->root);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    assert_int_equal(rn_rrd_store_new(&fx->loop, fx->dir, &fx->store), 0);
    rn_rrd_store_set_step(fx->store, "if", 5);
    fx->t0 = time(NULL) / 3600 * 3600 - 7200;
    *state = fx;
    return 0;
}

static void on_closed(void *data)
{
    (*(int *)data)++;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    int closed = 0;
    if (fx->store != NULL) {
        rn_rrd_store_close(fx->store, on_closed, &closed);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        assert_int_equal(closed, 1);
    }
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    run("rm -rf '%s'", fx->root);
    free(fx);
    return 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_if_batch_creates_file_from_template(void **state)
{
    fixture_t *fx = *state;
    static const char *names[] = { "in", "out", "inerr", "outerr", "indisc", "outdisc", "oper" };
    char path[512], want[128], vals[256];
    ts_t s = if_sample("wan0", fx->t0, 100000000, C(1000), C(2000), G(1));
    outcome_t o = write_batch(fx, "jaipur/sanganer", &s, 1);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.written, 1);
    assert_int_equal(o.r.too_old + o.r.failed, 0);

    snprintf(path, sizeof path, "%s/jaipur/sanganer/if/rtr1/wan0.rrd", fx->dir);
    assert_true(exists(path));
    assert_info(path, "step = 5\n");
    for (size_t i = 0; i < 7; i++) {
        snprintf(want, sizeof want, "ds[%s].index = %zu\n", names[i], i);
        assert_info(path, want);
        snprintf(want, sizeof want, "ds[%s].minimal_heartbeat = 15\n", names[i]);
        assert_info(path, want);
        snprintf(want, sizeof want, "ds[%s].type = \"%s\"\n", names[i], i < 6 ? "DERIVE" : "GAUGE");
        assert_info(path, want);
    }
    assert_info(path, "ds[in].min = 0.0000000000e+00\n");
    assert_info(path, "ds[in].max = 1.2500000000e+07\n");
    assert_info(path, "ds[out].max = 1.2500000000e+07\n");
    assert_info(path, "ds[inerr].max = NaN\n");
    assert_info(path, "ds[outdisc].max = NaN\n");
    assert_info(path, "ds[oper].min = 1.0000000000e+00\n");
    assert_info(path, "ds[oper].max = 7.0000000000e+00\n");
    /* step 5: AVERAGE 1 x 34560 (2 days), then AVERAGE/MIN/MAX at 60 x 11520, 720 x 9600,
     * 17280 x 1826 */
    assert_info(path, "rra[0].cf = \"AVERAGE\"\n");
    assert_info(path, "rra[0].rows = 34560\n");
    assert_info(path, "rra[1].cf = \"AVERAGE\"\n");
    assert_info(path, "rra[1].pdp_per_row = 60\n");
    assert_info(path, "rra[2].cf = \"MIN\"\n");
    assert_info(path, "rra[3].cf = \"MAX\"\n");
    assert_info(path, "rra[9].pdp_per_row = 17280\n");
    assert_info(path, "rra[9].rows = 1826\n");
    assert_info(path, "rra[0].xff = 5.0000000000e-01\n");
    assert_null(strstr(run("rrdtool info '%s'", path), "rra[10]"));

    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0);
    assert_string_equal(vals, "1000 2000 1 2 3 4 1");
}

static void test_icmp_sample_lands_under_source(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    ts_t s = { "icmp", "", "sdc", (int64_t)fx->t0 * 1000, 0, 8,
               { G(1.5), G(2.25), G(4), G(0.5), G(0.125), G(0), G(20), G(20) } };
    outcome_t o = write_batch(fx, "jaipur/sanganer", &s, 1);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.written, 1);
    snprintf(path, sizeof path, "%s/jaipur/sanganer/icmp/sdc.rrd", fx->dir);
    assert_true(exists(path));
    assert_info(path, "step = 10\n"); /* the default for icmp */
    assert_info(path, "ds[rttmin].index = 0\n");
    assert_info(path, "ds[recv].index = 7\n");
    assert_info(path, "ds[loss].max = 1.0000000000e+02\n");
    assert_info(path, "ds[rttavg].max = NaN\n");
    assert_info(path, "ds[rttavg].type = \"GAUGE\"\n");
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0);
    assert_string_equal(vals, "1.5 2.25 4 0.5 0.125 0 20 20");
}

static void test_names_are_escaped(void **state)
{
    fixture_t *fx = *state;
    char path[512], want[512];
    ts_t s = if_sample("Gi0/0", fx->t0, 0, C(1), C(2), G(1));
    outcome_t o = write_batch(fx, "jaipur", &s, 1);
    assert_int_equal(o.r.written, 1);
    snprintf(path, sizeof path, "%s/jaipur/if/rtr1/Gi0%%2F0.rrd", fx->dir);
    assert_true(exists(path));

    assert_int_equal(rn_rrd_store_path(fx->store, "jaipur", "if", "a b", "..", path, sizeof path),
                     0);
    snprintf(want, sizeof want, "%s/jaipur/if/a%%20b/%%2E..rrd", fx->dir);
    assert_string_equal(path, want);
    assert_int_equal(rn_rrd_store_path(fx->store, "jaipur", "if", "..", "x%y", path, sizeof path),
                     0);
    snprintf(want, sizeof want, "%s/jaipur/if/%%2E./x%%25y.rrd", fx->dir);
    assert_string_equal(path, want);
    assert_int_equal(rn_rrd_store_path(fx->store, "a/b", "icmp", "", "c", path, sizeof path), 0);
    snprintf(want, sizeof want, "%s/a/b/icmp/c.rrd", fx->dir);
    assert_string_equal(path, want);
    assert_int_equal(rn_rrd_store_path(fx->store, "a/b", "icmp", "", "c", path, 10),
                     -ENAMETOOLONG);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(rn_rrd_store_path(fx->store, "a", "icmp", "", longname, path, sizeof path),
                     -ENAMETOOLONG);
}

static void test_unknown_values_become_unknown(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    double row[8];
    ts_t s[] = {
        if_sample("wan0", fx->t0, 0, C(1000), C(1000), G(1)),
        if_sample("wan0", fx->t0 + 5, 0, UNK, C(1500), UNK),
    };
    outcome_t o = write_batch(fx, "jaipur/sanganer", s, 2);
    assert_int_equal(o.r.written, 2);
    snprintf(path, sizeof path, "%s/jaipur/sanganer/if/rtr1/wan0.rrd", fx->dir);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 + 5);
    assert_string_equal(vals, "U 1500 1 2 3 4 U");
    assert_int_equal(fetch_row(path, "AVERAGE", 5, fx->t0 + 5, row), 7);
    assert_true(isnan(row[0]));
    assert_true(fabs(row[1] - 100.0) < 1e-9);
    assert_true(isnan(row[6]));
}

static void test_counter_rate_over_a_step(void **state)
{
    fixture_t *fx = *state;
    char path[512];
    double row[8];
    rn_rrd_store_set_step(fx->store, "if", 60);
    ts_t s[] = {
        if_sample("wan0", fx->t0, 0, C(1000), C(0), G(1)),
        if_sample("wan0", fx->t0 + 60, 0, C(7000), C(600), G(2)),
    };
    outcome_t o = write_batch(fx, "jaipur/sanganer", s, 2);
    assert_int_equal(o.r.written, 2);
    snprintf(path, sizeof path, "%s/jaipur/sanganer/if/rtr1/wan0.rrd", fx->dir);
    assert_info(path, "step = 60\n");
    assert_info(path, "rra[0].rows = 2880\n"); /* 1 step for 2 days */
    assert_int_equal(fetch_row(path, "AVERAGE", 60, fx->t0 + 60, row), 7);
    assert_true(fabs(row[0] - 100.0) < 1e-9); /* +6000 octets / 60 s */
    assert_true(fabs(row[1] - 10.0) < 1e-9);
    assert_true(fabs(row[2]) < 1e-9);          /* error counters did not move */
    assert_true(fabs(row[6] - 2.0) < 1e-9);
}

static void test_counter_decrease_or_overspeed_gives_unknown(void **state)
{
    fixture_t *fx = *state;
    char path[512];
    double row[8];
    /* 8,000 bit/s: at most 1,000 octets/s */
    ts_t s[] = {
        if_sample("wan0", fx->t0, 8000, C(100000), C(0), G(1)),
        if_sample("wan0", fx->t0 + 5, 8000, C(102500), C(100000), G(1)), /* 500/s; 20000/s */
        if_sample("wan0", fx->t0 + 10, 8000, C(300), C(100500), G(1)),   /* reboot; 100/s */
        if_sample("wan0", fx->t0 + 15, 8000, C(800), C(101000), G(1)),   /* 100/s; 100/s */
    };
    outcome_t o = write_batch(fx, "jaipur/sanganer", s, 4);
    assert_int_equal(o.r.written, 4);
    snprintf(path, sizeof path, "%s/jaipur/sanganer/if/rtr1/wan0.rrd", fx->dir);
    fetch_row(path, "AVERAGE", 5, fx->t0 + 5, row);
    assert_true(fabs(row[0] - 500.0) < 1e-9);
    assert_true(isnan(row[1]));                /* above speed: unknown */
    fetch_row(path, "AVERAGE", 5, fx->t0 + 10, row);
    assert_true(isnan(row[0]));                /* decrease: unknown, not a wrap spike */
    assert_true(fabs(row[1] - 100.0) < 1e-9);
    fetch_row(path, "MAX", 5, fx->t0 + 10, row);
    assert_true(isnan(row[0]));
    fetch_row(path, "AVERAGE", 5, fx->t0 + 15, row);
    assert_true(fabs(row[0] - 100.0) < 1e-9); /* and back to normal */
}

static void test_old_samples_are_counted_too_old(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    snprintf(path, sizeof path, "%s/jaipur/sanganer/if/rtr1/wan0.rrd", fx->dir);
    ts_t first = if_sample("wan0", fx->t0 + 10, 0, C(5000), C(6000), G(1));
    outcome_t o = write_batch(fx, "jaipur/sanganer", &first, 1);
    assert_int_equal(o.r.written, 1);

    ts_t old[] = {
        if_sample("wan0", fx->t0 + 5, 0, C(1), C(1), G(2)),
        if_sample("wan0", fx->t0 + 10, 0, C(2), C(2), G(2)),
    };
    o = write_batch(fx, "jaipur/sanganer", old, 2);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.written, 0);
    assert_int_equal(o.r.too_old, 2);
    assert_int_equal(o.r.failed, 0);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 + 10);
    assert_string_equal(vals, "5000 6000 1 2 3 4 1");

    /* Two samples in one second: the second is too old. Milliseconds are floored. */
    ts_t same[] = {
        if_sample("wan0", fx->t0 + 15, 0, C(5100), C(6100), G(1)),
        if_sample("wan0", fx->t0 + 15, 0, C(5200), C(6200), G(1)),
        if_sample("wan0", fx->t0 + 20, 0, C(5300), C(6300), G(1)),
    };
    same[0].time_ms += 200;
    same[1].time_ms += 900;
    same[2].time_ms += 999;
    o = write_batch(fx, "jaipur/sanganer", same, 3);
    assert_int_equal(o.r.written, 2);
    assert_int_equal(o.r.too_old, 1);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 + 20);
    assert_string_equal(vals, "5300 6300 1 2 3 4 1");
}

static void test_too_old_is_known_after_restart(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    int closed = 0;
    snprintf(path, sizeof path, "%s/jaipur/sanganer/if/rtr1/wan0.rrd", fx->dir);
    ts_t s = if_sample("wan0", fx->t0 + 10, 0, C(5000), C(6000), G(1));
    assert_int_equal(write_batch(fx, "jaipur/sanganer", &s, 1).r.written, 1);
    rn_rrd_store_close(fx->store, on_closed, &closed);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(rn_rrd_store_new(&fx->loop, fx->dir, &fx->store), 0);
    rn_rrd_store_set_step(fx->store, "if", 5);

    ts_t again[] = {
        if_sample("wan0", fx->t0 + 10, 0, C(1), C(1), G(2)),
        if_sample("wan0", fx->t0 + 15, 0, C(5500), C(6500), G(2)),
    };
    outcome_t o = write_batch(fx, "jaipur/sanganer", again, 2);
    assert_int_equal(o.r.too_old, 1);
    assert_int_equal(o.r.written, 1);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 + 15);
    assert_string_equal(vals, "5500 6500 1 2 3 4 2");
}

static void test_interleaved_files_in_one_batch(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    ts_t s[] = {
        if_sample("wan0", fx->t0, 0, C(10), C(20), G(1)),
        if_sample("wan1", fx->t0, 0, C(30), C(40), G(1)),
        if_sample("wan0", fx->t0 + 5, 0, C(11), C(21), G(1)),
        if_sample("wan1", fx->t0 + 5, 0, C(31), C(41), G(2)),
    };
    outcome_t o = write_batch(fx, "ajmer", s, 4);
    assert_int_equal(o.r.written, 4);
    snprintf(path, sizeof path, "%s/ajmer/if/rtr1/wan0.rrd", fx->dir);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 + 5);
    assert_string_equal(vals, "11 21 1 2 3 4 1");
    snprintf(path, sizeof path, "%s/ajmer/if/rtr1/wan1.rrd", fx->dir);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 + 5);
    assert_string_equal(vals, "31 41 1 2 3 4 2");
}

static void test_batches_are_applied_in_submission_order(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    outcome_t o[3] = { { 0 } };
    ts_t a[] = { if_sample("wan0", fx->t0 + 5, 0, C(100), C(100), G(1)) };
    ts_t b[] = { if_sample("wan0", fx->t0 + 10, 0, C(200), C(200), G(1)) };
    ts_t c[] = { if_sample("wan0", fx->t0 + 15, 0, C(300), C(300), G(1)),
                 if_sample("wan0", fx->t0 + 20, 0, C(400), C(400), G(1)) };
    assert_int_equal(rn_rrd_store_write(fx->store, "jaipur", make_frame(a, 1), on_written, &o[0]),
                     0);
    assert_int_equal(rn_rrd_store_write(fx->store, "jaipur", make_frame(b, 1), on_written, &o[1]),
                     0);
    assert_int_equal(rn_rrd_store_write(fx->store, "jaipur", make_frame(c, 2), on_written, &o[2]),
                     0);
    assert_int_equal(rn_rrd_store_pending(fx->store), 3);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(rn_rrd_store_pending(fx->store), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(o[i].fired, 1);
        assert_int_equal(o[i].r.too_old + o[i].r.failed, 0);
    }
    assert_true(o[0].order < o[1].order && o[1].order < o[2].order);
    snprintf(path, sizeof path, "%s/jaipur/if/rtr1/wan0.rrd", fx->dir);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 + 20);
    assert_string_equal(vals, "400 400 1 2 3 4 1");
}

/* ---- libuv's pool busy: writes do not wait for it ----------------------------------------- */

#define POOL_THREADS 4 /* set in main() before anything uses the pool */

typedef struct {
    uv_work_t w;
    bool timed_out;
} blocker_t;

static atomic_bool write_done;

/* Holds a pool thread (as a report or a graph render does) until the write is done, 10 s at most. */
static void block_work(uv_work_t *w)
{
    blocker_t *b = (blocker_t *)w;
    for (int i = 0; i < 1000 && !atomic_load(&write_done); i++)
        usleep(10000);
    b->timed_out = !atomic_load(&write_done);
}

static void block_after(uv_work_t *w, int status)
{
    (void)w, (void)status;
}

static void on_written_release(void *data, int status, const rn_rrd_result_t *r)
{
    on_written(data, status, r);
    atomic_store(&write_done, true);
}

static void test_writes_do_not_wait_for_the_thread_pool(void **state)
{
    fixture_t *fx = *state;
    blocker_t b[POOL_THREADS] = { 0 };
    atomic_store(&write_done, false);
    for (size_t i = 0; i < POOL_THREADS; i++)
        assert_int_equal(uv_queue_work(&fx->loop, &b[i].w, block_work, block_after), 0);
    ts_t s = { "icmp", "", "sdc", (int64_t)fx->t0 * 1000, 0, 8,
               { G(1.5), G(2.25), G(4), G(0.5), G(0.125), G(0), G(20), G(20) } };
    outcome_t o = { 0 };
    assert_int_equal(rn_rrd_store_write(fx->store, "jaipur", make_frame(&s, 1), on_written_release,
                                        &o), 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(o.fired, 1);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.written, 1);
    for (size_t i = 0; i < POOL_THREADS; i++)
        assert_false(b[i].timed_out); /* the write was stored while every pool thread was held */
}

static void test_close_finishes_queued_writes(void **state)
{
    fixture_t *fx = *state;
    outcome_t o[2] = { { 0 } };
    int closed = 0;
    ts_t a[] = { if_sample("wan0", fx->t0 + 5, 0, C(100), C(100), G(1)) };
    ts_t b[] = { if_sample("wan0", fx->t0 + 10, 0, C(200), C(200), G(1)) };
    assert_int_equal(rn_rrd_store_write(fx->store, "jaipur", make_frame(a, 1), on_written, &o[0]),
                     0);
    assert_int_equal(rn_rrd_store_write(fx->store, "jaipur", make_frame(b, 1), on_written, &o[1]),
                     0);
    rn_rrd_store_close(fx->store, on_closed, &closed);
    Rn__Frame *late = make_frame(b, 1);
    assert_int_equal(rn_rrd_store_write(fx->store, "jaipur", late, on_written, &o[1]), -EINVAL);
    rn__frame__free_unpacked(late, NULL);
    assert_int_equal(closed, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    fx->store = NULL;
    assert_int_equal(closed, 1);
    assert_int_equal(o[0].fired, 1);
    assert_int_equal(o[1].fired, 1);
    assert_int_equal(o[0].r.written + o[1].r.written, 2);
}

static void test_unwritable_data_dir_reports_error(void **state)
{
    fixture_t *fx = *state;
    char file[256], sub[300];
    rn_rrd_store_t *s2;
    snprintf(file, sizeof file, "%s/plain", fx->root);
    fclose(fopen(file, "w"));
    snprintf(sub, sizeof sub, "%s/data", file);
    assert_int_equal(rn_rrd_store_new(&fx->loop, sub, &s2), -ENOTDIR);

    /* The data directory turns into a regular file after the store started. */
    run("rm -rf '%s' && touch '%s'", fx->dir, fx->dir);
    ts_t s = if_sample("wan0", fx->t0, 0, C(1), C(1), G(1));
    outcome_t o = write_batch(fx, "jaipur", &s, 1);
    assert_true(o.status < 0 || o.r.failed == 1);
    assert_int_equal(o.r.written, 0);
}

static void test_unwritable_node_dir_fails_its_samples_only(void **state)
{
    fixture_t *fx = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/jaipur", fx->dir);
    fclose(fopen(path, "w"));
    ts_t s = if_sample("wan0", fx->t0, 0, C(1), C(1), G(1));
    outcome_t o = write_batch(fx, "jaipur/sanganer", &s, 1);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.failed, 1);
    assert_int_equal(o.r.written, 0);
    o = write_batch(fx, "ajmer", &s, 1);
    assert_int_equal(o.r.written, 1);
}

static void test_librrd_error_on_one_file_spares_others(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    run("mkdir -p '%s/ajmer/if/rtr1' && echo garbage > '%s/ajmer/if/rtr1/bad.rrd'", fx->dir,
        fx->dir);
    ts_t s[] = {
        if_sample("bad", fx->t0, 0, C(1), C(1), G(1)),
        if_sample("good", fx->t0, 0, C(7), C(8), G(1)),
        if_sample("bad", fx->t0 + 5, 0, C(2), C(2), G(1)),
    };
    outcome_t o = write_batch(fx, "ajmer", s, 3);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.failed, 2);
    assert_int_equal(o.r.written, 1);
    snprintf(path, sizeof path, "%s/ajmer/if/rtr1/good.rrd", fx->dir);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0);
    assert_string_equal(vals, "7 8 1 2 3 4 1");
}

static void test_update_refused_by_librrd_counts_failed(void **state)
{
    fixture_t *fx = *state;
    char path[512], vals[256];
    snprintf(path, sizeof path, "%s/ajmer/if/rtr1/odd.rrd", fx->dir);
    /* A file someone made by hand with one DS: librrd refuses our seven values. */
    run("mkdir -p '%s/ajmer/if/rtr1' && rrdtool create '%s' --start %lld --step 5 "
        "DS:x:GAUGE:15:U:U RRA:AVERAGE:0.5:1:10",
        fx->dir, path, (long long)fx->t0 - 5);
    ts_t s[] = {
        if_sample("odd", fx->t0, 0, C(1), C(1), G(1)),
        if_sample("odd", fx->t0 + 5, 0, C(2), C(2), G(1)),
        if_sample("even", fx->t0, 0, C(7), C(8), G(1)),
    };
    outcome_t o = write_batch(fx, "ajmer", s, 3);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.failed, 2);
    assert_int_equal(o.r.written, 1);
    assert_int_equal(lastupdate(path, vals, sizeof vals), fx->t0 - 5);
}

static void test_malformed_samples_are_counted_failed(void **state)
{
    fixture_t *fx = *state;
    ts_t s[] = {
        { "if", "rtr1", "wan0", (int64_t)fx->t0 * 1000, 0, 3, { C(1), C(2), C(3) } },
        { "nosuch", "", "x", (int64_t)fx->t0 * 1000, 0, 1, { G(1) } },
        { "icmp", "", "", (int64_t)fx->t0 * 1000, 0, 8, /* empty object */
          { UNK, UNK, UNK, UNK, UNK, UNK, UNK, UNK } },
        if_sample("wan1", fx->t0, 0, C(1), C(1), G(1)),
    };
    outcome_t o = write_batch(fx, "jaipur", s, 4);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.failed, 3);
    assert_int_equal(o.r.written, 1);
}

/* Asserts the (function, steps per row, rows) of every RRA of path, in order. */
static void assert_rras(const char *path, const char *const cf[], const unsigned pdp[],
                        const unsigned rows[], size_t n)
{
    char want[128];
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof want, "rra[%zu].cf = \"%s\"\n", i, cf[i]);
        assert_info(path, want);
        snprintf(want, sizeof want, "rra[%zu].pdp_per_row = %u\n", i, pdp[i]);
        assert_info(path, want);
        snprintf(want, sizeof want, "rra[%zu].rows = %u\n", i, rows[i]);
        assert_info(path, want);
    }
    snprintf(want, sizeof want, "rra[%zu]", n);
    assert_null(strstr(run("rrdtool info '%s'", path), want));
}

/* Returns the size of path, and checks it is the RRAs' rows (8 bytes a value) plus a header. */
static long long file_size(const char *path, size_t n_ds, const unsigned rows[], size_t n)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    long long data = 0;
    for (size_t i = 0; i < n; i++)
        data += (long long)rows[i] * (long long)n_ds * 8;
    assert_true(st.st_size >= data && st.st_size < data + 64 * 1024);
    return (long long)st.st_size;
}

static void test_tiers_at_the_default_steps_fit_the_budget(void **state)
{
    fixture_t *fx = *state;
    static const char *const cf[] = { "AVERAGE", "AVERAGE", "MIN", "MAX", "AVERAGE",
                                      "MIN", "MAX", "AVERAGE", "MIN", "MAX" };
    static const unsigned if_pdp[] = { 1, 5, 5, 5, 60, 60, 60, 1440, 1440, 1440 };
    static const unsigned if_rows[] = { 2880, 11520, 11520, 11520, 9600, 9600, 9600,
                                        1826, 1826, 1826 };
    static const unsigned icmp_pdp[] = { 1, 30, 30, 30, 360, 360, 360, 8640, 8640, 8640 };
    static const unsigned icmp_rows[] = { 17280, 11520, 11520, 11520, 9600, 9600, 9600,
                                          1826, 1826, 1826 };
    char ifp[512], icmpp[512];
    rn_rrd_store_set_step(fx->store, "if", 60); /* the topology's defaults: poll 60 s, probe 10 s */
    ts_t s[] = {
        if_sample("wan0", fx->t0, 0, C(1), C(2), G(1)),
        { "icmp", "", "sdc", (int64_t)fx->t0 * 1000, 0, 8,
          { G(1), G(2), G(3), G(0), G(0), G(0), G(5), G(5) } },
    };
    assert_int_equal(write_batch(fx, "jaipur", s, 2).r.written, 2);
    snprintf(ifp, sizeof ifp, "%s/jaipur/if/rtr1/wan0.rrd", fx->dir);
    snprintf(icmpp, sizeof icmpp, "%s/jaipur/icmp/sdc.rrd", fx->dir);
    assert_rras(ifp, cf, if_pdp, if_rows, 10);
    assert_rras(icmpp, cf, icmp_pdp, icmp_rows, 10);
    long long if_size = file_size(ifp, 7, if_rows, 10);
    long long icmp_size = file_size(icmpp, 8, icmp_rows, 10);
    print_message("if file %lld bytes, icmp file %lld bytes\n", if_size, icmp_size);
    /* the budget of docs/storage.md: 10,000 nodes x 50 series in about 2-3 TB */
    assert_true(if_size < 4100000);
    assert_true(icmp_size < 5600000);
}

/* The step rrdtool fetch picks for [end - span, end] (the one librrd's rrd_fetch_r gives the SLA
 * report and rrd_graph: the finest RRA of cf that covers the whole range). */
static long fetch_step(const char *path, const char *cf, time_t end, long span)
{
    const char *out = run("rrdtool fetch '%s' %s -s %lld -e %lld 2>&1 | grep -E '^[0-9]+:' | "
                          "head -2 | cut -d: -f1 | tr '\\n' ' '", path, cf,
                          (long long)(end - span), (long long)end);
    long long a = 0, b = 0;
    if (sscanf(out, "%lld %lld", &a, &b) != 2)
        fail_msg("rrdtool fetch %s %s: no two rows: %s", path, cf, out);
    return (long)(b - a);
}

static void test_reads_get_the_resolution_their_range_needs(void **state)
{
    fixture_t *fx = *state;
    char path[512];
    ts_t s = { "icmp", "", "sdc", (int64_t)fx->t0 * 1000, 0, 8,
               { G(1), G(2), G(3), G(0), G(0), G(0), G(5), G(5) } };
    assert_int_equal(write_batch(fx, "ajmer", &s, 1).r.written, 1);
    snprintf(path, sizeof path, "%s/ajmer/icmp/sdc.rrd", fx->dir);
    const long day = 86400;
    assert_int_equal(fetch_step(path, "AVERAGE", fx->t0, day), 10);       /* graphs, outages */
    /* MIN and MAX at one step come from the AVERAGE RRA (librrd: any function over one step) */
    assert_int_equal(fetch_step(path, "MAX", fx->t0, 3600), 10);          /* the dashboard's hour */
    assert_int_equal(fetch_step(path, "MIN", fx->t0, day), 10);
    assert_int_equal(fetch_step(path, "MIN", fx->t0, 3 * day), 300);
    assert_int_equal(fetch_step(path, "AVERAGE", fx->t0, 31 * day), 300); /* a month's report */
    assert_int_equal(fetch_step(path, "AVERAGE", fx->t0, 39 * day), 300); /* ... rerun by the 9th */
    assert_int_equal(fetch_step(path, "AVERAGE", fx->t0, 45 * day), 3600);
    assert_int_equal(fetch_step(path, "MAX", fx->t0, 399 * day), 3600);   /* an SLA year */
    assert_int_equal(fetch_step(path, "AVERAGE", fx->t0, 1800 * day), day);
}

static void test_bad_node_id_is_refused(void **state)
{
    fixture_t *fx = *state;
    static const char *bad[] = { "", "/jaipur", "..", "jaipur/..", "jaipur//sanganer", "jaipur/",
                                 "./jaipur", "jaipur/./x" };
    outcome_t o = { 0 };
    char path[512];
    ts_t s = if_sample("wan0", fx->t0, 0, C(1), C(1), G(1));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Rn__Frame *f = make_frame(&s, 1);
        assert_int_equal(rn_rrd_store_write(fx->store, bad[i], f, on_written, &o), -EINVAL);
        rn__frame__free_unpacked(f, NULL); /* refused: still ours */
        assert_int_equal(rn_rrd_store_path(fx->store, bad[i], "if", "rtr1", "wan0", path,
                                           sizeof path), -EINVAL);
    }
    assert_int_equal(rn_rrd_store_path(fx->store, "jaipur", "../x", "rtr1", "wan0", path,
                                       sizeof path), -EINVAL);
    assert_int_equal(rn_rrd_store_path(fx->store, "jaipur", "if", "rtr1", "", path, sizeof path),
                     -EINVAL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(o.fired, 0);
    assert_int_equal(rn_rrd_store_pending(fx->store), 0);
}

int main(void)
{
    unsetenv("RRDCACHED_ADDRESS"); /* rrdtool must read the files themselves */
    setenv("UV_THREADPOOL_SIZE", "4", 1); /* POOL_THREADS */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_if_batch_creates_file_from_template, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icmp_sample_lands_under_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_are_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_values_become_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_rate_over_a_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_decrease_or_overspeed_gives_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_old_samples_are_counted_too_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_old_is_known_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_files_in_one_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_are_applied_in_submission_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_finishes_queued_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_do_not_wait_for_the_thread_pool, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_data_dir_reports_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_node_dir_fails_its_samples_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_librrd_error_on_one_file_spares_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_refused_by_librrd_counts_failed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed_samples_are_counted_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_node_id_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tiers_at_the_default_steps_fit_the_budget, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reads_get_the_resolution_their_range_needs, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
