/* A thread of its own with a FIFO of jobs (worker.h). Jobs cross to the thread through the todo
 * list under the mutex and come back through the done list, which a uv_async drains on the
 * loop; both lists keep queue order, so after callbacks fire in the order jobs were queued. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "worker.h"

struct rn_worker {
    uv_loop_t *loop;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    uv_async_t async;
    rn_worker_req_t *todo, *todo_tail, *done, *done_tail; /* under mu */
    bool stop;                                            /* under mu */
    size_t outstanding; /* queued, after callback not yet fired (loop thread): the async handle
                         * keeps the loop alive only while there are some, as queued work does */
    void (*close_cb)(void *data);
    void *close_data;
    char name[16];
};

/* Appends req to the list (*head, *tail). */
static void push(rn_worker_req_t **head, rn_worker_req_t **tail, rn_worker_req_t *req)
{
    req->next = NULL;
    if (*tail)
        (*tail)->next = req;
    else
        *head = req;
    *tail = req;
}

static void thread_main(void *arg)
{
    rn_worker_t *w = arg;
    pthread_setname_np(pthread_self(), w->name);
    uv_mutex_lock(&w->mu);
    for (;;) {
        while (!w->todo && !w->stop)
            uv_cond_wait(&w->cv, &w->mu);
        rn_worker_req_t *req = w->todo;
        if (!req)
            break; /* stopping, and nothing left to do */
        w->todo = req->next;
        if (!w->todo)
            w->todo_tail = NULL;
        uv_mutex_unlock(&w->mu);
        req->work(req);
        uv_mutex_lock(&w->mu);
        push(&w->done, &w->done_tail, req);
        uv_async_send(&w->async);
    }
    uv_mutex_unlock(&w->mu);
}

/* Loop thread: fires the after callbacks of the jobs done so far, in order. */
static void drain(rn_worker_t *w)
{
    uv_mutex_lock(&w->mu);
    rn_worker_req_t *req = w->done;
    w->done = w->done_tail = NULL;
    uv_mutex_unlock(&w->mu);
    while (req) {
        rn_worker_req_t *next = req->next; /* after may free req */
        if (--w->outstanding == 0)
            uv_unref((uv_handle_t *)&w->async);
        req->after(req);
        req = next;
    }
}

static void on_async(uv_async_t *a)
{
    drain(container_of(a, rn_worker_t, async));
}

/* The async handle of a worker whose thread never started is closed; then its memory goes. */
static void on_unstarted_closed(uv_handle_t *h)
{
    free(container_of((uv_async_t *)h, rn_worker_t, async));
}

int rn_worker_new(uv_loop_t *loop, const char *name, rn_worker_t **out)
{
    rn_worker_t *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->loop = loop;
    snprintf(w->name, sizeof w->name, "%s", name);
    int rc = uv_mutex_init(&w->mu);
    if (rc)
        goto no_mutex;
    if ((rc = uv_cond_init(&w->cv)) != 0)
        goto no_cond;
    if ((rc = uv_async_init(loop, &w->async, on_async)) != 0)
        goto no_async;
    uv_unref((uv_handle_t *)&w->async);
    if ((rc = uv_thread_create(&w->thread, thread_main, w)) != 0) {
        uv_cond_destroy(&w->cv);
        uv_mutex_destroy(&w->mu);
        uv_close((uv_handle_t *)&w->async, on_unstarted_closed);
        return rc;
    }
    *out = w;
    return 0;
no_async:
    uv_cond_destroy(&w->cv);
no_cond:
    uv_mutex_destroy(&w->mu);
no_mutex:
    free(w);
    return rc;
}

void rn_worker_queue(rn_worker_t *w, rn_worker_req_t *req, rn_worker_fn work, rn_worker_fn after)
{
    req->work = work;
    req->after = after;
    if (w->outstanding++ == 0)
        uv_ref((uv_handle_t *)&w->async);
    uv_mutex_lock(&w->mu);
    push(&w->todo, &w->todo_tail, req);
    uv_cond_signal(&w->cv);
    uv_mutex_unlock(&w->mu);
}

static void on_closed(uv_handle_t *h)
{
    rn_worker_t *w = container_of((uv_async_t *)h, rn_worker_t, async);
    void (*cb)(void *) = w->close_cb;
    void *data = w->close_data;
    uv_cond_destroy(&w->cv);
    uv_mutex_destroy(&w->mu);
    free(w);
    if (cb)
        cb(data);
}

void rn_worker_close(rn_worker_t *w, void (*cb)(void *data), void *data)
{
    uv_mutex_lock(&w->mu);
    w->stop = true;
    uv_cond_signal(&w->cv);
    uv_mutex_unlock(&w->mu);
    uv_thread_join(&w->thread); /* it runs what is queued first */
    drain(w);
    w->close_cb = cb;
    w->close_data = data;
    uv_close((uv_handle_t *)&w->async, on_closed);
}
