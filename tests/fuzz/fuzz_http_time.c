/* Fuzz target for the HTTP server's time parser (collector/http/http_parse.c, rn__http_parse_time):
 * the `from` and `to` of GET /api/v1/graph ("now", "-2h", "now-3600", "now+90s", Unix s or ms).
 * Input: one byte choosing "now" (the epoch, today, the last second the parser takes, ...), then
 * `from`, optionally "&" and `to`. Checks what the graph handler relies on: a parsed time is
 * within [0, RN_HTTP_TIME_MAX_S], so `end - start` cannot overflow; a refused one leaves the
 * output alone. Built with -fsanitize=undefined, any signed overflow inside is a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses s; aborts if a result breaks the contract. Returns 0 or -EINVAL as the parser did. */
static int parse_checked(const char *s, int64_t now_s, int64_t *out)
{
    *out = -42;
    int rc = rn__http_parse_time(s, now_s, out);
    if (rc == 0 && (*out < 0 || *out > RN_HTTP_TIME_MAX_S))
        abort();
    if (rc != 0 && *out != -42)
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t nows[] = { 0, 1, 1700000000, RN_HTTP_TIME_MAX_S - 1, RN_HTTP_TIME_MAX_S,
                                    -1, INT64_MAX };
    if (size < 1 || size > 4096)
        return 0;
    int64_t now_s = nows[data[0] % (sizeof nows / sizeof nows[0])];
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char *to = strchr(s, '&');
    if (to)
        *to++ = '\0';
    int64_t start, end;
    int a = parse_checked(s, now_s, &start);
    int b = to ? parse_checked(to, now_s, &end) : -1;
    if ((now_s < 0 || now_s > RN_HTTP_TIME_MAX_S) && (a == 0 || b == 0))
        abort(); /* a clock past the range is refused, not computed with */
    if (a == 0 && b == 0) {
        volatile int64_t span = end - start; /* what graph.c computes */
        if (span > RN_HTTP_TIME_MAX_S || span < -RN_HTTP_TIME_MAX_S)
            abort();
    }
    free(s);
    return 0;
}
