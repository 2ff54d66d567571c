#!/usr/bin/env bash
# Soak: run the whole test suite (`cargo test`, what the README and CI run, doctests included)
# N times in a row and report which tests fail how often.
#
#   tests/soak.sh [N] [--loom] [--no-fail-fast] [--timeout SECS] [--shared-target]
#   tests/soak.sh --parse LOG...      print the failures found in cargo test logs, one a line
#
#   N               runs (default 30)
#   --loom          also run the loom step of .ci/run after each `cargo test`
#   --no-fail-fast  pass --no-fail-fast to cargo test, so a failing test binary does not stop
#                   the run (not what CI runs: by default the command is exactly `cargo test`)
#   --timeout SECS  kill a step (`cargo test`, or the loom step) that runs longer (default 1800);
#                   the run counts as failed and the test binary it was in is reported
#   --shared-target  build in the usual target dir (or $CARGO_TARGET_DIR) rather than in
#                   target/soak/target: by default the soak has its own, since another cargo
#                   command rebuilding the crate in the same dir mid-run (the working tree is
#                   shared) deletes the rlib under the running doctests, which then all fail
#                   with "extern location for spindle does not exist"
#
# The test binaries are built once first (`cargo test --no-run`). Each run's output goes to
# target/soak/run-K.log (and its failures to target/soak/run-K.failures); the summary, also
# written to target/soak/summary.txt, gives the runs, the green ones, the min/mean/max wall
# time per run and each failing test with the number of runs it failed in. A run in which
# cargo recompiled the crate (someone edited the sources meanwhile) is marked "rebuilt". A failure reads
# `BINARY: TEST`, BINARY being a file of tests/ (`sched_basics`), `lib` (unit tests), `doc`
# (doctests) or `loom:loom_sync`; a binary that died without naming a test reads
# `BINARY: CRASHED (signal: ...)`, one killed by --timeout `BINARY: TIMED OUT`, listing the
# tests libtest had reported as running for over 60 s. Exit status: 0 if every run was green,
# 1 if any failed, 2 on a usage or build error.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
    exit "${1:-2}"
}

# Reads cargo test output (one run's log) on stdin; prints each failure once, in order.
parse_failures() {
    awk '
    function add(what) { if (!(what in seen)) { seen[what] = 1; order[++n] = what } }
    function binary_of_path(p,    b) {              # target/debug/deps/sched_basics-0123abcd...
        b = p; sub(/^.*\//, "", b); sub(/-[0-9a-f]+$/, "", b)
        if (b == "spindle") b = "lib"
        if (b == "rustdoc") b = "doc"
        return prefix b
    }
    # A step marker written by soak.sh: the loom step gets its own prefix.
    /^=== soak: loom step/ { prefix = "loom:"; bin = prefix "?"; next }
    /^=== soak: cargo test/ { prefix = ""; bin = "?"; next }
    # "     Running tests/sched_basics.rs (target/debug/deps/sched_basics-0123)",
    # "     Running unittests runtime/lib.rs (target/debug/deps/spindle-0123)"
    /^ *Running .*\(.*\)$/ {
        p = $0; sub(/^.*\(/, "", p); sub(/\)$/, "", p)
        bin = binary_of_path(p); in_list = nlist = 0; named[bin] = 0; next
    }
    /^ *Doc-tests / { bin = prefix "doc"; in_list = nlist = 0; named[bin] = 0; next }
    /^error: could not compile/ { add("build: " $0); next }
    /^error: extern location for .* does not exist/ {
        add(bin ": NOTE: the library rlib vanished during the run (another cargo command rebuilding in the same target dir?)")
        next
    }
    # libtest: "test NAME has been running for over 60 seconds"
    match($0, /test .+ has been running for over [0-9]+ seconds$/) {
        t = substr($0, RSTART + 5, RLENGTH - 5); sub(/ has been running for over [0-9]+ seconds$/, "", t)
        slow[bin SUBSEP t] = 1; next
    }
    # "test NAME ... ok|FAILED|ignored" (doctests may follow "Couldn'"'"'t compile the test." on
    # the same line)
    match($0, /test .+ \.\.\. [A-Za-z]+/) {
        t = substr($0, RSTART + 5, RLENGTH - 5); r = t
        sub(/ \.\.\. [A-Za-z]+$/, "", t); sub(/^.* \.\.\. /, "", r)
        delete slow[bin SUBSEP t]
        if (r == "FAILED") { add(bin ": " t); named[bin] = 1 }
        next
    }
    # The list of failures at the end of a test binary'"'"'s output: the last "failures:" before
    # "test result:" (a test'"'"'s own output, printed above, may hold such a line too).
    /^failures:$/ { in_list = 1; nlist = 0; next }
    in_list && /^    [^ ]/ { t = $0; sub(/^    /, "", t); list[++nlist] = t; next }
    in_list { in_list = 0 }
    /^test result: FAILED/ {
        for (i = 1; i <= nlist; i++) { add(bin ": " list[i]); named[bin] = 1 }
        if (!named[bin]) add(bin ": FAILED (no test named)")
        named[bin] = 1; nlist = 0; next
    }
    /^test result: / { nlist = 0; next }
    # cargo: "  process didn'"'"'t exit successfully: `/path/bin` (signal: 11, SIGSEGV: ...)"
    /process didn.t exit successfully: `/ {
        p = $0; sub(/^[^`]*`/, "", p); sub(/[` ].*$/, "", p)
        how = $0; sub(/^.*` \(/, "", how); sub(/\)$/, "", how)
        b = binary_of_path(p)
        if (how ~ /^exit status: 101$/ && named[b]) next
        add(b ": " (how ~ /^signal/ ? "CRASHED (" how ")" : "exited (" how ")")); named[b] = 1
        next
    }
    # Written by run_step when it killed a step.
    /^=== soak: killed after/ {
        add(bin ": TIMED OUT")
        for (k in slow) { split(k, kk, SUBSEP); add(kk[1] ": " kk[2] " (still running at the timeout)") }
        delete slow
        next
    }
    END { for (i = 1; i <= n; i++) print order[i] }'
}

# Seconds since the epoch, with microseconds.
now() { echo "$EPOCHREALTIME"; }

runs=30
loom=0
shared_target=0
timeout_s=1800
cargo_args=()
if [[ ${1:-} == --parse ]]; then
    shift
    [[ $# -gt 0 ]] || usage
    for log in "$@"; do parse_failures <"$log"; done
    exit 0
fi
while [[ $# -gt 0 ]]; do
    case $1 in
        --loom) loom=1 ;;
        --no-fail-fast) cargo_args+=(--no-fail-fast) ;;
        --shared-target) shared_target=1 ;;
        --timeout) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; timeout_s=$2; shift ;;
        -h|--help) usage 0 ;;
        *) [[ $1 =~ ^[1-9][0-9]*$ ]] || usage; runs=$1 ;;
    esac
    shift
done

cd "$(dirname "$0")/.."
cmd="cargo test${cargo_args[*]:+ ${cargo_args[*]}}"
export CARGO_TERM_COLOR=never
out=target/soak
mkdir -p "$out"
rm -f "$out"/run-*.log "$out"/run-*.failures "$out"/summary.txt
((shared_target)) || export CARGO_TARGET_DIR=$out/target

# The loom step, as .ci/run has it (taken from there so that the two cannot drift apart).
loom_cmd=
if ((loom)); then
    loom_cmd=$(grep -E '^[^#]*spindle_loom.*cargo test' .ci/run | head -n1 || true)
    if [[ -z $loom_cmd ]]; then
        echo "soak: no loom step (a line with spindle_loom and cargo test) in .ci/run" >&2
        exit 2
    fi
fi

echo "soak: building the test binaries once: $cmd --no-run"
if ! cargo test --no-run "${cargo_args[@]}" >"$out/build.log" 2>&1; then
    tail -n 30 "$out/build.log" >&2
    echo "soak: the build failed (log: $out/build.log)" >&2
    exit 2
fi
if ((loom)); then
    echo "soak: building the loom step once: $loom_cmd --no-run"
    if ! bash -c "$loom_cmd --no-run" >>"$out/build.log" 2>&1; then
        tail -n 30 "$out/build.log" >&2
        echo "soak: the loom build failed (log: $out/build.log)" >&2
        exit 2
    fi
fi

# Runs "$@" with the timeout, appending to the log; sets step_rc (124 or 137: killed by the timeout).
# `timeout` puts the step in its own process group, out of reach of a Ctrl-C at the terminal:
# an interrupted soak passes the signal on (timeout hands it to the whole step) and stops.
step_pid=
on_signal() {
    if [[ -n $step_pid ]]; then
        kill -TERM "$step_pid" 2>/dev/null || true
        wait "$step_pid" 2>/dev/null || true
    fi
    echo "soak: interrupted" >&2
    exit 130
}
trap on_signal INT TERM HUP
run_step() {
    local log=$1
    shift
    timeout -k 30 "$timeout_s" "$@" >>"$log" 2>&1 </dev/null &
    step_pid=$!
    set +e
    wait "$step_pid"
    step_rc=$?
    set -e
    step_pid=
    if ((step_rc == 124 || step_rc == 137)); then
        echo "=== soak: killed after ${timeout_s} s (exit $step_rc)" >>"$log"
    fi
}

times=()
green=0
failed_runs=()
rebuilt_runs=()
for ((k = 1; k <= runs; k++)); do
    log=$out/run-$k.log
    fails=$out/run-$k.failures
    : >"$fails"
    start=$(now)
    echo "=== soak: cargo test: $cmd (run $k of $runs)" >"$log"
    run_step "$log" cargo test "${cargo_args[@]}"
    ok=$((step_rc == 0))
    if ((step_rc != 0)); then
        parse_failures <"$log" >>"$fails"
        [[ -s $fails ]] || echo "cargo test: failed (exit $step_rc), no failure found in the log" >>"$fails"
    fi
    if ((loom)); then
        loom_log=$(mktemp)
        echo "=== soak: loom step: $loom_cmd" >"$loom_log"
        run_step "$loom_log" bash -c "$loom_cmd"
        cat "$loom_log" >>"$log"
        if ((step_rc != 0)); then
            ok=0
            before=$(wc -l <"$fails")
            parse_failures <"$loom_log" >>"$fails"
            (($(wc -l <"$fails") > before)) || echo "loom: failed (exit $step_rc), no failure found in the log" >>"$fails"
        fi
        rm -f "$loom_log"
    fi
    rebuilt=
    grep -q '^ *Compiling spindle ' "$log" && rebuilt=" (rebuilt)" && rebuilt_runs+=("$k")
    secs=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    times+=("$secs")
    if ((ok)); then
        green=$((green + 1))
        printf 'run %d/%d: green   %7.1f s%s\n' "$k" "$runs" "$secs" "$rebuilt"
    else
        failed_runs+=("$k")
        printf 'run %d/%d: FAILED  %7.1f s%s  (%s)\n' "$k" "$runs" "$secs" "$rebuilt" \
            "$(paste -sd';' "$fails" | sed 's/;/; /g')"
    fi
done

{
    what=$cmd
    ((loom)) && what="$what, then the loom step"
    echo
    echo "soak summary: $runs run(s) of $what (target dir: ${CARGO_TARGET_DIR:-target})"
    echo "  green:        $green/$runs"
    printf '%s\n' "${times[@]}" | awk '
        NR == 1 { min = max = $1 } { s += $1; if ($1 < min) min = $1; if ($1 > max) max = $1 }
        END { printf "  time per run: min %.1f s, mean %.1f s, max %.1f s\n", min, s / NR, max }'
    ((${#rebuilt_runs[@]} == 0)) || echo "  rebuilt in:   run ${rebuilt_runs[*]} (the sources changed during the soak)"
    if ((${#failed_runs[@]})); then
        echo "  failed runs:  ${failed_runs[*]} (logs: $out/run-K.log)"
        echo "  failures (runs failed in, of $runs):"
        for k in "${failed_runs[@]}"; do sort -u "$out/run-$k.failures"; done |
            sort | uniq -c | sort -k1,1nr -k2 | sed 's/^ */    /'
    fi
} | tee "$out/summary.txt"

((green == runs))
