/* libFuzzer harness of agent/rtsp_probe.c's reply parser: every prefix of the input
 * up to the whole, as reads might deliver it (the probe parses the bytes read so far after each
 * read). A result must be a status code in 100..599, 0 (more needed, only below the read
 * bound) or RN_EPARSE; a prefix that already gave a code must keep giving it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "../../agent/rtsp_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int final = 0;
    for (size_t n = 0; n <= size; n++) {
        int rc = rn_rtsp_parse_status(data, n);
        if (!(rc == 0 || rc == RN_EPARSE || (rc >= 100 && rc <= 599)))
            abort();
        if (rc == 0 && n >= RN_RTSP_MAX_REPLY)
            abort();
        if (final > 0 && rc != final)
            abort();
        if (rc != 0)
            final = rc;
    }
    return 0;
}
