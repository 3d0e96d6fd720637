/* Webhook channel: POSTs each notification's JSON to a URL with libcurl, driven by the loop.
 *
 * Why libcurl multi: HTTPS with certificate checks, proxies, redirects and keep-alive done right,
 * and its multi interface can be driven by someone else's event loop, so no request ever blocks
 * the loop thread (name resolution runs on curl's own resolver thread).
 *
 * How (the standard libuv integration, as in curl's docs/examples/multi-uv.c): the notifier owns
 * one CURLM shared by every webhook channel. curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION: one uv_poll_t per socket, remembered with curl_multi_assign) and when
 * to call it back (CURLMOPT_TIMERFUNCTION: one uv_timer_t); readiness and expiry go back in
 * through curl_multi_socket_action(), and finished transfers are collected with
 * curl_multi_info_read(). Each channel owns one easy handle, reused per request (keeps its
 * connection), so one request per channel is in flight. A 2xx answer is success; anything else,
 * a transport error or timeout_ms passing, is a failure the core retries with backoff. TLS peer
 * and host verification are on (libcurl's default, set explicitly). Only http and https. */
#include "notify/notify_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"

typedef struct sock {
    struct sock *prev, *next;
    uv_poll_t poll;
    curl_socket_t fd;
    rn__notify_curl_t *c;
    bool closing;
} sock_t;

struct rn__notify_curl {
    rn_notifier_t *n;
    CURLM *multi;
    uv_timer_t timer;
    sock_t *socks;
    int open_handles;
    void (*done)(rn_notifier_t *n);
};

typedef struct {
    rn__notify_chan_t base;
    rn__notify_curl_t *c;
    char *url;
    uint32_t timeout_ms;
    CURL *easy;
    struct curl_slist *headers;
    bool busy;
    char err[CURL_ERROR_SIZE];
} hook_t;

static void check_done(rn__notify_curl_t *c);

/* ---- the shared multi handle ----------------------------------------------------------------- */

static void on_curl_handle_closed(uv_handle_t *h)
{
    rn__notify_curl_t *c = h->data;
    if (h->type == UV_POLL) {
        sock_t *s = rn__container_of((uv_poll_t *)h, sock_t, poll);
        if (s->prev)
            s->prev->next = s->next;
        else
            c->socks = s->next;
        if (s->next)
            s->next->prev = s->prev;
        free(s);
    }
    if (--c->open_handles == 0 && c->done) {
        void (*done)(rn_notifier_t *) = c->done;
        rn_notifier_t *n = c->n;
        free(c);
        done(n);
    }
}

/* Stops watching a socket and closes its poll handle (once). */
static void sock_close(sock_t *s)
{
    if (s->closing)
        return;
    s->closing = true;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_curl_handle_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_t *s = rn__container_of(h, sock_t, poll);
    rn__notify_curl_t *c = s->c;
    int flags = status < 0 ? CURL_CSELECT_ERR : 0, running = 0;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, s->fd, flags, &running); /* may close s */
    check_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants, or stop watching it. Returns 0. */
static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    rn__notify_curl_t *c = userp;
    sock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(c->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || uv_poll_init_socket(rn__notify_loop(c->n), &s->poll, fd) != 0) {
            free(s);
            return -1; /* curl fails the transfer */
        }
        s->fd = fd, s->c = c;
        s->poll.data = c;
        s->next = c->socks;
        if (c->socks)
            c->socks->prev = s;
        c->socks = s;
        c->open_handles++;
        curl_multi_assign(c->multi, fd, s);
    }
    int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    rn__notify_curl_t *c = t->data;
    int running = 0;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

/* CURLMOPT_TIMERFUNCTION: (re)arm or stop our timer. Returns 0. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    rn__notify_curl_t *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* Returns the notifier's shared multi handle, creating it. NULL when out of memory. */
static rn__notify_curl_t *curl_get(rn_notifier_t *n)
{
    rn__notify_curl_t **slot = rn__notify_curl_slot(n);
    if (*slot)
        return *slot;
    rn__notify_curl_t *c = calloc(1, sizeof *c);
    if (!c || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c->multi = curl_multi_init())) {
        free(c);
        return NULL;
    }
    c->n = n;
    uv_timer_init(rn__notify_loop(n), &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    *slot = c;
    return c;
}

void rn__notify_curl_close(rn_notifier_t *n, rn__notify_curl_t *c, void (*done)(rn_notifier_t *))
{
    c->done = done;
    for (sock_t *s = c->socks; s; s = s->next)
        uv_poll_stop(&s->poll); /* before curl closes the fds */
    curl_multi_cleanup(c->multi); /* the channels removed their easy handles already */
    c->multi = NULL;
    for (sock_t *s = c->socks; s; s = s->next)
        sock_close(s);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_curl_handle_closed);
}

/* ---- requests -------------------------------------------------------------------------------- */

/* Collects finished transfers and reports them to their channels. */
static void check_done(rn__notify_curl_t *c)
{
    CURLMsg *m;
    int left;
    while (c->multi && (m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        hook_t *h = NULL;
        CURLcode res = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&h);
        long code = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        curl_multi_remove_handle(c->multi, m->easy_handle);
        h->busy = false;
        int status = 0;
        if (res != CURLE_OK) {
            snprintf(h->base.why, sizeof h->base.why, "%s", h->err[0] ? h->err
                                                                      : curl_easy_strerror(res));
            status = res == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
        } else if (code < 200 || code > 299) {
            snprintf(h->base.why, sizeof h->base.why, "HTTP status %ld", code);
            status = -EIO;
        }
        rn__notify_chan_done(&h->base, status);
    }
}

/* CURLOPT_WRITEFUNCTION: the answer's body is not needed (only its status); without this
 * libcurl would print it on stdout. Returns the size, meaning "taken". */
static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;
}

/* Sets the request options on the channel's easy handle for body. Returns CURLE_OK or an error. */
static CURLcode set_request(hook_t *h, const char *body)
{
    CURL *e = h->easy;
    CURLcode rc = CURLE_OK;
    curl_easy_reset(e);
#define SET(opt, val) \
    if (rc == CURLE_OK) \
    rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, h->url);
    SET(CURLOPT_POSTFIELDS, body); /* borrowed: the notification outlives the request */
    SET(CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    SET(CURLOPT_HTTPHEADER, h->headers);
    SET(CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_WRITEFUNCTION, discard_body);
    SET(CURLOPT_PRIVATE, (void *)h);
    SET(CURLOPT_ERRORBUFFER, h->err);
    SET(CURLOPT_USERAGENT, "rajnet-collector");
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef SET
    return rc;
}

static int hook_send(rn__notify_chan_t *ch, const rn__notify_event_t *ev)
{
    hook_t *h = (hook_t *)ch;
    h->err[0] = '\0';
    CURLcode rc = set_request(h, ev->json);
    if (rc != CURLE_OK) {
        snprintf(ch->why, sizeof ch->why, "%s", curl_easy_strerror(rc));
        return -EINVAL;
    }
    CURLMcode mrc = curl_multi_add_handle(h->c->multi, h->easy);
    if (mrc != CURLM_OK) {
        snprintf(ch->why, sizeof ch->why, "%s", curl_multi_strerror(mrc));
        return -EIO;
    }
    h->busy = true;
    return 0;
}

static void hook_close(rn__notify_chan_t *ch)
{
    hook_t *h = (hook_t *)ch;
    if (h->busy)
        curl_multi_remove_handle(h->c->multi, h->easy);
    h->busy = false;
    rn__notify_chan_closed(ch);
}

static void hook_free(rn__notify_chan_t *ch)
{
    hook_t *h = (hook_t *)ch;
    if (h->easy)
        curl_easy_cleanup(h->easy);
    curl_slist_free_all(h->headers);
    free(h->url);
    free(h);
}

static const rn__notify_chan_ops_t hook_ops = { hook_send, hook_close, hook_free };

int rn__notify_webhook_new(rn_notifier_t *n, const rn_notify_webhook_config_t *cfg,
                           rn__notify_chan_t **out)
{
    hook_t *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->c = curl_get(n);
    h->url = strdup(cfg->url ? cfg->url : "");
    h->easy = h->c ? curl_easy_init() : NULL;
    struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
    h->headers = l ? curl_slist_append(l, "Expect:") : NULL; /* no 100-continue round trip */
    if (!h->headers)
        curl_slist_free_all(l);
    if (!h->c || !h->url || !h->easy || !h->headers ||
        asprintf(&h->base.key, "webhook %s", h->url) < 0) {
        h->base.key = NULL;
        hook_free(&h->base);
        return -ENOMEM;
    }
    h->base.n = n;
    h->base.ops = &hook_ops;
    h->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 5000;
    *out = &h->base;
    return 0;
}
