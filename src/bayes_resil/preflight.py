"""Fail fast: everything a config asks of the data is checked right after loading.

A run that would stop at its Bayesian step (a ``model=hetero_region`` on a panel without a
region column, an instrument or mediator that is not there, a likelihood the design does not
have, an unknown sampler backend) used to stop only after the whole frequentist step had run.
:func:`check_run` builds the Bayesian model on the loaded panel (0.1 s on the default panel:
the builders already check their own requirements, so nothing here repeats them) and checks
the frequentist config, collecting every problem into one :class:`InputError` with what to set
or which model to pick instead.

Requirements of single frequentist blocks that a user panel may legitimately lack (the paper's
instrument, its concurrent policies) are not errors: those blocks skip with a note.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import get_args

from .errors import InputError
from .ols import VcovType
from .study import StudyData

log = logging.getLogger("bayes_resil")

def check_run(data: StudyData, cfg: Mapping) -> None:
    """Raise one :class:`InputError` listing every unmet requirement of ``cfg`` on ``data``."""
    t0 = time.perf_counter()
    problems = _freq_problems(data, cfg.get("freq", {}) or {})
    model = cfg.get("model", {}) or {}
    name = str(model.get("name", "none"))
    if name != "none":
        problems += _bayes_problems(data, cfg, name)
    if problems:
        raise InputError("the config asks for something the data or the install cannot give "
                         "(checked before any estimation):\n"
                         + "\n".join(f"  - {p}" for p in problems))
    log.info("config checked against the panel in %.2f s", time.perf_counter() - t0)


def _freq_problems(data: StudyData, fcfg: Mapping) -> list[str]:
    from .freq.callaway_santanna import CONTROLS
    from .freq.suite import unknown_blocks

    blocks = list(fcfg.get("blocks", []) or [])
    problems = [m for m in [unknown_blocks(blocks)] if m]
    vcov = str(fcfg.get("vcov", "cluster"))
    if vcov not in get_args(VcovType):
        problems.append(f"freq.vcov={vcov!r}: use one of {list(get_args(VcovType))}")
    cluster = fcfg.get("cluster", "unit")
    if vcov == "cluster" and cluster and cluster not in data.panel.columns:
        problems.append(f"freq.cluster={cluster!r} is not a column of the panel (columns: "
                        f"{sorted(data.panel.columns)[:12]}); cluster by unit with "
                        "freq.cluster=unit")
    for block in ("callaway_santanna", "honest_did"):
        control = str((fcfg.get(block, {}) or {}).get("control", "never"))
        if block in blocks and control not in CONTROLS:
            problems.append(f"freq.{block}.control={control!r}: use never or not_yet")
    return problems


def _bayes_problems(data: StudyData, cfg: Mapping, name: str) -> list[str]:
    from .bayes.fit import prepare
    from .bayes.registry import entry
    from .bayes.sampling import check_backend, check_engine

    problems = []
    try:
        check_backend(cfg.get("sampler", {}) or {})
    except InputError as exc:
        problems.append(str(exc))
    try:
        model = entry(name)
    except InputError as exc:
        return [*problems, str(exc)]
    hint = model.alternatives
    missing = [c for c in model.requires if c not in data.panel.columns]
    if missing:
        problems.append(f"model={name} needs the column(s) {missing}, which the panel does not "
                        "have" + (f" ({hint})" if hint else ""))
        return problems
    try:
        _, _, built = prepare(data, cfg)
        check_engine(built, cfg.get("sampler", {}) or {})
    except InputError as exc:
        problems.append(f"{exc}" + (f" ({hint})" if hint and hint not in str(exc) else ""))
    return problems
