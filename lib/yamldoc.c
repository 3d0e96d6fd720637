/* stub: to be written */
typedef int rn_stub_yamldoc_t;
