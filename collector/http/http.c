/* HTTP server core (see http.h): libmicrohttpd on the libuv loop, routing over the route tables
 * it is given (routes.c; it names no resource itself, see http_int.h), replies, async jobs with
 * suspend/resume, server-sent events and the dashboard's static files. */
#include "http/http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "http/http_int.h"
#include "log.h"

#define MAX_SSE_CLIENTS 64
#define SSE_BUF_MAX (256 * 1024)    /* a client this far behind is dropped */
#define SSE_STATUS_MS 5000
#define STATIC_MAX (8 * 1024 * 1024)

typedef struct rn_sse_client {
    rn_http_t *http;
    struct MHD_Connection *conn;
    char *buf;
    size_t len, off, cap;
    bool waiting;                  /* suspended in the reader: nothing to send */
    bool gone;                     /* end the stream at the next read */
    struct rn_sse_client *next, *prev;
} sse_client_t;

static void schedule(rn_http_t *h);
static void kick(rn_http_t *h);

/* ---------------------------------------------------------------- replies */

static void queue_now(rn_http_req_t *r, unsigned status, struct MHD_Response *resp)
{
    rn_http_t *h = r->http;
    if (status >= 500)
        h->replies_5xx++;
    else if (status >= 400)
        h->replies_4xx++;
    if (r->suspended) { /* from a job's callback: queued when the access handler runs again */
        r->response = resp;
        r->status = status;
        r->suspended = false;
        if (r->prev)
            r->prev->next = r->next;
        else
            h->waiting = r->next;
        if (r->next)
            r->next->prev = r->prev;
        r->next = r->prev = NULL;
        MHD_resume_connection(r->conn);
        kick(h);
        return;
    }
    MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
}

/* Replies with body (malloc'd; taken); retry_after (may be NULL) becomes a Retry-After header. */
static void reply(rn_http_req_t *r, unsigned status, const char *ctype, char *body, size_t len,
                  const char *retry_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (void *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                            : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return; /* MHD closes the connection */
    }
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"rajnet\"");
    if (retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    queue_now(r, status, resp);
}

void rn__http_reply(rn_http_req_t *r, unsigned status, const char *ctype, char *body, size_t len)
{
    reply(r, status, ctype, body, len, NULL);
}

/* Replies with j serialized (takes the reference), with a Retry-After header when not NULL. */
static void json_reply(rn_http_req_t *r, unsigned status, json_t *j, const char *retry_after)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) {
        reply(r, 500, "application/json", strdup("{\"error\":\"out of memory\"}"), 25, NULL);
        return;
    }
    size_t n = strlen(s);
    char *t = realloc(s, n + 2); /* a newline for people with curl */
    if (t) {
        t[n++] = '\n';
        t[n] = '\0';
        s = t;
    }
    reply(r, status, "application/json", s, n, retry_after);
}

void rn__http_json(rn_http_req_t *r, unsigned status, json_t *j)
{
    json_reply(r, status, j, NULL);
}

void rn__http_error(rn_http_req_t *r, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rn__http_json(r, status, json_pack("{s:s}", "error", msg));
}

void rn__http_busy(rn_http_req_t *r, unsigned retry_s, const char *fmt, ...)
{
    char msg[512], retry[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(retry, sizeof retry, "%u", retry_s);
    json_reply(r, 503, json_pack("{s:s}", "error", msg), retry);
}

/* ---------------------------------------------------------------- jobs */

void *rn__http_job_new(rn_http_req_t *r, size_t size)
{
    rn_http_job_t *j = calloc(1, size);
    if (!j)
        return NULL;
    j->http = r->http;
    j->req = r;
    r->job = j;
    r->http->jobs++;
    return j;
}

void rn__http_suspend(rn_http_req_t *r)
{
    rn_http_t *h = r->http;
    r->suspended = true;
    r->next = h->waiting;
    r->prev = NULL;
    if (h->waiting)
        h->waiting->prev = r;
    h->waiting = r;
    MHD_suspend_connection(r->conn);
}

static void try_free(rn_http_t *h);

static rn_http_req_t *job_release(rn_http_job_t *j)
{
    rn_http_t *h = j->http;
    rn_http_req_t *r = j->req;
    if (r)
        r->job = NULL;
    free(j);
    h->jobs--;
    if (h->closing) {
        try_free(h);
        return NULL; /* the connection is gone with the daemon */
    }
    return r;
}

rn_http_req_t *rn__http_job_done(rn_http_job_t *j)
{
    return job_release(j);
}

void rn__http_job_cancel(rn_http_job_t *j)
{
    job_release(j);
}

/* ---------------------------------------------------------------- request helpers */

const char *rn__http_arg(rn_http_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
    const char *const *allowed;
    const char *bad;
} args_check_t;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind, (void)value;
    args_check_t *a = cls;
    for (const char *const *p = a->allowed; *p; p++)
        if (strcmp(*p, key) == 0)
            return MHD_YES;
    a->bad = key;
    return MHD_NO;
}

bool rn__http_args_only(rn_http_req_t *r, const char *const *allowed)
{
    static const char *const none[] = { NULL };
    args_check_t a = { allowed ? allowed : none, NULL };
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &a);
    if (!a.bad)
        return true;
    rn__http_error(r, 400, "%.64s: unknown query parameter", a.bad);
    return false;
}

bool rn__http_arg_int(rn_http_req_t *r, const char *name, int64_t def, int64_t lo, int64_t hi,
                      int64_t *out)
{
    const char *s = rn__http_arg(r, name);
    if (!s) {
        *out = def;
        return true;
    }
    if (rn__http_parse_int(s, lo, hi, out) == 0)
        return true;
    if (hi == INT64_MAX / 2) /* the times */
        rn__http_error(r, 400, "%s: '%.64s' is not a time in Unix milliseconds", name, s);
    else
        rn__http_error(r, 400, "%s: '%.64s' is not an integer in [%" PRId64 ", %" PRId64 "]", name,
                       s, lo, hi);
    return false;
}

bool rn__http_is_admin(const rn_http_req_t *r)
{
    return r->token && !strcmp(r->token->role, "admin");
}

bool rn__http_need_writer(rn_http_req_t *r)
{
    if (!r->token_given) {
        rn__http_error(r, 401, "Authorization: a bearer token with role operator is required");
        return false;
    }
    if (!r->token) {
        rn__http_error(r, 401, "Authorization: unknown token");
        return false;
    }
    if (strcmp(r->token->role, "operator") && strcmp(r->token->role, "admin")) {
        rn__http_error(r, 403, "Authorization: token '%s' has role %s, which may not write",
                       r->token->name, r->token->role);
        return false;
    }
    return true;
}

json_t *rn__http_body_object(rn_http_req_t *r)
{
    if (!r->body || !r->body_len) {
        rn__http_error(r, 400, "body: a JSON object is required");
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        rn__http_error(r, 400, "body: malformed JSON at line %d column %d: %s", e.line, e.column,
                       e.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        rn__http_error(r, 400, "body: a JSON object is required");
        return NULL;
    }
    return j;
}

/* ---------------------------------------------------------------- server-sent events */

static void sse_kick(sse_client_t *cl)
{
    if (cl->waiting) {
        cl->waiting = false;
        MHD_resume_connection(cl->conn);
        kick(cl->http);
    }
}

static void sse_push(sse_client_t *cl, const char *event, const char *data)
{
    if (cl->gone)
        return;
    size_t need = strlen(event) + strlen(data) + 32;
    if (cl->len + need > SSE_BUF_MAX) {
        rn_warn("http: an event stream client is too far behind: dropping it");
        cl->http->sse_dropped++;
        cl->gone = true;
        sse_kick(cl);
        return;
    }
    if (cl->len + need > cl->cap) {
        size_t cap = (cl->len + need) * 2;
        char *b = realloc(cl->buf, cap);
        if (!b) {
            cl->gone = true;
            sse_kick(cl);
            return;
        }
        cl->buf = b;
        cl->cap = cap;
    }
    cl->len += (size_t)snprintf(cl->buf + cl->len, cl->cap - cl->len, "event: %s\ndata: %s\n\n",
                                event, data);
    sse_kick(cl);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_client_t *cl = cls;
    if (cl->gone || cl->http->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (cl->off == cl->len) {
        cl->off = cl->len = 0;
        cl->waiting = true; /* resumed by the next push */
        MHD_suspend_connection(cl->conn);
        return 0;
    }
    size_t n = cl->len - cl->off < max ? cl->len - cl->off : max;
    memcpy(buf, cl->buf + cl->off, n);
    cl->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse_client_t *cl = cls;
    rn_http_t *h = cl->http;
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        h->sse = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    h->n_sse--;
    free(cl->buf);
    free(cl);
}

static void api_events(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    rn_http_t *h = r->http;
    if (!rn__http_args_only(r, NULL))
        return;
    if (h->n_sse >= MAX_SSE_CLIENTS)
        return rn__http_error(r, 503, "too many event stream clients (%d)", MAX_SSE_CLIENTS);
    sse_client_t *cl = calloc(1, sizeof *cl);
    if (!cl)
        return rn__http_error(r, 503, "out of memory");
    cl->http = h;
    cl->conn = r->conn;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, cl, sse_free);
    if (!resp) {
        free(cl);
        return rn__http_error(r, 503, "out of memory");
    }
    cl->next = h->sse;
    if (h->sse)
        h->sse->prev = cl;
    h->sse = cl;
    h->n_sse++;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    sse_push(cl, "hello", "{}");
    json_t *st = h->site->status_json(h);
    char *s = st ? json_dumps(st, JSON_COMPACT) : NULL;
    json_decref(st);
    if (s)
        sse_push(cl, "status", s);
    free(s);
    queue_now(r, 200, resp);
}

void rn_http_publish_json(rn_http_t *h, const char *event, const char *json)
{
    if (!h)
        return;
    for (sse_client_t *cl = h->sse; cl; cl = cl->next)
        sse_push(cl, event, json);
}

static void on_sse_timer(uv_timer_t *t)
{
    rn_http_t *h = t->data;
    if (!h->sse)
        return;
    json_t *st = h->site->status_json(h);
    char *s = st ? json_dumps(st, JSON_COMPACT) : NULL;
    json_decref(st);
    if (s)
        rn_http_publish_json(h, "status", s);
    free(s);
}

/* ---------------------------------------------------------------- static files */

typedef struct {
    rn_http_job_t job;
    uv_work_t work;
    char *path;
    char *data;
    size_t len;
    int err;
} static_job_t;

static void static_work(uv_work_t *w)
{
    static_job_t *j = w->data;
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX) {
        j->err = fd < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
        if (fd >= 0)
            close(fd);
        return;
    }
    j->data = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (j->data && got < (size_t)st.st_size) {
        ssize_t n = read(fd, j->data + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    j->len = got;
    if (!j->data)
        j->err = ENOMEM;
}

static const char *mime_of(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },   { ".json", "application/json" },
        { ".svg", "image/svg+xml" },             { ".png", "image/png" },
        { ".ico", "image/x-icon" },              { ".txt", "text/plain; charset=utf-8" },
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static void static_done(uv_work_t *w, int status)
{
    static_job_t *j = w->data;
    /* rn__http_job_done frees j: take what the reply needs first. */
    int err = j->err;
    char *path = j->path, *data = j->data;
    size_t len = j->len;
    rn_http_req_t *r = rn__http_job_done(&j->job);
    if (r && (status || err))
        rn__http_error(r, err == ENOENT || err == EISDIR ? 404 : 500, "%s: %s", r->path,
                       err == ENOENT ? "no such file" : rn_strerror(-(err ? err : EIO)));
    else if (r) {
        rn__http_reply(r, 200, mime_of(path), data, len);
        data = NULL; /* the reply owns it */
    }
    free(data);
    free(path);
}

static void api_static(rn_http_req_t *r, const char *rel)
{
    rn_http_t *h = r->http;
    if (!h->cfg->dashboard_dir)
        return rn__http_error(r, 404, "%s: no dashboard configured (http.dashboard_dir)", r->path);
    if (!*rel)
        rel = "index.html";
    for (const char *p = rel; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-/", *p))
            return rn__http_error(r, 404, "%s: no such file", r->path);
    if (strstr(rel, "..") || rel[0] == '/')
        return rn__http_error(r, 404, "%s: no such file", r->path);
    static_job_t *j = rn__http_job_new(r, sizeof *j);
    size_t n = strlen(h->cfg->dashboard_dir) + strlen(rel) + 2;
    if (!j || !(j->path = malloc(n))) {
        if (j)
            rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "out of memory");
    }
    snprintf(j->path, n, "%s/%s", h->cfg->dashboard_dir, rel);
    j->work.data = j;
    if (uv_queue_work(rn__http_loop(h), &j->work, static_work, static_done) != 0) {
        free(j->path);
        j->path = NULL;
        rn__http_job_cancel(&j->job);
        return rn__http_error(r, 503, "cannot queue the file read");
    }
    rn__http_suspend(r);
}

static void api_root(rn_http_req_t *r, const char *arg)
{
    (void)arg;
    api_static(r, "index.html");
}

static void api_static_prefix(rn_http_req_t *r, const char *rel)
{
    api_static(r, rel);
}

/* ---------------------------------------------------------------- routing */

/* The server's own resources: the event stream, and the dashboard's files (last in the list). */
const rn_http_route_t rn_http_events_routes[] = {
    { "GET", "/api/v1/events", false, api_events },
    { NULL, NULL, false, NULL },
};

const rn_http_route_t rn_http_static_routes[] = {
    { "GET", "/", false, api_root },
    { "GET", "/static/", true, api_static_prefix },
    { NULL, NULL, false, NULL },
};

static bool path_matches(const rn_http_route_t *rt, const char *path, const char **arg)
{
    size_t n = strlen(rt->path);
    if (rt->prefix ? strncmp(path, rt->path, n) != 0 || !path[n] : strcmp(path, rt->path) != 0)
        return false;
    *arg = rt->prefix ? path + n : "";
    return true;
}

static void dispatch(rn_http_req_t *r)
{
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    char allow[64] = "";
    const char *arg;
    if (r->body_too_big)
        return rn__http_error(r, 413, "body: larger than %d bytes", RN_HTTP_MAX_BODY);
    for (const rn_http_route_t *const *t = r->http->site->tables; *t; t++)
        for (const rn_http_route_t *rt = *t; rt->method; rt++) {
            if (!path_matches(rt, r->path, &arg))
                continue;
            if (strcmp(rt->method, method) == 0)
                return rt->fn(r, arg);
            if (!strstr(allow, rt->method))
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                         *allow ? ", " : "", rt->method);
        }
    if (*allow)
        return rn__http_error(r, 405, "method %s not allowed on %s (allowed: %s)", r->method,
                              r->path, allow);
    rn__http_error(r, 404, "no such endpoint: %s", r->path);
}

/* Refuses a request whose Host is not a name of this server: a page on another site whose DNS
 * name was re-pointed at a locally bound API (DNS rebinding) would otherwise read it as its own
 * origin. Returns true if r may go on; otherwise it has replied 421 (or 400). */
static bool host_ok(rn_http_req_t *r)
{
    const rn_http_config_t *cfg = r->http->cfg;
    const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    int rc = rn__http_host_allowed(host, cfg->listen_host, cfg->allowed_hosts,
                                   cfg->n_allowed_hosts);
    if (rc == -EPERM)
        rn__http_error(r, 421, "Host: '%.100s' is not a name of this server (use its address, "
                               "localhost, or a name listed in http.allowed_hosts)", host);
    else if (rc)
        rn__http_error(r, 400, "Host: '%.100s' is not host[:port]", host);
    return rc == 0;
}

/* Finds the bearer token of the request among the configured ones (constant-time compare). */
static void authenticate(rn_http_req_t *r)
{
    const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (!a)
        return;
    r->token_given = true;
    if (strncasecmp(a, "Bearer ", 7) != 0)
        return;
    a += 7;
    size_t alen = strlen(a);
    const rn_http_t *h = r->http;
    for (size_t i = 0; i < h->n_tokens; i++) {
        const char *t = h->tokens[i].token;
        size_t tlen = strlen(t);
        unsigned char diff = (unsigned char)(alen != tlen);
        for (size_t k = 0; k < tlen; k++)
            diff |= (unsigned char)(t[k] ^ (k < alen ? a[k] : 0));
        if (!diff)
            r->token = &h->tokens[i];
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    rn_http_t *h = cls;
    rn_http_req_t *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r || !(r->path = strdup(url))) {
            free(r);
            return MHD_NO;
        }
        r->http = h;
        r->conn = conn;
        snprintf(r->method, sizeof r->method, "%s", method);
        *con_cls = r;
        h->requests++;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->body_too_big || r->body_len + n > RN_HTTP_MAX_BODY) {
            r->body_too_big = true;
            return MHD_YES;
        }
        char *b = realloc(r->body, r->body_len + n + 1);
        if (!b)
            return MHD_NO;
        memcpy(b + r->body_len, upload_data, n);
        r->body = b;
        r->body_len += n;
        b[r->body_len] = '\0';
        return MHD_YES;
    }
    if (r->response) { /* resumed: the job's answer */
        enum MHD_Result rc = MHD_queue_response(conn, r->status, r->response);
        MHD_destroy_response(r->response);
        r->response = NULL;
        return rc;
    }
    if (r->dispatched)
        return MHD_YES; /* still waiting */
    r->dispatched = true;
    if (!host_ok(r))
        return MHD_YES;
    authenticate(r);
    dispatch(r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    rn_http_req_t *r = *con_cls;
    if (!r)
        return;
    rn_http_job_t *job = r->job;
    if (job)
        job->req = NULL;
    if (r->suspended) {
        rn_http_t *h = r->http;
        if (r->prev)
            r->prev->next = r->next;
        else
            h->waiting = r->next;
        if (r->next)
            r->next->prev = r->prev;
    }
    if (r->response)
        MHD_destroy_response(r->response);
    free(r->body);
    free(r->path);
    free(r);
    *con_cls = NULL;
    if (job && job->gone)
        job->gone(job); /* last: it may finish (and free) the job */
}

/* ---------------------------------------------------------------- the loop */

static void run(rn_http_t *h)
{
    if (h->closing || !h->mhd)
        return;
    MHD_run(h->mhd);
    schedule(h);
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

/* Runs MHD from the loop soon: a resumed connection has something to send. */
static void kick(rn_http_t *h)
{
    if (!h->closing)
        uv_timer_start(&h->timer, on_timer, 0, 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    run(p->data);
}

/* Arms the timer for MHD's next timeout (connection timeouts, resumed connections). */
static void schedule(rn_http_t *h)
{
    MHD_UNSIGNED_LONG_LONG to;
    if (h->closing)
        return;
    if (MHD_get_timeout(h->mhd, &to) == MHD_YES)
        uv_timer_start(&h->timer, on_timer, to > 60000 ? 60000 : to, 0);
    else
        uv_timer_start(&h->timer, on_timer, 1000, 0);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    rn_debug("http: %s", msg);
}

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "r"); /* at startup, before the loop runs */
    if (!f)
        return NULL;
    char *buf = calloc(1, 65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf && n == 0) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* Reads cfg's certificate and key into h (at start). Returns 0, or -ENOTSUP (no TLS in this
 * libmicrohttpd) or -EIO (logged; nothing kept). */
static int load_tls(rn_http_t *h, const rn_http_config_t *cfg)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        rn_error("http: tls: this libmicrohttpd has no TLS support");
        return -ENOTSUP;
    }
    h->tls_cert_pem = read_pem(cfg->tls_cert);
    h->tls_key_pem = read_pem(cfg->tls_key);
    if (!h->tls_cert_pem || !h->tls_key_pem) {
        rn_error("http: tls: cannot read %s", !h->tls_cert_pem ? cfg->tls_cert : cfg->tls_key);
        free(h->tls_cert_pem);
        free(h->tls_key_pem);
        h->tls_cert_pem = h->tls_key_pem = NULL;
        return -EIO;
    }
    return 0;
}

static void free_http(rn_http_t *h)
{
    free(h->tls_cert_pem);
    free(h->tls_key_pem);
    void (*cb)(void *) = h->close_cb;
    void *data = h->close_data;
    free(h);
    if (cb)
        cb(data);
}

static void try_free(rn_http_t *h)
{
    if (h->closing && !h->freed && h->handles_open == 0 && h->jobs == 0) {
        h->freed = true;
        free_http(h);
    }
}

static void on_handle_closed(uv_handle_t *hd)
{
    rn_http_t *h = hd->data;
    h->handles_open--;
    try_free(h);
}

int rn__http_serve(const rn_http_view_t *view, const rn_http_config_t *cfg,
                   const rn_http_site_t *site, rn_http_t **out)
{
    rn_http_t *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->view = view;
    h->cfg = cfg;
    h->tokens = cfg->tokens, h->n_tokens = cfg->n_tokens;
    h->site = site;
    h->started_ms = rn_clock_wall_ms();
    struct sockaddr_storage ss;
    bool v6 = strchr(cfg->listen_host, ':') != NULL;
    int rc = v6 ? uv_ip6_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in6 *)&ss)
                : uv_ip4_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in *)&ss);
    if (rc) {
        rn_error("http: listen %s:%u: not a numeric address", cfg->listen_host, cfg->listen_port);
        free(h);
        return rc;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (cfg->tls_cert) {
        if ((rc = load_tls(h, cfg)) != 0) {
            free(h);
            return rc;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert_pem },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key_pem },
        { MHD_OPTION_END, 0, NULL },
    };
    h->mhd = MHD_start_daemon(
        flags, cfg->listen_port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 256u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_ARRAY, cfg->tls_cert ? tls_opts : &tls_opts[2],
        MHD_OPTION_END);
    if (!h->mhd) {
        rn_error("http: cannot listen on %s:%u (address in use, or not local?)", cfg->listen_host,
                 cfg->listen_port);
        free(h->tls_cert_pem);
        free(h->tls_key_pem);
        free(h);
        return -EADDRINUSE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    rc = info ? uv_poll_init(rn__http_loop(h), &h->poll, info->epoll_fd) : -EINVAL;
    if (rc) {
        rn_error("http: cannot watch libmicrohttpd's epoll fd: %s", rn_strerror(rc));
        MHD_stop_daemon(h->mhd);
        free(h->tls_cert_pem);
        free(h->tls_key_pem);
        free(h);
        return rc;
    }
    uv_timer_init(rn__http_loop(h), &h->timer);
    uv_timer_init(rn__http_loop(h), &h->sse_timer);
    h->poll.data = h->timer.data = h->sse_timer.data = h;
    h->handles_open = 3;
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    uv_timer_start(&h->sse_timer, on_sse_timer, SSE_STATUS_MS, SSE_STATUS_MS);
    schedule(h);
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    rn_info("http: API on %s://%s%s%s:%u/api/v1/ (%zu tokens)", cfg->tls_cert ? "https" : "http",
            v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "",
            port ? port->port : cfg->listen_port, cfg->n_tokens);
    *out = h;
    return 0;
}

void rn_http_set_tokens(rn_http_t *h, const rn_http_token_t *tokens, size_t n)
{
    if (h)
        h->tokens = tokens, h->n_tokens = n; /* requests from now on; ones in flight keep theirs */
}

void rn_http_set_event_store(rn_http_t *h, struct rn_event_store *events)
{
    if (h)
        h->events = events;
}

void rn_http_close(rn_http_t *h, void (*cb)(void *data), void *data)
{
    if (!h || h->closing)
        return;
    h->close_cb = cb;
    h->close_data = data;
    if (h->site->shutdown)
        h->site->shutdown(h);
    /* Detach waiting requests from their jobs: the jobs finish and drop their answers. */
    for (rn_http_req_t *r = h->waiting; r; r = r->next) {
        if (r->job)
            r->job->req = NULL;
        r->job = NULL;
        r->suspended = false;
        MHD_resume_connection(r->conn);
    }
    h->waiting = NULL;
    for (sse_client_t *cl = h->sse; cl; cl = cl->next) {
        cl->gone = true;
        if (cl->waiting) {
            cl->waiting = false;
            MHD_resume_connection(cl->conn);
        }
    }
    h->closing = true;
    uv_close((uv_handle_t *)&h->poll, on_handle_closed); /* before MHD closes the epoll fd */
    uv_close((uv_handle_t *)&h->timer, on_handle_closed);
    uv_close((uv_handle_t *)&h->sse_timer, on_handle_closed);
    MHD_stop_daemon(h->mhd); /* closes every connection; on_completed frees their requests */
    h->mhd = NULL;
}
