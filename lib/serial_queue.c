/* A serial queue on libuv's thread pool (serial_queue.h). The waiting jobs are a doubly linked
 * list (cancel is O(1)); at most one job is on the pool (running). When its after callback
 * returns, the next waiting job goes to the pool. A close with nothing left sends a no-op job
 * through the pool so that its callback, like every other, fires from the loop later. */
#include <errno.h>
#include <stdlib.h>

#include "serial_queue.h"
#include "util.h"

struct rn_serial {
    uv_loop_t *loop;
    size_t max_waiting, n_waiting;
    rn_serial_job_t *head, *tail; /* waiting, oldest first */
    rn_serial_job_t *running;     /* on the pool, its after callback not yet fired */
    bool in_after;                /* inside a job's after callback (see on_after) */
    bool closing;
    uv_work_t close_req;          /* the no-op job of a close with nothing left */
    void (*close_cb)(void *data);
    void *close_data;
};

static void on_work(uv_work_t *req)
{
    rn_serial_job_t *job = container_of(req, rn_serial_job_t, req);
    job->work(job);
}

/* Frees q and calls its close callback. */
static void finish(rn_serial_t *q)
{
    void (*cb)(void *) = q->close_cb;
    void *data = q->close_data;
    free(q);
    if (cb)
        cb(data);
}

static void on_nothing(uv_work_t *req)
{
    (void)req;
}

static void on_closed(uv_work_t *req, int status)
{
    (void)status;
    finish(container_of(req, rn_serial_t, close_req));
}

/* Takes job off the waiting list. */
static void unlink_job(rn_serial_t *q, rn_serial_job_t *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else
        q->head = job->next;
    if (job->next)
        job->next->prev = job->prev;
    else
        q->tail = job->prev;
    job->next = job->prev = NULL;
    q->n_waiting--;
}

static void on_after(uv_work_t *req, int status);

/* Sends the oldest waiting job to the pool when none is there. */
static void start_next(rn_serial_t *q)
{
    if (q->running || !q->head)
        return;
    rn_serial_job_t *job = q->head;
    unlink_job(q, job);
    q->running = job;
    /* uv_queue_work fails only without a work callback, and on_work is one */
    uv_queue_work(q->loop, &job->req, on_work, on_after);
}

/* Back on the loop: the job's after callback, then the next job, or the end of a close. */
static void on_after(uv_work_t *req, int status)
{
    rn_serial_job_t *job = container_of(req, rn_serial_job_t, req);
    rn_serial_t *q = job->q;
    q->running = NULL;
    q->in_after = true; /* a close from the callback must not finish q under us */
    job->after(job, status); /* may free job */
    q->in_after = false;
    start_next(q);
    if (q->closing && !q->running && !q->head)
        finish(q);
}

int rn_serial_new(uv_loop_t *loop, size_t max_waiting, rn_serial_t **out)
{
    rn_serial_t *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->loop = loop;
    q->max_waiting = max_waiting;
    *out = q;
    return 0;
}

int rn_serial_queue(rn_serial_t *q, rn_serial_job_t *job, rn_serial_work_fn work,
                    rn_serial_after_fn after)
{
    if (q->closing)
        return -EPIPE;
    /* The bound counts jobs that wait: one that would go to the pool at once does not. */
    bool waits = q->running || q->head;
    if (waits && q->max_waiting && q->n_waiting >= q->max_waiting)
        return -EBUSY;
    job->q = q;
    job->work = work;
    job->after = after;
    job->next = NULL;
    job->prev = q->tail;
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->n_waiting++;
    if (!q->in_after)
        start_next(q); /* from an after callback, on_after starts it when the callback returns */
    return 0;
}

int rn_serial_cancel(rn_serial_t *q, rn_serial_job_t *job)
{
    if (job == q->running)
        return uv_cancel((uv_req_t *)&job->req) == 0 ? 0 : -EBUSY;
    unlink_job(q, job);
    job->after(job, UV_ECANCELED);
    return 0;
}

void rn_serial_cancel_all(rn_serial_t *q)
{
    if (q->running)
        rn_serial_cancel(q, q->running);
    /* after callbacks may queue more jobs: those are cancelled too, as they are waiting */
    while (q->head)
        rn_serial_cancel(q, q->head);
}

size_t rn_serial_waiting(const rn_serial_t *q)
{
    return q->n_waiting;
}

bool rn_serial_busy(const rn_serial_t *q)
{
    return q->running != NULL;
}

void rn_serial_close(rn_serial_t *q, void (*cb)(void *data), void *data)
{
    if (q->closing)
        return;
    q->closing = true;
    q->close_cb = cb;
    q->close_data = data;
    if (q->running || q->head || q->in_after)
        return; /* the last after callback (on_after) finishes the close */
    uv_queue_work(q->loop, &q->close_req, on_nothing, on_closed);
}
