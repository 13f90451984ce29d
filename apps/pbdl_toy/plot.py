"""Figures of a pbdl_toy run (pbdl_physgrad.md §2.1 and §2.5), drawn from its metrics.csv and path CSVs:
the alpha-scaling panels of `physgrad-scaling` with the optimizer trajectories, the comparison notebook's x- and
y-space scatter plots, and loss curves.
Usage: /usr/bin/python3 apps/pbdl_toy/plot.py RUN_FOLDER"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# The comparison notebook's colours (§2.5).
COLORS = {"gd": "#1F77B4", "newton": "#FF7F0E", "pg": "#D62728", "ig": "tab:green", "gd_a": "#1F77B4",
          "adam": "tab:purple", "pg_lbfgs": "tab:pink", "pg_gn": "tab:brown", "gd_b": "tab:cyan"}
LABELS = {"gd": "GD", "newton": "Newton", "pg": "PG", "ig": "IG", "gd_a": "GD (eta = 0.45/alpha^2)",
          "gd_b": "GD (eta = 0.02)", "adam": "Adam", "pg_lbfgs": "PG, L-BFGS inverse",
          "pg_gn": "PG, Gauss-Newton inverse"}


def load(folder, name):
    return np.atleast_2d(np.loadtxt(os.path.join(folder, name + ".csv"), delimiter=","))


def scaling_panels(folder):
    """Contours of |P(x)| = sqrt(x1^2 + alpha^2 x2^2) (the field the book plots, §2.1) with the iterates."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    grid = np.linspace(-0.1, 1.0, 200)
    x1, x2 = np.meshgrid(grid, grid)
    start = np.array([0.5, 0.85])
    # The book's contour spacing per alpha (0.2, 0.4, 0.8; colour-bar maxima 1.6, 3.2, 5.6).
    for ax, alpha, spacing in zip(axes, [1, 3, 5], [0.2, 0.4, 0.8]):
        norm = np.sqrt(x1 ** 2 + (alpha * x2) ** 2)
        levels = np.arange(0.0, norm.max() + spacing, spacing)
        field = ax.contourf(x1, x2, norm, levels=levels, cmap="viridis")
        fig.colorbar(field, ax=ax)
        tag = f"alpha={alpha}"
        gd = load(folder, f"e1_{tag}_gd_a")
        ax.plot(gd[:, 0], gd[:, 1], "o-", ms=2.5, lw=0.8, color=COLORS["gd_a"], label=f"{LABELS['gd_a']}: {len(gd) - 1} it.")
        adam = load(folder, f"e1_{tag}_adam")
        ax.plot(adam[:, 0], adam[:, 1], ".-", ms=3, lw=0.8, color=COLORS["adam"], label="Adam (eta = 0.05), 30 it.")
        # Newton, IG and PG coincide (check 4.1): drawn on top of each other with shrinking markers.
        for name, marker, size in [("newton", "s", 7), ("ig", "D", 5), ("pg", "o", 3)]:
            path = load(folder, f"e1_{tag}_{name}")
            ax.plot(path[:, 0], path[:, 1], marker + "-", ms=size, lw=1, color=COLORS[name],
                    label=f"{LABELS[name]}: {len(path) - 1} it.")
        gradient = np.array([2 * start[0], 2 * alpha ** 2 * start[1]])
        arrow = -0.3 * gradient / np.linalg.norm(gradient)  # direction only, not to scale
        ax.annotate("", xy=start + arrow, xytext=start,
                    arrowprops=dict(arrowstyle="->", color="lime", lw=2.5))
        ax.plot(*start, "k^", ms=8)
        ax.plot(0, 0, "kx", ms=10, mew=2)
        ax.set_xlim(-0.1, 1.0)
        ax.set_ylim(-0.1, 1.0)
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_title(f"alpha = {alpha}: |P(x)|, green arrow = -grad L")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "e1_scaling.png"), dpi=110)


def comparison_scatter(folder, space, methods, filename):
    """One of the notebook's 4x4 in scatter plots (§2.5, plots 1-5): iterates 0..10 in x- or y-space."""
    fig, ax = plt.subplots(figsize=(4, 4))
    for name in methods:
        points = load(folder, f"e5_{name}_{space}")
        marker = "*" if (name == "pg" and space == "y") else "o"
        ax.scatter(points[:, 0], points[:, 1], s=60 if marker == "*" else 25, marker=marker, color=COLORS[name],
                   label=LABELS[name])
    ax.scatter([0], [0], marker="x", color="black", s=60, label="target")
    axis = "z" if space == "y" else "x"
    ax.set_xlabel(f"{axis}0")
    ax.set_ylabel(f"{axis}1")
    ax.legend(fontsize=8)
    ax.set_title(f"{space}-space, iterates 0..10", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, filename), dpi=110)


def loss_curves(folder):
    curves = {}
    with open(os.path.join(folder, "metrics.csv")) as f:
        for row in csv.DictReader(f):
            c = curves.setdefault(row["method"], {"it": [], "loss": [], "error": []})
            c["it"].append(int(row["iteration"]))
            c["loss"].append(float(row["loss"]))
            c["error"].append(float(row["error"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    shades = {1: 1.0, 3: 0.8, 5: 0.6, 10: 0.45, 100: 0.3}
    for alpha, shade in shades.items():
        for name in ["newton", "gd_a"]:
            c = curves[f"E1.{name}.alpha={alpha}"]
            it = np.array(c["it"]) + 1  # log axis: iteration k at k + 1
            label = f"{LABELS[name]}, alpha = {alpha}" if name == "gd_a" else ("Newton = IG = PG, every alpha" if alpha == 1 else None)
            axes[0].plot(it, c["error"], color=COLORS[name], alpha=shade, label=label)
    axes[0].set_xscale("log")
    axes[0].set_title("E1: Newton = IG = PG for every alpha; GD needs ~ alpha^2 steps")
    axes[0].set_xlabel("iteration + 1")
    axes[0].set_ylabel("|x|")
    axes[0].axhline(1e-3, color="gray", ls=":")
    for name in ["gd", "newton", "pg", "pg_lbfgs", "adam"]:
        c = curves[f"E5.{name}"]
        style = "--" if name == "pg_lbfgs" else "-"
        label = "Adam (eta = 0.3)" if name == "adam" else LABELS[name]
        axes[1].plot(c["it"], c["loss"], style, color=COLORS[name], label=label)
    axes[1].set_xlim(0, 100)
    axes[1].set_title("E5: L = x0^2 + x1^4 from (3, 3)")
    axes[1].set_xlabel("iteration")
    axes[1].set_ylabel("loss")
    for ax in axes:
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "loss_curves.png"), dpi=110)


def main(folder):
    scaling_panels(folder)
    comparison_scatter(folder, "x", ["gd"], "e5_x_space_gd.png")
    comparison_scatter(folder, "x", ["gd", "newton"], "e5_x_space_gd_newton.png")
    comparison_scatter(folder, "x", ["gd", "newton", "pg"], "e5_x_space.png")
    comparison_scatter(folder, "y", ["pg"], "e5_y_space_pg.png")
    comparison_scatter(folder, "y", ["pg", "gd", "newton"], "e5_y_space.png")
    loss_curves(folder)
    print(f"figures in {folder}: e1_scaling.png, e5_x_space*.png, e5_y_space*.png, loss_curves.png")


if __name__ == "__main__":
    main(sys.argv[1])
