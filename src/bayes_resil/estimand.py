"""Estimand names, parsed in one place.

The names of ``estimates.csv`` (ARCHITECTURE.md, "Fixed names") are strings such as ``att``,
``att[East]``, ``att[cohort=2016]``, ``att[time=2019]``, ``event[-2]``, ``att[2016,2018]``,
``coef[lngdp]``, ``indirect[ln_patents]``. :func:`parse` turns one into an :class:`Estimand`
(a kind plus labelled coordinates) and :meth:`Estimand.name` formats it back, so code that
selects treated cells by estimand (the truth of a calibration study) never slices strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: kinds of estimand that average the treatment effect over treated unit-periods
EFFECT_KINDS = ("att", "region", "cohort", "time", "event", "cell")

_INT = r"-?\d+"
_BIN = re.compile(r"binned: event time (?P<op>>=|<=) (?P<k>-?\d+)")
_PATTERNS = [
    ("att", re.compile(r"^att$")),
    ("cohort", re.compile(rf"^att\[cohort=(?P<cohort>{_INT})\]$")),
    ("time", re.compile(rf"^att\[time=(?P<time>{_INT})\]$")),
    ("cell", re.compile(rf"^att\[(?P<cohort>{_INT}),(?P<time>{_INT})\]$")),
    ("event", re.compile(rf"^event\[(?P<event>{_INT})\]$")),
    ("path", re.compile(r"^(?P<path>coef|indirect|direct|total|a_path)\[(?P<term>[^\]]+)\]$")),
    ("region", re.compile(r"^att\[(?P<region>[^=\],]+)\]$")),
]


@dataclass(frozen=True)
class Estimand:
    """A parsed estimand name.

    ``kind``: ``att`` (all treated unit-periods), ``region``, ``cohort``, ``time`` (calendar
    period), ``event`` (event time), ``cell`` (cohort x period), ``path`` (a regression or
    mediation coefficient: ``path`` in coef / indirect / direct / total / a_path, ``term`` the
    variable), or ``other`` (test statistics, decompositions, breakdown values).
    """

    kind: str
    region: str | None = None
    cohort: int | None = None
    time: int | None = None
    event: int | None = None
    path: str | None = None
    term: str | None = None
    raw: str = ""

    @property
    def is_effect(self) -> bool:
        """An average of the treatment effect over a set of treated unit-periods."""
        return self.kind in EFFECT_KINDS

    def name(self) -> str:
        """The estimand's name in ``estimates.csv``."""
        return {
            "att": lambda: "att",
            "region": lambda: f"att[{self.region}]",
            "cohort": lambda: f"att[cohort={self.cohort}]",
            "time": lambda: f"att[time={self.time}]",
            "cell": lambda: f"att[{self.cohort},{self.time}]",
            "event": lambda: f"event[{self.event}]",
            "path": lambda: f"{self.path}[{self.term}]",
        }.get(self.kind, lambda: self.raw)()


def parse(name: str) -> Estimand:
    """The :class:`Estimand` of an ``estimates.csv`` name (kind ``other`` when not an effect
    or a path coefficient)."""
    for kind, pattern in _PATTERNS:
        m = pattern.match(name)
        if m is None:
            continue
        g = m.groupdict()
        return Estimand(kind=kind, region=g.get("region"),
                        cohort=int(g["cohort"]) if g.get("cohort") else None,
                        time=int(g["time"]) if g.get("time") else None,
                        event=int(g["event"]) if g.get("event") else None,
                        path=g.get("path"), term=g.get("term"), raw=name)
    return Estimand(kind="other", raw=name)


def kinds(names) -> np.ndarray:
    """The kind of each name (an array, for selecting rows of a table)."""
    return np.array([parse(str(n)).kind for n in names], dtype=object)


def events(names) -> np.ndarray:
    """The event time of each name (NaN where it is not an event-time estimand)."""
    return np.array([np.nan if (e := parse(str(n))).event is None else e.event for n in names],
                    float)


_ORDER = {"att": 0, "region": 1, "cohort": 2, "time": 3, "event": 4, "cell": 5, "path": 6,
          "other": 7}


def sort_key(name: str) -> tuple:
    """Reading order of estimands: att, regions, cohorts, periods, event times, cells, ..."""
    e = parse(name)
    nums = tuple(v for v in (e.cohort, e.time, e.event) if v is not None)
    return (_ORDER[e.kind], nums, e.region or e.term or e.raw)


def estimand_cells(cells: pd.DataFrame, name: str, note: str = ""
                   ) -> tuple[np.ndarray | None, bool]:
    """(mask over treated cells, is_lead) of an estimand; (None, False) when it has no truth.
    ``note``: the estimate's note, which says whether an event-time endpoint is binned."""
    e = parse(name)
    if e.kind == "att":
        return np.ones(len(cells), bool), False
    if e.kind == "region":
        if "region" not in cells.columns:
            return None, False
        return (cells["region"].astype(str) == e.region).to_numpy(), False
    if e.kind == "cohort":
        return (cells["cohort"] == e.cohort).to_numpy(), False
    if e.kind == "time":
        return (cells["time"] == e.time).to_numpy(), False
    if e.kind == "cell":
        return ((cells["cohort"] == e.cohort) & (cells["time"] == e.time)).to_numpy(), False
    if e.kind == "event":
        ev = cells["event_time"].astype(float).to_numpy()
        m = _BIN.search(note or "")
        if m and int(m["k"]) == e.event:
            mask = ev >= e.event if m["op"] == ">=" else ev <= e.event
        else:
            mask = ev == e.event
        return mask, e.event < 0
    return None, False
