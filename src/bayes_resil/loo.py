"""PSIS-LOO comparison of the Bayesian jobs of a sweep (``loo_comparison.csv``).

Models can only be compared on the same observations: jobs are grouped by a hash of their
observed outcome (``observed_data/y`` in ``posterior.nc``; same panel rows, same values), and each
group with two or more models is ranked by ``arviz_stats.compare`` (stacking weights). Every
model compares the pointwise predictive density of the outcome ``y`` given its covariates; for
the joint models (``iv``, ``mediation``) that is ``y`` given the treatment / mediator.

Columns: ``group`` (first 12 hex digits of the hash), ``job``, ``overrides``, ``rank``,
``elpd_loo``, ``se``, ``p_loo``, ``elpd_diff``, ``dse``, ``weight``, ``n_obs``, ``n_draws``,
``pareto_k_max``, ``k_threshold`` (arviz's sample-size dependent good-k bound, at most 0.7),
``n_k_bad`` (observations above it), ``warning`` (text naming the worst city-years; empty
when every k is good). ``loo_influential.csv`` lists every flagged observation of every job
(``job``, ``obs``, ``unit``, ``time``, ``pareto_k``, ``elpd_i``).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

log = logging.getLogger("bayes_resil")

COLUMNS = ["group", "job", "overrides", "rank", "elpd_loo", "se", "p_loo", "elpd_diff", "dse",
           "weight", "n_obs", "n_draws", "pareto_k_max", "k_threshold", "n_k_bad", "warning"]


def _observed_hash(tree: xr.DataTree) -> str:
    y = np.ascontiguousarray(tree["observed_data"]["y"].to_numpy(), dtype=np.float64)
    return hashlib.sha256(y.tobytes()).hexdigest()[:12]


def job_loo(posterior_nc: Path) -> tuple[str, azs.utils.ELPDData, pd.DataFrame]:
    """(observation-group hash, PSIS-LOO of ``y``, the observations whose Pareto k exceeds the
    good-k bound: ``obs``, ``unit``, ``time``, ``pareto_k``, ``elpd_i``) of one job."""
    tree = xr.open_datatree(posterior_nc, engine="h5netcdf")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pareto-k reported in the table
            elpd = azs.loo(tree, pointwise=True, var_name="y")
        observed = tree["observed_data"].to_dataset()
        k = np.asarray(elpd.pareto_k).ravel()
        bad = np.flatnonzero(k > elpd.good_k)
        label = {c: observed[f"obs_{c}"].to_numpy()[bad] if f"obs_{c}" in observed.coords
                 else np.full(bad.size, None) for c in ("unit", "time")}
        flagged = pd.DataFrame({"obs": bad, **label, "pareto_k": k[bad],
                                "elpd_i": np.asarray(elpd.elpd_i).ravel()[bad]})
        return _observed_hash(tree), elpd, flagged.sort_values("pareto_k", ascending=False)
    finally:
        tree.close()


def _row(group: str, job: str, overrides: str, elpd, flagged: pd.DataFrame) -> dict:
    k = np.asarray(elpd.pareto_k).ravel()
    n_bad = len(flagged)
    worst = ", ".join(f"{r.unit} {r.time} (k={r.pareto_k:.2f})" for r in flagged.head(3)
                      .itertuples() if r.unit is not None)
    text = (f"{n_bad} observation(s) with Pareto k > {elpd.good_k:.2f} (max {np.nanmax(k):.2f}"
            + (f"; worst {worst}" if worst else "") + "): PSIS-LOO unreliable for them; use "
            "K-fold CV, or a model that fits them (see README: Student-t errors discount "
            "treated outliers)" if n_bad else "")
    return {"group": group, "job": job, "overrides": overrides, "elpd_loo": float(elpd.elpd),
            "se": float(elpd.se), "p_loo": float(elpd.p), "n_obs": int(elpd.n_data_points),
            "n_draws": int(elpd.n_samples), "pareto_k_max": float(np.nanmax(k)),
            "k_threshold": float(elpd.good_k), "n_k_bad": n_bad, "warning": text}


def loo_table(jobs: list[tuple[str, str, Path]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PSIS-LOO rows for ``(job, overrides, posterior.nc)`` triples, ranked within groups, and
    the observations each job flags (``job``, ``obs``, ``unit``, ``time``, ``pareto_k``,
    ``elpd_i``; the content of ``loo_influential.csv``)."""
    rows, elpds, flags = [], {}, []
    for job, overrides, path in jobs:
        try:
            group, elpd, flagged = job_loo(path)
        except (OSError, KeyError, ValueError) as exc:
            log.warning("PSIS-LOO skipped for job %s: %s", job, exc)
            continue
        rows.append(_row(group, job, overrides, elpd, flagged))
        elpds.setdefault(group, {})[job] = elpd
        flags.append(flagged.assign(job=job))
    influential = (pd.concat(flags, ignore_index=True) if flags else pd.DataFrame(
        columns=["obs", "unit", "time", "pareto_k", "elpd_i", "job"]))
    influential = influential[["job", "obs", "unit", "time", "pareto_k", "elpd_i"]]
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in
                                        ("rank", "elpd_diff", "dse", "weight")])
    ranked = []
    for group, members in elpds.items():
        if len(members) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                comp = azs.compare(members, round_to="none")
            comp = comp[["rank", "elpd_diff", "dse", "weight"]].rename_axis("job").reset_index()
        else:
            comp = pd.DataFrame({"job": list(members), "rank": [0], "elpd_diff": [0.0],
                                 "dse": [0.0], "weight": [1.0]})
        ranked.append(comp.assign(group=group))
    if not ranked:
        return pd.DataFrame(columns=COLUMNS), influential
    table = table.merge(pd.concat(ranked, ignore_index=True), on=["group", "job"])
    return table[COLUMNS].sort_values(["group", "rank"], ignore_index=True), influential
