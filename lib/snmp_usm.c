/* SNMPv3 USM helpers shared by the poller and the trap sender (see snmp_usm.h). */
#include "snmp_usm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"

const oid *rn_snmp_auth_oid(const char *name, size_t *len)
{
    static const struct { const char *name; const oid *o; } t[] = {
        { "MD5", usmHMACMD5AuthProtocol },           { "SHA", usmHMACSHA1AuthProtocol },
        { "SHA1", usmHMACSHA1AuthProtocol },         { "SHA-224", usmHMAC128SHA224AuthProtocol },
        { "SHA-256", usmHMAC192SHA256AuthProtocol }, { "SHA-384", usmHMAC256SHA384AuthProtocol },
        { "SHA-512", usmHMAC384SHA512AuthProtocol },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcasecmp(name, t[i].name) == 0) {
            *len = USM_AUTH_PROTO_SHA_LEN; /* all auth protocol OIDs have 10 arcs */
            return t[i].o;
        }
    }
    return NULL;
}

const oid *rn_snmp_priv_oid(const char *name, size_t *len)
{
    static const struct { const char *name; const oid *o; size_t len; } t[] = {
        { "DES", usmDESPrivProtocol, OID_LENGTH(usmDESPrivProtocol) },
        { "AES", usmAESPrivProtocol, OID_LENGTH(usmAESPrivProtocol) },
        { "AES-128", usmAESPrivProtocol, OID_LENGTH(usmAESPrivProtocol) },
        { "AES-192", usmAES192PrivProtocol, OID_LENGTH(usmAES192PrivProtocol) },
        { "AES-256", usmAES256PrivProtocol, OID_LENGTH(usmAES256PrivProtocol) },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcasecmp(name, t[i].name) == 0) {
            *len = t[i].len;
            return t[i].o;
        }
    }
    return NULL;
}

int rn_snmp_set_usm(netsnmp_session *s, const char *user, const char *auth_proto,
                    const char *auth_key, const char *priv_proto, const char *priv_key,
                    char *why, size_t why_len)
{
    bool auth = auth_key && *auth_key, priv = priv_key && *priv_key;
    s->securityName = (char *)user;
    s->securityNameLen = strlen(user);
    s->securityModel = SNMP_SEC_MODEL_USM;
    s->securityLevel = priv ? SNMP_SEC_LEVEL_AUTHPRIV
                            : auth ? SNMP_SEC_LEVEL_AUTHNOPRIV : SNMP_SEC_LEVEL_NOAUTH;
    if (priv && !auth) {
        snprintf(why, why_len, "v3 privacy key without an auth key");
        return -EINVAL;
    }
    if (!auth)
        return 0;
    const char *ap = auth_proto && *auth_proto ? auth_proto : "SHA";
    s->securityAuthProto = (oid *)rn_snmp_auth_oid(ap, &s->securityAuthProtoLen);
    s->securityAuthKeyLen = USM_AUTH_KU_LEN;
    if (!s->securityAuthProto ||
        generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (u_char *)auth_key,
                    strlen(auth_key), s->securityAuthKey, &s->securityAuthKeyLen) != 0) {
        snprintf(why, why_len, "bad v3 auth protocol \"%s\" or key", ap);
        return -EINVAL;
    }
    if (!priv)
        return 0;
    const char *pp = priv_proto && *priv_proto ? priv_proto : "AES";
    s->securityPrivProto = (oid *)rn_snmp_priv_oid(pp, &s->securityPrivProtoLen);
    s->securityPrivKeyLen = USM_PRIV_KU_LEN;
    if (!s->securityPrivProto ||
        generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (u_char *)priv_key,
                    strlen(priv_key), s->securityPrivKey, &s->securityPrivKeyLen) != 0) {
        snprintf(why, why_len, "bad v3 privacy protocol \"%s\" or key", pp);
        return -EINVAL;
    }
    return 0;
}

/* Makes sure the USM table has the empty noAuthNoPriv user that engine id probes are sent as
 * (net-snmp creates it only in its own blocking probe). Returns 0 or -ENOMEM. */
static int ensure_probe_user(void)
{
    if (usm_get_user(NULL, 0, ""))
        return 0;
    struct usmUser *u = usm_create_user(); /* noAuth/noPriv protocols by default */
    if (!u)
        return -ENOMEM;
    u->name = strdup("");
    u->secName = strdup("");
    if (!u->name || !u->secName) {
        usm_free_user(u);
        return -ENOMEM;
    }
    usm_add_user(u);
    return 0;
}

netsnmp_pdu *rn_snmp_discovery_pdu(void)
{
    netsnmp_pdu *pdu = ensure_probe_user() == 0 ? snmp_pdu_create(SNMP_MSG_GET) : NULL;
    if (!pdu || !(pdu->securityName = strdup(""))) {
        snmp_free_pdu(pdu);
        return NULL;
    }
    pdu->version = SNMP_VERSION_3;
    pdu->securityNameLen = 0;
    pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
    pdu->securityModel = SNMP_SEC_MODEL_USM;
    return pdu;
}

int rn_snmp_install_user(netsnmp_session *s, const u_char *engine, size_t engine_len, char *why,
                         size_t why_len)
{
    if (s->securityEngineIDLen == 0) {
        s->securityEngineID = netsnmp_memdup(engine, engine_len);
        if (!s->securityEngineID) {
            snprintf(why, why_len, "out of memory");
            return -ENOMEM;
        }
        s->securityEngineIDLen = engine_len;
    }
    /* one global USM user per (engine id, name): an existing entry keeps its old keys (a key
     * change in the plan, an earlier session), and after the Report net-snmp may already have
     * made one from this session; replace it either way */
    struct usmUser *old = usm_get_user(s->securityEngineID, s->securityEngineIDLen,
                                       s->securityName);
    if (old) {
        usm_remove_user(old);
        usm_free_user(old);
    }
    s->flags &= ~SNMP_FLAGS_USER_CREATED; /* net-snmp may have set it when the Report came */
    if (usm_create_user_from_session(s) != SNMPERR_SUCCESS) {
        snprintf(why, why_len, "cannot set up the USM user for the discovered engine");
        return RN_ESNMP;
    }
    return 0;
}

void rn_snmp_forget_engine(netsnmp_session *s)
{
    SNMP_FREE(s->securityEngineID);
    s->securityEngineIDLen = 0;
    SNMP_FREE(s->contextEngineID);
    s->contextEngineIDLen = 0;
    s->flags &= ~SNMP_FLAGS_USER_CREATED;
}
