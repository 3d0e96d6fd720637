/* Unit tests of lib/notify_systemd.c (sd_notify without libsystemd): a unix datagram socket of the
 * test stands in for the service manager, at a path and in the abstract namespace, as
 * $NOTIFY_SOCKET names them. (tests/integration/test_sd_notify.sh drives the daemons.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify_systemd.h"

/* Binds a datagram socket at name ('@' first: abstract) and exports it as NOTIFY_SOCKET.
 * Returns the socket, non-blocking. */
static int manager(const char *name)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(name);
    assert_true(n < sizeof sa.sun_path);
    memcpy(sa.sun_path, name, n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        unlink(name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
    return fd;
}

/* Returns the next datagram on fd as a string, "" when none is waiting. */
static const char *next(int fd)
{
    static char buf[1024];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void test_ready_with_status_reaches_a_path_socket(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/rn-notify-test-%d.sock", (int)getpid());
    int fd = manager(path);
    rn_notify_ready("plan %s, %d devices", "abc", 3);
    assert_string_equal(next(fd), "READY=1\nSTATUS=plan abc, 3 devices");
    rn_notify_ready(NULL);
    assert_string_equal(next(fd), "READY=1");
    rn_notify_stopping();
    assert_string_equal(next(fd), "STOPPING=1");
    close(fd);
    unlink(path);
}

static void test_abstract_socket_and_status_sent_only_on_change(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "@rn-notify-test-%d", (int)getpid());
    int fd = manager(name);
    rn_notify_status("line\none");
    assert_string_equal(next(fd), "STATUS=line one"); /* one datagram line per variable */
    rn_notify_status("line\none");
    assert_string_equal(next(fd), "");                /* unchanged: not sent */
    rn_notify_reloading();
    const char *r = next(fd);
    assert_true(strncmp(r, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
    assert_true(strtoull(r + 27, NULL, 10) > 0);
    close(fd);
}

static void test_nothing_happens_without_or_with_an_odd_notify_socket(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    rn_notify_ready("no manager"); /* must not fail or block */
    setenv("NOTIFY_SOCKET", "vsock:2:1234", 1); /* a form we do not speak: logged at debug */
    rn_notify_stopping();
    setenv("NOTIFY_SOCKET", "/nonexistent/rn-notify.sock", 1);
    rn_notify_stopping();
    unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_with_status_reaches_a_path_socket),
        cmocka_unit_test(test_abstract_socket_and_status_sent_only_on_change),
        cmocka_unit_test(test_nothing_happens_without_or_with_an_odd_notify_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
