/* The SLA report's three renderings show the same columns, in the same order, with the same
 * values: one computed report is rendered as CSV, HTML and PDF, and
 *  - each CSV block's header is its table's keys (report_columns.c), each HTML table's <th>
 *    labels are its table's labels, and the PDF (read back with pdftotext -layout) shows every
 *    label, in the table's order on each header line;
 *  - each link, outage, vendor and service row holds, field by field, the cells of the table in
 *    the CSV (machine form) and the HTML (human form), and the two forms of a cell are the same
 *    number (seconds against "D d HH:MM:SS", 0/1 against no/yes, ISO against human times);
 *  - the PDF shows the human cells of the link rows. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report.h"
#include "report/report_columns.h"
#include "topology.h"

#define S 1000LL
#define T0 1793491200000LL   /* 2026-11-01T00:00:00Z */
#define T1 (T0 + 2592000 * S) /* 30 days */

static const char topo_yaml[] =
    "vendors:\n"
    "  bsnl: { name: BSNL, contact: noc@bsnl.example }\n"
    "  airjaldi: { name: AirJaldi, contact: ops@airjaldi.example }\n"
    "sla_classes:\n"
    "  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, max_jitter_ms: 20,\n"
    "         min_outage_s: 0, restore_hours: { S1: 2, S2: 8 },\n"
    "         penalty: [[99.5, 0], [99.0, 5], [98.0, 10], [0, 20]] }\n"
    "  bhq: { availability: 99.0, max_latency_ms: 150, max_loss_pct: 2.0, min_outage_s: 60,\n"
    "         penalty: [[99.0, 0], [97.0, 10], [0, 25]] }\n"
    "nodes:\n"
    "  sdc: { tier: sdc, devices: [{ name: core1, addr: 10.0.0.1, snmp: { version: 2c, "
    "secret: s } }] }\n"
    "  jaipur:\n"
    "    tier: district\n"
    "    parent: sdc\n"
    "    devices: [{ name: rtr1, addr: 10.0.1.1, snmp: { version: 2c, secret: s } }]\n"
    "    uplinks:\n"
    "      - { circuit: JPR-MPLS-0042, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq,\n"
    "          monthly_charge: 100000, local: { device: rtr1, ifname: wan0 },\n"
    "          remote: { device: core1, ifname: jaipur } }\n"
    "  jaipur/sanganer:\n"
    "    tier: block\n"
    "    parent: jaipur\n"
    "    devices: [{ name: rtr1, addr: 10.0.11.1, snmp: { version: 2c, secret: s } }]\n"
    "    uplinks:\n"
    "      - { circuit: JPR-SNG-RF-3301, vendor: airjaldi, kind: radio, mbps: 8, sla: bhq,\n"
    "          monthly_charge: 20000, local: { device: rtr1, ifname: wan0 },\n"
    "          remote: { device: rtr1, ifname: sanganer } }\n"
    "services:\n"
    "  emitra: { kind: egov, endpoints: [{ node: sdc, addr: 10.0.0.20, tcp: [8080] }] }\n";
static const char secrets_yaml[] = "s: { community: public }\n";

/* The district link: a 3 h outage (restore breach, 99.58 %), one of 30 s, one still open; the
 * block link: a 30 s blip under its minimum, with a 699-byte root cause; probe percentiles for the district link only
 * (latency over its limit); emitra down 25 min. */
static rn_report_t *compute(rn_topology_t **topo)
{
    char err[512] = "";
    if (rn_topology_load_buffers("topo", (const uint8_t *)topo_yaml, strlen(topo_yaml),
                                 (const uint8_t *)secrets_yaml, strlen(secrets_yaml), topo, err,
                                 sizeof err))
        fail_msg("topology: %s", err);
    static char long_cause[700]; /* longer than any cell buffer: never cut in CSV or HTML */
    memset(long_cause, 'x', sizeof long_cause - 1);
    memcpy(long_cause, "radio down: ", 12);
    static rn_outage_rec_t o[] = {
        { .alarm_id = 1, .entity = "JPR-MPLS-0042", .circuit = "JPR-MPLS-0042",
          .root_cause = "fibre cut, \"Ajmer road\"", .start_ms = T0 + 1000 * S, .ended = true,
          .end_ms = T0 + 11800 * S },
        { .alarm_id = 2, .entity = "JPR-MPLS-0042", .circuit = "JPR-MPLS-0042",
          .root_cause = "link down", .start_ms = T0 + 90000 * S, .ended = true,
          .end_ms = T0 + 90030 * S },
        { .alarm_id = 3, .entity = "JPR-MPLS-0042", .circuit = "JPR-MPLS-0042",
          .root_cause = "link down", .start_ms = T1 - 100 * S },
        { .alarm_id = 4, .entity = "JPR-SNG-RF-3301", .circuit = "JPR-SNG-RF-3301",
          .root_cause = NULL, .start_ms = T0 + 5000 * S, .ended = true,
          .end_ms = T0 + 5030 * S },
    };
    o[3].root_cause = long_cause;
    static const rn_report_perf_t perf[] = {
        { .circuit = "JPR-MPLS-0042", .latency_ms = { true, 41.25, 95.5 },
          .loss_pct = { true, 0, 0.5 }, .jitter_ms = { true, 2.125, 7.75 } },
    };
    static const rn_report_svc_down_t down[] = { { "emitra", T0 + 400 * S, T0 + 1900 * S } };
    rn_report_input_t in = { .outages = o, .n_outages = 4, .perf = perf, .n_perf = 1,
                             .service_down = down, .n_service_down = 1, .now_ms = T1 };
    rn_report_t *r = NULL;
    assert_int_equal(rn_report_compute(*topo, &in, T0, T1, NULL, &r), 0);
    assert_int_equal(r->n_links, 2);
    return r;
}

static char *render_csv(const rn_report_t *r, const char *vendor)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(rn_report_csv(r, vendor, f), 0);
    fclose(f);
    return buf;
}

static char *render_html(const rn_report_t *r, const char *vendor)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(rn_report_html(r, vendor, f), 0);
    fclose(f);
    return buf;
}

/* The header line a CSV block of t must have. */
static void csv_keys(const rn_report_table_t *t, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < t->n_cols; i++) {
        if (t->cols[i].flags & RN_REPORT_COL_HTML_ONLY)
            continue;
        if (buf[0])
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, t->cols[i].key, len - strlen(buf) - 1);
    }
}

/* Splits a CSV line into fields (RFC 4180 quotes undone) in place; returns how many. */
static size_t csv_split(char *line, char **out, size_t max)
{
    size_t n = 0;
    char *w = line, *s = line;
    while (n < max) {
        out[n++] = w;
        if (*s == '"') {
            for (s++; *s; s++) {
                if (*s == '"' && s[1] == '"')
                    *w++ = *s++;
                else if (*s == '"')
                    break;
                else
                    *w++ = *s;
            }
            if (*s == '"')
                s++;
        } else {
            while (*s && *s != ',')
                *w++ = *s++;
        }
        if (*s != ',') {
            *w = '\0';
            break;
        }
        *w++ = '\0';
        s++;
        w = s;
    }
    return n;
}

/* The CSV line that starts with prefix (after a newline), copied; NULL if none. */
static char *csv_line(const char *csv, const char *prefix)
{
    char pat[256];
    snprintf(pat, sizeof pat, "\n%s", prefix);
    const char *p = strstr(csv, pat);
    if (!p)
        return NULL;
    p++;
    return strndup(p, strcspn(p, "\n"));
}

static const rn_report_table_t *const tables[] = { &rn_report_links_table,
                                                   &rn_report_outages_table,
                                                   &rn_report_vendors_table,
                                                   &rn_report_services_table };

/* Each CSV block's header line is its table's keys; the keys are unique in a table and
 * snake_case, and the table has a label for every column. */
static void test_csv_headers_are_the_keys(void **state)
{
    (void)state;
    rn_topology_t *t = NULL;
    rn_report_t *r = compute(&t);
    char *csv = render_csv(r, "bsnl");
    for (size_t k = 0; k < 4; k++) {
        const rn_report_table_t *tb = tables[k];
        char want[2048];
        csv_keys(tb, want, sizeof want);
        char *got = csv_line(csv, tb->cols[0].key);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
        for (size_t i = 0; i < tb->n_cols; i++) {
            assert_non_null(tb->cols[i].label);
            assert_int_equal(strspn(tb->cols[i].key, "abcdefghijklmnopqrstuvwxyz0123456789_"),
                             strlen(tb->cols[i].key));
            for (size_t j = 0; j < i; j++)
                assert_string_not_equal(tb->cols[i].key, tb->cols[j].key);
            /* only the links table has a presentation-only extra: the availability bar */
            assert_true(!(tb->cols[i].flags & RN_REPORT_COL_HTML_ONLY) ||
                        (tb == &rn_report_links_table &&
                         !strcmp(tb->cols[i].key, "availability_bar") && !tb->cols[i].get));
        }
    }
    free(csv);
    rn_report_free(r);
    rn_topology_free(t);
}

/* The <th> labels of the HTML table rows, in the order of the page: one string per header row,
 * labels joined by '|'. Returns how many header rows. */
static size_t html_heads(const char *html, char rows[][1024], size_t max)
{
    size_t n = 0;
    for (const char *p = html; n < max && (p = strstr(p, "<tr><th>")); n++) {
        const char *end = strstr(p, "</tr>");
        assert_non_null(end);
        rows[n][0] = '\0';
        bool first = true;
        for (const char *th = strstr(p, "<th>"); th && th < end; th = strstr(th, "<th>")) {
            th += 4;
            size_t l = (size_t)(strstr(th, "</th>") - th);
            if (!first)
                strncat(rows[n], "|", 1023 - strlen(rows[n]));
            first = false;
            strncat(rows[n], th, l < 1023 - strlen(rows[n]) ? l : 1023 - strlen(rows[n]));
        }
        p = end;
    }
    return n;
}

static void labels(const rn_report_table_t *t, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < t->n_cols; i++) {
        if (i)
            strncat(buf, "|", len - strlen(buf) - 1);
        strncat(buf, t->cols[i].label, len - strlen(buf) - 1);
    }
}

/* The HTML's tables are, in order: the vendors' summary, the services, then per vendor its
 * links, its totals and its outages; each with its table's labels (the bar's empty one too). */
static void test_html_headings_are_the_labels(void **state)
{
    (void)state;
    rn_topology_t *t = NULL;
    rn_report_t *r = compute(&t);
    char *html = render_html(r, NULL);
    static char got[16][1024];
    size_t n = html_heads(html, got, 16);
    const rn_report_table_t *want[] = {
        &rn_report_vendors_table, &rn_report_services_table,
        &rn_report_links_table, &rn_report_vendors_table, &rn_report_outages_table, /* airjaldi */
        &rn_report_links_table, &rn_report_vendors_table, &rn_report_outages_table, /* bsnl */
    };
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        char l[1024];
        labels(want[i], l, sizeof l);
        assert_string_equal(got[i], l);
    }
    free(html);
    rn_report_free(r);
    rn_topology_free(t);
}

/* The seconds of a human duration ("0:25:00", "30 d 00:00:00"). */
static double human_seconds(const char *s)
{
    long d = 0, h, m, sec;
    if (sscanf(s, "%ld d %ld:%ld:%ld", &d, &h, &m, &sec) == 4)
        return (double)(d * 86400 + h * 3600 + m * 60 + sec);
    assert_int_equal(sscanf(s, "%ld:%ld:%ld", &h, &m, &sec), 3);
    return (double)(h * 3600 + m * 60 + sec);
}

/* The machine and human forms of one cell say the same thing. */
static void same_fact(const rn_report_column_t *c, const char *csv, const char *human)
{
    if (!*csv) { /* no data */
        assert_string_equal(human, "-");
        return;
    }
    switch (c->type) {
    case RN_REPORT_COL_TEXT:
    case RN_REPORT_COL_COUNT:
    case RN_REPORT_COL_AVAIL:
    case RN_REPORT_COL_AMOUNT: assert_string_equal(csv, human); break;
    case RN_REPORT_COL_SECONDS:
        assert_true(fabs(strtod(csv, NULL) - human_seconds(human)) <= 0.5);
        break;
    case RN_REPORT_COL_LIMIT: assert_float_equal(strtod(csv, NULL), strtod(human, NULL), 1e-9);
        break;
    case RN_REPORT_COL_MEASURE:
        assert_true(fabs(strtod(csv, NULL) - strtod(human, NULL)) <= 0.005);
        break;
    case RN_REPORT_COL_FLAG:
        assert_string_equal(human, !strcmp(csv, "1") ? "yes" : "no");
        break;
    case RN_REPORT_COL_TIME: {
        char iso[32];
        snprintf(iso, sizeof iso, "%s", human);
        iso[10] = 'T';
        strcat(iso, "Z");
        assert_string_equal(csv, iso);
        break;
    }
    }
}

/* The <td> cells of the HTML row that starts with first_cell, text only (the bar's SVG and
 * the entities &quot; &amp; undone). Returns how many. */
static size_t html_cells(const char *html, const char *first_cells, char cells[][1024],
                         size_t max)
{
    const char *p = strstr(html, first_cells);
    assert_non_null(p);
    const char *end = strstr(p, "</tr>");
    size_t n = 0;
    for (const char *td = strstr(p, "<td"); td && td < end && n < max; td = strstr(td, "<td")) {
        td = strchr(td, '>') + 1;
        const char *close = strstr(td, "</td>");
        size_t w = 0;
        for (const char *s = td; s < close && w < 1023; s++) {
            if (!strncmp(s, "&quot;", 6)) {
                cells[n][w++] = '"';
                s += 5;
            } else if (!strncmp(s, "&amp;", 5)) {
                cells[n][w++] = '&';
                s += 4;
            } else if (!strncmp(s, "<svg", 4)) {
                s = strstr(s, "</svg>") + 5;
            } else {
                cells[n][w++] = *s;
            }
        }
        cells[n++][w] = '\0';
        td = close;
    }
    return n;
}

/* One row of table t in the three places: the CSV line (prefix), the HTML row (first cells)
 * and the table's own cells; then each CSV field against the HTML cell. */
static void check_row(const rn_report_table_t *t, const void *row, const char *csv,
                      const char *csv_prefix, const char *html, const char *html_prefix)
{
    char *line = csv_line(csv, csv_prefix);
    assert_non_null(line);
    char *fields[64];
    size_t nf = csv_split(line, fields, 64);
    static char cells[64][1024];
    size_t nh = html_cells(html, html_prefix, cells, 64);
    assert_int_equal(nh, t->n_cols); /* the HTML has every column, the bar too */
    size_t f = 0;
    for (size_t i = 0; i < t->n_cols; i++) {
        const rn_report_column_t *c = &t->cols[i];
        char mb[64], hb[64];
        const char *m = rn_report_cell(c, row, RN_REPORT_MEDIUM_CSV, mb, sizeof mb, NULL);
        const char *h = rn_report_cell(c, row, RN_REPORT_MEDIUM_HUMAN, hb, sizeof hb, NULL);
        if (c->flags & RN_REPORT_COL_HTML_ONLY) {
            assert_string_equal(cells[i], "");
            continue;
        }
        assert_true(f < nf);
        assert_string_equal(fields[f], m);
        assert_string_equal(cells[i], h);
        same_fact(c, fields[f], cells[i]);
        f++;
    }
    assert_int_equal(f, nf); /* and nothing more in the CSV */
    free(line);
}

static void test_same_values_in_csv_and_html(void **state)
{
    (void)state;
    rn_topology_t *t = NULL;
    rn_report_t *r = compute(&t);
    char *csv = render_csv(r, NULL), *html = render_html(r, NULL);
    const rn_report_link_t *L = &r->links[1];
    assert_string_equal(L->circuit, "JPR-MPLS-0042");
    /* what the rows must show (report.c's figures, worked by hand): 3 h + 30 s + 100 s down */
    assert_float_equal(L->downtime_s, 10800 + 30 + 100, 1e-9);
    assert_true(L->breach_restore && L->breach_latency && !L->breach_loss);
    assert_false(L->breach_availability);
    check_row(&rn_report_links_table, L, csv, "bsnl,jaipur,JPR-MPLS-0042,", html,
              "<tr><td>bsnl</td><td>jaipur</td>");
    check_row(&rn_report_links_table, &r->links[0], csv, "airjaldi,jaipur/sanganer,", html,
              "<tr><td>airjaldi</td><td>jaipur/sanganer</td>");
    rn_report_outage_row_t o = { L, &L->outages[0] };
    check_row(&rn_report_outages_table, &o, csv, "bsnl,JPR-MPLS-0042,2026-11-01T00:16:40Z,",
              html, "<tr><td>bsnl</td><td>JPR-MPLS-0042</td><td>2026-11-01 00:16:40</td>");
    o.outage = &L->outages[2]; /* the open one */
    check_row(&rn_report_outages_table, &o, csv, "bsnl,JPR-MPLS-0042,2026-11-30T23:58:20Z,",
              html, "<tr><td>bsnl</td><td>JPR-MPLS-0042</td><td>2026-11-30 23:58:20</td>");
    const rn_report_link_t *B = &r->links[0];
    o = (rn_report_outage_row_t){ B, &B->outages[0] };
    assert_int_equal(strlen(B->outages[0].root_cause), 699);
    check_row(&rn_report_outages_table, &o, csv, "airjaldi,JPR-SNG-RF-3301,", html,
              "<tr><td>airjaldi</td><td>JPR-SNG-RF-3301</td>");
    check_row(&rn_report_vendors_table, &r->vendors[1], csv, "bsnl,BSNL,", html,
              "<tr><td>bsnl</td><td>BSNL</td>");
    check_row(&rn_report_services_table, &r->services[0], csv, "emitra,", html,
              "<tr><td>emitra</td>");
    /* a few cells as a vendor reads them */
    assert_non_null(strstr(csv, "\nbsnl,jaipur,JPR-MPLS-0042,dhq,2592000.000,0.000,10930.000,"
                                "99.5783,99.500,0,3,3643.333,10800.000,7200.000,1,"
                                "41.250,95.500,80.000,1,0.000,0.500,1.000,0,2.125,7.750,20.000,0,"
                                "100000.00,0.00,0.00\n"));
    assert_non_null(strstr(html, "<td>30 d 00:00:00</td><td>0:00:00</td><td>3:02:10</td>"
                                 "<td>99.5783</td><td>99.5</td>"));
    assert_non_null(strstr(csv, "\"fibre cut, \"\"Ajmer road\"\"\""));
    free(csv);
    free(html);
    rn_report_free(r);
    rn_topology_free(t);
}

/* The PDF read back with pdftotext -layout: every label of every table, in the table's order on
 * each header line, and every human cell of the district link's row. */
static void test_pdf_shows_the_same_columns(void **state)
{
    (void)state;
    if (access("/usr/bin/pdftotext", X_OK) != 0)
        skip(); /* poppler-utils: a build dependency of the integration tests */
    rn_topology_t *t = NULL;
    rn_report_t *r = compute(&t);
    char pdf[] = "/tmp/rn-report-columns-XXXXXX", cmd[128];
    int fd = mkstemp(pdf);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rn_report_pdf(r, "bsnl", pdf), 0);
    snprintf(cmd, sizeof cmd, "pdftotext -layout %s -", pdf);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *text = calloc(1, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, p);
    assert_int_equal(pclose(p), 0);
    unlink(pdf);
    assert_true(n > 100);
    for (size_t k = 0; k < 4; k++) {
        const rn_report_table_t *tb = tables[k];
        for (size_t i = 0; i < tb->n_cols; i++) {
            if (tb->cols[i].flags & RN_REPORT_COL_HTML_ONLY)
                continue;
            assert_non_null(strstr(text, tb->cols[i].label));
        }
    }
    /* the links table's header lines: each label after the previous one on its line, unless it
     * opens a new band (which repeats Node and Circuit) */
    const rn_report_table_t *lt = &rn_report_links_table;
    const char *line = strstr(text, "Circuit"); /* the first band's header: the links come first */
    assert_non_null(line);
    while (line > text && line[-1] != '\n')
        line--;
    size_t bands = 0, seen = 0;
    while (line && seen < lt->n_cols) {
        const char *eol = strchr(line, '\n');
        const char *at = line;
        bands++;
        for (size_t i = seen; i < lt->n_cols; i++, seen = i) {
            const rn_report_column_t *c = &lt->cols[i];
            if (c->flags & RN_REPORT_COL_HTML_ONLY)
                continue;
            const char *q = strstr(at, c->label);
            if (!q || q > eol)
                break;
            at = q + strlen(c->label);
        }
        line = seen < lt->n_cols ? strstr(eol, "Node ") : NULL;
    }
    assert_int_equal(seen, lt->n_cols);
    assert_true(bands >= 2); /* 31 columns do not fit one A4 line */
    const rn_report_link_t *L = &r->links[1];
    for (size_t i = 0; i < lt->n_cols; i++) {
        char hb[64];
        const char *h =
            rn_report_cell(&lt->cols[i], L, RN_REPORT_MEDIUM_HUMAN, hb, sizeof hb, NULL);
        assert_non_null(strstr(text, h));
    }
    free(text);
    rn_report_free(r);
    rn_topology_free(t);
}

/* fontconfig (under pango) keeps its font cache for the life of the process: not our leak. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_headers_are_the_keys),
        cmocka_unit_test(test_html_headings_are_the_labels),
        cmocka_unit_test(test_same_values_in_csv_and_html),
        cmocka_unit_test(test_pdf_shows_the_same_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
