/* SLA report as one self-contained, print-ready HTML page (A4, page break per vendor): the
 * vendors' totals and the services, then per vendor its links (breaches in red), its totals, the
 * outages charged to it and each link's latency and loss graphs (librrd PNGs, report_graph.c)
 * embedded as data: URIs, so the page is one file that can be mailed or printed as it is. The
 * tables' columns are those of report_columns.c, in human form; the links table adds its one
 * HTML-only extra there, an inline SVG bar of availability against the target. */
#include <errno.h>
#include <string.h>

#include "report/report.h"
#include "report/report_columns.h"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* The header row of t: its labels, the HTML-only extras included. */
static void th_row(FILE *f, const rn_report_table_t *t)
{
    fputs("<tr>", f);
    for (size_t i = 0; i < t->n_cols; i++) {
        fputs("<th>", f);
        esc(f, t->cols[i].label);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
}

/* An 80x10 bar: availability from (target - 2%) to 100%, the target as a tick, red when the
 * link is below its target (report.c's breach_availability). */
static void bar(FILE *f, const rn_report_link_t *L)
{
    double lo = L->target_pct - 2.0, avail = L->availability_pct;
    double x = avail <= lo ? 0 : (avail - lo) / (100.0 - lo) * 80.0;
    double tx = (L->target_pct - lo) / (100.0 - lo) * 80.0;
    fprintf(f, "<svg width=80 height=10><rect width=80 height=10 fill='#eee'/>"
               "<rect width='%.1f' height=10 fill='%s'/><line x1='%.1f' x2='%.1f' y1=0 y2=10 "
               "stroke='#000'/></svg>", x, L->breach_availability ? "#c33" : "#3a3", tx, tx);
}

/* One row of t; the links table's bar is its only HTML-only extra. */
static void td_row(FILE *f, const rn_report_table_t *t, const void *row)
{
    char buf[64];
    fputs("<tr>", f);
    for (size_t i = 0; i < t->n_cols; i++) {
        const rn_report_column_t *c = &t->cols[i];
        if (c->flags & RN_REPORT_COL_HTML_ONLY) {
            fputs("<td>", f);
            if (t == &rn_report_links_table)
                bar(f, row);
            fputs("</td>", f);
            continue;
        }
        bool bad;
        const char *cell = rn_report_cell(c, row, RN_REPORT_MEDIUM_HUMAN, buf, sizeof buf, &bad);
        fputs(bad ? "<td class=bad>" : "<td>", f);
        esc(f, cell);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
}

/* Writes a PNG as a base64 data: URI (RFC 4648 alphabet, padded). */
static void data_uri(FILE *f, const rn_report_png_t *png)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *d = png->data;
    fputs("data:image/png;base64,", f);
    for (size_t i = 0; i < png->len; i += 3) {
        size_t left = png->len - i;
        unsigned v = (unsigned)d[i] << 16 | (left > 1 ? (unsigned)d[i + 1] << 8 : 0) |
                     (left > 2 ? d[i + 2] : 0);
        char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
                      left > 1 ? b64[v >> 6 & 63] : '=', left > 2 ? b64[v & 63] : '=' };
        fwrite(q, 1, 4, f);
    }
}

/* The latency and loss graphs of the vendor's links that have them. */
static void graphs(FILE *f, const rn_report_t *r, const rn_report_vendor_t *v)
{
    bool any = false;
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0 || !L->latency_graph.data || !L->loss_graph.data)
            continue;
        if (!any)
            fputs("<h3>Latency and loss (outages red, maintenance blue)</h3>\n", f);
        any = true;
        fputs("<div class=graphs><h4>", f);
        esc(f, L->circuit);
        fputs(" <small>", f);
        esc(f, L->node);
        fputs("</small></h4><img alt='latency of ", f);
        esc(f, L->circuit);
        fputs("' src='", f);
        data_uri(f, &L->latency_graph);
        fputs("'><img alt='loss of ", f);
        esc(f, L->circuit);
        fputs("' src='", f);
        data_uri(f, &L->loss_graph);
        fputs("'></div>\n", f);
    }
}

/* One vendor: its links, its totals, the outages charged to it and its links' graphs. */
static void vendor_section(FILE *f, const rn_report_t *r, const rn_report_vendor_t *v)
{
    fputs("<section class=vendor><h2>", f);
    esc(f, v->display);
    fputs(" <small>", f);
    esc(f, v->contact);
    fputs("</small></h2>\n<table class=links>", f);
    th_row(f, &rn_report_links_table);
    for (size_t i = 0; i < r->n_links; i++)
        if (!strcmp(r->links[i].vendor, v->name))
            td_row(f, &rn_report_links_table, &r->links[i]);
    fputs("</table>\n<table class=total>", f);
    th_row(f, &rn_report_vendors_table);
    td_row(f, &rn_report_vendors_table, v);
    fputs("</table>\n<h3>Outages charged to this vendor</h3>\n<table>", f);
    th_row(f, &rn_report_outages_table);
    size_t listed = 0;
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0)
            continue;
        for (size_t k = 0; k < L->n_listed; k++, listed++)
            td_row(f, &rn_report_outages_table, &(rn_report_outage_row_t){ L, &L->outages[k] });
    }
    if (!listed)
        fprintf(f, "<tr><td colspan=%zu>None.</td></tr>\n", rn_report_outages_table.n_cols);
    fputs("</table>\n", f);
    graphs(f, r, v);
    fputs("</section>\n", f);
}

/* The departments' view beside the links: each service's availability at its host this period
 * (report.h), in the full report and in each vendor's. */
static void services_table(FILE *f, const rn_report_t *r)
{
    if (!r->n_services)
        return;
    fputs("<h2>Services</h2>\n<p>Availability of each service at its host: downtime is its root "
          "\"service down\" alarms, outside planned maintenance on the service or its host."
          "</p>\n<table>", f);
    th_row(f, &rn_report_services_table);
    for (size_t i = 0; i < r->n_services; i++)
        td_row(f, &rn_report_services_table, &r->services[i]);
    fputs("</table>\n", f);
}

int rn_report_html(const rn_report_t *r, const char *vendor, FILE *f)
{
    char from[32], to[32];
    rn_report_time(r->from_ms, RN_REPORT_MEDIUM_HUMAN, from, sizeof from);
    rn_report_time(r->to_ms, RN_REPORT_MEDIUM_HUMAN, to, sizeof to);
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>RajNet SLA report"
          "</title>\n<style>@page{size:A4 landscape;margin:12mm}body{font:11px sans-serif}"
          "table{border-collapse:collapse;width:100%;margin-bottom:8px}th,td{border:1px solid "
          "#999;padding:2px 4px;text-align:left}th{background:#ddd}.bad{color:#c00;"
          "font-weight:bold}table.links{font-size:9px}table.total{font-weight:bold}"
          "section.vendor{page-break-before:always}"
          ".graphs{break-inside:avoid;page-break-inside:avoid}.graphs h4{margin:6px 0 2px}"
          ".graphs img{width:49%;margin-right:1%}"
          "</style></head><body>\n<h1>RajNet SLA report</h1>\n<p>Period ", f);
    fprintf(f, "%s to %s", from, to);
    fputs(" UTC. Availability = (period − planned maintenance − downtime) / (period − planned "
          "maintenance). Downtime counts only outages whose root cause is the link itself; "
          "outages inside planned maintenance are excluded.</p>\n<h2>Summary</h2>\n<table>", f);
    th_row(f, &rn_report_vendors_table);
    for (size_t i = 0; i < r->n_vendors; i++)
        if (!vendor || !strcmp(vendor, r->vendors[i].name))
            td_row(f, &rn_report_vendors_table, &r->vendors[i]);
    fputs("</table>\n", f);
    services_table(f, r);
    for (size_t i = 0; i < r->n_vendors; i++)
        if (!vendor || !strcmp(vendor, r->vendors[i].name))
            vendor_section(f, r, &r->vendors[i]);
    fputs("</body></html>\n", f);
    return ferror(f) ? -EIO : 0;
}
