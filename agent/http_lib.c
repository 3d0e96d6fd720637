/* libcurl loaded on first use (see http_lib.h for why).
 *
 * One process-wide table, filled once by dlsym; the outcome of the first attempt (success or the
 * reason it failed) is kept, so a missing library is logged once, not at every plan. */
#include "http_lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "log.h"

static rn_http_lib_t lib;
static int lib_rc = 1;   /* 1: not tried yet; then 0 or the negative error of the attempt */
static char lib_why[160];
static const char *soname = RN_HTTP_LIB_SONAME;

/* Where each function goes in the table, by its libcurl name. */
static const struct {
    const char *name;
    size_t offset;
} syms[] = {
#define SYM(f) { "curl_" #f, offsetof(rn_http_lib_t, f) }
    SYM(global_init),      SYM(version_info),     SYM(easy_init),
    SYM(easy_setopt),      SYM(easy_getinfo),     SYM(easy_cleanup),
    SYM(easy_strerror),    SYM(multi_init),       SYM(multi_setopt),
    SYM(multi_add_handle), SYM(multi_remove_handle), SYM(multi_assign),
    SYM(multi_socket_action), SYM(multi_info_read), SYM(multi_cleanup),
#undef SYM
};

/* Opens the library and fills the table. Returns 0, -ENOENT or -ENOSYS with lib_why set. */
static int load(void)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lib_why, sizeof lib_why, "%s not loaded: %s", soname, e ? e : "unknown reason");
        return -ENOENT;
    }
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(lib_why, sizeof lib_why, "%s has no %s (libcurl too old)", soname,
                     syms[i].name);
            dlclose(h);
            return -ENOSYS;
        }
        /* POSIX guarantees a data pointer from dlsym converts to a function pointer */
        *(void **)((char *)&lib + syms[i].offset) = f;
    }
    return 0;
}

int rn_http_lib_get(const rn_http_lib_t **out, const char **why)
{
    if (lib_rc == 1) {
        lib_rc = load();
        if (lib_rc == 0 && lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(lib_why, sizeof lib_why, "libcurl does not initialise");
            lib_rc = -EPROTO;
        }
        if (lib_rc) {
            rn_error("service probes: %s; no tcp/http service target is probed (install "
                     "Debian's libcurl4)", lib_why);
        } else {
            const curl_version_info_data *v = lib.version_info(CURLVERSION_NOW);
            if (!(v->features & CURL_VERSION_ASYNCHDNS))
                rn_warn("service probes: libcurl %s resolves names synchronously: use numeric "
                        "addresses in service endpoints, or host names would block the agent's "
                        "loop", v->version);
            rn_info("service probes: %s loaded (libcurl %s)", soname, v->version);
        }
    }
    if (why)
        *why = lib_rc ? lib_why : "";
    *out = lib_rc ? NULL : &lib;
    return lib_rc;
}

int rn_http_lib_loaded(void)
{
    return lib_rc == 0;
}

void rn__http_lib_use(const char *name)
{
    soname = name ? name : RN_HTTP_LIB_SONAME;
    lib_rc = 1;
}
