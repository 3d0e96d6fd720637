/* SLA report as PDF through cairo and pango (both already pulled in by librrd): A4 landscape,
 * a summary page, then per vendor its links (breaches in red), its outages and each link's
 * latency and loss graphs (the librrd PNGs of report_graph.c, side by side). Rows are drawn as
 * text in fixed columns; a new page starts when a page is full. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "report/report.h"

#define PAGE_W 842.0 /* A4 landscape, points */
#define PAGE_H 595.0
#define MARGIN 36.0
#define ROW_H 14.0

typedef struct {
    cairo_t *cr;
    PangoLayout *layout;
    double y;
} pdf_t;

static void text_at(pdf_t *p, double x, double y, const char *font, const char *s, bool red)
{
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_layout_set_font_description(p->layout, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(p->layout, s, -1);
    cairo_set_source_rgb(p->cr, red ? 0.8 : 0, 0, 0);
    cairo_move_to(p->cr, x, y);
    pango_cairo_show_layout(p->cr, p->layout);
}

static void need(pdf_t *p, double h)
{
    if (p->y + h > PAGE_H - MARGIN) {
        cairo_show_page(p->cr);
        p->y = MARGIN;
    }
}

static void line(pdf_t *p, const char *font, double h, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void line(pdf_t *p, const char *font, double h, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    need(p, h);
    text_at(p, MARGIN, p->y, font, buf, false);
    p->y += h;
}

/* One table row: cells at the x offsets given (n cells), red marks breached cells. */
static void row(pdf_t *p, const double *xs, const char *const *cells, const bool *red, size_t n,
                bool header)
{
    need(p, ROW_H);
    if (header) {
        cairo_set_source_rgb(p->cr, 0.87, 0.87, 0.87);
        cairo_rectangle(p->cr, MARGIN, p->y, PAGE_W - 2 * MARGIN, ROW_H);
        cairo_fill(p->cr);
    }
    for (size_t i = 0; i < n; i++)
        text_at(p, MARGIN + xs[i], p->y + 1, header ? "Sans Bold 6.5" : "Sans 7", cells[i],
                red && red[i]);
    p->y += ROW_H;
}

static void fmt_time(char *buf, size_t len, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void fmt_dur(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void fmt_pct(char *buf, size_t len, const rn_report_pct_t *v)
{
    if (v->have)
        snprintf(buf, len, "%.2f / %.2f", v->p50, v->p95);
    else
        snprintf(buf, len, "-");
}

typedef struct {
    const rn_report_png_t *png;
    size_t at;
} png_reader_t;

static cairo_status_t read_png(void *closure, unsigned char *data, unsigned int len)
{
    png_reader_t *r = closure;
    if (len > r->png->len - r->at)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->png->data + r->at, len);
    r->at += len;
    return CAIRO_STATUS_SUCCESS;
}

/* Decodes png; NULL if it cannot be. */
static cairo_surface_t *load_png(const rn_report_png_t *png)
{
    png_reader_t rd = { .png = png };
    cairo_surface_t *img = cairo_image_surface_create_from_png_stream(read_png, &rd);
    if (cairo_surface_status(img) == CAIRO_STATUS_SUCCESS &&
        cairo_image_surface_get_width(img) > 0)
        return img;
    cairo_surface_destroy(img);
    return NULL;
}

/* The height of img scaled to width w. */
static double scaled_h(cairo_surface_t *img, double w)
{
    return img ? cairo_image_surface_get_height(img) * w / cairo_image_surface_get_width(img) : 0;
}

/* Paints img (may be NULL) scaled to width w at (x, y). */
static void paint_at(pdf_t *p, cairo_surface_t *img, double x, double y, double w)
{
    if (!img)
        return;
    double k = w / cairo_image_surface_get_width(img);
    cairo_save(p->cr);
    cairo_translate(p->cr, x, y);
    cairo_scale(p->cr, k, k);
    cairo_set_source_surface(p->cr, img, 0, 0);
    cairo_paint(p->cr);
    cairo_restore(p->cr);
}

/* The latency and loss graphs of the vendor's links, two a row. */
static void graph_rows(pdf_t *p, const rn_report_t *r, const rn_report_vendor_t *v)
{
    const double w = (PAGE_W - 2 * MARGIN - 8) / 2, label_h = 11;
    bool any = false;
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0 || !L->latency_graph.data || !L->loss_graph.data)
            continue;
        cairo_surface_t *lat = load_png(&L->latency_graph), *loss = load_png(&L->loss_graph);
        double h = scaled_h(lat, w) > scaled_h(loss, w) ? scaled_h(lat, w) : scaled_h(loss, w);
        if (h > 0) {
            if (!any)
                line(p, "Sans Bold 10", 16, "Latency and loss (outages red, maintenance blue)");
            any = true;
            need(p, label_h + h);
            line(p, "Sans Bold 7", label_h, "%s  (%s)", L->circuit, L->node);
            paint_at(p, lat, MARGIN, p->y, w);
            paint_at(p, loss, MARGIN + w + 8, p->y, w);
            p->y += h + 6;
        }
        if (lat)
            cairo_surface_destroy(lat);
        if (loss)
            cairo_surface_destroy(loss);
    }
}

static void vendor_pages(pdf_t *p, const rn_report_t *r, const rn_report_vendor_t *v)
{
    static const double xs[] = { 0, 80, 175, 205, 290, 335, 385, 430, 480, 565, 650, 730 };
    static const char *const head[] = { "Node", "Circuit", "SLA", "Avail. % (target)",
                                        "Down", "Outages", "MTTR", "Longest",
                                        "Lat. ms p50/95", "Loss % p50/95",
                                        "Jit. ms p50/95", "Penalty (%)" };
    cairo_show_page(p->cr);
    p->y = MARGIN;
    line(p, "Sans Bold 14", 22, "%s  (%s)", v->display, v->contact);
    row(p, xs, head, NULL, 12, true);
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0)
            continue;
        char c[12][64];
        snprintf(c[0], 64, "%s", L->node);
        snprintf(c[1], 64, "%s", L->circuit);
        snprintf(c[2], 64, "%s", L->sla);
        snprintf(c[3], 64, "%.4f (%g)", L->availability_pct, L->target_pct);
        fmt_dur(c[4], 64, L->downtime_s);
        snprintf(c[5], 64, "%zu", L->n_outages);
        fmt_dur(c[6], 64, L->mttr_s);
        fmt_dur(c[7], 64, L->longest_s);
        fmt_pct(c[8], 64, &L->perf.latency_ms);
        fmt_pct(c[9], 64, &L->perf.loss_pct);
        fmt_pct(c[10], 64, &L->perf.jitter_ms);
        snprintf(c[11], 64, "%.2f (%g%%)", L->penalty_amount, L->penalty_pct);
        const char *cells[12];
        for (int k = 0; k < 12; k++)
            cells[k] = c[k];
        bool red[12] = { [3] = L->breach_availability, [6] = L->breach_restore,
                         [8] = L->breach_latency, [9] = L->breach_loss,
                         [10] = L->breach_jitter, [11] = L->penalty_amount > 0 };
        row(p, xs, cells, red, 12, false);
    }
    line(p, "Sans Bold 8", 18, "Total: %zu outages, downtime %.0f s, penalty %.2f of %.2f",
         v->n_outages, v->downtime_s, v->penalty_amount, v->charge);
    static const double ox[] = { 0, 110, 220, 330, 400, 470 };
    static const char *const ohead[] = { "Circuit", "Start (UTC)", "End (UTC)", "Duration",
                                         "Counted", "Root cause" };
    line(p, "Sans Bold 10", 16, "Outages");
    row(p, ox, ohead, NULL, 6, true);
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0)
            continue;
        for (size_t k = 0; k < L->n_listed; k++) {
            const rn_report_outage_t *o = &L->outages[k];
            char c[6][160];
            snprintf(c[0], 160, "%s", L->circuit);
            fmt_time(c[1], 160, o->start_ms);
            fmt_time(c[2], 160, o->end_ms);
            fmt_dur(c[3], 160, o->duration_s);
            snprintf(c[4], 160, "%s", o->counted ? "yes" : "no (short)");
            snprintf(c[5], 160, "%.150s", o->root_cause);
            const char *cells[6] = { c[0], c[1], c[2], c[3], c[4], c[5] };
            row(p, ox, cells, NULL, 6, false);
        }
    }
    graph_rows(p, r, v);
}

/* The departments' view on the summary page: each service's availability at its host (report.h),
 * in the full report and in each vendor's. */
static void service_rows(pdf_t *p, const rn_report_t *r)
{
    static const double xs[] = { 0, 90, 140, 230, 320, 390, 440, 510 };
    static const char *const head[] = { "Service", "Kind", "Host", "Availability %", "Downtime",
                                        "Outages", "Longest", "Maintenance" };
    if (!r->n_services)
        return;
    p->y += 10;
    line(p, "Sans Bold 10", 16, "Services (availability at the host; service down alarms, "
         "outside planned maintenance)");
    row(p, xs, head, NULL, 8, true);
    for (size_t i = 0; i < r->n_services; i++) {
        const rn_report_service_t *S = &r->services[i];
        char c[8][64];
        snprintf(c[0], 64, "%s", S->name);
        snprintf(c[1], 64, "%s", S->kind);
        snprintf(c[2], 64, "%s", S->host);
        snprintf(c[3], 64, "%.4f", S->availability_pct);
        fmt_dur(c[4], 64, S->downtime_s);
        snprintf(c[5], 64, "%zu", S->n_outages);
        fmt_dur(c[6], 64, S->longest_s);
        fmt_dur(c[7], 64, S->maintenance_s);
        const char *cells[8] = { c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7] };
        bool red[8] = { [3] = S->n_outages > 0 };
        row(p, xs, cells, red, 8, false);
    }
}

int rn_report_pdf(const rn_report_t *r, const char *vendor, const char *path)
{
    cairo_surface_t *s = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return -EIO;
    }
    pdf_t p = { .cr = cairo_create(s), .y = MARGIN };
    p.layout = pango_cairo_create_layout(p.cr);
    char from[32], to[32];
    fmt_time(from, sizeof from, r->from_ms);
    fmt_time(to, sizeof to, r->to_ms);
    line(&p, "Sans Bold 18", 28, "RajNet SLA report");
    line(&p, "Sans 10", 16, "Period %s to %s UTC", from, to);
    line(&p, "Sans 8", 20, "Availability = (period - planned maintenance - downtime) / (period - "
         "planned maintenance); only outages whose root cause is the link are charged.");
    static const double xs[] = { 0, 180, 240, 320, 390, 480, 570 };
    static const char *const head[] = { "Vendor", "Links", "In breach", "Outages", "Downtime s",
                                        "Charge", "Penalty" };
    row(&p, xs, head, NULL, 7, true);
    for (size_t i = 0; i < r->n_vendors; i++) {
        const rn_report_vendor_t *v = &r->vendors[i];
        if (vendor && strcmp(vendor, v->name) != 0)
            continue;
        char c[7][64];
        snprintf(c[0], 64, "%s", v->display);
        snprintf(c[1], 64, "%zu", v->n_links);
        snprintf(c[2], 64, "%zu", v->n_breached);
        snprintf(c[3], 64, "%zu", v->n_outages);
        snprintf(c[4], 64, "%.0f", v->downtime_s);
        snprintf(c[5], 64, "%.2f", v->charge);
        snprintf(c[6], 64, "%.2f", v->penalty_amount);
        const char *cells[7] = { c[0], c[1], c[2], c[3], c[4], c[5], c[6] };
        bool red[7] = { [6] = v->penalty_amount > 0 };
        row(&p, xs, cells, red, 7, false);
    }
    service_rows(&p, r);
    for (size_t i = 0; i < r->n_vendors; i++)
        if (!vendor || !strcmp(vendor, r->vendors[i].name))
            vendor_pages(&p, r, &r->vendors[i]);
    g_object_unref(p.layout);
    cairo_destroy(p.cr);
    cairo_surface_finish(s);
    int rc = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS ? 0 : -EIO;
    cairo_surface_destroy(s);
    return rc;
}
