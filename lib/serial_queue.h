/* A serial queue on libuv's thread pool: jobs run one at a time, in the order they were queued,
 * each with uv_queue_work's contract (work off the loop, then its after callback on the loop, in
 * the same order). For the collector's jobs that must not overlap but may wait behind others on
 * the shared pool: graph renders (librrd's graph code is not reentrant, and a burst of renders
 * must not take every pool thread) and the notifier's journal (appends must reach the file in
 * order).
 *
 * Why both this and worker.h: a worker is a thread of its own, so its jobs never queue behind
 * the pool's long ones (reports, graphs, static files); the RRD writes, which hold back agents'
 * acks, need that. A serial queue costs no thread: it takes one pool thread at a time, only
 * while it has work, for jobs that can afford to wait for one (docs/architecture.md, "Modules").
 *
 * Loop thread only. Not thread-safe: every call, and every after callback, is on the loop. */
#ifndef RN_SERIAL_QUEUE_H
#define RN_SERIAL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct rn_serial rn_serial_t;
typedef struct rn_serial_job rn_serial_job_t;
/* Runs on a pool thread; must not touch the loop or the queue. */
typedef void (*rn_serial_work_fn)(rn_serial_job_t *job);
/* Runs on the loop once the job is over: status 0 (work ran) or UV_ECANCELED (it never ran:
 * rn_serial_cancel or rn_serial_cancel_all). May free job, queue new jobs, cancel or close. */
typedef void (*rn_serial_after_fn)(rn_serial_job_t *job, int status);

/* Embed one in the job; the queue owns it from rn_serial_queue until its after callback. The
 * fields are the queue's. */
struct rn_serial_job {
    uv_work_t req;
    rn_serial_job_t *next, *prev;
    rn_serial_t *q;
    rn_serial_work_fn work;
    rn_serial_after_fn after;
};

/* Makes a queue on loop that holds at most max_waiting jobs waiting besides the one running (0:
 * no bound). Returns 0 and *out, or -ENOMEM. */
int rn_serial_new(uv_loop_t *loop, size_t max_waiting, rn_serial_t **out);

/* Queues job: work(job) runs on the pool after every job queued before it has finished, then
 * after(job, status) on the loop. Returns 0 (after fires exactly once, never from within this
 * call) or, and then after never fires: -EBUSY (max_waiting jobs wait), -EPIPE (closing). */
int rn_serial_queue(rn_serial_t *q, rn_serial_job_t *job, rn_serial_work_fn work,
                    rn_serial_after_fn after);

/* Cancels job, which must be q's (queued, its after callback not yet fired). A waiting job
 * leaves the queue and its after fires with UV_ECANCELED before this returns: 0. The running
 * job is cancelled if no pool thread has picked it up yet (its after fires later, from the loop,
 * with UV_ECANCELED): 0; else it runs to its end: -EBUSY. */
int rn_serial_cancel(rn_serial_t *q, rn_serial_job_t *job);

/* Cancels every job (rn_serial_cancel each, oldest first): the waiting ones' after callbacks
 * fire before this returns; the running one ends as rn_serial_cancel says. */
void rn_serial_cancel_all(rn_serial_t *q);

/* Jobs waiting (not counting the running one). */
size_t rn_serial_waiting(const rn_serial_t *q);

/* Whether a job is running (on the pool, or its after callback not yet fired). */
bool rn_serial_busy(const rn_serial_t *q);

/* Refuses new jobs, lets the running and waiting ones finish (their after callbacks fire), then
 * frees q and calls cb(data) (cb may be NULL) from the loop, never from within this call. */
void rn_serial_close(rn_serial_t *q, void (*cb)(void *data), void *data);

#endif
