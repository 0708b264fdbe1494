"""Would another within-city error family give the robust design honest y(0) intervals? (issue 11)

An emulator of the robust design's posterior that is cheap enough to try error families on many
panels: on null panels (``data.simulation.effect_scale=0``, every estimated effect is a
prediction error of ``y(0)``), the hyperparameters of a covariance family are estimated by
restricted maximum likelihood on the untreated cells (the model's own mean terms,
``untreated_mean.mean_terms``, as fixed effects; trend sd per trend group; city scales ``s_i``
re-estimated three times from each city's whitened residuals with a weak inverse-gamma-like
prior, geometric mean 1), then the treated cells' ``y(0)`` is predicted by GLS with its
predictive variance (the conditional covariance of each city plus the uncertainty of the
linear coefficients). Over the panels: coverage of 95% intervals, bias, sd of the error and
the ratio of the mean predictive sd to it, for ``att`` and its regional, cohort, event-time and
2020 averages (equal weights over the cells). Families (``--families``):

* ``walk``: the robust design's ``level^2 11' + trend^2 hh' + walk^2 min(s,t) + noise^2 I``;
* ``ar``: the walk replaced by a stationary AR(1), ``ar^2 rho^|s-t|`` (rho in (0, 0.98));
* ``walk+ar``: both; ``walk+quad``: plus a random city curvature ``quad^2 qq'``
  (``q`` the centred square of the trend regressor);
* ``walk+corr``: the walk family with correlated city levels and trends (a correlation per
  trend group, ``corr (1h' + h1') level trend``), as a random intercept and slope in a growth
  curve model.

``--trend-groups`` sets the groups with their own trend sd: ``treated`` (the model's
``model.trend_groups``: never-treated, treated), ``cohort`` (never-treated, each cohort, the
cohorts up to 2016 together) or ``region`` (never-treated, the treated cities of each region).

``--by-city`` prints, per treated city (mean over the panels; the first family), its GLS trend
with a flat prior, the model's posterior mean of it (the BLUP), the shrinkage factor
``k = prior var / (prior var + GLS var)`` and the GLS trend in prior sds (``z``): which cities'
trends the pooling pulls in, and by how much.

``--trend-covariates controls[+capital][+pop][+y0][+xregion][+square]`` gives the city trends
fixed means linear in baseline city characteristics (the controls' first-year values, the
capital dummy, the log population of the first year, the outcome's first-year level;
``+xregion`` each of them by region, ``+square`` their centred squares): a selection on
trends that the cities' starting positions predict.

``--t-trends NU`` makes the city trends Student-t (a scale mixture: each city's trend variance
times ``lam_i``, estimated by EM alongside the city scales): large trends shrunk less.

``--flat-trends`` makes the treated cities' trends fixed effects (sd ``FLAT_TREND_SD`` x the
city's scale): no pooling at all.

``--random-effects treated_year`` adds a year effect of the ever-treated cities (a ridge with
its sd estimated by REML): a common deviation of the treated cities' untreated paths.

``--curvature-means`` adds fixed means of a city's curvature (the centred square of the trend
regressor) by ever-treated x region (five columns: the sixth is the year effects'): a
selection on curved paths that pre-adoption years could show.

The outcome is the model's: ``y - c`` with the index's curvature ``c`` from its indicators
(``model.impute_on``, :mod:`bayes_resil.bayes.index_curvature`); pass
``model.impute_on=outcome`` for the index itself.

``--drift 0,0.5,1,2`` adds, for each M, a sensitivity prior to the predictive variance (not to
the fit): after adoption the treated cities of a region share a random walk in event time
(starting at adoption, steps of M x the family's walk sd), a stated allowance for untreated
paths that drift from the fitted pattern where no untreated year can show it.

    .venv/bin/python bench/untreated_reml.py [--panels 16] [--first-seed 1000]
        [--families walk,ar] [--random-effects treated_year] [--drift 0,1]
        [data.simulation.noise_rho=0.9]

About 40-90 s per panel and family on one core; run two shells with other ``--first-seed``
for two cores.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from bayes_resil.app import compose
from bayes_resil.bayes.data import model_data
from bayes_resil.bayes.grid import city_grid
from bayes_resil.bayes.marginal import linear_part
from bayes_resil.bayes.models.robust import take_out_curvature
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.untreated_mean import mean_terms
from bayes_resil.bayes.within_city import city_trend, trend_groups
from bayes_resil.study import load_study

RHO_MAX = 0.98
SCALE_ROUNDS = 3
FLAT_TREND_SD = 0.3  # a treated city's trend sd with --flat-trends (index units, before s_i)
SCALE_PRIOR_DF = 2.0
FAMILIES = {"walk": ("walk",), "ar": ("ar", "rho"), "walk+ar": ("walk", "ar", "rho"),
            "walk+quad": ("walk", "quad"), "walk+corr": ("walk", "corr")}
START = {"level": 0.01, "trend": 0.003, "walk": 0.0006, "noise": 0.0004,
         "quad": 0.002, "ar": 0.0005, "re": 0.001}


def curvature(n_t: int) -> np.ndarray:
    """A city's curvature profile: the centred square of the trend regressor."""
    h = city_trend(n_t)
    return h ** 2 - (h ** 2).mean()


def log_trend_sd(p: dict, group: int) -> float:
    """The log trend sd of a trend group (absent from ``p``: a flat trend, ``--flat-trends``)."""
    return p.get(f"trend{group}", np.log(FLAT_TREND_SD))


def covariance(n_t: int, p: dict, group: int) -> np.ndarray:
    """The family's T x T covariance from log sds (``rho`` on the logit scale, the level-trend
    correlations ``corr<group>`` on the atanh scale)."""
    h, s = city_trend(n_t), np.arange(n_t)
    c = (np.exp(2 * p["level"]) + np.exp(2 * log_trend_sd(p, group)) * np.outer(h, h)
         + np.exp(2 * p["noise"]) * np.eye(n_t))
    if "walk" in p:
        c = c + np.exp(2 * p["walk"]) * np.minimum.outer(s, s)
    if "quad" in p:
        c = c + np.exp(2 * p["quad"]) * np.outer(curvature(n_t), curvature(n_t))
    if f"corr{group}" in p:
        cov_lt = np.tanh(p[f"corr{group}"]) * np.exp(p["level"] + log_trend_sd(p, group))
        c = c + cov_lt * (np.add.outer(h, h))
    if "ar" in p:
        rho = RHO_MAX / (1 + np.exp(-p["rho"]))
        c = c + np.exp(2 * p["ar"]) * rho ** np.abs(s[:, None] - s[None, :])
    return c


class Panel:
    """One null panel on the model's grid: design matrix of the mean terms (plus random-effect
    columns), fit mask, trend groups and the cities grouped by (trend group, fit pattern)."""

    def __init__(self, seed: int, overrides: list[str], random_effects: str | None,
                 curvature_means: bool = False, groups: str = "treated",
                 trend_covariates: str = "none", nu: float = 0.0):
        cfg = compose([f"data.simulation.seed={seed}", "data.simulation.effect_scale=0",
                       "model=staggered", *overrides])
        study = load_study(cfg.data, cfg.index)
        md = model_data(study, list(study.controls))
        self.g = g = city_grid(md, None)
        self.units = list(md.coords["unit"])
        self.names = (dict(zip(study.panel["unit"], study.panel["name_cn"], strict=True))
                      if "name_cn" in study.panel.columns else {})
        take_out_curvature(md, g, cfg.model)  # the model's y - c (model.impute_on=outcome: none)
        n_t = g.shape[1]
        lin = linear_part(mean_terms(cfg.model, g, city_trend(n_t)),
                          PriorSet(cfg.prior, md.y_sd), n_t)
        x = np.stack([lin.mean(e) for e in np.eye(lin.size)], axis=-1)
        self.n_re = 0
        treated = ~np.isnan(g.cohort)
        if random_effects == "treated_year":
            x_re = treated[:, None, None] * np.eye(n_t)[None, :, :]
            self.n_re = n_t
            x = np.concatenate([x, x_re.astype(float)], axis=-1)
        if curvature_means:  # fixed curvature means: ever-treated x region, never-treated x region
            q = curvature(n_t)
            pairs = [(t, r) for t in (True, False) for r in sorted(set(g.region))][:-1]
            cols = [((treated == t) & (g.region == r)).astype(float)[:, None] * q[None, :]
                    for t, r in pairs]
            x = np.concatenate([x, np.stack(cols, axis=-1)], axis=-1)
        if trend_covariates != "none":  # trend means linear in baseline city covariates
            z = [g.x[:, 0, :]] if "controls" in trend_covariates else []
            if "y0" in trend_covariates:  # the outcome's first-year level, standardised
                y0 = g.y[:, 0] - g.y[:, 0].mean()
                z.append((y0 / y0.std())[:, None])
            if "capital" in trend_covariates:
                cap = (study.panel.groupby("unit")["is_capital_or_municipality"].first()
                       .reindex(self.units).to_numpy(float))
                z.append(cap[:, None])
            if "pop" in trend_covariates:
                lp = np.log(study.panel.groupby("unit")["population_total"].first()
                            .reindex(self.units).to_numpy(float))
                z.append(((lp - lp.mean()) / lp.std())[:, None])
            if "xregion" in trend_covariates:  # each column so far, by region
                z = [c * (g.region == r)[:, None] for c in z for r in sorted(set(g.region))]
            z = np.concatenate(z, axis=1)
            if "square" in trend_covariates:
                z = np.concatenate([z, z ** 2 - (z ** 2).mean(axis=0)], axis=1)
            h = city_trend(n_t)
            x = np.concatenate([x, z[:, None, :] * h[None, :, None]], axis=-1)
        self.x = x
        self.nu = nu  # Student-t city trends with nu degrees of freedom (0: normal)
        self.lam = np.ones(g.shape[0])  # each city's trend-variance multiplier (reset by fit)
        self.group = trend_groups(cfg.model, g.cohort)
        if groups == "cohort":  # never treated, cohorts <= 2016, then each later cohort
            later = sorted(c for c in set(g.cohort[~np.isnan(g.cohort)]) if c > 2016)
            self.group = np.select([np.isnan(g.cohort), g.cohort <= 2016],
                                   [0, 1], 2 + np.searchsorted(later, g.cohort))
        elif groups == "region":
            regions = sorted(set(g.region))
            self.group = np.where(np.isnan(g.cohort), 0, 1 + np.searchsorted(regions, g.region))
        self.n_groups = int(self.group.max()) + 1
        self.cells = g.cells[~g.cells["lead"]]
        patterns: dict = {}
        for i in np.flatnonzero(g.untreated.any(axis=1)):
            patterns.setdefault((self.group[i], g.untreated[i].tobytes()), []).append(i)
        self.patterns = [(k, np.frombuffer(f, dtype=bool), np.array(rows))
                         for (k, f), rows in patterns.items()]

    def restricted_loglik(self, p: dict, scale: np.ndarray):
        """Minus the restricted log likelihood, the (ridged) normal equations and covariances."""
        g, x = self.g, self.x
        sig = self.city_covariances(p)
        n_p = x.shape[-1]
        a, b = np.zeros((n_p, n_p)), np.zeros(n_p)
        logdet = quad = 0.0
        for _, f, rows in self.patterns:
            chol = np.linalg.cholesky(sig[rows][:, f][:, :, f])
            sc = scale[rows]
            logdet += (2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum()
                       + 2 * f.sum() * np.log(sc).sum())
            z = np.linalg.solve(chol, x[rows][:, f, :]) / sc[:, None, None]
            zy = np.linalg.solve(chol, g.y[rows][:, f, None])[..., 0] / sc[:, None]
            a += np.einsum("nfp,nfq->pq", z, z)
            b += np.einsum("nfp,nf->p", z, zy)
            quad += (zy ** 2).sum()
        if self.n_re:
            a[-self.n_re:, -self.n_re:] += np.eye(self.n_re) * np.exp(-2 * p["re"])
            logdet += self.n_re * 2 * p["re"]
        chol_a = np.linalg.cholesky(a + 1e-12 * np.eye(n_p))
        u = np.linalg.solve(chol_a, b)
        value = 0.5 * (logdet + 2 * np.log(np.diag(chol_a)).sum() + quad - u @ u)
        return value, a, b, sig

    def city_covariances(self, p: dict) -> np.ndarray:
        """(U, T, T): each city's covariance (before its scale): its trend group's, with the
        trend part times the city's local trend variance ``lam`` (``--t-trends``)."""
        n_t = self.g.shape[1]
        sig = np.stack([covariance(n_t, p, k) for k in range(self.n_groups)])[self.group]
        h = city_trend(n_t)
        trend_var = np.exp(2 * np.array([log_trend_sd(p, k) for k in self.group]))
        return sig + ((self.lam - 1) * trend_var)[:, None, None] * np.outer(h, h)[None]

    def city_trend_given_untreated(self, i: int, hyper: dict, sig: np.ndarray,
                                   mu: np.ndarray, scale: np.ndarray):
        """City ``i``'s trend given its untreated years at hyperparameters ``hyper`` (sds, not
        logs): its posterior mean and variance, its prior variance, the city's scaled
        covariance ``s`` on those years, the level-trend covariance and the residuals."""
        f, k, h = self.g.untreated[i], self.group[i], city_trend(self.g.shape[1])
        s = sig[i][np.ix_(f, f)] * scale[i] ** 2
        prior_var = hyper[f"trend{k}"] ** 2 * scale[i] ** 2 * self.lam[i]
        # Cov(trend, y_t): the trend's own part plus its covariance with the level
        cov_lt = hyper.get(f"corr{k}", 0.0) * hyper["level"] * hyper[f"trend{k}"] * scale[i] ** 2
        c = h[f] * prior_var + cov_lt
        gain = np.linalg.solve(s, c)
        r = self.g.y[i, f] - mu[i, f]
        return gain @ r, prior_var - c @ gain, prior_var, s, cov_lt, r

    def update_local_trends(self, hyper: dict, sig: np.ndarray, mu: np.ndarray,
                            scale: np.ndarray) -> None:
        """One EM step of Student-t city trends (a scale mixture): ``lam_i`` = 1 / E[1/lam_i]
        = (nu + E[b_i^2] / var) / (nu + 1) with ``b_i`` the city's trend given its untreated
        years (mean and variance at the current ``lam``) and ``var`` its prior variance at
        ``lam_i = 1``."""
        for i in np.flatnonzero(self.g.untreated.any(axis=1)):
            mean, post_var, prior_var, *_ = self.city_trend_given_untreated(
                i, hyper, sig, mu, scale)
            var = prior_var / self.lam[i]
            self.lam[i] = (self.nu + (mean ** 2 + post_var) / var) / (self.nu + 1)

    def city_scales(self, sig: np.ndarray, mu: np.ndarray) -> np.ndarray:
        g = self.g
        q, n_f = np.zeros(g.shape[0]), np.zeros(g.shape[0])
        for _, f, rows in self.patterns:
            chol = np.linalg.cholesky(sig[rows][:, f][:, :, f])
            z = np.linalg.solve(chol, (g.y[rows] - mu[rows])[:, f, None])[..., 0]
            q[rows], n_f[rows] = (z ** 2).sum(axis=1), f.sum()
        s = np.sqrt((q + SCALE_PRIOR_DF) / (n_f + SCALE_PRIOR_DF))
        return s / np.exp(np.log(s).mean())

    def fit(self, names: list[str]) -> tuple[dict, np.ndarray, np.ndarray, list, np.ndarray]:
        v = np.array([0.0 if n == "rho" or n.startswith("corr")
                      else np.log(START[n.rstrip("0123456789")]) for n in names])
        bounds = [(-6, 8) if n == "rho" else (-3, 3) if n.startswith("corr") else (-14, 2)
                  for n in names]
        scale = np.ones(self.g.shape[0])
        self.lam = np.ones(self.g.shape[0])  # each fit (family) starts from normal trends
        for rnd in range(SCALE_ROUNDS + 1):
            def objective(w, scale=scale):
                return self.restricted_loglik(dict(zip(names, w, strict=True)), scale)[0]

            v = minimize(objective, v, method="L-BFGS-B", bounds=bounds).x
            value, a, b, sig = self.restricted_loglik(dict(zip(names, v, strict=True)), scale)
            a_inv = np.linalg.inv(a)
            mu = self.x @ (a_inv @ b)
            if rnd < SCALE_ROUNDS:
                scale = self.city_scales(sig, mu)
                if self.nu:
                    self.update_local_trends(self.natural(names, v), sig, mu, scale)
        hyper = self.natural(names, v)
        return {**hyper, "reml": -value}, a_inv, mu, sig, scale

    def natural(self, names: list[str], v: np.ndarray) -> dict:
        """The hyperparameters on their natural scales (sds, ``rho``, correlations); flat
        trends (``--flat-trends``) at their fixed sd."""
        hyper = {n: (RHO_MAX / (1 + np.exp(-w)) if n == "rho"
                     else np.tanh(w) if n.startswith("corr") else np.exp(w))
                 for n, w in zip(names, v, strict=True)}
        for k in range(self.n_groups):
            hyper.setdefault(f"trend{k}", FLAT_TREND_SD)
        return hyper

    def trend_shrinkage(self, hyper: dict, mu: np.ndarray, sig: list, scale: np.ndarray
                        ) -> list[dict]:
        """Per treated city: its trend by GLS with a flat prior (the family's covariance
        without the trend part), the posterior mean of its trend given the untreated years
        (BLUP), ``k`` = prior var / (prior var + GLS var) and ``z`` = GLS / prior sd."""
        g, fit, h = self.g, self.g.untreated, city_trend(self.g.shape[1])
        out = []
        for i in np.flatnonzero(~np.isnan(g.cohort) & fit.any(axis=1)):
            f = fit[i]
            blup, _, prior_var, s, cov_lt, r = self.city_trend_given_untreated(
                i, hyper, sig, mu, scale)
            without = (s - prior_var * np.outer(h[f], h[f])
                       - cov_lt * np.add.outer(h[f], h[f]))
            w = np.linalg.solve(without, h[f])
            gls, gls_var = (w @ r) / (w @ h[f]), 1.0 / (w @ h[f])
            out.append({"city": self.names.get(self.units[i], self.units[i]),
                        "region": g.region[i], "cohort": int(g.cohort[i]), "scale": scale[i],
                        "gls": gls, "gls_sd": np.sqrt(gls_var), "blup": blup,
                        "prior_sd": np.sqrt(prior_var), "k": prior_var / (prior_var + gls_var),
                        "z": gls / np.sqrt(prior_var)})
        return out

    def prediction_errors(self, a_inv, mu, sig, scale) -> list[tuple[str, float, float, float]]:
        """(estimand, mean prediction error, its predictive sd, the variance of its average of
        a unit drift: a random walk in event time, common to the treated cities of a region,
        starting at adoption with unit steps) for each average of cells."""
        g, x, cells, fit = self.g, self.x, self.cells, self.g.untreated
        err = pd.Series(0.0, index=cells.index)
        per_unit = []
        for i, cell in cells.groupby("row"):
            f, cols = fit[i], cell["col"].to_numpy()
            s = sig[i] * scale[i] ** 2
            w = np.linalg.inv(s[np.ix_(f, f)])
            c_tf = s[np.ix_(cols, f)]
            err[cell.index] = g.y[i, cols] - mu[i, cols] - c_tf @ w @ (g.y[i, f] - mu[i, f])
            per_unit.append((cell.index, s[np.ix_(cols, cols)] - c_tf @ w @ c_tf.T,
                             x[i, cols] - c_tf @ w @ x[i, f]))
        masks = {"att": np.ones(len(cells), bool)}
        masks.update({r: cells["region"].to_numpy() == r for r in ("East", "Central", "West")})
        masks.update({f"cohort {c}": cells["cohort"].to_numpy() == c for c in (2016, 2019)})
        masks.update({f"event {e}": cells["event_time"].to_numpy() == e for e in (0, 2)})
        masks["time 2020"] = cells["time"].to_numpy() == 2020
        out = []
        region, event = cells["region"].to_numpy(), cells["event_time"].to_numpy()
        for name, m in masks.items():
            wts = pd.Series(m / m.sum(), index=cells.index)
            drift = 0.0
            for r in set(region):
                sel = region == r
                e, wr = event[sel], wts.to_numpy()[sel]
                drift += wr @ (np.minimum.outer(e, e) + 1.0) @ wr
            var, gain = 0.0, np.zeros(x.shape[-1])
            for idx, v, gx in per_unit:
                wi = wts[idx].to_numpy()
                var += wi @ v @ wi
                gain += gx.T @ wi
            out.append((name, float((wts * err).sum()), float(np.sqrt(var + gain @ a_inv @ gain)),
                        float(drift)))
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panels", type=int, default=16)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--families", default="walk,ar")
    ap.add_argument("--random-effects", choices=["treated_year"], default=None)
    ap.add_argument("--drift", default="0",
                    help="sensitivity priors to add, e.g. 0,0.5,1: a random walk in event time "
                         "common to a region's treated cities, steps of M x the walk sd")
    ap.add_argument("--curvature-means", action="store_true",
                    help="fixed quadratic-in-time means by ever-treated x region")
    ap.add_argument("--trend-groups", choices=["treated", "cohort", "region"], default="treated")
    ap.add_argument("--trend-covariates", default="none",
                    help="trend means linear in baseline covariates: controls[+capital][+pop]"
                         "[+y0][+xregion][+square] (module docstring)")
    ap.add_argument("--t-trends", type=float, default=0.0,
                    help="Student-t city trends with this many degrees of freedom (EM of "
                         "each city's local trend variance); 0: normal")
    ap.add_argument("--flat-trends", action="store_true",
                    help="the treated cities' trends as fixed effects (sd FLAT_TREND_SD)")
    ap.add_argument("--by-city", action="store_true", help="per treated city: GLS trend, "
                    "its BLUP, the shrinkage and the z-score (first family)")
    ap.add_argument("--out", default=None, help="CSV of every panel's errors and sds")
    ap.add_argument("overrides", nargs="*",
                    help="simulation knobs, e.g. data.simulation.noise_rho=0.9")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows, hypers, cities = [], [], []
    drifts = [float(m) for m in args.drift.split(",")]
    for seed in range(args.first_seed, args.first_seed + args.panels):
        panel = Panel(seed, args.overrides, args.random_effects, args.curvature_means,
                      args.trend_groups, args.trend_covariates, args.t_trends)
        for k, family in enumerate(args.families.split(",")):
            per_group = ["trend", *(["corr"] if "corr" in FAMILIES[family] else [])]
            names = ["level", *(f"{n}{j}" for n in per_group for j in range(panel.n_groups)),
                     *(n for n in FAMILIES[family] if n != "corr"), "noise"]
            names += ["re"] if panel.n_re else []
            if args.flat_trends:  # every trend group but the never-treated one
                names = [n for n in names if not (n.startswith("trend") and n != "trend0")]
            hyper, *fitted = panel.fit(names)
            hypers.append({"family": family, **hyper})
            if args.by_city and k == 0:
                cities += panel.trend_shrinkage(hyper, *fitted[1:])
            step = hyper.get("walk", 0.0)
            rows += [{"seed": seed, "family": family, "drift": m, "estimand": e, "err": err,
                      "sd": np.sqrt(sd ** 2 + (m * step) ** 2 * dv)}
                     for e, err, sd, dv in panel.prediction_errors(*fitted)
                     for m in drifts]
        print(f"panel {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    d = pd.DataFrame(rows)
    d["covered"] = d["err"].abs() < 1.96 * d["sd"]
    if args.out:
        d.to_csv(args.out, index=False)
    t = d.groupby(["estimand", "family", "drift"], sort=False).agg(
        coverage=("covered", "mean"), bias=("err", "mean"), sd_error=("err", "std"),
        mean_sd=("sd", "mean"))
    t["ratio"] = t["mean_sd"] / t["sd_error"]
    pd.set_option("display.width", 200)
    print(f"\nNull panels {args.first_seed}-{args.first_seed + args.panels - 1} "
          f"{' '.join(args.overrides)}: y(0) of the treated cells by GLS at the REML "
          "hyperparameters")
    print(t.round(4).to_string())
    if cities:
        c = pd.DataFrame(cities).groupby(["city", "region", "cohort"]).mean()
        print(f"\nTreated cities' trends ({args.families.split(',')[0]}; mean over panels, "
              "sorted by z): GLS with a flat prior, the BLUP, the shrinkage factor k, "
              "z = GLS / prior sd")
        print(c.sort_values("z").round(4).to_string())
    print("\nREML estimates (mean over panels; reml = restricted log likelihood)")
    print(pd.DataFrame(hypers).groupby("family", sort=False).mean().round(5).to_string())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\n{args.panels} panels in {time.perf_counter() - t0:.0f} s, peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
