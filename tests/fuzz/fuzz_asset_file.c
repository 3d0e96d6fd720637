/* Fuzz target for the asset file parser (collector/assets/asset_file.c: libyaml, the schema table, the
 * date and uniqueness checks). Input: an asset file. Must never crash or leak. */
#include <stddef.h>
#include <stdint.h>

#include "assets/asset_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    rn_asset_file_t *f = NULL;
    if (rn_asset_file_parse("fuzz.yaml", data, size, &f, err, sizeof err) == 0)
        rn_asset_file_free(f);
    return 0;
}
