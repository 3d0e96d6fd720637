#include "metrics.h"

#include <math.h>
#include <string.h>

#include "sources.h"

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

static const rn_metric_t tcp_metrics[RN_TCP_N] = {
    [RN_TCP_CONNECT] = { "connect_ms", RN_METRIC_GAUGE, 0, NAN }, /* unknown when it failed */
    [RN_TCP_UP] = { "up", RN_METRIC_GAUGE, 0, 1 },                /* 1 connected, 0 not */
};

static const rn_metric_t http_metrics[RN_HTTP_N] = {
    [RN_HTTP_STATUS] = { "status", RN_METRIC_GAUGE, 100, 999 },  /* unknown: no response */
    [RN_HTTP_TTFB] = { "ttfb_ms", RN_METRIC_GAUGE, 0, NAN },     /* request start to first byte */
    [RN_HTTP_TOTAL] = { "total_ms", RN_METRIC_GAUGE, 0, NAN },
    [RN_HTTP_CERTDAYS] = { "cert_days", RN_METRIC_GAUGE, NAN, NAN }, /* unknown: http, bad cert */
    [RN_HTTP_UP] = { "up", RN_METRIC_GAUGE, 0, 1 },              /* 1: a 2xx/3xx answer */
};

/* VC media quality (agent/vc_quality.h) */
static const rn_metric_t rtp_metrics[RN_RTP_N] = {
    [RN_RTP_PACKETS] = { "packets", RN_METRIC_GAUGE, 0, NAN },
    [RN_RTP_LOST_PCT] = { "lost_pct", RN_METRIC_GAUGE, 0, 100 },
    [RN_RTP_JITTER_MS] = { "jitter_ms", RN_METRIC_GAUGE, 0, NAN },
    [RN_RTP_MOS] = { "mos", RN_METRIC_GAUGE, 1, 5 },
    [RN_RTP_STREAMS] = { "streams", RN_METRIC_GAUGE, 0, NAN },
};

static const rn_metric_t tcphs_metrics[RN_TCPHS_N] = {
    [RN_TCPHS_COUNT] = { "handshakes", RN_METRIC_GAUGE, 0, NAN },
    [RN_TCPHS_RTT_MS] = { "rtt_ms", RN_METRIC_GAUGE, 0, NAN },
};

/* the capture's own counters (agent/vc_quality.h) */
static const rn_metric_t pcap_metrics[RN_PCAP_N] = {
    [RN_PCAP_RECEIVED] = { "received", RN_METRIC_GAUGE, 0, NAN },
    [RN_PCAP_DROPPED] = { "dropped", RN_METRIC_GAUGE, 0, NAN },
};

/* UDP echo between agents (agent/udp_echo.h) */
static const rn_metric_t udpecho_metrics[RN_UDPECHO_N] = {
    [RN_UDPECHO_RTT] = { "rtt_ms", RN_METRIC_GAUGE, 0, NAN },
    [RN_UDPECHO_FWD_LOSS] = { "fwd_loss", RN_METRIC_GAUGE, 0, 100 },      /* percent */
    [RN_UDPECHO_BWD_LOSS] = { "bwd_loss", RN_METRIC_GAUGE, 0, 100 },
    [RN_UDPECHO_FWD_JITTER] = { "fwd_jitter_ms", RN_METRIC_GAUGE, 0, NAN },
    [RN_UDPECHO_BWD_JITTER] = { "bwd_jitter_ms", RN_METRIC_GAUGE, 0, NAN },
    [RN_UDPECHO_REORDERED] = { "reordered", RN_METRIC_GAUGE, 0, NAN },
    [RN_UDPECHO_DUPLICATES] = { "duplicates", RN_METRIC_GAUGE, 0, NAN },
    [RN_UDPECHO_SENT] = { "sent", RN_METRIC_GAUGE, 0, NAN },
    [RN_UDPECHO_RECV] = { "recv", RN_METRIC_GAUGE, 0, NAN },
};

/* extra SNMP objects of a device (topology devices[].extra) */
static const rn_metric_t extra_gauge_metrics[RN_EXTRA_N] = {
    [RN_EXTRA_VALUE] = { "value", RN_METRIC_GAUGE, NAN, NAN },
};
static const rn_metric_t extra_counter_metrics[RN_EXTRA_N] = {
    [RN_EXTRA_VALUE] = { "value", RN_METRIC_COUNTER, 0, NAN },
};

/* police station cameras (agent/rtsp_probe.h) */
static const rn_metric_t rtsp_metrics[RN_RTSP_N] = {
    [RN_RTSP_UP] = { "up", RN_METRIC_GAUGE, 0, 1 },
    [RN_RTSP_MS] = { "rtsp_ms", RN_METRIC_GAUGE, 0, NAN },
};

/* police station recording streams (agent/vc_quality.h, recording mode) */
static const rn_metric_t rec_metrics[RN_REC_N] = {
    [RN_REC_STREAMS] = { "streams", RN_METRIC_GAUGE, 0, NAN },
    [RN_REC_PACKETS] = { "packets", RN_METRIC_GAUGE, 0, NAN },
    [RN_REC_LOSS_PCT] = { "loss_pct", RN_METRIC_GAUGE, 0, 100 },
    [RN_REC_JITTER_MS] = { "jitter_ms", RN_METRIC_GAUGE, 0, NAN },
};

static const rn_template_t templates[] = {
    { RN_SRC_IF, if_metrics, RN_IF_N },
    { RN_SRC_ICMP, icmp_metrics, RN_ICMP_N },
    { RN_SRC_TCP, tcp_metrics, RN_TCP_N },
    { RN_SRC_HTTP, http_metrics, RN_HTTP_N },
    { RN_SRC_RTP, rtp_metrics, RN_RTP_N },     /* VC media quality */
    { RN_SRC_TCPHS, tcphs_metrics, RN_TCPHS_N },
    { RN_SRC_PCAP, pcap_metrics, RN_PCAP_N },  /* capture drops */
    { RN_SRC_GAUGE, extra_gauge_metrics, RN_EXTRA_N },     /* extra SNMP objects */
    { RN_SRC_COUNTER, extra_counter_metrics, RN_EXTRA_N },
    { RN_SRC_UDPECHO, udpecho_metrics, RN_UDPECHO_N }, /* UDP echo between agents */
    { RN_SRC_RTSP, rtsp_metrics, RN_RTSP_N },          /* police station cameras */
    { RN_SRC_REC, rec_metrics, RN_REC_N },             /* their recording streams */
};

const rn_template_t *rn_template_find(const char *source)
{
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].source, source) == 0)
            return &templates[i];
    return NULL;
}
