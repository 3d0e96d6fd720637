/* The `notify` section reader (collector/notify/notify_config.c): a full section is read with its
 * defaults, and every mistake an operator is likely to make is refused with file:line and the
 * path of the offending key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "notify/notify.h"

/* Loads text as "collector.yaml", reads its notify section into cfg; returns the reader's result
 * with the message in err. */
static int read_text(const char *text, rn_notify_config_t *cfg, char *err, size_t err_len)
{
    rn_yaml_t y;
    err[0] = '\0';
    int rc = rn_yaml_load_buffer(&y, "/etc/rajnet/collector.yaml", (const uint8_t *)text,
                                 strlen(text), err, err_len);
    if (rc == 0) {
        yaml_node_t *root = rn_yaml_root(&y), *node = NULL;
        for (size_t i = 0; i < rn_yaml_map_len(root); i++)
            if (strcmp((char *)rn_yaml_map_key(&y, root, i)->data.scalar.value, "notify") == 0)
                node = rn_yaml_map_value(&y, root, i);
        rc = rn_notify_config_read(&y, node, cfg);
    }
    rn_yaml_free(&y);
    return rc;
}

static void test_full_section_is_read_with_defaults(void **state)
{
    const char *text =
        "listen: 0.0.0.0:7000\n"
        "notify:\n"
        "  state_dir: notify-state\n"
        "  retry_initial_ms: 500\n"
        "  traps: [{ target: \"udp:127.0.0.1:1162\", version: 2c, community: nms-trap },\n"
        "          { target: \"udp6:[::1]:1163\", version: 3, inform: true, user: nms, auth: SHA,\n"
        "            auth_key: authpass1, priv: AES, priv_key: privpass1 }]\n"
        "  syslog: [{ target: \"tcp:127.0.0.1:5514\" }, { target: \"udp:127.0.0.1:5514\", "
        "facility: 4 }]\n"
        "  webhooks: [{ url: \"http://127.0.0.1:8099/hook\", timeout_ms: 3000 }]\n"
        "  exec: [{ command: \"/usr/local/bin/sms-gateway --to noc\", timeout_ms: 5000 }]\n";
    rn_notify_config_t c;
    char err[256];
    assert_int_equal(read_text(text, &c, err, sizeof err), 0);
    assert_string_equal(c.state_dir, "/etc/rajnet/notify-state");
    assert_int_equal(c.retry_initial_ms, 500);
    assert_int_equal(c.retry_max_ms, 60000);
    assert_int_equal(c.max_age_s, 86400);
    assert_int_equal(c.n_traps, 2);
    assert_int_equal(c.traps[0].version, 2);
    assert_false(c.traps[0].inform);
    assert_string_equal(c.traps[0].community, "nms-trap");
    assert_int_equal(c.traps[1].version, 3);
    assert_true(c.traps[1].inform);
    assert_string_equal(c.traps[1].priv_key, "privpass1");
    assert_int_equal(c.traps[1].timeout_ms, 3000);
    assert_int_equal(c.n_syslogs, 2);
    assert_int_equal(c.syslogs[0].facility, 16);
    assert_int_equal(c.syslogs[1].facility, 4);
    assert_int_equal(c.n_webhooks, 1);
    assert_int_equal(c.webhooks[0].timeout_ms, 3000);
    assert_int_equal(c.n_execs, 1);
    assert_string_equal(c.execs[0].command, "/usr/local/bin/sms-gateway --to noc");
    rn_notify_config_free(&c);
    assert_null(c.traps);
}

/* Expects text to be refused with a message containing want. */
static void refused(const char *text, const char *want)
{
    rn_notify_config_t c;
    char err[256];
    int rc = read_text(text, &c, err, sizeof err);
    rn_notify_config_free(&c);
    if (rc == 0 || !strstr(err, want))
        fail_msg("expected an error with \"%s\", got %d \"%s\"", want, rc, err);
}

static void test_mistakes_are_refused_with_file_and_line(void **state)
{
    refused("notify:\n  traps: [{ target: \"udp:127.0.0.1:162\", community: x, colour: red }]\n",
            "collector.yaml:2: notify.traps[0].colour: unknown key");
    refused("notify:\n  state_dir: /x\n  smtp: {}\n", "collector.yaml:3: notify.smtp: unknown key");
    refused("notify:\n  traps:\n    - target: \"udp:nms.example:162\"\n      community: x\n",
            "collector.yaml:3: notify.traps[0]: target 'udp:nms.example:162' is not");
    refused("notify:\n  traps: [{ target: \"tcp:127.0.0.1:162\", community: x }]\n",
            "notify.traps[0]: traps go over udp only");
    refused("notify:\n  traps: [{ target: \"udp:127.0.0.1:162\" }]\n",
            "notify.traps[0]: version 2c needs a community");
    refused("notify:\n  traps:\n  - { target: \"udp:127.0.0.1:162\", version: 3, user: u,\n"
            "      inform: false, auth_key: authpass1 }\n",
            "collector.yaml:4: notify.traps[0]: version 3 needs inform: true");
    refused("notify:\n  traps: [{ target: \"udp:127.0.0.1:162\", version: 3, user: u, inform: "
            "yes, auth: SHA1024, auth_key: authpass1 }]\n",
            "auth 'SHA1024' is not");
    refused("notify:\n  traps: [{ target: \"udp:127.0.0.1:162\", version: 3, user: u, inform: "
            "yes, auth_key: short }]\n",
            "at least 8 characters");
    refused("notify:\n  traps: [{ target: \"udp:127.0.0.1:162\", version: 1, community: x }]\n",
            "SNMPv1 traps are not supported");
    refused("notify:\n  webhooks: [{ url: \"ftp://x/y\" }]\n",
            "notify.webhooks[0]: url 'ftp://x/y' is not http:// or https://");
    refused("notify:\n  webhooks: [{ url: \"http://x/y\", timeout_ms: 5 }]\n",
            "notify.webhooks[0].timeout_ms: 5 is out of range");
    refused("notify:\n  exec: [{ timeout_ms: 500 }]\n",
            "notify.exec[0].command: required key is missing");
    refused("notify:\n  syslog: { target: \"udp:127.0.0.1:514\" }\n",
            "collector.yaml:2: notify.syslog: expected a list");
    refused("notify:\n  retry_initial_ms: 5000\n  retry_max_ms: 1000\n",
            "notify.retry_max_ms: is below retry_initial_ms");
}

/* Loads text's notify section into c and asserts it is accepted. */
static void read_ok(const char *text, rn_notify_config_t *c)
{
    char err[256];
    if (read_text(text, c, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
}

static void test_channels_say_whether_they_take_alarms_or_reports(void **state)
{
    rn_notify_config_t c;
    read_ok("notify:\n  webhooks: [{ url: \"http://127.0.0.1:1/a\" },\n"
            "             { url: \"http://127.0.0.1:1/b\", reports: false }]\n"
            "  exec: [{ command: mail-reports, alarms: no }]\n", &c);
    assert_int_equal(c.webhooks[0].kinds, RN_NOTIFY_ALARMS | RN_NOTIFY_REPORTS);
    assert_int_equal(c.webhooks[1].kinds, RN_NOTIFY_ALARMS);
    assert_int_equal(c.execs[0].kinds, RN_NOTIFY_REPORTS);
    rn_notify_config_free(&c);
    refused("notify:\n  exec: [{ command: x, alarms: false, reports: false }]\n",
            "collector.yaml:2: notify.exec[0]: alarms and reports are both false");
    refused("notify:\n  webhooks:\n    - url: \"http://127.0.0.1:1/a\"\n      reports: monthly\n",
            "collector.yaml:4: notify.webhooks[0]: reports 'monthly' is not true or false");
}

static void test_config_equal_sees_every_channel_setting(void **state)
{
    const char *base = "notify:\n  webhooks: [{ url: \"http://127.0.0.1:1/a\" }]\n"
                       "  exec: [{ command: sms, timeout_ms: 5000 }]\n";
    const char *other[] = {
        "notify:\n  webhooks: [{ url: \"http://127.0.0.1:1/b\" }]\n"
        "  exec: [{ command: sms, timeout_ms: 5000 }]\n",
        "notify:\n  webhooks: [{ url: \"http://127.0.0.1:1/a\" }]\n"
        "  exec: [{ command: sms, timeout_ms: 6000 }]\n",
        "notify:\n  webhooks: [{ url: \"http://127.0.0.1:1/a\", reports: false }]\n"
        "  exec: [{ command: sms, timeout_ms: 5000 }]\n",
        "notify:\n  webhooks: [{ url: \"http://127.0.0.1:1/a\" }]\n",
        "notify:\n  max_queue: 5\n  webhooks: [{ url: \"http://127.0.0.1:1/a\" }]\n"
        "  exec: [{ command: sms, timeout_ms: 5000 }]\n",
    };
    rn_notify_config_t a, b;
    read_ok(base, &a);
    read_ok(base, &b);
    assert_true(rn_notify_config_equal(&a, &b));
    rn_notify_config_free(&b);
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        read_ok(other[i], &b);
        if (rn_notify_config_equal(&a, &b))
            fail_msg("equal to the base: %s", other[i]);
        rn_notify_config_free(&b);
    }
    rn_notify_config_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_section_is_read_with_defaults),
        cmocka_unit_test(test_mistakes_are_refused_with_file_and_line),
        cmocka_unit_test(test_channels_say_whether_they_take_alarms_or_reports),
        cmocka_unit_test(test_config_equal_sees_every_channel_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
