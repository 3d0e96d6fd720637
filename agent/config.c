/* stub: to be written */
typedef int rn_stub_config_t;
