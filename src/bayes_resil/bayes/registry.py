"""Bayesian models as plugins: one :class:`ModelEntry` per model, built in or third-party.

An entry is everything the package needs to know about a model: how to build it, its options
(a config schema, a dataclass whose defaults are the options' defaults, and optionally a YAML
file with their values), the panel columns it needs (checked before any estimation, with what
to try instead), the prior names it adds (with their default priors). Everything else comes
from the built model (:class:`~.models.base.BuiltModel`): its estimands, the frequentist
estimator each is compared with, whether it has event-time effects to plot.

A third-party package adds a model with one module and (optionally) one YAML, and one entry
point in its ``pyproject.toml``::

    [project.entry-points."bayes_resil.models"]
    my_model = "my_package.my_model:ENTRY"

after which ``python -m bayes_resil model=my_model`` and ``br.fit(panel, model="my_model")``
work like the built-in models (``docs/adding_a_model.md`` walks through one; the tests run it).
Entry points are read once per process, when the configs are first composed; a plugin module
should import PyMC inside its builder, not at the top, to keep ``--help`` fast.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ..errors import InputError

log = logging.getLogger("bayes_resil")

#: the entry-point group third-party models register under
ENTRY_POINT_GROUP = "bayes_resil.models"


@dataclass(frozen=True)
class ModelEntry:
    """A Bayesian model the package can run.

    Attributes
    ----------
    name : str
        The model's name (``model=<name>``; its rows are ``bayes_<name>``).
    build : callable or str
        ``build(ModelData, PriorSet, model_cfg) -> BuiltModel``, or ``"module:function"``
        (imported when the model is built).
    schema : type, optional
        The config dataclass (subclass :class:`bayes_resil.schema.ModelConfig`): the options,
        their types and defaults. Built-in models: their YAML in ``conf/model/`` names it.
    config : path, optional
        A YAML file with the option values (merged onto ``schema``), e.g. with comments for
        users; without it the schema's defaults are the config.
    requires : tuple of str
        Panel columns the model needs (besides unit, time, cohort, y).
    priors : mapping
        Prior names the model adds, each with its default prior (``{"dist": ..., ...}``).
    alternatives : str
        What to try when the model cannot run on a panel (shown with the error).
    """

    name: str
    build: Callable | str
    schema: type | None = None
    config: str | Path | None = None
    requires: tuple[str, ...] = ()
    priors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    alternatives: str = ""

    def builder(self) -> Callable:
        """The build function (imported on first use)."""
        if callable(self.build):
            return self.build
        module, _, attr = str(self.build).partition(":")
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj


#: the built-in models (their configs are ``conf/model/<name>.yaml``)
BUILT_IN = {
    name: ModelEntry(name, f"bayes_resil.bayes.models:build_{name}", alternatives=alt)
    for name, alt in [
        ("twfe", ""),
        ("hetero_region", "set data.columns.region to the column with the groups, or pick "
                          "model=hetero_batch / model=staggered / model=twfe"),
        ("hetero_batch", "pick model=twfe or model=event_study"),
        ("event_study", ""),
        ("staggered", ""),
        ("iv", "set model.instrument to an instrument column, or pick model=twfe"),
        ("mediation", "set model.mediator to a mediator column, or pick model=twfe"),
    ]
}


@cache
def plugins() -> dict[str, ModelEntry]:
    """Third-party models from the ``bayes_resil.models`` entry points (read once)."""
    out = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry = ep.load()
            entry = entry() if callable(entry) and not isinstance(entry, ModelEntry) else entry
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the package
            log.warning("model plugin %s (%s) could not be loaded: %s", ep.name, ep.value, exc)
            continue
        if not isinstance(entry, ModelEntry):
            log.warning("model plugin %s: %s is not a ModelEntry", ep.name, ep.value)
            continue
        if entry.name in BUILT_IN or entry.name == "none":
            raise InputError(f"model plugin {ep.value} uses the built-in name {entry.name!r}")
        out[entry.name] = entry
    return out


def models() -> dict[str, ModelEntry]:
    """Every model: the built-in ones and the plugins."""
    return {**BUILT_IN, **plugins()}


def entry(name: str) -> ModelEntry:
    """The entry of ``model=name``; an unknown name lists the known ones."""
    known = models()
    if name not in known:
        raise InputError(f"model={name} is not known; available: {sorted(known)} or none")
    return known[name]


def plugin_priors() -> dict[str, Mapping[str, Any]]:
    """Prior names the plugins add, with their default priors."""
    out: dict[str, Mapping[str, Any]] = {}
    for e in plugins().values():
        out.update(e.priors)
    return out
