/* rajnetctl: the operator's command line over the collector's HTTP API (docs/api.md).
 *
 *   rajnetctl [--url URL] [--token TOKEN] [--json] COMMAND ...
 *     status                          collector and node summary, nodes not up
 *     nodes                           every node with its status and uplinks
 *     alarms [--all] [--limit N]      active (or recent) alarms, roots with their symptoms
 *     ack ID [--comment TEXT]         acknowledge an alarm (operator token)
 *     comment ID TEXT                 add a note to an alarm (operator token)
 *     maintenance list
 *     maintenance add ENTITY --start T --end T [--reason TEXT]   (T: now, +2h, -30m, Unix ms)
 *     maintenance delete ID
 *     graph NODE --source if|icmp|rtp|tcphs|tcp|http [--device D] --object O [--from -3600]
 *           [--to now] [--format png|svg] [--view V] [-o FILE]   saves the image; views by
 *           source (first is the default): if traffic, icmp rtt|jitter, rtp mos|loss|jitter,
 *           tcphs handshake, tcp connect, http ttfb; --device only (and always) for if
 *     report --month YYYY-MM | --from T --to T [--vendor V] [--format csv|html|pdf|json]
 *           [-o FILE | --dir DIR]   SLA report; CSV without --vendor: one file per vendor
 *     report --deliver --month YYYY-MM   the monthly reports again, to the delivery hooks
 *           (operator token)
 *
 * URL defaults to $RAJNET_URL or http://127.0.0.1:8080, TOKEN to $RAJNET_TOKEN. --json prints the
 * API's answer as is. Exit codes: 0 ok, 1 the API refused or failed (its reason is printed), 2
 * usage. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *data;
    size_t len;
} buf_t;

static const char *base_url, *token;
static bool as_json;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    buf_t *b = ud;
    size_t k = size * n;
    char *d = realloc(b->data, b->len + k + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, k);
    b->data = d;
    b->len += k;
    d[b->len] = '\0';
    return k;
}

/* A whole-state HTML or PDF report draws two graphs per link (hundreds of links): minutes, not
 * seconds; every other request is answered at once. */
static long request_timeout_s = 30;

/* Performs one request; returns the HTTP status (or -1 when there is no answer), body in *out. */
static long request(const char *method, const char *path, const char *body, buf_t *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[4096], auth[1024];
    long status = -1;
    memset(out, 0, sizeof *out);
    if (!c)
        return -1;
    snprintf(url, sizeof url, "%s%s", base_url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, request_timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "rajnetctl: %s: %s\n", url, curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* Requests a JSON answer; prints the API's reason and returns NULL on failure. */
static json_t *call(const char *method, const char *path, json_t *body, long *status_out)
{
    char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
    buf_t out;
    long st = request(method, path, b, &out);
    free(b);
    if (status_out)
        *status_out = st;
    if (st < 0) {
        free(out.data);
        return NULL;
    }
    json_t *j = out.len ? json_loadb(out.data, out.len, 0, NULL) : json_object();
    if (st >= 400) {
        const char *why = json_string_value(json_object_get(j, "error"));
        fprintf(stderr, "rajnetctl: %s %s: %ld: %s\n", method, path, st,
                why ? why : (out.data ? out.data : ""));
        json_decref(j);
        j = NULL;
    } else if (!j) {
        fprintf(stderr, "rajnetctl: %s %s: the answer is not JSON\n", method, path);
    }
    free(out.data);
    return j;
}

static int print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));
    puts(s ? s : "null");
    free(s);
    json_decref(j);
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static void fmt_time(json_t *v, char *buf, size_t len)
{
    if (!json_is_integer(v)) {
        snprintf(buf, len, "-");
        return;
    }
    time_t t = (time_t)(json_integer_value(v) / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void url_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 4 < len; in++) {
        unsigned char ch = (unsigned char)*in;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch))
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, len - o, "%%%02X", ch);
    }
    out[o] = '\0';
}

static int usage(void)
{
    fprintf(stderr,
            "usage: rajnetctl [--url URL] [--token TOKEN] [--json] COMMAND\n"
            "  status | nodes | alarms [--all] [--limit N]\n"
            "  ack ID [--comment TEXT] | comment ID TEXT\n"
            "  maintenance list | maintenance add ENTITY --start T --end T [--reason TEXT]\n"
            "  maintenance delete ID\n"
            "  graph NODE --source if|icmp|rtp|tcphs|tcp|http [--device D] --object O\n"
            "        [--from -3600] [--to now] [--format png|svg] [--view V] [-o FILE]\n"
            "        views (first is the default): if: traffic; icmp: rtt, jitter;\n"
            "        rtp: mos, loss, jitter; tcphs: handshake; tcp: connect; http: ttfb.\n"
            "        --device only, and always, with --source if\n"
            "  report --month YYYY-MM | --from T --to T [--vendor V]\n"
            "        [--format csv|html|pdf|json] [-o FILE | --dir DIR]   SLA report\n"
            "  report --deliver --month YYYY-MM   monthly reports again, to the delivery hooks\n"
            "  assets [district=D] [node=N] [department=X] [amc_vendor=V] [expiring_within=DAYS]\n"
            "         [discrepancy=1|0]   the asset register (docs/api.md)\n"
            "URL: $RAJNET_URL or http://127.0.0.1:8080; TOKEN: $RAJNET_TOKEN\n");
    return 2;
}

/* ---------------------------------------------------------------- commands */

static int cmd_status(void)
{
    json_t *st = call("GET", "/api/v1/status", NULL, NULL);
    json_t *nodes = st ? call("GET", "/api/v1/nodes", NULL, NULL) : NULL;
    if (!st || !nodes)
        return json_decref(st), 1;
    if (as_json) {
        json_object_set_new(st, "nodes_detail", json_object_get(nodes, "nodes")
                                                    ? json_incref(json_object_get(nodes, "nodes"))
                                                    : json_array());
        json_decref(nodes);
        return print_json(st);
    }
    json_t *n = json_object_get(st, "nodes");
    char started[32];
    fmt_time(json_object_get(st, "started_ms"), started, sizeof started);
    printf("collector %s, started %s, %lld agents connected, %.1f samples/s, %lld alarms active\n",
           jstr(st, "version"), started,
           (long long)json_integer_value(json_object_get(st, "agents_connected")),
           json_real_value(json_object_get(st, "samples_per_s")),
           (long long)json_integer_value(json_object_get(st, "alarms_active")));
    printf("nodes: %lld total, %lld up, %lld down, %lld degraded, %lld silent, %lld unknown\n\n",
           (long long)json_integer_value(json_object_get(n, "total")),
           (long long)json_integer_value(json_object_get(n, "up")),
           (long long)json_integer_value(json_object_get(n, "down")),
           (long long)json_integer_value(json_object_get(n, "degraded")),
           (long long)json_integer_value(json_object_get(n, "silent")),
           (long long)json_integer_value(json_object_get(n, "unknown")));
    printf("%-28s %-9s %-9s %-10s %s\n", "NODE", "TIER", "STATUS", "AGENT", "UNREACHABLE");
    size_t i;
    json_t *node;
    json_array_foreach(json_object_get(nodes, "nodes"), i, node) {
        char lost[256] = "";
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(node, "reaches"), k, v)
            if (json_is_false(v))
                snprintf(lost + strlen(lost), sizeof lost - strlen(lost), "%s%s", *lost ? "," : "", k);
        printf("%-28s %-9s %-9s %-10s %s\n", jstr(node, "id"), jstr(node, "tier"),
               jstr(node, "status"),
               json_is_true(json_object_get(node, "connected")) ? "connected" : "-",
               *lost ? lost : "-");
    }
    json_decref(st);
    json_decref(nodes);
    return 0;
}

static int cmd_nodes(void)
{
    json_t *nodes = call("GET", "/api/v1/nodes", NULL, NULL);
    if (!nodes)
        return 1;
    if (as_json)
        return print_json(nodes);
    printf("%-28s %-9s %-9s %-20s %-10s %s\n", "NODE", "TIER", "STATUS", "UPLINK", "VENDOR", "LINK");
    size_t i, k;
    json_t *n, *l;
    json_array_foreach(json_object_get(nodes, "nodes"), i, n) {
        json_t *ups = json_object_get(n, "uplinks");
        if (!json_array_size(ups))
            printf("%-28s %-9s %-9s %-20s %-10s %s\n", jstr(n, "id"), jstr(n, "tier"),
                   jstr(n, "status"), "-", "-", "-");
        json_array_foreach(ups, k, l)
            printf("%-28s %-9s %-9s %-20s %-10s %s\n", k ? "" : jstr(n, "id"),
                   k ? "" : jstr(n, "tier"), k ? "" : jstr(n, "status"), jstr(l, "circuit"),
                   jstr(l, "vendor_name"), jstr(l, "status"));
    }
    json_decref(nodes);
    return 0;
}

/* rajnetctl assets [key=value ...]: GET /api/v1/assets with those filters, as a table. Returns
 * the exit status. */
static int cmd_assets(int argc, char **argv)
{
    char path[2048] = "/api/v1/assets";
    size_t n = strlen(path);
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i])
            return usage();
        char *v = curl_easy_escape(NULL, eq + 1, 0);
        if (!v)
            return 1;
        n += (size_t)snprintf(path + n, n < sizeof path ? sizeof path - n : 0, "%c%.*s=%s",
                              i == 1 ? '?' : '&', (int)(eq - argv[i]), argv[i], v);
        curl_free(v);
        if (n >= sizeof path)
            return usage();
    }
    json_t *j = call("GET", path, NULL, NULL);
    if (!j)
        return 1;
    if (as_json)
        return print_json(j);
    printf("%-24s %-12s %-18s %-14s %-12s %-20s %-10s %s\n", "NODE", "DEVICE", "MODEL", "SERIAL",
           "DEPARTMENT", "AMC VENDOR", "AMC END", "DISCREPANCY");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "assets"), i, a) {
        json_t *e = json_object_get(a, "entry");
        printf("%-24s %-12s %-18s %-14s %-12s %-20s %-10s %s\n", jstr(a, "node"), jstr(a, "device"),
               jstr(a, "model"), jstr(a, "serial"), json_is_object(e) ? jstr(e, "department") : "-",
               json_is_object(e) ? jstr(e, "amc_vendor") : "-",
               json_is_object(e) ? jstr(e, "amc_end") : "-", jstr(a, "discrepancy"));
    }
    json_array_foreach(json_object_get(j, "alarms"), i, a)
        printf("alarm %lld %s: %s\n", (long long)json_integer_value(json_object_get(a, "id")),
               jstr(a, "type"), jstr(a, "text"));
    json_decref(j);
    return 0;
}

static void alarm_row(json_t *a, bool symptom)
{
    char raised[32];
    fmt_time(json_object_get(a, "raised_ms"), raised, sizeof raised);
    json_t *cl = json_object_get(a, "cleared_ms");
    printf("%s%-6lld S%lld %-19s %-9s %-14s %-20s %s\n", symptom ? "  └ " : "",
           (long long)json_integer_value(json_object_get(a, "id")),
           (long long)json_integer_value(json_object_get(a, "severity")), jstr(a, "type"),
           json_is_integer(cl) ? "cleared" : "active", jstr(a, "acked_by"), raised,
           jstr(a, "text"));
    if (!symptom && json_array_size(json_object_get(a, "impact_nodes"))) {
        char *in = json_dumps(json_object_get(a, "impact_nodes"), JSON_COMPACT);
        char *is = json_dumps(json_object_get(a, "impact_services"), JSON_COMPACT);
        printf("       impact: offices %s lose %s\n", in ? in : "", is ? is : "");
        free(in);
        free(is);
    }
}

static int cmd_alarms(int argc, char **argv)
{
    bool all = false;
    long limit = 100;
    static const struct option o[] = { { "all", no_argument, NULL, 'a' },
                                       { "limit", required_argument, NULL, 'l' },
                                       { NULL, 0, NULL, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "al:", o, NULL)) != -1)
        if (c == 'a')
            all = true;
        else if (c == 'l')
            limit = strtol(optarg, NULL, 10);
        else
            return usage();
    char path[128];
    snprintf(path, sizeof path, "/api/v1/alarms?state=%s&limit=%ld", all ? "all" : "active", limit);
    json_t *j = call("GET", path, NULL, NULL);
    if (!j)
        return 1;
    if (as_json)
        return print_json(j);
    json_t *alarms = json_object_get(j, "alarms");
    if (!json_array_size(alarms))
        printf("no %salarms\n", all ? "" : "active ");
    else
        printf("%-6s %-3s %-19s %-9s %-14s %-20s %s\n", "ID", "SEV", "TYPE", "STATE", "ACKED BY",
               "RAISED", "TEXT");
    size_t i, k;
    json_t *a, *s;
    json_array_foreach(alarms, i, a) {
        alarm_row(a, false);
        json_array_foreach(json_object_get(a, "symptoms"), k, s)
            alarm_row(s, true);
    }
    json_decref(j);
    return 0;
}

static int cmd_ack(int argc, char **argv, bool is_comment)
{
    const char *comment = NULL;
    static const struct option o[] = { { "comment", required_argument, NULL, 'c' },
                                       { NULL, 0, NULL, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:", o, NULL)) != -1)
        if (c == 'c')
            comment = optarg;
        else
            return usage();
    if (optind >= argc)
        return usage();
    const char *id = argv[optind];
    if (is_comment) {
        if (optind + 1 >= argc)
            return usage();
        comment = argv[optind + 1];
    }
    char path[128];
    snprintf(path, sizeof path, "/api/v1/alarms/%s/%s", id, is_comment ? "comment" : "ack");
    json_t *body = json_pack("{s:s}", "comment", comment ? comment : "");
    json_t *j = call("POST", path, body, NULL);
    json_decref(body);
    if (!j)
        return 1;
    if (as_json)
        return print_json(j);
    if (is_comment)
        printf("alarm %s: comment added\n", id);
    else
        printf("alarm %s acknowledged by %s: %s\n", id, jstr(j, "acked_by"), jstr(j, "text"));
    json_decref(j);
    return 0;
}

/* now, +N / -N with s, m, h, d (default s), or Unix ms. */
static int parse_when(const char *s, long long *ms)
{
    long long now = (long long)time(NULL) * 1000;
    char *end;
    if (!strcmp(s, "now")) {
        *ms = now;
        return 0;
    }
    if (*s == '+' || *s == '-') {
        long long v = strtoll(s + 1, &end, 10);
        long long mult = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 1;
        if (end == s + 1 || (*end && end[1]) || (*end && !strchr("smhd", *end)))
            return -EINVAL;
        *ms = now + (*s == '-' ? -1 : 1) * v * mult * 1000;
        return 0;
    }
    *ms = strtoll(s, &end, 10);
    return end == s || *end ? -EINVAL : 0;
}

static int cmd_maintenance(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *sub = argv[1];
    if (!strcmp(sub, "list")) {
        json_t *j = call("GET", "/api/v1/maintenance", NULL, NULL);
        if (!j)
            return 1;
        if (as_json)
            return print_json(j);
        printf("%-5s %-22s %-20s %-20s %-12s %s\n", "ID", "ENTITY", "START", "END", "BY", "REASON");
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(j, "maintenance"), i, m) {
            char a[32], b[32];
            fmt_time(json_object_get(m, "start_ms"), a, sizeof a);
            fmt_time(json_object_get(m, "end_ms"), b, sizeof b);
            printf("%-5lld %-22s %-20s %-20s %-12s %s\n",
                   (long long)json_integer_value(json_object_get(m, "id")), jstr(m, "entity"), a, b,
                   jstr(m, "created_by"), jstr(m, "reason"));
        }
        json_decref(j);
        return 0;
    }
    if (!strcmp(sub, "delete") && argc == 3) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/maintenance/%s", argv[2]);
        json_t *j = call("DELETE", path, NULL, NULL);
        if (!j)
            return 1;
        if (as_json)
            return print_json(j);
        printf("maintenance window %s deleted\n", argv[2]);
        json_decref(j);
        return 0;
    }
    if (strcmp(sub, "add") != 0)
        return usage();
    const char *start = NULL, *end = NULL, *reason = NULL;
    static const struct option o[] = { { "start", required_argument, NULL, 's' },
                                       { "end", required_argument, NULL, 'e' },
                                       { "reason", required_argument, NULL, 'r' },
                                       { NULL, 0, NULL, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "s:e:r:", o, NULL)) != -1)
        if (c == 's')
            start = optarg;
        else if (c == 'e')
            end = optarg;
        else if (c == 'r')
            reason = optarg;
        else
            return usage();
    long long s_ms, e_ms;
    int sub_argc = argc - 1; /* argv + 1: "add" ENTITY, options permuted to the front */
    if (optind + 1 != sub_argc || !start || !end)
        return usage();
    const char *entity = argv[1 + optind];
    if (parse_when(start, &s_ms) || parse_when(end, &e_ms)) {
        fprintf(stderr, "rajnetctl: --start/--end: use now, +2h, -30m or Unix ms\n");
        return 2;
    }
    json_t *body = json_pack("{s:s, s:I, s:I}", "entity", entity,
                             "start_ms", (json_int_t)s_ms, "end_ms", (json_int_t)e_ms);
    if (reason)
        json_object_set_new(body, "reason", json_string(reason));
    json_t *j = call("POST", "/api/v1/maintenance", body, NULL);
    json_decref(body);
    if (!j)
        return 1;
    if (as_json)
        return print_json(j);
    printf("maintenance window %lld on %s added\n", (long long)json_integer_value(json_object_get(j, "id")),
           jstr(j, "entity"));
    json_decref(j);
    return 0;
}

static int cmd_graph(int argc, char **argv)
{
    const char *source = NULL, *device = NULL, *object = NULL, *from = "-3600", *to = "now";
    const char *format = "png", *view = NULL, *outfile = NULL;
    static const struct option o[] = {
        { "source", required_argument, NULL, 's' }, { "device", required_argument, NULL, 'd' },
        { "object", required_argument, NULL, 'O' }, { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },     { "format", required_argument, NULL, 'F' },
        { "view", required_argument, NULL, 'v' },   { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:d:O:f:t:F:v:o:", o, NULL)) != -1)
        switch (c) {
        case 's': source = optarg; break;
        case 'd': device = optarg; break;
        case 'O': object = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'F': format = optarg; break;
        case 'v': view = optarg; break;
        case 'o': outfile = optarg; break;
        default: return usage();
        }
    if (optind + 1 != argc || !source || !object)
        return usage();
    char path[2048], e[6][512];
    url_escape(argv[optind], e[0], sizeof e[0]);
    url_escape(source, e[1], sizeof e[1]);
    url_escape(object, e[2], sizeof e[2]);
    url_escape(from, e[3], sizeof e[3]);
    url_escape(to, e[4], sizeof e[4]);
    url_escape(device ? device : "", e[5], sizeof e[5]);
    snprintf(path, sizeof path, "/api/v1/graph?node=%s&source=%s&object=%s&from=%s&to=%s&format=%s%s%s%s%s",
             e[0], e[1], e[2], e[3], e[4], format, device ? "&device=" : "", device ? e[5] : "",
             view ? "&view=" : "", view ? view : "");
    buf_t out;
    long st = request("GET", path, NULL, &out);
    if (st != 200) {
        json_t *j = out.len ? json_loadb(out.data, out.len, 0, NULL) : NULL;
        if (st > 0)
            fprintf(stderr, "rajnetctl: graph: %ld: %s\n", st, j ? jstr(j, "error") : "");
        json_decref(j);
        free(out.data);
        return 1;
    }
    char name[1024];
    if (!outfile) {
        snprintf(name, sizeof name, "%s-%s%s%s-%s.%s", argv[optind], source, device ? "-" : "",
                 device ? device : "", object, format);
        for (char *p = name; *p; p++)
            if (*p == '/' || *p == ' ')
                *p = '_';
        outfile = name;
    }
    FILE *f = fopen(outfile, "wb");
    if (!f || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
        fprintf(stderr, "rajnetctl: %s: %s\n", outfile, strerror(errno));
        free(out.data);
        return 1;
    }
    if (as_json)
        printf("{\"file\": \"%s\", \"bytes\": %zu, \"format\": \"%s\"}\n", outfile, out.len, format);
    else
        printf("saved %s (%zu bytes)\n", outfile, out.len);
    free(out.data);
    return 0;
}

/* ---------------------------------------------------------------- report (SLA reports) */

/* Fetches one report and saves it to path. Returns 0 or 1. */
static int fetch_report(const char *query, const char *path)
{
    char url[2048];
    snprintf(url, sizeof url, "/api/v1/report?%s", query);
    buf_t out;
    request_timeout_s = 600;
    long st = request("GET", url, NULL, &out);
    if (st != 200) {
        json_t *j = out.len ? json_loadb(out.data, out.len, 0, NULL) : NULL;
        if (st > 0)
            fprintf(stderr, "rajnetctl: report: %ld: %s\n", st, j ? jstr(j, "error") : "");
        json_decref(j);
        free(out.data);
        return 1;
    }
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f || fwrite(out.data, 1, out.len, f) != out.len || (f != stdout && fclose(f) != 0)) {
        fprintf(stderr, "rajnetctl: %s: %s\n", path, strerror(errno));
        free(out.data);
        return 1;
    }
    if (f != stdout)
        printf("saved %s (%zu bytes)\n", path, out.len);
    free(out.data);
    return 0;
}

/* report --deliver --month YYYY-MM: the collector writes the month's reports again and hands
 * them to its delivery hooks (POST /api/v1/report/deliver); prints the files. */
static int deliver_report(const char *month)
{
    json_t *body = json_pack("{s:s}", "month", month), *f;
    request_timeout_s = 600; /* answered once the files are written, like a report */
    json_t *j = call("POST", "/api/v1/report/deliver", body, NULL);
    json_decref(body);
    if (!j)
        return 1;
    if (as_json)
        return print_json(j);
    json_t *files = json_object_get(j, "files");
    size_t i;
    printf("reports of %s written again and handed to the delivery hooks: %zu files\n", month,
           json_array_size(files));
    json_array_foreach(files, i, f)
        printf("  %s\n", json_string_value(f));
    json_decref(j);
    return 0;
}

/* report --month YYYY-MM | --from T --to T [--vendor V] [--format csv|html|pdf|json]
 *        [-o FILE | --dir DIR]: CSV without --vendor is one file per vendor.
 * report --deliver --month YYYY-MM: deliver_report. */
static int cmd_report(int argc, char **argv)
{
    const char *month = NULL, *from = NULL, *to = NULL, *vendor = NULL, *format = "html";
    const char *outfile = NULL, *dir = ".";
    static const struct option o[] = {
        { "month", required_argument, NULL, 'm' },  { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },     { "vendor", required_argument, NULL, 'V' },
        { "format", required_argument, NULL, 'F' }, { "output", required_argument, NULL, 'o' },
        { "dir", required_argument, NULL, 'd' },    { "deliver", no_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 } };
    int c;
    bool deliver = false, shaped = false; /* shaped: an option --deliver does not take */
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:f:t:V:F:o:d:", o, NULL)) != -1) {
        shaped |= c != 'm' && c != 'D';
        switch (c) {
        case 'D': deliver = true; break;
        case 'm': month = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'V': vendor = optarg; break;
        case 'F': format = optarg; break;
        case 'o': outfile = optarg; break;
        case 'd': dir = optarg; break;
        default: return usage();
        }
    }
    if (deliver) {
        if (optind != argc || !month || shaped) {
            fprintf(stderr, "rajnetctl: report --deliver takes --month YYYY-MM only\n");
            return 2;
        }
        return deliver_report(month);
    }
    if (optind != argc || (!month && (!from || !to)) || (month && (from || to)))
        return usage();
    char period[256], label[128], ev[512];
    if (month) {
        url_escape(month, ev, sizeof ev);
        snprintf(period, sizeof period, "month=%s", ev);
        snprintf(label, sizeof label, "%s", month);
    } else {
        long long a, b;
        if (parse_when(from, &a) || parse_when(to, &b)) {
            fprintf(stderr, "rajnetctl: report: --from/--to: now, +2h, -30m or Unix ms\n");
            return 2;
        }
        snprintf(period, sizeof period, "from=%lld&to=%lld", a, b);
        snprintf(label, sizeof label, "%lld-%lld", a / 1000, b / 1000);
    }
    char query[1024], path[2048];
    if (vendor || strcmp(format, "csv") != 0) {
        url_escape(vendor ? vendor : "", ev, sizeof ev);
        snprintf(query, sizeof query, "%s&format=%s%s%s", period, format, vendor ? "&vendor=" : "",
                 vendor ? ev : "");
        if (!outfile)
            snprintf(path, sizeof path, "%s/sla-%s%s%s.%s", dir, label, vendor ? "-" : "",
                     vendor ? vendor : "", format);
        return fetch_report(query, outfile ? outfile : path);
    }
    /* CSV of every vendor: one file each */
    snprintf(query, sizeof query, "/api/v1/report?%s&format=json", period);
    json_t *j = call("GET", query, NULL, NULL), *v;
    size_t i;
    int rc = j ? 0 : 1;
    json_array_foreach(json_object_get(j, "vendors"), i, v) {
        const char *name = jstr(v, "name");
        url_escape(name, ev, sizeof ev);
        snprintf(query, sizeof query, "%s&format=csv&vendor=%s", period, ev);
        snprintf(path, sizeof path, "%s/sla-%s-%s.csv", dir, label, name);
        rc |= fetch_report(query, path);
    }
    json_decref(j);
    return rc;
}

int main(int argc, char **argv)
{
    base_url = getenv("RAJNET_URL") ? getenv("RAJNET_URL") : "http://127.0.0.1:8080";
    token = getenv("RAJNET_TOKEN");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--json"))
            as_json = true;
        else if (!strcmp(argv[i], "--url") && i + 1 < argc)
            base_url = argv[++i];
        else if (!strcmp(argv[i], "--token") && i + 1 < argc)
            token = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return usage(), 0;
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    int rc;
    if (!strcmp(cmd, "status"))
        rc = cmd_status();
    else if (!strcmp(cmd, "nodes"))
        rc = cmd_nodes();
    else if (!strcmp(cmd, "alarms"))
        rc = cmd_alarms(sub_argc, sub_argv);
    else if (!strcmp(cmd, "ack"))
        rc = cmd_ack(sub_argc, sub_argv, false);
    else if (!strcmp(cmd, "comment"))
        rc = cmd_ack(sub_argc, sub_argv, true);
    else if (!strcmp(cmd, "maintenance"))
        rc = cmd_maintenance(sub_argc, sub_argv);
    else if (!strcmp(cmd, "graph"))
        rc = cmd_graph(sub_argc, sub_argv);
    else if (!strcmp(cmd, "report"))
        rc = cmd_report(sub_argc, sub_argv);
    else if (!strcmp(cmd, "assets")) /* the asset register */
        rc = cmd_assets(sub_argc, sub_argv);
    else
        rc = usage();
    curl_global_cleanup();
    return rc;
}
