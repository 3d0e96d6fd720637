/* Project error codes.
 *
 * Functions return 0 on success and a negative number on failure: -errno for system errors,
 * and the RN_E* codes below (all <= -1000) for failures of our own. rn_strerror() names both. */
#ifndef RN_ERROR_H
#define RN_ERROR_H

enum {
    RN_EPARSE = -1000,      /* input is not well-formed (YAML syntax, truncated frame) */
    RN_ESCHEMA = -1001,     /* well-formed input that breaks the schema (unknown key, bad value) */
    RN_EFRAME = -1002,      /* a wire frame is malformed or violates a protocol limit */
    RN_ETOOBIG = -1003,     /* a frame or field is larger than its limit */
    RN_EVERSION = -1004,    /* protocol version not supported */
    RN_EPROTO = -1005,      /* a valid frame at the wrong time (e.g. batch before hello) */
    RN_ESNMP = -1006,       /* net-snmp refused a session or request */
    RN_ERRD = -1007,        /* librrd reported an error */
    RN_ETOPOLOGY = -1008,   /* topology is inconsistent (unknown parent, cycle, duplicate) */
};

/* Returns a static description of err (negative errno, a libuv error code or RN_E*). Never NULL.
 * The one way a message names an error in agent/ and lib/ (not strerror(-err) or uv_strerror). */
const char *rn_strerror(int err);

#endif
