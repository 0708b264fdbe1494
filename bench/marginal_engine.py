"""The exact-marginal engine against NUTS on the full model (issue 14), side by side.

Part 1, the default panel (283 cities x 13 years, controls): for each model, the full model
(``sampler=nutpie``) and the marginal engine (``sampler=marginal``), each in a fresh process
(compilation included), 4 chains x 500 / 500 draws: wall time from building the model to the
last exact draw, the smallest bulk ESS of the reported effects, ESS per second, peak memory;
and whether the two posteriors agree (each effect's mean within 3 Monte-Carlo SEs of the two
runs combined, sd ratio).

Part 2, scale: a panel drawn from the robust design's own error model (no controls, cohorts
at 40% / 60% of the years, 40% never treated) with N cities x 20 years, each engine in a fresh
process, 2 chains x 300 / 300 draws: time and peak memory.

    .venv/bin/python bench/marginal_engine.py [--models hetero_region staggered]
        [--units 283 1000 5000] [--engines full marginal] [--skip-default] [--skip-scale]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def error_model_panel(n_units: int, n_years: int, seed: int = 1) -> pd.DataFrame:
    """Untreated outcomes from the robust design's error model (level, trend, random walk,
    noise; city scales), year effects, a constant effect 0.3 on the treated."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2000 + n_years)
    cuts = [years[int(0.4 * n_years)], years[int(0.6 * n_years)]]
    cohort = rng.choice([*cuts, 0], size=n_units, p=[0.3, 0.3, 0.4])
    h = (np.arange(n_years) - (n_years - 1) / 2) / (n_years - 1)
    scale = np.exp(rng.normal(0, 0.3, n_units))
    u = (rng.normal(0, 0.5, n_units)[:, None] + rng.normal(0, 0.4, n_units)[:, None] * h
         + np.cumsum(np.column_stack([np.zeros(n_units),
                                      rng.normal(0, 0.15, (n_units, n_years - 1))]), axis=1)
         + rng.normal(0, 0.1, (n_units, n_years))) * scale[:, None]
    d = (cohort[:, None] > 0) & (years[None, :] >= cohort[:, None])
    y = 1.0 + rng.normal(0, 0.3, n_years)[None, :] + u + 0.3 * d
    return pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_years),
                         "year": np.tile(years, n_units), "first": np.repeat(cohort, n_years),
                         "y": y.ravel()})


def fit_once(spec: dict) -> dict:
    """One fit in this process (called as ``--fit <json>``): returns timings, ESS, memory and
    writes the effects' draws to ``spec['out']``."""
    import arviz_stats as azs

    from bayes_resil.app import compose
    from bayes_resil.bayes.fit import prepare
    from bayes_resil.bayes.sampling import sample
    from bayes_resil.study import load_study

    cfg = compose(spec["overrides"])
    data = load_study(cfg.data, cfg.index)
    t0 = time.perf_counter()
    _, _, built = prepare(data, cfg)
    idata, timings = sample(built, {**cfg.sampler, "posterior_predictive": False},
                            extras=False)
    wall = time.perf_counter() - t0
    post = idata["posterior"].to_dataset()
    effects = post[[v for v in ("att", "effect") if v in post]]
    ess = azs.ess(effects)
    min_ess = min(float(ess[v].min()) for v in ess.data_vars)
    effects.to_netcdf(spec["out"])
    stats = idata["sample_stats"].to_dataset()
    return {"wall": wall, "sampling": timings.get("sampling_wall", np.nan),
            "min_ess": min_ess, "divergences": int(stats["diverging"].sum()),
            "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def run_fit(overrides: list[str], out: Path) -> dict:
    spec = {"overrides": overrides, "out": str(out)}
    proc = subprocess.run([sys.executable, __file__, "--fit", json.dumps(spec)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table_row(label: dict, r: dict) -> dict:
    """One printed row: ``label`` then the fit's time, effect ESS, ESS/s, divergences, memory."""
    return {**label, "wall_s": round(r["wall"], 1), "min_effect_ess": round(r["min_ess"]),
            "ess_per_s": round(r["min_ess"] / r["wall"], 1), "divergences": r["divergences"],
            "peak_gib": round(r["peak_gib"], 2)}


def agreement(a_path: Path, b_path: Path) -> tuple[float, float, float]:
    """Largest |mean difference| / combined MCSE over the effects, and the range of sd ratios
    (b / a)."""
    import arviz_stats as azs
    import xarray as xr

    a, b = xr.open_dataset(a_path), xr.open_dataset(b_path)
    z, ratios = [], []
    for var in a.data_vars:
        se = np.hypot(azs.mcse(a[[var]])[var], azs.mcse(b[[var]])[var])
        diff = np.abs(a[var].mean(("chain", "draw")) - b[var].mean(("chain", "draw")))
        z.append(float((diff / se).max()))
        ratios.append(np.atleast_1d((b[var].std(("chain", "draw"))
                                     / a[var].std(("chain", "draw"))).to_numpy()))
    ratios = np.concatenate(ratios)
    return max(z), float(ratios.min()), float(ratios.max())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit")
    ap.add_argument("--models", nargs="*", default=["hetero_region", "staggered"])
    ap.add_argument("--units", nargs="*", type=int, default=[283, 1000, 5000])
    ap.add_argument("--engines", nargs="*", default=["full", "marginal"])
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    if args.fit:
        print(json.dumps(fit_once(json.loads(args.fit))))
        return
    tmp = Path(tempfile.mkdtemp(prefix="marginal_bench_"))
    if not args.skip_default:
        rows = []
        for model in args.models:
            res = {}
            for engine in args.engines:
                res[engine] = run_fit([f"model={model}", "sampler.progress=false",
                                       f"sampler.engine={engine}"], tmp / f"{model}_{engine}.nc")
                rows.append(table_row({"model": model, "engine": engine}, res[engine]))
                print(rows[-1], flush=True)
            if {"full", "marginal"} <= set(res):
                z, lo, hi = agreement(tmp / f"{model}_full.nc", tmp / f"{model}_marginal.nc")
                rows[-1]["max_mean_diff_in_mcse"] = round(z, 2)
                rows[-1]["sd_ratio"] = f"{lo:.3f}-{hi:.3f}"
                rows[-1]["ess_per_s_ratio"] = round(rows[-1]["ess_per_s"]
                                                    / rows[-2]["ess_per_s"], 2)
        print("\nDefault panel (4 chains x 500 / 500, compile included):")
        print(pd.DataFrame(rows).to_markdown(index=False))
    if not args.skip_scale:
        rows = []
        for n in args.units:
            path = tmp / f"panel_{n}.csv"
            error_model_panel(n, 20).to_csv(path, index=False)
            for engine in args.engines:
                r = run_fit(["data=file", f"data.path={path}", "data.columns.unit=unit",
                             "data.columns.time=year", "data.columns.cohort=first",
                             "data.columns.outcome=y", "data.never_treated=[0]",
                             "model=twfe", "model.controls=false", "sampler.chains=2",
                             "sampler.draws=300", "sampler.tune=300",
                             "sampler.progress=false", f"sampler.engine={engine}"],
                            tmp / f"scale_{n}_{engine}.nc")
                rows.append(table_row({"cities": n, "engine": engine}, r))
                print(rows[-1], flush=True)
        print("\nScale (N cities x 20 years, model=twfe robust design, 2 chains x 300 / 300):")
        print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
