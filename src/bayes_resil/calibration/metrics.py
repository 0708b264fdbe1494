"""Performance of an estimator over replications (plain NumPy / pandas).

Definitions and Monte-Carlo standard errors follow Morris, White & Crowther (2019), "Using
simulation studies to evaluate statistical methods", Statistics in Medicine 38: 2074-2102,
Table 6, with ``n`` replications, error ``e_r = estimate_r - truth_r``:

* ``bias`` = mean(e), MCSE sd(e) / sqrt(n);
* ``emp_sd`` = sd(e) (the spread of the error across replications), MCSE emp_sd / sqrt(2(n-1));
* ``rmse`` = sqrt(mean(e^2)), MCSE of the MSE sqrt(sum((e^2 - MSE)^2) / (n(n-1))) carried to
  the root by the delta method (/ 2 rmse);
* ``coverage`` = share of intervals containing the truth, MCSE sqrt(C(1-C)/n);
* ``se_ratio`` = mean reported SE (or posterior sd) / emp_sd, MCSE by the delta method,
  se_ratio x sqrt(var(SE) / (n mean(SE)^2) + 1 / (2(n-1)));
* ``reject_zero`` = share of intervals that exclude 0 (power; under a null, the false-positive
  rate);
* ``coverage_flag``: ``under-covers`` / ``over-covers`` when an exact two-sided binomial test of
  ``coverage = ci_level`` rejects at ``flag_alpha`` (default 0.01), else ``ok``; ``too few``
  below 10 replications.

Two more truths are scored: ``coverage_panel`` (against the effect on every treated
unit-period of the panel, ``truth.csv``) and ``coverage_population`` (against the mean of that
truth over all replications: the expected effect for these cities under the data-generating
process, the population-level estimand a clustered standard error aims at).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..estimand import sort_key

KEYS = ["method", "estimand", "outcome"]
MIN_FLAG = 10


def _covers(lo: np.ndarray, hi: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return (lo <= truth) & (truth <= hi)


def flag(covered: int, n: int, level: float, alpha: float) -> str:
    """``ok`` / ``under-covers`` / ``over-covers`` (exact binomial test) or ``too few``."""
    from scipy.stats import binomtest  # scipy.stats takes 1.4 s to import: only when needed

    if n < MIN_FLAG:
        return "too few"
    p = binomtest(covered, n, level).pvalue
    if p >= alpha:
        return "ok"
    return "under-covers" if covered / n < level else "over-covers"


def performance(group: pd.DataFrame, *, flag_alpha: float = 0.01) -> dict:
    """Performance measures of one estimator x estimand over its replications."""
    g = group[np.isfinite(group["estimate"].to_numpy(float))]
    n = len(g)
    est = g["estimate"].to_numpy(float)
    truth = g["true_effect"].to_numpy(float)
    e = est - truth
    out: dict = {"replications": n}
    if n == 0:
        return out
    sd = float(e.std(ddof=1)) if n > 1 else np.nan
    mse = float(np.mean(e**2))
    rmse = float(np.sqrt(mse))
    out |= {
        "true_effect_mean": float(truth.mean()),
        "true_effect_sd": float(truth.std(ddof=1)) if n > 1 else np.nan,
        "estimate_mean": float(est.mean()),
        "bias": float(e.mean()), "bias_mcse": sd / np.sqrt(n),
        "emp_sd": sd, "emp_sd_mcse": sd / np.sqrt(2 * (n - 1)) if n > 1 else np.nan,
        "rmse": rmse,
        "rmse_mcse": (float(np.sqrt(np.sum((e**2 - mse) ** 2) / (n * (n - 1)))) / (2 * rmse)
                      if n > 1 and rmse > 0 else np.nan),
    }
    se = g["std_error"].to_numpy(float)
    if np.isfinite(se).all() and n > 1 and sd > 0:
        ratio = se.mean() / sd
        out["mean_se"] = float(se.mean())
        out["se_ratio"] = float(ratio)
        out["se_ratio_mcse"] = float(ratio * np.sqrt(se.var(ddof=1) / (n * se.mean() ** 2)
                                                     + 1 / (2 * (n - 1))))
    lo, hi = g["ci_lower"].to_numpy(float), g["ci_upper"].to_numpy(float)
    has_ci = np.isfinite(lo) & np.isfinite(hi)
    if has_ci.all():
        level = float(g["ci_level"].iloc[0])
        cov = _covers(lo, hi, truth)
        c = float(cov.mean())
        panel = g["true_effect_panel"].to_numpy(float)
        out |= {
            "ci_level": level, "coverage": c, "coverage_mcse": float(np.sqrt(c * (1 - c) / n)),
            "coverage_flag": flag(int(cov.sum()), n, level, flag_alpha),
            "mean_width": float((hi - lo).mean()),
            "reject_zero": float(((lo > 0) | (hi < 0)).mean()),
            "coverage_panel": float(_covers(lo, hi, panel).mean()),
            "coverage_population": float(_covers(lo, hi, np.full(n, panel.mean())).mean()),
        }
    if "diagnostics_ok" in g.columns and g["method"].iloc[0].startswith("bayes_"):
        ok = g["diagnostics_ok"].astype("boolean")
        out["failed"] = int((ok == False).sum())  # noqa: E712 - three-valued
    return out


COLUMNS = ["method", "estimand", "outcome", "replications", "ci_level", "coverage",
           "coverage_mcse", "coverage_flag", "bias", "bias_mcse", "rmse", "rmse_mcse",
           "emp_sd", "emp_sd_mcse", "mean_se", "se_ratio", "se_ratio_mcse", "mean_width",
           "reject_zero", "failed", "errors", "true_effect_mean", "true_effect_sd",
           "estimate_mean", "coverage_panel", "coverage_population"]


def calibration_table(rows: pd.DataFrame, *, flag_alpha: float = 0.01,
                      errors: pd.DataFrame | None = None) -> pd.DataFrame:
    """``calibration.csv``: one row per method x estimand x outcome of ``rows``.

    ``errors``: failed units of work (columns ``method`` and ``replication``), counted per
    method in ``errors``."""
    if rows.empty or not set(KEYS) <= set(rows.columns):
        return pd.DataFrame(columns=COLUMNS)
    records = [{**dict(zip(KEYS, key, strict=True)), **performance(g, flag_alpha=flag_alpha)}
               for key, g in rows.groupby(KEYS, sort=False)]
    table = pd.DataFrame.from_records(records)
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    n_err = (errors.groupby("method")["replication"].nunique()
             if errors is not None and len(errors) else pd.Series(dtype=int))
    table["errors"] = table["method"].map(n_err).fillna(0).astype(int)
    if "failed" not in table.columns:
        table["failed"] = np.nan
    for c in COLUMNS:
        if c not in table.columns:
            table[c] = np.nan
    idx = sorted(table.index, key=lambda i: (str(table.at[i, "method"]),
                                             str(table.at[i, "outcome"]),
                                             sort_key(str(table.at[i, "estimand"]))))
    return table.loc[idx, COLUMNS].reset_index(drop=True)
