/* The collector context (see collector.h): listener, signals, cron, topology reload,
 * backpressure, per-node state. */
#include "collector.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "error.h"
#include "http/http.h"   /* HTTP API */
#include "series/latest.h" /* HTTP API: latest values */
#include "log.h"
#include "sources.h"
#include "notify_systemd.h" /* readiness for systemd (Type=notify) */
#include "ingest/plan.h" /* RN_PLAN_REC_INTERVAL_S */
#include "ingest/session.h"
#include "report/report_run.h" /* SLA reports: monthly generation */

#define CRON_MS 1000
#define SILENT_AFTER_S 30      /* a connected node that sends nothing this long is "silent" */
#define STORE_HIGH_WATER 256   /* batches queued in the store: stop reading from agents */
#define STORE_LOW_WATER 128    /* ... and read again once it is down to this */

static void try_finish(rn_collector_t *c);

/* Returns the monotonic clock in ms: timeouts, "silent", log rate limits (a wall clock step must
 * not move them). The wall clock is for stamps: samples, alarms, the cron's engines. */
static int64_t mono_ms(void)
{
    return (int64_t)(rn_clock_mono_ns() / 1000000);
}

/* Returns whether a node's session may read: not while the store is behind, and not while the
 * node has RN_NODE_MAX_IN_STORE batches queued in it (ingest.h). */
static bool may_read(const rn_collector_t *c, const rn_node_state_t *n)
{
    return !c->reading_paused && (!n || n->in_store < RN_NODE_MAX_IN_STORE);
}

/* Pauses or resumes reading from every agent by the RRD store's queue (high and low water). */
static void check_backpressure(rn_collector_t *c)
{
    size_t pending = rn_rrd_store_pending(c->store);
    bool pause = c->reading_paused ? pending > STORE_LOW_WATER : pending >= STORE_HIGH_WATER;
    if (pause == c->reading_paused || c->stopping)
        return;
    c->reading_paused = pause;
    /* Under a steady overload reading pauses and resumes many times a second: say it once per
     * 10 s with the count, so the log stays readable (/metrics has the live gauge). */
    int64_t now = mono_ms();
    if (pause && now - c->pause_logged_ms >= 10000) {
        rn_info("RRD store behind (%zu batches queued): pausing reading from agents (%u more "
                "pauses since the last report)", pending, c->pauses_unlogged);
        c->pause_logged_ms = now;
        c->pauses_unlogged = 0;
    } else if (pause) {
        c->pauses_unlogged++;
    }
    for (rn_session_t *s = c->sessions; s; s = s->next)
        rn_session_set_reading(s, may_read(c, rn_session_node(s)));
}

/* ---- what sessions may ask of the context (rn_ingest_ops_t, ingest/session.h) ---- */

/* Returns the state of node id, creating it; NULL when out of memory. */
static rn_node_state_t *host_node(void *ctx, const char *id)
{
    rn_collector_t *c = ctx;
    return rn_ingest_state_get(&c->nodes, id);
}

/* After a batch of n was queued or written. Returns whether n's session may read now. */
static bool host_backpressure(void *ctx, const rn_node_state_t *n)
{
    check_backpressure(ctx);
    return may_read(ctx, n);
}

/* s is closed and about to be freed: off the list; while stopping, maybe the last thing. */
static void host_closed(void *ctx, rn_session_t *s)
{
    rn_collector_t *c = ctx;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    try_finish(c);
}

/* An agent's Inventory frame: the asset register (asset_register.c). */
static void host_inventory(void *ctx, const char *node, const Rn__Inventory *m)
{
    rn_collector_assets_inventory(ctx, node, m);
}

/* A sample of node's: police station cameras (cctv_collector.c). */
static void host_sample(void *ctx, const char *node, const Rn__Sample *x)
{
    rn_collector_cctv_observe(ctx, node, x);
}

/* Refills what sessions see of the context from it. Call after anything in it changes: start
 * (before listening), a topology or config reload (before plans are sent), the RRD store and
 * the event store closing. */
static void ingest_host_sync(rn_collector_t *c)
{
    static const rn_ingest_ops_t ops = { host_node, host_backpressure, host_closed,
                                         host_inventory, host_sample };
    c->ingest_host = (rn_ingest_host_t){
        .topo = c->topo,
        .store = c->store,
        .alarms = c->alarms,
        .latest = c->latest,
        .events = c->events,
        .max_clock_skew_s = c->config ? c->config->max_clock_skew_s : 0,
        .max_future_skew_s = c->config ? c->config->max_future_skew_s : 0,
        .ops = &ops,
        .ctx = c,
    };
}

/* Agents connected now (the HTTP API's status): sessions that named their node, not closing. */
static size_t view_agents_connected(void *ctx)
{
    const rn_collector_t *c = ctx;
    size_t n = 0;
    for (const rn_session_t *s = c->sessions; s; s = s->next)
        n += s->node && !s->closing;
    return n;
}

/* Fills what report runs and the HTTP API see of the context. Once, at start: both hold pointers
 * to the context's fields, read at each use, so nothing needs refilling after a reload. */
static void views_fill(rn_collector_t *c)
{
    c->report_host = (rn_report_host_t){
        .loop = c->loop,
        .events = &c->events,
        .store = &c->store,
        .notifier = &c->notifier,
        .config = &c->config,
    };
    c->http_view = (rn_http_view_t){
        .loop = c->loop,
        .topo = &c->topo,
        .alarms = &c->alarms,
        .latest = &c->latest,
        .store = &c->store,
        .assets = &c->assets,
        .assets_foreign = &c->assets_foreign,
        .cctv = &c->cctv,
        .nodes = &c->nodes,
        .reading_paused = &c->reading_paused,
        .reports = &c->report_host,
        .agents_connected = view_agents_connected,
        .ctx = c,
    };
}

/* An alarm event: logged now; the event store and the notifiers take them from here. */
static void on_alarm_event(void *ctx, rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                           int64_t at_ms)
{
    rn_collector_t *c = ctx;
    rn_alarm_log(&c->alarm_log, kind, a, at_ms); /* history and outages in the event store */
    if (c->notifier)
        rn_notifier_alarm(c->notifier, kind, a, at_ms); /* pages raised/promoted, then clears */
    rn_http_publish_alarm(c->http, kind, a); /* HTTP API: /api/v1/events; NULL is fine */
    bool page = kind == RN_ALARM_EV_RAISED || kind == RN_ALARM_EV_PROMOTED;
    char root[48] = "";
    if (a->root_id)
        snprintf(root, sizeof root, ", under alarm %" PRIu64, a->root_id);
    rn_log(page ? RN_LOG_WARN : RN_LOG_INFO, "alarm %" PRIu64 " %s (S%d%s): %s", a->id,
           rn_alarm_event_name(kind), a->severity, root, a->text);
}

void rn_collector_publish_alarm(rn_collector_t *c, rn_alarm_event_kind_t kind,
                                const rn_alarm_t *a, int64_t at_ms)
{
    on_alarm_event(c, kind, a, at_ms);
}

/* The alarm engine's settings from the topology's. */
static rn_alarm_config_t alarm_config(const rn_topology_t *t)
{
    rn_alarm_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.probe_interval_ms = (int64_t)t->settings.probe_interval_s * 1000;
    cfg.probe_count = t->settings.probe_count;
    return cfg;
}

static void apply_steps(rn_collector_t *c)
{
    rn_rrd_store_set_step(c->store, RN_SRC_IF, c->topo->settings.poll_interval_s);
    rn_rrd_store_set_step(c->store, RN_SRC_ICMP, c->topo->settings.probe_interval_s);
    rn_rrd_store_set_step(c->store, RN_SRC_TCP, c->topo->settings.probe_interval_s);
    rn_rrd_store_set_step(c->store, RN_SRC_HTTP, c->topo->settings.probe_interval_s);
    rn_rrd_store_set_step(c->store, RN_SRC_UDPECHO, c->topo->settings.probe_interval_s);
    rn_rrd_store_set_step(c->store, RN_SRC_RTSP, c->topo->settings.probe_interval_s); /* cameras */
    /* VC capture: the interval collector/ingest/plan.c gives every capture */
    rn_rrd_store_set_step(c->store, RN_SRC_RTP, 5);
    rn_rrd_store_set_step(c->store, RN_SRC_TCPHS, 5);
    rn_rrd_store_set_step(c->store, RN_SRC_PCAP, 5); /* the captures' drop counters */
    rn_rrd_store_set_step(c->store, RN_SRC_REC, RN_PLAN_REC_INTERVAL_S); /* recording streams */
}

/* Agents connected (a hello received) and the topology's size: systemd's STATUS= line. */
static void notify_status(rn_collector_t *c, bool ready)
{
    size_t agents = 0;
    for (rn_session_t *s = c->sessions; s; s = s->next)
        agents += s->node && !s->closing;
    if (ready)
        rn_notify_ready("%zu agents connected, %zu nodes in the topology", agents,
                        c->topo->n_nodes);
    else
        rn_notify_status("%zu agents connected, %zu nodes in the topology", agents,
                         c->topo->n_nodes);
}

/* SIGHUP: loads the topology again; keeps the old one if the new one has an error. Connected
 * agents get their plans again (an agent ignores a plan whose digest it already runs). */
static void reload_topology(rn_collector_t *c)
{
    char err[1024];
    rn_topology_t *t;
    int rc = rn_topology_load(c->config->topology_path, c->config->secrets_path, &t, err,
                              sizeof err);
    if (rc) {
        rn_error("reload: keeping the current topology: %s", err);
        return notify_status(c, true); /* the old topology runs on: ready again */
    }
    rn_alarm_engine_set_topology(c->alarms, t); /* before the old topology goes */
    rn_topology_free(c->topo);
    c->topo = t;
    ingest_host_sync(c); /* before the plans below are built from it */
    rn_collector_cctv_reload(c); /* police station cameras: it keeps no topology pointer */
    for (rn_node_state_t *n = c->nodes; n; n = n->next) /* ingest: plans change with it */
        rn_ingest_node_replan(&n->ingest);
    apply_steps(c);
    rn_info("reload: topology %s loaded (%zu nodes)", t->path, t->n_nodes);
    /* Sessions stay open: a node still in the topology gets its new plan on its session; one
     * that is gone has its session closed by rn_session_send_plan ("no longer in the
     * topology"), and its agent's reconnects are refused until it is back. */
    size_t sent = 0;
    for (rn_session_t *s = c->sessions; s; s = s->next)
        if (s->node && !s->closing) {
            rn_session_send_plan(s);
            sent += !s->closing;
        }
    rn_info("reload: plans sent to %zu connected agents", sent);
    notify_status(c, true);
}

static void on_signal(uv_signal_t *h, int signum)
{
    rn_collector_t *c = h->data;
    if (signum == SIGHUP) {
        rn_notify_reloading(); /* READY=1 again when reload_topology is done */
        rn_collector_config_reload(c); /* collector.yaml: log level, notify, tokens (conf.c) */
        rn_collector_assets_reload(c); /* the asset file */
        reload_topology(c);
        return ingest_host_sync(c); /* whatever the reload swapped, sessions see it */
    }
    rn_info("signal %d: shutting down", signum);
    rn_collector_stop(c);
}

/* Periodic work: the engines' clocks, hello timeouts and nodes whose agents went quiet. */
static void on_cron(uv_timer_t *t)
{
    rn_collector_t *c = t->data;
    int64_t now = rn_clock_wall_ms(), mono = mono_ms(); /* stamps; timeouts */
    rn_alarm_tick(c->alarms, now);
    rn_collector_assets_tick(c, now); /* contracts ending, replaced alarms held long enough */
    rn_collector_cctv_tick(c, now); /* police station cameras: camera offline */
    rn_report_monthly_tick(&c->report_host, now, CRON_MS); /* the 1st: last month's SLA reports */
    rn_alarm_log_tick(&c->alarm_log, now); /* outage refinement and restart reconciliation */
    for (rn_session_t *s = c->sessions; s; s = s->next)
        if (rn_session_hello_overdue(s, mono))
            rn_session_close(s, "no hello in time");
    for (rn_node_state_t *n = c->nodes; n; n = n->next) {
        bool silent = n->heard_mono_ms && mono - n->heard_mono_ms > SILENT_AFTER_S * 1000;
        if (silent && !n->silent_logged)
            rn_warn("node %s: silent for %lld s", n->id,
                    (long long)(mono - n->heard_mono_ms) / 1000);
        else if (!silent && n->silent_logged)
            rn_info("node %s: heard from again", n->id);
        n->silent_logged = silent;
    }
    notify_status(c, false); /* sent only when it changed */
}

static void seed_acked_seq(void *data, const char *node, uint64_t seq)
{
    rn_collector_t *c = data;
    rn_node_state_t *n = rn_ingest_state_get(&c->nodes, node);
    if (n)
        n->acked_seq = n->submitted_seq = seq;
}

/* Opens <state_dir>/events.db and takes back what the last run knew: each node's last stored
 * batch, so a resent batch after a collector restart is recognised as a duplicate. */
static int open_events(rn_collector_t *c)
{
    char path[4096], err[1024];
    if (mkdir(c->config->state_dir, 0750) != 0 && errno != EEXIST) {
        rn_error("state_dir %s: %s", c->config->state_dir, rn_strerror(-errno));
        return -errno;
    }
    snprintf(path, sizeof path, "%s/events.db", c->config->state_dir);
    int rc = rn_event_store_open(c->loop, path, &c->events, err, sizeof err);
    if (rc) {
        rn_error("%s", err);
        return rc;
    }
    c->alarm_log.store = c->events;
    rn_event_store_node_acked_seq_load_all(c->events, seed_acked_seq, c);
    return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    rn_collector_t *c = server->data;
    if (status < 0) {
        rn_warn("accept: %s", rn_strerror(status));
        return;
    }
    rn_session_t *s;
    int rc = rn_session_accept(&c->ingest_host, c->tls, server, &s);
    if (rc)
        return rn_warn("accept: %s", rc < -999 ? rn_strerror(rc) : rn_strerror(rc));
    s->next = c->sessions; /* on the list until host_closed */
    if (c->sessions)
        c->sessions->prev = s;
    c->sessions = s;
    if (c->reading_paused)
        rn_session_set_reading(s, false);
}

static int listen_agents(rn_collector_t *c)
{
    struct sockaddr_storage ss;
    const char *host = c->config->listen_host;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, c->config->listen_port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, c->config->listen_port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = uv_tcp_bind(&c->server, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->server, 128, on_connection);
    if (rc)
        rn_error("listen on %s:%u: %s", host, c->config->listen_port, rn_strerror(rc));
    else
        rn_info("listening for agents on %s:%u", host, c->config->listen_port);
    return rc;
}

int rn_collector_start(rn_collector_t *c, uv_loop_t *loop, const char *config_path,
                       rn_collector_config_t *config, rn_topology_t *topo)
{
    memset(c, 0, sizeof *c);
    c->loop = loop;
    c->config = config;
    c->topo = topo;
    c->config_path = strdup(config_path);
    views_fill(c); /* pointers to the fields above and below: valid from now on */
    uv_tcp_init(loop, &c->server);
    uv_signal_init(loop, &c->sigint);
    uv_signal_init(loop, &c->sigterm);
    uv_signal_init(loop, &c->sighup);
    uv_timer_init(loop, &c->cron);
    c->server.data = c->sigint.data = c->sigterm.data = c->sighup.data = c->cron.data = c;
    c->handles_open = 5;
    uv_signal_start(&c->sigint, on_signal, SIGINT);
    uv_signal_start(&c->sigterm, on_signal, SIGTERM);
    uv_signal_start(&c->sighup, on_signal, SIGHUP);
    uv_timer_start(&c->cron, on_cron, CRON_MS, CRON_MS);
    char err[1024];
    int rc = rn_tls_ctx_new(RN_TLS_SERVER, config->tls_cert, config->tls_key, config->tls_ca,
                            &c->tls, err, sizeof err);
    if (rc) {
        rn_error("TLS: %s", err);
        return rc;
    }
    if ((rc = open_events(c)) != 0)
        return rc;
    if ((rc = rn_notifier_open(loop, &config->notify, &c->notifier)) != 0) {
        rn_error("notifier: %s", rn_strerror(rc));
        return rc;
    }
    c->handles_open++; /* until the notifier's close callback */
    rn_alarm_config_t acfg = alarm_config(topo);
    rc = rn_alarm_engine_new(topo, &acfg, on_alarm_event, c, &c->alarms);
    if (rc) {
        rn_error("alarm engine: %s", rn_strerror(rc));
        return rc;
    }
    uint64_t first_id = rn_event_store_max_alarm_id(c->events) + 1;
    rn_alarm_engine_set_next_id(c->alarms, first_id);
    /* this run's ids start here; the log sees them in publication order, not id order (a root
     * held in its settle window is published after a younger one) */
    c->alarm_log.base = first_id;
    /* the outage ledger: rows left open by a killed run are reconciled, closed ones refined */
    if ((rc = rn_alarm_log_start(&c->alarm_log, loop, &c->store, &c->topo, &c->alarms,
                                 rn_clock_wall_ms())) != 0)
        rn_warn("outage ledger not started: %s", rn_strerror(rc));
    if ((rc = rn_alarm_log_load_maintenance(c->events, &c->alarms, rn_clock_wall_ms())) != 0)
        rn_warn("maintenance windows not loaded: %s", rn_strerror(rc));
    rn_alarm_tick(c->alarms, rn_clock_wall_ms());
    if ((rc = rn_collector_assets_start(c)) != 0) /* the asset register */
        return rc;
    if ((rc = rn_collector_cctv_start(c)) != 0) /* police station cameras */
        return rc;
    rc = rn_rrd_store_new(loop, config->data_dir, &c->store);
    if (rc) {
        rn_error("data directory %s: %s", config->data_dir, rn_strerror(rc));
        return rc;
    }
    if ((rc = rn_rrd_store_set_rrdcached(c->store, config->rrdcached)) != 0)
        return rc; /* NULL: write the files directly */
    apply_steps(c);
    /* HTTP API: the latest-value cache and the server */
    if ((rc = rn_latest_new(&c->latest)) != 0)
        return rc;
    if (config->http.enabled) {
        if ((rc = rn_http_start(&c->http_view, &config->http, &c->http)) != 0)
            return rc;
        c->handles_open++; /* until rn_http_close's callback */
        rn_http_set_event_store(c->http, c->events); /* closed before the event store */
    }
    ingest_host_sync(c); /* everything sessions use is made: now they may come */
    return listen_agents(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    rn_collector_t *c = h->data;
    c->handles_open--;
    try_finish(c);
}

/* While stopping: frees what is left once the store is drained and every session closed. */
static void try_finish(rn_collector_t *c)
{
    if (!c->stopping || c->finished || !c->store_closed || !c->events_closed || c->sessions ||
        c->handles_open)
        return;
    c->finished = true;
    rn_tls_ctx_free(c->tls); /* after every session's stream is closed */
    rn_collector_assets_free(c); /* the asset register */
    rn_collector_cctv_free(c); /* police station cameras */
    if (c->alarms)
        rn_alarm_engine_free(c->alarms);
    rn_alarm_log_free(&c->alarm_log);
    rn_latest_free(c->latest); /* HTTP API */
    c->latest = NULL;
    rn_topology_free(c->topo);
    rn_collector_config_free(c->config);
    free(c->config_path);
    rn_ingest_states_free(&c->nodes);
}

static void on_notifier_closed(void *data)
{
    rn_collector_t *c = data;
    c->notifier = NULL;
    c->handles_open--;
    try_finish(c);
}

static void on_events_closed(void *data)
{
    rn_collector_t *c = data;
    c->events = NULL;
    c->alarm_log.store = NULL;
    ingest_host_sync(c);
    c->events_closed = true;
    try_finish(c);
}

/* The RRD store drained (its completions update delivery state): now the event store. */
static void on_store_closed(void *data)
{
    rn_collector_t *c = data;
    c->store = NULL;
    c->store_closed = true;
    ingest_host_sync(c);
    if (c->events)
        rn_event_store_close(c->events, on_events_closed, c); /* queued writes commit first */
    else
        on_events_closed(c);
}

/* HTTP API: the server is closed (counted in handles_open). */
static void on_http_closed(void *data)
{
    rn_collector_t *c = data;
    c->http = NULL;
    c->handles_open--;
    try_finish(c);
}

void rn_collector_stop(rn_collector_t *c)
{
    if (c->stopping)
        return;
    c->stopping = true;
    rn_notify_stopping();
    if (c->http)
        rn_http_close(c->http, on_http_closed, c); /* HTTP API */
    for (rn_session_t *s = c->sessions; s; s = s->next)
        rn_session_close(s, NULL);
    if (c->notifier)
        rn_notifier_close(c->notifier, on_notifier_closed, c); /* journal keeps what is pending */
    uv_close((uv_handle_t *)&c->server, on_handle_closed);
    uv_close((uv_handle_t *)&c->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&c->sigterm, on_handle_closed);
    uv_close((uv_handle_t *)&c->sighup, on_handle_closed);
    uv_close((uv_handle_t *)&c->cron, on_handle_closed);
    if (c->store)
        rn_rrd_store_close(c->store, on_store_closed, c); /* queued batches are written first */
    else
        on_store_closed(c);
}
