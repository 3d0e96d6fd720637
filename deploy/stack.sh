# Shell functions that run rajnet-mon on the simulated RajNet: one collector in the root
# namespace, one agent inside the namespace of each node that has one (villages marked
# `agent: false` have none). Sourced by deploy/demo.sh and by the integration tests.
#
#   RAJNET_MGMT=inband (default)  agents reach the collector at 10.77.255.253 over the data path,
#                       as a real block office does: a cut link silences the agents below it.
#   RAJNET_MGMT=oob     agents reach it over the simulation's management bridge (10.78.0.1), so
#                       a cut data link shows up as probe loss instead of silencing its agents
#                       (for tests that need live evidence from below a cut).
#
#   stack_start RUN_DIR   start the simulation, the collector and every agent; RUN_DIR holds
#                         certificates (RUN_DIR/pki), configs, logs, pids, the agents' spools
#                         and the RRD files (RUN_DIR/rrd)
#   stack_stop            stop agents and collector, tear the simulation down
#   stack_sim ARGS...     run deploy/sim/rajnet-sim with the stack's topology

STACK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_BUILD=${RAJNET_BUILD:-$STACK_REPO/build}
STACK_TOPOLOGY=${RAJNET_TOPOLOGY:-$STACK_REPO/deploy/sim/topology.yaml}
STACK_SECRETS=${RAJNET_SECRETS:-$STACK_REPO/deploy/sim/secrets.yaml}
STACK_MGMT=${RAJNET_MGMT:-inband}
case $STACK_MGMT in
    inband) STACK_COLLECTOR_ADDR=10.77.255.253 ;;  # rn-root, the root end of the root link
    oob) STACK_COLLECTOR_ADDR=10.78.0.1 ;;         # the management bridge rn-mgmt
    *) echo "stack: RAJNET_MGMT must be inband or oob, not '$STACK_MGMT'" >&2; return 1 ;;
esac
STACK_COLLECTOR_PORT=${RAJNET_PORT:-7400}
STACK_RUN=""
# HTTP API and dashboard (docs/api.md): where the collector serves them, and the demo's tokens.
STACK_HTTP_ADDR=${RAJNET_HTTP_ADDR:-127.0.0.1}
STACK_HTTP_PORT=${RAJNET_HTTP_PORT:-8080}
STACK_OPERATOR_TOKEN=rajnet-demo-operator
STACK_VIEWER_TOKEN=rajnet-demo-viewer

export RAJNET_BUILD=$STACK_BUILD

# Runs a command without the stack's lock descriptor: a daemon that inherited it (snmpd, a
# stand-in service, an agent) would hold the machine-wide lock for as long as it lives, and a
# run that died before stack_stop would then keep every later run waiting.
stack_nolock() {
    if [ -n "${STACK_LOCK_FD:-}" ]; then
        "$@" {STACK_LOCK_FD}>&-
    else
        "$@"
    fi
}

stack_sim() {
    stack_nolock "$STACK_REPO/deploy/sim/rajnet-sim" "$@"
}

# Prints the ids of the nodes that run an agent (a flat node line without a 5th field is one
# written before agentless nodes existed: it has an agent).
stack_nodes() {
    "$STACK_BUILD/deploy/sim/rajnet-topo" flat "$STACK_TOPOLOGY" "$STACK_SECRETS" |
        awk '$1 == "node" && $5 != "noagent" { print $2 }'
}

# Makes a state CA, the collector's certificate (for the address agents reach it at in this
# management mode) and one certificate per agent node under $STACK_RUN/pki, with
# deploy/pki/rajnet-pki (the same script a NOC uses).
stack_make_pki() {
    local pki=$STACK_RUN/pki node
    "$STACK_REPO/deploy/pki/rajnet-pki" ca "$pki" >/dev/null
    "$STACK_REPO/deploy/pki/rajnet-pki" collector "$pki" collector --ip "$STACK_COLLECTOR_ADDR" >/dev/null
    for node in $(stack_nodes); do
        "$STACK_REPO/deploy/pki/rajnet-pki" node "$pki" "$node" >/dev/null
    done
}

# Writes the collector's configuration into $STACK_RUN.
stack_write_collector_config() {
    cat > "$STACK_RUN/collector.yaml" <<YAML
listen: $STACK_COLLECTOR_ADDR:$STACK_COLLECTOR_PORT
topology: $STACK_TOPOLOGY
secrets: $STACK_SECRETS
data_dir: $STACK_RUN/rrd
log_level: info
tls:
  cert: $STACK_RUN/pki/collector.crt
  key: $STACK_RUN/pki/collector.key
  ca: $STACK_RUN/pki/ca.crt
http:
  listen: $STACK_HTTP_ADDR:$STACK_HTTP_PORT
  dashboard_dir: $STACK_REPO/dashboards/noc
  tokens:
    - { name: demo-operator, token: "$STACK_OPERATOR_TOKEN", role: operator }
    - { name: demo-viewer, token: "$STACK_VIEWER_TOKEN", role: viewer }
YAML
    # Tests add sections (e.g. notify:) through RAJNET_COLLECTOR_EXTRA.
    [ -n "${RAJNET_COLLECTOR_EXTRA:-}" ] && printf '%s\n' "$RAJNET_COLLECTOR_EXTRA" >> "$STACK_RUN/collector.yaml"
    return 0
}

# Starts the agent of node $1 in its namespace.
stack_start_agent() {
    local node=$1 flat=${1//\//-}
    mkdir -p "$STACK_RUN/agents/$flat"
    cat > "$STACK_RUN/agents/$flat/agent.yaml" <<YAML
node: $node
collectors: ["$STACK_COLLECTOR_ADDR:$STACK_COLLECTOR_PORT"]
state_dir: $STACK_RUN/agents/$flat
log_level: info
tls:
  cert: $STACK_RUN/pki/$flat.crt
  key: $STACK_RUN/pki/$flat.key
  ca: $STACK_RUN/pki/ca.crt
  collector_name: collector
YAML
    # the simulation's HTTPS stand-ins are signed by its own CA (deploy/sim/rajnet-sim)
    [ -f /run/rajnet-sim/service-ca.crt ] &&
        echo "service_ca: /run/rajnet-sim/service-ca.crt" >> "$STACK_RUN/agents/$flat/agent.yaml"
    local ns; ns=$(stack_sim ns "$node")
    # a subshell that closes the lock and execs: $! is the agent's own pid
    ( [ -z "${STACK_LOCK_FD:-}" ] || exec {STACK_LOCK_FD}>&-
      exec ip netns exec "$ns" "$STACK_BUILD/agent/rajnet-agent" \
        -c "$STACK_RUN/agents/$flat/agent.yaml" ) >>"$STACK_RUN/agents/$flat/agent.log" 2>&1 &
    echo $! > "$STACK_RUN/agents/$flat/pid"
}

stack_stop_agent() {
    local flat=${1//\//-} pid
    pid=$(cat "$STACK_RUN/agents/$flat/pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -f "$STACK_RUN/agents/$flat/pid"
}

stack_start_collector() {
    ( [ -z "${STACK_LOCK_FD:-}" ] || exec {STACK_LOCK_FD}>&-
      exec "$STACK_BUILD/collector/rajnet-collector" -c "$STACK_RUN/collector.yaml" ) \
        >>"$STACK_RUN/collector.log" 2>&1 &
    echo $! > "$STACK_RUN/collector.pid"
    local i
    for i in $(seq 50); do
        grep -q "listening for agents" "$STACK_RUN/collector.log" 2>/dev/null && return 0
        kill -0 "$(cat "$STACK_RUN/collector.pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "stack: the collector did not start; its log:" >&2
    tail -5 "$STACK_RUN/collector.log" >&2
    return 1
}

stack_stop_collector() {
    local pid
    pid=$(cat "$STACK_RUN/collector.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -f "$STACK_RUN/collector.pid"
}

# The simulated RajNet's namespaces and addresses are machine-wide: one stack at a time. The lock
# is held from stack_start to stack_stop (or the end of the process), so a second run waits.
stack_lock() {
    local fd
    exec {fd}>/tmp/rajnet-stack.lock
    if ! flock -n "$fd"; then
        echo "stack: another simulated RajNet is running; waiting for it (up to 15 min)" >&2
        flock -w 900 "$fd" || { echo "stack: gave up waiting" >&2; exec {fd}>&-; return 1; }
    fi
    STACK_LOCK_FD=$fd # held from here on: only now may stack_stop tear the simulation down
}

stack_start() {
    STACK_RUN=$1
    mkdir -p "$STACK_RUN"
    STACK_RUN=$(cd "$STACK_RUN" && pwd)
    stack_lock || return 1
    stack_sim up --topology "$STACK_TOPOLOGY" --secrets "$STACK_SECRETS" --mgmt "$STACK_MGMT" || return 1
    stack_make_pki || return 1
    stack_write_collector_config
    stack_start_collector || return 1
    local node
    for node in $(stack_nodes); do
        stack_start_agent "$node"
    done
    echo "stack: management $STACK_MGMT, agents reach the collector at $STACK_COLLECTOR_ADDR:$STACK_COLLECTOR_PORT" >&2
    echo "stack: dashboard and API at http://$STACK_HTTP_ADDR:$STACK_HTTP_PORT/" \
         "(operator token $STACK_OPERATOR_TOKEN)" >&2
}

stack_stop() {
    # Only the holder of the lock tears down: a run still waiting for it must not take the
    # simulation away from the one using it.
    [ -n "$STACK_RUN" ] && [ -n "${STACK_LOCK_FD:-}" ] || return 0
    local node
    for node in $(stack_nodes 2>/dev/null); do
        stack_stop_agent "$node"
    done
    stack_stop_collector
    stack_sim down >/dev/null 2>&1 || true
    [ -n "${STACK_LOCK_FD:-}" ] && exec {STACK_LOCK_FD}>&-
    STACK_LOCK_FD=""
}

# Prints the RRD file of a series: stack_rrd NODE SOURCE [DEVICE] OBJECT
stack_rrd() {
    if [ $# -eq 4 ]; then
        echo "$STACK_RUN/rrd/$1/$2/$3/$4.rrd"
    else
        echo "$STACK_RUN/rrd/$1/$2/$3.rrd"
    fi
}
