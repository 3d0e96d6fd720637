/* The collector as the HTTP resources see it (http_int.h): the one file of collector/http/ that
 * reads rn_collector_t's fields. Each accessor reads its field when called, never a copy taken
 * at start: the collector replaces the topology on reload and sets the RRD store and the
 * latest-value cache to NULL while closing. */
#include "collector.h"
#include "clock.h"
#include "http/http_int.h"
#include "ingest/session.h"

uv_loop_t *rn__http_loop(const rn_http_t *h)
{
    return h->c->loop;
}

const rn_topology_t *rn__http_topo(const rn_http_t *h)
{
    return h->c->topo;
}

struct rn_alarm_engine *rn__http_alarms(const rn_http_t *h)
{
    return h->c->alarms;
}

struct rn_latest *rn__http_latest(const rn_http_t *h)
{
    return h->c->latest;
}

struct rn_rrd_store *rn__http_store(const rn_http_t *h)
{
    return h->c->store;
}

const struct rn_assets *rn__http_assets(const rn_http_t *h)
{
    return h->c->assets;
}

uint64_t rn__http_assets_foreign(const rn_http_t *h)
{
    return h->c->assets_foreign;
}

const struct rn_cctv *rn__http_cctv(const rn_http_t *h)
{
    return h->c->cctv;
}

const struct rn_node_state *rn__http_node_states(const rn_http_t *h)
{
    return h->c->nodes;
}

size_t rn__http_agents_connected(const rn_http_t *h)
{
    size_t n = 0;
    for (const rn_session_t *s = h->c->sessions; s; s = s->next)
        n += s->node && !s->closing;
    return n;
}

bool rn__http_reading_paused(const rn_http_t *h)
{
    return h->c->reading_paused;
}

struct rn_collector *rn__http_collector(const rn_http_t *h)
{
    return h->c;
}

int rn__http_reload_maintenance(rn_http_t *h)
{
    /* the engine takes its windows from the store (alarm_log.h); it may replace the engine */
    return rn_alarm_log_load_maintenance(h->events, &h->c->alarms, rn_clock_wall_ms());
}
