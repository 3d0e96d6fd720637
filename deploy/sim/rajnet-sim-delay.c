/*
 * rajnet-sim-delay: adds latency and jitter to one simulated RajNet link.
 *
 * Why it exists: the kernels the tests run on have no traffic-control qdiscs, so netem cannot
 * delay packets. rajnet-sim sends a degraded link's packets (both directions) to an NFQUEUE in
 * the child node's namespace; this program, run in that namespace, binds the queue, holds each
 * packet for delay + uniform(-jitter, +jitter) milliseconds (never less than zero) and then
 * issues NF_ACCEPT for it.
 *
 * How it works: one thread, one poll() over three descriptors: the netfilter netlink socket
 * (packets to hold), a timerfd armed for the earliest release time, and a signalfd (SIGTERM,
 * SIGINT end the program). Held packets live in a fixed-size binary min-heap keyed by release
 * time, so jitter may release them out of order (verdicts by packet id allow that). Only packet
 * metadata is copied to user space. When the heap is full the packet is accepted at once, and
 * the kernel queue is fail-open, so memory stays bounded and an overload never blackholes the
 * link. On exit every held packet is accepted, because closing the socket would drop them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define RN_DELAY_HELD_MAX   4096u          /* packets held at once; more pass at once */
#define RN_DELAY_MS_MAX     60000u         /* largest --delay / --jitter accepted */
#define RN_DELAY_RCVBUF     (4 << 20)      /* netlink receive buffer, bytes */
#define RN_DELAY_BATCH      64u            /* verdicts sent in one sendto() */

struct held {
    uint64_t due_ns;   /* CLOCK_MONOTONIC time to accept the packet */
    uint32_t id;       /* packet id given by the kernel */
};

typedef struct {
    struct mnl_socket *nl;
    unsigned int portid;
    uint16_t queue;
    uint32_t delay_us;
    uint32_t jitter_us;
    int timer_fd;
    int signal_fd;
    uint64_t rng;                         /* xorshift64* state */
    size_t n_held;
    struct held heap[RN_DELAY_HELD_MAX];  /* min-heap on due_ns */
    char vbuf[RN_DELAY_BATCH * 64];       /* pending verdict messages */
    size_t vlen;
    uint64_t n_delayed;
    uint64_t n_overflow;
} delay_ctx_t;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns a pseudo-random 64-bit value (xorshift64*: fast, good enough for jitter). */
static uint64_t rng_next(delay_ctx_t *ctx)
{
    ctx->rng ^= ctx->rng >> 12;
    ctx->rng ^= ctx->rng << 25;
    ctx->rng ^= ctx->rng >> 27;
    return ctx->rng * 2685821657736338717ull;
}

/* Returns the hold time of one packet in nanoseconds: delay + uniform(-jitter, +jitter), >= 0. */
static uint64_t hold_ns(delay_ctx_t *ctx)
{
    int64_t us = ctx->delay_us;

    if (ctx->jitter_us > 0) {
        uint64_t span = 2 * (uint64_t)ctx->jitter_us + 1;
        us += (int64_t)(rng_next(ctx) % span) - (int64_t)ctx->jitter_us;
    }
    return us > 0 ? (uint64_t)us * 1000u : 0;
}

static void heap_push(delay_ctx_t *ctx, uint64_t due_ns, uint32_t id)
{
    size_t i = ctx->n_held++;

    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (ctx->heap[up].due_ns <= due_ns)
            break;
        ctx->heap[i] = ctx->heap[up];
        i = up;
    }
    ctx->heap[i].due_ns = due_ns;
    ctx->heap[i].id = id;
}

/* Removes the earliest entry; the heap must not be empty. */
static void heap_pop(delay_ctx_t *ctx)
{
    struct held last = ctx->heap[--ctx->n_held];
    size_t n = ctx->n_held;
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ctx->heap[c + 1].due_ns < ctx->heap[c].due_ns)
            c++;
        if (last.due_ns <= ctx->heap[c].due_ns)
            break;
        ctx->heap[i] = ctx->heap[c];
        i = c;
    }
    if (n > 0)
        ctx->heap[i] = last;
}

/* Sends the batched verdicts. Returns 0 or -errno. */
static int verdicts_flush(delay_ctx_t *ctx)
{
    if (ctx->vlen == 0)
        return 0;
    if (mnl_socket_sendto(ctx->nl, ctx->vbuf, ctx->vlen) < 0) {
        int err = errno;
        ctx->vlen = 0;
        fprintf(stderr, "rajnet-sim-delay: queue %u: sending verdicts: %s\n",
                ctx->queue, strerror(err));
        return -err;
    }
    ctx->vlen = 0;
    return 0;
}

/* Appends an NF_ACCEPT verdict for packet id to the batch, flushing when full. */
static int verdict_accept(delay_ctx_t *ctx, uint32_t id)
{
    struct nlmsghdr *nlh;

    if (sizeof(ctx->vbuf) - ctx->vlen < 64) {
        int rc = verdicts_flush(ctx);
        if (rc < 0)
            return rc;
    }
    nlh = nfq_nlmsg_put(ctx->vbuf + ctx->vlen, NFQNL_MSG_VERDICT, ctx->queue);
    nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
    ctx->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
    return 0;
}

/* Arms the timer for the earliest held packet, or disarms it when none is held. */
static int timer_arm(delay_ctx_t *ctx)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    if (ctx->n_held > 0) {
        uint64_t due = ctx->heap[0].due_ns;
        if (due == 0)
            due = 1;   /* an all-zero it_value would disarm the timer */
        its.it_value.tv_sec = (time_t)(due / 1000000000u);
        its.it_value.tv_nsec = (long)(due % 1000000000u);
    }
    if (timerfd_settime(ctx->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        fprintf(stderr, "rajnet-sim-delay: timerfd_settime: %s\n", strerror(errno));
        return -errno;
    }
    return 0;
}

/* Accepts every held packet due at or before limit_ns, then re-arms the timer. */
static int release_due(delay_ctx_t *ctx, uint64_t limit_ns)
{
    while (ctx->n_held > 0 && ctx->heap[0].due_ns <= limit_ns) {
        int rc = verdict_accept(ctx, ctx->heap[0].id);
        heap_pop(ctx);
        if (rc < 0)
            return rc;
    }
    int rc = verdicts_flush(ctx);
    return rc < 0 ? rc : timer_arm(ctx);
}

/* mnl callback for one queued packet: hold it, or accept it at once when the heap is full. */
static int on_packet(const struct nlmsghdr *nlh, void *data)
{
    delay_ctx_t *ctx = data;
    struct nlattr *attr[NFQA_MAX + 1] = { 0 };
    struct nfqnl_msg_packet_hdr *ph;
    uint32_t id;

    if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
        return MNL_CB_OK;   /* not a packet message: nothing to hold */
    ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
    id = ntohl(ph->packet_id);

    if (ctx->n_held >= RN_DELAY_HELD_MAX) {
        ctx->n_overflow++;
        return verdict_accept(ctx, id) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
    }
    heap_push(ctx, now_ns() + hold_ns(ctx), id);
    ctx->n_delayed++;
    return MNL_CB_OK;
}

/* Reads what the queue socket holds. Returns 0, or -errno on a fatal error. */
static int on_queue_readable(delay_ctx_t *ctx)
{
    char buf[65536];
    uint64_t first_due = ctx->n_held > 0 ? ctx->heap[0].due_ns : UINT64_MAX;
    ssize_t n = recv(mnl_socket_get_fd(ctx->nl), buf, sizeof(buf), MSG_DONTWAIT);

    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        if (errno == ENOBUFS) {
            /* the kernel could not queue to us; fail-open accepted those packets */
            return 0;
        }
        fprintf(stderr, "rajnet-sim-delay: queue %u: recv: %s\n", ctx->queue, strerror(errno));
        return -errno;
    }
    /* An error reply (say, a verdict for a packet the kernel already flushed) stops this
     * batch only; the queue goes on, so it is reported, not fatal. */
    if (mnl_cb_run(buf, (size_t)n, 0, ctx->portid, on_packet, ctx) < 0)
        fprintf(stderr, "rajnet-sim-delay: queue %u: netlink: %s\n", ctx->queue, strerror(errno));
    if (verdicts_flush(ctx) < 0)
        return -EIO;
    if (ctx->n_held > 0 && ctx->heap[0].due_ns < first_due)
        return timer_arm(ctx);
    return 0;
}

/* Sends one configuration message to the queue. Returns 0 or -errno. */
static int queue_config(delay_ctx_t *ctx, struct nlmsghdr *nlh, const char *what)
{
    if (mnl_socket_sendto(ctx->nl, nlh, nlh->nlmsg_len) < 0) {
        fprintf(stderr, "rajnet-sim-delay: queue %u: %s: %s\n", ctx->queue, what,
                strerror(errno));
        return -errno;
    }
    return 0;
}

/* Opens the netlink socket and binds queue ctx->queue, metadata only, fail-open. */
static int queue_open(delay_ctx_t *ctx)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh;
    int one = 1;
    int rcvbuf = RN_DELAY_RCVBUF;
    uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;

    ctx->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (ctx->nl == NULL || mnl_socket_bind(ctx->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        fprintf(stderr, "rajnet-sim-delay: netlink socket: %s\n", strerror(errno));
        return -errno;
    }
    ctx->portid = mnl_socket_get_portid(ctx->nl);
    /* best effort: a full socket only means fail-open accepts, never a stall */
    (void)mnl_socket_setsockopt(ctx->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
    (void)setsockopt(mnl_socket_get_fd(ctx->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                     sizeof(rcvbuf));

    nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, ctx->queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    if (queue_config(ctx, nlh, "bind") < 0)
        return -EIO;

    nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, ctx->queue);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, 2 * RN_DELAY_HELD_MAX);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
    return queue_config(ctx, nlh, "configure");
}

/* Blocks SIGTERM/SIGINT and opens a signalfd and a timerfd. Returns 0 or -errno. */
static int fds_open(delay_ctx_t *ctx)
{
    sigset_t mask;

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0
        || (ctx->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        fprintf(stderr, "rajnet-sim-delay: signalfd: %s\n", strerror(errno));
        return -errno;
    }
    ctx->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (ctx->timer_fd < 0) {
        fprintf(stderr, "rajnet-sim-delay: timerfd_create: %s\n", strerror(errno));
        return -errno;
    }
    return 0;
}

/* Runs until a signal arrives or a fatal error. Returns 0 or -errno. */
static int run(delay_ctx_t *ctx)
{
    struct pollfd pfd[3] = {
        { .fd = mnl_socket_get_fd(ctx->nl), .events = POLLIN },
        { .fd = ctx->timer_fd, .events = POLLIN },
        { .fd = ctx->signal_fd, .events = POLLIN },
    };

    for (;;) {
        int rc = 0;

        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "rajnet-sim-delay: poll: %s\n", strerror(errno));
            return -errno;
        }
        if (pfd[2].revents & POLLIN)
            return 0;
        if (pfd[1].revents & POLLIN) {
            uint64_t expirations;
            (void)!read(ctx->timer_fd, &expirations, sizeof(expirations));
            rc = release_due(ctx, now_ns());
        }
        if (rc == 0 && (pfd[0].revents & (POLLIN | POLLERR)))
            rc = on_queue_readable(ctx);
        if (rc < 0)
            return rc;
    }
}

/* Parses an unsigned integer in [0, max] for option opt. Returns 0 or -EINVAL. */
static int parse_uint(const char *opt, const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        fprintf(stderr, "rajnet-sim-delay: --%s wants an integer 0..%" PRIu32 ", not '%s'\n",
                opt, max, s);
        return -EINVAL;
    }
    *out = (uint32_t)v;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rajnet-sim-delay --queue N [--delay MS] [--jitter MS]\n"
            "Holds each packet of NFQUEUE N for MS + uniform(-jitter, +jitter) milliseconds,\n"
            "then accepts it. Runs until SIGTERM or SIGINT. Meant to be started by rajnet-sim\n"
            "inside a simulated node's network namespace.\n");
}

/* Parses the command line into ctx. Returns 0, 1 for --help, or -EINVAL. */
static int parse_args(delay_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        { "queue", required_argument, NULL, 'q' },
        { "delay", required_argument, NULL, 'd' },
        { "jitter", required_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint32_t queue = UINT32_MAX, delay_ms = 0, jitter_ms = 0;
    int c;

    while ((c = getopt_long(argc, argv, "q:d:j:h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'q': rc = parse_uint("queue", optarg, UINT16_MAX, &queue); break;
        case 'd': rc = parse_uint("delay", optarg, RN_DELAY_MS_MAX, &delay_ms); break;
        case 'j': rc = parse_uint("jitter", optarg, RN_DELAY_MS_MAX, &jitter_ms); break;
        case 'h': usage(stdout); return 1;
        default: rc = -EINVAL; break;
        }
        if (rc < 0)
            return rc;
    }
    if (optind != argc || queue == UINT32_MAX) {
        usage(stderr);
        return -EINVAL;
    }
    ctx->queue = (uint16_t)queue;
    ctx->delay_us = delay_ms * 1000u;
    ctx->jitter_us = jitter_ms * 1000u;
    return 0;
}

int main(int argc, char **argv)
{
    static delay_ctx_t ctx;   /* static: the heap is too big for a comfortable stack */
    int rc;

    ctx.timer_fd = -1;
    ctx.signal_fd = -1;
    rc = parse_args(&ctx, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    ctx.rng = now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    if (ctx.rng == 0)
        ctx.rng = 1;

    rc = fds_open(&ctx);
    if (rc == 0)
        rc = queue_open(&ctx);
    if (rc == 0)
        rc = run(&ctx);

    if (ctx.nl != NULL) {
        /* accept what is still held: closing the socket would drop it */
        (void)release_due(&ctx, UINT64_MAX);
        mnl_socket_close(ctx.nl);
    }
    fprintf(stderr, "rajnet-sim-delay: queue %u: %" PRIu64 " packets delayed, %" PRIu64
            " passed at once (more than %u held)\n", ctx.queue, ctx.n_delayed, ctx.n_overflow,
            RN_DELAY_HELD_MAX);
    if (ctx.timer_fd >= 0)
        close(ctx.timer_fd);
    if (ctx.signal_fd >= 0)
        close(ctx.signal_fd);
    return rc == 0 ? 0 : 1;
}
