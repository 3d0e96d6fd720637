/* One measured value, and the callback through which pollers and probes hand samples to the
 * agent core. The values follow the source's template in lib/metrics.h. */
#ifndef RN_SAMPLE_H
#define RN_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { RN_VALUE_UNKNOWN, RN_VALUE_COUNTER, RN_VALUE_GAUGE } rn_value_kind_t;

typedef struct {
    rn_value_kind_t kind;
    uint64_t counter;
    double gauge;
} rn_value_t;

/* Receives one sample. All pointers are borrowed until the call returns. speed_bps is 0 when
 * unknown or not applicable. */
typedef void (*rn_sample_fn)(void *ctx, const char *source, const char *device, const char *object,
                             int64_t time_ms, const rn_value_t *values, size_t n_values,
                             uint64_t speed_bps);

#endif
