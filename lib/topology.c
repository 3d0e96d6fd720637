/* stub: to be written */
typedef int rn_stub_topology_t;
