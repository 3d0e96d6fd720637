/* Report messages: "the monthly SLA reports of YYYY-MM are written", the notifier's second kind
 * of notification besides alarm events (contract in notify.h, "Report messages").
 *
 * Why here and not in the report code: a report is delivered by the same webhooks and exec hooks
 * that page the NOC, and must get the same queue per channel, retries with backoff, exec timeout
 * and journal; one delivery path, whatever the message.
 *
 * Payload (the webhook body, the exec hook's stdin and the journal record, keys in this order):
 *   { "source": "rajnet-collector", "event": "report", "at": "2024-06-01T00:05:00.000Z",
 *     "at_ms": 1717200300000, "month": "2024-05", "files": [ "/var/lib/rajnet/reports/…" ] }
 *
 * Pure functions: no I/O, no clock reads. */
#include "notify/notify_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fills the alarm strings of a report notification with "" (the transports and the event's free
 * expect them set). Returns 0 or -1 when out of memory. */
static int empty_alarm_fields(rn__notify_event_t *ev)
{
    char **f[] = { &ev->type_name, &ev->node, &ev->entity, &ev->vendor, &ev->circuit,
                   &ev->service, &ev->impact, &ev->text };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!(*f[i] = strdup("")))
            return -1;
    return 0;
}

/* A new report notification with month and files copied, no JSON yet. NULL when out of memory. */
static rn__notify_event_t *report_alloc(const char *month, const char *files, int64_t at_ms)
{
    rn__notify_event_t *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->msg = RN_NOTIFY_REPORTS;
    ev->at_ms = at_ms;
    ev->month = strdup(month ? month : "");
    ev->files = strdup(files ? files : "");
    if (!ev->month || !ev->files || empty_alarm_fields(ev) != 0) {
        rn__notify_event_free(ev);
        return NULL;
    }
    return ev;
}

/* The files (one a line, empty lines skipped) as a new JSON array. NULL when out of memory. */
static json_t *files_array(const char *files)
{
    json_t *list = json_array();
    for (const char *p = files; list && *p;) {
        size_t k = strcspn(p, "\n");
        if (k > 0 && json_array_append_new(list, json_stringn(p, k)) != 0) {
            json_decref(list);
            return NULL;
        }
        p += k + (p[k] == '\n');
    }
    return list;
}

rn__notify_event_t *rn__notify_report_new(const char *month, const char *files, int64_t at_ms)
{
    rn__notify_event_t *ev = report_alloc(month, files, at_ms);
    json_t *list = ev ? files_array(ev->files) : NULL;
    char at[32];
    if (!list) {
        rn__notify_event_free(ev);
        return NULL;
    }
    rn__notify_time_format(at_ms, at);
    json_t *root = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "source", "rajnet-collector",
                             "event", "report", "at", at, "at_ms", (json_int_t)at_ms, "month",
                             ev->month, "files", list); /* "o" takes list, even on failure */
    ev->json = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!ev->json) {
        rn__notify_event_free(ev);
        return NULL;
    }
    return ev;
}

rn__notify_event_t *rn__notify_report_from_json(const char *json)
{
    json_t *root = json_loads(json, 0, NULL), *list = NULL;
    const char *event = NULL, *month = NULL;
    json_int_t at = 0;
    if (!root || json_unpack(root, "{s:s, s:I, s:s, s:o}", "event", &event, "at_ms", &at,
                             "month", &month, "files", &list) != 0 ||
        strcmp(event, "report") != 0 || !json_is_array(list)) {
        json_decref(root);
        return NULL;
    }
    size_t len = 1, i;
    json_t *f;
    json_array_foreach(list, i, f) {
        if (json_is_string(f))
            len += strlen(json_string_value(f)) + 1;
    }
    char *files = calloc(1, len);
    json_array_foreach(list, i, f) {
        if (files && json_is_string(f) && !strchr(json_string_value(f), '\n'))
            strcat(strcat(files, json_string_value(f)), "\n");
    }
    rn__notify_event_t *ev = files ? report_alloc(month, files, (int64_t)at) : NULL;
    if (ev && !(ev->json = strdup(json))) {
        rn__notify_event_free(ev);
        ev = NULL;
    }
    free(files);
    json_decref(root);
    return ev;
}

const char *rn__notify_event_label(const rn__notify_event_t *ev, char *buf, size_t len)
{
    if (ev->msg == RN_NOTIFY_REPORTS)
        snprintf(buf, len, "report %s", ev->month);
    else
        snprintf(buf, len, "alarm %" PRIu64 " (%s, %s)", ev->id, rn__notify_kind_name(ev->kind),
                 ev->node);
    return buf;
}
