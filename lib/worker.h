/* A thread of its own with a FIFO of jobs: uv_queue_work's contract (work off the loop, the
 * after callback on it, in order) without libuv's shared pool. The collector's RRD writes run
 * here so that reports, graphs and static files, which share the pool's four threads, can never
 * hold back an agent's ack (docs/architecture.md, "Modules", the collector's table). */
#ifndef RN_WORKER_H
#define RN_WORKER_H

#include <uv.h>

typedef struct rn_worker rn_worker_t;
typedef struct rn_worker_req rn_worker_req_t;
typedef void (*rn_worker_fn)(rn_worker_req_t *req);

/* Embed one in the job; the worker owns it from rn_worker_queue until its after callback. */
struct rn_worker_req {
    rn_worker_req_t *next;
    rn_worker_fn work, after;
};

/* Starts the thread, named name (at most 15 characters, for top -H). Returns 0 or a negative
 * errno. */
int rn_worker_new(uv_loop_t *loop, const char *name, rn_worker_t **out);

/* Queues req: work(req) runs on the worker's thread, jobs one at a time in queue order, then
 * after(req) on the loop thread, in the same order. Loop thread only. */
void rn_worker_queue(rn_worker_t *w, rn_worker_req_t *req, rn_worker_fn work, rn_worker_fn after);

/* Lets the queued jobs run, fires their after callbacks, stops the thread, then calls cb(data)
 * from the loop and frees w. Loop thread only; nothing may be queued afterwards. */
void rn_worker_close(rn_worker_t *w, void (*cb)(void *data), void *data);

#endif
