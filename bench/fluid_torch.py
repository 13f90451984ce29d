"""PyTorch (eager; CPU, or the GPU with the argument `cuda`) counterpart of bench/fluid.cpp: the same SIP fluid step (sip.md §2.6.2), written with
torch ops as a PyTorch user would: periodic MAC grid via torch.roll, bilinear sampling via gather, MacCormack
with clamping, CG with the same fixed iteration count, energy renormalisation; f32. The timed backward pass lets
autograd tape the CG iterations, as a PyTorch user would; one untimed gradient through an implicit-adjoint solve
(what dphys's linear_solve does) checks that both libraries differentiate the same step."""
import math
import sys

import torch
from timing import median_seconds
from torch_cg import conjugate_gradient

CELL_SIZE = 2.0
DT = 0.25
DTYPE = torch.float32
DEVICE = torch.device(sys.argv[1] if len(sys.argv) > 1 else "cpu")
# Offsets of sample 0 in cells, (y, x): cell centres, x-faces, y-faces (as solvers/fluid_sampling.cpp).
ORIGIN = {"centered": (0.5, 0.5), "x_faces": (0.5, 0.0), "y_faces": (0.0, 0.5)}


def cg_iterations(n):
    return 100 if n <= 64 else 120


def sample_points(n, staggering, dtype=DTYPE):
    oy, ox = ORIGIN[staggering]
    i = torch.arange(n, dtype=torch.float64, device=DEVICE)
    y = ((i + oy) * CELL_SIZE).reshape(1, n, 1).expand(1, n, n)
    x = ((i + ox) * CELL_SIZE).reshape(1, 1, n).expand(1, n, n)
    return y.to(dtype), x.to(dtype)


class Stencil:
    """The four periodic neighbours of each point (flat indices [B, M]) and the bilinear weights."""

    def __init__(self, n, staggering, y, x, batch):
        oy, ox = ORIGIN[staggering]
        self.shape = (batch,) + tuple(y.shape[1:])
        fy = (y.expand(self.shape) - oy * CELL_SIZE) / CELL_SIZE
        fx = (x.expand(self.shape) - ox * CELL_SIZE) / CELL_SIZE
        by, bx = torch.floor(fy), torch.floor(fx)
        self.ty, self.tx = fy - by, fx - bx
        y0, x0 = by.long() % n, bx.long() % n
        y1, x1 = (y0 + 1) % n, (x0 + 1) % n
        self.corners = [(a * n + b).reshape(batch, -1) for a, b in ((y0, x0), (y0, x1), (y1, x0), (y1, x1))]

    def values(self, field):
        flat = field.reshape(field.shape[0], -1)
        return [flat.gather(1, c).reshape(self.shape) for c in self.corners]

    def interpolate(self, field):
        c00, c01, c10, c11 = self.values(field)
        low = c00 + self.tx * (c01 - c00)
        high = c10 + self.tx * (c11 - c10)
        return low + self.ty * (high - low)

    def neighbour_range(self, field):
        c = self.values(field)
        return (torch.minimum(torch.minimum(c[0], c[1]), torch.minimum(c[2], c[3])),
                torch.maximum(torch.maximum(c[0], c[1]), torch.maximum(c[2], c[3])))


def sample_velocity(vx, vy, y, x):
    n, batch = vx.shape[-1], vx.shape[0]
    return (Stencil(n, "y_faces", y, x, batch).interpolate(vy), Stencil(n, "x_faces", y, x, batch).interpolate(vx))


def advect(q, staggering, vx, vy):
    """MacCormack with clamping (Selle et al. 2008), explicit-Euler traces from the same velocity."""
    n, batch = q.shape[-1], q.shape[0]
    y, x = sample_points(n, staggering)
    svy, svx = sample_velocity(vx, vy, y, x)
    back = Stencil(n, staggering, y - DT * svy, x - DT * svx, batch)
    semi_lagrangian = back.interpolate(q)
    round_trip = Stencil(n, staggering, y + DT * svy, x + DT * svx, batch).interpolate(semi_lagrangian)
    corrected = semi_lagrangian + 0.5 * (q - round_trip)
    low, high = back.neighbour_range(q)
    return torch.minimum(torch.maximum(corrected, low), high)


def divergence(vx, vy):
    return (torch.roll(vx, -1, 2) - vx) / CELL_SIZE + (torch.roll(vy, -1, 1) - vy) / CELL_SIZE


def gradient(p):
    return (p - torch.roll(p, 1, 2)) / CELL_SIZE, (p - torch.roll(p, 1, 1)) / CELL_SIZE


def neg_laplacian(p):
    gx, gy = gradient(p)
    return -divergence(gx, gy)


def cg(b, x0, iterations):
    """The pressure solve: CG on the periodic Poisson operator, warm-started at x0."""
    return conjugate_gradient(neg_laplacian, b, iterations, x0)


class ImplicitSolve(torch.autograd.Function):
    """x = A⁻¹ b by CG, with the adjoint solve λ = A⁻¹ ḡ (A symmetric, cold start) as its backward."""

    @staticmethod
    def forward(ctx, b, x0, iterations):
        ctx.iterations = iterations
        return cg(b, x0, iterations)

    @staticmethod
    def backward(ctx, g):
        return cg(g, torch.zeros_like(g), ctx.iterations), None, None


def kinetic_energy(vx, vy):
    count = (vx[0].numel() + vy[0].numel())
    return ((vx**2).sum(dim=(1, 2), keepdim=True) + (vy**2).sum(dim=(1, 2), keepdim=True)) / count


def fluid_step(vx, vy, marker, pressure, solve=cg):
    n = vx.shape[-1]
    energy = kinetic_energy(vx, vy)
    ax, ay = advect(vx, "x_faces", vx, vy), advect(vy, "y_faces", vx, vy)
    rhs = -divergence(ax, ay)
    rhs = rhs - rhs.mean(dim=(1, 2), keepdim=True)
    p = solve(rhs, torch.zeros_like(rhs) if pressure is None else pressure, cg_iterations(n))
    gx, gy = gradient(p)
    px, py = ax - gx, ay - gy
    new_energy = kinetic_energy(px, py)
    moving = new_energy > 0
    one = torch.ones_like(new_energy)
    factor = torch.sqrt(torch.where(moving, energy, one) / torch.where(moving, new_energy, one))
    px, py = px * factor, py * factor
    return px, py, advect(marker, "centered", px, py), p.detach()


def sampled(n, staggering, batch, f):
    y, x = sample_points(n, staggering, torch.float64)
    b = torch.arange(batch, dtype=torch.float64, device=DEVICE).reshape(batch, 1, 1)
    return f(b, y, x).expand(batch, n, n).to(DTYPE).contiguous()


def initial_state(n, batch):
    """The analytic state of bench/fluid.cpp (computed in f64, rounded to f32)."""
    length = CELL_SIZE * n
    centre, sigma = 0.5 * length, length / 6.4

    def vortex(b, y, x):
        omega = (-2.0 + 4.0 * (b + 0.5) / batch) * 128.0 / length
        return omega * torch.exp(-((y - centre) ** 2 + (x - centre) ** 2) / (2 * sigma**2))

    def wave(y, x):
        return torch.sin(6 * math.pi * x / length) * torch.cos(4 * math.pi * y / length)

    vx = sampled(n, "x_faces", batch, lambda b, y, x: -6.0 - vortex(b, y, x) * (y - centre) + 2.0 * wave(y, x))
    vy = sampled(n, "y_faces", batch, lambda b, y, x: 4.0 + vortex(b, y, x) * (x - centre) + 2.0 * wave(x, y))
    width = length / 10
    marker = sampled(n, "centered", batch,
                     lambda b, y, x: torch.exp(-((y - 0.4 * length) ** 2 + (x - 0.45 * length) ** 2)
                                               / (2 * width**2)) + 0 * b)
    return vx, vy, marker


def loss_weights(n, staggering):
    k = 2 * math.pi / (CELL_SIZE * n)
    return sampled(n, staggering, 1, lambda b, y, x: torch.cos(k * (x + 2 * y)))


def bench_step(name, n, batch, repeats):
    vx, vy, marker = initial_state(n, batch)
    vx, vy, marker, pressure = fluid_step(vx, vy, marker, None)
    wx, wy = loss_weights(n, "x_faces"), loss_weights(n, "y_faces")

    def forward_backward(solve=cg):
        leaves = [vx.clone().requires_grad_(), vy.clone().requires_grad_()]
        nx, ny, _, _ = fluid_step(leaves[0], leaves[1], marker, pressure, solve)
        loss = (wx * nx).sum() + (wy * ny).sum()
        return torch.autograd.grad(loss, leaves)

    sync = torch.cuda.synchronize if DEVICE.type == "cuda" else None
    forward_ms = 1e3 * median_seconds(repeats, lambda: fluid_step(vx, vy, marker, pressure), sync)
    backward_ms = 1e3 * median_seconds(repeats, forward_backward, sync)
    suffix = "_cuda" if DEVICE.type == "cuda" else ""
    print(f"torch {name}_forward{suffix}_ms {forward_ms:.1f} ms")
    print(f"torch {name}_forward_backward{suffix}_ms {backward_ms:.1f} ms")

    def sum_abs(xs):
        return sum(x.double().abs().sum().item() for x in xs)

    nx, ny, nm, _ = fluid_step(vx, vy, marker, pressure)
    print(f"check torch {name}_sum_abs_velocity {sum_abs([nx, ny]):.7g}")
    print(f"check torch {name}_sum_abs_marker {sum_abs([nm]):.7g}")
    print(f"check torch {name}_sum_abs_gradient {sum_abs(forward_backward()):.7g}")
    implicit = forward_backward(ImplicitSolve.apply)
    print(f"check torch {name}_sum_abs_gradient_implicit_adjoint {sum_abs(implicit):.7g}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    bench_step("fluid_step_64x64_batch64", 64, 64, 5)
    bench_step("fluid_step_256x256_batch1", 256, 1, 5)
