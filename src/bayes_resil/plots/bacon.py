"""Goodman-Bacon scatter: each 2x2 DID's estimate against its weight, by comparison type."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

MARKERS = {"treated vs never": ("o", "C0"), "earlier vs later": ("s", "C2"),
           "later vs earlier": ("^", "C3")}


def plot_bacon(bacon: pd.DataFrame, *, twfe: float | None = None,
               simulated: bool = False) -> Figure:
    """Scatter of ``estimate`` (x) and ``weight`` (y) of every 2x2 comparison."""
    fig = Figure(figsize=(7.0, 4.4))
    ax = fig.subplots()
    for kind, g in bacon.groupby("type", sort=False):
        marker, color = MARKERS.get(kind, ("x", "k"))
        label = f"{kind} (total weight {g['weight'].sum():.2f})"
        if kind == "later vs earlier":
            label += ": forbidden comparison"
        ax.scatter(g["estimate"], g["weight"], marker=marker, color=color, label=label, s=36)
    if twfe is not None:
        ax.axvline(twfe, color="0.3", ls="--", label=f"TWFE DID = {twfe:.4f}")
    ax.axvline(0, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("2x2 DID estimate")
    ax.set_ylabel("weight in the TWFE coefficient")
    ax.set_title("Goodman-Bacon decomposition" + (" — SIMULATED DATA" if simulated else ""))
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
