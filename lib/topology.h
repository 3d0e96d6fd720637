/* The RajNet topology: nodes in a tree, their devices and uplinks, vendors, SLA classes and
 * services, loaded from one YAML file plus a secrets file (SNMP communities and USM keys) that
 * the topology refers to by name. See deploy/sim/topology.yaml for an example.
 *
 * A loaded topology is immutable; a reload builds a new one and swaps it in. All strings and
 * arrays are owned by the topology and freed by rn_topology_free(). */
#ifndef RN_TOPOLOGY_H
#define RN_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *name;
    uint32_t version;          /* 1, 2 (v2c) or 3 */
    char *community;           /* v1/v2c */
    char *user;                /* v3: from the topology */
    char *auth_proto, *auth_key, *priv_proto, *priv_key; /* v3: from the secrets file */
} rn_snmp_cred_t;

/* An extra SNMP object of a device, polled with its interfaces (devices[].extra). */
typedef struct {
    char *name;                /* the series object, [a-z0-9_-], unique in the device */
    char *oid;                 /* numeric, e.g. "1.3.6.1.4.1.9.9.109.1.1.1.1.8.1" */
    char *kind;                /* "gauge" or "counter": the sample source */
} rn_extra_oid_t;

typedef struct {
    char *name;
    char *addr;
    rn_snmp_cred_t snmp;       /* resolved: secrets copied in */
    char *secret_name;
    uint32_t timeout_ms, retries;
    rn_extra_oid_t *extra;     /* extra SNMP objects, at most RN_TOPOLOGY_MAX_EXTRA */
    size_t n_extra;
    int line;
} rn_device_t;

#define RN_TOPOLOGY_MAX_EXTRA 32 /* extra OIDs per device: the agent GETs them in one request */

typedef struct {
    char *device, *ifname;
} rn_if_ref_t;

typedef struct {
    char *circuit;
    char *vendor;              /* key into vendors */
    char *kind;                /* mpls, leased, radio, vsat */
    double mbps;
    char *sla;                 /* key into sla_classes */
    char *role;                /* primary or backup */
    rn_if_ref_t local;
    char *remote_node;         /* defaults to the node's parent */
    rn_if_ref_t remote;
    double monthly_charge;     /* SLA reports: the month's charge for the circuit; 0 = not given */
    int line;
} rn_link_t;

/* Police video surveillance (lib/topology_cctv.c): a station's cameras and its NVR, probed by
 * the node's agent (RTSP OPTIONS on port 554; agent/rtsp_probe.h). */
typedef struct {
    char *name;                /* [a-z0-9_-], unique in its station */
    char *addr;                /* numeric IPv4 or IPv6 address */
    int line;
} rn_camera_t;

typedef struct {
    char *name;                /* [a-z0-9_-], unique in the topology (the alarm's entity) */
    char *nvr;                 /* numeric address of its network video recorder, may be NULL */
    /* `recording:` (needs nvr): where the cameras' stream to the NVR crosses an interface of the
     * agent's host, watched with the RTP tracker (Plan.recordings); NULL: not watched */
    char *rec_ifname;
    double rec_max_loss_pct;   /* recording.max_loss_pct: more loss is degraded (default 2) */
    rn_camera_t *cameras;      /* at least one, at most RN_TOPOLOGY_MAX_CAMERAS */
    size_t n_cameras;
    int line;
} rn_station_t;

#define RN_TOPOLOGY_MAX_CAMERAS 64   /* per station */
#define RN_TOPOLOGY_NVR "nvr"        /* the NVR's name where cameras are named (plan, RRD, alarm);
                                      * no camera may take it */
#define RN_TOPOLOGY_MAX_STATIONS 64  /* per node */
#define RN_TOPOLOGY_REC_MAX_LOSS 2.0 /* default recording.max_loss_pct */

typedef struct rn_node {
    char *id;                  /* path: "jaipur/sanganer" */
    char *tier;                /* sdc, district, block, village */
    char *parent_id;           /* NULL for the root */
    struct rn_node *parent;    /* resolved */
    rn_device_t *devices;
    size_t n_devices;
    rn_link_t *uplinks;
    size_t n_uplinks;
    rn_station_t *stations;    /* police stations with cameras (`stations:`); probed by the
                                * node's agent, or its parent's for an agentless node */
    size_t n_stations;
    bool agent;                /* runs an agent (`agent:`, default true); false for agentless
                                * sites (most villages): the parent's agent probes them */
    int line;                  /* where the node is defined */
} rn_node_t;

typedef struct {
    char *name, *display, *contact;
} rn_vendor_t;

/* SLA reports: one slab of the penalty table. A month whose availability is at least
 * availability (and below the slab before it) costs the vendor pct % of the month's charge. */
typedef struct {
    double availability, pct;
} rn_penalty_slab_t;

typedef struct {
    char *name;
    double availability, max_latency_ms, max_loss_pct, max_jitter_ms, min_outage_s;
    /* SLA reports (optional keys): */
    double restore_hours[3];   /* restore-time target by severity S1..S3; 0 = none */
    rn_penalty_slab_t *penalty; /* availability strictly descending, the last one usually 0 */
    size_t n_penalty;
    bool partial_loss_counts;  /* a loss-degraded link counts as down (default false) */
} rn_sla_class_t;

typedef struct {
    char *node;                /* node id that hosts it */
    char *addr;                /* numeric address, may be NULL when url is set */
    uint16_t *tcp;             /* ports to connect to */
    size_t n_tcp;
    char *url;                 /* HTTP(S) health URL, may be NULL */
} rn_endpoint_t;

typedef struct {
    char *name;
    char *kind;                /* vc or egov */
    rn_endpoint_t *endpoints;
    size_t n_endpoints;
    uint16_t rtp_port_min, rtp_port_max; /* vc: RTP media UDP port range (rtp_ports); 0: none */
} rn_service_t;

typedef struct {
    uint32_t poll_interval_s;  /* SNMP polls; default 60 */
    uint32_t probe_interval_s; /* ICMP probe rounds; default 10 */
    uint32_t probe_count;      /* echo requests per round; default 5 */
} rn_settings_t;

/* UDP echo (agent/udp_echo.h): two nodes whose agents measure the path between them, each
 * from its own end (top-level `udp_echo:` list). */
typedef struct {
    char *a, *b;               /* node ids, distinct, each with a device (its address) */
    uint32_t count;            /* packets per probe interval; 0: settings.probe_count */
    int line;
} rn_echo_pair_t;

typedef struct {
    char *path;
    rn_settings_t settings;
    rn_node_t *nodes;          /* in file order; the root first is not guaranteed */
    size_t n_nodes;
    rn_vendor_t *vendors;
    size_t n_vendors;
    rn_sla_class_t *sla_classes;
    size_t n_sla_classes;
    rn_service_t *services;
    size_t n_services;
    rn_echo_pair_t *echo_pairs; /* UDP echo pairs, in file order */
    size_t n_echo_pairs;
    rn_node_t **by_id;         /* the nodes sorted by id, for rn_topology_node (NULL: scan) */
} rn_topology_t;

/* Loads and checks a topology and its secrets file (secrets_path may be NULL when no device
 * refers to a secret). On failure returns RN_EPARSE, RN_ESCHEMA, RN_ETOPOLOGY or -errno and writes
 * "file:line: field: what is wrong" into err. */
int rn_topology_load(const char *path, const char *secrets_path, rn_topology_t **out, char *err,
                     size_t err_len);

/* As rn_topology_load, from memory (name is used in messages; secrets may be NULL). */
int rn_topology_load_buffers(const char *name, const uint8_t *buf, size_t len,
                             const uint8_t *secrets, size_t secrets_len, rn_topology_t **out,
                             char *err, size_t err_len);

void rn_topology_free(rn_topology_t *topo);

/* Returns the node with this id, or NULL. */
const rn_node_t *rn_topology_node(const rn_topology_t *topo, const char *id);

/* Returns the station with this name and, through node, the node it is at; NULL if none. */
const rn_station_t *rn_topology_station(const rn_topology_t *topo, const char *name,
                                        const rn_node_t **node);

/* Returns the root node (the one without a parent). */
const rn_node_t *rn_topology_root(const rn_topology_t *topo);

/* Returns the id of the district n is in (n itself if it is one), or NULL above the districts. */
const char *rn_topology_district(const rn_node_t *n);

#endif
