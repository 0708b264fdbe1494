"""Model registry: ``model.name`` -> builder ``(ModelData, PriorSet, cfg) -> BuiltModel``.

The single-equation models have two designs (``model.design``): ``robust`` (default; Bayesian
imputation with within-city errors, :mod:`.robust`) and ``twfe`` (the paper's two-way
regressions with partially pooled effects, :mod:`.simple` / :mod:`.dynamic`; a diffuse prior
reproduces OLS). The joint models (``iv``, ``mediation``) have the TWFE design only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from ...errors import InputError
from ..data import ModelData
from ..priors import PriorSet
from .base import BuiltModel
from .dynamic import build_event_study, build_staggered
from .joint import build_iv, build_mediation
from .robust import build_robust
from .simple import build_group, build_twfe

#: values of ``model.design``
DESIGNS = ("robust", "twfe")


def design_of(cfg: Mapping) -> str:
    design = str(cfg.get("design", "robust"))
    if design not in DESIGNS:
        raise InputError(f"model.design={design!r}: choose one of {list(DESIGNS)}")
    return design


def _with_design(name: str, twfe_builder: Callable) -> Callable:
    def build(md: ModelData, priors: PriorSet, cfg: Mapping) -> BuiltModel:
        if design_of(cfg) == "twfe":
            built = twfe_builder(md, priors, cfg)
            built.notes.insert(0, "design=twfe (two-way regression, iid errors)")
            return built
        return build_robust(md, priors, cfg, name)

    return build


BUILDERS = {
    "twfe": _with_design("twfe", build_twfe),
    "hetero_region": _with_design("hetero_region", partial(build_group, kind="region")),
    "hetero_batch": _with_design("hetero_batch", partial(build_group, kind="cohort")),
    "event_study": _with_design("event_study", build_event_study),
    "staggered": _with_design("staggered", build_staggered),
    "iv": build_iv,
    "mediation": build_mediation,
}

__all__ = ["BUILDERS", "DESIGNS", "BuiltModel", "design_of"]
