/* Logging: one sink per process, to stderr (with a timestamp) or to syslog.
 *
 * Log once, where a decision is made, naming the object (node, device, file:line).
 * Never log secrets (communities, keys). */
#ifndef RN_LOG_H
#define RN_LOG_H

#include <stdbool.h>

typedef enum { RN_LOG_ERROR, RN_LOG_WARN, RN_LOG_INFO, RN_LOG_DEBUG } rn_log_level_t;

/* Sets the process name, the most verbose level written, and the sink (syslog or stderr). */
void rn_log_open(const char *ident, rn_log_level_t level, bool use_syslog);

/* Changes the most verbose level written (a configuration reload). */
void rn_log_set_level(rn_log_level_t level);

/* Parses "error", "warn", "info" or "debug". Returns 0, or -EINVAL for any other name. */
int rn_log_level_parse(const char *name, rn_log_level_t *out);

void rn_log(rn_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rn_error(...) rn_log(RN_LOG_ERROR, __VA_ARGS__)
#define rn_warn(...) rn_log(RN_LOG_WARN, __VA_ARGS__)
#define rn_info(...) rn_log(RN_LOG_INFO, __VA_ARGS__)
#define rn_debug(...) rn_log(RN_LOG_DEBUG, __VA_ARGS__)

#endif
