"""Fitting a configured model to a panel, without writing files.

:func:`prepare` turns a panel and the ``model`` / ``prior`` config into the PyMC model (the
estimation sample, the priors scaled to it, the model's builder); :func:`fit_summary` samples it
and returns the posterior rows and the diagnostics verdict only, which is what a calibration
study keeps of each of its many fits. :func:`bayes_resil.bayes.run.run_bayes` is the full step
of a run (figures, NetCDF, comparison) built on the same :func:`prepare`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..estimates import Estimate
from ..study import StudyData
from .data import ModelData, model_data
from .diagnostics import Diagnostics, diagnose
from .models import BuiltModel
from .priors import PriorSet
from .registry import entry
from .sampling import sample
from .summarise import estimand_draws, population_draws, posterior_rows


def model_controls(data: StudyData, model_cfg: Mapping) -> list[str]:
    """The controls a model uses: the panel's controls unless ``model.controls=false``."""
    if not model_cfg.get("controls", True):
        return []
    return [c for c in data.controls if c in data.panel.columns]


def prepare(data: StudyData, cfg: Mapping, *, priors_as_data: bool = False
            ) -> tuple[ModelData, PriorSet, BuiltModel]:
    """The estimation sample, the scaled priors and the built model of ``cfg.model``
    (``priors_as_data``: the priors' outcome scale as data, :class:`.priors.PriorSet`)."""
    mcfg = cfg["model"]
    name = str(mcfg["name"])
    build = entry(name).builder()  # an unknown name lists the known ones
    extra = [c for c in (mcfg.get("instrument"), mcfg.get("mediator")) if c]
    md = model_data(data, model_controls(data, mcfg),
                    extra=[c for c in extra if c in data.panel.columns])
    priors = PriorSet(cfg["prior"], md.y_sd, float(md.y.mean()), as_data=priors_as_data)
    built = build(md, priors, mcfg)
    built.notes.append(f"{mcfg.get('likelihood', 'normal')} errors")
    return md, priors, built


@dataclass
class FitSummary:
    """What a fit leaves when nothing is written: rows, diagnostics, timings."""

    built: BuiltModel
    rows: list[Estimate]
    diagnostics: Diagnostics
    timings: dict = field(default_factory=dict)


def fit_summary(data: StudyData, cfg: Mapping, *, level: float = 0.95,
                priors_as_data: bool = False) -> FitSummary:
    """Build, sample (no log-likelihood, log-prior or predictive draws) and summarise;
    ``priors_as_data`` for many panels of one design (their models then share one compiled
    model: :mod:`.compile_cache`)."""
    t0 = time.perf_counter()
    _, _, built = prepare(data, cfg, priors_as_data=priors_as_data)
    idata, timings = sample(built, cfg["sampler"], extras=False,
                            reuse_compiled=priors_as_data)
    diag = diagnose(idata, built, cfg["sampler"].get("checks"), sensitivity=False)
    tag = "simulated" if data.simulated else data.source
    rows = posterior_rows(estimand_draws(idata, built), built, level=level, tag=tag,
                          population=population_draws(idata, built))
    timings["total"] = time.perf_counter() - t0
    return FitSummary(built, rows, diag, timings)
