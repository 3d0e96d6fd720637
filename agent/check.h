/* `rajnet-agent check`: one look at the site for the engineer standing in it.
 *
 * Runs the agent's plan once, in the foreground, and prints a report: each device (reachable?
 * sysName, uptime, each interface with its status, speed, in/out rate and error rate), each ICMP
 * probe (RTT, loss, jitter, verdict against the SLA limits the plan carries), each service probe
 * (TCP connect, HTTP status, time to first byte, certificate expiry), and the uplink (a mutually
 * authenticated TLS session to the collector). Rates need two readings, so every device is polled
 * twice, RN_CHECK_GAP_S apart; the report says so. A run takes about RN_CHECK_GAP_S + 3 seconds
 * (at most RN_CHECK_MAX_S).
 *
 * The plan is the cached one (<state_dir>/plan.bin) when there is one, so a check works while the
 * site is cut off; the uplink is then only tested (TLS handshake, no hello: a running agent of the
 * node keeps its session). Without a cached plan, check says hello to the collector for one, which
 * takes the node's session over from a running agent for a moment (it reconnects at once).
 * Nothing is written: no spool, no plan cache, no samples sent.
 *
 * Verdicts, worst wins:
 *   down      a device does not answer SNMP; a probe loses every packet; a service does not
 *             connect or answer, or its certificate has expired; no plan at all;
 *   degraded  a probe over its SLA limit (RTT avg, loss, jitter); an HTTP error status; a
 *             certificate that expires within RN_CHECK_CERT_WARN_DAYS; no TLS session to any
 *             collector (the agent spools meanwhile);
 *   ok        otherwise. Interface status is reported but does not set the verdict: the plan does
 *             not say which interfaces matter, and the probes test the links end to end.
 * Exit status: RN_CHECK_OK 0, RN_CHECK_DEGRADED 1, RN_CHECK_DOWN 2; RN_CHECK_USAGE 64 for a bad
 * command line and RN_CHECK_CONFIG 78 for an unreadable configuration (sysexits.h EX_USAGE and
 * EX_CONFIG: the daemon's own "2 = configuration error" would read as "down" here). */
#ifndef RN_CHECK_H
#define RN_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#define RN_CHECK_GAP_S 5            /* seconds between the two polls (and probe round length) */
#define RN_CHECK_MAX_S 25           /* the run ends by then whatever is missing */
#define RN_CHECK_UPLINK_WAIT_S 5    /* time to get a TLS session (or a plan) from a collector */
#define RN_CHECK_CERT_WARN_DAYS 14
#define RN_CHECK_MIN_PINGS 10       /* echo requests per probe target, at least */

enum { RN_CHECK_OK = 0, RN_CHECK_DEGRADED = 1, RN_CHECK_DOWN = 2, RN_CHECK_USAGE = 64,
       RN_CHECK_CONFIG = 78 };

typedef struct {
    const char *config_path;
    bool json;    /* the report as one JSON object instead of text */
    bool verbose; /* debug log lines on stderr (else warnings and errors only) */
} rn_check_opts_t;

/* Runs the check on a loop of its own and writes the report to out. Returns the exit status
 * (RN_CHECK_*); a configuration error is written to stderr. */
int rn_check_run(const rn_check_opts_t *opts, FILE *out);

/* Parses the arguments after "check" (argv[0] is "check") and runs it. Returns the exit status. */
int rn_check_main(int argc, char **argv);

#endif
