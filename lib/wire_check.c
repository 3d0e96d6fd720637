/* Wire protocol, step 3 of decoding (see lib/wire.c): validation of the unpacked structs, one
 * validator per message type. Each takes the path of the message it checks and returns 0 or an
 * RN_E* code with the reason written. Kept apart from the framing, the encoding and the scan
 * because it is the part that grows with every new message field. */
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metrics.h"
#include "wire_int.h"

typedef struct {
    char *why;
    size_t why_len;
} val_t;

enum { STR_OPTIONAL = 0, STR_REQUIRED = 1 };

/* Copies s into out for quoting in a reason: printable ASCII only, at most 40 bytes. */
static const char *quoted(const char *s, char out[48])
{
    size_t i = 0;
    if (!s)
        s = "";
    for (; s[i] && i < 40; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
    if (s[i])
        out[i - 1] = out[i - 2] = out[i - 3] = '.';
    out[i] = '\0';
    return out;
}

/* Returns the length of the well-formed UTF-8 sequence at s (1..4), or 0 if it is malformed:
 * truncated, overlong, a surrogate, or above U+10FFFF (RFC 3629). */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* Checks a string field: present and non-empty if required, at most RN_WIRE_MAX_NAME bytes,
 * well-formed UTF-8 without control characters (names go on to file paths, JSON and logs). NULL
 * (an absent optional string) passes when not required. */
static int check_str(val_t *v, const char *s, const char *path, const char *name, int required)
{
    if (!s || !s[0])
        return required ? fail(v->why, v->why_len, RN_EFRAME, "%s.%s: empty", path, name) : 0;
    size_t n = strlen(s);
    if (n > RN_WIRE_MAX_NAME)
        return fail(v->why, v->why_len, RN_ETOOBIG, "%s.%s: %zu bytes, at most %u", path, name, n,
                    RN_WIRE_MAX_NAME);
    for (size_t i = 0, k; i < n; i += k) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return fail(v->why, v->why_len, RN_EFRAME, "%s.%s: control byte 0x%02x at %zu", path,
                        name, (unsigned char)s[i], i);
        if ((k = utf8_len((const unsigned char *)s + i)) == 0)
            return fail(v->why, v->why_len, RN_EFRAME, "%s.%s: invalid UTF-8 at byte %zu", path,
                        name, i);
    }
    return 0;
}

int rn_wire_node_id_valid(const char *s)
{
    if (!s || !s[0] || strlen(s) > RN_WIRE_MAX_NAME)
        return 0;
    int at_start = 1; /* at the first byte of a segment */
    for (const char *p = s; *p; p++) {
        int alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
        if (*p == '/') {
            if (at_start)
                return 0;
            at_start = 1;
        } else if (alnum || (!at_start && (*p == '_' || *p == '-'))) {
            at_start = 0;
        } else {
            return 0;
        }
    }
    return !at_start;
}

/* True if s is a host name: dot-separated labels of [A-Za-z0-9-], not starting with '-'. */
static int is_hostname(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (ch == '-' || ch == '.')
            ok = i > 0 && s[i - 1] != '.' && (ch == '-' || s[i - 1] != '-');
        if (!ok)
            return 0;
    }
    return 1;
}

/* True if s is a numeric IPv4 or IPv6 address (of at most n bytes). */
static int is_ip(const char *s, size_t n)
{
    char tmp[64];
    unsigned char bin[16];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET, tmp, bin) == 1 || inet_pton(AF_INET6, tmp, bin) == 1;
}

/* True if s is a net-snmp transport address: an optional "udp:", "tcp:", "udp6:" or "tcp6:",
 * then a host (IPv4, host name, IPv6, or [IPv6]) and an optional ":port" (1..65535). */
static int is_snmp_addr(const char *s)
{
    static const char *const transports[] = { "udp:", "tcp:", "udp6:", "tcp6:" };
    for (size_t i = 0; i < sizeof transports / sizeof transports[0]; i++)
        if (strncmp(s, transports[i], strlen(transports[i])) == 0) {
            s += strlen(transports[i]);
            break;
        }
    size_t n = strlen(s);
    if (is_ip(s, n)) /* includes a bare IPv6 address, whose colons are not a port */
        return 1;
    const char *host = s, *port = NULL, *colon = strrchr(s, ':');
    size_t host_len = n;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] && close[1] != ':'))
            return 0;
        host = s + 1;
        host_len = (size_t)(close - host);
        port = close[1] ? close + 2 : NULL;
    } else if (colon) {
        host_len = (size_t)(colon - s);
        port = colon + 1;
    }
    if (port) {
        char *end;
        errno = 0;
        long v = (port[0] >= '0' && port[0] <= '9') ? strtol(port, &end, 10) : 0;
        if (v < 1 || v > 65535 || *end || errno)
            return 0;
    }
    if (s[0] == '[')
        return is_ip(host, host_len) && memchr(host, ':', host_len);
    return is_ip(host, host_len) || is_hostname(host, host_len);
}

/* True if s is one of the names in the NULL-terminated list. */
static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static int validate_hello(val_t *v, const Rn__Hello *h)
{
    char q[48];
    int err;
    if (!rn_wire_node_id_valid(h->node_id))
        return fail(v->why, v->why_len, RN_EFRAME, "hello.node_id: \"%s\" is not a node id",
                    quoted(h->node_id, q));
    if ((err = check_str(v, h->agent_version, "hello", "agent_version", STR_REQUIRED)) ||
        (err = check_str(v, h->plan_digest, "hello", "plan_digest", STR_OPTIONAL)))
        return err;
    if (h->plan_digest && !h->plan_digest[0])
        return fail(v->why, v->why_len, RN_EFRAME, "hello.plan_digest: empty (omit it instead)");
    if (h->wall_time_ms <= 0)
        return fail(v->why, v->why_len, RN_EFRAME, "hello.wall_time_ms: %lld, must be > 0",
                    (long long)h->wall_time_ms);
    if (h->has_next_seq && h->next_seq < 1)
        return fail(v->why, v->why_len, RN_EFRAME, "hello.next_seq: 0, must be >= 1");
    return 0;
}

/* SNMP credentials: v1/v2c need a community; v3 needs a user, known protocol names, a key for each
 * protocol named, and no privacy without authentication. Secrets never appear in a reason. */
static int validate_creds(val_t *v, const Rn__SnmpCredentials *c, const char *path)
{
    static const char *const auth[] = { "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512",
                                        NULL };
    static const char *const priv[] = { "DES", "AES", "AES-192", "AES-256", NULL };
    int err;
    if (c->version < 1 || c->version > 3)
        return fail(v->why, v->why_len, RN_EFRAME, "%s.version: %u, expected 1, 2 or 3", path,
                    c->version);
    if ((err = check_str(v, c->community, path, "community", c->version != 3)) ||
        (err = check_str(v, c->user, path, "user", c->version == 3)) ||
        (err = check_str(v, c->auth_proto, path, "auth_proto", STR_OPTIONAL)) ||
        (err = check_str(v, c->auth_key, path, "auth_key", c->auth_proto != NULL)) ||
        (err = check_str(v, c->priv_proto, path, "priv_proto", STR_OPTIONAL)) ||
        (err = check_str(v, c->priv_key, path, "priv_key", c->priv_proto != NULL)))
        return err;
    if (c->auth_proto && !one_of(c->auth_proto, auth))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.auth_proto: unknown protocol", path);
    if (c->priv_proto && !one_of(c->priv_proto, priv))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.priv_proto: unknown protocol", path);
    if (c->priv_proto && !c->auth_proto)
        return fail(v->why, v->why_len, RN_EFRAME, "%s.priv_proto: privacy needs auth_proto", path);
    return 0;
}

/* ---- extra SNMP objects of a device (Device.extra) ---- */

int rn_wire_numeric_oid(const char *s)
{
    size_t arcs = 0;
    if (*s == '.')
        s++;
    for (;;) {
        size_t n = strspn(s, "0123456789");
        if (n == 0 || n > 10 || (n == 10 && strncmp(s, "4294967295", 10) > 0) || ++arcs > 128)
            return 0;
        s += n;
        if (*s == '\0')
            return arcs >= 2;
        if (*s++ != '.')
            return 0;
    }
}

/* Extra OIDs: at most RN_WIRE_MAX_EXTRA; each has a name usable as a series object (1 to
 * RN_WIRE_MAX_EXTRA_NAME of [a-z0-9_-], unique in the device), a numeric OID and a kind of
 * gauge or counter (the sample source), as the topology's `extra:` list. */
static int validate_extras(val_t *v, const Rn__Device *d, const char *path)
{
    char sub[PATH_MAX_LEN], q[48];
    int err;
    if (d->n_extra > RN_WIRE_MAX_EXTRA)
        return fail(v->why, v->why_len, RN_ETOOBIG, "%s.extra: %zu, at most %u", path,
                    d->n_extra, RN_WIRE_MAX_EXTRA);
    for (size_t i = 0; i < d->n_extra; i++) {
        const Rn__ExtraOid *x = d->extra[i];
        pathf(sub, "%s.extra[%zu]", path, i);
        /* the oid is not held to RN_WIRE_MAX_NAME: 128 arcs of 10 digits are a valid OID, and
         * rn_wire_numeric_oid() lets through only digits and dots */
        if ((err = check_str(v, x->name, sub, "name", STR_REQUIRED)) ||
            (err = check_str(v, x->kind, sub, "kind", STR_REQUIRED)))
            return err;
        if (!x->oid || !x->oid[0])
            return fail(v->why, v->why_len, RN_EFRAME, "%s.oid: empty", sub);
        size_t n = strlen(x->name);
        if (n > RN_WIRE_MAX_EXTRA_NAME ||
            strspn(x->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
            return fail(v->why, v->why_len, RN_EFRAME, "%s.name: \"%s\" is not 1-%u of [a-z0-9_-]",
                        sub, quoted(x->name, q), RN_WIRE_MAX_EXTRA_NAME);
        if (!rn_wire_numeric_oid(x->oid))
            return fail(v->why, v->why_len, RN_EFRAME,
                        "%s.oid: \"%s\" is not a numeric OID (e.g. 1.3.6.1.2.1.1.3.0)", sub,
                        quoted(x->oid, q));
        if (strcmp(x->kind, "gauge") != 0 && strcmp(x->kind, "counter") != 0)
            return fail(v->why, v->why_len, RN_EFRAME, "%s.kind: \"%s\", expected gauge or counter",
                        sub, quoted(x->kind, q));
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->extra[j]->name, x->name) == 0)
                return fail(v->why, v->why_len, RN_EFRAME,
                            "%s.name: \"%s\" used twice in the device", sub, quoted(x->name, q));
    }
    return 0;
}

/* A device: name, SNMP address, bounded timeout and retries, credentials, extra OIDs, and the
 * node it belongs to (a node id) when set; child is true for Plan.child_devices, whose devices
 * must name their node. */
static int validate_device(val_t *v, const Rn__Device *d, const char *path, int child)
{
    char sub[PATH_MAX_LEN], q[48];
    int err;
    if ((err = check_str(v, d->name, path, "name", STR_REQUIRED)) ||
        (err = check_str(v, d->addr, path, "addr", STR_REQUIRED)) ||
        (err = check_str(v, d->node, path, "node", child)))
        return err;
    if (d->node && !rn_wire_node_id_valid(d->node))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.node: \"%s\" is not a node id", path,
                    quoted(d->node, q));
    if (!is_snmp_addr(d->addr))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.addr: not an SNMP transport address", path);
    if (d->has_timeout_ms && (d->timeout_ms < 1 || d->timeout_ms > RN_WIRE_MAX_TIMEOUT_MS))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.timeout_ms: %u, expected 1..%u", path,
                    d->timeout_ms, RN_WIRE_MAX_TIMEOUT_MS);
    if (d->has_retries && d->retries > RN_WIRE_MAX_RETRIES)
        return fail(v->why, v->why_len, RN_EFRAME, "%s.retries: %u, at most %u", path, d->retries,
                    RN_WIRE_MAX_RETRIES);
    if (!d->snmp)
        return fail(v->why, v->why_len, RN_EFRAME, "%s.snmp: missing", path);
    pathf(sub, "%s.snmp", path);
    if ((err = validate_creds(v, d->snmp, sub)))
        return err;
    return validate_extras(v, d, path);
}

/* Checks an optional SLA limit: finite, >= 0, and at most max when max > 0. */
static int check_limit(val_t *v, int has, double x, double max, const char *path,
                       const char *name)
{
    if (has && (!isfinite(x) || x < 0 || (max > 0 && x > max)))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.%s: %g, expected 0..%s", path, name, x,
                    max > 0 ? "100" : "(finite)");
    return 0;
}

static int validate_target(val_t *v, const Rn__IcmpTarget *t, const char *path)
{
    int err;
    if ((err = check_str(v, t->name, path, "name", STR_REQUIRED)) ||
        (err = check_str(v, t->addr, path, "addr", STR_REQUIRED)))
        return err;
    if (!is_ip(t->addr, strlen(t->addr)))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.addr: not a numeric IPv4 or IPv6 address",
                    path);
    if (t->has_count && (t->count < 1 || t->count > RN_WIRE_MAX_PROBE_COUNT))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.count: %u, expected 1..%u", path, t->count,
                    RN_WIRE_MAX_PROBE_COUNT);
    if ((err = check_limit(v, t->has_max_latency_ms, t->max_latency_ms, 0, path,
                           "max_latency_ms")) ||
        (err = check_limit(v, t->has_max_loss_pct, t->max_loss_pct, 100, path, "max_loss_pct")) ||
        (err = check_limit(v, t->has_max_jitter_ms, t->max_jitter_ms, 0, path,
                           "max_jitter_ms")))
        return err;
    return 0;
}

/* True if url is "http://" or "https://" followed by a host of at least one character, without
 * spaces (the rest is the agent's HTTP library's to parse, on the agent). */
static int is_http_url(const char *url)
{
    const char *rest = strncmp(url, "http://", 7) == 0    ? url + 7
                       : strncmp(url, "https://", 8) == 0 ? url + 8
                                                          : NULL;
    return rest && rest[0] && rest[0] != '/' && !strpbrk(url, " \t");
}

/* A service target: a known kind; "tcp" needs a numeric address or host name and a port,
 * "http" an http(s) URL; the object names a series, so it is a plain name, and the host node,
 * if given, is a node id. */
static int validate_service(val_t *v, const Rn__ServiceTarget *t, const char *path)
{
    static const char *const kinds[] = { "tcp", "http", NULL };
    char q[48];
    int err, tcp = t->kind && strcmp(t->kind, "tcp") == 0;
    int http = t->kind && strcmp(t->kind, "http") == 0;
    if ((err = check_str(v, t->name, path, "name", STR_REQUIRED)) ||
        (err = check_str(v, t->kind, path, "kind", STR_REQUIRED)) ||
        (err = check_str(v, t->object, path, "object", STR_REQUIRED)) ||
        (err = check_str(v, t->addr, path, "addr", tcp)) ||
        (err = check_str(v, t->url, path, "url", http)) ||
        (err = check_str(v, t->host_node, path, "host_node", STR_OPTIONAL)))
        return err;
    if (!one_of(t->kind, kinds))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.kind: \"%s\", expected tcp or http", path,
                    quoted(t->kind, q));
    if (!rn_wire_node_id_valid(t->object) || strchr(t->object, '/'))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.object: \"%s\" is not a plain name", path,
                    quoted(t->object, q));
    if (tcp && !is_ip(t->addr, strlen(t->addr)) && !is_hostname(t->addr, strlen(t->addr)))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.addr: not an address or host name", path);
    if (tcp && (!t->has_port || t->port < 1 || t->port > 65535))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.port: %u, expected 1..65535", path,
                    t->has_port ? t->port : 0);
    if (http && !is_http_url(t->url))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.url: not an http:// or https:// URL", path);
    if (t->host_node && !rn_wire_node_id_valid(t->host_node))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.host_node: \"%s\" is not a node id", path,
                    quoted(t->host_node, q));
    return 0;
}

/* ---- VC capture (agent/vc_quality.h) ---- */
#define RN_WIRE_MAX_CAPTURES 8u

/* A capture: a plain name, an interface name as Linux allows (1..15 bytes, no '/', no space),
 * a filter (any text: the agent's libpcap compiles it), an interval of 1..3600 s and E-model
 * codec figures in range. */
static int validate_capture(val_t *v, const Rn__Capture *c, const char *path)
{
    char q[48];
    int err;
    if ((err = check_str(v, c->name, path, "name", STR_REQUIRED)) ||
        (err = check_str(v, c->ifname, path, "ifname", STR_REQUIRED)) ||
        (err = check_str(v, c->filter, path, "filter", STR_REQUIRED)))
        return err;
    if (!rn_wire_node_id_valid(c->name) || strchr(c->name, '/'))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.name: \"%s\" is not a plain name", path,
                    quoted(c->name, q));
    if (strlen(c->ifname) > 15 || strpbrk(c->ifname, "/ \t:") || !strcmp(c->ifname, ".") ||
        !strcmp(c->ifname, ".."))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.ifname: \"%s\" is not an interface name",
                    path, quoted(c->ifname, q));
    if (c->has_interval_s && (c->interval_s < 1 || c->interval_s > 3600))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.interval_s: %u, expected 1..3600", path,
                    c->interval_s);
    if (c->has_codec_ie && !(c->codec_ie >= 0 && c->codec_ie <= 95))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.codec_ie: expected 0..95", path);
    if (c->has_codec_bpl && !(c->codec_bpl > 0 && c->codec_bpl <= 100))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.codec_bpl: expected >0..100", path);
    return 0;
}

#define RN_WIRE_MAX_RECORDINGS 64u /* police station recording streams (Plan.recordings) */

/* Checks the n captures of plan field `field` (at most max), names unique in the field.
 * Returns 0 or the first error (why filled). */
static int validate_captures(val_t *v, Rn__Capture *const *caps, size_t n, const char *field,
                             size_t max)
{
    char path[PATH_MAX_LEN], q[48];
    int err;
    if (n > max)
        return fail(v->why, v->why_len, RN_ETOOBIG, "plan.%s: %zu, at most %zu", field, n, max);
    for (size_t i = 0; i < n; i++) {
        pathf(path, "plan.%s[%zu]", field, i);
        if ((err = validate_capture(v, caps[i], path)))
            return err;
        for (size_t j = 0; j < i; j++)
            if (strcmp(caps[j]->name, caps[i]->name) == 0)
                return fail(v->why, v->why_len, RN_EFRAME, "%s.name: \"%s\" used twice", path,
                            quoted(caps[i]->name, q));
    }
    return 0;
}

/* ---- UDP echo peers (agent/udp_echo.h) ---- */

/* An echo peer: a node id as its name (unique in the plan), a numeric address, a port and a
 * count in range when set. */
static int validate_echo_peers(val_t *v, const Rn__Plan *p)
{
    char path[PATH_MAX_LEN], q[48];
    int err;
    if (p->n_echo > RN_WIRE_MAX_ECHO_PEERS)
        return fail(v->why, v->why_len, RN_ETOOBIG, "plan.echo: %zu, at most %u", p->n_echo,
                    RN_WIRE_MAX_ECHO_PEERS);
    for (size_t i = 0; i < p->n_echo; i++) {
        const Rn__EchoPeer *e = p->echo[i];
        pathf(path, "plan.echo[%zu]", i);
        if ((err = check_str(v, e->name, path, "name", STR_REQUIRED)) ||
            (err = check_str(v, e->addr, path, "addr", STR_REQUIRED)))
            return err;
        if (!rn_wire_node_id_valid(e->name))
            return fail(v->why, v->why_len, RN_EFRAME, "%s.name: \"%s\" is not a node id", path,
                        quoted(e->name, q));
        if (!is_ip(e->addr, strlen(e->addr)))
            return fail(v->why, v->why_len, RN_EFRAME,
                        "%s.addr: not a numeric IPv4 or IPv6 address", path);
        if (e->has_port && (e->port < 1 || e->port > 65535))
            return fail(v->why, v->why_len, RN_EFRAME, "%s.port: %u, expected 1..65535", path,
                        e->port);
        if (e->has_count && (e->count < 1 || e->count > RN_WIRE_MAX_PROBE_COUNT))
            return fail(v->why, v->why_len, RN_EFRAME, "%s.count: %u, expected 1..%u", path,
                        e->count, RN_WIRE_MAX_PROBE_COUNT);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->echo[j]->name, e->name) == 0)
                return fail(v->why, v->why_len, RN_EFRAME, "%s.name: \"%s\" used twice", path,
                            quoted(e->name, q));
    }
    return 0;
}

/* ---- Police station cameras (agent/rtsp_probe.h) ---- */

/* A camera: plain station and camera names (they name RRD files), a numeric address, a port in
 * range when set; (station, name) unique in the plan. */
static int validate_cameras(val_t *v, const Rn__Plan *p)
{
    char path[PATH_MAX_LEN], q[48];
    int err;
    if (p->n_cameras > RN_WIRE_MAX_TARGETS)
        return fail(v->why, v->why_len, RN_ETOOBIG, "plan.cameras: %zu, at most %u",
                    p->n_cameras, RN_WIRE_MAX_TARGETS);
    for (size_t i = 0; i < p->n_cameras; i++) {
        const Rn__Camera *c = p->cameras[i];
        pathf(path, "plan.cameras[%zu]", i);
        if ((err = check_str(v, c->station, path, "station", STR_REQUIRED)) ||
            (err = check_str(v, c->name, path, "name", STR_REQUIRED)) ||
            (err = check_str(v, c->addr, path, "addr", STR_REQUIRED)))
            return err;
        if (!rn_wire_node_id_valid(c->station) || strchr(c->station, '/'))
            return fail(v->why, v->why_len, RN_EFRAME, "%s.station: \"%s\" is not a plain name",
                        path, quoted(c->station, q));
        if (!rn_wire_node_id_valid(c->name) || strchr(c->name, '/'))
            return fail(v->why, v->why_len, RN_EFRAME, "%s.name: \"%s\" is not a plain name",
                        path, quoted(c->name, q));
        if (!is_ip(c->addr, strlen(c->addr)))
            return fail(v->why, v->why_len, RN_EFRAME,
                        "%s.addr: not a numeric IPv4 or IPv6 address", path);
        if (c->node && !rn_wire_node_id_valid(c->node)) /* an agentless child's station */
            return fail(v->why, v->why_len, RN_EFRAME, "%s.node: \"%s\" is not a node id",
                        path, quoted(c->node, q));
        if (c->has_port && (c->port < 1 || c->port > 65535))
            return fail(v->why, v->why_len, RN_EFRAME, "%s.port: %u, expected 1..65535", path,
                        c->port);
        for (size_t j = 0; j < i; j++) /* quadratic: at most 8M compares, once per plan */
            if (!strcmp(p->cameras[j]->station, c->station) &&
                !strcmp(p->cameras[j]->name, c->name))
                return fail(v->why, v->why_len, RN_EFRAME, "%s: camera \"%s\" used twice",
                            path, quoted(c->name, q));
    }
    return 0;
}

/* Checks an interval in seconds: 1 second to 1 day. */
static int check_interval(val_t *v, uint32_t s, const char *name)
{
    if (s < 1 || s > RN_WIRE_MAX_INTERVAL_S)
        return fail(v->why, v->why_len, RN_EFRAME, "plan.%s: %u, expected 1..%u", name, s,
                    RN_WIRE_MAX_INTERVAL_S);
    return 0;
}

static int validate_plan(val_t *v, const Rn__Plan *p)
{
    char path[PATH_MAX_LEN];
    int err;
    if ((err = check_str(v, p->digest, "plan", "digest", STR_REQUIRED)) ||
        (err = check_interval(v, p->poll_interval_s, "poll_interval_s")) ||
        (err = check_interval(v, p->probe_interval_s, "probe_interval_s")))
        return err;
    if (p->n_devices > RN_WIRE_MAX_DEVICES)
        return fail(v->why, v->why_len, RN_ETOOBIG, "plan.devices: %zu, at most %u", p->n_devices,
                    RN_WIRE_MAX_DEVICES);
    if (p->n_icmp > RN_WIRE_MAX_TARGETS)
        return fail(v->why, v->why_len, RN_ETOOBIG, "plan.icmp: %zu, at most %u", p->n_icmp,
                    RN_WIRE_MAX_TARGETS);
    for (size_t i = 0; i < p->n_devices; i++) {
        pathf(path, "plan.devices[%zu]", i);
        if ((err = validate_device(v, p->devices[i], path, 0)))
            return err;
    }
    if (p->n_child_devices > RN_WIRE_MAX_DEVICES) /* agentless children's devices */
        return fail(v->why, v->why_len, RN_ETOOBIG, "plan.child_devices: %zu, at most %u",
                    p->n_child_devices, RN_WIRE_MAX_DEVICES);
    for (size_t i = 0; i < p->n_child_devices; i++) {
        pathf(path, "plan.child_devices[%zu]", i);
        if ((err = validate_device(v, p->child_devices[i], path, 1)))
            return err;
    }
    for (size_t i = 0; i < p->n_icmp; i++) {
        pathf(path, "plan.icmp[%zu]", i);
        if ((err = validate_target(v, p->icmp[i], path)))
            return err;
    }
    if (p->n_services > RN_WIRE_MAX_TARGETS)
        return fail(v->why, v->why_len, RN_ETOOBIG, "plan.services: %zu, at most %u",
                    p->n_services, RN_WIRE_MAX_TARGETS);
    for (size_t i = 0; i < p->n_services; i++) {
        pathf(path, "plan.services[%zu]", i);
        if ((err = validate_service(v, p->services[i], path)))
            return err;
    }
    if ((err = validate_echo_peers(v, p))) /* UDP echo peers */
        return err;
    if ((err = validate_cameras(v, p))) /* police station cameras */
        return err;
    if ((err = validate_captures(v, p->captures, p->n_captures, "captures", /* VC capture */
                                 RN_WIRE_MAX_CAPTURES)))
        return err;
    return validate_captures(v, p->recordings, p->n_recordings, "recordings", /* police */
                             RN_WIRE_MAX_RECORDINGS);
}

/* A value is unknown (neither field), a counter, or a finite gauge, and its kind must match the
 * template's metric in that position. */
static int validate_value(val_t *v, const Rn__Value *x, const rn_metric_t *m, const char *path)
{
    if (x->has_counter && x->has_gauge)
        return fail(v->why, v->why_len, RN_EFRAME, "%s: both counter and gauge set", path);
    if (x->has_gauge && !isfinite(x->gauge))
        return fail(v->why, v->why_len, RN_EFRAME, "%s.gauge: not finite", path);
    if (x->has_gauge && m->kind != RN_METRIC_GAUGE)
        return fail(v->why, v->why_len, RN_EFRAME, "%s: gauge set for counter \"%s\"", path,
                    m->name);
    if (x->has_counter && m->kind != RN_METRIC_COUNTER)
        return fail(v->why, v->why_len, RN_EFRAME, "%s: counter set for gauge \"%s\"", path,
                    m->name);
    return 0;
}

static int validate_sample(val_t *v, const Rn__Sample *s, const char *path)
{
    char sub[PATH_MAX_LEN], q[48];
    int err;
    if ((err = check_str(v, s->source, path, "source", STR_REQUIRED)) ||
        (err = check_str(v, s->device, path, "device", STR_OPTIONAL)) ||
        (err = check_str(v, s->object, path, "object", STR_REQUIRED)) ||
        (err = check_str(v, s->node, path, "node", STR_OPTIONAL)))
        return err;
    if (s->node && !rn_wire_node_id_valid(s->node)) /* an agentless child's device */
        return fail(v->why, v->why_len, RN_EFRAME, "%s.node: \"%s\" is not a node id", path,
                    quoted(s->node, q));
    const rn_template_t *t = rn_template_find(s->source);
    if (!t)
        return fail(v->why, v->why_len, RN_EFRAME, "%s.source: \"%s\" has no template", path,
                    quoted(s->source, q));
    if (s->time_ms <= 0)
        return fail(v->why, v->why_len, RN_EFRAME, "%s.time_ms: %lld, must be > 0", path,
                    (long long)s->time_ms);
    if (s->n_values != t->n_metrics)
        return fail(v->why, v->why_len, RN_EFRAME,
                    "%s.values: %zu values, template \"%s\" needs %zu", path, s->n_values,
                    t->source, t->n_metrics);
    for (size_t i = 0; i < s->n_values; i++) {
        pathf(sub, "%s.values[%zu]", path, i);
        if ((err = validate_value(v, s->values[i], &t->metrics[i], sub)))
            return err;
    }
    return 0;
}

static int validate_batch(val_t *v, const Rn__Batch *b)
{
    char path[PATH_MAX_LEN];
    int err;
    if (b->seq < 1)
        return fail(v->why, v->why_len, RN_EFRAME, "batch.seq: 0, must be >= 1");
    if (b->n_samples > RN_WIRE_MAX_SAMPLES)
        return fail(v->why, v->why_len, RN_ETOOBIG, "batch.samples: %zu, at most %u",
                    b->n_samples, RN_WIRE_MAX_SAMPLES);
    for (size_t i = 0; i < b->n_samples; i++) {
        pathf(path, "batch.samples[%zu]", i);
        if ((err = validate_sample(v, b->samples[i], path)))
            return err;
    }
    return 0;
}

static int validate_heartbeat(val_t *v, const Rn__Heartbeat *h)
{
    if (h->wall_time_ms <= 0)
        return fail(v->why, v->why_len, RN_EFRAME, "heartbeat.wall_time_ms: %lld, must be > 0",
                    (long long)h->wall_time_ms);
    return 0;
}

/* An inventory (agent/snmp_inventory.h): every string a DisplayString (check_str's 255 bytes),
 * entities unique by index. */
static int validate_inventory(val_t *v, const Rn__Inventory *in)
{
    char path[PATH_MAX_LEN], q[48];
    int err;
    if ((err = check_str(v, in->device, "inventory", "device", STR_REQUIRED)) ||
        (err = check_str(v, in->node, "inventory", "node", STR_OPTIONAL)) ||
        (err = check_str(v, in->sys_descr, "inventory", "sys_descr", STR_OPTIONAL)) ||
        (err = check_str(v, in->sys_object_id, "inventory", "sys_object_id", STR_OPTIONAL)))
        return err;
    if (in->node && !rn_wire_node_id_valid(in->node))
        return fail(v->why, v->why_len, RN_EFRAME, "inventory.node: \"%s\" is not a node id",
                    quoted(in->node, q));
    if (in->time_ms <= 0)
        return fail(v->why, v->why_len, RN_EFRAME, "inventory.time_ms: %lld, must be > 0",
                    (long long)in->time_ms);
    for (size_t i = 0; i < in->n_entities; i++) {
        const Rn__PhysicalEntity *e = in->entities[i];
        pathf(path, "inventory.entities[%zu]", i);
        if ((err = check_str(v, e->descr, path, "descr", STR_OPTIONAL)) ||
            (err = check_str(v, e->name, path, "name", STR_OPTIONAL)) ||
            (err = check_str(v, e->hw_rev, path, "hw_rev", STR_OPTIONAL)) ||
            (err = check_str(v, e->fw_rev, path, "fw_rev", STR_OPTIONAL)) ||
            (err = check_str(v, e->sw_rev, path, "sw_rev", STR_OPTIONAL)) ||
            (err = check_str(v, e->serial, path, "serial", STR_OPTIONAL)) ||
            (err = check_str(v, e->mfg, path, "mfg", STR_OPTIONAL)) ||
            (err = check_str(v, e->model, path, "model", STR_OPTIONAL)))
            return err;
        if (i > 0 && e->index <= in->entities[i - 1]->index)
            return fail(v->why, v->why_len, RN_EFRAME, "%s.index: %u, not above the one before",
                        path, e->index);
    }
    return 0;
}

/* Checks the version and exactly one body, then hands the body to its validator. A frame whose
 * body pointer is NULL cannot come from protobuf-c, but the check costs nothing. */
static int validate_frame(val_t *v, const Rn__Frame *f)
{
    if (f->version != RN_WIRE_VERSION)
        return fail(v->why, v->why_len, RN_EVERSION, "version: %u, expected %u", f->version,
                    RN_WIRE_VERSION);
    switch (f->body_case) {
    case RN__FRAME__BODY_HELLO: return f->hello ? validate_hello(v, f->hello) : RN_EFRAME;
    case RN__FRAME__BODY_PLAN: return f->plan ? validate_plan(v, f->plan) : RN_EFRAME;
    case RN__FRAME__BODY_BATCH: return f->batch ? validate_batch(v, f->batch) : RN_EFRAME;
    case RN__FRAME__BODY_ACK: return f->ack ? 0 : RN_EFRAME;
    case RN__FRAME__BODY_HEARTBEAT:
        return f->heartbeat ? validate_heartbeat(v, f->heartbeat) : RN_EFRAME;
    case RN__FRAME__BODY_INVENTORY:
        return f->inventory ? validate_inventory(v, f->inventory) : RN_EFRAME;
    default: break;
    }
    return fail(v->why, v->why_len, RN_EFRAME,
                "body: none set (expected hello, plan, batch, ack, heartbeat or inventory)");
}

/* The entry point for wire.c (see wire_int.h). Returns 0 or the RN_E* code of the first failure. */
int rn__wire_validate(const Rn__Frame *f, char *why, size_t why_len)
{
    val_t v = { why, why_len };
    return validate_frame(&v, f);
}
