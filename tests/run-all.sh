#!/usr/bin/env bash
# The whole test suite, from a fresh clone, as root: installs dependencies, builds (warnings are
# errors) once plainly and once with ASan+UBSan, then runs
#   - the cmocka unit tests of both builds (each test case counts),
#   - every fuzz harness over its committed corpus, then a short libFuzzer run of each,
#   - the integration tests (real snmpd, network namespaces, rrdtool), each "ok"/"not ok" line;
#     the ASan build, the unit tests, the fuzzing and the tests without the simulated RajNet run
#     beside the tests on it (the simulation's tests, one at a time, are the longest lane: they
#     start as soon as the plain build is there).
# Prints one line per result and ends with "N passed, N failed[, N skipped]".
#   FUZZ_SECONDS   seconds per harness for the libFuzzer run (default 15; 0 skips it)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/tests/out
passed=0 failed=0 skipped=0

if [ "$(id -u)" -ne 0 ]; then
    echo "run-all: must run as root (packages, network namespaces, snmpd)" >&2
    exit 1
fi
"$repo/deploy/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }
"$repo/deploy/build.sh" || { echo "0 passed, 1 failed"; exit 1; }
rm -rf "$out" && mkdir -p "$out"

result() { # result ok|fail|skip NAME [DETAIL]
    case $1 in
        ok) passed=$((passed + 1)); echo "ok - $2" ;;
        skip) skipped=$((skipped + 1)); echo "skip - $2${3:+: $3}" ;;
        *) failed=$((failed + 1)); echo "FAIL - $2${3:+: $3}" ;;
    esac
}

# Runs one cmocka binary; prints one "ok - " / "FAIL - " / "skip - " line per test case (counted
# later by tally) and the failures' context.
run_cmocka() {
    local bin=$1 label=$2 log
    log="$out/$(echo "$label" | tr '/ ' '__').log"
    ( cd "$(dirname "$bin")" && timeout 300 "$bin" ) >"$log" 2>&1
    local rc=$? n_fail
    # cmocka names a failed or skipped test twice (as it happens and in its summary): count once
    n_fail=$(grep '^\[  FAILED  \] test_\|^\[  ERROR   \] test_' "$log" | sort -u | wc -l)
    grep '^\[       OK \]' "$log" | sed "s|^\[       OK \] |ok - $label: |"
    grep '^\[  FAILED  \] test_\|^\[  ERROR   \] test_' "$log" | sort -u | sed "s|^\[ *[A-Z]* *\] |FAIL - $label: |"
    grep '^\[  SKIPPED \] test_' "$log" | sort -u | sed "s|^\[  SKIPPED \] |skip - $label: |"
    if [ $rc -ne 0 ] && [ "$n_fail" -eq 0 ]; then
        echo "FAIL - $label: exited $rc without a cmocka failure (crash or sanitizer report, see $log)"
        tail -15 "$log" | sed 's/^/    /'
    elif [ "$n_fail" -gt 0 ]; then
        grep -B2 -A8 'FAILED\|ERROR\|Failure' "$log" | head -40 | sed 's/^/    /'
    fi
}

unit_and_corpora() { # the cmocka tests of both builds, then each fuzz harness over its corpus
    for build in build build-asan; do
        for bin in $(find "$repo/$build/tests/unit" -type f -name 'test_*' -perm -u+x | sort); do
            run_cmocka "$bin" "$build/${bin#"$repo/$build/tests/unit/"}"
        done
    done
    for bin in "$repo"/build-asan/tests/fuzz/fuzz_*; do
        [ -x "$bin" ] || continue
        local name corpus msg
        name=$(basename "$bin"); corpus=$repo/tests/fuzz/corpus/${name#fuzz_}
        if [ ! -d "$corpus" ]; then echo "FAIL - $name corpus replay: no corpus at $corpus"; continue; fi
        if msg=$("$bin" "$corpus" 2>&1); then echo "ok - $name replays its corpus under ASan+UBSan ($(echo "$msg" | tail -1))"
        else echo "FAIL - $name corpus replay: $(echo "$msg" | tail -5)"; fi
    done
}

tally() { # tally FILE: counts its result lines, prints everything
    local line
    while IFS= read -r line; do
        case $line in
            "ok - "*) passed=$((passed + 1)) ;;
            "FAIL - "*) failed=$((failed + 1)) ;;
            "skip - "*) skipped=$((skipped + 1)) ;;
        esac
        echo "$line"
    done < "$1"
}

# The tests on the simulated RajNet (they source deploy/stack.sh) run one after another in the
# foreground: they share the namespaces, and mostly wait on timers (soaks, cuts of minutes).
# Beside them, niced: (1) the unit tests, the corpus replays, the libFuzzer runs and the
# integration tests that need no simulated RajNet; (2) the standalone tests that take many
# minutes of timers (marked "# ci: own lane"). Results are printed afterwards in a fixed order.
fuzz_seconds=${FUZZ_SECONDS:-15}
standalone=() on_stack=() own_lane=()
for t in "$repo"/tests/integration/test_*.sh; do
    if grep -q 'deploy/stack.sh' "$t"; then on_stack+=("$t")
    elif grep -q '^# ci: own lane' "$t"; then own_lane+=("$t")
    else standalone+=("$t"); fi
done
run_integration() { # run_integration SCRIPT: its output into $out/NAME.log, its status into .rc
    local name; name=$(basename "$1" .sh)
    timeout 900 "$1" >"$out/$name.log" 2>&1
    echo $? >"$out/$name.rc"
}
(
    renice -n 10 -p "$BASHPID" >/dev/null 2>&1 # what it starts inherits the niceness
    {
        BUILD_DIR=$repo/build-asan "$repo/deploy/build.sh" --enable-sanitizers \
            >"$out/build-asan.log" 2>&1 ||
            echo "FAIL - the ASan+UBSan build: $(tail -3 "$out/build-asan.log" | tr '\n' ' ')"
        unit_and_corpora
    } >"$out/unit.results" 2>&1
    if [ "$fuzz_seconds" -gt 0 ]; then
        "$repo/tests/fuzz/run-fuzz.sh" "$fuzz_seconds" >"$out/fuzz.log" 2>&1
        echo $? >"$out/fuzz.rc"
    fi
    for t in "${standalone[@]}"; do run_integration "$t"; done
) &
background=$!
(
    renice -n 10 -p "$BASHPID" >/dev/null 2>&1
    for t in "${own_lane[@]}"; do run_integration "$t"; done
) &
long_lane=$!
for t in "${on_stack[@]}"; do run_integration "$t"; done
wait "$background" "$long_lane"

echo "== unit tests and fuzz corpora"
tally "$out/unit.results"

echo "== fuzzing"
if [ "$fuzz_seconds" -gt 0 ]; then
    fuzz_rc=$(cat "$out/fuzz.rc" 2>/dev/null || echo 1)
    [ -f "$out/fuzz.log" ] || echo "(no output)" >"$out/fuzz.log"
    while IFS= read -r line; do
        case $line in
            fuzz_*": "*", ok") result ok "$line" ;;
            fuzz_*": "*) result fail "$line" ;;
        esac
    done < "$out/fuzz.log"
    if [ "$fuzz_rc" -ne 0 ] && ! grep -q '^fuzz_.*: ' "$out/fuzz.log"; then
        result fail "libFuzzer runs" "$(tail -5 "$out/fuzz.log")"
    fi
fi

echo "== integration tests"
for t in "$repo"/tests/integration/test_*.sh; do
    name=$(basename "$t" .sh)
    log=$out/$name.log
    rc=$(cat "$out/$name.rc" 2>/dev/null || echo 1)
    [ -f "$log" ] || echo "(no output: the test did not run)" >"$log"
    n_before=$failed
    while IFS= read -r line; do
        case $line in
            "ok - "*) result ok "$name: ${line#ok - }" ;;
            "not ok - "*) result fail "$name: ${line#not ok - }" ;;
            "skip - "*) result skip "$name: ${line#skip - }" ;;
        esac
    done < "$log"
    if [ "$rc" -ne 0 ] && [ $failed -eq $n_before ]; then
        result fail "$name" "exited $rc (see $log)"; tail -10 "$log"
    fi
done

summary="$passed passed, $failed failed"
[ $skipped -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ $failed -eq 0 ]
