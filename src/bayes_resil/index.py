"""Entropy-weight TOPSIS composite index (the paper's economic-resilience index ``Resil``).

Formulas (STUDY.md; the paper prints them garbled in places):

* min-max standardisation per indicator *j* over the pooled panel:
  positive ``z = (x - min) / (max - min)``, negative ``z = (max - x) / (max - min)``;
* entropy weights: ``p_ij = z_ij / sum_i z_ij``, ``e_j = -k sum_i p_ij ln p_ij`` with
  ``k = 1 / ln n`` and ``0 ln 0 = 0``; ``w_j = (1 - e_j) / sum_j (1 - e_j)``;
* TOPSIS on the weighted values ``v_ij = w_j z_ij``: distances to the best (column maximum)
  and worst (column minimum) weighted values, ``C_i = D-_i / (D+_i + D-_i)`` in [0, 1].

The numerical core (:func:`standardise`, :func:`entropy_weights`, :func:`topsis`) is plain NumPy.
:func:`fit_index` wraps it for a DataFrame and returns an :class:`IndexFit` that can score other
indicator values with the *same* bounds, weights and ideal points (used for counterfactuals).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .errors import InputError

Direction = Literal["positive", "negative"]


def standardise(
    x: np.ndarray, directions: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Min-max standardise columns of ``x`` with given bounds; constant columns become 0.

    Parameters
    ----------
    x : (n, m) array of raw indicator values.
    directions : (m,) array of +1 (positive indicator) or -1 (negative indicator).
    lo, hi : (m,) column minima and maxima (usually of the pooled panel).
    """
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    z_pos = (x - lo) / safe
    z_neg = (hi - x) / safe
    z = np.where(directions > 0, z_pos, z_neg)
    return np.where(span > 0, z, 0.0)


def entropy_weights(z: np.ndarray) -> np.ndarray:
    """Entropy weights of the columns of a standardised matrix ``z`` (n rows, m columns).

    A column whose sum is zero (a constant indicator) carries no information: it gets weight 0.
    ``0 * ln 0`` is taken as 0. Returns weights summing to 1 (all zero only if every column is
    constant).
    """
    n = z.shape[0]
    if n < 2:
        raise ValueError("entropy weights need at least two rows")
    col = z.sum(axis=0)
    informative = col > 0
    p = np.divide(z, col, out=np.zeros_like(z, dtype=float), where=informative)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    d = np.where(informative, 1.0 - e, 0.0)
    total = d.sum()
    return d / total if total > 0 else d


def topsis(z: np.ndarray, w: np.ndarray, best: np.ndarray, worst: np.ndarray) -> np.ndarray:
    """TOPSIS closeness ``D- / (D+ + D-)`` of rows of ``z`` given weights and ideal points.

    ``best`` and ``worst`` are the ideal points in *weighted* units (``w * z`` space).
    Rows equidistant from both at zero distance (all indicators constant) score 0.
    """
    v = z * w
    d_plus = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - worst) ** 2).sum(axis=1))
    denom = d_plus + d_minus
    return np.divide(d_minus, denom, out=np.zeros_like(denom), where=denom > 0)


@dataclass(frozen=True)
class Indicator:
    """One indicator of the index: column name, dimension, direction and display label."""

    name: str
    dimension: str
    direction: Direction
    label: str = ""


@dataclass(frozen=True)
class IndexFit:
    """A fitted entropy-TOPSIS index: bounds, weights and ideal points, reusable for scoring."""

    indicators: tuple[Indicator, ...]
    lo: np.ndarray
    hi: np.ndarray
    weights: np.ndarray
    best: np.ndarray
    worst: np.ndarray
    n_rows: int

    @property
    def names(self) -> list[str]:
        return [ind.name for ind in self.indicators]

    @property
    def directions(self) -> np.ndarray:
        return np.array([1.0 if ind.direction == "positive" else -1.0 for ind in self.indicators])

    def score(self, frame: pd.DataFrame) -> pd.Series:
        """Index of each row of ``frame`` with this fit's bounds, weights and ideal points.

        Rows with any missing indicator get NaN.
        """
        x = frame[self.names].to_numpy(dtype=float)
        ok = ~np.isnan(x).any(axis=1)
        out = np.full(len(frame), np.nan)
        z = standardise(x[ok], self.directions, self.lo, self.hi)
        out[ok] = topsis(z, self.weights, self.best, self.worst)
        return pd.Series(out, index=frame.index, name="index")

    def weights_table(self, published: dict[str, float] | None = None) -> pd.DataFrame:
        """Tidy table: indicator, dimension, direction, weight (and published weight if given)."""
        table = pd.DataFrame(
            {
                "indicator": self.names,
                "label": [ind.label for ind in self.indicators],
                "dimension": [ind.dimension for ind in self.indicators],
                "direction": [ind.direction for ind in self.indicators],
                "weight": self.weights,
                "min": self.lo,
                "max": self.hi,
            }
        )
        if published is not None:
            table["published_weight"] = [published.get(n, np.nan) for n in self.names]
        table["rank"] = table["weight"].rank(ascending=False, method="min").astype(int)
        return table


def parse_indicators(spec: list[dict]) -> tuple[Indicator, ...]:
    """Indicators from config entries ``{name, dimension, direction, label}``; validates them."""
    out = []
    for k, item in enumerate(spec):
        direction = str(item.get("direction", "")).lower()
        if direction not in ("positive", "negative"):
            raise InputError(
                f"index indicator #{k + 1} ({item.get('name')!r}) has direction "
                f"{item.get('direction')!r}; use 'positive' or 'negative'."
            )
        out.append(
            Indicator(
                name=str(item["name"]),
                dimension=str(item.get("dimension", "")),
                direction=direction,  # type: ignore[arg-type]
                label=str(item.get("label", "")),
            )
        )
    names = [i.name for i in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"index indicators listed twice: {dup}")
    return tuple(out)


def fit_index(frame: pd.DataFrame, indicators: tuple[Indicator, ...]) -> IndexFit:
    """Fit bounds and entropy weights on the rows of ``frame`` with every indicator observed.

    Rows with a missing indicator are left out of the fit (and scored NaN); an indicator that
    is constant over those rows gets weight 0 with a warning.
    """
    names = [i.name for i in indicators]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InputError(
            f"index indicator column(s) {missing} not in the panel; the panel has "
            f"{sorted(map(str, frame.columns))}. Map them in config (index.indicators) or give "
            "the outcome directly (data.columns.outcome)."
        )
    x = frame[names].to_numpy(dtype=float)
    ok = ~np.isnan(x).any(axis=1)
    if ok.sum() < 2:
        raise InputError("fewer than two rows have every index indicator observed")
    xs = x[ok]
    lo, hi = xs.min(axis=0), xs.max(axis=0)
    constant = [n for n, a, b in zip(names, lo, hi, strict=True) if not b > a]
    if constant:
        warnings.warn(
            f"index indicator(s) {constant} are constant over the panel: weight 0",
            stacklevel=2,
        )
    directions = np.array([1.0 if i.direction == "positive" else -1.0 for i in indicators])
    z = standardise(xs, directions, lo, hi)
    w = entropy_weights(z)
    v = z * w
    return IndexFit(
        indicators=indicators,
        lo=lo,
        hi=hi,
        weights=w,
        best=v.max(axis=0),
        worst=v.min(axis=0),
        n_rows=int(ok.sum()),
    )
