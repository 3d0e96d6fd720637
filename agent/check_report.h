/* The report of `rajnet-agent check` (agent/check.h): the tables a run fills, judged against
 * the plan's limits and printed as text or JSON.
 *
 * agent/check.c runs the parts and fills an rn_check_results_t as samples arrive; this module
 * only reads it, after the loop has done its part, so judging and printing can be read (and
 * changed) without the event handling. Verdicts and exit codes are those of check.h. */
#ifndef RN_CHECK_REPORT_H
#define RN_CHECK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "metrics.h"
#include "sample.h"
#include "wire.h"

#define RN_CHECK_NAME_LEN 80

/* One interface: its first and last reading. */
typedef struct {
    char name[RN_CHECK_NAME_LEN];
    int n;                  /* readings so far */
    int64_t t[2];           /* wall ms of the first and last reading */
    rn_value_t v[2][RN_IF_N];
    uint64_t speed_bps;
} rn_check_iface_t;

/* An extra OID of a device (topology `extra:`): its first and last reading, as an interface. */
typedef struct {
    char name[RN_CHECK_NAME_LEN];
    const char *oid;        /* borrowed from the plan */
    bool counter;           /* kind counter, else gauge */
    int n;                  /* readings so far */
    int64_t t[2];
    rn_value_t v[2];
} rn_check_extra_t;

/* A device of the plan: the poller's reports and its interfaces' readings. */
typedef struct {
    char name[RN_CHECK_NAME_LEN], addr[RN_CHECK_NAME_LEN], sys_name[RN_CHECK_NAME_LEN], why[160];
    const char *node;       /* an agentless child's id (Device.node, borrowed), NULL: our own */
    int polls;              /* reports received */
    bool ok;                /* the last poll succeeded */
    long uptime_cs;
    rn_check_iface_t *ifs;
    size_t n_ifs;
    rn_check_extra_t *extra;         /* as many as the plan's device has */
    size_t n_extra;
} rn_check_device_t;

/* An ICMP probe target: one round's figures. */
typedef struct {
    char name[RN_CHECK_NAME_LEN], addr[RN_CHECK_NAME_LEN];
    const Rn__IcmpTarget *plan;
    bool have;
    rn_value_t v[RN_ICMP_N];
} rn_check_probe_t;

/* A service probe (TCP or HTTP): one answer and the prober's reason. */
typedef struct {
    const Rn__ServiceTarget *plan;
    bool have;
    rn_value_t v[RN_HTTP_N];
    char why[128];
} rn_check_service_t;

/* A UDP echo peer (agent/udp_echo.h): one round's figures. */
typedef struct {
    char name[RN_CHECK_NAME_LEN], addr[RN_CHECK_NAME_LEN];
    bool have;
    rn_value_t v[RN_UDPECHO_N];
} rn_check_echo_t;

/* What a run found. The tables are owned by agent/check.c; config and the strings are borrowed. */
typedef struct {
    const rn_agent_config_t *config;
    const char *plan_digest;  /* NULL: no plan */
    const char *plan_source;  /* "cache" or "collector" */
    bool measuring;           /* a plan was taken and its tables made */
    bool have_icmp, have_svc; /* the probers could be made */
    bool up_ok;               /* a TLS session (and a plan when asked for) in time */
    double up_ms;
    char up_why[200];
    rn_check_device_t *devs;
    size_t n_devs;
    rn_check_probe_t *probes;
    size_t n_probes;
    rn_check_service_t *svcs;
    size_t n_svcs;
    rn_check_echo_t *echoes; /* UDP echo */
    size_t n_echoes;
} rn_check_results_t;

/* Judges r and prints the report to out, as JSON or as text. Returns the exit status
 * (RN_CHECK_OK, _DEGRADED or _DOWN: the worst verdict), RN_CHECK_DOWN when out of memory. */
int rn_check_report(const rn_check_results_t *r, bool as_json, FILE *out);

#endif
