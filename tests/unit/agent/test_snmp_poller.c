/* Tests of agent/snmp_poller.c against a real snmpd started by the test on 127.0.0.1.
 *
 * The group setup writes a private snmpd.conf (v2c community, a v3 SHA/AES authPriv user), runs
 * `snmpd -f -C -c conf udp:127.0.0.1:PORT` with its persistent state in a temporary directory and
 * waits until it answers. The poller's log goes to stderr, which the tests redirect to a file so
 * that they can check what an operator would read. Every test is skipped when /usr/sbin/snmpd is
 * missing. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "../../../agent/snmp_poller.h" /* no -I for agent/ in tests/unit/Makefile.inc */

#define SNMPD "/usr/sbin/snmpd"
#define COMMUNITY "rn-public"
#define V3_USER "rnuser"
#define V3_AUTH "rn-auth-pass-1"
#define V3_PRIV "rn-priv-pass-1"

typedef struct {
    char node[64], device[64], object[64]; /* node "" for the agent's own */
    int64_t time_ms;
    uint64_t at_ms; /* loop time when it arrived */
    rn_value_t v[RN_IF_N];
    uint64_t speed;
} got_t;

static struct {
    bool have_snmpd;
    char dir[64], log_path[96];
    pid_t pid;
    int port, dead_port;
    int saved_stderr;
    uv_loop_t loop;
    got_t got[512];
    size_t n_got;
    uint64_t max_gap_ms, last_watch_ms;
    bool (*stop_when)(void);
    bool closed;
} T;

/* ---- helpers ------------------------------------------------------------------------------ */

/* Returns a UDP port on 127.0.0.1 that was free a moment ago. */
static int free_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Runs a shell command with net-snmp's tools kept away from /var/lib/snmp; returns its first
 * output line in out (may be empty) and its exit status. */
static int run_cmd(char *out, size_t out_len, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(cmd, sizeof cmd, "SNMP_PERSISTENT_DIR=%s MIBS= ", T.dir);
    vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
    va_end(ap);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    if (out) {
        out[0] = '\0';
        if (!fgets(out, (int)out_len, f))
            out[0] = '\0';
    }
    char sink[256];
    while (fgets(sink, sizeof sink, f))
        ;
    return pclose(f);
}

/* Returns how many lines of the poller's log (our redirected stderr) contain s. */
static int log_count(const char *s)
{
    fflush(stderr);
    FILE *f = fopen(T.log_path, "r");
    if (!f)
        return 0;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, s) != NULL;
    fclose(f);
    return n;
}

/* Returns true if the poller's log (our redirected stderr) contains s. */
static bool log_contains(const char *s)
{
    fflush(stderr);
    FILE *f = fopen(T.log_path, "r");
    if (!f)
        return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, s) != NULL;
    fclose(f);
    return found;
}

/* Samples of extra OIDs ("gauge"/"counter"), kept apart from the "if" ones. */
typedef struct {
    char source[16], object[64];
    rn_value_t v;
} got_extra_t;
static got_extra_t got_extra[64];
static size_t n_got_extra;

static void on_extra_sample(const char *source, const char *object, const rn_value_t *values,
                            size_t n_values)
{
    assert_int_equal(n_values, RN_EXTRA_N);
    assert_true(strcmp(source, "gauge") == 0 || strcmp(source, "counter") == 0);
    if (n_got_extra == sizeof got_extra / sizeof got_extra[0])
        return;
    got_extra_t *g = &got_extra[n_got_extra++];
    snprintf(g->source, sizeof g->source, "%s", source);
    snprintf(g->object, sizeof g->object, "%s", object);
    g->v = values[0];
}

/* Returns the latest sample of extra object, or NULL. */
static const got_extra_t *find_extra(const char *object)
{
    for (size_t i = n_got_extra; i-- > 0;)
        if (strcmp(got_extra[i].object, object) == 0)
            return &got_extra[i];
    return NULL;
}

static void on_sample(void *ctx, const char *node, const char *source, const char *device,
                      const char *object, int64_t time_ms, const rn_value_t *values,
                      size_t n_values, uint64_t speed_bps)
{
    if (strcmp(source, "if") != 0) {
        on_extra_sample(source, object, values, n_values);
        return;
    }
    assert_string_equal(source, "if");
    assert_int_equal(n_values, RN_IF_N);
    if (T.n_got == sizeof T.got / sizeof T.got[0])
        return;
    got_t *g = &T.got[T.n_got++];
    snprintf(g->node, sizeof g->node, "%s", node ? node : "");
    snprintf(g->device, sizeof g->device, "%s", device);
    snprintf(g->object, sizeof g->object, "%s", object);
    g->time_ms = time_ms;
    g->at_ms = uv_now(&T.loop);
    memcpy(g->v, values, sizeof g->v);
    g->speed = speed_bps;
}

/* Returns the latest sample of device/object of node ("" for our own) received, or NULL. */
static const got_t *find_node_got(const char *node, const char *device, const char *object)
{
    for (size_t i = T.n_got; i-- > 0;)
        if (strcmp(T.got[i].node, node) == 0 && strcmp(T.got[i].device, device) == 0 &&
            strcmp(T.got[i].object, object) == 0)
            return &T.got[i];
    return NULL;
}

/* Returns the latest sample of device/object of our own node received, or NULL. */
static const got_t *find_got(const char *device, const char *object)
{
    return find_node_got("", device, object);
}

static void on_watch(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);
    if (T.last_watch_ms && now - T.last_watch_ms > T.max_gap_ms)
        T.max_gap_ms = now - T.last_watch_ms;
    T.last_watch_ms = now;
    if (T.stop_when && T.stop_when())
        uv_stop(t->loop);
}

static void on_deadline(uv_timer_t *t) { uv_stop(t->loop); }

/* Runs the loop for at most ms, or until stop_when() holds (checked every 10 ms). Records the
 * largest gap between two 10 ms watch ticks in T.max_gap_ms. */
static void run_loop(uint64_t ms, bool (*stop_when)(void))
{
    uv_timer_t watch, deadline;
    T.stop_when = stop_when;
    T.max_gap_ms = T.last_watch_ms = 0;
    uv_timer_init(&T.loop, &watch);
    uv_timer_init(&T.loop, &deadline);
    uv_timer_start(&watch, on_watch, 10, 10);
    uv_timer_start(&deadline, on_deadline, ms, 0);
    uv_run(&T.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&watch, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&T.loop, UV_RUN_NOWAIT);
}

static bool got_lo(void) { return find_got("rtr1", "lo") != NULL; }
static bool closed(void) { return T.closed; }
static void on_closed(void *data) { *(bool *)data = true; }

/* Builds a device in caller-provided storage. */
static Rn__Device *make_dev(Rn__Device *d, Rn__SnmpCredentials *c, const char *name, int port,
                            uint32_t version, char *addr_buf, size_t addr_len)
{
    Rn__Device dinit = RN__DEVICE__INIT;
    Rn__SnmpCredentials cinit = RN__SNMP_CREDENTIALS__INIT;
    *d = dinit;
    *c = cinit;
    snprintf(addr_buf, addr_len, "udp:127.0.0.1:%d", port);
    d->name = (char *)name;
    d->addr = addr_buf;
    d->snmp = c;
    c->version = version;
    if (version == 3) {
        c->user = V3_USER;
        c->auth_proto = "SHA";
        c->auth_key = V3_AUTH;
        c->priv_proto = "AES";
        c->priv_key = V3_PRIV;
    } else {
        c->community = COMMUNITY;
    }
    return d;
}

/* Opens a poller on T.loop with the given devices. */
static rn_snmp_poller_t *start_poller(Rn__Device **devs, size_t n, uint32_t interval_s)
{
    rn_snmp_poller_t *p = NULL;
    T.n_got = 0;
    assert_int_equal(rn_snmp_poller_new(&T.loop, on_sample, NULL, &p), 0);
    assert_int_equal(rn_snmp_poller_set_devices(p, devs, n, interval_s), 0);
    return p;
}

/* Closes the poller, runs the loop until its close callback, and checks no handle is left. */
static void close_poller(rn_snmp_poller_t *p)
{
    T.closed = false;
    rn_snmp_poller_close(p, on_closed, &T.closed);
    assert_false(T.closed); /* the callback never fires synchronously */
    run_loop(2000, closed);
    assert_true(T.closed);
    assert_int_equal(uv_run(&T.loop, UV_RUN_NOWAIT), 0);
}

/* ---- snmpd fixture ---------------------------------------------------------------------- */

/* Writes the snmpd configuration. Returns 0 or -1. */
static int write_conf(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "rocommunity " COMMUNITY " 127.0.0.1\n"
               "createUser " V3_USER " SHA \"" V3_AUTH "\" AES \"" V3_PRIV "\"\n"
               "rouser " V3_USER " priv\n");
    return fclose(f);
}

/* Starts snmpd on T.port and waits until it answers. Returns 0 or -1. */
static int start_snmpd(void)
{
    char conf[128], log[128], pidf[128], addr[64];
    snprintf(conf, sizeof conf, "%s/snmpd.conf", T.dir);
    snprintf(log, sizeof log, "%s/snmpd.log", T.dir);
    snprintf(pidf, sizeof pidf, "%s/snmpd.pid", T.dir);
    snprintf(addr, sizeof addr, "udp:127.0.0.1:%d", T.port);
    if (write_conf(conf) != 0)
        return -1;
    T.pid = fork();
    if (T.pid == 0) {
        setenv("SNMP_PERSISTENT_DIR", T.dir, 1);
        setenv("MIBS", "", 1);
        execl(SNMPD, SNMPD, "-f", "-Lf", log, "-C", "-c", conf, "-p", pidf, addr, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        if (run_cmd(NULL, 0, "snmpget -v2c -c " COMMUNITY " -r0 -t0.1 127.0.0.1:%d "
                             "1.3.6.1.2.1.1.3.0 >/dev/null 2>&1", T.port) == 0)
            return 0;
        usleep(50000);
    }
    return -1;
}

static int group_setup(void **state)
{
    T.have_snmpd = access(SNMPD, X_OK) == 0;
    if (!T.have_snmpd)
        return 0;
    snprintf(T.dir, sizeof T.dir, "/tmp/rn-test-snmp-XXXXXX");
    if (!mkdtemp(T.dir))
        return -1;
    T.port = free_udp_port();
    do
        T.dead_port = free_udp_port();
    while (T.dead_port == T.port);
    if (start_snmpd() != 0) {
        fprintf(stderr, "snmpd did not answer on 127.0.0.1:%d\n", T.port);
        return -1;
    }
    /* the poller logs to stderr: keep it in a file the tests read */
    snprintf(T.log_path, sizeof T.log_path, "%s/poller.log", T.dir);
    T.saved_stderr = dup(STDERR_FILENO);
    int fd = open(T.log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
    rn_log_open("test", RN_LOG_DEBUG, false);
    return 0;
}

static int group_teardown(void **state)
{
    if (!T.have_snmpd)
        return 0;
    if (T.pid > 0) {
        kill(T.pid, SIGTERM);
        waitpid(T.pid, NULL, 0);
    }
    fflush(stderr);
    dup2(T.saved_stderr, STDERR_FILENO);
    if (1) { /* the redirected stderr also holds cmocka's failure messages */
        char cmd[160];
        snprintf(cmd, sizeof cmd, "cat %s >&2", T.log_path);
        if (system(cmd) != 0)
            return -1;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", T.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Skips the calling test when there is no snmpd to talk to. */
#define NEED_SNMPD()                                                                           \
    do {                                                                                       \
        if (!T.have_snmpd) {                                                                   \
            print_message("SKIP: %s is not installed (apt-get install snmpd)\n", SNMPD);       \
            skip();                                                                            \
        }                                                                                      \
    } while (0)

static int test_setup(void **state)
{
    if (!T.have_snmpd)
        return 0;
    T.n_got = 0;
    return uv_loop_init(&T.loop);
}

static int test_teardown(void **state)
{
    if (!T.have_snmpd)
        return 0;
    uv_run(&T.loop, UV_RUN_NOWAIT);
    return uv_loop_close(&T.loop) == 0 ? 0 : -1;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Returns the counter of lo's ifHCInOctets read with the snmpget command, or -1. */
static long long snmpget_lo_in_octets(void)
{
    char out[256];
    unsigned idx = if_nametoindex("lo");
    if (run_cmd(out, sizeof out, "snmpget -v2c -c " COMMUNITY " -Oqv 127.0.0.1:%d "
                                 "1.3.6.1.2.1.31.1.1.1.6.%u", T.port, idx) != 0)
        return -1;
    return strtoll(out, NULL, 10);
}

/* Sends about `bytes` of UDP datagrams over lo (to a port nobody listens on). */
static void make_lo_traffic(size_t bytes)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)T.dead_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    static char buf[8192];
    for (size_t sent = 0; sent < bytes; sent += sizeof buf)
        sendto(fd, buf, sizeof buf, 0, (struct sockaddr *)&a, sizeof a);
    close(fd);
}

/* The report (for `rajnet-agent check`): sysName and sysUpTime of a polled device, and one
 * report per poll, also for a device that does not answer. */
static rn_snmp_report_t last_report;
static char last_sys_name[64];
static int n_reports;
static void on_report(void *ctx, const rn_snmp_report_t *r)
{
    (void)ctx;
    last_report = *r;
    snprintf(last_sys_name, sizeof last_sys_name, "%s", r->sys_name);
    n_reports++;
}
static bool got_report(void) { return n_reports > 0; }

static void test_report_gives_sysname_and_uptime_once_per_poll(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64], host[64] = "";
    Rn__Device *devs[] = { make_dev(&d, &c, "rtr1", T.port, 2, addr, sizeof addr) };
    rn_snmp_poller_t *p = NULL;
    assert_int_equal(rn_snmp_poller_new(&T.loop, on_sample, NULL, &p), 0);
    rn_snmp_poller_set_report(p, on_report, NULL);
    n_reports = 0;
    assert_int_equal(rn_snmp_poller_set_devices(p, devs, 1, 1), 0);
    run_loop(3000, got_report);
    assert_int_equal(n_reports, 1);
    assert_true(last_report.ok);
    gethostname(host, sizeof host - 1);
    assert_string_equal(last_sys_name, host); /* snmpd's default sysName */
    assert_true(last_report.sys_uptime >= 0);
    assert_true(last_report.n_interfaces >= 1);
    assert_non_null(find_got("rtr1", "lo")); /* the samples still come, before the report */
    close_poller(p);

    devs[0] = make_dev(&d, &c, "dead", T.dead_port, 2, addr, sizeof addr);
    d.has_timeout_ms = d.has_retries = 1;
    d.timeout_ms = 100;
    d.retries = 0;
    n_reports = 0;
    assert_int_equal(rn_snmp_poller_new(&T.loop, on_sample, NULL, &p), 0);
    rn_snmp_poller_set_report(p, on_report, NULL);
    assert_int_equal(rn_snmp_poller_set_devices(p, devs, 1, 1), 0);
    run_loop(3000, got_report);
    assert_false(last_report.ok);
    assert_true(last_report.why[0] != '\0');
    assert_int_equal(last_report.sys_uptime, -1);
    close_poller(p);
}

static void test_v2c_poll_reports_lo_counters(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64];
    Rn__Device *devs[] = { make_dev(&d, &c, "rtr1", T.port, 2, addr, sizeof addr) };
    int64_t before = rn_clock_wall_ms();
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    run_loop(3000, got_lo);
    const got_t *g = find_got("rtr1", "lo");
    assert_non_null(g);
    assert_int_equal(g->v[RN_IF_IN].kind, RN_VALUE_COUNTER);
    assert_int_equal(g->v[RN_IF_OUT].kind, RN_VALUE_COUNTER);
    assert_int_equal(g->v[RN_IF_INERR].kind, RN_VALUE_COUNTER);
    assert_int_equal(g->v[RN_IF_OUTDISC].kind, RN_VALUE_COUNTER);
    assert_int_equal(g->v[RN_IF_OPER].kind, RN_VALUE_GAUGE);
    assert_true(g->v[RN_IF_OPER].gauge == 1.0);
    assert_true(g->time_ms >= before && g->time_ms <= rn_clock_wall_ms());

    /* counters move with traffic, and agree with what snmpget reads */
    uint64_t first = g->v[RN_IF_IN].counter;
    make_lo_traffic(4u << 20);
    long long want = -1;
    for (int i = 0; i < 60 && want < (long long)(first + (4u << 20)); i++) {
        usleep(100000); /* snmpd caches interface counters for a few seconds */
        want = snmpget_lo_in_octets();
    }
    assert_true(want >= (long long)(first + (4u << 20)));
    T.n_got = 0;
    run_loop(3000, got_lo);
    g = find_got("rtr1", "lo");
    assert_non_null(g);
    long long diff = (long long)g->v[RN_IF_IN].counter - want;
    print_message("lo ifHCInOctets: poller %llu, snmpget %lld (diff %lld bytes)\n",
                  (unsigned long long)g->v[RN_IF_IN].counter, want, diff);
    assert_true(diff >= 0 && diff < 256 * 1024);
    assert_true(g->v[RN_IF_IN].counter - first >= (4u << 20));
    close_poller(p);
}

static void test_v1_poll_walks_with_getnext_and_32bit_counters(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64];
    Rn__Device *devs[] = { make_dev(&d, &c, "rtr1", T.port, 1, addr, sizeof addr) };
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    run_loop(3000, got_lo);
    const got_t *g = find_got("rtr1", "lo");
    assert_non_null(g); /* v1 carries no Counter64: in/out come from ifIn/OutOctets */
    assert_int_equal(g->v[RN_IF_IN].kind, RN_VALUE_COUNTER);
    assert_int_equal(g->v[RN_IF_OUT].kind, RN_VALUE_COUNTER);
    assert_true(g->v[RN_IF_IN].counter <= 0xffffffffull);
    assert_true(g->v[RN_IF_OPER].gauge == 1.0);
    close_poller(p);
}

static void test_v3_authpriv_poll_works(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64];
    Rn__Device *devs[] = { make_dev(&d, &c, "rtr1", T.port, 3, addr, sizeof addr) };
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    run_loop(3000, got_lo);
    const got_t *g = find_got("rtr1", "lo");
    assert_non_null(g);
    assert_int_equal(g->v[RN_IF_IN].kind, RN_VALUE_COUNTER);
    assert_true(g->v[RN_IF_OPER].gauge == 1.0);
    close_poller(p);
    assert_false(log_contains(V3_AUTH));
    assert_false(log_contains(V3_PRIV));
}

static void test_v3_wrong_key_is_refused_and_logged(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64];
    Rn__Device *devs[] = { make_dev(&d, &c, "rtr3", T.port, 3, addr, sizeof addr) };
    c.auth_key = "not-the-auth-key";
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    run_loop(1500, NULL);
    assert_int_equal(T.n_got, 0);
    assert_true(log_contains("device rtr3 (udp:127.0.0.1:"));
    assert_false(log_contains("not-the-auth-key"));
    close_poller(p);
}

static void test_wrong_community_gives_no_sample_and_loop_stays_responsive(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64], line[128];
    Rn__Device *devs[] = { make_dev(&d, &c, "rtr2", T.port, 2, addr, sizeof addr) };
    c.community = "wrong-community";
    d.has_timeout_ms = d.has_retries = 1;
    d.timeout_ms = 300;
    d.retries = 1;
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    run_loop(2500, NULL);
    assert_int_equal(T.n_got, 0);
    snprintf(line, sizeof line, "device rtr2 (%s): no answer after 2 tries", addr);
    assert_true(log_contains(line));
    assert_false(log_contains("wrong-community"));
    print_message("largest gap between 10 ms loop ticks: %llu ms\n",
                  (unsigned long long)T.max_gap_ms);
    assert_true(T.max_gap_ms < 100);
    close_poller(p);
}

static bool got_good_and_dead_logged(void)
{
    return find_got("good", "lo") && log_contains("device dead (");
}

static void test_dead_device_does_not_delay_good_one(void **state)
{
    NEED_SNMPD();
    Rn__Device d1, d2;
    Rn__SnmpCredentials c1, c2;
    char a1[64], a2[64];
    Rn__Device *devs[] = { make_dev(&d1, &c1, "dead", T.dead_port, 2, a1, sizeof a1),
                           make_dev(&d2, &c2, "good", T.port, 2, a2, sizeof a2) };
    d1.has_timeout_ms = d1.has_retries = 1;
    d1.timeout_ms = 1000;
    d1.retries = 1;
    uint64_t t0 = uv_now(&T.loop);
    rn_snmp_poller_t *p = start_poller(devs, 2, 5); /* dead starts first, good ~250 ms later */
    run_loop(4000, got_good_and_dead_logged);
    const got_t *g = find_got("good", "lo");
    assert_non_null(g);
    print_message("good device's sample after %llu ms\n", (unsigned long long)(g->at_ms - t0));
    assert_true(g->at_ms - t0 < 1000);
    assert_true(uv_now(&T.loop) - t0 >= 2000); /* the dead one timed out later, on its own */
    assert_true(log_contains("no answer after 2 tries"));
    close_poller(p);
}

static bool got_b(void) { return find_got("b", "lo") != NULL; }

static void test_set_devices_replaces_the_set(void **state)
{
    NEED_SNMPD();
    Rn__Device d1, d2;
    Rn__SnmpCredentials c1, c2;
    char a1[64], a2[64];
    Rn__Device *first[] = { make_dev(&d1, &c1, "a", T.port, 2, a1, sizeof a1) };
    Rn__Device *second[] = { make_dev(&d2, &c2, "b", T.port, 3, a2, sizeof a2) };
    rn_snmp_poller_t *p = start_poller(first, 1, 1);
    run_loop(1500, NULL);
    assert_non_null(find_got("a", "lo"));
    assert_int_equal(rn_snmp_poller_set_devices(p, second, 1, 1), 0);
    T.n_got = 0;
    run_loop(2500, got_b);
    assert_non_null(find_got("b", "lo"));
    assert_null(find_got("a", "lo"));
    /* the same set again keeps the device (and its schedule): no extra poll at once */
    size_t n = T.n_got;
    assert_int_equal(rn_snmp_poller_set_devices(p, second, 1, 1), 0);
    assert_int_equal(T.n_got, n);
    /* an empty set stops polling */
    assert_int_equal(rn_snmp_poller_set_devices(p, NULL, 0, 1), 0);
    run_loop(300, NULL);
    n = T.n_got;
    run_loop(1500, NULL);
    assert_int_equal(T.n_got, n);
    close_poller(p);
}

/* An agentless child's device (Plan.child_devices, Device.node set) is polled as the agent's own
 * and its samples carry its node; a child device named like one of ours is a device of its own
 * (its own schedule, counters and report), and a change of node alone replaces it. */
static rn_snmp_report_t child_report;
static char child_report_node[64];
static void on_child_report(void *ctx, const rn_snmp_report_t *r)
{
    (void)ctx;
    if (!r->node)
        return;
    child_report = *r;
    snprintf(child_report_node, sizeof child_report_node, "%s", r->node);
}
static bool got_both_rtr1(void)
{
    return find_node_got("", "rtr1", "lo") && find_node_got("jaipur/sanganer/v1", "rtr1", "lo") &&
           child_report_node[0];
}
static bool got_v2(void) { return find_node_got("jaipur/sanganer/v2", "rtr1", "lo") != NULL; }

static void test_child_device_samples_carry_their_node(void **state)
{
    NEED_SNMPD();
    Rn__Device d1, d2;
    Rn__SnmpCredentials c1, c2;
    char a1[64], a2[64];
    Rn__Device *own[] = { make_dev(&d1, &c1, "rtr1", T.port, 2, a1, sizeof a1) };
    Rn__Device *child[] = { make_dev(&d2, &c2, "rtr1", T.port, 3, a2, sizeof a2) };
    d2.node = "jaipur/sanganer/v1";
    Rn__Plan plan = RN__PLAN__INIT;
    plan.devices = own;
    plan.n_devices = 1;
    plan.child_devices = child;
    plan.n_child_devices = 1;
    rn_snmp_poller_t *p = NULL;
    T.n_got = 0;
    child_report_node[0] = '\0';
    assert_int_equal(rn_snmp_poller_new(&T.loop, on_sample, NULL, &p), 0);
    rn_snmp_poller_set_report(p, on_child_report, NULL);
    assert_int_equal(rn_snmp_poller_set_plan(p, &plan, 1), 0);
    run_loop(3000, got_both_rtr1);
    const got_t *mine = find_node_got("", "rtr1", "lo");
    const got_t *theirs = find_node_got("jaipur/sanganer/v1", "rtr1", "lo");
    assert_non_null(mine);
    assert_non_null(theirs);
    assert_int_equal(theirs->v[RN_IF_OPER].kind, RN_VALUE_GAUGE);
    assert_true(theirs->v[RN_IF_OPER].gauge == 1.0);
    assert_string_equal(child_report_node, "jaipur/sanganer/v1");
    assert_string_equal(child_report.device, "rtr1");
    assert_true(child_report.ok);
    /* every sample is one device's or the other's: none without its node, none doubled */
    size_t n_mine = 0, n_theirs = 0, n_lo = 0;
    for (size_t i = 0; i < T.n_got; i++) {
        n_lo += strcmp(T.got[i].object, "lo") == 0;
        n_mine += T.got[i].node[0] == '\0' && strcmp(T.got[i].object, "lo") == 0;
        n_theirs += strcmp(T.got[i].node, "jaipur/sanganer/v1") == 0 &&
                    strcmp(T.got[i].object, "lo") == 0;
    }
    assert_true(n_mine >= 1 && n_theirs >= 1 && n_mine + n_theirs == n_lo);
    /* the same device moved to another child: replaced, its samples say the new node */
    d2.node = "jaipur/sanganer/v2";
    T.n_got = 0;
    assert_int_equal(rn_snmp_poller_set_plan(p, &plan, 1), 0);
    run_loop(3000, got_v2);
    assert_non_null(find_node_got("jaipur/sanganer/v2", "rtr1", "lo"));
    for (size_t i = 0; i < T.n_got; i++)
        assert_string_not_equal(T.got[i].node, "jaipur/sanganer/v1");
    assert_true(log_contains("snmp poller: 2 devices every 1 s"));
    close_poller(p);
}

static void test_close_during_poll_frees_everything(void **state)
{
    NEED_SNMPD();
    Rn__Device d1, d2;
    Rn__SnmpCredentials c1, c2;
    char a1[64], a2[64];
    Rn__Device *devs[] = { make_dev(&d1, &c1, "dead", T.dead_port, 2, a1, sizeof a1),
                           make_dev(&d2, &c2, "v3", T.port, 3, a2, sizeof a2) };
    rn_snmp_poller_t *p = start_poller(devs, 2, 1);
    run_loop(150, NULL); /* polls started, the dead one is waiting */
    close_poller(p);     /* checks the loop holds no handle afterwards */
    rn_snmp_poller_t *q = NULL;
    assert_int_equal(rn_snmp_poller_new(&T.loop, on_sample, NULL, &q), 0);
    close_poller(q); /* a poller that never had devices closes too */
}

/* Stops the snmpd of the fixture and starts it again on the same port: its sysUpTime starts
 * again from 0, as a rebooted router's does (the kernel's lo counters do not). */
static void restart_snmpd(void)
{
    kill(T.pid, SIGTERM);
    waitpid(T.pid, NULL, 0);
    T.pid = 0;
    assert_int_equal(start_snmpd(), 0);
}

static size_t n_lo_samples(void)
{
    size_t n = 0;
    for (size_t i = 0; i < T.n_got; i++)
        n += strcmp(T.got[i].object, "lo") == 0;
    return n;
}
static size_t lo_wanted;
static bool got_lo_wanted(void) { return n_lo_samples() >= lo_wanted; }

static void test_reboot_gives_unknown_counters_for_one_poll(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64];
    Rn__Device *devs[] = { make_dev(&d, &c, "rtr1", T.port, 2, addr, sizeof addr) };
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    lo_wanted = 2;
    run_loop(4000, got_lo_wanted);
    assert_int_equal(n_lo_samples(), 2);
    assert_false(log_contains("rtr1: sysUpTime went back"));
    const got_t *g = find_got("rtr1", "lo");
    assert_int_equal(g->v[RN_IF_IN].kind, RN_VALUE_COUNTER); /* no reboot: counters go out */

    restart_snmpd(); /* its sysUpTime is now lower than the last poll's, at least ~1 s ago */
    lo_wanted = 3;
    run_loop(4000, got_lo_wanted);
    g = find_got("rtr1", "lo");
    assert_non_null(g);
    assert_int_equal(g->v[RN_IF_IN].kind, RN_VALUE_UNKNOWN);
    assert_int_equal(g->v[RN_IF_OUT].kind, RN_VALUE_UNKNOWN);
    assert_int_equal(g->v[RN_IF_INERR].kind, RN_VALUE_UNKNOWN);
    assert_int_equal(g->v[RN_IF_OUTDISC].kind, RN_VALUE_UNKNOWN);
    assert_int_equal(g->v[RN_IF_OPER].kind, RN_VALUE_GAUGE); /* gauges stay */
    assert_true(g->v[RN_IF_OPER].gauge == 1.0);
    assert_true(log_contains("rtr1: sysUpTime went back (reboot): counters of this poll sent "
                             "as unknown"));

    lo_wanted = 4; /* the poll after the reboot compares with the rebooted device: counters */
    run_loop(3000, got_lo_wanted);
    g = find_got("rtr1", "lo");
    assert_int_equal(n_lo_samples(), 4);
    assert_int_equal(g->v[RN_IF_IN].kind, RN_VALUE_COUNTER);
    assert_int_equal(g->v[RN_IF_OUT].kind, RN_VALUE_COUNTER);
    close_poller(p);
}

static size_t extra_polls_wanted;
static bool got_extra_polls(void) { return n_got_extra >= 4 * extra_polls_wanted; }

static void test_extra_oids_give_gauges_counters_and_unknowns(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64];
    Rn__ExtraOid x[4] = { RN__EXTRA_OID__INIT, RN__EXTRA_OID__INIT, RN__EXTRA_OID__INIT,
                          RN__EXTRA_OID__INIT };
    Rn__ExtraOid *xp[] = { &x[0], &x[1], &x[2], &x[3] };
    x[0].name = "uptime", x[0].oid = "1.3.6.1.2.1.1.3.0", x[0].kind = "gauge"; /* TimeTicks */
    x[1].name = "snmp-in", x[1].oid = ".1.3.6.1.2.1.11.1.0", x[1].kind = "counter"; /* snmpInPkts */
    x[2].name = "nothing", x[2].oid = "1.3.6.1.4.1.99999.1.0", x[2].kind = "gauge";
    x[3].name = "sysname", x[3].oid = "1.3.6.1.2.1.1.5.0", x[3].kind = "gauge"; /* a string */
    Rn__Device *devs[] = { make_dev(&d, &c, "rtrx", T.port, 2, addr, sizeof addr) };
    d.n_extra = 4;
    d.extra = xp;
    n_got_extra = 0;
    extra_polls_wanted = 3;
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    run_loop(5000, got_extra_polls);
    assert_int_equal(n_got_extra, 12);
    assert_non_null(find_got("rtrx", "lo")); /* the interfaces still come */

    const got_extra_t *up = find_extra("uptime"), *in = find_extra("snmp-in");
    assert_string_equal(up->source, "gauge");
    assert_int_equal(up->v.kind, RN_VALUE_GAUGE);
    assert_true(up->v.gauge > 0);
    assert_string_equal(in->source, "counter");
    assert_int_equal(in->v.kind, RN_VALUE_COUNTER);
    assert_true(in->v.counter > got_extra[1].v.counter); /* our own polls are SNMP packets */
    assert_int_equal(find_extra("nothing")->v.kind, RN_VALUE_UNKNOWN);
    assert_int_equal(find_extra("sysname")->v.kind, RN_VALUE_UNKNOWN);
    /* each problem is logged once, not once per poll */
    assert_int_equal(log_count("device rtrx (" ), 2);
    assert_int_equal(log_count("extra nothing (1.3.6.1.4.1.99999.1.0): noSuchObject; sent as "
                               "unknown"), 1);
    assert_int_equal(log_count("extra sysname (1.3.6.1.2.1.1.5.0): ASN.1 type 0x04, not "
                               "INTEGER/Gauge32/TimeTicks"), 1);
    close_poller(p);

    /* a bad extra makes the device's configuration unusable, named in the log */
    x[1].oid = "1.3.6.one";
    p = start_poller(devs, 1, 1);
    assert_true(log_contains("device rtrx (" ));
    assert_true(log_contains("extra[1] (snmp-in): oid is not a numeric OID; not polled"));
    close_poller(p);
}

static void test_bad_config_is_skipped(void **state)
{
    NEED_SNMPD();
    Rn__Device d;
    Rn__SnmpCredentials c;
    char addr[64];
    Rn__Device *devs[] = { make_dev(&d, &c, "badv3", T.port, 3, addr, sizeof addr) };
    c.auth_proto = "SHA-999";
    rn_snmp_poller_t *p = start_poller(devs, 1, 1);
    assert_true(log_contains("device badv3 (" ));
    assert_true(log_contains("unknown v3 auth protocol"));
    assert_int_equal(rn_snmp_poller_set_devices(p, devs, 1, 0), -EINVAL);
    close_poller(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v2c_poll_reports_lo_counters, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_v1_poll_walks_with_getnext_and_32bit_counters,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_v3_authpriv_poll_works, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_v3_wrong_key_is_refused_and_logged, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(
            test_wrong_community_gives_no_sample_and_loop_stays_responsive, test_setup,
            test_teardown),
        cmocka_unit_test_setup_teardown(test_dead_device_does_not_delay_good_one, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_set_devices_replaces_the_set, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_child_device_samples_carry_their_node, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_close_during_poll_frees_everything, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_bad_config_is_skipped, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_reboot_gives_unknown_counters_for_one_poll,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_extra_oids_give_gauges_counters_and_unknowns,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(test_report_gives_sysname_and_uptime_once_per_poll,
                                        test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
