"""The index's curvature from its indicators (``model.impute_on``): the robust design's offset
of ``y(0)`` (:mod:`bayes_resil.bayes.index_curvature`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_resil.app import compose
from bayes_resil.bayes.data import model_data
from bayes_resil.bayes.fit import prepare
from bayes_resil.bayes.grid import city_grid
from bayes_resil.bayes.index_curvature import curvature_offset, level_trend_year_fit
from bayes_resil.bayes.within_city import city_trend
from bayes_resil.errors import InputError
from bayes_resil.study import load_frame, load_study


def test_level_trend_year_fit_equals_dense_least_squares():
    """The concentrated solve against numpy's least squares on the explicit design (unit
    levels, unit trends, year effects on a basis free of a constant and a linear trend), three
    columns at once, cells missing at random and a unit with one fitted period (a level only:
    its trend column left out of the design)."""
    rng = np.random.default_rng(11)
    n_u, n_t, k = 9, 7, 3
    fit = rng.random((n_u, n_t)) > 0.35
    fit[0] = False
    fit[0, 3] = True
    fit[1] = True  # every year is fitted somewhere
    values = rng.normal(size=(n_u, n_t, k))
    got = level_trend_year_fit(np.where(fit[..., None], values, np.nan), fit)
    h = city_trend(n_t)
    u, t = np.meshgrid(np.arange(n_u), np.arange(n_t), indexing="ij")
    u, t = u.ravel(), t.ravel()
    basis = np.linalg.svd(np.stack([np.ones(n_t), h]), full_matrices=True)[2][2:].T
    x = np.zeros((n_u * n_t, 2 * n_u + n_t - 2))
    x[np.arange(len(u)), u] = 1.0
    x[np.arange(len(u)), n_u + u] = h[t] * (fit.sum(axis=1)[u] >= 2)
    x[:, 2 * n_u:] = basis[t]
    f = fit.ravel()
    coef, *_ = np.linalg.lstsq(x[f], values.reshape(-1, k)[f], rcond=None)
    want = (x @ coef).reshape(n_u, n_t, k)
    np.testing.assert_allclose(got, want, atol=1e-10)
    np.testing.assert_allclose(level_trend_year_fit(values[..., 0], fit), want[..., 0],
                               atol=1e-10)



def test_level_trend_year_fit_solves_the_normal_equations_on_a_simulated_panel():
    """A real-sized grid (seed 1008 of the simulator, whose year system a pseudo-inverse
    solved wrongly: normal equations off by 0.01): the fitted values equal numpy's least
    squares on the explicit design (unit dummies, unit trends, year dummies but the first)."""
    cfg = compose(["data.simulation.seed=1008", "data.simulation.effect_scale=0"])
    md = model_data(load_study(cfg.data, cfg.index), [])
    g = city_grid(md)
    got = level_trend_year_fit(g.y, g.untreated)[md.unit, md.time]
    n_u, n_t = g.shape
    x = np.zeros((md.n, 2 * n_u + n_t - 1))
    x[np.arange(md.n), md.unit] = 1.0
    x[np.arange(md.n), n_u + md.unit] = md.time
    later = np.flatnonzero(md.time > 0)
    x[later, 2 * n_u + md.time[later] - 1] = 1.0
    fit = g.untreated[md.unit, md.time]
    coef, *_ = np.linalg.lstsq(x[fit], md.y[fit], rcond=None)
    np.testing.assert_allclose(got, x @ coef, atol=1e-10)

def _log_linear_panel(seed: int = 3, n_units: int = 40, n_years: int = 9):
    """Indicators whose logs are exactly a city level + a city trend + year effects (no
    noise); the treated cities' later years get an effect on two indicators (``a0, b0, c0``:
    the untreated indicators)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2010 + n_years)
    cohort = np.where(np.arange(n_units) < 16, rng.choice([2014, 2016], n_units), np.nan)
    rows = []
    for i in range(n_units):
        level = rng.normal(0, 1.0, 3)
        trend = rng.normal(0.08, 0.06, 3) * np.array([1.0, 2.0, 0.5])
        for y in years:
            logs = level + trend * (y - 2010) + 0.1 * (y == 2015)
            x0 = np.exp(logs)
            tau = 0.3 * (cohort[i] == cohort[i] and y >= cohort[i])
            x1 = x0 * np.exp(tau * np.array([1.0, 0.5, 0.0]))
            rows.append({"city": f"c{i}", "year": y, "first": cohort[i], "a": x1[0],
                         "b": x1[1], "c": x1[2], "a0": x0[0], "b0": x0[1], "c0": x0[2]})
    return pd.DataFrame(rows)


def _study(frame: pd.DataFrame, outcome: bool = False):
    cols = {"unit": "city", "time": "year", "cohort": "first"}
    if outcome:
        cols["outcome"] = "outcome"
    index = {"indicators": [{"name": n, "direction": "positive"} for n in "abc"]}
    return load_frame(frame, {"columns": cols, "never_treated": [0]}, index, "test")


def test_offset_recovers_the_untreated_index_of_log_linear_indicators():
    """Closed form: with indicators exactly log-linear in a city level, a city trend and year
    effects, the indicators' fit predicts the treated cells' untreated indicators exactly, so
    the offset's imputation ``c + P(y - c)`` is the true untreated index (to 1e-10), while the
    same least squares on the index itself misses it (the index bends)."""
    data = _study(_log_linear_panel())
    md = model_data(data, [])
    g = city_grid(md)
    c = curvature_offset(g, md.frame, md.index)
    y0 = np.zeros(g.shape)
    untreated = md.frame[["a0", "b0", "c0"]].set_axis(["a", "b", "c"], axis=1)
    y0[md.unit, md.time] = data.index_fit.score(untreated).to_numpy()
    treated = g.effect
    imputed = c + level_trend_year_fit(g.y - c, g.untreated)
    np.testing.assert_allclose(imputed[treated], y0[treated], atol=1e-10)
    linear = level_trend_year_fit(g.y, g.untreated)
    assert np.abs(linear[treated] - y0[treated]).max() > 1e-3
    # orthogonal to the design on the fitted cells: its own fit there is zero
    np.testing.assert_allclose(level_trend_year_fit(c, g.untreated)[g.untreated], 0,
                               atol=1e-12)


def test_the_model_fits_the_outcome_minus_the_offset(study):
    """Built, not sampled: on the simulated panel (an index the package built) the observed
    variable is ``y - c`` by default and ``y`` with ``model.impute_on=outcome``."""
    cfg = compose(["model=hetero_region"])
    _, _, built = prepare(study, cfg)
    md, rows = built.md, built.observed_rows
    y = md.y[rows]
    offset = curvature_offset(city_grid(md), md.frame, study.index_fit)[md.unit[rows],
                                                                       md.time[rows]]
    assert np.abs(offset).max() > 1e-4
    np.testing.assert_allclose(built.model["y_observed"].get_value(), y - offset, atol=1e-14)
    assert any("curvature" in n for n in built.notes)
    _, _, plain = prepare(study, compose(["model=hetero_region", "model.impute_on=outcome"]))
    assert not any("curvature" in n for n in plain.notes)
    np.testing.assert_array_equal(plain.model["y_observed"].get_value(), y)


def test_impute_on_indicators_refuses_what_it_cannot_do():
    """An outcome that came with the data has no indicators to impute on; the twfe design
    regresses the outcome itself. ``auto`` quietly uses the outcome for the first."""
    frame = _log_linear_panel(n_units=24, n_years=7)
    frame["outcome"] = np.log(frame["a"])
    data = _study(frame, outcome=True)
    with pytest.raises(InputError, match="impute_on=indicators"):
        prepare(data, compose(["model=twfe", "model.controls=false",
                               "model.impute_on=indicators"]))
    _, _, built = prepare(data, compose(["model=twfe", "model.controls=false"]))
    assert not any("curvature" in n for n in built.notes)
    np.testing.assert_array_equal(built.model["y_observed"].get_value(),
                                  built.md.y[built.observed_rows])
    with pytest.raises(InputError, match="design=twfe"):
        prepare(_study(_log_linear_panel(n_units=24, n_years=7)),
                compose(["model=twfe", "model.controls=false", "model.design=twfe",
                         "model.impute_on=indicators"]))
