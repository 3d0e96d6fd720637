/* TLS 1.3 streams over libuv TCP (see tls.h).
 *
 * Why: agents and collector authenticate each other by certificate (the client CN is the node
 * id) and keep one session per agent that resumes after a flap, instead of paying a full
 * handshake per connection. OpenSSL is driven without letting it touch the socket: each SSL has
 * two memory BIOs. Ciphertext read by libuv is written into the read BIO, then SSL_do_handshake
 * or SSL_read run until they want more; whatever OpenSSL put into the write BIO (handshake
 * flights, records, alerts, tickets) is drained into one heap buffer and handed to one uv_write,
 * freed in its callback. A write of application data encrypts record by record (partial-write
 * mode) and drains after each record, so the write BIO never holds more than one record.
 *
 * How a stream moves: CONNECTING (client, TCP connect pending) -> HANDSHAKE -> CONFIRMING
 * (client only: handshake done, waiting for the server's first session ticket or data, which
 * proves the server accepted our certificate; in TLS 1.3 a client finishes before the server has
 * judged its certificate) -> READY. Any failure fires `error` once and leaves the stream dead
 * until the owner closes it. One timer per stream serves as handshake timeout, then as a
 * zero-delay "deliver what is buffered" kick after reading resumes, then as linger at close.
 *
 * Buffers: the ciphertext read chunk and the plaintext chunk live in the context and are
 * reused by every stream of it (one loop thread; each is consumed before the callback returns).
 * The context, its files and the client's session tickets are lib/tls_ctx.c. */
#include "tls.h"
#include "tls_ctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "log.h"
#include "util.h"

#define RECORD_OVERHEAD 22     /* TLS 1.3 record: 5 header + 1 inner content type + 16 AEAD tag */
#define LINGER_MS 2000


typedef enum { ST_CONNECTING, ST_HANDSHAKE, ST_CONFIRMING, ST_READY } state_t;

/* One uv_write and the ciphertext it carries, in one allocation. */
typedef struct {
    uv_write_t req;
    size_t len, cap;
    uint8_t buf[];
} wreq_t;

struct rn_tls_stream {
    uv_tcp_t tcp; /* first: a uv_handle_t * of it is the stream */
    uv_timer_t timer;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    rn_tls_ctx_t *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    rn_tls_stream_cbs_t cbs;
    void *data;
    state_t state;
    bool want_reading, reading, confirmed, has_expected;
    bool failed, closing, handles_closing;
    int open_handles;
    int peer_alert;    /* last alert received from the peer, -1 if none */
    int deferred_err;
    uint8_t *held;     /* plaintext written before ready */
    size_t held_len, held_cap;
    void (*close_cb)(void *data);
    void *close_data;
    char peer_cn[256], presented_cn[256], expected[256], session_key[256];
    char peer_addr[64];
    char why[384];
};

/* ---- helpers ---------------------------------------------------------------------------- */

/* Writes "ip:port" or "[ip6]:port" for addr into out. */
static void format_addr(const struct sockaddr *addr, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;
        uv_ip6_name(a6, host, sizeof host);
        snprintf(out, size, "[%s]:%u", host, ntohs(a6->sin6_port));
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;
        uv_ip4_name(a4, host, sizeof host);
        snprintf(out, size, "%s:%u", host, ntohs(a4->sin_port));
    }
}

/* ---- OpenSSL callbacks ------------------------------------------------------------------- */

/* OpenSSL hands the client a new session (a ticket arrived). Keeping it takes the reference
 * (return 1). It also proves the server finished with our certificate: see CONFIRMING. */
static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
    rn_tls_stream_t *s = SSL_get_app_data(ssl);
    s->confirmed = true;
    if (!SSL_SESSION_is_resumable(session))
        return 0;
    return rn__tls_session_keep(s->ctx, s->session_key, session);
}

/* Chain verification hook. Records the leaf's CN for messages and, on a client with an expected
 * peer name, refuses a leaf that does not carry it (the error shows as HOSTNAME_MISMATCH). */
static int on_verify(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    rn_tls_stream_t *s = SSL_get_app_data(ssl);
    if (X509_STORE_CTX_get_error_depth(xs) != 0)
        return ok;
    X509 *cert = X509_STORE_CTX_get_current_cert(xs);
    rn__tls_cert_cn(cert, s->presented_cn, sizeof s->presented_cn);
    if (!ok || !s->has_expected || rn__tls_cert_names(cert, s->expected, s->presented_cn))
        return ok;
    X509_STORE_CTX_set_error(xs, X509_V_ERR_HOSTNAME_MISMATCH);
    return 0;
}

/* Remembers the last alert the peer sent (other than close_notify), to say why it refused us. */
static void on_info(const SSL *ssl, int where, int ret)
{
    if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT || (ret & 0xff) == SSL_AD_CLOSE_NOTIFY)
        return;
    rn_tls_stream_t *s = SSL_get_app_data(ssl);
    if (s)
        s->peer_alert = ret & 0xff;
}

int rn_tls_ctx_new(rn_tls_role_t role, const char *cert_file, const char *key_file,
                   const char *ca_file, rn_tls_ctx_t **out, char *err, size_t err_len)
{
    static const rn__tls_hooks_t hooks = { on_verify, on_info, on_new_session };
    return rn__tls_ctx_new(role, cert_file, key_file, ca_file, &hooks, out, err, err_len);
}

/* ---- output ---------------------------------------------------------------------------- */

/* Moves everything in the write BIO to the end of *w, growing it. Returns 0 or -ENOMEM. */
static int drain_into(rn_tls_stream_t *s, wreq_t **w)
{
    size_t n = BIO_ctrl_pending(s->wbio);
    if (!n)
        return 0;
    if ((*w)->len + n > (*w)->cap) {
        size_t cap = (*w)->len + n + (*w)->cap / 2;
        wreq_t *g = realloc(*w, sizeof *g + cap);
        if (!g)
            return -ENOMEM;
        g->cap = cap;
        *w = g;
    }
    int got = BIO_read(s->wbio, (*w)->buf + (*w)->len, (int)n);
    if (got > 0)
        (*w)->len += (size_t)got;
    return 0;
}

static wreq_t *wreq_new(size_t cap)
{
    wreq_t *w = malloc(sizeof *w + cap);
    if (w) {
        w->len = 0;
        w->cap = cap;
    }
    return w;
}

static void fail(rn_tls_stream_t *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A write finished: frees it; a failure kills the stream (unless it is closing). */
static void on_written(uv_write_t *req, int status)
{
    rn_tls_stream_t *s = (rn_tls_stream_t *)req->handle;
    free(container_of(req, wreq_t, req));
    if (status < 0 && status != UV_ECANCELED)
        fail(s, status, "write failed: %s", rn_strerror(status));
}

/* Hands w (taken) to libuv. Returns 0 or a libuv code (w freed). */
static int submit(rn_tls_stream_t *s, wreq_t *w)
{
    if (!w->len) {
        free(w);
        return 0;
    }
    uv_buf_t b = uv_buf_init((char *)w->buf, (unsigned)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, on_written);
    if (rc)
        free(w);
    return rc;
}

/* Sends whatever OpenSSL has produced (handshake flights, alerts, tickets). Returns 0 or < 0. */
static int flush(rn_tls_stream_t *s)
{
    size_t n = BIO_ctrl_pending(s->wbio);
    if (!n)
        return 0;
    wreq_t *w = wreq_new(n);
    if (!w)
        return -ENOMEM;
    drain_into(s, &w);
    return submit(s, w);
}

/* Encrypts len bytes into one uv_write: SSL_write takes one record per call (partial-write
 * mode), the record is drained at once, so the write BIO stays one record small. Returns 0 or
 * a negative code. */
static int write_now(rn_tls_stream_t *s, const uint8_t *buf, size_t len)
{
    wreq_t *w = wreq_new(len + (len / PLAIN_CHUNK + 1) * RECORD_OVERHEAD);
    if (!w)
        return -ENOMEM;
    for (size_t off = 0; off < len;) {
        size_t n = 0;
        ERR_clear_error();
        if (SSL_write_ex(s->ssl, buf + off, len - off, &n) != 1) {
            snprintf(s->why, sizeof s->why, "TLS write failed: %s", rn__tls_ssl_reason());
            free(w);
            return -EPROTO;
        }
        off += n;
        if (drain_into(s, &w)) {
            free(w);
            return -ENOMEM;
        }
    }
    return submit(s, w);
}

/* ---- failure ---------------------------------------------------------------------------- */

/* Marks the stream dead, sends any alert OpenSSL queued, and fires `error` with s->why. */
static void fire_error(rn_tls_stream_t *s, int err)
{
    if (s->failed || s->closing)
        return;
    s->failed = true;
    uv_timer_stop(&s->timer);
    if (s->reading)
        uv_read_stop((uv_stream_t *)&s->tcp);
    s->reading = false;
    if (s->state != ST_CONNECTING)
        flush(s); /* best effort: the alert tells the peer why */
    if (err == -EACCES && s->ctx->role == RN_TLS_CLIENT)
        rn__tls_session_drop(s->ctx, s->session_key);
    s->cbs.error(s, s->data, err, s->why);
}

static void fail(rn_tls_stream_t *s, int err, const char *fmt, ...)
{
    if (s->failed || s->closing)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
    fire_error(s, err);
}

/* Alert descriptions that mean "your certificate was refused". */
static bool alert_is_about_cert(int desc)
{
    return (desc >= SSL_AD_BAD_CERTIFICATE && desc <= SSL_AD_UNKNOWN_CA) ||
           desc == SSL_AD_ACCESS_DENIED || desc == 116 /* certificate_required */;
}

/* Turns a failed SSL_do_handshake/SSL_read into the most precise reason we have: our own
 * verification result, the peer's alert, then OpenSSL's error queue. Fires `error`. */
static void fail_from_ssl(rn_tls_stream_t *s)
{
    long vr = SSL_get_verify_result(s->ssl);
    unsigned long e = ERR_peek_error();
    const char *where = s->state == ST_READY ? "TLS" : "TLS handshake";
    int err = -EACCES;
    if (vr == X509_V_ERR_HOSTNAME_MISMATCH && s->has_expected)
        snprintf(s->why, sizeof s->why, "peer certificate refused: it is for '%s', not the "
                 "expected '%s'", s->presented_cn[0] ? s->presented_cn : "?", s->expected);
    else if (vr != X509_V_OK)
        snprintf(s->why, sizeof s->why, "peer certificate refused: %s%s%s%s",
                 X509_verify_cert_error_string(vr), s->presented_cn[0] ? " (CN '" : "",
                 s->presented_cn, s->presented_cn[0] ? "')" : "");
    else if (s->peer_alert >= 0)
        snprintf(s->why, sizeof s->why, "peer refused the %s: %s", where,
                 s->peer_alert == 116 ? "certificate required"
                                      : SSL_alert_desc_string_long(s->peer_alert));
    else if (e && ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        snprintf(s->why, sizeof s->why, "peer did not return a certificate");
    else
        snprintf(s->why, sizeof s->why, "%s failed: %s", where, rn__tls_ssl_reason());
    if (vr == X509_V_OK && (s->peer_alert < 0 || !alert_is_about_cert(s->peer_alert)) &&
        !(e && ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE))
        err = -EPROTO;
    ERR_clear_error();
    fire_error(s, err);
}

/* ---- input ----------------------------------------------------------------------------- */

static void become_ready(rn_tls_stream_t *s);

/* Runs SSL_read until OpenSSL wants more ciphertext, delivering plaintext while the owner wants
 * it. On a client still CONFIRMING, a ticket or the first data makes the stream ready. */
static void read_plaintext(rn_tls_stream_t *s)
{
    uint8_t *pbuf = s->ctx->pbuf;
    for (;;) {
        if (s->failed || s->closing || (s->state == ST_READY && !s->want_reading))
            return;
        size_t n = 0;
        ERR_clear_error();
        int ok = SSL_read_ex(s->ssl, pbuf, PLAIN_CHUNK, &n);
        int e = ok ? SSL_ERROR_NONE : SSL_get_error(s->ssl, ok); /* before anything else runs */
        if (s->state == ST_CONFIRMING && (ok || s->confirmed)) {
            become_ready(s);
            if (s->failed || s->closing)
                return;
            /* data already in hand is delivered even if `ready` stopped reading */
        }
        if (ok) {
            s->cbs.data(s, s->data, pbuf, n);
            continue;
        }
        if (e == SSL_ERROR_WANT_READ)
            return;
        if (e == SSL_ERROR_ZERO_RETURN)
            return fail(s, UV_EOF, "peer closed the connection");
        return fail_from_ssl(s);
    }
}

/* The handshake finished: takes the peer's CN, re-checks expiry on a resumed session (no chain
 * is verified then), and becomes ready (server) or waits for the server's verdict (client). */
static void handshake_done(rn_tls_stream_t *s)
{
    X509 *peer = SSL_get0_peer_certificate(s->ssl);
    if (!peer)
        return fail(s, -EACCES, "peer did not return a certificate");
    if (!rn__tls_cert_cn(peer, s->peer_cn, sizeof s->peer_cn))
        return fail(s, -EACCES, "peer certificate refused: it has no single usable CN");
    if (SSL_session_reused(s->ssl) && X509_cmp_current_time(X509_get0_notAfter(peer)) <= 0)
        return fail(s, -EACCES, "peer certificate refused: certificate has expired (CN '%s', "
                    "resumed session)", s->peer_cn);
    if (s->ctx->role == RN_TLS_SERVER || s->confirmed)
        become_ready(s);
    else
        s->state = ST_CONFIRMING;
    read_plaintext(s);
}

/* Advances the handshake with what the read BIO holds and sends OpenSSL's reply. */
static void handshake_step(rn_tls_stream_t *s)
{
    ERR_clear_error();
    int r = SSL_do_handshake(s->ssl);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s->ssl, r);
    if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ)
        return fail_from_ssl(s);
    int rc = flush(s);
    if (rc)
        return fail(s, rc, "TLS handshake: cannot send: %s", rn_strerror(rc));
    if (r == 1)
        handshake_done(s);
}

/* Hands held plaintext to the record layer, applies the owner's reading choice, fires ready. */
static void become_ready(rn_tls_stream_t *s)
{
    uv_timer_stop(&s->timer);
    s->state = ST_READY;
    if (s->held_len) {
        int rc = write_now(s, s->held, s->held_len);
        free(s->held);
        s->held = NULL;
        s->held_len = s->held_cap = 0;
        if (rc)
            return fail(s, rc, "sending data queued before the handshake: %s", rc == -EPROTO ?
                        s->why : rn_strerror(rc));
    }
    if (!s->want_reading && s->reading) {
        uv_read_stop((uv_stream_t *)&s->tcp);
        s->reading = false;
    }
    s->cbs.ready(s, s->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    rn_tls_stream_t *s = (rn_tls_stream_t *)h;
    (void)suggested;
    *buf = uv_buf_init((char *)s->ctx->rbuf, READ_CHUNK);
}

/* Ciphertext arrived: feed it to OpenSSL and advance the handshake or read plaintext. */
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    rn_tls_stream_t *s = (rn_tls_stream_t *)stream;
    if (s->failed || s->closing || nread == 0)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            return fail(s, (int)nread, "read failed: %s", rn_strerror((int)nread));
        return fail(s, UV_EOF, s->state == ST_READY ? "peer closed the connection"
                                                    : "peer closed the connection during the TLS handshake");
    }
    if (BIO_write(s->rbio, buf->base, (int)nread) != (int)nread)
        return fail(s, -ENOMEM, "out of memory");
    if (s->state == ST_HANDSHAKE)
        handshake_step(s);
    else
        read_plaintext(s);
    if (!s->failed && !s->closing) {
        int rc = flush(s); /* post-handshake replies (key update) */
        if (rc)
            fail(s, rc, "cannot send: %s", rn_strerror(rc));
    }
}

static void on_handshake_timeout(uv_timer_t *t)
{
    rn_tls_stream_t *s = container_of(t, rn_tls_stream_t, timer);
    fail(s, UV_ETIMEDOUT, "TLS handshake timed out");
}

/* Reading resumed with plaintext or ciphertext still buffered: deliver it now. */
static void on_drain(uv_timer_t *t)
{
    rn_tls_stream_t *s = container_of(t, rn_tls_stream_t, timer);
    read_plaintext(s);
    if (!s->failed && !s->closing)
        flush(s);
}

/* A failure seen inside an API call is reported from the loop, never from inside the call. */
static void on_deferred_error(uv_timer_t *t)
{
    rn_tls_stream_t *s = container_of(t, rn_tls_stream_t, timer);
    s->failed = false; /* set early so writes failed at once; fire_error sets it again */
    fire_error(s, s->deferred_err);
}

static void fail_later(rn_tls_stream_t *s, int err)
{
    if (s->failed || s->closing)
        return;
    s->failed = true;
    s->deferred_err = err;
    if (s->reading)
        uv_read_stop((uv_stream_t *)&s->tcp);
    s->reading = false;
    uv_timer_start(&s->timer, on_deferred_error, 0, 0);
}

/* ---- stream lifetime --------------------------------------------------------------------- */

/* Allocates a stream with its SSL, memory BIOs, TCP handle and timer. Returns 0 or < 0. */
static int stream_new(rn_tls_ctx_t *ctx, uv_loop_t *loop, const rn_tls_stream_cbs_t *cbs,
                      void *data, rn_tls_stream_t **out)
{
    rn_tls_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->ssl = SSL_new(ctx->ssl_ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !s->rbio || !s->wbio) {
        SSL_free(s->ssl);
        BIO_free(s->rbio);
        BIO_free(s->wbio);
        free(s);
        return -ENOMEM;
    }
    BIO_set_mem_eof_return(s->rbio, -1); /* empty means "wait", not EOF */
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    SSL_set_app_data(s->ssl, s);
    s->ctx = ctx;
    s->cbs = *cbs;
    s->data = data;
    s->want_reading = true;
    s->peer_alert = -1;
    int rc = uv_tcp_init(loop, &s->tcp);
    if (rc) {
        SSL_free(s->ssl);
        free(s);
        return rc;
    }
    uv_timer_init(loop, &s->timer);
    s->open_handles = 2;
    *out = s;
    return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
    rn_tls_stream_t *s = h->type == UV_TIMER ? container_of((uv_timer_t *)h, rn_tls_stream_t, timer)
                                             : (rn_tls_stream_t *)h;
    if (--s->open_handles > 0)
        return;
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    SSL_free(s->ssl);
    free(s->held);
    free(s);
    if (cb)
        cb(data);
}

static void close_handles(rn_tls_stream_t *s)
{
    if (s->handles_closing)
        return;
    s->handles_closing = true;
    uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    close_handles(container_of(req, rn_tls_stream_t, shutdown_req));
}

static void on_linger_timeout(uv_timer_t *t)
{
    close_handles(container_of(t, rn_tls_stream_t, timer));
}

/* TCP is up: starts reading, the handshake timer and (client) the first flight. Returns 0 or a
 * libuv code. */
static int start_handshake(rn_tls_stream_t *s)
{
    s->state = ST_HANDSHAKE;
    uv_tcp_nodelay(&s->tcp, 1);
    uv_tcp_keepalive(&s->tcp, 1, 30);
    int rc = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    if (rc)
        return rc;
    s->reading = true;
    uv_timer_start(&s->timer, on_handshake_timeout, s->ctx->handshake_timeout_ms, 0);
    if (s->ctx->role == RN_TLS_CLIENT)
        handshake_step(s);
    return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
    rn_tls_stream_t *s = req->data;
    if (s->closing)
        return;
    if (status < 0)
        return fail(s, status, "connect failed: %s", rn_strerror(status));
    int rc = start_handshake(s);
    if (rc)
        fail(s, rc, "cannot read: %s", rn_strerror(rc));
}

int rn_tls_stream_accept(rn_tls_ctx_t *ctx, uv_stream_t *server, const rn_tls_stream_cbs_t *cbs,
                         void *data, rn_tls_stream_t **out)
{
    if (ctx->role != RN_TLS_SERVER)
        return -EINVAL;
    rn_tls_stream_t *s;
    int rc = stream_new(ctx, server->loop, cbs, data, &s);
    if (rc)
        return rc;
    rc = uv_accept(server, (uv_stream_t *)&s->tcp);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (!rc && uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len) == 0)
        format_addr((struct sockaddr *)&ss, s->peer_addr, sizeof s->peer_addr);
    SSL_set_accept_state(s->ssl);
    if (!rc)
        rc = start_handshake(s); /* a server waits for the ClientHello: no callback here */
    if (rc) {
        s->closing = true;
        close_handles(s);
        return rc;
    }
    *out = s;
    return 0;
}

int rn_tls_stream_connect(rn_tls_ctx_t *ctx, uv_loop_t *loop, const struct sockaddr *addr,
                          const char *expected_peer_cn, const rn_tls_stream_cbs_t *cbs, void *data,
                          rn_tls_stream_t **out)
{
    if (ctx->role != RN_TLS_CLIENT)
        return -EINVAL;
    if (expected_peer_cn && strlen(expected_peer_cn) >= sizeof ((rn_tls_stream_t *)0)->expected)
        return -ENAMETOOLONG;
    rn_tls_stream_t *s;
    int rc = stream_new(ctx, loop, cbs, data, &s);
    if (rc)
        return rc;
    format_addr(addr, s->peer_addr, sizeof s->peer_addr);
    if (expected_peer_cn) {
        s->has_expected = true;
        snprintf(s->expected, sizeof s->expected, "%s", expected_peer_cn);
    }
    snprintf(s->session_key, sizeof s->session_key, "%s", expected_peer_cn ? expected_peer_cn
                                                                           : s->peer_addr);
    SSL_set_connect_state(s->ssl);
    SSL_SESSION *ticket = rn__tls_session_get(ctx, s->session_key);
    if (ticket)
        SSL_set_session(s->ssl, ticket);
    s->connect_req.data = s;
    rc = uv_tcp_connect(&s->connect_req, &s->tcp, addr, on_connect);
    if (rc) {
        s->closing = true;
        close_handles(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Appends plaintext written before ready. Returns 0 or -ENOMEM. */
static int hold(rn_tls_stream_t *s, const uint8_t *buf, size_t len)
{
    if (s->held_len + len > s->held_cap) {
        size_t cap = s->held_cap ? s->held_cap : 4096;
        while (cap < s->held_len + len)
            cap *= 2;
        uint8_t *g = realloc(s->held, cap);
        if (!g)
            return -ENOMEM;
        s->held = g;
        s->held_cap = cap;
    }
    memcpy(s->held + s->held_len, buf, len);
    s->held_len += len;
    return 0;
}

int rn_tls_stream_write(rn_tls_stream_t *s, const uint8_t *buf, size_t len)
{
    if (s->failed || s->closing)
        return -EPIPE;
    if (!len)
        return 0;
    if (len > RN_TLS_MAX_WRITE)
        return -EMSGSIZE;
    if (s->state != ST_READY)
        return hold(s, buf, len);
    int rc = write_now(s, buf, len);
    if (rc) {
        if (rc != -EPROTO)
            snprintf(s->why, sizeof s->why, "write failed: %s", rn_strerror(rc));
        fail_later(s, rc);
    }
    return rc;
}

size_t rn_tls_stream_pending_bytes(const rn_tls_stream_t *s)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&s->tcp) + s->held_len;
}

void rn_tls_stream_set_reading(rn_tls_stream_t *s, bool on)
{
    s->want_reading = on;
    if (s->failed || s->closing || s->state != ST_READY)
        return; /* the handshake reads regardless; become_ready applies the choice */
    if (!on) {
        if (s->reading)
            uv_read_stop((uv_stream_t *)&s->tcp);
        s->reading = false;
        return;
    }
    if (!s->reading) {
        int rc = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
        if (rc) {
            snprintf(s->why, sizeof s->why, "cannot read: %s", rn_strerror(rc));
            return fail_later(s, rc);
        }
        s->reading = true;
    }
    if (SSL_has_pending(s->ssl) || BIO_ctrl_pending(s->rbio))
        uv_timer_start(&s->timer, on_drain, 0, 0);
}

const char *rn_tls_stream_peer_cn(const rn_tls_stream_t *s)
{
    return s->state == ST_READY ? s->peer_cn : "";
}

const char *rn_tls_stream_peer_addr(const rn_tls_stream_t *s)
{
    return s->peer_addr;
}

int rn_tls_stream_fd(const rn_tls_stream_t *s)
{
    uv_os_fd_t fd;
    int rc = uv_fileno((const uv_handle_t *)&s->tcp, &fd);
    return rc ? rc : fd;
}

bool rn_tls_stream_resumed(const rn_tls_stream_t *s)
{
    return s->state == ST_READY && SSL_session_reused(s->ssl);
}

void rn_tls_stream_close(rn_tls_stream_t *s, void (*cb)(void *data), void *data)
{
    if (s->closing)
        return;
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    uv_timer_stop(&s->timer);
    if (s->reading)
        uv_read_stop((uv_stream_t *)&s->tcp);
    s->reading = false;
    if (s->state == ST_CONNECTING)
        return close_handles(s); /* cancels the connect; on_connect sees closing */
    if (!s->failed && SSL_is_init_finished(s->ssl)) {
        ERR_clear_error();
        SSL_shutdown(s->ssl); /* queues close_notify; we do not wait for the peer's */
        flush(s);
        ERR_clear_error();
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp) > 0 &&
        uv_shutdown(&s->shutdown_req, (uv_stream_t *)&s->tcp, on_shutdown) == 0) {
        uv_timer_start(&s->timer, on_linger_timeout, LINGER_MS, 0);
        return;
    }
    close_handles(s);
}
