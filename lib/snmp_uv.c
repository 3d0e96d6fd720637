/* net-snmp's single-session API driven from a libuv loop (see lib/snmp_uv.h for the contract).
 *
 * Lifetime: the two handles are initialised only once the session is open (the poll first: it is
 * the one that can fail), and the session is closed in the last close callback, after its
 * uv_poll: libuv must stop watching an fd before the fd goes. */
#include "snmp_uv.h"
#include "snmp_usm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "error.h"
#include "util.h"

void rn_snmp_uv_lib_init(const char *app)
{
    static bool done; /* net-snmp's state is process-wide; so is this flag (loop thread only) */
    if (done)
        return;
    done = true;
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, "/nonexistent");
    snmp_disable_log();
    init_snmp(app);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)status, (void)events; /* errors show as a timeout: net-snmp retransmits, then gives up */
    rn_snmp_uv_t *b = container_of(h, rn_snmp_uv_t, sock);
    if (b->closing)
        return;
    netsnmp_transport *t = snmp_sess_transport(b->sessp);
    netsnmp_large_fd_set fds;
    netsnmp_large_fd_set_init(&fds, t->sock + 1);
    NETSNMP_LARGE_FD_SET(t->sock, &fds);
    snmp_sess_read2(b->sessp, &fds); /* errors (e.g. ICMP refused) end in the timeout path */
    netsnmp_large_fd_set_cleanup(&fds);
    b->on_io(b);
}

static void on_retx(uv_timer_t *h)
{
    rn_snmp_uv_t *b = container_of(h, rn_snmp_uv_t, retx);
    if (b->closing)
        return;
    snmp_sess_timeout(b->sessp);
    b->on_io(b);
}

/* Fills s from cfg. Returns 0, or -EINVAL with why set (lib/snmp_usm.c). */
static int session_fill(netsnmp_session *s, const rn_snmp_uv_config_t *cfg, char *why,
                        size_t why_len)
{
    snmp_sess_init(s);
    s->peername = (char *)cfg->peer;
    s->timeout = (long)cfg->timeout_ms * 1000;
    s->retries = (int)cfg->retries;
    s->flags |= SNMP_FLAGS_DONT_PROBE; /* the library's probe blocks: owners discover themselves */
    if (cfg->version == 3) {
        s->version = SNMP_VERSION_3;
        return rn_snmp_set_usm(s, cfg->user, cfg->auth_proto, cfg->auth_key, cfg->priv_proto,
                               cfg->priv_key, why, why_len);
    }
    s->version = cfg->version == 1 ? SNMP_VERSION_1 : SNMP_VERSION_2c;
    s->community = (u_char *)(cfg->community ? cfg->community : "");
    s->community_len = strlen((const char *)s->community);
    return 0;
}

int rn_snmp_uv_open(rn_snmp_uv_t *b, uv_loop_t *loop, const rn_snmp_uv_config_t *cfg,
                    rn_snmp_uv_fn on_io, char *why, size_t why_len)
{
    netsnmp_session s;
    int rc = session_fill(&s, cfg, why, why_len);
    if (rc == 0 && !(b->sessp = snmp_sess_open(&s))) {
        snprintf(why, why_len, "cannot open session: %s", snmp_api_errstring(s.s_snmp_errno));
        rc = RN_ESNMP;
    }
    explicit_bzero(s.securityAuthKey, sizeof s.securityAuthKey);
    explicit_bzero(s.securityPrivKey, sizeof s.securityPrivKey);
    if (rc != 0)
        return rc;
    /* snmp_sess_open clears the flag once open, and the send path would then probe the engine
     * id with a blocking request: keep it set for the session's whole life */
    snmp_sess_session(b->sessp)->flags |= SNMP_FLAGS_DONT_PROBE;
    netsnmp_transport *t = snmp_sess_transport(b->sessp);
    if (!t || uv_poll_init(loop, &b->sock, t->sock) != 0) {
        snprintf(why, why_len, "cannot watch the session socket");
        snmp_sess_close(b->sessp);
        b->sessp = NULL;
        return RN_ESNMP;
    }
    uv_timer_init(loop, &b->retx);
    b->on_io = on_io;
    b->on_closed = NULL;
    b->closing = false;
    b->open_handles = 2;
    uv_poll_start(&b->sock, UV_READABLE, on_readable);
    return 0;
}

bool rn_snmp_uv_arm(rn_snmp_uv_t *b)
{
    if (!b->sessp || b->closing)
        return false;
    netsnmp_large_fd_set fds;
    struct timeval tv = { 0, 0 };
    int numfds = 0, block = 1;
    netsnmp_large_fd_set_init(&fds, FD_SETSIZE);
    snmp_sess_select_info2_flags(b->sessp, &numfds, &fds, &tv, &block, NETSNMP_SELECT_NOALARMS);
    netsnmp_large_fd_set_cleanup(&fds);
    if (block) {
        uv_timer_stop(&b->retx);
        return false;
    }
    uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
    uv_timer_start(&b->retx, on_retx, ms, 0);
    return true;
}

void rn_snmp_uv_stop(rn_snmp_uv_t *b)
{
    if (b->sessp)
        uv_timer_stop(&b->retx);
}

static void on_handle_closed(uv_handle_t *h)
{
    rn_snmp_uv_t *b = h->data;
    if (--b->open_handles > 0)
        return;
    snmp_sess_close(b->sessp); /* after its uv_poll is closed: the fd goes last */
    b->sessp = NULL;
    b->on_closed(b);
}

void rn_snmp_uv_close(rn_snmp_uv_t *b, rn_snmp_uv_fn on_closed)
{
    b->closing = true;
    b->on_closed = on_closed;
    b->sock.data = b->retx.data = b;
    uv_timer_stop(&b->retx);
    uv_poll_stop(&b->sock);
    uv_close((uv_handle_t *)&b->retx, on_handle_closed);
    uv_close((uv_handle_t *)&b->sock, on_handle_closed);
}
