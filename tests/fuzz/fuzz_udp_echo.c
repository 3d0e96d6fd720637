/* libFuzzer harness of agent/udp_echo.c: the test packet parser and the reflector's table.
 *
 * The input is a sequence of datagrams, each a 1-byte "source" (picks one of 6 IPv4/IPv6 source
 * addresses and ports, so the 4-entry table evicts), a 1-byte length and that many bytes (the
 * last takes what is left), fed to rn_udp_echo_table_answer 1 ms apart. The whole input is also
 * parsed as one datagram. Whatever is answered must be a reply that parses, carries the request's
 * seq, session and send time, and counts up per sender; a parsed packet must encode back to the
 * same bytes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/udp_echo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fills `from` with the source picked by b. Returns its length. */
static socklen_t source(uint8_t b, struct sockaddr_storage *from)
{
    memset(from, 0, sizeof *from);
    if (b % 6 < 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)from;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)(40000 + b % 2));
        a->sin_addr.s_addr = htonl(0x0a4d0001u + b % 3);
        return sizeof *a;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)from;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(40000);
    a->sin6_addr.s6_addr[15] = (uint8_t)(b % 6);
    return sizeof *a;
}

static void check_roundtrip(const uint8_t *buf, size_t len)
{
    rn_udp_echo_pkt_t p;
    uint8_t again[RN_UDP_ECHO_LEN];
    if (rn_udp_echo_parse(buf, len, &p) != 0)
        return;
    rn_udp_echo_encode(&p, again);
    if (memcmp(again + 8, buf + 8, RN_UDP_ECHO_LEN - 8) != 0 || again[5] != buf[5])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_roundtrip(data, size);
    rn_udp_echo_table_t *t;
    if (rn_udp_echo_table_new(4, &t) != 0)
        abort();
    uint64_t now = 1000000000ull;
    for (size_t at = 0; at + 2 <= size;) {
        struct sockaddr_storage from;
        socklen_t from_len = source(data[at], &from);
        size_t len = data[at + 1];
        at += 2;
        if (len > size - at)
            len = size - at;
        const uint8_t *req = data + at;
        at += len;
        now += 1000000;
        check_roundtrip(req, len);
        uint8_t reply[RN_UDP_ECHO_LEN];
        if (!rn_udp_echo_table_answer(t, (struct sockaddr *)&from, from_len, req, len, 5, 7, now,
                                      reply))
            continue;
        rn_udp_echo_pkt_t q, r;
        if (rn_udp_echo_parse(req, len, &q) != 0 || q.type != RN_UDP_ECHO_REQUEST ||
            rn_udp_echo_parse(reply, sizeof reply, &r) != 0 || r.type != RN_UDP_ECHO_REPLY ||
            r.seq != q.seq || r.session != q.session || r.tx_ns != q.tx_ns ||
            r.refl_count == 0 || r.refl_rx_ns != 5 || r.refl_tx_ns != 7)
            abort();
    }
    rn_udp_echo_table_stats_t st;
    rn_udp_echo_table_stats(t, &st);
    if (st.answered + st.malformed + st.rate_limited > size)
        abort();
    rn_udp_echo_table_free(t);
    return 0;
}
