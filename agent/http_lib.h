/* libcurl, loaded on first use: the service prober's (service_probe.c) only way to reach it.
 *
 * Why not link it. libcurl.so.4 as Debian builds it pulls in 32 more shared libraries (GnuTLS
 * through librtmp, Kerberos, LDAP, libssh2, nghttp2, libidn2, ...): about 4.5 MB of resident
 * library pages and relocated data in every agent, while most agents have no service target at
 * all. So the agent is not linked against it; the first plan with a "tcp" or "http" service
 * target loads it with dlopen(3) and takes the few functions the prober calls into the table
 * below. Types and constants still come from <curl/curl.h>, so the calls are type-checked
 * against the same header as before; the soname is the ABI the header promises (libcurl has
 * kept soname 4 since 2006). Figures: tests/bench/README.md, "Agent footprint".
 *
 * Threading: call rn_http_lib_get() from the loop thread only (it runs curl_global_init, which
 * is not thread-safe). The library stays loaded until the process exits. */
#ifndef RN_HTTP_LIB_H
#define RN_HTTP_LIB_H

#include <curl/curl.h>

#define RN_HTTP_LIB_SONAME "libcurl.so.4"

/* The libcurl functions the prober calls, with their libcurl signatures. */
typedef struct {
    CURLcode (*global_init)(long flags);
    curl_version_info_data *(*version_info)(CURLversion age);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *easy);
    const char *(*easy_strerror)(CURLcode code);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
    CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t s, void *sockp);
    CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t s, int ev_bitmask,
                                     int *running_handles);
    CURLMsg *(*multi_info_read)(CURLM *multi, int *msgs_in_queue);
    CURLMcode (*multi_cleanup)(CURLM *multi);
} rn_http_lib_t;

/* Loads libcurl (RN_HTTP_LIB_SONAME) and initialises it, the first time; later calls return the
 * same answer without trying again. Sets *out to the table (static, never freed) and returns 0;
 * or returns -ENOENT when the library cannot be loaded (not installed: Debian's libcurl4),
 * -ENOSYS when it lacks one of the functions (too old), -EPROTO when curl_global_init fails. The
 * first failure is logged at error level with dlerror's reason and what to install; *why (may be
 * NULL) gets a short reason for callers that report per target. */
int rn_http_lib_get(const rn_http_lib_t **out, const char **why);

/* Returns 1 once libcurl has been loaded into this process, 0 before (or after it failed). */
int rn_http_lib_loaded(void);

/* For tests: forgets the outcome of the last attempt, so that the next rn_http_lib_get loads
 * soname (NULL: RN_HTTP_LIB_SONAME) and logs again. A library loaded before stays mapped. */
void rn__http_lib_use(const char *soname);

#endif
