"""Model registry: ``model.name`` -> builder ``(ModelData, PriorSet, cfg) -> BuiltModel``."""

from __future__ import annotations

from functools import partial

from .base import BuiltModel
from .dynamic import build_event_study, build_staggered
from .joint import build_iv, build_mediation
from .simple import build_group, build_twfe

BUILDERS = {
    "twfe": build_twfe,
    "hetero_region": partial(build_group, kind="region"),
    "hetero_batch": partial(build_group, kind="cohort"),
    "event_study": build_event_study,
    "staggered": build_staggered,
    "iv": build_iv,
    "mediation": build_mediation,
}

__all__ = ["BUILDERS", "BuiltModel"]
