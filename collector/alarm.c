/* stub: to be written */
typedef int rn_stub_alarm_t;
