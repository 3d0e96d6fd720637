/* The names of the sample sources, the one spelling the agent emits, the wire carries, the
 * collector matches on and the RRD tree is laid out by (<data_dir>/<node>/<source>/...; the API's
 * "source" and rajnetctl graph --source). Their values are in lib/metrics.h, one template each.
 *
 * Macros, not variables, so that they fit static tables (lib/metrics.c, the graph views) and
 * string concatenation. A new source is a protocol change: bump RN_WIRE_VERSION (lib/metrics.h).
 * "tcp" and "http" are also the kinds of a service target (lib/wire.c): a target of kind K emits
 * samples of source K. */
#ifndef RN_SOURCES_H
#define RN_SOURCES_H

#define RN_SRC_IF "if"           /* interface counters and status, SNMP (agent/snmp_poller.h) */
#define RN_SRC_ICMP "icmp"       /* one ICMP echo round to a target (agent/icmp_probe.h) */
#define RN_SRC_TCP "tcp"         /* one TCP connect to a service port (agent/service_probe.h) */
#define RN_SRC_HTTP "http"       /* one HTTP(S) GET of a service URL (agent/service_probe.h) */
#define RN_SRC_RTP "rtp"         /* VC media over one capture interval (agent/vc_quality.h) */
#define RN_SRC_TCPHS "tcphs"     /* passive TCP handshake times, the same capture */
#define RN_SRC_PCAP "pcap"       /* the capture's own packet and drop counters */
#define RN_SRC_UDPECHO "udpecho" /* one UDP echo round with a peer agent (agent/udp_echo.h) */
#define RN_SRC_RTSP "rtsp"       /* one RTSP probe of a police station camera (agent/rtsp_probe.h) */
#define RN_SRC_REC "rec"         /* a police station's recording stream, cameras to NVR, over one
                                  * capture interval (agent/vc_quality.h, recording mode) */
#define RN_SRC_GAUGE "gauge"     /* a device's extra SNMP object, a level (agent/snmp_poller.h) */
#define RN_SRC_COUNTER "counter" /* a device's extra SNMP object, a counter */

#endif
