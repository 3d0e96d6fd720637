# Helpers for integration tests: TAP-style result lines that tests/run-all.sh counts.
#   ok NAME / not_ok NAME WHY    print one result line
#   check NAME CMD...            ok if CMD succeeds, else not ok
#   wait_for SECONDS CMD...      retry CMD every 0.2 s until it succeeds; returns 1 on timeout
#   rrd_last FILE DS             print the last value of data source DS (rrdtool lastupdate)
#   rrd_last_time FILE           print the time of the last update

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
