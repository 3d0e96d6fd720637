/* ICMP echo prober: each probe interval sends `count` echo requests to every target, spread over
 * the interval's first half, and emits one "icmp" sample per target with RTT min/avg/max/stddev,
 * jitter, loss %, sent and received.
 *
 * Uses an unprivileged ICMP datagram socket (net.ipv4.ping_group_range) where the kernel allows,
 * a raw socket otherwise (needs CAP_NET_RAW); IPv4 and IPv6. Receive times come from the kernel
 * (SO_TIMESTAMPNS), so loop latency does not inflate RTTs; RTTs are on the monotonic clock, so a
 * wall-clock step changes none (samples keep wall-clock time stamps). */
#ifndef RN_ICMP_PROBE_H
#define RN_ICMP_PROBE_H

#include <uv.h>

#include "sample.h"
#include "wire.h"

typedef struct rn_icmp_prober rn_icmp_prober_t;

/* Creates a prober with no targets. Opens its sockets. Returns 0 or a negative error. */
int rn_icmp_prober_new(uv_loop_t *loop, rn_sample_fn emit, void *ctx, rn_icmp_prober_t **out);

/* Replaces the targets (copies from the borrowed array), the interval, and the echo requests per
 * round for targets that do not set their own count. Returns 0 or a negative error; a target
 * whose address does not parse is skipped with a log line naming it. */
int rn_icmp_prober_set_targets(rn_icmp_prober_t *p, Rn__IcmpTarget *const *targets, size_t n,
                               uint32_t interval_s, uint32_t default_count);

/* Stops probing and frees the prober once every handle is closed; cb (may be NULL) fires then. */
void rn_icmp_prober_close(rn_icmp_prober_t *p, void (*cb)(void *data), void *data);

/* Benchmark hook: called for every echo request sent, with the monotonic time it was due and the
 * monotonic time it was handed to the kernel (both ns). fn NULL (the default) turns it off.
 * Borrowed ctx; the hook must not call back into the prober. */
typedef void (*rn_icmp_send_hook_fn)(void *ctx, uint64_t due_ns, uint64_t sent_ns);
void rn_icmp_prober_set_send_hook(rn_icmp_prober_t *p, rn_icmp_send_hook_fn fn, void *ctx);

/* The statistics of one round, exposed for unit tests: rtts_ms holds the received RTTs in send
 * order, n_recv of them out of n_sent. */
typedef struct {
    double min, avg, max, sd, jitter, loss_pct;
} rn_icmp_stats_t;
void rn_icmp_stats(const double *rtts_ms, size_t n_recv, size_t n_sent, rn_icmp_stats_t *out);

#endif
