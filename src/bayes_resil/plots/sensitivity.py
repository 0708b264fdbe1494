"""Robust confidence intervals against the size of the allowed parallel-trend violation."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def plot_sensitivity(table: pd.DataFrame, breakdowns: pd.DataFrame, *,
                     simulated: bool = False) -> Figure:
    """One panel per restriction: robust intervals per size, one colour per target."""
    kinds = [k for k in ("relative_magnitudes", "smoothness") if k in set(table["restriction"])]
    fig = Figure(figsize=(4.2 * max(1, len(kinds)), 3.8))
    axes = fig.subplots(1, max(1, len(kinds)), squeeze=False)[0]
    for ax, kind in zip(axes, kinds, strict=False):
        sub = table[table["restriction"] == kind]
        for i, (target, g) in enumerate(sub.groupby("target", sort=False)):
            x = g["size"].to_numpy() + i * 0.02 * (g["size"].max() or 1)
            ax.vlines(x, g["ci_lower"], g["ci_upper"], color=f"C{i}", lw=3, label=target)
            b = breakdowns[(breakdowns["estimand"] == f"breakdown[{kind},{target}]")]
            if len(b):
                ax.axvline(b["estimate"].iloc[0], color=f"C{i}", ls=":", lw=1)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_xlabel("Mbar" if kind == "relative_magnitudes" else "M")
        ax.tick_params(axis="x", labelrotation=30)
        ax.set_title(kind.replace("_", " "), fontsize=10)
        ax.legend(frameon=False, fontsize=8)
    axes[0].set_ylabel("robust confidence interval")
    fig.suptitle("Sensitivity to parallel-trend violations (dotted: breakdown value)"
                 + (" — SIMULATED DATA" if simulated else ""), fontsize=10)
    fig.tight_layout()
    return fig
