"""Shared by the PyTorch benchmark scripts, as bench/timing.h is by the C++ ones: the median wall-clock time of
repeated runs after one warm-up run."""
import statistics
import time


def median_seconds(repeats, run):
    run()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
