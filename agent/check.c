/* `rajnet-agent check` (see check.h): the plan run once, judged, and printed.
 *
 * How it works. One loop, the same parts the daemon runs (uplink, SNMP poller, ICMP prober,
 * service prober), but their samples land in this module's tables instead of a batch:
 *   start ─▶ cached plan? ─yes─▶ measure, and test the uplink (TLS only) meanwhile
 *              └─no─▶ hello to the collector, wait for its plan ─▶ measure
 *   measure: poller every RN_CHECK_GAP_S with reports on (sysName, sysUpTime), one ICMP round of
 *            RN_CHECK_GAP_S, service probes every RN_CHECK_GAP_S
 *   done when every device has two polls (or a failed one), every probe target and service a
 *   sample, and the uplink has an answer; or at the deadline. Then judge, print, close, exit.
 * Judging and printing (agent/check_report.c) work on the tables (rn_check_results_t) only,
 * after the loop has done its part. */
#include "check.h"
#include "check_report.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "agent.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "icmp_probe.h"
#include "log.h"
#include "metrics.h"
#include "plan_cache.h"
#include "service_probe.h"
#include "snmp_poller.h"
#include "sources.h"
#include "udp_echo.h"
#include "uplink.h"

typedef struct {
    uv_loop_t loop;
    rn_agent_config_t *config;
    uv_timer_t deadline, uplink_timer;
    rn_uplink_t *uplink;
    rn_plan_cache_t *cache;
    rn_snmp_poller_t *poller;
    rn_icmp_prober_t *icmp;
    rn_service_prober_t *svc;
    Rn__Frame *plan_frame;   /* owns the plan */
    bool finished, hello_sent;
    bool up_done;            /* the uplink's outcome is in r */
    rn_mono_ns_t started;
    rn_udp_echo_t *echo;     /* UDP echo: a sender only (the daemon's reflector holds the port) */
    int pending_closes;
    rn_check_results_t r;    /* what the report reads (agent/check_report.h) */
} check_t;

static void maybe_finish(check_t *c);

/* ---- gathering ------------------------------------------------------------------------------ */

/* Returns the device named name of node (NULL: our own), or NULL. */
static rn_check_device_t *find_dev(check_t *c, const char *node, const char *name)
{
    for (size_t i = 0; i < c->r.n_devs; i++)
        if (strcmp(c->r.devs[i].name, name) == 0 && !c->r.devs[i].node == !node &&
            (!node || strcmp(c->r.devs[i].node, node) == 0))
            return &c->r.devs[i];
    return NULL;
}

/* Keeps an "if" sample: the first reading of an interface and its latest. */
static void take_if(check_t *c, const char *node, const char *device, const char *object,
                    int64_t t, const rn_value_t *v, size_t n, uint64_t speed)
{
    rn_check_device_t *d = find_dev(c, node, device);
    if (!d || n != RN_IF_N)
        return;
    rn_check_iface_t *f = NULL;
    for (size_t i = 0; i < d->n_ifs && !f; i++)
        if (strcmp(d->ifs[i].name, object) == 0)
            f = &d->ifs[i];
    if (!f) {
        rn_check_iface_t *grown = realloc(d->ifs, (d->n_ifs + 1) * sizeof *grown);
        if (!grown)
            return;
        d->ifs = grown;
        f = memset(&d->ifs[d->n_ifs++], 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", object);
    }
    int k = f->n == 0 ? 0 : 1;
    f->t[k] = t;
    memcpy(f->v[k], v, sizeof f->v[k]);
    f->speed_bps = speed;
    f->n++;
}

/* Keeps a "gauge" or "counter" sample of an extra OID: its first reading and its latest. */
static void take_extra(check_t *c, const char *node, const char *device, const char *object,
                       int64_t t, const rn_value_t *v, size_t n)
{
    rn_check_device_t *d = find_dev(c, node, device);
    for (size_t i = 0; d && n == RN_EXTRA_N && i < d->n_extra; i++) {
        rn_check_extra_t *e = &d->extra[i];
        if (strcmp(e->name, object) != 0)
            continue;
        int k = e->n == 0 ? 0 : 1;
        e->t[k] = t;
        e->v[k] = v[0];
        e->n++;
    }
}

/* The poller's sample callback: a device's samples, of our node or an agentless child's. */
static void on_dev_sample(void *ctx, const char *node, const char *source, const char *device,
                          const char *object, int64_t time_ms, const rn_value_t *values, size_t n,
                          uint64_t speed_bps)
{
    check_t *c = ctx;
    if (strcmp(source, RN_SRC_IF) == 0)
        take_if(c, node, device, object, time_ms, values, n, speed_bps);
    else if (!strcmp(source, RN_SRC_GAUGE) || !strcmp(source, RN_SRC_COUNTER)) /* extra OIDs */
        take_extra(c, node, device, object, time_ms, values, n);
    maybe_finish(c);
}

/* The sample callback of every prober: files the sample in its table. */
static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *values, size_t n, uint64_t speed_bps)
{
    check_t *c = ctx;
    if (strcmp(source, RN_SRC_UDPECHO) == 0) { /* UDP echo */
        for (size_t i = 0; i < c->r.n_echoes; i++)
            if (strcmp(c->r.echoes[i].name, object) == 0 && n == RN_UDPECHO_N &&
                !c->r.echoes[i].have) {
                memcpy(c->r.echoes[i].v, values, sizeof c->r.echoes[i].v);
                c->r.echoes[i].have = true;
            }
    } else if (strcmp(source, RN_SRC_ICMP) == 0) {
        for (size_t i = 0; i < c->r.n_probes; i++)
            if (strcmp(c->r.probes[i].name, object) == 0 && n == RN_ICMP_N &&
                !c->r.probes[i].have) {
                memcpy(c->r.probes[i].v, values, sizeof c->r.probes[i].v);
                c->r.probes[i].have = true;
            }
    } else {
        for (size_t i = 0; i < c->r.n_svcs; i++) {
            rn_check_service_t *s = &c->r.svcs[i];
            if (strcmp(s->plan->object, object) != 0 || s->have || n > RN_HTTP_N)
                continue;
            memcpy(s->v, values, n * sizeof *values);
            const char *why = rn_service_prober_why(c->svc, object);
            snprintf(s->why, sizeof s->why, "%s", why ? why : "");
            s->have = true;
        }
    }
    maybe_finish(c);
}

/* The poller's report after each poll of a device. */
static void on_report(void *ctx, const rn_snmp_report_t *r)
{
    check_t *c = ctx;
    rn_check_device_t *d = find_dev(c, r->node, r->device);
    if (!d)
        return;
    d->polls++;
    d->ok = r->ok;
    snprintf(d->why, sizeof d->why, "%s", r->why);
    if (r->ok) {
        snprintf(d->sys_name, sizeof d->sys_name, "%s", r->sys_name);
        d->uptime_cs = r->sys_uptime;
    }
    maybe_finish(c);
}

/* ---- the run -------------------------------------------------------------------------------- */

/* UDP echo: a table row per peer of the plan, and one round with each. Returns 0 or -ENOMEM. */
static int start_echo(check_t *c, const Rn__Plan *p, uint32_t count)
{
    c->r.echoes = calloc(p->n_echo ? p->n_echo : 1, sizeof *c->r.echoes);
    if (!c->r.echoes)
        return -ENOMEM;
    for (size_t i = 0; i < p->n_echo; i++) {
        snprintf(c->r.echoes[i].name, RN_CHECK_NAME_LEN, "%s", p->echo[i]->name);
        snprintf(c->r.echoes[i].addr, RN_CHECK_NAME_LEN, "%s", p->echo[i]->addr);
        p->echo[i]->has_count = 0; /* every peer gets `count`, as the ICMP targets */
    }
    c->r.n_echoes = p->n_echo;
    /* from the address peers know us by, which their reflectors answer (udp_echo.h) */
    rn_udp_echo_set_source(c->echo, p->n_devices ? p->devices[0]->addr : NULL);
    return rn_udp_echo_set_peers(c->echo, p->echo, p->n_echo, RN_CHECK_GAP_S, count);
}

/* Makes the result tables for the plan and starts the poller and probers on it. Returns 0 or a
 * negative error (logged). */
static int start_measuring(check_t *c, const Rn__Plan *p)
{
    c->r.measuring = true;
    size_t nd = p->n_devices + p->n_child_devices; /* ours, then our agentless children's */
    c->r.devs = calloc(nd ? nd : 1, sizeof *c->r.devs);
    c->r.probes = calloc(p->n_icmp ? p->n_icmp : 1, sizeof *c->r.probes);
    c->r.svcs = calloc(p->n_services ? p->n_services : 1, sizeof *c->r.svcs);
    if (!c->r.devs || !c->r.probes || !c->r.svcs)
        return -ENOMEM;
    c->r.n_devs = nd; /* set first: a failure below leaves extra tables to free */
    for (size_t i = 0; i < nd; i++) {
        const Rn__Device *pd = i < p->n_devices ? p->devices[i]
                                                : p->child_devices[i - p->n_devices];
        rn_check_device_t *d = &c->r.devs[i];
        d->node = pd->node;
        snprintf(d->name, RN_CHECK_NAME_LEN, "%s", pd->name);
        snprintf(d->addr, RN_CHECK_NAME_LEN, "%s", pd->addr);
        d->uptime_cs = -1;
        if (!(d->extra = calloc(pd->n_extra ? pd->n_extra : 1, sizeof *d->extra)))
            return -ENOMEM;
        for (size_t k = 0; k < pd->n_extra; k++) { /* checked by lib/wire.c */
            snprintf(d->extra[k].name, RN_CHECK_NAME_LEN, "%s", pd->extra[k]->name);
            d->extra[k].oid = pd->extra[k]->oid;
            d->extra[k].counter = strcmp(pd->extra[k]->kind, "counter") == 0;
        }
        d->n_extra = pd->n_extra;
    }
    for (size_t i = 0; i < p->n_icmp; i++) {
        snprintf(c->r.probes[i].name, RN_CHECK_NAME_LEN, "%s", p->icmp[i]->name);
        snprintf(c->r.probes[i].addr, RN_CHECK_NAME_LEN, "%s", p->icmp[i]->addr);
        c->r.probes[i].plan = p->icmp[i];
    }
    c->r.n_probes = p->n_icmp;
    for (size_t i = 0; i < p->n_services; i++)
        c->r.svcs[i].plan = p->services[i];
    c->r.n_svcs = p->n_services;
    uint32_t count = RN_CHECK_MIN_PINGS;
    for (size_t i = 0; i < p->n_icmp; i++)
        if (p->icmp[i]->has_count && p->icmp[i]->count > count)
            count = p->icmp[i]->count;
    rn_snmp_poller_set_report(c->poller, on_report, c);
    int rc = rn_snmp_poller_set_plan(c->poller, p, RN_CHECK_GAP_S);
    if (rc == 0 && c->icmp) /* every target gets `count`: the plan's counts are for a daemon */
        for (size_t i = 0; i < p->n_icmp; i++)
            p->icmp[i]->has_count = 0;
    if (rc == 0 && c->icmp)
        rc = rn_icmp_prober_set_targets(c->icmp, p->icmp, p->n_icmp, RN_CHECK_GAP_S, count);
    if (rc == 0 && c->svc)
        rc = rn_service_prober_set_targets(c->svc, p->services, p->n_services, RN_CHECK_GAP_S);
    if (rc == 0 && c->echo) /* UDP echo: one round of RN_CHECK_GAP_S, like ICMP */
        rc = start_echo(c, p, count);
    return rc;
}

/* Takes a plan (frame owned from now on) and starts measuring, unless already measuring. */
static void use_plan(check_t *c, Rn__Frame *f, const char *source)
{
    if (c->r.measuring) {
        rn_wire_free(f);
        return;
    }
    c->plan_frame = f;
    c->r.plan_source = source;
    int rc = start_measuring(c, f->plan);
    if (rc)
        rn_error("check: cannot run the plan: %s", rn_strerror(rc));
    maybe_finish(c);
}

/* Records the uplink's outcome (once). */
static void uplink_result(check_t *c, bool ok, const char *why)
{
    if (c->up_done)
        return;
    c->up_done = true;
    c->r.up_ok = ok;
    c->r.up_ms = (double)(rn_clock_mono_ns() - c->started) / 1e6;
    snprintf(c->r.up_why, sizeof c->r.up_why, "%s", why);
    uv_timer_stop(&c->uplink_timer);
}

/* The uplink is up (mutual TLS done). With a plan in hand that is all we wanted to know; without
 * one, say hello and wait for the plan. */
static void on_up_connected(void *ctx)
{
    check_t *c = ctx;
    if (c->r.measuring) {
        uplink_result(c, true, "");
        return maybe_finish(c);
    }
    Rn__Hello h = RN__HELLO__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    h.node_id = c->config->node_id;
    h.agent_version = RN_AGENT_VERSION " (check)";
    h.wall_time_ms = rn_clock_wall_ms();
    f.body_case = RN__FRAME__BODY_HELLO;
    f.hello = &h;
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(&f, &buf, &len) == 0 && rn_uplink_send(c->uplink, buf, len) == 0)
        c->hello_sent = true;
}

static void on_up_frame(void *ctx, Rn__Frame *f)
{
    check_t *c = ctx;
    if (f->body_case != RN__FRAME__BODY_PLAN) {
        rn_wire_free(f);
        return;
    }
    uplink_result(c, true, "");
    use_plan(c, f, "collector");
}

static void on_up_disconnected(void *ctx)
{
    (void)ctx; /* a drop after the answer changes nothing; before it, the timer decides */
}

static void on_uplink_timer(uv_timer_t *t)
{
    check_t *c = t->data;
    char why[200];
    snprintf(why, sizeof why, "no TLS session%s within %d s (see the log lines above)",
             c->hello_sent ? " and plan" : "", RN_CHECK_UPLINK_WAIT_S);
    uplink_result(c, false, why);
    maybe_finish(c);
}

/* True when every table has what it waits for. */
static bool complete(const check_t *c)
{
    if (!c->up_done || !c->r.measuring)
        return false;
    for (size_t i = 0; i < c->r.n_devs; i++)
        if (c->r.devs[i].polls < 2 && !(c->r.devs[i].polls == 1 && !c->r.devs[i].ok))
            return false;
    for (size_t i = 0; i < c->r.n_probes; i++)
        if (!c->r.probes[i].have && c->r.have_icmp)
            return false;
    for (size_t i = 0; i < c->r.n_svcs; i++)
        if (!c->r.svcs[i].have && c->r.have_svc)
            return false;
    for (size_t i = 0; i < c->r.n_echoes; i++) /* UDP echo */
        if (!c->r.echoes[i].have && c->echo)
            return false;
    return true;
}

static void on_close_part(void *data)
{
    check_t *c = data;
    c->pending_closes--;
}

static void on_handle_closed(uv_handle_t *h)
{
    on_close_part(h->data);
}

/* Ends the run: closes every part; uv_run then returns. */
static void finish(check_t *c)
{
    if (c->finished)
        return;
    c->finished = true;
    c->pending_closes = 2;
    uv_close((uv_handle_t *)&c->deadline, on_handle_closed);
    uv_close((uv_handle_t *)&c->uplink_timer, on_handle_closed);
#define CLOSE_PART(ptr, fn)                                                                        \
    if (ptr) {                                                                                     \
        c->pending_closes++;                                                                       \
        fn(ptr, on_close_part, c);                                                                 \
        ptr = NULL;                                                                                \
    }
    CLOSE_PART(c->uplink, rn_uplink_close);
    CLOSE_PART(c->poller, rn_snmp_poller_close);
    CLOSE_PART(c->icmp, rn_icmp_prober_close);
    CLOSE_PART(c->svc, rn_service_prober_close);
    CLOSE_PART(c->echo, rn_udp_echo_close); /* UDP echo */
    CLOSE_PART(c->cache, rn_plan_cache_close);
#undef CLOSE_PART
}

static void maybe_finish(check_t *c)
{
    if (!c->finished && complete(c))
        finish(c);
}

static void on_deadline(uv_timer_t *t)
{
    check_t *c = t->data;
    if (!c->up_done)
        on_uplink_timer(&c->uplink_timer);
    finish(c);
}

/* Starts every part and takes the cached plan if there is one. Returns 0, or a negative error
 * (logged) when a part that the check cannot do without fails. */
static int start_parts(check_t *c)
{
    static const rn_uplink_cbs_t cbs = { on_up_connected, on_up_frame, on_up_disconnected,
                                          NULL };
    char err[512] = "";
    uv_timer_init(&c->loop, &c->deadline);
    uv_timer_init(&c->loop, &c->uplink_timer);
    c->deadline.data = c->uplink_timer.data = c;
    c->started = rn_clock_mono_ns();
    uv_timer_start(&c->deadline, on_deadline, RN_CHECK_MAX_S * 1000, 0);
    uv_timer_start(&c->uplink_timer, on_uplink_timer, RN_CHECK_UPLINK_WAIT_S * 1000, 0);
    int rc = rn_snmp_poller_new(&c->loop, on_dev_sample, c, &c->poller);
    if (rc == 0 && rn_icmp_prober_new(&c->loop, on_sample, c, &c->icmp) != 0)
        c->icmp = NULL; /* reported as "not probed" */
    if (rc == 0 && rn_service_prober_new(&c->loop, on_sample, c, &c->svc) != 0)
        c->svc = NULL;
    if (c->svc && c->config->service_ca) /* HTTPS services signed by a private CA */
        rc = rn_service_prober_set_ca(c->svc, c->config->service_ca);
    if (rc == 0 && rn_udp_echo_new(&c->loop, on_sample, c, &c->echo) != 0)
        c->echo = NULL; /* UDP echo: reported as "not measured" */
    c->r.have_icmp = c->icmp != NULL;
    c->r.have_svc = c->svc != NULL;
    if (rc == 0)
        rc = rn_plan_cache_new(&c->loop, c->config->state_dir, &c->cache);
    if (rc)
        return rc;
    if (rn_uplink_new(&c->loop, c->config, &cbs, c, &c->uplink, err, sizeof err) != 0) {
        c->uplink = NULL;
        uplink_result(c, false, err);
    }
    Rn__Frame *f;
    if (rn_plan_cache_load(c->cache, &f) == 0)
        use_plan(c, f, "cache");
    return 0;
}

int rn_check_run(const rn_check_opts_t *opts, FILE *out)
{
    check_t c;
    char err[1024];
    memset(&c, 0, sizeof c);
    if (rn_agent_config_load(opts->config_path, &c.config, err, sizeof err) != 0) {
        fprintf(stderr, "rajnet-agent check: %s\n", err);
        return RN_CHECK_CONFIG;
    }
    rn_log_open("rajnet-agent check", opts->verbose ? RN_LOG_DEBUG : RN_LOG_WARN, false);
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&c.loop);
    if (start_parts(&c) != 0)
        finish(&c);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    c.r.config = c.config;
    c.r.plan_digest = c.plan_frame ? c.plan_frame->plan->digest : NULL;
    int rc = rn_check_report(&c.r, opts->json, out);
    uv_loop_close(&c.loop);
    for (size_t i = 0; i < c.r.n_devs; i++)
        free(c.r.devs[i].ifs), free(c.r.devs[i].extra);
    free(c.r.devs), free(c.r.probes), free(c.r.svcs), free(c.r.echoes);
    rn_wire_free(c.plan_frame);
    rn_agent_config_free(c.config);
    return rc;
}

static void check_usage(FILE *to)
{
    fprintf(to, "usage: rajnet-agent check [-c CONFIG] [--json] [-v]\n"
                "  runs the plan once (two SNMP polls %d s apart for rates) and reports devices,\n"
                "  interfaces, probes against their SLA limits, services and the uplink\n"
                "  -c, --config FILE   agent configuration (default /etc/rajnet/agent.yaml)\n"
                "      --json          the report as JSON\n"
                "  -v, --verbose       debug log lines on stderr\n"
                "exit codes: 0 healthy, 1 degraded, 2 down, 64 usage error, 78 configuration "
                "error\n",
            RN_CHECK_GAP_S);
}

int rn_check_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' },
        { "verbose", no_argument, NULL, 'v' },      { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    rn_check_opts_t o = { "/etc/rajnet/agent.yaml", false, false };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': o.config_path = optarg; break;
        case 'j': o.json = true; break;
        case 'v': o.verbose = true; break;
        case 'h': check_usage(stdout); return RN_CHECK_OK;
        default: check_usage(stderr); return RN_CHECK_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rajnet-agent check: unexpected argument '%s'\n", argv[optind]);
        check_usage(stderr);
        return RN_CHECK_USAGE;
    }
    return rn_check_run(&o, stdout);
}
