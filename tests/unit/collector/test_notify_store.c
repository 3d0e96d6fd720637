/* Notification persistence (collector/notify/notify_store.c with the core in notify.c): the journal's
 * text format, notifications still pending at close being delivered after a reopen (a restart),
 * and old ones being dropped. The channel is an exec hook that fails until a flag file exists,
 * so the tests need no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <signal.h>

#include "clock.h"
#include "notify/notify_int.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/rn-notify-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs loop until done(ctx) or timeout_ms pass. Returns done's last answer. */
static bool run_until(uv_loop_t *loop, bool (*done)(void *), void *ctx, int timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, (uv_timer_cb)(void (*)(void))uv_timer_stop, 10, 10);
    int64_t end = rn_clock_wall_ms() + timeout_ms;
    bool ok;
    while (!(ok = done(ctx)) && rn_clock_wall_ms() < end) {
        uv_timer_start(&tick, (uv_timer_cb)(void (*)(void))uv_timer_stop, 10, 0);
        uv_run(loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static bool file_exists(void *path)
{
    return access(path, F_OK) == 0;
}

static bool nothing_pending(void *n)
{
    return rn_notifier_pending(n, SIZE_MAX) == 0;
}

static void on_closed(void *flag)
{
    *(bool *)flag = true;
}

static bool flag_set(void *flag)
{
    return *(bool *)flag;
}

/* Closes n and runs the loop until the close callback fired. */
static void close_notifier(uv_loop_t *loop, rn_notifier_t *n)
{
    bool closed = false;
    rn_notifier_close(n, on_closed, &closed);
    assert_true(run_until(loop, flag_set, &closed, 5000));
}

static rn_alarm_t sample_alarm(uint64_t id)
{
    rn_alarm_t a = { .id = id, .type = RN_ALARM_NODE_SILENT, .severity = 3, .entity = "ajmer",
                     .node = "ajmer", .text = "ajmer's agent is silent" };
    return a;
}

static void test_journal_text_parses_and_skips_torn_lines(void **state)
{
    const char *text = "A 1 {\"a\":1}\nD 1 webhook http://x/hook\nA 2 {\"b\":2}\n"
                       "junk line\nD 9 exec nothing\nA 1 {\"out of order\":1}\nA 3 {\"torn";
    rn__notify_record_t *recs = NULL;
    size_t n = 0;
    uint64_t max_seq = 0;
    assert_int_equal(rn__notify_journal_parse(text, strlen(text), &recs, &n, &max_seq), 0);
    assert_int_equal(n, 2);
    assert_int_equal(max_seq, 2);
    assert_int_equal(recs[0].seq, 1);
    assert_int_equal(recs[0].n_done, 1);
    assert_string_equal(recs[0].done[0], "webhook http://x/hook");
    assert_string_equal(recs[1].json, "{\"b\":2}");
    assert_int_equal(recs[1].n_done, 0);
    rn__notify_records_free(recs, n);
}

/* A notifier with one exec channel that records its stdin and env in dir/out.<id> and succeeds
 * only once dir/ok exists. */
static rn_notifier_t *open_exec_notifier(uv_loop_t *loop, uint32_t max_age_s)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "{ cat; echo; env | grep ^RAJNET_; } > %s/out.$RAJNET_ALARM_ID; test -f %s/ok", dir,
             dir);
    rn_notify_exec_config_t ex = { .command = cmd, .timeout_ms = 5000 };
    rn_notify_config_t cfg = { .state_dir = dir, .max_age_s = max_age_s, .retry_initial_ms = 50,
                               .retry_max_ms = 200, .max_queue = 100, .execs = &ex,
                               .n_execs = 1 };
    rn_notifier_t *n = NULL;
    assert_int_equal(rn_notifier_open(loop, &cfg, &n), 0);
    assert_int_equal(rn_notifier_channels(n), 1);
    return n;
}

static void test_pending_notifications_survive_a_restart(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char out[300], ok[300], journal[300];
    snprintf(out, sizeof out, "%s/out.7", dir);
    snprintf(ok, sizeof ok, "%s/ok", dir);
    snprintf(journal, sizeof journal, "%s/pending.journal", dir);

    rn_notifier_t *n = open_exec_notifier(&loop, 3600);
    rn_alarm_t a = sample_alarm(7);
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, rn_clock_wall_ms());
    assert_true(run_until(&loop, file_exists, out, 5000)); /* tried, and failed */
    assert_int_equal(rn_notifier_pending(n, 0), 1);
    close_notifier(&loop, n);
    struct stat st;
    assert_int_equal(stat(journal, &st), 0);
    assert_true(st.st_size > 0);
    unlink(out);

    FILE *f = fopen(ok, "w"); /* the gateway works again; the collector restarts */
    fclose(f);
    n = open_exec_notifier(&loop, 3600);
    assert_true(run_until(&loop, file_exists, out, 5000)); /* replayed from the journal */
    assert_true(run_until(&loop, nothing_pending, n, 5000));
    char buf[4096] = "";
    f = fopen(out, "r");
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "\"event\":\"raised\""));
    assert_non_null(strstr(buf, "\"node\":\"ajmer\""));
    assert_non_null(strstr(buf, "RAJNET_ALARM_ID=7\n"));
    assert_non_null(strstr(buf, "RAJNET_EVENT=raised\n"));
    assert_non_null(strstr(buf, "RAJNET_SEVERITY=3\n"));
    assert_non_null(strstr(buf, "RAJNET_TEXT=ajmer's agent is silent\n"));
    close_notifier(&loop, n);
    assert_int_equal(stat(journal, &st), 0);
    assert_int_equal(st.st_size, 0); /* nothing pending: truncated */
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_old_notifications_are_dropped_not_sent(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char out[300];
    snprintf(out, sizeof out, "%s/out.8", dir);
    rn_notifier_t *n = open_exec_notifier(&loop, 1);
    rn_alarm_t a = sample_alarm(8);
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, rn_clock_wall_ms() - 5000);
    assert_true(run_until(&loop, nothing_pending, n, 5000));
    assert_false(file_exists(out));
    /* a clear of an alarm never paged, and a symptom, are not notified at all */
    rn_alarm_t b = sample_alarm(9);
    rn_notifier_alarm(n, RN_ALARM_EV_CLEARED, &b, rn_clock_wall_ms());
    rn_notifier_alarm(n, RN_ALARM_EV_SYMPTOM_OF, &b, rn_clock_wall_ms());
    assert_int_equal(rn_notifier_pending(n, SIZE_MAX), 0);
    close_notifier(&loop, n);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_exec_hook_is_killed_on_timeout(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char flag[300];
    snprintf(flag, sizeof flag, "%s/started", dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "touch %s; sleep 30", flag);
    rn_notify_exec_config_t ex = { .command = cmd, .timeout_ms = 300 };
    rn_notify_config_t cfg = { .max_age_s = 3600, .retry_initial_ms = 60000,
                               .retry_max_ms = 60000, .max_queue = 10, .execs = &ex,
                               .n_execs = 1 };
    rn_notifier_t *n = NULL;
    assert_int_equal(rn_notifier_open(&loop, &cfg, &n), 0);
    rn_alarm_t a = sample_alarm(10);
    int64_t t0 = rn_clock_wall_ms();
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, t0);
    assert_true(run_until(&loop, file_exists, flag, 5000));
    bool never = false;
    run_until(&loop, flag_set, &never, 1000); /* past the timeout: killed, waiting for a retry */
    assert_int_equal(rn_notifier_pending(n, 0), 1);
    close_notifier(&loop, n);
    assert_true(rn_clock_wall_ms() - t0 < 5000); /* the sleep 30 did not hold anything up */
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the collector does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_text_parses_and_skips_torn_lines),
        cmocka_unit_test_setup_teardown(test_pending_notifications_survive_a_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_old_notifications_are_dropped_not_sent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exec_hook_is_killed_on_timeout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
