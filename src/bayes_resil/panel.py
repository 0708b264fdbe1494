"""The canonical analysis panel: column mapping, type checks and design validation.

Every downstream step sees the same columns: ``unit`` (str), ``time`` (int), ``cohort`` (first
treated period, nullable Int64, NA = never treated), ``d`` (1 in treated periods), ``y`` (the
outcome analysed), then every other column under its own name. Problems in the user's data raise
:class:`~bayes_resil.errors.InputError` saying which rows and columns, and what to do.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import InputError

CANONICAL = ("unit", "time", "cohort", "d", "y")
SHOW = 5  # how many offending rows an error message lists


def _rows(frame: pd.DataFrame, mask: np.ndarray | pd.Series, cols: list[str]) -> str:
    """First few offending rows as text, with their 1-based data row numbers."""
    sub = frame.loc[np.asarray(mask), cols].head(SHOW)
    lines = [f"  data row {int(i) + 1}: " + ", ".join(f"{c}={sub.at[i, c]!r}" for c in cols)
             for i in sub.index]
    return "\n".join(lines)


def to_numeric(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
    """Column as float; an error lists rows whose non-empty values are not numbers."""
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(float)
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype(float)
    text = raw.astype("string").str.strip()
    blank = text.isna() | (text == "")
    num = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = ~blank & num.isna()
    if bad.any():
        raise InputError(
            f"column {column!r} ({what}) must be numeric, but {int(bad.sum())} row(s) are not "
            f"numbers:\n{_rows(frame, bad, [column])}\nFix or blank those cells "
            "(blank cells count as missing)."
        )
    return num.astype(float)


def _period(value) -> pd.Period | None:
    try:
        return pd.Period(str(value).strip())
    except (ValueError, TypeError):
        return None


def _days(p: pd.Period) -> float:
    """Days from 1970-01-01 to the start of ``p``."""
    return float((p.start_time - pd.Timestamp(0)).days)


def date_codes(column: pd.Series) -> pd.Series | None:
    """Day numbers (days since 1970-01-01, of each period's start) when the column holds dates,
    months or quarters (``2001-03-15``, ``2001-03``, ``2001Q1``) rather than numbers; None
    when it is numeric or not all date-like."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return (column.dt.normalize() - pd.Timestamp(0)).dt.days.astype(float)
    if pd.api.types.is_numeric_dtype(column) or column.isna().any():
        return None
    values = column.astype(str).str.strip()
    if pd.to_numeric(values, errors="coerce").notna().all():
        return None
    uniques = {v: _period(v) for v in values.unique()}
    if any(p is None for p in uniques.values()):
        return None
    return values.map({v: _days(p) for v, p in uniques.items()})


def _cohort_days(frame: pd.DataFrame, name: str, never_treated: Iterable) -> pd.Series:
    """The cohort column in the same day numbers as a date-like time column (never-treated
    codes and empty cells stay empty); an error names cells that are not dates."""
    never = {str(v).strip() for v in never_treated}
    text = frame["cohort"].astype("string").str.strip()
    is_never = text.isna() | (text == "") | text.isin(never)
    out = pd.Series(np.nan, index=frame.index)
    for v in text[~is_never].unique():
        p = _period(v)
        if p is None:
            bad = ~is_never & (text == v)
            raise InputError(f"column {name!r} (cohort) must hold periods like the time column "
                             f"(dates, months or quarters), or a never-treated code "
                             f"{sorted(never)}:\n{_rows(frame, bad, ['unit', 'cohort'])}")
        out[~is_never & (text == v)] = _days(p)
    return out


def map_columns(raw: pd.DataFrame, columns: Mapping, never_treated: Iterable) -> pd.DataFrame:
    """Rename the user's columns to the canonical names and coerce types.

    ``columns`` holds ``unit``, ``time``, ``cohort`` (first treated period; values in
    ``never_treated`` or empty mean never treated), optional ``outcome``, ``region``,
    ``controls`` (list) and ``rename`` (mapping of other file columns to new names).
    """
    have = list(raw.columns)
    wanted = {k: columns.get(k) for k in ("unit", "time", "cohort", "outcome", "region")}
    for key in ("unit", "time", "cohort"):
        if not wanted[key]:
            raise InputError(f"data.columns.{key} is not set: name the file's {key} column")
    controls = list(columns.get("controls") or [])
    rename = dict(columns.get("rename") or {})
    needed = [(f"data.columns.{k}", v) for k, v in wanted.items() if v]
    needed += [("data.columns.controls", c) for c in controls]
    needed += [("data.columns.rename", c) for c in rename]
    for key, col in needed:
        if col not in raw.columns:
            raise InputError(
                f"{key} = {col!r}, but the file has no column {col!r}. Its columns are: "
                f"{have}"
            )
    frame = raw.rename(columns=rename).copy()
    canonical_from = {wanted["unit"]: "unit", wanted["time"]: "time", wanted["cohort"]: "cohort"}
    if wanted["outcome"]:
        canonical_from[wanted["outcome"]] = "y"
    if wanted["region"]:
        canonical_from[wanted["region"]] = "region"
    clash = [c for c in ("unit", "time", "cohort", "d", "y", "region")
             if c in frame.columns and c not in canonical_from and canonical_from.get(c) != c]
    if clash:
        raise InputError(
            f"the file has column(s) {clash} that are reserved canonical names but are not the "
            "mapped ones; rename them with data.columns.rename"
        )
    frame = frame.rename(columns=canonical_from)
    if frame["unit"].isna().any():
        raise InputError(f"column {wanted['unit']!r} (unit) has {int(frame['unit'].isna().sum())}"
                         f" empty cell(s):\n{_rows(frame, frame['unit'].isna(), ['unit'])}")
    frame["unit"] = frame["unit"].astype(str).str.strip()
    dated = date_codes(frame["time"])
    if dated is not None:  # dates / months / quarters: day numbers, renumbered later
        frame["time_label"] = frame["time"].astype(str).str.strip()
        frame["time"], frame["cohort"] = dated, _cohort_days(frame, wanted["cohort"],
                                                             never_treated)
    time = to_numeric(frame, "time", f"time, from {wanted['time']!r}")
    if time.isna().any():
        raise InputError(f"column {wanted['time']!r} (time) has empty cells:\n"
                         f"{_rows(frame, time.isna(), ['unit', 'time'])}")
    if (time != np.round(time)).any():
        raise InputError(f"column {wanted['time']!r} (time) must hold whole periods (e.g. years)"
                         f":\n{_rows(frame, time != np.round(time), ['unit', 'time'])}")
    frame["time"] = time.astype(np.int64)
    never = {str(v).strip() for v in never_treated}
    text = frame["cohort"].astype("string").str.strip()
    is_never = text.isna() | (text == "") | text.isin(never)
    frame["cohort"] = frame["cohort"].where(~is_never)
    cohort = to_numeric(frame, "cohort", f"first treated period, from {wanted['cohort']!r}; "
                        f"never-treated codes {sorted(never)}")
    frame["cohort"] = pd.array(cohort.round(), dtype="Int64")
    if "y" in frame.columns:
        frame["y"] = to_numeric(frame, "y", f"outcome, from {wanted['outcome']!r}")
    for c in controls:
        frame[c] = to_numeric(frame, c, "control")
    return frame


#: values of ``data.periods``
PERIOD_MODES = ("auto", "as_is")


def renumber_periods(frame: pd.DataFrame, mode: str = "auto") -> list[str]:
    """Count periods, not time units, when the time codes are not consecutive whole numbers
    (every other year, 2001 / 2003 / ...; yyyymm codes; irregular waves; dates, months or
    quarters, always): with ``mode=auto``
    the periods are renumbered 1..T in time order (``time``; the original codes stay in
    ``time_code``) and each cohort becomes the first observed period at or after its first
    treated one, so event time ``-1`` is the last observed untreated period, as
    R ``did`` asks its users to recode (bcallaway11/did#75). ``as_is`` keeps the codes (event
    times in time units; an event study then has no ``-1`` on a two-year grid). Modifies
    ``frame`` in place; returns a note when it renumbered."""
    if mode not in PERIOD_MODES:
        raise InputError(f"data.periods={mode!r}: use one of {list(PERIOD_MODES)}")
    periods = np.sort(frame["time"].unique())
    dated = "time_label" in frame.columns  # day numbers of dates: always renumbered
    if not dated and (mode == "as_is" or periods.size < 2 or (np.diff(periods) == 1).all()):
        return []
    rank = {int(t): i + 1 for i, t in enumerate(periods)}
    if dated:  # their text is the code shown
        labels = frame.drop_duplicates("time").set_index("time")["time_label"]
        frame["time_code"] = frame.pop("time_label")
        periods_shown = [labels[t] for t in periods]
    else:
        frame["time_code"] = frame["time"]
        periods_shown = [int(t) for t in periods]
    frame["time"] = frame["time"].map(rank).astype(np.int64)
    cohort = frame["cohort"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    pos = np.searchsorted(periods, np.where(np.isnan(cohort), periods[-1], cohort))
    moved = ~np.isnan(cohort) & ~np.isin(cohort, periods)
    frame["cohort"] = pd.array(np.where(np.isnan(cohort), pd.NA, pos + 1), dtype="Int64")
    shown = ", ".join(f"{t}->{i + 1}" for i, t in enumerate(periods_shown[:4]))
    what = "time codes are dates" if dated else "time codes are not consecutive"
    note = (f"{what} ({', '.join(str(t) for t in periods_shown[:4])}"
            f"{', ...' if periods.size > 4 else ''}): periods renumbered 1..{periods.size} in "
            f"time order ({shown}{', ...' if periods.size > 4 else ''}; original codes in "
            "column time_code), event times count periods"
            + ("" if dated else " (data.periods=as_is keeps the codes)"))
    if moved.any():
        note += (f"; {int(frame.loc[moved, 'unit'].nunique())} unit(s) first treated between "
                 "two observed periods count as treated from the next observed one")
    return [note]


def add_treatment(frame: pd.DataFrame) -> pd.DataFrame:
    """``d`` = 1 from the unit's first treated period on; also ``event_time``."""
    cohort = frame["cohort"]
    treated = cohort.notna() & (frame["time"] >= cohort.fillna(np.iinfo(np.int64).max))
    frame["d"] = treated.astype(int).to_numpy()
    frame["event_time"] = (frame["time"] - cohort).astype("Int64")
    return frame


def validate_design(frame: pd.DataFrame) -> list[str]:
    """Check the panel's design; raise on fatal problems, return notes on benign ones."""
    notes: list[str] = []
    periods = np.sort(frame["time"].unique())
    if periods.size < 2:
        raise InputError(
            f"the panel has {periods.size} period(s) ({periods.tolist()}); a difference-in-"
            "differences needs at least two"
        )
    dup = frame.duplicated(["unit", "time"], keep=False)
    if dup.any():
        n_pairs = int(frame.loc[dup].drop_duplicates(["unit", "time"]).shape[0])
        raise InputError(
            f"{int(dup.sum())} rows share a (unit, time) pair with another row ({n_pairs} "
            f"duplicated pair(s)); each unit must appear once per period. First ones:\n"
            f"{_rows(frame, dup, ['unit', 'time'])}\nAggregate or drop the duplicates."
        )
    per_unit = frame.groupby("unit")["cohort"].nunique(dropna=False)
    changing = per_unit[per_unit > 1]
    if len(changing):
        ex = changing.index[:SHOW].tolist()
        values = frame["cohort"].astype("string").fillna("<never>")
        detail = "\n".join(
            f"  unit {u!r}: cohort values {sorted(values[frame['unit'] == u].unique())}"
            for u in ex
        )
        raise InputError(
            f"the cohort (first treated period) changes within {len(changing)} unit(s); it must "
            f"be one value per unit (treatment is absorbing: no reversal):\n{detail}"
        )
    first, last = int(periods[0]), int(periods[-1])
    cohorts = frame.drop_duplicates("unit").set_index("unit")["cohort"]
    early = cohorts[cohorts.notna() & (cohorts < first)]
    if len(early):
        raise InputError(
            f"{len(early)} unit(s) are first treated before the panel starts in {first} (e.g. "
            f"{dict(early.head(SHOW).astype(int))}); their untreated periods are unobserved. "
            "Drop them, or extend the panel back in time."
        )
    late = cohorts[cohorts.notna() & (cohorts > last)]
    if len(late):
        notes.append(
            f"{len(late)} unit(s) are first treated after the panel ends ({last}); they are "
            "never treated within it and serve as controls."
        )
        frame.loc[frame["unit"].isin(late.index), "cohort"] = pd.NA
    cohorts = frame.drop_duplicates("unit").set_index("unit")["cohort"]
    always = cohorts[cohorts.notna() & (cohorts == first)]
    if len(always):
        # as R did's att_gt: no untreated period, so no effect of theirs can be identified,
        # and as controls they are the forbidden comparisons of a two-way regression
        notes.append(
            f"{len(always)} unit(s) treated from the first period ({first}) are excluded from "
            "every estimate (no untreated period: nothing identifies their effect), as R did "
            f"does; e.g. {always.index[:SHOW].tolist()}"
        )
        frame.drop(index=frame.index[frame["unit"].isin(always.index)], inplace=True)
        cohorts = cohorts.drop(always.index)
    n_treated = int(cohorts.notna().sum())
    n_never = int(cohorts.isna().sum())
    if n_treated == 0:
        raise InputError("no unit is ever treated within the panel: nothing to estimate")
    distinct = sorted(int(c) for c in cohorts.dropna().unique())
    if n_never == 0 and len(distinct) < 2:
        raise InputError(
            f"every unit is treated in {distinct[0]}: there are no never-treated or not-yet-"
            "treated comparison units, so the treatment effect is not identified"
        )
    if n_never == 0:
        notes.append(
            "no never-treated units: comparisons rest on not-yet-treated units only, and the "
            f"last cohort ({distinct[-1]}) has none after it."
        )
    return notes


#: columns whose empty cells mean "never treated", not missing data
STRUCTURAL_NA = ("cohort", "event_time", "batch")


def missing_report(frame: pd.DataFrame) -> pd.Series:
    """Missing values per column (columns with none, and never-treated markers, left out)."""
    counts = frame.drop(columns=[c for c in STRUCTURAL_NA if c in frame.columns]).isna().sum()
    return counts[counts > 0].astype(int)


def order_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical columns first, then every other column in its existing order."""
    first = [c for c in CANONICAL if c in frame.columns]
    rest = [c for c in frame.columns if c not in first]
    out = frame[first + rest].sort_values(["unit", "time"], kind="stable")
    return out.reset_index(drop=True)


def warn_notes(notes: list[str]) -> None:
    for note in notes:
        warnings.warn(note, stacklevel=2)
