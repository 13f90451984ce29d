"""Shared by the PyTorch benchmark scripts: the unpreconditioned CG loop that dphys's fused CG runs, for a
batch of [B, ny, nx] right-hand sides and any symmetric positive-definite operator, for a fixed number of
iterations."""
import torch


def conjugate_gradient(apply, b, iterations, x0=None):
    """x after `iterations` CG steps on apply(x) = b from x0 (zero when None, without applying the operator)."""
    def dot(u, v):
        return (u * v).sum(dim=(1, 2), keepdim=True)

    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = b.clone() if x0 is None else b - apply(x)
    p = r.clone()
    rz = dot(r, r)
    for _ in range(iterations):
        ap = apply(p)
        alpha = rz / dot(p, ap)
        x = x + alpha * p
        r = r - alpha * ap
        rz_next = dot(r, r)
        p = r + (rz_next / rz) * p
        rz = rz_next
    return x
