/* alarm_bench: the alarm engine alone on the full state's probe rounds.
 *
 *   alarm_bench TOPOLOGY [SECRETS] [--rounds R] [--interval-ms MS] [--cut NODE]
 *
 * Loads a topology, builds the engine as the collector does (collector/collector.c: probe
 * interval and count from the topology's settings), then feeds it R rounds of what every agent
 * sends: one rn_alarm_observe_icmp per target of its plan, the parent and the root (upward) and
 * every child (downward, object = the child's id, agentless villages included), one
 * rn_alarm_observe_node_seen per agent and one rn_alarm_tick per round, the clock advancing by
 * the interval. With --cut NODE, from round R/3 on NODE's uplink loses everything (100 % loss on
 * its upward rounds and on its parent's round to it; nothing is heard from its subtree), so the
 * engine also raises and holds alarms. Prints the CPU time per round (getrusage) and what that
 * is as a share of one core at that interval: the engine's cost without TLS, protobuf or RRD.
 * Run by hand (tests/bench/README.md), never by `make check`. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "alarm/alarm.h"
#include "topology.h"

typedef struct {
    const char *node, *target;
    size_t node_i, target_i;
} probe_t;

static unsigned long events;

static void on_event(void *ctx, rn_alarm_event_kind_t kind, const rn_alarm_t *a, int64_t at_ms)
{
    (void)ctx, (void)kind, (void)a, (void)at_ms;
    events++;
}

/* CPU seconds used by this process so far. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* True if node i of t lies in the subtree of top (top included). */
static bool under(const rn_topology_t *t, size_t i, const rn_node_t *top)
{
    for (const rn_node_t *n = &t->nodes[i]; n; n = n->parent)
        if (n == top)
            return true;
    return false;
}

/* Lists every (agent node, target) pair of the state's plans (collector/ingest/plan.c: parent, root,
 * children; targets need a device). Returns the count, or 0 with *out NULL when out of memory. */
static size_t list_probes(const rn_topology_t *t, probe_t **out)
{
    const rn_node_t *root = rn_topology_root(t);
    size_t cap = 2 * t->n_nodes + 2, n = 0;
    probe_t *p = calloc(cap, sizeof *p);
    *out = p;
    if (!p)
        return 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const rn_node_t *a = &t->nodes[i];
        if (!a->agent)
            continue;
        if (a->parent && a->parent->n_devices)
            p[n++] = (probe_t){ a->id, a->parent->id, i, (size_t)(a->parent - t->nodes) };
        if (root && root != a && root != a->parent && root->n_devices)
            p[n++] = (probe_t){ a->id, root->id, i, (size_t)(root - t->nodes) };
    }
    for (size_t i = 0; i < t->n_nodes; i++) {
        const rn_node_t *c = &t->nodes[i];
        if (c->parent && c->parent->agent && c->n_devices && n < cap)
            p[n++] = (probe_t){ c->parent->id, c->id, (size_t)(c->parent - t->nodes), i };
    }
    return n;
}

int main(int argc, char **argv)
{
    int rounds = 120, interval_ms = 1000;
    const char *cut_id = NULL;
    static const struct option opts[] = { { "rounds", 1, 0, 'r' }, { "interval-ms", 1, 0, 'i' },
                                          { "cut", 1, 0, 'c' }, { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'r')
            rounds = atoi(optarg);
        else if (c == 'i')
            interval_ms = atoi(optarg);
        else if (c == 'c')
            cut_id = optarg;
        else
            return 2;
    }
    if (optind >= argc || rounds < 3 || interval_ms < 1) {
        fprintf(stderr, "usage: alarm_bench TOPOLOGY [SECRETS] [--rounds R] [--interval-ms MS] "
                        "[--cut NODE]\n");
        return 2;
    }
    char err[1024];
    rn_topology_t *t;
    double c0 = cpu_s();
    if (rn_topology_load(argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, &t, err,
                         sizeof err) != 0) {
        fprintf(stderr, "alarm_bench: %s\n", err);
        return 1;
    }
    double load_s = cpu_s() - c0;
    const rn_node_t *cut = cut_id ? rn_topology_node(t, cut_id) : NULL;
    if (cut_id && (!cut || !cut->parent)) {
        fprintf(stderr, "alarm_bench: no node '%s' with a parent\n", cut_id);
        return 1;
    }
    probe_t *p;
    size_t np = list_probes(t, &p);
    size_t agents = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        agents += t->nodes[i].agent;
    rn_alarm_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.probe_interval_ms = (int64_t)interval_ms;
    cfg.probe_count = t->settings.probe_count;
    rn_alarm_engine_t *e;
    c0 = cpu_s();
    if (!p || rn_alarm_engine_new(t, &cfg, on_event, NULL, &e) != 0) {
        fprintf(stderr, "alarm_bench: engine: out of memory\n");
        return 1;
    }
    double new_s = cpu_s() - c0;
    int64_t now = 1700000000000LL;
    double warm = 0, total = 0, worst = 0;
    for (int r = 0; r < rounds; r++) {
        bool cutting = cut && r >= rounds / 3;
        double r0 = cpu_s();
        for (size_t k = 0; k < np; k++) {
            bool lost = cutting && (under(t, p[k].node_i, cut) != under(t, p[k].target_i, cut));
            if (cutting && under(t, p[k].node_i, cut))
                continue; /* behind the cut: its rounds do not reach the collector */
            rn_alarm_observe_icmp(e, p[k].node, p[k].target, now - 200, 0, lost ? 100.0 : 0.0,
                                  lost ? NAN : 20.0 + (double)(k % 7), lost ? NAN : 1.5);
        }
        for (size_t i = 0; i < t->n_nodes; i++)
            if (t->nodes[i].agent && !(cutting && under(t, i, cut)))
                rn_alarm_observe_node_seen(e, t->nodes[i].id, now);
        rn_alarm_tick(e, now);
        double d = cpu_s() - r0;
        if (r < 5)
            warm += d;
        else
            total += d, worst = d > worst ? d : worst;
        now += interval_ms;
    }
    int measured = rounds - 5;
    double per = total / measured;
    printf("alarm_bench: %zu nodes, %zu agents, %zu probe rounds per interval (up + down)\n",
           t->n_nodes, agents, np);
    printf("  topology load %.3f s CPU, engine build %.3f s CPU\n", load_s, new_s);
    printf("  %d rounds after 5 warm-up (%s): %.3f ms CPU per round (worst %.3f ms), "
           "%.3f us per observation\n", measured, cut ? "with a cut" : "all healthy",
           per * 1e3, worst * 1e3, per * 1e6 / (double)(np ? np : 1));
    printf("  engine share of one core at %d ms rounds: %.3f %% (target < 1 %%)\n", interval_ms,
           100.0 * per / (interval_ms / 1000.0));
    printf("  alarm events: %lu\n", events);
    printf("RESULT engine_ms_per_round %.3f\nRESULT engine_core_pct %.3f\n", per * 1e3,
           100.0 * per / (interval_ms / 1000.0));
    rn_alarm_engine_free(e);
    free(p);
    rn_topology_free(t);
    return 0;
}
