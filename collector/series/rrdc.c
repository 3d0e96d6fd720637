/* rrdcached client (rrdc.h): the BATCH socket, its reply reader, and the few calls that go
 * through librrd's own client.
 *
 * Why a socket of our own: librrd 1.7's client has no BATCH; one UPDATE per file is a round trip
 * per file, which cannot keep up with all of RajNet (tests/bench/README.md). So the updates of a
 * batch are written as "BATCH\n", one "UPDATE ..." line per file and ".\n", and the reply is read
 * line by line: "0 Go ahead.  Send commands.", then "<n> errors" and n lines "<command number>
 * <message>" (rrdcached's doc/rrdcached.pod, "BATCH"). Each read or write on the socket times
 * out after DAEMON_TIMEOUT_S, so a hung daemon costs one batch, not the worker. */
#include "series/rrdc.h"

#include <errno.h>
#include <netdb.h>
#include <rrd.h>
#include <rrd_client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "log.h"

#define DAEMON_PORT "42217"  /* rrdcached's default TCP port */
#define DAEMON_TIMEOUT_S 30  /* a BATCH read or write that takes longer fails the batch */
#define REPLY_LINE 1024      /* a reply line is cut here (the daemon's messages are short) */

struct rn_rrdc {
    char *addr;
    bool batched;           /* BATCH over fd, else one UPDATE per file through librrd */
    int fd;                 /* BATCH socket, -1 when not connected */
    char rbuf[4096];        /* unread reply bytes */
    size_t rlen;
};

/* ---- the BATCH socket -------------------------------------------------------------------- */

/* Opens a stream socket to a unix socket path. Returns the fd or a negative errno. */
static int connect_unix(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Opens a TCP socket to "host", "host:port" or "[v6]:port". Returns the fd or a negative
 * errno (-EHOSTUNREACH when the name does not resolve). */
static int connect_tcp(const char *a)
{
    char host[256];
    const char *port = DAEMON_PORT, *colon = strrchr(a, ':');
    size_t hl = colon && !strchr(colon, ']') ? (size_t)(colon - a) : strlen(a);
    int fd = -1, rc = -ECONNREFUSED;
    if (colon && !strchr(colon, ']'))
        port = colon + 1;
    if (hl >= sizeof host)
        return -ENAMETOOLONG;
    memcpy(host, a[0] == '[' ? a + 1 : a, hl);
    host[a[0] == '[' ? hl - 2 : hl] = '\0';
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -EHOSTUNREACH;
    for (struct addrinfo *r = res; r && fd < 0; r = r->ai_next) {
        if ((fd = socket(r->ai_family, r->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
            continue;
        if (connect(fd, r->ai_addr, r->ai_addrlen) < 0)
            rc = -errno, close(fd), fd = -1;
    }
    freeaddrinfo(res);
    return fd < 0 ? rc : fd;
}

/* Connects the BATCH socket, with its timeouts. Returns 0 or a negative errno. */
static int daemon_connect(rn_rrdc_t *c)
{
    struct timeval tv = { DAEMON_TIMEOUT_S, 0 };
    const char *a = c->addr;
    int fd = strncmp(a, "unix:", 5) == 0 ? connect_unix(a + 5)
             : a[0] == '/'                ? connect_unix(a)
                                          : connect_tcp(a);
    c->rlen = 0;
    if (fd < 0)
        return fd;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    c->fd = fd;
    return 0;
}

/* Closes the BATCH socket (if open) and drops unread bytes. */
static void daemon_disconnect(rn_rrdc_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rlen = 0;
}

/* Reads one reply line (without its newline, cut to len - 1 bytes) into buf. Returns 0 or a
 * negative errno (-ETIMEDOUT, -ECONNRESET when the daemon closed the socket). */
static int read_line(rn_rrdc_t *c, char *buf, size_t len)
{
    for (;;) {
        char *nl = memchr(c->rbuf, '\n', c->rlen);
        if (nl != NULL) {
            size_t n = (size_t)(nl - c->rbuf), k = n < len - 1 ? n : len - 1;
            memcpy(buf, c->rbuf, k);
            buf[k] = '\0';
            memmove(c->rbuf, nl + 1, c->rlen - n - 1);
            c->rlen -= n + 1;
            return 0;
        }
        if (c->rlen == sizeof c->rbuf)
            c->rlen = 0; /* an over-long line: keep its tail only */
        ssize_t r = read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
        if (r == 0)
            return -ECONNRESET;
        if (r < 0 && errno != EINTR)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        if (r > 0)
            c->rlen += (size_t)r;
    }
}

/* Writes all n bytes. Returns 0 or a negative errno (-ETIMEDOUT for the send timeout, -EPIPE
 * when the daemon is gone: MSG_NOSIGNAL, so that costs no SIGPIPE whoever runs the store). */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 && errno == EAGAIN ? -ETIMEDOUT : -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- BATCH commands and reply ------------------------------------------------------------ */

/* Appends len bytes to the command text. Returns 0 or -ENOMEM. */
static int cmds_append(rn_rrdc_cmds_t *cmds, const char *p, size_t len)
{
    if (cmds->len + len + 1 > cmds->cap) {
        size_t cap = cmds->cap ? cmds->cap : 4096;
        while (cap < cmds->len + len + 1)
            cap *= 2;
        char *t = realloc(cmds->text, cap);
        if (t == NULL)
            return -ENOMEM;
        cmds->text = t;
        cmds->cap = cap;
    }
    memcpy(cmds->text + cmds->len, p, len);
    cmds->len += len;
    cmds->text[cmds->len] = '\0';
    return 0;
}

int rn_rrdc_cmds_add_update(rn_rrdc_cmds_t *cmds, const char *path, int argc, const char **argv)
{
    size_t mark = cmds->len;
    int rc = cmds_append(cmds, "UPDATE ", 7);
    if (rc == 0)
        rc = cmds_append(cmds, path, strlen(path));
    for (int i = 0; i < argc && rc == 0; i++)
        if ((rc = cmds_append(cmds, " ", 1)) == 0)
            rc = cmds_append(cmds, argv[i], strlen(argv[i]));
    if (rc == 0)
        rc = cmds_append(cmds, "\n", 1);
    if (rc < 0) {
        cmds->len = mark;
        if (cmds->text)
            cmds->text[mark] = '\0';
        return rc;
    }
    cmds->n++;
    return 0;
}

void rn_rrdc_cmds_reset(rn_rrdc_cmds_t *cmds)
{
    free(cmds->text);
    memset(cmds, 0, sizeof *cmds);
}

int rn__rrdc_batch_line(rn__rrdc_batch_t *b, const char *line)
{
    char *end;
    errno = 0;
    long v = strtol(line, &end, 10);
    bool number = end != line && errno == 0;
    switch (b->state) {
    case RN__RRDC_GO_AHEAD: /* "0 Go ahead.  Send commands." or "-1 <why>" */
        if (!number || v < 0)
            return RN_ERRD;
        b->state = RN__RRDC_COUNT;
        return 0;
    case RN__RRDC_COUNT: /* "<n> errors": one line per refused command follows */
        if (!number || v < 0 || (unsigned long)v > b->n_cmds)
            return RN_ERRD;
        b->errors = v;
        b->state = v ? RN__RRDC_ERRORS : RN__RRDC_DONE;
        return b->state == RN__RRDC_DONE;
    case RN__RRDC_ERRORS: /* "<command number> <message>", commands counted from 1 */
        if (number && v >= 1 && (unsigned long)v <= b->n_cmds && b->bad)
            b->bad[v - 1] = true;
        if (++b->seen < b->errors)
            return 0;
        b->state = RN__RRDC_DONE;
        return 1;
    default:
        return RN_ERRD;
    }
}

int rn_rrdc_send(rn_rrdc_t *c, const rn_rrdc_cmds_t *cmds, bool *bad)
{
    char line[REPLY_LINE] = "", first[REPLY_LINE] = "";
    rn__rrdc_batch_t reply = { .n_cmds = cmds->n, .bad = bad };
    int rc = 0;
    if (c->fd < 0 && (rc = daemon_connect(c)) < 0) {
        rn_error("rrd: cannot connect to rrdcached %s: %s", c->addr, rn_strerror(rc));
        return rc;
    }
    if ((rc = write_all(c->fd, "BATCH\n", 6)) == 0 &&
        (rc = write_all(c->fd, cmds->text ? cmds->text : "", cmds->len)) == 0)
        rc = write_all(c->fd, ".\n", 2);
    while (rc == 0 && (rc = read_line(c, line, sizeof line)) == 0) {
        if (reply.state == RN__RRDC_ERRORS && !first[0])
            snprintf(first, sizeof first, "%s", line);
        rc = rn__rrdc_batch_line(&reply, line);
    }
    if (rc < 0) {
        if (rc == RN_ERRD)
            rn_error("rrd: rrdcached %s: unexpected reply to BATCH: %s", c->addr, line);
        rn_error("rrd: rrdcached %s: BATCH failed: %s", c->addr, rn_strerror(rc));
        daemon_disconnect(c);
        return rc;
    }
    if (reply.errors)
        rn_error("rrd: rrdcached %s: %ld of %zu updates in a batch refused, first: %s", c->addr,
                 reply.errors, cmds->n, first);
    return 0;
}

/* ---- through librrd's client ------------------------------------------------------------- */

int rn_rrdc_create(rn_rrdc_t *c, const char *path, unsigned long step, time_t start, int argc,
                   const char **argv)
{
    rrd_clear_error();
    if (rrdc_connect(c->addr) != 0 ||
        rrdc_create_r2(path, step, start, 0, NULL, NULL, argc, argv) != 0)
        return -1;
    return 0;
}

int rn_rrdc_last(rn_rrdc_t *c, const char *path, time_t *last)
{
    rrd_clear_error();
    time_t t = rrdc_connect(c->addr) == 0 ? rrdc_last(path) : (time_t)-1;
    if (t != (time_t)-1) {
        *last = t;
        return 0;
    }
    const char *err = rrd_get_error();
    if (err && (strstr(err, "No such file") || strstr(err, "realpath"))) {
        rrd_clear_error();
        return -ENOENT;
    }
    rn_error("rrd: rrdcached cannot read the last update of %s: %s", path,
             err && *err ? err : "unknown librrd error");
    rrd_clear_error();
    return RN_ERRD;
}

int rn_rrdc_update(rn_rrdc_t *c, const char *path, int argc, const char **argv)
{
    rrd_clear_error();
    if (rrdc_connect(c->addr) != 0 || rrdc_update(path, argc, argv) != 0)
        return -1;
    return 0;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

int rn_rrdc_new(const char *addr, rn_rrdc_t **out)
{
    if (addr == NULL || *addr == '\0' || strcmp(addr, "unix:") == 0)
        return -EINVAL;
    rn_rrdc_t *c = calloc(1, sizeof *c);
    if (c == NULL || (c->addr = strdup(addr)) == NULL) {
        free(c);
        return -ENOMEM;
    }
    const char *proto = getenv("RAJNET_RRDCACHED_PROTOCOL");
    c->batched = proto == NULL || strcmp(proto, "update") != 0;
    c->fd = -1;
    *out = c;
    return 0;
}

void rn_rrdc_free(rn_rrdc_t *c)
{
    if (c == NULL)
        return;
    daemon_disconnect(c);
    free(c->addr);
    free(c);
}

const char *rn_rrdc_addr(const rn_rrdc_t *c)
{
    return c->addr;
}

bool rn_rrdc_batched(const rn_rrdc_t *c)
{
    return c->batched;
}
