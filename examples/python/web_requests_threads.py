#!/usr/bin/env python3
"""The lecture's "threading versus multiprocessing, networking edition": 100 threads, each
making one request to a web service that takes a while to answer. The GIL is released while
a thread waits for the network, so the requests wait side by side: 100 requests to a service
that takes 100 ms each take about 0.1 s, not 10 s.

Start a server first, e.g. `cargo run --release --example web_server`, then:

    python3 web_requests_threads.py http://127.0.0.1:8080/slow?ms=100 [--requests 100]
"""

import threading
import time
import urllib.request

import bench


def fetch(url, latencies, errors, i):
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError("status %d" % response.status)
    except Exception as e:  # reported once all threads are done
        errors.append("request %d: %s" % (i, e))
        return
    latencies[i] = time.perf_counter() - start


def threaded_requests(url, n):
    latencies = [None] * n
    errors = []
    threads = [threading.Thread(target=fetch, args=(url, latencies, errors, i))
               for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError("%d of %d requests failed; first: %s" % (len(errors), n, errors[0]))
    return latencies


def add_arguments(parser):
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=100)


def run(args):
    latencies = threaded_requests(args.url, args.requests)
    return bench.Result(args.requests, "%d requests answered" % args.requests, latencies)


if __name__ == "__main__":
    bench.main("concurrent web requests (threads)", add_arguments, run)
