/* The HTTP server's parsers of outside input that need no connection (see http_int.h): integer
 * query arguments, graph times ("-2h", "now-3600", Unix s or ms), ids in paths and the Host
 * header. Kept apart from http.c so that their fuzz targets (tests/fuzz/fuzz_http_args.c,
 * fuzz_http_time.c) call exactly the code the server runs.
 *
 * Every number a client sends is range-checked before any arithmetic on it: times are held to
 * [0, RN_HTTP_TIME_MAX_S] (the year 9999), so a sum or difference of two of them never leaves
 * int64_t. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"

int rn__http_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

int rn__http_parse_id(const char *s, char end_char, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != end_char || errno || v == 0 || v > INT64_MAX)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Converts v (>= 0) with the unit of suffix ("", "s", "ms", "h", "d") into *out (seconds); a
 * bare number past 10^11 is Unix ms when absolute. Returns 0, or -EINVAL for another suffix or
 * a result past RN_HTTP_TIME_MAX_S. */
static int apply_unit(long long v, const char *suffix, bool absolute, int64_t *out)
{
    int64_t mult = 1;
    if (!strcmp(suffix, "ms") || (absolute && !*suffix && v > 100000000000LL)) {
        *out = v / 1000;
        return *out > RN_HTTP_TIME_MAX_S ? -EINVAL : 0;
    }
    if (!strcmp(suffix, "h"))
        mult = 3600;
    else if (!strcmp(suffix, "d"))
        mult = 86400;
    else if (*suffix && strcmp(suffix, "s"))
        return -EINVAL;
    if (v > RN_HTTP_TIME_MAX_S / mult)
        return -EINVAL;
    *out = v * mult;
    return 0;
}

int rn__http_parse_time(const char *s, int64_t now_s, int64_t *out_s)
{
    if (!s || !*s || now_s < 0 || now_s > RN_HTTP_TIME_MAX_S)
        return -EINVAL;
    bool relative = false;
    int sign = 1;
    if (strncmp(s, "now", 3) == 0) {
        s += 3;
        if (!*s) {
            *out_s = now_s;
            return 0;
        }
        if (*s != '-' && *s != '+')
            return -EINVAL;
    }
    if (*s == '-' || *s == '+') {
        relative = true;
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    int64_t secs;
    if (errno || v < 0 || apply_unit(v, end, !relative, &secs))
        return -EINVAL;
    int64_t t = relative ? now_s + sign * secs : secs; /* both within [0, MAX]: no overflow */
    if (t < 0 || t > RN_HTTP_TIME_MAX_S)
        return -EINVAL;
    *out_s = t;
    return 0;
}

const char *rn__http_label(const char *s, char *buf, size_t len)
{
    if (s && !strpbrk(s, "\\\"\n"))
        return s; /* the usual case: ids and names need no escaping, and copying cost 15 % */
    size_t o = 0;
    for (; s && *s && o + 3 < len; s++) {
        if (*s == '\\' || *s == '"') {
            buf[o++] = '\\';
            buf[o++] = *s;
        } else if (*s == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else {
            buf[o++] = *s;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* ---------------------------------------------------------------- the Host header */

/* True if s (len bytes) is a dotted-quad IPv4 address. */
static bool is_ipv4(const char *s, size_t len)
{
    int parts = 0, digits = 0, value = 0;
    for (size_t i = 0; i < len; i++) {
        if (isdigit((unsigned char)s[i])) {
            value = value * 10 + (s[i] - '0');
            if (++digits > 3 || value > 255)
                return false;
        } else if (s[i] == '.' && digits) {
            parts++;
            digits = value = 0;
        } else {
            return false;
        }
    }
    return digits && parts == 3;
}

/* True if s (len bytes, inside brackets) looks like an IPv6 address (hex digits, ':' and '.'). */
static bool is_ipv6(const char *s, size_t len)
{
    size_t colons = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':')
            colons++;
        else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
            return false;
    }
    return colons >= 2 && len <= 45;
}

/* True if name (len bytes, any case) equals want, ignoring one trailing dot of name. */
static bool name_is(const char *name, size_t len, const char *want)
{
    if (len && name[len - 1] == '.')
        len--;
    return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* True if name ends in ".localhost" (RFC 6761: such names resolve to loopback only). */
static bool under_localhost(const char *name, size_t len)
{
    static const char suffix[] = ".localhost";
    size_t n = sizeof suffix - 1;
    if (len && name[len - 1] == '.')
        len--;
    return len > n && strncasecmp(name + len - n, suffix, n) == 0;
}

/* True if rest, what follows the host, is nothing or ":" and digits. */
static bool port_ok(const char *rest)
{
    const char *digits = rest + 1;
    return !*rest ||
           (rest[0] == ':' && *digits && strspn(digits, "0123456789") == strlen(digits));
}

int rn__http_host_allowed(const char *host, const char *listen_host, char *const *allowed,
                          size_t n_allowed)
{
    if (!host)
        return 0; /* HTTP/1.0 without Host: no browser sends that, so no rebinding */
    size_t len = strlen(host);
    const char *name = host;
    size_t name_len;
    if (len > 255)
        return -EINVAL;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', len);
        if (!close)
            return -EINVAL;
        name = host + 1;
        name_len = (size_t)(close - name);
        return port_ok(close + 1) && is_ipv6(name, name_len) ? 0 : -EINVAL;
    }
    const char *colon = memchr(host, ':', len);
    name_len = colon ? (size_t)(colon - host) : len;
    if (colon && !port_ok(colon))
        return -EINVAL;
    if (!name_len)
        return -EINVAL;
    for (size_t i = 0; i < name_len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '.' && name[i] != '_')
            return -EINVAL;
    /* An address typed as such is its own origin: a page cannot rebind it to us. */
    if (is_ipv4(name, name_len) || name_is(name, name_len, "localhost") ||
        under_localhost(name, name_len))
        return 0;
    if (listen_host && name_is(name, name_len, listen_host))
        return 0;
    for (size_t i = 0; i < n_allowed; i++)
        if (name_is(name, name_len, allowed[i]))
            return 0;
    return -EPERM;
}
