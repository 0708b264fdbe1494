"""Which part of the robust design's error model biases its y(0) by region? (issue 11)

On null panels (``data.simulation.effect_scale=0``: every estimated effect is a prediction
error of ``y(0)``), the robust design's conditional posterior mean of ``y(0)`` on the treated
cells *given fixed hyperparameters*: generalised least squares for the untreated mean's linear
coefficients (the model's own terms, ``untreated_mean.mean_terms``, flat priors) with the
within-city covariance ``level^2 11' + trend^2 hh' + walk^2 min(s,t) + noise^2 I`` (trend sd
per trend group; no city scales), then the city's conditional mean given its untreated cells.
The hyperparameters are the posterior means of a default fit (``POSTERIOR``) and variations of
them, so the table shows which part moves the bias:

    .venv/bin/python bench/untreated_gls.py [--panels 16] [--first-seed 1000]

Prints the mean prediction error (the bias of ``att`` and by region / cohort / 2020) over the
panels and its sd, with time and peak memory. One panel at a time.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from bayes_resil.app import compose
from bayes_resil.bayes.data import model_data
from bayes_resil.bayes.grid import city_grid
from bayes_resil.bayes.marginal import linear_part
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.untreated_mean import mean_terms
from bayes_resil.bayes.within_city import city_trend, trend_groups
from bayes_resil.study import load_study

#: posterior means of the default run (model=hetero_region, seed 20250929)
POSTERIOR = {"level": 0.0102, "trend": (0.0022, 0.0033), "walk": 0.0006, "noise": 0.00035}
VARIANTS = {
    "posterior": POSTERIOR,
    "treated trend sd x3": {**POSTERIOR, "trend": (0.0022, 0.0099)},
    "treated trend sd x10": {**POSTERIOR, "trend": (0.0022, 0.033)},
    "trends unpooled": {**POSTERIOR, "trend": (1.0, 1.0)},
    "trend sd / 4": {**POSTERIOR, "trend": (0.00055, 0.0008)},
    "no walk": {**POSTERIOR, "walk": 1e-6},
    "walk x3": {**POSTERIOR, "walk": 0.0018},
}


def covariance(n_t: int, level, trend, walk, noise) -> np.ndarray:
    h, s = city_trend(n_t), np.arange(n_t)
    return (level ** 2 + trend ** 2 * np.outer(h, h) + walk ** 2 * np.minimum.outer(s, s)
            + noise ** 2 * np.eye(n_t))


def prediction_errors(seed: int) -> list[dict]:
    cfg = compose([f"data.simulation.seed={seed}", "data.simulation.effect_scale=0",
                   "model=staggered"])
    study = load_study(cfg.data, cfg.index)
    md = model_data(study, list(study.controls))
    g = city_grid(md, None)
    n_u, n_t = g.shape
    lin = linear_part(mean_terms(cfg.model, g, city_trend(n_t)),
                      PriorSet(cfg.prior, md.y_sd), n_t)
    X = np.stack([lin.mean(e) for e in np.eye(lin.size)], axis=-1)  # (U, T, p)
    fit, group = g.untreated, trend_groups(cfg.model, g.cohort)
    cells = g.cells[~g.cells["lead"]]
    rows = []
    for name, hp in VARIANTS.items():
        sigma = [covariance(n_t, hp["level"], hp["trend"][k], hp["walk"], hp["noise"])
                 for k in (0, 1)]
        a, b, w_inv = np.zeros((lin.size, lin.size)), np.zeros(lin.size), {}
        for i in np.flatnonzero(fit.any(axis=1)):
            f = fit[i]
            w_inv[i] = np.linalg.inv(sigma[group[i]][np.ix_(f, f)])
            a += X[i, f].T @ w_inv[i] @ X[i, f]
            b += X[i, f].T @ w_inv[i] @ g.y[i, f]
        mu = X @ np.linalg.lstsq(a, b, rcond=None)[0]
        err = np.empty(len(cells))
        for k, (i, t) in enumerate(zip(cells["row"], cells["col"], strict=True)):
            f = fit[i]
            pred = mu[i, t] + sigma[group[i]][t, f] @ w_inv[i] @ (g.y[i, f] - mu[i, f])
            err[k] = g.y[i, t] - pred
        row = {"seed": seed, "variant": name, "att": err.mean()}
        for region in ("East", "Central", "West"):
            row[region] = err[cells["region"].to_numpy() == region].mean()
        for c in (2016, 2018, 2019, 2020):
            row[f"cohort {c}"] = err[cells["cohort"].to_numpy() == c].mean()
        row["2020"] = err[cells["time"].to_numpy() == 2020].mean()
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panels", type=int, default=16)
    ap.add_argument("--first-seed", type=int, default=1000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.panels):
        rows += prediction_errors(seed)
        print(f"panel {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    e = pd.DataFrame(rows).drop(columns="seed")
    pd.set_option("display.width", 200)
    print(f"\nNull panels {args.first_seed}-{args.first_seed + args.panels - 1}: mean prediction "
          "error of y(0) over the treated cells given fixed hyperparameters (mean = bias, "
          "std = spread over panels)")
    print(e.groupby("variant", sort=False).agg(["mean", "std"]).round(4).to_string())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\n{args.panels} panels in {time.perf_counter() - t0:.0f} s, peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
