#!/usr/bin/env python3
"""The lecture's race condition, solved: threads add 1 to a shared counter, each addition
under a threading.Lock, so no update is lost.

    python3 lock_counter.py [--threads 100] [--each 200]
"""

import threading

import bench


class Counter:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    def increment(self):
        with self.lock:
            self.value += 1


def hammer(counter, each):
    for _ in range(each):
        counter.increment()


def count_with_threads(threads, each):
    counter = Counter()
    ts = [threading.Thread(target=hammer, args=(counter, each)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return counter.value


def add_arguments(parser):
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--each", type=int, default=200)


def run(args):
    total = count_with_threads(args.threads, args.each)
    assert total == args.threads * args.each, total
    return bench.Result(total, "counter = %d" % total)


if __name__ == "__main__":
    bench.main("a shared counter under a Lock", add_arguments, run)
