/* The bridge between net-snmp's single-session API and a libuv loop, for the two daemons that
 * speak SNMP: the agent's poller (requests to devices, agent/snmp_poller.c) and the collector's
 * trap sender (informs to an NMS, collector/notify/notify_trap.c).
 *
 * net-snmp wants its caller to select() on the session's socket and to call snmp_sess_timeout()
 * when its next retransmission is due. Here the socket sits in a uv_poll_t whose readability
 * calls snmp_sess_read2(), and one uv_timer_t follows the due time net-snmp reports through
 * snmp_sess_select_info2_flags() and calls snmp_sess_timeout(). After either call the owner's
 * on_io callback runs, outside net-snmp's stack, so the owner's net-snmp callbacks only record
 * what happened and on_io takes the next step (and re-arms with rn_snmp_uv_arm).
 *
 * The owner embeds an rn_snmp_uv_t (zeroed) in its own struct and gets back to it from on_io
 * with container_of. Loop thread only: net-snmp's USM tables are process globals without locks. */
#ifndef RN_SNMP_UV_H
#define RN_SNMP_UV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* The settings of one session. The strings are borrowed for the duration of rn_snmp_uv_open. */
typedef struct {
    const char *peer;      /* net-snmp's spelling: "10.0.0.1", "udp:10.0.0.1:162", "udp6:[::1]:1" */
    uint32_t version;      /* 1, 2 (v2c) or 3 */
    const char *community; /* v1 and v2c */
    const char *user, *auth_proto, *auth_key, *priv_proto, *priv_key; /* v3 (lib/snmp_usm.h) */
    uint32_t timeout_ms, retries; /* per request, net-snmp retransmits */
} rn_snmp_uv_config_t;

typedef struct rn_snmp_uv rn_snmp_uv_t;
typedef void (*rn_snmp_uv_fn)(rn_snmp_uv_t *b);

struct rn_snmp_uv {
    void *sessp; /* the net-snmp single session (snmp_sess_*), NULL unless open; owned here */
    /* private */
    uv_poll_t sock;
    uv_timer_t retx;
    rn_snmp_uv_fn on_io, on_closed;
    int open_handles;
    bool closing;
};

/* Initialises net-snmp once per process under the name app: no MIB files, no config files, no
 * persistent state, no log output of its own (callers log the reasons themselves, without
 * secrets). Loop thread only. */
void rn_snmp_uv_lib_init(const char *app);

/* Opens a session to cfg->peer and starts watching its socket on loop. The session keeps
 * SNMP_FLAGS_DONT_PROBE for its whole life (net-snmp's own v3 engine id probe is a blocking round
 * trip): the owner discovers the engine id itself (rn_snmp_discovery_pdu). on_io runs after
 * every read and every timeout. Returns 0; -EINVAL with a reason in why for bad v3 settings
 * (never naming a key); RN_ESNMP with a reason when net-snmp refuses the session or its socket
 * cannot be watched. On failure nothing is left open and b can be opened again. */
int rn_snmp_uv_open(rn_snmp_uv_t *b, uv_loop_t *loop, const rn_snmp_uv_config_t *cfg,
                    rn_snmp_uv_fn on_io, char *why, size_t why_len);

/* (Re)arms the retransmission timer from net-snmp's next due time, or stops it when net-snmp
 * has nothing outstanding. Call after every send and in on_io. Returns true if a request is
 * still outstanding; false if none is (a request net-snmp dropped without a callback shows here),
 * or if b is not open or closing. */
bool rn_snmp_uv_arm(rn_snmp_uv_t *b);

/* Stops the retransmission timer (the owner gave up on its request). Returns nothing. */
void rn_snmp_uv_stop(rn_snmp_uv_t *b);

/* Stops watching and closes the handles; the session is closed after them (the fd goes last),
 * b->sessp becomes NULL and then on_closed(b) runs, once, from the loop. b must be open.
 * Nothing of b is used after on_closed: the owner may free it there. */
void rn_snmp_uv_close(rn_snmp_uv_t *b, rn_snmp_uv_fn on_closed);

#endif
