/* The agent's own configuration file (YAML). It holds only what the agent needs before it hears
 * from the collector; everything it measures comes in its plan.
 *
 *   node: jaipur/sanganer            # this node's id in the topology
 *   collectors: ["10.78.0.1:7400"]   # tried in order (numeric host:port)
 *   state_dir: /var/lib/rajnet-agent  # the spool and cached plan live here
 *   log_level: info
 *   tls:                             # mutual TLS 1.3 to the collector (deploy/pki/rajnet-pki)
 *     cert: jaipur-sanganer.crt      # this node's certificate (CN = node id)
 *     key: jaipur-sanganer.key
 *     ca: ca.crt                     # the state CA
 *     collector_name: collector      # the name the collector's certificate must carry
 *   spool_fsync: interval            # always, interval (once a second) or never
 *   spool_max_mb: 256                # oldest batches beyond this are dropped, counted, logged
 *   uplink_rate_kbps: 0              # cap on replay and live sending over a thin link (bytes on
 *                                    # the wire, after compression); 0 = none
 *   udp_echo_port: 8862              # UDP echo reflector (agent/udp_echo.h) port; 0 = off
 *   service_ca: egov-ca.crt          # PEM bundle that HTTPS service probes trust instead of the
 *                                    # system's CA store (a private CA); absent = the system's
 */
#ifndef RN_AGENT_CONFIG_H
#define RN_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

typedef struct {
    char *host;
    uint16_t port;
} rn_hostport_t;

typedef struct {
    char *node_id;
    rn_hostport_t *collectors;
    size_t n_collectors;
    char *state_dir;
    rn_log_level_t log_level;
    char *tls_cert, *tls_key, *tls_ca, *collector_name;
    int spool_fsync;            /* rn_spool_fsync_t */
    uint32_t spool_max_mb, uplink_rate_kbps;
    uint32_t udp_echo_port;     /* UDP echo reflector; 0 = off */
    char *service_ca;           /* HTTPS service probes' CA bundle; NULL = the system's */
} rn_agent_config_t;

/* Loads path. Returns 0, or a negative error with "file:line: field: why" in err. */
int rn_agent_config_load(const char *path, rn_agent_config_t **out, char *err, size_t err_len);

void rn_agent_config_free(rn_agent_config_t *c);

/* Opens the tls files of c as the uplink would and makes a TLS client context from them (then
 * frees it), for --check-config and before a reload is applied. Returns 0, or a negative error
 * with the key and file named in err ("tls.key: cannot read /etc/rajnet/tls/node.key:
 * Permission denied"). */
int rn_agent_config_check_tls(const rn_agent_config_t *c, char *err, size_t err_len);

/* True when a and b name the same collectors, in the same order, and the same collector_name:
 * a reload that keeps them keeps the connection. */
bool rn_agent_config_same_collectors(const rn_agent_config_t *a, const rn_agent_config_t *b);

#endif
