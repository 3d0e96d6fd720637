/* CAP_NET_RAW of the agent (see privs.h), through libcap. */
#include "privs.h"

#include <errno.h>
#include <sys/capability.h>

/* Reads CAP_NET_RAW's flag in one set; false if the process's capabilities cannot be read. */
static bool has_flag(cap_flag_t set)
{
    cap_t caps = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    if (caps) {
        cap_get_flag(caps, CAP_NET_RAW, set, &v);
        cap_free(caps);
    }
    return v == CAP_SET;
}

/* Sets or clears CAP_NET_RAW in the n given sets and applies the result. Returns 0 or -errno. */
static int change(const cap_flag_t *sets, int n, cap_flag_value_t to)
{
    static const cap_value_t net_raw[] = { CAP_NET_RAW };
    cap_t caps = cap_get_proc();
    if (!caps)
        return -errno;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (cap_set_flag(caps, sets[i], 1, net_raw, to) != 0)
            rc = -errno;
    if (rc == 0 && cap_set_proc(caps) != 0)
        rc = -errno;
    cap_free(caps);
    return rc;
}

bool rn_privs_have_net_raw(void)
{
    return has_flag(CAP_PERMITTED);
}

int rn_privs_net_raw_effective(bool on)
{
    static const cap_flag_t effective[] = { CAP_EFFECTIVE };
    if (on && !rn_privs_have_net_raw())
        return -EPERM;
    return change(effective, 1, on ? CAP_SET : CAP_CLEAR);
}

int rn_privs_drop_net_raw(void)
{
    static const cap_flag_t all[] = { CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE };
    bool held = rn_privs_have_net_raw();
    if (!held && !has_flag(CAP_INHERITABLE))
        return 0;
    int rc = change(all, 3, CAP_CLEAR);
    return rc ? rc : held;
}
