/* UDP echo between agents, the wire side (see udp_echo.h for the packet layout): encoding and
 * parsing of the echo packets, and the reflector's table of senders with its rate limits, which
 * turns a request into its reply. Nothing here touches a socket or the loop, which is what lets
 * tests/fuzz/fuzz_udp_echo.c drive it alone; udp_echo.c owns the sockets, the reflector's and
 * the sender's callbacks and the rounds. */
#include "udp_echo.h"
#include "udp_echo_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x524e5545u            /* "RNUE" */

/* ---- the packet ------------------------------------------------------------------------------ */

static int64_t get64(const uint8_t *p)
{
    return (int64_t)((uint64_t)rn_udp_echo_get32(p) << 32 | rn_udp_echo_get32(p + 4));
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, int64_t v)
{
    put32(p, (uint32_t)((uint64_t)v >> 32));
    put32(p + 4, (uint32_t)v);
}

int rn_udp_echo_parse(const uint8_t *buf, size_t len, rn_udp_echo_pkt_t *out)
{
    if (len != RN_UDP_ECHO_LEN || rn_udp_echo_get32(buf) != MAGIC ||
        buf[4] != RN_UDP_ECHO_VERSION ||
        (buf[5] != RN_UDP_ECHO_REQUEST && buf[5] != RN_UDP_ECHO_REPLY))
        return -EBADMSG;
    *out = (rn_udp_echo_pkt_t){ .type = buf[5], .seq = rn_udp_echo_get32(buf + 8),
                                .session = rn_udp_echo_get32(buf + 12),
                                .tx_ns = get64(buf + 16),
                                .refl_count = rn_udp_echo_get32(buf + 24),
                                .refl_epoch = rn_udp_echo_get32(buf + 28),
                                .refl_rx_ns = get64(buf + 32), .refl_tx_ns = get64(buf + 40) };
    return 0;
}

void rn_udp_echo_encode(const rn_udp_echo_pkt_t *pkt, uint8_t buf[RN_UDP_ECHO_LEN])
{
    memset(buf, 0, RN_UDP_ECHO_LEN);
    put32(buf, MAGIC);
    buf[4] = RN_UDP_ECHO_VERSION;
    buf[5] = pkt->type;
    put32(buf + 8, pkt->seq);
    put32(buf + 12, pkt->session);
    put64(buf + 16, pkt->tx_ns);
    put32(buf + 24, pkt->refl_count);
    put32(buf + 28, pkt->refl_epoch);
    put64(buf + 32, pkt->refl_rx_ns);
    put64(buf + 40, pkt->refl_tx_ns);
}

/* ---- the reflector's table ------------------------------------------------------------------- */

/* A sender, as the reflector knows it: address, port and session. */
typedef struct {
    uint8_t family, addr[16];
    uint16_t port;
    uint32_t session;
} sender_key_t;

typedef struct {
    bool used;
    sender_key_t key;
    uint32_t count, epoch;
    uint64_t last_ns;  /* monotonic: last request, for eviction */
} sender_t;

/* A source address and its rate limit: the limit is per address, not per session or port, so
 * a host cannot earn more replies by opening more sessions. */
typedef struct {
    bool used;
    uint8_t family, addr[16];
    double tokens;     /* a token per reply */
    uint64_t refill_ns, last_ns;
} source_t;

struct rn_udp_echo_table {
    sender_t *senders;
    size_t max;
    source_t *sources; /* the allowed addresses; or, unrestricted, the last `max` heard */
    size_t n_sources;
    bool restricted;   /* answer only the addresses set by rn_udp_echo_table_allow */
    uint32_t next_epoch;
    double tokens; /* the total rate */
    uint64_t refill_ns;
    rn_udp_echo_table_stats_t st;
};

static bool key_of(const struct sockaddr *from, socklen_t len, uint32_t session, sender_key_t *k);

int rn_udp_echo_table_new(size_t max_senders, rn_udp_echo_table_t **out)
{
    rn_udp_echo_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->max = max_senders ? max_senders : 1;
    t->senders = calloc(t->max, sizeof *t->senders);
    t->sources = calloc(t->max, sizeof *t->sources);
    t->n_sources = t->max;
    if (!t->senders || !t->sources) {
        free(t->senders), free(t->sources), free(t);
        return -ENOMEM;
    }
    /* epochs differ from one reflector start to the next, so a sender notices a restart */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->next_epoch = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec << 12 ^ (uint32_t)getpid();
    t->tokens = RN_UDP_ECHO_TOTAL_PPS;
    *out = t;
    return 0;
}

void rn_udp_echo_table_free(rn_udp_echo_table_t *t)
{
    if (!t)
        return;
    free(t->senders);
    free(t->sources);
    free(t);
}

int rn_udp_echo_table_allow(rn_udp_echo_table_t *t, const struct sockaddr_storage *addrs,
                            size_t n)
{
    source_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        sender_key_t k;
        if (!key_of((const struct sockaddr *)&addrs[i], sizeof addrs[i], 0, &k))
            continue;
        v[m] = (source_t){ .used = true, .family = k.family,
                           .tokens = 2.0 * RN_UDP_ECHO_SENDER_PPS };
        memcpy(v[m++].addr, k.addr, sizeof k.addr);
    }
    free(t->sources);
    t->sources = v;
    t->n_sources = m;
    t->restricted = true;
    return 0;
}

void rn_udp_echo_table_stats(const rn_udp_echo_table_t *t, rn_udp_echo_table_stats_t *out)
{
    *out = t->st;
}

/* Fills key from a sender's address and session. Returns false for an address family we do not
 * serve. */
static bool key_of(const struct sockaddr *from, socklen_t len, uint32_t session, sender_key_t *k)
{
    memset(k, 0, sizeof *k);
    k->session = session;
    if (from->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)from;
        k->family = AF_INET;
        memcpy(k->addr, &a->sin_addr, 4);
        k->port = a->sin_port;
        return true;
    }
    if (from->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
        k->family = AF_INET6;
        memcpy(k->addr, &a->sin6_addr, 16);
        k->port = a->sin6_port;
        return true;
    }
    return false;
}

/* Adds the tokens earned since *refill_ns at `rate` per second, up to burst. */
static void refill(double *tokens, uint64_t *refill_ns, uint64_t now, double rate, double burst)
{
    if (now > *refill_ns)
        *tokens += (double)(now - *refill_ns) * rate / 1e9;
    *tokens = *tokens > burst ? burst : *tokens;
    *refill_ns = now;
}

/* Returns the entry of key, making one (evicting the least recently heard) if there is none. */
static sender_t *sender_get(rn_udp_echo_table_t *t, const sender_key_t *key, uint64_t now)
{
    sender_t *oldest = &t->senders[0];
    for (size_t i = 0; i < t->max; i++) {
        sender_t *s = &t->senders[i];
        if (s->used && memcmp(&s->key, key, sizeof *key) == 0)
            return s;
        if (!s->used || (oldest->used && s->last_ns < oldest->last_ns))
            oldest = s;
    }
    if (oldest->used)
        t->st.evicted++;
    if (++t->next_epoch == 0)
        t->next_epoch = 1;
    *oldest = (sender_t){ .used = true, .key = *key, .epoch = t->next_epoch, .last_ns = now };
    return oldest;
}

/* Returns the rate limit entry of key's address: one of the allowed addresses, NULL when the
 * table is restricted and this is not one; unrestricted, a new entry replaces the least
 * recently heard. */
static source_t *source_get(rn_udp_echo_table_t *t, const sender_key_t *key, uint64_t now)
{
    source_t *oldest = t->n_sources ? &t->sources[0] : NULL;
    for (size_t i = 0; i < t->n_sources; i++) {
        source_t *s = &t->sources[i];
        if (s->used && s->family == key->family && memcmp(s->addr, key->addr, 16) == 0)
            return s;
        if (!s->used || (oldest->used && s->last_ns < oldest->last_ns))
            oldest = s;
    }
    if (t->restricted || !oldest)
        return NULL;
    *oldest = (source_t){ .used = true, .family = key->family, .last_ns = now,
                          .tokens = 2.0 * RN_UDP_ECHO_SENDER_PPS, .refill_ns = now };
    memcpy(oldest->addr, key->addr, 16);
    return oldest;
}

bool rn_udp_echo_table_answer(rn_udp_echo_table_t *t, const struct sockaddr *from,
                              socklen_t from_len, const uint8_t *req, size_t len, int64_t rx_ns,
                              int64_t tx_ns, uint64_t now_ns, uint8_t reply[RN_UDP_ECHO_LEN])
{
    rn_udp_echo_pkt_t p;
    sender_key_t key;
    if (rn_udp_echo_parse(req, len, &p) != 0 || p.type != RN_UDP_ECHO_REQUEST ||
        !key_of(from, from_len, p.session, &key)) {
        t->st.malformed++;
        return false;
    }
    source_t *src = source_get(t, &key, now_ns);
    if (!src) {
        t->st.refused++; /* not a peer of the plan: never answered, so never a reflector for it */
        return false;
    }
    refill(&t->tokens, &t->refill_ns, now_ns, RN_UDP_ECHO_TOTAL_PPS, RN_UDP_ECHO_TOTAL_PPS);
    refill(&src->tokens, &src->refill_ns, now_ns, RN_UDP_ECHO_SENDER_PPS,
           2.0 * RN_UDP_ECHO_SENDER_PPS);
    src->last_ns = now_ns;
    if (t->tokens < 1 || src->tokens < 1) {
        t->st.rate_limited++;
        return false;
    }
    sender_t *s = sender_get(t, &key, now_ns);
    s->last_ns = now_ns;
    src->tokens -= 1;
    t->tokens -= 1;
    t->st.answered++;
    p.type = RN_UDP_ECHO_REPLY;
    p.refl_count = ++s->count;
    p.refl_epoch = s->epoch;
    p.refl_rx_ns = rx_ns;
    p.refl_tx_ns = tx_ns;
    rn_udp_echo_encode(&p, reply);
    return true;
}
