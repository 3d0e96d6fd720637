/* The HTTP API as served (docs/api.md): the one file that knows every resource. It hands the
 * server (http.c) the resources' route tables, in the order they are tried, and the two hooks
 * the server needs of them; the server itself names no resource, so the resources may call its
 * helpers without a cycle (see http_int.h). */
#include "http/http.h"
#include "http/http_int.h"

/* Tried in this order. Only routes whose paths can match the same request depend on it (for 405,
 * the methods allowed are named in this order); those share a table, so the order of the tables
 * matters only in that the dashboard's files come last. */
const rn_http_route_t *const rn_http_tables[] = {
    rn_api_routes,          /* status, nodes, links, services, series (api.c) */
    rn_api_alarms_routes,   /* GET /api/v1/alarms (api_alarms.c) */
    rn_api_db_routes,       /* outages, maintenance, alarm writes (api_db.c) */
    rn_api_graph_routes,    /* GET /api/v1/graph (api_graph.c) */
    rn_api_report_routes,   /* SLA reports (api_report.c) */
    rn_http_events_routes,  /* GET /api/v1/events (http.c) */
    rn_api_assets_routes,   /* the asset register (api_assets.c) */
    rn_api_cctv_routes,     /* police station cameras (api_cctv.c) */
    rn_api_metrics_routes,  /* GET /metrics (metrics_text.c) */
    rn_http_static_routes,  /* the dashboard: /, /static/ (http.c) */
    NULL,
};

static const rn_http_site_t site = {
    .tables = rn_http_tables,
    .status_json = rn__api_status_json,
    .shutdown = rn__graph_shutdown,
};

int rn_http_start(const rn_http_view_t *view, const rn_http_config_t *cfg, rn_http_t **out)
{
    return rn__http_serve(view, cfg, &site, out);
}
