/* SLA report graphs (collector/report/report_graph.c) against a real probe RRD file made here with
 * librrd: a month of 5-minute rows with a 3 h outage at 100% loss and a day of 4% loss. The
 * argument vectors mark what they should, librrd renders both graphs as PNG (also from several
 * threads at once, under the graph lock), the HTML embeds them as data: URIs that decode back to
 * the same bytes, and the PDF carries them. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <rrd.h>

#include "report/report.h"
#include "report/report_graph.h"

#define S 1000LL
#define T0 1793491200000LL /* 2026-11-01T00:00:00Z */
#define T1 (T0 + 2592000 * S)
#define STEP 300
#define OUT_START (T0 + 10 * 86400 * S)
#define OUT_END (OUT_START + 3 * 3600 * S)

static char dir[64], rrd_path[128];

/* The probe file's data sources as the agent's probes write them (the ones the graphs read). */
static int make_rrd(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/rn-test-rgraph-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(rrd_path, sizeof rrd_path, "%s/probe:x.rrd", dir); /* ':' must be escaped */
    const char *def[] = { "DS:rttavg:GAUGE:600:0:U", "DS:rttmax:GAUGE:600:0:U",
                          "DS:loss:GAUGE:600:0:100", "RRA:AVERAGE:0.5:1:9000",
                          "RRA:MAX:0.5:1:9000" };
    if (rrd_create_r(rrd_path, STEP, T0 / 1000 - STEP, 5, def) != 0)
        return -1;
    char buf[128];
    const char *argv[1] = { buf };
    for (long long t = T0 / 1000; t < T1 / 1000; t += STEP) {
        double avg = 20 + 5 * sin((double)t / 86400.0 * 6.283), loss = 0;
        if (t * 1000 >= OUT_START && t * 1000 < OUT_END)
            loss = 100;
        else if (t >= T0 / 1000 + 20 * 86400 && t < T0 / 1000 + 21 * 86400)
            loss = 4;
        if (loss >= 100)
            snprintf(buf, sizeof buf, "%lld:U:U:100", t);
        else
            snprintf(buf, sizeof buf, "%lld:%.2f:%.2f:%.1f", t, avg, avg * 1.6, loss);
        if (rrd_update_r(rrd_path, NULL, 1, argv) != 0)
            return -1;
    }
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static rn_report_outage_t outage = { .start_ms = OUT_START, .end_ms = OUT_END,
                                     .duration_s = 10800, .counted = true,
                                     .root_cause = "link JPR-MPLS-0042 down" };

static rn_report_link_t make_link(void)
{
    rn_report_link_t L = { .node = "jaipur", .circuit = "JPR-MPLS-0042", .vendor = "bsnl",
                           .sla = "dhq", .kind = "mpls", .availability_pct = 99.58,
                           .target_pct = 99.5, .max_latency_ms = 80, .max_loss_pct = 1,
                           .outages = &outage, .n_listed = 1, .n_outages = 1 };
    return L;
}

static const rn_maintenance_rec_t maint[] = {
    { .id = 1, .entity = "JPR-MPLS-0042", .start_ms = T0 + 5 * 86400 * S,
      .end_ms = T0 + 5 * 86400 * S + 7200 * S },
    { .id = 2, .entity = "ajmer", .start_ms = T0 + 6 * 86400 * S, .end_ms = T0 + 7 * 86400 * S },
    { .id = 3, .entity = "jaipur", .start_ms = T0 - 86400 * S, .end_ms = T0 + 3600 * S },
};

static bool has_arg(char **argv, int argc, const char *want)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], want))
            return true;
    return false;
}

static int count_prefix(char **argv, int argc, const char *prefix)
{
    int n = 0;
    for (int i = 0; i < argc; i++)
        n += !strncmp(argv[i], prefix, strlen(prefix));
    return n;
}

static void free_args(char **argv, int argc)
{
    for (int i = 0; i < argc; i++)
        free(argv[i]);
}

static void test_args_mark_outages_maintenance_and_limits(void **state)
{
    (void)state;
    rn_report_link_t L = make_link();
    char *argv[96];
    int n = rn_report_graph_args(RN_REPORT_GRAPH_LATENCY, &L, "/d/a:b.rrd", T0, T1, maint, 3,
                                 argv, 96);
    assert_true(n > 0);
    assert_true(has_arg(argv, n, "DEF:avg=/d/a\\:b.rrd:rttavg:AVERAGE"));
    assert_true(has_arg(argv, n, "DEF:max=/d/a\\:b.rrd:rttmax:MAX"));
    assert_true(has_arg(argv, n, "HRULE:80#cc0000:SLA limit 80 ms"));
    char want[160];
    snprintf(want, sizeof want, "VRULE:%lld#d00000:Outage", OUT_START / 1000);
    assert_true(has_arg(argv, n, want));
    snprintf(want, sizeof want, "CDEF:m0=avg,POP,TIME,%lld,GE,TIME,%lld,LT,*,INF,UNKN,IF",
             OUT_START / 1000, OUT_END / 1000);
    assert_true(has_arg(argv, n, want));
    /* the window on the circuit and the one on the node (clipped to the period), not ajmer's */
    snprintf(want, sizeof want, "VRULE:%lld#2060ff:Maintenance", (T0 + 5 * 86400 * S) / 1000);
    assert_true(has_arg(argv, n, want));
    snprintf(want, sizeof want, "VRULE:%lld#2060ff", T0 / 1000);
    assert_true(has_arg(argv, n, want));
    assert_int_equal(count_prefix(argv, n, "VRULE:"), 3);
    assert_true(has_arg(argv, n, "--start") && has_arg(argv, n, "1793491200"));
    free_args(argv, n);

    n = rn_report_graph_args(RN_REPORT_GRAPH_LOSS, &L, "/d/p.rrd", T0, T1, NULL, 0, argv, 96);
    assert_true(n > 0);
    assert_true(has_arg(argv, n, "DEF:loss=/d/p.rrd:loss:AVERAGE"));
    assert_true(has_arg(argv, n, "HRULE:1#cc0000:SLA limit 1 %"));
    assert_int_equal(count_prefix(argv, n, "VRULE:"), 1);
    free_args(argv, n);

    assert_int_equal(rn_report_graph_args(RN_REPORT_GRAPH_LOSS, &L, "/d/p.rrd", T0, T1, NULL, 0,
                                          argv, 10), -ENOMEM);
    assert_int_equal(rn_report_graph_args((rn_report_graph_kind_t)7, &L, "/d/p.rrd", T0, T1,
                                          NULL, 0, argv, 96), -EINVAL);
}

/* Many outages: only the first RN_REPORT_GRAPH_MAX_MARKS are marked, and the vector fits. */
static void test_args_bound_the_marks(void **state)
{
    (void)state;
    rn_report_outage_t many[40];
    for (int i = 0; i < 40; i++)
        many[i] = (rn_report_outage_t){ .start_ms = T0 + i * 3600 * S,
                                        .end_ms = T0 + i * 3600 * S + 60 * S, .root_cause = "x" };
    rn_report_link_t L = make_link();
    L.outages = many;
    L.n_listed = 40;
    char *argv[96];
    int n = rn_report_graph_args(RN_REPORT_GRAPH_LATENCY, &L, "/d/p.rrd", T0, T1, maint, 3, argv,
                                 96);
    assert_true(n > 0);
    assert_int_equal(count_prefix(argv, n, "VRULE:"), RN_REPORT_GRAPH_MAX_MARKS + 2);
    free_args(argv, n);
}

static bool is_png(const rn_report_png_t *p)
{
    return p->data && p->len > 1000 && !memcmp(p->data, "\x89PNG\r\n\x1a\n", 8);
}

/* The PNG's width from its IHDR chunk. */
static unsigned png_width(const rn_report_png_t *p)
{
    const unsigned char *d = p->data + 16;
    return (unsigned)d[0] << 24 | (unsigned)d[1] << 16 | (unsigned)d[2] << 8 | d[3];
}

static void test_renders_both_graphs_as_png(void **state)
{
    (void)state;
    rn_report_link_t L = make_link();
    assert_int_equal(rn_report_link_graphs(&L, rrd_path, T0, T1, maint, 3), 0);
    assert_true(is_png(&L.latency_graph));
    assert_true(is_png(&L.loss_graph));
    assert_true(png_width(&L.latency_graph) > 560); /* the plot area plus axes and margins */
    free(L.latency_graph.data);
    free(L.loss_graph.data);

    rn_report_link_t none = make_link();
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.rrd", dir);
    assert_int_equal(rn_report_link_graphs(&none, missing, T0, T1, NULL, 0), -ENOENT);
    assert_null(none.latency_graph.data);
    assert_null(none.loss_graph.data);
}

static void *render_thread(void *arg)
{
    rn_report_link_t *L = arg;
    for (int i = 0; i < 3; i++) {
        free(L->latency_graph.data);
        free(L->loss_graph.data);
        L->latency_graph = L->loss_graph = (rn_report_png_t){ 0 };
        if (rn_report_link_graphs(L, rrd_path, T0, T1, maint, 3) != 0)
            return "render failed";
    }
    return NULL;
}

/* Four threads render at once (as a report job and dashboard renders would): every image is
 * whole, since each rrd_graph_v call holds the graph lock. */
static void test_concurrent_renders_are_serialised(void **state)
{
    (void)state;
    rn_report_link_t L[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        L[i] = make_link();
        assert_int_equal(pthread_create(&th[i], NULL, render_thread, &L[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        assert_int_equal(pthread_join(th[i], &rc), 0);
        assert_null(rc);
        assert_true(is_png(&L[i].latency_graph) && is_png(&L[i].loss_graph));
        free(L[i].latency_graph.data);
        free(L[i].loss_graph.data);
    }
}

static int b64_value(char c)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decodes the base64 at s up to the closing quote into out (cap bytes). Returns its length. */
static size_t b64_decode(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    for (; s[0] && s[0] != '\'' && n + 3 <= cap; s += 4) {
        int a = b64_value(s[0]), b = b64_value(s[1]), c = b64_value(s[2]), d = b64_value(s[3]);
        assert_true(a >= 0 && b >= 0);
        out[n++] = (unsigned char)(a << 2 | b >> 4);
        if (s[2] != '=')
            out[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
        if (s[3] != '=')
            out[n++] = (unsigned char)((c & 3) << 6 | d);
    }
    return n;
}

static void test_html_embeds_and_pdf_carries_the_graphs(void **state)
{
    (void)state;
    rn_report_link_t L = make_link();
    assert_int_equal(rn_report_link_graphs(&L, rrd_path, T0, T1, maint, 3), 0);
    rn_report_vendor_t v = { .name = "bsnl", .display = "BSNL", .contact = "noc@bsnl.example",
                             .n_links = 1, .n_outages = 1, .downtime_s = 10800 };
    rn_report_t r = { .from_ms = T0, .to_ms = T1, .links = &L, .n_links = 1, .vendors = &v,
                      .n_vendors = 1 };
    char *html = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&html, &len);
    assert_int_equal(rn_report_html(&r, NULL, m), 0);
    fclose(m);
    const char *uri = "data:image/png;base64,";
    const char *a = strstr(html, uri), *b = a ? strstr(a + 1, uri) : NULL;
    assert_non_null(a);
    assert_non_null(b);
    assert_null(strstr(b + 1, uri));
    unsigned char *png = malloc(L.latency_graph.len + L.loss_graph.len + 8);
    size_t n = b64_decode(a + strlen(uri), png, L.latency_graph.len + 8);
    assert_int_equal(n, L.latency_graph.len);
    assert_memory_equal(png, L.latency_graph.data, n);
    n = b64_decode(b + strlen(uri), png, L.loss_graph.len + 8);
    assert_int_equal(n, L.loss_graph.len);
    assert_memory_equal(png, L.loss_graph.data, n);
    free(png);
    free(html);

    /* the PDF with the graphs is larger than without by at least the images' pixels' worth */
    char p1[160], p2[160];
    struct stat s1, s2;
    snprintf(p1, sizeof p1, "%s/with.pdf", dir);
    snprintf(p2, sizeof p2, "%s/without.pdf", dir);
    assert_int_equal(rn_report_pdf(&r, NULL, p1), 0);
    rn_report_png_t keep[2] = { L.latency_graph, L.loss_graph };
    L.latency_graph = L.loss_graph = (rn_report_png_t){ 0 };
    assert_int_equal(rn_report_pdf(&r, NULL, p2), 0);
    assert_int_equal(stat(p1, &s1), 0);
    assert_int_equal(stat(p2, &s2), 0);
    assert_true(s1.st_size > s2.st_size + 5000);

    /* RN_REPORT_SAMPLE_DIR=DIR: keep the two graphs for a look */
    const char *sample = getenv("RN_REPORT_SAMPLE_DIR");
    for (int i = 0; sample && i < 2; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/graph-%s.png", sample, i ? "loss" : "latency");
        FILE *f = fopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(keep[i].data, 1, keep[i].len, f), keep[i].len);
        fclose(f);
    }
    free(keep[0].data);
    free(keep[1].data);
}

/* Not our leaks: fontconfig (under pango) keeps its font cache for the life of the process, and
 * librrd 1.7's rrd_graph_v loses the "legend[i]" key it formats for each legend entry (about 15
 * bytes a legend; graph.c's renders lose the same). Read by LeakSanitizer in the sanitizer build;
 * an unused function otherwise. */
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
        cmocka_unit_test(test_args_mark_outages_maintenance_and_limits),
        cmocka_unit_test(test_args_bound_the_marks),
        cmocka_unit_test(test_renders_both_graphs_as_png),
        cmocka_unit_test(test_concurrent_renders_are_serialised),
        cmocka_unit_test(test_html_embeds_and_pdf_carries_the_graphs),
    };
    return cmocka_run_group_tests(tests, make_rrd, remove_dir);
}
