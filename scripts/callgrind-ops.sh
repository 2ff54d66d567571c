#!/usr/bin/env bash
# Instructions per operation of switch, yield, spawn+join and a channel ping-pong, counted by
# callgrind (run at N and 2N operations; the difference over N leaves start-up out), for the
# working tree and, if given, for another revision side by side:
#
#     scripts/callgrind-ops.sh [BASE_REV]
#
# Deterministic where wall-clock time on a shared 2-vCPU machine is not: use it to check that
# a change costs nothing, then confirm with the criterion benches on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind-ops: valgrind is not installed" >&2; exit 2; }
work=${TMPDIR:-/tmp}/spindle-callgrind-ops
mkdir -p "$work"

measure() { # $1: probe binary
  local w n a b
  for w in switch:200000 yield:100000 spawn_join:20000 pingpong:50000; do
    n=${w##*:}
    a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "${w%%:*}" "$n" 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*")
    b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "${w%%:*}" $((2 * n)) 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*")
    printf '%-11s %6d instructions/op\n' "${w%%:*}" $(((b - a) / n))
  done
}

build() { # $1: spindle source dir, $2: label
  local dir="$work/probe-$2"
  rm -rf "$dir" && cp -r scripts/probe "$dir"
  sed -i "s#path = \"../..\"#path = \"$1\"#" "$dir/Cargo.toml"
  (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --release --quiet)
  echo "$dir/target/release/spindle-probe"
}

if [ $# -ge 1 ]; then
  base="$work/base"
  git worktree remove --force "$base" 2>/dev/null || rm -rf "$base"
  git worktree add --quiet --detach "$base" "$1"
  echo "== $1"
  measure "$(build "$base" base)"
  git worktree remove --force "$base"
fi
echo "== working tree"
measure "$(build "$PWD" tree)"
