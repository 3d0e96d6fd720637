/* agent_floor: the part of the agent's peak RSS that its libraries alone cost. It links what every
 * agent links and nothing of ours: libc, libuv, net-snmp (with the OpenSSL it needs) and libssl;
 * starts net-snmp as agent/snmp_poller.c does (no MIBs, no config files, no persistent state),
 * loads a certificate, key and CA into an SSL_CTX as the uplink's TLS does, runs one loop turn and
 * prints its VmHWM, RssAnon and RssFile in kB. No device, no socket, no thread.
 *
 *   agent_floor                       libraries mapped, nothing started
 *   agent_floor snmp                  + init_snmp()
 *   agent_floor snmp CA CERT KEY      + the TLS context
 *
 * Figures: tests/bench/README.md, "Agent footprint". */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Prints the three lines of /proc/self/status the benchmark compares. Returns 0, 1 on error. */
static int print_rss(void)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM", 5) || !strncmp(line, "RssAnon", 7) ||
            !strncmp(line, "RssFile", 7))
            fputs(line, stdout);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    if (argc > 1 && strcmp(argv[1], "snmp") == 0) {
        setenv("MIBS", "", 1);
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
        snmp_disable_log();
        init_snmp("agent_floor");
    }
    if (argc > 4) {
        SSL_CTX *c = SSL_CTX_new(TLS_client_method());
        if (!c || SSL_CTX_load_verify_locations(c, argv[2], NULL) != 1 ||
            SSL_CTX_use_certificate_file(c, argv[3], SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_use_PrivateKey_file(c, argv[4], SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "agent_floor: the TLS files do not load\n");
            return 1;
        }
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    return print_rss();
}
