#!/bin/sh
# Installs every build, run and test dependency of rajnet-mon from Debian 12's archive.
# Idempotent and quick when everything is already there: apt is only asked when a package is missing.
set -eu

PACKAGES="
build-essential autoconf automake libtool pkg-config
libuv1-dev libsnmp-dev librrd-dev libpcap-dev libcap-dev libssl-dev libsqlite3-dev
libyaml-dev libjansson-dev libprotobuf-c-dev protobuf-c-compiler
libnetfilter-queue-dev libmnl-dev zlib1g-dev faketime
libcurl4-openssl-dev libmicrohttpd-dev
libcairo2-dev libpango1.0-dev poppler-utils
collectd-core liboping0 fping smitools prometheus linux-perf sqlite3
libcmocka-dev clang libclang-rt-14-dev
snmpd snmp snmptrapd rrdtool rrdcached chromium snmpsim
iproute2 iptables iputils-ping procps psmisc curl python3 openssl
debhelper dpkg-dev fakeroot systemd man-db groff-base lintian
"

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: must run as root (it calls apt-get install)" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# Debian's snmpd package starts a system-wide snmpd on install where an init runs; the simulated
# network runs its own per namespace, so a system one is not wanted.
if command -v pkill >/dev/null 2>&1; then pkill -x snmpd 2>/dev/null || true; fi
