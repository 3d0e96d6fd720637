/* stub: to be written */
typedef int rn_stub_event_store_t;
