"""Impute y(0) on the index, or on its indicators and score the index? (issue 11)

The outcome is an entropy-TOPSIS index of yearbook indicators (levels such as patents or GDP
per head, shares and ratios): a nonlinear function of series that grow roughly
multiplicatively, so a city's index path bends with its level even when each indicator's log
has a linear city trend. On null panels (``data.simulation.effect_scale=0``: every estimated
effect is a prediction error of ``y(0)``) this script imputes the treated cells' untreated
outcome two ways, each by least squares on the untreated cells of the estimation sample with
a level and a linear trend per city and year effects (no controls: the controls are built from
indicators):

* ``index``: the imputation on the index itself (what the robust design does, there with
  pooled city trends, a random walk and controls);
* ``indicators``: the same imputation on the log of every indicator (``--scale level``: on the
  indicators themselves), then the index of the imputed indicators scored with the panel's
  fitted weights, bounds and ideal points.

It prints, over the panels, the mean prediction error (the bias of an imputation estimator)
and its sd for ``att`` and its regional, cohort and 2020 averages (equal weights over the
treated cells).

    .venv/bin/python bench/untreated_indicators.py [--panels 24] [--first-seed 1000]
        [--scale log|level] [data.simulation.noise_rho=0.9 ...]

Under 1 s per panel.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from bayes_resil.app import compose
from bayes_resil.bayes.index_curvature import level_trend_year_fit
from bayes_resil.study import load_study


def impute(frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Least squares on the untreated cells of each column of ``values`` (rows of ``frame``)
    ``~ unit + unit x trend + year`` (the package's concentrated solve,
    :func:`bayes_resil.bayes.index_curvature.level_trend_year_fit`; the cells fitted are the
    untreated ones where every column is known), predicted for every row."""
    units = frame["unit"].astype("category").cat.codes.to_numpy()
    times = frame["time"].astype("category").cat.codes.to_numpy()
    values = np.asarray(values, float).reshape(len(frame), -1)
    grid = np.full((units.max() + 1, times.max() + 1, values.shape[1]), np.nan)
    grid[units, times] = values
    fit = np.zeros(grid.shape[:2], bool)
    fit[units, times] = (frame["d"].to_numpy() == 0) & np.isfinite(values).all(axis=1)
    return level_trend_year_fit(grid, fit)[units, times]


def panel_errors(seed: int, overrides: list[str], scale: str = "log") -> list[dict]:
    cfg = compose([f"data.simulation.seed={seed}", "data.simulation.effect_scale=0",
                   *overrides])
    study = load_study(cfg.data, cfg.index)
    panel = study.panel.dropna(subset=["y"]).copy()
    index = study.index_fit
    imputed = {"index": impute(panel, panel["y"].to_numpy())[:, 0]}
    x = panel[index.names].to_numpy(float)
    imputed_x = panel.copy()
    imputed_x[index.names] = (np.exp(impute(panel, np.log(x))) if scale == "log"
                              else impute(panel, x))
    imputed["indicators"] = index.score(imputed_x).to_numpy()
    treated = (panel["d"] == 1).to_numpy()
    cells = panel[treated]
    groups = {"att": np.ones(len(cells), bool)}
    groups |= {r: (cells["region"] == r).to_numpy() for r in ("East", "Central", "West")}
    groups |= {f"cohort {c}": (cells["cohort"] == c).to_numpy() for c in (2016, 2019)}
    groups["time 2020"] = (cells["time"] == 2020).to_numpy()
    rows = []
    for method, y0 in imputed.items():
        err = cells["y"].to_numpy() - y0[treated]
        rows += [{"seed": seed, "method": method, "estimand": g, "err": float(err[m].mean())}
                 for g, m in groups.items()]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panels", type=int, default=24)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--scale", choices=["log", "level"], default="log",
                    help="the indicators' scale of the imputation")
    ap.add_argument("overrides", nargs="*",
                    help="simulation knobs, e.g. data.simulation.noise_rho=0.9")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.panels):
        rows += panel_errors(seed, args.overrides, args.scale)
    d = pd.DataFrame(rows)
    t = d.pivot_table(index="estimand", columns="method", values="err",
                      aggfunc=["mean", "std"], sort=False)
    t.columns = [f"{m} {stat}" for stat, m in t.columns]
    pd.set_option("display.width", 200)
    print(f"Null panels {args.first_seed}-{args.first_seed + args.panels - 1} "
          f"{' '.join(args.overrides)} (indicators on the {args.scale} scale): mean "
          "prediction error of y(0) over the treated cells (mean over panels = bias; sd over "
          "panels)")
    print(t[["index mean", "indicators mean", "index std", "indicators std"]]
          .round(4).to_string())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\n{args.panels} panels in {time.perf_counter() - t0:.0f} s, peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
