/* The agent context (see agent.h): batching, delivery, plans. */
#include "agent.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "notify_systemd.h" /* readiness for systemd (Type=notify) */
#include "privs.h"
#include "sources.h"
#include "inventory_box.h" /* the asset register: last inventory per device */

#define DEFAULT_PROBE_COUNT 5
/* Replay joins up to this many bytes of batches into one send, which the uplink compresses as
 * one (delivery.h). Measured on a block agent's spool (probe rounds, interface polls): 3.5x at
 * 16 KiB, 3.7x at 32 KiB, 3.8x at 64 KiB, 3.9x for the whole stream; at 64 KiB a send is ~17 KB
 * on the wire, ~2 s of a 64 kbit/s link, which is as long as we let a heartbeat queue behind it
 * (the dead-session limit is 15 s). */
#define COALESCE_BYTES (64u << 10)
/* Newest batches also kept in memory (delivery.h): when connected and caught up each one is sent
 * as it is closed and leaves memory at once, so this only fills while the uplink is down or its
 * window is full, and a reconnect replays from the spool on disk anyway. 256 KiB holds 2-3 s of
 * a 50-device agent's batches; the 1 MiB default was a quarter of its peak RSS
 * (tests/bench/README.md, "Agent footprint"). */
#define MEMORY_BYTES (256u << 10)

static void on_flush_timer(uv_timer_t *t);

/* Returns the KiB queued on the uplink that the collector has not taken yet, 0 when none or
 * not connected. */
static size_t queued_kib(const rn_agent_t *a)
{
    if (!a->uplink || !rn_uplink_connected(a->uplink))
        return 0;
    return (rn_uplink_pending_bytes(a->uplink) + 1023) / 1024;
}

/* systemd's STATUS= line (with READY=1 when ready): the plan running, the uplink's state and
 * what is queued on it (a slow or stalled link shows here before the spool grows). */
static void notify_status(rn_agent_t *a, bool ready)
{
    char link[96];
    a->status_queued_kib = queued_kib(a);
    if (!a->uplink || !rn_uplink_connected(a->uplink))
        snprintf(link, sizeof link, "no collector connected");
    else if (a->status_queued_kib)
        snprintf(link, sizeof link, "connected to a collector, %zu KiB queued to it",
                 a->status_queued_kib);
    else
        snprintf(link, sizeof link, "connected to a collector");
    if (!a->plan_digest[0] && ready)
        rn_notify_ready("no plan yet, %s", link);
    else if (!a->plan_digest[0])
        rn_notify_status("no plan yet, %s", link);
    else if (ready)
        rn_notify_ready("plan %.12s, %s", a->plan_digest, link);
    else
        rn_notify_status("plan %.12s, %s", a->plan_digest, link);
}

/* Copies one sample from the poller into the open batch; node is its device's node when that is
 * an agentless child's (Sample.node), NULL for our own. */
static void on_node_sample(void *ctx, const char *node, const char *source, const char *device,
                           const char *object, int64_t time_ms, const rn_value_t *values,
                           size_t n_values, uint64_t speed_bps)
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
    s->node = node ? strdup(node) : NULL;
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
    if (strcmp(source, RN_SRC_ICMP) == 0 || a->n_open >= RN_AGENT_MAX_BATCH_SAMPLES)
        uv_timer_start(&a->flush_timer, on_flush_timer, 0, RN_AGENT_FLUSH_MS);
}

/* Copies one sample from a prober (or the poller, for our own node) into the open batch. */
static void on_sample(void *ctx, const char *source, const char *device, const char *object,
                      int64_t time_ms, const rn_value_t *values, size_t n_values,
                      uint64_t speed_bps)
{
    on_node_sample(ctx, NULL, source, device, object, time_ms, values, n_values, speed_bps);
}

static void free_sample(Rn__Sample *s)
{
    free(s->source);
    free(s->device);
    free(s->object);
    free(s->node);
    if (s->n_values)
        free(s->values[0]); /* the values are one array */
    free(s->values);
    free(s);
}

/* Runs the collector's own validation on a batch before it is queued: a batch the collector
 * would refuse would otherwise be resent forever and block every batch behind it. The checks run
 * on the frame we encoded, not on a decoded copy of it (the largest allocation of the agent at 50
 * devices; tests/bench/README.md, "Agent footprint"). Frees buf and returns the error when it
 * fails (logged with the reason). */
static int check_own_batch(const Rn__Frame *f, uint8_t *buf, size_t len)
{
    char why[256];
    int rc = rn_wire_check(f, buf + RN_WIRE_HEADER_LEN, len - RN_WIRE_HEADER_LEN, why, sizeof why);
    if (rc == 0)
        return 0;
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
        rc = check_own_batch(&f, buf, len);
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
    rn_agent_t *a = t->data;
    flush(a);
    if (!a->stopping && queued_kib(a) != a->status_queued_kib) /* a datagram a second at most */
        notify_status(a, false);
}

/* The delivery's way out: the uplink takes ownership of the frames and may compress them. */
static int send_to_uplink(void *ctx, uint8_t *frame, size_t len, size_t *wire_len)
{
    rn_agent_t *a = ctx;
    if (!a->uplink) { /* never expected: the uplink is only replaced between two loop turns */
        free(frame);
        return -ENOTCONN;
    }
    return rn_uplink_send_frames(a->uplink, frame, len, wire_len);
}

static void send_frame(rn_agent_t *a, Rn__Frame *f)
{
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(f, &buf, &len) == 0)
        rn_uplink_send(a->uplink, buf, len);
}

static void on_connected(void *ctx)
{
    rn_agent_t *a = ctx;
    Rn__Hello h = RN__HELLO__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    h.node_id = a->config->node_id;
    h.agent_version = RN_AGENT_VERSION;
    h.wall_time_ms = rn_clock_wall_ms();
    h.has_next_seq = a->delivery != NULL; /* NULL only while a reload reopens the spool */
    h.next_seq = a->delivery ? rn_delivery_next_seq(a->delivery) : 0;
    if (a->plan_digest[0])
        h.plan_digest = a->plan_digest;
    f.body_case = RN__FRAME__BODY_HELLO;
    f.hello = &h;
    send_frame(a, &f);
    notify_status(a, false);
}

/* The inventory box's way out (agent/inventory_box.h). */
static int send_inventory(void *ctx, uint8_t *buf, size_t len)
{
    rn_agent_t *a = ctx;
    return rn_uplink_send(a->uplink, buf, len);
}

/* True if inventories may go out now: a collector that said it reads them. */
static bool inventory_wanted(const rn_agent_t *a)
{
    return a->uplink && rn_uplink_ready(a->uplink) &&
           (rn_uplink_peer_codings(a->uplink) & RN_WIRE_CODING_INVENTORY);
}

/* A device's inventory walk (agent/snmp_inventory.h): kept, and sent at once if it can be. */
static void on_inventory(void *ctx, const Rn__Inventory *msg)
{
    rn_agent_t *a = ctx;
    int rc = rn_inventory_box_put(a->inventories, msg);
    if (rc) {
        rn_warn("device %s: inventory not kept: %s", msg->device, rn_strerror(rc));
        return;
    }
    rn_info("device %s%s%s: inventory of %zu entities", msg->node ? msg->node : "",
            msg->node ? "/" : "", msg->device, msg->n_entities);
    if (inventory_wanted(a))
        rn_inventory_box_send_one(a->inventories, msg->node, msg->device, send_inventory, a);
}

/* The collector answered (uplink.h): replay the spool, oldest first, then the live batches. */
static void on_uplink_ready(void *ctx)
{
    rn_agent_t *a = ctx;
    if (inventory_wanted(a)) /* the latest of every device, again on every connection */
        rn_inventory_box_send_all(a->inventories, send_inventory, a);
    if (a->delivery)
        rn_delivery_connected(a->delivery);
}

/* Gives up CAP_NET_RAW once the first plan is applied: the ICMP sockets (opened at start) and
 * the plan's captures are open by then, and nothing else needs it (privs.h). */
static void drop_privileges(rn_agent_t *a)
{
    int rc = rn_privs_drop_net_raw();
    if (rc < 0)
        rn_warn("cannot give up CAP_NET_RAW: %s; keeping it", rn_strerror(rc));
    else if (rc == 1)
        rn_info("gave up CAP_NET_RAW: the ICMP sockets and %zu VC captures are open",
                a->vc ? rn_vc_quality_running(a->vc) : 0);
    a->net_raw_dropped = rc == 1;
}

/* A capture that could not open for want of CAP_NET_RAW, after the agent gave it up, needs a
 * restart: we chose restarting over keeping the capability for the agent's whole life, since a
 * capture parses whatever the network sends. The plan is cached by now (a save running at the
 * stop finishes first), so the restarted agent opens the capture before it drops the capability
 * again; systemd restarts it (Restart=on-failure, RN_AGENT_EXIT_RESTART). */
static void check_captures(rn_agent_t *a, int capture_rc)
{
    if (capture_rc != -EPERM || !a->net_raw_dropped || a->stopping)
        return;
    rn_error("plan %.12s: a new VC capture needs CAP_NET_RAW, given up after the first plan: "
             "restarting the agent (exit %d)", a->plan_digest, RN_AGENT_EXIT_RESTART);
    a->exit_status = RN_AGENT_EXIT_RESTART;
    rn_agent_stop(a);
}

/* Applies a plan: devices to the poller, targets to the prober; a plan from the collector is also
 * cached on disk. Unchanged plans are ignored. */
static void on_plan(rn_agent_t *a, const Rn__Plan *p, bool from_cache)
{
    if (strcmp(p->digest, a->plan_digest) == 0)
        return;
    /* our devices and our agentless children's */
    int rc = rn_snmp_poller_set_plan(a->poller, p, p->poll_interval_s);
    if (rc == 0)
        rc = rn_icmp_prober_set_targets(a->prober, p->icmp, p->n_icmp, p->probe_interval_s,
                                        DEFAULT_PROBE_COUNT);
    /* service probes (agent/service_probe.h) */
    if (rc == 0 && a->services)
        rc = rn_service_prober_set_targets(a->services, p->services, p->n_services,
                                           p->probe_interval_s);
    /* VC media capture (agent/vc_quality.h): a capture that cannot open is logged and skipped */
    int capture_rc = 0;
    if (rc == 0 && a->vc)
        capture_rc = rn_vc_quality_set_captures(a->vc, p->captures, p->n_captures);
    if (rc == 0 && a->echo) { /* UDP echo between agents (agent/udp_echo.h) */
        /* peers know us by our first device's address (collector/ingest/plan.c): ask from it */
        rn_udp_echo_set_source(a->echo, p->n_devices ? p->devices[0]->addr : NULL);
        rc = rn_udp_echo_set_peers(a->echo, p->echo, p->n_echo, p->probe_interval_s,
                                   DEFAULT_PROBE_COUNT);
    }
    if (rc == 0 && a->cameras) /* police station cameras (agent/rtsp_probe.h) */
        rc = rn_rtsp_prober_set_cameras(a->cameras, p->cameras, p->n_cameras,
                                        p->probe_interval_s);
    if (rc == 0 && a->recordings) { /* their recording streams: as a VC capture that fails */
        int rec_rc = rn_vc_quality_set_captures(a->recordings, p->recordings, p->n_recordings);
        capture_rc = capture_rc ? capture_rc : rec_rc;
    }
    if (rc) {
        rn_error("plan %.12s not applied: %s", p->digest, rn_strerror(rc));
        return;
    }
    bool first = a->plan_digest[0] == '\0';
    snprintf(a->plan_digest, sizeof a->plan_digest, "%s", p->digest);
    if (a->plan_cache && !from_cache)
        rn_plan_cache_save(a->plan_cache, p);
    rn_info("plan %.12s applied: %zu devices (%zu of agentless children) every %u s, %zu ICMP and "
            "%zu service targets every %u s", p->digest, p->n_devices + p->n_child_devices,
            p->n_child_devices, p->poll_interval_s, p->n_icmp, p->n_services,
            p->probe_interval_s);
    if (first)
        drop_privileges(a);
    notify_status(a, false);
    check_captures(a, capture_rc);
}

static void on_frame(void *ctx, Rn__Frame *f)
{
    rn_agent_t *a = ctx;
    switch (f->body_case) {
    case RN__FRAME__BODY_PLAN: on_plan(a, f->plan, false); break;
    case RN__FRAME__BODY_ACK:
        if (a->delivery)
            rn_delivery_acked(a->delivery, f->ack->seq);
        else if (a->delivery_reopening && f->ack->seq > a->reopen_acked)
            a->reopen_acked = f->ack->seq; /* handed to the reopened delivery */
        break;
    default: rn_warn("collector sent an unexpected frame (type %d); ignored", f->body_case); break;
    }
    rn_wire_free(f);
}

static void replace_uplink(rn_agent_t *a);

static void on_disconnected(void *ctx)
{
    rn_agent_t *a = ctx;
    if (!a->stopping)
        notify_status(a, false);
    if (a->uplink_stale && !a->stopping) /* a reload read new TLS files: use them now */
        replace_uplink(a);
    if (!a->delivery)
        return;
    rn_delivery_disconnected(a->delivery);
    rn_delivery_stats_t st;
    rn_delivery_stats(a->delivery, &st);
    rn_warn("lost the collector; %" PRIu64 " bytes of batches wait in the spool", st.spool.bytes);
}

static void reload(rn_agent_t *a);

static void on_signal(uv_signal_t *h, int signum)
{
    if (signum == SIGHUP) {
        rn_notify_reloading();
        if (((rn_agent_t *)h->data)->poller) /* the asset register: walk inventories again */
            rn_snmp_poller_refresh_inventory(((rn_agent_t *)h->data)->poller);
        reload(h->data);
        /* Done, applied or refused (the old configuration runs on); a spool reopen it started
         * finishes on its own. Not while stopping: STOPPING=1 was sent. */
        if (!((rn_agent_t *)h->data)->stopping)
            notify_status(h->data, true);
        return;
    }
    rn_info("signal %d: shutting down", signum);
    rn_agent_stop(h->data);
}

static const rn_uplink_cbs_t uplink_cbs = { on_connected, on_frame, on_disconnected,
                                             on_uplink_ready };

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
    dc.coalesce_bytes = COALESCE_BYTES;
    dc.memory_bytes = MEMORY_BYTES;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/spool", c->state_dir);
    if (mkdir(c->state_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "state_dir %s: %s", c->state_dir, rn_strerror(-errno));
        return -errno;
    }
    return rn_delivery_open(a->loop, dir, &dc, send_to_uplink, a, &a->delivery, err, err_len);
}

/* ---- reload (SIGHUP) ----------------------------------------------------------------------- */

static void on_part_closed(void *data);

static void on_retired_uplink_closed(void *config)
{
    rn_agent_config_free(config); /* NULL when the retired uplink borrowed the current config */
}

/* Replaces the uplink with one made from the current config (new TLS context, collectors);
 * the new one connects at once. If it cannot be made the old one stays. */
static void replace_uplink(rn_agent_t *a)
{
    rn_uplink_t *fresh;
    char err[1024];
    if (rn_uplink_new(a->loop, a->config, &uplink_cbs, a, &fresh, err, sizeof err) != 0) {
        rn_error("reload: keeping the current collector connection: %s", err);
        return;
    }
    rn_uplink_t *old = a->uplink;
    rn_agent_config_t *retired = a->uplink_config != a->config ? a->uplink_config : NULL;
    a->uplink = fresh;
    a->uplink_config = a->config;
    a->uplink_stale = false;
    rn_uplink_close(old, on_retired_uplink_closed, retired); /* may call on_disconnected */
}

/* The old spool is closed (its queued writes done): open it again with the new limits. */
static void on_spool_closed_for_reload(void *data)
{
    rn_agent_t *a = data;
    a->delivery_reopening = false;
    if (a->stopping) {
        on_part_closed(a);
        return;
    }
    char err[1024] = "";
    int rc = open_delivery(a, err, sizeof err);
    if (rc) {
        rn_error("reload: cannot reopen the spool: %s; stopping", err[0] ? err : rn_strerror(rc));
        a->exit_status = 1;
        return rn_agent_stop(a);
    }
    rn_info("reload: spool reopened (spool_fsync, spool_max_mb, uplink_rate_kbps applied)");
    if (a->reopen_acked) /* acks of the old delivery and those that came meanwhile */
        rn_delivery_acked(a->delivery, a->reopen_acked);
    a->reopen_acked = 0;
    if (a->uplink && rn_uplink_ready(a->uplink))
        rn_delivery_connected(a->delivery); /* resends what is unacked; duplicates are dropped */
    flush(a);
}

/* Closes the delivery and reopens it with the current config. Samples gather in the open batch
 * meanwhile; the spool on disk is kept as it is, and the close leaves its index, so the reopen
 * does not read it all again (spool.h). Acks are kept across: those the old delivery had and
 * those that arrive while it closes. */
static void reopen_delivery(rn_agent_t *a)
{
    if (a->delivery_reopening || !a->delivery)
        return; /* the reopen under way reads the current config */
    flush(a);
    rn_delivery_t *d = a->delivery;
    rn_delivery_stats_t st;
    rn_delivery_stats(d, &st);
    a->reopen_acked = st.acked_seq;
    a->delivery = NULL;
    a->delivery_reopening = true;
    rn_delivery_close(d, on_spool_closed_for_reload, a);
}

/* Tries again the captures of set vq (the VC captures or the recording streams) that are not
 * running, while the agent still holds CAP_NET_RAW; without it only says so. */
static void retry_captures(rn_agent_t *a, rn_vc_quality_t *vq, Rn__Capture *const *caps, size_t n,
                           const char *what)
{
    size_t running = vq ? rn_vc_quality_running(vq) : 0;
    if (!vq || running >= n)
        return;
    if (!a->net_raw_dropped)
        rn_vc_quality_set_captures(vq, caps, n); /* logs failures */
    else
        rn_warn("reload: %zu of %zu %s are not running (see the log at the plan); opening them "
                "needs CAP_NET_RAW: restart the agent", n - running, n, what);
}

/* Re-applies the cached plan: a plan not yet running is applied; when the cache holds the
 * running plan, its captures and recording streams that are not running are tried again while
 * the agent still holds CAP_NET_RAW. Without it a retry could not tell a missing interface from
 * the missing capability, and a restart on every reload would not help a missing interface: it
 * is only logged. A cache older than the running plan (its save still under way) is left
 * alone. */
static void reapply_cached_plan(rn_agent_t *a)
{
    Rn__Frame *f;
    if (!a->plan_cache || rn_plan_cache_load(a->plan_cache, &f) != 0)
        return;
    const Rn__Plan *p = f->plan;
    if (!a->plan_digest[0]) {
        on_plan(a, p, true);
    } else if (strcmp(p->digest, a->plan_digest) == 0) {
        retry_captures(a, a->vc, p->captures, p->n_captures, "VC captures");
        retry_captures(a, a->recordings, p->recordings, p->n_recordings, "recording captures");
    }
    rn_wire_free(f);
}

/* Keeps node, state_dir and udp_echo_port of the running config in next (they need a restart),
 * saying so. */
static void keep_fixed(const char *path, rn_agent_config_t *cur, rn_agent_config_t *next)
{
    if (strcmp(cur->node_id, next->node_id) != 0)
        rn_warn("reload: %s: node %s needs a restart; still %s", path, next->node_id,
                cur->node_id);
    if (strcmp(cur->state_dir, next->state_dir) != 0)
        rn_warn("reload: %s: state_dir %s needs a restart; still %s", path, next->state_dir,
                cur->state_dir);
    if (cur->udp_echo_port != next->udp_echo_port) /* the reflector has no live rebind */
        rn_warn("reload: %s: udp_echo_port %u needs a restart; still %u", path,
                next->udp_echo_port, cur->udp_echo_port);
    next->udp_echo_port = cur->udp_echo_port;
    char *t = next->node_id;
    next->node_id = cur->node_id;
    cur->node_id = t;
    t = next->state_dir;
    next->state_dir = cur->state_dir;
    cur->state_dir = t;
}

static void reload(rn_agent_t *a)
{
    static const char *const level_names[] = { "error", "warn", "info", "debug" };
    const char *path = a->opts.config_path;
    char err[1024] = "", tls_err[900] = "";
    rn_agent_config_t *next;
    if (a->stopping || !path)
        return;
    int rc = rn_agent_config_load(path, &next, err, sizeof err); /* err: "file:line: ..." */
    if (rc == 0 && (rc = rn_agent_config_check_tls(next, tls_err, sizeof tls_err)) != 0) {
        snprintf(err, sizeof err, "%s: %s", path, tls_err);
        rn_agent_config_free(next);
    }
    if (rc) {
        rn_error("reload: keeping the running configuration: %s", err);
        return;
    }
    rn_agent_config_t *cur = a->config;
    keep_fixed(path, cur, next);
    a->config = next;
    if (next->log_level != cur->log_level && !a->opts.log_verbose)
        rn_log_open("rajnet-agent", next->log_level, a->opts.log_syslog);
    bool spool_changed = next->spool_fsync != cur->spool_fsync ||
                         next->spool_max_mb != cur->spool_max_mb ||
                         next->uplink_rate_kbps != cur->uplink_rate_kbps;
    bool collectors_changed = !rn_agent_config_same_collectors(cur, next);
    if (cur != a->uplink_config)
        rn_agent_config_free(cur); /* nothing borrows it */
    if (spool_changed)
        reopen_delivery(a);
    if (a->services) /* HTTPS probes' CA: from the next round on */
        rn_service_prober_set_ca(a->services, next->service_ca);
    /* TLS files are read again either way (a certificate renewed in place): the new context
     * serves the next connection; a changed collector list is dialled now. */
    a->uplink_stale = true;
    if (collectors_changed || !rn_uplink_connected(a->uplink))
        replace_uplink(a);
    reapply_cached_plan(a);
    rn_info("reload: %s applied (log_level %s%s%s)", path,
            level_names[next->log_level],
            spool_changed ? ", spool settings" : "",
            collectors_changed ? ", new collectors: reconnecting" : "");
}

int rn_agent_start(rn_agent_t *a, uv_loop_t *loop, rn_agent_config_t *config,
                   const rn_agent_opts_t *opts)
{
    memset(a, 0, sizeof *a);
    a->loop = loop;
    a->config = a->uplink_config = config;
    a->opts = *opts;
    uv_timer_init(loop, &a->flush_timer);
    uv_signal_init(loop, &a->sigint);
    uv_signal_init(loop, &a->sigterm);
    uv_signal_init(loop, &a->sighup);
    a->flush_timer.data = a->sigint.data = a->sigterm.data = a; /* heartbeats: uplink.h */
    a->sighup.data = a;
    uv_timer_start(&a->flush_timer, on_flush_timer, RN_AGENT_FLUSH_MS, RN_AGENT_FLUSH_MS);
    uv_signal_start(&a->sigint, on_signal, SIGINT);
    uv_signal_start(&a->sigterm, on_signal, SIGTERM);
    uv_signal_start(&a->sighup, on_signal, SIGHUP);
    int rc = rn_snmp_poller_new(loop, on_node_sample, a, &a->poller);
    if (rc == 0 && !(a->inventories = rn_inventory_box_new()))
        rc = -ENOMEM;
    if (rc == 0) /* the asset register's inventory walks */
        rn_snmp_poller_set_inventory(a->poller, on_inventory, a);
    if (rc == 0)
        rc = rn_icmp_prober_new(loop, on_sample, a, &a->prober);
    /* service probes: without them (libcurl failed, logged) the agent still does the rest */
    if (rc == 0 && rn_service_prober_new(loop, on_sample, a, &a->services) != 0)
        a->services = NULL;
    if (a->services && config->service_ca) /* a private CA for HTTPS services */
        rc = rn_service_prober_set_ca(a->services, config->service_ca);
    /* VC media capture */
    if (rc == 0 && rn_vc_quality_new(loop, on_sample, a, &a->vc) != 0)
        a->vc = NULL;
    /* UDP echo between agents: the reflector is optional (port 0, or its port taken: logged) */
    if (rc == 0 && rn_udp_echo_new(loop, on_sample, a, &a->echo) != 0)
        a->echo = NULL;
    if (rc == 0 && rn_rtsp_prober_new(loop, on_node_sample, a, &a->cameras) != 0)
        a->cameras = NULL; /* police station cameras */
    if (rc == 0 && rn_vc_quality_new_recording(loop, on_sample, a, &a->recordings) != 0)
        a->recordings = NULL; /* their recording streams */
    if (a->echo && config->udp_echo_port)
        rn_udp_echo_reflect(a->echo, NULL, (uint16_t)config->udp_echo_port);
    char err[1024] = "";
    if (rc == 0)
        rc = open_delivery(a, err, sizeof err);
    if (rc == 0)
        rc = rn_plan_cache_new(loop, config->state_dir, &a->plan_cache);
    if (rc == 0)
        apply_cached_plan(a);
    if (rc == 0)
        rc = rn_uplink_new(loop, config, &uplink_cbs, a, &a->uplink, err, sizeof err);
    if (rc)
        rn_error("agent %s: cannot start: %s", config->node_id, err[0] ? err : rn_strerror(rc));
    else
        rn_info("agent %s started", config->node_id);
    /* Ready: the spool takes samples, a cached plan is measuring, the first connection attempt
     * is under way. Not waiting for a collector is on purpose: a node cut off at boot must
     * measure and spool, not fail its start (rajnet-agent(8), READINESS). */
    if (rc == 0)
        notify_status(a, true);
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
    if (a->uplink_config != a->config)
        rn_agent_config_free(a->uplink_config);
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
    rn_notify_stopping();
    if (a->delivery)
        flush(a);
    a->closing_parts = 4 + a->delivery_reopening + !!a->poller + !!a->prober + !!a->uplink +
                       !!a->delivery + !!a->plan_cache + !!a->services + !!a->vc /* VC media capture */;
    uv_close((uv_handle_t *)&a->flush_timer, on_handle_closed);
    uv_close((uv_handle_t *)&a->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&a->sigterm, on_handle_closed);
    uv_close((uv_handle_t *)&a->sighup, on_handle_closed);
    if (a->poller) {
        rn_snmp_poller_set_inventory(a->poller, NULL, NULL);
        rn_snmp_poller_close(a->poller, on_part_closed, a);
    }
    rn_inventory_box_free(a->inventories);
    a->inventories = NULL;
    if (a->prober)
        rn_icmp_prober_close(a->prober, on_part_closed, a);
    if (a->services) /* service probes */
        rn_service_prober_close(a->services, on_part_closed, a);
    if (a->vc) /* VC media capture */
        rn_vc_quality_close(a->vc, on_part_closed, a);
    if (a->echo) { /* UDP echo between agents */
        a->closing_parts++;
        rn_udp_echo_close(a->echo, on_part_closed, a);
    }
    if (a->cameras) { /* police station cameras */
        a->closing_parts++;
        rn_rtsp_prober_close(a->cameras, on_part_closed, a);
    }
    if (a->recordings) { /* their recording streams */
        a->closing_parts++;
        rn_vc_quality_close(a->recordings, on_part_closed, a);
    }
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
