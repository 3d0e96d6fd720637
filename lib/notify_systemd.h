/* Readiness notification to the service manager (sd_notify(3)), for units of Type=notify.
 *
 * Each call sends one datagram to $NOTIFY_SOCKET; without that variable (not started by systemd,
 * or Type= is not notify) every call does nothing, so the daemons call these unconditionally.
 * A failed send is logged at debug level and otherwise ignored: the service manager's view is
 * not worth stopping a daemon for.
 *
 * What each daemon reports and when: rajnet-collector(8) and rajnet-agent(8), READINESS.
 * Like the log sink this is one per process: it keeps the last STATUS= line sent, so a caller
 * may report its status on every cron tick and only a change is sent. */
#ifndef RN_NOTIFY_SYSTEMD_H
#define RN_NOTIFY_SYSTEMD_H

/* READY=1, with STATUS=<printf> when fmt is not NULL: start-up or a reload is done (a reload
 * that kept the old configuration is done too). */
void rn_notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* RELOADING=1 (with MONOTONIC_USEC=, which Type=notify-reload wants): a reload starts; send
 * rn_notify_ready() when it ends, whatever its outcome. */
void rn_notify_reloading(void);

/* STOPPING=1: shutdown has begun. */
void rn_notify_stopping(void);

/* STATUS=<printf>: a short line `systemctl status` shows; sent only when it changed. */
void rn_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
