"""Candidate for issue 11: Bayesian imputation with a within-city error covariance, over panels.

Not a package model yet: the study that decides which error structure the robust models get.
On simulated panels (seeds ``--first-seed`` ...), fits

    y_it = alpha + lambda_t + c_g(i) + x_it' b + xbar_i' e + tau_it D_it + omega_it M_it + u_it

on the full city x year grid: ``c_g`` cohort levels and ``xbar_i`` the city means of the
controls (correlated random effects: the city level is integrated out, so its dependence on
treatment timing and controls goes into the mean); ``tau_it`` one free effect per treated
city-year of the estimation sample (wide Normal prior: the treated cells say nothing about the
untreated-outcome model, as in Borusyak-Jaravel-Spiess imputation); ``omega_it`` a free offset
for every grid cell outside the estimation sample (missing outcome or controls), which is the
same as leaving the cell out of the Gaussian likelihood. The city error vector ``u_i`` (13
years) is Normal with covariance ``s_i^2 Sigma``, ``Sigma`` built from ``--errors``:

* ``iid``        sigma_e^2 I (plus the integrated city level: sigma_a^2 11')
* ``trend_rw``   level + city random trend sigma_b^2 tt' + random walk sigma_w^2 min(s, t)
                 + noise sigma_e^2 I
* ``trend_ar1``  level + trend + stationary AR(1) (rho ~ Beta(2, 2))

and ``s_i`` city-level scales, log s_i = sd * z_i (zero-sum z) with ``--scales`` (else 1);
``--trend-means`` gives the city trends a mean by cohort, region and control means (correlated
random trends: shrinking every trend to one common mean brings the selection on trends back). The
estimands are averages of the ``tau_it`` draws over treated cells, the same definition and
weights as the simulator's ``truth``: att, att[region], att[cohort=g], event[e]. Prints per
estimand: coverage of the 95% intervals, bias, sd of (posterior mean - truth) over panels, mean
posterior sd, their ratio, plus time per fit, divergences and the largest R-hat.

    .venv/bin/python bench/bayes_imputation.py --errors trend_rw --scales --panels 16 --jobs 2

One panel per task (joblib workers, one core each); memory is one model per worker.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

ESTIMAND_EVENTS = (0, 1, 2, 3)


def grid(study) -> dict:
    """The models' estimation sample (``model_data``: listwise deletion, standardised controls)
    on the full unit x period grid (the package's ``city_grid``), with its masks."""
    from bayes_resil.bayes.data import model_data
    from bayes_resil.bayes.grid import city_grid

    md = model_data(study, list(study.controls))
    g = city_grid(md)
    # cells outside the sample get a free offset; the city's mean outcome is only a start value
    city_mean = study.panel.groupby("unit", sort=False)["y"].mean()
    y = np.where(g.observed, g.y, city_mean.reindex(md.coords["unit"]).to_numpy()[:, None])
    return dict(units=np.array(md.coords["unit"], dtype=object),
                times=np.array(md.coords["time"]), y=y, obs=g.observed, x=g.x, xbar=g.x_bar,
                treated=g.effect, cohort=g.cohort, region=g.region)


def build(g: dict, errors: str, scales: bool, trend_means: bool = False):
    import pymc as pm
    import pytensor.tensor as pt

    y, obs, x, xbar = g["y"], g["obs"], g["x"], g["xbar"]
    n_u, n_t = y.shape
    ti, tj = np.nonzero(g["treated"])
    fi, fj = np.nonzero(~obs)
    cohorts = sorted(set(g["cohort"][~np.isnan(g["cohort"])]))
    c_dummy = np.array([[float(c == k) for k in cohorts] for c in g["cohort"]])
    ysd, ym = y[obs].std(), y[obs].mean()
    tt = (np.arange(n_t) - (n_t - 1) / 2) / (n_t - 1)
    lag = np.abs(np.subtract.outer(np.arange(n_t), np.arange(n_t)))
    with pm.Model() as model:
        mu = (pm.Normal("alpha", ym, 2 * ysd) + pm.ZeroSumNormal("lam", 2 * ysd, shape=n_t)[None]
              + pt.dot(c_dummy, pm.Normal("cohort_level", 0, ysd, shape=len(cohorts)))[:, None])
        if x.shape[2]:
            mu = (mu + pt.tensordot(x, pm.Normal("beta", 0, ysd, shape=x.shape[2]), axes=[[2], [0]])
                  + pt.dot(xbar, pm.Normal("mundlak_x", 0, ysd, shape=x.shape[2]))[:, None])
        if trend_means and errors != "iid":
            # correlated random trends (Mundlak for slopes): the mean trend depends on the
            # cohort, the region and the city means of the controls
            regions = sorted(set(g["region"]))
            r_dummy = np.array([[float(r == k) for k in regions[1:]] for r in g["region"]])
            zt = np.column_stack([c_dummy, r_dummy, xbar])
            kappa = pm.Normal("trend_mean", 0, ysd, shape=zt.shape[1])
            mu = mu + pt.dot(zt, kappa)[:, None] * tt[None, :]
        tau = pm.Normal("tau", 0, 5 * ysd, shape=len(ti))
        omega = pm.Normal("omega", 0, 5 * ysd, shape=len(fi))
        mu = pt.set_subtensor(mu[ti, tj], mu[ti, tj] + tau)
        mu = pt.set_subtensor(mu[fi, fj], mu[fi, fj] + omega)
        sa = pm.HalfNormal("level_sd", ysd)
        se = pm.HalfNormal("noise_sd", ysd)
        cov = sa ** 2 * np.ones((n_t, n_t))
        if errors == "iid":
            cov = cov + se ** 2 * np.eye(n_t)
        else:
            cov = cov + pm.HalfNormal("trend_sd", ysd) ** 2 * np.outer(tt, tt)
            if errors == "trend_rw":
                walk = pm.HalfNormal("walk_sd", ysd)
                cov = cov + se ** 2 * np.eye(n_t) + walk ** 2 * np.minimum.outer(
                    np.arange(n_t), np.arange(n_t))
            elif errors == "trend_ar1":
                cov = cov + se ** 2 * pm.Beta("rho", 2, 2) ** lag
            else:
                raise SystemExit(f"--errors {errors!r}: iid, trend_rw or trend_ar1")
        chol = pt.linalg.cholesky(cov + 1e-12 * np.eye(n_t))
        resid = g["y"] - mu
        if scales:
            log_s = pm.HalfNormal("scale_sd", 0.5) * pm.ZeroSumNormal("scale_z", 1.0, shape=n_u)
            resid = resid * pt.exp(-log_s)[:, None]
        z = pt.linalg.solve_triangular(chol, resid.T, lower=True)
        loglik = -0.5 * pt.sum(z ** 2) - n_u * pt.sum(pt.log(pt.diag(chol)))
        if scales:
            loglik = loglik - n_t * pt.sum(log_s)
        pm.Potential("likelihood", loglik)
    return model, ti, tj


def estimand_names(cells: pd.DataFrame) -> list[str]:
    return ["att", *[f"att[{r}]" for r in sorted(set(cells["region"].astype(str)))],
            *[f"att[cohort={int(c)}]" for c in sorted(set(cells["cohort"]))],
            *[f"event[{e}]" for e in ESTIMAND_EVENTS]]


def one_panel(seed: int, errors: str, scales: bool, draws: int, trend_means: bool
              ) -> list[dict]:
    import nutpie
    from arviz_stats import rhat

    from bayes_resil.app import compose
    from bayes_resil.estimand import estimand_cells
    from bayes_resil.study import load_study

    cfg = compose([f"data.simulation.seed={seed}"])
    study = load_study(cfg.data, cfg.index)
    g = grid(study)
    model, ti, tj = build(g, errors, scales, trend_means)
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    trace = nutpie.sample(compiled, chains=4, draws=draws, tune=draws, cores=1, seed=seed,
                          progress_bar=False)
    seconds = time.perf_counter() - t0
    tau = trace.posterior["tau"].to_numpy()  # chain, draw, cell
    # the simulator's true cells in the model's cell order; estimands selected as the
    # calibration study selects them (calibration.truth.estimand_cells)
    cells = study.truth_cells.set_index(["unit", "time"]).reindex(
        list(zip(g["units"][ti], g["times"][tj], strict=True))).reset_index()
    true_tau = cells["tau"].to_numpy(float)
    div = int(trace.sample_stats["diverging"].sum())
    rows = []
    for name in estimand_names(cells):
        mask, _ = estimand_cells(cells, name)
        draws_e = tau[:, :, mask].mean(axis=2)
        lo, hi = np.quantile(draws_e, [0.025, 0.975])
        truth_e = float(true_tau[mask].mean())
        rows.append(dict(seed=seed, estimand=name, mean=float(draws_e.mean()),
                         sd=float(draws_e.std()), covers=bool(lo <= truth_e <= hi),
                         truth=truth_e, rhat=float(rhat(draws_e)), divergences=div,
                         seconds=seconds))
    return rows


def main() -> None:
    from joblib import Parallel, delayed

    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", default="trend_rw")
    ap.add_argument("--scales", action="store_true")
    ap.add_argument("--trend-means", action="store_true",
                    help="mean of the city trends by cohort, region and control means")
    ap.add_argument("--panels", type=int, default=16)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=300, help="per chain, after as many tuning")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=None, help="CSV of every panel x estimand")
    args = ap.parse_args()
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.panels)
    parts = Parallel(n_jobs=args.jobs)(
        delayed(one_panel)(s, args.errors, args.scales, args.draws, args.trend_means)
        for s in seeds)
    df = pd.DataFrame([r for p in parts for r in p])
    if args.out:
        df.to_csv(args.out, index=False)
    df["error"] = df["mean"] - df["truth"]
    table = df.groupby("estimand", sort=False).agg(
        panels=("seed", "size"), coverage=("covers", "mean"), bias=("error", "mean"),
        emp_sd=("error", "std"), mean_sd=("sd", "mean"), max_rhat=("rhat", "max"))
    table["sd_ratio"] = table["mean_sd"] / table["emp_sd"]
    pd.set_option("display.width", 160)
    print(f"errors={args.errors} scales={args.scales} trend_means={args.trend_means}, "
          f"{args.panels} panels from seed "
          f"{args.first_seed}, 4 x {args.draws} draws")
    print(table.round(4).to_string())
    per_fit = df.drop_duplicates("seed")
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 2**20
    print(f"per fit: {per_fit['seconds'].mean():.0f} s (compile + sample, one core), "
          f"divergences {int(per_fit['divergences'].sum())} in all; "
          f"wall {time.perf_counter() - t0:.0f} s, peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
