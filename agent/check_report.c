/* The report of `rajnet-agent check` (see check_report.h): judging the tables of a finished run
 * and printing them. Everything goes through one JSON object: --json prints it, the text report
 * is read back from it, so the two cannot disagree. */
#include "check.h"
#include "check_report.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

typedef enum { V_OK, V_DEGRADED, V_DOWN } verdict_t;
static const char *const verdict_names[] = { "ok", "degraded", "down" };

/* Returns a value as a double, NAN when unknown. */
static double val(const rn_value_t *v)
{
    return v->kind == RN_VALUE_GAUGE ? v->gauge
           : v->kind == RN_VALUE_COUNTER ? (double)v->counter
                                         : NAN;
}

/* ---- judging -------------------------------------------------------------------------------- */

/* Judges a device: not answering is down. Writes a one-line detail. */
static verdict_t judge_device(const rn_check_device_t *d, char *detail, size_t len)
{
    if (d->polls == 0) {
        snprintf(detail, len, "no poll finished in time");
        return V_DOWN;
    }
    if (!d->ok) {
        snprintf(detail, len, "not answering SNMP: %s", d->why);
        return V_DOWN;
    }
    snprintf(detail, len, "%s", "");
    return V_OK;
}

/* Judges an ICMP probe against its SLA limits. Writes a one-line detail. */
static verdict_t judge_probe(const rn_check_results_t *c, const rn_check_probe_t *p, char *detail,
                             size_t len)
{
    const Rn__IcmpTarget *t = p->plan;
    double loss = val(&p->v[RN_ICMP_LOSS]), avg = val(&p->v[RN_ICMP_RTTAVG]);
    double jit = val(&p->v[RN_ICMP_JITTER]);
    if (!c->have_icmp || !p->have) {
        snprintf(detail, len, "%s", c->have_icmp ? "no probe round finished" : "no ICMP socket");
        return V_DEGRADED;
    }
    if (loss >= 100) {
        snprintf(detail, len, "100%% loss: %s unreachable", p->name);
        return V_DOWN;
    }
    if (t->has_max_loss_pct && loss > t->max_loss_pct)
        snprintf(detail, len, "loss %.0f%% over the limit %.1f%%", loss, t->max_loss_pct);
    else if (t->has_max_latency_ms && avg > t->max_latency_ms)
        snprintf(detail, len, "RTT %.1f ms over the limit %.0f ms", avg, t->max_latency_ms);
    else if (t->has_max_jitter_ms && jit > t->max_jitter_ms)
        snprintf(detail, len, "jitter %.1f ms over the limit %.0f ms", jit, t->max_jitter_ms);
    else {
        snprintf(detail, len, "%s", t->has_max_latency_ms ? "" : "no SLA limits in the plan");
        return V_OK;
    }
    return V_DEGRADED;
}

/* Judges a service probe. Writes a one-line detail. */
static verdict_t judge_service(const rn_check_results_t *c, const rn_check_service_t *s,
                               char *detail, size_t len)
{
    bool http = strcmp(s->plan->kind, "http") == 0;
    if (!c->have_svc || !s->have) {
        snprintf(detail, len, "%s",
                 c->have_svc ? "no answer in time" : "service probes unavailable");
        return V_DOWN;
    }
    double up = val(&s->v[http ? RN_HTTP_UP : RN_TCP_UP]);
    double status = http ? val(&s->v[RN_HTTP_STATUS]) : NAN;
    double days = http ? val(&s->v[RN_HTTP_CERTDAYS]) : NAN;
    snprintf(detail, len, "%s", s->why);
    if (!isnan(days) && days < 0) {
        snprintf(detail, len, "certificate expired %.0f days ago", -days);
        return V_DOWN;
    }
    if (up < 1)
        return isnan(status) ? V_DOWN : V_DEGRADED; /* an error status: the app, not the path */
    if (!isnan(days) && days < RN_CHECK_CERT_WARN_DAYS) {
        snprintf(detail, len, "certificate expires in %.1f days", days);
        return V_DEGRADED;
    }
    return V_OK;
}

/* Judges the uplink: no session is degraded (the daemon spools meanwhile). */
static verdict_t judge_uplink(const rn_check_results_t *c)
{
    return c->up_ok ? V_OK : V_DEGRADED;
}

/* Returns interface f's rate of metric m per second between its two readings, NAN if unknown.
 * Octet counters come out in bits per second. Counters that went backwards give NAN. */
static double rate(const rn_check_iface_t *f, int m)
{
    if (f->n < 2 || f->t[1] <= f->t[0] || f->v[0][m].kind != RN_VALUE_COUNTER ||
        f->v[1][m].kind != RN_VALUE_COUNTER || f->v[1][m].counter < f->v[0][m].counter)
        return NAN;
    double d = (double)(f->v[1][m].counter - f->v[0][m].counter);
    double per_s = d * 1000.0 / (double)(f->t[1] - f->t[0]);
    return m == RN_IF_IN || m == RN_IF_OUT ? per_s * 8 : per_s;
}

/* Returns an extra counter's increase per second between its two readings, NAN if unknown or
 * when it went backwards (a reboot). */
static double extra_rate(const rn_check_extra_t *e)
{
    if (!e->counter || e->n < 2 || e->t[1] <= e->t[0] || e->v[0].kind != RN_VALUE_COUNTER ||
        e->v[1].kind != RN_VALUE_COUNTER || e->v[1].counter < e->v[0].counter)
        return NAN;
    return (double)(e->v[1].counter - e->v[0].counter) * 1000.0 / (double)(e->t[1] - e->t[0]);
}

/* Returns the errors (in + out) per second of an interface, NAN if unknown. */
static double err_rate(const rn_check_iface_t *f)
{
    double a = rate(f, RN_IF_INERR), b = rate(f, RN_IF_OUTERR);
    return isnan(a) ? b : isnan(b) ? a : a + b;
}

/* Returns the name of an ifOperStatus value. */
static const char *oper_name(double v)
{
    static const char *const names[] = { "?",       "up",      "down",          "testing",
                                         "unknown", "dormant", "notPresent", "lowerLayerDown" };
    return v >= 1 && v <= 7 ? names[(int)v] : "?";
}

/* The seconds between an interface's two readings, across the devices (the first found). */
static double poll_gap_s(const rn_check_results_t *c)
{
    for (size_t i = 0; i < c->n_devs; i++)
        for (size_t k = 0; k < c->devs[i].n_ifs; k++)
            if (c->devs[i].ifs[k].n >= 2)
                return (double)(c->devs[i].ifs[k].t[1] - c->devs[i].ifs[k].t[0]) / 1000.0;
    return NAN;
}

/* ---- the report ----------------------------------------------------------------------------- */

/* Returns a JSON number, or null for NAN. */
static json_t *jnum(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 1000) / 1000);
}

/* Returns the worse of two verdicts. */
static verdict_t worst(verdict_t a, verdict_t b)
{
    return a > b ? a : b;
}

/* Adds a device and its interfaces to arr. Returns its verdict. */
static verdict_t device_json(const rn_check_device_t *d, json_t *arr)
{
    char detail[200];
    verdict_t v = judge_device(d, detail, sizeof detail);
    json_t *ifs = json_array();
    for (size_t i = 0; i < d->n_ifs; i++) {
        const rn_check_iface_t *f = &d->ifs[i];
        const rn_value_t *last = f->v[f->n > 1 ? 1 : 0];
        double speed = f->speed_bps ? (double)f->speed_bps : NAN;
        json_array_append_new(ifs, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", f->name,
                                             "oper", oper_name(val(&last[RN_IF_OPER])),
                                             "speed_bps", jnum(speed), "in_bps",
                                             jnum(rate(f, RN_IF_IN)), "out_bps",
                                             jnum(rate(f, RN_IF_OUT)), "errors_per_s",
                                             jnum(err_rate(f))));
    }
    json_t *extra = json_array(); /* value: the last reading; per_s: a counter's rate */
    for (size_t i = 0; i < d->n_extra; i++) {
        const rn_check_extra_t *e = &d->extra[i];
        json_t *value = e->n ? jnum(val(&e->v[e->n > 1 ? 1 : 0])) : json_null();
        if (e->n && e->v[e->n > 1 ? 1 : 0].kind == RN_VALUE_COUNTER) /* exact, past 2^53 too */
            json_decref(value), value = json_integer((json_int_t)e->v[e->n > 1 ? 1 : 0].counter);
        json_array_append_new(extra, json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", e->name,
                                               "oid", e->oid, "kind",
                                               e->counter ? "counter" : "gauge", "value", value,
                                               "per_s", jnum(extra_rate(e))));
    }
    double uptime = d->uptime_cs >= 0 ? (double)d->uptime_cs / 100.0 : NAN;
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:s, s:o, s:o}", "name", d->name, "addr",
                          d->addr, "status", verdict_names[v], "reachable", d->ok, "sys_name",
                          d->sys_name, "uptime_s", jnum(uptime), "detail", detail, "interfaces",
                          ifs, "extra", extra);
    /* an agentless child's device, polled across the link: its node, null for our own */
    json_object_set_new(o, "node", d->node ? json_string(d->node) : json_null());
    json_array_append_new(arr, o);
    return v;
}

/* Adds an ICMP probe to arr. Returns its verdict. */
static verdict_t probe_json(const rn_check_results_t *c, const rn_check_probe_t *p, json_t *arr)
{
    char detail[200];
    verdict_t v = judge_probe(c, p, detail, sizeof detail);
    const Rn__IcmpTarget *t = p->plan;
    json_t *lim = json_pack("{s:o, s:o, s:o}", "max_latency_ms",
                            jnum(t->has_max_latency_ms ? t->max_latency_ms : NAN), "max_loss_pct",
                            jnum(t->has_max_loss_pct ? t->max_loss_pct : NAN), "max_jitter_ms",
                            jnum(t->has_max_jitter_ms ? t->max_jitter_ms : NAN));
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "target",
                       p->name, "addr", p->addr, "status", verdict_names[v], "rtt_min_ms",
                       jnum(val(&p->v[RN_ICMP_RTTMIN])), "rtt_avg_ms",
                       jnum(val(&p->v[RN_ICMP_RTTAVG])), "rtt_max_ms",
                       jnum(val(&p->v[RN_ICMP_RTTMAX])), "jitter_ms",
                       jnum(val(&p->v[RN_ICMP_JITTER])), "loss_pct", jnum(val(&p->v[RN_ICMP_LOSS])),
                       "sent", jnum(val(&p->v[RN_ICMP_SENT])), "limits", lim, "detail", detail));
    /* up the tree (parent, root) or down it (a child node: IcmpTarget.child) */
    json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "direction",
                        json_string(t->has_child && t->child ? "down" : "up"));
    return v;
}

/* Adds a UDP echo peer to arr. Returns its verdict: degraded when nothing came back (the peer's
 * agent does not answer, or the path is down: the ICMP probes tell which). */
static verdict_t echo_json(const rn_check_echo_t *e, json_t *arr)
{
    const rn_value_t *v = e->v;
    double recv = e->have ? val(&v[RN_UDPECHO_RECV]) : NAN;
    verdict_t verdict = recv > 0 ? V_OK : V_DEGRADED;
    const char *detail = !e->have ? "no round finished" : recv > 0 ? "" : "no reply";
    json_array_append_new(
        arr, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "peer",
                       e->name, "addr", e->addr, "status", verdict_names[verdict], "rtt_ms",
                       jnum(val(&v[RN_UDPECHO_RTT])), "fwd_loss_pct",
                       jnum(val(&v[RN_UDPECHO_FWD_LOSS])), "bwd_loss_pct",
                       jnum(val(&v[RN_UDPECHO_BWD_LOSS])), "fwd_jitter_ms",
                       jnum(val(&v[RN_UDPECHO_FWD_JITTER])), "bwd_jitter_ms",
                       jnum(val(&v[RN_UDPECHO_BWD_JITTER])), "reordered",
                       jnum(val(&v[RN_UDPECHO_REORDERED])), "duplicates",
                       jnum(val(&v[RN_UDPECHO_DUPLICATES])), "sent",
                       jnum(val(&v[RN_UDPECHO_SENT])), "detail", detail));
    return verdict;
}

/* Adds a service probe to arr. Returns its verdict. */
static verdict_t service_json(const rn_check_results_t *c, const rn_check_service_t *s, json_t *arr)
{
    char detail[200], where[300];
    verdict_t v = judge_service(c, s, detail, sizeof detail);
    const Rn__ServiceTarget *t = s->plan;
    bool http = strcmp(t->kind, "http") == 0;
    if (http)
        snprintf(where, sizeof where, "%s", t->url);
    else
        snprintf(where, sizeof where, "%s:%u", t->addr, t->port);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "service", t->name, "object",
                          t->object, "kind", t->kind, "target", where, "status", verdict_names[v],
                          "detail", detail);
    if (http) {
        json_object_set_new(o, "http_status", jnum(val(&s->v[RN_HTTP_STATUS])));
        json_object_set_new(o, "ttfb_ms", jnum(val(&s->v[RN_HTTP_TTFB])));
        json_object_set_new(o, "total_ms", jnum(val(&s->v[RN_HTTP_TOTAL])));
        json_object_set_new(o, "cert_days", jnum(val(&s->v[RN_HTTP_CERTDAYS])));
    } else {
        json_object_set_new(o, "connect_ms", jnum(val(&s->v[RN_TCP_CONNECT])));
    }
    json_array_append_new(arr, o);
    return v;
}

/* Builds the whole report; *overall gets the worst verdict. Returns a new JSON object. */
static json_t *report_json(const rn_check_results_t *c, verdict_t *overall)
{
    json_t *devs = json_array(), *probes = json_array(), *svcs = json_array();
    verdict_t all = c->measuring ? V_OK : V_DOWN;
    for (size_t i = 0; i < c->n_devs; i++)
        all = worst(all, device_json(&c->devs[i], devs));
    for (size_t i = 0; i < c->n_probes; i++)
        all = worst(all, probe_json(c, &c->probes[i], probes));
    for (size_t i = 0; i < c->n_svcs; i++)
        all = worst(all, service_json(c, &c->svcs[i], svcs));
    json_t *echoes = json_array(); /* UDP echo */
    for (size_t i = 0; i < c->n_echoes; i++)
        all = worst(all, echo_json(&c->echoes[i], echoes));
    verdict_t up = judge_uplink(c);
    all = worst(all, up);
    json_t *coll = json_array();
    for (size_t i = 0; i < c->config->n_collectors; i++)
        json_array_append_new(coll, json_sprintf("%s:%u", c->config->collectors[i].host,
                                                 c->config->collectors[i].port));
    json_t *uplink = json_pack("{s:s, s:o, s:o, s:s}", "status", verdict_names[up], "collectors",
                               coll, "connect_ms", jnum(c->up_ok ? c->up_ms : NAN), "detail",
                               c->up_why);
    json_t *plan = c->plan_digest ? json_pack("{s:s, s:s}", "digest", c->plan_digest,
                                             "source", c->plan_source)
                                 : json_null();
    *overall = all;
    return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "node",
                     c->config->node_id, "status", verdict_names[all], "exit", (int)all, "plan",
                     plan, "poll_gap_s", jnum(poll_gap_s(c)), "uplink", uplink, "devices", devs,
                     "probes", probes, "services", svcs, "udp_echo", echoes);
}

/* Formats a JSON number with a unit into buf, "-" for null. Returns buf. */
static const char *fmt(char *buf, size_t len, json_t *o, const char *key, const char *f)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, f, json_number_value(v));
    return buf;
}

/* Formats a rate in bits per second with an SI prefix into buf. Returns buf. */
static const char *fmt_bps(char *buf, size_t len, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    double x = json_number_value(v);
    if (!json_is_number(v))
        snprintf(buf, len, "-");
    else if (x >= 1e9)
        snprintf(buf, len, "%.1f Gb/s", x / 1e9);
    else if (x >= 1e6)
        snprintf(buf, len, "%.1f Mb/s", x / 1e6);
    else if (x >= 1e3)
        snprintf(buf, len, "%.1f kb/s", x / 1e3);
    else
        snprintf(buf, len, "%.0f b/s", x);
    return buf;
}

/* Returns a string member of o, "" if absent. */
static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Prints a device's extra OIDs as text, if it has any: the last value, and a counter's rate. */
static void text_extra(json_t *d, FILE *out)
{
    size_t k;
    json_t *x, *extra = json_object_get(d, "extra");
    char v[40], r[32], both[80];
    if (json_array_size(extra) == 0)
        return;
    fprintf(out, "  %-16s %-8s %-24s %s\n", "EXTRA", "KIND", "VALUE", "OID");
    json_array_foreach(extra, k, x) {
        if (json_is_integer(json_object_get(x, "value")))
            snprintf(v, sizeof v, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(x, "value")));
        else
            fmt(v, sizeof v, x, "value", "%g");
        if (json_is_number(json_object_get(x, "per_s")))
            snprintf(both, sizeof both, "%s (%s)", v, fmt(r, sizeof r, x, "per_s", "%.1f/s"));
        else
            snprintf(both, sizeof both, "%s", v);
        fprintf(out, "  %-16s %-8s %-24s %s\n", str(x, "name"), str(x, "kind"), both,
                str(x, "oid"));
    }
}

/* Prints the devices and their interfaces as text. */
static void text_devices(json_t *r, FILE *out)
{
    size_t i, k;
    json_t *d, *f;
    char a[32], b[32], e[32], sp[32], up[48];
    json_array_foreach(json_object_get(r, "devices"), i, d) {
        double u = json_number_value(json_object_get(d, "uptime_s"));
        if (json_is_number(json_object_get(d, "uptime_s")))
            snprintf(up, sizeof up, "%dd %02d:%02d:%02d", (int)(u / 86400), (int)u % 86400 / 3600,
                     (int)u % 3600 / 60, (int)u % 60);
        else
            snprintf(up, sizeof up, "-");
        if (json_is_string(json_object_get(d, "node"))) /* polled for an agentless child */
            fprintf(out, "\nDEVICE %s of %s, agentless child (%s): %s%s%s\n", str(d, "name"),
                    str(d, "node"), str(d, "addr"), str(d, "status"),
                    *str(d, "detail") ? ", " : "", str(d, "detail"));
        else
            fprintf(out, "\nDEVICE %s (%s): %s%s%s\n", str(d, "name"), str(d, "addr"),
                    str(d, "status"), *str(d, "detail") ? ", " : "", str(d, "detail"));
        if (!json_is_true(json_object_get(d, "reachable")))
            continue;
        fprintf(out, "  sysName %s, uptime %s\n", *str(d, "sys_name") ? str(d, "sys_name") : "-",
                up);
        fprintf(out, "  %-16s %-8s %-11s %-12s %-12s %s\n", "INTERFACE", "STATUS", "SPEED", "IN",
                "OUT", "ERRORS");
        json_array_foreach(json_object_get(d, "interfaces"), k, f)
            fprintf(out, "  %-16s %-8s %-11s %-12s %-12s %s\n", str(f, "name"), str(f, "oper"),
                    fmt_bps(sp, sizeof sp, f, "speed_bps"), fmt_bps(a, sizeof a, f, "in_bps"),
                    fmt_bps(b, sizeof b, f, "out_bps"),
                    fmt(e, sizeof e, f, "errors_per_s", "%.1f/s"));
        text_extra(d, out);
    }
}

/* Prints the probes of one direction ("up": parent and root; "down": child nodes) as text. */
static void text_probe_rows(json_t *r, const char *direction, FILE *out)
{
    size_t i;
    json_t *p, *l;
    char avg[24], mx[24], loss[24], jit[24], ml[24], mlo[24], mj[24], x[64];
    json_array_foreach(json_object_get(r, "probes"), i, p) {
        if (strcmp(str(p, "direction"), direction) != 0)
            continue;
        l = json_object_get(p, "limits");
        snprintf(x, sizeof x, "%s/%s/%s", fmt(ml, sizeof ml, l, "max_latency_ms", "%.0fms"),
                 fmt(mlo, sizeof mlo, l, "max_loss_pct", "%.1f%%"),
                 fmt(mj, sizeof mj, l, "max_jitter_ms", "%.0fms"));
        fprintf(out, "  %-16s %-15s %-9s %-9s %-6s %-8s %-22s %s%s%s\n", str(p, "target"),
                str(p, "addr"), fmt(avg, sizeof avg, p, "rtt_avg_ms", "%.1fms"),
                fmt(mx, sizeof mx, p, "rtt_max_ms", "%.1fms"),
                fmt(loss, sizeof loss, p, "loss_pct", "%.0f%%"),
                fmt(jit, sizeof jit, p, "jitter_ms", "%.1fms"), x, str(p, "status"),
                *str(p, "detail") ? ": " : "", str(p, "detail"));
    }
}

/* Prints the probes (up the tree, then down it when the plan has child targets) and the
 * services as text. */
static void text_probes(json_t *r, FILE *out)
{
    size_t i, down = 0;
    json_t *p;
    char avg[24], mx[24], x[64], y[24];
    fprintf(out, "\nPROBES (ICMP, limits from the SLA class of the path)\n");
    fprintf(out, "  %-16s %-15s %-9s %-9s %-6s %-8s %-22s %s\n", "TARGET", "ADDR", "RTT AVG",
            "RTT MAX", "LOSS", "JITTER", "LIMITS RTT/LOSS/JIT", "VERDICT");
    text_probe_rows(r, "up", out);
    json_array_foreach(json_object_get(r, "probes"), i, p)
        down += strcmp(str(p, "direction"), "down") == 0;
    if (down) {
        fprintf(out, "\nPROBES DOWN (ICMP to child nodes: limits from the child's uplink)\n");
        text_probe_rows(r, "down", out);
    }
    fprintf(out, "\nSERVICES\n  %-16s %-34s %-30s %s\n", "SERVICE", "TARGET", "RESULT", "VERDICT");
    json_array_foreach(json_object_get(r, "services"), i, p) {
        if (strcmp(str(p, "kind"), "http") == 0)
            snprintf(x, sizeof x, "HTTP %s, ttfb %s, cert %s",
                     fmt(avg, sizeof avg, p, "http_status", "%.0f"),
                     fmt(mx, sizeof mx, p, "ttfb_ms", "%.1fms"),
                     fmt(y, sizeof y, p, "cert_days", "%.0fd"));
        else
            snprintf(x, sizeof x, "connect %s", fmt(avg, sizeof avg, p, "connect_ms", "%.1fms"));
        fprintf(out, "  %-16s %-34s %-30s %s%s%s\n", str(p, "object"), str(p, "target"), x,
                str(p, "status"), *str(p, "detail") ? ": " : "", str(p, "detail"));
    }
}

/* Prints the UDP echo peers as text (nothing when the plan has none). */
static void text_echo(json_t *r, FILE *out)
{
    size_t i;
    json_t *e;
    char rtt[24], fl[24], bl[24], fj[24], bj[24], ro[24], dup[24];
    if (json_array_size(json_object_get(r, "udp_echo")) == 0)
        return;
    fprintf(out, "\nUDP ECHO (with peer agents; forward = from this node)\n");
    fprintf(out, "  %-16s %-15s %-9s %-9s %-9s %-9s %-9s %-9s %-5s %s\n", "PEER", "ADDR", "RTT",
            "LOSS FWD", "LOSS BWD", "JIT FWD", "JIT BWD", "REORDER", "DUP", "VERDICT");
    json_array_foreach(json_object_get(r, "udp_echo"), i, e)
        fprintf(out, "  %-16s %-15s %-9s %-9s %-9s %-9s %-9s %-9s %-5s %s%s%s\n", str(e, "peer"),
                str(e, "addr"), fmt(rtt, sizeof rtt, e, "rtt_ms", "%.1fms"),
                fmt(fl, sizeof fl, e, "fwd_loss_pct", "%.0f%%"),
                fmt(bl, sizeof bl, e, "bwd_loss_pct", "%.0f%%"),
                fmt(fj, sizeof fj, e, "fwd_jitter_ms", "%.1fms"),
                fmt(bj, sizeof bj, e, "bwd_jitter_ms", "%.1fms"),
                fmt(ro, sizeof ro, e, "reordered", "%.0f"), fmt(dup, sizeof dup, e, "duplicates",
                                                                 "%.0f"),
                str(e, "status"), *str(e, "detail") ? ": " : "", str(e, "detail"));
}

/* Prints the report as text. */
static void report_text(json_t *r, FILE *out)
{
    char gap[32], ms[32];
    json_t *plan = json_object_get(r, "plan"), *up = json_object_get(r, "uplink");
    fprintf(out, "rajnet-agent check: node %s, plan %.12s (%s)\n", str(r, "node"),
            json_is_object(plan) ? str(plan, "digest") : "-",
            json_is_object(plan) ? str(plan, "source") : "none");
    fprintf(out, "rates: from two SNMP polls %s s apart\n",
            fmt(gap, sizeof gap, r, "poll_gap_s", "%.1f"));
    size_t i;
    json_t *h;
    fprintf(out, "\nUPLINK to");
    json_array_foreach(json_object_get(up, "collectors"), i, h)
        fprintf(out, "%s %s", i ? "," : "", json_string_value(h));
    fprintf(out, ": %s", str(up, "status"));
    if (json_is_number(json_object_get(up, "connect_ms")))
        fprintf(out, " (mutual TLS session in %s)\n",
                fmt(ms, sizeof ms, up, "connect_ms", "%.0f ms"));
    else
        fprintf(out, ": %s\n", str(up, "detail"));
    text_devices(r, out);
    text_probes(r, out);
    text_echo(r, out); /* UDP echo */
    fprintf(out, "\nRESULT: %s (exit %d)\n", strcmp(str(r, "status"), "ok") == 0 ? "healthy"
                                                                               : str(r, "status"),
            (int)json_integer_value(json_object_get(r, "exit")));
}

int rn_check_report(const rn_check_results_t *c, bool as_json, FILE *out)
{
    verdict_t all;
    json_t *r = report_json(c, &all);
    if (!r) {
        fprintf(stderr, "rajnet-agent check: out of memory\n");
        return RN_CHECK_DOWN;
    }
    if (as_json) {
        json_dumpf(r, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
    } else {
        report_text(r, out);
    }
    json_decref(r);
    return (int)all;
}

