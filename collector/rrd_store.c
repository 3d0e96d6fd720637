/* stub: to be written */
typedef int rn_stub_rrd_store_t;
