#!/usr/bin/env python3
"""The lecture's Queue: producer threads put items into a bounded queue.Queue, consumer
threads take them out; `put` blocks while the queue is full and `get` while it is empty.

    python3 queue_producer_consumer.py [--items 20000] [--producers 4] [--consumers 4]
                                       [--maxsize 64]
"""

import queue
import threading

import bench


def producer(q, items):
    for i in items:
        q.put(i)


def consumer(q, count, sums, k):
    s = 0
    for _ in range(count):
        s += q.get()
    sums[k] = s


def produce_consume(items, producers, consumers, maxsize):
    q = queue.Queue(maxsize=maxsize)
    sums = [0] * consumers
    threads = [threading.Thread(target=producer, args=(q, range(p, items, producers)))
               for p in range(producers)]
    threads += [threading.Thread(target=consumer, args=(q, items // consumers, sums, k))
                for k in range(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(sums)


def add_arguments(parser):
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--maxsize", type=int, default=64)


def run(args):
    if args.items % args.consumers:
        raise SystemExit("--items must be a multiple of --consumers")
    total = produce_consume(args.items, args.producers, args.consumers, args.maxsize)
    assert total == args.items * (args.items - 1) // 2, total
    return bench.Result(args.items, "%d items passed through the queue" % args.items)


if __name__ == "__main__":
    bench.main("producers and consumers on a queue.Queue", add_arguments, run)
