"""The Python API: load a panel, estimate, fit, compare, save (``import bayes_resil as br``).

::

    import bayes_resil as br

    panel = br.load_panel(df, unit="city", time="year", cohort="first_treated", outcome="y",
                          region="region", controls=["lngdp", "fdi"])
    freq = br.frequentist(panel, blocks=["baseline", "event_study", "imputation"])
    fit = br.fit(panel, model="staggered", prior="weakly_informative", sampler="nutpie",
                 draws=1000)
    fit.estimates()          # posterior summaries (the estimates.csv columns)
    fit.compare(freq)        # posterior beside the frequentist estimate of the same estimand
    fit.plot_forest(freq)    # a matplotlib Figure
    fit.save("runs/staggered", freq=freq)   # the command line's files and report

Every option of the command line's config groups is accepted, under the same name and with the
same values (:mod:`bayes_resil.options`): a group by name (``model="staggered"``) or as a
mapping (``sampler={"name": "thin", "draws": 300}``), any other key as a keyword (``draws=300``
is ``sampler.draws``) or as Hydra overrides (``overrides=["model.errors=iid"]``). The command
line runs through the same functions (:func:`bayes_resil.app.run`), so both give the same
numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import InputError
from .freq.result import FrequentistResult
from .freq.suite import run_freq
from .options import build_config, compose
from .readers import read_table
from .study import StudyData, load_frame, load_study

if TYPE_CHECKING:
    from .bayes.result import BayesianFit

GroupSpec = str | Mapping[str, Any] | None


def _index_config(indicators: Sequence | None) -> Mapping:
    """The ``index`` group: the default indicators, or the caller's."""
    cfg = compose([])["index"]
    return cfg if indicators is None else {**cfg, "indicators": list(indicators)}


def load_panel(source: pd.DataFrame | str | Path, *, unit: str = "unit", time: str = "time",
               cohort: str = "cohort", outcome: str | None = None, region: str | None = None,
               controls: Sequence[str] = (), rename: Mapping[str, str] | None = None,
               never_treated: Sequence = (0,), periods: str = "auto",
               study: str | None = None, indicators: Sequence | None = None,
               format: str | None = None, sheet: str | int | None = None) -> StudyData:
    """A user's panel, checked and in the package's canonical columns.

    Parameters
    ----------
    source : DataFrame or path
        One row per unit and period (CSV, TSV, Parquet, Excel or Stata file, or a DataFrame,
        which is not modified).
    unit, time, cohort : str
        Columns of the unit identifier, the period and the first treated period (empty or one
        of ``never_treated`` for units never treated).
    outcome : str, optional
        The outcome column; None builds the entropy-TOPSIS index from ``indicators``.
    region : str, optional
        A grouping of units for the heterogeneity analyses (``model=hetero_region``).
    controls : sequence of str
        Time-varying controls.
    rename : mapping, optional
        Other columns to rename, ``{name_in_data: new_name}``.
    never_treated : sequence
        Cohort codes meaning "never treated".
    periods : {"auto", "as_is"}
        ``auto`` renumbers non-consecutive period codes 1..T (codes kept in ``time_code``).
    study : str, optional
        ``"cbec"`` adds the published Table 1 beside the index weights.
    indicators : sequence, optional
        Index indicators (``index.indicators`` entries) when ``outcome`` is None; default the
        CBEC study's 14.
    format, sheet : optional
        File format when the extension does not say it; the Excel sheet.

    Returns
    -------
    StudyData
        The panel (``.panel``), its notes, and the index fit when an index was built.

    Raises
    ------
    InputError
        A column that is missing or not numeric, a cohort that changes within a unit, and the
        like, naming rows and columns.
    """
    columns = {"unit": unit, "time": time, "cohort": cohort, "outcome": outcome,
               "region": region, "controls": list(controls), "rename": dict(rename or {})}
    data_cfg = {"source": "file", "columns": columns, "never_treated": list(never_treated),
                "periods": periods, "study": study}
    if isinstance(source, pd.DataFrame):
        raw, label = source.copy(), f"DataFrame ({len(source)} rows)"
    else:
        path = Path(source).expanduser()
        raw, label = read_table(path, format, sheet), f"file {path}"
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        return load_frame(raw, data_cfg, _index_config(indicators), source=label)


def simulate_panel(seed: int | None = None, *, kind: str = "index", roster: str = "paper283",
                   **knobs: Any) -> StudyData:
    """The simulated study panel on the real CBEC design, with its true effects.

    Parameters
    ----------
    seed : int, optional
        Same seed, same panel (default: the study's, ``data.simulation.seed``).
    kind : {"index", "linear"}
        ``index``: the default study (14 yearbook indicators, entropy-TOPSIS index, as
        ``data=simulated``); ``linear``: a linear two-way panel (``data=linear``).
    roster : {"paper283", "all286"}
        The paper's 283 cities, or every reconstructible one.
    **knobs
        Any ``data.simulation`` option, e.g. ``effect_scale=0`` (a null) or
        ``noise_rho=0.9``; an unknown knob is an error listing the known ones.

    Returns
    -------
    StudyData
        The panel, ``.truth`` (true effects by estimand) and ``.truth_cells``.
    """
    kinds = {"index": "simulated", "linear": "linear"}
    if kind not in kinds:
        raise InputError(f"kind={kind!r}: use one of {list(kinds)}")
    cfg = compose([f"data={kinds[kind]}"])
    data_cfg = {**cfg["data"], "roster": roster,
                "simulation": {**cfg["data"]["simulation"],
                               **({} if seed is None else {"seed": seed}), **knobs}}
    return load_study(data_cfg, cfg["index"])


def frequentist(panel: StudyData, freq: GroupSpec = "paper", *,
                blocks: Sequence[str] | None = None, ci_level: float = 0.95,
                overrides: Sequence[str] = (), **options: Any) -> FrequentistResult:
    """The frequentist estimators of the ``freq`` config group on ``panel``.

    Parameters
    ----------
    panel : StudyData
        From :func:`load_panel` or :func:`simulate_panel`.
    freq : str or mapping
        A ``freq`` option (``paper``, ``staggered``, ``full``, ``baseline``) or a mapping of
        its keys with ``name`` the option.
    blocks : sequence of str, optional
        The blocks to run (``freq.blocks``), e.g. ``["baseline", "imputation"]``.
    ci_level : float
        Level of the confidence intervals.
    overrides : sequence of str
        Hydra overrides, e.g. ``["freq.event_study.window=[-3,3]"]``.
    **options
        Any key of the ``freq`` group: ``vcov="hc1"``, ``cluster="province"``,
        ``event_study={"window": [-3, 3]}``, ...

    Returns
    -------
    FrequentistResult
        ``.estimates()``, ``.steps()``, ``plot_*()``, ``.save(dir)``.
    """
    if blocks is not None:
        options = {**options, "blocks": list(blocks)}
    cfg = build_config({"freq": freq}, options={**options, "ci_level": ci_level},
                       overrides=overrides, scope=("freq",))
    return frequentist_from_config(panel, cfg)


def frequentist_from_config(panel: StudyData, cfg) -> FrequentistResult:
    """:func:`frequentist` with a composed config (``cfg.freq``, ``cfg.ci_level``)."""
    level = float(cfg.get("ci_level", 0.95))
    return FrequentistResult(panel, cfg, run_freq(panel, cfg["freq"], level=level), level)


def fit(panel: StudyData, model: GroupSpec = "hetero_region",
        prior: GroupSpec = "weakly_informative", sampler: GroupSpec = "nutpie", *,
        ci_level: float = 0.95, overrides: Sequence[str] = (), check: bool = True,
        **options: Any) -> BayesianFit:
    """Fit a Bayesian model of the ``model`` config group to ``panel``.

    Parameters
    ----------
    panel : StudyData
        From :func:`load_panel` or :func:`simulate_panel`.
    model, prior, sampler : str or mapping
        Options of the config groups (``model="staggered"``, ``prior="skeptical"``,
        ``sampler="thin"``) or mappings of their keys with ``name`` the option.
    ci_level : float
        Level of the credible intervals.
    overrides : sequence of str
        Hydra overrides, e.g. ``["model.errors=iid", "prior.effect.sigma=0.5"]``.
    check : bool
        Check the model's requirements on the panel first (one error listing them all).
    **options
        Any key of the ``model``, ``prior`` or ``sampler`` group: ``draws=1000``,
        ``errors="iid"``, ``effect={"sigma": 0.5}``; a key in two groups is an error
        naming both.

    Returns
    -------
    BayesianFit
        ``.estimates()``, ``.posterior``, ``.diagnostics()``, ``.compare(freq)``,
        ``plot_*()``, ``.save(dir)``.
    """
    from .bayes.result import fit_model

    cfg = build_config({"model": model, "prior": prior, "sampler": sampler},
                       options={**options, "ci_level": ci_level}, overrides=overrides,
                       scope=("model", "prior", "sampler"))
    if str(cfg.model.name) == "none":
        raise InputError("model=none fits nothing; pick a model, e.g. model='staggered'")
    if check:
        from .preflight import check_run

        check_run(panel, {**cfg, "freq": {}})
    return fit_model(panel, cfg, level=float(cfg.ci_level))


def assess_claims(freq: FrequentistResult | None = None, fit: BayesianFit | None = None, *,
                  claims: str | Path | None = None, panel: StudyData | None = None
                  ) -> pd.DataFrame:
    """The paper's claims under every lens, with their verdicts (``claims.csv``).

    Parameters
    ----------
    freq : FrequentistResult, optional
        The frequentist results (replication, robust estimators, placebo, HonestDiD).
    fit : BayesianFit, optional
        A Bayesian fit: posterior probabilities of each claim, for the treated units and for
        the population (its comparator estimates are used too).
    claims : str or Path, optional
        A claims YAML (``docs/claims.md``); default: the study's own (shipped for ``cbec``).
    panel : StudyData, optional
        The panel, when neither result carries it.

    Returns
    -------
    pandas.DataFrame
        One row per claim x lens (``claim``, ``lens``, ``role``, ``statement``, ``value``,
        ``status``, ``verdict``, ``detail``, ...); the ``lens == "verdict"`` row holds the
        claim's verdict (rules: :mod:`bayes_resil.claims.verdict`).
    """
    from .claims import assess, from_run, load_claims

    data = panel or (freq.data if freq is not None else fit.data if fit is not None else None)
    if data is None:
        raise InputError("assess_claims needs a result (freq or fit) or the panel")
    spec = load_claims(claims, data.study)
    if spec is None:
        raise InputError("no claims: this panel has no study with shipped claims; pass "
                         "claims='my_claims.yaml' (format: docs/claims.md)")
    if fit is not None:
        est = fit.all_estimates(freq)
        level = fit.level
    elif freq is not None:
        est, level = freq.estimates(), float(freq.config.get("ci_level", 0.95))
    else:
        raise InputError("assess_claims needs freq, fit or both")
    return assess(spec, from_run(data, est, freq=freq, fit=fit, level=level))
