/* The alarm vocabulary: the one spelling of each alarm type, severity and event kind, and the
 * parsers that take the older spellings too (docs/api.md, "Vocabulary"; the table in alarm.h).
 *
 * Why a file of its own: the event store, the API, the notifiers and the reports all print or
 * match these words, and when each kept its own table the same alarm was "link down" in the
 * history, "link_down" in the API and "VC_quality_low" against "vc_quality" for one type. Every
 * writer now takes its words from here, the event store's schema 5 rewrote the stored rows, and
 * the parsers keep reading what older collectors wrote (notification journals, hand-made rows). */
#include <errno.h>
#include <string.h>

#include "alarm/alarm.h"

static const char *const type_names[RN_ALARM_TYPE_COUNT] = {
    [RN_ALARM_LINK_DOWN] = "link_down",
    [RN_ALARM_LINK_DEGRADED] = "link_degraded",
    [RN_ALARM_LINK_FLAPPING] = "link_flapping",
    [RN_ALARM_NODE_SILENT] = "node_silent",
    [RN_ALARM_NODE_ISOLATED] = "node_isolated",
    [RN_ALARM_REDUNDANCY_LOST] = "redundancy_lost",
    [RN_ALARM_SERVICE_UNREACHABLE] = "service_unreachable",
    [RN_ALARM_PATH_LOST] = "path_lost",
    [RN_ALARM_VC_QUALITY] = "vc_quality",
    [RN_ALARM_AGENT_DOWN] = "agent_down",
    [RN_ALARM_SERVICE_DOWN] = "service_down",
    [RN_ALARM_CERT_EXPIRING] = "cert_expiring",
    [RN_ALARM_DEVICE_REPLACED] = "device_replaced",
    [RN_ALARM_CONTRACT_EXPIRING] = "contract_expiring",
    [RN_ALARM_CAMERA_OFFLINE] = "camera_offline",
    [RN_ALARM_RECORDING_DEGRADED] = "recording_degraded",
};

/* The older spellings that folding (case, ' ' and '-' to '_') does not bring to a name above:
 * the event store's words before schema 5 ("VC quality low", "certificate expiring") and the
 * API's answers made from them. */
static const struct {
    const char *folded;
    rn_alarm_type_t type;
} type_aliases[] = {
    { "vc_quality_low", RN_ALARM_VC_QUALITY },
    { "certificate_expiring", RN_ALARM_CERT_EXPIRING },
};

static const char *const severity_names[] = { [1] = "S1", [2] = "S2", [3] = "S3" };

/* The MIB's labels of rnAlarmSeverity (mibs/RAJNET-MONITOR-MIB.txt) and what the event store's
 * callers once wrote: the same three levels. */
static const char *const severity_words[] = { [1] = "critical", [2] = "major", [3] = "minor" };

static const char *const event_names[] = {
    [RN_ALARM_EV_RAISED] = "raised",
    [RN_ALARM_EV_SYMPTOM_OF] = "symptom_of",
    [RN_ALARM_EV_PROMOTED] = "promoted",
    [RN_ALARM_EV_CLEARED] = "cleared",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Copies s into out (size n) in lower case with ' ' and '-' as '_'. Returns false when s is
 * NULL, empty or does not fit (no name is that long). */
static bool fold(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s && s[i]; i++) {
        if (i + 1 >= n)
            return false;
        char c = s[i];
        out[i] = c == ' ' || c == '-' ? '_' : c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[i] = '\0';
    return i > 0;
}

const char *rn_alarm_type_name(rn_alarm_type_t type)
{
    return (unsigned)type < RN_ALARM_TYPE_COUNT ? type_names[type] : "unknown";
}

int rn_alarm_type_parse(const char *s)
{
    char f[64];
    if (!fold(s, f, sizeof f))
        return -EINVAL;
    for (size_t i = 0; i < RN_ALARM_TYPE_COUNT; i++)
        if (strcmp(f, type_names[i]) == 0)
            return (int)i;
    for (size_t i = 0; i < N(type_aliases); i++)
        if (strcmp(f, type_aliases[i].folded) == 0)
            return (int)type_aliases[i].type;
    return -EINVAL;
}

const char *rn_alarm_type_canonical(const char *s)
{
    int t = rn_alarm_type_parse(s);
    return t >= 0 ? type_names[t] : s;
}

const char *rn_alarm_severity_name(int severity)
{
    return severity >= 1 && severity <= 3 ? severity_names[severity] : "S3";
}

int rn_alarm_severity_parse(const char *s)
{
    char f[16];
    if (!fold(s, f, sizeof f))
        return -EINVAL;
    for (int i = 1; i <= 3; i++) {
        char digit[2] = { (char)('0' + i), '\0' };
        if ((f[0] == 's' && strcmp(f + 1, digit) == 0) || strcmp(f, digit) == 0 ||
            strcmp(f, severity_words[i]) == 0)
            return i;
    }
    return -EINVAL;
}

const char *rn_alarm_event_name(rn_alarm_event_kind_t kind)
{
    return (unsigned)kind < N(event_names) ? event_names[kind] : "unknown";
}

int rn_alarm_event_parse(const char *s)
{
    char f[32];
    if (!fold(s, f, sizeof f))
        return -EINVAL;
    if (strcmp(f, "symptom") == 0) /* the notifiers' word before the vocabulary was one */
        return RN_ALARM_EV_SYMPTOM_OF;
    for (size_t i = 0; i < N(event_names); i++)
        if (strcmp(f, event_names[i]) == 0)
            return (int)i;
    return -EINVAL;
}
