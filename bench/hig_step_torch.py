"""PyTorch (eager; CPU, or the GPU with `cuda`) counterpart of bench/hig_step.cpp: one HIG step on the Poisson
case of hig.md 2.3.

The 64 -> 64 -> 256 -> 64 (tanh) -> 64 MLP (41,408 weights, f32) predicts phi from rho on an 8x8 grid, the
physics is the 5-point Dirichlet Laplacian y = lap(phi), loss 1/2 |y - rho|^2 summed over the batch, eta = 0.02,
tau = 1e-5. The stacked Jacobian comes from torch.func.jacrev (reverse mode, vmapped over the outputs) where
torch has it, else from torch.autograd.functional.jacobian(vectorize=True) (Debian's torch 1.13); the
half-inversion from torch.linalg.svd in f64 (hig.md A9).
Usage: hig_step_torch.py [batch, default 64] [repeats, default 3] [cpu|cuda, default cpu]"""
import statistics
import sys
import time

import torch
from torch import nn

try:
    from torch.func import functional_call
except ImportError:  # torch 1.13
    from torch.nn.utils.stateless import functional_call

DEVICE = torch.device(sys.argv[3] if len(sys.argv) > 3 else "cpu")


def laplacian(phi):
    """[B, 64] -> [B, 64]: the 5-point Laplacian on the 8x8 grid with zero ghost cells."""
    p = nn.functional.pad(phi.reshape(-1, 8, 8), (1, 1, 1, 1))
    centre = p[:, 1:-1, 1:-1]
    out = p[:, 2:, 1:-1] + p[:, :-2, 1:-1] + p[:, 1:-1, 2:] + p[:, 1:-1, :-2] - 4 * centre
    return out.reshape(-1, 64)


def make_network():
    layers = []
    widths = [64, 64, 256, 64, 64]
    for i in range(4):
        linear = nn.Linear(widths[i], widths[i + 1])
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < 3:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def stacked_jacobian(net, rho):
    """[B*64, P] f64, rows example-major, columns the parameters flattened in named_parameters order."""
    names = [name for name, _ in net.named_parameters()]
    values = tuple(p.detach() for _, p in net.named_parameters())

    def outputs(*params):
        return laplacian(functional_call(net, dict(zip(names, params)), (rho,)))

    if hasattr(torch, "func"):
        blocks = torch.func.jacrev(outputs, argnums=tuple(range(len(values))))(*values)
    else:
        blocks = torch.autograd.functional.jacobian(outputs, values, vectorize=True)
    rows = rho.shape[0] * 64
    return torch.cat([b.reshape(rows, -1) for b in blocks], dim=1).double()


def jacobian_power(jac, dy, tau=1e-5, kappa=-0.5):
    """V Lambda^kappa U^T dy over the modes with s > tau * s_1."""
    u, s, vh = torch.linalg.svd(jac, full_matrices=False)
    keep = s > tau * s[0]
    coefficients = torch.where(keep, s.clamp_min(1e-300) ** kappa, torch.zeros_like(s)) * (u.T @ dy)
    return vh.T @ coefficients


def synchronize():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def hig_step(net, rho, lr=0.02):
    """One step; returns the milliseconds spent on the Jacobian and on the half-inversion."""
    start = time.perf_counter()
    jac = stacked_jacobian(net, rho)
    synchronize()
    jacobian_ms = (time.perf_counter() - start) * 1e3
    with torch.no_grad():
        dy = (rho - laplacian(net(rho))).reshape(-1).double()
        start = time.perf_counter()
        d = jacobian_power(jac, dy)
        synchronize()
        svd_ms = (time.perf_counter() - start) * 1e3
        offset = 0
        for p in net.parameters():
            p.add_(lr * d[offset:offset + p.numel()].reshape(p.shape).float())
            offset += p.numel()
    return jacobian_ms, svd_ms


if __name__ == "__main__":
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    suffix = "_cuda" if DEVICE.type == "cuda" else ""
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = make_network().to(DEVICE)
    rho = laplacian(torch.randn(batch, 64)).to(DEVICE)
    print(f"torch hig_poisson_parameters {sum(p.numel() for p in net.parameters())} count", flush=True)
    print(f"torch hig_poisson_jacobian_rows {batch * 64} count", flush=True)
    # Medians over `repeats` steps of the step and of its two parts, timed inside each step.
    parts, totals = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        parts.append(hig_step(net, rho))
        synchronize()
        totals.append((time.perf_counter() - start) * 1e3)
    print(f"torch hig_poisson_jacobian{suffix}_ms {statistics.median(p[0] for p in parts):.1f} ms")
    print(f"torch hig_poisson_svd{suffix}_ms {statistics.median(p[1] for p in parts):.1f} ms")
    print(f"torch hig_poisson_step{suffix}_ms {statistics.median(totals):.1f} ms")
