/* Uplink to the collector (see uplink.h). Each connection attempt is one TLS stream; its
 * callbacks carry the attempt's generation, so a late callback of an old stream can never touch
 * a new one. One timer serves as attempt timeout (TCP connect plus handshake) and as reconnect
 * backoff. */
#include "uplink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "tls.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define ATTEMPT_TIMEOUT_MS 15000

struct rn_uplink {
    uv_loop_t *loop;
    const rn_agent_config_t *config;
    size_t next_collector;
    rn_uplink_cbs_t cbs;
    void *ctx;
    rn_tls_ctx_t *tls;
    uv_timer_t timer;
    rn_tls_stream_t *stream;   /* the current attempt or connection, or NULL */
    int streams_open;          /* streams whose close callback has not run yet */
    bool connected, closing, timer_closed;
    uint32_t backoff_ms;
    rn_wire_reader_t reader;
    void (*close_cb)(void *);
    void *close_data;
};

static void start_connect(rn_uplink_t *u);

static const rn_hostport_t *current(const rn_uplink_t *u)
{
    return &u->config->collectors[u->next_collector];
}

static void maybe_free(rn_uplink_t *u)
{
    if (!u->closing || !u->timer_closed || u->streams_open > 0)
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

/* Drops the current connection and schedules the next attempt with backoff and jitter. */
static void drop(rn_uplink_t *u, const char *why)
{
    rn_tls_stream_t *s = u->stream;
    if (!s)
        return;
    bool was_connected = u->connected;
    u->stream = NULL;
    u->connected = false;
    rn_tls_stream_close(s, on_stream_closed, u);
    rn_wire_reader_free(&u->reader);
    rn_wire_reader_init(&u->reader);
    if (why)
        rn_warn("collector %s:%u: %s", current(u)->host, current(u)->port, why);
    if (was_connected && u->cbs.disconnected)
        u->cbs.disconnected(u->ctx);
    if (u->closing)
        return;
    u->next_collector = (u->next_collector + 1) % u->config->n_collectors;
    uint32_t jitter = (uint32_t)(rand() % (int)(u->backoff_ms / 5 + 1));
    uint32_t wait = u->backoff_ms - u->backoff_ms / 10 + jitter;
    u->backoff_ms = u->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : u->backoff_ms * 2;
    uv_timer_start(&u->timer, on_backoff, wait, 0);
}

static void on_tls_data(rn_tls_stream_t *s, void *data, const uint8_t *buf, size_t len)
{
    rn_uplink_t *u = data;
    if (s != u->stream)
        return;
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
        u->cbs.frame(u->ctx, f);
    }
    if (u->stream == s && rc < 0)
        drop(u, rn_strerror(rc));
}

static void on_tls_ready(rn_tls_stream_t *s, void *data)
{
    rn_uplink_t *u = data;
    if (s != u->stream)
        return;
    uv_timer_stop(&u->timer);
    u->connected = true;
    u->backoff_ms = BACKOFF_MIN_MS;
    rn_info("connected to collector %s:%u (%s TLS session)", current(u)->host, current(u)->port,
            rn_tls_stream_resumed(s) ? "resumed" : "new");
    u->cbs.connected(u->ctx);
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
        rn_warn("collector %s:%u: %s", hp->host, hp->port, uv_strerror(rc));
        u->next_collector = (u->next_collector + 1) % u->config->n_collectors;
        uv_timer_start(&u->timer, on_backoff, u->backoff_ms, 0);
        return;
    }
    u->streams_open++;
    uv_timer_start(&u->timer, on_attempt_timeout, ATTEMPT_TIMEOUT_MS, 0);
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
    u->timer.data = u;
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

size_t rn_uplink_pending_bytes(const rn_uplink_t *u)
{
    return u->stream ? rn_tls_stream_pending_bytes(u->stream) : 0;
}

bool rn_uplink_resumed(const rn_uplink_t *u)
{
    return u->connected && rn_tls_stream_resumed(u->stream);
}

bool rn_uplink_connected(const rn_uplink_t *u)
{
    return u->connected;
}

static void on_timer_closed(uv_handle_t *h)
{
    rn_uplink_t *u = h->data;
    u->timer_closed = true;
    maybe_free(u);
}

void rn_uplink_close(rn_uplink_t *u, void (*cb)(void *data), void *data)
{
    u->closing = true;
    u->close_cb = cb;
    u->close_data = data;
    drop(u, NULL);
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
}
