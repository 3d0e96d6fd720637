#!/bin/sh
# Builds rajnet-mon out of tree into BUILD_DIR (default: build/ in the repository).
# Extra arguments go to configure (e.g. --enable-sanitizers). Quick when nothing changed.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$repo/build}
[ -x "$repo/configure" ] || (cd "$repo" && ./autogen.sh >/dev/null 2>&1) || {
    echo "build: autogen.sh failed; run it by hand to see why" >&2; exit 1; }
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$*" ]; then
    "$repo/configure" --enable-werror "$@" >configure.out 2>&1 || {
        tail -20 configure.out >&2; echo "build: configure failed (see $build/configure.out)" >&2; exit 1; }
    printf '%s' "$*" > .configure-args
fi
make -j"$(nproc)" all >make.out 2>&1 || { grep -E "error|Error" make.out | head -30 >&2;
    echo "build: make failed (see $build/make.out)" >&2; exit 1; }
make -j"$(nproc)" check TESTS= >>make.out 2>&1 || { grep -E "error|Error" make.out | head -30 >&2;
    echo "build: building the tests failed (see $build/make.out)" >&2; exit 1; }
echo "build: ok ($build)"
