#include "error.h"

#include <string.h>

#include <uv.h>

const char *rn_strerror(int err)
{
    switch (err) {
    case RN_EPARSE: return "malformed input";
    case RN_ESCHEMA: return "input does not match the schema";
    case RN_EFRAME: return "malformed wire frame";
    case RN_ETOOBIG: return "larger than allowed";
    case RN_EVERSION: return "unsupported protocol version";
    case RN_EPROTO: return "protocol violation";
    case RN_ESNMP: return "SNMP error";
    case RN_ERRD: return "RRD error";
    case RN_ETOPOLOGY: return "inconsistent topology";
    default: break;
    }
    /* libuv's codes that are no errno (UV_EOF, UV_EAI_*: -3000 and below) in its words; every
     * other libuv code is -errno on Unix and reads the same from strerror */
    if (err <= -3000 && err > -4096)
        return uv_strerror(err);
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}
