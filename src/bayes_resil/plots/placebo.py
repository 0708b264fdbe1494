"""Placebo plot: distribution of permuted-timing coefficients with the actual one (Figure 2)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def plot_placebo(draws: np.ndarray, actual: float, *, p_value: float | None = None,
                 title: str = "Placebo: randomly reassigned adoption timing",
                 simulated: bool = False) -> Figure:
    """Histogram and kernel density of ``draws``, the actual estimate as a vertical line."""
    from scipy.stats import gaussian_kde

    draws = np.asarray(draws, dtype=float)
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.subplots()
    ax.hist(draws, bins=40, density=True, color="C0", alpha=0.35,
            label=f"placebo coefficients (n = {draws.size})")
    grid = np.linspace(min(draws.min(), actual), max(draws.max(), actual), 400)
    if draws.std() > 0:
        ax.plot(grid, gaussian_kde(draws)(grid), color="C0", lw=1.5, label="kernel density")
    label = f"actual estimate {actual:.4f}"
    if p_value is not None:
        label += f" (permutation p = {p_value:.3f})"
    ax.axvline(actual, color="C3", lw=2, label=label)
    ax.axvline(0, color="0.4", lw=0.8, ls=":")
    ax.set_xlabel("coefficient on the placebo treatment")
    ax.set_ylabel("density")
    ax.set_title(title + (" — SIMULATED DATA" if simulated else ""))
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
