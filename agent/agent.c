/* stub: to be written */
typedef int rn_stub_agent_t;
