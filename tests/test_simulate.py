"""The simulated panel: real design facts, determinism, potential-outcome truth, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_resil.design import study_design
from bayes_resil.ols import fe_ols
from bayes_resil.simulate import INDICATORS, SimulationSpec, simulate_panel


def test_design_matches_the_paper_and_shared_data():
    d = study_design("paper283")
    # paper: 283 cities, 99 treated, 184 controls (STUDY.md); batch sizes from
    # shared/data/cbec_pilot_zones.csv (dijishi zones of batches 1-5): 1, 12, 21, 22, 43
    assert len(d) == 283 and d["cohort"].notna().sum() == 99
    counts = d["cohort"].value_counts().sort_index().to_dict()
    assert counts == {2015: 1, 2016: 12, 2018: 21, 2019: 22, 2020: 43}
    assert d.loc[d["cohort"] == 2015, "unit"].tolist() == ["Hangzhou"]
    assert set(d["region"]) == {"East", "Central", "West"}
    assert len(study_design("all286")) == 286


def test_same_seed_same_panel_bit_for_bit_and_other_seed_differs():
    a = simulate_panel(SimulationSpec(seed=11)).panel
    b = simulate_panel(SimulationSpec(seed=11)).panel
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = simulate_panel(SimulationSpec(seed=12)).panel
    assert not np.allclose(a["patents_granted"], c["patents_granted"])


def test_untreated_rows_have_identical_potential_outcomes():
    sim = simulate_panel()
    untreated = sim.panel["d"] == 0
    for name in INDICATORS:
        np.testing.assert_array_equal(
            sim.panel.loc[untreated, name].to_numpy(), sim.untreated.loc[untreated, name])
    # treatment moves at least the indicators it loads on, in the good direction
    treated = sim.panel["d"] == 1
    pat = sim.panel.loc[treated, "patents_granted"] / sim.untreated.loc[treated,
                                                                         "patents_granted"]
    assert (pat > 1).all()
    un = sim.panel.loc[treated, "registered_unemployed"] - sim.untreated.loc[
        treated, "registered_unemployed"]
    assert (un < 0).all()


def test_truth_equals_index_of_the_two_potential_outcomes(study):
    """Recompute y(untreated) from the untreated indicators with the fixed weights table."""
    sim = simulate_panel()
    w = study.weights.set_index("indicator")
    names = list(w.index)
    lo, hi = w["min"].to_numpy(), w["max"].to_numpy()
    sign = np.where(w["direction"] == "positive", 1.0, -1.0)
    weights = w["weight"].to_numpy()

    def z_of(x):
        return np.where(sign > 0, (x - lo) / (hi - lo), (hi - x) / (hi - lo))

    obs = study.panel.set_index(["unit", "time"])
    x_obs = obs[names].dropna().to_numpy()
    v_obs = z_of(x_obs) * weights
    best, worst = v_obs.max(axis=0), v_obs.min(axis=0)
    cells = study.truth_cells.dropna(subset=["tau"])
    x0 = sim.untreated.set_index(["unit", "time"]).loc[
        list(zip(cells["unit"], cells["time"], strict=True)), names].to_numpy()
    v0 = z_of(x0) * weights
    dp = np.sqrt(((v0 - best) ** 2).sum(1))
    dm = np.sqrt(((v0 - worst) ** 2).sum(1))
    np.testing.assert_allclose(cells["y_untreated"], dm / (dp + dm), rtol=1e-12)
    y_obs = obs.loc[list(zip(cells["unit"], cells["time"], strict=True)), "y"].to_numpy()
    np.testing.assert_allclose(cells["y_observed"], y_obs, rtol=0, atol=0)
    np.testing.assert_allclose(cells["tau"], y_obs - dm / (dp + dm), atol=1e-14)
    assert len(study.truth_cells) == int(study.panel["d"].sum())


def test_truth_aggregates_are_means_of_the_cells(study):
    cells = study.truth_cells.dropna(subset=["tau"])
    t = study.truth.query("outcome == 'y'").set_index("estimand")
    assert t.loc["att", "true_effect"] == pytest.approx(cells["tau"].mean(), rel=1e-12)
    assert t.loc["att", "n_cells"] == len(cells)
    for region, g in cells.groupby("region"):
        assert t.loc[f"att[{region}]", "true_effect"] == pytest.approx(g["tau"].mean())
    for k, g in cells.groupby("cohort"):
        assert t.loc[f"att[cohort={k}]", "true_effect"] == pytest.approx(g["tau"].mean())
    for e, g in cells.groupby("event_time"):
        assert t.loc[f"event[{e}]", "true_effect"] == pytest.approx(g["tau"].mean())
    g = cells[(cells["cohort"] == 2016) & (cells["time"] == 2018)]
    assert t.loc["att[2016,2018]", "true_effect"] == pytest.approx(g["tau"].mean())
    # mediators' true effects are reported too
    assert {"ln_patents", "ln_it_employees", "ln_employment", "sci_tech_level"} <= set(
        study.truth["outcome"])


def test_effects_differ_by_batch_and_region_and_grow_with_exposure(study):
    t = study.truth.query("outcome == 'y'").set_index("estimand")["true_effect"]
    assert t["att[East]"] > t["att[West]"] > t["att[Central]"] > 0
    assert t["att[cohort=2016]"] > t["att[cohort=2018]"] > t["att[cohort=2020]"] > 0
    ev = [t[f"event[{e}]"] for e in range(0, 8)]
    assert all(b > a for a, b in zip(ev, ev[1:], strict=False))


def test_calibrated_to_look_like_the_paper(study):
    """Targets from published_tables.yaml: mean Resil ~0.08, Table 2 col 1 0.0355 (0.0049),
    R2 0.9158 with n 3677, col 2 n 3032; Table 1's heaviest weights."""
    p = study.panel
    assert 0.06 < p["y"].mean() < 0.10
    res = fe_ols(p, "y", ["d"], ["unit", "time"])
    coef, se = res["d"]
    assert 0.02 < coef < 0.055 and 0.003 < se < 0.009
    assert res.r2 > 0.85
    assert res.n_obs == 3677
    complete = p[["y", *study.controls]].dropna().shape[0]
    assert abs(complete - 3032) < 60
    top4 = set(study.weights.nlargest(4, "weight")["indicator"])
    assert {"education_expenditure", "patents_granted", "registered_unemployed"} <= top4
    # parallel trends hold for the untreated outcome (TWFE of y(untreated) on d is ~0)
    cells = study.truth_cells.set_index(["unit", "time"])["y_untreated"]
    y0 = p.set_index(["unit", "time"])["y"].copy()
    y0.loc[cells.index] = cells
    res0 = fe_ols(p.assign(y0=y0.to_numpy()), "y0", ["d"], ["unit", "time"])
    assert abs(res0["d"][0]) < 0.1 * coef
