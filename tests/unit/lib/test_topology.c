/* Topology loading: the simulated RajNet's file loads into the model, and every kind of mistake
 * an operator makes is reported with file, line and field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "topology.h"

#define SIM_TOPOLOGY RN_SRCDIR "/deploy/sim/topology.yaml"
#define SIM_SECRETS RN_SRCDIR "/deploy/sim/secrets.yaml"

/* Writes the simulated topology with one substitution applied into a temp file; returns its
 * path (static buffer). The substitution must match, so a test cannot pass by editing nothing. */
static const char *mutated(const char *from, const char *to)
{
    static char path[64];
    FILE *in = fopen(SIM_TOPOLOGY, "r");
    assert_non_null(in);
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[n] = '\0';
    char *at = strstr(text, from);
    assert_non_null(at);
    snprintf(path, sizeof path, "/tmp/rn-topo-test-%d.yaml", (int)getpid());
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    fclose(out);
    return path;
}

/* Returns the 1-based line of the simulated topology whose text contains needle (the first),
 * so the expected "file:line" of an error follows the file as it grows. */
static int sim_line(const char *needle)
{
    FILE *f = fopen(SIM_TOPOLOGY, "r");
    char line[1024];
    int n = 0;
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        n++;
        if (strstr(line, needle)) {
            fclose(f);
            return n;
        }
    }
    fclose(f);
    fail_msg("%s has no line with '%s'", SIM_TOPOLOGY, needle);
    return 0;
}

/* Asserts that err contains ":<line>: <rest>". */
static void assert_has_line(const char *err, int line, const char *rest)
{
    char want[512];
    snprintf(want, sizeof want, ":%d: %s", line, rest);
    if (!strstr(err, want))
        fail_msg("expected \"%s\" in \"%s\"", want, err);
}

/* Loads a mutated topology, expects failure with rc, and returns the message. */
static const char *load_error(const char *from, const char *to, int rc)
{
    static char err[1024];
    rn_topology_t *t = NULL;
    const char *path = mutated(from, to);
    assert_int_equal(rn_topology_load(path, SIM_SECRETS, &t, err, sizeof err), rc);
    assert_null(t);
    unlink(path);
    return err;
}

static void test_sim_topology_loads_whole_tree(void **state)
{
    char err[1024];
    rn_topology_t *t;
    assert_int_equal(rn_topology_load(SIM_TOPOLOGY, SIM_SECRETS, &t, err, sizeof err), 0);
    assert_int_equal(t->n_nodes, 9);
    assert_false(rn_topology_node(t, "jaipur/amer/gp-kunda")->agent); /* a village */
    assert_true(rn_topology_node(t, "jaipur/amer")->agent);
    assert_int_equal(t->settings.probe_interval_s, 2);
    const rn_node_t *root = rn_topology_root(t);
    assert_string_equal(root->id, "sdc");
    const rn_node_t *sng = rn_topology_node(t, "jaipur/sanganer");
    assert_non_null(sng);
    assert_string_equal(sng->parent->id, "jaipur");
    assert_ptr_equal(sng->parent->parent, root);
    assert_int_equal(sng->devices[0].snmp.version, 3);
    assert_string_equal(sng->devices[0].snmp.user, "blockmon");
    assert_string_equal(sng->devices[0].snmp.auth_proto, "SHA-256");
    assert_string_equal(sng->devices[0].snmp.priv_key, "sng-priv-key-0001");
    assert_string_equal(sng->uplinks[0].circuit, "JPR-SNG-MPLS-3301");
    assert_string_equal(sng->uplinks[0].remote_node, "jaipur"); /* defaults to the parent */
    const rn_node_t *jpr = rn_topology_node(t, "jaipur");
    assert_string_equal(jpr->devices[0].snmp.community, "jaipur-ro-7c1");
    assert_true(jpr->uplinks[0].mbps == 34.0);
    assert_int_equal(t->n_services, 2);
    assert_int_equal(t->services[0].endpoints[0].tcp[0], 1720);
    assert_null(rn_topology_node(t, "bikaner"));
    rn_topology_free(t);
}

static void test_unknown_key_names_line_and_field(void **state)
{
    const char *err = load_error("probe_count: 5", "probe_cuont: 5", RN_ESCHEMA);
    assert_has_line(err, sim_line("probe_count: 5"), "settings.probe_cuont: unknown key");
}

static void test_unknown_vendor_names_the_link(void **state)
{
    const char *err = load_error("vendor: bsnl, kind: mpls, mbps: 34", "vendor: bsnll, kind: mpls, mbps: 34",
                                 RN_ETOPOLOGY);
    assert_has_line(err, sim_line("circuit: JPR-MPLS-0042"),
                    "nodes.jaipur.uplinks[0]: vendor: unknown vendor 'bsnll'");
}

static void test_bad_number_is_reported(void **state)
{
    const char *err = load_error("mbps: 34", "mbps: lots", RN_ESCHEMA);
    assert_non_null(strstr(err, "nodes.jaipur.uplinks[0].mbps: 'lots' is not a number"));
}

static void test_out_of_range_interval(void **state)
{
    const char *err = load_error("probe_interval_s: 2", "probe_interval_s: 0", RN_ESCHEMA);
    assert_non_null(strstr(err, "settings.probe_interval_s: 0 is out of range"));
}

static void test_missing_secret(void **state)
{
    const char *err = load_error("secret: amer-ro", "secret: amer-rw", RN_ETOPOLOGY);
    assert_non_null(strstr(err, "nodes.jaipur/amer.devices[0].snmp.secret: no secret 'amer-rw'"));
}

static void test_parent_must_match_path(void **state)
{
    const char *err = load_error("parent: jaipur\n    devices: [{ name: rtr1, addr: 10.77.11.1",
                                 "parent: ajmer\n    devices: [{ name: rtr1, addr: 10.77.11.1",
                                 RN_ETOPOLOGY);
    assert_non_null(strstr(err, "nodes.jaipur/sanganer.parent: 'ajmer' must be the path above"));
}

static void test_unknown_parent(void **state)
{
    const char *err = load_error("parent: sdc\n    devices: [{ name: rtr1, addr: 10.77.2.1",
                                 "parent: sdcc\n    devices: [{ name: rtr1, addr: 10.77.2.1",
                                 RN_ETOPOLOGY);
    assert_non_null(strstr(err, "nodes.ajmer.parent: unknown node 'sdcc'"));
}

static void test_bad_node_id(void **state)
{
    const char *err = load_error("  ajmer:\n", "  Ajmer:\n", RN_ESCHEMA);
    assert_non_null(strstr(err, "nodes.Ajmer: 'Ajmer' is not a valid node id"));
    err = load_error("  ajmer:\n", "  icmp:\n", RN_ESCHEMA);
    assert_non_null(strstr(err, "'icmp', 'tcp', 'http', 'udpecho' are reserved"));
    /* every sample source is a directory of the RRD tree: a node segment must not be one */
    err = load_error("  ajmer:\n", "  udpecho:\n", RN_ESCHEMA);
    assert_non_null(strstr(err, "nodes.udpecho: 'udpecho' is not a valid node id"));
}

static void test_yaml_syntax_error_has_line(void **state)
{
    const char *err = load_error("tier: sdc", "tier: [sdc", RN_EPARSE);
    assert_non_null(strstr(err, "YAML syntax error"));
    assert_non_null(strstr(err, mutated("tier: sdc", "tier: sdc"))); /* names the file */
}

static void test_remote_device_must_exist(void **state)
{
    const char *err = load_error("remote: { device: core1, ifname: jaipur }",
                                 "remote: { device: core9, ifname: jaipur }", RN_ETOPOLOGY);
    assert_non_null(strstr(err, "remote.device: no device 'core9' at node 'sdc'"));
}

static void test_v3_needs_user(void **state)
{
    const char *err = load_error("version: 3, user: noc, ", "version: 3, ", RN_ESCHEMA);
    assert_non_null(strstr(err, "nodes.sdc.devices[0].snmp: version 3 needs user"));
}

static void test_missing_file_is_errno(void **state)
{
    char err[256];
    rn_topology_t *t;
    assert_int_equal(rn_topology_load("/nonexistent/topo.yaml", NULL, &t, err, sizeof err),
                     -2 /* -ENOENT */);
    assert_non_null(strstr(err, "/nonexistent/topo.yaml: cannot open"));
}

static void test_bad_secret_file(void **state)
{
    char err[512], path[64];
    snprintf(path, sizeof path, "/tmp/rn-secrets-test-%d.yaml", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs("a: { community: x }\nb: { auth: SHA, auth_key: short }\n", f);
    fclose(f);
    rn_topology_t *t;
    assert_int_equal(rn_topology_load(SIM_TOPOLOGY, path, &t, err, sizeof err), RN_ESCHEMA);
    assert_non_null(strstr(err, ":2: b: USM keys must be at least 8 characters"));
    unlink(path);
}

/* SLA report keys (added with collector/report*.c): the sim carries them, errors name file:line. */
static void test_sla_report_keys(void **state)
{
    rn_topology_t *t = NULL;
    char err[512] = "";
    assert_int_equal(rn_topology_load(SIM_TOPOLOGY, SIM_SECRETS, &t, err, sizeof err), 0);
    const rn_sla_class_t *dhq = &t->sla_classes[0];
    assert_int_equal(dhq->n_penalty, 4);
    assert_true(dhq->penalty[0].availability == 99.5 && dhq->penalty[3].pct == 20);
    assert_true(dhq->restore_hours[0] == 4 && dhq->restore_hours[1] == 16);
    assert_true(rn_topology_node(t, "jaipur")->uplinks[0].monthly_charge == 250000);
    rn_topology_free(t);
}

static void test_penalty_must_descend(void **state)
{
    const char *err = load_error("[99.0, 5], [98.0, 10]", "[99.0, 5], [99.2, 10]", RN_ESCHEMA);
    assert_has_line(err, sim_line("  dhq: {"), "sla_classes.dhq.penalty: slab 2: availability 99.2 must "
                    "be below");
}

static void test_penalty_slab_shape(void **state)
{
    const char *err = load_error("[0, 20]", "[0, 20, 1]", RN_ESCHEMA);
    assert_has_line(err, sim_line("  dhq: {"), "sla_classes.dhq.penalty: slab 3 must be [availability, pct]");
}

/* VC capture: the vc service's RTP media port range. */
static void test_vc_rtp_ports(void **state)
{
    char err[1024];
    rn_topology_t *t;
    assert_int_equal(rn_topology_load(SIM_TOPOLOGY, SIM_SECRETS, &t, err, sizeof err), 0);
    assert_string_equal(t->services[0].kind, "vc");
    assert_int_equal(t->services[0].rtp_port_min, 16384);
    assert_int_equal(t->services[0].rtp_port_max, 32767);
    assert_int_equal(t->services[1].rtp_port_min, 0); /* egov: none */
    rn_topology_free(t);
    const char *e = load_error("rtp_ports: [16384, 32767]", "rtp_ports: [32767, 16384]", RN_ESCHEMA);
    assert_non_null(strstr(e, "services.vc.rtp_ports: min 32767 is above max 16384"));
    e = load_error("rtp_ports: [16384, 32767]", "rtp_ports: [16384]", RN_ESCHEMA);
    assert_non_null(strstr(e, "services.vc.rtp_ports: expected [min, max]"));
    e = load_error("rtp_ports: [16384, 32767]", "rtp_ports: [0, 32767]", RN_ESCHEMA);
    assert_non_null(strstr(e, "port '0' is not in 1..65535"));
    e = load_error("emitra: { kind: egov,", "emitra: { kind: egov, rtp_ports: [1, 2],", RN_ESCHEMA);
    assert_non_null(strstr(e, "services.emitra.rtp_ports: only a vc service has RTP ports"));
}

static void test_bad_monthly_charge(void **state)
{
    const char *err = load_error("monthly_charge: 250000", "monthly_charge: lots", RN_ESCHEMA);
    assert_non_null(strstr(err, "nodes.jaipur.uplinks[0].monthly_charge: 'lots' is not a number"));
}

/* ---- extra OIDs of a device (devices[].extra) ------------------------------------------- */

#define JAIPUR_DEVICE "devices: [{ name: rtr1, addr: 10.77.1.1, snmp: { version: 2c, secret: jaipur-ro } }]"

/* Jaipur's device in block style with the given `extra:` items (lines 37 on, one a line). */
static const char *jaipur_extras(const char *items)
{
    static char text[8192];
    snprintf(text, sizeof text,
             "devices:\n"
             "      - name: rtr1\n"
             "        addr: 10.77.1.1\n"
             "        snmp: { version: 2c, secret: jaipur-ro }\n"
             "        extra:\n%s",
             items);
    return text;
}

/* Loads the simulated topology with one substitution that must load. */
static rn_topology_t *load_ok(const char *from, const char *to)
{
    char err[1024] = "";
    rn_topology_t *t = NULL;
    const char *path = mutated(from, to);
    int rc = rn_topology_load(path, SIM_SECRETS, &t, err, sizeof err);
    unlink(path);
    if (rc != 0)
        fail_msg("load failed (%d): %s", rc, err);
    return t;
}

/* Asserts that err is "<file>:<line>: <rest>". */
static void assert_at(const char *err, int line, const char *rest)
{
    char want[512];
    snprintf(want, sizeof want, ":%d: %s", line, rest);
    if (!strstr(err, want) || strncmp(err, "/tmp/rn-topo-test-", 18) != 0)
        fail_msg("expected \"<file>%s\", got \"%s\"", want, err);
}

static void test_extra_oids_load(void **state)
{
    rn_topology_t *t = load_ok(JAIPUR_DEVICE, jaipur_extras(
        "          - { name: cpu, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.8.1, kind: gauge }\n"
        "          - { name: modem-resets, oid: .1.3.6.1.4.1.99999.2.1.0, kind: counter }\n"));
    const rn_node_t *jpr = rn_topology_node(t, "jaipur");
    assert_non_null(jpr);
    assert_int_equal(jpr->devices[0].n_extra, 2);
    assert_string_equal(jpr->devices[0].extra[0].name, "cpu");
    assert_string_equal(jpr->devices[0].extra[0].oid, "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1");
    assert_string_equal(jpr->devices[0].extra[0].kind, "gauge");
    assert_string_equal(jpr->devices[0].extra[1].name, "modem-resets");
    assert_string_equal(jpr->devices[0].extra[1].kind, "counter");
    assert_int_equal(rn_topology_node(t, "ajmer")->devices[0].n_extra, 0);
    rn_topology_free(t);
}

static void test_extra_oid_bad_kind(void **state)
{
    const char *err = load_error(JAIPUR_DEVICE, jaipur_extras(
        "          - { name: cpu, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.8.1, kind: gauge }\n"
        "          - { name: resets, oid: 1.3.6.1.4.1.99999.2.1.0, kind: rate }\n"),
        RN_ESCHEMA);
    assert_at(err, sim_line(JAIPUR_DEVICE) + 6, "nodes.jaipur.devices[0].extra[1]: kind 'rate' is not gauge or counter");
}

static void test_extra_oid_bad_oid(void **state)
{
    static const char *const bad[] = { "1", "1.3.6.", "1..3", "iso.3.6.1.2", "1.3.4294967296" };
    char item[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(item, sizeof item, "          - { name: cpu, oid: '%s', kind: gauge }\n", bad[i]);
        const char *err = load_error(JAIPUR_DEVICE, jaipur_extras(item), RN_ESCHEMA);
        char want[256];
        snprintf(want, sizeof want, "nodes.jaipur.devices[0].extra[0]: oid '%s' is not a numeric "
                 "OID (e.g. 1.3.6.1.2.1.1.3.0)", bad[i]);
        assert_at(err, sim_line(JAIPUR_DEVICE) + 5, want);
    }
}

static void test_extra_oid_duplicate_name(void **state)
{
    const char *err = load_error(JAIPUR_DEVICE, jaipur_extras(
        "          - { name: cpu, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.8.1, kind: gauge }\n"
        "          - { name: temp, oid: 1.3.6.1.4.1.9.9.13.1.3.1.3.1, kind: gauge }\n"
        "          - { name: cpu, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.5.1, kind: gauge }\n"),
        RN_ESCHEMA);
    assert_at(err, sim_line(JAIPUR_DEVICE) + 7, "nodes.jaipur.devices[0].extra[2]: name 'cpu' used twice in this device");
    err = load_error(JAIPUR_DEVICE, jaipur_extras(
        "          - { name: CPU, oid: 1.3.6.1.4.1.9.9.109.1.1.1.1.8.1, kind: gauge }\n"),
        RN_ESCHEMA);
    assert_at(err, sim_line(JAIPUR_DEVICE) + 5, "nodes.jaipur.devices[0].extra[0]: name 'CPU' is not 1-63 of [a-z0-9_-]");
}

static void test_extra_oids_at_most_32(void **state)
{
    char items[4096] = "";
    for (int i = 0; i < 33; i++) {
        char item[128];
        snprintf(item, sizeof item, "          - { name: x%d, oid: 1.3.6.1.4.1.99999.%d.0, "
                 "kind: gauge }\n", i, i);
        strcat(items, item);
    }
    const char *err = load_error(JAIPUR_DEVICE, jaipur_extras(items), RN_ESCHEMA);
    assert_at(err, sim_line(JAIPUR_DEVICE) + 5, "nodes.jaipur.devices[0].extra: 33 extra OIDs, at most 32");
    items[strlen(items) - 1] = '\0'; /* 32 load */
    *strrchr(items, '\n') = '\0';
    strcat(items, "\n");
    rn_topology_t *t = load_ok(JAIPUR_DEVICE, jaipur_extras(items));
    assert_int_equal(rn_topology_node(t, "jaipur")->devices[0].n_extra, 32);
    rn_topology_free(t);
}

/* ---- UDP echo pairs (top-level udp_echo:) ------------------------------------------------- */

/* The `udp_echo:` section with the given pairs (lines 25 on, one a line), before `nodes:`. */
static const char *echo_pairs(const char *pairs)
{
    static char text[4096];
    snprintf(text, sizeof text, "udp_echo:\n%s\nnodes:\n  sdc:\n", pairs);
    return text;
}

static void test_udp_echo_pairs_load(void **state)
{
    rn_topology_t *t = load_ok("nodes:\n  sdc:\n", echo_pairs(
        "  - { a: jaipur, b: ajmer, count: 20 }\n"
        "  - { a: jaipur/sanganer, b: sdc }\n"));
    assert_int_equal(t->n_echo_pairs, 2);
    assert_string_equal(t->echo_pairs[0].a, "jaipur");
    assert_string_equal(t->echo_pairs[0].b, "ajmer");
    assert_int_equal(t->echo_pairs[0].count, 20);
    assert_int_equal(t->echo_pairs[0].line, sim_line("nodes:") + 1);
    assert_string_equal(t->echo_pairs[1].a, "jaipur/sanganer");
    assert_int_equal(t->echo_pairs[1].count, 0); /* settings.probe_count */
    rn_topology_free(t);
}

static void test_udp_echo_unknown_node(void **state)
{
    const char *err = load_error("nodes:\n  sdc:\n", echo_pairs(
        "  - { a: jaipur, b: ajmer }\n"
        "  - { a: jaipur/sanganer, b: bikaner }\n"), RN_ETOPOLOGY);
    assert_at(err, sim_line("nodes:") + 2, "udp_echo[1]: unknown node 'bikaner'");
}

static void test_udp_echo_self_pair(void **state)
{
    const char *err = load_error("nodes:\n  sdc:\n", echo_pairs(
        "  - { a: ajmer, b: ajmer }\n"), RN_ETOPOLOGY);
    assert_at(err, sim_line("nodes:") + 1, "udp_echo[0]: a node cannot echo with itself ('ajmer')");
}

static void test_udp_echo_duplicate_pair(void **state)
{
    const char *err = load_error("nodes:\n  sdc:\n", echo_pairs(
        "  - { a: jaipur, b: ajmer }\n"
        "  - { a: sdc, b: ajmer }\n"
        "  - { a: ajmer, b: jaipur, count: 10 }\n"), RN_ETOPOLOGY);
    char rest[128];
    int first = sim_line("nodes:") + 1;
    snprintf(rest, sizeof rest, "udp_echo[2]: pair ajmer - jaipur is already at line %d", first);
    assert_at(err, first + 2, rest);
}

static void test_node_defined_twice_names_the_second(void **state)
{
    int line = sim_line("  ajmer/kishangarh:");
    const char *err = load_error("  ajmer/kishangarh:\n", "  jaipur/amer:\n", RN_ETOPOLOGY);
    assert_has_line(err, line, "nodes.jaipur/amer.parent: node 'jaipur/amer' is defined twice");
}

/* Police video surveillance: the simulated topology's stations, cameras and NVR. */
static void test_stations_load(void **state)
{
    (void)state;
    char err[1024];
    rn_topology_t *t;
    assert_int_equal(rn_topology_load(SIM_TOPOLOGY, SIM_SECRETS, &t, err, sizeof err), 0);
    const rn_node_t *n = NULL;
    const rn_station_t *st = rn_topology_station(t, "ps-sanganer", &n);
    assert_non_null(st);
    assert_string_equal(n->id, "jaipur/sanganer");
    assert_string_equal(st->nvr, "10.77.11.60");
    assert_int_equal(st->n_cameras, 2);
    assert_string_equal(st->cameras[0].name, "gate");
    assert_string_equal(st->cameras[1].addr, "10.77.11.62");
    assert_int_equal(st->line, sim_line("name: ps-sanganer"));
    assert_string_equal(st->rec_ifname, "cctv0"); /* recording: { ifname: cctv0 } */
    assert_true(st->rec_max_loss_pct == RN_TOPOLOGY_REC_MAX_LOSS);
    st = rn_topology_station(t, "ps-kishangarh", &n);
    assert_non_null(st);
    assert_string_equal(n->id, "ajmer/kishangarh");
    assert_null(st->nvr);
    assert_null(st->rec_ifname);
    assert_null(rn_topology_station(t, "ps-nowhere", NULL));
    rn_topology_free(t);
}

static void test_station_camera_addr_must_be_numeric(void **state)
{
    (void)state;
    const char *err = load_error("addr: 10.77.11.62 }", "addr: cam2.example }", RN_ESCHEMA);
    assert_has_line(err, sim_line("name: ps-sanganer"), "nodes.jaipur/sanganer.stations[0]."
                    "cameras[1]: addr 'cam2.example' is not a numeric IPv4 or IPv6 address");
}

static void test_station_camera_name_twice(void **state)
{
    (void)state;
    const char *err = load_error("name: lockup", "name: gate", RN_ESCHEMA);
    char rest[160];
    int line = sim_line("name: ps-sanganer");
    snprintf(rest, sizeof rest, "nodes.jaipur/sanganer.stations[0].cameras[1]: camera 'gate' is "
             "already at line %d", line);
    assert_has_line(err, line, rest);
}

static void test_station_name_unique_in_topology(void **state)
{
    (void)state;
    const char *err = load_error("name: ps-kishangarh", "name: ps-sanganer", RN_ETOPOLOGY);
    char rest[200];
    snprintf(rest, sizeof rest, "nodes.ajmer/kishangarh.stations[0]: station 'ps-sanganer' is "
             "already at line %d (node 'jaipur/sanganer')", sim_line("name: ps-sanganer"));
    assert_has_line(err, sim_line("name: ps-kishangarh"), rest);
}

/* "nvr" names a station's NVR where cameras are named (plan, RRD files, alarm): no camera may
 * take it. */
static void test_station_camera_may_not_be_nvr(void **state)
{
    (void)state;
    const char *err = load_error("name: lockup", "name: nvr", RN_ESCHEMA);
    assert_has_line(err, sim_line("name: ps-sanganer"), "nodes.jaipur/sanganer.stations[0]."
                    "cameras[1]: name 'nvr' is the station's NVR's; name the camera otherwise");
}

/* `recording:`: the stream is told by its NVR, so a station needs one; the interface is a Linux
 * name; max_loss_pct is a percentage. */
static void test_station_recording_checks(void **state)
{
    (void)state;
    int line = sim_line("recording: { ifname: cctv0 }");
    const char *err = load_error("nvr: 10.77.11.60, ", "", RN_ESCHEMA);
    assert_has_line(err, line, "nodes.jaipur/sanganer.stations[0].recording: a recording stream "
                    "goes to the station's NVR: give the station an nvr address");
    err = load_error("ifname: cctv0", "ifname: cctv/0", RN_ESCHEMA);
    assert_has_line(err, line, "nodes.jaipur/sanganer.stations[0].recording: ifname 'cctv/0' is "
                    "not an interface name (1-15 bytes, no '/', ':' or space)");
    err = load_error("ifname: cctv0", "ifname: station-lan-port0", RN_ESCHEMA);
    assert_non_null(strstr(err, "ifname 'station-lan-port0' is not an interface name"));
    err = load_error("ifname: cctv0 }", "ifname: cctv0, max_loss_pct: 150 }", RN_ESCHEMA);
    assert_non_null(strstr(err, "max_loss_pct"));
    err = load_error("ifname: cctv0 }", "ifnam: cctv0 }", RN_ESCHEMA);
    assert_non_null(strstr(err, "recording"));
    rn_topology_t *t = load_ok("ifname: cctv0 }", "ifname: cctv0, max_loss_pct: 0.5 }");
    assert_true(rn_topology_station(t, "ps-sanganer", NULL)->rec_max_loss_pct == 0.5);
    rn_topology_free(t);
}

/* A station at an agentless village: its parent's agent probes it (collector/ingest/plan.c). */
static void test_station_at_agentless_node(void **state)
{
    (void)state;
    rn_topology_t *t = load_ok("    parent: jaipur/sanganer\n    agent: false\n",
                               "    parent: jaipur/sanganer\n    agent: false\n    stations: "
                               "[{ name: ps-bagru, nvr: 10.77.122.60, cameras: [{ name: gate, "
                               "addr: 10.77.122.61 }] }]\n");
    const rn_node_t *n = NULL;
    const rn_station_t *st = rn_topology_station(t, "ps-bagru", &n);
    assert_non_null(st);
    assert_string_equal(n->id, "jaipur/sanganer/gp-bagru");
    assert_false(n->agent);
    assert_string_equal(st->nvr, "10.77.122.60");
    rn_topology_free(t);
}

static void test_station_needs_cameras(void **state)
{
    (void)state;
    const char *err = load_error("{ name: ps-kishangarh, cameras: [{ name: gate, addr: 10.77.21.61 }] }",
                                 "{ name: ps-kishangarh, cameras: [] }", RN_ESCHEMA);
    assert_has_line(err, sim_line("name: ps-kishangarh"), "nodes.ajmer/kishangarh.stations[0]."
                    "cameras: 0 cameras, expected 1..64");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_topology_loads_whole_tree),
        cmocka_unit_test(test_node_defined_twice_names_the_second),
        cmocka_unit_test(test_unknown_key_names_line_and_field),
        cmocka_unit_test(test_unknown_vendor_names_the_link),
        cmocka_unit_test(test_bad_number_is_reported),
        cmocka_unit_test(test_out_of_range_interval),
        cmocka_unit_test(test_missing_secret),
        cmocka_unit_test(test_parent_must_match_path),
        cmocka_unit_test(test_unknown_parent),
        cmocka_unit_test(test_bad_node_id),
        cmocka_unit_test(test_yaml_syntax_error_has_line),
        cmocka_unit_test(test_remote_device_must_exist),
        cmocka_unit_test(test_v3_needs_user),
        cmocka_unit_test(test_missing_file_is_errno),
        cmocka_unit_test(test_bad_secret_file),
        cmocka_unit_test(test_sla_report_keys),
        cmocka_unit_test(test_penalty_must_descend),
        cmocka_unit_test(test_penalty_slab_shape),
        cmocka_unit_test(test_bad_monthly_charge),
        cmocka_unit_test(test_vc_rtp_ports), /* VC capture */
        cmocka_unit_test(test_extra_oids_load), /* extra OIDs */
        cmocka_unit_test(test_extra_oid_bad_kind),
        cmocka_unit_test(test_extra_oid_bad_oid),
        cmocka_unit_test(test_extra_oid_duplicate_name),
        cmocka_unit_test(test_extra_oids_at_most_32),
        cmocka_unit_test(test_udp_echo_pairs_load), /* UDP echo pairs */
        cmocka_unit_test(test_udp_echo_unknown_node),
        cmocka_unit_test(test_udp_echo_self_pair),
        cmocka_unit_test(test_udp_echo_duplicate_pair),
        cmocka_unit_test(test_stations_load), /* police station cameras */
        cmocka_unit_test(test_station_camera_addr_must_be_numeric),
        cmocka_unit_test(test_station_camera_name_twice),
        cmocka_unit_test(test_station_name_unique_in_topology),
        cmocka_unit_test(test_station_needs_cameras),
        cmocka_unit_test(test_station_camera_may_not_be_nvr),
        cmocka_unit_test(test_station_recording_checks),
        cmocka_unit_test(test_station_at_agentless_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
