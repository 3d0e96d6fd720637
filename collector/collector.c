/* stub: to be written */
typedef int rn_stub_collector_t;
