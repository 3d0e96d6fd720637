/* The agent's one privilege, CAP_NET_RAW, and giving it up.
 *
 * Why: raw ICMP sockets (where net.ipv4.ping_group_range excludes the agent) and packet capture
 * (VC media) need CAP_NET_RAW when they are opened, never afterwards; the agent then parses
 * captured packets from the network, so it should hold no privilege while it does. The unit
 * (deploy/systemd/rajnet-agent.service) starts it as rajnet-agent with CAP_NET_RAW ambient; once
 * its first plan is applied (ICMP sockets and captures open) the agent drops the capability from
 * its effective, permitted and inheritable sets (the kernel then clears it from the ambient set),
 * and it cannot take it back. A later plan that needs a new capture makes the agent restart
 * (agent.h: RN_AGENT_EXIT_RESTART). Only this module and pcap_capture.c touch capabilities.
 * Uses libcap (cap_get_proc/cap_set_proc). */
#ifndef RN_PRIVS_H
#define RN_PRIVS_H

#include <stdbool.h>

/* True when CAP_NET_RAW is in the permitted set (it can be raised when needed). */
bool rn_privs_have_net_raw(void);

/* Raises (on) or lowers CAP_NET_RAW in the effective set; the permitted set is unchanged.
 * Returns 0, -EPERM when it is not permitted, or another -errno. */
int rn_privs_net_raw_effective(bool on);

/* Clears CAP_NET_RAW from the effective, permitted and inheritable sets, for good. Returns 1
 * when it was permitted and is now gone, 0 when it was not permitted, or -errno (then nothing
 * changed). */
int rn_privs_drop_net_raw(void);

#endif
