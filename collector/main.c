/* rajnet-collector: command line, then the collector context runs the loop. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "collector.h"
#include "log.h"
#include "notify_systemd.h"
#include "tls.h"

/* --check-config: the agents' TLS files (and the HTTPS ones, if set) must be readable by this
 * user and make a context, or the daemon would fail only when it starts. Returns 0 or an error
 * with the key and file named in err. */
static int check_tls_files(const rn_collector_config_t *c, char *err, size_t err_len)
{
    int rc = rn_tls_check_files(RN_TLS_SERVER, "tls", c->tls_cert, c->tls_key, c->tls_ca, err,
                                err_len);
    if (rc == 0 && c->http.enabled && c->http.tls_cert)
        rc = rn_tls_check_files(RN_TLS_SERVER, "http.tls", c->http.tls_cert, c->http.tls_key,
                                NULL, err, err_len);
    return rc;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: rajnet-collector [-c CONFIG] [--check-config] [--syslog] [-v]\n"
                "  -c, --config FILE   collector configuration (default /etc/rajnet/collector.yaml)\n"
                "      --check-config  load the configuration, topology, secrets and TLS files,\n"
                "                      report, exit\n"
                "      --syslog        log to syslog instead of stderr\n"
                "  -v, --verbose       log debug messages\n"
                "exit codes: 0 ok, 1 runtime failure, 2 configuration error\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 'k' },
        { "syslog", no_argument, NULL, 's' },       { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    const char *config_path = "/etc/rajnet/collector.yaml";
    bool check = false, use_syslog = false, verbose = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'k': check = true; break;
        case 's': use_syslog = true; break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    char err[1024];
    rn_collector_config_t *config;
    rn_topology_t *topo;
    if (rn_collector_config_load(config_path, &config, err, sizeof err) != 0) {
        fprintf(stderr, "rajnet-collector: %s\n", err);
        return 2;
    }
    if (rn_topology_load(config->topology_path, config->secrets_path, &topo, err, sizeof err)) {
        fprintf(stderr, "rajnet-collector: %s\n", err);
        rn_collector_config_free(config);
        return 2;
    }
    if (check) {
        int rc = check_tls_files(config, err, sizeof err);
        if (rc)
            fprintf(stderr, "rajnet-collector: %s: %s\n", config_path, err);
        else
            printf("%s: ok (%zu nodes, %zu services; TLS files load)\n", config->topology_path,
                   topo->n_nodes, topo->n_services);
        rn_topology_free(topo);
        rn_collector_config_free(config);
        return rc ? 2 : 0;
    }
    rn_log_open("rajnet-collector", verbose ? RN_LOG_DEBUG : config->log_level, use_syslog);
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    rn_collector_t c;
    int rc = rn_collector_start(&c, loop, config_path, config, topo);
    if (rc)
        rn_collector_stop(&c);
    else /* listening for agents, and serving HTTP when configured (Type=notify) */
        rn_notify_ready("listening for agents on %s:%u, %zu nodes in the topology",
                        config->listen_host, config->listen_port, topo->n_nodes);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return rc ? 1 : 0;
}
