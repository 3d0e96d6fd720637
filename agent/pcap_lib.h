/* libpcap, loaded on first use by the VC capture (pcap_capture.c).
 *
 * Why not link it. Debian's libpcap.so.0.8 needs libdbus-1, which needs libsystemd, which needs
 * libgcrypt, libgpg-error, liblzma, libzstd and liblz4: eight libraries, about 1.2 MB of resident
 * pages in every agent, while only agents with a VC capture in their plan open a capture. So the
 * agent is not linked against libpcap. Instead pcap_lib.c defines the libpcap functions that
 * pcap_capture.c calls, with their <pcap/pcap.h> prototypes (the compiler checks each definition
 * against the header), and each forwards to libpcap's own function, loaded with dlopen(3) by the
 * first pcap_create(). pcap_capture.c stays written against the plain libpcap API. Figures:
 * tests/bench/README.md, "Agent footprint".
 *
 * When the library cannot be loaded, pcap_create() returns NULL with "libpcap.so.0.8 not loaded:
 * <dlerror>" in its errbuf, which pcap_capture.c reports as it reports any capture that does not
 * open. A program that links libpcap itself (a test reading pcap files) does not link these
 * definitions unless it also uses pcap_capture.c.
 *
 * Threading: loop thread only, like the capture. The library stays loaded until exit. */
#ifndef RN_PCAP_LIB_H
#define RN_PCAP_LIB_H

#define RN_PCAP_LIB_SONAME "libpcap.so.0.8"

/* Returns 1 once libpcap has been loaded into this process, 0 before (or after it failed). */
int rn_pcap_lib_loaded(void);

/* For tests: forgets the outcome of the last attempt, so that the next pcap_create() loads
 * soname (NULL: RN_PCAP_LIB_SONAME). A library loaded before stays mapped. */
void rn__pcap_lib_use(const char *soname);

#endif
