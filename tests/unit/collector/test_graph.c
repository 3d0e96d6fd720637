/* Tests of collector/http/api_graph.c: which views each source has, and that every view renders with the
 * real librrd into a PNG and an SVG from an RRD file laid out from the source's template
 * (lib/metrics.h), as the collector's store would create it. The files hold an hour of 10 s
 * samples ending a minute ago; the RTP one dips from MOS 4.4 to 3.2 in its middle.
 * RN_TEST_GRAPH_DIR=<dir> keeps the PNGs there, to look at. */
#define _GNU_SOURCE /* asprintf, memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <rrd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "series/rrd_graph.h"
#include "metrics.h"

#define STEP 10
#define ROWS 360

static char dir[64];
static time_t end_s;

/* A plausible value of metric i of source at row r (of ROWS). */
static double value_of(const char *source, size_t i, int r)
{
    bool dip = r > ROWS / 3 && r < ROWS / 2;
    if (!strcmp(source, "rtp")) {
        const double clean[RN_RTP_N] = { 250, 0, 1.5, 4.4, 2 }, bad[RN_RTP_N] = { 240, 5, 30, 3.2, 2 };
        return dip ? bad[i] : clean[i];
    }
    if (!strcmp(source, "tcphs"))
        return i == RN_TCPHS_COUNT ? 3 : 0.4 + (dip ? 20 : 0);
    if (!strcmp(source, "tcp"))
        return i == RN_TCP_UP ? (dip ? 0 : 1) : 1.2;
    if (!strcmp(source, "http")) {
        const double v[RN_HTTP_N] = { 200, 3.5, 6, 120, 1 };
        return i == RN_HTTP_UP && dip ? 0 : v[i];
    }
    if (!strcmp(source, "if"))
        return i == RN_IF_OPER ? 1 : (double)r * 1000 * (i + 1);
    return 1 + (double)i * 0.5; /* icmp */
}

/* Creates dir/<source>.rrd from the template and fills it. Returns 0 or -1. */
static int make_rrd(const char *source)
{
    const rn_template_t *t = rn_template_find(source);
    if (!t)
        return -1;
    char path[128], *argv[RN_IF_N + RN_ICMP_N + 3];
    int argc = 0;
    snprintf(path, sizeof path, "%s/%s.rrd", dir, source);
    for (size_t i = 0; i < t->n_metrics; i++) {
        const rn_metric_t *m = &t->metrics[i];
        if (asprintf(&argv[argc++], "DS:%s:%s:%d:U:U", m->name,
                     m->kind == RN_METRIC_COUNTER ? "DERIVE" : "GAUGE", 3 * STEP) < 0)
            return -1;
    }
    argv[argc++] = strdup("RRA:AVERAGE:0.5:1:400");
    argv[argc++] = strdup("RRA:MIN:0.5:1:400");
    argv[argc++] = strdup("RRA:MAX:0.5:1:400");
    rrd_clear_error();
    int rc = rrd_create_r(path, STEP, end_s - (ROWS + 1) * STEP, argc, (const char **)argv);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    if (rc) {
        fprintf(stderr, "rrd_create %s: %s\n", path, rrd_get_error());
        return -1;
    }
    for (int r = 0; r < ROWS; r++) {
        char upd[512];
        int o = snprintf(upd, sizeof upd, "%lld", (long long)(end_s - (ROWS - r) * STEP));
        for (size_t i = 0; i < t->n_metrics; i++)
            o += snprintf(upd + o, sizeof upd - (size_t)o, ":%.15g", value_of(source, i, r));
        const char *u[1] = { upd };
        if (rrd_update_r(path, NULL, 1, u)) {
            fprintf(stderr, "rrd_update %s: %s\n", path, rrd_get_error());
            return -1;
        }
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/rn-test-graph-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    end_s = (time(NULL) / STEP) * STEP - 60;
    const char *sources[] = { "if", "icmp", "rtp", "tcphs", "tcp", "http" };
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (make_rrd(sources[i]))
            return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_each_source_knows_its_views_and_default(void **state)
{
    (void)state;
    assert_string_equal(rn_graph_default_view("if"), "traffic");
    assert_string_equal(rn_graph_default_view("icmp"), "rtt");
    assert_string_equal(rn_graph_default_view("rtp"), "mos");
    assert_string_equal(rn_graph_default_view("tcphs"), "handshake");
    assert_string_equal(rn_graph_default_view("tcp"), "connect");
    assert_string_equal(rn_graph_default_view("http"), "ttfb");
    assert_null(rn_graph_default_view("snmp"));
    assert_null(rn_graph_default_view(NULL));
    char buf[64];
    assert_int_equal(rn_graph_views_of("rtp", buf, sizeof buf), 3);
    assert_string_equal(buf, "mos, loss, jitter");
    assert_int_equal(rn_graph_views_of("rtp", buf, 6), 3); /* cut, still terminated */
    assert_true(strlen(buf) < 6);
    assert_int_equal(rn_graph_views_of("pie", buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_true(rn_graph_has_view("rtp", "jitter"));
    assert_true(rn_graph_has_view("icmp", "jitter"));
    assert_false(rn_graph_has_view("rtp", "rtt"));
    assert_false(rn_graph_has_view("icmp", "mos"));
    assert_false(rn_graph_has_view("tcp", "ttfb"));
    assert_false(rn_graph_has_view(NULL, "mos"));
    char *argv[64];
    assert_int_equal(rn_graph_source_args("tcphs", "mos", "/a.rrd", "t", "PNG", 1, 2, 800, 240, 0,
                                          argv, 64),
                     -EINVAL);
}

/* True if argv holds an argument equal to s. Frees argv. */
static bool has_arg_and_free(char **argv, int n, const char *s)
{
    bool found = false;
    for (int i = 0; i < n; i++) {
        found |= !strcmp(argv[i], s);
        free(argv[i]);
    }
    return found;
}

static void test_same_view_name_reads_each_sources_own_data_source(void **state)
{
    (void)state;
    char *argv[64];
    int n = rn_graph_source_args("rtp", "jitter", "/d/a:b.rrd", "t", "PNG", 1, 2, 800, 240, 0,
                                 argv, 64);
    assert_true(n > 0);
    assert_true(has_arg_and_free(argv, n, "DEF:jit=/d/a\\:b.rrd:jitter_ms:AVERAGE"));
    n = rn_graph_args("jitter", "/d/a.rrd", "t", "PNG", 1, 2, 800, 240, 0, argv, 64); /* icmp */
    assert_true(n > 0);
    assert_true(has_arg_and_free(argv, n, "DEF:jit=/d/a.rrd:jitter:AVERAGE"));
    n = rn_graph_source_args("rtp", "mos", "/d/a.rrd", "t", "PNG", 1, 2, 800, 240, 0, argv, 64);
    assert_true(n > 0);
    bool rigid = false;
    for (int i = 0; i < n; i++)
        rigid |= !strcmp(argv[i], "--rigid"); /* MOS keeps its 1..5 axis */
    assert_true(rigid);
    assert_true(has_arg_and_free(argv, n, "HRULE:3.6#cc0000:bad < 3.6\\n"));
    /* too small a vector: -ENOMEM and nothing left allocated (ASan would tell) */
    assert_int_equal(rn_graph_source_args("rtp", "mos", "/d/a.rrd", "t", "PNG", 1, 2, 800, 240, 0,
                                          argv, 10),
                     -ENOMEM);
}

/* Renders (source, view) from dir/<source>.rrd in format; returns the image (malloc'd). */
static unsigned char *render(const char *source, const char *view, const char *format,
                             size_t *len)
{
    char path[128], *argv[64];
    snprintf(path, sizeof path, "%s/%s.rrd", dir, source);
    int n = rn_graph_source_args(source, view, path, "test", format,
                                 (long long)end_s - ROWS * STEP, (long long)end_s, 500, 160,
                                 34e6, argv, 64);
    assert_true(n > 0);
    rrd_clear_error();
    rrd_info_t *info = rrd_graph_v(n, argv);
    unsigned char *img = NULL;
    *len = 0;
    for (rrd_info_t *i = info; i; i = i->next)
        if (!strcmp(i->key, "image") && i->type == RD_I_BLO && i->value.u_blo.size) {
            img = malloc(i->value.u_blo.size);
            memcpy(img, i->value.u_blo.ptr, i->value.u_blo.size);
            *len = i->value.u_blo.size;
        }
    if (!img)
        fprintf(stderr, "# %s/%s: %s\n", source, view,
                rrd_test_error() ? rrd_get_error() : "no image");
    rrd_info_free(info);
    for (int i = 0; i < n; i++)
        free(argv[i]);
    return img;
}

static void test_every_view_renders_a_png_and_an_svg(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        { "if", "traffic" }, { "icmp", "rtt" },         { "icmp", "jitter" },
        { "rtp", "mos" },    { "rtp", "loss" },         { "rtp", "jitter" },
        { "tcphs", "handshake" }, { "tcp", "connect" }, { "http", "ttfb" },
    };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        size_t len;
        unsigned char *png = render(pairs[k][0], pairs[k][1], "PNG", &len);
        assert_non_null(png);
        assert_true(len > 1000);
        assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
        printf("# %s view=%s: PNG %zu bytes\n", pairs[k][0], pairs[k][1], len);
        const char *keep = getenv("RN_TEST_GRAPH_DIR"); /* to look at them */
        char out[256];
        snprintf(out, sizeof out, "%s/%s-%s.png", keep ? keep : "", pairs[k][0], pairs[k][1]);
        FILE *f = keep ? fopen(out, "wb") : NULL;
        if (f) {
            fwrite(png, 1, len, f);
            fclose(f);
        }
        free(png);
        unsigned char *svg = render(pairs[k][0], pairs[k][1], "SVG", &len);
        assert_non_null(svg);
        assert_non_null(memmem(svg, len, "<svg", 4));
        free(svg);
    }
}

/* Not our leaks: fontconfig (under pango) keeps its font cache for the life of the process, and
 * librrd 1.7's rrd_graph_v loses the "legend[i]" text it formats for each legend entry (about
 * 15 bytes a legend; the collector's renders lose the same). Read by LeakSanitizer in the
 * sanitizer build; unused otherwise. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:librrd.so\n";
}

/* Full stacks for malloc, so that the suppression sees librrd below glibc's vasprintf (which has
 * no frame pointers). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_source_knows_its_views_and_default),
        cmocka_unit_test(test_same_view_name_reads_each_sources_own_data_source),
        cmocka_unit_test(test_every_view_renders_a_png_and_an_svg),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
