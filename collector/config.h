/* The collector's own configuration file (YAML):
 *
 *   listen: 0.0.0.0:7400          # where agents connect (host:port)
 *   topology: topology.yaml       # relative paths are taken from this file's folder
 *   secrets: secrets.yaml
 *   data_dir: /var/lib/rajnet/rrd # RRD files
 *   log_level: info               # error, warn, info, debug
 *   max_clock_skew_s: 5           # warn when an agent's clock is further off
 *   tls:                          # mutual TLS 1.3 with every agent (deploy/pki/rajnet-pki)
 *     cert: collector.crt
 *     key: collector.key
 *     ca: ca.crt                  # agents' certificates must chain to this CA
 */
#ifndef RN_COLLECTOR_CONFIG_H
#define RN_COLLECTOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

typedef struct {
    char *listen_host;
    uint16_t listen_port;
    char *topology_path, *secrets_path, *data_dir;
    rn_log_level_t log_level;
    uint32_t max_clock_skew_s;
    char *tls_cert, *tls_key, *tls_ca;
} rn_collector_config_t;

/* Loads path into a new config. Returns 0, or a negative error with "file:line: field: why" in
 * err. */
int rn_collector_config_load(const char *path, rn_collector_config_t **out, char *err,
                             size_t err_len);

void rn_collector_config_free(rn_collector_config_t *c);

#endif
