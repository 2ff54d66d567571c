"""The timing harness the lecture's programs in this folder share.

Each program defines `run(args)`, which does the work once and returns a `Result`; `main()`
parses the command line (the program's own arguments plus --json, --warmup and --samples),
does the warm-up runs, then times each sample with time.perf_counter() around `run` only,
so the interpreter's start-up is never part of a sample.

Without --json a program prints what it computed and how long it took, as the lecture's
programs do. With --json (how `cargo run --release --example compare -- --python` runs
them) it prints one line per sample:

    {"seconds": 0.123, "ops": 1000000, "latencies_s": [...]}

where "ops" counts what the program did (points, items, requests ...) and "latencies_s",
when present, lists the seconds each request took.
"""

import argparse
import json
import time


class Result:
    """What one run did: `ops` operations, an optional list of latencies in seconds, and a
    line of text for a person."""

    def __init__(self, ops, text, latencies=None):
        self.ops = ops
        self.text = text
        self.latencies = latencies


def main(description, add_arguments, run):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON line per sample (for the compare tool)")
    parser.add_argument("--warmup", type=int, default=0, help="untimed runs first")
    parser.add_argument("--samples", type=int, default=1, help="timed runs")
    add_arguments(parser)
    args = parser.parse_args()
    for _ in range(args.warmup):
        run(args)
    for _ in range(args.samples):
        start = time.perf_counter()
        result = run(args)
        seconds = time.perf_counter() - start
        if args.json:
            line = {"seconds": seconds, "ops": result.ops}
            if result.latencies is not None:
                line["latencies_s"] = result.latencies
            print(json.dumps(line), flush=True)
        else:
            print("%s  (%.1f ms)" % (result.text, seconds * 1e3))
