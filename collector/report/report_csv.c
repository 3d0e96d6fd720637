/* SLA report as CSV: one file per vendor. Blocks, each a header line and its rows, separated by
 * a blank line: the links, their outages, the vendors' totals and, when the topology has
 * services, the services. The columns are the tables of report_columns.c (keys as headers),
 * in machine form: times UTC ISO 8601, durations in seconds; fields as csv.h writes them. */
#include <errno.h>
#include <string.h>

#include "report/csv.h"
#include "report/report.h"
#include "report/report_columns.h"

/* The header line of t: its keys, without the HTML-only extras. */
static void header(FILE *f, const rn_report_table_t *t)
{
    bool first = true;
    for (size_t i = 0; i < t->n_cols; i++) {
        if (t->cols[i].flags & RN_REPORT_COL_HTML_ONLY)
            continue;
        if (!first)
            fputc(',', f);
        first = false;
        fputs(t->cols[i].key, f);
    }
    fputc('\n', f);
}

/* One row of t. */
static void row(FILE *f, const rn_report_table_t *t, const void *r)
{
    char buf[64];
    bool first = true;
    for (size_t i = 0; i < t->n_cols; i++) {
        const rn_report_column_t *c = &t->cols[i];
        if (c->flags & RN_REPORT_COL_HTML_ONLY)
            continue;
        if (!first)
            fputc(',', f);
        first = false;
        const char *cell = rn_report_cell(c, r, RN_REPORT_MEDIUM_CSV, buf, sizeof buf, NULL);
        if (c->type == RN_REPORT_COL_TEXT)
            rn_csv_field(f, cell);
        else
            fputs(cell, f); /* numbers and times never need quoting */
    }
    fputc('\n', f);
}

int rn_report_csv(const rn_report_t *r, const char *vendor, FILE *f)
{
    char from[32], to[32];
    rn_report_time(r->from_ms, RN_REPORT_MEDIUM_CSV, from, sizeof from);
    rn_report_time(r->to_ms, RN_REPORT_MEDIUM_CSV, to, sizeof to);
    fprintf(f, "# RajNet SLA report,%s,%s\n", from, to);
    header(f, &rn_report_links_table);
    for (size_t i = 0; i < r->n_links; i++)
        if (!vendor || !strcmp(vendor, r->links[i].vendor))
            row(f, &rn_report_links_table, &r->links[i]);
    fputc('\n', f);
    header(f, &rn_report_outages_table);
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (vendor && strcmp(vendor, L->vendor) != 0)
            continue;
        for (size_t k = 0; k < L->n_listed; k++)
            row(f, &rn_report_outages_table, &(rn_report_outage_row_t){ L, &L->outages[k] });
    }
    fputc('\n', f);
    header(f, &rn_report_vendors_table);
    for (size_t i = 0; i < r->n_vendors; i++)
        if (!vendor || !strcmp(vendor, r->vendors[i].name))
            row(f, &rn_report_vendors_table, &r->vendors[i]);
    if (r->n_services) { /* the departments' view, beside the links (a vendor's file too) */
        fputc('\n', f);
        header(f, &rn_report_services_table);
    }
    for (size_t i = 0; i < r->n_services; i++)
        row(f, &rn_report_services_table, &r->services[i]);
    return ferror(f) ? -EIO : 0;
}
