"""PyTorch eager counterpart of bench/tape_overhead.cpp: same chains, same repeats, same output lines."""
import statistics
import time

import torch

CHAIN = 1000
REPEATS = 31


def median_ns_per_op(run):
    run()
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - start) / CHAIN)
    return statistics.median(samples)


def chain(start, c):
    y = start
    for _ in range(CHAIN):
        y = y + c
    return y


def bench_chain(name, shape):
    c = torch.full(shape, 1e-3)
    x = torch.zeros(shape)

    def plain():
        with torch.no_grad():
            chain(x, c)

    plain_ns = median_ns_per_op(plain)
    x.requires_grad_(True)
    recorded_ns = median_ns_per_op(lambda: chain(x, c))
    backward_ns = median_ns_per_op(lambda: chain(x, c).sum().backward())
    print(f"torch {name}_norecord {plain_ns:.1f} ns/op")
    print(f"torch {name}_record {recorded_ns:.1f} ns/op")
    print(f"torch {name}_record_overhead {recorded_ns - plain_ns:.1f} ns/op")
    print(f"torch {name}_forward_backward {backward_ns:.1f} ns/op")


if __name__ == "__main__":
    # The machine's cores, as dphys gets them; both libraries run a 4096-element add on one thread anyway
    # (their parallel grain is 32768 elements).
    torch.set_num_threads(2)
    bench_chain("scalar_add", (1,))
    bench_chain("add_64x64", (64, 64))
