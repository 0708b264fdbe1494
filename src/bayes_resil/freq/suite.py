"""Run the configured frequentist blocks (``freq.blocks``) and collect their results."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..errors import InputError
from ..estimates import Estimate
from ..study import StudyData
from .baseline import baseline_twfe
from .callaway_santanna import callaway_santanna
from .decomposition import decomposition
from .event_study import event_study
from .heterogeneity import heterogeneity
from .imputation import imputation
from .instrumental import instrumental
from .mediation import mediation
from .placebo import placebo
from .robustness import robustness
from .sensitivity import honest_did
from .sun_abraham import sun_abraham

log = logging.getLogger("bayes_resil")

BLOCKS = ("baseline", "event_study", "placebo", "robustness", "iv", "heterogeneity",
          "mediation", "decomposition", "imputation", "sun_abraham", "callaway_santanna",
          "honest_did")


@dataclass
class FreqResults:
    """Rows for ``estimates.csv``, the placebo draws, skip reasons and timings."""

    rows: list[Estimate] = field(default_factory=list)
    placebo_draws: pd.DataFrame | None = None
    bacon: pd.DataFrame | None = None
    twfe_weights: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def run_freq(data: StudyData, cfg: Mapping, level: float = 0.95) -> FreqResults:
    """Every block listed in ``cfg.blocks``; unknown names are an error."""
    blocks = list(cfg.get("blocks", ["baseline"]))
    unknown = [b for b in blocks if b not in BLOCKS]
    if unknown:
        raise InputError(f"unknown freq block(s) {unknown}; known: {list(BLOCKS)}")
    out = FreqResults()
    tag = "simulated" if data.simulated else data.source
    controls = [c for c in data.controls if c in data.panel.columns] if cfg.get(
        "with_controls", True) else []
    kw = dict(level=level, vcov=cfg.get("vcov", "cluster"), cluster=cfg.get("cluster", "unit"),
              drop_singletons=bool(cfg.get("drop_singletons", True)), tag=tag)
    for name in blocks:
        t0 = time.perf_counter()
        sub = cfg.get(name, {}) or {}
        if name == "baseline":
            out.rows += baseline_twfe(data, cfg, level=level)
        elif name == "event_study":
            out.rows += event_study(data, sub, controls, **kw)
        elif name == "placebo":
            rows, out.placebo_draws = placebo(data, sub, controls, level=level, tag=tag)
            out.rows += rows
        elif name == "honest_did":
            rows, out.sensitivity, notes = honest_did(data, sub, controls, **kw)
            out.rows += rows
            out.notes += notes
        elif name == "decomposition":
            rows, out.bacon, out.twfe_weights, notes = decomposition(data, sub, level=level,
                                                                     tag=tag)
            out.rows += rows
            out.notes += [f"decomposition: {n}" for n in notes]
        else:
            fn = {"robustness": robustness, "iv": instrumental, "heterogeneity": heterogeneity,
                  "mediation": mediation, "imputation": imputation,
                  "sun_abraham": sun_abraham,
                  "callaway_santanna": callaway_santanna}[name]
            rows, messages = fn(data, sub, controls, **kw)
            out.rows += rows
            # the staggered estimators report notes on what they did; the others, skips
            if name in ("imputation", "sun_abraham", "callaway_santanna"):
                out.notes += messages
            else:
                out.skipped += messages
        out.seconds[name] = time.perf_counter() - t0
        log.info("  freq block %-13s %5.2f s", name, out.seconds[name])
    for reason in out.skipped:
        log.warning("skipped %s", reason)
    for note in out.notes:
        log.info("note: %s", note)
    return out
