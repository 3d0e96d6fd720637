/* Unit tests of agent/service_probe.c against local peers on 127.0.0.1: a listening port, a
 * closed port, a port whose accept queue is full (its SYNs are dropped: a blackhole), a tiny HTTP
 * server on a thread of the test, and `openssl s_server` with a certificate made by the test. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "clock.h"
#include "metrics.h"
#include "service_probe.h"

#define MAX_SAMPLES 16

typedef struct {
    char source[8], object[64];
    rn_value_t v[RN_HTTP_N];
    size_t n;
    rn_mono_ns_t at;
} got_t;

typedef struct {
    uv_loop_t loop;
    rn_service_prober_t *p;
    got_t got[MAX_SAMPLES];
    size_t n_got, want;
    uv_timer_t limit;
    rn_mono_ns_t started;
    char why[128];
} fx_t;

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *values, size_t n, uint64_t speed)
{
    fx_t *fx = ctx;
    (void)device, (void)time_ms, (void)speed;
    if (fx->n_got >= MAX_SAMPLES)
        return;
    got_t *g = &fx->got[fx->n_got++];
    snprintf(g->source, sizeof g->source, "%s", source);
    snprintf(g->object, sizeof g->object, "%s", object);
    memcpy(g->v, values, n * sizeof *values);
    g->n = n;
    g->at = rn_clock_mono_ns();
    if (fx->n_got == 1) {
        const char *why = rn_service_prober_why(fx->p, object);
        snprintf(fx->why, sizeof fx->why, "%s", why ? why : "(unknown object)");
    }
    if (fx->n_got >= fx->want)
        uv_stop(&fx->loop);
}

static void on_limit(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    uv_loop_init(&fx->loop);
    assert_int_equal(rn_service_prober_new(&fx->loop, on_sample, fx, &fx->p), 0);
    uv_timer_init(&fx->loop, &fx->limit);
    *state = fx;
    return 0;
}

static void on_closed(void *data)
{
    *(int *)data = 1;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    int closed = 0;
    rn_service_prober_close(fx->p, on_closed, &closed);
    uv_close((uv_handle_t *)&fx->limit, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_true(closed);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    free(fx);
    return 0;
}

/* Probes one target until `want` samples arrive or limit_ms passes. */
static void run_every(fx_t *fx, const char *kind, const char *addr, unsigned port,
                      const char *url, size_t want, uint32_t interval_s, uint64_t limit_ms)
{
    Rn__ServiceTarget t = RN__SERVICE_TARGET__INIT, *tp = &t;
    t.name = "svc";
    t.kind = (char *)kind;
    t.object = "svc-obj";
    t.addr = (char *)addr;
    t.has_port = port != 0;
    t.port = port;
    t.url = (char *)url;
    fx->want = want;
    fx->started = rn_clock_mono_ns();
    assert_int_equal(rn_service_prober_set_targets(fx->p, &tp, 1, interval_s), 0);
    uv_timer_start(&fx->limit, on_limit, limit_ms, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->limit);
    assert_int_equal(fx->n_got, want);
}

/* As run_every, every second. */
static void run_one(fx_t *fx, const char *kind, const char *addr, unsigned port, const char *url,
                    size_t want, uint64_t limit_ms)
{
    run_every(fx, kind, addr, port, url, want, 1, limit_ms);
}

/* Returns a TCP socket listening on 127.0.0.1 with the given backlog; its port goes to *port. */
static int listener(int backlog, unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static double g(const got_t *x, int i)
{
    return x->v[i].kind == RN_VALUE_GAUGE ? x->v[i].gauge : NAN;
}

static void test_tcp_listening_port_is_up_with_connect_time(void **state)
{
    fx_t *fx = *state;
    unsigned port;
    int fd = listener(16, &port);
    run_one(fx, "tcp", "127.0.0.1", port, NULL, 1, 3000);
    assert_string_equal(fx->got[0].source, "tcp");
    assert_string_equal(fx->got[0].object, "svc-obj");
    assert_int_equal(fx->got[0].n, RN_TCP_N);
    assert_true(g(&fx->got[0], RN_TCP_UP) == 1);
    assert_true(g(&fx->got[0], RN_TCP_CONNECT) >= 0 && g(&fx->got[0], RN_TCP_CONNECT) < 100);
    assert_string_equal(fx->why, "");
    close(fd);
}

static void test_tcp_closed_port_is_down_at_once(void **state)
{
    fx_t *fx = *state;
    unsigned port;
    close(listener(1, &port)); /* a port that was free a moment ago: refused */
    run_one(fx, "tcp", "127.0.0.1", port, NULL, 1, 3000);
    assert_true(g(&fx->got[0], RN_TCP_UP) == 0);
    assert_true(fx->got[0].v[RN_TCP_CONNECT].kind == RN_VALUE_UNKNOWN);
    assert_true(fx->got[0].at - fx->started < 500000000ull); /* refused: no waiting for timeout */
    assert_string_equal(fx->why, "connection refused or unreachable");
}

static void test_tcp_blackholed_port_times_out(void **state)
{
    fx_t *fx = *state;
    unsigned port;
    int fd = listener(0, &port);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                              .sin_port = htons((uint16_t)port) };
    int fill[4];
    for (int i = 0; i < 4; i++) { /* fill the accept queue; later SYNs are dropped */
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
    }
    usleep(100000);
    run_one(fx, "tcp", "127.0.0.1", port, NULL, 1, 3000);
    assert_true(g(&fx->got[0], RN_TCP_UP) == 0);
    rn_mono_ns_t took = fx->got[0].at - fx->started;
    assert_true(took >= 800000000ull && took < 2000000000ull); /* timeout: 90% of 1 s */
    assert_string_equal(fx->why, "timed out after 900 ms");
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(fd);
}

/* A one-connection HTTP server: waits 30 ms after the request, then answers `status`. */
typedef struct {
    int fd;
    int status;
} http_srv_t;

static void *http_serve(void *arg)
{
    http_srv_t *s = arg;
    int c = accept(s->fd, NULL, NULL);
    char buf[2048], out[256];
    if (c < 0)
        return NULL;
    ssize_t n = read(c, buf, sizeof buf); /* the request is small: one read */
    (void)n;
    usleep(30000);
    int len = snprintf(out, sizeof out,
                       "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                       s->status);
    if (write(c, out, (size_t)len) != len)
        perror("write");
    close(c);
    return NULL;
}

/* Runs one HTTP probe against the thread server answering status. */
static void http_probe(fx_t *fx, int status)
{
    unsigned port;
    http_srv_t s = { listener(4, &port), status };
    pthread_t th;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/health", port);
    pthread_create(&th, NULL, http_serve, &s);
    run_one(fx, "http", NULL, 0, url, 1, 3000);
    pthread_join(th, NULL);
    close(s.fd);
}

static void test_http_200_gives_status_ttfb_and_no_cert(void **state)
{
    fx_t *fx = *state;
    http_probe(fx, 200);
    const got_t *x = &fx->got[0];
    assert_string_equal(x->source, "http");
    assert_int_equal(x->n, RN_HTTP_N);
    assert_true(g(x, RN_HTTP_STATUS) == 200);
    assert_true(g(x, RN_HTTP_UP) == 1);
    assert_true(g(x, RN_HTTP_TTFB) >= 30); /* the server waits 30 ms before it answers */
    assert_true(g(x, RN_HTTP_TOTAL) >= g(x, RN_HTTP_TTFB));
    assert_true(x->v[RN_HTTP_CERTDAYS].kind == RN_VALUE_UNKNOWN);
    assert_string_equal(fx->why, "");
}

static void test_http_error_status_is_answered_but_not_up(void **state)
{
    fx_t *fx = *state;
    http_probe(fx, 503);
    assert_true(g(&fx->got[0], RN_HTTP_STATUS) == 503);
    assert_true(g(&fx->got[0], RN_HTTP_UP) == 0);
    assert_string_equal(fx->why, "HTTP 503");
}

/* Runs a shell command; fails the test if it fails. */
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* Starts `openssl s_server -www` with a certificate valid for `days` days for localhost and
 * 127.0.0.1; returns its pid, the port in *port and the certificate's path in cert. */
static pid_t https_server(const char *dir, int days, unsigned *port, char cert[256])
{
    snprintf(cert, 256, "%s/cert.pem", dir);
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days %d "
       "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
       "-keyout %s/key.pem -out %s 2>/dev/null",
       days, dir, cert);
    close(listener(1, port)); /* a free port (a race with other programs, unlikely) */
    pid_t pid = fork();
    if (pid == 0) {
        char p[16], key[256];
        snprintf(p, sizeof p, "%u", *port);
        snprintf(key, sizeof key, "%s/key.pem", dir);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", p, "-cert", cert,
               "-key", key, (char *)NULL);
        _exit(127);
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                              .sin_port = htons((uint16_t)*port) };
    for (int i = 0; i < 100; i++) { /* wait until it listens */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
        close(fd);
        if (rc == 0)
            break;
        usleep(50000);
    }
    return pid;
}

static void test_https_reports_days_until_the_certificate_expires(void **state)
{
    fx_t *fx = *state;
    char dir[] = "/tmp/rn-test-https-XXXXXX", cert[256], url[64];
    unsigned port;
    assert_non_null(mkdtemp(dir));
    pid_t pid = https_server(dir, 30, &port, cert);
    snprintf(url, sizeof url, "https://localhost:%u/", port); /* the name goes through DNS */
    assert_int_equal(rn_service_prober_set_ca(fx->p, cert), 0);
    run_every(fx, "http", NULL, 0, url, 1, 5, 6000); /* TLS under valgrind takes a while */
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    sh("rm -rf %s", dir);
    const got_t *x = &fx->got[0];
    assert_true(g(x, RN_HTTP_STATUS) == 200);
    assert_true(g(x, RN_HTTP_UP) == 1);
    assert_true(g(x, RN_HTTP_CERTDAYS) > 29.9 && g(x, RN_HTTP_CERTDAYS) <= 30.0);
    assert_true(g(x, RN_HTTP_TTFB) > 0);
}

static void test_https_with_an_unknown_ca_is_down_and_says_why(void **state)
{
    fx_t *fx = *state;
    char dir[] = "/tmp/rn-test-https-XXXXXX", cert[256], url[64];
    unsigned port;
    assert_non_null(mkdtemp(dir));
    pid_t pid = https_server(dir, 3, &port, cert);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/", port);
    run_every(fx, "http", NULL, 0, url, 1, 5, 6000); /* system CAs: ours is not among them */
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    sh("rm -rf %s", dir);
    const got_t *x = &fx->got[0];
    assert_true(g(x, RN_HTTP_UP) == 0);
    assert_true(x->v[RN_HTTP_STATUS].kind == RN_VALUE_UNKNOWN);
    assert_true(x->v[RN_HTTP_CERTDAYS].kind == RN_VALUE_UNKNOWN); /* curl: verified certs only */
    assert_non_null(strstr(fx->why, "certificate"));
}

static void test_every_round_gives_every_target_a_sample(void **state)
{
    fx_t *fx = *state;
    unsigned port;
    int fd = listener(16, &port);
    run_one(fx, "tcp", "127.0.0.1", port, NULL, 3, 3500); /* interval 1 s: rounds at ~0, 1, 2 s */
    for (size_t i = 0; i < 3; i++)
        assert_true(g(&fx->got[i], RN_TCP_UP) == 1);
    close(fd);
}

static void test_a_target_without_what_its_kind_needs_is_skipped(void **state)
{
    fx_t *fx = *state;
    Rn__ServiceTarget t = RN__SERVICE_TARGET__INIT, *tp = &t;
    t.name = "x";
    t.kind = "udp";
    t.object = "x-1";
    assert_int_equal(rn_service_prober_set_targets(fx->p, &tp, 1, 1), 0);
    assert_null(rn_service_prober_why(fx->p, "x-1"));
    assert_int_equal(rn_service_prober_set_targets(fx->p, &tp, 1, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_tcp_listening_port_is_up_with_connect_time),
        T(test_tcp_closed_port_is_down_at_once),
        T(test_tcp_blackholed_port_times_out),
        T(test_http_200_gives_status_ttfb_and_no_cert),
        T(test_http_error_status_is_answered_but_not_up),
        T(test_https_reports_days_until_the_certificate_expires),
        T(test_https_with_an_unknown_ca_is_down_and_says_why),
        T(test_every_round_gives_every_target_a_sample),
        T(test_a_target_without_what_its_kind_needs_is_skipped),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
