/* Notifier: pages the NOC and the state NMS about alarm events (docs/architecture.md, "Modules").
 *
 * Why: an alarm is only useful if somebody hears of it, and the collector must keep working while
 * an NMS, a syslog server or a webhook endpoint is down. So every destination is a *channel* with
 * its own queue, its own retry timer and its own state: a dead receiver backs up its own queue and
 * nothing else, and no channel ever blocks the loop thread.
 *
 * Channels (any number of each, 64 in all):
 *   traps    SNMPv2c traps or informs, SNMPv3 informs (USM auth/priv), RAJNET-MONITOR-MIB
 *            (mibs/RAJNET-MONITOR-MIB.txt): rnAlarmRaised / rnAlarmPromoted / rnAlarmCleared.
 *   syslog   RFC 5424 with structured data [rajnet@32473 …] over UDP or TCP (octet counting).
 *   webhooks JSON POST (libcurl multi driven by the loop), 2xx is success, TLS verified.
 *   exec     /bin/sh -c command, the JSON on stdin and RAJNET_* in the environment; exit 0 is
 *            success, killed (its whole process group) after timeout_ms.
 * Which events are sent: RAISED and PROMOTED (a root to page), and CLEARED of an alarm that was
 * paged by this notifier. SYMPTOM_OF is never sent (docs/architecture.md, "Alarms": record, do
 * not page).
 *
 * Report messages: when the monthly SLA reports are written (collector/report/report_monthly.c,
 * on the 1st or by hand) rn_notifier_report() hands "report ready" to every webhook and exec
 * channel that takes reports, with the same queue, retries, timeout and journal as an alarm:
 *   webhook  POST {"source": "rajnet-collector", "event": "report", "at", "at_ms",
 *                  "month": "YYYY-MM", "files": [paths]}
 *   exec     that JSON on stdin; RAJNET_EVENT=report, RAJNET_REPORT_MONTH=YYYY-MM,
 *            RAJNET_REPORT_FILES=the paths one a line (no RAJNET_ALARM_ID, _SEVERITY, _NODE)
 * A channel says what it takes with alarms: false or reports: false (both true by default).
 *
 * Delivery is at least once and in order per channel: one notification in flight per channel; a
 * failure is retried after 1, 2, 4, … s (retry_initial_ms doubling up to retry_max_ms) until it
 * succeeds or is older than max_age_s, when it is dropped with one log line. v2c traps and UDP
 * syslog count as delivered once sent (the protocols have no answer); use informs or TCP syslog
 * for acknowledged delivery.
 *
 * Persistence: every notification is appended to a journal (<state_dir>/pending.journal) and
 * marked done per channel when delivered or dropped; writes run on the libuv thread pool, one at a
 * time, in order. At open the journal is read (on the pool too) and what is still pending is queued
 * again on the channels that are still configured (channels are matched by their key, e.g.
 * "webhook http://nms/hook"), so a restart loses nothing; the journal is then compacted, and
 * truncated whenever nothing is pending.
 *
 * collector.yaml section (read by rn_notify_config_read; unknown keys are errors with file:line):
 *   notify:
 *     state_dir: /var/lib/rajnet/notify  # journal folder, relative to the config file [none:
 *                                        #   pending notifications then live in memory only]
 *     max_age_s: 86400                   # drop undelivered notifications older than this
 *     retry_initial_ms: 1000             # first retry delay, doubling per failure …
 *     retry_max_ms: 60000                # … up to this
 *     max_queue: 10000                   # per channel; beyond it the oldest is dropped (logged)
 *     traps:
 *       - { target: "udp:192.0.2.10:162", version: 2c, community: nms-trap }  # inform: false
 *       - { target: "udp:192.0.2.10:162", version: 3, inform: true, user: nms, auth: SHA,
 *           auth_key: "…", priv: AES, priv_key: "…", timeout_ms: 3000, retries: 2 }
 *     syslog:
 *       - { target: "udp:192.0.2.20:514", facility: 16 }      # tcp:… for TCP; facility [16]
 *     webhooks:
 *       - { url: "https://nms.example/hook", timeout_ms: 3000 }       # alarms and reports
 *     exec:
 *       - { command: "/usr/local/bin/sms-gateway --to noc", timeout_ms: 5000, reports: false }
 *       - { command: "/usr/local/bin/mail-reports", timeout_ms: 60000, alarms: false }
 * Targets are transport:IP:port with a literal IPv4 or [IPv6] address (udp, udp6, tcp, tcp6):
 * resolving a name would block the loop. v3 needs inform: true (a v3 trap would need the NMS to
 * know our engine id); auth is MD5, SHA, SHA-224/256/384/512 [SHA], priv DES, AES, AES-192/256
 * [AES]; no auth_key means noAuthNoPriv, auth_key alone authNoPriv.
 *
 * Threads: one loop thread calls everything here. The process should ignore SIGPIPE (an exec hook
 * that exits without reading stdin must not kill the collector; main.c does). */
#ifndef RN_NOTIFY_H
#define RN_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <yaml.h>

#include "alarm/alarm.h"
#include "yamldoc.h"

#define RN_NOTIFY_MAX_CHANNELS 64

typedef struct {
    char *target;       /* "udp:IP:port" */
    uint32_t version;   /* 2 (v2c) or 3 */
    bool inform;        /* wait for the NMS's answer (v3 requires it) */
    char *community;    /* v2c */
    char *user, *auth, *auth_key, *priv, *priv_key; /* v3 */
    uint32_t timeout_ms, retries;   /* per inform attempt (net-snmp's own retransmissions) */
} rn_notify_trap_config_t;

typedef struct {
    char *target;       /* "udp:IP:port" or "tcp:IP:port" */
    uint32_t facility;  /* 0..23 [16: local0] */
    uint32_t timeout_ms; /* TCP connect + write [5000] */
} rn_notify_syslog_config_t;

/* What a channel is sent. Traps and syslog take alarms only; webhooks and exec hooks take both
 * unless the operator says otherwise (alarms: false or reports: false). */
#define RN_NOTIFY_ALARMS 1u  /* alarm events: raised, promoted, cleared */
#define RN_NOTIFY_REPORTS 2u /* the monthly SLA reports are written (rn_notifier_report) */

typedef struct {
    char *url;
    uint32_t timeout_ms; /* whole request [5000] */
    unsigned kinds;      /* RN_NOTIFY_ALARMS | RN_NOTIFY_REPORTS [0: both] */
} rn_notify_webhook_config_t;

typedef struct {
    char *command;      /* run as /bin/sh -c command */
    uint32_t timeout_ms; /* [10000] */
    unsigned kinds;      /* RN_NOTIFY_ALARMS | RN_NOTIFY_REPORTS [0: both] */
} rn_notify_exec_config_t;

typedef struct {
    char *state_dir;    /* NULL: no persistence */
    uint32_t max_age_s, retry_initial_ms, retry_max_ms, max_queue;
    rn_notify_trap_config_t *traps;
    size_t n_traps;
    rn_notify_syslog_config_t *syslogs;
    size_t n_syslogs;
    rn_notify_webhook_config_t *webhooks;
    size_t n_webhooks;
    rn_notify_exec_config_t *execs;
    size_t n_execs;
} rn_notify_config_t;

typedef struct rn_notifier rn_notifier_t;

/* Reads the `notify` mapping at node into *out (zeroed and defaulted first). Relative state_dir
 * is resolved against the folder of y->file. Returns y->rc: 0, or RN_ESCHEMA / -ENOMEM with the
 * "file:line: notify.…: what" message in y's error buffer. Call rn_notify_config_free(out) after
 * any result. */
int rn_notify_config_read(rn_yaml_t *y, yaml_node_t *node, rn_notify_config_t *out);

/* Frees what *cfg holds (not cfg itself) and zeroes it. NULL is fine. */
void rn_notify_config_free(rn_notify_config_t *cfg);

/* Creates a notifier on loop with the channels of cfg (copied: cfg may be freed after the call)
 * and starts reading the journal in state_dir on the thread pool (pending notifications are
 * re-sent once read; alarms handed over meanwhile wait and are sent after them). A channel that
 * cannot be set up (net-snmp refuses the session, bad USM keys) is logged and left out; the
 * others work. cfg values of 0 take the defaults above. Returns 0 or -ENOMEM. */
int rn_notifier_open(uv_loop_t *loop, const rn_notify_config_t *cfg, rn_notifier_t **out);

/* Hands an alarm event to every channel. a is borrowed (copied here); at_ms is the engine's clock
 * (Unix ms) and is the notification's time. Never blocks, never fails loudly: an allocation
 * failure is logged. Matches rn_alarm_event_fn, so it can be called from the engine's callback. */
void rn_notifier_alarm(rn_notifier_t *n, rn_alarm_event_kind_t kind, const rn_alarm_t *a,
                       int64_t at_ms);

/* Hands "the reports of month (YYYY-MM) are written" to every channel that takes reports; files
 * are their paths, one a line (both borrowed: copied here); at_ms is the notification's time (Unix
 * ms). Journaled, retried and timed out like an alarm; never blocks; an allocation failure is
 * logged. Returns the number of channels it was queued on (0: none takes reports). */
size_t rn_notifier_report(rn_notifier_t *n, const char *month, const char *files, int64_t at_ms);

/* Replaces n's channels and settings by cfg's (copied) while it runs: SIGHUP. What a channel
 * still has to deliver moves to the new channel of the same key (e.g. "exec /usr/bin/sms"), in
 * order, so nothing queued is lost; what is in flight on it is aborted (an exec hook is killed)
 * and sent again by the new one. The queue of a channel that is no longer configured is dropped
 * (marked done in the journal, logged). state_dir cannot change (the journal stays where it is):
 * the caller keeps the old one. The set of paged alarms is kept, so clears are still sent.
 * Returns 0, or -EINVAL when n is closing. */
int rn_notifier_reconfigure(rn_notifier_t *n, const rn_notify_config_t *cfg);

/* True when a and b configure the same channels with the same settings (a reload that changes
 * nothing in `notify` leaves the notifier alone). */
bool rn_notify_config_equal(const rn_notify_config_t *a, const rn_notify_config_t *b);

/* Notifications waiting (queued or in flight) on channel i (0-based, in the order traps, syslog,
 * webhooks, exec as configured, minus channels left out), or on all channels for i = SIZE_MAX.
 * Journal records not read back yet are not counted. For /metrics and tests. */
size_t rn_notifier_pending(const rn_notifier_t *n, size_t i);

/* Number of channels. */
size_t rn_notifier_channels(const rn_notifier_t *n);

/* Stops delivering (what is in flight stays pending in the journal and is sent after restart),
 * kills running exec hooks, finishes the journal writes, closes every handle and frees n; then
 * calls cb(data) from the loop. Fires exactly once. NULL n calls nothing. */
void rn_notifier_close(rn_notifier_t *n, void (*cb)(void *data), void *data);

#endif
