#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* The log sink is one of the few process-wide globals (STYLE.md §6). */
static struct {
    const char *ident;
    rn_log_level_t level;
    bool syslog;
} sink = { "rajnet", RN_LOG_INFO, false };

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void rn_log_open(const char *ident, rn_log_level_t level, bool use_syslog)
{
    sink.ident = ident;
    sink.level = level;
    sink.syslog = use_syslog;
    if (use_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void rn_log_set_level(rn_log_level_t level)
{
    sink.level = level;
}

int rn_log_level_parse(const char *name, rn_log_level_t *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (rn_log_level_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

void rn_log(rn_log_level_t level, const char *fmt, ...)
{
    if (level > sink.level)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (sink.syslog) {
        vsyslog(syslog_prio[level], fmt, ap);
    } else {
        struct timespec ts;
        struct tm tm;
        char when[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        /* One fprintf per line so lines from several processes sharing a file do not interleave. */
        char line[2048];
        int n = snprintf(line, sizeof line, "%s.%03ldZ %s %s: ", when, ts.tv_nsec / 1000000L,
                         sink.ident, level_names[level]);
        if (n > 0 && (size_t)n < sizeof line)
            vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        fprintf(stderr, "%s\n", line);
    }
    va_end(ap);
}
