"""Figures of a sip_heat run, drawn from its metrics.csv and field CSVs (the style of the SIP paper's Fig. 6 c-d):
learning curves of the x-space error against iterations and wall-clock time, and example reconstructions.
Usage: /usr/bin/python3 apps/sip_heat/plot.py RUN_FOLDER"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = {"sip": "tab:red", "adam": "tab:blue", "sgd": "tab:green", "adahessian": "tab:purple",
          "hessian_free": "tab:orange"}
LABELS = {"sip": "SIP (ours)", "adam": "Adam", "sgd": "SGD", "adahessian": "AdaHessian", "hessian_free": "Hessian-free"}


def running_mean(values, window):
    # Trailing means over the last min(window, i // 2 + 1) values: the window grows with the run, so the
    # large first errors leave it gradually instead of all at once when it reaches its full size.
    prefix = np.concatenate([[0.0], np.cumsum(values)])
    out = []
    for i in range(len(values)):
        w = min(window, i // 2 + 1)
        out.append((prefix[i + 1] - prefix[i + 1 - w]) / w)
    return out


def main(folder):
    curves = {}
    with open(os.path.join(folder, "metrics.csv")) as f:
        for row in csv.DictReader(f):
            c = curves.setdefault(row["method"], {"it": [], "t": [], "error": []})
            c["it"].append(int(row["iteration"]))
            c["t"].append(float(row["wall_time_s"]))
            c["error"].append(float(row["error"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method, c in curves.items():
        window = max(1, min(64, len(c["error"]) // 10))  # the paper smooths over 64 batches
        smooth = running_mean(c["error"], window)
        style = dict(color=COLORS.get(method), label=LABELS.get(method, method))
        axes[0].plot(c["it"], smooth, **style)
        axes[1].plot(c["t"], smooth, **style)
    for ax, xlabel in zip(axes, ["iteration", "wall-clock time [s]"]):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("|x - x*|_1 (running mean)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("Heat equation: x-space error during training")
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "learning_curves.png"), dpi=120)

    names = ["example_x_star", "example_y_star"] + [f"example_{m}" for m in curves]
    titles = ["x* (ground truth)", "y* (observed)"] + [LABELS.get(m, m) for m in curves]
    missing = [n for n in names if not os.path.exists(os.path.join(folder, n + ".csv"))]
    if missing:  # a run stopped with --stop-at, or still going: the predictions are written at its end
        print(f"figures in {folder}: learning_curves.png (no reconstructions: {', '.join(missing)} not written yet)")
        return
    fields = [np.loadtxt(os.path.join(folder, n + ".csv"), delimiter=",") for n in names]
    fig, axes = plt.subplots(1, len(fields), figsize=(3 * len(fields), 3.2))
    vmax = max(fields[0].max(), 1e-9)
    for ax, field, title in zip(axes, fields, titles):
        ax.imshow(field, cmap="magma", vmin=0, vmax=vmax if title != "y* (observed)" else None)
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "reconstructions.png"), dpi=120)
    print(f"figures in {folder}: learning_curves.png, reconstructions.png")


if __name__ == "__main__":
    main(sys.argv[1])
