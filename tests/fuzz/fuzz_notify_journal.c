/* libFuzzer harness of the notification journal reader (collector/notify/notify_store.c,
 * rn__notify_journal_parse): the file a restart reads back, which a crash can leave torn and an
 * operator can edit. The input is the whole journal. Whatever is read must be what the writer
 * could have written: A records in strictly increasing seq order, none 0, max_seq the last one,
 * no newline inside a payload or a channel key; parsing the same bytes twice gives the same.
 * Each payload is then rebuilt as the replay does (rn__notify_event_from_json, alarm or report
 * message): a report comes back with its month and files, and its JSON byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rn__notify_record_t *r = NULL, *again = NULL;
    size_t n = 0, n2 = 0;
    uint64_t max_seq = 0, max2 = 0;
    if (rn__notify_journal_parse((const char *)data, size, &r, &n, &max_seq) != 0)
        return 0; /* out of memory */
    for (size_t i = 0; i < n; i++) {
        if (r[i].seq == 0 || (i && r[i].seq <= r[i - 1].seq) || !r[i].json ||
            strchr(r[i].json, '\n'))
            abort();
        for (size_t k = 0; k < r[i].n_done; k++)
            if (!r[i].done[k] || strchr(r[i].done[k], '\n'))
                abort();
    }
    if (max_seq != (n ? r[n - 1].seq : 0))
        abort();
    for (size_t i = 0; i < n; i++) {
        rn__notify_event_t *ev = rn__notify_event_from_json(r[i].json);
        if (ev && ev->msg == RN_NOTIFY_REPORTS &&
            (!ev->month || !ev->files || strcmp(ev->json, r[i].json) != 0))
            abort();
        rn__notify_event_free(ev);
    }
    if (rn__notify_journal_parse((const char *)data, size, &again, &n2, &max2) == 0) {
        if (n2 != n || max2 != max_seq)
            abort();
        for (size_t i = 0; i < n; i++)
            if (again[i].seq != r[i].seq || strcmp(again[i].json, r[i].json) != 0 ||
                again[i].n_done != r[i].n_done)
                abort();
        rn__notify_records_free(again, n2);
    }
    rn__notify_records_free(r, n);
    return 0;
}
