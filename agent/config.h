/* The agent's own configuration file (YAML). It holds only what the agent needs before it hears
 * from the collector; everything it measures comes in its plan.
 *
 *   node: jaipur/sanganer            # this node's id in the topology
 *   collectors: ["10.78.0.1:7400"]   # tried in order (numeric host:port)
 *   state_dir: /var/lib/rajnet-agent
 *   log_level: info
 */
#ifndef RN_AGENT_CONFIG_H
#define RN_AGENT_CONFIG_H

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
} rn_agent_config_t;

/* Loads path. Returns 0, or a negative error with "file:line: field: why" in err. */
int rn_agent_config_load(const char *path, rn_agent_config_t **out, char *err, size_t err_len);

void rn_agent_config_free(rn_agent_config_t *c);

#endif
