/* Unit tests of agent/http_lib.c through the service prober: libcurl is mapped only once a target
 * arrives, and a missing libcurl leaves the targets unprobed with a reason instead of failing the
 * plan. The order of the tests matters: the first one must run before anything loads libcurl. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "http_lib.h"
#include "metrics.h"
#include "service_probe.h"

#define MISSING "librajnet-no-such-curl.so.4"

typedef struct {
    uv_loop_t loop;
    rn_service_prober_t *p;
    uv_timer_t limit;
    size_t n_got;
    double up;
} fx_t;

static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *values, size_t n, uint64_t speed)
{
    fx_t *fx = ctx;
    (void)source, (void)device, (void)object, (void)time_ms, (void)speed;
    fx->n_got++;
    fx->up = n > RN_TCP_UP ? values[RN_TCP_UP].gauge : -1;
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
    rn__http_lib_use(NULL);
    return 0;
}

/* Returns 1 when a mapping of this process names a file containing `name`. */
static int mapped(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    assert_non_null(f);
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, name) != NULL;
    fclose(f);
    return found;
}

/* Returns a TCP socket listening on 127.0.0.1; its port goes to *port. */
static int listener(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Gives the prober one tcp target at 127.0.0.1:port; runs the loop until a sample or limit_ms. */
static void probe_tcp(fx_t *fx, unsigned port, uint64_t limit_ms)
{
    Rn__ServiceTarget t = RN__SERVICE_TARGET__INIT, *tp = &t;
    t.name = "svc";
    t.kind = "tcp";
    t.object = "svc-obj";
    t.addr = "127.0.0.1";
    t.has_port = 1;
    t.port = port;
    assert_int_equal(rn_service_prober_set_targets(fx->p, &tp, 1, 1), 0);
    uv_timer_start(&fx->limit, on_limit, limit_ms, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->limit);
}

static void test_libcurl_is_mapped_only_once_a_target_arrives(void **state)
{
    fx_t *fx = *state;
    assert_false(mapped("libcurl"));
    assert_int_equal(rn_service_prober_set_targets(fx->p, NULL, 0, 1), 0);
    assert_false(rn_http_lib_loaded());
    assert_false(mapped("libcurl"));
    unsigned port;
    int fd = listener(&port);
    probe_tcp(fx, port, 3000);
    close(fd);
    assert_true(rn_http_lib_loaded());
    assert_true(mapped("libcurl.so.4"));
    assert_int_equal(fx->n_got, 1);
    assert_true(fx->up == 1);
    assert_string_equal(rn_service_prober_why(fx->p, "svc-obj"), "");
}

static void test_a_missing_libcurl_leaves_targets_unprobed_and_says_why(void **state)
{
    fx_t *fx = *state;
    rn__http_lib_use(MISSING);
    unsigned port;
    int fd = listener(&port);
    probe_tcp(fx, port, 1500); /* set_targets still succeeds: the rest of a plan applies */
    close(fd);
    assert_int_equal(fx->n_got, 0); /* no false "down" sample either */
    const char *why = rn_service_prober_why(fx->p, "svc-obj");
    assert_non_null(why);
    assert_non_null(strstr(why, MISSING " not loaded"));
    const rn_http_lib_t *lib = (const rn_http_lib_t *)1;
    const char *why2 = NULL;
    assert_int_equal(rn_http_lib_get(&lib, &why2), -ENOENT);
    assert_null(lib);
    assert_string_equal(why2, why);
}

static void test_the_library_loads_again_after_a_failed_attempt_is_forgotten(void **state)
{
    fx_t *fx = *state;
    const rn_http_lib_t *lib = NULL;
    assert_int_equal(rn_http_lib_get(&lib, NULL), 0);
    assert_non_null(lib);
    assert_non_null(lib->easy_strerror(CURLE_COULDNT_CONNECT));
    unsigned port;
    int fd = listener(&port);
    probe_tcp(fx, port, 3000);
    close(fd);
    assert_int_equal(fx->n_got, 1);
    assert_true(fx->up == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_libcurl_is_mapped_only_once_a_target_arrives),
        T(test_a_missing_libcurl_leaves_targets_unprobed_and_says_why),
        T(test_the_library_loads_again_after_a_failed_attempt_is_forgotten),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
