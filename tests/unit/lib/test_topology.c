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
    assert_int_equal(t->n_nodes, 6);
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
    assert_non_null(strstr(err, ":9: settings.probe_cuont: unknown key"));
}

static void test_unknown_vendor_names_the_link(void **state)
{
    const char *err = load_error("vendor: bsnl, kind: mpls, mbps: 34", "vendor: bsnll, kind: mpls, mbps: 34",
                                 RN_ETOPOLOGY);
    assert_non_null(strstr(err, ":34: nodes.jaipur.uplinks[0]: vendor: unknown vendor 'bsnll'"));
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
    assert_non_null(strstr(err, ":17: sla_classes.dhq.penalty: slab 2: availability 99.2 must "
                                "be below"));
}

static void test_penalty_slab_shape(void **state)
{
    const char *err = load_error("[0, 20]", "[0, 20, 1]", RN_ESCHEMA);
    assert_non_null(strstr(err, ":17: sla_classes.dhq.penalty: slab 3 must be [availability, pct]"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_topology_loads_whole_tree),
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
