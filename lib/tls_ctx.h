/* The TLS context as the streams see it: internal to lib/tls.c and lib/tls_ctx.c (the public
 * contract of both is lib/tls.h).
 *
 * lib/tls_ctx.c owns the SSL_CTX (protocol, verification and ticket policy), the certificate
 * files it loads and the client's kept session tickets; lib/tls.c owns the streams and the
 * OpenSSL callbacks that need a stream, which it hands to the context as hooks. Loop thread only,
 * like the streams. */
#ifndef RN_TLS_CTX_H
#define RN_TLS_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "tls.h"

#define READ_CHUNK 65536  /* ciphertext read per uv read */
#define PLAIN_CHUNK 16384 /* one TLS record of plaintext */

struct rn_tls_ctx {
    SSL_CTX *ssl_ctx;
    rn_tls_role_t role;
    uint64_t handshake_timeout_ms;
    struct rn__tls_session *sessions; /* client: newest ticket per expected peer */
    uint8_t rbuf[READ_CHUNK];         /* shared by the context's streams (tls.c) */
    uint8_t pbuf[PLAIN_CHUNK];
};

/* The stream's OpenSSL callbacks, installed on the SSL_CTX. */
typedef struct {
    SSL_verify_cb verify;
    void (*info)(const SSL *ssl, int where, int ret);
    int (*new_session)(SSL *ssl, SSL_SESSION *session);
} rn__tls_hooks_t;

/* rn_tls_ctx_new (tls.h) with the hooks to install (NULL: none, for a context that only checks
 * files). Returns 0 and *out, or a negative errno with err set. */
int rn__tls_ctx_new(rn_tls_role_t role, const char *cert_file, const char *key_file,
                    const char *ca_file, const rn__tls_hooks_t *hooks, rn_tls_ctx_t **out,
                    char *err, size_t err_len);

/* Returns the ticket kept for key (borrowed: SSL_set_session takes its own reference), or NULL. */
SSL_SESSION *rn__tls_session_get(rn_tls_ctx_t *ctx, const char *key);

/* Keeps session as key's ticket, replacing an older one. Returns 1 when it took the reference
 * (OpenSSL's new-session callback convention), 0 when out of memory. */
int rn__tls_session_keep(rn_tls_ctx_t *ctx, const char *key, SSL_SESSION *session);

/* Forgets the ticket kept for key, if any. Returns nothing. */
void rn__tls_session_drop(rn_tls_ctx_t *ctx, const char *key);

/* Returns the reason of the oldest queued OpenSSL error ("no start line"), or "unknown reason". */
const char *rn__tls_ssl_reason(void);

/* Copies the certificate's single subject CN (UTF-8) into out. Returns false when there is no
 * CN, more than one, an embedded NUL, or it does not fit. */
bool rn__tls_cert_cn(X509 *cert, char *out, size_t size);

/* Returns true when the certificate names `name` as its CN (cn), a DNS SAN or an IP SAN. */
bool rn__tls_cert_names(X509 *cert, const char *name, const char *cn);

#endif
