/* Private declarations shared by udp_echo.c (sockets, reflector, sender) and udp_echo_wire.c
 * (the packet and the reflector's table); not for other modules, which use udp_echo.h. */
#ifndef RN_UDP_ECHO_INT_H
#define RN_UDP_ECHO_INT_H

#include <stdint.h>

/* Returns the big-endian 32-bit value at p (a packet field, see udp_echo.h for the layout). */
static inline uint32_t rn_udp_echo_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
