"""Entropy-weight TOPSIS against a hand-computed example and an independent re-implementation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_resil.errors import InputError
from bayes_resil.index import Indicator, entropy_weights, fit_index, parse_indicators


def reference_entropy_topsis(x: pd.DataFrame, directions: dict[str, str]):
    """Independent re-implementation: plain Python loops over the textbook formulas."""
    n = len(x)
    cols = list(x.columns)
    z = {}
    for c in cols:
        lo, hi = min(x[c]), max(x[c])
        if directions[c] == "positive":
            z[c] = [(v - lo) / (hi - lo) for v in x[c]]
        else:
            z[c] = [(hi - v) / (hi - lo) for v in x[c]]
    d = {}
    for c in cols:
        s = sum(z[c])
        e = 0.0
        for v in z[c]:
            p = v / s
            if p > 0:
                e -= p * math.log(p)
        d[c] = 1 - e / math.log(n)
    w = {c: d[c] / sum(d.values()) for c in cols}
    best = {c: max(w[c] * v for v in z[c]) for c in cols}
    worst = {c: min(w[c] * v for v in z[c]) for c in cols}
    closeness = []
    for i in range(n):
        dp = math.sqrt(sum((w[c] * z[c][i] - best[c]) ** 2 for c in cols))
        dm = math.sqrt(sum((w[c] * z[c][i] - worst[c]) ** 2 for c in cols))
        closeness.append(dm / (dp + dm))
    return w, closeness


def test_hand_computed_three_by_two():
    # x1 positive [1, 2, 3] -> z = [0, .5, 1]; x2 negative [10, 30, 20] -> z = [1, 0, .5]
    # both columns: p = {0, 1/3, 2/3}, the same entropy, so equal weights 1/2
    x = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "x2": [10.0, 30.0, 20.0]})
    inds = (Indicator("x1", "a", "positive"), Indicator("x2", "a", "negative"))
    fit = fit_index(x, inds)
    np.testing.assert_allclose(fit.weights, [0.5, 0.5], atol=1e-15)
    # weighted z: row0 (0, .5), row1 (.25, 0), row2 (.5, .25); best (.5, .5), worst (0, 0)
    dp = np.array([math.hypot(0.5, 0.0), math.hypot(0.25, 0.5), math.hypot(0.0, 0.25)])
    dm = np.array([math.hypot(0.0, 0.5), math.hypot(0.25, 0.0), math.hypot(0.5, 0.25)])
    np.testing.assert_allclose(fit.score(x).to_numpy(), dm / (dp + dm), atol=1e-15)


def test_matches_independent_reimplementation_on_default_panel(study, default_cfg):
    inds = parse_indicators(list(default_cfg.index.indicators))
    names = [i.name for i in inds]
    x = study.panel[names].dropna()
    w_ref, c_ref = reference_entropy_topsis(x, {i.name: i.direction for i in inds})
    fit = study.index_fit
    np.testing.assert_allclose(fit.weights, [w_ref[n] for n in names], rtol=1e-10)
    np.testing.assert_allclose(study.panel.loc[x.index, "y"], c_ref, rtol=1e-10)
    assert study.panel["y"].dropna().between(0, 1).all()


def test_constant_indicator_gets_zero_weight_with_warning():
    x = pd.DataFrame({"a": [1.0, 2.0, 4.0, 8.0], "b": [5.0] * 4})
    inds = (Indicator("a", "d", "positive"), Indicator("b", "d", "positive"))
    with pytest.warns(UserWarning, match="constant"):
        fit = fit_index(x, inds)
    assert fit.weights.tolist() == [1.0, 0.0]
    assert np.isfinite(fit.score(x)).all()


def test_zeros_in_p_log_p_are_zero():
    z = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    # column 0: p = (0, 0, 1) -> e = 0 -> d = 1; column 1 uniform -> e = 1 -> d = 0
    np.testing.assert_allclose(entropy_weights(z), [1.0, 0.0], atol=1e-15)


def test_missing_indicator_rows_are_scored_nan_and_left_out_of_the_fit():
    x = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "b": [3.0, 1.0, 2.0, 0.0]})
    inds = (Indicator("a", "d", "positive"), Indicator("b", "d", "negative"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_index(x, inds)
    assert fit.n_rows == 3
    assert fit.lo.tolist() == [1.0, 0.0] and fit.hi.tolist() == [4.0, 3.0]
    s = fit.score(x)
    assert np.isnan(s.iloc[2]) and s.drop(index=2).notna().all()
    w_ref, c_ref = reference_entropy_topsis(x.dropna(), {"a": "positive", "b": "negative"})
    np.testing.assert_allclose(s.dropna().to_numpy(), c_ref, rtol=1e-12)


def test_bad_direction_and_missing_columns_are_input_errors():
    with pytest.raises(InputError, match="direction"):
        parse_indicators([{"name": "a", "direction": "up"}])
    with pytest.raises(InputError, match="not in the panel"):
        fit_index(pd.DataFrame({"a": [1.0, 2.0]}), (Indicator("zz", "d", "positive"),))


def test_weights_table_has_published_column_for_the_study(study):
    w = study.weights
    assert list(w.columns[:5]) == ["indicator", "label", "dimension", "direction", "weight"]
    # published Table 1 weights (published_tables.yaml, typed from the paper)
    assert w.set_index("indicator").loc["education_expenditure", "published_weight"] == 0.2357
    assert w["weight"].sum() == pytest.approx(1.0, abs=1e-12)
