/* Agent sessions (see session.h). Every frame from an agent passes rn_wire_decode before it is
 * looked at; a malformed frame closes the connection with the reason logged and the peer named. */
#include "ingest/session.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "ingest/ingest.h"
#include "ingest/plan.h"
#include "log.h"
#include "metrics.h"
#include "series/latest.h" /* HTTP API */
#include "sources.h"

/* The monotonic clock in ms: timeouts and log rate limits (a wall clock step must not move
 * them); the wall clock is only for stamps compared with the agents'. */
static int64_t mono_ms(void)
{
    return (int64_t)(rn_clock_mono_ns() / 1000000);
}

/* A batch on its way to the RRD store; the node state outlives any session. The samples of an
 * agentless child go to the store as parts of their own (under the child's id); the batch is
 * done, and acked, once every part is. */
typedef struct {
    const rn_ingest_host_t *host;
    rn_node_state_t *node;
    uint64_t seq;
    size_t samples;
    unsigned parts;            /* store writes not yet called back */
    int status;                /* the first failure among them */
    rn_rrd_result_t result;    /* summed over the parts */
} pending_batch_t;

/* The samples of one agentless child in a batch (Sample.node), split off to be stored and
 * observed under the child's id. */
typedef struct {
    const char *node;          /* the child's id, borrowed from the topology */
    Rn__Frame *frame;          /* owned: a batch frame of its own */
    size_t room;               /* its samples in the batch */
} child_part_t;

static void on_closed(void *data)
{
    rn_session_t *s = data;
    rn_wire_reader_free(&s->reader);
    s->host->ops->closed(s->host->ctx, s); /* off the context's list */
    free(s);
}

void rn_session_close(rn_session_t *s, const char *why)
{
    if (s->closing)
        return;
    s->closing = true;
    if (why)
        rn_warn("agent %s (%s): closing: %s", s->node ? s->node->id : "?", s->peer, why);
    if (s->node && s->node->session == s)
        s->node->session = NULL;
    rn_tls_stream_close(s->tls, on_closed, s);
}

void rn_session_send(rn_session_t *s, uint8_t *buf, size_t len)
{
    int rc = s->closing ? 0 : rn_tls_stream_write(s->tls, buf, len);
    free(buf); /* the stream copies */
    if (rc)
        rn_session_close(s, "write failed");
}

static void send_ack(rn_session_t *s, uint64_t seq)
{
    Rn__Ack ack = RN__ACK__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    ack.seq = seq;
    f.body_case = RN__FRAME__BODY_ACK;
    f.ack = &ack;
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(&f, &buf, &len) == 0)
        rn_session_send(s, buf, len);
}

void rn_session_send_plan(rn_session_t *s)
{
    uint8_t *buf;
    size_t len;
    char digest[65];
    int rc = rn_plan_encode(s->host->topo, s->node->id, &buf, &len, digest);
    if (rc) {
        rn_session_close(s, rc == -ENOENT ? "node is no longer in the topology"
                                          : "cannot build its plan");
        return;
    }
    rn_debug("agent %s: plan %.12s sent", s->node->id, digest);
    rn_session_send(s, buf, len);
}

/* Handles hello: the node must be in the topology; takes the node over from an older session. */
static void on_hello(rn_session_t *s, const Rn__Hello *hello)
{
    const rn_ingest_host_t *h = s->host;
    if (s->node)
        return rn_session_close(s, "second hello on one connection");
    const char *cn = rn_tls_stream_peer_cn(s->tls);
    if (!cn || strcmp(cn, hello->node_id) != 0) {
        rn_warn("agent %s: refused: certificate is for '%s' but hello speaks for '%s'", s->peer,
                cn ? cn : "?", hello->node_id);
        return rn_session_close(s, NULL);
    }
    if (!rn_topology_node(h->topo, hello->node_id)) {
        rn_warn("agent %s: refused: node '%s' is not in the topology", s->peer, hello->node_id);
        return rn_session_close(s, NULL);
    }
    rn_node_state_t *n = h->ops->node(h->ctx, hello->node_id);
    if (!n)
        return rn_session_close(s, "out of memory");
    if (n->session)
        rn_session_close(n->session, "replaced by a new connection from the same node");
    n->session = s;
    s->node = n;
    int64_t skew_ms = hello->wall_time_ms - rn_clock_wall_ms(); /* wall against wall */
    if (llabs(skew_ms) > (int64_t)h->max_clock_skew_s * 1000)
        rn_warn("agent %s (%s): clock is %+.1f s off the collector's", n->id, s->peer,
                (double)skew_ms / 1000.0);
    rn_info("agent %s connected from %s (version %s, next batch %" PRIu64 ")", n->id, s->peer,
            hello->agent_version, hello->has_next_seq ? hello->next_seq : 0);
    /* An agent that numbers its next batch at or below what is stored here has lost its spool
     * directory (or is older than the next_seq file and started with its clock behind): its new
     * batches would be taken for duplicates. The ack below, above its next seq, resyncs it: it
     * numbers on above the ack, logging and counting what it gives up (agent/delivery.h). */
    if (hello->has_next_seq && n->acked_seq && hello->next_seq <= n->acked_seq)
        rn_warn("agent %s (%s): numbers its next batch %" PRIu64 " but batches up to %" PRIu64
                " are stored already: acking %" PRIu64 " so that it continues above (an agent "
                "without a next_seq file skips its batches until it passes it)", n->id, s->peer,
                hello->next_seq, n->acked_seq, n->acked_seq);
    rn_session_send_plan(s);
    /* Tell the agent at once what is already stored, so it can drop those batches. */
    if (n->acked_seq)
        send_ack(s, n->acked_seq);
}

static void on_batch_stored(void *data, int status, const rn_rrd_result_t *part)
{
    pending_batch_t *p = data;
    rn_node_state_t *n = p->node;
    if (status && !p->status)
        p->status = status;
    p->result.written += part->written;
    p->result.too_old += part->too_old;
    p->result.failed += part->failed;
    if (--p->parts > 0)
        return;
    const rn_rrd_result_t *r = &p->result;
    status = p->status;
    if (status == 0) {
        /* Only a contiguous prefix: a failed batch before this one holds the ack until its
         * resend is stored (ingest.h). */
        uint64_t acked = rn_ingest_ack_stored(&n->ingest, n->acked_seq, p->seq);
        if (acked > n->acked_seq) {
            n->acked_seq = acked;
            if (p->host->events)
                rn_event_store_node_acked_seq_set(p->host->events, n->id, n->acked_seq);
        }
        n->batches++;
        n->samples += r->written;
        n->too_old += r->too_old;
        n->failed += r->failed;
        if (r->failed)
            rn_error("node %s: batch %" PRIu64 ": %u samples could not be written (%" PRIu64
                     " so far; see the RRD errors above)", n->id, p->seq, r->failed, n->failed);
        if (r->too_old)
            rn_warn("node %s: batch %" PRIu64 ": %u samples older than their RRD file's last "
                    "update (%" PRIu64 " so far)", n->id, p->seq, r->too_old, n->too_old);
        if (n->session)
            send_ack(n->session, n->acked_seq);
    } else {
        /* Not stored: unwind so the agent's resend is written, and drop its connection so
         * it resends soon. A full disk refuses every resend until there is room: one line per
         * 10 s per node, with the count. */
        rn_ingest_node_t *g = &n->ingest;
        int64_t now = mono_ms();
        bool say = now - g->refused_logged_ms >= 10000;
        g->refused++;
        if (say) {
            rn_error("node %s: batch %" PRIu64 " not stored: %s (not acked: its agent sends it "
                     "again; %" PRIu64 " batches refused since the last line)", n->id, p->seq,
                     rn_strerror(status), g->refused - g->refused_at_log);
            g->refused_logged_ms = now;
            g->refused_at_log = g->refused;
        }
        if (n->submitted_seq >= p->seq)
            n->submitted_seq = p->seq - 1;
        if (n->session)
            rn_session_close(n->session, say ? "storage failed" : NULL);
    }
    n->in_store--;
    bool may_read = p->host->ops->backpressure(p->host->ctx, n);
    if (n->session)
        rn_session_set_reading(n->session, may_read);
    free(p);
}

/* A sample's value i as a double; NAN when unknown or absent. */
static double value_of(const Rn__Sample *s, size_t i)
{
    if (i >= s->n_values)
        return NAN;
    const Rn__Value *v = s->values[i];
    return v->has_gauge ? v->gauge : v->has_counter ? (double)v->counter : NAN;
}

/* One service's checks in one probe round: reachable when every target of it (each TCP port,
 * the health URL) answered. A round's samples share its start time. */
typedef struct {
    const char *service;
    int64_t t;
    bool up;
} svc_round_t;

#define SVC_ROUNDS_MAX 64

/* Hands a batch's service checks ("tcp" and "http" samples) to the alarm engine as node's, one
 * observation per service and round, and the certificate expiry of HTTPS checks. */
static void observe_services(rn_session_t *s, const char *node, const Rn__Batch *b)
{
    rn_alarm_engine_t *e = s->host->alarms;
    svc_round_t r[SVC_ROUNDS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < b->n_samples; i++) {
        const Rn__Sample *x = b->samples[i];
        bool http = strcmp(x->source, RN_SRC_HTTP) == 0;
        if (!http && strcmp(x->source, RN_SRC_TCP) != 0)
            continue;
        const rn_service_t *sv = rn_plan_service_of_object(s->host->topo, x->object);
        double up = value_of(x, http ? RN_HTTP_UP : RN_TCP_UP);
        if (!sv || isnan(up))
            continue;
        if (http)
            rn_alarm_observe_cert(e, node, sv->name, x->time_ms, value_of(x, RN_HTTP_CERTDAYS));
        size_t k = 0;
        while (k < n && (r[k].t != x->time_ms || strcmp(r[k].service, sv->name) != 0))
            k++;
        if (k == n && n == SVC_ROUNDS_MAX) /* more than a plan holds: no grouping */
            rn_alarm_observe_service(e, node, sv->name, x->time_ms, up > 0);
        else if (k == n)
            r[n++] = (svc_round_t){ sv->name, x->time_ms, up > 0 };
        else
            r[k].up = r[k].up && up > 0;
    }
    for (size_t k = 0; k < n; k++)
        rn_alarm_observe_service(e, node, r[k].service, r[k].t, r[k].up);
}

/* Hands a batch's evidence to the alarm engine as node's: probe rounds (an ICMP sample's object
 * is its target, a parent, the root or a child of node), interface states, VC quality and
 * service checks. node
 * is the session's node, or an agentless child for the samples of its devices. */
static void observe_batch(rn_session_t *s, const char *node, const Rn__Batch *b)
{
    rn_alarm_engine_t *e = s->host->alarms;
    for (size_t i = 0; i < b->n_samples; i++) {
        const Rn__Sample *x = b->samples[i];
        if (s->host->latest) /* HTTP API: latest values (latest.h) */
            rn_latest_note(s->host->latest, node, x);
        s->host->ops->sample(s->host->ctx, node, x); /* police station cameras */
        if (strcmp(x->source, RN_SRC_ICMP) == 0) {
            double sent = value_of(x, RN_ICMP_SENT);
            rn_alarm_observe_icmp(e, node, x->object, x->time_ms,
                                  isnan(sent) ? 0 : (uint32_t)sent, value_of(x, RN_ICMP_LOSS),
                                  value_of(x, RN_ICMP_RTTAVG), value_of(x, RN_ICMP_JITTER));
        } else if (strcmp(x->source, RN_SRC_IF) == 0) {
            double oper = value_of(x, RN_IF_OPER);
            if (!isnan(oper))
                rn_alarm_observe_ifstatus(e, node, x->device, x->object, x->time_ms, (int)oper);
        } else if (strcmp(x->source, RN_SRC_RTP) == 0) { /* VC media capture */
            rn_alarm_observe_vc(e, node, x->time_ms, value_of(x, RN_RTP_MOS),
                                value_of(x, RN_RTP_LOST_PCT));
        }
    }
    observe_services(s, node, b);
}

/* Frees n parts (their frames, and the samples moved into them) and the array. */
static void free_parts(child_part_t *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rn_wire_free(parts[i].frame);
    free(parts);
}

/* Returns the part of the child named node among parts[0..n), or NULL. */
static child_part_t *find_part(child_part_t *parts, size_t n, const char *node)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(parts[i].node, node) == 0)
            return &parts[i];
    return NULL;
}

/* Makes the part of child node (its id, from the topology) in parts[*n]: an empty batch frame
 * with seq. Returns it, or NULL when out of memory. */
static child_part_t *new_part(child_part_t *parts, size_t *n, const char *node, uint64_t seq)
{
    Rn__Frame *f = malloc(sizeof *f);
    Rn__Batch *b = malloc(sizeof *b);
    if (!f || !b) {
        free(f), free(b);
        return NULL;
    }
    rn__frame__init(f);
    rn__batch__init(b);
    f->version = RN_WIRE_VERSION;
    f->body_case = RN__FRAME__BODY_BATCH;
    f->batch = b;
    b->seq = seq;
    parts[*n] = (child_part_t){ node, f, 0 };
    return &parts[(*n)++];
}

/* Counts and drops a sample that names a node which is not an agentless child of the session's
 * node (its agent does not speak for it); says so once per session. Takes x. */
static void drop_foreign(rn_session_t *s, Rn__Sample *x)
{
    if (s->foreign_samples++ == 0)
        rn_warn("agent %s (%s): sample %s/%s/%s names node '%s', which is not an agentless child "
                "of %s: dropped (further ones are counted, not logged)", s->node->id, s->peer,
                x->source, x->device ? x->device : "", x->object, x->node, s->node->id);
    rn__sample__free_unpacked(x, NULL);
}

/* Makes one part per agentless child that samples of b name, with room for its samples; the
 * topology is searched once per child, not per sample. Returns 0, or -ENOMEM with nothing
 * made. */
static int make_parts(rn_session_t *s, const Rn__Batch *b, child_part_t *ps, size_t *n)
{
    for (size_t i = 0; i < b->n_samples; i++) {
        const char *id = b->samples[i]->node;
        child_part_t *part = id ? find_part(ps, *n, id) : NULL;
        const rn_node_t *c = NULL;
        if (id && !part &&
            (c = rn_plan_agentless_child(s->host->topo, s->node->id, id)) &&
            !(part = new_part(ps, n, c->id, b->seq)))
            goto nomem;
        if (part)
            part->room++;
    }
    for (size_t i = 0; i < *n; i++) {
        Rn__Batch *pb = ps[i].frame->batch;
        if (!(pb->samples = malloc(ps[i].room * sizeof *pb->samples)))
            goto nomem;
    }
    return 0;
nomem:
    for (size_t i = 0; i < *n; i++)
        rn_wire_free(ps[i].frame); /* no sample in them yet */
    *n = 0;
    return -ENOMEM;
}

/* Splits the samples of agentless children (Sample.node) off the batch into one part per child,
 * in arrival order, and drops those that name any other node. Returns 0 with *parts (NULL when
 * no sample names a node) and *n_parts set, or -ENOMEM with the batch as it was. */
static int split_children(rn_session_t *s, Rn__Batch *b, child_part_t **parts, size_t *n_parts)
{
    child_part_t *ps = NULL;
    size_t n = 0, keep = 0;
    *parts = NULL;
    *n_parts = 0;
    for (size_t i = 0; i < b->n_samples && !ps; i++)
        if (b->samples[i]->node && !(ps = calloc(b->n_samples, sizeof *ps)))
            return -ENOMEM;
    if (!ps)
        return 0;
    if (make_parts(s, b, ps, &n) != 0) {
        free(ps);
        return -ENOMEM;
    }
    for (size_t i = 0; i < b->n_samples; i++) {
        Rn__Sample *x = b->samples[i];
        child_part_t *part = x->node ? find_part(ps, n, x->node) : NULL;
        if (!x->node) {
            b->samples[keep++] = x;
        } else if (!part) {
            drop_foreign(s, x);
        } else {
            Rn__Batch *pb = part->frame->batch;
            pb->samples[pb->n_samples++] = x;
        }
    }
    b->n_samples = keep;
    *parts = ps;
    *n_parts = n;
    return 0;
}

/* Drops, counts and logs the samples of b that are stamped too far ahead (their RRD files and
 * the alarm engine's clocks would jump forward, and every correct sample after them would be
 * too old), those of series the node's plan does not ask for, and those of new series past the
 * node's cap (ingest.h). Returns 0, -ENOENT (the node left the topology) or -ENOMEM. */
static int screen_batch(rn_session_t *s, Rn__Batch *b)
{
    rn_node_state_t *n = s->node;
    rn_ingest_node_t *g = &n->ingest;
    /* wall: compared with the samples' stamps; mono: when the last line was logged */
    int64_t wall = rn_clock_wall_ms(), now = mono_ms(), ahead;
    size_t future = rn_ingest_drop_future(b, wall, s->host->max_future_skew_s, &ahead);
    if (future) {
        g->future += future;
        g->future_unlogged += future;
        if (now - g->future_logged_ms >= 10000) {
            rn_warn("agent %s (%s): %" PRIu64 " samples dropped: stamped up to %.1f s ahead of the "
                    "collector's clock (more than max_future_skew_s %u; %" PRIu64 " so far)",
                    n->id, s->peer, g->future_unlogged, (double)ahead / 1000.0,
                    s->host->max_future_skew_s, g->future);
            g->future_logged_ms = now;
            g->future_unlogged = 0;
        }
    }
    /* The node's plan series, built on its first batch and again after a topology reload */
    int rc = g->plan ? 0 : rn_plan_series_new(s->host->topo, n->id, &g->plan);
    rn_ingest_screen_t r;
    if (rc != 0 || (rc = rn_ingest_screen_series(g, g->plan, b, &r)) != 0)
        return rc;
    if (r.unplanned) {
        g->unplanned += r.unplanned;
        g->unplanned_unlogged += r.unplanned;
        if (now - g->unplanned_logged_ms >= 10000) {
            rn_warn("agent %s (%s): %" PRIu64 " samples of series its plan does not ask for "
                    "dropped, such as '%s' (%" PRIu64 " so far; at most one line per 10 s)",
                    n->id, s->peer, g->unplanned_unlogged, r.first_unplanned, g->unplanned);
            g->unplanned_logged_ms = now;
            g->unplanned_unlogged = 0;
        }
    }
    if (r.over_cap) {
        g->over_cap += r.over_cap;
        if (s->over_cap_samples == 0)
            rn_warn("agent %s (%s): node feeds %d series already (the cap): new series such as "
                    "'%s' dropped (further ones are counted, not logged)", n->id, s->peer,
                    RN_INGEST_MAX_SERIES, r.first_over_cap);
        s->over_cap_samples += r.over_cap;
    }
    return 0;
}

/* Handles a batch: drops what is already stored or in flight, queues the rest. Takes frame. */
static void on_batch(rn_session_t *s, Rn__Frame *frame)
{
    rn_node_state_t *n = s->node;
    uint64_t seq = frame->batch->seq;
    if (seq <= n->submitted_seq || rn_ingest_ack_has(&n->ingest, seq)) {
        n->duplicates++;
        if (seq == n->submitted_seq + 1) /* stored before an earlier batch failed */
            n->submitted_seq = seq;
        if (seq <= n->acked_seq)
            send_ack(s, n->acked_seq);
        rn_wire_free(frame);
        return;
    }
    int src = screen_batch(s, frame->batch);
    if (src != 0) {
        rn_wire_free(frame);
        return rn_session_close(s, src == -ENOENT ? "node is no longer in the topology"
                                                  : "out of memory");
    }
    pending_batch_t *p = malloc(sizeof *p);
    if (!p) {
        rn_wire_free(frame);
        return rn_session_close(s, "out of memory");
    }
    *p = (pending_batch_t){ s->host, n, seq, frame->batch->n_samples, 1, 0, { 0 } };
    child_part_t *parts;
    size_t n_parts;
    if (split_children(s, frame->batch, &parts, &n_parts) != 0) {
        free(p);
        rn_wire_free(frame);
        return rn_session_close(s, "out of memory");
    }
    observe_batch(s, n->id, frame->batch);
    for (size_t i = 0; i < n_parts; i++) /* agentless children: evidence as their own */
        observe_batch(s, parts[i].node, parts[i].frame->batch);
    p->parts = 1 + (unsigned)n_parts;
    int rc = rn_rrd_store_write(s->host->store, n->id, frame, on_batch_stored, p);
    if (rc) {
        free(p);
        free_parts(parts, n_parts);
        rn_wire_free(frame); /* on failure the frame is still ours */
        return rn_session_close(s, rn_strerror(rc));
    }
    for (size_t i = 0; i < n_parts; i++) { /* after the batch's own: its callback is pending */
        int prc = rn_rrd_store_write(s->host->store, parts[i].node, parts[i].frame,
                                     on_batch_stored, p);
        if (prc) { /* the batch fails as a whole when its callback comes: not acked, resent */
            rn_wire_free(parts[i].frame);
            p->parts--;
            p->status = p->status ? p->status : prc;
        }
    }
    free(parts);
    n->submitted_seq = seq;
    n->in_store++;
    if (!s->host->ops->backpressure(s->host->ctx, n))
        rn_session_set_reading(s, false);
}

/* Answers an agent's heartbeat with ours (lib/rajnet.proto): the agent takes a session that
 * hears nothing for 3 heartbeats for dead, and learns from `codings` that we read compressed
 * frames (lib/wire.c inflates them in the reader). */
static void answer_heartbeat(rn_session_t *s)
{
    Rn__Heartbeat hb = RN__HEARTBEAT__INIT;
    Rn__Frame f = RN__FRAME__INIT;
    hb.wall_time_ms = rn_clock_wall_ms();
    hb.has_codings = true;
    hb.codings = RN_WIRE_CODING_ZLIB | RN_WIRE_CODING_INVENTORY; /* the asset register */
    f.body_case = RN__FRAME__BODY_HEARTBEAT;
    f.heartbeat = &hb;
    uint8_t *buf;
    size_t len;
    if (rn_wire_encode(&f, &buf, &len) == 0)
        rn_session_send(s, buf, len);
}

/* Dispatches one decoded frame; takes ownership of it. */
static void on_frame(rn_session_t *s, Rn__Frame *f)
{
    if (s->node) {
        s->node->last_seen_ms = rn_clock_wall_ms(); /* a stamp: the API, the alarm engine */
        s->node->heard_mono_ms = mono_ms();         /* "silent" (collector.c's cron) */
        rn_alarm_observe_node_seen(s->host->alarms, s->node->id, s->node->last_seen_ms);
    }
    switch (f->body_case) {
    case RN__FRAME__BODY_HELLO:
        on_hello(s, f->hello);
        break;
    case RN__FRAME__BODY_BATCH:
        if (!s->node)
            rn_session_close(s, "batch before hello");
        else
            return on_batch(s, f); /* takes f */
        break;
    case RN__FRAME__BODY_HEARTBEAT:
        if (!s->node)
            rn_session_close(s, "heartbeat before hello");
        else
            answer_heartbeat(s);
        break;
    case RN__FRAME__BODY_INVENTORY: /* the asset register (collector/asset_register.c) */
        if (!s->node)
            rn_session_close(s, "inventory before hello");
        else
            s->host->ops->inventory(s->host->ctx, s->node->id, f->inventory);
        break;
    default:
        rn_session_close(s, "unexpected frame type from an agent");
        break;
    }
    rn_wire_free(f);
}

static void on_tls_data(rn_tls_stream_t *t, void *data, const uint8_t *buf, size_t len)
{
    rn_session_t *s = data;
    if (s->closing)
        return;
    if (rn_wire_reader_push(&s->reader, buf, len) != 0)
        return rn_session_close(s, "out of memory");
    const uint8_t *body;
    size_t blen;
    int rc;
    while (!s->closing && (rc = rn_wire_reader_next(&s->reader, &body, &blen)) == 1) {
        Rn__Frame *f;
        char why[256];
        if (rn_wire_decode(body, blen, &f, why, sizeof why) != 0)
            return rn_session_close(s, why);
        on_frame(s, f);
    }
    if (!s->closing && rc < 0)
        rn_session_close(s, rn_strerror(rc));
}

/* The agent's certificate is verified; it must name a node of the topology. */
static void on_tls_ready(rn_tls_stream_t *t, void *data)
{
    rn_session_t *s = data;
    const char *cn = rn_tls_stream_peer_cn(t);
    if (!cn || !rn_topology_node(s->host->topo, cn)) {
        rn_warn("agent %s: refused: certificate for '%s', which is not a node of the topology",
                s->peer, cn ? cn : "?");
        return rn_session_close(s, NULL);
    }
    rn_debug("agent %s: TLS session %s for '%s'", s->peer,
             rn_tls_stream_resumed(t) ? "resumed" : "established", cn);
}

static void on_tls_error(rn_tls_stream_t *t, void *data, int err, const char *why)
{
    rn_session_t *s = data;
    if (err == UV_EOF && s->node)
        rn_info("agent %s (%s) disconnected", s->node->id, s->peer);
    else if (err == UV_EOF)
        rn_info("peer %s closed the connection before hello", s->peer);
    else
        rn_warn("agent %s (%s): refused: %s", s->node ? s->node->id : "?", s->peer, why);
    rn_session_close(s, NULL);
}

rn_node_state_t *rn_session_node(const rn_session_t *s)
{
    return s->node;
}

bool rn_session_hello_overdue(const rn_session_t *s, int64_t now_mono_ms)
{
    return !s->node && !s->closing &&
           now_mono_ms - s->opened_ms > RN_SESSION_HELLO_TIMEOUT_S * 1000;
}

void rn_session_set_reading(rn_session_t *s, bool on)
{
    if (s->closing || s->reading == on)
        return;
    s->reading = on;
    rn_tls_stream_set_reading(s->tls, on);
}

int rn_session_accept(const rn_ingest_host_t *host, rn_tls_ctx_t *tls, uv_stream_t *server,
                      rn_session_t **out)
{
    static const rn_tls_stream_cbs_t cbs = { on_tls_ready, on_tls_data, on_tls_error };
    rn_session_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->host = host;
    rn_wire_reader_init(&s->reader);
    int rc = rn_tls_stream_accept(tls, server, &cbs, s, &s->tls);
    if (rc) {
        rn_wire_reader_free(&s->reader);
        free(s);
        return rc;
    }
    snprintf(s->peer, sizeof s->peer, "%s", rn_tls_stream_peer_addr(s->tls));
    s->opened_ms = mono_ms();
    s->reading = true;
    *out = s;
    return 0;
}
