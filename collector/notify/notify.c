/* Notifier core: fans alarm events out to independent channels, retries each with backoff, and
 * keeps the journal in step so pending notifications survive a restart (contract in notify.h).
 *
 * How: rn_notifier_alarm() copies the alarm into a notification (notify_format.c), gives it the
 * next journal sequence, journals it, and appends it to every channel's FIFO. A channel sends its
 * head only (in order, one in flight); the transport reports the outcome through
 * rn__notify_chan_done(). Success pops the head and journals "done"; failure arms the channel's
 * retry timer (backoff), and nothing else waits. A head older than max_age_s is dropped with one
 * log line; a queue longer than max_queue drops its oldest waiting notification the same way.
 *
 * Start-up: the journal is read on the thread pool; alarms arriving before it is read wait in
 * `early` (they need sequences after the journal's), then replayed notifications are queued first.
 *
 * Reports: rn_notifier_report() admits a "report ready" message (notify_report.c) the same way,
 * on the channels whose kinds include reports; the journal and the replay treat both alike.
 *
 * Reconfigure (SIGHUP): new channels are made from the new config; each old channel's queue moves
 * to the new channel of the same key (the pending bits are rebuilt for the new indices) or is
 * dropped; the old channels are stopped and marked retired, and each frees itself once its
 * handles are closed (n_retiring counts them, and a close waits for them).
 *
 * Close: channels stop (their transports close handles and kill exec hooks), then the shared curl
 * multi handle closes, then the journal finishes its writes, then memory is freed and the caller's
 * callback runs: nothing is freed in the middle of a callback chain. */
#include "notify/notify_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "log.h"

#define COMPACT_LINES 20000 /* rewrite the journal when it has this many lines more than needed */

struct rn_notifier {
    uv_loop_t *loop;
    rn__notify_chan_t *chans[RN_NOTIFY_MAX_CHANNELS];
    size_t n_chans, n_closed;
    size_t n_retiring;                  /* channels replaced by a reconfigure, still closing */
    bool curl_closing;
    uint32_t max_age_s, retry_initial_ms, retry_max_ms, max_queue;
    rn__notify_store_t *store;
    bool loaded, closing;
    uint64_t next_seq;
    rn__notify_event_t *live;           /* journaled, pending on some channel */
    size_t n_live;
    rn__notify_event_t *early_head, *early_tail; /* before the journal is read */
    size_t n_early;
    uint64_t *paged;                    /* ids of alarms paged and not cleared, increasing */
    size_t n_paged, cap_paged;
    rn__notify_curl_t *curl;
    uv_timer_t anchor;                  /* closed last, so close always completes on the loop */
    void (*close_cb)(void *data);
    void *close_data;
};

static void chan_stop(rn__notify_chan_t *ch);

uv_loop_t *rn__notify_loop(const rn_notifier_t *n)
{
    return n->loop;
}

rn__notify_curl_t **rn__notify_curl_slot(rn_notifier_t *n)
{
    return &n->curl;
}

uint64_t rn__notify_backoff_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms)
{
    if (attempt == 0)
        return 0;
    uint64_t d = initial_ms ? initial_ms : 1;
    for (uint32_t i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    return d < max_ms ? d : max_ms;
}

/* ---- the set of paged alarms ---------------------------------------------------------------- */

/* Returns the position of id in the paged set, or where it would go. */
static size_t paged_find(const rn_notifier_t *n, uint64_t id)
{
    size_t lo = 0, hi = n->n_paged;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->paged[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Remembers that alarm id was paged (so its clear is sent). Returns 0 or -ENOMEM. */
static int paged_add(rn_notifier_t *n, uint64_t id)
{
    size_t i = paged_find(n, id);
    if (i < n->n_paged && n->paged[i] == id)
        return 0;
    if (n->n_paged == n->cap_paged) {
        size_t cap = n->cap_paged ? n->cap_paged * 2 : 64;
        uint64_t *np = realloc(n->paged, cap * sizeof *np);
        if (!np)
            return -ENOMEM;
        n->paged = np, n->cap_paged = cap;
    }
    memmove(&n->paged[i + 1], &n->paged[i], (n->n_paged - i) * sizeof *n->paged);
    n->paged[i] = id;
    n->n_paged++;
    return 0;
}

/* Forgets alarm id. Returns true if it had been paged. */
static bool paged_remove(rn_notifier_t *n, uint64_t id)
{
    size_t i = paged_find(n, id);
    if (i >= n->n_paged || n->paged[i] != id)
        return false;
    memmove(&n->paged[i], &n->paged[i + 1], (n->n_paged - i - 1) * sizeof *n->paged);
    n->n_paged--;
    return true;
}

/* ---- live notifications and the journal ----------------------------------------------------- */

/* Builds the journal's compacted text: every live notification and, for each, the channels that
 * are done with it. Returns a new string ("" when nothing is live) or NULL. */
static char *snapshot(const rn_notifier_t *n)
{
    size_t len = 1;
    for (const rn__notify_event_t *ev = n->live; ev; ev = ev->next) {
        len += strlen(ev->json) + 32;
        for (size_t i = 0; i < n->n_chans; i++)
            len += strlen(n->chans[i]->key) + 32;
    }
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    *p = '\0';
    for (const rn__notify_event_t *ev = n->live; ev; ev = ev->next) {
        p += sprintf(p, "A %" PRIu64 " %s\n", ev->seq, ev->json);
        for (size_t i = 0; i < n->n_chans; i++)
            if (!(ev->pending & (1ull << i)))
                p += sprintf(p, "D %" PRIu64 " %s\n", ev->seq, n->chans[i]->key);
    }
    return s;
}

/* Compacts the journal when nothing is pending (truncate) or when it has grown far beyond what
 * is pending. */
static void maybe_compact(rn_notifier_t *n)
{
    size_t lines = rn__notify_store_lines(n->store);
    if ((n->n_live == 0 && lines > 0) || lines > COMPACT_LINES + 4 * n->n_live * (n->n_chans + 1))
        rn__notify_store_rewrite(n->store, n->n_live ? snapshot(n) : NULL);
}

/* Links ev into the live list. */
static void live_add(rn_notifier_t *n, rn__notify_event_t *ev)
{
    ev->prev = NULL;
    ev->next = n->live;
    if (n->live)
        n->live->prev = ev;
    n->live = ev;
    n->n_live++;
}

/* Unlinks ev from the live list. */
static void live_remove(rn_notifier_t *n, rn__notify_event_t *ev)
{
    if (ev->prev)
        ev->prev->next = ev->next;
    else
        n->live = ev->next;
    if (ev->next)
        ev->next->prev = ev->prev;
    n->n_live--;
}

/* Channel ch is finished with ev (delivered or dropped): journal it, free ev when it was the
 * last channel. */
static void release(rn__notify_chan_t *ch, rn__notify_event_t *ev)
{
    rn_notifier_t *n = ch->n;
    rn__notify_store_done(n->store, ev->seq, ch->key);
    ev->pending &= ~(1ull << ch->idx);
    if (ev->pending)
        return;
    live_remove(n, ev);
    rn__notify_event_free(ev);
    maybe_compact(n);
}

/* ---- channel queues ------------------------------------------------------------------------- */

/* Unlinks the item after prev (the head when prev is NULL) and returns it. */
static rn__notify_item_t *unlink_item(rn__notify_chan_t *ch, rn__notify_item_t *prev)
{
    rn__notify_item_t *it = prev ? prev->next : ch->head;
    if (prev)
        prev->next = it->next;
    else
        ch->head = it->next;
    if (ch->tail == it)
        ch->tail = prev;
    ch->len--;
    return it;
}

/* Drops the item after prev with a log line saying why. */
static void drop_item(rn__notify_chan_t *ch, rn__notify_item_t *prev, const char *why)
{
    rn__notify_item_t *it = unlink_item(ch, prev);
    char what[160];
    rn_warn("notify: %s: dropped %s: %s", ch->key,
            rn__notify_event_label(it->ev, what, sizeof what), why);
    release(ch, it->ev);
    free(it);
}

/* Appends ev to ch's queue, dropping the oldest waiting one when the queue is full. Returns 0 or
 * -ENOMEM. */
static int chan_push(rn__notify_chan_t *ch, rn__notify_event_t *ev)
{
    rn__notify_item_t *it = malloc(sizeof *it);
    if (!it)
        return -ENOMEM;
    if (ch->len >= ch->n->max_queue && ch->head) {
        if (!ch->inflight)
            drop_item(ch, NULL, "queue full");
        else if (ch->head->next)
            drop_item(ch, ch->head, "queue full");
    }
    it->ev = ev;
    it->next = NULL;
    if (ch->tail)
        ch->tail->next = it;
    else
        ch->head = it;
    ch->tail = it;
    ch->len++;
    return 0;
}

/* Sends ch's head until one is in flight, the queue is empty or a retry is pending. Re-entrant
 * calls (a transport that completes inside send) return at once: the outer loop goes on. */
static void chan_kick(rn__notify_chan_t *ch)
{
    if (ch->kicking)
        return;
    ch->kicking = true;
    int64_t max_age_ms = (int64_t)ch->n->max_age_s * 1000;
    while (!ch->closing && !ch->inflight && ch->head && ch->n->loaded &&
           !uv_is_active((uv_handle_t *)&ch->retry)) {
        if (rn_clock_wall_ms() - ch->head->ev->at_ms > max_age_ms) {
            char why[64];
            snprintf(why, sizeof why, "undelivered for more than %" PRIu32 " s", ch->n->max_age_s);
            drop_item(ch, NULL, why);
            ch->attempts = 0;
            continue;
        }
        ch->inflight = true;
        ch->why[0] = '\0';
        int rc = ch->ops->send(ch, ch->head->ev);
        if (rc < 0) {
            if (!ch->why[0])
                snprintf(ch->why, sizeof ch->why, "%s", rn_strerror(rc));
            rn__notify_chan_done(ch, rc);
        }
    }
    ch->kicking = false;
}

static void on_retry(uv_timer_t *t)
{
    chan_kick(rn__container_of(t, rn__notify_chan_t, retry));
}

void rn__notify_chan_done(rn__notify_chan_t *ch, int status)
{
    if (!ch->inflight || ch->closing)
        return;
    ch->inflight = false;
    rn_notifier_t *n = ch->n;
    if (status == 0) {
        if (ch->failing)
            rn_info("notify: %s: delivering again after %" PRIu32 " failed attempt(s)", ch->key,
                    ch->attempts);
        ch->failing = false;
        ch->attempts = 0;
        rn__notify_item_t *it = unlink_item(ch, NULL);
        release(ch, it->ev);
        free(it);
    } else {
        ch->attempts++;
        uint64_t delay = rn__notify_backoff_ms(ch->attempts, n->retry_initial_ms, n->retry_max_ms);
        if (!ch->failing)
            rn_warn("notify: %s: %s; %zu notification(s) waiting, retrying with backoff", ch->key,
                    ch->why, ch->len);
        else
            rn_debug("notify: %s: attempt %" PRIu32 " failed: %s; next in %" PRIu64 " ms",
                     ch->key, ch->attempts, ch->why, delay);
        ch->failing = true;
        uv_timer_start(&ch->retry, on_retry, delay, 0);
    }
    chan_kick(ch);
}

/* ---- admission -------------------------------------------------------------------------------- */

/* Journals ev and queues it on the channels in mask (ev->seq set by the caller), then kicks
 * them. Frees ev when no channel takes it. */
static void admit(rn_notifier_t *n, rn__notify_event_t *ev, uint64_t mask)
{
    /* live (with every bit) before any push: a push that drops an old notification may compact
     * the journal, and the snapshot must hold this one */
    ev->pending = mask;
    live_add(n, ev);
    for (size_t i = 0; i < n->n_chans; i++)
        if ((mask & (1ull << i)) && chan_push(n->chans[i], ev) != 0)
            ev->pending &= ~(1ull << i);
    if (!ev->pending) {
        char what[160];
        rn_error("notify: out of memory: %s not notified",
                 rn__notify_event_label(ev, what, sizeof what));
        live_remove(n, ev);
        rn__notify_event_free(ev);
        return;
    }
    uint64_t kick = ev->pending; /* ev may be freed by a channel that delivers at once */
    for (size_t i = 0; i < n->n_chans; i++)
        if (kick & (1ull << i))
            chan_kick(n->chans[i]);
}

/* Returns the channels of n that take ev's kind of message (alarm or report). */
static uint64_t takers(const rn_notifier_t *n, const rn__notify_event_t *ev)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < n->n_chans; i++)
        if (n->chans[i]->kinds & ev->msg)
            mask |= 1ull << i;
    return mask;
}

/* Admits a new notification: next sequence, journal record, every channel that takes it.
 * Returns the number of channels it was queued on (ev is freed when none takes it). */
static size_t admit_new(rn_notifier_t *n, rn__notify_event_t *ev)
{
    uint64_t mask = takers(n, ev);
    if (!mask) {
        rn__notify_event_free(ev);
        return 0;
    }
    ev->seq = n->next_seq++;
    if (rn__notify_store_add(n->store, ev->seq, ev->json) != 0) {
        char what[160];
        rn_error("notify: out of memory: %s not journaled",
                 rn__notify_event_label(ev, what, sizeof what));
    }
    admit(n, ev, mask);
    return (size_t)__builtin_popcountll(mask);
}

/* Keeps ev until the journal is read (it needs a sequence after the journal's). */
static void admit_early(rn_notifier_t *n, rn__notify_event_t *ev)
{
    ev->next = NULL;
    if (n->early_tail)
        n->early_tail->next = ev;
    else
        n->early_head = ev;
    n->early_tail = ev;
    n->n_early++;
}

void rn_notifier_alarm(rn_notifier_t *n, rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                       int64_t at_ms)
{
    if (!n || n->closing || kind == RN_ALARM_EV_SYMPTOM_OF)
        return;
    if (kind == RN_ALARM_EV_CLEARED) {
        if (!paged_remove(n, a->id))
            return; /* never paged (a symptom all along): nothing to clear */
    } else if (paged_add(n, a->id) != 0) {
        rn_error("notify: out of memory: alarm %" PRIu64 " clear will not be sent", a->id);
    }
    if (n->n_chans == 0)
        return;
    rn__notify_event_t *ev = rn__notify_event_new(kind, a, at_ms);
    if (!ev) {
        rn_error("notify: out of memory: alarm %" PRIu64 " (%s) not notified", a->id,
                 rn__notify_kind_name(kind));
        return;
    }
    if (n->loaded)
        admit_new(n, ev);
    else
        admit_early(n, ev);
}

size_t rn_notifier_report(rn_notifier_t *n, const char *month, const char *files, int64_t at_ms)
{
    if (!n || n->closing)
        return 0;
    rn__notify_event_t *ev = rn__notify_report_new(month, files, at_ms);
    if (!ev) {
        rn_error("notify: out of memory: report %s not notified", month);
        return 0;
    }
    size_t takes = (size_t)__builtin_popcountll(takers(n, ev));
    if (n->loaded)
        admit_new(n, ev);
    else if (takes)
        admit_early(n, ev);
    else
        rn__notify_event_free(ev);
    return takes;
}

/* Returns the channels of n that take ev and whose key is not among rec's done keys. */
static uint64_t replay_mask(const rn_notifier_t *n, const rn__notify_record_t *rec,
                            const rn__notify_event_t *ev)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < n->n_chans; i++) {
        if (!(n->chans[i]->kinds & ev->msg))
            continue;
        bool done = false;
        for (size_t k = 0; k < rec->n_done && !done; k++)
            done = strcmp(rec->done[k], n->chans[i]->key) == 0;
        if (!done)
            mask |= 1ull << i;
    }
    return mask;
}

/* The journal has been read: re-queue what is pending, compact, then admit the early alarms. */
static void on_loaded(void *ctx, int status, rn__notify_record_t *recs, size_t n_recs,
                      uint64_t max_seq)
{
    rn_notifier_t *n = ctx;
    size_t replayed = 0, expired = 0;
    n->next_seq = max_seq + 1;
    if (status != 0) /* unreadable: new sequences must not collide with whatever is in it */
        n->next_seq = (uint64_t)rn_clock_wall_ms() * 1000;
    if (n->closing)
        return; /* the journal keeps it all for the next start */
    int64_t now = rn_clock_wall_ms();
    for (size_t i = 0; i < n_recs && !n->closing; i++) {
        rn__notify_event_t *ev = rn__notify_event_from_json(recs[i].json);
        uint64_t mask = ev ? replay_mask(n, &recs[i], ev) : 0;
        if (mask && now - ev->at_ms > (int64_t)n->max_age_s * 1000) {
            char what[160];
            rn_warn("notify: dropped %s from the journal: older than %" PRIu32 " s",
                    rn__notify_event_label(ev, what, sizeof what), n->max_age_s);
            expired++;
        }
        if (!mask || now - ev->at_ms > (int64_t)n->max_age_s * 1000) {
            rn__notify_event_free(ev);
            continue;
        }
        ev->seq = recs[i].seq;
        admit(n, ev, mask);
        replayed++;
    }
    if (replayed || expired)
        rn_info("notify: journal: %zu pending notification(s) queued again, %zu expired",
                replayed, expired);
    n->loaded = true;
    rn__notify_store_rewrite(n->store, n->n_live ? snapshot(n) : NULL);
    while (n->early_head) {
        rn__notify_event_t *ev = n->early_head;
        n->early_head = ev->next;
        n->n_early--;
        admit_new(n, ev);
    }
    n->early_tail = NULL;
    for (size_t i = 0; i < n->n_chans; i++)
        chan_kick(n->chans[i]);
}

/* ---- open and close ------------------------------------------------------------------------- */

/* Makes a channel's key ("kind target", set by its constructor) one line without control
 * characters: it is a journal record's last field. */
static void sanitize_key(char *key)
{
    for (char *p = key; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Registers a channel a transport constructor made, or logs why it could not be made. */
static void add_chan(rn_notifier_t *n, int rc, rn__notify_chan_t *ch, const char *what,
                     const char *target, unsigned kinds)
{
    if (rc != 0) {
        rn_error("notify: %s %s: cannot be set up (%s); left out", what, target, rn_strerror(rc));
        return;
    }
    sanitize_key(ch->key);
    ch->n = n;
    ch->idx = (unsigned)n->n_chans;
    ch->kinds = kinds ? kinds : RN_NOTIFY_ALARMS | RN_NOTIFY_REPORTS;
    uv_timer_init(n->loop, &ch->retry);
    ch->open_handles = 2; /* the retry timer and the transport */
    n->chans[n->n_chans++] = ch;
}

/* Creates every configured channel. */
static void add_chans(rn_notifier_t *n, const rn_notify_config_t *cfg)
{
    rn__notify_chan_t *ch = NULL;
    size_t want = cfg->n_traps + cfg->n_syslogs + cfg->n_webhooks + cfg->n_execs;
    if (want > RN_NOTIFY_MAX_CHANNELS) /* the config reader refuses this already */
        rn_error("notify: %zu channels configured, only the first %d are used", want,
                 RN_NOTIFY_MAX_CHANNELS);
#define ROOM (n->n_chans < RN_NOTIFY_MAX_CHANNELS)
    for (size_t i = 0; i < cfg->n_traps && ROOM; i++) {
        int rc = rn__notify_trap_new(n, &cfg->traps[i], &ch);
        add_chan(n, rc, ch, "trap", cfg->traps[i].target, RN_NOTIFY_ALARMS);
    }
    for (size_t i = 0; i < cfg->n_syslogs && ROOM; i++) {
        int rc = rn__notify_syslog_new(n, &cfg->syslogs[i], &ch);
        add_chan(n, rc, ch, "syslog", cfg->syslogs[i].target, RN_NOTIFY_ALARMS);
    }
    for (size_t i = 0; i < cfg->n_webhooks && ROOM; i++) {
        int rc = rn__notify_webhook_new(n, &cfg->webhooks[i], &ch);
        add_chan(n, rc, ch, "webhook", cfg->webhooks[i].url, cfg->webhooks[i].kinds);
    }
    for (size_t i = 0; i < cfg->n_execs && ROOM; i++) {
        int rc = rn__notify_exec_new(n, &cfg->execs[i], &ch);
        add_chan(n, rc, ch, "exec", cfg->execs[i].command, cfg->execs[i].kinds);
    }
#undef ROOM
}

/* Takes cfg's age, retry and queue limits (0: the defaults of notify.h). */
static void set_limits(rn_notifier_t *n, const rn_notify_config_t *cfg)
{
    n->max_age_s = cfg->max_age_s ? cfg->max_age_s : 86400;
    n->retry_initial_ms = cfg->retry_initial_ms ? cfg->retry_initial_ms : 1000;
    n->retry_max_ms = cfg->retry_max_ms ? cfg->retry_max_ms : 60000;
    n->max_queue = cfg->max_queue ? cfg->max_queue : 10000;
}

int rn_notifier_open(uv_loop_t *loop, const rn_notify_config_t *cfg, rn_notifier_t **out)
{
    rn_notifier_t *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    n->loop = loop;
    set_limits(n, cfg);
    n->next_seq = 1;
    int rc = rn__notify_store_open(loop, cfg->state_dir, on_loaded, n, &n->store);
    if (rc != 0) {
        free(n);
        return rc;
    }
    uv_timer_init(loop, &n->anchor);
    if (!cfg->state_dir)
        rn_warn("notify: no state_dir: pending notifications will not survive a restart");
    add_chans(n, cfg);
    *out = n;
    return 0;
}

/* Moves old's queue to nw (same key) and marks its notifications pending on nw's bit. */
static void chan_move_queue(rn__notify_chan_t *old, rn__notify_chan_t *nw)
{
    for (rn__notify_item_t *it = old->head; it; it = it->next)
        it->ev->pending |= 1ull << nw->idx;
    nw->head = old->head, nw->tail = old->tail, nw->len = old->len;
    old->head = old->tail = NULL, old->len = 0;
}

/* Drops the queue of old, a channel no longer configured: journaled as done, logged once. */
static void chan_drop_queue(rn_notifier_t *n, rn__notify_chan_t *old)
{
    if (old->len)
        rn_warn("notify: %s: no longer configured: %zu notification(s) it had not delivered are "
                "dropped", old->key, old->len);
    while (old->head) {
        rn__notify_item_t *it = old->head;
        old->head = it->next;
        rn__notify_store_done(n->store, it->ev->seq, old->key);
        free(it);
    }
    old->tail = NULL, old->len = 0;
}

/* Returns the channel of n keyed key that has no queue moved to it yet, or NULL. */
static rn__notify_chan_t *chan_by_key(rn_notifier_t *n, const char *key, const bool *taken)
{
    for (size_t j = 0; j < n->n_chans; j++)
        if (!taken[j] && strcmp(n->chans[j]->key, key) == 0)
            return n->chans[j];
    return NULL;
}

int rn_notifier_reconfigure(rn_notifier_t *n, const rn_notify_config_t *cfg)
{
    if (!n || n->closing)
        return -EINVAL;
    rn__notify_chan_t *old[RN_NOTIFY_MAX_CHANNELS];
    bool taken[RN_NOTIFY_MAX_CHANNELS] = { false };
    size_t n_old = n->n_chans, kept = 0;
    memcpy(old, n->chans, n_old * sizeof *old);
    n->n_chans = 0;
    set_limits(n, cfg);
    add_chans(n, cfg);
    /* queue membership is the pending bits: rebuild them for the new channel indices */
    for (rn__notify_event_t *ev = n->live; ev; ev = ev->next)
        ev->pending = 0;
    for (size_t i = 0; i < n_old; i++) {
        rn__notify_chan_t *nw = chan_by_key(n, old[i]->key, taken);
        if (nw) {
            taken[nw->idx] = true;
            kept += old[i]->len;
            chan_move_queue(old[i], nw);
        } else {
            chan_drop_queue(n, old[i]);
        }
        old[i]->retired = true;
        n->n_retiring++;
        chan_stop(old[i]); /* an exec hook in flight is killed; its new channel sends it again */
    }
    for (rn__notify_event_t *ev = n->live, *next; ev; ev = next) {
        next = ev->next;
        if (!ev->pending) {
            live_remove(n, ev);
            rn__notify_event_free(ev);
        }
    }
    if (n->loaded) /* the journal names channels by key: write it as the new channels see it */
        rn__notify_store_rewrite(n->store, n->n_live ? snapshot(n) : NULL);
    rn_info("notify: reconfigured: %zu channel(s) (was %zu); %zu queued notification(s) kept",
            n->n_chans, n_old, kept);
    for (size_t i = 0; i < n->n_chans; i++)
        chan_kick(n->chans[i]);
    return 0;
}

size_t rn_notifier_channels(const rn_notifier_t *n)
{
    return n->n_chans;
}

size_t rn_notifier_pending(const rn_notifier_t *n, size_t i)
{
    size_t sum = 0;
    for (size_t k = 0; k < n->n_chans; k++)
        if (i == SIZE_MAX || i == k)
            sum += n->chans[k]->len + n->n_early;
    return sum;
}

/* Frees a closed channel: its queue items (not the notifications), key and transport. */
static void chan_free(rn__notify_chan_t *ch)
{
    while (ch->head) {
        rn__notify_item_t *it = ch->head;
        ch->head = it->next;
        free(it);
    }
    free(ch->key);
    ch->ops->free(ch);
}

/* Last step of a close: everything is closed; free it all and tell the caller. */
static void on_anchor_closed(uv_handle_t *h)
{
    rn_notifier_t *n = rn__container_of((uv_timer_t *)h, rn_notifier_t, anchor);
    void (*cb)(void *) = n->close_cb;
    void *data = n->close_data;
    for (size_t i = 0; i < n->n_chans; i++)
        chan_free(n->chans[i]);
    while (n->live) {
        rn__notify_event_t *ev = n->live;
        n->live = ev->next;
        rn__notify_event_free(ev);
    }
    free(n->paged);
    free(n);
    if (cb)
        cb(data);
}

static void on_store_closed(void *data)
{
    rn_notifier_t *n = data;
    uv_close((uv_handle_t *)&n->anchor, on_anchor_closed);
}

static void on_curl_closed(rn_notifier_t *n)
{
    n->curl = NULL;
    rn__notify_store_close(n->store, on_store_closed, n);
}

/* Once every channel (current and retired) is closed during a close: the shared curl handle. */
static void maybe_closed(rn_notifier_t *n)
{
    if (!n->closing || n->curl_closing || n->n_closed < n->n_chans || n->n_retiring > 0)
        return;
    n->curl_closing = true;
    if (n->curl)
        rn__notify_curl_close(n, n->curl, on_curl_closed);
    else
        on_curl_closed(n);
}

/* One of a channel's two closers (retry timer, transport) is done. A retired channel (replaced by
 * a reconfigure) is freed then; a current one waits for the notifier's last step. */
static void chan_handle_closed(rn__notify_chan_t *ch)
{
    rn_notifier_t *n = ch->n;
    if (--ch->open_handles > 0)
        return;
    if (ch->retired) {
        chan_free(ch);
        n->n_retiring--;
    } else {
        n->n_closed++;
    }
    maybe_closed(n);
}

void rn__notify_chan_closed(rn__notify_chan_t *ch)
{
    chan_handle_closed(ch);
}

static void on_retry_closed(uv_handle_t *h)
{
    chan_handle_closed(rn__container_of((uv_timer_t *)h, rn__notify_chan_t, retry));
}

/* Stops ch: aborts what is in flight and closes its handles (chan_handle_closed counts them). */
static void chan_stop(rn__notify_chan_t *ch)
{
    ch->closing = true;
    uv_close((uv_handle_t *)&ch->retry, on_retry_closed);
    ch->ops->close(ch);
}

void rn_notifier_close(rn_notifier_t *n, void (*cb)(void *data), void *data)
{
    if (!n || n->closing)
        return;
    n->closing = true;
    n->close_cb = cb, n->close_data = data;
    if (n->n_early)
        rn_warn("notify: closing before the journal was read: %zu alarm event(s) not notified",
                n->n_early);
    while (n->early_head) {
        rn__notify_event_t *ev = n->early_head;
        n->early_head = ev->next;
        rn__notify_event_free(ev);
    }
    n->early_tail = NULL, n->n_early = 0;
    for (size_t i = 0; i < n->n_chans; i++)
        chan_stop(n->chans[i]);
    maybe_closed(n); /* no channels, or none left open */
}
