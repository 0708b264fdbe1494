"""Convergence diagnostics of a run, with stated thresholds (``sampler.checks``).

``diagnostics.csv``: one row per reported parameter (treatment effects and the hyperparameters
that govern them, not every unit effect) with R-hat, bulk / tail ESS and MCSE of the mean, plus
the run's divergences and minimum BFMI; ``passed`` is false and ``failures`` lists what failed
(the same text on every row) when a threshold is missed. Power-scaling prior / likelihood
sensitivity (``psense``) of the effect parameters goes to ``psense.csv``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from .models import BuiltModel

log = logging.getLogger("bayes_resil")

DEFAULT_CHECKS = {"r_hat_max": 1.01, "ess_min": 400, "divergences_max": 0, "bfmi_min": 0.3}


@dataclass
class Diagnostics:
    table: pd.DataFrame
    divergences: int
    bfmi_min: float
    failures: list[str] = field(default_factory=list)
    psense: pd.DataFrame | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def diagnose(idata: xr.DataTree, built: BuiltModel, checks: Mapping | None = None, *,
             sensitivity: bool = True) -> Diagnostics:
    """Check the run against ``checks``; ``sensitivity=False`` skips ``psense``."""
    checks = {**DEFAULT_CHECKS, **dict(checks or {})}
    post = idata["posterior"].to_dataset()
    names = [v for v in [*built.effect_vars, *built.hyper_vars] if v in post]
    summ = azs.summary(idata, var_names=names, kind="diagnostics", round_to="none")
    summ = summ.reset_index().rename(columns={"index": "parameter", "label": "parameter"})
    if "parameter" not in summ.columns:
        summ = summ.rename(columns={summ.columns[0]: "parameter"})
    base = summ["parameter"].str.replace(r"\[.*\]$", "", regex=True)
    summ.insert(1, "is_effect", base.isin(built.effect_vars))
    stats = idata["sample_stats"].to_dataset()
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    bfmi_min = (float(np.nanmin(np.asarray(azs.bfmi(stats["energy"]))))
                if "energy" in stats else float("nan"))
    failures = []
    bad_rhat = summ[summ["r_hat"] > checks["r_hat_max"]]
    if len(bad_rhat):
        worst = bad_rhat.loc[bad_rhat["r_hat"].idxmax()]
        failures.append(f"R-hat > {checks['r_hat_max']} for {len(bad_rhat)} parameter(s), "
                        f"worst {worst['r_hat']:.3f} ({worst['parameter']})")
    low = summ[(summ["ess_bulk"] < checks["ess_min"]) | (summ["ess_tail"] < checks["ess_min"])]
    if len(low):
        worst = low[["ess_bulk", "ess_tail"]].min(axis=1)
        failures.append(f"ESS < {checks['ess_min']} for {len(low)} parameter(s), lowest "
                        f"{worst.min():.0f} ({low.loc[worst.idxmin(), 'parameter']})")
    if divergences > checks["divergences_max"]:
        failures.append(f"{divergences} divergent transitions (allowed "
                        f"{checks['divergences_max']})")
    if np.isfinite(bfmi_min) and bfmi_min < checks["bfmi_min"]:
        failures.append(f"BFMI {bfmi_min:.2f} < {checks['bfmi_min']} (energy)")
    summ["divergences"] = divergences
    summ["bfmi_min"] = bfmi_min
    for key, value in checks.items():
        summ[f"threshold_{key}"] = value
    summ["passed"] = not failures
    summ["failures"] = "; ".join(failures)
    cols = ["parameter", "is_effect", "r_hat", "ess_bulk", "ess_tail", "mcse_mean"]
    summ = summ[[*cols, *[c for c in summ.columns if c not in cols]]]
    psense = None
    if not sensitivity:
        return Diagnostics(summ, divergences, bfmi_min, failures, psense)
    try:
        effects = [v for v in built.effect_vars if v in post]
        psense = azs.psense_summary(idata, var_names=effects, round_to=6)
        psense = psense.reset_index().rename(columns={"index": "parameter"})
    except Exception as exc:  # noqa: BLE001 - sensitivity is informative, never fatal
        log.warning("power-scaling sensitivity failed: %s", exc)
        psense = pd.DataFrame({"parameter": ["(all)"], "error": [str(exc)]})
    return Diagnostics(summ, divergences, bfmi_min, failures, psense)
