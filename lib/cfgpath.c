#include "cfgpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rn_cfg_resolve_path(const char *base_file, const char *path)
{
    if (path[0] == '/' || !strchr(base_file, '/'))
        return strdup(path);
    size_t dir_len = (size_t)(strrchr(base_file, '/') - base_file);
    size_t len = dir_len + 1 + strlen(path) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*s/%s", (int)dir_len, base_file, path);
    return out;
}

int rn_cfg_split_hostport(const char *s, char **host, uint16_t *port)
{
    const char *colon, *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -EINVAL;
        hlen = (size_t)(colon - s);
    }
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (hlen == 0 || *end || p == 0 || p > 65535 || colon[1] == '\0')
        return -EINVAL;
    if (!(*host = strndup(h, hlen)))
        return -ENOMEM;
    *port = (uint16_t)p;
    return 0;
}
