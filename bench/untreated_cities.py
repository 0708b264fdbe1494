"""Which treated cities carry the robust design's regional biases? (issue 11)

On null panels (``data.simulation.effect_scale=0``: every effect cell's true effect is 0, so its
posterior mean is a prediction error of ``y(0)``), this fits the default study's model
(``model=hetero_region``, robust design, ``sampler=thin``) and, beside it, least squares with the
model's own mean terms (``untreated_mean.mean_terms``) plus a free level and linear trend per
city: no pooling of the trends, no random walk. It prints the mean error by region for both,
then by city (the Bayesian error, its mean posterior sd, their ratio, and the least-squares
error) and by region x event time.

    .venv/bin/python bench/untreated_cities.py [--panels 16] [--first-seed 1000] [--workers 2]
        [--out cells.csv] [model overrides, e.g. model.trend_groups=false]

A fit takes ~20 s on one core after the first (compilation ~25 s per worker); each worker holds
one panel's posterior at a time, so memory does not grow with ``--panels``.
"""

from __future__ import annotations

import argparse
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from bayes_resil.app import compose
from bayes_resil.bayes.fit import prepare
from bayes_resil.bayes.grid import city_grid
from bayes_resil.bayes.marginal import linear_part
from bayes_resil.bayes.models.robust import take_out_curvature
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.sampling import sample
from bayes_resil.bayes.untreated_mean import mean_terms
from bayes_resil.bayes.within_city import city_trend
from bayes_resil.study import load_study


def least_squares_errors(cfg, md) -> pd.Series:
    """``y - y0_hat`` of every effect cell: least squares on the untreated cells with the
    model's mean terms plus a free level and trend per city (min-norm where they overlap: the
    predictions of the cells are identified all the same). ``md``: the fitted model's data."""
    g = city_grid(md, None)
    take_out_curvature(md, g, cfg.model)
    n_u, n_t = g.shape
    lin = linear_part(mean_terms(cfg.model, g, city_trend(n_t)), PriorSet(cfg.prior, md.y_sd),
                      n_t)
    x = np.stack([lin.mean(e) for e in np.eye(lin.size)], axis=-1)  # (U, T, P)
    level = np.repeat(np.eye(n_u)[:, None, :], n_t, axis=1)
    design = np.concatenate([x, level, level * city_trend(n_t)[None, :, None]], axis=-1)
    fit = g.untreated
    coef = np.linalg.lstsq(design[fit], g.y[fit], rcond=None)[0]
    cells = g.cells[~g.cells["lead"]]
    rows, cols = cells["row"].to_numpy(), cells["col"].to_numpy()
    err = g.y[rows, cols] - design[rows, cols] @ coef
    return pd.Series(err, index=[f"{u}|{t}" for u, t in zip(cells["unit"], cells["time"],
                                                           strict=True)])


def one_panel(seed: int, overrides: list[str]) -> pd.DataFrame:
    cfg = compose(["model=hetero_region", "sampler=thin", "sampler.cores=1",
                   f"data.simulation.seed={seed}", "data.simulation.effect_scale=0", *overrides])
    study = load_study(cfg.data, cfg.index)
    _, _, built = prepare(study, cfg)
    idata, _ = sample(built, cfg.sampler, extras=False, reuse_compiled=True)
    tau = idata["posterior"]["tau"].stack(s=("chain", "draw"))
    out = pd.DataFrame({"bayes": tau.mean("s").to_series(), "sd": tau.std("s").to_series()})
    out["least_squares"] = least_squares_errors(cfg, built.md)
    out = out.rename_axis("cell").reset_index()
    out[["unit", "time"]] = out["cell"].str.split("|", expand=True)
    out["time"] = out["time"].astype(int)
    attrs = study.panel.drop_duplicates("unit").set_index("unit")
    for col in ("name_cn", "region", "cohort"):
        if col in attrs.columns:
            out[col] = out["unit"].map(attrs[col])
    out["event_time"] = out["time"] - out["cohort"]
    out["seed"] = seed
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panels", type=int, default=16)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None, help="CSV of every panel's effect cells")
    ap.add_argument("overrides", nargs="*", help="config overrides for every fit")
    args = ap.parse_args()
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.panels)
    frames = []
    with ProcessPoolExecutor(args.workers) as pool:
        for frame in pool.map(one_panel, seeds, [args.overrides] * args.panels):
            frames.append(frame)
            print(f"panel {frame['seed'].iloc[0]} done ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    d = pd.concat(frames, ignore_index=True)
    if args.out:
        d.to_csv(args.out, index=False)
    pd.set_option("display.width", 200)
    print(f"\nNull panels {seeds[0]}-{seeds[-1]}: mean error of y(0) over the effect cells "
          "(Bayesian posterior mean; least squares with free city trends)")
    print(d.groupby("region")[["bayes", "least_squares"]].mean().round(4).to_string())
    by_city = d.groupby(["name_cn", "region", "cohort"]).agg(
        cells=("bayes", "size"), bayes=("bayes", "mean"),
        rmse=("bayes", lambda v: float(np.sqrt((v ** 2).mean()))), mean_sd=("sd", "mean"),
        least_squares=("least_squares", "mean"))
    by_city["sd_over_rmse"] = by_city["mean_sd"] / by_city["rmse"]
    by_city = by_city.reindex(by_city["bayes"].abs().sort_values(ascending=False).index)
    print("\nCities with the largest mean Bayesian error (over their cells and the panels)")
    print(by_city.head(20).round(4).to_string())
    print("\nMean Bayesian error by region and event time")
    print(d.groupby(["region", "event_time"])["bayes"].mean().unstack().round(4).to_string())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\n{args.panels} panels in {time.perf_counter() - t0:.0f} s on {args.workers} "
          f"workers, peak RSS of the parent {peak:.2f} GiB")


if __name__ == "__main__":
    main()
