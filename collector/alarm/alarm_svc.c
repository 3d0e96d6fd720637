/* Service state of the alarm engine (see alarm.h, "Service down" and "Certificate expiring").
 *
 * Each office's checks of a service feed its own hysteresis in alarm.c (SERVICE_UNREACHABLE per
 * office). This file looks across the offices: when every office that checks a service freshly
 * fails it, and enough do, the fault is at the host, and one SERVICE_DOWN alarm at the host
 * stands for all of them (their per-office alarms become its symptoms in alarm_corr.c). The
 * service-wide state lives in the host node's svc_st_t entry, so a topology reload carries it
 * over by node id and service name like every other state.
 *
 * Offices whose failures a cut or a path-lost alarm explains are left out of both counts: they
 * say nothing about the host. The evaluation is a scan of every node for one service; it runs
 * on each check and once per tick (checks go stale), n_nodes x n_services per second at most. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alarm/alarm_int.h"

svc_st_t *rn__svc_of(rn_alarm_engine_t *e, size_t n)
{
    node_st_t *ns = &e->nodes[n];
    if (!ns->svc)
        ns->svc = calloc(e->topo->n_services + 1, sizeof *ns->svc);
    return ns->svc;
}

size_t rn__svc_host(const rn_alarm_engine_t *e, size_t s)
{
    const rn_service_t *sv = &e->topo->services[s];
    return sv->n_endpoints && sv->endpoints[0].node
               ? rn_impact_find_node(e->ix, sv->endpoints[0].node)
               : RN_IMPACT_NONE;
}

bool rn__svc_fresh(const rn_alarm_engine_t *e, size_t n, size_t s)
{
    const svc_st_t *sv = e->nodes[n].svc ? &e->nodes[n].svc[s] : NULL;
    return sv && sv->h.last_t && e->now - sv->h.last_t <= e->cfg.service_fresh_ms;
}

/* Counts service s's fresh offices that fail it (their alarm holds) and that reach it (no alarm,
 * and their newest check was good), leaving out those a path alarm explains; *since is the
 * start of the earliest counted failure, *first_good the start of the latest good run. */
static void svc_count(const rn_alarm_engine_t *e, size_t s, rn_alarm_service_state_t *st,
                      bool with_paths, int64_t *since, int64_t *first_good)
{
    *since = *first_good = 0;
    for (size_t n = 0; n < e->ix->n_nodes; n++) {
        if (!rn__svc_fresh(e, n, s))
            continue;
        const hyst_t *h = &e->nodes[n].svc[s].h;
        if (with_paths && rn__service_path_cause(e, n, s))
            continue; /* a cut on its way: no evidence either way */
        st->n_checking++;
        if (rn__svc_office_fails(h)) {
            st->n_failing++;
            if (!*since || h->since < *since)
                *since = h->since;
        } else if (h->good) {
            st->n_ok++;
            if (h->first_good > *first_good)
                *first_good = h->first_good;
        }
    }
}

void rn__svc_eval(rn_alarm_engine_t *e, size_t s)
{
    size_t host = rn__svc_host(e, s);
    svc_st_t *hs = host != RN_IMPACT_NONE ? rn__svc_of(e, host) : NULL;
    if (!hs)
        return;
    hs += s;
    rn_alarm_service_state_t st = { 0 };
    int64_t since, first_good;
    svc_count(e, s, &st, true, &since, &first_good);
    bool down = st.n_ok == 0 && st.n_failing >= e->cfg.service_down_min_offices;
    if (down && !hs->a_down) {
        rn__alarm_open(e, RN_ALARM_SERVICE_DOWN, host, RN_IMPACT_NONE, s, since);
    } else if (!down && hs->a_down) {
        rn__alarm_close_at(e, hs->a_down, first_good);
    } else if (down && hs->a_down->inodes.n != st.n_failing) {
        rn__alarm_describe(e, hs->a_down); /* an office joined or left its impact */
        e->dirty = true;
    }
}

/* Returns true if node n has a good round on its path (to the root, or to its parent when that
 * is the root) that started at or after t. */
static bool path_good_since(const rn_alarm_engine_t *e, size_t n, int64_t t)
{
    const node_st_t *ns = &e->nodes[n];
    const hyst_t *h = e->ix->nodes[n].parent == e->ix->root ? &ns->ptp : &ns->ptr;
    return !h->on && h->good && h->last_t >= t; /* good > 0: the newest round was good */
}

bool rn__svc_paths_proven(const rn_alarm_engine_t *e, size_t s)
{
    size_t failing = 0;
    for (size_t n = 0; n < e->ix->n_nodes; n++) {
        if (!rn__svc_fresh(e, n, s) || rn__service_path_cause(e, n, s))
            continue;
        const hyst_t *h = &e->nodes[n].svc[s].h;
        if (!rn__svc_office_fails(h))
            continue;
        /* the round in progress when the check failed counts: the check and that round went
         * the same way at the same time, and waiting for the next round cost a whole interval
         * of the 3 the NOC is promised; a cut in between shows as a path alarm a round later,
         * which takes the office out of the count and the alarm down with it */
        if (n == e->ix->root ||
            !path_good_since(e, n, h->first_bad - e->cfg.probe_interval_ms))
            return false;
        failing++;
    }
    return failing > 0;
}

int rn_alarm_service_state(const rn_alarm_engine_t *e, const char *service,
                           rn_alarm_service_state_t *out)
{
    size_t s = rn_impact_find_service(e->ix, service);
    if (s == RN_IMPACT_NONE)
        return -ENOENT;
    *out = (rn_alarm_service_state_t){ .cert_days = NAN };
    int64_t since, first_good;
    svc_count(e, s, out, false, &since, &first_good);
    size_t host = rn__svc_host(e, s);
    const svc_st_t *hs = host != RN_IMPACT_NONE && e->nodes[host].svc
                             ? &e->nodes[host].svc[s] : NULL;
    if (hs) {
        out->down = hs->a_down != NULL;
        if (hs->cert_t)
            out->cert_days = hs->cert_days;
    }
    return 0;
}
