/* SNMPv3 USM pieces both daemons need from net-snmp: the agent's poller (requests to devices)
 * and the collector's trap sender (informs to an NMS). Both open single sessions with
 * SNMP_FLAGS_DONT_PROBE, because net-snmp's own engine id probe blocks, and discover the peer's
 * engine id themselves with an asynchronous request built here.
 *
 * Secrets never appear in the reasons these functions write. */
#ifndef RN_SNMP_USM_H
#define RN_SNMP_USM_H

#include <stddef.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

/* The OID (and its length) of an auth protocol name ("MD5", "SHA", "SHA-224" .. "SHA-512") or a
 * privacy protocol name ("DES", "AES", "AES-192", "AES-256"); NULL for an unknown name. */
const oid *rn_snmp_auth_oid(const char *name, size_t *len);
const oid *rn_snmp_priv_oid(const char *name, size_t *len);

/* Fills the USM part of session s: the security level from which keys are present, the
 * protocols by name (SHA and AES when not given), Ku keys from the pass phrases. The strings are
 * borrowed: user must outlive the session's opening. Returns 0, or -EINVAL with a reason in why. */
int rn_snmp_set_usm(netsnmp_session *s, const char *user, const char *auth_proto,
                    const char *auth_key, const char *priv_proto, const char *priv_key,
                    char *why, size_t why_len);

/* The engine id discovery request: an empty GET from the empty noAuthNoPriv user, which a peer
 * answers with a usmStatsUnknownEngineIDs Report carrying its engine id. NULL when out of
 * memory. The caller sends it (and frees it if sending fails). */
netsnmp_pdu *rn_snmp_discovery_pdu(void);

/* Installs a discovered engine id in session s (unless net-snmp already did) and localises the
 * user's keys for it, replacing any USM entry for the same engine and name (net-snmp would keep
 * an old entry's keys). Returns 0, or -ENOMEM or RN_ESNMP with a reason in why. */
int rn_snmp_install_user(netsnmp_session *s, const u_char *engine, size_t engine_len, char *why,
                         size_t why_len);

/* Forgets the engine id of session s, so that the next request discovers it again. */
void rn_snmp_forget_engine(netsnmp_session *s);

#endif
