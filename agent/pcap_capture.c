/* libpcap adapter (see pcap_capture.h): pcap_create -> pcap_activate -> BPF -> non-blocking ->
 * pcap_get_selectable_fd -> uv_poll -> pcap_dispatch. */
#include "pcap_capture.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "log.h"
#include "privs.h"

#define DISPATCH_BATCH 512 /* frames per pcap_dispatch before the loop gets a turn */
#define BUFFER_BYTES (2 << 20)

struct rn_pcap_capture {
    uv_poll_t poll;
    pcap_t *p;
    rn_pcap_frame_fn cb;
    void *ctx;
    int dlt;
    char ifname[64];
    void (*done)(void *);
    void *done_data;
};

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    rn_pcap_capture_t *c = (rn_pcap_capture_t *)user;
    /* nanosecond precision was asked for: tv_usec carries nanoseconds */
    int64_t ns = (int64_t)h->ts.tv_sec * 1000000000LL + (int64_t)h->ts.tv_usec;
    c->cb(c->ctx, c->dlt, ns, bytes, h->caplen, h->len);
}

static void on_readable(uv_poll_t *w, int status, int events)
{
    rn_pcap_capture_t *c = w->data;
    (void)events;
    if (status < 0) {
        rn_warn("capture %s: poll error %s", c->ifname, uv_strerror(status));
        return;
    }
    /* A few batches per wakeup at most, so a flood cannot starve the rest of the loop; what is
     * left keeps the fd readable and comes next turn. */
    for (int i = 0; i < 4 && c->p; i++) {
        int n = pcap_dispatch(c->p, DISPATCH_BATCH, on_frame, (u_char *)c);
        if (n == PCAP_ERROR) {
            rn_warn("capture %s: %s", c->ifname, pcap_geterr(c->p));
            break;
        }
        if (n < DISPATCH_BATCH)
            break;
    }
}

/* Maps a pcap_activate result to an errno. */
static int activate_errno(int rc)
{
    switch (rc) {
    case PCAP_ERROR_PERM_DENIED: return -EPERM;
    case PCAP_ERROR_NO_SUCH_DEVICE: return -ENODEV;
    case PCAP_ERROR_IFACE_NOT_UP: return -ENETDOWN;
    default: return -EIO;
    }
}

/* Creates and activates the pcap handle: small snap length, immediate delivery, kernel
 * nanosecond timestamps, 2 MiB buffer. CAP_NET_RAW is effective only during the activation. */
static int activate(rn_pcap_capture_t *c, char *err, size_t err_len)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    c->p = pcap_create(c->ifname, ebuf);
    if (!c->p) {
        snprintf(err, err_len, "pcap_create %s: %s", c->ifname, ebuf);
        return -ENOMEM;
    }
    pcap_set_snaplen(c->p, RN_PCAP_SNAPLEN);
    pcap_set_promisc(c->p, 0);
    pcap_set_immediate_mode(c->p, 1);
    pcap_set_buffer_size(c->p, BUFFER_BYTES);
    pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
    bool raised = rn_privs_net_raw_effective(true) == 0;
    int rc = pcap_activate(c->p);
    if (raised)
        rn_privs_net_raw_effective(false);
    if (rc < 0) {
        snprintf(err, err_len, "capture on %s: %s%s", c->ifname, pcap_geterr(c->p),
                 rc == PCAP_ERROR_PERM_DENIED ? " (needs CAP_NET_RAW)" : "");
        return activate_errno(rc);
    }
    if (rc > 0)
        rn_warn("capture on %s: %s", c->ifname, pcap_statustostr(rc));
    if (pcap_get_tstamp_precision(c->p) != PCAP_TSTAMP_PRECISION_NANO)
        rn_warn("capture on %s: no nanosecond timestamps", c->ifname); /* not expected on Linux */
    return 0;
}

/* Compiles and installs the filter, makes the handle non-blocking. */
static int configure(rn_pcap_capture_t *c, const char *filter, char *err, size_t err_len)
{
    struct bpf_program prog;
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, err_len, "capture on %s: filter \"%s\": %s", c->ifname, filter,
                 pcap_geterr(c->p));
        return -EINVAL;
    }
    int rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, err_len, "capture on %s: setfilter: %s", c->ifname, pcap_geterr(c->p));
        return -EIO;
    }
    if (pcap_setnonblock(c->p, 1, ebuf) != 0) {
        snprintf(err, err_len, "capture on %s: setnonblock: %s", c->ifname, ebuf);
        return -EIO;
    }
    c->dlt = pcap_datalink(c->p);
    return 0;
}

int rn_pcap_capture_open(uv_loop_t *loop, const char *ifname, const char *filter,
                         rn_pcap_frame_fn cb, void *ctx, rn_pcap_capture_t **out, char *err,
                         size_t err_len)
{
    if (!ifname[0] || strlen(ifname) >= sizeof ((rn_pcap_capture_t *)0)->ifname) {
        snprintf(err, err_len, "capture: bad interface name \"%s\"", ifname);
        return -EINVAL;
    }
    rn_pcap_capture_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "capture on %s: out of memory", ifname);
        return -ENOMEM;
    }
    snprintf(c->ifname, sizeof c->ifname, "%s", ifname);
    c->cb = cb;
    c->ctx = ctx;
    int rc = activate(c, err, err_len);
    if (rc == 0)
        rc = configure(c, filter ? filter : "", err, err_len);
    int fd = rc == 0 ? pcap_get_selectable_fd(c->p) : -1;
    if (rc == 0 && fd < 0) {
        snprintf(err, err_len, "capture on %s: no selectable fd", ifname);
        rc = -EIO;
    }
    if (rc == 0 && (rc = uv_poll_init(loop, &c->poll, fd)) != 0)
        snprintf(err, err_len, "capture on %s: uv_poll_init: %s", ifname, uv_strerror(rc));
    if (rc != 0) {
        if (c->p)
            pcap_close(c->p);
        free(c);
        return rc;
    }
    c->poll.data = c;
    uv_poll_start(&c->poll, UV_READABLE, on_readable);
    *out = c;
    return 0;
}

void rn_pcap_capture_stats(rn_pcap_capture_t *c, uint64_t *received, uint64_t *dropped)
{
    struct pcap_stat st;
    *received = *dropped = 0;
    if (c->p && pcap_stats(c->p, &st) == 0) {
        *received = st.ps_recv;
        *dropped = (uint64_t)st.ps_drop + st.ps_ifdrop;
    }
}

static void on_poll_closed(uv_handle_t *h)
{
    rn_pcap_capture_t *c = h->data;
    pcap_close(c->p); /* closes the fd, after libuv has stopped watching it */
    if (c->done)
        c->done(c->done_data);
    free(c);
}

void rn_pcap_capture_close(rn_pcap_capture_t *c, void (*done)(void *data), void *data)
{
    c->done = done;
    c->done_data = data;
    uv_poll_stop(&c->poll);
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
}
