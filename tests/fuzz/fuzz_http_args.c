/* Fuzz target for the HTTP server's argument parsers (collector/http/http_parse.c): integer query
 * parameters (rn__http_parse_int: limit, since, width, from/to of reports...), ids in paths
 * (rn__http_parse_id: /api/v1/alarms/{id}/ack, /api/v1/maintenance/{id}) and the Host header
 * check against DNS rebinding (rn__http_host_allowed).
 * Input: lines; each line goes through every parser. Checks their contracts: an integer is
 * within its bounds, an id within 1..INT64_MAX and followed by its end character, a Host is
 * accepted, refused as foreign or as malformed, and never both. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_int(const char *s)
{
    static const int64_t bounds[][2] = { { 1, 10000 }, { 0, INT64_MAX / 2 }, { 100, 3000 },
                                         { INT64_MIN, INT64_MAX }, { 5, 4 } };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        int64_t v = -7;
        int rc = rn__http_parse_int(s, bounds[i][0], bounds[i][1], &v);
        if (rc == 0 && (v < bounds[i][0] || v > bounds[i][1]))
            abort();
        if (rc != 0 && (rc != -EINVAL || v != -7))
            abort();
    }
}

static void check_id(const char *s)
{
    static const char ends[] = { '\0', '/' };
    for (size_t i = 0; i < sizeof ends; i++) {
        uint64_t id = 0;
        if (rn__http_parse_id(s, ends[i], &id) == 0) {
            const char *end = s + strspn(s, "0123456789");
            if (id == 0 || id > INT64_MAX || *end != ends[i])
                abort();
        }
    }
}

static void check_host(const char *s)
{
    char *allowed[] = { "noc.rajnet.example", "collector" };
    int rc = rn__http_host_allowed(s, "127.0.0.1", allowed, 2);
    if (rc != 0 && rc != -EPERM && rc != -EINVAL)
        abort();
    if (rc == 0 && strlen(s) > 255)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (char *line = buf, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        check_int(line);
        check_id(line);
        check_host(line);
    }
    free(buf);
    return 0;
}
