#!/usr/bin/env python3
"""The lecture's threaded integration: integrate f(x) = x**2 from a to b with N points,
split into thread_count chunks, one threading.Thread per chunk, the chunk results collected
through a queue.Queue (examples/threading in the lecture, in Python 3).

The GIL lets one thread run Python code at a time, so on a CPU-bound problem more threads
buy nothing: try thread counts 1, 2, 4, 8 and compare.

    python3 integrate_threads.py [a] [b] [N] [thread_count]      (defaults 0 10 1000000 8)
"""

import queue
import threading

import bench


def f(x):
    return x**2


def integrate(f, a, b, N):
    s = 0
    dx = (b - a) / N
    for i in range(N):
        s += f(a + i * dx)
    return s * dx


def threading_integrate(f, a, b, N, thread_count=2):
    """break work into thread_count chunks, one thread each"""
    N_chunk = int(float(N) / thread_count)
    dx = float(b - a) / thread_count

    results = queue.Queue()

    def worker(*args):
        results.put(integrate(*args))

    threads = []
    for i in range(thread_count):
        x0 = dx * i
        x1 = x0 + dx
        thread = threading.Thread(target=worker, args=(f, x0, x1, N_chunk))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()

    return sum(results.get() for i in range(thread_count))


def add_arguments(parser):
    parser.add_argument("a", nargs="?", type=float, default=0.0)
    parser.add_argument("b", nargs="?", type=float, default=10.0)
    parser.add_argument("N", nargs="?", type=int, default=10**6)
    parser.add_argument("thread_count", nargs="?", type=int, default=8)


def run(args):
    x = threading_integrate(f, args.a, args.b, args.N, thread_count=args.thread_count)
    points = int(float(args.N) / args.thread_count) * args.thread_count
    return bench.Result(points, "Numerical solution with N=%d : %f" % (args.N, x))


if __name__ == "__main__":
    bench.main("integrator (threads)", add_arguments, run)
