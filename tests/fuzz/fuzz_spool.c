/* libFuzzer harness of the spool's record reader (agent/spool_file.c, rn__spool_scan): the bytes
 * of a segment file as a power cut, a full disk or a stray write can leave them. The first 8 input
 * bytes are the seq the segment must start above (little-endian), the rest is the file. The
 * valid prefix must lie within the file, hold whole records with increasing seqs, scan again to
 * the same prefix on its own, and no longer input may make it shorter (a record appended after
 * a valid prefix never hides what came before). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t prev = 0, n, last, n2, last2;
    if (size < 8)
        return 0;
    for (int i = 0; i < 8; i++)
        prev |= (uint64_t)data[i] << (8 * i);
    data += 8, size -= 8;
    uint64_t valid = rn__spool_scan(data, size, prev, &n, &last);
    if (valid > size || (n == 0) != (valid == 0) || (n && last <= prev) ||
        valid < n * RN_SPOOL_RECORD_HEADER)
        abort();
    if (n == 0 && last != prev)
        abort();
    /* the prefix alone reads the same; a cut inside its last record loses exactly that record */
    if (rn__spool_scan(data, (size_t)valid, prev, &n2, &last2) != valid || n2 != n || last2 != last)
        abort();
    if (valid > 0 && (rn__spool_scan(data, (size_t)valid - 1, prev, &n2, &last2) >= valid ||
                      n2 != n - 1))
        abort();
    return 0;
}
