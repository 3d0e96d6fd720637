/* SNMP poller: walks the IF-MIB of every device in the plan from the agent's libuv loop.
 *
 * Why it exists: the agent must poll tens of routers every interval without a thread per device
 * and without one dead router stalling the rest. net-snmp's single-session API lets us do that:
 * each device owns one session (snmp_sess_open), and we drive it ourselves instead of calling
 * select(), through the bridge in lib/snmp_uv.c (shared with the collector's trap sender): the
 * session's socket sits in a uv_poll_t whose readability calls snmp_sess_read2(), which parses
 * the reply and runs our net-snmp callback; after every send and read the bridge's timer is
 * re-armed for net-snmp's next retransmission, whose expiry calls snmp_sess_timeout().
 *
 * How a poll runs (one device, one request in flight at a time):
 *   tick timer ─▶ poll_begin ─▶ [v3 without engine id: discovery GET ─▶ Report] ─▶ walk request
 *   ─▶ reply absorbed column by column ─▶ next request for the columns not finished ─▶ … ─▶
 *   [extra OIDs: one GET] ─▶ poll_finish: one "if" sample per interface (counters unknown where
 *   a discontinuity shows) and one sample per extra OID through emit, or one log line on a
 *   state change.
 * Two jobs live in their own files: agent/snmp_counters.c keeps the last successful poll, judges
 * which counters cannot be compared with it (reboot, ifCounterDiscontinuityTime, an ifIndex that
 * changed names) and emits the "if" samples so judged; agent/snmp_extra.c checks the plan's extra
 * OIDs, builds their GET, absorbs the answer and emits their samples. agent/snmp_poller_walk.c
 * holds the walk: the columns, the requests of a poll, the replies' absorption and the net-snmp
 * callback. This file keeps the sessions, the schedule, the poll's steps and the devices.
 * The net-snmp callback (on_snmp_pdu) only records what happened in dev->event; the step that
 * follows (send the next request, emit, log) runs after snmp_sess_read2/snmp_sess_timeout have
 * returned (dev_advance), so no user callback and no send runs inside net-snmp's own stack.
 *
 * The walk asks for all unfinished columns in one GETBULK (GETNEXT for v1), the scalars
 * (sysUpTime, sysName) first as non-repeaters: reply varbind i belongs to scalar i, then the
 * repeated columns take turns (reply_col). A column stops at the end of its subtree, at
 * endOfMibView/noSuchObject/noSuchInstance, or if the agent goes backwards. Rows are kept sorted by
 * ifIndex in two buffers that swap after each successful poll: the last one is kept (by
 * agent/snmp_counters.c) to compare counters with, the other is reused for the next walk.
 *
 * SNMPv3: snmp_sess_open() would probe the engine id with a blocking synchronous request, so we
 * open sessions with SNMP_FLAGS_DONT_PROBE and discover the engine id asynchronously with the same
 * empty noAuthNoPriv GET net-snmp itself uses; then usm_create_user_from_session() localises the
 * keys. notInTimeWindow Reports are re-sent by net-snmp itself.
 *
 * Lifetime: a device embeds its tick timer and, once a session is open, the bridge (socket poll
 * and retransmission timer, lib/snmp_uv.h); it is freed, its session closed, in the last close
 * callback. The poller embeds one timer, `anchor`, that only exists so that closing a poller
 * with no devices still completes asynchronously. */
#include "snmp_poller.h"
#include "snmp_poller_int.h"
#include "snmp_counters.h"
#include "snmp_extra.h"
#include "snmp_inventory.h"
#include "snmp_usm.h"
#include "snmp_uv.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "clock.h"
#include "error.h"
#include "jitter.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_RETRIES 2
#define MAX_JITTER_NS 1000000000ull

static void on_snmp_io(rn_snmp_uv_t *b);
static void on_tick_timer(uv_timer_t *t);
static void poller_unref(rn_snmp_poller_t *p);

/* ---- small helpers ---------------------------------------------------------------------- */

/* Returns a malloc'd copy of s ("" for NULL), or NULL when out of memory. */
static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Returns the next pseudo-random 64-bit number of the poller's xorshift generator. */
static uint64_t next_rand(rn_snmp_poller_t *p)
{
    p->rng ^= p->rng << 13;
    p->rng ^= p->rng >> 7;
    p->rng ^= p->rng << 17;
    return p->rng;
}

/* Logs a device problem once: returns without logging when it is the same as last time. */
static void dev_problem(snmp_dev_t *d, const char *why)
{
    if (strcmp(d->last_problem, why) == 0)
        return;
    snprintf(d->last_problem, sizeof d->last_problem, "%s", why);
    rn_warn("device %s%s%s (%s): %s", d->name, d->node ? " of " : "", d->node ? d->node : "",
            d->addr, why);
}

/* Notes a successful poll; logs the recovery if the device had a problem before. */
static void dev_recovered(snmp_dev_t *d)
{
    if (d->last_problem[0] == '\0')
        return;
    rn_info("device %s%s%s (%s): answering again", d->name, d->node ? " of " : "",
            d->node ? d->node : "", d->addr);
    d->last_problem[0] = '\0';
}

/* ---- sessions ---------------------------------------------------------------------------- */

/* Opens the device's net-snmp session and starts watching it (lib/snmp_uv.h). Returns 0, -EINVAL
 * with d->why set for a bad configuration, or RN_ESNMP with d->why set when net-snmp refuses. */
static int dev_open_session(snmp_dev_t *d)
{
    rn_snmp_uv_config_t cfg = {
        .peer = d->addr, .version = d->version, .community = d->community, .user = d->user,
        .auth_proto = d->auth_proto, .auth_key = d->auth_key, .priv_proto = d->priv_proto,
        .priv_key = d->priv_key, .timeout_ms = d->timeout_ms, .retries = d->retries,
    };
    int rc = rn_snmp_uv_open(&d->snmp, d->poller->loop, &cfg, on_snmp_io, d->why, sizeof d->why);
    if (rc == 0)
        d->open_handles++;
    return rc;
}

/* ---- one poll --------------------------------------------------------------------------- */

/* Hands the outcome of a poll to the report callback, if one is set. Returns nothing. */
static void report(snmp_dev_t *d, bool ok, const char *why, size_t n_ifs)
{
    rn_snmp_poller_t *p = d->poller;
    if (!p->report || d->closing)
        return;
    rn_snmp_report_t r = { d->node, d->name, d->addr, ok, ok ? "" : why, d->sys_name,
                           d->sys_uptime, n_ifs };
    p->report(p->report_ctx, &r);
}

/* The sample callback handed to the counters and extras (ctx is the device): passes the sample
 * on with the device's node. */
static void dev_emit(void *ctx, const char *source, const char *device, const char *object,
                     int64_t time_ms, const rn_value_t *values, size_t n_values,
                     uint64_t speed_bps)
{
    snmp_dev_t *d = ctx;
    d->poller->emit(d->poller->ctx, d->node, source, device, object, time_ms, values, n_values,
                    speed_bps);
}

/* Ends the poll in progress: on success emits the samples, otherwise logs why (once per change
 * of reason). Returns nothing. */
/* Returns true if the poller wants inventories and d is not closing. */
static bool p_inventory(const snmp_dev_t *d)
{
    return d->poller->inventory && !d->closing;
}

static void poll_finish(snmp_dev_t *d, bool ok)
{
    d->phase = PH_IDLE;
    if (!ok) {
        rn_snmp_dev_forget_engine(d);
        dev_problem(d, d->why);
        report(d, false, d->why, 0);
        return;
    }
    if (d->n_rows == 0) {
        dev_problem(d, "walk returned no IF-MIB interfaces");
        report(d, false, "walk returned no IF-MIB interfaces", 0);
        return;
    }
    if (d->n_wrong_type)
        snprintf(d->note, sizeof d->note, "%u values of an unexpected type ignored",
                 d->n_wrong_type);
    if (d->note[0])
        dev_problem(d, d->note);
    else
        dev_recovered(d);
    size_t n = rn_snmp_counters_emit(&d->counters, d->rows, d->n_rows, d->sys_uptime, d->name,
                                     d->poll_wall_ms, dev_emit, d, &d->closing);
    rn_snmp_extras_emit(&d->extras, dev_emit, d, d->poll_wall_ms,
                        rn_snmp_counters_rebooted(&d->counters, d->sys_uptime), &d->closing);
    report(d, true, "", n);
    if (d->inv_rc == 1 && p_inventory(d)) { /* a walk completed in this poll */
        Rn__Inventory msg;
        Rn__PhysicalEntity **ents = calloc(d->inv.n_ents + 1, sizeof *ents);
        Rn__PhysicalEntity *st = calloc(d->inv.n_ents + 1, sizeof *st);
        if (ents && st) {
            rn_snmp_inventory_message(&d->inv, d->node, rn_clock_wall_ms(), d->sys_uptime, &msg,
                                      ents, st);
            d->poller->inventory(d->poller->inventory_ctx, &msg);
        }
        free(ents), free(st);
    }
    d->inv_rc = 0;
    rn_snmp_counters_keep(&d->counters, &d->rows, &d->n_rows, &d->cap_rows, d->sys_uptime);
    rn_debug("device %s: %zu interfaces, %u varbinds in %u requests, %.2f ms", d->name, n,
             d->n_varbinds, d->n_requests, (double)(rn_clock_mono_ns() - d->poll_mono) / 1e6);
}

/* Runs the step that follows what the last net-snmp callback recorded: the next request, or
 * the end of the poll. Returns nothing. */
static void dev_advance(snmp_dev_t *d)
{
    dev_event_t ev = d->event;
    d->event = EV_NONE;
    int rc = 0;
    switch (ev) {
    case EV_NONE:
        return;
    case EV_DISCOVERED:
        rc = rn_snmp_dev_discover_done(d);
        if (rc == 0) {
            d->phase = PH_WALK;
            rc = rn_snmp_dev_walk_send(d);
        }
        break;
    case EV_REPLY:
        if (d->phase == PH_INVENTORY) {
            rc = d->inv_rc == 0 ? rn_snmp_dev_inventory_send(d) : d->inv_rc;
            break;
        }
        rc = d->phase == PH_EXTRA ? 1 : rn_snmp_dev_walk_send(d);
        if (rc == 1 && d->phase == PH_WALK && d->extras.n) {
            d->phase = PH_EXTRA;
            rc = rn_snmp_dev_extra_send(d);
        }
        if (rc == 1 && p_inventory(d) && d->n_rows &&
            rn_snmp_inventory_due(&d->inv, rn_clock_mono_ns(),
                                  rn_snmp_counters_rebooted(&d->counters, d->sys_uptime))) {
            d->phase = PH_INVENTORY; /* the walk is complete: the inventory follows */
            rn_snmp_inventory_begin(&d->inv);
            d->inv_rc = 0;
            rc = rn_snmp_dev_inventory_send(d);
        }
        break;
    case EV_TIMEOUT:
        snprintf(d->why, sizeof d->why, "no answer after %u tries", d->retries + 1);
        rc = -ETIMEDOUT;
        break;
    case EV_ERROR:
        rc = -EPROTO;
        break;
    }
    if (rc < 0 && d->phase == PH_EXTRA) { /* the walk is complete: keep it */
        snprintf(d->note, sizeof d->note, "extra OIDs unknown: %s", d->why);
        rc = 1;
    }
    if (rc < 0 && d->phase == PH_INVENTORY) { /* likewise; the inventory stays due */
        rn_info("device %s (%s): inventory walk failed: %s; again at the next poll", d->name,
                d->addr, d->why);
        d->inv_rc = 0;
        rc = 1;
    }
    if (rc != 0)
        poll_finish(d, rc == 1);
}

/* Starts one poll of the device, opening its session first if needed. Returns nothing; a
 * failure is logged and the device waits for its next tick. */
static void poll_begin(snmp_dev_t *d)
{
    d->why[0] = d->note[0] = '\0';
    if (!d->snmp.sessp && dev_open_session(d) != 0) {
        dev_problem(d, d->why);
        return;
    }
    d->poll_wall_ms = rn_clock_wall_ms();
    d->poll_mono = rn_clock_mono_ns();
    d->n_rows = 0;
    d->reps = MAX_REPS;
    d->n_requests = d->n_varbinds = d->n_wrong_type = 0;
    d->sys_name[0] = '\0';
    d->sys_uptime = -1;
    d->event = EV_NONE;
    rn_snmp_extras_reset(&d->extras);
    rn_snmp_dev_walk_reset(d);
    int rc;
    if (d->version == 3 && snmp_sess_session(d->snmp.sessp)->securityEngineIDLen == 0) {
        d->phase = PH_DISCOVER;
        rc = rn_snmp_dev_discover_send(d);
    } else {
        d->phase = PH_WALK;
        rc = rn_snmp_dev_walk_send(d);
    }
    if (rc != 0)
        poll_finish(d, false);
    rn_snmp_uv_arm(&d->snmp);
}

/* After a read or a timeout: advance the poll, then re-arm the retransmission timer. A poll that
 * net-snmp no longer tracks (it dropped the request) is ended here rather than left hanging.
 * Returns nothing. */
static void dev_after_io(snmp_dev_t *d)
{
    dev_advance(d);
    if (d->closing)
        return;
    if (!rn_snmp_uv_arm(&d->snmp) && d->phase != PH_IDLE) {
        snprintf(d->why, sizeof d->why, "request abandoned by net-snmp (no answer)");
        poll_finish(d, false);
    }
}

static void on_snmp_io(rn_snmp_uv_t *b)
{
    dev_after_io(container_of(b, snmp_dev_t, snmp));
}

/* Returns the milliseconds from now until deadline, rounded up. */
static uint64_t ms_until(rn_mono_ns_t deadline, rn_mono_ns_t now)
{
    return deadline > now ? (deadline - now + 999999) / 1000000 : 0;
}

static void on_tick_timer(uv_timer_t *t)
{
    snmp_dev_t *d = container_of(t, snmp_dev_t, tick);
    rn_mono_ns_t period = (rn_mono_ns_t)d->poller->interval_s * 1000000000ull;
    rn_mono_ns_t now = rn_clock_mono_ns();
    /* half a period of slack: a timer that fires a little early must not fire twice */
    rn_mono_ns_t next = rn_clock_next_tick(d->start, period, now + period / 2);
    uv_timer_start(&d->tick, on_tick_timer, ms_until(next, now), 0);
    if (d->phase != PH_IDLE) {
        d->skipped++;
        rn_debug("device %s: previous poll still running, tick skipped (%llu so far)", d->name,
                 (unsigned long long)d->skipped);
        return;
    }
    poll_begin(d);
}

/* ---- devices ------------------------------------------------------------------------------ */

/* Drops one of the device's open handles; the last frees it. Returns nothing. */
static void dev_unref(snmp_dev_t *d)
{
    if (--d->open_handles > 0)
        return;
    char *secrets[] = { d->community, d->auth_key, d->priv_key };
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (secrets[i])
            explicit_bzero(secrets[i], strlen(secrets[i]));
    free(d->node), free(d->name), free(d->addr), free(d->community), free(d->user);
    free(d->auth_proto), free(d->auth_key), free(d->priv_proto), free(d->priv_key);
    rn_snmp_extras_free(&d->extras);
    rn_snmp_inventory_free(&d->inv);
    free(d->rows);
    rn_snmp_counters_free(&d->counters);
    rn_snmp_poller_t *p = d->poller;
    free(d);
    poller_unref(p);
}

static void on_dev_handle_closed(uv_handle_t *h)
{
    dev_unref(h->data);
}

static void on_dev_snmp_closed(rn_snmp_uv_t *b)
{
    dev_unref(container_of(b, snmp_dev_t, snmp));
}

/* Starts closing a device; it is freed in its last close callback. Returns nothing. */
static void dev_close(snmp_dev_t *d)
{
    d->closing = true;
    d->poller->pending_closes++;
    uv_close((uv_handle_t *)&d->tick, on_dev_handle_closed);
    if (d->snmp.sessp)
        rn_snmp_uv_close(&d->snmp, on_dev_snmp_closed);
}

/* Returns true if the device already runs exactly the configuration of src. */
static bool dev_same(const snmp_dev_t *d, const Rn__Device *src)
{
    const Rn__SnmpCredentials *c = src->snmp;
#define SAME(a, b) (strcmp((a), (b) ? (b) : "") == 0)
    return rn_snmp_extras_same(&d->extras, src) && SAME(d->node ? d->node : "", src->node) &&
           SAME(d->name, src->name) &&
           SAME(d->addr, src->addr) && d->version == c->version &&
           SAME(d->community, c->community) && SAME(d->user, c->user) &&
           SAME(d->auth_proto, c->auth_proto) && SAME(d->auth_key, c->auth_key) &&
           SAME(d->priv_proto, c->priv_proto) && SAME(d->priv_key, c->priv_key) &&
           d->timeout_ms == (src->has_timeout_ms && src->timeout_ms ? src->timeout_ms
                                                                     : DEFAULT_TIMEOUT_MS) &&
           d->retries == (src->has_retries ? src->retries : DEFAULT_RETRIES);
#undef SAME
}

/* Checks a device's configuration. Returns NULL if it is usable, else a reason (no secrets),
 * possibly written into buf. */
static const char *dev_config_error(const Rn__Device *src, char *buf, size_t buf_len)
{
    const Rn__SnmpCredentials *c = src->snmp;
    size_t len;
    if (!src->name || !src->addr || !c)
        return "incomplete device";
    const char *bad_extra = rn_snmp_extras_config_error(src, buf, buf_len);
    if (bad_extra)
        return bad_extra;
    if (c->version < 1 || c->version > 3)
        return "SNMP version must be 1, 2 (v2c) or 3";
    if (c->version != 3)
        return c->community && c->community[0] ? NULL : "no community";
    if (!c->user || !c->user[0])
        return "no v3 user";
    if (c->auth_proto && c->auth_proto[0] && !rn_snmp_auth_oid(c->auth_proto, &len))
        return "unknown v3 auth protocol";
    if (c->priv_proto && c->priv_proto[0] && !rn_snmp_priv_oid(c->priv_proto, &len))
        return "unknown v3 privacy protocol";
    if (c->priv_key && c->priv_key[0] && !(c->auth_key && c->auth_key[0]))
        return "v3 privacy key without an auth key";
    return NULL;
}

/* Creates a device (not yet scheduled) from the plan. Returns 0, -EINVAL (logged) for an
 * unusable configuration, or -ENOMEM. */
static int dev_new(rn_snmp_poller_t *p, const Rn__Device *src, snmp_dev_t **out)
{
    char why[160];
    const char *bad = dev_config_error(src, why, sizeof why);
    if (bad) {
        rn_error("device %s (%s): %s; not polled", src->name ? src->name : "?",
                 src->addr ? src->addr : "?", bad);
        return -EINVAL;
    }
    const Rn__SnmpCredentials *c = src->snmp;
    snmp_dev_t *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->poller = p;
    d->node = src->node ? strdup(src->node) : NULL;
    d->name = dup_or_empty(src->name), d->addr = dup_or_empty(src->addr);
    d->community = dup_or_empty(c->community), d->user = dup_or_empty(c->user);
    d->auth_proto = dup_or_empty(c->auth_proto), d->auth_key = dup_or_empty(c->auth_key);
    d->priv_proto = dup_or_empty(c->priv_proto), d->priv_key = dup_or_empty(c->priv_key);
    d->version = c->version;
    d->timeout_ms = src->has_timeout_ms && src->timeout_ms ? src->timeout_ms : DEFAULT_TIMEOUT_MS;
    d->retries = src->has_retries ? src->retries : DEFAULT_RETRIES;
    rn_snmp_counters_init(&d->counters);
    int extras_rc = rn_snmp_extras_init(&d->extras, src, d->name, d->addr);
    rn_snmp_inventory_init(&d->inv, d->name, d->addr);
    uv_timer_init(p->loop, &d->tick);
    d->tick.data = d;
    d->open_handles = 1;
    *out = d;
    if (!d->name || !d->addr || !d->community || !d->user || !d->auth_proto || !d->auth_key ||
        !d->priv_proto || !d->priv_key || extras_rc != 0 || (src->node && !d->node)) {
        dev_close(d);
        return -ENOMEM;
    }
    return 0;
}

/* ---- the poller ---------------------------------------------------------------------------- */

/* Starts (or restarts) the schedule of device i of n: the first poll comes after a stagger that
 * spreads the devices over a tenth of the interval (at most 1 s), plus a little jitter. */
static void dev_schedule(rn_snmp_poller_t *p, snmp_dev_t *d, size_t i, size_t n)
{
    rn_mono_ns_t period = (rn_mono_ns_t)p->interval_s * 1000000000ull;
    rn_mono_ns_t spread = rn_jitter_spread(period, MAX_JITTER_NS);
    rn_mono_ns_t slot = spread / (n ? n : 1);
    rn_mono_ns_t now = rn_clock_mono_ns();
    d->start = now + slot * i + (slot ? next_rand(p) % slot : 0);
    uv_timer_start(&d->tick, on_tick_timer, ms_until(d->start, now), 0);
}

int rn_snmp_poller_new(uv_loop_t *loop, rn_snmp_sample_fn emit, void *ctx,
                       rn_snmp_poller_t **out)
{
    rn_snmp_poller_t *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    rn_snmp_uv_lib_init("rajnet-agent");
    p->loop = loop;
    p->emit = emit;
    p->ctx = ctx;
    p->interval_s = 60;
    p->rng = rn_clock_mono_ns() | 1;
    uv_timer_init(loop, &p->anchor);
    p->anchor.data = p;
    *out = p;
    return 0;
}

/* Finds the running device that can be kept for src. Returns its index in p->devs, or -1. */
static ssize_t find_same(rn_snmp_poller_t *p, const Rn__Device *src, const bool *taken)
{
    for (size_t i = 0; i < p->n_devs; i++)
        if (!taken[i] && dev_same(p->devs[i], src))
            return (ssize_t)i;
    return -1;
}

int rn_snmp_poller_set_devices(rn_snmp_poller_t *p, Rn__Device *const *devices, size_t n,
                               uint32_t interval_s)
{
    if (interval_s == 0)
        return -EINVAL;
    snmp_dev_t **nd = calloc(n ? n : 1, sizeof *nd);
    bool *taken = calloc(p->n_devs ? p->n_devs : 1, sizeof *taken);
    bool *kept = calloc(n ? n : 1, sizeof *kept);
    if (!nd || !taken || !kept) {
        free(nd), free(taken), free(kept);
        return -ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        ssize_t j = find_same(p, devices[i], taken);
        if (j >= 0) {
            taken[j] = true;
            kept[m] = true;
            nd[m++] = p->devs[j];
            continue;
        }
        int rc = dev_new(p, devices[i], &nd[m]);
        if (rc == -ENOMEM) {
            for (size_t k = 0; k < m; k++)
                if (!kept[k])
                    dev_close(nd[k]);
            free(nd), free(taken), free(kept);
            return rc;
        }
        if (rc == 0)
            m++;
    }
    for (size_t j = 0; j < p->n_devs; j++)
        if (!taken[j])
            dev_close(p->devs[j]); /* abandons its poll in flight */
    bool interval_changed = p->interval_s != interval_s;
    p->interval_s = interval_s;
    for (size_t i = 0; i < m; i++)
        if (!kept[i] || interval_changed)
            dev_schedule(p, nd[i], i, m);
    free(p->devs), free(taken), free(kept);
    p->devs = nd;
    p->n_devs = m;
    rn_info("snmp poller: %zu devices every %u s", m, interval_s);
    return 0;
}

int rn_snmp_poller_set_plan(rn_snmp_poller_t *p, const Rn__Plan *plan, uint32_t interval_s)
{
    size_t n = plan->n_devices + plan->n_child_devices;
    Rn__Device **all = calloc(n ? n : 1, sizeof *all);
    if (!all)
        return -ENOMEM;
    for (size_t i = 0; i < plan->n_devices; i++)
        all[i] = plan->devices[i];
    for (size_t i = 0; i < plan->n_child_devices; i++)
        all[plan->n_devices + i] = plan->child_devices[i];
    int rc = rn_snmp_poller_set_devices(p, all, n, interval_s);
    free(all);
    return rc;
}

void rn_snmp_poller_set_report(rn_snmp_poller_t *p, rn_snmp_report_fn fn, void *ctx)
{
    p->report = fn;
    p->report_ctx = ctx;
}

void rn_snmp_poller_set_inventory(rn_snmp_poller_t *p, rn_snmp_inventory_fn fn, void *ctx)
{
    p->inventory = fn;
    p->inventory_ctx = ctx;
}

void rn_snmp_poller_refresh_inventory(rn_snmp_poller_t *p)
{
    for (size_t i = 0; i < p->n_devs; i++)
        p->devs[i]->inv.have = false;
}

static void on_anchor_closed(uv_handle_t *h)
{
    poller_unref(h->data);
}

/* Drops one pending close; the last one after rn_snmp_poller_close frees the poller and fires
 * its callback. Returns nothing. */
static void poller_unref(rn_snmp_poller_t *p)
{
    if (--p->pending_closes > 0 || !p->closing)
        return;
    void (*cb)(void *) = p->close_cb;
    void *data = p->close_data;
    free(p->devs);
    free(p);
    if (cb)
        cb(data);
}

void rn_snmp_poller_close(rn_snmp_poller_t *p, void (*cb)(void *data), void *data)
{
    for (size_t i = 0; i < p->n_devs; i++)
        dev_close(p->devs[i]);
    p->n_devs = 0;
    p->closing = true;
    p->pending_closes++;
    p->close_cb = cb;
    p->close_data = data;
    uv_close((uv_handle_t *)&p->anchor, on_anchor_closed);
}
