/* stub: to be written */
typedef int rn_stub_snmp_poller_t;
