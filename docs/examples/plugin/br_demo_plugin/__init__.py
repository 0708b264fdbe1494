"""A Bayesian model defined outside bayes_resil: the example of ``docs/adding_a_model.md``.

``model=pooled_did``: a two-way DID whose unit effects are partially pooled with a spread that
has its own prior (``prior.demo_unit_sd``, a prior name this plugin adds), one treatment effect
``att``, compared with the TWFE regression. One module (this one: the builder, the options'
schema and the registry entry) and one YAML (``pooled_did.yaml``: the options' values); the
package finds it through the entry point of ``pyproject.toml``::

    [project.entry-points."bayes_resil.models"]
    pooled_did = "br_demo_plugin:ENTRY"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bayes_resil.bayes.registry import ModelEntry
from bayes_resil.schema import ModelConfig


@dataclass
class PooledDidConfig(ModelConfig):
    """Options of ``model=pooled_did`` (types and defaults; values in pooled_did.yaml)."""

    controls: bool = False
    unit_effects: bool = True  # false: no unit effects at all (a pooled regression)


def build(md, priors, cfg):
    """``y = intercept + time effect + unit level + att * d + noise``; PyMC is imported here,
    not at the top, so that reading the entry point stays fast."""
    import pymc as pm

    from bayes_resil.bayes.models.base import BuiltModel

    with pm.Model(coords=md.coords) as model:
        mu = priors("intercept", "intercept") + priors("time_effect", "time_effect",
                                                        dims="time")[md.time]
        if cfg.unit_effects:
            spread = priors("demo_unit_sd", "unit_sd")  # this plugin's own prior
            level = priors.layer("unit_level", "unit_level", 0.0, spread, dims="unit")
            mu = mu + level[md.unit]
        att = priors("effect", "att")
        pm.Normal("y", mu + att * md.d, priors("noise_sd", "sigma"), observed=md.y, dims="obs")
    return BuiltModel("pooled_did", model, md, effect_vars=["att"],
                      hyper_vars=["sigma", *(["unit_sd"] if cfg.unit_effects else [])],
                      estimands=lambda post: {"att": post["att"]},
                      comparators={"att": ("twfe", "att", "y")})


ENTRY = ModelEntry(
    name="pooled_did", build=build, schema=PooledDidConfig,
    config=Path(__file__).with_name("pooled_did.yaml"),
    priors={"demo_unit_sd": {"dist": "HalfNormal", "sigma": 1.0}},
    alternatives="pick model=twfe",
)
