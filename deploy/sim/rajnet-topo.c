/* rajnet-topo: prints a topology in the flat line format that deploy/sim/rajnet-sim reads, so
 * the simulation is built from the same file, through the same loader, as the collector uses.
 *
 *   rajnet-topo flat TOPOLOGY [SECRETS]
 *
 * Lines (fields separated by one space, "-" for absent), nodes parent before child:
 *   node ID PARENT ADDR AGENT     (AGENT: "agent", or "noagent" for `agent: false` sites;
 *                                  readers also take the older 4-field line as "agent")
 *   snmp ID DEVICE VERSION COMMUNITY USER AUTHPROTO AUTHKEY PRIVPROTO PRIVKEY
 *   link ID PARENT LOCAL_IFNAME REMOTE_IFNAME CIRCUIT
 *   service NAME KIND NODE ADDR TCPPORTS URL
 *   camera STATION CAMERA NODE ADDR   (police station cameras, and each station's NVR as camera
 *                                      "nvr": a stand-in RTSP server each)
 *   recording STATION NODE IFNAME NVR (a station's `recording:` interface, after its cameras:
 *                                      the sim puts the NVR behind it and streams RTP to it)
 * Exit codes: 0 ok, 2 the topology or secrets have an error (printed on stderr), 1 usage. */
#include <stdio.h>
#include <string.h>

#include "topology.h"

static const char *dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Prints node n after its ancestors; printed[] marks what is done. */
static void print_node(const rn_topology_t *t, const rn_node_t *n, unsigned char *printed)
{
    size_t idx = (size_t)(n - t->nodes);
    if (printed[idx])
        return;
    if (n->parent)
        print_node(t, n->parent, printed);
    printed[idx] = 1;
    printf("node %s %s %s %s\n", n->id, dash(n->parent_id),
           n->n_devices ? n->devices[0].addr : "-", n->agent ? "agent" : "noagent");
    for (size_t i = 0; i < n->n_devices; i++) {
        const rn_device_t *d = &n->devices[i];
        printf("snmp %s %s %s %s %s %s %s %s %s\n", n->id, d->name,
               d->snmp.version == 2 ? "2c" : d->snmp.version == 3 ? "3" : "1",
               dash(d->snmp.community), dash(d->snmp.user), dash(d->snmp.auth_proto),
               dash(d->snmp.auth_key), dash(d->snmp.priv_proto), dash(d->snmp.priv_key));
    }
    for (size_t i = 0; i < n->n_uplinks; i++) {
        const rn_link_t *l = &n->uplinks[i];
        printf("link %s %s %s %s %s\n", n->id, l->remote_node, l->local.ifname, l->remote.ifname,
               l->circuit);
    }
}

static void print_services(const rn_topology_t *t)
{
    for (size_t i = 0; i < t->n_services; i++) {
        const rn_service_t *s = &t->services[i];
        for (size_t j = 0; j < s->n_endpoints; j++) {
            const rn_endpoint_t *e = &s->endpoints[j];
            char ports[256] = "-";
            size_t off = 0;
            for (size_t p = 0; p < e->n_tcp && off < sizeof ports - 8; p++)
                off += (size_t)snprintf(ports + off, sizeof ports - off, "%s%u", p ? "," : "",
                                        e->tcp[p]);
            printf("service %s %s %s %s %s %s\n", s->name, s->kind, e->node, dash(e->addr), ports,
                   dash(e->url));
        }
    }
}

/* Police station cameras: one line per camera, after the services, then the station's NVR as
 * a camera named "nvr" (the agent probes it the same way; the sim gives it a stand-in too). */
static void print_cameras(const rn_topology_t *t)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t s = 0; s < t->nodes[i].n_stations; s++) {
            const rn_station_t *st = &t->nodes[i].stations[s];
            for (size_t c = 0; c < st->n_cameras; c++)
                printf("camera %s %s %s %s\n", st->name, st->cameras[c].name, t->nodes[i].id,
                       st->cameras[c].addr);
            if (st->nvr)
                printf("camera %s %s %s %s\n", st->name, RN_TOPOLOGY_NVR, t->nodes[i].id,
                       st->nvr);
            if (st->rec_ifname) /* the topology check makes nvr present */
                printf("recording %s %s %s %s\n", st->name, t->nodes[i].id, st->rec_ifname,
                       st->nvr);
        }
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || strcmp(argv[1], "flat") != 0) {
        fprintf(stderr, "usage: rajnet-topo flat TOPOLOGY [SECRETS]\n");
        return 1;
    }
    char err[1024];
    rn_topology_t *t;
    if (rn_topology_load(argv[2], argc == 4 ? argv[3] : NULL, &t, err, sizeof err) != 0) {
        fprintf(stderr, "rajnet-topo: %s\n", err);
        return 2;
    }
    unsigned char printed[t->n_nodes ? t->n_nodes : 1];
    memset(printed, 0, sizeof printed);
    for (size_t i = 0; i < t->n_nodes; i++)
        print_node(t, &t->nodes[i], printed);
    print_services(t);
    print_cameras(t);
    rn_topology_free(t);
    return 0;
}
