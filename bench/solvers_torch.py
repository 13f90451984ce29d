"""PyTorch (CPU, eager) counterpart of bench/solvers.cpp: the same CG, KS and heat workloads."""
import math

import torch
from timing import median_seconds
from torch_cg import conjugate_gradient


def neg_laplacian(x):
    p = torch.nn.functional.pad(x, (1, 1, 1, 1))
    return 4 * x - p[:, 1:-1, :-2] - p[:, 1:-1, 2:] - p[:, :-2, 1:-1] - p[:, 2:, 1:-1]


def bench_cg(name, batch, n, iterations, repeats):
    b = torch.randn(batch, n, n)
    seconds = median_seconds(repeats, lambda: conjugate_gradient(neg_laplacian, b, iterations))
    # Element traffic per iteration of this unfused CG: stencil 6N (pad, four slices, sums), two dots 3N each,
    # three axpys 5N each (scaled copy and sum): about 25N elements of 4 bytes.
    bytes_moved = 25.0 * 4.0 * batch * n * n * iterations
    print(f"torch {name}_iterations_per_s {iterations / seconds:.1f} it/s")
    print(f"torch {name}_effective_bandwidth {bytes_moved / seconds / 1e9:.2f} GB/s")


def ks_rollout(u, alpha, beta, steps, n=128, length=32 * math.pi, dt=0.25):
    k = torch.arange(n // 2 + 1, dtype=torch.float64) * (2 * math.pi / length)
    c = k**2 - k**4
    z = c * dt
    e = torch.exp(z)
    # Contour-integral coefficients as in the C++ solver.
    r = torch.exp(1j * math.pi * (torch.arange(1, 33, dtype=torch.float64) - 0.5) / 32)
    s = z[:, None] + r[None, :]
    f1 = dt * ((torch.exp(s) - 1) / s).mean(dim=1).real
    f2 = dt * ((torch.exp(s) - 1 - s) / s**2).mean(dim=1).real
    ik = 1j * k
    ik[-1] = 0
    x = torch.arange(n, dtype=torch.float64) * (length / n)
    g = 0.1 * torch.cos(x) - 0.01 * torch.cos(x / 16) * (1 - 2 * torch.sin(x / 16))

    def nonlinear(v):
        return alpha[:, None] * g - 0.5 * beta[:, None] * torch.fft.irfft(ik * torch.fft.rfft(v * v), n=n)

    def filt(v, m):
        return torch.fft.irfft(m * torch.fft.rfft(v), n=n)

    for _ in range(steps):
        nv = nonlinear(u)
        a = filt(u, e) + filt(nv, f1)
        u = a + filt(nonlinear(a) - nv, f2)
    return u


if __name__ == "__main__":
    torch.set_num_threads(2)
    bench_cg("cg_64x64_batch64", 64, 64, 50, 7)
    bench_cg("cg_256x256_batch1", 1, 256, 50, 7)
    bench_cg("cg_1024x1024_batch1", 1, 1024, 20, 3)
    u = 0.35 * torch.randn(256, 128, dtype=torch.float64)
    ones = torch.ones(256, dtype=torch.float64)
    seconds = median_seconds(7, lambda: ks_rollout(u, ones, ones, 10))
    print(f"torch ks_etdrk2_batch256_steps_per_s {10 / seconds:.1f} steps/s")
    field = torch.randn(64, 64, 64, dtype=torch.float64)
    ky = torch.fft.fftfreq(64, dtype=torch.float64)[:, None] * 2 * math.pi
    kx = torch.fft.rfftfreq(64, dtype=torch.float64)[None, :] * 2 * math.pi
    damping = torch.exp(-(kx**2 + ky**2) * 8.0)
    seconds = median_seconds(7, lambda: torch.fft.irfft2(torch.fft.rfft2(field) * damping, s=(64, 64)))
    print(f"torch heat_exact_64x64_batch64_steps_per_s {1 / seconds:.1f} steps/s")
