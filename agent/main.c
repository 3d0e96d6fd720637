/* rajnet-agent: command line, then the agent context runs the loop. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "agent.h"
#include "check.h"
#include "log.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: rajnet-agent [-c CONFIG] [--syslog] [-v]\n"
                "       rajnet-agent check [-c CONFIG] [--json] [-v]  (rajnet-agent check -h)\n"
                "  -c, --config FILE   agent configuration (default /etc/rajnet/agent.yaml)\n"
                "      --check-config  load the configuration, report, exit\n"
                "      --syslog        log to syslog instead of stderr\n"
                "  -v, --verbose       log debug messages\n"
                "exit codes: 0 ok, 1 runtime failure, 2 configuration error (also a TLS file that\n"
                "            cannot be read or used), 3 restart needed (a new capture needs\n"
                "            CAP_NET_RAW, given up after the first plan)\n"
                "SIGHUP reloads the configuration (rajnet-agent(8), RELOADING)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 'k' },
        { "syslog", no_argument, NULL, 's' },       { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    if (argc > 1 && strcmp(argv[1], "check") == 0) /* the site check: agent/check.h */
        return rn_check_main(argc - 1, argv + 1);
    const char *config_path = "/etc/rajnet/agent.yaml";
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
    rn_agent_config_t *config;
    if (rn_agent_config_load(config_path, &config, err, sizeof err) != 0) {
        fprintf(stderr, "rajnet-agent: %s\n", err);
        return 2;
    }
    if (check) { /* the TLS files too: a wrong path or an unreadable key fails here, not at start */
        int rc = rn_agent_config_check_tls(config, err, sizeof err);
        if (rc)
            fprintf(stderr, "rajnet-agent: %s: %s\n", config_path, err);
        else
            printf("%s: ok (node %s, TLS files load)\n", config_path, config->node_id);
        rn_agent_config_free(config);
        return rc ? 2 : 0;
    }
    rn_log_open("rajnet-agent", verbose ? RN_LOG_DEBUG : config->log_level, use_syslog);
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    rn_agent_t agent;
    rn_agent_opts_t agent_opts = { config_path, use_syslog, verbose };
    int rc = rn_agent_start(&agent, loop, config, &agent_opts);
    if (rc)
        rn_agent_stop(&agent);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return rc ? 1 : agent.exit_status;
}
