/* libFuzzer harness of the reader of rrdcached's replies to a BATCH (collector/series/rrdc.c,
 * rn__rrdc_batch_line): what a daemon (or whatever listens on its socket) answers. The first
 * input byte is the number of commands sent (0..255); the rest is the reply, split at newlines
 * as the store splits it (a line is cut at 1023 bytes, as its buffer does). The reader must end
 * (complete or refused) within 2 + n_cmds lines, never mark a command outside 1..n_cmds, and
 * mark no more commands than the error count it accepted. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "series/rrdc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n_cmds = data[0];
    bool bad[256 + 1] = { false }; /* one guard entry after the n_cmds flags */
    rn__rrdc_batch_t b = { .n_cmds = n_cmds, .bad = bad };
    char line[1024];
    size_t pos = 1, lines = 0;
    int rc = 0;
    while (rc == 0 && pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        size_t k = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, data + pos, k);
        line[k] = '\0';
        pos += len + 1;
        rc = rn__rrdc_batch_line(&b, line);
        lines++;
    }
    if (lines > 2 + n_cmds && rc == 0)
        abort();
    if (rc == 1 && (b.state != RN__RRDC_DONE || b.seen != b.errors))
        abort();
    if (b.errors < 0 || (size_t)b.errors > n_cmds || bad[n_cmds])
        abort();
    size_t marked = 0;
    for (size_t i = 0; i < n_cmds; i++)
        marked += bad[i];
    if (marked > (size_t)b.errors)
        abort();
    return 0;
}
