"""Typed configuration: the schema and the defaults of every config group.

Each group option's YAML (``conf/<group>/<option>.yaml``) starts from one of the dataclasses
here (``defaults: [/schema/<group>@_here_: <schema>]``) and sets only what differs, so the
defaults live in one place and every value is checked when the config is composed, on the
command line and in the API alike: a choice outside its set (``model.parametrization=centered``)
names the valid ones, a value of the wrong type (``sampler.draws=many``) is refused, a key the
schema does not have is refused when it comes from a YAML file and, when added with ``+``, by
:func:`check_keys` (Hydra lets ``+`` add keys to a typed node).

Choices are :class:`enum.StrEnum` members: they compare equal to their strings
(``cfg.model.design == "robust"``) and are written as plain strings.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .bayes.prior_families import FAMILIES
from .bayes.prior_names import CORRELATION_DEFAULT, LAYER_DEFAULT, LAYERS, PRIOR_NAMES
from .bayes.registry import plugin_priors, plugins
from .errors import InputError
from .simulate import CONTROLS, SimulationSpec
from .simulate_linear import LinearSpec


def _choices(name: str, values: str) -> type[StrEnum]:
    return StrEnum(name, [(v, v) for v in values.split()])


def values(choices: type[StrEnum]) -> tuple[str, ...]:
    """The choices as plain strings (the code's constants are these: one list each)."""
    return tuple(m.value for m in choices)


# --- choices --------------------------------------------------------------------------------
Design = _choices("Design", "robust twfe")
Errors = _choices("Errors", "within_city iid")
ImputeOn = _choices("ImputeOn", "auto indicators outcome")
Parametrization = _choices("Parametrization", "centred non_centred")
Likelihood = _choices("Likelihood", "normal student_t")
Smoothing = _choices("Smoothing", "random_walk independent")
Post = _choices("Post", "own common")
Backend = _choices("Backend", "nutpie pymc numpyro")
Engine = _choices("Engine", "full marginal")
Vcov = _choices("Vcov", "cluster hc1 iid")
Block = _choices("Block", "baseline event_study placebo robustness iv heterogeneity mediation "
                          "decomposition imputation sun_abraham callaway_santanna honest_did")
Control = _choices("Control", "never not_yet")
EstMethod = _choices("EstMethod", "dr reg")
Periods = _choices("Periods", "auto as_is")
Roster = _choices("Roster", "paper283 all286")
Direction = _choices("Direction", "positive negative")
Format = _choices("Format", "csv tsv parquet excel stata")


def _list(*values) -> Any:
    return field(default_factory=lambda: list(values))


#: the paper's batch groups (Table 5): label -> cohorts
BATCH_GROUPS = {"batches=1-2": [2015, 2016], "batches=3-4": [2018, 2019]}


def _dict(**values) -> Any:
    return field(default_factory=lambda: dict(values))


# --- options shared by a model and a frequentist block ---------------------------------------
@dataclass
class EventWindow:
    """Event times ``window`` (the endpoints collect everything beyond where binned) and the
    omitted ``reference`` period (the paper does not state its)."""

    window: list[int] = _list(-5, 5)
    reference: int = -1


@dataclass
class IVOptions:
    """Instrument = ``instrument`` x post; ``post`` own = the unit's Post_it (= d, the paper's
    definition), common = 1[time >= ``common_year``] (null: the first adoption period)."""

    instrument: str = "light"
    post: Post = Post.own
    common_year: int | None = None


# --- model ----------------------------------------------------------------------------------
@dataclass
class ModelConfig:
    """Every Bayesian model: ``controls`` (the panel's controls in the model), ``likelihood``
    (``student_t``: heavy tails, design=twfe only)."""

    name: str = MISSING
    controls: bool = True
    likelihood: Likelihood = Likelihood.normal


@dataclass
class EffectModelConfig(ModelConfig):
    """twfe / hetero_region / hetero_batch: ``design`` robust (Bayesian imputation, no forbidden
    comparisons) or twfe (the paper's regression); the robust design's error structure:
    ``errors`` (within_city: level + trend + random walk + noise; iid), ``city_scales``,
    ``trend_mean`` (city trends centred on cohort / region / control-mean means; null: on
    unless ``y(0)`` is imputed with the index's curvature, see ``impute_on``),
    ``covariate_years`` (year effects varying with the control means), ``trend_groups``
    (separate trend spread for treated and never-treated cities), ``impute_on`` (the index's
    curvature from its indicators as an offset of ``y(0)`` where the outcome is the package's
    index: ``auto`` wherever it is, ``indicators`` required, ``outcome`` never)."""

    design: Design = Design.robust
    errors: Errors = Errors.within_city
    city_scales: bool = True
    trend_mean: bool | None = None
    covariate_years: bool = True
    trend_groups: bool = True
    impute_on: ImputeOn = ImputeOn.auto


@dataclass
class PooledModelConfig(EffectModelConfig):
    """Partially pooled groups (design=twfe): ``parametrization`` centred | non_centred."""

    parametrization: Parametrization = Parametrization.centred


@dataclass
class StaggeredModelConfig(EventWindow, PooledModelConfig):
    """``window`` / ``reference``: the event study the leads are compared with."""


@dataclass
class EventStudyModelConfig(StaggeredModelConfig):
    """``bin_endpoints``: the window's endpoints collect everything beyond; ``smoothing``
    (design=twfe): random_walk | independent event-time effects."""

    bin_endpoints: bool = True
    smoothing: Smoothing = Smoothing.random_walk


@dataclass
class IVModelConfig(IVOptions, ModelConfig):
    """The joint IV model's instrument (:class:`IVOptions`)."""


@dataclass
class MediationModelConfig(ModelConfig):
    mediator: str = "ln_patents"


@dataclass
class NoModelConfig:
    name: str = "none"


# --- prior ----------------------------------------------------------------------------------
def _prior_spec() -> type:
    """A prior: ``dist`` (a family of :data:`~bayes_resil.bayes.prior_families.FAMILIES`) and
    any of the families' parameters (unset ones are None); which of them a family takes is
    checked when the model is built."""
    params = sorted({p for roles in FAMILIES.values() for p in roles})
    return dataclasses.make_dataclass(
        "PriorSpec", [("dist", str, MISSING), *[(p, float | None, None) for p in params]])


PriorSpec = _prior_spec()


def _prior_config() -> type:
    """The ``prior`` group: ``scale_by_outcome_sd`` and one :class:`PriorSpec` per prior name
    the models use (:mod:`bayes_resil.bayes.prior_names`; presets in ``conf/prior/``), the
    hierarchical layers Normal and the IV correlation Beta(2, 2) unless set."""
    fields = [("name", str, MISSING), ("scale_by_outcome_sd", bool, True)]
    for name in PRIOR_NAMES:
        default = CORRELATION_DEFAULT if name == "correlation" else None
        fields.append((name, PriorSpec | None, field(
            default_factory=lambda d=default: PriorSpec(**d)) if default else None))
    for name in LAYERS:
        fields.append((name, PriorSpec, field(
            default_factory=lambda: PriorSpec(**LAYER_DEFAULT))))
    for name, default in plugin_priors().items():  # prior names third-party models add
        if name not in PRIOR_NAMES and name not in LAYERS:
            fields.append((name, PriorSpec, field(
                default_factory=lambda d=dict(default): PriorSpec(**d))))
    return dataclasses.make_dataclass("PriorConfig", fields)



# --- sampler --------------------------------------------------------------------------------
@dataclass
class Checks:
    r_hat_max: float = 1.01
    ess_min: float = 400
    divergences_max: int = 0
    bfmi_min: float = 0.3


@dataclass
class SamplerConfig:
    """MCMC settings; ``cores`` null = min(chains, CPU cores); ``log_every``: seconds between
    progress lines without a terminal (0 = off); ``strict``: exit 3 when a check fails.
    ``engine``: ``full`` (NUTS on every parameter) or ``marginal`` (the robust design's linear
    coefficients integrated out exactly, NUTS on the hyperparameters only; ``sampler=marginal``).
    500 / 500 draws: the robust design's effects reach bulk ESS ~1 per draw (3785 of 4000 with
    1000 / 1000 on the default panel); the twfe design's staggered model needs >= 600 / 600
    (R-hat)."""

    name: str = MISSING
    backend: Backend = Backend.nutpie
    engine: Engine = Engine.full
    chains: int = 4
    draws: int = 500
    tune: int = 500
    target_accept: float = 0.9
    seed: int = 20250929
    cores: int | None = None
    progress: bool = True
    log_every: float = 30
    posterior_predictive: bool = True
    prior_draws: int = 300
    strict: bool = False
    checks: Checks = field(default_factory=Checks)


# --- freq -----------------------------------------------------------------------------------
@dataclass
class EventStudyBlock(EventWindow):
    """Leads and lags in ``window`` (the endpoints binned when ``bin_endpoints``)."""

    bin_endpoints: bool = True


@dataclass
class PlaceboBlock:
    """``chunk``: permutations projected at once (memory = rows x chunk; the same draws)."""

    permutations: int = 1000
    seed: int = 20250929
    chunk: int = 64


@dataclass
class RobustnessBlock:
    """Units with ``drop_flag`` = 1 dropped; outcome and controls winsorised at
    ``winsorize`` (both tails); concurrent ``policies`` added as dummies."""

    drop_flag: str = "is_capital_or_municipality"
    winsorize: float = 0.01
    policies: list[str] = _list("bdcpz", "bci", "cftz")


@dataclass
class IVBlock(IVOptions):
    """The IV block's instrument (:class:`IVOptions`)."""


@dataclass
class HeterogeneityBlock:
    """``region`` column; ``cohort_groups``: label -> cohorts (never-treated units added to
    each)."""

    region: str = "region"
    cohort_groups: Any = _dict(**BATCH_GROUPS)  # user labels: open mapping


@dataclass
class MediationBlock:
    """``bootstrap``: cluster (unit) bootstrap draws of the indirect effect."""

    mediators: list[str] = _list("ln_patents", "sci_tech_level", "ln_it_employees",
                                 "ln_employment")
    bootstrap: int = 999
    seed: int = 20250929


@dataclass
class DecompositionBlock:
    pass


@dataclass
class ImputationBlock:
    """``pretrend_leads``: BJS pre-trend test lead dummies on untreated observations;
    ``horizon``: last event time reported (null: all); ``cohort_groups``: label -> cohorts,
    each reported as ``att[<label>]`` (the average over those cohorts' treated observations,
    as the heterogeneity block's subsamples name them)."""

    pretrend_leads: int = 4
    horizon: int | None = None
    cohort_groups: Any = _dict(**BATCH_GROUPS)  # user labels: open mapping


@dataclass
class SunAbrahamBlock(EventWindow):
    """Event times reported (the regression uses every relative period)."""


@dataclass
class CallawaySantAnnaBlock:
    """``control`` never | not_yet; ``covariates`` (doubly robust ATT(g,t), covariates at
    the base period); ``est_method`` dr | reg; ``bootstrap``: multiplier-bootstrap draws
    (bootstrap SEs, uniform event-time band)."""

    control: Control = Control.never
    covariates: list[str] = _list()
    est_method: EstMethod = EstMethod.dr
    bootstrap: int = 999
    seed: int = 20250929


@dataclass
class HonestDidBlock:
    """``targets``: post event times examined; ``mbar_grid`` null: 0 to 1.25 x the largest
    breakdown value."""

    control: Control = Control.never
    targets: list[int] = _list(0, 2)
    mbar_grid: list[float] | None = None
    m_grid: list[float] | None = None


@dataclass
class FreqConfig:
    """The frequentist blocks to run and their options; ``vcov`` cluster (CR1, as fixest /
    reghdfe) | hc1 | iid; ``with_controls``: blocks other than baseline use the controls."""

    name: str = MISSING
    blocks: list[Block] = _list(Block.baseline)
    vcov: Vcov = Vcov.cluster
    cluster: str = "unit"
    drop_singletons: bool = True
    with_controls: bool = True
    event_study: EventStudyBlock = field(default_factory=EventStudyBlock)
    placebo: PlaceboBlock = field(default_factory=PlaceboBlock)
    robustness: RobustnessBlock = field(default_factory=RobustnessBlock)
    iv: IVBlock = field(default_factory=IVBlock)
    heterogeneity: HeterogeneityBlock = field(default_factory=HeterogeneityBlock)
    mediation: MediationBlock = field(default_factory=MediationBlock)
    decomposition: DecompositionBlock = field(default_factory=DecompositionBlock)
    imputation: ImputationBlock = field(default_factory=ImputationBlock)
    sun_abraham: SunAbrahamBlock = field(default_factory=SunAbrahamBlock)
    callaway_santanna: CallawaySantAnnaBlock = field(default_factory=CallawaySantAnnaBlock)
    honest_did: HonestDidBlock = field(default_factory=HonestDidBlock)


# --- data -----------------------------------------------------------------------------------
def _knobs(spec: type, name: str) -> type:
    """A simulator's knobs (its spec's fields but the roster) as a config schema: the
    simulator's own defaults, not a copy."""
    hints = typing.get_type_hints(spec)
    fields = []
    for f in dataclasses.fields(spec):
        if f.name == "roster":
            continue
        default = (field(default_factory=f.default_factory)
                   if f.default_factory is not dataclasses.MISSING else field(default=f.default))
        fields.append((f.name, hints[f.name], default))
    return dataclasses.make_dataclass(name, fields)


SimulationKnobs = _knobs(SimulationSpec, "SimulationKnobs")
LinearKnobs = _knobs(LinearSpec, "LinearKnobs")


@dataclass
class Columns:
    """The panel's columns: ``outcome`` null builds the index from ``index.indicators``;
    ``rename``: other columns, ``{name_in_file: new_name}``."""

    unit: str = "unit"
    time: str = "time"
    cohort: str = "cohort"
    outcome: str | None = None
    region: str | None = None
    controls: list[str] = _list()
    rename: Any = None  # {name_in_file: new_name}


@dataclass
class FileData:
    """``periods``: auto renumbers non-consecutive period codes 1..T; as_is keeps them."""

    source: str = "file"
    study: str | None = None
    path: str | None = None
    format: Format | None = None
    sheet: Any = None
    never_treated: list[Any] = _list(0)
    periods: Periods = Periods.auto
    columns: Columns = field(default_factory=Columns)


@dataclass
class SimulatedColumns:
    controls: list[str] = _list(*CONTROLS)  # the simulator's six


@dataclass
class SimulatedData:
    source: str = "simulated"
    study: str | None = "cbec"
    roster: Roster = Roster.paper283
    columns: SimulatedColumns = field(default_factory=SimulatedColumns)
    simulation: Any = field(default_factory=SimulationKnobs)


@dataclass
class LinearData:
    source: str = "linear"
    study: str | None = None
    roster: Roster = Roster.paper283
    columns: SimulatedColumns = field(default_factory=lambda: SimulatedColumns(controls=[]))
    simulation: Any = field(default_factory=LinearKnobs)


# --- index, calibration, top level ----------------------------------------------------------
@dataclass
class Indicator:
    name: str = MISSING
    dimension: str = MISSING
    direction: Direction = Direction.positive
    label: str = ""


@dataclass
class IndexConfig:
    name: str = MISSING
    indicators: list[Indicator] = _list()


@dataclass
class SBC:
    simulations: int = 0
    rank_draws: int = 99
    seed: int = 2025


@dataclass
class CalibrationConfig:
    """``models`` null = the model group's choice, or a model name or list of them;
    ``se_scale``: ``{method: factor}`` to also score rescaled SEs."""

    name: str = MISSING
    replications: int = 100
    seed: int = 1000
    models: Any = None
    jobs: int | None = None
    progress_every: float = 10
    flag_alpha: float = 0.01
    se_scale: Any = None  # {method: factor}
    sbc: SBC = field(default_factory=SBC)


@dataclass
class Reuse:
    """Folders (relative to the launch directory) searched for a finished run to reuse."""

    search: list[str] = _list("outputs", "multirun")


@dataclass
class ClaimsConfig:
    """The paper's claims checked under every lens (``claims.csv``, the report's first table):
    ``file`` a claims YAML (docs/claims.md; null: the study's own, shipped for ``cbec``);
    ``enabled`` false skips them."""

    enabled: bool = True
    file: str | None = None


@dataclass
class RunConfig:
    """``python -m bayes_resil``: the groups, ``ci_level`` (every interval), ``strict`` (a step
    that fails on the data makes the run exit 4 once everything is written), ``force``
    (recompute a finished run instead of reusing it), ``reuse``, ``claims``."""

    data: Any = MISSING
    index: Any = MISSING
    model: Any = MISSING
    prior: Any = MISSING
    sampler: Any = MISSING
    freq: Any = MISSING
    ci_level: float = 0.95
    strict: bool = False
    force: bool = False
    reuse: Reuse = field(default_factory=Reuse)
    claims: ClaimsConfig = field(default_factory=ClaimsConfig)


@dataclass
class CalibrateConfig(RunConfig):
    """``python -m bayes_resil.calibrate``: the run's config plus ``calibration``."""

    calibration: Any = MISSING
    reuse: Reuse = field(default_factory=lambda: Reuse(search=["calibration"]))


#: schema name -> dataclass, per group (``conf/<group>/*.yaml`` name them)
SCHEMAS: dict[str, dict[str, type]] = {
    "model": {"model": ModelConfig, "effect": EffectModelConfig, "pooled": PooledModelConfig,
              "staggered": StaggeredModelConfig, "event_study": EventStudyModelConfig,
              "iv": IVModelConfig, "mediation": MediationModelConfig, "none": NoModelConfig},
    "sampler": {"sampler": SamplerConfig},
    "freq": {"freq": FreqConfig},
    "data": {"file": FileData, "simulated": SimulatedData, "linear": LinearData},
    "index": {"index": IndexConfig},
    "calibration": {"calibration": CalibrationConfig},
}


def register() -> None:
    """Put the schemas in Hydra's ConfigStore (under ``schema/<group>``, the top-level ones as
    ``schema/run`` and ``schema/calibrate``); idempotent."""
    cs = ConfigStore.instance()
    cs.store(group="schema", name="run", node=RunConfig)
    cs.store(group="schema", name="calibrate", node=CalibrateConfig)
    # built here, not at import: it lists the prior names plugins add, and a plugin module
    # imports this one
    cs.store(group="schema/prior", name="prior", node=_prior_config())
    for name, model in plugins().items():  # third-party models: model=<name>
        cs.store(group="model", name=name, node=_plugin_config(model))
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            cs.store(group=f"schema/{group}", name=name, node=node)


def _plugin_config(model) -> DictConfig:
    """A plugin model's config: its schema (default :class:`ModelConfig`) with its YAML's
    values, named after the model."""
    node = OmegaConf.structured(model.schema or ModelConfig)
    if model.config is not None:
        node = OmegaConf.merge(node, OmegaConf.load(model.config))
    node.name = model.name
    return node


def typed(schema: type, cfg: Any) -> DictConfig:
    """``cfg`` (a composed config node, or a partial mapping as the tests and the comparators
    pass) over the defaults of ``schema``: the code reads options from here, so their defaults
    are the schema's and nowhere else."""
    try:
        out = OmegaConf.merge(OmegaConf.structured(schema), cfg or {})
    except OmegaConfBaseException as exc:  # a key it does not have, a value it cannot take
        raise InputError(f"{schema.__name__}: {str(exc).splitlines()[0]}") from None
    for f in dataclasses.fields(schema):  # open mappings (Any) are replaced, not merged
        if f.type in (Any, "Any") and cfg and f.name in cfg and cfg[f.name] is not None:
            out[f.name] = cfg[f.name]
    return out


def _unknown(node: Any, path: str) -> list[tuple[str, list[str]]]:
    out = []
    if isinstance(node, DictConfig) and not node._is_none():
        kind = OmegaConf.get_type(node)
        if dataclasses.is_dataclass(kind):
            known = [f.name for f in dataclasses.fields(kind)]
            out += [(f"{path}{k}", known) for k in node.keys() if k not in known]
        for k in node.keys():
            out += _unknown(node._get_node(k), f"{path}{k}.")
    elif isinstance(node, ListConfig) and not node._is_none():
        for i in range(len(node)):
            out += _unknown(node._get_node(i), f"{path}{i}.")
    return out


def check_keys(cfg: DictConfig) -> None:
    """Refuse keys a group's schema does not have (added with ``+`` on the command line or in
    a user's YAML), naming the valid ones."""
    bad = _unknown(cfg, "")
    if bad:
        raise InputError("unknown config key(s), not used by anything: " + "; ".join(
            f"{key} (the keys here: {', '.join(known)})" for key, known in bad))
