/* Exec channel: runs an operator's command per notification, for SMS or mail gateways that have
 * a command-line client but no webhook.
 *
 * The command runs as `/bin/sh -c command` in its own session (so its process group is its own
 * and a timeout kills the whole pipeline, not just the shell), with the notification's JSON on
 * stdin (then EOF), stdout discarded, stderr inherited (it lands in the collector's log), and the
 * collector's environment plus:
 *   RAJNET_EVENT     raised | promoted | cleared
 *   RAJNET_ALARM_ID  the alarm id
 *   RAJNET_SEVERITY  1..3 (S1 worst)
 *   RAJNET_NODE      the node the alarm is about
 *   RAJNET_TEXT      the alarm's one-line text
 * or, for a report message (notify_report.c):
 *   RAJNET_EVENT         report
 *   RAJNET_REPORT_MONTH  YYYY-MM
 *   RAJNET_REPORT_FILES  the report files' paths, one a line
 * Exit status 0 is delivered; anything else, or still running after timeout_ms (then SIGKILLed),
 * is a failure the core retries with backoff. One run at a time per channel.
 *
 * A run owns three handles (process, stdin pipe, timer) and is freed when the last one is closed;
 * only then is its outcome reported, so a retry never overlaps a run still being reaped. */
#include "notify/notify_int.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

extern char **environ;

typedef struct exec_chan exec_chan_t;

typedef struct {
    exec_chan_t *x;
    uv_process_t proc;
    uv_pipe_t in;
    uv_write_t wreq;
    uv_timer_t timer;
    int open_handles;
    bool in_closed, exited, timed_out;
    int64_t exit_status;
    int term_signal;
    int spawn_error;
    char **env;
    char *stdin_json;       /* a copy: a reconfigure may free the notification while we write */
} run_t;

struct exec_chan {
    rn__notify_chan_t base;
    char *command;
    uint32_t timeout_ms;
    run_t *run;             /* the command running now, or NULL */
};

/* Frees a NULL-terminated environment built by make_env. */
static void free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* Builds the child's environment: ours without RAJNET_* plus the notification's variables.
 * Returns NULL when out of memory. */
static char **make_env(const rn__notify_event_t *ev)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 6, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; env && i < n; i++)
        if (strncmp(environ[i], "RAJNET_", 7) != 0 && !(env[k++] = strdup(environ[i])))
            goto fail;
    if (!env)
        goto fail;
    if (ev->msg == RN_NOTIFY_REPORTS) {
        int len = (int)strlen(ev->files);
        while (len > 0 && ev->files[len - 1] == '\n')
            len--; /* one a line, no empty last one */
        if (asprintf(&env[k++], "RAJNET_EVENT=report") < 0 ||
            asprintf(&env[k++], "RAJNET_REPORT_MONTH=%s", ev->month) < 0 ||
            asprintf(&env[k++], "RAJNET_REPORT_FILES=%.*s", len, ev->files) < 0)
            goto fail;
        return env;
    }
    if (asprintf(&env[k++], "RAJNET_EVENT=%s", rn__notify_kind_name(ev->kind)) < 0 ||
        asprintf(&env[k++], "RAJNET_ALARM_ID=%" PRIu64, ev->id) < 0 ||
        asprintf(&env[k++], "RAJNET_SEVERITY=%d", ev->severity) < 0 ||
        asprintf(&env[k++], "RAJNET_NODE=%s", ev->node) < 0 ||
        asprintf(&env[k++], "RAJNET_TEXT=%s", ev->text) < 0)
        goto fail;
    return env;
fail:
    if (env && k > 0)
        env[k - 1] = NULL; /* asprintf leaves the failed slot undefined */
    free_env(env);
    return NULL;
}

/* The last handle of run r is closed: report the outcome (unless the channel is closing) and
 * free the run. */
static void run_finish(run_t *r)
{
    exec_chan_t *x = r->x;
    rn__notify_chan_t *ch = &x->base;
    int status = 0;
    if (r->spawn_error) {
        snprintf(ch->why, sizeof ch->why, "cannot run \"%s\": %s", x->command,
                 rn_strerror(r->spawn_error));
        status = r->spawn_error;
    } else if (r->timed_out) {
        snprintf(ch->why, sizeof ch->why, "killed after %u ms", (unsigned)x->timeout_ms);
        status = -ETIMEDOUT;
    } else if (r->term_signal || r->exit_status) {
        snprintf(ch->why, sizeof ch->why, "exited with %s %d",
                 r->term_signal ? "signal" : "status",
                 r->term_signal ? r->term_signal : (int)r->exit_status);
        status = -EIO;
    }
    free_env(r->env);
    free(r->stdin_json);
    free(r);
    x->run = NULL;
    if (ch->closing)
        rn__notify_chan_closed(ch);
    else
        rn__notify_chan_done(ch, status);
}

static void on_run_handle_closed(uv_handle_t *h)
{
    run_t *r = h->data;
    if (--r->open_handles == 0)
        run_finish(r);
}

/* Closes the stdin pipe once (after the write, or on exit). */
static void close_stdin(run_t *r)
{
    if (r->in_closed)
        return;
    r->in_closed = true;
    uv_close((uv_handle_t *)&r->in, on_run_handle_closed);
}

static void on_stdin_written(uv_write_t *req, int status)
{
    close_stdin(req->data); /* EPIPE (the command ignores stdin) is not an error */
}

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
    run_t *r = p->data;
    r->exited = true;
    r->exit_status = exit_status;
    r->term_signal = term_signal;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_run_handle_closed);
    uv_close((uv_handle_t *)&r->proc, on_run_handle_closed);
    close_stdin(r);
}

/* Kills the run's whole process group. */
static void run_kill(run_t *r)
{
    if (!r->exited && r->proc.pid > 0)
        uv_kill(-r->proc.pid, SIGKILL);
}

static void on_timeout(uv_timer_t *t)
{
    run_t *r = t->data;
    r->timed_out = true;
    run_kill(r);
}

/* Spawns the command for run r (handles initialised). Returns 0 or a libuv error. */
static int run_spawn(exec_chan_t *x, run_t *r)
{
    char *args[] = { "/bin/sh", "-c", x->command, NULL };
    uv_stdio_container_t stdio[3] = {
        { .flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&r->in },
        { .flags = UV_IGNORE },
        { .flags = UV_INHERIT_FD, .data.fd = 2 },
    };
    uv_process_options_t o = {
        .exit_cb = on_exit_cb, .file = args[0], .args = args, .env = r->env,
        .flags = UV_PROCESS_DETACHED, .stdio_count = 3, .stdio = stdio,
    };
    return uv_spawn(rn__notify_loop(x->base.n), &r->proc, &o);
}

static int exec_send(rn__notify_chan_t *ch, const rn__notify_event_t *ev)
{
    exec_chan_t *x = (exec_chan_t *)ch;
    uv_loop_t *loop = rn__notify_loop(ch->n);
    run_t *r = calloc(1, sizeof *r);
    char **env = r ? make_env(ev) : NULL;
    char *json = env ? strdup(ev->json) : NULL;
    if (!json) {
        free_env(env);
        free(r);
        return -ENOMEM;
    }
    r->x = x, r->env = env, r->stdin_json = json;
    x->run = r;
    uv_pipe_init(loop, &r->in, 0);
    uv_timer_init(loop, &r->timer);
    r->in.data = r->proc.data = r->timer.data = r->wreq.data = r;
    r->open_handles = 3;
    int rc = run_spawn(x, r);
    if (rc) { /* libuv wants the process handle closed even when the spawn failed */
        r->spawn_error = rc;
        r->exited = true;
        uv_close((uv_handle_t *)&r->timer, on_run_handle_closed);
        uv_close((uv_handle_t *)&r->proc, on_run_handle_closed);
        close_stdin(r);
        return 0; /* the outcome is reported once the handles are closed */
    }
    uv_timer_start(&r->timer, on_timeout, x->timeout_ms, 0);
    uv_buf_t b = uv_buf_init(r->stdin_json, (unsigned)strlen(r->stdin_json));
    if (uv_write(&r->wreq, (uv_stream_t *)&r->in, &b, 1, on_stdin_written) != 0)
        close_stdin(r);
    return 0;
}

static void exec_close(rn__notify_chan_t *ch)
{
    exec_chan_t *x = (exec_chan_t *)ch;
    if (x->run)
        run_kill(x->run); /* its exit closes the run, which then reports the channel closed */
    else
        rn__notify_chan_closed(ch);
}

static void exec_free(rn__notify_chan_t *ch)
{
    exec_chan_t *x = (exec_chan_t *)ch;
    free(x->command);
    free(x);
}

static const rn__notify_chan_ops_t exec_ops = { exec_send, exec_close, exec_free };

int rn__notify_exec_new(rn_notifier_t *n, const rn_notify_exec_config_t *cfg,
                        rn__notify_chan_t **out)
{
    exec_chan_t *x = calloc(1, sizeof *x);
    if (!x || !(x->command = strdup(cfg->command ? cfg->command : "")) ||
        asprintf(&x->base.key, "exec %s", cfg->command ? cfg->command : "") < 0) {
        if (x)
            free(x->command);
        free(x);
        return -ENOMEM;
    }
    x->base.n = n;
    x->base.ops = &exec_ops;
    x->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    *out = &x->base;
    return 0;
}
