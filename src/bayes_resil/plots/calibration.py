"""Figures of a calibration study: coverage per estimator, width against coverage, SBC ECDFs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import norm

FLAG_COLOURS = {"ok": "C0", "under-covers": "C3", "over-covers": "C1", "too few": "0.5"}


def plot_coverage(table: pd.DataFrame, *, title: str = "Coverage of the intervals",
                  simulated: bool = True) -> Figure:
    """Coverage of each method x estimand with +-2 Monte-Carlo SE bars against the nominal
    level (red: the binomial test says it under-covers)."""
    t = table[table["coverage"].notna()].reset_index(drop=True)
    fig = Figure(figsize=(8.0, 1.2 + 0.26 * max(1, len(t))))
    ax = fig.subplots()
    y = np.arange(len(t))[::-1]
    colours = [FLAG_COLOURS.get(str(f), "C0") for f in t["coverage_flag"]]
    ax.errorbar(t["coverage"], y, xerr=2 * t["coverage_mcse"].fillna(0), fmt="none",
                ecolor="0.55", elinewidth=1.2, capsize=2)
    ax.scatter(t["coverage"], y, c=colours, zorder=3, s=22)
    if len(t):
        level = float(t["ci_level"].iloc[0])
        ax.axvline(level, color="0.2", ls="--", lw=1, label=f"nominal {level:.0%}")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{m}  {e}" + ("" if o == "y" else f" ({o})")
                        for m, e, o in zip(t["method"], t["estimand"], t["outcome"],
                                           strict=True)], fontsize=7)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("share of replications whose interval contains the truth (bars: +-2 MC SE)")
    ax.set_title(title + (" — SIMULATED DATA" if simulated else ""))
    ax.scatter([], [], c="C3", s=22, label="under-covers (binomial test)")
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def plot_width_coverage(table: pd.DataFrame, *, simulated: bool = True) -> Figure:
    """Left: mean interval width against coverage. Right: SE ratio (mean SE / sd of the error)
    against coverage, with the curve an unbiased normal estimator would follow (points below
    it are biased)."""
    t = table[table["coverage"].notna() & table["se_ratio"].notna()]
    fig = Figure(figsize=(10.0, 4.4))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    methods = list(dict.fromkeys(t["method"]))
    for i, m in enumerate(methods):
        g = t[t["method"] == m]
        ax1.scatter(g["mean_width"], g["coverage"], color=f"C{i % 10}", s=18, label=m)
        ax2.scatter(g["se_ratio"], g["coverage"], color=f"C{i % 10}", s=18)
    level = float(t["ci_level"].iloc[0]) if len(t) else 0.95
    z = norm.ppf(0.5 + level / 2)
    r = np.linspace(0.05, max(2.5, float(t["se_ratio"].max()) if len(t) else 2.5), 200)
    ax2.plot(r, 2 * norm.cdf(z * r) - 1, color="0.3", lw=1,
             label="unbiased, normal: 2 Phi(z x ratio) - 1")
    for ax in (ax1, ax2):
        ax.axhline(level, color="0.2", ls="--", lw=0.8)
    ax2.axvline(1, color="0.6", ls=":", lw=0.8)
    ax1.set_xscale("log")
    ax1.set_xlabel("mean interval width (log scale)")
    ax1.set_ylabel("coverage")
    ax2.set_xlabel("SE ratio = mean SE (posterior sd) / sd of (estimate - truth)")
    ax1.legend(frameon=False, fontsize=7)
    ax2.legend(frameon=False, fontsize=7, loc="lower right")
    fig.suptitle("Interval width against coverage" + (" — SIMULATED DATA" if simulated else ""))
    fig.tight_layout()
    return fig


def plot_sbc_ecdf(pit: dict[str, np.ndarray], p_values: dict[str, float], *, model: str,
                  prob: float = 0.95, seed: int = 214) -> Figure:
    """ECDF of each parameter's SBC PIT values minus the uniform CDF, with the simultaneous
    ``prob`` band of a uniform sample of the same size (Säilynoja, Bürkner & Vehtari 2022,
    computed by ``arviz_stats.ecdf_utils.ecdf_pit``)."""
    from arviz_stats.ecdf_utils import ecdf_pit

    names = list(pit)
    ncol = min(4, max(1, len(names)))
    nrow = int(np.ceil(len(names) / ncol))
    fig = Figure(figsize=(3.0 * ncol, 2.4 * nrow + 0.6))
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).reshape(-1)
    for ax, name in zip(axes, names, strict=False):
        vals = np.asarray(pit[name], dtype=float)
        x, ecdf, lo, hi = ecdf_pit(vals, prob, 1000, rng=np.random.default_rng(seed))
        ax.fill_between(x, lo - x, hi - x, color="C0", alpha=0.2, step="post", lw=0)
        ax.step(x, ecdf - x, where="post", color="C3" if p_values[name] < 0.01 else "C0")
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_title(f"{name}\np = {p_values[name]:.3f}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"SBC: ECDF of the rank PIT minus uniform, {model} ({prob:.0%} "
                 "simultaneous band; red: p < 0.01)", fontsize=10)
    fig.tight_layout()
    return fig
