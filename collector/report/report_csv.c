/* SLA report as CSV: one file per vendor. A summary block (one row per link), then one row per
 * outage; times are UTC ISO 8601, durations in seconds. Fields as collector/report/csv.h writes them. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "report/csv.h"
#include "report/report.h"

static void iso(FILE *f, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fputs(buf, f);
}

static void pct(FILE *f, const rn_report_pct_t *p)
{
    if (p->have)
        fprintf(f, ",%.3f,%.3f", p->p50, p->p95);
    else
        fputs(",,", f);
}

int rn_report_csv(const rn_report_t *r, const char *vendor, FILE *f)
{
    fputs("# RajNet SLA report,", f);
    iso(f, r->from_ms);
    fputc(',', f);
    iso(f, r->to_ms);
    fputc('\n', f);
    fputs("vendor,node,circuit,sla,period_s,maintenance_s,downtime_s,availability_pct,"
          "target_pct,outages,mttr_s,longest_s,latency_p50_ms,latency_p95_ms,loss_p50_pct,"
          "loss_p95_pct,jitter_p50_ms,jitter_p95_ms,breach_availability,breach_latency,"
          "breach_loss,breach_jitter,breach_restore,monthly_charge,penalty_pct,penalty_amount\n",
          f);
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (vendor && strcmp(vendor, L->vendor) != 0)
            continue;
        rn_csv_field(f, L->vendor);
        fputc(',', f);
        rn_csv_field(f, L->node);
        fputc(',', f);
        rn_csv_field(f, L->circuit);
        fputc(',', f);
        rn_csv_field(f, L->sla);
        fprintf(f, ",%.3f,%.3f,%.3f,%.4f,%.3f,%zu,%.3f,%.3f", L->period_s, L->maintenance_s,
                L->downtime_s, L->availability_pct, L->target_pct, L->n_outages, L->mttr_s,
                L->longest_s);
        pct(f, &L->perf.latency_ms);
        pct(f, &L->perf.loss_pct);
        pct(f, &L->perf.jitter_ms);
        fprintf(f, ",%d,%d,%d,%d,%d,%.2f,%.2f,%.2f\n", L->breach_availability, L->breach_latency,
                L->breach_loss, L->breach_jitter, L->breach_restore, L->monthly_charge,
                L->penalty_pct, L->penalty_amount);
    }
    fputs("\noutage_vendor,circuit,start,end,duration_s,counted,open,root_cause\n", f);
    for (size_t i = 0; i < r->n_links; i++) {
        const rn_report_link_t *L = &r->links[i];
        if (vendor && strcmp(vendor, L->vendor) != 0)
            continue;
        for (size_t k = 0; k < L->n_listed; k++) {
            const rn_report_outage_t *o = &L->outages[k];
            rn_csv_field(f, L->vendor);
            fputc(',', f);
            rn_csv_field(f, L->circuit);
            fputc(',', f);
            iso(f, o->start_ms);
            fputc(',', f);
            iso(f, o->end_ms);
            fprintf(f, ",%.3f,%d,%d,", o->duration_s, o->counted, o->open);
            rn_csv_field(f, o->root_cause);
            fputc('\n', f);
        }
    }
    fputs("\nvendor_total,name,links,outages,breached_links,downtime_s,charge,penalty_amount\n",
          f);
    for (size_t i = 0; i < r->n_vendors; i++) {
        const rn_report_vendor_t *v = &r->vendors[i];
        if (vendor && strcmp(vendor, v->name) != 0)
            continue;
        rn_csv_field(f, v->name);
        fputc(',', f);
        rn_csv_field(f, v->display);
        fprintf(f, ",%zu,%zu,%zu,%.3f,%.2f,%.2f\n", v->n_links, v->n_outages, v->n_breached,
                v->downtime_s, v->charge, v->penalty_amount);
    }
    if (r->n_services) /* the departments' view, beside the links (a vendor's file too) */
        fputs("\nservice,kind,host,period_s,maintenance_s,downtime_s,availability_pct,outages,"
              "longest_s\n", f);
    for (size_t i = 0; i < r->n_services; i++) {
        const rn_report_service_t *S = &r->services[i];
        rn_csv_field(f, S->name);
        fputc(',', f);
        rn_csv_field(f, S->kind);
        fputc(',', f);
        rn_csv_field(f, S->host);
        fprintf(f, ",%.3f,%.3f,%.3f,%.4f,%zu,%.3f\n", S->period_s, S->maintenance_s,
                S->downtime_s, S->availability_pct, S->n_outages, S->longest_s);
    }
    return ferror(f) ? -EIO : 0;
}
