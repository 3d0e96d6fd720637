/* Uplink to the collector (see uplink.h). Each connection attempt is one TLS stream; its
 * callbacks check that the stream is still the current one, so a late callback of an old stream
 * can never touch a new one. Two timers:
 *   - `timer` runs the attempt (TCP connect, then the handshake), then waits for the collector's
 *     first heartbeat (`ready`), and between attempts is the reconnect backoff;
 *   - `beat` sends a heartbeat every RN_UPLINK_HEARTBEAT_MS while connected, and checks the
 *     silence: every byte received moves `last_rx` (a cheap store, no timer call per read); when
 *     the check finds less than RN_UPLINK_SILENCE_MS since then, it sleeps until that would be
 *     reached, so the dead session is seen within a timer tick of 3 heartbeats. */
#include "uplink.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "tls.h"

/* Reconnecting. After a lost connection the first attempt follows in about 1 s, and attempts
 * repeat every 3 to 4.4 s while the path stays dead: an attempt waits CONNECT_TIMEOUT_MS for TCP
 * (its SYN, and the kernel's one retransmission at 1 s), then backs off 1 s doubling to
 * BACKOFF_MAX_MS, +-20% jitter. After the heal the next SYN is therefore at most ~3.4 s away,
 * which the target of being current within 15 s of a heal needs (replay takes most of it).
 * Why not faster: after a state-wide outage (the SDC's own uplink black-holed) thousands of
 * agents are in this loop at once; each attempt on the dead path costs one SYN and its
 * retransmission, ~0.5 SYN/s per agent, 5,000/s for 10,000 agents, which a collector host
 * absorbs (SYN cookies) but should not be asked to multiply. The jitter spreads the crowd's
 * TLS handshakes after the heal over ~4 s instead of one instant. Why not the old 30 s cap: a
 * 10-minute cut would leave an agent up to 30 s behind the heal before it even tried. */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 2000
#define CONNECT_TIMEOUT_MS 2000
#define ATTEMPT_TIMEOUT_MS 15000    /* TCP connect plus handshake */
/* The kernel's own bound on unacknowledged data (TCP_USER_TIMEOUT): a backstop behind the
 * silence check, and what ends the socket we closed on a dead path instead of letting it
 * retransmit its queue for the ~15 minutes of tcp_retries2. Keepalive (lib/tls.c, 30 s idle)
 * never fires here: heartbeats keep the connection busy. */
#define USER_TIMEOUT_MS (RN_UPLINK_SILENCE_MS + 5000)
/* Failover (uplink.h): while connected to any collector but the first, the first is probed (TCP
 * and a TLS handshake, no hello) after PROBE_MIN_MS, doubling to PROBE_MAX_MS while it stays
 * away: 30 s to 5 min with 5 s heartbeats. An answer moves the session back to it. */
#define PROBE_MIN_MS (6 * RN_UPLINK_HEARTBEAT_MS)
#define PROBE_MAX_MS (60 * RN_UPLINK_HEARTBEAT_MS)
/* Frames shorter than this are sent as they are: a lone small batch hardly compresses. */
#define COMPRESS_MIN_BYTES 512

struct rn_uplink {
    uv_loop_t *loop;
    const rn_agent_config_t *config;
    size_t next_collector;
    rn_uplink_cbs_t cbs;
    void *ctx;
    rn_tls_ctx_t *tls;
    uv_timer_t timer, beat, probe_timer;
    rn_tls_stream_t *stream;   /* the current attempt or connection, or NULL */
    rn_tls_stream_t *probe;    /* a probe of the first collector (failover), or NULL */
    uint32_t probe_ms;         /* the probe backoff */
    int streams_open;          /* streams whose close callback has not run yet */
    int timers_open;
    bool connected, ready, closing;
    bool peer_zlib;            /* the collector reads compressed frames (its heartbeat said so) */
    uint32_t peer_codings;     /* its heartbeat's codings: also Inventory frames (bit 1) */
    uint32_t backoff_ms;
    uint64_t last_rx;          /* uv_now() of the last byte from the collector */
    uint64_t beat_at;          /* uv_now() when the next heartbeat is due */
    rn_mono_ns_t lost_at;      /* when the last connection was lost, or 0 */
    uint32_t failed;           /* attempts failed since then (only the first is logged) */
    rn_wire_reader_t reader;
    void (*close_cb)(void *);
    void *close_data;
};

static void start_connect(rn_uplink_t *u);
static void end_probe(rn_uplink_t *u, bool again);

static const rn_hostport_t *current(const rn_uplink_t *u)
{
    return &u->config->collectors[u->next_collector];
}

static void maybe_free(rn_uplink_t *u)
{
    if (!u->closing || u->timers_open > 0 || u->streams_open > 0)
        return;
    rn_wire_reader_free(&u->reader);
    rn_tls_ctx_free(u->tls);
    if (u->close_cb)
        u->close_cb(u->close_data);
    free(u);
}

static void on_stream_closed(void *data)
{
    rn_uplink_t *u = data;
    u->streams_open--;
    maybe_free(u);
}

static void on_backoff(uv_timer_t *t)
{
    start_connect(t->data);
}

/* Logs why an attempt or a connection ended: a lost connection and the first failed attempt
 * after it as warnings, the attempts after that at debug level (on a dead path there is one
 * every few seconds; the connect that ends the run says how many there were). */
static void log_drop(rn_uplink_t *u, bool was_connected, const char *why)
{
    const rn_hostport_t *hp = current(u);
    if (was_connected || u->failed == 0)
        rn_warn("collector %s:%u: %s%s", hp->host, hp->port, why,
                was_connected ? "" : "; retrying every few seconds (debug log: each attempt)");
    else
        rn_debug("collector %s:%u: %s (attempt %" PRIu32 " since the loss)", hp->host, hp->port,
                 why, u->failed + 1);
}

/* Schedules the next attempt after the backoff with +-20% jitter: at the first collector after a
 * session (the preferred one: see uplink.h), else at the next one in the list. */
static void schedule_retry(rn_uplink_t *u, bool from_top)
{
    u->next_collector = from_top ? 0 : (u->next_collector + 1) % u->config->n_collectors;
    uint32_t jitter = (uint32_t)(rand() % (int)(u->backoff_ms * 2 / 5 + 1));
    uint32_t wait = u->backoff_ms - u->backoff_ms / 5 + jitter;
    u->backoff_ms = u->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : u->backoff_ms * 2;
    uv_timer_start(&u->timer, on_backoff, wait, 0);
}

/* Drops the current connection or attempt and schedules the next attempt. */
static void drop(rn_uplink_t *u, const char *why)
{
    rn_tls_stream_t *s = u->stream;
    if (!s)
        return;
    bool was_connected = u->connected;
    u->stream = NULL;
    end_probe(u, false);
    u->connected = u->ready = u->peer_zlib = false;
    u->peer_codings = 0;
    uv_timer_stop(&u->beat);
    uv_timer_stop(&u->timer);
    rn_tls_stream_close(s, on_stream_closed, u);
    rn_wire_reader_free(&u->reader);
    rn_wire_reader_init(&u->reader);
    if (why)
        log_drop(u, was_connected, why);
    if (was_connected) {
        u->lost_at = rn_clock_mono_ns();
        u->failed = 0;
    } else {
        u->failed++;
    }
    if (was_connected && u->cbs.disconnected)
        u->cbs.disconnected(u->ctx);
    if (u->closing)
        return;
    schedule_retry(u, was_connected);
}

/* Writes a heartbeat saying which codings we read. Returns 0 or a negative error. */
static int send_heartbeat(rn_uplink_t *u)
{
    Rn__Heartbeat hb = RN__HEARTBEAT__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    hb.wall_time_ms = rn_clock_wall_ms();
    hb.has_codings = true;
    hb.codings = RN_WIRE_CODING_ZLIB;
    f.body_case = RN__FRAME__BODY_HEARTBEAT;
    f.heartbeat = &hb;
    uint8_t *buf;
    size_t len;
    int rc = rn_wire_encode(&f, &buf, &len);
    return rc ? rc : rn_uplink_send(u, buf, len);
}

static void make_ready(rn_uplink_t *u)
{
    if (u->ready || !u->connected)
        return;
    u->ready = true;
    uv_timer_stop(&u->timer);
    if (u->cbs.ready)
        u->cbs.ready(u->ctx);
}

/* An older collector answers no heartbeat: go on without compression. */
static void on_ready_wait(uv_timer_t *t)
{
    rn_uplink_t *u = t->data;
    rn_info("collector %s:%u: no answer to the heartbeat within %d ms (an older collector?); "
            "sending uncompressed", current(u)->host, current(u)->port, RN_UPLINK_READY_WAIT_MS);
    make_ready(u);
}

/* The silence check, then the heartbeat when one is due; sleeps until the next of the two. */
static void on_beat(uv_timer_t *t)
{
    rn_uplink_t *u = t->data;
    uint64_t now = uv_now(u->loop), quiet = now - u->last_rx;
    if (quiet >= RN_UPLINK_SILENCE_MS) {
        char why[160];
        snprintf(why, sizeof why, "heard nothing for %.1f s (%d heartbeats unanswered): the "
                 "path is dead; closing the session and reconnecting", (double)quiet / 1000,
                 RN_UPLINK_SILENCE_MS / RN_UPLINK_HEARTBEAT_MS);
        return drop(u, why);
    }
    if (now >= u->beat_at) {
        if (send_heartbeat(u) != 0)
            return drop(u, "cannot send a heartbeat");
        u->beat_at = now + RN_UPLINK_HEARTBEAT_MS;
    }
    uint64_t silent_at = u->last_rx + RN_UPLINK_SILENCE_MS;
    uint64_t next = silent_at < u->beat_at ? silent_at : u->beat_at;
    uv_timer_start(&u->beat, on_beat, next - now, 0);
}

/* A heartbeat from the collector: liveness is already counted; learn its codings. */
static void on_heartbeat(rn_uplink_t *u, const Rn__Heartbeat *hb)
{
    bool zlib = hb->has_codings && (hb->codings & RN_WIRE_CODING_ZLIB);
    if (zlib != u->peer_zlib)
        rn_debug("collector %s:%u %s compressed frames", current(u)->host, current(u)->port,
                 zlib ? "reads" : "does not read");
    u->peer_zlib = zlib;
    u->peer_codings = hb->has_codings ? hb->codings : 0;
    make_ready(u);
}

static void on_tls_data(rn_tls_stream_t *s, void *data, const uint8_t *buf, size_t len)
{
    rn_uplink_t *u = data;
    if (s != u->stream)
        return;
    u->last_rx = uv_now(u->loop);
    if (rn_wire_reader_push(&u->reader, buf, len) != 0)
        return drop(u, "out of memory");
    const uint8_t *body;
    size_t blen;
    int rc;
    while (u->stream == s && (rc = rn_wire_reader_next(&u->reader, &body, &blen)) == 1) {
        Rn__Frame *f;
        char why[256];
        if (rn_wire_decode(body, blen, &f, why, sizeof why) != 0)
            return drop(u, why);
        if (f->body_case == RN__FRAME__BODY_HEARTBEAT) {
            on_heartbeat(u, f->heartbeat);
            rn_wire_free(f);
        } else {
            u->cbs.frame(u->ctx, f);
        }
    }
    if (u->stream == s && rc < 0)
        drop(u, rn_strerror(rc));
}

/* Bounds how long the kernel keeps unacknowledged data of this connection (see above). */
static void set_user_timeout(rn_uplink_t *u)
{
    int fd = rn_tls_stream_fd(u->stream);
    unsigned ms = USER_TIMEOUT_MS;
    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) != 0)
        rn_debug("TCP_USER_TIMEOUT: %s", rn_strerror(-errno));
}

/* ---- failover: probing the first collector -------------------------------------------------- */

static void start_probe(uv_timer_t *t);

/* Ends the probe (if any) and, unless returning or closing, schedules the next one at a doubled
 * backoff while the session is on another collector than the first. */
static void end_probe(rn_uplink_t *u, bool again)
{
    if (u->probe) {
        rn_tls_stream_close(u->probe, on_stream_closed, u);
        u->probe = NULL;
    }
    uv_timer_stop(&u->probe_timer);
    if (!again || u->closing || !u->connected || u->next_collector == 0)
        return;
    uv_timer_start(&u->probe_timer, start_probe, u->probe_ms, 0);
    u->probe_ms = u->probe_ms * 2 > PROBE_MAX_MS ? PROBE_MAX_MS : u->probe_ms * 2;
}

/* The first collector finished a TLS handshake: it is back. Drops the session to the other one;
 * the reconnect goes to the first (schedule_retry after a session). */
static void on_probe_ready(rn_tls_stream_t *s, void *data)
{
    rn_uplink_t *u = data;
    if (s != u->probe)
        return;
    const rn_hostport_t *first = &u->config->collectors[0];
    rn_info("collector %s:%u (the first in the list) answers again: returning to it from %s:%u",
            first->host, first->port, current(u)->host, current(u)->port);
    end_probe(u, false);
    u->backoff_ms = BACKOFF_MIN_MS;
    drop(u, NULL);
}

static void on_probe_data(rn_tls_stream_t *s, void *data, const uint8_t *buf, size_t len) {}

static void on_probe_error(rn_tls_stream_t *s, void *data, int err, const char *why)
{
    rn_uplink_t *u = data;
    if (s != u->probe)
        return;
    rn_debug("collector %s:%u still away: %s", u->config->collectors[0].host,
             u->config->collectors[0].port, why);
    end_probe(u, true);
}

/* The probe timer: starts a probe, or, when one is running, gives it up (no TLS in time). */
static void start_probe(uv_timer_t *t)
{
    static const rn_tls_stream_cbs_t cbs = { on_probe_ready, on_probe_data, on_probe_error };
    rn_uplink_t *u = t->data;
    if (u->probe)
        return end_probe(u, true);
    const rn_hostport_t *hp = &u->config->collectors[0];
    struct sockaddr_storage ss;
    int rc = strchr(hp->host, ':') ? uv_ip6_addr(hp->host, hp->port, (struct sockaddr_in6 *)&ss)
                                   : uv_ip4_addr(hp->host, hp->port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = rn_tls_stream_connect(u->tls, u->loop, (struct sockaddr *)&ss,
                                   u->config->collector_name, &cbs, u, &u->probe);
    if (rc) {
        u->probe = NULL;
        return end_probe(u, true);
    }
    u->streams_open++;
    uv_timer_start(&u->probe_timer, start_probe, ATTEMPT_TIMEOUT_MS, 0);
}

static void on_tls_ready(rn_tls_stream_t *s, void *data)
{
    rn_uplink_t *u = data;
    if (s != u->stream)
        return;
    u->connected = true;
    u->backoff_ms = BACKOFF_MIN_MS;
    u->last_rx = uv_now(u->loop);
    set_user_timeout(u);
    const char *how = rn_tls_stream_resumed(s) ? "resumed" : "new";
    if (u->lost_at) {
        double gone = (double)(rn_clock_mono_ns() - u->lost_at) / 1e9;
        rn_info("connected to collector %s:%u (%s TLS session), %.1f s after the last connection "
                "was lost, %" PRIu32 " failed attempts between", current(u)->host,
                current(u)->port, how, gone, u->failed);
    } else {
        rn_info("connected to collector %s:%u (%s TLS session)", current(u)->host,
                current(u)->port, how);
    }
    u->failed = 0;
    u->probe_ms = PROBE_MIN_MS;
    end_probe(u, true); /* on another collector than the first: probe the first */
    u->cbs.connected(u->ctx); /* the hello goes first */
    if (u->stream != s)
        return;
    if (send_heartbeat(u) != 0)
        return drop(u, "cannot send a heartbeat");
    u->beat_at = u->last_rx + RN_UPLINK_HEARTBEAT_MS;
    uv_timer_start(&u->beat, on_beat, RN_UPLINK_HEARTBEAT_MS, 0);
    uv_timer_start(&u->timer, on_ready_wait, RN_UPLINK_READY_WAIT_MS, 0);
}

static void on_tls_error(rn_tls_stream_t *s, void *data, int err, const char *why)
{
    rn_uplink_t *u = data;
    if (s == u->stream)
        drop(u, why);
}

static void on_attempt_timeout(uv_timer_t *t)
{
    drop(t->data, "no TLS session within 15 s");
}

/* CONNECT_TIMEOUT_MS into an attempt: without TCP by now the path is most likely dead (a SYN and
 * its retransmission unanswered): try afresh soon rather than wait out the kernel's longer
 * retransmissions. With TCP up, the handshake gets the rest of ATTEMPT_TIMEOUT_MS. */
static void on_connect_timeout(uv_timer_t *t)
{
    rn_uplink_t *u = t->data;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = rn_tls_stream_fd(u->stream);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return drop(u, "no answer to the TCP connect within 2 s");
    uv_timer_start(&u->timer, on_attempt_timeout, ATTEMPT_TIMEOUT_MS - CONNECT_TIMEOUT_MS, 0);
}

static void start_connect(rn_uplink_t *u)
{
    static const rn_tls_stream_cbs_t cbs = { on_tls_ready, on_tls_data, on_tls_error };
    const rn_hostport_t *hp = current(u);
    struct sockaddr_storage ss;
    int rc = strchr(hp->host, ':') ? uv_ip6_addr(hp->host, hp->port, (struct sockaddr_in6 *)&ss)
                                   : uv_ip4_addr(hp->host, hp->port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = rn_tls_stream_connect(u->tls, u->loop, (struct sockaddr *)&ss,
                                   u->config->collector_name, &cbs, u, &u->stream);
    if (rc) {
        u->stream = NULL;
        log_drop(u, false, rn_strerror(rc));
        u->failed++;
        schedule_retry(u, false);
        return;
    }
    u->streams_open++;
    uv_timer_start(&u->timer, on_connect_timeout, CONNECT_TIMEOUT_MS, 0);
}

int rn_uplink_new(uv_loop_t *loop, const rn_agent_config_t *config, const rn_uplink_cbs_t *cbs,
                  void *ctx, rn_uplink_t **out, char *err, size_t err_len)
{
    rn_uplink_t *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    int rc = rn_tls_ctx_new(RN_TLS_CLIENT, config->tls_cert, config->tls_key, config->tls_ca,
                            &u->tls, err, err_len);
    if (rc) {
        free(u);
        return rc;
    }
    u->loop = loop;
    u->config = config;
    u->cbs = *cbs;
    u->ctx = ctx;
    u->backoff_ms = BACKOFF_MIN_MS;
    rn_wire_reader_init(&u->reader);
    uv_timer_init(loop, &u->timer);
    uv_timer_init(loop, &u->beat);
    uv_timer_init(loop, &u->probe_timer);
    u->timer.data = u->beat.data = u->probe_timer.data = u;
    u->timers_open = 3;
    *out = u;
    start_connect(u);
    return 0;
}

int rn_uplink_send(rn_uplink_t *u, uint8_t *buf, size_t len)
{
    int rc = u->connected ? rn_tls_stream_write(u->stream, buf, len) : -ENOTCONN;
    free(buf); /* the stream copies what it sends */
    if (rc && u->connected) {
        drop(u, "write failed");
        rc = -ENOTCONN;
    }
    return rc;
}

int rn_uplink_send_frames(rn_uplink_t *u, uint8_t *buf, size_t len, size_t *wire_len)
{
    uint8_t *z;
    size_t zlen;
    if (u->connected && u->peer_zlib && len >= COMPRESS_MIN_BYTES &&
        rn_wire_compress(buf, len, &z, &zlen) == 0) {
        if (zlen < len) {
            free(buf);
            buf = z;
            len = zlen;
        } else {
            free(z);
        }
    }
    if (wire_len)
        *wire_len = len;
    return rn_uplink_send(u, buf, len);
}

size_t rn_uplink_pending_bytes(const rn_uplink_t *u)
{
    return u->stream ? rn_tls_stream_pending_bytes(u->stream) : 0;
}

bool rn_uplink_connected(const rn_uplink_t *u)
{
    return u->connected;
}

bool rn_uplink_ready(const rn_uplink_t *u)
{
    return u->ready;
}

uint32_t rn_uplink_peer_codings(const rn_uplink_t *u)
{
    return u->peer_codings;
}

static void on_timer_closed(uv_handle_t *h)
{
    rn_uplink_t *u = h->data;
    u->timers_open--;
    maybe_free(u);
}

void rn_uplink_close(rn_uplink_t *u, void (*cb)(void *data), void *data)
{
    u->closing = true;
    u->close_cb = cb;
    u->close_data = data;
    drop(u, NULL);
    end_probe(u, false);
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
    uv_close((uv_handle_t *)&u->beat, on_timer_closed);
    uv_close((uv_handle_t *)&u->probe_timer, on_timer_closed);
}
