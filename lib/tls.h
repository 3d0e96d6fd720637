/* TLS 1.3 streams over libuv TCP, mutually authenticated against one private CA.
 *
 * An agent holds one client context (its node certificate, CN = node id) and keeps one stream to
 * the collector; the collector holds one server context and accepts one stream per agent. Both
 * sides must present a certificate signed by the CA bundle given to rn_tls_ctx_new; the client
 * also checks that the server certificate names the collector it meant to reach. After a flap the
 * client offers the session ticket of its last connection to the same peer, so a reconnect costs
 * an abbreviated handshake (rn_tls_stream_resumed() says whether it did).
 *
 * This is the only module that speaks OpenSSL. Everything runs on the loop thread that owns the
 * streams; nothing here blocks except rn_tls_ctx_new (it reads files).
 *
 * Callbacks: after rn_tls_stream_accept/connect return 0, either `error` fires once, or `ready`
 * fires once and then `data` any number of times and perhaps `error` once. Nothing fires after
 * rn_tls_stream_close. From inside any callback the owner may write, change reading, or close the
 * stream (also another stream); the stream's memory stays valid until its close callback. */
#ifndef RN_TLS_H
#define RN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef enum { RN_TLS_SERVER, RN_TLS_CLIENT } rn_tls_role_t;

typedef struct rn_tls_ctx rn_tls_ctx_t;
typedef struct rn_tls_stream rn_tls_stream_t;

#define RN_TLS_HANDSHAKE_TIMEOUT_MS 10000

/* Creates a context for one role: loads cert_file (PEM, the leaf first, then any intermediates),
 * key_file (PEM private key) and ca_file (PEM bundle of the CA(s) that must have signed the
 * peer). Only TLS 1.3 is spoken and a peer certificate is required both ways. A client context
 * may pass NULL cert_file and key_file: it then presents no certificate and every server of ours
 * refuses it (tests use this). Warns in the log when the key is readable by others or the own
 * certificate has expired (the context is still made: an agent keeps spooling while cut off).
 * Returns 0, or -ENOENT/-EACCES (a file cannot be opened), -EINVAL (a file is not what it should
 * be, or the key does not match the certificate), -ENOMEM; err then holds a reason naming the
 * file. err may be NULL. */
int rn_tls_ctx_new(rn_tls_role_t role, const char *cert_file, const char *key_file,
                   const char *ca_file, rn_tls_ctx_t **out, char *err, size_t err_len);

/* For --check-config: checks that the TLS files a daemon would load can be read by this process
 * and make a working context. section is the config section, for the message ("tls",
 * "http.tls"). Each given file is opened first (err then reads "tls.key: cannot read
 * /etc/rajnet/tls/node.key: Permission denied"); then, with ca_file, a context of role is made
 * from all three and freed (err: "tls: <reason of rn_tls_ctx_new>"); without ca_file only the
 * certificate and key are loaded and matched. NULL files are skipped. Returns 0 or a negative
 * error as rn_tls_ctx_new does. */
int rn_tls_check_files(rn_tls_role_t role, const char *section, const char *cert_file,
                       const char *key_file, const char *ca_file, char *err, size_t err_len);

/* Sets how long a new stream may take from TCP connect/accept to `ready` before `error` fires
 * with -ETIMEDOUT "TLS handshake timed out"; default RN_TLS_HANDSHAKE_TIMEOUT_MS. Applies to
 * streams started afterwards. */
void rn_tls_ctx_set_handshake_timeout(rn_tls_ctx_t *ctx, uint64_t ms);

/* Frees the context and any session tickets it keeps. Call it only after every stream made from
 * it has reached its close callback. NULL is ignored. */
void rn_tls_ctx_free(rn_tls_ctx_t *ctx);

typedef struct {
    /* The handshake finished and the peer certificate verified (on a client: the server has also
     * accepted our certificate, shown by its first session ticket or data). Required. */
    void (*ready)(rn_tls_stream_t *s, void *data);
    /* Plaintext from the peer; buf is borrowed until the callback returns. Required. */
    void (*data)(rn_tls_stream_t *s, void *data, const uint8_t *buf, size_t len);
    /* The stream failed and is dead: TCP connect failure (libuv code), handshake or verification
     * failure (-EACCES: a certificate was refused, by us or by the peer; -EPROTO: anything else
     * the TLS layer disliked), handshake timeout (-ETIMEDOUT), read/write error (libuv code), or
     * the peer closed (UV_EOF). `why` is a sentence for the log, e.g. "peer certificate refused:
     * certificate has expired"; borrowed until the callback returns. Fires at most once; the
     * owner then calls rn_tls_stream_close. Required. */
    void (*error)(rn_tls_stream_t *s, void *data, int err, const char *why);
} rn_tls_stream_cbs_t;

/* Accepts one pending connection from server (a listening uv_tcp_t, called from its connection
 * callback) and starts the server handshake. cbs is copied; data is handed to every callback.
 * Returns 0 and the stream in *out, or a negative libuv/errno code (no callback fires and nothing
 * needs closing). ctx must be a server context. */
int rn_tls_stream_accept(rn_tls_ctx_t *ctx, uv_stream_t *server, const rn_tls_stream_cbs_t *cbs,
                         void *data, rn_tls_stream_t **out);

/* Connects to addr (IPv4 or IPv6) and starts the client handshake. When expected_peer_cn is not
 * NULL the server certificate must carry it as its CN, a DNS SAN or an IP SAN (copied; at most
 * 255 bytes). The session ticket of the last connection from ctx to the same expected_peer_cn
 * (or, when NULL, the same address) is offered for resumption. There is no connect timeout
 * beyond the handshake timeout, which starts when TCP connects: the owner bounds the connect.
 * Returns 0 and the stream in *out, or a negative code (no callback fires). */
int rn_tls_stream_connect(rn_tls_ctx_t *ctx, uv_loop_t *loop, const struct sockaddr *addr,
                          const char *expected_peer_cn, const rn_tls_stream_cbs_t *cbs, void *data,
                          rn_tls_stream_t **out);

#define RN_TLS_MAX_WRITE (1u << 30)

/* Encrypts and queues len bytes (copied) for the peer. Before `ready` the plaintext is held and
 * sent, in order, when the handshake completes. Returns 0, -EPIPE once the stream has failed or
 * is closing, -EMSGSIZE above RN_TLS_MAX_WRITE bytes in one call, or another negative code; on a failure after `ready` the error callback also fires
 * (later, from the loop, never from inside this call). */
int rn_tls_stream_write(rn_tls_stream_t *s, const uint8_t *buf, size_t len);

/* Bytes accepted by rn_tls_stream_write but not yet handed to the kernel: ciphertext queued in
 * libuv plus plaintext held until `ready`. For backpressure: stop producing above a bound. */
size_t rn_tls_stream_pending_bytes(const rn_tls_stream_t *s);

/* Stops or resumes delivering `data` (and reading the socket). Reading is on when a stream is
 * made; during the handshake the socket is read regardless and the choice applies at `ready`.
 * Plaintext already decrypted-but-undelivered is delivered from the loop after reading resumes. */
void rn_tls_stream_set_reading(rn_tls_stream_t *s, bool on);

/* The CN of the verified peer certificate, valid from `ready` until close (for an agent this is
 * its node id, e.g. "jaipur/sanganer"); "" before. */
const char *rn_tls_stream_peer_cn(const rn_tls_stream_t *s);

/* The peer's address, "192.0.2.7:4711" or "[2001:db8::7]:4711"; valid until close. */
const char *rn_tls_stream_peer_addr(const rn_tls_stream_t *s);

/* The stream's TCP socket, for the owner's socket options (TCP_USER_TIMEOUT) and to see whether
 * TCP has connected yet (getpeername); valid until close, never to be read, written or closed.
 * Returns the fd, or a negative libuv code before the socket exists. */
int rn_tls_stream_fd(const rn_tls_stream_t *s);

/* True when the handshake resumed an earlier session (valid from `ready`). */
bool rn_tls_stream_resumed(const rn_tls_stream_t *s);

/* Closes the stream: sends close_notify (best effort) after any queued data, waits up to 2 s for
 * the queue to drain, closes the socket and frees the stream in the last close callback, then
 * calls cb(data) (cb may be NULL). No stream callback fires once this is called. Call it once. */
void rn_tls_stream_close(rn_tls_stream_t *s, void (*cb)(void *data), void *data);

#endif
