/* Notification formats: the copy of an engine alarm a notifier keeps, its JSON payload (the
 * webhook body, the exec hook's stdin and the journal record, so one format is tested once and
 * replayed exactly), and the RFC 5424 syslog line.
 *
 * Pure functions: no I/O, no clock reads, no libuv, so the unit tests pin every byte.
 *
 * JSON payload (one object, keys in this order):
 *   { "source": "rajnet-collector", "event": "raised"|"promoted"|"cleared",
 *     "at": "2024-05-01T10:00:00.000Z", "at_ms": 1714557600000,
 *     "alarm": { "id": 12, "type": "link_down", "type_code": 0, "severity": 1,
 *                "node": "jaipur", "entity": "JPR-MPLS-0042", "vendor": "bsnl"|null,
 *                "circuit": "JPR-MPLS-0042"|null, "service": null, "root_id": 0,
 *                "since_ms": …, "raised_ms": …, "planned": false,
 *                "impact": { "offices": [ … ], "services": [ … ] },
 *                "impact_text": "offices: jaipur; services: vc", "text": "…" } }
 * The words (event, type) are the alarm vocabulary's (collector/alarm/alarm.h, docs/api.md). */
#include "notify/notify_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

const char *rn__notify_kind_name(rn_alarm_event_kind_t kind)
{
    return rn_alarm_event_name(kind);
}

void rn__notify_time_format(int64_t ms, char buf[32])
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)s * 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm)) {
        snprintf(buf, 32, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* Appends the items of list to a new JSON array. Returns it, or NULL when out of memory. */
static json_t *str_array(const char *const *list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (json_array_append_new(arr, json_string(list[i] ? list[i] : "")) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Builds "offices: a, b; services: x" from the alarm's impact lists ("" when both are empty).
 * Returns a new string or NULL. */
static char *impact_text(const rn_alarm_t *a)
{
    size_t len = 32;
    for (size_t i = 0; i < a->n_impact_nodes; i++)
        len += strlen(a->impact_nodes[i]) + 2;
    for (size_t i = 0; i < a->n_impact_services; i++)
        len += strlen(a->impact_services[i]) + 2;
    char *s = calloc(1, len);
    if (!s)
        return NULL;
    for (size_t i = 0; i < a->n_impact_nodes; i++)
        strcat(strcat(s, i ? ", " : "offices: "), a->impact_nodes[i]);
    for (size_t i = 0; i < a->n_impact_services; i++)
        strcat(strcat(s, i ? ", " : (*s ? "; services: " : "services: ")),
               a->impact_services[i]);
    return s;
}

/* A JSON string, or null for a NULL or empty field. */
static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* Builds the payload object of ev (whose strings are set) plus the alarm's impact lists. */
static json_t *payload(const rn__notify_event_t *ev, json_t *offices, json_t *services)
{
    char at[32];
    rn__notify_time_format(ev->at_ms, at);
    return json_pack("{s:s, s:s, s:s, s:I, s:{s:I, s:s, s:i, s:i, s:s, s:s, s:o, s:o, s:o, "
                     "s:I, s:I, s:I, s:b, s:{s:o, s:o}, s:s, s:s}}",
                     "source", "rajnet-collector", "event", rn__notify_kind_name(ev->kind), "at",
                     at, "at_ms", (json_int_t)ev->at_ms, "alarm", "id", (json_int_t)ev->id,
                     "type", ev->type_name, "type_code", ev->type, "severity", ev->severity,
                     "node", ev->node, "entity", ev->entity, "vendor", str_or_null(ev->vendor),
                     "circuit", str_or_null(ev->circuit), "service", str_or_null(ev->service),
                     "root_id", (json_int_t)ev->root_id, "since_ms", (json_int_t)ev->since_ms,
                     "raised_ms", (json_int_t)ev->raised_ms, "planned", (int)ev->planned,
                     "impact", "offices", offices, "services", services, "impact_text",
                     ev->impact, "text", ev->text);
}

/* Returns a malloc'd copy of s, "" for NULL. */
static char *dup0(const char *s)
{
    return strdup(s ? s : "");
}

/* True when every string of ev is set. */
static bool strings_ok(const rn__notify_event_t *ev)
{
    return ev->type_name && ev->node && ev->entity && ev->vendor && ev->circuit && ev->service &&
           ev->impact && ev->text;
}

rn__notify_event_t *rn__notify_event_new(rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                                         int64_t at_ms)
{
    rn__notify_event_t *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->msg = RN_NOTIFY_ALARMS;
    ev->kind = kind;
    ev->at_ms = at_ms;
    ev->id = a->id;
    ev->root_id = a->root_id;
    ev->type = (int)a->type;
    ev->severity = a->severity;
    ev->planned = a->planned;
    ev->since_ms = a->since_ms;
    ev->raised_ms = a->raised_ms;
    ev->type_name = dup0(rn_alarm_type_name(a->type));
    ev->node = dup0(a->node);
    ev->entity = dup0(a->entity);
    ev->vendor = dup0(a->vendor);
    ev->circuit = dup0(a->circuit);
    ev->service = dup0(a->service);
    ev->impact = impact_text(a);
    ev->text = dup0(a->text);
    json_t *offices = str_array(a->impact_nodes, a->n_impact_nodes);
    json_t *services = str_array(a->impact_services, a->n_impact_services);
    json_t *root = strings_ok(ev) && offices && services ? payload(ev, offices, services) : NULL;
    if (!root) { /* json_pack's "o" steals the arrays even when it fails */
        json_decref(offices);
        json_decref(services);
    }
    ev->json = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!ev->json) {
        rn__notify_event_free(ev);
        return NULL;
    }
    return ev;
}

/* Copies the string member key of obj ("" for null or absent). Returns NULL only when the member
 * is of another type or memory runs out. */
static char *get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return strdup("");
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* Fills the alarm fields of ev from the "alarm" object. Returns 0 or -1. */
static int unpack_alarm(json_t *al, rn__notify_event_t *ev)
{
    json_int_t id = 0, root = 0, since = 0, raised = 0;
    int type = 0, severity = 0, planned = 0;
    if (json_unpack(al, "{s:I, s:i, s:i, s:I, s:I, s:I, s:b}", "id", &id, "type_code", &type,
                    "severity", &severity, "root_id", &root, "since_ms", &since, "raised_ms",
                    &raised, "planned", &planned) != 0)
        return -1;
    ev->id = (uint64_t)id;
    ev->type = type;
    ev->severity = severity;
    ev->root_id = (uint64_t)root;
    ev->since_ms = since;
    ev->raised_ms = raised;
    ev->planned = planned != 0;
    ev->type_name = get_str(al, "type");
    if (ev->type_name && strcmp(ev->type_name, rn_alarm_type_canonical(ev->type_name)) != 0) {
        char *canon = strdup(rn_alarm_type_canonical(ev->type_name)); /* an older journal's */
        free(ev->type_name);
        ev->type_name = canon;
    }
    ev->node = get_str(al, "node");
    ev->entity = get_str(al, "entity");
    ev->vendor = get_str(al, "vendor");
    ev->circuit = get_str(al, "circuit");
    ev->service = get_str(al, "service");
    ev->impact = get_str(al, "impact_text");
    ev->text = get_str(al, "text");
    return strings_ok(ev) ? 0 : -1;
}

/* Returns a malloc'd copy of the journal record json, rewritten in the vocabulary's words when
 * an older collector wrote "link down" or "symptom" (a record already in them is kept byte for
 * byte), or NULL when out of memory. */
static char *canonical_json(json_t *root, json_t *al, const char *json,
                            rn_alarm_event_kind_t kind, const rn__notify_event_t *ev)
{
    const char *event = json_string_value(json_object_get(root, "event"));
    const char *type = json_string_value(json_object_get(al, "type"));
    if (event && strcmp(event, rn__notify_kind_name(kind)) == 0 &&
        (!type || strcmp(type, ev->type_name) == 0))
        return strdup(json);
    if (json_object_set_new(root, "event", json_string(rn__notify_kind_name(kind))) != 0 ||
        (type && json_object_set_new(al, "type", json_string(ev->type_name)) != 0))
        return NULL;
    return json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

rn__notify_event_t *rn__notify_event_from_json(const char *json)
{
    json_t *root = json_loads(json, 0, NULL);
    const char *event = NULL;
    json_int_t at = 0;
    json_t *al = NULL;
    rn__notify_event_t *ev = root ? calloc(1, sizeof *ev) : NULL;
    int kind = -1;
    if (root && json_unpack(root, "{s:s}", "event", &event) == 0 && strcmp(event, "report") == 0) {
        free(ev);
        json_decref(root);
        return rn__notify_report_from_json(json); /* notify_report.c */
    }
    if (ev && json_unpack(root, "{s:s, s:I, s:o}", "event", &event, "at_ms", &at, "alarm", &al) ==
                  0)
        kind = rn_alarm_event_parse(event);
    if (kind < 0 || unpack_alarm(al, ev) != 0 ||
        !(ev->json = canonical_json(root, al, json, (rn_alarm_event_kind_t)kind, ev))) {
        rn__notify_event_free(ev);
        json_decref(root);
        return NULL;
    }
    ev->msg = RN_NOTIFY_ALARMS;
    ev->kind = (rn_alarm_event_kind_t)kind;
    ev->at_ms = at;
    json_decref(root);
    return ev;
}

void rn__notify_event_free(rn__notify_event_t *ev)
{
    if (!ev)
        return;
    free(ev->type_name);
    free(ev->node);
    free(ev->entity);
    free(ev->vendor);
    free(ev->circuit);
    free(ev->service);
    free(ev->impact);
    free(ev->text);
    free(ev->json);
    free(ev->month); /* reports */
    free(ev->files);
    free(ev);
}

int rn__notify_parse_target(const char *s, bool *tcp, struct sockaddr_storage *addr)
{
    char host[64];
    const char *rest;
    if (!s)
        return -EINVAL;
    if (strncmp(s, "udp:", 4) == 0 || strncmp(s, "tcp:", 4) == 0)
        rest = s + 4;
    else if (strncmp(s, "udp6:", 5) == 0 || strncmp(s, "tcp6:", 5) == 0)
        rest = s + 5;
    else
        return -EINVAL;
    *tcp = s[0] == 't';
    const char *colon = rest[0] == '[' ? strstr(rest, "]:") : strrchr(rest, ':');
    if (!colon)
        return -EINVAL;
    const char *h = rest[0] == '[' ? rest + 1 : rest;
    const char *port = rest[0] == '[' ? colon + 2 : colon + 1;
    size_t hl = (size_t)(colon - h);
    char *end;
    long p = strtol(port, &end, 10);
    if (hl == 0 || hl >= sizeof host || *end || end == port || p < 1 || p > 65535)
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memset(addr, 0, sizeof *addr);
    if (uv_ip4_addr(host, (int)p, (struct sockaddr_in *)addr) == 0 && rest[0] != '[')
        return 0;
    if (uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)addr) == 0 && rest[0] == '[')
        return 0;
    return -EINVAL;
}

/* ---- RFC 5424 -------------------------------------------------------------------------------- */

/* Appends an SD-PARAM ` name="value"` with '"', '\' and ']' escaped (RFC 5424 §6.3.3); empty
 * values are left out when skip_empty. Returns the new position (may pass len: then truncated). */
static size_t sd_param(char *buf, size_t len, size_t pos, const char *name, const char *value,
                       bool skip_empty)
{
    if (skip_empty && (!value || !*value))
        return pos;
    int n = snprintf(buf + (pos < len ? pos : len - 1), pos < len ? len - pos : 1, " %s=\"", name);
    pos += (size_t)(n > 0 ? n : 0);
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == ']') {
            if (pos + 1 < len)
                buf[pos] = '\\';
            pos++;
        }
        if (pos + 1 < len)
            buf[pos] = *p;
        pos++;
    }
    if (pos + 1 < len)
        buf[pos] = '"';
    pos++;
    buf[pos < len ? pos : len - 1] = '\0';
    return pos;
}

/* The syslog severity of a notification: cleared is notice (5); S1 crit (2), S2 err (3), S3
 * warning (4). */
static unsigned syslog_severity(const rn__notify_event_t *ev)
{
    if (ev->kind == RN_ALARM_EV_CLEARED)
        return 5;
    return ev->severity <= 1 ? 2 : ev->severity == 2 ? 3 : 4;
}

size_t rn__notify_syslog_format(const rn__notify_event_t *ev, unsigned facility,
                                const char *hostname, int pid, char *buf, size_t len)
{
    char ts[32], num[24], sev[8], root[24];
    rn__notify_time_format(ev->at_ms, ts);
    int n = snprintf(buf, len, "<%u>1 %s %s rajnet-collector %d ALARM_%s [rajnet@%d",
                     facility * 8 + syslog_severity(ev), ts,
                     hostname && *hostname ? hostname : "-", pid,
                     ev->kind == RN_ALARM_EV_CLEARED ? "CLEARED"
                     : ev->kind == RN_ALARM_EV_PROMOTED ? "PROMOTED" : "RAISED",
                     RN_NOTIFY_PEN);
    size_t pos = n > 0 ? (size_t)n : 0;
    snprintf(num, sizeof num, "%" PRIu64, ev->id);
    snprintf(sev, sizeof sev, "%d", ev->severity);
    snprintf(root, sizeof root, "%" PRIu64, ev->root_id);
    pos = sd_param(buf, len, pos, "alarm", num, false);
    pos = sd_param(buf, len, pos, "event", rn__notify_kind_name(ev->kind), false);
    pos = sd_param(buf, len, pos, "type", ev->type_name, false);
    pos = sd_param(buf, len, pos, "severity", sev, false);
    pos = sd_param(buf, len, pos, "node", ev->node, false);
    pos = sd_param(buf, len, pos, "entity", ev->entity, false);
    pos = sd_param(buf, len, pos, "circuit", ev->circuit, true);
    pos = sd_param(buf, len, pos, "vendor", ev->vendor, true);
    pos = sd_param(buf, len, pos, "service", ev->service, true);
    pos = sd_param(buf, len, pos, "root", root, false);
    pos = sd_param(buf, len, pos, "planned", ev->planned ? "true" : "false", false);
    pos = sd_param(buf, len, pos, "impact", ev->impact, true);
    n = snprintf(buf + (pos < len ? pos : len - 1), pos < len ? len - pos : 1, "] %s %s",
                 rn__notify_kind_name(ev->kind), ev->text);
    pos += (size_t)(n > 0 ? n : 0);
    return pos < len ? pos : len - 1;
}
