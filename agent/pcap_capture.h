/* Packet capture: the agent's only libpcap user (STYLE.md, adapters own outside libraries).
 *
 * One capture is one interface, opened with pcap_create/pcap_activate (snap length small: headers
 * only; immediate mode; nanosecond kernel timestamps), a BPF filter compiled from the plan's
 * expression, and non-blocking. Its selectable fd is watched by a uv_poll_t; when it is
 * readable, pcap_dispatch hands each captured frame to the callback. Frames are never copied.
 *
 * Privileges: capture needs CAP_NET_RAW. The capability is raised in the effective set only
 * around pcap_activate and cleared from it afterwards (agent/privs.h); once the agent has applied
 * its first plan it gives the capability up altogether, and a capture opened later fails with
 * -EPERM (the agent then restarts to open it: agent.h). */
#ifndef RN_PCAP_CAPTURE_H
#define RN_PCAP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define RN_PCAP_SNAPLEN 128 /* Ethernet + VLAN + IPv6 + UDP + RTP with CSRCs, or RTCP SR start */

/* Receives one frame: dlt is libpcap's link type (DLT_*, the values rtp_track.h spells out),
 * time_ns the kernel's capture time (Unix ns), data/caplen the captured bytes (borrowed until
 * the call returns), len the frame's length on the wire. */
typedef void (*rn_pcap_frame_fn)(void *ctx, int dlt, int64_t time_ns, const uint8_t *data,
                                 size_t caplen, size_t len);

typedef struct rn_pcap_capture rn_pcap_capture_t;

/* Opens ifname with the BPF filter expression (pcap-filter(7); "" captures everything) and
 * starts delivering frames to cb on loop. Returns 0, or a negative error with the reason in err
 * (permission, no such interface, filter syntax): -EPERM, -ENODEV, -EINVAL, -ENOMEM, -EIO. */
int rn_pcap_capture_open(uv_loop_t *loop, const char *ifname, const char *filter,
                         rn_pcap_frame_fn cb, void *ctx, rn_pcap_capture_t **out, char *err,
                         size_t err_len);

/* Frames the kernel received for, and dropped from, this capture since it opened (pcap_stats);
 * both 0 if libpcap cannot say. */
void rn_pcap_capture_stats(rn_pcap_capture_t *c, uint64_t *received, uint64_t *dropped);

/* Stops delivering at once (no callback after this returns), closes the capture, and frees it
 * once its poll handle is closed; done (may be NULL) fires then. */
void rn_pcap_capture_close(rn_pcap_capture_t *c, void (*done)(void *data), void *data);

#endif
