/* SLA report as one self-contained, print-ready HTML page (A4, page break per vendor): a
 * summary table of vendors, then per vendor a table of links (breaches in red) with an inline
 * SVG bar of each link's availability against its target, the list of outages, and each link's
 * latency and loss graphs (librrd PNGs, report_graph.c) embedded as data: URIs, so the page is
 * one file that can be mailed or printed as it is. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "report/report.h"

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

static void when(FILE *f, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    fputs(buf, f);
}

static void dur(FILE *f, double s)
{
    long t = (long)(s + 0.5);
    fprintf(f, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void metric(FILE *f, const rn_report_pct_t *p, double limit, bool breach)
{
    if (!p->have) {
        fputs("<td>–</td>", f);
        return;
    }
    fprintf(f, "<td%s>%.2f / %.2f <small>(≤ %g)</small></td>", breach ? " class=bad" : "",
            p->p50, p->p95, limit);
}

/* A 160×14 bar: availability from (target - 2%) to 100%, the target as a tick. */
static void bar(FILE *f, double avail, double target)
{
    double lo = target - 2.0;
    double x = avail <= lo ? 0 : (avail - lo) / (100.0 - lo) * 160.0;
    double tx = (target - lo) / (100.0 - lo) * 160.0;
    fprintf(f, "<svg width=160 height=14><rect width=160 height=14 fill='#eee'/>"
               "<rect width='%.1f' height=14 fill='%s'/><line x1='%.1f' x2='%.1f' y1=0 y2=14 "
               "stroke='#000'/></svg>", x, avail < target ? "#c33" : "#3a3", tx, tx);
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

static void vendor_section(FILE *f, const rn_report_t *r, const rn_report_vendor_t *v)
{
    fputs("<section class=vendor><h2>", f);
    esc(f, v->display);
    fputs(" <small>", f);
    esc(f, v->contact);
    fputs("</small></h2>\n<table><tr><th>Node</th><th>Circuit</th><th>SLA</th>"
          "<th>Availability %</th><th></th><th>Downtime</th><th>Outages</th><th>MTTR</th>"
          "<th>Longest</th><th>Latency ms p50/p95</th><th>Loss % p50/p95</th>"
          "<th>Jitter ms p50/p95</th><th>Penalty</th></tr>\n", f);
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0)
            continue;
        fputs("<tr><td>", f);
        esc(f, L->node);
        fputs("</td><td>", f);
        esc(f, L->circuit);
        fputs("</td><td>", f);
        esc(f, L->sla);
        fprintf(f, "</td><td%s>%.4f <small>(≥ %g)</small></td><td>",
                L->breach_availability ? " class=bad" : "", L->availability_pct, L->target_pct);
        bar(f, L->availability_pct, L->target_pct);
        fputs("</td><td>", f);
        dur(f, L->downtime_s);
        fprintf(f, "</td><td>%zu</td><td%s>", L->n_outages, L->breach_restore ? " class=bad" : "");
        dur(f, L->mttr_s);
        fputs("</td><td>", f);
        dur(f, L->longest_s);
        fputs("</td>", f);
        metric(f, &L->perf.latency_ms, L->max_latency_ms, L->breach_latency);
        metric(f, &L->perf.loss_pct, L->max_loss_pct, L->breach_loss);
        metric(f, &L->perf.jitter_ms, L->max_jitter_ms, L->breach_jitter);
        fprintf(f, "<td>%.2f (%g%% of %.2f)</td></tr>\n", L->penalty_amount, L->penalty_pct,
                L->monthly_charge);
    }
    fprintf(f, "<tr class=total><td colspan=5>Total</td><td>");
    dur(f, v->downtime_s);
    fprintf(f, "</td><td>%zu</td><td colspan=5></td><td>%.2f</td></tr></table>\n",
            v->n_outages, v->penalty_amount);
    fputs("<h3>Outages charged to this vendor</h3>\n<table><tr><th>Circuit</th><th>Start (UTC)"
          "</th><th>End (UTC)</th><th>Duration</th><th>Counted</th><th>Root cause</th></tr>\n",
          f);
    size_t listed = 0;
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0)
            continue;
        for (size_t k = 0; k < L->n_listed; k++, listed++) {
            const rn_report_outage_t *o = &L->outages[k];
            fputs("<tr><td>", f);
            esc(f, L->circuit);
            fputs("</td><td>", f);
            when(f, o->start_ms);
            fputs("</td><td>", f);
            if (o->open)
                fputs("(open) ", f);
            when(f, o->end_ms);
            fputs("</td><td>", f);
            dur(f, o->duration_s);
            fprintf(f, "</td><td>%s</td><td>", o->counted ? "yes" : "no (below minimum)");
            esc(f, o->root_cause);
            fputs("</td></tr>\n", f);
        }
    }
    if (!listed)
        fputs("<tr><td colspan=6>None.</td></tr>\n", f);
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
          "</p>\n<table><tr><th>Service</th><th>Kind</th><th>Host</th><th>Availability %</th>"
          "<th>Downtime</th><th>Outages</th><th>Longest</th><th>Maintenance</th></tr>\n", f);
    for (size_t i = 0; i < r->n_services; i++) {
        const rn_report_service_t *S = &r->services[i];
        fputs("<tr><td>", f);
        esc(f, S->name);
        fputs("</td><td>", f);
        esc(f, S->kind);
        fputs("</td><td>", f);
        esc(f, S->host);
        fprintf(f, "</td><td%s>%.4f</td><td>", S->n_outages ? " class=bad" : "",
                S->availability_pct);
        dur(f, S->downtime_s);
        fprintf(f, "</td><td>%zu</td><td>", S->n_outages);
        dur(f, S->longest_s);
        fputs("</td><td>", f);
        dur(f, S->maintenance_s);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

int rn_report_html(const rn_report_t *r, const char *vendor, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>RajNet SLA report"
          "</title>\n<style>@page{size:A4 landscape;margin:12mm}body{font:11px sans-serif}"
          "table{border-collapse:collapse;width:100%;margin-bottom:8px}th,td{border:1px solid "
          "#999;padding:2px 4px;text-align:left}th{background:#ddd}.bad{color:#c00;"
          "font-weight:bold}.total{font-weight:bold}section.vendor{page-break-before:always}"
          ".graphs{break-inside:avoid;page-break-inside:avoid}.graphs h4{margin:6px 0 2px}"
          ".graphs img{width:49%;margin-right:1%}"
          "</style></head><body>\n<h1>RajNet SLA report</h1>\n<p>Period ", f);
    when(f, r->from_ms);
    fputs(" to ", f);
    when(f, r->to_ms);
    fputs(" UTC. Availability = (period − planned maintenance − downtime) / (period − planned "
          "maintenance). Downtime counts only outages whose root cause is the link itself; "
          "outages inside planned maintenance are excluded.</p>\n<h2>Summary</h2>\n<table><tr>"
          "<th>Vendor</th><th>Links</th><th>Links in breach</th><th>Outages</th><th>Downtime"
          "</th><th>Charge</th><th>Penalty</th></tr>\n", f);
    for (size_t i = 0; i < r->n_vendors; i++) {
        const rn_report_vendor_t *v = &r->vendors[i];
        if (vendor && strcmp(vendor, v->name) != 0)
            continue;
        fputs("<tr><td>", f);
        esc(f, v->display);
        fprintf(f, "</td><td>%zu</td><td>%zu</td><td>%zu</td><td>", v->n_links, v->n_breached,
                v->n_outages);
        dur(f, v->downtime_s);
        fprintf(f, "</td><td>%.2f</td><td>%.2f</td></tr>\n", v->charge, v->penalty_amount);
    }
    fputs("</table>\n", f);
    services_table(f, r);
    for (size_t i = 0; i < r->n_vendors; i++)
        if (!vendor || !strcmp(vendor, r->vendors[i].name))
            vendor_section(f, r, &r->vendors[i]);
    fputs("</body></html>\n", f);
    return ferror(f) ? -EIO : 0;
}
