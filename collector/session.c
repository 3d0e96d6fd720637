/* stub: to be written */
typedef int rn_stub_session_t;
