/* Small helpers the daemons' config readers share. */
#ifndef RN_CFGPATH_H
#define RN_CFGPATH_H

#include <stddef.h>
#include <stdint.h>

/* Returns a new string: path as is when absolute, else joined to the folder of base_file.
 * NULL on allocation failure. */
char *rn_cfg_resolve_path(const char *base_file, const char *path);

/* Splits "host:port" or "[v6]:port". Returns 0, or -EINVAL. host is a new string. */
int rn_cfg_split_hostport(const char *s, char **host, uint16_t *port);

#endif
