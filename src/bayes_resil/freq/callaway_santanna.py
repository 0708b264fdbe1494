"""Callaway & Sant'Anna (2021) group-time ATTs and their aggregations, without covariates.

``ATT(g, t) = E[Y_t - Y_b | G = g] - E[Y_t - Y_b | C]`` on the balanced panel, with base
period ``b = g - 1`` for post-treatment periods and ``b = t - 1`` ("varying base", as R ``did``)
for pre-treatment ones; comparison group ``C`` the never-treated units (``control=never``) or
the units not yet treated by ``max(t, g - 1)`` (``control=not_yet``).

Inference from the influence functions: each estimate is ``(1/n) sum_i psi_i``; analytic
standard errors ``sqrt(sum psi^2) / n``, clustered by unit (the panel's units are the
sampling units). Aggregations (``simple`` att, ``dynamic`` event[e], ``group`` att[cohort=g],
``calendar`` att[time=t]) weight cells by cohort size and include the influence of the
estimated weights, as R ``did::aggte``. A multiplier bootstrap (Rademacher weights on the
influence functions) gives bootstrap standard errors and the uniform (sup-t) band over the
event-time estimates.

With covariates (``freq.callaway_santanna.covariates``, taken at each cell's base period), each
ATT(g,t) is the doubly-robust estimator of Sant'Anna & Zhao (2020) for panel data (logit
propensity score, linear outcome regression of the outcome change among the comparison units),
with its influence function (as ``DRDID::drdid_panel``, the default of R ``did``);
``est_method=reg`` uses the outcome regression alone.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..estimand import kinds
from ..estimates import Estimate
from ..schema import CallawaySantAnnaBlock, Control, typed, values
from ..study import StudyData
from .decomposition import balanced_sample


def logit(x: np.ndarray, d: np.ndarray, iters: int = 50) -> np.ndarray:
    """Logistic-regression coefficients by Newton-Raphson."""
    beta = np.zeros(x.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(x @ beta)))
        w = p * (1 - p)
        step = np.linalg.solve((x * w[:, None]).T @ x, x.T @ (d - p))
        beta += step
        if np.abs(step).max() < 1e-12:
            break
    return beta


def dr_att(dy: np.ndarray, d: np.ndarray, x: np.ndarray, method: str = "dr"
           ) -> tuple[float, np.ndarray]:
    """Doubly-robust (or outcome-regression) DID for one 2x2 cell on the units given.

    ``x`` includes the intercept. Returns the ATT and its influence function scaled so that
    ``ATT - ATT0 ~ mean(psi)`` over these units (Sant'Anna & Zhao 2020, panel case).
    """
    n = dy.size
    ctrl = d == 0
    coef = np.linalg.lstsq(x[ctrl], dy[ctrl], rcond=None)[0]
    out = x @ coef
    w_treat = d.astype(float)
    # outcome-regression influence (OLS on the comparison units)
    xpx_inv = np.linalg.inv((x[ctrl].T @ x[ctrl]) / n)
    lin_ols = ((1 - d) * (dy - out))[:, None] * x @ xpx_inv
    if method == "reg":
        att = float(np.mean(w_treat * (dy - out)) / w_treat.mean())
        m1 = (w_treat[:, None] * x).mean(axis=0)
        psi = (w_treat * (dy - out) - w_treat * att - lin_ols @ m1) / w_treat.mean()
        return att, psi
    gamma = logit(x, d)
    ps = np.minimum(1 / (1 + np.exp(-(x @ gamma))), 1 - 1e-6)
    w_cont = ps * (1 - d) / (1 - ps)
    treat_part, cont_part = w_treat * (dy - out), w_cont * (dy - out)
    eta_t, eta_c = treat_part.mean() / w_treat.mean(), cont_part.mean() / w_cont.mean()
    hess = np.linalg.inv((x * (ps * (1 - ps))[:, None]).T @ x / n)
    lin_ps = ((d - ps)[:, None] * x) @ hess
    inf_treat = (treat_part - w_treat * eta_t
                 - lin_ols @ (w_treat[:, None] * x).mean(axis=0)) / w_treat.mean()
    m2 = (w_cont * (dy - out - eta_c))[:, None] * x
    inf_cont = (cont_part - w_cont * eta_c + lin_ps @ m2.mean(axis=0)
                - lin_ols @ (w_cont[:, None] * x).mean(axis=0)) / w_cont.mean()
    return float(eta_t - eta_c), inf_treat - inf_cont


def group_time(wide: np.ndarray, cohort: np.ndarray, periods: np.ndarray,
               control: str = "never", xwide: np.ndarray | None = None,
               method: str = "dr") -> tuple[pd.DataFrame, np.ndarray]:
    """ATT(g, t) for every cohort and period but the base, and their influence functions.

    ``wide``: (units, periods) outcomes; ``cohort``: first treated period per unit (inf for
    never treated). Returns the cell table and the (units, cells) influence matrix.
    """
    n = wide.shape[0]
    groups = sorted(int(g) for g in np.unique(cohort[np.isfinite(cohort)]) if g > periods[0])
    cells, psis, skipped = [], [], []
    col = {int(t): j for j, t in enumerate(periods)}
    for g in groups:
        in_g = cohort == g
        for t in periods[1:]:
            t = int(t)
            base = g - 1 if t >= g else t - 1
            if base not in col or t == base:
                continue
            if control == "never":
                in_c = ~np.isfinite(cohort)
            else:
                in_c = (cohort > max(t, base)) & (cohort != g)
            if not in_c.any():
                continue
            dy = wide[:, col[t]] - wide[:, col[base]]
            p_g = in_g.mean()
            if xwide is None:
                mu_g, mu_c, p_c = dy[in_g].mean(), dy[in_c].mean(), in_c.mean()
                psi = in_g / p_g * (dy - mu_g) - in_c / p_c * (dy - mu_c)
                att = mu_g - mu_c
            else:
                sub = in_g | in_c
                x = np.column_stack([np.ones(sub.sum()), xwide[sub, col[base], :]])
                if in_g.sum() < x.shape[1]:
                    skipped.append((g, t))
                    continue
                try:
                    att, psi_sub = dr_att(dy[sub], in_g[sub].astype(float), x, method)
                except np.linalg.LinAlgError:
                    skipped.append((g, t))
                    continue
                psi = np.zeros(n)
                psi[sub] = psi_sub * n / sub.sum()
            cells.append(dict(cohort=g, time=t, event_time=t - g, base=base,
                              estimate=att, n_treated=int(in_g.sum()),
                              n_control=int(in_c.sum()), share=p_g))
            psis.append(psi)
    if not cells:
        hint = (" (the panel has no never-treated units: compare with the not-yet-treated ones,"
                " freq.callaway_santanna.control=not_yet / freq.honest_did.control=not_yet)"
                if control == "never" and np.isfinite(cohort).all() else "")
        raise InputError(f"no cohort x period cell has a comparison group with control="
                         f"{control}{hint}")
    table = pd.DataFrame(cells)
    table["std_error"] = np.sqrt((np.column_stack(psis) ** 2).sum(axis=0)) / n
    table.attrs["skipped"] = skipped
    return table, np.column_stack(psis)


def aggregate(table: pd.DataFrame, psi: np.ndarray, keep: np.ndarray, cohort: np.ndarray,
              equal: bool = False) -> tuple[float, np.ndarray]:
    """Weighted average of the cells in ``keep`` (cohort-size weights, or equal weights) and
    its influence function, including the estimated-weight term (R ``did::get_wif``)."""
    idx = np.flatnonzero(keep)
    att = table["estimate"].to_numpy()[idx]
    if equal:
        w = np.full(idx.size, 1 / idx.size)
        return float(w @ att), psi[:, idx] @ w
    pg = table["share"].to_numpy()[idx]
    w = pg / pg.sum()
    member = np.column_stack([(cohort == g).astype(float) for g in table["cohort"].to_numpy()[idx]])
    if1 = (member - pg) / pg.sum()
    if2 = np.outer((member - pg).sum(axis=1), pg) / pg.sum() ** 2
    wif = if1 - if2
    return float(w @ att), psi[:, idx] @ w + wif @ att


def wide_outcomes(sample: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Periods, the (units x periods) outcome table and each unit's cohort (inf = never) of a
    balanced panel."""
    periods = np.sort(sample["time"].unique())
    wide = sample.pivot(index="unit", columns="time", values="y").reindex(columns=periods)
    cohort = sample.drop_duplicates("unit").set_index("unit")["cohort"].reindex(wide.index)
    return periods, wide, cohort.astype("Float64").to_numpy(dtype=float, na_value=np.inf)


#: comparison groups (``control``): never-treated units, or those not yet treated
CONTROLS = values(Control)

#: bootstrap draws computed at once
BOOT_CHUNK = 256


def clusters_of_units(sample: pd.DataFrame, units: pd.Index, vcov: str, cluster: str,
                      block: str) -> tuple[np.ndarray, str, list[str]]:
    """Cluster codes of ``units`` for influence-function standard errors, their label and
    notes. The influence function is per unit, so the SE is always at least clustered by
    unit: ``freq.vcov=cluster`` with ``freq.cluster`` a column constant within units (a
    province, a region) sums it within those clusters, ``sqrt(sum_c (sum_{i in c} psi_i)^2)
    / n`` (no small-sample factor, as R did); ``hc1`` / ``iid`` do not apply and are refused
    with a note (the SEs stay clustered by unit, as R did's default)."""
    codes = np.arange(len(units))
    if vcov != "cluster":
        return codes, "influence function, clustered by unit", [
            f"{block}: freq.vcov={vcov} does not apply (an influence-function SE is per unit: "
            "clustered by unit, as R did)"]
    if cluster in ("unit", None, ""):
        return codes, "influence function, clustered by unit", []
    if cluster not in sample.columns:
        raise InputError(f"freq.cluster={cluster!r} is not a column of the panel")
    per_unit = sample.groupby("unit")[cluster].nunique(dropna=False)
    varying = per_unit[per_unit > 1]
    if len(varying):
        raise InputError(f"{block}: freq.cluster={cluster!r} changes within {len(varying)} "
                         f"unit(s) (e.g. {varying.index[:3].tolist()}); the influence function "
                         "is per unit, so clusters must hold whole units")
    labels = sample.groupby("unit")[cluster].first().reindex(units)
    return (pd.factorize(labels.astype(str))[0], f"influence function, clustered by {cluster}",
            [])


def clustered_se(infl: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``sqrt(sum_c (sum_{i in c} psi_i)^2) / n`` for each column of ``infl (n, k)``."""
    sums = np.zeros((int(codes.max()) + 1, infl.shape[1]))
    np.add.at(sums, codes, infl)
    return np.sqrt((sums ** 2).sum(axis=0)) / infl.shape[0]


def callaway_santanna(data: StudyData, cfg: Mapping, controls: list[str], *, level: float,
                      vcov: str, cluster: str, drop_singletons: bool, tag: str
                      ) -> tuple[list[Estimate], list[str]]:
    cfg = typed(CallawaySantAnnaBlock, cfg)
    covariates = list(cfg.covariates or [])
    missing = [c for c in covariates if c not in data.panel.columns]
    if missing:
        raise InputError(f"freq.callaway_santanna.covariates {missing} are not in the panel")
    sample, notes = balanced_sample(data.panel.dropna(subset=covariates))
    notes = [f"callaway_santanna: {n}" for n in notes]
    periods, wide, cohort = wide_outcomes(sample)
    xwide = None
    if covariates:
        xwide = np.stack([sample.pivot(index="unit", columns="time", values=c).reindex(
            index=wide.index, columns=periods).to_numpy() for c in covariates], axis=2)
    control, method = str(cfg.control), str(cfg.est_method)
    table, psi = group_time(wide.to_numpy(), cohort, periods, control, xwide, method)
    if table.attrs["skipped"]:
        cohorts = sorted({g for g, _ in table.attrs["skipped"]})
        notes.append(f"callaway_santanna: {len(table.attrs['skipped'])} cell(s) of cohort(s) "
                     f"{cohorts} skipped: too few treated units to fit the propensity score "
                     "with these covariates")
    n = len(wide)
    ests: list[tuple[str, float, np.ndarray, str]] = []
    post = table["event_time"].to_numpy() >= 0
    att, inf = aggregate(table, psi, post, cohort)
    ests.append(("att", att, inf, "simple: post cells weighted by cohort size"))
    for e in sorted(table["event_time"].unique()):
        a, i = aggregate(table, psi, table["event_time"].to_numpy() == e, cohort)
        ests.append((f"event[{int(e)}]", a, i, "dynamic aggregation"))
    for g in sorted(table["cohort"].unique()):
        keep = (table["cohort"].to_numpy() == g) & post
        if keep.any():
            a, i = aggregate(table, psi, keep, cohort, equal=True)
            ests.append((f"att[cohort={int(g)}]", a, i, "group aggregation"))
    for t in sorted(table.loc[post, "time"].unique()):
        a, i = aggregate(table, psi, post & (table["time"].to_numpy() == t), cohort)
        ests.append((f"att[time={int(t)}]", a, i, "calendar aggregation"))
    for k, r in table.iterrows():
        ests.append((f"att[{int(r['cohort'])},{int(r['time'])}]", float(r["estimate"]),
                     psi[:, k], f"base period {int(r['base'])}"))

    codes, vcov_label, vcov_notes = clusters_of_units(sample, wide.index, vcov, cluster,
                                                      "callaway_santanna")
    notes += vcov_notes
    infl = np.column_stack([e[2] for e in ests])
    se = clustered_se(infl, codes)
    n_clusters = int(codes.max()) + 1
    draws = int(cfg.bootstrap)
    rng = np.random.default_rng(int(cfg.seed))
    # Rademacher multipliers per cluster (per unit when clustered by unit), as R did; in
    # chunks of draws, so memory is chunk x clusters whatever the number of draws (one uniform
    # per multiplier: the draws do not depend on the chunk size)
    boot = np.empty((draws, infl.shape[1]))
    for start in range(0, draws, BOOT_CHUNK):
        size = min(BOOT_CHUNK, draws - start)
        signs = np.where(rng.random((size, n_clusters)) < 0.5, -1.0, 1.0)
        boot[start:start + size] = (signs[:, codes] @ infl) / n
    q75, q25 = np.quantile(boot, [0.75, 0.25], axis=0)
    se_boot = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    is_event = kinds([name for name, *_ in ests]) == "event"
    crit = np.nan
    if is_event.any():
        t_max = np.abs(boot[:, is_event] / np.where(se_boot[is_event] > 0, se_boot[is_event],
                                                    np.inf)).max(axis=1)
        crit = float(np.quantile(t_max, level))
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for j, (name, est, _, note) in enumerate(ests):
        extra = {"se_bootstrap": float(se_boot[j]), "control_group": control,
                 "covariates": ",".join(covariates) or "none",
                 "est_method": method if covariates else "unconditional"}
        if is_event[j]:
            extra |= {"ci_lower_uniform": est - crit * se_boot[j],
                      "ci_upper_uniform": est + crit * se_boot[j], "uniform_critical": crit}
        rows.append(Estimate(
            estimand=name, method="callaway_santanna", estimate=est, std_error=float(se[j]),
            ci_lower=est - z * se[j], ci_upper=est + z * se[j], n_obs=len(sample),
            p_value=float(2 * stats.norm.sf(abs(est / se[j]))) if se[j] > 0 else np.nan,
            ci_level=level, vcov=vcov_label,
            n_clusters=float(n_clusters), data_source=tag, note=note, extra=extra))
    return rows, notes
