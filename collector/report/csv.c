/* CSV fields (csv.h). */
#include <stdbool.h>
#include <string.h>

#include "report/csv.h"

void rn_csv_field(FILE *f, const char *s)
{
    s = s ? s : "";
    bool formula = s[0] && strchr("=+-@", s[0]);
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    putc('"', f);
    if (formula)
        putc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', f);
        putc(*s, f);
    }
    putc('"', f);
}
