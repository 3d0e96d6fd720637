#include "metrics.h"

#include <math.h>
#include <string.h>

static const rn_metric_t if_metrics[RN_IF_N] = {
    [RN_IF_IN] = { "in", RN_METRIC_COUNTER, 0, NAN },
    [RN_IF_OUT] = { "out", RN_METRIC_COUNTER, 0, NAN },
    [RN_IF_INERR] = { "inerr", RN_METRIC_COUNTER, 0, NAN },
    [RN_IF_OUTERR] = { "outerr", RN_METRIC_COUNTER, 0, NAN },
    [RN_IF_INDISC] = { "indisc", RN_METRIC_COUNTER, 0, NAN },
    [RN_IF_OUTDISC] = { "outdisc", RN_METRIC_COUNTER, 0, NAN },
    [RN_IF_OPER] = { "oper", RN_METRIC_GAUGE, 1, 7 }, /* IF-MIB ifOperStatus: 1 up .. 7 lowerLayerDown */
};

static const rn_metric_t icmp_metrics[RN_ICMP_N] = {
    [RN_ICMP_RTTMIN] = { "rttmin", RN_METRIC_GAUGE, 0, NAN }, /* milliseconds */
    [RN_ICMP_RTTAVG] = { "rttavg", RN_METRIC_GAUGE, 0, NAN },
    [RN_ICMP_RTTMAX] = { "rttmax", RN_METRIC_GAUGE, 0, NAN },
    [RN_ICMP_RTTSD] = { "rttsd", RN_METRIC_GAUGE, 0, NAN },
    [RN_ICMP_JITTER] = { "jitter", RN_METRIC_GAUGE, 0, NAN }, /* mean |rtt[i] - rtt[i-1]| */
    [RN_ICMP_LOSS] = { "loss", RN_METRIC_GAUGE, 0, 100 },     /* percent */
    [RN_ICMP_SENT] = { "sent", RN_METRIC_GAUGE, 0, NAN },
    [RN_ICMP_RECV] = { "recv", RN_METRIC_GAUGE, 0, NAN },
};

static const rn_template_t templates[] = {
    { "if", if_metrics, RN_IF_N },
    { "icmp", icmp_metrics, RN_ICMP_N },
};

const rn_template_t *rn_template_find(const char *source)
{
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].source, source) == 0)
            return &templates[i];
    return NULL;
}
