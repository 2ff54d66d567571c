#!/usr/bin/env bash
# Leak check under valgrind: churn, cancellation and the echo server end with 0 bytes
# definitely and 0 bytes indirectly lost, and no memcheck error.
#
#   scripts/valgrind-leaks.sh
#
# Builds the test binaries `churn` and `cancel_points` and the example `echo_server` (dev
# profile: debug info, and the build `cargo test` already made), then runs each of these
# under
#
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
#            --max-stackframe=16384 --fair-sched=yes
#
# 1. churn, cooperative (tests/churn.rs, in this process: its *_CHILD variable set):
#    batches and a sliding window of up to 10,000 tasks, VALGRIND_CHURN cycles each
#    (default 50,000) after a warm-up (20,000 cycles, then 10,000 tasks started at once:
#    most of the time under valgrind, which is why a smaller count saves little);
# 2. churn, preemptive: VALGRIND_CHURN_PREEMPTIVE threads (default 1,000), 100 at a time;
# 3. cancel_points (tests/cancel_points.rs): a daemon cancelled at each of its 15 yield
#    points and once not at all, each ended three ways, on 1 and 2 workers (96 runs);
# 4. echo_server --selftest 4: the server (accept loop, a task per connection) and four
#    clients in one runtime do 64-byte round trips for about a second, then the clients
#    close, the accept loop (a daemon) is cancelled and the runtime dropped; cooperative,
#    then --preemptive.
#
# A step passes when valgrind exits 0 (no memcheck error; no definite or indirect leak) and
# the program's own check passed. Each step's LEAK SUMMARY and wall time are printed; the
# full logs are left in $VALGRIND_LOGS (default target/valgrind). "Possibly lost" blocks are
# allowed, as pointers valgrind cannot follow: crossbeam-epoch keeps each thread's
# registration in a list of tagged pointers (2,304 bytes), std keeps a thread's `Thread`
# handle in a tagged thread-local (48 bytes), and the preemptive echo server's accept loop
# is a daemon thread, left running (detached) at exit with its TLS block (288 bytes).
#
# Stack switching, and --max-stackframe=16384: memcheck follows the stack pointer; a move
# of less than --max-stackframe (default 2,000,000 bytes) it takes for a frame pushed or
# popped, and paints the memory in between (undefined, or no access); a larger one for a
# switch to another stack ("client switching stacks?", warned three times, then silently).
# A coroutine switch moves the stack pointer between a worker's thread stack and a
# coroutine stack (resume and suspend), and a 64 MiB chunk of coroutine stacks can be mapped
# right next to a worker's 2 MiB thread stack: with the default, a switch to a stack slot
# within 2 MB of the worker's stack pointer was taken for a frame, and the cancel_points
# run reported 143,633 false errors (invalid reads of the worker's and the coroutines' own
# frames, "uninitialised" values read back from them). With 16 KiB every switch is a switch
# (stacks are 128 KiB slots; a coroutine would have to use over 112 KiB of its stack, in the
# slot next to a worker's stack, to come closer), while Rust code never moves the pointer
# that far down at once: it probes frames over 4 KiB a page at a time (inline stack probes).
# A larger frame's pop merely goes unpainted. Every step here reports 0 errors with it.
#
# --fair-sched=yes: valgrind runs one thread at a time, and by default hands the CPU from
# thread to thread through a lock that favours the thread that just let it go. A thread that
# waits by running (a task polling with `yield_now`, an idle worker's 20 µs spin) then got
# the CPU again and again while the thread it waited for stood still for seconds: the
# cancel_points run took 2 to 133 s over 19 runs (the watchdog reported tasks "running 3.2 s
# without yielding" that were merely not scheduled), and one CI run passed its test's 120 s
# bound. With the ticket lock of --fair-sched=yes threads take turns: 10 runs, 2 to 3 s each.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

churn=${VALGRIND_CHURN:-50000}
churn_pre=${VALGRIND_CHURN_PREEMPTIVE:-1000}
case "${1:-}" in
    "") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: scripts/valgrind-leaks.sh (VALGRIND_CHURN=N, VALGRIND_CHURN_PREEMPTIVE=N)" >&2; exit 2 ;;
esac

command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
logs=${VALGRIND_LOGS:-$target/valgrind}
mkdir -p "$logs"

start=$SECONDS
echo "== building (dev profile)"
exes=$(cargo test --no-run --test churn --test cancel_points --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["target"]["name"], m["executable"])
')
cargo build --example echo_server 2>&1 | tail -1
exe_of() { awk -v t="$1" '$1 == t { print $2 }' <<<"$exes"; }
churn_exe=$(exe_of churn)
cancel_exe=$(exe_of cancel_points)
echo_exe=$target/debug/examples/echo_server
for f in "$churn_exe" "$cancel_exe" "$echo_exe"; do
    [ -x "$f" ] || { echo "not built: '$f'" >&2; exit 2; }
done
echo "built in $((SECONDS - start)) s"

failed=()
summary=()
# vg NAME CHECK ENV... -- COMMAND...: runs COMMAND under valgrind; CHECK is a regex its
# stdout must match (the program's own success line).
vg() {
    local name=$1 check=$2; shift 2
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    local log=$logs/$name.log out=$logs/$name.out t0=$SECONDS rc=0
    echo "== $name"
    env "${envs[@]}" valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=1 --max-stackframe=16384 --fair-sched=yes --log-file="$log" "$@" >"$out" 2>&1 || rc=$?
    local took=$((SECONDS - t0))
    grep -E "definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks|ERROR SUMMARY" "$log" |
        sed 's/^==[0-9]*== */   /'
    grep -E "round trips in|cycles \(at most|passed;" "$out" | sed 's/^/   /' || true
    local verdict=ok
    if [ "$rc" -ne 0 ]; then
        verdict="FAILED (exit $rc)"
    elif ! grep -qE "$check" "$out"; then
        verdict="FAILED (no '$check' in its output)"
    elif ! grep -qE "definitely lost: 0 bytes|All heap blocks were freed" "$log" ||
        ! grep -qE "indirectly lost: 0 bytes|All heap blocks were freed" "$log"; then
        verdict="FAILED (a leak)"
    fi
    echo "   $verdict in $took s (logs: $log, $out)"
    summary+=("$(printf '%-26s %-34s %5d s' "$name" "$verdict" "$took")")
    [ "$verdict" = ok ] || failed+=("$name")
}

tests=(--exact --nocapture --test-threads=1)
vg churn-batches "1 passed" SPINDLE_CHURN="$churn" SPINDLE_CHURN_BATCHES_CHILD=1 -- \
    "$churn_exe" cooperative_batches_return_maps_fds_threads_and_rss "${tests[@]}"
vg churn-window "1 passed" SPINDLE_CHURN="$churn" SPINDLE_CHURN_WINDOW_CHILD=1 -- \
    "$churn_exe" cooperative_sliding_window_returns_maps_fds_threads_and_rss "${tests[@]}"
vg churn-preemptive "1 passed" SPINDLE_CHURN_PREEMPTIVE="$churn_pre" \
    SPINDLE_CHURN_PREEMPTIVE_CHILD=1 -- \
    "$churn_exe" preemptive_churn_returns_threads_and_fds "${tests[@]}"
vg cancel-points "2 passed" RUST_BACKTRACE=0 -- "$cancel_exe" --test-threads=1
vg echo-server "round trips in" RUST_BACKTRACE=0 -- "$echo_exe" --selftest 4
vg echo-server-preemptive "round trips in" RUST_BACKTRACE=0 -- \
    "$echo_exe" --selftest 4 --preemptive

echo
echo "== summary (churn: $churn cycles, preemptive: $churn_pre; total $((SECONDS - start)) s)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all clean: 0 bytes definitely lost, 0 bytes indirectly lost, 0 errors"
