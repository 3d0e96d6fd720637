/* Uplink to the collector (see uplink.h). Each connection attempt gets its own heap-allocated
 * TCP handle, freed in its close callback, so a late callback of an old connection can never
 * touch a new one. One timer serves as connect timeout and as reconnect backoff. */
#include "uplink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define CONNECT_TIMEOUT_MS 5000
#define READ_CHUNK 65536

typedef struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    struct rn_uplink *uplink;   /* NULL once abandoned */
} conn_t;

struct rn_uplink {
    uv_loop_t *loop;
    const rn_hostport_t *collectors;
    size_t n_collectors, next_collector;
    rn_uplink_cbs_t cbs;
    void *ctx;
    uv_timer_t timer;
    conn_t *conn;
    bool connected, closing;
    uint32_t backoff_ms;
    rn_wire_reader_t reader;
    void (*close_cb)(void *);
    void *close_data;
};

typedef struct {
    uv_write_t req;
    uint8_t *buf;
} write_req_t;

static void start_connect(rn_uplink_t *u);

static void on_backoff(uv_timer_t *t)
{
    start_connect(t->data);
}

static void on_conn_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Drops the current connection and schedules the next attempt with backoff and jitter. */
static void drop(rn_uplink_t *u, const char *why)
{
    conn_t *c = u->conn;
    if (!c)
        return;
    bool was_connected = u->connected;
    u->conn = NULL;
    u->connected = false;
    c->uplink = NULL;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    rn_wire_reader_free(&u->reader);
    rn_wire_reader_init(&u->reader);
    if (why)
        rn_warn("collector %s:%u: %s", u->collectors[u->next_collector].host,
                u->collectors[u->next_collector].port, why);
    if (was_connected && u->cbs.disconnected)
        u->cbs.disconnected(u->ctx);
    if (u->closing)
        return;
    u->next_collector = (u->next_collector + 1) % u->n_collectors;
    uint32_t jitter = (uint32_t)(rand() % (int)(u->backoff_ms / 5 + 1));
    uint32_t wait = u->backoff_ms - u->backoff_ms / 10 + jitter;
    u->backoff_ms = u->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : u->backoff_ms * 2;
    uv_timer_start(&u->timer, on_backoff, wait, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char chunk[READ_CHUNK]; /* one loop thread: consumed before the next read */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(chunk, sizeof chunk);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = stream->data;
    rn_uplink_t *u = c->uplink;
    if (!u)
        return;
    if (nread < 0)
        return drop(u, nread == UV_EOF ? "closed the connection" : uv_strerror((int)nread));
    if (rn_wire_reader_push(&u->reader, buf->base, (size_t)nread) != 0)
        return drop(u, "out of memory");
    const uint8_t *body;
    size_t len;
    int rc;
    while (u->conn == c && (rc = rn_wire_reader_next(&u->reader, &body, &len)) == 1) {
        Rn__Frame *f;
        char why[256];
        if (rn_wire_decode(body, len, &f, why, sizeof why) != 0)
            return drop(u, why);
        u->cbs.frame(u->ctx, f);
    }
    if (u->conn == c && rc < 0)
        drop(u, rn_strerror(rc));
}

static void on_connect(uv_connect_t *req, int status)
{
    conn_t *c = req->data;
    rn_uplink_t *u = c->uplink;
    if (!u)
        return;
    uv_timer_stop(&u->timer);
    if (status < 0)
        return drop(u, uv_strerror(status));
    u->connected = true;
    u->backoff_ms = BACKOFF_MIN_MS;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 30);
    rn_info("connected to collector %s:%u", u->collectors[u->next_collector].host,
            u->collectors[u->next_collector].port);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    u->cbs.connected(u->ctx);
}

static void on_connect_timeout(uv_timer_t *t)
{
    rn_uplink_t *u = t->data;
    drop(u, "connect timed out");
}

static void start_connect(rn_uplink_t *u)
{
    const rn_hostport_t *hp = &u->collectors[u->next_collector];
    struct sockaddr_storage ss;
    int rc = strchr(hp->host, ':') ? uv_ip6_addr(hp->host, hp->port, (struct sockaddr_in6 *)&ss)
                                   : uv_ip4_addr(hp->host, hp->port, (struct sockaddr_in *)&ss);
    conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        uv_timer_start(&u->timer, on_backoff, u->backoff_ms, 0);
        return;
    }
    c->uplink = u;
    c->tcp.data = c->connect_req.data = c;
    uv_tcp_init(u->loop, &c->tcp);
    u->conn = c;
    if (rc == 0)
        rc = uv_tcp_connect(&c->connect_req, &c->tcp, (struct sockaddr *)&ss, on_connect);
    if (rc)
        return drop(u, uv_strerror(rc));
    u->timer.data = u;
    uv_timer_start(&u->timer, on_connect_timeout, CONNECT_TIMEOUT_MS, 0);
}

int rn_uplink_new(uv_loop_t *loop, const rn_hostport_t *collectors, size_t n,
                  const rn_uplink_cbs_t *cbs, void *ctx, rn_uplink_t **out)
{
    rn_uplink_t *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    u->loop = loop;
    u->collectors = collectors;
    u->n_collectors = n;
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

static void on_written(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    free(w->buf);
    free(w);
    (void)status; /* errors surface as read errors, where the connection is dropped */
}

int rn_uplink_send(rn_uplink_t *u, uint8_t *buf, size_t len)
{
    write_req_t *w = u->connected ? malloc(sizeof *w) : NULL;
    if (!w) {
        free(buf);
        return u->connected ? -ENOMEM : -ENOTCONN;
    }
    w->buf = buf;
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned int)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&u->conn->tcp, &b, 1, on_written);
    if (rc) {
        free(buf);
        free(w);
        drop(u, uv_strerror(rc));
        return -ENOTCONN;
    }
    return 0;
}

bool rn_uplink_connected(const rn_uplink_t *u)
{
    return u->connected;
}

static void on_timer_closed(uv_handle_t *h)
{
    rn_uplink_t *u = h->data;
    rn_wire_reader_free(&u->reader);
    if (u->close_cb)
        u->close_cb(u->close_data);
    free(u);
}

void rn_uplink_close(rn_uplink_t *u, void (*cb)(void *data), void *data)
{
    u->closing = true;
    u->close_cb = cb;
    u->close_data = data;
    drop(u, NULL);
    u->timer.data = u;
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
}
