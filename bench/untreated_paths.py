"""How predictable is the untreated outcome of the treated cities? (evidence for issue 11)

Every Bayesian effect model imputes ``y(0)`` of the treated city-years from a skeleton fitted to
the untreated ones; its intervals are honest only if the skeleton's prediction errors are what
its error model says. This script measures those errors where they are known exactly: on null
panels of the simulator (``data.simulation.effect_scale=0``, so every observed outcome is
``y(0)``), OLS-imputation with several skeletons, fitted on the untreated cells of the estimation
sample (the six controls, listwise deletion as in the models):

* ``twfe``          city + year effects + controls (the imputation estimator's skeleton)
* ``region_year``   + region x year effects
* ``city_trend``    + a linear trend per city
* ``city_trend+region_year``
* ``model_mean``    city trend + year effects varying with the whitened control means (the
  robust design's untreated mean, ``model.covariate_years``), by least squares
* ``model_mean+level_year``  + year effects loading on each city's own fitted level
  (two steps: the city's level + trend path from ``model_mean``, standardised, times year
  dummies): does the 2020 shock move cities by their level?
* ``model_mean+pre_year``    + year effects loading on the 2010-2014 outcome mean and slope

For each skeleton: the mean prediction error over the treated cells (``att`` under the null,
and per region) - its mean over panels is the bias of the imputation, its sd over panels the
spread a calibrated interval must match - and the residual sd of the fit on the untreated cells.
A second table compares, per city, the sd of the residuals around the city's own linear trend
before the cut (adoption, or 2017 for never-treated cities) with the root-mean-square error of
extrapolating that trend after it: how much larger extrapolation errors are than in-sample
residuals, and whether large-residual cities are large-error cities (city-level scales).

    .venv/bin/python bench/untreated_paths.py [--panels 16] [--first-seed 1000]

One panel at a time (memory stays at one panel's design matrices whatever ``--panels``).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from bayes_resil.app import compose
from bayes_resil.bayes.data import model_data
from bayes_resil.bayes.untreated_mean import whitened
from bayes_resil.study import load_study

SKELETONS = ("twfe", "region_year", "city_trend", "city_trend+region_year", "model_mean",
             "model_mean+level_year", "model_mean+pre_year")
REGIONS = ("East", "Central", "West")


def design(p: pd.DataFrame, controls: list[str], kind: str) -> np.ndarray:
    n_units, n_times = int(p["u"].max()) + 1, int(p["t"].max()) + 1
    unit = np.eye(n_units)[p["u"]]
    year = np.eye(n_times)[p["t"]][:, 1:]
    cols = [unit, year, p[controls].to_numpy(float)]
    if "city_trend" in kind:
        tt = (p["t"].to_numpy() - (n_times - 1) / 2) / (n_times - 1)
        cols.append(unit * tt[:, None])
    if "model_mean" in kind:
        tt = (p["t"].to_numpy() - (n_times - 1) / 2) / (n_times - 1)
        cols.append(unit * tt[:, None])
        z = whitened(p.groupby("u")[controls].mean().to_numpy())[p["u"]]
        cols.append(_by_year(z, year))
    if "region_year" in kind:
        reg = pd.get_dummies(p["region"]).to_numpy(float)[:, 1:]
        cols.append(_by_year(reg, year))
    if "pre_year" in kind:
        pre = p[p["time"] <= 2014].groupby("u")
        q = np.column_stack([pre["y"].mean(), pre.apply(
            lambda g: np.polyfit(g["time"], g["y"], 1)[0] if len(g) > 1 else 0.0)])
        cols.append(_by_year(((q - q.mean(0)) / q.std(0))[p["u"]], year))
    return np.column_stack(cols)


def _by_year(z: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Each column of ``z`` times each year dummy (year effects varying with ``z``)."""
    return (z[:, :, None] * year[:, None, :]).reshape(len(z), -1)


def level_year(p: pd.DataFrame, controls: list[str], treated: np.ndarray) -> np.ndarray:
    """``model_mean`` plus year effects times each city's own fitted path (level + trend from
    a first ``model_mean`` fit on the untreated cells, standardised)."""
    X = design(p, controls, "model_mean")
    n_units, n_times = int(p["u"].max()) + 1, int(p["t"].max()) + 1
    b, *_ = np.linalg.lstsq(X[~treated], p["y"].to_numpy(float)[~treated], rcond=None)
    unit = np.eye(n_units)[p["u"]]
    tt = (p["t"].to_numpy() - (n_times - 1) / 2) / (n_times - 1)
    k = n_units + n_times - 1 + len(controls)
    path = unit @ b[:n_units] + (unit * tt[:, None]) @ b[k:k + n_units]
    path = (path - path.mean()) / path.std()
    return np.column_stack([X, path[:, None] * np.eye(n_times)[p["t"]][:, 1:]])


def null_panel(seed: int) -> tuple[pd.DataFrame, list[str]]:
    """The models' estimation sample (``model_data``) of a null panel: codes ``u``, ``t`` and
    the controls standardised."""
    cfg = compose([f"data.simulation.seed={seed}", "data.simulation.effect_scale=0"])
    study = load_study(cfg.data, cfg.index)
    controls = list(study.controls)
    md = model_data(study, controls)
    p = md.frame.assign(u=md.unit, t=md.time)
    p[controls] = md.x
    return p, controls


def imputation_errors(p: pd.DataFrame, controls: list[str], seed: int) -> list[dict]:
    treated = p["d"].to_numpy() > 0
    y = p["y"].to_numpy(float)
    rows = []
    for kind in SKELETONS:
        X = level_year(p, controls, treated) if kind.endswith("level_year") else design(
            p, controls, kind)
        b, *_ = np.linalg.lstsq(X[~treated], y[~treated], rcond=None)
        err = y[treated] - X[treated] @ b
        row = {"seed": seed, "skeleton": kind, "att": err.mean(),
               "residual_sd": (y[~treated] - X[~treated] @ b).std()}
        reg = p.loc[treated, "region"].to_numpy()
        row |= {r: err[reg == r].mean() for r in REGIONS}
        years = p.loc[treated, "time"].to_numpy()
        row |= {str(t): err[years == t].mean() for t in (2017, 2020, 2022)}
        rows.append(row)
    return rows


def trend_extrapolation(p: pd.DataFrame, seed: int, cut_never: int = 2017) -> list[dict]:
    never = p["cohort"].isna()
    year_mean = p[never].groupby("time")["y"].mean()
    r = p["y"] - p["time"].map(year_mean)
    out = []
    for _unit, g in p.assign(r=r).groupby("unit"):
        is_never = bool(g["cohort"].isna().all())
        before = g[g["time"] < cut_never] if is_never else g[g["d"] == 0]
        after = g[g["time"] >= cut_never] if is_never else g[g["d"] == 1]
        if len(before) < 4 or after.empty:
            continue
        t = before["time"].to_numpy(float)
        coef = np.polyfit(t, before["r"], 1)
        resid = before["r"] - np.polyval(coef, t)
        err = after["r"] - np.polyval(coef, after["time"].to_numpy(float))
        out.append({"seed": seed, "group": "never treated" if is_never else "treated",
                    "pre_sd": resid.std(ddof=2), "post_rmse": float(np.sqrt((err ** 2).mean())),
                    "level": g["y"].mean()})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panels", type=int, default=16)
    ap.add_argument("--first-seed", type=int, default=1000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    errs, trends = [], []
    for seed in range(args.first_seed, args.first_seed + args.panels):
        p, controls = null_panel(seed)
        errs += imputation_errors(p, controls, seed)
        trends += trend_extrapolation(p, seed)
        print(f"panel {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    e = pd.DataFrame(errs)
    cols = ["att", *REGIONS, "2017", "2020", "2022"]
    summary = e.groupby("skeleton")[cols + ["residual_sd"]].agg(["mean", "std"])
    pd.set_option("display.width", 160)
    print(f"\nNull panels {args.first_seed}-{args.first_seed + args.panels - 1}: mean prediction "
          "error of y(0) over the treated cells (mean = bias, std = spread over panels)")
    print(summary.reindex(list(SKELETONS)).round(4).to_string())
    tr = pd.DataFrame(trends)
    rows = []
    for group, g in tr.groupby("group"):
        rows.append({"group": group, "cities": len(g), "median pre_sd": g["pre_sd"].median(),
                     "median post_rmse": g["post_rmse"].median(),
                     "median ratio": (g["post_rmse"] / g["pre_sd"]).median(),
                     "corr(log pre_sd, log post_rmse)": np.corrcoef(
                         np.log(g["pre_sd"]), np.log(g["post_rmse"]))[0, 1],
                     "corr(level, post_rmse)": np.corrcoef(g["level"], g["post_rmse"])[0, 1]})
    print("\nPer city: residual sd around its own linear trend before the cut vs the RMSE of "
          "extrapolating that trend after it")
    print(pd.DataFrame(rows).round(4).to_string(index=False))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\n{args.panels} panels in {time.perf_counter() - t0:.0f} s, peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
