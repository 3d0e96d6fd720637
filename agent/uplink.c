/* stub: to be written */
typedef int rn_stub_uplink_t;
