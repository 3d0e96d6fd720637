/* The collector as the HTTP resources see it (http_int.h): the accessors of the view the
 * collector fills (rn_http_view_t, http.h). Each reads the collector's field when called, never a
 * copy taken at start: the collector replaces the topology on reload and sets the RRD store and
 * the latest-value cache to NULL while closing. This file, like every other of collector/http/,
 * does not include collector.h (tests/integration/test_layering.sh checks). */
#include "alarm/alarm_log.h"
#include "clock.h"
#include "http/http.h"
#include "http/http_int.h"

uv_loop_t *rn__http_loop(const rn_http_t *h)
{
    return h->view->loop;
}

const rn_topology_t *rn__http_topo(const rn_http_t *h)
{
    return *h->view->topo;
}

struct rn_alarm_engine *rn__http_alarms(const rn_http_t *h)
{
    return *h->view->alarms;
}

struct rn_latest *rn__http_latest(const rn_http_t *h)
{
    return h->view->latest ? *h->view->latest : NULL;
}

struct rn_rrd_store *rn__http_store(const rn_http_t *h)
{
    return h->view->store ? *h->view->store : NULL;
}

const struct rn_assets *rn__http_assets(const rn_http_t *h)
{
    return h->view->assets ? *h->view->assets : NULL;
}

uint64_t rn__http_assets_foreign(const rn_http_t *h)
{
    return h->view->assets_foreign ? *h->view->assets_foreign : 0;
}

const struct rn_cctv *rn__http_cctv(const rn_http_t *h)
{
    return h->view->cctv ? *h->view->cctv : NULL;
}

const struct rn_node_state *rn__http_node_states(const rn_http_t *h)
{
    return h->view->nodes ? *h->view->nodes : NULL;
}

size_t rn__http_agents_connected(const rn_http_t *h)
{
    return h->view->agents_connected ? h->view->agents_connected(h->view->ctx) : 0;
}

bool rn__http_reading_paused(const rn_http_t *h)
{
    return h->view->reading_paused && *h->view->reading_paused;
}

struct rn_report_host *rn__http_reports(const rn_http_t *h)
{
    return h->view->reports;
}

int rn__http_reload_maintenance(rn_http_t *h)
{
    /* the engine takes its windows from the store (alarm_log.h); it may replace the engine */
    return rn_alarm_log_load_maintenance(h->events, h->view->alarms, rn_clock_wall_ms());
}
