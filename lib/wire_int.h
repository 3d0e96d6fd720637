/* Internals of the wire protocol shared by wire.c (framing, encoding, the scan, the reader) and
 * wire_check.c (validation of decoded frames). Not part of the contract: include wire.h. */
#ifndef RN_WIRE_INT_H
#define RN_WIRE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "wire.h"

#define PATH_MAX_LEN 128 /* longest field path in a reason: "plan.devices[255].snmp" */

/* Writes a formatted reason into why (if the caller gave room for one) and returns err, so a
 * validator can say `return fail(...)` at the point where it decides. Static inline so both
 * halves keep their short call sites without exporting a symbol. */
static inline int fail(char *why, size_t why_len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int fail(char *why, size_t why_len, int err, const char *fmt, ...)
{
    if (why && why_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* Formats a field path into out (PATH_MAX_LEN bytes), cutting it short if it does not fit. */
static inline void pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_MAX_LEN, fmt, ap);
    va_end(ap);
}

/* Checks the meaning of an unpacked frame f: version, exactly one body, and that body field by
 * field. Returns 0 or an RN_E* code with "<field path>: <what>" written into why (if the caller
 * gave room); may leave why empty when a body pointer is missing. */
int rn__wire_validate(const Rn__Frame *f, char *why, size_t why_len);

#endif
