"""Property-based tests (Hypothesis): random staggered panels within the supported space.

Each generated panel (units, periods, cohorts anywhere in the panel - the first period
included - or none never treated, a share of rows dropped, string or numeric unit ids) goes
through the loader and the staggered estimators. The loader either accepts it or raises
:class:`InputError`; each estimator block either ends ``ok`` with finite results equal to an
independent reference or is reported ``failed`` on the data with a message - never a bug
(``error``), never a silent NaN. References: pyfixest ``feols`` (TWFE; the binned event
study of ``test_freq``; the saturated Sun-Abraham regression of ``test_sun_abraham``), a
dense-dummy least-squares imputation, and each Callaway-Sant'Anna ATT(g,t) as a difference
of mean changes (its 2x2 regression).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_freq import binned_event_columns
from test_sun_abraham import reference as sun_abraham_reference

from bayes_resil.errors import InputError
from bayes_resil.estimates import to_frame
from bayes_resil.freq.suite import run_freq
from bayes_resil.panel import add_treatment, map_columns, renumber_periods, validate_design
from bayes_resil.study import StudyData

BLOCKS = ["baseline", "event_study", "imputation", "sun_abraham", "callaway_santanna"]
FREQ = {"blocks": BLOCKS, "vcov": "cluster", "cluster": "unit", "drop_singletons": True,
        "with_controls": False,
        "event_study": {"window": [-2, 2], "reference": -1},
        "imputation": {"pretrend_leads": 2}, "sun_abraham": {"window": [-2, 2]},
        "callaway_santanna": {"control": "not_yet", "bootstrap": 19}}


@st.composite
def panels(draw):
    n_units = draw(st.integers(8, 30))
    n_periods = draw(st.integers(3, 8))
    step = draw(st.sampled_from([1, 1, 1, 2]))  # every other period sometimes
    periods = 2000 + step * np.arange(n_periods)
    choices = [*periods.tolist(), 0]
    cohort = np.array(draw(st.lists(st.sampled_from(choices), min_size=n_units,
                                    max_size=n_units)))
    seed = draw(st.integers(0, 2**31 - 1))
    drop = draw(st.sampled_from([0.0, 0.0, 0.1]))
    numeric_ids = draw(st.booleans())
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    time = np.tile(periods, n_units)
    c = cohort[unit]
    treated = (c > 0) & (time >= c)
    y = (rng.normal(size=n_units)[unit] + rng.normal(size=n_periods)[np.tile(
        np.arange(n_periods), n_units)] + treated * (0.5 + 0.1 * (time - c))
        + rng.normal(0, 0.3, unit.size))
    df = pd.DataFrame({"id": unit + 10 if numeric_ids else [f"u{i}" for i in unit],
                       "year": time, "first": c, "y": y})
    if drop:
        df = df.drop(index=rng.choice(len(df), int(drop * len(df)), replace=False))
    return df.reset_index(drop=True)


def load(df: pd.DataFrame) -> StudyData:
    frame = map_columns(df, {"unit": "id", "time": "year", "cohort": "first", "outcome": "y"},
                        [0])
    notes = validate_design(frame)
    notes += renumber_periods(frame)
    frame = add_treatment(frame)
    return StudyData(panel=frame, source="fuzz", simulated=False, study=None, controls=[],
                     outcome_label="y", notes=notes)


def check_baseline(est: pd.DataFrame, p: pd.DataFrame, notes: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ d | unit + time", data=p, vcov={"CRV1": "unit"})
    row = est[(est["method"] == "twfe") & (est["estimand"] == "att")].iloc[0]
    assert row["estimate"] == pytest.approx(float(ref.coef()["d"]), rel=1e-6, abs=1e-9)
    assert row["std_error"] == pytest.approx(float(ref.se()["d"]), rel=1e-5, abs=1e-9)


def check_event_study(est: pd.DataFrame, p: pd.DataFrame, notes: list[str]) -> None:
    ev = binned_event_columns(p, -2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(f"y ~ {' + '.join(ev.columns)} | unit + time",
                       data=pd.concat([p, ev], axis=1), vcov={"CRV1": "unit"})
    es = est[est["method"] == "event_study"].set_index("estimand")
    coef = fit.coef()
    assert len(coef) == len(ev.columns)  # ours ran, so nothing is collinear for pyfixest either
    for col in ev.columns:
        k = int(col[3:]) - 10
        assert es.loc[f"event[{k}]", "estimate"] == pytest.approx(float(coef[col]), rel=1e-6,
                                                                  abs=1e-9)


def check_imputation(est: pd.DataFrame, p: pd.DataFrame, notes: list[str]) -> None:
    treated = p["d"].to_numpy() > 0
    untreated_units = set(p.loc[~treated, "unit"])
    untreated_times = set(p.loc[~treated, "time"])
    keep = ~treated | (p["unit"].isin(untreated_units) & p["time"].isin(untreated_times))
    q = p[keep.to_numpy()]
    X = np.column_stack([pd.get_dummies(q["unit"]).to_numpy(float),
                         pd.get_dummies(q["time"]).to_numpy(float)])
    tr = q["d"].to_numpy() > 0
    b, *_ = np.linalg.lstsq(X[~tr], q["y"].to_numpy()[~tr], rcond=None)
    tau = (q["y"].to_numpy() - X @ b)[tr]
    row = est[(est["method"] == "imputation") & (est["estimand"] == "att")].iloc[0]
    assert row["estimate"] == pytest.approx(tau.mean(), rel=1e-6, abs=1e-8)


def check_sun_abraham(est: pd.DataFrame, p: pd.DataFrame, notes: list[str]) -> None:
    if not p["cohort"].isna().any():  # Sun & Abraham: the last cohort is the comparison group
        last = p["cohort"].max()
        p = p[p["time"] < last].copy()
        p.loc[p["cohort"] == last, "cohort"] = pd.NA
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = sun_abraham_reference(p, [])
        except ValueError:
            # pyfixest dropped a collinear cohort x period term (the reference helper cannot
            # aggregate then): ours must have said that it dropped terms too
            assert any("collinear with the fixed effects dropped" in n for n in notes)
            event("sun_abraham: collinear terms, compared by the note only")
            return
    sa = est[est["method"] == "sun_abraham"].set_index("estimand")
    for k in (0, 1):
        if f"event[{k}]" in sa.index and k in ref and np.isfinite(ref[k][0]):
            assert sa.loc[f"event[{k}]", "estimate"] == pytest.approx(ref[k][0], rel=1e-5,
                                                                      abs=1e-8)


def check_callaway_santanna(est: pd.DataFrame, p: pd.DataFrame, notes: list[str]) -> None:
    units = p.groupby("unit")["time"].nunique()
    bal = p[p["unit"].isin(units[units == p["time"].nunique()].index)]
    wide = bal.pivot(index="unit", columns="time", values="y")
    cohort = bal.drop_duplicates("unit").set_index("unit")["cohort"].reindex(wide.index)
    c = cohort.astype("Float64").fillna(np.inf).astype(float).to_numpy()
    cs = est[est["method"] == "callaway_santanna"].set_index("estimand")
    for name in [n for n in cs.index if n.count(",") == 1 and n.startswith("att[")]:
        g, t = (int(v) for v in name[4:-1].split(","))
        base = g - 1 if t >= g else t - 1
        in_c = (c > max(t, base)) & (c != g)
        dy = wide[t].to_numpy() - wide[base].to_numpy()
        assert cs.loc[name, "estimate"] == pytest.approx(
            dy[c == g].mean() - dy[in_c].mean(), rel=1e-8, abs=1e-10)


CHECKS = {"baseline": check_baseline, "event_study": check_event_study,
          "imputation": check_imputation,
          "sun_abraham": check_sun_abraham, "callaway_santanna": check_callaway_santanna}


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(panels())
def test_random_panels_give_references_or_clear_errors(df):
    try:
        data = load(df)
    except InputError as exc:
        assert str(exc).strip()  # refused with a message (no treated unit, duplicates, ...)
        event("panel refused by the loader")
        return
    res = run_freq(data, FREQ)
    est = to_frame(res.rows)
    for step in res.steps:
        assert step.status in ("ok", "failed"), f"{step.step}: {step.reason}"  # never a bug
        if step.status == "failed":
            assert step.reason.strip()
            event(f"{step.step}: failed on the data")
            continue
        rows = est[est["method"].str.startswith({"baseline": "twfe"}.get(step.step, step.step))
                   & (est["estimand"] != "pretrend_wald")]
        values = rows[["estimate", "std_error"]].to_numpy(float)
        assert np.isfinite(values[:, 0]).all(), rows.to_string()
        # every SE finite, except the reference period's (normalised to 0, no SE)
        has_se = ~rows["note"].fillna("").str.contains("reference period").to_numpy()
        assert np.isfinite(values[has_se, 1]).all(), rows[has_se].to_string()
        p = data.panel.dropna(subset=["y"])
        CHECKS[step.step](est, p, res.notes)
        event(f"{step.step}: compared with the reference")
