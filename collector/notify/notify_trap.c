/* Trap channel: RAJNET-MONITOR-MIB notifications to an NMS as SNMPv2c traps, v2c informs or
 * SNMPv3 informs (USM auth/priv). The only collector module that speaks net-snmp.
 *
 * Why on the loop and not on a worker thread: net-snmp's USM tables and engine state are process
 * globals without locks, so one thread must own every call; the single-session API lets that be
 * the loop thread without ever blocking it, through the bridge agent/snmp_poller.c uses too
 * (lib/snmp_uv.h). Each channel owns one session (with SNMP_FLAGS_DONT_PROBE: the library's own
 * engine id probe is a blocking round trip); its socket sits in a uv_poll_t (replies go to
 * snmp_sess_read2) and one uv_timer_t follows net-snmp's next retransmission. Targets are
 * literal addresses, so opening a session resolves nothing.
 *
 * How one notification goes:
 *   v2c trap:   build the TRAP2 PDU, snmp_sess_send (UDP, no answer): delivered once sent.
 *   inform:     [v3 without the receiver's engine id: discovery GET as the empty user -> Report
 *               carrying the engine id -> localise the user's keys] -> INFORM via
 *               snmp_sess_async_send -> RESPONSE is delivered; net-snmp's retries running out
 *               is a failure (the core retries later with backoff; a v3 engine id is then
 *               discovered again, the NMS may have been reinstalled).
 * The net-snmp callback only records what happened (t->event); the next step runs after
 * snmp_sess_read2 / snmp_sess_timeout return, so nothing is sent from inside net-snmp's stack.
 *
 * Varbinds (numeric OIDs; names in mibs/RAJNET-MONITOR-MIB.txt): sysUpTime.0 (centiseconds since
 * the notifier opened), snmpTrapOID.0, then rnAlarmType … rnAlarmPlanned, each instance .<id>. */
#include "notify/notify_int.h"
#include "snmp_usm.h"
#include "snmp_uv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "error.h"
#include "log.h"

#define RN_MIB 1, 3, 6, 1, 4, 1, RN_NOTIFY_PEN /* rajnetMonitorMIB */
#define STR_MAX 1024                               /* RnUtf8String's size limit */

enum { COL_TYPE = 2, COL_SEVERITY, COL_NODE, COL_ENTITY, COL_VENDOR, COL_CIRCUIT, COL_ROOT,
       COL_IMPACT, COL_TEXT, COL_RAISED_AT, COL_STATE, COL_PLANNED,
       COL_SERVICE /* after the notifications' OBJECTS (RFC 3416 4.2.6) */ };

typedef enum { PH_IDLE, PH_DISCOVER, PH_INFORM } phase_t;
typedef enum { EV_NONE, EV_DISCOVERED, EV_ACKED, EV_TIMEOUT, EV_ERROR } trap_event_t;

typedef struct {
    rn__notify_chan_t base;
    char *peer, *community, *user, *auth, *auth_key, *priv, *priv_key;
    uint32_t version, timeout_ms, retries;
    bool inform;
    rn_snmp_uv_t snmp;          /* the session and its socket and timer (lib/snmp_uv.h) */
    uint64_t start_ms;          /* uv_now at open: sysUpTime's zero */
    phase_t phase;
    trap_event_t event;
    const rn__notify_event_t *ev; /* in flight (owned by the core until done) */
    u_char engine[SNMP_MAXBUF_SMALL];
    size_t engine_len;
} trap_t;

static void on_snmp_io(rn_snmp_uv_t *b);
static int on_pdu(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic);

/* ---- the PDU --------------------------------------------------------------------------------- */

/* Adds column col of the alarm table, instance .id, with a value of type/len. Returns 0 or -1. */
static int add_col(netsnmp_pdu *pdu, int col, uint64_t id, u_char type, const void *val,
                   size_t len)
{
    oid name[] = { RN_MIB, 1, 1, 1, (oid)col, (oid)(id & 0xffffffffu) };
    return snmp_pdu_add_variable(pdu, name, OID_LENGTH(name), type, val, len) ? 0 : -1;
}

/* Adds a string column, cut to STR_MAX bytes at a UTF-8 character boundary. Returns 0 or -1. */
static int add_str(netsnmp_pdu *pdu, int col, uint64_t id, const char *s)
{
    size_t len = strlen(s);
    if (len > STR_MAX) {
        len = STR_MAX;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    return add_col(pdu, col, id, ASN_OCTET_STR, s, len);
}

/* Fills an 11-octet DateAndTime (UTC) for Unix ms. */
static void date_and_time(int64_t ms, u_char out[11])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    memset(out, 0, 11);
    if (ms <= 0 || !gmtime_r(&s, &tm))
        return;
    int year = tm.tm_year + 1900;
    out[0] = (u_char)(year >> 8), out[1] = (u_char)(year & 0xff);
    out[2] = (u_char)(tm.tm_mon + 1), out[3] = (u_char)tm.tm_mday, out[4] = (u_char)tm.tm_hour;
    out[5] = (u_char)tm.tm_min, out[6] = (u_char)tm.tm_sec, out[7] = (u_char)((ms % 1000) / 100);
    out[8] = '+';
}

/* Builds the notification PDU (command TRAP2 or INFORM) for ev. Returns it, or NULL. */
static netsnmp_pdu *build_pdu(trap_t *t, const rn__notify_event_t *ev, int command)
{
    static const oid uptime_oid[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };
    static const oid trapoid_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0 };
    oid which = ev->kind == RN_ALARM_EV_CLEARED ? 2 : ev->kind == RN_ALARM_EV_PROMOTED ? 3 : 1;
    oid trap[] = { RN_MIB, 0, which };
    netsnmp_pdu *pdu = snmp_pdu_create(command);
    if (!pdu)
        return NULL;
    u_long ticks = (u_long)((uv_now(rn__notify_loop(t->base.n)) - t->start_ms) / 10);
    long type = ev->type + 1, sev = ev->severity, state = ev->kind == RN_ALARM_EV_CLEARED ? 2 : 1;
    long planned = ev->planned ? 1 : 2;
    u_long root = (u_long)(ev->root_id & 0xffffffffu);
    u_char raised[11];
    date_and_time(ev->raised_ms > 0 ? ev->raised_ms : ev->at_ms, raised);
    uint64_t id = ev->id;
    int bad = !snmp_pdu_add_variable(pdu, uptime_oid, OID_LENGTH(uptime_oid), ASN_TIMETICKS,
                                     &ticks, sizeof ticks) ||
              !snmp_pdu_add_variable(pdu, trapoid_oid, OID_LENGTH(trapoid_oid), ASN_OBJECT_ID,
                                     trap, sizeof trap);
    bad = bad || add_col(pdu, COL_TYPE, id, ASN_INTEGER, &type, sizeof type) ||
          add_col(pdu, COL_SEVERITY, id, ASN_INTEGER, &sev, sizeof sev) ||
          add_str(pdu, COL_NODE, id, ev->node) || add_str(pdu, COL_ENTITY, id, ev->entity) ||
          add_str(pdu, COL_VENDOR, id, ev->vendor) || add_str(pdu, COL_CIRCUIT, id, ev->circuit) ||
          add_col(pdu, COL_ROOT, id, ASN_UNSIGNED, &root, sizeof root) ||
          add_str(pdu, COL_IMPACT, id, ev->impact) || add_str(pdu, COL_TEXT, id, ev->text) ||
          add_col(pdu, COL_RAISED_AT, id, ASN_OCTET_STR, raised, sizeof raised) ||
          add_col(pdu, COL_STATE, id, ASN_INTEGER, &state, sizeof state) ||
          add_col(pdu, COL_PLANNED, id, ASN_INTEGER, &planned, sizeof planned) ||
          add_str(pdu, COL_SERVICE, id, ev->service);
    if (bad) {
        snmp_free_pdu(pdu);
        return NULL;
    }
    return pdu;
}

/* ---- USM ------------------------------------------------------------------------------------- */

/* Sends the engine id discovery request (an empty GET from the empty user, answered by a
 * usmStatsUnknownEngineIDs Report). Returns 0 or RN_ESNMP with why set. */
static int discover_send(trap_t *t)
{
    netsnmp_pdu *pdu = rn_snmp_discovery_pdu();
    if (!pdu) {
        snprintf(t->base.why, sizeof t->base.why, "out of memory");
        return RN_ESNMP;
    }
    if (snmp_sess_async_send(t->snmp.sessp, pdu, on_pdu, t) == 0) {
        snprintf(t->base.why, sizeof t->base.why, "cannot send the engine id probe: %s",
                 snmp_api_errstring(snmp_sess_session(t->snmp.sessp)->s_snmp_errno));
        snmp_free_pdu(pdu);
        return RN_ESNMP;
    }
    return 0;
}

/* Installs the discovered engine id and localises the user's keys for it (lib/snmp_usm.c).
 * Returns 0, or -ENOMEM or RN_ESNMP with why set. */
static int discover_done(trap_t *t)
{
    return rn_snmp_install_user(snmp_sess_session(t->snmp.sessp), t->engine, t->engine_len,
                                t->base.why, sizeof t->base.why);
}

/* Forgets the receiver's engine id so that the next inform discovers it again. */
static void forget_engine(trap_t *t)
{
    netsnmp_session *s = snmp_sess_session(t->snmp.sessp);
    if (t->version == 3 && s)
        rn_snmp_forget_engine(s);
}

/* ---- the exchange ---------------------------------------------------------------------------- */

/* The net-snmp callback of every request: records the outcome in t->event and returns 1. It runs
 * inside snmp_sess_read2/snmp_sess_timeout, so it sends nothing and calls no core function. */
static int on_pdu(int op, netsnmp_session *s, int reqid, netsnmp_pdu *pdu, void *magic)
{
    trap_t *t = magic;
    if (t->base.closing || t->phase == PH_IDLE)
        return 1;
    if (op == NETSNMP_CALLBACK_OP_RESEND)
        return 1;
    if (op == NETSNMP_CALLBACK_OP_TIMED_OUT) {
        snprintf(t->base.why, sizeof t->base.why, "no answer from the NMS");
        t->event = EV_TIMEOUT;
        return 1;
    }
    if (op == NETSNMP_CALLBACK_OP_SEC_ERROR && t->phase == PH_DISCOVER)
        return 1; /* the unauthenticated Report we asked for follows */
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || !pdu) {
        snprintf(t->base.why, sizeof t->base.why, "inform failed (net-snmp op %d): %s", op,
                 snmp_api_errstring(s->s_snmp_errno));
        t->event = EV_ERROR;
        return 1;
    }
    if (pdu->command == SNMP_MSG_REPORT) {
        int type = snmpv3_get_report_type(pdu);
        if (t->phase == PH_DISCOVER && pdu->securityEngineIDLen > 0 &&
            pdu->securityEngineIDLen <= sizeof t->engine) {
            memcpy(t->engine, pdu->securityEngineID, pdu->securityEngineIDLen);
            t->engine_len = pdu->securityEngineIDLen;
            t->event = EV_DISCOVERED;
            return 1;
        }
        if (type == SNMPERR_NOT_IN_TIME_WINDOW)
            return 1; /* net-snmp re-sends with the engine time it just learnt */
        snprintf(t->base.why, sizeof t->base.why, "NMS refused the inform: %s",
                 snmp_api_errstring(type));
        t->event = EV_ERROR;
        return 1;
    }
    if (pdu->command != SNMP_MSG_RESPONSE)
        return 1;
    if (t->phase == PH_DISCOVER) {
        snprintf(t->base.why, sizeof t->base.why, "NMS answered the engine probe without a Report");
        t->event = EV_ERROR;
    } else if (pdu->errstat != SNMP_ERR_NOERROR) {
        snprintf(t->base.why, sizeof t->base.why, "NMS answered with %s",
                 snmp_errstring((int)pdu->errstat));
        t->event = EV_ERROR;
    } else {
        t->event = EV_ACKED;
    }
    return 1;
}

/* Ends the notification in flight with status and tells the core. */
static void finish(trap_t *t, int status)
{
    t->phase = PH_IDLE;
    t->event = EV_NONE;
    t->ev = NULL;
    rn_snmp_uv_stop(&t->snmp);
    if (status == -ETIMEDOUT)
        forget_engine(t);
    rn__notify_chan_done(&t->base, status);
}

/* Sends the INFORM for the notification in flight. Returns 0 or RN_ESNMP with why set. */
static int inform_send(trap_t *t)
{
    netsnmp_pdu *pdu = build_pdu(t, t->ev, SNMP_MSG_INFORM);
    if (!pdu) {
        snprintf(t->base.why, sizeof t->base.why, "cannot build the inform");
        return RN_ESNMP;
    }
    t->phase = PH_INFORM;
    if (snmp_sess_async_send(t->snmp.sessp, pdu, on_pdu, t) == 0) {
        snprintf(t->base.why, sizeof t->base.why, "cannot send the inform: %s",
                 snmp_api_errstring(snmp_sess_session(t->snmp.sessp)->s_snmp_errno));
        snmp_free_pdu(pdu);
        return RN_ESNMP;
    }
    return 0;
}

/* After a read or a timeout: take the step the last callback asked for, then re-arm. */
static void after_io(trap_t *t)
{
    trap_event_t e = t->event;
    t->event = EV_NONE;
    if (t->phase == PH_IDLE || t->base.closing)
        return;
    int rc = 0;
    if (e == EV_DISCOVERED) {
        rc = discover_done(t);
        if (rc == 0)
            rc = inform_send(t);
    } else if (e == EV_ACKED) {
        finish(t, 0);
        return;
    } else if (e == EV_TIMEOUT) {
        finish(t, -ETIMEDOUT);
        return;
    } else if (e == EV_ERROR) {
        rc = RN_ESNMP;
    }
    if (rc) {
        finish(t, rc);
        return;
    }
    if (!rn_snmp_uv_arm(&t->snmp)) {
        snprintf(t->base.why, sizeof t->base.why, "request abandoned by net-snmp");
        finish(t, -ETIMEDOUT);
    }
}

static void on_snmp_io(rn_snmp_uv_t *b)
{
    after_io(rn__container_of(b, trap_t, snmp));
}

static int trap_send(rn__notify_chan_t *ch, const rn__notify_event_t *ev)
{
    trap_t *t = (trap_t *)ch;
    if (!t->inform) {
        netsnmp_pdu *pdu = build_pdu(t, ev, SNMP_MSG_TRAP2);
        if (!pdu) {
            snprintf(ch->why, sizeof ch->why, "cannot build the trap");
            return RN_ESNMP;
        }
        if (snmp_sess_send(t->snmp.sessp, pdu) == 0) {
            snprintf(ch->why, sizeof ch->why, "cannot send the trap: %s",
                     snmp_api_errstring(snmp_sess_session(t->snmp.sessp)->s_snmp_errno));
            snmp_free_pdu(pdu);
            return RN_ESNMP;
        }
        rn__notify_chan_done(ch, 0);
        return 0;
    }
    t->ev = ev;
    int rc;
    if (t->version == 3 && snmp_sess_session(t->snmp.sessp)->securityEngineIDLen == 0) {
        t->phase = PH_DISCOVER;
        rc = discover_send(t);
    } else {
        rc = inform_send(t);
    }
    if (rc) {
        t->phase = PH_IDLE;
        t->ev = NULL;
        return rc;
    }
    rn_snmp_uv_arm(&t->snmp);
    return 0;
}

/* ---- lifetime -------------------------------------------------------------------------------- */

static void on_trap_snmp_closed(rn_snmp_uv_t *b)
{
    rn__notify_chan_closed(&rn__container_of(b, trap_t, snmp)->base);
}

static void trap_close(rn__notify_chan_t *ch)
{
    trap_t *t = (trap_t *)ch;
    t->phase = PH_IDLE;
    rn_snmp_uv_close(&t->snmp, on_trap_snmp_closed);
}

static void trap_free(rn__notify_chan_t *ch)
{
    trap_t *t = (trap_t *)ch; /* its session, if any, closed with the bridge (trap_close) */
    free(t->peer), free(t->community), free(t->user), free(t->auth), free(t->priv);
    if (t->auth_key)
        explicit_bzero(t->auth_key, strlen(t->auth_key));
    if (t->priv_key)
        explicit_bzero(t->priv_key, strlen(t->priv_key));
    free(t->auth_key), free(t->priv_key);
    free(t);
}

static const rn__notify_chan_ops_t trap_ops = { trap_send, trap_close, trap_free };

/* Opens the channel's net-snmp session on loop (lib/snmp_uv.h). Returns 0, -EINVAL (bad USM
 * settings) or RN_ESNMP, logged. */
static int open_session(trap_t *t, uv_loop_t *loop)
{
    rn_snmp_uv_config_t cfg = {
        .peer = t->peer, .version = t->version, .community = t->community, .user = t->user,
        .auth_proto = t->auth, .auth_key = t->auth_key, .priv_proto = t->priv,
        .priv_key = t->priv_key, .timeout_ms = t->timeout_ms, .retries = t->retries,
    };
    char why[160];
    int rc = rn_snmp_uv_open(&t->snmp, loop, &cfg, on_snmp_io, why, sizeof why);
    if (rc)
        rn_error("notify: trap %s: %s", t->peer, why);
    return rc;
}

/* Copies cfg into t, rewriting the target into net-snmp's spelling. Returns 0 or -errno. */
static int copy_config(trap_t *t, const rn_notify_trap_config_t *cfg)
{
    bool tcp;
    struct sockaddr_storage ss;
    char host[64];
    if (rn__notify_parse_target(cfg->target, &tcp, &ss) != 0 || tcp)
        return -EINVAL;
    int port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
    }
    if (asprintf(&t->peer, ss.ss_family == AF_INET6 ? "udp6:[%s]:%d" : "udp:%s:%d", host,
                 port) < 0) {
        t->peer = NULL;
        return -ENOMEM;
    }
    t->version = cfg->version == 3 ? 3 : 2;
    t->inform = cfg->inform || t->version == 3;
    t->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 3000;
    t->retries = cfg->retries;
    t->community = strdup(cfg->community ? cfg->community : "public");
    t->user = strdup(cfg->user ? cfg->user : "");
    t->auth = strdup(cfg->auth ? cfg->auth : "");
    t->auth_key = strdup(cfg->auth_key ? cfg->auth_key : "");
    t->priv = strdup(cfg->priv ? cfg->priv : "");
    t->priv_key = strdup(cfg->priv_key ? cfg->priv_key : "");
    if (!t->community || !t->user || !t->auth || !t->auth_key || !t->priv || !t->priv_key)
        return -ENOMEM;
    return asprintf(&t->base.key, "trap %s", cfg->target) < 0 ? (t->base.key = NULL, -ENOMEM) : 0;
}

int rn__notify_trap_new(rn_notifier_t *n, const rn_notify_trap_config_t *cfg,
                        rn__notify_chan_t **out)
{
    trap_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    rn_snmp_uv_lib_init("rajnet-collector");
    uv_loop_t *loop = rn__notify_loop(n);
    int rc = copy_config(t, cfg);
    if (rc == 0)
        rc = open_session(t, loop);
    if (rc) {
        free(t->base.key);
        trap_free(&t->base);
        return rc;
    }
    t->start_ms = uv_now(loop);
    t->base.n = n;
    t->base.ops = &trap_ops;
    *out = &t->base;
    return 0;
}
