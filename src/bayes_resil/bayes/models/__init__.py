"""The built-in models' builders ``(ModelData, PriorSet, cfg) -> BuiltModel`` and
:data:`BUILDERS`, every registered model's (built-in or plugin, :mod:`..registry`).

The single-equation models have two designs (``model.design``): ``robust`` (default; Bayesian
imputation with within-city errors, :mod:`.robust`) and ``twfe`` (the paper's two-way
regressions with partially pooled effects, :mod:`.simple` / :mod:`.dynamic`; a diffuse prior
reproduces OLS). The joint models (``iv``, ``mediation``) have the TWFE design only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from ...errors import InputError
from ...schema import Design, values
from ..data import ModelData
from ..priors import PriorSet
from ..registry import entry, models
from .base import BuiltModel
from .dynamic import build_event_study as build_event_study_design
from .dynamic import build_staggered as build_staggered_design
from .joint import build_iv, build_mediation
from .robust import build_robust
from .simple import build_group
from .simple import build_twfe as build_twfe_design

#: values of ``model.design``
DESIGNS = values(Design)


def design_of(cfg: Mapping) -> str:
    design = str(cfg.get("design", "robust"))
    if design not in DESIGNS:
        raise InputError(f"model.design={design!r}: choose one of {list(DESIGNS)}")
    return design


def _with_design(name: str, twfe_builder: Callable) -> Callable:
    def build(md: ModelData, priors: PriorSet, cfg: Mapping) -> BuiltModel:
        if design_of(cfg) == "twfe":
            if str(cfg.get("impute_on", "auto")) == "indicators":
                raise InputError("model.impute_on=indicators is the robust design's imputation "
                                 "of y(0); model.design=twfe regresses the outcome itself: use "
                                 "model.design=robust or model.impute_on=auto")
            built = twfe_builder(md, priors, cfg)
            built.notes.insert(0, "design=twfe (two-way regression, iid errors)")
            return built
        return build_robust(md, priors, cfg, name)

    return build


# the built-in models' builders (named in :data:`..registry.BUILT_IN`)
build_twfe = _with_design("twfe", build_twfe_design)
build_hetero_region = _with_design("hetero_region", partial(build_group, kind="region"))
build_hetero_batch = _with_design("hetero_batch", partial(build_group, kind="cohort"))
build_event_study = _with_design("event_study", build_event_study_design)
build_staggered = _with_design("staggered", build_staggered_design)


class _Builders(Mapping):
    """``model.name`` -> builder, for every registered model (:mod:`..registry`)."""

    def __getitem__(self, name: str) -> Callable:
        return entry(name).builder()

    def __iter__(self):
        return iter(models())

    def __len__(self) -> int:
        return len(models())


BUILDERS = _Builders()

__all__ = ["BUILDERS", "DESIGNS", "BuiltModel", "build_iv", "build_mediation", "design_of"]
