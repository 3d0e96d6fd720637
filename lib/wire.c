/* stub: to be written */
typedef int rn_stub_wire_t;
