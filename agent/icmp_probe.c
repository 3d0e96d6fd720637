/* stub: to be written */
typedef int rn_stub_icmp_probe_t;
