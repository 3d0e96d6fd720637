/* rrdcached client: the only module that talks to rrdcached, for the RRD store (rrd_store.c).
 *
 * Two paths to the daemon. Updates of a batch go over the client's own socket as one BATCH
 * command (one round trip for every file of the batch; the reply says which commands the daemon
 * refused). Creating a file, reading a file's last update and, with
 * RAJNET_RRDCACHED_PROTOCOL=update (for benchmarks), single updates go through librrd's client
 * (rrd_client.h), which keeps one connection per process behind its own lock and reconnects by
 * itself.
 *
 * Threading: a client is used by one thread at a time (the store's worker); nothing here runs
 * on the loop thread. Calls block on the daemon, at most DAEMON_TIMEOUT_S (rrdc.c) per read or
 * write on the BATCH socket. The process must ignore SIGPIPE (collector/main.c does): librrd's
 * client writes to a daemon that went away with write(), not with MSG_NOSIGNAL as rrdc.c does.
 *
 * Reconnects: the BATCH socket is connected on first use; a send that fails (the daemon went
 * away, timed out, or answered what rrdcached never sends) closes it and the next send connects
 * again. Nothing is retried here: the store fails the batch, it is not acked, and the agent sends
 * it again. */
#ifndef RN_RRDC_H
#define RN_RRDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct rn_rrdc rn_rrdc_t;

/* The commands of one BATCH, built before it is sent. Zero-initialise; free with
 * rn_rrdc_cmds_reset. */
typedef struct {
    char *text;         /* "UPDATE <path> <time>:<v>... \n" lines */
    size_t len, cap;
    size_t n;           /* commands in text, numbered from 1 in the daemon's reply */
} rn_rrdc_cmds_t;

/* Creates a client of the daemon at addr: "unix:/path" (or "/path") or "host[:port]" (default
 * port 42217). Reads RAJNET_RRDCACHED_PROTOCOL once ("update": no BATCH). Connects nothing
 * yet. Returns 0, -EINVAL (empty address, or "unix:" alone) or -ENOMEM. */
int rn_rrdc_new(const char *addr, rn_rrdc_t **out);

/* Closes the BATCH socket and frees the client. NULL is ignored. */
void rn_rrdc_free(rn_rrdc_t *c);

/* The address the client was made with (borrowed, lives as long as c). */
const char *rn_rrdc_addr(const rn_rrdc_t *c);

/* True if updates go in BATCH commands (rn_rrdc_send), false if one by one (rn_rrdc_update). */
bool rn_rrdc_batched(const rn_rrdc_t *c);

/* Has the daemon create path (absolute) with librrd's create arguments: the daemon knows of no
 * "<path>.tmp", and its journal owns the file from then on. Returns 0, or -1 with librrd's error
 * (rrd_get_error(), this thread) and errno left as the failure set them, for the caller to tell
 * a full disk from another failure and to log. */
int rn_rrdc_create(rn_rrdc_t *c, const char *path, unsigned long step, time_t start, int argc,
                   const char **argv);

/* Reads the last update of path through the daemon (which counts what it still caches). Returns
 * 0 and sets *last, -ENOENT when there is no such file, or RN_ERRD (logged with the path). */
int rn_rrdc_last(rn_rrdc_t *c, const char *path, time_t *last);

/* Sends one UPDATE of path through librrd's client. Returns 0, or -1 with librrd's error and
 * errno left for the caller (as rn_rrdc_create). */
int rn_rrdc_update(rn_rrdc_t *c, const char *path, int argc, const char **argv);

/* Appends "UPDATE path argv..." to cmds. Returns 0, or -ENOMEM with cmds unchanged. */
int rn_rrdc_cmds_add_update(rn_rrdc_cmds_t *cmds, const char *path, int argc, const char **argv);

/* Frees the commands and zeroes cmds for reuse. */
void rn_rrdc_cmds_reset(rn_rrdc_cmds_t *cmds);

/* Sends cmds as one BATCH over the client's socket (connecting it if needed) and reads the
 * reply. bad holds cmds->n flags, all false; the flag of each command the daemon refused is set
 * (rrdcached keeps the values of such an update that came before the bad one). Returns 0, or a
 * negative error when the daemon could not be asked or its reply was cut short or malformed
 * (RN_ERRD): then nothing is known of what was applied, the failure is logged and the socket
 * closed, so the next send reconnects. Refused commands are logged once per BATCH, with the
 * daemon's first message. */
int rn_rrdc_send(rn_rrdc_t *c, const rn_rrdc_cmds_t *cmds, bool *bad);

/* ---- internal: the reader of rrdcached's reply to a BATCH, for tests/fuzz/fuzz_rrdc.c ---- */

enum { RN__RRDC_GO_AHEAD, RN__RRDC_COUNT, RN__RRDC_ERRORS, RN__RRDC_DONE };

/* The reply being read: zero-initialise, then set n_cmds (commands sent) and bad (n_cmds flags,
 * all false; may be NULL). */
typedef struct {
    int state;                 /* RN__RRDC_* */
    long errors, seen;         /* error lines announced, and read so far */
    size_t n_cmds;
    bool *bad;                 /* bad[k - 1] set for each command k the daemon refused */
} rn__rrdc_batch_t;

/* Takes the next reply line (NUL-terminated, without its newline): the go-ahead ("0 ..."), then
 * "<n> errors", then n lines "<command number> <message>" (a number outside 1..n_cmds marks
 * nothing). Returns 1 when the reply is complete, 0 when more lines follow, or RN_ERRD when the
 * daemon refused the BATCH or the line is not what rrdcached sends there (an error count that is
 * not a number, negative or above n_cmds: more lines than that would never come). */
int rn__rrdc_batch_line(rn__rrdc_batch_t *b, const char *line);

#endif
