# Helpers for integration tests: TAP-style result lines that tests/run-all.sh counts.
#   ok NAME / not_ok NAME WHY    print one result line
#   check NAME CMD...            ok if CMD succeeds, else not ok
#   wait_for SECONDS CMD...      retry CMD every 0.2 s until it succeeds; returns 1 on timeout
#   rrd_last FILE DS             print the last value of data source DS (rrdtool lastupdate)
#   rrd_last_time FILE           print the time of the last update
#   free_port [tcp|udp]          print a port on 127.0.0.1 that was free a moment ago (tcp)
#   loopback_pki DIR NODE...     a state CA, the collector's certificate for 127.0.0.1 and one
#                                certificate per node under DIR (deploy/pki/rajnet-pki)
#   loopback_agent DIR PKI NODE PORT      an agent's folder for a collector on 127.0.0.1:PORT
#   loopback_collector DIR LISTEN STATE [LINE...]  DIR/collector.yaml (below)
#   loopback_topology FILE [LINE...]      sdc and one district, jaipur, both on 127.0.0.1

TEST_FAILS=0

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1${2:+: $2}"; TEST_FAILS=$((TEST_FAILS + 1)); }

check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

wait_for() {
    local secs=$1; shift
    local deadline=$(( $(date +%s%N) + secs * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$deadline" ]; do
        "$@" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# rrdtool lastupdate prints a header line of DS names, a blank line, then "time: v1 v2 ...".
rrd_last() {
    rrdtool lastupdate "$1" 2>/dev/null | awk -v ds="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1 }
        NR == 3 && col { print $col }'
}

rrd_last_time() {
    rrdtool lastupdate "$1" 2>/dev/null | awk 'NR == 3 { sub(":", "", $1); print $1 }'
}

# browser_ready: Debian's chromium, node and tests/browser's playwright-core (npm ci, once: tests
# that run side by side take a lock, so one install never pulls the modules from under another).
# Returns 1 after a not_ok line naming what is missing.
browser_ready() {
    local dir out
    dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../browser" && pwd)
    [ -x /usr/bin/chromium ] || { not_ok "Debian's chromium is installed" "run deploy/install-deps.sh"; return 1; }
    command -v node >/dev/null && command -v npm >/dev/null || { not_ok "node and npm are on PATH"; return 1; }
    out=$(flock /tmp/rajnet-npm.lock bash -c "[ -f '$dir/node_modules/playwright-core/package.json' ] ||
          (cd '$dir' && npm ci --no-audit --no-fund)" 2>&1) ||
        { not_ok "npm ci in tests/browser installs playwright-core" "$(echo "$out" | tail -3)"; return 1; }
}

free_port() {
    /usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "${1:-tcp}"
}

# loopback_agent DIR PKI NODE PORT: an agent's folder DIR for NODE (its certificate from PKI, made
# by loopback_pki) and DIR/agent.yaml for the collector at 127.0.0.1:PORT, its state in DIR/state.
loopback_agent() {
    local dir=$1 pki=$2 node=$3 port=$4
    mkdir -p "$dir" && cp "$pki/$node.crt" "$pki/$node.key" "$pki/ca.crt" "$dir/" || return 1
    cat >"$dir/agent.yaml" <<EOF
node: $node
collectors: ["127.0.0.1:$port"]
state_dir: $dir/state
log_level: info
tls: { cert: $node.crt, key: $node.key, ca: ca.crt, collector_name: collector }
EOF
}

# loopback_collector DIR LISTEN STATE [LINE...]: DIR/collector.yaml for a collector listening on
# LISTEN (host:port) with DIR/topology.yaml and DIR/secrets.yaml, its RRD files in DIR/rrd, its
# state in STATE and the certificates of DIR/pki (loopback_pki); each LINE is appended as it is.
loopback_collector() {
    local dir=$1 listen=$2 state=$3; shift 3
    {
        printf 'listen: %s\ntopology: topology.yaml\nsecrets: secrets.yaml\n' "$listen"
        printf 'data_dir: %s/rrd\nstate_dir: %s\n' "$dir" "$state"
        echo 'tls: { cert: pki/collector.crt, key: pki/collector.key, ca: pki/ca.crt }'
        [ $# -gt 0 ] && printf '%s\n' "$@"
    } >"$dir/collector.yaml"
}

# loopback_topology FILE [LINE...]: the smallest RajNet, sdc and the district jaipur (one device
# each on 127.0.0.1, one MPLS uplink over lo), 1 s probing; each LINE goes in before "nodes:"
# (services:, ...). Its secrets file: echo 'ro: { community: not-a-real-one }'.
loopback_topology() {
    local file=$1; shift
    {
        cat <<'EOF'
settings: { poll_interval_s: 5, probe_interval_s: 1, probe_count: 3 }
vendors: { bsnl: { name: BSNL, contact: noc@bsnl.example } }
sla_classes:
  dhq: { availability: 99.5, max_latency_ms: 80, max_loss_pct: 1.0, max_jitter_ms: 30, min_outage_s: 0,
         restore_hours: { S1: 4, S2: 16 }, penalty: [[99.5, 0], [0, 20]] }
EOF
        [ $# -gt 0 ] && printf '%s\n' "$@"
        cat <<'EOF'
nodes:
  sdc:
    tier: sdc
    devices: [{ name: core1, addr: 127.0.0.1, snmp: { version: 2c, secret: ro } }]
  jaipur:
    tier: district
    parent: sdc
    devices: [{ name: rtr1, addr: 127.0.0.1, snmp: { version: 2c, secret: ro } }]
    uplinks:
      - { circuit: JPR-1, vendor: bsnl, kind: mpls, mbps: 34, sla: dhq, role: primary,
          local: { device: rtr1, ifname: lo }, remote: { device: core1, ifname: lo } }
EOF
    } >"$file"
}

loopback_pki() {
    local dir=$1 pki node; shift
    pki="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/deploy/pki/rajnet-pki"
    "$pki" ca "$dir" >/dev/null && "$pki" collector "$dir" collector --ip 127.0.0.1 >/dev/null || return 1
    for node in "$@"; do "$pki" node "$dir" "$node" >/dev/null || return 1; done
}
