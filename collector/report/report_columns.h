/* The columns of the SLA report, once for its three renderings: the CSV (report_csv.c), the HTML
 * (report_html.c) and the PDF (report_pdf.c) each walk these tables, so a column added here
 * appears in all three, at the same place, with the same value (every figure comes from
 * report.c; a renderer computes nothing). The tables are documented, column by column, in
 * docs/report-columns.md.
 *
 * A column has a key (the CSV header, snake_case), a label (the HTML and PDF heading), a type
 * and a getter. The type decides the form per medium: the CSV is machine-readable (seconds and
 * percentages as plain numbers with fixed decimals, flags 0/1, times ISO 8601 UTC), the HTML and
 * PDF are for people (durations as "2 d 04:05:06" or "0:25:00", flags yes/no, times
 * "2026-11-01 00:00:00"). A column may also say when its cell is marked (red) in HTML and PDF.
 *
 * Presentation-only extras, shown by one medium for a reason and carrying no fact of their own:
 * the HTML's bar of availability against the target (a column flagged RN_REPORT_COL_HTML_ONLY,
 * right after the target), and each link's latency and loss graphs (PNGs, HTML and PDF, drawn
 * after the tables; CSV has no images). The PDF page is narrower than the links table: the PDF
 * prints a table in bands of the columns that fit its width, each band repeating the columns
 * flagged RN_REPORT_COL_REPEAT (node, circuit), so the columns and their order stay the same. */
#ifndef RN_REPORT_COLUMNS_H
#define RN_REPORT_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

typedef enum {
    RN_REPORT_COL_TEXT,    /* CSV: RFC 4180 field; human: as is */
    RN_REPORT_COL_COUNT,   /* an integer */
    RN_REPORT_COL_SECONDS, /* CSV "%.3f" seconds; human "H:MM:SS", "D d HH:MM:SS" from a day */
    RN_REPORT_COL_AVAIL,   /* an availability %: "%.4f" in both */
    RN_REPORT_COL_LIMIT,   /* a target or limit from the SLA class: CSV "%.3f"; human "%g" */
    RN_REPORT_COL_MEASURE, /* a measured percentile: CSV "%.3f"; human "%.2f"; none: "" / "-" */
    RN_REPORT_COL_FLAG,    /* CSV 0/1; human "yes"/"no" */
    RN_REPORT_COL_AMOUNT,  /* "%.2f" in both: money, the penalty's % */
    RN_REPORT_COL_TIME,    /* Unix ms: CSV "2026-11-01T00:00:00Z"; human "2026-11-01 00:00:00" */
} rn_report_col_type_t;

/* One cell's value before formatting. */
typedef struct {
    bool have;       /* false: no data (a percentile of a link without probe data) */
    const char *s;   /* RN_REPORT_COL_TEXT */
    double v;        /* numbers, flags (0/1) */
    int64_t ms;      /* RN_REPORT_COL_TIME */
} rn_report_value_t;

enum {
    RN_REPORT_COL_HTML_ONLY = 1, /* a presentation-only extra: HTML only, no value */
    RN_REPORT_COL_REPEAT = 2,    /* repeated at the start of each band of the PDF's table */
};

typedef struct {
    const char *key;   /* CSV header */
    const char *label; /* HTML/PDF heading */
    rn_report_col_type_t type;
    unsigned flags;
    /* The value of row (the table's row type, below); NULL for an HTML-only extra. */
    rn_report_value_t (*get)(const void *row);
    /* Whether HTML and PDF mark the cell (red); NULL: never. */
    bool (*bad)(const void *row);
} rn_report_column_t;

/* A row of the outages table: one listed outage of a link. */
typedef struct {
    const rn_report_link_t *link;
    const rn_report_outage_t *outage;
} rn_report_outage_row_t;

typedef struct {
    const char *name;                 /* for messages and the docs */
    const rn_report_column_t *cols;
    size_t n_cols;
} rn_report_table_t;

/* The four tables: rows are rn_report_link_t, rn_report_outage_row_t, rn_report_vendor_t and
 * rn_report_service_t. The first key of each is the one that opens its block in the CSV. */
extern const rn_report_table_t rn_report_links_table, rn_report_outages_table,
    rn_report_vendors_table, rn_report_services_table;

typedef enum { RN_REPORT_MEDIUM_CSV, RN_REPORT_MEDIUM_HUMAN } rn_report_medium_t;

/* Formats column c of row for medium m, unescaped: the CSV quotes text fields with
 * rn_csv_field, the HTML escapes. Returns the cell's text: for a text column the row's own
 * string, whole; else buf (len bytes, always terminated). *bad (may be NULL) is set to whether
 * HTML and PDF mark the cell (c->bad). An HTML-only extra gives "" and false. */
const char *rn_report_cell(const rn_report_column_t *c, const void *row, rn_report_medium_t m,
                           char *buf, size_t len, bool *bad);

/* Formats a time (Unix ms, UTC) for medium m into buf, as the time columns do. */
void rn_report_time(int64_t ms, rn_report_medium_t m, char *buf, size_t len);

#endif
