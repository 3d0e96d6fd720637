/* Sample templates: for each sample source, the number, names and kinds of its values, in the
 * order a wire Sample carries them. The names are also the RRD data-source names (<= 19 chars,
 * [a-z0-9_]), so the collector creates files from this table and nothing else.
 *
 * Adding a source or appending a metric here is a protocol change: bump RN_WIRE_VERSION. */
#ifndef RN_METRICS_H
#define RN_METRICS_H

#include <stddef.h>

typedef enum {
    RN_METRIC_COUNTER, /* monotonically increasing raw counter; stored as DERIVE, min 0 */
    RN_METRIC_GAUGE,   /* a level; stored as GAUGE between min and max */
} rn_metric_kind_t;

typedef struct {
    const char *name;
    rn_metric_kind_t kind;
    double min, max; /* NAN for "no bound"; counters take max from the sample's speed */
} rn_metric_t;

typedef struct {
    const char *source;
    const rn_metric_t *metrics;
    size_t n_metrics;
} rn_template_t;

/* Indexes of the "if" template (interface counters polled over SNMP). */
enum { RN_IF_IN, RN_IF_OUT, RN_IF_INERR, RN_IF_OUTERR, RN_IF_INDISC, RN_IF_OUTDISC, RN_IF_OPER,
       RN_IF_N };
/* Indexes of the "icmp" template (one probe round of echo requests to one target). */
enum { RN_ICMP_RTTMIN, RN_ICMP_RTTAVG, RN_ICMP_RTTMAX, RN_ICMP_RTTSD, RN_ICMP_JITTER,
       RN_ICMP_LOSS, RN_ICMP_SENT, RN_ICMP_RECV, RN_ICMP_N };
/* Indexes of the "tcp" template (one TCP connect to a service port; agent/service_probe.h). */
enum { RN_TCP_CONNECT, RN_TCP_UP, RN_TCP_N };
/* Indexes of the "http" template (one HTTP(S) GET of a service URL; agent/service_probe.h). */
enum { RN_HTTP_STATUS, RN_HTTP_TTFB, RN_HTTP_TOTAL, RN_HTTP_CERTDAYS, RN_HTTP_UP, RN_HTTP_N };

/* Indexes of the "rtp" template (VC media seen by one capture over one interval;
 * agent/vc_quality.h): packets, loss %, RFC 3550 jitter (ms, packet-weighted mean of the
 * streams), estimated MOS, streams. Loss, jitter and MOS are unknown when no stream was seen. */
enum { RN_RTP_PACKETS, RN_RTP_LOST_PCT, RN_RTP_JITTER_MS, RN_RTP_MOS, RN_RTP_STREAMS, RN_RTP_N };
/* Indexes of the "tcphs" template (passive TCP handshake times, SYN -> SYN/ACK, on the same
 * capture): handshakes matched in the interval, their mean time (unknown when none). */
enum { RN_TCPHS_COUNT, RN_TCPHS_RTT_MS, RN_TCPHS_N };

/* Indexes of the "pcap" template (the capture itself over the same interval, from libpcap's
 * pcap_stats): packets the filter passed to the capture, and packets the capture dropped
 * (buffer full, or the interface's own drops). A sequence gap those drops explain is not
 * counted as RTP loss (agent/vc_quality.c). */
enum { RN_PCAP_RECEIVED, RN_PCAP_DROPPED, RN_PCAP_N };

/* Indexes of the "udpecho" template (one probe round of UDP echo with a peer agent;
 * agent/udp_echo.h): RTT mean (ms, reflector's turnaround excluded), forward and backward loss
 * (%), forward and backward RFC 3550 jitter of the one-way transit times (ms; clock offsets
 * cancel), replies that came back out of order, duplicate replies, packets sent and replies
 * taken. RTT, loss and jitter are unknown when nothing came back. */
enum { RN_UDPECHO_RTT, RN_UDPECHO_FWD_LOSS, RN_UDPECHO_BWD_LOSS, RN_UDPECHO_FWD_JITTER,
       RN_UDPECHO_BWD_JITTER, RN_UDPECHO_REORDERED, RN_UDPECHO_DUPLICATES, RN_UDPECHO_SENT,
       RN_UDPECHO_RECV, RN_UDPECHO_N };

/* The "gauge" and "counter" templates: one value, "value", for a device's extra SNMP objects
 * (topology devices[].extra; agent/snmp_poller.h), the object being the extra's name. */
enum { RN_EXTRA_VALUE, RN_EXTRA_N };

/* Indexes of the "rtsp" template (one RTSP OPTIONS probe of a police station's camera;
 * agent/rtsp_probe.h): up (1 a "RTSP/1.0 2xx" answer, 0 not) and the time from the connect's
 * start to the status line (unknown when down). A new source without a version bump: only an
 * agent whose plan holds cameras (Plan.cameras, which older collectors never send) emits it. */
enum { RN_RTSP_UP, RN_RTSP_MS, RN_RTSP_N };

/* Indexes of the "rec" template (a police station's recording stream, its cameras' RTP to its
 * NVR, seen by the RTP tracker over one interval; agent/vc_quality.h): streams that carried
 * packets, their packets, loss % and RFC 3550 jitter (ms, packet-weighted mean). No MOS: video
 * to a recorder is not a conversation. Loss and jitter are unknown when no stream was seen. Like
 * "rtsp", no version bump: only an agent whose plan holds recordings (Plan.recordings) emits it. */
enum { RN_REC_STREAMS, RN_REC_PACKETS, RN_REC_LOSS_PCT, RN_REC_JITTER_MS, RN_REC_N };

/* Returns the template of a source name, or NULL if there is none. */
const rn_template_t *rn_template_find(const char *source);

#endif
