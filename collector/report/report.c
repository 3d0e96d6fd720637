/* SLA report computation (rules in report.h). Intervals are half-open [start, end) in Unix ms;
 * a link's maintenance and its counted outages are each merged into sorted disjoint lists, so
 * "downtime outside maintenance" is a walk over two lists. */
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int64_t s, e;
} span_t;

typedef struct {
    span_t *v;
    size_t n, cap;
} spans_t;

static int spans_add(spans_t *l, int64_t s, int64_t e)
{
    if (e <= s)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        span_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (span_t){ s, e };
    return 0;
}

static int cmp_span(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    return x->s < y->s ? -1 : x->s > y->s;
}

/* Sorts and merges overlapping or touching spans in place. */
static void spans_merge(spans_t *l)
{
    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof *l->v, cmp_span);
    size_t k = 0;
    for (size_t i = 1; i < l->n; i++) {
        if (l->v[i].s <= l->v[k].e) {
            if (l->v[i].e > l->v[k].e)
                l->v[k].e = l->v[i].e;
        } else {
            l->v[++k] = l->v[i];
        }
    }
    l->n = k + 1;
}

static int64_t spans_total(const spans_t *l)
{
    int64_t t = 0;
    for (size_t i = 0; i < l->n; i++)
        t += l->v[i].e - l->v[i].s;
    return t;
}

/* Length of [s, e) outside the merged spans m. */
static int64_t outside(int64_t s, int64_t e, const spans_t *m)
{
    int64_t len = e > s ? e - s : 0;
    for (size_t i = 0; i < m->n && len > 0; i++) {
        int64_t a = m->v[i].s > s ? m->v[i].s : s, b = m->v[i].e < e ? m->v[i].e : e;
        if (b > a)
            len -= b - a;
    }
    return len;
}

double rn_report_penalty_pct(const rn_penalty_slab_t *slabs, size_t n, double availability)
{
    for (size_t i = 0; i < n; i++)
        if (availability >= slabs[i].availability)
            return slabs[i].pct;
    return n ? slabs[n - 1].pct : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

rn_report_pct_t rn_report_percentiles(double *v, size_t n)
{
    rn_report_pct_t p = { 0 };
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    if (!k)
        return p;
    qsort(v, k, sizeof *v, cmp_double);
    size_t i50 = (size_t)ceil(0.50 * (double)k), i95 = (size_t)ceil(0.95 * (double)k);
    p.have = true;
    p.p50 = v[(i50 ? i50 : 1) - 1];
    p.p95 = v[(i95 ? i95 : 1) - 1];
    return p;
}

int rn_report_month(const char *month, int64_t *from_ms, int64_t *to_ms)
{
    int y, m;
    char tail;
    if (!month || sscanf(month, "%4d-%2d%c", &y, &m, &tail) != 2 || y < 1970 || y > 9999 ||
        m < 1 || m > 12)
        return -EINVAL;
    struct tm a = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = 1 };
    struct tm b = { .tm_year = (m == 12 ? y + 1 : y) - 1900, .tm_mon = m % 12, .tm_mday = 1 };
    *from_ms = (int64_t)timegm(&a) * 1000;
    *to_ms = (int64_t)timegm(&b) * 1000;
    return 0;
}

static const rn_sla_class_t *find_sla(const rn_topology_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_sla_classes; i++)
        if (!strcmp(t->sla_classes[i].name, name))
            return &t->sla_classes[i];
    return NULL;
}

static const rn_vendor_t *find_vendor(const rn_topology_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_vendors; i++)
        if (!strcmp(t->vendors[i].name, name))
            return &t->vendors[i];
    return NULL;
}

static char *dup0(const char *s)
{
    return strdup(s ? s : "");
}

static bool outage_is_link(const rn_outage_rec_t *o, const char *circuit)
{
    return (o->circuit && !strcmp(o->circuit, circuit)) ||
           (!o->circuit && o->entity && !strcmp(o->entity, circuit));
}

/* Adds the link's listed outage [s, e) (the whole outage is [raw_s, raw_e)). */
static int list_outage(rn_report_link_t *L, int64_t s, int64_t e, int64_t raw_s, int64_t raw_e,
                       bool open, const char *cause, const rn_sla_class_t *c, const spans_t *m,
                       spans_t *counted)
{
    double charged = (double)outside(s, e, m) / 1000.0;
    if (charged <= 0)
        return 0; /* wholly inside maintenance: not the vendor's */
    rn_report_outage_t *v = realloc(L->outages, (L->n_listed + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    L->outages = v;
    rn_report_outage_t *o = &v[L->n_listed++];
    *o = (rn_report_outage_t){ .start_ms = s, .end_ms = e, .open = open, .duration_s = charged,
                               .counted = (double)(raw_e - raw_s) / 1000.0 >= c->min_outage_s,
                               .root_cause = dup0(cause) };
    if (!o->root_cause)
        return -ENOMEM;
    return o->counted ? spans_add(counted, s, e) : 0;
}

static int cmp_listed(const void *a, const void *b)
{
    const rn_report_outage_t *x = a, *y = b;
    return x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms;
}

/* Lists the link's outages and partial-loss intervals within [from, to) into L (in time order),
 * its maintenance windows and its node's into *m, and the spans of its counted outages into
 * *counted (both merged). Returns 0 or -ENOMEM. */
static int list_link_outages(const rn_node_t *n, const rn_link_t *l, const rn_sla_class_t *c,
                             const rn_report_input_t *in, int64_t from, int64_t to,
                             rn_report_link_t *L, spans_t *m, spans_t *counted)
{
    int rc = 0;
    for (size_t i = 0; i < in->n_maint && !rc; i++) {
        const rn_maintenance_rec_t *w = &in->maint[i];
        if (w->entity && (!strcmp(w->entity, l->circuit) || !strcmp(w->entity, n->id)))
            rc = spans_add(m, w->start_ms > from ? w->start_ms : from,
                           w->end_ms < to ? w->end_ms : to);
    }
    spans_merge(m);
    for (size_t i = 0; i < in->n_outages && !rc; i++) {
        const rn_outage_rec_t *o = &in->outages[i];
        if (o->planned || !outage_is_link(o, l->circuit))
            continue;
        int64_t raw_e = o->ended ? o->end_ms : in->now_ms;
        int64_t s = o->start_ms > from ? o->start_ms : from, e = raw_e < to ? raw_e : to;
        if (e > s)
            rc = list_outage(L, s, e, o->start_ms, raw_e, !o->ended, o->root_cause, c, m,
                             counted);
    }
    for (size_t i = 0; c->partial_loss_counts && i < in->n_degraded && !rc; i++) {
        const rn_report_interval_t *d = &in->degraded[i];
        if (!d->circuit || strcmp(d->circuit, l->circuit) != 0)
            continue;
        int64_t s = d->start_ms > from ? d->start_ms : from, e = d->end_ms < to ? d->end_ms : to;
        if (e > s)
            rc = list_outage(L, s, e, d->start_ms, d->end_ms, false, "partial loss", c, m,
                             counted);
    }
    if (L->n_listed > 1)
        qsort(L->outages, L->n_listed, sizeof *L->outages, cmp_listed);
    spans_merge(counted);
    return rc;
}

/* Sets the link's period, availability, outage statistics, measured performance (from in->perf),
 * breaches and penalty from its listed outages, maintenance m and counted spans. */
static void link_figures(const rn_link_t *l, const rn_sla_class_t *c, const rn_report_input_t *in,
                         int64_t from, int64_t to, const spans_t *m, const spans_t *counted,
                         rn_report_link_t *L)
{
    int64_t down = 0;
    for (size_t i = 0; i < counted->n; i++)
        down += outside(counted->v[i].s, counted->v[i].e, m);
    L->period_s = (double)(to - from) / 1000.0;
    L->maintenance_s = (double)spans_total(m) / 1000.0;
    L->downtime_s = (double)down / 1000.0;
    double base = L->period_s - L->maintenance_s;
    L->availability_pct = base > 0 ? (base - L->downtime_s) / base * 100.0 : 100.0;
    double sum = 0;
    for (size_t i = 0; i < L->n_listed; i++) {
        const rn_report_outage_t *o = &L->outages[i];
        if (!o->counted)
            continue;
        L->n_outages++;
        sum += o->duration_s;
        if (o->duration_s > L->longest_s)
            L->longest_s = o->duration_s;
        if (L->restore_s > 0 && o->duration_s > L->restore_s)
            L->breach_restore = true;
    }
    L->mttr_s = L->n_outages ? sum / (double)L->n_outages : 0;
    for (size_t i = 0; i < in->n_perf; i++)
        if (in->perf[i].circuit && !strcmp(in->perf[i].circuit, l->circuit))
            L->perf = in->perf[i];
    L->perf.circuit = L->circuit;
    L->breach_availability = L->availability_pct < c->availability;
    L->breach_latency = L->perf.latency_ms.have && c->max_latency_ms > 0 &&
                        L->perf.latency_ms.p95 > c->max_latency_ms;
    L->breach_loss = L->perf.loss_pct.have && L->perf.loss_pct.p95 > c->max_loss_pct;
    L->breach_jitter = L->perf.jitter_ms.have && c->max_jitter_ms > 0 &&
                       L->perf.jitter_ms.p95 > c->max_jitter_ms;
    L->penalty_pct = rn_report_penalty_pct(c->penalty, c->n_penalty, L->availability_pct);
    L->penalty_amount = L->penalty_pct / 100.0 * l->monthly_charge;
}

/* Fills one link's figures. Returns 0 or -ENOMEM. */
static int compute_link(const rn_node_t *n, const rn_link_t *l, const rn_sla_class_t *c,
                        const rn_report_input_t *in, int64_t from, int64_t to,
                        rn_report_link_t *L)
{
    spans_t m = { 0 }, counted = { 0 };
    L->node = dup0(n->id);
    L->circuit = dup0(l->circuit);
    L->vendor = dup0(l->vendor);
    L->sla = dup0(l->sla);
    L->kind = dup0(l->kind);
    if (!L->node || !L->circuit || !L->vendor || !L->sla || !L->kind)
        return -ENOMEM;
    L->monthly_charge = l->monthly_charge;
    L->target_pct = c->availability;
    L->max_latency_ms = c->max_latency_ms;
    L->max_loss_pct = c->max_loss_pct;
    L->max_jitter_ms = c->max_jitter_ms;
    L->restore_s = c->restore_hours[0] * 3600.0;
    int rc = list_link_outages(n, l, c, in, from, to, L, &m, &counted);
    link_figures(l, c, in, from, to, &m, &counted, L);
    free(m.v);
    free(counted.v);
    return rc;
}

static int cmp_link(const void *a, const void *b)
{
    const rn_report_link_t *x = a, *y = b;
    int c = strcmp(x->vendor, y->vendor);
    return c ? c : strcmp(x->node, y->node);
}

/* Sums the links of each vendor (links are sorted by vendor). */
static int add_vendors(const rn_topology_t *topo, rn_report_t *r)
{
    r->vendors = calloc(r->n_links ? r->n_links : 1, sizeof *r->vendors);
    if (!r->vendors)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        rn_report_vendor_t *v = r->n_vendors ? &r->vendors[r->n_vendors - 1] : NULL;
        if (!v || strcmp(v->name, L->vendor) != 0) {
            const rn_vendor_t *tv = find_vendor(topo, L->vendor);
            v = &r->vendors[r->n_vendors++];
            v->name = dup0(L->vendor);
            v->display = dup0(tv && tv->display ? tv->display : L->vendor);
            v->contact = dup0(tv ? tv->contact : "");
            if (!v->name || !v->display || !v->contact)
                return -ENOMEM;
        }
        v->n_links++;
        v->n_outages += L->n_outages;
        v->downtime_s += L->downtime_s;
        v->charge += L->monthly_charge;
        v->penalty_amount += L->penalty_amount;
        if (L->breach_availability || L->breach_latency || L->breach_loss || L->breach_jitter ||
            L->breach_restore)
            v->n_breached++;
    }
    return 0;
}

/* Computes service sv's availability over [from, to) into S (rules in report.h). Returns 0 or
 * -ENOMEM. */
static int compute_service(const rn_service_t *sv, const rn_report_input_t *in, int64_t from,
                           int64_t to, rn_report_service_t *S)
{
    const char *host = sv->n_endpoints ? sv->endpoints[0].node : NULL;
    spans_t maint = { 0 }, down = { 0 };
    int rc = 0;
    S->name = dup0(sv->name);
    S->kind = dup0(sv->kind);
    S->host = dup0(host);
    for (size_t i = 0; i < in->n_maint && !rc; i++) {
        const rn_maintenance_rec_t *m = &in->maint[i];
        if (!strcmp(m->entity, sv->name) || (host && !strcmp(m->entity, host)))
            rc = spans_add(&maint, m->start_ms > from ? m->start_ms : from,
                           m->end_ms < to ? m->end_ms : to);
    }
    for (size_t i = 0; i < in->n_service_down && !rc; i++) {
        const rn_report_svc_down_t *d = &in->service_down[i];
        int64_t s = d->start_ms > from ? d->start_ms : from, e = d->end_ms < to ? d->end_ms : to;
        if (strcmp(d->service, sv->name) != 0 || e <= s)
            continue;
        S->n_outages++;
        if ((double)(e - s) / 1000.0 > S->longest_s)
            S->longest_s = (double)(e - s) / 1000.0;
        rc = spans_add(&down, s, e);
    }
    spans_merge(&maint);
    spans_merge(&down);
    int64_t downtime = 0;
    for (size_t i = 0; i < down.n; i++)
        downtime += outside(down.v[i].s, down.v[i].e, &maint);
    S->period_s = (double)(to - from) / 1000.0;
    S->maintenance_s = (double)spans_total(&maint) / 1000.0;
    S->downtime_s = (double)downtime / 1000.0;
    double base = S->period_s - S->maintenance_s;
    S->availability_pct = base > 0 ? (base - S->downtime_s) / base * 100.0 : 100.0;
    free(maint.v);
    free(down.v);
    return rc || !S->name || !S->kind || !S->host ? -ENOMEM : 0;
}

int rn_report_compute(const rn_topology_t *topo, const rn_report_input_t *in, int64_t from_ms,
                      int64_t to_ms, const char *vendor, rn_report_t **out)
{
    *out = NULL;
    if (to_ms <= from_ms || (vendor && *vendor && !find_vendor(topo, vendor)))
        return -EINVAL;
    if (vendor && !*vendor)
        vendor = NULL;
    rn_report_t *r = calloc(1, sizeof *r);
    size_t cap = 0;
    for (size_t i = 0; i < topo->n_nodes; i++)
        cap += topo->nodes[i].n_uplinks;
    if (!r || !(r->links = calloc(cap ? cap : 1, sizeof *r->links))) {
        free(r);
        return -ENOMEM;
    }
    r->from_ms = from_ms;
    r->to_ms = to_ms;
    int rc = 0;
    for (size_t i = 0; i < topo->n_nodes && !rc; i++) {
        const rn_node_t *n = &topo->nodes[i];
        for (size_t j = 0; j < n->n_uplinks && !rc; j++) {
            const rn_link_t *l = &n->uplinks[j];
            const rn_sla_class_t *c = find_sla(topo, l->sla);
            if (!c || (vendor && strcmp(vendor, l->vendor) != 0))
                continue;
            rc = compute_link(n, l, c, in, from_ms, to_ms, &r->links[r->n_links++]);
        }
    }
    if (!rc && !(r->services = calloc(topo->n_services + 1, sizeof *r->services)))
        rc = -ENOMEM;
    for (size_t i = 0; i < topo->n_services && !rc; i++)
        rc = compute_service(&topo->services[i], in, from_ms, to_ms,
                             &r->services[r->n_services++]);
    if (!rc) {
        qsort(r->links, r->n_links, sizeof *r->links, cmp_link);
        for (size_t i = 0; i < r->n_links; i++)
            r->links[i].perf.circuit = r->links[i].circuit; /* qsort moved them */
        rc = add_vendors(topo, r);
    }
    if (rc) {
        rn_report_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void rn_report_free(rn_report_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_links; i++) {
        rn_report_link_t *L = &r->links[i];
        free(L->node);
        free(L->circuit);
        free(L->vendor);
        free(L->sla);
        free(L->kind);
        for (size_t k = 0; k < L->n_listed; k++)
            free(L->outages[k].root_cause);
        free(L->outages);
        free(L->latency_graph.data);
        free(L->loss_graph.data);
    }
    free(r->links);
    for (size_t i = 0; i < r->n_services; i++) {
        free(r->services[i].name);
        free(r->services[i].kind);
        free(r->services[i].host);
    }
    free(r->services);
    for (size_t i = 0; i < r->n_vendors; i++) {
        free(r->vendors[i].name);
        free(r->vendors[i].display);
        free(r->vendors[i].contact);
    }
    free(r->vendors);
    free(r);
}
