#!/bin/sh
# `make check` test: replays every fuzz harness's committed corpus through its replay build
# (tests/fuzz/fuzz_<name>, linked with replay_main.c): fuzz_wire over corpus/wire/, fuzz_topology
# over corpus/topology/, and so on for each tests/fuzz/fuzz_<name>.c. A harness whose corpus is
# missing or empty is skipped with a message; a harness that crashes, or that was not built,
# fails the test. Runs from the top build directory, as automake runs TESTS; srcdir comes from the
# environment (automake exports it), so it works from an out-of-tree build.
#
# By hand: cd <builddir> && srcdir=<repo> <repo>/tests/fuzz/replay.sh
# Set REPLAY_WRAPPER (e.g. "valgrind -q --leak-check=full --error-exitcode=1") to run each
# replay under a checker.

top_srcdir=${abs_top_srcdir:-${srcdir:-$(dirname "$0")/../..}}
status=0
replayed=0
for src in "$top_srcdir"/tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    harness=$(basename "$src" .c)
    name=${harness#fuzz_}
    corpus=$top_srcdir/tests/fuzz/corpus/$name
    if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
        echo "$harness: SKIP, no corpus in tests/fuzz/corpus/$name/"
        continue
    fi
    if [ ! -x "tests/fuzz/$harness" ]; then
        echo "$harness: FAIL, tests/fuzz/$harness is not built"
        status=1
        continue
    fi
    # shellcheck disable=SC2086 # REPLAY_WRAPPER is a command line
    if ${REPLAY_WRAPPER:-} "tests/fuzz/$harness" "$corpus"; then
        replayed=$((replayed + 1))
    else
        echo "$harness: FAIL, replay of tests/fuzz/corpus/$name/ exited $?"
        status=1
    fi
done
if [ "$status" -eq 0 ] && [ "$replayed" -eq 0 ]; then
    echo "no corpus replayed"
    exit 77 # automake: skipped
fi
exit "$status"
