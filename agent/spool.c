/* stub: to be written */
typedef int rn_stub_spool_t;
