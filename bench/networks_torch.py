"""PyTorch (CPU, eager) counterpart of bench/networks.cpp: a U-net training step (4 levels, 16 filters, batch
norm, circular padding, 1 -> 1 channels, the SIP heat/Poisson network of sip.md 1.11.1) and an MLP step."""
import sys

import torch
from timing import median_seconds
from torch import nn


class DoubleConv(nn.Sequential):
    def __init__(self, c_in, c_out):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, padding_mode="circular"), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, padding_mode="circular"), nn.BatchNorm2d(c_out), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, levels=4, filters=16, c_in=1, c_out=1):
        super().__init__()
        self.inc = DoubleConv(c_in, filters)
        self.down = nn.ModuleList([DoubleConv(filters, filters) for _ in range(levels - 1)])
        self.up = nn.ModuleList([DoubleConv(2 * filters, filters) for _ in range(levels - 1)])
        self.outc = nn.Conv2d(filters, c_out, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for block in self.down:
            skips.append(block(nn.functional.max_pool2d(skips[-1], 2)))
        h = skips.pop()
        for block in self.up:
            h = nn.functional.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
            h = block(torch.cat([skips.pop(), h], dim=1))
        return self.outc(h)


def median_ms(repeats, run):
    return 1e3 * median_seconds(repeats, run)


def train_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).sum()
    loss.backward()
    optimizer.step()


if __name__ == "__main__":
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    torch.set_num_threads(2)
    torch.manual_seed(0)
    unet = UNet()
    print(f"torch unet_parameters {sum(p.numel() for p in unet.parameters())} count")
    x, y = torch.randn(batch, 1, 64, 64), torch.randn(batch, 1, 64, 64)
    opt = torch.optim.Adam(unet.parameters(), lr=1e-3)
    print(f"torch unet_64x64_batch{batch}_step {median_ms(3, lambda: train_step(unet, opt, x, y)):.1f} ms")
    mlp = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                        nn.Linear(32, 2))
    xs, ys = torch.randn(128, 2), torch.randn(128, 2)
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3)
    print(f"torch mlp_4354_batch128_step {median_ms(51, lambda: train_step(mlp, opt, xs, ys)):.3f} ms")
