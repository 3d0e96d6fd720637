/* Fuzz target for the topology loader (libyaml + the schema tables + the cross checks).
 * Input: a topology document, optionally followed by a line "---8<---" and a secrets document,
 * so the fuzzer can reach device and link resolution. Must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char cut[] = "\n---8<---\n";
    const uint8_t *secrets = NULL;
    size_t topo_len = size, secrets_len = 0;
    for (size_t i = 0; i + sizeof cut - 1 <= size; i++) {
        if (memcmp(data + i, cut, sizeof cut - 1) == 0) {
            topo_len = i;
            secrets = data + i + sizeof cut - 1;
            secrets_len = size - i - (sizeof cut - 1);
            break;
        }
    }
    char err[1024];
    rn_topology_t *t = NULL;
    if (rn_topology_load_buffers("fuzz.yaml", data, topo_len, secrets, secrets_len, &t, err,
                                 sizeof err) == 0) {
        (void)rn_topology_root(t);
        rn_topology_free(t);
    }
    return 0;
}
