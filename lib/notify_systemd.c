/* sd_notify(3) for both daemons (see notify_systemd.h), without libsystemd.
 *
 * Why not libsystemd. The protocol is one datagram of "VAR=value" lines to the unix socket named
 * by $NOTIFY_SOCKET (a path, or '@' for the abstract namespace), and systemd documents it as a
 * stable interface that daemons may speak themselves (sd_notify(3), "Notes"). Linking
 * libsystemd for it cost every agent five more libraries (libgcrypt, libgpg-error, liblzma,
 * libzstd, liblz4: ~0.9 MB resident; tests/bench/README.md, "Agent footprint"). What is left out
 * is what our units do not use: file descriptors and credentials passed along, and the vsock
 * addresses of systemd 253+ for virtual machines (an unknown address form is logged at debug
 * level, like any failed send). */
#include "notify_systemd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"

#define STATUS_MAX 256

/* The last STATUS= text sent (process-wide, like the log sink: one service manager). */
static char last_status[STATUS_MAX];

/* Sends state as one datagram to $NOTIFY_SOCKET. Returns 0 when there is no such variable
 * (nothing to do), 1 when sent, or a negative errno (-EAFNOSUPPORT for an address form other
 * than a path or '@'). */
static int notify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0])
        return 0;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path)
        return -EAFNOSUPPORT;
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract: the name is the bytes after the NUL, no terminator */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    int rc = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0
                 ? -errno
                 : 1;
    close(fd);
    return rc;
}

static void send_state(const char *state)
{
    int rc = notify_send(state);
    if (rc < 0)
        rn_debug("sd_notify %.40s: %s", state, rn_strerror(rc));
}

/* Formats "STATUS=..." into buf; false when fmt is NULL or the text is the one last sent and
 * only_changed is set. */
__attribute__((format(printf, 4, 0))) static bool format_status(char *buf, size_t len,
                                                                bool only_changed,
                                                                const char *fmt, va_list ap)
{
    char text[STATUS_MAX];
    if (!fmt)
        return false;
    vsnprintf(text, sizeof text, fmt, ap);
    for (char *p = text; *p; p++) /* one datagram line per variable */
        if (*p == '\n')
            *p = ' ';
    if (only_changed && strcmp(text, last_status) == 0)
        return false;
    memcpy(last_status, text, sizeof last_status);
    snprintf(buf, len, "STATUS=%s", text);
    return true;
}

void rn_notify_ready(const char *fmt, ...)
{
    char state[STATUS_MAX + 32] = "READY=1";
    char status[STATUS_MAX + 16];
    va_list ap;
    va_start(ap, fmt);
    if (format_status(status, sizeof status, false, fmt, ap))
        snprintf(state, sizeof state, "READY=1\n%s", status);
    va_end(ap);
    send_state(state);
}

void rn_notify_reloading(void)
{
    struct timespec ts;
    char state[64];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    send_state(state);
}

void rn_notify_stopping(void)
{
    send_state("STOPPING=1");
}

void rn_notify_status(const char *fmt, ...)
{
    char status[STATUS_MAX + 16];
    va_list ap;
    va_start(ap, fmt);
    bool changed = format_status(status, sizeof status, true, fmt, ap);
    va_end(ap);
    if (changed)
        send_state(status);
}
