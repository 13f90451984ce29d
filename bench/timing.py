"""Shared by the PyTorch benchmark scripts, as bench/timing.h is by the C++ ones: the median wall-clock time of
repeated runs after one warm-up run."""
import statistics
import time


def median_seconds(repeats, run, synchronize=None):
    """`synchronize`, when given, runs after each run inside the timing (torch.cuda.synchronize: count the
    queued GPU work)."""
    def timed():
        run()
        if synchronize is not None:
            synchronize()

    timed()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        timed()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
