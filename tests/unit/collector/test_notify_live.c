/* The notifier against real receivers on loopback: snmptrapd with RAJNET-MONITOR-MIB loaded
 * (v2c traps and v3 authPriv informs, printed with symbolic names), a python3 webhook receiver, a
 * python3 UDP syslog receiver, an exec hook; a dead webhook (accepts, never answers) and one that
 * is down at first; a restart with a notification pending.
 *
 * Peers: tests/integration/helpers/notify-receiver.py (stdlib only) and /usr/sbin/snmptrapd. The
 * IETF MIB files snmptrapd needs come from the npm package net-snmp (docs/architecture.md, "Test
 * peers and machine facts"): the helper
 * fetches them once into /tmp and the test fails with its message when npm cannot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <signal.h>
#include <spawn.h>

#include "clock.h"
#include "notify/notify_int.h"

#define HELPER RN_SRCDIR "/tests/integration/helpers/notify-receiver.py"

extern char **environ;

static char dir[256], mibs[512], traplog[300];
static int base_port;
static pid_t trapd = -1;
static pid_t helpers[16]; /* receivers still running: a failed test leaves them to teardown */
static size_t n_helpers;

/* ---- processes and files --------------------------------------------------------------------- */

/* Starts argv[0] (searched in PATH) with extra environment entries. Returns its pid. */
static pid_t spawn(char *const argv[], char *const extra_env[])
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 8, sizeof *env);
    for (size_t i = 0; i < n; i++)
        env[k++] = environ[i];
    for (size_t i = 0; extra_env && extra_env[i]; i++)
        env[k++] = extra_env[i];
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, env);
    free(env);
    assert_int_equal(rc, 0);
    return pid;
}

static void stop(pid_t pid)
{
    for (size_t i = 0; i < n_helpers; i++)
        if (helpers[i] == pid)
            helpers[i] = -1;
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Returns how many times needle occurs in the file at path (0 when it does not exist). */
static int count_in(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    int c = 0;
    for (const char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
        c++;
    return c;
}

/* Waits (without a loop) until path contains needle. Returns true if it did in time. */
static bool wait_for(const char *path, const char *needle, int timeout_ms)
{
    for (int i = 0; i < timeout_ms / 20; i++) {
        if (count_in(path, needle) > 0)
            return true;
        usleep(20000);
    }
    return false;
}

/* Starts a helper receiver: mode http|udp with output file out, or hang. Returns its pid once it
 * is listening. */
static pid_t receiver(const char *mode, int port, const char *out)
{
    char p[16], ready[320];
    snprintf(p, sizeof p, "%d", port);
    char *argv[] = { "python3", HELPER, (char *)mode, p, (char *)out, NULL };
    if (out)
        snprintf(ready, sizeof ready, "%s.ready", out);
    else
        snprintf(ready, sizeof ready, "%d.ready", port);
    unlink(ready);
    pid_t pid = spawn(argv, NULL);
    if (n_helpers < 16)
        helpers[n_helpers++] = pid;
    assert_true(wait_for(ready, "ready", 10000));
    return pid;
}

/* ---- the loop -------------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
}

/* Runs loop until done(ctx) or timeout_ms pass. Returns done's last answer. */
static bool run_until(uv_loop_t *loop, bool (*done)(void *), void *ctx, int timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    int64_t end = rn_clock_wall_ms() + timeout_ms;
    bool ok;
    while (!(ok = done(ctx)) && rn_clock_wall_ms() < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static bool never(void *ctx)
{
    return false;
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

static void close_notifier(uv_loop_t *loop, rn_notifier_t *n)
{
    bool closed = false;
    rn_notifier_close(n, on_closed, &closed);
    assert_true(run_until(loop, flag_set, &closed, 10000));
}

typedef struct {
    const char *path, *needle;
    int want;
} file_wait_t;

static bool file_has(void *ctx)
{
    file_wait_t *w = ctx;
    return count_in(w->path, w->needle) >= w->want;
}

/* ---- fixtures -------------------------------------------------------------------------------- */

/* Finds the npm-provided MIB folder (fetching it once), makes a scratch folder and starts
 * snmptrapd on ports base+0 (v2c) and base+1 (v3 informs). */
static int group_setup(void **state)
{
    FILE *p = popen("python3 " HELPER " mibs", "r");
    if (!p || !fgets(mibs, sizeof mibs, p) || pclose(p) != 0) {
        fprintf(stderr, "cannot get the IETF MIB files from npm (see the message above)\n");
        return -1;
    }
    mibs[strcspn(mibs, "\n")] = '\0';
    snprintf(dir, sizeof dir, "/tmp/rn-notify-live-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    base_port = 30000 + (int)(getpid() % 3000) * 10;
    char conf[300], mibdirs[900], a1[64], a2[64], penv[320];
    snprintf(conf, sizeof conf, "%s/snmptrapd.conf", dir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "disableAuthorization yes\ncreateUser nms SHA authpass123 AES privpass123\n");
    fclose(f);
    snprintf(traplog, sizeof traplog, "%s/snmptrapd.log", dir);
    snprintf(mibdirs, sizeof mibdirs, "%s:%s/mibs", mibs, RN_SRCDIR);
    snprintf(a1, sizeof a1, "udp:127.0.0.1:%d", base_port);
    snprintf(a2, sizeof a2, "udp:127.0.0.1:%d", base_port + 1);
    snprintf(penv, sizeof penv, "SNMP_PERSISTENT_DIR=%s", dir);
    char *argv[] = { "/usr/sbin/snmptrapd", "-f", "-Lf", traplog, "-C", "-c", conf, "-m", "ALL",
                     "-M", mibdirs, a1, a2, NULL };
    char *env[] = { penv, NULL };
    trapd = spawn(argv, env);
    if (!wait_for(traplog, "NET-SNMP version", 10000)) {
        fprintf(stderr, "snmptrapd did not start (log %s)\n", traplog);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    for (size_t i = 0; i < n_helpers; i++)
        stop(helpers[i]);
    stop(trapd);
    if (getenv("RN_NOTIFY_KEEP")) /* for a look at the receivers' files after a failure */
        return 0;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static rn_alarm_t link_alarm(uint64_t id)
{
    static const char *const offices[] = { "jaipur", "jaipur/sanganer" };
    static const char *const services[] = { "vc", "emitra" };
    rn_alarm_t a = { .id = id, .type = RN_ALARM_LINK_DOWN, .severity = 1,
                     .entity = "JPR-MPLS-0042", .node = "jaipur", .vendor = "bsnl",
                     .circuit = "JPR-MPLS-0042", .since_ms = rn_clock_wall_ms() - 3000,
                     .raised_ms = rn_clock_wall_ms(), .impact_nodes = offices,
                     .n_impact_nodes = 2, .impact_services = services, .n_impact_services = 2,
                     .text = "link JPR-MPLS-0042 (bsnl) down: jaipur cut off" };
    return a;
}

/* Prints the snmptrapd lines that mention alarm id, so a reader of the test log sees them. */
static void show_traps(const char *needle)
{
    char line[8192];
    FILE *f = fopen(traplog, "r");
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, needle))
            printf("snmptrapd: %s", line);
    if (f)
        fclose(f);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_every_channel_delivers_raise_and_clear(void **state)
{
    char v2c[64], v3[64], sys[64], url[128], hook_out[300], sys_out[300], exec_out[300];
    char cmd[600];
    snprintf(v2c, sizeof v2c, "udp:127.0.0.1:%d", base_port);
    snprintf(v3, sizeof v3, "udp:127.0.0.1:%d", base_port + 1);
    snprintf(sys, sizeof sys, "udp:127.0.0.1:%d", base_port + 2);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", base_port + 3);
    snprintf(hook_out, sizeof hook_out, "%s/hook1.out", dir);
    snprintf(sys_out, sizeof sys_out, "%s/syslog1.out", dir);
    snprintf(exec_out, sizeof exec_out, "%s/exec1.out", dir);
    snprintf(cmd, sizeof cmd, "{ cat; echo; echo \"$RAJNET_EVENT $RAJNET_ALARM_ID "
             "$RAJNET_SEVERITY $RAJNET_TEXT\"; } >> %s", exec_out);
    pid_t hook = receiver("http", base_port + 3, hook_out);
    pid_t slog = receiver("udp", base_port + 2, sys_out);
    rn_notify_trap_config_t traps[] = {
        { .target = v2c, .version = 2, .community = "nms-trap" },
        { .target = v3, .version = 3, .inform = true, .user = "nms", .auth = "SHA",
          .auth_key = "authpass123", .priv = "AES", .priv_key = "privpass123",
          .timeout_ms = 1000, .retries = 2 },
    };
    rn_notify_syslog_config_t sl = { .target = sys, .facility = 16 }; /* local0 */
    rn_notify_webhook_config_t wh = { .url = url, .timeout_ms = 3000 };
    rn_notify_exec_config_t ex = { .command = cmd, .timeout_ms = 5000 };
    rn_notify_config_t cfg = { .max_age_s = 600, .retry_initial_ms = 100, .retry_max_ms = 1000,
                               .max_queue = 100, .traps = traps, .n_traps = 2, .syslogs = &sl,
                               .n_syslogs = 1, .webhooks = &wh, .n_webhooks = 1, .execs = &ex,
                               .n_execs = 1 };
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_notifier_t *n = NULL;
    assert_int_equal(rn_notifier_open(&loop, &cfg, &n), 0);
    assert_int_equal(rn_notifier_channels(n), 5);
    rn_alarm_t a = link_alarm(21);
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, rn_clock_wall_ms());
    rn_notifier_alarm(n, RN_ALARM_EV_CLEARED, &a, rn_clock_wall_ms() + 1);
    assert_true(run_until(&loop, nothing_pending, n, 15000)); /* informs acked, 200s, exit 0 */
    file_wait_t w = { traplog, "RAJNET-MONITOR-MIB::rnAlarmCleared", 2 };
    assert_true(run_until(&loop, file_has, &w, 5000));
    show_traps("rnAlarmNode.21");
    assert_int_equal(count_in(traplog, "OID: RAJNET-MONITOR-MIB::rnAlarmRaised\t"), 2);
    assert_int_equal(count_in(traplog, "RAJNET-MONITOR-MIB::rnAlarmNode.21 = STRING: jaipur\t"),
                     4);
    assert_int_equal(count_in(traplog, "RAJNET-MONITOR-MIB::rnAlarmType.21 = INTEGER: linkDown(1)"),
                     4);
    assert_true(count_in(traplog, "RAJNET-MONITOR-MIB::rnAlarmVendor.21 = STRING: bsnl\t") == 4);
    assert_true(count_in(traplog, "rnAlarmState.21 = INTEGER: cleared(2)") == 2);
    assert_true(count_in(traplog, "offices: jaipur, jaipur/sanganer; services: vc, emitra") == 4);
    /* webhook: two JSON posts, in order */
    assert_int_equal(count_in(hook_out, "\"id\":21"), 2);
    assert_int_equal(count_in(hook_out, "\"event\":\"raised\""), 1);
    assert_int_equal(count_in(hook_out, "\"event\":\"cleared\""), 1);
    /* syslog: RFC 5424 lines with structured data */
    assert_int_equal(count_in(sys_out, "<130>1 "), 1);
    assert_int_equal(count_in(sys_out, "<133>1 "), 1);
    assert_int_equal(count_in(sys_out, "[rajnet@32473 alarm=\"21\" event=\"raised\" type=\"link_"
                                       "down\" severity=\"1\" node=\"jaipur\" entity=\"JPR-MPLS-0042\" "
                                       "circuit=\"JPR-MPLS-0042\" vendor=\"bsnl\""), 1);
    /* exec: the JSON on stdin and the variables */
    assert_int_equal(count_in(exec_out, "\"source\":\"rajnet-collector\""), 2);
    assert_int_equal(count_in(exec_out, "raised 21 1 link JPR-MPLS-0042 (bsnl) down: jaipur cut off"),
                     1);
    assert_int_equal(count_in(exec_out, "cleared 21 1 "), 1);
    close_notifier(&loop, n);
    assert_int_equal(uv_loop_close(&loop), 0);
    stop(hook);
    stop(slog);
}

typedef struct {
    const char *trap_needle, *sys_path;
} fast_t;

static bool traps_and_syslog_seen(void *ctx)
{
    fast_t *f = ctx;
    return count_in(traplog, f->trap_needle) > 0 && count_in(f->sys_path, "alarm=\"31\"") > 0;
}

static bool chan_empty(void *ctx)
{
    void **c = ctx;
    return rn_notifier_pending(c[0], (size_t)(uintptr_t)c[1]) == 0;
}

static void test_dead_webhooks_delay_nothing_and_are_retried(void **state)
{
    char v2c[64], sys[64], dead[128], down[128], sys_out[300], hook_out[300];
    snprintf(v2c, sizeof v2c, "udp:127.0.0.1:%d", base_port);
    snprintf(sys, sizeof sys, "udp:127.0.0.1:%d", base_port + 4);
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/hook", base_port + 5);
    snprintf(down, sizeof down, "http://127.0.0.1:%d/hook", base_port + 6);
    snprintf(sys_out, sizeof sys_out, "%s/syslog2.out", dir);
    snprintf(hook_out, sizeof hook_out, "%s/hook2.out", dir);
    pid_t slog = receiver("udp", base_port + 4, sys_out);
    pid_t hang = receiver("hang", base_port + 5, NULL);
    rn_notify_webhook_config_t hooks[] = { { .url = dead, .timeout_ms = 1500 },
                                           { .url = down, .timeout_ms = 1500 } };
    rn_notify_trap_config_t trap = { .target = v2c, .version = 2, .community = "nms-trap" };
    rn_notify_syslog_config_t sl = { .target = sys };
    rn_notify_config_t cfg = { .max_age_s = 600, .retry_initial_ms = 200, .retry_max_ms = 800,
                               .max_queue = 100, .webhooks = hooks, .n_webhooks = 2,
                               .traps = &trap, .n_traps = 1, .syslogs = &sl, .n_syslogs = 1 };
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_notifier_t *n = NULL;
    assert_int_equal(rn_notifier_open(&loop, &cfg, &n), 0);
    rn_alarm_t a = link_alarm(31);
    int64_t t0 = rn_clock_wall_ms();
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, t0);
    fast_t f = { "rnAlarmNode.31", sys_out };
    assert_true(run_until(&loop, traps_and_syslog_seen, &f, 3000));
    int64_t took = rn_clock_wall_ms() - t0;
    printf("trap and syslog delivered in %lld ms with both webhooks dead\n", (long long)took);
    assert_true(took < 1000);
    /* channels: trap 0, syslog 1, webhooks 2 (hanging) and 3 (down) */
    assert_int_equal(rn_notifier_pending(n, 2), 1);
    assert_int_equal(rn_notifier_pending(n, 3), 1);
    run_until(&loop, never, NULL, 1200);           /* a few refused attempts */
    pid_t hook = receiver("http", base_port + 6, hook_out);
    void *c[] = { n, (void *)(uintptr_t)3 };
    assert_true(run_until(&loop, chan_empty, c, 5000));
    assert_int_equal(count_in(hook_out, "\"id\":31"), 1);
    assert_int_equal(rn_notifier_pending(n, 2), 1); /* still hanging: timed out, retrying */
    close_notifier(&loop, n);
    assert_int_equal(uv_loop_close(&loop), 0);
    stop(hook);
    stop(hang);
    stop(slog);
}

static void test_pending_webhook_is_delivered_after_a_restart(void **state)
{
    char url[128], hook_out[300], state_dir[300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", base_port + 7);
    snprintf(hook_out, sizeof hook_out, "%s/hook3.out", dir);
    snprintf(state_dir, sizeof state_dir, "%s/state", dir);
    rn_notify_webhook_config_t wh = { .url = url, .timeout_ms = 1000 };
    rn_notify_config_t cfg = { .state_dir = state_dir, .max_age_s = 600,
                               .retry_initial_ms = 100, .retry_max_ms = 400, .max_queue = 100,
                               .webhooks = &wh, .n_webhooks = 1 };
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_notifier_t *n = NULL;
    assert_int_equal(rn_notifier_open(&loop, &cfg, &n), 0);
    rn_alarm_t a = link_alarm(41);
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, rn_clock_wall_ms());
    run_until(&loop, never, NULL, 500); /* refused, retrying */
    assert_int_equal(rn_notifier_pending(n, 0), 1);
    close_notifier(&loop, n); /* the collector stops with it pending */

    pid_t hook = receiver("http", base_port + 7, hook_out);
    assert_int_equal(rn_notifier_open(&loop, &cfg, &n), 0); /* and starts again */
    file_wait_t w = { hook_out, "\"id\":41", 1 };
    assert_true(run_until(&loop, file_has, &w, 5000));
    assert_true(run_until(&loop, nothing_pending, n, 2000));
    close_notifier(&loop, n);
    assert_int_equal(count_in(hook_out, "\"id\":41"), 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    stop(hook);
}

static void test_syslog_over_tcp_is_octet_counted_and_reconnects(void **state)
{
    char target[64], out[300];
    snprintf(target, sizeof target, "tcp:127.0.0.1:%d", base_port + 8);
    snprintf(out, sizeof out, "%s/syslog-tcp.out", dir);
    pid_t srv = receiver("tcp", base_port + 8, out);
    rn_notify_syslog_config_t sl = { .target = target, .facility = 16, .timeout_ms = 2000 };
    rn_notify_config_t cfg = { .max_age_s = 600, .retry_initial_ms = 100, .retry_max_ms = 400,
                               .max_queue = 100, .syslogs = &sl, .n_syslogs = 1 };
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_notifier_t *n = NULL;
    assert_int_equal(rn_notifier_open(&loop, &cfg, &n), 0);
    rn_alarm_t a = link_alarm(51);
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, rn_clock_wall_ms());
    file_wait_t w = { out, "ALARM_RAISED [rajnet@32473 alarm=\"51\"", 1 };
    assert_true(run_until(&loop, file_has, &w, 5000));
    stop(srv); /* the server goes away: the clear waits, then goes over a new connection */
    run_until(&loop, never, NULL, 300);
    rn_notifier_alarm(n, RN_ALARM_EV_CLEARED, &a, rn_clock_wall_ms());
    run_until(&loop, never, NULL, 500);
    srv = receiver("tcp", base_port + 8, out);
    file_wait_t w2 = { out, "ALARM_CLEARED [rajnet@32473 alarm=\"51\"", 1 };
    assert_true(run_until(&loop, file_has, &w2, 5000));
    assert_true(run_until(&loop, nothing_pending, n, 2000));
    close_notifier(&loop, n);
    assert_int_equal(uv_loop_close(&loop), 0);
    stop(srv);
}

/* Reports go to the channels that take them; a reconfigure (SIGHUP) keeps what a channel still has
 * to deliver, moves it to the channel of the same key, and clears of alarms paged before it are
 * still sent. */
static void test_reconfigure_keeps_the_queue_and_reports_reach_their_channels(void **state)
{
    char url[128], hook_out[300], exec_out[300], cmd_a[400], cmd_b[400], state_dir[300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", base_port + 9);
    snprintf(hook_out, sizeof hook_out, "%s/hook4.out", dir);
    snprintf(exec_out, sizeof exec_out, "%s/exec4.out", dir);
    snprintf(state_dir, sizeof state_dir, "%s/state4", dir);
    snprintf(cmd_a, sizeof cmd_a, "cat >/dev/null; echo \"a $RAJNET_EVENT $RAJNET_REPORT_MONTH "
             "$RAJNET_REPORT_FILES\" >> %s", exec_out);
    snprintf(cmd_b, sizeof cmd_b, "cat >/dev/null; echo \"b $RAJNET_EVENT $RAJNET_REPORT_MONTH\" "
             ">> %s", exec_out);
    rn_notify_webhook_config_t wh = { .url = url, .timeout_ms = 1000 };
    rn_notify_exec_config_t ex = { .command = cmd_a, .timeout_ms = 5000,
                                   .kinds = RN_NOTIFY_REPORTS };
    rn_notify_config_t cfg = { .state_dir = state_dir, .max_age_s = 600, .retry_initial_ms = 100,
                               .retry_max_ms = 400, .max_queue = 100, .webhooks = &wh,
                               .n_webhooks = 1, .execs = &ex, .n_execs = 1 };
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_notifier_t *n = NULL;
    assert_int_equal(rn_notifier_open(&loop, &cfg, &n), 0);
    run_until(&loop, never, NULL, 100); /* the journal is read */
    rn_alarm_t a = link_alarm(61);
    rn_notifier_alarm(n, RN_ALARM_EV_RAISED, &a, rn_clock_wall_ms());
    assert_int_equal(rn_notifier_report(n, "2024-04", "/r/2024-04-bsnl.csv\n/r/2024-04-bsnl.pdf",
                                        rn_clock_wall_ms()), 2);
    file_wait_t w = { exec_out, "a report 2024-04 /r/2024-04-bsnl.csv", 1 };
    assert_true(run_until(&loop, file_has, &w, 5000)); /* the webhook is down: both wait there */
    assert_int_equal(count_in(exec_out, "raised"), 0); /* the exec hook takes reports only */
    assert_int_equal(rn_notifier_pending(n, 0), 2);

    /* SIGHUP: the same webhook with another timeout, another exec hook */
    wh.timeout_ms = 1200;
    ex.command = cmd_b;
    assert_int_equal(rn_notifier_reconfigure(n, &cfg), 0);
    assert_int_equal(rn_notifier_channels(n), 2);
    assert_int_equal(rn_notifier_pending(n, 0), 2); /* kept */
    rn_notifier_alarm(n, RN_ALARM_EV_CLEARED, &a, rn_clock_wall_ms()); /* paged before: sent */
    rn_notifier_report(n, "2024-05", "/r/2024-05-bsnl.csv", rn_clock_wall_ms());
    pid_t hook = receiver("http", base_port + 9, hook_out);
    file_wait_t w2 = { hook_out, "\"month\":\"2024-05\"", 1 };
    assert_true(run_until(&loop, file_has, &w2, 5000));
    assert_true(run_until(&loop, nothing_pending, n, 3000));
    assert_int_equal(count_in(hook_out, "\"event\":\"raised\""), 1);
    assert_int_equal(count_in(hook_out, "\"event\":\"cleared\""), 1);
    assert_int_equal(count_in(hook_out, "\"month\":\"2024-04\""), 1);
    assert_int_equal(count_in(exec_out, "b report 2024-05"), 1);
    assert_int_equal(count_in(exec_out, "a report"), 1); /* the old hook got nothing more */
    close_notifier(&loop, n);
    assert_int_equal(uv_loop_close(&loop), 0);
    stop(hook);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the collector does */
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_channel_delivers_raise_and_clear),
        cmocka_unit_test(test_dead_webhooks_delay_nothing_and_are_retried),
        cmocka_unit_test(test_pending_webhook_is_delivered_after_a_restart),
        cmocka_unit_test(test_syslog_over_tcp_is_octet_counted_and_reconnects),
        cmocka_unit_test(test_reconfigure_keeps_the_queue_and_reports_reach_their_channels),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
