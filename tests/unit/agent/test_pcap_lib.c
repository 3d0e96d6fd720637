/* Unit tests of agent/pcap_lib.c through the capture adapter: libpcap is mapped only once a capture
 * opens, and a missing libpcap makes the capture fail with the reason instead of the agent. The
 * order of the tests matters: the first one must run before anything loads libpcap. Opening a
 * capture on lo needs CAP_NET_RAW: without it that test is skipped. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <uv.h>

#include "pcap_capture.h"
#include "pcap_lib.h"

#define MISSING "librajnet-no-such-pcap.so.0.8"

static void on_frame(void *ctx, int dlt, int64_t time_ns, const uint8_t *data, size_t caplen,
                     size_t len)
{
    (void)ctx, (void)dlt, (void)time_ns, (void)data, (void)caplen, (void)len;
}

static void on_closed(void *data)
{
    *(int *)data = 1;
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

/* Opens a capture on lo; returns its rc, with the reason in err. Closes it again on success. */
static int open_lo(char *err, size_t err_len)
{
    uv_loop_t loop;
    rn_pcap_capture_t *c = NULL;
    uv_loop_init(&loop);
    int rc = rn_pcap_capture_open(&loop, "lo", "udp", on_frame, NULL, &c, err, err_len);
    if (rc == 0) {
        int closed = 0;
        rn_pcap_capture_close(c, on_closed, &closed);
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_true(closed);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
    return rc;
}

static void test_libpcap_is_mapped_only_once_a_capture_opens(void **state)
{
    (void)state;
    assert_false(mapped("libpcap"));
    assert_false(rn_pcap_lib_loaded());
    char err[512] = "";
    int rc = open_lo(err, sizeof err);
    assert_true(rn_pcap_lib_loaded()); /* loaded even when the open itself is refused */
    assert_true(mapped("libpcap"));
    if (rc != 0 && (strstr(err, "ermission") || strstr(err, "not permitted")))
        skip(); /* no CAP_NET_RAW: the load was still shown */
    assert_int_equal(rc, 0);
}

static void test_a_missing_libpcap_fails_the_capture_with_the_reason(void **state)
{
    (void)state;
    rn__pcap_lib_use(MISSING);
    char err[512] = "";
    assert_int_not_equal(open_lo(err, sizeof err), 0);
    assert_non_null(strstr(err, MISSING " not loaded"));
    assert_false(rn_pcap_lib_loaded());
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    assert_null(pcap_create("lo", errbuf));
    assert_non_null(strstr(errbuf, MISSING " not loaded"));
    assert_int_equal(pcap_activate(NULL), PCAP_ERROR); /* a forwarder called first fails cleanly */
    rn__pcap_lib_use(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libpcap_is_mapped_only_once_a_capture_opens),
        cmocka_unit_test(test_a_missing_libpcap_fails_the_capture_with_the_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
