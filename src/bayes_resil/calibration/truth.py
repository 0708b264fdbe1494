"""The simulated truth behind each estimate row of one replication.

An estimate's truth is the average true effect ``tau_it`` over the treated unit-periods its
estimand selects (``att``: all of them; ``att[East]``, ``att[cohort=g]``, ``att[time=t]``,
``event[e]``, ``att[g,t]``; a binned endpoint ``event[5]`` with the note ``binned: event time
>= 5``: every e >= 5), taken over two sets of cells:

* ``true_effect``: the treated unit-periods **in the estimator's own estimation sample** (rows
  with the outcome and, when the estimator used them, every control; the balanced panel for
  Callaway-Sant'Anna and the Bacon decomposition; the model's rows for a Bayesian model). This
  is the effect on the treated units the estimator saw, the quantity it can be right about.
* ``true_effect_panel``: every treated unit-period with the outcome (``truth.csv``).

They differ when rows are dropped for missing controls (on the default panel about 18% of
treated city-years): then the two averages differ by about 0.001, close to a posterior sd.
Before adoption both simulators have no effect (the two potential outcomes are equal), so the
truth of a lead ``event[e]``, e < 0, is 0. Rows that do not estimate an effect (placebo
distributions, reference periods fixed at 0, coefficients, test statistics) get no truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..estimand import estimand_cells, parse
from ..freq.decomposition import balanced_sample
from ..study import StudyData

#: rows whose estimand names an effect but whose numbers describe something else
NOT_AN_ESTIMATE = {"placebo": "the permutation distribution of placebo coefficients"}


def unit_time_keys(frame: pd.DataFrame) -> pd.Index:
    return pd.MultiIndex.from_arrays([frame["unit"].astype(str).to_numpy(),
                                      frame["time"].astype(int).to_numpy()])


class Samples(dict):
    """(unit, time) keys of each estimation sample by name, computed when first asked for."""

    def __init__(self, makers: dict):
        super().__init__()
        self.makers = makers

    def __missing__(self, name: str) -> pd.Index:
        self[name] = value = unit_time_keys(self.makers[name]())
        return value


def freq_samples(data: StudyData, freq_cfg) -> Samples:
    """The frequentist estimation samples (see :func:`sample_name`), computed lazily."""
    p = data.panel
    controls = [c for c in data.controls if c in p.columns] if freq_cfg.get(
        "with_controls", True) else []
    cs_cov = list((freq_cfg.get("callaway_santanna") or {}).get("covariates") or [])
    return Samples({
        "outcome": lambda: p[p["y"].notna()],
        "outcome+controls": lambda: p.dropna(subset=["y", *controls]),
        "balanced": lambda: balanced_sample(p)[0],
        "balanced+covariates": lambda: balanced_sample(p.dropna(subset=cs_cov))[0],
    })


def sample_name(method: str, freq_cfg, data: StudyData) -> str:
    """Which estimation sample a frequentist method used (see :func:`freq_samples`)."""
    if method == "twfe":
        return "outcome"
    if method == "bacon":
        return "balanced"
    if method == "callaway_santanna":
        return "balanced+covariates"
    uses_controls = freq_cfg.get("with_controls", True) and any(
        c in data.panel.columns for c in data.controls)
    return "outcome+controls" if uses_controls else "outcome"


def attach_truth(rows: pd.DataFrame, data: StudyData, samples: dict[str, pd.Index],
                 sample_of: pd.Series) -> pd.DataFrame:
    """``rows`` (estimates of one replication) with ``true_effect``, ``true_effect_panel``,
    ``truth_sample`` and ``truth_cells``; rows without a truth are dropped.

    ``sample_of``: for each row (same index), the name of its estimation sample in ``samples``.
    """
    cells = data.truth_cells
    cell_keys = unit_time_keys(cells)
    out = []
    for i, r in rows.iterrows():
        if r["method"] in NOT_AN_ESTIMATE or "reference period" in str(r.get("note", "")):
            continue
        name, outcome = str(r["estimand"]), str(r["outcome"])
        parsed = parse(name)
        if parsed.kind == "path" and parsed.path == "a_path":  # effect of d on a mediator
            name, outcome = "att", parsed.term
        column = "tau" if outcome == "y" else f"tau_{outcome}"
        if column not in cells.columns:
            continue
        mask, lead = estimand_cells(cells, name, str(r.get("note", "")))
        if mask is None:
            continue
        in_sample = cell_keys.isin(samples[sample_of.loc[i]])
        tau = cells[column].to_numpy(float)
        sel = mask & in_sample & np.isfinite(tau)
        if lead:
            truth = truth_panel = 0.0
        elif sel.any():
            truth, truth_panel = tau[sel].mean(), np.nanmean(tau[mask])
        else:
            continue
        out.append({**r.to_dict(), "true_effect": float(truth),
                    "true_effect_panel": float(truth_panel),
                    "truth_sample": sample_of.loc[i], "truth_cells": int(sel.sum())})
    return pd.DataFrame(out)
