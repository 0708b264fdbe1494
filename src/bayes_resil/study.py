"""Load the analysis panel from any source: one validated :class:`StudyData` for every step.

Sources (config group ``data``):

* ``simulated`` - the real CBEC design with simulated yearbook data (:mod:`.simulate`), the
  resilience index built from the 14 indicators, and the true effects;
* ``file`` - the user's panel (CSV, Parquet, Excel, Stata) with a column map; the outcome is a
  column, or the index built from the indicator columns named in the ``index`` config.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import panel as P
from .design import published_index_weights
from .errors import InputError
from .index import IndexFit, fit_index, parse_indicators
from .readers import read_table
from .simulate import CONTROLS, MEDIATORS, SimulationSpec, simulate_panel
from .simulate_linear import LinearSpec, simulate_linear
from .truth import truth_cells, truth_table


@dataclass
class StudyData:
    """The analysis panel and what is known about it."""

    panel: pd.DataFrame
    source: str
    simulated: bool
    study: str | None
    controls: list[str]
    outcome_label: str
    notes: list[str] = field(default_factory=list)
    index_fit: IndexFit | None = None
    weights: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    truth_cells: pd.DataFrame | None = None

    @property
    def missing(self) -> pd.Series:
        return P.missing_report(self.panel)

    @property
    def n_units(self) -> int:
        return int(self.panel["unit"].nunique())

    @property
    def periods(self) -> tuple[int, int]:
        return int(self.panel["time"].min()), int(self.panel["time"].max())


def _get(cfg: Mapping, key: str, default=None):
    value = cfg.get(key, default) if cfg is not None else default
    return default if value is None else value


def simulation_spec(sim_cfg: Mapping | None, roster: str, spec_type: type = SimulationSpec):
    """A simulation spec (``SimulationSpec`` or ``LinearSpec``) from the ``data.simulation``
    config; an unknown knob is an :class:`InputError` that lists the known ones."""
    known = {f.name for f in dataclasses.fields(spec_type)} - {"roster"}
    kwargs = dict(sim_cfg or {})
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise InputError(f"unknown data.simulation option(s) {unknown}; known: {sorted(known)}")
    for key in ("batch_mult", "region_mult", "mediator_mult"):
        if key in kwargs:
            kwargs[key] = {(int(k) if key == "batch_mult" else str(k)): float(v)
                           for k, v in dict(kwargs[key]).items()}
    return spec_type(roster=roster, **kwargs)


def _build_index(frame: pd.DataFrame, index_cfg: Mapping, published: dict | None
                 ) -> tuple[IndexFit, pd.DataFrame]:
    indicators = parse_indicators(list(_get(index_cfg, "indicators", [])))
    if not indicators:
        raise InputError("the index config lists no indicators (index.indicators)")
    for ind in indicators:
        if ind.name in frame.columns:
            frame[ind.name] = P.to_numeric(frame, ind.name, "index indicator")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        fit = fit_index(frame, indicators)
    frame["y"] = fit.score(frame).to_numpy()
    return fit, fit.weights_table(published)


def load_simulated(data_cfg: Mapping, index_cfg: Mapping) -> StudyData:
    """The default panel: real CBEC design, simulated yearbook data, known true effects."""
    spec = simulation_spec(_get(data_cfg, "simulation", {}), _get(data_cfg, "roster", "paper283"))
    sim = simulate_panel(spec)
    frame = sim.panel.copy()
    published = published_index_weights()
    fit, weights = _build_index(frame, index_cfg, published)
    notes = P.validate_design(frame)
    y0 = fit.score(sim.untreated)
    cells = truth_cells(frame, y0, sim.untreated[list(MEDIATORS)])
    source = (
        f"SIMULATED data on the real CBEC design ({frame['unit'].nunique()} cities, "
        f"{frame['time'].min()}-{frame['time'].max()}, roster {spec.roster}, seed {spec.seed}); "
        "not the paper's EPS data"
    )
    frame.insert(5, "data_source", "simulated")
    return StudyData(
        panel=P.order_columns(frame), source=source, simulated=True, study="cbec",
        controls=list(_get(data_cfg.get("columns", {}), "controls", CONTROLS)),
        outcome_label="economic resilience index (entropy-TOPSIS of 14 indicators)",
        notes=notes, index_fit=fit, weights=weights,
        truth=truth_table(cells), truth_cells=cells,
    )


def load_file(data_cfg: Mapping, index_cfg: Mapping) -> StudyData:
    """The user's own panel from ``data.path`` with the ``data.columns`` map."""
    path = _get(data_cfg, "path")
    if not path:
        raise InputError("data=file needs data.path=/path/to/panel.csv (or .parquet/.xlsx/.dta)")
    raw = read_table(Path(str(path)).expanduser(), _get(data_cfg, "format"),
                     _get(data_cfg, "sheet"))
    return load_frame(raw, data_cfg, index_cfg, source=f"file {path}")


def load_frame(raw: pd.DataFrame, data_cfg: Mapping, index_cfg: Mapping | None,
               source: str) -> StudyData:
    """A user's panel already in memory (a file's rows, or a DataFrame from the API), with the
    ``data.columns`` map, ``data.never_treated``, ``data.periods`` and ``data.study`` of
    ``data_cfg``; ``source`` says where it came from."""
    columns = dict(_get(data_cfg, "columns", {}))
    frame = P.map_columns(raw, columns, list(_get(data_cfg, "never_treated", [0])))
    notes = P.validate_design(frame)
    notes += P.renumber_periods(frame, str(_get(data_cfg, "periods", "auto")))
    frame = P.add_treatment(frame)
    fit = weights = None
    study = _get(data_cfg, "study")
    if "y" in frame.columns:
        label = f"{columns.get('outcome')} (from the data)"
    else:
        published = published_index_weights() if study == "cbec" else None
        fit, weights = _build_index(frame, index_cfg, published)
        label = "composite index (entropy-TOPSIS of the indicator columns)"
    return StudyData(
        panel=P.order_columns(frame), source=source, simulated=False, study=study,
        controls=list(_get(columns, "controls", [])), outcome_label=label, notes=notes,
        index_fit=fit, weights=weights,
    )


def load_linear(data_cfg: Mapping) -> StudyData:
    """A linear two-way panel on the real design with known effects (:mod:`.simulate_linear`)."""
    spec = simulation_spec(_get(data_cfg, "simulation", {}), _get(data_cfg, "roster", "paper283"),
                           LinearSpec)
    frame, y0 = simulate_linear(spec)
    notes = P.validate_design(frame)
    cells = truth_cells(frame, y0)
    source = (
        f"SIMULATED linear panel on the real CBEC design ({frame['unit'].nunique()} cities, "
        f"{frame['time'].min()}-{frame['time'].max()}, roster {spec.roster}, seed {spec.seed}): "
        "y = city level + city trend + year effect + effect + AR(1) noise"
    )
    frame.insert(5, "data_source", "simulated")
    return StudyData(
        panel=P.order_columns(frame), source=source, simulated=True, study=None, controls=[],
        outcome_label="simulated outcome (linear two-way model)", notes=notes,
        truth=truth_table(cells), truth_cells=cells,
    )


LOADERS = {"simulated": load_simulated, "file": load_file, "linear": load_linear}


def load_study(data_cfg: Mapping, index_cfg: Mapping) -> StudyData:
    """Dispatch on ``data.source``: ``simulated``, ``linear`` or ``file``."""
    source = _get(data_cfg, "source", "simulated")
    if source not in LOADERS:
        raise InputError(f"data.source={source!r} is not known; use data=simulated, "
                         "data=linear or data=file")
    if source == "linear":
        return load_linear(data_cfg)
    return LOADERS[source](data_cfg, index_cfg)
