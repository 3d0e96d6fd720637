/* The serial queue on libuv's pool (lib/serial_queue.c), on a real loop and the real pool: jobs
 * run one at a time in queue order, after callbacks follow in the same order, the bound refuses
 * the job past it, a cancelled job never runs, and a close lets the queued jobs finish before its
 * callback. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>
#include <uv.h>

#include "serial_queue.h"

#define N 16

typedef struct {
    rn_serial_job_t job; /* first: the job is the test's struct */
    int id;
    int status;          /* after's status; 1 until after fired */
} tjob_t;

/* What the jobs saw; the work side writes under mu. */
static uv_mutex_t mu;
static int inside, max_inside;        /* jobs in work() at once */
static int ran[64], n_ran;            /* ids, in the order work() ran them */
static int after_ids[64], n_after;    /* ids, in the order after() fired */
static int closed;

static void reset(void)
{
    inside = max_inside = n_ran = n_after = closed = 0;
}

static void work(rn_serial_job_t *j)
{
    tjob_t *t = (tjob_t *)j;
    uv_mutex_lock(&mu);
    if (++inside > max_inside)
        max_inside = inside;
    uv_mutex_unlock(&mu);
    usleep(2000); /* long enough that an overlap, if the queue allowed one, would show */
    uv_mutex_lock(&mu);
    ran[n_ran++] = t->id;
    inside--;
    uv_mutex_unlock(&mu);
}

static void after(rn_serial_job_t *j, int status)
{
    tjob_t *t = (tjob_t *)j;
    t->status = status;
    after_ids[n_after++] = t->id;
}

static void on_close(void *data)
{
    (*(int *)data)++;
}

static void init_jobs(tjob_t *jobs, int n)
{
    for (int i = 0; i < n; i++)
        jobs[i] = (tjob_t){ .id = i, .status = 1 };
}

static void test_jobs_run_one_at_a_time_in_queue_order(void **state)
{
    (void)state;
    reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_serial_t *q;
    assert_int_equal(rn_serial_new(&loop, 0, &q), 0);
    tjob_t jobs[N];
    init_jobs(jobs, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(rn_serial_queue(q, &jobs[i].job, work, after), 0);
    assert_true(rn_serial_busy(q));
    assert_int_equal(rn_serial_waiting(q), N - 1);
    assert_int_equal(n_after, 0); /* never from within rn_serial_queue */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(max_inside, 1);
    assert_int_equal(n_ran, N);
    assert_int_equal(n_after, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(ran[i], i);
        assert_int_equal(after_ids[i], i);
        assert_int_equal(jobs[i].status, 0);
    }
    assert_false(rn_serial_busy(q));
    rn_serial_close(q, on_close, &closed);
    assert_int_equal(closed, 0); /* never from within rn_serial_close */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bound_refuses_the_job_past_it(void **state)
{
    (void)state;
    reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_serial_t *q;
    assert_int_equal(rn_serial_new(&loop, 3, &q), 0);
    tjob_t jobs[6];
    init_jobs(jobs, 6);
    /* one runs, three wait: the fifth is refused, and its after never fires */
    for (int i = 0; i < 4; i++)
        assert_int_equal(rn_serial_queue(q, &jobs[i].job, work, after), 0);
    assert_int_equal(rn_serial_waiting(q), 3);
    assert_int_equal(rn_serial_queue(q, &jobs[4].job, work, after), -EBUSY);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n_after, 4);
    assert_int_equal(jobs[4].status, 1);
    /* drained: there is room again */
    assert_int_equal(rn_serial_queue(q, &jobs[5].job, work, after), 0);
    rn_serial_close(q, on_close, &closed);
    assert_int_equal(rn_serial_queue(q, &jobs[4].job, work, after), -EPIPE);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n_after, 5);
    assert_int_equal(jobs[5].status, 0);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_cancelled_job_never_runs(void **state)
{
    (void)state;
    reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_serial_t *q;
    assert_int_equal(rn_serial_new(&loop, 0, &q), 0);
    tjob_t jobs[4];
    init_jobs(jobs, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rn_serial_queue(q, &jobs[i].job, work, after), 0);
    /* a waiting job: its after fires at once, with UV_ECANCELED */
    assert_int_equal(rn_serial_cancel(q, &jobs[2].job), 0);
    assert_int_equal(n_after, 1);
    assert_int_equal(jobs[2].status, UV_ECANCELED);
    assert_int_equal(rn_serial_waiting(q), 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n_ran, 3);
    assert_int_equal(ran[0], 0);
    assert_int_equal(ran[1], 1);
    assert_int_equal(ran[2], 3);
    assert_int_equal(after_ids[1], 0);
    assert_int_equal(after_ids[3], 3);
    /* cancel_all: every waiting one is cancelled; the running one either never ran (cancelled on
     * the pool) or ran to its end */
    reset();
    init_jobs(jobs, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rn_serial_queue(q, &jobs[i].job, work, after), 0);
    rn_serial_cancel_all(q);
    assert_int_equal(rn_serial_waiting(q), 0);
    for (int i = 1; i < 4; i++)
        assert_int_equal(jobs[i].status, UV_ECANCELED);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n_after, 4);
    assert_int_equal(after_ids[3], 0); /* the running one's after comes last, from the loop */
    assert_true(jobs[0].status == 0 ? n_ran == 1 : jobs[0].status == UV_ECANCELED && n_ran == 0);
    rn_serial_close(q, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_close_lets_queued_jobs_finish(void **state)
{
    (void)state;
    reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    rn_serial_t *q;
    assert_int_equal(rn_serial_new(&loop, 0, &q), 0);
    tjob_t jobs[N];
    init_jobs(jobs, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(rn_serial_queue(q, &jobs[i].job, work, after), 0);
    rn_serial_close(q, on_close, &closed);
    assert_int_equal(closed, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* every job ran, in order, before the close callback */
    assert_int_equal(n_ran, N);
    assert_int_equal(n_after, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(jobs[i].status, 0);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* An after callback that queues the next job itself (the notifier's journal does): the chain
 * keeps its order. */
static rn_serial_t *chain_q;
static tjob_t chain_jobs[N];

static void chain_after(rn_serial_job_t *j, int status)
{
    after(j, status);
    tjob_t *t = (tjob_t *)j;
    if (t->id + 1 < N)
        assert_int_equal(rn_serial_queue(chain_q, &chain_jobs[t->id + 1].job, work, chain_after),
                         0);
    else
        rn_serial_close(chain_q, on_close, &closed);
}

static void test_after_may_queue_and_close(void **state)
{
    (void)state;
    reset();
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(rn_serial_new(&loop, 1, &chain_q), 0);
    init_jobs(chain_jobs, N);
    assert_int_equal(rn_serial_queue(chain_q, &chain_jobs[0].job, work, chain_after), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n_ran, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(after_ids[i], i);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    uv_mutex_init(&mu);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_run_one_at_a_time_in_queue_order),
        cmocka_unit_test(test_bound_refuses_the_job_past_it),
        cmocka_unit_test(test_cancelled_job_never_runs),
        cmocka_unit_test(test_close_lets_queued_jobs_finish),
        cmocka_unit_test(test_after_may_queue_and_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
