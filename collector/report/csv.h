/* CSV fields (RFC 4180) for every CSV the collector writes: the vendors' SLA reports and the
 * asset register's export. */
#ifndef RN_CSV_H
#define RN_CSV_H

#include <stdio.h>

/* Writes s (NULL: empty) as one field: quoted when it holds a comma, quote or line break, and
 * with a leading apostrophe, inside quotes, when a spreadsheet would take it for a formula
 * (=, +, -, @): these files are opened in spreadsheets outside the NOC. */
void rn_csv_field(FILE *f, const char *s);

#endif
