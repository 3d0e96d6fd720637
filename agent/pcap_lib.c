/* libpcap loaded on first use (see pcap_lib.h for why and how).
 *
 * The table holds libpcap's own functions, typed from <pcap/pcap.h> with __typeof__, so a
 * forwarder and its target cannot disagree. Every forwarder makes sure the library is loaded: in
 * practice only pcap_create() loads it (nothing else can be called without its pcap_t), but a
 * forwarder called first still fails cleanly instead of jumping through a NULL pointer. To use a
 * libpcap function pcap_capture.c does not call yet, add it to the table and write its forwarder;
 * the link fails until then (the agent has no -lpcap). */
#include "pcap_lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdio.h>

#define F(name) __typeof__(pcap_##name) *name
static struct {
    F(create);
    F(activate);
    F(close);
    F(compile);
    F(datalink);
    F(dispatch);
    F(freecode);
    F(get_selectable_fd);
    F(get_tstamp_precision);
    F(geterr);
    F(set_buffer_size);
    F(set_immediate_mode);
    F(set_promisc);
    F(set_snaplen);
    F(set_tstamp_precision);
    F(setfilter);
    F(setnonblock);
    F(stats);
    F(statustostr);
} lib;
#undef F

#define SYM(f) { "pcap_" #f, offsetof(__typeof__(lib), f) }
static const struct {
    const char *name;
    size_t offset;
} syms[] = {
    SYM(create),          SYM(activate),           SYM(close),
    SYM(compile),         SYM(datalink),           SYM(dispatch),
    SYM(freecode),        SYM(get_selectable_fd),  SYM(get_tstamp_precision),
    SYM(geterr),          SYM(set_buffer_size),    SYM(set_immediate_mode),
    SYM(set_promisc),     SYM(set_snaplen),        SYM(set_tstamp_precision),
    SYM(setfilter),       SYM(setnonblock),        SYM(stats),
    SYM(statustostr),
};
#undef SYM

static int lib_rc = 1; /* 1: not tried yet; then 0 or the negative error of the attempt */
static char lib_why[PCAP_ERRBUF_SIZE];
static const char *soname = RN_PCAP_LIB_SONAME;

/* Loads the library and fills the table the first time. Returns 0, or -ENOENT / -ENOSYS with
 * lib_why set (the same answer on every later call). */
static int load(void)
{
    if (lib_rc != 1)
        return lib_rc;
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lib_why, sizeof lib_why, "%s not loaded: %s", soname, e ? e : "unknown reason");
        return lib_rc = -ENOENT;
    }
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(lib_why, sizeof lib_why, "%s has no %s (libpcap too old)", soname,
                     syms[i].name);
            dlclose(h);
            return lib_rc = -ENOSYS;
        }
        *(void **)((char *)&lib + syms[i].offset) = f; /* POSIX: dlsym's pointer converts */
    }
    return lib_rc = 0;
}

int rn_pcap_lib_loaded(void)
{
    return lib_rc == 0;
}

void rn__pcap_lib_use(const char *name)
{
    soname = name ? name : RN_PCAP_LIB_SONAME;
    lib_rc = 1;
}

/* ---- the forwarders, in <pcap/pcap.h>'s prototypes --------------------------------------------
 * Each returns what libpcap's function returns; when the library cannot be loaded, PCAP_ERROR
 * (NULL from pcap_create, the reason from pcap_geterr and pcap_statustostr, nothing done by
 * pcap_close and pcap_freecode), with the reason in errbuf where the call takes one. */

pcap_t *pcap_create(const char *source, char *errbuf)
{
    if (load() != 0) {
        snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", lib_why);
        return NULL;
    }
    return lib.create(source, errbuf);
}

int pcap_activate(pcap_t *p)
{
    return load() ? PCAP_ERROR : lib.activate(p);
}

void pcap_close(pcap_t *p)
{
    if (load() == 0)
        lib.close(p);
}

int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize,
                 bpf_u_int32 netmask)
{
    return load() ? PCAP_ERROR : lib.compile(p, fp, str, optimize, netmask);
}

int pcap_datalink(pcap_t *p)
{
    return load() ? PCAP_ERROR : lib.datalink(p);
}

int pcap_dispatch(pcap_t *p, int cnt, pcap_handler callback, u_char *user)
{
    return load() ? PCAP_ERROR : lib.dispatch(p, cnt, callback, user);
}

void pcap_freecode(struct bpf_program *fp)
{
    if (load() == 0)
        lib.freecode(fp);
}

int pcap_get_selectable_fd(pcap_t *p)
{
    return load() ? PCAP_ERROR : lib.get_selectable_fd(p);
}

int pcap_get_tstamp_precision(pcap_t *p)
{
    return load() ? PCAP_ERROR : lib.get_tstamp_precision(p);
}

char *pcap_geterr(pcap_t *p)
{
    return load() ? lib_why : lib.geterr(p);
}

int pcap_set_buffer_size(pcap_t *p, int size)
{
    return load() ? PCAP_ERROR : lib.set_buffer_size(p, size);
}

int pcap_set_immediate_mode(pcap_t *p, int on)
{
    return load() ? PCAP_ERROR : lib.set_immediate_mode(p, on);
}

int pcap_set_promisc(pcap_t *p, int on)
{
    return load() ? PCAP_ERROR : lib.set_promisc(p, on);
}

int pcap_set_snaplen(pcap_t *p, int snaplen)
{
    return load() ? PCAP_ERROR : lib.set_snaplen(p, snaplen);
}

int pcap_set_tstamp_precision(pcap_t *p, int precision)
{
    return load() ? PCAP_ERROR : lib.set_tstamp_precision(p, precision);
}

int pcap_setfilter(pcap_t *p, struct bpf_program *fp)
{
    return load() ? PCAP_ERROR : lib.setfilter(p, fp);
}

int pcap_setnonblock(pcap_t *p, int nonblock, char *errbuf)
{
    if (load() != 0) {
        snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", lib_why);
        return PCAP_ERROR;
    }
    return lib.setnonblock(p, nonblock, errbuf);
}

int pcap_stats(pcap_t *p, struct pcap_stat *ps)
{
    return load() ? PCAP_ERROR : lib.stats(p, ps);
}

const char *pcap_statustostr(int error)
{
    return load() ? lib_why : lib.statustostr(error);
}
