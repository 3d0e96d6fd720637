/* TLS contexts (see tls.h): the SSL_CTX with its policy, the files it loads, and the client's
 * session tickets; streams (lib/tls.c) are made from a context. Split from the streams because
 * loading and checking files is a job of its own (rn_tls_check_files runs it without a stream),
 * and the streams read it only through lib/tls_ctx.h.
 *
 * Session resumption: the server issues stateless tickets (its ticket key lives as long as the
 * process); the client context keeps the newest ticket per expected peer and offers it. */
#include "tls_ctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "log.h"

#define TICKET_LIFETIME_S (12 * 3600)
#define EXPIRY_WARN_S (30 * 24 * 3600)
#define SESSION_ID_CTX "rajnet-mon"

typedef struct rn__tls_session {
    struct rn__tls_session *next;
    SSL_SESSION *session;
    char key[];
} session_slot_t;

/* ---- helpers ---------------------------------------------------------------------------- */

/* Formats into err (which may be NULL) and returns rc, for one-line error returns. */
static int __attribute__((format(printf, 4, 5)))
set_err(int rc, char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

const char *rn__tls_ssl_reason(void)
{
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown reason";
}

bool rn__tls_cert_cn(X509 *cert, char *out, size_t size)
{
    X509_NAME *name = X509_get_subject_name(cert);
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    out[0] = '\0';
    if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
        return false;
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
    bool ok = len > 0 && (size_t)len < size && !memchr(utf8, '\0', (size_t)len);
    if (ok) {
        memcpy(out, utf8, (size_t)len);
        out[len] = '\0';
    }
    OPENSSL_free(utf8);
    return ok;
}

bool rn__tls_cert_names(X509 *cert, const char *name, const char *cn)
{
    if (strcmp(cn, name) == 0)
        return true;
    unsigned flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS;
    return X509_check_host(cert, name, 0, flags, NULL) == 1 || X509_check_ip_asc(cert, name, 0) == 1;
}

/* ---- client session store ------------------------------------------------------------------ */

/* Returns the link that points at key's slot, or at the NULL that ends the list. */
static session_slot_t **session_find(rn_tls_ctx_t *ctx, const char *key)
{
    session_slot_t **p = &ctx->sessions;
    while (*p && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

void rn__tls_session_drop(rn_tls_ctx_t *ctx, const char *key)
{
    session_slot_t **p = session_find(ctx, key), *slot = *p;
    if (!slot)
        return;
    *p = slot->next;
    SSL_SESSION_free(slot->session);
    free(slot);
}

SSL_SESSION *rn__tls_session_get(rn_tls_ctx_t *ctx, const char *key)
{
    session_slot_t *slot = *session_find(ctx, key);
    return slot ? slot->session : NULL;
}

int rn__tls_session_keep(rn_tls_ctx_t *ctx, const char *key, SSL_SESSION *session)
{
    session_slot_t **p = session_find(ctx, key), *slot = *p;
    if (!slot) {
        size_t klen = strlen(key) + 1;
        if (!(slot = malloc(sizeof *slot + klen)))
            return 0;
        memcpy(slot->key, key, klen);
        slot->session = NULL;
        slot->next = NULL;
        *p = slot;
    }
    SSL_SESSION_free(slot->session);
    slot->session = session;
    return 1;
}

/* ---- the context --------------------------------------------------------------------------- */

/* Sets the protocol, verification and session policy of a new SSL_CTX, with the stream's hooks
 * (NULL: none, a context that only checks files). Returns 0 or -ENOMEM. */
static int configure(rn_tls_ctx_t *c, const rn__tls_hooks_t *hooks)
{
    bool server = c->role == RN_TLS_SERVER;
    c->ssl_ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ssl_ctx)
        return -ENOMEM;
    SSL_CTX *x = c->ssl_ctx;
    SSL_CTX_set_min_proto_version(x, TLS1_3_VERSION);
    SSL_CTX_set_verify(x, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       hooks ? hooks->verify : NULL);
    SSL_CTX_set_verify_depth(x, 4);
    /* Partial writes: one record per SSL_write, see write_now. Released buffers: an idle
     * session holds no 34 KiB of record buffers (10,000 agents on one collector). */
    SSL_CTX_set_mode(x, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
    if (hooks)
        SSL_CTX_set_info_callback(x, hooks->info);
    if (server) {
        /* Stateless tickets need no server cache; the ticket carries the client certificate. */
        SSL_CTX_set_session_id_context(x, (const unsigned char *)SESSION_ID_CTX,
                                       sizeof SESSION_ID_CTX - 1);
        SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_timeout(x, TICKET_LIFETIME_S);
    } else {
        SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        if (hooks)
            SSL_CTX_sess_set_new_cb(x, hooks->new_session);
    }
    return 0;
}

/* Returns 0 when path can be opened for reading, else -errno with err naming the file. */
static int check_readable(const char *path, const char *what, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return set_err(-errno, err, err_len, "%s: cannot open %s: %s", path, what,
                       rn_strerror(-errno));
    fclose(f);
    return 0;
}

/* Warns (once, at load) about a private key others can read and an own certificate that has
 * expired or expires within 30 days. */
static void warn_about_identity(rn_tls_ctx_t *c, const char *cert_file, const char *key_file)
{
    struct stat st;
    if (stat(key_file, &st) == 0 && (st.st_mode & 077))
        rn_warn("%s: private key is readable by group or others (mode %03o); chmod 600 it",
                key_file, (unsigned)(st.st_mode & 0777));
    X509 *own = SSL_CTX_get0_certificate(c->ssl_ctx);
    if (!own)
        return;
    time_t soon = time(NULL) + EXPIRY_WARN_S;
    if (X509_cmp_current_time(X509_get0_notAfter(own)) <= 0)
        rn_warn("%s: certificate has expired; peers will refuse it (renew with rajnet-pki)",
                cert_file);
    else if (X509_cmp_time(X509_get0_notAfter(own), &soon) <= 0)
        rn_warn("%s: certificate expires within 30 days (renew with rajnet-pki)", cert_file);
}

/* Loads the own certificate chain and key. Returns 0, -errno or -EINVAL with err set. */
static int load_identity(rn_tls_ctx_t *c, const char *cert_file, const char *key_file, char *err,
                         size_t err_len)
{
    int rc = check_readable(cert_file, "certificate", err, err_len);
    if (rc || (rc = check_readable(key_file, "private key", err, err_len)))
        return rc;
    if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, cert_file) != 1)
        return set_err(-EINVAL, err, err_len, "%s: not a usable PEM certificate: %s", cert_file,
                       rn__tls_ssl_reason());
    if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
            return set_err(-EINVAL, err, err_len, "%s: not a usable PEM private key: %s",
                           key_file, rn__tls_ssl_reason());
    } else if (SSL_CTX_check_private_key(c->ssl_ctx) == 1) {
        warn_about_identity(c, cert_file, key_file);
        return 0;
    }
    return set_err(-EINVAL, err, err_len, "%s: private key does not match certificate %s",
                   key_file, cert_file);
}

/* Loads the CA bundle that must have signed the peer; a server also advertises its names. */
static int load_ca(rn_tls_ctx_t *c, const char *ca_file, char *err, size_t err_len)
{
    int rc = check_readable(ca_file, "CA bundle", err, err_len);
    if (rc)
        return rc;
    if (SSL_CTX_load_verify_file(c->ssl_ctx, ca_file) != 1)
        return set_err(-EINVAL, err, err_len, "%s: not a usable PEM CA bundle: %s", ca_file,
                       rn__tls_ssl_reason());
    if (c->role == RN_TLS_SERVER) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
        if (names)
            SSL_CTX_set_client_CA_list(c->ssl_ctx, names);
    }
    return 0;
}

int rn__tls_ctx_new(rn_tls_role_t role, const char *cert_file, const char *key_file,
                    const char *ca_file, const rn__tls_hooks_t *hooks, rn_tls_ctx_t **out,
                    char *err, size_t err_len)
{
    if (!ca_file || (!cert_file != !key_file) || (role == RN_TLS_SERVER && !cert_file))
        return set_err(-EINVAL, err, err_len, "TLS needs a CA bundle, and a certificate with its "
                       "key (a server always)");
    rn_tls_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        return set_err(-ENOMEM, err, err_len, "out of memory");
    c->role = role;
    c->handshake_timeout_ms = RN_TLS_HANDSHAKE_TIMEOUT_MS;
    ERR_clear_error();
    int rc = configure(c, hooks);
    if (rc)
        set_err(rc, err, err_len, "cannot create a TLS context: %s", rn__tls_ssl_reason());
    if (!rc)
        rc = load_ca(c, ca_file, err, err_len);
    if (!rc && cert_file)
        rc = load_identity(c, cert_file, key_file, err, err_len);
    ERR_clear_error();
    if (rc) {
        rn_tls_ctx_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void rn_tls_ctx_set_handshake_timeout(rn_tls_ctx_t *ctx, uint64_t ms)
{
    ctx->handshake_timeout_ms = ms;
}

void rn_tls_ctx_free(rn_tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    while (ctx->sessions)
        rn__tls_session_drop(ctx, ctx->sessions->key);
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

int rn_tls_check_files(rn_tls_role_t role, const char *section, const char *cert_file,
                       const char *key_file, const char *ca_file, char *err, size_t err_len)
{
    const char *files[] = { cert_file, key_file, ca_file };
    static const char *const keys[] = { "cert", "key", "ca" };
    for (size_t i = 0; i < 3; i++) {
        FILE *f = files[i] ? fopen(files[i], "r") : NULL;
        if (files[i] && !f) {
            int e = errno;
            return set_err(-e, err, err_len, "%s.%s: cannot read %s: %s", section, keys[i],
                           files[i], rn_strerror(-e));
        }
        if (f)
            fclose(f);
    }
    char why[512] = "";
    rn_tls_ctx_t *c = NULL;
    int rc;
    if (ca_file) {
        rc = rn__tls_ctx_new(role, cert_file, key_file, ca_file, NULL, &c, why, sizeof why);
    } else { /* the certificate and key alone (an HTTPS listener): load them as a server would */
        c = calloc(1, sizeof *c);
        rc = -ENOMEM;
        if (c) {
            c->role = RN_TLS_SERVER;
            rc = configure(c, NULL);
        }
        if (rc == 0 && cert_file && key_file)
            rc = load_identity(c, cert_file, key_file, why, sizeof why);
        ERR_clear_error();
    }
    rn_tls_ctx_free(c);
    if (rc)
        return set_err(rc, err, err_len, "%s: %s", section, why[0] ? why : rn_strerror(rc));
    return 0;
}

