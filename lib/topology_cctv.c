/* Police video surveillance in the topology: a node's `stations:` list, each station with its
 * cameras and NVR (rajnet-topology(5), "STATIONS"). Kept out of topology.c, which reads the
 * network; this reads what the network serves at a police station:
 *
 *   stations:
 *     - name: ps-sanganer
 *       nvr: 10.77.11.60
 *       cameras: [{ name: gate, addr: 10.77.11.61 }, { name: lockup, addr: 10.77.11.62 }]
 *       recording: { ifname: cctv0, max_loss_pct: 2 }   # optional: where the cameras' stream
 *                                                       # to the NVR crosses the agent's host
 *
 * Station names are unique in the whole topology (a station is the alarm's entity and the
 * dashboard's row), camera names within their station; both are plain names because they name
 * RRD files (<node>/rtsp/<station>/<camera>.rrd). Addresses are numeric: the agent probes them
 * without a name lookup. A station at an agentless node (`agent: false`) is probed by its
 * parent's agent, as its devices are polled (collector/ingest/plan.c); the tree check already
 * makes that parent run one. */
#include "topology_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define F(key, type, req, st, member) { key, type, req, offsetof(st, member), 0, 0 }

/* True if s is 1-63 of [a-z0-9_-], starting with a letter or digit. */
static bool plain_name(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && len <= 63 && s[0] != '-' && s[0] != '_' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

/* True if s is a numeric IPv4 or IPv6 address. */
static bool numeric_addr(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Reads one station's cameras list into st. Returns y->rc. */
static int read_cameras(rn_yaml_t *y, yaml_node_t *seq, const char *where, rn_station_t *st)
{
    static const rn_yaml_field_t fields[] = {
        F("name", RN_YF_STR, true, rn_camera_t, name),
        F("addr", RN_YF_STR, true, rn_camera_t, addr),
    };
    char path[700];
    snprintf(path, sizeof path, "%s.cameras", where);
    if (!rn_yaml_is_seq(y, seq, path))
        return y->rc;
    size_t n = rn_yaml_seq_len(seq);
    if (n == 0 || n > RN_TOPOLOGY_MAX_CAMERAS)
        return rn_yaml_fail(y, seq, path, "%zu cameras, expected 1..%d", n,
                            RN_TOPOLOGY_MAX_CAMERAS);
    if (!(st->cameras = calloc(n, sizeof *st->cameras)))
        return y->rc = -ENOMEM;
    for (size_t i = 0; i < n && !y->rc; i++) {
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        rn_camera_t *c = &st->cameras[i];
        snprintf(path, sizeof path, "%s.cameras[%zu]", where, i);
        st->n_cameras = i + 1;
        c->line = item ? rn_yaml_line(item) : 0;
        if (rn_yaml_read_map(y, item, path, fields, 2, c))
            break;
        if (!plain_name(c->name))
            rn_yaml_fail(y, item, path, "name '%s' is not 1-63 of [a-z0-9_-]", c->name);
        else if (strcmp(c->name, RN_TOPOLOGY_NVR) == 0) /* its probes' name (plan.c) */
            rn_yaml_fail(y, item, path, "name '%s' is the station's NVR's; name the camera "
                         "otherwise", c->name);
        else if (!numeric_addr(c->addr))
            rn_yaml_fail(y, item, path, "addr '%s' is not a numeric IPv4 or IPv6 address",
                         c->addr);
        for (size_t j = 0; j < i && !y->rc; j++)
            if (strcmp(st->cameras[j].name, c->name) == 0)
                rn_yaml_fail(y, item, path, "camera '%s' is already at line %d", c->name,
                             st->cameras[j].line);
    }
    return y->rc;
}

/* True if s can name a Linux network interface: 1..15 bytes, no '/', ':' or white space, not
 * "." or "..". */
static bool ifname_ok(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && len <= 15 && !strpbrk(s, "/: \t\n") && strcmp(s, ".") && strcmp(s, "..");
}

/* Reads a station's `recording:` map (its cameras' stream to the NVR, where it crosses an
 * interface of the agent's host) into st. Returns y->rc. */
static int read_recording(rn_yaml_t *y, yaml_node_t *map, const char *where, rn_station_t *st)
{
    typedef struct {
        char *ifname;
        double max_loss_pct;
    } rec_raw_t;
    static const rn_yaml_field_t fields[] = {
        F("ifname", RN_YF_STR, true, rec_raw_t, ifname),
        { "max_loss_pct", RN_YF_DOUBLE, false, offsetof(rec_raw_t, max_loss_pct), 0, 100 },
    };
    char path[700];
    rec_raw_t raw = { .max_loss_pct = RN_TOPOLOGY_REC_MAX_LOSS };
    snprintf(path, sizeof path, "%s.recording", where);
    rn_yaml_read_map(y, map, path, fields, 2, &raw);
    st->rec_ifname = raw.ifname;
    st->rec_max_loss_pct = raw.max_loss_pct;
    if (y->rc)
        return y->rc;
    if (!st->nvr) /* the stream is told by its destination (plan.c's filter) */
        return rn_yaml_fail(y, map, path, "a recording stream goes to the station's NVR: give "
                            "the station an nvr address");
    if (!ifname_ok(st->rec_ifname))
        return rn_yaml_fail(y, map, path, "ifname '%s' is not an interface name (1-15 bytes, "
                            "no '/', ':' or space)", st->rec_ifname);
    return 0;
}

int rn__topology_read_stations(rn_yaml_t *y, yaml_node_t *seq, const char *where, rn_node_t *n)
{
    typedef struct {
        char *name, *nvr;
        yaml_node_t *cameras, *recording;
    } st_raw_t;
    static const rn_yaml_field_t fields[] = {
        F("name", RN_YF_STR, true, st_raw_t, name),
        F("nvr", RN_YF_STR, false, st_raw_t, nvr),
        F("cameras", RN_YF_NODE, true, st_raw_t, cameras),
        F("recording", RN_YF_NODE, false, st_raw_t, recording),
    };
    if (!rn_yaml_is_seq(y, seq, where))
        return y->rc;
    size_t count = rn_yaml_seq_len(seq);
    if (count > RN_TOPOLOGY_MAX_STATIONS)
        return rn_yaml_fail(y, seq, where, "%zu stations, at most %d", count,
                            RN_TOPOLOGY_MAX_STATIONS);
    if (!(n->stations = calloc(count ? count : 1, sizeof *n->stations)))
        return y->rc = -ENOMEM;
    char path[600];
    for (size_t i = 0; i < count && !y->rc; i++) {
        yaml_node_t *item = rn_yaml_seq_item(y, seq, i);
        rn_station_t *st = &n->stations[i];
        st_raw_t raw = { 0 };
        snprintf(path, sizeof path, "%s[%zu]", where, i);
        n->n_stations = i + 1;
        st->line = item ? rn_yaml_line(item) : 0;
        rn_yaml_read_map(y, item, path, fields, 4, &raw);
        st->name = raw.name;
        st->nvr = raw.nvr;
        if (y->rc)
            break;
        if (!plain_name(st->name))
            return rn_yaml_fail(y, item, path, "name '%s' is not 1-63 of [a-z0-9_-]", st->name);
        if (st->nvr && !numeric_addr(st->nvr))
            return rn_yaml_fail(y, item, path, "nvr '%s' is not a numeric IPv4 or IPv6 address",
                                st->nvr);
        if (read_cameras(y, raw.cameras, path, st) == 0 && raw.recording)
            read_recording(y, raw.recording, path, st);
    }
    return y->rc;
}

int rn__topology_check_stations(rn_yaml_t *y, const rn_topology_t *t)
{
    for (size_t i = 0; i < t->n_nodes && !y->rc; i++) {
        const rn_node_t *n = &t->nodes[i];
        for (size_t s = 0; s < n->n_stations; s++) {
            const rn_node_t *other = NULL;
            const rn_station_t *first = rn_topology_station(t, n->stations[s].name, &other);
            if (first == &n->stations[s])
                continue;
            /* found after reading, so no yaml node to point at: the remembered line */
            y->rc = RN_ETOPOLOGY;
            snprintf(y->err, y->err_len, "%s:%d: nodes.%s.stations[%zu]: station '%s' is "
                     "already at line %d (node '%s')", y->file, n->stations[s].line, n->id, s,
                     first->name, first->line, other->id);
            return y->rc;
        }
    }
    return y->rc;
}

const rn_station_t *rn_topology_station(const rn_topology_t *t, const char *name,
                                        const rn_node_t **node)
{
    for (size_t i = 0; name && i < t->n_nodes; i++)
        for (size_t s = 0; s < t->nodes[i].n_stations; s++)
            if (t->nodes[i].stations[s].name && strcmp(t->nodes[i].stations[s].name, name) == 0) {
                if (node)
                    *node = &t->nodes[i];
                return &t->nodes[i].stations[s];
            }
    return NULL;
}

void rn__topology_free_stations(rn_node_t *n)
{
    for (size_t s = 0; n->stations && s < n->n_stations; s++) {
        rn_station_t *st = &n->stations[s];
        for (size_t c = 0; st->cameras && c < st->n_cameras; c++)
            free(st->cameras[c].name), free(st->cameras[c].addr);
        free(st->cameras);
        free(st->name);
        free(st->nvr);
        free(st->rec_ifname);
    }
    free(n->stations);
    n->stations = NULL;
    n->n_stations = 0;
}
