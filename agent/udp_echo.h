/* UDP echo between agents, TWAMP-light in spirit: loss, jitter and reordering in each direction
 * of the path between two agents, which ICMP (round trip only, and often deprioritised by
 * routers) cannot tell apart.
 *
 * Every agent runs a reflector on a UDP port (agent config `udp_echo_port`, default 8862, 0 = off)
 * that answers test packets. The plan names the agent's echo peers; to each, every probe interval,
 * the sender sends `count` packets spread over the interval's first half and, at the round's end,
 * emits one "udpecho" sample (lib/metrics.h) with the peer's node id as its object.
 *
 * The packet (RN_UDP_ECHO_LEN bytes, big-endian; a reply is the request with the reflector's
 * fields filled in, so a reflector never sends more bytes than it got):
 *     0  magic "RNUE"            4  version (1)        5  type (1 request, 2 reply)   6  0
 *     8  sender seq             12  sender session id  16  sender send time (ns, Unix)
 *    24  reflector rx count     28  reflector epoch    32  reflector receive time (ns, Unix)
 *    40  reflector send time (ns, Unix)
 * The reflector counts the requests of each sender session (rx count 1, 2, ...), so the sender
 * tells a request lost on the way out (the count did not move) from a reply lost on the way back
 * (it did). The epoch changes whenever the reflector starts counting a session afresh (restart,
 * or its bounded table evicted the session), and the sender then starts its accounting afresh.
 *
 * Accounting, per peer: at the end of a round the replies are taken in sequence order up to the
 * highest sequence answered; over the packets sent since the last answered one of the rounds
 * before, forward loss = sent - (reflector's count now - its count then), backward loss =
 * (counted by the reflector) - (replies); so the unanswered tail of a round is judged with the
 * next round, once a later reply says whether the reflector saw it. Jitter is RFC 3550's running
 * estimate (gain 1/16) over the one-way transit times of each direction (reflector receive - our
 * send; our receive - reflector send): the hosts' clock offset cancels in the differences. RTT
 * excludes the reflector's turnaround, and is measured on our monotonic clock (send and receive
 * times; the reflector's send time is its receive time plus the turnaround on its monotonic
 * clock), so a wall-clock step on either host changes no RTT. A round without any reply gives
 * unknown RTT, loss and jitter. Receive times are the kernel's (SO_TIMESTAMPNS) on both ends.
 *
 * The reflector answers only the plan's echo peers (their addresses; the pairs are symmetric, so
 * whom an agent asks is who asks it), rate-limited per source address, and the sender asks from
 * its own plan address (rn_udp_echo_set_source) so that the peer recognises it. */
#ifndef RN_UDP_ECHO_H
#define RN_UDP_ECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "sample.h"
#include "wire.h"

#define RN_UDP_ECHO_DEFAULT_PORT 8862
#define RN_UDP_ECHO_LEN 48
#define RN_UDP_ECHO_VERSION 1
#define RN_UDP_ECHO_MAX_SENDERS 256 /* sender sessions a reflector keeps counting */
#define RN_UDP_ECHO_SENDER_PPS 200  /* replies per second to one source address (burst 2 s) */
#define RN_UDP_ECHO_TOTAL_PPS 5000  /* replies per second in all (burst 1 s) */

enum { RN_UDP_ECHO_REQUEST = 1, RN_UDP_ECHO_REPLY = 2 };

/* One test packet, decoded. */
typedef struct {
    uint8_t type;
    uint32_t seq, session;
    int64_t tx_ns;
    uint32_t refl_count, refl_epoch;
    int64_t refl_rx_ns, refl_tx_ns;
} rn_udp_echo_pkt_t;

/* Decodes a datagram. Returns 0, or -EBADMSG when it is not exactly RN_UDP_ECHO_LEN bytes with
 * our magic, version and a known type. Reads nothing beyond buf[len). */
int rn_udp_echo_parse(const uint8_t *buf, size_t len, rn_udp_echo_pkt_t *out);

/* Encodes pkt into buf. */
void rn_udp_echo_encode(const rn_udp_echo_pkt_t *pkt, uint8_t buf[RN_UDP_ECHO_LEN]);

/* The reflector's per-sender state, without sockets (so it can be fuzzed): at most max_senders
 * sessions, the least recently heard one evicted for a new one. Rates are limited per source
 * address (RN_UDP_ECHO_SENDER_PPS, however many sessions or ports it uses) and in all. A new
 * table answers any address (the fuzz target and the table tests rely on that); the module
 * restricts its table to the plan's echo peers (rn_udp_echo_table_allow) before it answers. */
typedef struct rn_udp_echo_table rn_udp_echo_table_t;

/* Returns 0 or -ENOMEM. */
int rn_udp_echo_table_new(size_t max_senders, rn_udp_echo_table_t **out);
void rn_udp_echo_table_free(rn_udp_echo_table_t *t);

/* From now on answers only requests from these addresses (ports ignored; n 0: nobody).
 * Returns 0 or -ENOMEM (the table is unchanged). */
int rn_udp_echo_table_allow(rn_udp_echo_table_t *t, const struct sockaddr_storage *addrs,
                            size_t n);

/* Answers the datagram req from `from`, received at rx_ns (Unix ns) when the monotonic clock read
 * now_ns; tx_ns is the send time to put in the reply. Returns true with the reply in `reply`, or
 * false when the datagram is to be dropped: not a well-formed request, not from an allowed
 * address, or over its address's or the total rate. */
bool rn_udp_echo_table_answer(rn_udp_echo_table_t *t, const struct sockaddr *from,
                              socklen_t from_len, const uint8_t *req, size_t len, int64_t rx_ns,
                              int64_t tx_ns, uint64_t now_ns, uint8_t reply[RN_UDP_ECHO_LEN]);

/* Requests dropped since the table was made: malformed, not from a peer, over a rate. */
typedef struct {
    uint64_t answered, malformed, rate_limited, evicted, refused;
} rn_udp_echo_table_stats_t;
void rn_udp_echo_table_stats(const rn_udp_echo_table_t *t, rn_udp_echo_table_stats_t *out);

typedef struct rn_udp_echo rn_udp_echo_t;

/* Creates the module with no peers and no reflector. emit/ctx receive every sample. Opens the
 * sender's sockets (IPv4, and IPv6 where the host has it). Returns 0 or a negative errno. */
int rn_udp_echo_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx, rn_udp_echo_t **out);

/* Starts the reflector on addr:port (addr NULL: every address, IPv4 and IPv6 where there is
 * IPv6; port 0: one the kernel picks, see rn_udp_echo_reflector_port). Returns 0 or a negative
 * errno (logged, e.g. -EADDRINUSE); the sender works either way. */
int rn_udp_echo_reflect(rn_udp_echo_t *e, const char *addr, uint16_t port);

/* The reflector answers only these peers' addresses (ports ignored), as rn_udp_echo_set_peers
 * also sets them; before either call it answers nobody. Returns 0 or -ENOMEM. */
int rn_udp_echo_allow(rn_udp_echo_t *e, Rn__EchoPeer *const *peers, size_t n);

/* The address peers know this node by (the collector gives them the node's first device; the
 * agent passes its plan's): requests leave from it, so the peer's reflector recognises them,
 * where the route alone would pick another (a parent's link address). NULL: the route picks.
 * Returns 0, -EINVAL (not numeric) or a bind error when it is not an address of this host
 * (logged; the route picks). */
int rn_udp_echo_set_source(rn_udp_echo_t *e, const char *addr);

/* Returns the reflector's bound port, 0 when it does not run. */
uint16_t rn_udp_echo_reflector_port(const rn_udp_echo_t *e);

/* Replaces the peers (copied from the borrowed array), the interval and the packets per round
 * for peers that do not set their own count; a round in flight is abandoned. A peer whose
 * address does not parse is skipped with a log line naming it; a peer without a port gets
 * RN_UDP_ECHO_DEFAULT_PORT. The first round starts within a tenth of the interval (at most
 * 100 ms). Returns 0, -EINVAL (interval 0) or -ENOMEM. */
int rn_udp_echo_set_peers(rn_udp_echo_t *e, Rn__EchoPeer *const *peers, size_t n,
                          uint32_t interval_s, uint32_t default_count);

/* Stops, and frees the module once every handle is closed; cb (may be NULL) fires then. */
void rn_udp_echo_close(rn_udp_echo_t *e, void (*cb)(void *data), void *data);

/* Test hook: called before each request (reply false) and each reply (reply true) is sent, with
 * the packet's sender seq; returning true drops the packet as a lossy path would. fn NULL (the
 * default) turns it off. Borrowed ctx; the hook must not call back into the module. */
typedef bool (*rn_udp_echo_drop_fn)(void *ctx, bool reply, uint32_t seq);
void rn_udp_echo_set_drop_hook(rn_udp_echo_t *e, rn_udp_echo_drop_fn fn, void *ctx);

/* The reflector's counters (all zero when it does not run). */
void rn_udp_echo_reflector_stats(const rn_udp_echo_t *e, rn_udp_echo_table_stats_t *out);

#endif
