/* Tests of collector/series/rrdc.c against a real rrdcached (started here on a unix socket in a
 * temporary directory, as the collector's operators run it: -B -b <data dir>): files created and
 * read back through the daemon, a BATCH whose commands the daemon accepts or refuses one by one,
 * a daemon that goes away and comes back (the next BATCH reconnects), librrd's one-UPDATE
 * path, and the RRD store (rrd_store.c) writing through it. Skipped when rrdcached is not
 * installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "metrics.h"
#include "series/rrd_store.h"
#include "series/rrdc.h"

#define RRDCACHED "/usr/bin/rrdcached"
#define STEP 10

typedef struct {
    char root[64];          /* mkdtemp: the daemon's base directory */
    char sock[128], addr[160];
    pid_t pid;
    rn_rrdc_t *c;
    time_t t0;              /* an hour ago, aligned to the step */
} fixture_t;

/* Starts rrdcached in the foreground on fx->sock and waits for its socket. */
static void daemon_start(fixture_t *fx)
{
    char journal[128], pid[128];
    snprintf(journal, sizeof journal, "%s/journal", fx->root);
    snprintf(pid, sizeof pid, "%s/rrdcached.pid", fx->root); /* not /var/run's: ours only */
    mkdir(journal, 0700);
    unlink(fx->sock);
    unlink(pid); /* left by a daemon killed before */
    fx->pid = fork();
    assert_true(fx->pid >= 0);
    if (fx->pid == 0) {
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        execl(RRDCACHED, "rrdcached", "-g", "-l", fx->addr, "-B", "-b", fx->root, "-j", journal,
              "-p", pid, "-w", "3600", "-f", "7200", "-z", "1", "-t", "1", (char *)NULL);
        _exit(127);
    }
    struct stat st;
    for (int i = 0; i < 600 && stat(fx->sock, &st) != 0; i++) /* 30 s: a loaded machine */
        usleep(50000);
    if (stat(fx->sock, &st) != 0) {
        kill(fx->pid, SIGKILL);
        waitpid(fx->pid, NULL, 0);
        fail_msg("rrdcached did not open %s", fx->sock);
    }
}

/* Kills the daemon as a crash would (it writes every update to its journal first): SIGTERM
 * would wait for the clients' idle connections to end. */
static void daemon_stop(fixture_t *fx)
{
    if (fx->pid <= 0)
        return;
    kill(fx->pid, SIGKILL);
    waitpid(fx->pid, NULL, 0);
    fx->pid = 0;
}

static int setup(void **state)
{
    if (access(RRDCACHED, X_OK) != 0) {
        print_message("rrdcached not installed: skipped\n");
        skip();
    }
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/rn-rrdc-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->sock, sizeof fx->sock, "%s/rrdcached.sock", fx->root);
    snprintf(fx->addr, sizeof fx->addr, "unix:%s", fx->sock);
    fx->t0 = (time(NULL) - 3600) / STEP * STEP;
    daemon_start(fx);
    unsetenv("RAJNET_RRDCACHED_PROTOCOL");
    assert_int_equal(rn_rrdc_new(fx->addr, &fx->c), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    char cmd[128];
    rn_rrdc_free(fx->c);
    daemon_stop(fx);
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->root);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

/* Creates <root>/<name>.rrd (one gauge, step STEP) through the daemon, last update at t0. */
static void create(fixture_t *fx, const char *name, char *path, size_t len)
{
    const char *argv[] = { "DS:x:GAUGE:30:U:U", "RRA:AVERAGE:0.5:1:400" };
    snprintf(path, len, "%s/%s.rrd", fx->root, name);
    assert_int_equal(rn_rrdc_create(fx->c, path, STEP, fx->t0, 2, argv), 0);
}

/* Queues "UPDATE path <t0 + k * STEP>:<v>" for k = from..to into cmds. */
static void add_updates(fixture_t *fx, rn_rrdc_cmds_t *cmds, const char *path, int from, int to)
{
    char vals[16][32];
    const char *argv[16];
    int n = 0;
    for (int k = from; k <= to && n < 16; k++, n++) {
        snprintf(vals[n], sizeof vals[n], "%lld:%d", (long long)(fx->t0 + k * STEP), k);
        argv[n] = vals[n];
    }
    assert_int_equal(rn_rrdc_cmds_add_update(cmds, path, n, argv), 0);
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* A file made through the daemon has its start as last update; a missing one is -ENOENT. */
static void test_create_and_last_through_the_daemon(void **state)
{
    fixture_t *fx = *state;
    char path[256], missing[256];
    time_t last = 0;
    create(fx, "a", path, sizeof path);
    assert_int_equal(rn_rrdc_last(fx->c, path, &last), 0);
    assert_int_equal(last, fx->t0);
    snprintf(missing, sizeof missing, "%s/none.rrd", fx->root);
    assert_int_equal(rn_rrdc_last(fx->c, missing, &last), -ENOENT);
    assert_true(rn_rrdc_batched(fx->c));
    assert_string_equal(rn_rrdc_addr(fx->c), fx->addr);
}

/* One BATCH of three files: the daemon applies the two good commands and refuses the one whose
 * times are at or before its file's last update; only that command's flag is set. */
static void test_batch_flags_only_the_refused_command(void **state)
{
    fixture_t *fx = *state;
    char a[256], b[256], c[256];
    rn_rrdc_cmds_t cmds = { 0 };
    bool bad[3] = { false, false, false };
    time_t last = 0;
    create(fx, "a", a, sizeof a);
    create(fx, "b", b, sizeof b);
    create(fx, "c", c, sizeof c);
    add_updates(fx, &cmds, a, 1, 5);
    add_updates(fx, &cmds, b, 0, 0); /* at the file's start: refused */
    add_updates(fx, &cmds, c, 1, 3);
    assert_int_equal(cmds.n, 3);
    assert_int_equal(rn_rrdc_send(fx->c, &cmds, bad), 0);
    assert_false(bad[0]);
    assert_true(bad[1]);
    assert_false(bad[2]);
    assert_int_equal(rn_rrdc_last(fx->c, a, &last), 0);
    assert_int_equal(last, fx->t0 + 5 * STEP);
    assert_int_equal(rn_rrdc_last(fx->c, c, &last), 0);
    assert_int_equal(last, fx->t0 + 3 * STEP);
    rn_rrdc_cmds_reset(&cmds);
    assert_int_equal(cmds.n, 0);
    assert_null(cmds.text);
}

/* The daemon goes away: the next BATCH fails with an error (nothing is known to be stored); once
 * it is back on the same socket, the BATCH after that reconnects and is applied. */
static void test_batch_reconnects_after_the_daemon_restarts(void **state)
{
    fixture_t *fx = *state;
    char a[256];
    rn_rrdc_cmds_t cmds = { 0 };
    bool bad[1] = { false };
    time_t last = 0;
    create(fx, "a", a, sizeof a);
    add_updates(fx, &cmds, a, 1, 2);
    assert_int_equal(rn_rrdc_send(fx->c, &cmds, bad), 0);
    rn_rrdc_cmds_reset(&cmds);
    daemon_stop(fx); /* the two updates are in its journal */
    add_updates(fx, &cmds, a, 3, 4);
    int rc = rn_rrdc_send(fx->c, &cmds, bad);
    assert_true(rc < 0);
    assert_true(rc == -ECONNRESET || rc == -EPIPE || rc == -ENOENT || rc == -ECONNREFUSED);
    daemon_start(fx);
    assert_int_equal(rn_rrdc_send(fx->c, &cmds, bad), 0);
    assert_false(bad[0]);
    rn_rrdc_cmds_reset(&cmds);
    rc = rn_rrdc_last(fx->c, a, &last);
    if (rc != 0) /* librrd's client may first find its old connection dead */
        rc = rn_rrdc_last(fx->c, a, &last);
    assert_int_equal(rc, 0);
    assert_int_equal(last, fx->t0 + 4 * STEP);
}

/* No daemon at the address: the BATCH fails with the connect error, and so does librrd's path. */
static void test_no_daemon_fails_the_batch(void **state)
{
    fixture_t *fx = *state;
    char addr[200], path[256];
    rn_rrdc_t *c = NULL;
    rn_rrdc_cmds_t cmds = { 0 };
    bool bad[1] = { false };
    const char *argv[] = { "DS:x:GAUGE:30:U:U", "RRA:AVERAGE:0.5:1:400" };
    snprintf(addr, sizeof addr, "unix:%s/nobody.sock", fx->root);
    assert_int_equal(rn_rrdc_new(addr, &c), 0);
    snprintf(path, sizeof path, "%s/x.rrd", fx->root);
    add_updates(fx, &cmds, path, 1, 1);
    assert_int_equal(rn_rrdc_send(c, &cmds, bad), -ENOENT);
    assert_int_equal(rn_rrdc_create(c, path, STEP, fx->t0, 2, argv), -1);
    rn_rrdc_cmds_reset(&cmds);
    rn_rrdc_free(c);
    assert_int_equal(rn_rrdc_new("", &c), -EINVAL);
    assert_int_equal(rn_rrdc_new("unix:", &c), -EINVAL);
}

/* RAJNET_RRDCACHED_PROTOCOL=update: no BATCH; each update goes through librrd's client, and a
 * refused one is an error with librrd's message. */
static void test_update_protocol_goes_through_librrd(void **state)
{
    fixture_t *fx = *state;
    char path[256];
    rn_rrdc_t *c = NULL;
    time_t last = 0;
    create(fx, "a", path, sizeof path);
    setenv("RAJNET_RRDCACHED_PROTOCOL", "update", 1);
    assert_int_equal(rn_rrdc_new(fx->addr, &c), 0);
    unsetenv("RAJNET_RRDCACHED_PROTOCOL");
    assert_false(rn_rrdc_batched(c));
    char v1[32], v2[32];
    snprintf(v1, sizeof v1, "%lld:1", (long long)(fx->t0 + STEP));
    snprintf(v2, sizeof v2, "%lld:2", (long long)(fx->t0 + 2 * STEP));
    const char *argv[] = { v1, v2 };
    assert_int_equal(rn_rrdc_update(c, path, 2, argv), 0);
    assert_int_equal(rn_rrdc_last(c, path, &last), 0);
    assert_int_equal(last, fx->t0 + 2 * STEP);
    assert_int_equal(rn_rrdc_update(c, path, 1, argv), -1); /* not after the last update */
    rn_rrdc_free(c);
}

/* ---- the RRD store through the daemon ---- */

typedef struct {
    int fired, status;
    rn_rrd_result_t r;
} outcome_t;

static void on_written(void *data, int status, const rn_rrd_result_t *r)
{
    outcome_t *o = data;
    o->fired++;
    o->status = status;
    o->r = *r;
}

/* Writes one batch of "icmp" samples from jaipur (to objects[i] at times[i], every value 1.5)
 * through the store and runs the loop until its callback. */
static outcome_t store_write(uv_loop_t *loop, rn_rrd_store_t *st, const char *const *objects,
                             const time_t *times, size_t n)
{
    const rn_template_t *t = rn_template_find("icmp");
    Rn__Value val = RN__VALUE__INIT, *vals[16];
    Rn__Sample sm[4], *smp[4];
    Rn__Batch b = RN__BATCH__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    outcome_t o = { 0 };
    assert_true(n <= 4 && t->n_metrics <= 16);
    val.has_gauge = 1;
    val.gauge = 1.5;
    for (size_t v = 0; v < t->n_metrics; v++)
        vals[v] = &val;
    for (size_t i = 0; i < n; i++) {
        rn__sample__init(&sm[i]);
        sm[i].source = "icmp";
        sm[i].device = "";
        sm[i].object = (char *)objects[i];
        sm[i].time_ms = (int64_t)times[i] * 1000;
        sm[i].n_values = t->n_metrics;
        sm[i].values = vals;
        smp[i] = &sm[i];
    }
    b.seq = 1, b.n_samples = n, b.samples = smp;
    f.version = RN_WIRE_VERSION, f.body_case = RN__FRAME__BODY_BATCH, f.batch = &b;
    uint8_t buf[4096];
    assert_true(rn__frame__get_packed_size(&f) <= sizeof buf);
    size_t len = rn__frame__pack(&f, buf);
    Rn__Frame *owned = rn__frame__unpack(NULL, len, buf);
    assert_non_null(owned);
    assert_int_equal(rn_rrd_store_write(st, "jaipur", owned, on_written, &o), 0);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(o.fired, 1);
    return o;
}

static void on_store_closed(void *data)
{
    *(bool *)data = true;
}

/* The store with rrdcached (BATCH): two files made through the daemon and written in one BATCH;
 * a sample at a file's last update is counted too old, a newer one in the same batch written;
 * the daemon gone, the batch fails as a whole (not acked); back, the next one is stored. */
static void test_store_writes_through_the_daemon(void **state)
{
    fixture_t *fx = *state;
    uv_loop_t loop;
    rn_rrd_store_t *st = NULL;
    char path[256];
    time_t last = 0, t1 = fx->t0 + 10, t2 = fx->t0 + 20, t3 = fx->t0 + 30;
    bool closed = false;
    const char *objs[] = { "sdc", "ajmer", "sdc" };
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(rn_rrd_store_new(&loop, fx->root, &st), 0);
    assert_int_equal(rn_rrd_store_set_rrdcached(st, fx->addr), 0);
    outcome_t o = store_write(&loop, st, objs, (time_t[]){ t1, t1 }, 2);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.written, 2);
    assert_int_equal(rn_rrd_store_path(st, "jaipur", "icmp", "", "ajmer", path, sizeof path), 0);
    assert_int_equal(rn_rrdc_last(fx->c, path, &last), 0);
    assert_int_equal(last, t1);
    o = store_write(&loop, st, objs, (time_t[]){ t1, t2, t2 }, 3);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.too_old, 1);
    assert_int_equal(o.r.written, 2);
    daemon_stop(fx);
    o = store_write(&loop, st, objs, (time_t[]){ t3 }, 1);
    assert_true(o.status < 0);
    daemon_start(fx);
    o = store_write(&loop, st, objs, (time_t[]){ t3 }, 1);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.r.written, 1);
    rn_rrd_store_close(st, on_store_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(closed);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as collector/main.c: librrd's client write()s to a dead daemon */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_last_through_the_daemon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_flags_only_the_refused_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_reconnects_after_the_daemon_restarts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_daemon_fails_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_protocol_goes_through_librrd, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_writes_through_the_daemon, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
