/* stub: to be written */
typedef int rn_stub_plan_t;
