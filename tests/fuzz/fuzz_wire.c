/* libFuzzer harness of lib/wire.c: the stream reader and the frame decoder.
 *
 * The input is treated as bytes off a connection. It is fed to a rn_wire_reader in odd-size
 * pieces (the sizes follow from the last input byte, so the fuzzer can vary them) and every frame
 * body the reader yields is decoded; the input is also decoded whole as one body, and, since the
 * seeds are length-prefixed streams, once more with its first 4 bytes skipped, so the validator
 * is reached directly even when the fuzzer has broken the prefix. Decoded frames are re-encoded
 * and must decode again: a frame we accept we must be able to send. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes one body; re-encodes an accepted frame and checks it still decodes. */
static void decode_one(const uint8_t *body, size_t len)
{
    char why[256];
    Rn__Frame *f = NULL;
    if (rn_wire_decode(body, len, &f, why, sizeof why) != 0)
        return;
    uint8_t *again;
    size_t again_len;
    if (rn_wire_encode(f, &again, &again_len) == 0) {
        Rn__Frame *g = NULL;
        if (rn_wire_decode(again + RN_WIRE_HEADER_LEN, again_len - RN_WIRE_HEADER_LEN, &g, why,
                           sizeof why) != 0)
            abort(); /* we accepted a frame that does not survive our own encoder */
        rn_wire_free(g);
        free(again);
    }
    rn_wire_free(f);
}

/* Pushes data through a reader in pieces of 1, 2, 3, 5, 8, ... bytes (a cycle picked by seed),
 * decoding every frame, until the data ends or the reader reports an error. */
static void read_in_pieces(const uint8_t *data, size_t size, unsigned seed)
{
    static const size_t pieces[] = { 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 4096 };
    const size_t n_pieces = sizeof pieces / sizeof pieces[0];
    rn_wire_reader_t r;
    rn_wire_reader_init(&r);
    for (size_t at = 0, k = seed; at < size; k++) {
        size_t piece = pieces[k % n_pieces];
        if (piece > size - at)
            piece = size - at;
        if (rn_wire_reader_push(&r, data + at, piece) != 0)
            break;
        at += piece;
        const uint8_t *body;
        size_t len;
        int rc;
        while ((rc = rn_wire_reader_next(&r, &body, &len)) == 1)
            decode_one(body, len);
        if (rc < 0)
            break;
    }
    rn_wire_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_one(data, size);
    if (size >= RN_WIRE_HEADER_LEN)
        decode_one(data + RN_WIRE_HEADER_LEN, size - RN_WIRE_HEADER_LEN);
    read_in_pieces(data, size, size ? data[size - 1] : 0);
    return 0;
}
