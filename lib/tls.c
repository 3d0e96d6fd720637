/* stub: to be written */
typedef int rn_stub_tls_t;
