"""Run the configured frequentist blocks (``freq.blocks``) and collect their results."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..errors import InputError
from ..estimates import Estimate
from ..schema import Block, FreqConfig, typed, values
from ..steps import StepStatus, isolated
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

#: the blocks, in the order of the schema (``freq.blocks`` choices)
BLOCKS = values(Block)


@dataclass
class FreqResults:
    """Rows for ``estimates.csv``, the placebo draws, skip reasons, each block's status and
    time (``steps``)."""

    rows: list[Estimate] = field(default_factory=list)
    placebo_draws: pd.DataFrame | None = None
    bacon: pd.DataFrame | None = None
    twfe_weights: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    steps: list[StepStatus] = field(default_factory=list)


def unknown_blocks(blocks) -> str | None:
    """The message for block names that are not in :data:`BLOCKS`, or None."""
    unknown = [b for b in blocks if b not in BLOCKS]
    return f"unknown freq block(s) {unknown}; known: {list(BLOCKS)}" if unknown else None


def freq_controls(data: StudyData, cfg: Mapping) -> list[str]:
    """The controls the blocks use (``freq.with_controls``; baseline reports both)."""
    if not typed(FreqConfig, cfg).with_controls:
        return []
    return [c for c in data.controls if c in data.panel.columns]


def block_kwargs(data: StudyData, cfg: Mapping, level: float) -> dict:
    """The keyword arguments every block takes: interval level, covariance, clusters,
    singletons and the data-source tag."""
    cfg = typed(FreqConfig, cfg)
    return dict(level=level, vcov=str(cfg.vcov), cluster=cfg.cluster,
                drop_singletons=bool(cfg.drop_singletons),
                tag="simulated" if data.simulated else data.source)


def run_freq(data: StudyData, cfg: Mapping, level: float = 0.95) -> FreqResults:
    """Every block listed in ``cfg.blocks``; unknown names are an error."""
    if message := unknown_blocks(list(cfg.get("blocks") or [])):
        raise InputError(message)
    cfg = typed(FreqConfig, cfg)  # every option, with the schema's defaults
    blocks = [str(b) for b in cfg.blocks]
    out = FreqResults()
    controls, kw = freq_controls(data, cfg), block_kwargs(data, cfg, level)
    tag = kw["tag"]
    for name in blocks:
        sub = cfg.get(name) or {}  # baseline has no options of its own
        # a block that fails on the data is reported and the others still run (steps.py)
        with isolated(name, "freq", out.steps) as status:
            _run_block(name, out, data, cfg, sub, controls, kw, level, tag)
        out.seconds[name] = status.seconds
        log.info("  freq block %-17s %6.2f s %s", name, status.seconds,
                 "" if status.ok else status.status.upper())
    for reason in out.skipped:
        log.warning("skipped %s", reason)
    for note in out.notes:
        log.info("note: %s", note)
    return out


def _run_block(name: str, out: FreqResults, data: StudyData, cfg: Mapping, sub: Mapping,
               controls: list[str], kw: dict, level: float, tag: str) -> None:
    """One block; its results are added to ``out`` only when it has finished."""
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
        rows, bacon, weights, notes = decomposition(data, sub, level=level, tag=tag)
        out.rows += rows
        out.bacon, out.twfe_weights = bacon, weights
        out.notes += [f"decomposition: {n}" for n in notes]
    else:
        fn = {"robustness": robustness, "iv": instrumental, "heterogeneity": heterogeneity,
              "mediation": mediation, "imputation": imputation, "sun_abraham": sun_abraham,
              "callaway_santanna": callaway_santanna}[name]
        rows, messages = fn(data, sub, controls, **kw)
        out.rows += rows
        # the staggered estimators report notes on what they did; the others, skips
        if name in ("imputation", "sun_abraham", "callaway_santanna"):
            out.notes += messages
        else:
            out.skipped += messages
