/* Notification formats (collector/notify/notify_format.c) and the retry schedule: the JSON payload the
 * webhook and exec hook get (and the journal stores and replays), the RFC 5424 line with its
 * structured data, target parsing, and the backoff delays. Pure functions: exact bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sys/socket.h>

#include "notify/notify_int.h"

#define T0 1714557600123LL /* 2024-05-01T10:00:00.123Z */

static const char *const offices[] = { "jaipur", "jaipur/sanganer" };
static const char *const services[] = { "vc", "emitra" };

/* A link-down alarm on jaipur's uplink, as the engine would hand it over. */
static rn_alarm_t sample_alarm(void)
{
    rn_alarm_t a = {
        .id = 12, .type = RN_ALARM_LINK_DOWN, .severity = 1, .entity = "JPR-MPLS-0042",
        .node = "jaipur", .vendor = "bsnl", .circuit = "JPR-MPLS-0042", .root_id = 0,
        .since_ms = T0 - 3000, .raised_ms = T0, .planned = false, .impact_nodes = offices,
        .n_impact_nodes = 2, .impact_services = services, .n_impact_services = 2,
        .text = "link JPR-MPLS-0042 (bsnl) down: \"jaipur\" cut off]",
    };
    return a;
}

static void test_json_payload_names_every_field(void **state)
{
    rn_alarm_t a = sample_alarm();
    rn__notify_event_t *ev = rn__notify_event_new(RN_ALARM_EV_RAISED, &a, T0);
    assert_non_null(ev);
    json_t *root = json_loads(ev->json, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "event")), "raised");
    assert_string_equal(json_string_value(json_object_get(root, "at")), "2024-05-01T10:00:00.123Z");
    json_t *al = json_object_get(root, "alarm");
    assert_int_equal(json_integer_value(json_object_get(al, "id")), 12);
    assert_string_equal(json_string_value(json_object_get(al, "type")), "link_down");
    assert_string_equal(json_string_value(json_object_get(al, "vendor")), "bsnl");
    assert_true(json_is_null(json_object_get(al, "service")));
    assert_string_equal(json_string_value(json_object_get(al, "impact_text")),
                        "offices: jaipur, jaipur/sanganer; services: vc, emitra");
    json_t *imp = json_object_get(al, "impact");
    assert_int_equal(json_array_size(json_object_get(imp, "offices")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(imp, "services"), 1)),
                        "emitra");
    assert_null(strchr(ev->json, '\n')); /* one journal line */
    json_decref(root);
    rn__notify_event_free(ev);
}

static void test_json_round_trips_through_the_journal(void **state)
{
    rn_alarm_t a = sample_alarm();
    a.vendor = NULL, a.circuit = NULL, a.planned = true, a.root_id = 3;
    rn__notify_event_t *ev = rn__notify_event_new(RN_ALARM_EV_CLEARED, &a, T0 + 5000);
    rn__notify_event_t *back = rn__notify_event_from_json(ev->json);
    assert_non_null(back);
    assert_int_equal(back->kind, RN_ALARM_EV_CLEARED);
    assert_int_equal(back->at_ms, T0 + 5000);
    assert_int_equal(back->id, 12);
    assert_int_equal(back->root_id, 3);
    assert_true(back->planned);
    assert_string_equal(back->vendor, "");
    assert_string_equal(back->node, "jaipur");
    assert_string_equal(back->impact, ev->impact);
    assert_string_equal(back->text, a.text);
    assert_string_equal(back->json, ev->json);
    assert_null(rn__notify_event_from_json("{\"event\":\"raised\"}"));
    assert_null(rn__notify_event_from_json("not json"));
    rn__notify_event_free(back);
    rn__notify_event_free(ev);
}

/* A journal written before the vocabulary was one ("link down", "symptom") is read, and
 * replayed, in today's words; a record already in them is replayed byte for byte. */
static void test_older_journal_records_come_back_in_the_vocabulary(void **state)
{
    rn_alarm_t a = sample_alarm();
    rn__notify_event_t *ev = rn__notify_event_new(RN_ALARM_EV_RAISED, &a, T0);
    const char *at = strstr(ev->json, "\"type\":\"link_down\"");
    assert_non_null(at);
    char old[4096];
    snprintf(old, sizeof old, "%.*s\"type\":\"link down\"%s", (int)(at - ev->json), ev->json,
             at + strlen("\"type\":\"link_down\""));
    rn__notify_event_t *back = rn__notify_event_from_json(old);
    assert_non_null(back);
    assert_string_equal(back->type_name, "link_down");
    assert_string_equal(back->json, ev->json); /* the webhook gets today's body */
    rn__notify_event_free(back);
    back = rn__notify_event_from_json(ev->json);
    assert_string_equal(back->json, ev->json);
    rn__notify_event_free(back);
    rn__notify_event_free(ev);

    ev = rn__notify_event_new(RN_ALARM_EV_SYMPTOM_OF, &a, T0);
    assert_non_null(strstr(ev->json, "\"event\":\"symptom_of\""));
    at = strstr(ev->json, "symptom_of");
    snprintf(old, sizeof old, "%.*ssymptom%s", (int)(at - ev->json), ev->json,
             at + strlen("symptom_of"));
    back = rn__notify_event_from_json(old);
    assert_non_null(back);
    assert_int_equal(back->kind, RN_ALARM_EV_SYMPTOM_OF);
    assert_string_equal(back->json, ev->json);
    rn__notify_event_free(back);
    rn__notify_event_free(ev);
}

static void test_syslog_line_is_rfc5424_with_escaped_structured_data(void **state)
{
    rn_alarm_t a = sample_alarm();
    rn__notify_event_t *ev = rn__notify_event_new(RN_ALARM_EV_RAISED, &a, T0);
    char buf[2048];
    size_t n = rn__notify_syslog_format(ev, 16, "collector1", 4242, buf, sizeof buf);
    assert_int_equal(n, strlen(buf));
    assert_string_equal(
        buf, "<130>1 2024-05-01T10:00:00.123Z collector1 rajnet-collector 4242 ALARM_RAISED "
             "[rajnet@32473 alarm=\"12\" event=\"raised\" type=\"link_down\" severity=\"1\" "
             "node=\"jaipur\" entity=\"JPR-MPLS-0042\" circuit=\"JPR-MPLS-0042\" "
             "vendor=\"bsnl\" root=\"0\" planned=\"false\" impact=\"offices: jaipur, "
             "jaipur/sanganer; services: vc, emitra\"] raised link JPR-MPLS-0042 (bsnl) down: "
             "\"jaipur\" cut off]");
    rn__notify_event_free(ev);
    /* a cleared S2 without vendor: notice, no empty params; a quote inside a value escaped */
    a.severity = 2, a.vendor = NULL, a.circuit = NULL, a.node = "x\"y]", a.n_impact_nodes = 0;
    a.n_impact_services = 0;
    ev = rn__notify_event_new(RN_ALARM_EV_CLEARED, &a, T0);
    rn__notify_syslog_format(ev, 16, "", 1, buf, sizeof buf);
    assert_non_null(strstr(buf, "<133>1 "));
    assert_non_null(strstr(buf, " - rajnet-collector 1 ALARM_CLEARED "));
    assert_non_null(strstr(buf, "node=\"x\\\"y\\]\""));
    assert_null(strstr(buf, "vendor="));
    assert_null(strstr(buf, "impact="));
    /* truncation never overruns */
    char small[40];
    n = rn__notify_syslog_format(ev, 16, "h", 1, small, sizeof small);
    assert_int_equal(n, sizeof small - 1);
    assert_int_equal(strlen(small), sizeof small - 1);
    rn__notify_event_free(ev);
}

static void test_backoff_doubles_up_to_the_cap(void **state)
{
    static const uint64_t want[] = { 0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
    for (uint32_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(rn__notify_backoff_ms(i, 1000, 60000), want[i]);
    assert_int_equal(rn__notify_backoff_ms(200, 1000, 60000), 60000);
    assert_int_equal(rn__notify_backoff_ms(3, 100, 250), 250);
}

static void test_targets_need_literal_addresses(void **state)
{
    bool tcp;
    struct sockaddr_storage ss;
    assert_int_equal(rn__notify_parse_target("udp:127.0.0.1:514", &tcp, &ss), 0);
    assert_false(tcp);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(rn__notify_parse_target("tcp6:[::1]:6514", &tcp, &ss), 0);
    assert_true(tcp);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(rn__notify_parse_target("udp:[::1]:514", &tcp, &ss), 0);
    assert_int_equal(rn__notify_parse_target("udp:nms.example:162", &tcp, &ss), -EINVAL);
    assert_int_equal(rn__notify_parse_target("udp:127.0.0.1", &tcp, &ss), -EINVAL);
    assert_int_equal(rn__notify_parse_target("udp:127.0.0.1:0", &tcp, &ss), -EINVAL);
    assert_int_equal(rn__notify_parse_target("sctp:127.0.0.1:1", &tcp, &ss), -EINVAL);
    assert_int_equal(rn__notify_parse_target("udp:::1:514", &tcp, &ss), -EINVAL);
}

static void test_report_message_is_json_with_month_and_files(void **state)
{
    rn__notify_event_t *ev = rn__notify_report_new(
        "2024-04", "/var/lib/rajnet/reports/2024-04-bsnl.csv\n/var/lib/rajnet/reports/a \"b\".pdf\n",
        T0);
    assert_non_null(ev);
    assert_int_equal(ev->msg, RN_NOTIFY_REPORTS);
    assert_string_equal(ev->json,
                        "{\"source\":\"rajnet-collector\",\"event\":\"report\","
                        "\"at\":\"2024-05-01T10:00:00.123Z\",\"at_ms\":1714557600123,"
                        "\"month\":\"2024-04\",\"files\":[\"/var/lib/rajnet/reports/2024-04-bsnl.csv\","
                        "\"/var/lib/rajnet/reports/a \\\"b\\\".pdf\"]}");
    char label[64];
    assert_string_equal(rn__notify_event_label(ev, label, sizeof label), "report 2024-04");
    /* the journal's record comes back as the same report */
    rn__notify_event_t *back = rn__notify_event_from_json(ev->json);
    assert_non_null(back);
    assert_int_equal(back->msg, RN_NOTIFY_REPORTS);
    assert_string_equal(back->month, "2024-04");
    assert_string_equal(back->files, ev->files);
    assert_int_equal(back->at_ms, T0);
    assert_string_equal(back->json, ev->json);
    rn__notify_event_free(back);
    rn__notify_event_free(ev);
    assert_null(rn__notify_event_from_json("{\"event\":\"report\",\"at_ms\":1,\"month\":\"x\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_payload_names_every_field),
        cmocka_unit_test(test_json_round_trips_through_the_journal),
        cmocka_unit_test(test_older_journal_records_come_back_in_the_vocabulary),
        cmocka_unit_test(test_syslog_line_is_rfc5424_with_escaped_structured_data),
        cmocka_unit_test(test_backoff_doubles_up_to_the_cap),
        cmocka_unit_test(test_targets_need_literal_addresses),
        cmocka_unit_test(test_report_message_is_json_with_month_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
