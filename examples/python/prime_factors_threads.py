#!/usr/bin/env python3
"""The lecture's second CPU-bound problem: the prime factors of a list of numbers by trial
division, one threading.Thread per number, the results collected through a queue.Queue.

Under the GIL the threads take turns: no faster than factoring the numbers one by one.

    python3 prime_factors_threads.py [n ...]     (default: 16 numbers near 10**10)
"""

import queue
import threading

import bench

DEFAULT = [9999999967, 9999999943, 9999999929, 9999999881, 9999999851, 9999999833,
           9999999817, 9999999787, 100003 * 100019, 100043 * 100049, 100057 * 100069,
           100103 * 100109, 100129 * 100151, 100153 * 100169, 100183 * 100189,
           100193 * 100207]


def prime_factors(n):
    factors = []
    d = 2
    while d * d <= n:
        while n % d == 0:
            factors.append(d)
            n //= d
        d += 1
    if n > 1:
        factors.append(n)
    return factors


def threaded_prime_factors(numbers):
    results = queue.Queue()

    def worker(n):
        results.put((n, prime_factors(n)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(results.get() for _ in numbers)


def add_arguments(parser):
    parser.add_argument("numbers", nargs="*", type=int, default=DEFAULT)


def run(args):
    factors = threaded_prime_factors(args.numbers)
    for n, fs in factors.items():
        product = 1
        for p in fs:
            product *= p
        assert product == n, (n, fs)
    primes = sum(1 for fs in factors.values() if len(fs) == 1)
    return bench.Result(len(args.numbers),
                        "%d numbers factored, %d of them prime" % (len(args.numbers), primes))


if __name__ == "__main__":
    bench.main("prime factors (threads)", add_arguments, run)
