/* SLA report as PDF through cairo and pango (both already pulled in by librrd): A4 landscape,
 * a summary page (vendors' totals, services), then per vendor its links (breaches in red), its
 * totals, its outages and each link's latency and loss graphs (the librrd PNGs of
 * report_graph.c, side by side). The tables' columns are those of report_columns.c in human
 * form; each column is as wide as its widest cell, and a table wider than the page is printed in
 * bands that repeat the node and circuit. A new page starts when a page is full, with the
 * table's header again. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/report_columns.h"

#define PAGE_W 842.0 /* A4 landscape, points */
#define PAGE_H 595.0
#define MARGIN 36.0
#define ROW_H 14.0

typedef struct {
    cairo_t *cr;
    PangoLayout *layout;
    double y;
} pdf_t;

/* Draws s at (x, y); w > 0 ellipsizes it to that width. */
static void text_at(pdf_t *p, double x, double y, const char *font, const char *s, bool red,
                    double w)
{
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_layout_set_font_description(p->layout, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(p->layout, w > 0 ? (int)(w * PANGO_SCALE) : -1);
    pango_layout_set_ellipsize(p->layout, w > 0 ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
    pango_layout_set_text(p->layout, s, -1);
    cairo_set_source_rgb(p->cr, red ? 0.8 : 0, 0, 0);
    cairo_move_to(p->cr, x, y);
    pango_cairo_show_layout(p->cr, p->layout);
}

/* The width of s in font, points. */
static double text_w(pdf_t *p, const char *font, const char *s)
{
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_layout_set_font_description(p->layout, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(p->layout, -1);
    pango_layout_set_ellipsize(p->layout, PANGO_ELLIPSIZE_NONE);
    pango_layout_set_text(p->layout, s, -1);
    int w, h;
    pango_layout_get_size(p->layout, &w, &h);
    return (double)w / PANGO_SCALE;
}

/* Whether a row of height h fits on the page. */
static bool fits(const pdf_t *p, double h)
{
    return p->y + h <= PAGE_H - MARGIN;
}

/* Starts a new page unless a row of height h fits on this one. */
static void need(pdf_t *p, double h)
{
    if (!fits(p, h)) {
        cairo_show_page(p->cr);
        p->y = MARGIN;
    }
}

/* One line of text at the left margin, h high (on a new page if it does not fit). */
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
    text_at(p, MARGIN, p->y, font, buf, false, 0);
    p->y += h;
}

/* ---------------------------------------------------------------- tables */

#define HEAD_FONT "Sans Bold 6"
#define CELL_FONT "Sans 6.5"
#define CELL_PAD 5.0
#define CELL_MAX 300.0 /* a wider cell (a root cause) is cut, unless last in its band */
#define MAX_COLS 64

/* A band of a table: the columns it draws (indexes into the table), in the table's order. */
typedef struct {
    size_t col[MAX_COLS];
    size_t n;
} band_t;

/* The header row of a band, grey. */
static void band_header(pdf_t *p, const rn_report_table_t *t, const band_t *b, const double *w)
{
    need(p, 2 * ROW_H);
    cairo_set_source_rgb(p->cr, 0.87, 0.87, 0.87);
    cairo_rectangle(p->cr, MARGIN, p->y, PAGE_W - 2 * MARGIN, ROW_H);
    cairo_fill(p->cr);
    double x = MARGIN;
    for (size_t k = 0; k < b->n; k++) {
        text_at(p, x, p->y + 1, HEAD_FONT, t->cols[b->col[k]].label, false, 0);
        x += w[b->col[k]];
    }
    p->y += ROW_H;
}

/* One band of t over its rows; the header again on each new page. */
static void band_rows(pdf_t *p, const rn_report_table_t *t, const band_t *b, const double *w,
                      const void *const *rows, size_t n)
{
    char buf[64];
    band_header(p, t, b, w);
    for (size_t i = 0; i < n; i++) {
        if (!fits(p, ROW_H)) {
            need(p, 2 * ROW_H);
            band_header(p, t, b, w);
        }
        double x = MARGIN;
        for (size_t k = 0; k < b->n; k++) {
            const rn_report_column_t *c = &t->cols[b->col[k]];
            bool bad;
            const char *cell =
                rn_report_cell(c, rows[i], RN_REPORT_MEDIUM_HUMAN, buf, sizeof buf, &bad);
            /* 1 pt of the padding as slack, so a cell as wide as measured is never cut; the
             * band's last cell (a long root cause) may run to the margin */
            double cw = k + 1 == b->n ? PAGE_W - MARGIN - x : w[b->col[k]] - CELL_PAD + 1;
            text_at(p, x, p->y + 1, CELL_FONT, cell, bad, cw);
            x += w[b->col[k]];
        }
        p->y += ROW_H;
    }
}

/* Splits t's columns (widths w) into bands no wider than limit, each after the first opening
 * with the REPEAT columns. Returns how many bands (at most max; the rest are dropped). */
static size_t make_bands(const rn_report_table_t *t, const double *w, size_t nc, double limit,
                         band_t *bands, size_t max)
{
    size_t nb = 0, next = 0;
    while (next < nc && nb < max) {
        band_t *b = &bands[nb];
        double used = 0;
        b->n = 0;
        for (size_t i = 0; nb && i < nc; i++)
            if (t->cols[i].flags & RN_REPORT_COL_REPEAT) {
                b->col[b->n++] = i;
                used += w[i];
            }
        size_t taken = 0;
        for (; next < nc; next++) {
            const rn_report_column_t *c = &t->cols[next];
            if ((c->flags & RN_REPORT_COL_HTML_ONLY) ||
                (nb && (c->flags & RN_REPORT_COL_REPEAT)))
                continue;
            if (taken && used + w[next] > limit)
                break;
            b->col[b->n++] = next;
            used += w[next];
            taken++;
        }
        if (!taken)
            break; /* only repeated columns were left */
        nb++;
    }
    return nb;
}

#define MAX_BANDS 8

/* Table t over rows (the table's row type): each column as wide as its widest cell, in bands of
 * the columns that fit the page, each band after the first repeating t's REPEAT columns (see
 * report_columns.h), the bands as even as their number allows. HTML-only extras are skipped. */
static void table(pdf_t *p, const rn_report_table_t *t, const void *const *rows, size_t n)
{
    double w[MAX_COLS];
    char buf[64];
    size_t nc = t->n_cols < MAX_COLS ? t->n_cols : MAX_COLS;
    for (size_t i = 0; i < nc; i++) {
        const rn_report_column_t *c = &t->cols[i];
        w[i] = text_w(p, HEAD_FONT, c->label);
        for (size_t r = 0; r < n; r++) {
            const char *cell =
                rn_report_cell(c, rows[r], RN_REPORT_MEDIUM_HUMAN, buf, sizeof buf, NULL);
            double cw = text_w(p, CELL_FONT, cell);
            w[i] = cw > w[i] ? cw : w[i];
        }
        w[i] = (w[i] < CELL_MAX ? w[i] : CELL_MAX) + CELL_PAD;
    }
    band_t b[MAX_BANDS];
    double limit = PAGE_W - 2 * MARGIN;
    size_t nb = make_bands(t, w, nc, limit, b, MAX_BANDS);
    /* narrow the limit while the count holds, so the last band is not a single column */
    while (nb < MAX_BANDS && limit > 100 && make_bands(t, w, nc, limit - 10, b, MAX_BANDS) == nb)
        limit -= 10;
    nb = make_bands(t, w, nc, limit, b, MAX_BANDS);
    for (size_t i = 0; i < nb; i++) {
        if (i)
            p->y += 4;
        band_rows(p, t, &b[i], w, rows, n);
    }
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

/* One vendor's pages: its links, its totals, the outages charged to it and its links' graphs.
 * Returns 0 or -ENOMEM. */
static int vendor_pages(pdf_t *p, const rn_report_t *r, const rn_report_vendor_t *v)
{
    size_t n_links = 0, n_out = 0;
    for (size_t i = 0; i < r->n_links; i++)
        if (!strcmp(r->links[i].vendor, v->name)) {
            n_links++;
            n_out += r->links[i].n_listed;
        }
    const void **links = calloc(n_links + 1, sizeof *links);
    const void **outs = calloc(n_out + 1, sizeof *outs);
    rn_report_outage_row_t *orows = calloc(n_out + 1, sizeof *orows);
    if (!links || !outs || !orows) {
        free(links);
        free(outs);
        free(orows);
        return -ENOMEM;
    }
    size_t nl = 0, no = 0;
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (strcmp(L->vendor, v->name) != 0)
            continue;
        links[nl++] = L;
        for (size_t k = 0; k < L->n_listed; k++, no++) {
            orows[no] = (rn_report_outage_row_t){ L, &L->outages[k] };
            outs[no] = &orows[no];
        }
    }
    cairo_show_page(p->cr);
    p->y = MARGIN;
    line(p, "Sans Bold 14", 22, "%s  (%s)", v->display, v->contact);
    table(p, &rn_report_links_table, links, nl);
    p->y += 6;
    table(p, &rn_report_vendors_table, (const void *[]){ v }, 1);
    p->y += 6;
    line(p, "Sans Bold 10", 16, "Outages charged to this vendor");
    table(p, &rn_report_outages_table, outs, no);
    if (!no)
        line(p, "Sans 7", ROW_H, "None.");
    graph_rows(p, r, v);
    free(links);
    free(outs);
    free(orows);
    return 0;
}

/* The departments' view on the summary page: each service's availability at its host (report.h),
 * in the full report and in each vendor's. Returns 0 or -ENOMEM. */
static int service_rows(pdf_t *p, const rn_report_t *r)
{
    if (!r->n_services)
        return 0;
    const void **rows = calloc(r->n_services, sizeof *rows);
    if (!rows)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_services; i++)
        rows[i] = &r->services[i];
    p->y += 10;
    line(p, "Sans Bold 10", 16, "Services (availability at the host; service down alarms, "
         "outside planned maintenance)");
    table(p, &rn_report_services_table, rows, r->n_services);
    free(rows);
    return 0;
}

/* The summary page's vendors and services, then each vendor's pages. Returns 0 or -ENOMEM. */
static int pages(pdf_t *p, const rn_report_t *r, const char *vendor)
{
    const void **rows = calloc(r->n_vendors + 1, sizeof *rows);
    if (!rows)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < r->n_vendors; i++)
        if (!vendor || !strcmp(vendor, r->vendors[i].name))
            rows[n++] = &r->vendors[i];
    table(p, &rn_report_vendors_table, rows, n);
    int rc = service_rows(p, r);
    for (size_t i = 0; i < n && !rc; i++)
        rc = vendor_pages(p, r, rows[i]);
    free(rows);
    return rc;
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
    rn_report_time(r->from_ms, RN_REPORT_MEDIUM_HUMAN, from, sizeof from);
    rn_report_time(r->to_ms, RN_REPORT_MEDIUM_HUMAN, to, sizeof to);
    line(&p, "Sans Bold 18", 28, "RajNet SLA report");
    line(&p, "Sans 10", 16, "Period %s to %s UTC", from, to);
    line(&p, "Sans 8", 20, "Availability = (period - planned maintenance - downtime) / (period - "
         "planned maintenance); only outages whose root cause is the link are charged.");
    int rc = pages(&p, r, vendor);
    g_object_unref(p.layout);
    cairo_destroy(p.cr);
    cairo_surface_finish(s);
    if (!rc && cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        rc = -EIO;
    cairo_surface_destroy(s);
    return rc;
}
