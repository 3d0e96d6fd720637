/* Syslog channel: RFC 5424 messages with structured data (notify_format.c) to a syslog server.
 *
 * UDP (RFC 5426): one datagram per notification, counted as delivered once the kernel took it.
 * TCP (RFC 6587 octet counting, "LEN SP MSG"): one connection kept open and re-made on demand;
 * a notification is delivered when its write completed. We read from the connection only to
 * learn that the server closed it (anything it sends is discarded), so the next notification
 * reconnects instead of vanishing into a half-closed socket. A connect or write that takes longer
 * than timeout_ms tears the connection down and fails the attempt (the core retries).
 *
 * Handles: the UDP socket, or the TCP socket (only while connected or connecting) plus a timer.
 * The channel reports itself closed when every one of them is. */
#include "notify/notify_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define MSG_MAX 8192 /* RFC 5424 receivers must take 480 bytes, should take 2048; most take 8k */

typedef enum { SYS_DOWN, SYS_CONNECTING, SYS_UP, SYS_CLOSING } tcp_state_t;

typedef struct {
    rn__notify_chan_t base;
    bool is_tcp;
    struct sockaddr_storage addr;
    unsigned facility;
    uint32_t timeout_ms;
    char host[256];
    int pid;
    uv_udp_t udp;
    uv_udp_send_t sreq;
    uv_tcp_t tcp;
    tcp_state_t tstate;
    uv_connect_t conn;
    uv_write_t wreq;
    uv_timer_t timer;
    char *msg;              /* the message in flight (owned) */
    size_t msg_len;
    bool sending;           /* a TCP message waits for the connection or its write */
    int open_handles;
} sys_t;

/* Counts a closed handle; the channel is closed when none is left. */
static void on_handle_closed(uv_handle_t *h)
{
    sys_t *s = h->data;
    if (h == (uv_handle_t *)&s->tcp)
        s->tstate = SYS_DOWN;
    if (--s->open_handles == 0 && s->base.closing)
        rn__notify_chan_closed(&s->base);
}

/* Ends the attempt in flight (status 0 or a negative error, why set by the caller). */
static void finish(sys_t *s, int status)
{
    if (!s->sending)
        return;
    s->sending = false;
    uv_timer_stop(&s->timer);
    free(s->msg);
    s->msg = NULL;
    rn__notify_chan_done(&s->base, status);
}

/* Closes the TCP connection (if any) and fails the attempt in flight with status. */
static void tcp_teardown(sys_t *s, int status, const char *what)
{
    if (s->sending && status)
        snprintf(s->base.why, sizeof s->base.why, "%s: %s", what, rn_strerror(status));
    if (s->tstate == SYS_CONNECTING || s->tstate == SYS_UP) {
        s->tstate = SYS_CLOSING;
        uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
    }
    finish(s, status ? status : -EIO);
}

static void on_udp_sent(uv_udp_send_t *req, int status)
{
    sys_t *s = req->data;
    if (status)
        snprintf(s->base.why, sizeof s->base.why, "send: %s", rn_strerror(status));
    finish(s, status);
}

static void on_written(uv_write_t *req, int status)
{
    sys_t *s = req->data;
    if (status == UV_ECANCELED)
        return; /* the connection is being torn down, which fails the attempt itself */
    if (status)
        tcp_teardown(s, status, "write");
    else
        finish(s, 0);
}

/* Writes the message in flight on the connected socket. */
static void tcp_write(sys_t *s)
{
    uv_buf_t b = uv_buf_init(s->msg, (unsigned)s->msg_len);
    s->wreq.data = s;
    int rc = uv_write(&s->wreq, (uv_stream_t *)&s->tcp, &b, 1, on_written);
    if (rc)
        tcp_teardown(s, rc, "write");
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char sink[512]; /* what a server says is thrown away; only EOF matters */
    *buf = uv_buf_init(sink, sizeof sink);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    sys_t *s = stream->data;
    if (nread < 0)
        tcp_teardown(s, (int)nread, "connection closed by the server");
}

static void on_connected(uv_connect_t *req, int status)
{
    sys_t *s = req->data;
    if (status == UV_ECANCELED)
        return;
    if (status) {
        tcp_teardown(s, status, "connect");
        return;
    }
    s->tstate = SYS_UP;
    uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    if (s->sending)
        tcp_write(s);
}

static void on_timeout(uv_timer_t *t)
{
    sys_t *s = t->data;
    snprintf(s->base.why, sizeof s->base.why, "no connection or write within %u ms",
             (unsigned)s->timeout_ms);
    tcp_teardown(s, UV_ETIMEDOUT, "timeout");
}

/* Starts a TCP connection. Returns 0 or a negative error (nothing to close then). */
static int tcp_connect(sys_t *s)
{
    int rc = uv_tcp_init(rn__notify_loop(s->base.n), &s->tcp);
    if (rc)
        return rc;
    s->tcp.data = s;
    s->open_handles++;
    s->tstate = SYS_CONNECTING;
    s->conn.data = s;
    rc = uv_tcp_connect(&s->conn, &s->tcp, (struct sockaddr *)&s->addr, on_connected);
    if (rc) {
        s->tstate = SYS_CLOSING;
        uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
    }
    return rc;
}

/* Formats ev (octet-counted for TCP) into a new s->msg. Returns 0 or -ENOMEM. */
static int format(sys_t *s, const rn__notify_event_t *ev)
{
    char *line = malloc(MSG_MAX), *m = malloc(MSG_MAX + 16);
    if (!line || !m) {
        free(line), free(m);
        return -ENOMEM;
    }
    size_t n = rn__notify_syslog_format(ev, s->facility, s->host, s->pid, line, MSG_MAX);
    int pl = s->is_tcp ? snprintf(m, 16, "%zu ", n) : 0;
    memcpy(m + pl, line, n);
    free(line);
    s->msg = m, s->msg_len = n + (size_t)pl;
    return 0;
}

static int sys_send(rn__notify_chan_t *ch, const rn__notify_event_t *ev)
{
    sys_t *s = (sys_t *)ch;
    if (s->is_tcp && s->tstate == SYS_CLOSING) {
        snprintf(ch->why, sizeof ch->why, "connection still closing");
        return -EAGAIN;
    }
    int rc = format(s, ev);
    if (rc == 0 && !s->is_tcp) {
        uv_buf_t b = uv_buf_init(s->msg, (unsigned)s->msg_len);
        s->sreq.data = s;
        rc = uv_udp_send(&s->sreq, &s->udp, &b, 1, (struct sockaddr *)&s->addr, on_udp_sent);
    } else if (rc == 0 && s->tstate == SYS_DOWN) {
        rc = tcp_connect(s);
    }
    if (rc) {
        snprintf(ch->why, sizeof ch->why, "%s", rn_strerror(rc));
        free(s->msg);
        s->msg = NULL;
        return rc;
    }
    s->sending = true;
    if (s->is_tcp) {
        uv_timer_start(&s->timer, on_timeout, s->timeout_ms, 0);
        if (s->tstate == SYS_UP)
            tcp_write(s);
    }
    return 0;
}

static void sys_close(rn__notify_chan_t *ch)
{
    sys_t *s = (sys_t *)ch;
    s->sending = false; /* no done call any more: the core is closing the channel */
    if (s->is_tcp && (s->tstate == SYS_CONNECTING || s->tstate == SYS_UP)) {
        s->tstate = SYS_CLOSING;
        uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
    }
    uv_close(s->is_tcp ? (uv_handle_t *)&s->timer : (uv_handle_t *)&s->udp, on_handle_closed);
}

static void sys_free(rn__notify_chan_t *ch)
{
    sys_t *s = (sys_t *)ch;
    free(s->msg);
    free(s);
}

static const rn__notify_chan_ops_t sys_ops = { sys_send, sys_close, sys_free };

int rn__notify_syslog_new(rn_notifier_t *n, const rn_notify_syslog_config_t *cfg,
                          rn__notify_chan_t **out)
{
    sys_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    if (rn__notify_parse_target(cfg->target, &s->is_tcp, &s->addr) != 0) {
        free(s);
        return -EINVAL;
    }
    if (asprintf(&s->base.key, "syslog %s", cfg->target) < 0) {
        free(s);
        return -ENOMEM;
    }
    s->base.n = n;
    s->base.ops = &sys_ops;
    s->facility = cfg->facility <= 23 ? cfg->facility : 16;
    s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 5000;
    s->pid = (int)getpid();
    if (gethostname(s->host, sizeof s->host - 1) != 0 || !s->host[0])
        snprintf(s->host, sizeof s->host, "-");
    for (char *p = s->host; *p; p++) /* RFC 5424 HOSTNAME is PRINTUSASCII without spaces */
        if (*p <= 32 || *p >= 127)
            *p = '_';
    uv_loop_t *loop = rn__notify_loop(n);
    uv_handle_t *h = s->is_tcp ? (uv_handle_t *)&s->timer : (uv_handle_t *)&s->udp;
    int rc = s->is_tcp ? uv_timer_init(loop, &s->timer) : uv_udp_init(loop, &s->udp);
    if (rc) {
        free(s->base.key);
        free(s);
        return rc;
    }
    h->data = s;
    s->open_handles = 1;
    *out = &s->base;
    return 0;
}
