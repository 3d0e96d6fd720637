/* sd_notify(3) for both daemons (see notify_systemd.h). libsystemd is the one outside library
 * here, and this file is the only one that includes its header. */
#include "notify_systemd.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"

#define STATUS_MAX 256

/* The last STATUS= text sent (process-wide, like the log sink: one service manager). */
static char last_status[STATUS_MAX];

static void send_state(const char *state)
{
    int rc = sd_notify(0, state);
    if (rc < 0)
        rn_debug("sd_notify %.40s: %s", state, strerror(-rc));
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
