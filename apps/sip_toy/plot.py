"""Figures of a sip_toy run (the style of the SIP paper's Fig. 5), from its metrics.csv and sweeps.csv:
5a the loss landscape for y* = (0.3, -0.5) at xi = 1, phi = 15 deg; 5b/5c learning curves at phi = 45 deg for
xi = 1 and xi = 32 against wall-clock time; 5d relative accuracy |x - x*|/xi over the xi sweep at phi = 0;
5e the distance over the phi sweep at xi = 32.
Usage: /usr/bin/python3 apps/sip_toy/plot.py RUN_FOLDER"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

METHODS = ["sip", "adam", "sgd", "adadelta", "adagrad", "rmsprop"]
COLORS = {"sip": "tab:red", "adam": "tab:blue", "sgd": "tab:green", "adadelta": "tab:purple",
          "adagrad": "tab:orange", "rmsprop": "tab:brown"}
LABELS = {"sip": "SIP (ours)", "adam": "Adam", "sgd": "SGD", "adadelta": "Adadelta", "adagrad": "Adagrad",
          "rmsprop": "RMSprop"}


def landscape(ax, y_star=(0.3, -0.5), xi=1.0, phi_deg=15.0, gamma=10.0):
    """L(x) = 1/2 |P(x) - y*|^2 with u = diag(gamma/xi, gamma*xi) R_phi x, P = (sin u1, u2)."""
    phi = math.radians(phi_deg)
    x1, x2 = np.meshgrid(np.linspace(-0.5, 0.5, 400), np.linspace(-0.5, 0.5, 400))
    u1 = gamma / xi * (math.cos(phi) * x1 - math.sin(phi) * x2)
    u2 = gamma * xi * (math.sin(phi) * x1 + math.cos(phi) * x2)
    loss = 0.5 * ((np.sin(u1) - y_star[0]) ** 2 + (u2 - y_star[1]) ** 2)
    ax.contourf(x1, x2, loss, levels=30, cmap="viridis")
    ax.set_title(f"5a: L(x), y*={y_star}, xi={xi:g}, phi={phi_deg:g} deg")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")


def curves(ax, runs, xi, phi):
    for method in METHODS:
        run = runs.get(f"{method}/xi={xi:g}/phi={phi:g}")
        if run:
            ax.plot(run["t"], run["error"], color=COLORS[method], label=LABELS[method])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wall-clock time [s]")
    ax.set_ylabel("|x - x*|_2 (window mean)")
    ax.set_title(f"xi={xi:g}, phi={phi:g} deg")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def sweep(ax, rows, panel, x_key, relative, title, xlabel):
    for method in METHODS:
        points = sorted((float(r[x_key]), float(r["final_distance_budget"]) / (float(r["xi"]) if relative else 1))
                        for r in rows if r["method"] == method and panel in r["panels"].split())
        if points:
            ax.plot(*zip(*points), "o-", color=COLORS[method], label=LABELS[method])
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("|x - x*|_2 / xi" if relative else "|x - x*|_2")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def main(folder):
    runs = {}
    with open(os.path.join(folder, "metrics.csv")) as f:
        for row in csv.DictReader(f):
            run = runs.setdefault(row["method"], {"t": [], "error": []})
            run["t"].append(float(row["wall_time_s"]))
            run["error"].append(float(row["error"]))
    with open(os.path.join(folder, "sweeps.csv")) as f:
        rows = list(csv.DictReader(f))
    fig, axes = plt.subplots(1, 5, figsize=(25, 4.6))
    landscape(axes[0])
    curves(axes[1], runs, 1, 45)
    axes[1].set_title("5b: " + axes[1].get_title())
    curves(axes[2], runs, 32, 45)
    axes[2].set_title("5c: " + axes[2].get_title())
    sweep(axes[3], rows, "5d", "xi", True, "5d: phi = 0, relative accuracy (budget)", "xi")
    axes[3].set_xscale("log")
    sweep(axes[4], rows, "5e", "phi_deg", False, "5e: xi = 32, accuracy (budget)", "phi [deg]")
    fig.tight_layout()
    path = os.path.join(folder, "fig5.png")
    fig.savefig(path, dpi=110)
    print(f"figure: {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/sip_toy_quick")
