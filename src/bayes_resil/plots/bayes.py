"""Posterior-vs-OLS figures: forest, densities, event-study overlay, shrinkage, prior
predictive. Data first, options keyword-only; each returns a matplotlib Figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import gaussian_kde

from ..estimand import events, kinds


def _suffix(simulated: bool) -> str:
    return " — SIMULATED DATA" if simulated else ""


def plot_forest(comparison: pd.DataFrame, *, title: str = "Posterior vs OLS",
                simulated: bool = False) -> Figure:
    """Posterior interval (and mean) against the OLS CI per estimand; truth when known; the
    population-level interval (thin) when the model has one."""
    c = comparison.reset_index(drop=True)
    n = len(c)
    fig = Figure(figsize=(7.5, 1.2 + 0.42 * n))
    ax = fig.subplots()
    ypos = np.arange(n)[::-1]
    ax.hlines(ypos + 0.15, c["posterior_lower"], c["posterior_upper"], color="C0", lw=3,
              label="posterior interval")
    ax.plot(c["posterior_mean"], ypos + 0.15, "o", color="C0")
    if "population_mean" in c.columns and c["population_mean"].notna().any():
        ax.hlines(ypos + 0.3, c["population_lower"], c["population_upper"], color="C2", lw=1.5,
                  label="posterior, population level")
    if "ols_estimate" in c.columns:
        ax.hlines(ypos - 0.15, c["ols_lower"], c["ols_upper"], color="C1", lw=3,
                  label="OLS confidence interval")
        ax.plot(c["ols_estimate"], ypos - 0.15, "s", color="C1")
    if "true_effect" in c.columns and c["true_effect"].notna().any():
        ax.plot(c["true_effect"], ypos, "D", color="C3", ms=5, label="true effect")
    ax.axvline(0, color="0.5", lw=0.8, ls=":")
    ax.set_yticks(ypos)
    ax.set_yticklabels(c["estimand"])
    ax.set_xlabel("effect")
    ax.set_title(title + _suffix(simulated))
    ax.legend(frameon=False, fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def plot_densities(draws: dict[str, np.ndarray], comparison: pd.DataFrame, *,
                   simulated: bool = False, max_panels: int = 12) -> Figure:
    """Posterior density of each compared estimand with the OLS estimate and CI overlaid."""
    c = comparison.set_index("estimand")
    names = [k for k in c.index if k in draws][:max_panels]
    cols = min(3, max(1, len(names)))
    rows = int(np.ceil(len(names) / cols)) or 1
    fig = Figure(figsize=(3.4 * cols, 2.5 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    for ax, name in zip(axes, names, strict=False):
        v = np.asarray(draws[name]).reshape(-1)
        if np.ptp(v) > 0:
            grid = np.linspace(v.min(), v.max(), 300)
            ax.plot(grid, gaussian_kde(v)(grid), color="C0", label="posterior")
        r = c.loc[name]
        if pd.notna(r.get("ols_estimate", np.nan)):
            ax.axvline(r["ols_estimate"], color="C1", label="OLS")
            ax.axvspan(r["ols_lower"], r["ols_upper"], color="C1", alpha=0.15, label="OLS CI")
        if pd.notna(r.get("true_effect", np.nan)):
            ax.axvline(r["true_effect"], color="C3", ls="--", label="truth")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    for ax in axes[len(names):]:
        ax.set_visible(False)
    if names:
        axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle("Posterior densities with OLS" + _suffix(simulated), fontsize=10)
    fig.tight_layout()
    return fig


def plot_event_overlay(estimates: pd.DataFrame, *, bayes_method: str | None = None,
                       truth: pd.DataFrame | None = None, simulated: bool = False) -> Figure:
    """OLS event study, the heterogeneity-robust estimators present, the posterior band (when
    ``bayes_method`` is given) and the truth (simulated data)."""
    fig = Figure(figsize=(7.5, 4.4))
    ax = fig.subplots()

    def series(method):
        s = estimates[(estimates["method"] == method)
                      & (kinds(estimates["estimand"]) == "event")].copy()
        s["k"] = events(s["estimand"]).astype(int)
        return s.sort_values("k")

    b = series(bayes_method) if bayes_method else series("__none__")
    if len(b):
        ax.fill_between(b["k"], b["ci_lower"], b["ci_upper"], color="C0", alpha=0.25,
                        label="posterior interval")
        ax.plot(b["k"], b["estimate"], "o-", color="C0",
                label=f"posterior mean ({bayes_method})")
    o = series("event_study")
    if len(o):
        ax.errorbar(o["k"] + 0.1, o["estimate"], yerr=[o["estimate"] - o["ci_lower"],
                                                       o["ci_upper"] - o["estimate"]],
                    fmt="s", color="C1", capsize=2, ms=4, label="OLS event study")
    for i, method in enumerate(("callaway_santanna", "sun_abraham", "imputation")):
        s = series(method)
        if len(s):
            ax.errorbar(s["k"] - 0.1 * (i + 1), s["estimate"],
                        yerr=[s["estimate"] - s["ci_lower"], s["ci_upper"] - s["estimate"]],
                        fmt="^", ms=4, capsize=2, color=f"C{i + 4}", label=method)
    if truth is not None:
        t = truth[(truth["outcome"] == "y") & (kinds(truth["estimand"]) == "event")].copy()
        t["k"] = events(t["estimand"]).astype(int)
        shown = pd.concat([b, o])
        if len(shown):
            t = t[(t["k"] >= shown["k"].min()) & (t["k"] <= shown["k"].max())]
        ax.plot(t["k"], t["true_effect"], "D--", color="C3", ms=4, label="true effect")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("event time")
    ax.set_ylabel("effect")
    ax.set_title("Event-time effects" + _suffix(simulated))
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_shrinkage(comparison: pd.DataFrame, *, simulated: bool = False) -> Figure:
    """No-pooling OLS (same specification) -> partially pooled posterior, per group, with the
    subsample OLS beside them."""
    c = comparison.dropna(subset=["unpooled_estimate"]).reset_index(drop=True)
    fig = Figure(figsize=(7.0, 1.6 + 0.55 * len(c)))
    ax = fig.subplots()
    ypos = np.arange(len(c))[::-1]
    for y, r in zip(ypos, c.itertuples(), strict=True):
        ax.annotate("", xy=(r.posterior_mean, y), xytext=(r.ols_estimate, y),
                    arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.plot(c["ols_estimate"], ypos, "s", color="C1", label="no pooling (OLS interaction)")
    ax.plot(c["unpooled_estimate"], ypos - 0.2, "v", color="C4", ms=5,
            label="subsample OLS")
    ax.plot(c["posterior_mean"], ypos, "o", color="C0", label="partially pooled posterior")
    if "pooled_mean" in c.columns and len(c):
        ax.axvline(c["pooled_mean"].iloc[0], color="C0", ls=":", label="pooled mean")
    if "true_effect" in c.columns and c["true_effect"].notna().any():
        ax.plot(c["true_effect"], ypos, "D", color="C3", ms=4, label="true effect")
    labels = [f"{e}  (n={int(n)} units)" if "n_units" in c.columns else e
              for e, n in zip(c["estimand"], c.get("n_units", pd.Series([0] * len(c))),
                              strict=True)]
    ax.set_yticks(ypos)
    ax.set_yticklabels(labels)
    ax.set_xlabel("effect")
    ax.set_title("Shrinkage by partial pooling" + _suffix(simulated))
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_prior_predictive(y_prior: np.ndarray, y_obs: np.ndarray,
                          effect_prior: np.ndarray | None, *, simulated: bool = False,
                          note: str = "") -> Figure:
    """Prior predictive outcome distribution beside the data, and implied effect sizes
    (``effect_prior=None``: the effects have no proper prior; ``note`` says why)."""
    fig = Figure(figsize=(9, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    lo, hi = np.quantile(y_prior, [0.005, 0.995])
    ax1.hist(np.clip(y_prior.reshape(-1), lo, hi), bins=60, density=True, color="C0",
             alpha=0.4, label="prior predictive y")
    ax1.hist(y_obs, bins=60, density=True, color="C1", alpha=0.5, label="observed y")
    ax1.set_title("Outcome scale")
    ax1.legend(frameon=False, fontsize=8)
    if effect_prior is None:
        ax2.text(0.5, 0.5, note, ha="center", va="center", wrap=True, fontsize=9,
                 transform=ax2.transAxes)
        ax2.set_axis_off()
    else:
        ax2.hist(effect_prior.reshape(-1), bins=60, density=True, color="C2", alpha=0.6)
        ax2.axvline(0, color="0.3", lw=0.8)
    ax2.set_title(f"Implied effect sizes (sd of y = {np.std(y_obs):.3g})")
    fig.suptitle("Prior predictive check" + _suffix(simulated), fontsize=10)
    fig.tight_layout()
    return fig
