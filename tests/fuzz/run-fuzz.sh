#!/bin/sh
# Builds every libFuzzer harness (tests/fuzz/fuzz_*.c) with clang and
# -fsanitize=fuzzer,address,undefined, then fuzzes each for SECONDS seconds over a scratch copy of
# its corpus. Prints one line per harness ("fuzz_wire: N runs, X exec/s, ok" or the crash) and
# exits non-zero if any harness failed to build or crashed, leaked, or tripped a sanitizer.
#
# usage: tests/fuzz/run-fuzz.sh [SECONDS] [NAME...]      (default 60 s, every harness)
#   FUZZ_BUILD   build directory (default <repo>/build-fuzz); configured on first use with
#                CC=clang --enable-fuzzers --enable-sanitizers, every object compiled with
#                -fsanitize=fuzzer-no-link so the libraries report coverage too
#   FUZZ_ARGS    extra libFuzzer flags, e.g. "-max_len=65536 -jobs=2"
#   FUZZ_KEEP=1  keep the scratch corpora (new inputs the fuzzer found) and print where they are
# The committed corpus (tests/fuzz/corpus/<name>/) is only read; crash inputs are written to
# $FUZZ_BUILD/fuzz-artifacts/. To add a new input to the corpus, copy it there by hand.
set -u

secs=${1:-60}
[ $# -gt 0 ] && shift
case $secs in *[!0-9]* | '') echo "usage: $0 [SECONDS] [NAME...]" >&2; exit 2 ;; esac

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$top/build-fuzz}
cc=${CC:-clang}
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

names=$*
if [ -z "$names" ]; then
    for src in "$top"/tests/fuzz/fuzz_*.c; do
        [ -e "$src" ] && names="$names $(basename "$src" .c | sed 's/^fuzz_//')"
    done
fi
[ -n "$names" ] || { echo "no harnesses in $top/tests/fuzz" >&2; exit 1; }

# Configure once (again if configure is newer than the build's config.status).
mkdir -p "$build" || exit 1
if [ ! -f "$build/Makefile" ] || [ "$top/configure" -nt "$build/config.status" ]; then
    [ -x "$top/configure" ] || { echo "run ./autogen.sh in $top first" >&2; exit 1; }
    echo "configuring $build (CC=$cc)"
    (cd "$build" && "$top/configure" CC="$cc" CFLAGS="-g -O1 -Wno-unknown-warning-option $san" \
        --enable-fuzzers --enable-sanitizers >configure.out 2>&1) ||
        { echo "configure failed: see $build/configure.out and $build/config.log" >&2; exit 1; }
fi

artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
status=0
for name in $names; do
    harness=fuzz_$name
    log=$build/$harness.log
    # The generated protobuf header first: BUILT_SOURCES are only made by `make all/check`.
    if ! make -C "$build" lib/rajnet.pb-c.h "tests/fuzz/$harness" >"$build/$harness.build.log" 2>&1
    then
        echo "$harness: BUILD FAILED (see $build/$harness.build.log)"
        status=1
        continue
    fi
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/$harness.XXXXXX") || exit 1
    if [ -d "$top/tests/fuzz/corpus/$name" ]; then
        cp -R "$top/tests/fuzz/corpus/$name/." "$scratch/"
    fi
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$build/tests/fuzz/$harness" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$artifacts/$harness-" ${FUZZ_ARGS:-} "$scratch" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "$harness: ${runs:-?} runs, ${rate:-?} exec/s, ok"
    else
        what=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log")
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "$harness: CRASH after ${runs:-?} runs: ${what:-exit $rc}"
        echo "    input: ${crash:-none written}; log: $log"
        status=1
    fi
    if [ "${FUZZ_KEEP:-0}" = 1 ]; then
        echo "    scratch corpus kept in $scratch"
    else
        rm -rf "$scratch"
    fi
done
exit "$status"
