"""PSIS-LOO comparison of the Bayesian jobs of a sweep (``loo_comparison.csv``).

Models can only be compared on the same observations: jobs are grouped by a hash of their
observed outcome (``observed_data/y`` in ``posterior.nc``; same panel rows, same values), and each
group with two or more models is ranked by ``arviz_stats.compare`` (stacking weights). Every
model compares the pointwise predictive density of the outcome ``y`` given its covariates; for
the joint models (``iv``, ``mediation``) that is ``y`` given the treatment / mediator.

Columns: ``group`` (first 12 hex digits of the hash), ``job``, ``overrides``, ``rank``,
``elpd_loo``, ``se``, ``p_loo``, ``elpd_diff``, ``dse``, ``weight``, ``n_obs``, ``n_draws``,
``pareto_k_max``, ``k_threshold`` (arviz's sample-size dependent good-k bound, at most 0.7),
``n_k_bad`` (observations above it), ``warning`` (text; empty when every k is good).
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


def job_loo(posterior_nc: Path) -> tuple[str, azs.utils.ELPDData]:
    """(observation-group hash, PSIS-LOO of ``y``) of one job's posterior."""
    tree = xr.open_datatree(posterior_nc, engine="h5netcdf")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pareto-k reported in the table
            elpd = azs.loo(tree, pointwise=True, var_name="y")
        return _observed_hash(tree), elpd
    finally:
        tree.close()


def _row(group: str, job: str, overrides: str, elpd) -> dict:
    k = np.asarray(elpd.pareto_k).ravel()
    n_bad = int((k > elpd.good_k).sum())
    text = (f"{n_bad} observation(s) with Pareto k > {elpd.good_k:.2f} (max {np.nanmax(k):.2f}):"
            " PSIS-LOO unreliable for them; more draws or a more robust model"
            if n_bad else "")
    return {"group": group, "job": job, "overrides": overrides, "elpd_loo": float(elpd.elpd),
            "se": float(elpd.se), "p_loo": float(elpd.p), "n_obs": int(elpd.n_data_points),
            "n_draws": int(elpd.n_samples), "pareto_k_max": float(np.nanmax(k)),
            "k_threshold": float(elpd.good_k), "n_k_bad": n_bad, "warning": text}


def loo_table(jobs: list[tuple[str, str, Path]]) -> pd.DataFrame:
    """PSIS-LOO rows for ``(job, overrides, posterior.nc)`` triples, ranked within groups."""
    rows, elpds = [], {}
    for job, overrides, path in jobs:
        try:
            group, elpd = job_loo(path)
        except (OSError, KeyError, ValueError) as exc:
            log.warning("PSIS-LOO skipped for job %s: %s", job, exc)
            continue
        rows.append(_row(group, job, overrides, elpd))
        elpds.setdefault(group, {})[job] = elpd
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
        return pd.DataFrame(columns=COLUMNS)
    table = table.merge(pd.concat(ranked, ignore_index=True), on=["group", "job"])
    return table[COLUMNS].sort_values(["group", "rank"], ignore_index=True)
