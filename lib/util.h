/* Small helpers every module may use. */
#ifndef RN_UTIL_H
#define RN_UTIL_H

#include <stddef.h>

/* The struct of type that holds member at ptr (libuv handles embedded in our structs). */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
