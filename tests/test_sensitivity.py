"""HonestDiD-style sensitivity: closed-form identities of the robust intervals and the
breakdown values (the intervals are checked against their definitions with independently
recomputed inputs - the Callaway-Sant'Anna event-time estimates)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayes_resil.estimates import to_frame
from bayes_resil.freq.callaway_santanna import callaway_santanna
from bayes_resil.freq.sensitivity import breakdown, honest_did, rm_interval, sd_interval

KW = dict(level=0.95, vcov="cluster", cluster="unit", drop_singletons=True, tag="t")


def test_interval_formulas():
    z = stats.norm.ppf(0.975)
    assert rm_interval(0.1, 0.02, 0, 0.01, 0.0, z) == pytest.approx((0.1 - z * 0.02,
                                                                    0.1 + z * 0.02))
    lo, hi = rm_interval(0.1, 0.02, 2, 0.01, 1.5, z)  # |bias| <= 3 * 1.5 * 0.01
    assert (lo, hi) == pytest.approx((0.1 - 0.045 - z * 0.02, 0.1 + 0.045 + z * 0.02))
    lo, hi = sd_interval(0.1, 0.01, 0.02, 1, 0.0, z)  # linear extrapolation: 2 x slope
    assert (lo + hi) / 2 == pytest.approx(0.08)
    lo2, hi2 = sd_interval(0.1, 0.01, 0.02, 1, 0.004, z)  # + M (k+1)(k+2)/2 = 0.012
    assert (hi2 - hi) == pytest.approx(0.012) and (lo - lo2) == pytest.approx(0.012)
    assert breakdown(0.03, 0.07, 0.01) == pytest.approx(3.0)
    assert breakdown(-0.07, -0.03, 0.01) == pytest.approx(3.0)
    assert breakdown(-0.01, 0.02, 0.01) == 0.0


def test_breakdown_values_close_the_robust_interval_at_zero(study):
    rows, table, _ = honest_did(study, {"targets": [0, 2]}, [], **KW)
    got = to_frame(rows).set_index("estimand")
    cs = to_frame(callaway_santanna(study, {"bootstrap": 9}, [], **KW)[0]).set_index(
        "estimand")
    z = stats.norm.ppf(0.975)
    pre = cs[cs.index.str.match(r"event\[-\d+\]")]
    m = float(pre["estimate"].abs().max())
    for k in (0, 2):
        b = cs.loc[f"event[{k}]"]
        assert got.loc[f"breakdown[relative_magnitudes,event[{k}]]", "target_estimate"] == (
            pytest.approx(b["estimate"]))
        mbar = got.loc[f"breakdown[relative_magnitudes,event[{k}]]", "estimate"]
        lo, _ = rm_interval(b["estimate"], b["std_error"], k, m, mbar, z)
        assert lo == pytest.approx(0.0, abs=1e-12)
        assert mbar > 0
    # the robust intervals widen with the allowed violation and nest
    for (_, _), g in table.groupby(["target", "restriction"]):
        g = g.sort_values("size")
        assert np.all(np.diff(g["ci_lower"]) <= 1e-15) and np.all(np.diff(g["ci_upper"]) >= -1e-15)


def test_clustered_target_se_is_callaway_santannas_and_hc1_is_refused_with_a_note(study):
    """freq.cluster=province reaches the sensitivity analysis: its target SE is the
    province-clustered Callaway-Sant'Anna SE (itself the CR0 of the 2x2 regressions,
    test_callaway_santanna); freq.vcov=hc1 does not apply and says so."""
    kw = {**KW, "cluster": "province"}
    rows, _, notes = honest_did(study, {"targets": [0]}, [], **kw)
    got = to_frame(rows).set_index("estimand")
    cs = to_frame(callaway_santanna(study, {"bootstrap": 9}, [], **kw)[0]).set_index(
        "estimand")
    assert got.loc["breakdown[relative_magnitudes,event[0]]", "target_se"] == pytest.approx(
        cs.loc["event[0]", "std_error"], rel=1e-12)
    unit = to_frame(honest_did(study, {"targets": [0]}, [], **KW)[0]).set_index("estimand")
    assert unit.loc["breakdown[relative_magnitudes,event[0]]", "target_se"] != pytest.approx(
        got.loc["breakdown[relative_magnitudes,event[0]]", "target_se"], rel=1e-3)
    _, _, notes = honest_did(study, {"targets": [0]}, [], **{**KW, "vcov": "hc1"})
    assert any("freq.vcov=hc1 does not apply" in n for n in notes)
