/* stub: to be written */
typedef int rn_stub_delivery_t;
