/* Plan cache (see plan_cache.h). */
#include "plan_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"

struct rn_plan_cache {
    uv_loop_t *loop;
    char path[4096], tmp[4100];
    uv_work_t work;
    bool running, closing;
    uint8_t *writing, *queued;   /* encoded frames: being written / waiting */
    size_t writing_len, queued_len;
    int write_rc;
    void (*close_cb)(void *);
    void *close_data;
};

int rn_plan_cache_new(uv_loop_t *loop, const char *state_dir, rn_plan_cache_t **out)
{
    rn_plan_cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    snprintf(c->path, sizeof c->path, "%s/plan.bin", state_dir);
    snprintf(c->tmp, sizeof c->tmp, "%s.tmp", c->path);
    c->work.data = c;
    *out = c;
    return 0;
}

/* Reads the whole file into a new buffer. Returns 0 or -errno. */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -errno;
    int rc = fstat(fd, &st) == 0 ? 0 : -errno;
    if (rc == 0 && (st.st_size < RN_WIRE_HEADER_LEN || st.st_size > RN_WIRE_MAX_FRAME + 4))
        rc = -EINVAL;
    if (rc == 0 && !(*buf = malloc((size_t)st.st_size)))
        rc = -ENOMEM;
    if (rc == 0 && read(fd, *buf, (size_t)st.st_size) != st.st_size) {
        rc = -EIO;
        free(*buf);
    }
    *len = (size_t)st.st_size;
    close(fd);
    return rc;
}

int rn_plan_cache_load(rn_plan_cache_t *c, Rn__Frame **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file(c->path, &buf, &len);
    if (rc == -ENOENT)
        return rc;
    if (rc) {
        rn_warn("cached plan %s: %s; waiting for the collector's", c->path, rn_strerror(rc));
        return rc;
    }
    char why[256];
    rc = rn_wire_decode(buf + RN_WIRE_HEADER_LEN, len - RN_WIRE_HEADER_LEN, out, why, sizeof why);
    free(buf);
    if (rc == 0 && (*out)->body_case != RN__FRAME__BODY_PLAN) {
        rn_wire_free(*out);
        snprintf(why, sizeof why, "not a plan");
        rc = RN_EFRAME;
    }
    if (rc)
        rn_warn("cached plan %s ignored: %s", c->path, why);
    return rc;
}

/* Worker thread: tmp file, write, fsync, rename. */
static void do_write(uv_work_t *w)
{
    rn_plan_cache_t *c = w->data;
    int fd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 ? -errno : 0;
    if (rc == 0 && write(fd, c->writing, c->writing_len) != (ssize_t)c->writing_len)
        rc = errno ? -errno : -EIO;
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(c->tmp, c->path) != 0)
        rc = -errno;
    c->write_rc = rc;
}

static void start_write(rn_plan_cache_t *c);

static void after_write(uv_work_t *w, int status)
{
    rn_plan_cache_t *c = w->data;
    c->running = false;
    free(c->writing);
    c->writing = NULL;
    if (status == 0 && c->write_rc)
        rn_warn("cached plan %s not saved: %s", c->path, rn_strerror(c->write_rc));
    if (c->queued && !c->closing)
        return start_write(c);
    if (c->closing) {
        free(c->queued);
        if (c->close_cb)
            c->close_cb(c->close_data);
        free(c);
    }
}

static void start_write(rn_plan_cache_t *c)
{
    c->writing = c->queued;
    c->writing_len = c->queued_len;
    c->queued = NULL;
    c->running = true;
    if (uv_queue_work(c->loop, &c->work, do_write, after_write) != 0) {
        c->running = false;
        free(c->writing);
        c->writing = NULL;
    }
}

void rn_plan_cache_save(rn_plan_cache_t *c, const Rn__Plan *plan)
{
    Rn__Frame f = RN__FRAME__INIT;
    f.body_case = RN__FRAME__BODY_PLAN;
    f.plan = (Rn__Plan *)plan;
    uint8_t *buf;
    size_t len;
    if (c->closing || rn_wire_encode(&f, &buf, &len) != 0)
        return;
    free(c->queued);
    c->queued = buf;
    c->queued_len = len;
    if (!c->running)
        start_write(c);
}

void rn_plan_cache_close(rn_plan_cache_t *c, void (*cb)(void *data), void *data)
{
    c->closing = true;
    c->close_cb = cb;
    c->close_data = data;
    if (c->running)
        return; /* after_write finishes the close */
    free(c->queued);
    if (cb)
        cb(data);
    free(c);
}
