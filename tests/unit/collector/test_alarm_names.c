/* The alarm vocabulary (collector/alarm/alarm_names.c): one name per type, severity and event
 * kind, names that stay as the API, dashboards and integration tests spell them, and parsers
 * that take every older spelling the event store, the API and the notifiers once wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "alarm/alarm.h"

static void test_every_type_has_one_name_that_parses_back(void **state)
{
    for (int t = 0; t < RN_ALARM_TYPE_COUNT; t++) {
        const char *name = rn_alarm_type_name((rn_alarm_type_t)t);
        assert_non_null(name);
        assert_int_equal(rn_alarm_type_parse(name), t);
        assert_ptr_equal(rn_alarm_type_canonical(name), name);
        for (const char *p = name; *p; p++) /* snake_case, as the API has always sent */
            assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
        for (int u = 0; u < t; u++)
            assert_string_not_equal(name, rn_alarm_type_name((rn_alarm_type_t)u));
    }
    assert_string_equal(rn_alarm_type_name(RN_ALARM_TYPE_COUNT), "unknown");
}

static void test_the_api_spellings_are_the_names(void **state)
{
    /* docs/api.md, dashboards/noc/util.js and tests/integration/api_check.py match on these */
    static const char *const api[RN_ALARM_TYPE_COUNT] = {
        "link_down", "link_degraded", "link_flapping", "node_silent", "node_isolated",
        "redundancy_lost", "service_unreachable", "path_lost", "vc_quality", "agent_down",
        "service_down", "cert_expiring", "device_replaced", "contract_expiring", "camera_offline",
        "recording_degraded",
    };
    for (int t = 0; t < RN_ALARM_TYPE_COUNT; t++)
        assert_string_equal(rn_alarm_type_name((rn_alarm_type_t)t), api[t]);
}

static void test_older_type_spellings_parse(void **state)
{
    assert_int_equal(rn_alarm_type_parse("link down"), RN_ALARM_LINK_DOWN); /* the history's */
    assert_int_equal(rn_alarm_type_parse("Link-Down"), RN_ALARM_LINK_DOWN);
    assert_int_equal(rn_alarm_type_parse("VC quality low"), RN_ALARM_VC_QUALITY);
    assert_int_equal(rn_alarm_type_parse("VC_quality_low"), RN_ALARM_VC_QUALITY); /* the API's */
    assert_int_equal(rn_alarm_type_parse("certificate expiring"), RN_ALARM_CERT_EXPIRING);
    assert_int_equal(rn_alarm_type_parse("certificate_expiring"), RN_ALARM_CERT_EXPIRING);
    assert_int_equal(rn_alarm_type_parse("service unreachable"), RN_ALARM_SERVICE_UNREACHABLE);
    assert_string_equal(rn_alarm_type_canonical("camera offline"), "camera_offline");
    /* unknown words: refused by the parser, passed through by canonical */
    assert_int_equal(rn_alarm_type_parse("node_unreachable"), -EINVAL);
    assert_int_equal(rn_alarm_type_parse(""), -EINVAL);
    assert_int_equal(rn_alarm_type_parse(NULL), -EINVAL);
    assert_int_equal(rn_alarm_type_parse("link down but much longer than any name could be at "
                                         "all, past the fold buffer"), -EINVAL);
    assert_string_equal(rn_alarm_type_canonical("a newer word"), "a newer word");
}

static void test_severities_are_s1_to_s3_and_parse_every_spelling(void **state)
{
    assert_string_equal(rn_alarm_severity_name(1), "S1");
    assert_string_equal(rn_alarm_severity_name(2), "S2");
    assert_string_equal(rn_alarm_severity_name(3), "S3");
    assert_string_equal(rn_alarm_severity_name(0), "S3");
    assert_string_equal(rn_alarm_severity_name(9), "S3");
    static const struct {
        const char *s;
        int want;
    } in[] = { { "S1", 1 }, { "s1", 1 }, { "1", 1 }, { "critical", 1 }, { "Critical", 1 },
               { "S2", 2 }, { "2", 2 }, { "major", 2 }, { "S3", 3 }, { "3", 3 }, { "minor", 3 },
               { "S4", -EINVAL }, { "0", -EINVAL }, { "warning", -EINVAL }, { "", -EINVAL },
               { "S12", -EINVAL }, { NULL, -EINVAL } };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_int_equal(rn_alarm_severity_parse(in[i].s), in[i].want);
    for (int s = 1; s <= 3; s++)
        assert_int_equal(rn_alarm_severity_parse(rn_alarm_severity_name(s)), s);
}

static void test_event_kinds_are_snake_case_and_parse_older_words(void **state)
{
    assert_string_equal(rn_alarm_event_name(RN_ALARM_EV_RAISED), "raised");
    assert_string_equal(rn_alarm_event_name(RN_ALARM_EV_SYMPTOM_OF), "symptom_of");
    assert_string_equal(rn_alarm_event_name(RN_ALARM_EV_PROMOTED), "promoted");
    assert_string_equal(rn_alarm_event_name(RN_ALARM_EV_CLEARED), "cleared");
    assert_string_equal(rn_alarm_event_name((rn_alarm_event_kind_t)7), "unknown");
    for (int k = RN_ALARM_EV_RAISED; k <= RN_ALARM_EV_CLEARED; k++)
        assert_int_equal(rn_alarm_event_parse(rn_alarm_event_name((rn_alarm_event_kind_t)k)), k);
    assert_int_equal(rn_alarm_event_parse("symptom of"), RN_ALARM_EV_SYMPTOM_OF); /* the log's */
    assert_int_equal(rn_alarm_event_parse("symptom"), RN_ALARM_EV_SYMPTOM_OF); /* notifiers' */
    assert_int_equal(rn_alarm_event_parse("acknowledged"), -EINVAL); /* the store's word */
    assert_int_equal(rn_alarm_event_parse(NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_has_one_name_that_parses_back),
        cmocka_unit_test(test_the_api_spellings_are_the_names),
        cmocka_unit_test(test_older_type_spellings_parse),
        cmocka_unit_test(test_severities_are_s1_to_s3_and_parse_every_spelling),
        cmocka_unit_test(test_event_kinds_are_snake_case_and_parse_older_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
