"""TWFE decompositions under staggered adoption: Goodman-Bacon reproduces the TWFE
coefficient; the de Chaisemartin-D'Haultfoeuille weights reproduce it from cell effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from bayes_resil.freq.decomposition import (
    bacon_decomposition,
    balanced_sample,
    decomposition,
    twfe_cell_weights,
)
from conftest import make_user_panel


def test_bacon_weighted_sum_is_the_twfe_coefficient_on_the_default_panel(study):
    sample, notes = balanced_sample(study.panel)
    bacon = bacon_decomposition(sample)
    ref = pf.feols("y ~ d | unit + time", data=sample, vcov="iid")
    assert (bacon["weight"] * bacon["estimate"]).sum() == pytest.approx(
        float(ref.coef()["d"]), abs=1e-10)
    assert bacon["weight"].sum() == pytest.approx(1.0, abs=1e-10)
    assert (bacon["weight"] > 0).all()
    assert set(bacon["type"]) == {"treated vs never", "earlier vs later", "later vs earlier"}
    # 5 cohorts: 5 vs never, 10 pairs x 2 directions
    assert len(bacon) == 5 + 20
    assert notes == ["2 unit(s) without every period dropped (the decomposition needs a "
                     "balanced panel)"]


def test_bacon_on_a_panel_without_never_treated_units():
    df = make_user_panel(unbalanced=False).rename(columns={"firm": "unit", "year": "time",
                                                           "sales": "y"})
    df = df[df["first_treat"] > 0].copy()  # only the 2004 and 2006 cohorts
    df["cohort"] = df["first_treat"].astype("Int64")
    df["d"] = (df["time"] >= df["first_treat"]).astype(int)
    bacon = bacon_decomposition(df)
    ref = pf.feols("y ~ d | unit + time", data=df, vcov="iid")
    assert (bacon["weight"] * bacon["estimate"]).sum() == pytest.approx(
        float(ref.coef()["d"]), abs=1e-10)
    assert list(bacon["type"]) == ["earlier vs later", "later vs earlier"]


def test_cell_weights_reproduce_twfe_from_known_cell_effects(study):
    """y = unit + time effects + ATT(g,t) d exactly: TWFE = sum of weight x ATT(g,t)."""
    p = study.panel.dropna(subset=["y"]).copy()
    rng = np.random.default_rng(4)
    a = dict(zip(p["unit"].unique(), rng.normal(size=p["unit"].nunique()), strict=True))
    g = dict(zip(sorted(p["time"].unique()), rng.normal(size=p["time"].nunique()),
                 strict=True))
    tau = (0.1 * (p["time"] - p["cohort"].astype(float)) ** 2 + rng.normal(size=len(p))
           ).fillna(0.0)  # arbitrary heterogeneous effects
    cell_tau = tau.where(p["d"] == 1).groupby([p["cohort"], p["time"]]).transform("mean")
    p["y_syn"] = p["unit"].map(a) + p["time"].map(g) + cell_tau.fillna(0.0) * p["d"]
    w = twfe_cell_weights(p)
    cells = p[p["d"] == 1].groupby(["cohort", "time"])["y_syn"].size()
    att = cell_tau[p["d"] == 1].groupby([p["cohort"], p["time"]]).first()
    merged = w.set_index(["cohort", "time"]).join(att.rename("att"))
    ref = pf.feols("y_syn ~ d | unit + time", data=p, vcov="iid")
    assert (merged["weight"] * merged["att"]).sum() == pytest.approx(float(ref.coef()["d"]),
                                                                    abs=1e-10)
    assert merged["n"].sum() == cells.sum()


def test_negative_weights_appear_without_never_treated_and_long_exposure():
    rows = []
    for i in range(40):
        cohort = 2 if i < 20 else 8
        for t in range(10):
            rows.append((f"u{i}", t, cohort, int(t >= cohort)))
    p = pd.DataFrame(rows, columns=["unit", "time", "cohort", "d"])
    p["cohort"] = p["cohort"].astype("Int64")
    w = twfe_cell_weights(p)
    late_early = w[(w["cohort"] == 2) & (w["time"] >= 8)]
    assert (late_early["weight"] < 0).all()  # early cohort, once the late one is treated
    assert w["weight"].sum() == pytest.approx(1.0)


def test_decomposition_rows(study):
    rows, bacon, weights, _ = decomposition(study, {}, level=0.95, tag="t")
    by = {r.estimand: r for r in rows}
    assert by["att"].estimate == pytest.approx(
        float((bacon["weight"] * bacon["estimate"]).sum()))
    assert 0 <= by["negative_weight_share"].estimate <= 1
    assert by["negative_weight_share"].extra["negative_cells"] == int(
        (weights["weight"] < 0).sum())
