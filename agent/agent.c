/* The agent context (see agent.h): batching, delivery, plans, heartbeats. */
#include "agent.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "error.h"
#include "log.h"

#define DEFAULT_PROBE_COUNT 5

static void on_flush_timer(uv_timer_t *t);

/* Copies one sample from a poller or prober into the open batch. */
static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *values, size_t n_values,
                      uint64_t speed_bps)
{
    rn_agent_t *a = ctx;
    if (a->n_open == a->cap_open) {
        size_t cap = a->cap_open ? a->cap_open * 2 : 64;
        Rn__Sample **grown = realloc(a->open, cap * sizeof *grown);
        if (!grown)
            return rn_error("out of memory: sample of %s/%s lost", source, object);
        a->open = grown;
        a->cap_open = cap;
    }
    Rn__Sample *s = malloc(sizeof *s);
    Rn__Value *vals = calloc(n_values ? n_values : 1, sizeof *vals);
    Rn__Value **ptrs = calloc(n_values ? n_values : 1, sizeof *ptrs);
    if (!s || !vals || !ptrs) {
        free(s), free(vals), free(ptrs);
        return rn_error("out of memory: sample of %s/%s lost", source, object);
    }
    rn__sample__init(s);
    s->source = strdup(source);
    s->device = strdup(device);
    s->object = strdup(object);
    s->time_ms = time_ms;
    s->has_speed_bps = speed_bps > 0;
    s->speed_bps = speed_bps;
    for (size_t i = 0; i < n_values; i++) {
        rn__value__init(&vals[i]);
        vals[i].has_counter = values[i].kind == RN_VALUE_COUNTER;
        vals[i].counter = values[i].counter;
        vals[i].has_gauge = values[i].kind == RN_VALUE_GAUGE;
        vals[i].gauge = values[i].gauge;
        ptrs[i] = &vals[i];
    }
    s->values = ptrs;
    s->n_values = n_values;
    a->open[a->n_open++] = s;
    /* A probe round is what shows a cut: ship it on the next loop turn, not up to a flush
     * period later. The prober emits a round's samples together, so they share one batch. */
    if (strcmp(source, "icmp") == 0 || a->n_open >= RN_AGENT_MAX_BATCH_SAMPLES)
        uv_timer_start(&a->flush_timer, on_flush_timer, 0, RN_AGENT_FLUSH_MS);
}

static void free_sample(Rn__Sample *s)
{
    free(s->source);
    free(s->device);
    free(s->object);
    if (s->n_values)
        free(s->values[0]); /* the values are one array */
    free(s->values);
    free(s);
}

/* Runs the collector's own validation on a batch before it is queued: a batch the collector
 * would refuse would otherwise be resent forever and block every batch behind it. Frees buf and
 * returns the error when it fails (logged with the reason). */
static int check_own_batch(uint8_t *buf, size_t len)
{
    Rn__Frame *back;
    char why[256];
    int rc = rn_wire_decode(buf + RN_WIRE_HEADER_LEN, len - RN_WIRE_HEADER_LEN, &back, why,
                            sizeof why);
    if (rc == 0) {
        rn_wire_free(back);
        return 0;
    }
    rn_error("batch dropped: it breaks the wire protocol (%s); this is a bug, please report it",
             why);
    free(buf);
    return rc;
}

/* Closes the open batch: encodes it with the next seq, queues and sends it. */
static void flush(rn_agent_t *a)
{
    if (a->n_open == 0 || !a->delivery)
        return;
    Rn__Batch batch = RN__BATCH__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    batch.seq = rn_delivery_next_seq(a->delivery);
    batch.samples = a->open;
    batch.n_samples = a->n_open;
    f.body_case = RN__FRAME__BODY_BATCH;
    f.batch = &batch;
    uint8_t *buf;
    size_t len;
    int rc = rn_wire_encode(&f, &buf, &len);
    if (rc != 0)
        rn_error("batch of %zu samples not encoded: %s", a->n_open, rn_strerror(rc));
    else
        rc = check_own_batch(buf, len);
    if (rc == 0)
        rn_delivery_submit(a->delivery, batch.seq, buf, len); /* logs and counts its failures */
    else
        a->dropped_batches++;
    for (size_t i = 0; i < a->n_open; i++)
        free_sample(a->open[i]);
    a->n_open = 0;
}

static void on_flush_timer(uv_timer_t *t)
{
    flush(t->data);
}

/* The delivery's way out: the uplink takes ownership of the frame. */
static int send_to_uplink(void *ctx, uint8_t *frame, size_t len)
{
    rn_agent_t *a = ctx;
    return rn_uplink_send(a->uplink, frame, len);
}

static void send_frame(rn_agent_t *a, Rn__Frame *f)
{
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(f, &buf, &len) == 0)
        rn_uplink_send(a->uplink, buf, len);
}

static void on_heartbeat_timer(uv_timer_t *t)
{
    rn_agent_t *a = t->data;
    if (!rn_uplink_connected(a->uplink))
        return;
    Rn__Heartbeat hb = RN__HEARTBEAT__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    hb.wall_time_ms = rn_clock_wall_ms();
    f.body_case = RN__FRAME__BODY_HEARTBEAT;
    f.heartbeat = &hb;
    send_frame(a, &f);
}

static void on_connected(void *ctx)
{
    rn_agent_t *a = ctx;
    Rn__Hello h = RN__HELLO__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    h.node_id = a->config->node_id;
    h.agent_version = RN_AGENT_VERSION;
    h.wall_time_ms = rn_clock_wall_ms();
    h.has_next_seq = 1;
    h.next_seq = rn_delivery_next_seq(a->delivery);
    if (a->plan_digest[0])
        h.plan_digest = a->plan_digest;
    f.body_case = RN__FRAME__BODY_HELLO;
    f.hello = &h;
    send_frame(a, &f);
    if (a->delivery)
        rn_delivery_connected(a->delivery); /* replays the spool, oldest first */
}

/* Applies a plan: devices to the poller, targets to the prober; a plan from the collector is also
 * cached on disk. Unchanged plans are ignored. */
static void on_plan(rn_agent_t *a, const Rn__Plan *p, bool from_cache)
{
    if (strcmp(p->digest, a->plan_digest) == 0)
        return;
    int rc = rn_snmp_poller_set_devices(a->poller, p->devices, p->n_devices, p->poll_interval_s);
    if (rc == 0)
        rc = rn_icmp_prober_set_targets(a->prober, p->icmp, p->n_icmp, p->probe_interval_s,
                                        DEFAULT_PROBE_COUNT);
    /* service probes (agent/service_probe.h) */
    if (rc == 0 && a->services)
        rc = rn_service_prober_set_targets(a->services, p->services, p->n_services,
                                           p->probe_interval_s);
    /* VC media capture (agent/vc_quality.h): a capture that cannot open is logged and skipped */
    if (rc == 0 && a->vc)
        rn_vc_quality_set_captures(a->vc, p->captures, p->n_captures);
    if (rc) {
        rn_error("plan %.12s not applied: %s", p->digest, rn_strerror(rc));
        return;
    }
    snprintf(a->plan_digest, sizeof a->plan_digest, "%s", p->digest);
    if (a->plan_cache && !from_cache)
        rn_plan_cache_save(a->plan_cache, p);
    rn_info("plan %.12s applied: %zu devices every %u s, %zu ICMP and %zu service targets every "
            "%u s", p->digest, p->n_devices, p->poll_interval_s, p->n_icmp, p->n_services,
            p->probe_interval_s);
}

static void on_frame(void *ctx, Rn__Frame *f)
{
    rn_agent_t *a = ctx;
    switch (f->body_case) {
    case RN__FRAME__BODY_PLAN: on_plan(a, f->plan, false); break;
    case RN__FRAME__BODY_ACK:
        if (a->delivery)
            rn_delivery_acked(a->delivery, f->ack->seq);
        break;
    default: rn_warn("collector sent an unexpected frame (type %d); ignored", f->body_case); break;
    }
    rn_wire_free(f);
}

static void on_disconnected(void *ctx)
{
    rn_agent_t *a = ctx;
    if (!a->delivery)
        return;
    rn_delivery_disconnected(a->delivery);
    rn_delivery_stats_t st;
    rn_delivery_stats(a->delivery, &st);
    rn_warn("lost the collector; %" PRIu64 " bytes of batches wait in the spool", st.spool.bytes);
}

static void on_signal(uv_signal_t *h, int signum)
{
    rn_info("signal %d: shutting down", signum);
    rn_agent_stop(h->data);
}

/* Starts measuring with the last plan the collector sent, if one is cached, so an agent that
 * starts while cut off loses nothing. */
static void apply_cached_plan(rn_agent_t *a)
{
    Rn__Frame *f;
    if (rn_plan_cache_load(a->plan_cache, &f) != 0)
        return;
    rn_info("starting with the cached plan %.12s", f->plan->digest);
    on_plan(a, f->plan, true);
    rn_wire_free(f);
}

/* Opens the spool under <state_dir>/spool with the configured limits. Returns 0 or an error
 * with the reason in err. */
static int open_delivery(rn_agent_t *a, char *err, size_t err_len)
{
    const rn_agent_config_t *c = a->config;
    rn_delivery_config_t dc = { 0 };
    dc.spool.fsync = (rn_spool_fsync_t)c->spool_fsync;
    dc.spool.max_bytes = (uint64_t)c->spool_max_mb << 20;
    dc.rate_bytes_per_s = (uint64_t)c->uplink_rate_kbps * 1000 / 8;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/spool", c->state_dir);
    if (mkdir(c->state_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "state_dir %s: %s", c->state_dir, strerror(errno));
        return -errno;
    }
    return rn_delivery_open(a->loop, dir, &dc, send_to_uplink, a, &a->delivery, err, err_len);
}

int rn_agent_start(rn_agent_t *a, uv_loop_t *loop, rn_agent_config_t *config)
{
    static const rn_uplink_cbs_t cbs = { on_connected, on_frame, on_disconnected };
    memset(a, 0, sizeof *a);
    a->loop = loop;
    a->config = config;
    uv_timer_init(loop, &a->flush_timer);
    uv_timer_init(loop, &a->heartbeat_timer);
    uv_signal_init(loop, &a->sigint);
    uv_signal_init(loop, &a->sigterm);
    a->flush_timer.data = a->heartbeat_timer.data = a->sigint.data = a->sigterm.data = a;
    uv_timer_start(&a->flush_timer, on_flush_timer, RN_AGENT_FLUSH_MS, RN_AGENT_FLUSH_MS);
    uv_timer_start(&a->heartbeat_timer, on_heartbeat_timer, RN_AGENT_HEARTBEAT_MS,
                   RN_AGENT_HEARTBEAT_MS);
    uv_signal_start(&a->sigint, on_signal, SIGINT);
    uv_signal_start(&a->sigterm, on_signal, SIGTERM);
    int rc = rn_snmp_poller_new(loop, on_sample, a, &a->poller);
    if (rc == 0)
        rc = rn_icmp_prober_new(loop, on_sample, a, &a->prober);
    /* service probes: without them (libcurl failed, logged) the agent still does the rest */
    if (rc == 0 && rn_service_prober_new(loop, on_sample, a, &a->services) != 0)
        a->services = NULL;
    /* VC media capture */
    if (rc == 0 && rn_vc_quality_new(loop, on_sample, a, &a->vc) != 0)
        a->vc = NULL;
    char err[1024] = "";
    if (rc == 0)
        rc = open_delivery(a, err, sizeof err);
    if (rc == 0)
        rc = rn_plan_cache_new(loop, config->state_dir, &a->plan_cache);
    if (rc == 0)
        apply_cached_plan(a);
    if (rc == 0)
        rc = rn_uplink_new(loop, config, &cbs, a, &a->uplink, err, sizeof err);
    if (rc)
        rn_error("agent %s: cannot start: %s", config->node_id, err[0] ? err : rn_strerror(rc));
    else
        rn_info("agent %s started", config->node_id);
    return rc;
}

static void on_part_closed(void *data)
{
    rn_agent_t *a = data;
    if (--a->closing_parts > 0)
        return;
    for (size_t i = 0; i < a->n_open; i++)
        free_sample(a->open[i]);
    free(a->open);
    rn_agent_config_free(a->config);
}

static void on_handle_closed(uv_handle_t *h)
{
    on_part_closed(h->data);
}

void rn_agent_stop(rn_agent_t *a)
{
    if (a->stopping)
        return;
    a->stopping = true;
    if (a->delivery)
        flush(a);
    a->closing_parts = 4 + !!a->poller + !!a->prober + !!a->uplink + !!a->delivery +
                       !!a->plan_cache + !!a->services + !!a->vc /* VC media capture */;
    uv_close((uv_handle_t *)&a->flush_timer, on_handle_closed);
    uv_close((uv_handle_t *)&a->heartbeat_timer, on_handle_closed);
    uv_close((uv_handle_t *)&a->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&a->sigterm, on_handle_closed);
    if (a->poller)
        rn_snmp_poller_close(a->poller, on_part_closed, a);
    if (a->prober)
        rn_icmp_prober_close(a->prober, on_part_closed, a);
    if (a->services) /* service probes */
        rn_service_prober_close(a->services, on_part_closed, a);
    if (a->vc) /* VC media capture */
        rn_vc_quality_close(a->vc, on_part_closed, a);
    if (a->uplink)
        rn_uplink_close(a->uplink, on_part_closed, a);
    if (a->plan_cache)
        rn_plan_cache_close(a->plan_cache, on_part_closed, a);
    a->plan_cache = NULL;
    rn_delivery_t *d = a->delivery;
    a->delivery = NULL; /* the uplink may call back while closing */
    if (d)
        rn_delivery_close(d, on_part_closed, a); /* queued spool writes finish first */
}
