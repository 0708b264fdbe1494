"""Event-study plot: coefficients with confidence intervals by event time (Figure 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..estimand import events, kinds


def plot_event_study(estimates: pd.DataFrame, *, truth: pd.DataFrame | None = None,
                     title: str = "Event study (TWFE)", simulated: bool = False) -> Figure:
    """Event-study coefficients and CIs from ``estimates`` rows with ``method=event_study``.

    ``truth`` (optional): rows ``event[e]`` of ``truth.csv`` for the outcome, drawn as the true
    average effect by event time.
    """
    es = estimates[(estimates["method"] == "event_study")
                   & (kinds(estimates["estimand"]) == "event")].copy()
    es["k"] = events(es["estimand"]).astype(int)
    es = es.sort_values("k")
    fig = Figure(figsize=(7.0, 4.2))
    ax = fig.subplots()
    level = int(round(100 * float(es["ci_level"].iloc[0]))) if len(es) else 95
    ax.axhline(0, color="0.4", lw=0.8)
    ax.axvline(-0.5, color="0.6", lw=0.8, ls=":")
    ax.fill_between(es["k"], es["ci_lower"], es["ci_upper"], color="C0", alpha=0.18,
                    label=f"{level}% CI")
    ax.errorbar(es["k"], es["estimate"],
                yerr=[es["estimate"] - es["ci_lower"], es["ci_upper"] - es["estimate"]],
                fmt="o-", color="C0", capsize=3, label="TWFE event-study coefficient")
    ref = es[es["note"].fillna("").str.startswith("reference")]
    if len(ref):
        ax.plot(ref["k"], ref["estimate"], "s", color="white", mec="C0",
                label=f"reference period ({int(ref['k'].iloc[0])})")
    if truth is not None:
        tr = truth[(truth["outcome"] == "y") & (kinds(truth["estimand"]) == "event")].copy()
        tr["k"] = events(tr["estimand"]).astype(int)
        lo, hi = int(es["k"].min()), int(es["k"].max())
        # binned endpoints: the true effect averaged over the bin's cells
        tr["k"] = tr["k"].clip(lo, hi)
        tr["w"] = tr["true_effect"] * tr["n_cells"]
        tr = tr.groupby("k", as_index=False)[["w", "n_cells"]].sum()
        tr["true_effect"] = tr["w"] / tr["n_cells"]
        ax.plot(tr["k"], tr["true_effect"], "D--", color="C3", ms=4,
                label="true average effect (simulation)")
    ax.set_xticks(np.arange(es["k"].min(), es["k"].max() + 1) if len(es) else [])
    if len(es):
        labels = [str(k) for k in range(int(es["k"].min()), int(es["k"].max()) + 1)]
        labels[0] = f"≤{labels[0]}"
        labels[-1] = f"≥{labels[-1]}"
        ax.set_xticklabels(labels)
    ax.set_xlabel("years since adoption (event time)")
    ax.set_ylabel("effect on the outcome")
    ax.set_title(title + (" — SIMULATED DATA" if simulated else ""))
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
