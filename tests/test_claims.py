"""The reanalysis verdict (claims.csv): the claims file, the lenses, the verdict rule, and
verdicts on panels where the answer is known by construction."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

import bayes_resil as br
from bayes_resil.claims import Evidence, assess, load_claims, parse_claims, verdicts
from bayes_resil.claims.lenses import bayes_lens, freq_lens
from bayes_resil.claims.spec import Claim
from bayes_resil.claims.verdict import verdict
from bayes_resil.errors import InputError
from conftest import cli

CBEC_IDS = ["baseline_positive", "no_pretrends", "placebo_null", "robustness", "iv_agrees",
            "region_order", "batch_order", "mechanisms"]
#: every frequentist block the CBEC claims read, without the slow bootstrap of the mediation
FREQ = dict(blocks=["baseline", "event_study", "placebo", "robustness", "iv", "heterogeneity",
                    "imputation", "sun_abraham", "callaway_santanna", "honest_did"],
            overrides=["freq.placebo.permutations=200"])


def rule(evidence: list[str], sensitivity: list[str], conditions: list[str] = ()) -> str:
    """The README's verdict rule, written out again from its text."""
    ev = [s for s in evidence if s != "unavailable"]
    sens = [s for s in [*sensitivity, *conditions] if s != "unavailable"]
    if not ev:
        return "not_assessed"
    if "reversed" in ev:
        return "contradicted"
    if all(s == "holds" for s in ev):
        bad = any(s in ("weak", "fails", "reversed") for s in sens)
        return "fragile" if bad else "supported"
    return "fragile" if "holds" in ev else "not_supported"


def rule_of(rows: pd.DataFrame) -> str:
    """The rule applied to one claim's rows of claims.csv."""
    return rule(*(rows.loc[rows["role"] == r, "status"].tolist()
                  for r in ("evidence", "sensitivity", "condition")))


STATUSES = ["holds", "weak", "fails", "reversed", "unavailable"]


def test_the_verdict_rule_on_every_combination_of_evidence_sensitivity_and_condition():
    for a in STATUSES:
        for b in STATUSES:
            for s in STATUSES:
                for c in STATUSES:
                    assert verdict([a, b], [s], [c])[0] == rule([a, b], [s], [c]), (a, b, s, c)
    assert verdict([], ["holds"])[0] == "not_assessed"


def test_the_shipped_cbec_claims_have_the_fixed_ids_and_parse():
    claims = load_claims(study="cbec")
    assert [c.id for c in claims.claims] == CBEC_IDS
    assert load_claims(study=None) is None and load_claims(study="no_such_study") is None


@pytest.mark.parametrize("body, message", [
    ("claims: [{id: a, text: t, test: sign}]", "test 'sign' is not known"),
    ("claims: [{id: a, text: t, test: positive}]", "needs estimands"),
    ("claims: [{id: a, text: t, test: order, estimands: [att]}]", "at least two estimands"),
    ("claims: [{id: a, text: t, test: positive, estimands: [att], colour: red}]",
     "unknown key(s) ['colour']"),
    ("claims: [{id: 1a, text: t, test: positive, estimands: [att]}]",
     "must start with a letter"),
    ("claims: [{id: a, text: t, test: positive, estimands: [att]},"
     " {id: a, text: u, test: positive, estimands: [att]}]", "repeated"),
    ("claims: [{id: a, text: t, test: order, estimands: [x, y], groups: {x: {city: [1]}}}]",
     "{cohort: [...]}"),
    ("format: other/2\nclaims: []", "is not 'bayes_resil.claims/1'"),
])
def test_a_bad_claims_file_says_which_claim_and_which_key(tmp_path, body, message):
    import yaml

    with pytest.raises(InputError) as err:
        parse_claims(yaml.safe_load(body), "my_claims.yaml")
    assert message in str(err.value) and "my_claims.yaml" in str(err.value)


def _est(rows):
    base = dict(outcome="y", p_value=np.nan, first_stage_F=np.nan, actual_estimate=np.nan)
    return pd.DataFrame([{**base, **r} for r in rows])


def test_frequentist_lenses_read_the_intervals_and_combine_differences_as_independent():
    z = 1.959963984540054
    est = _est([
        dict(method="m", estimand="att[A]", estimate=0.05, std_error=0.01,
             ci_lower=0.05 - z * 0.01, ci_upper=0.05 + z * 0.01),
        dict(method="m", estimand="att[B]", estimate=0.02, std_error=0.01,
             ci_lower=0.02 - z * 0.01, ci_upper=0.02 + z * 0.01),
        dict(method="m", estimand="att[C]", estimate=0.01, std_error=0.01,
             ci_lower=0.01 - z * 0.01, ci_upper=0.01 + z * 0.01),
    ])
    ev = Evidence(estimates=est)
    positive = Claim("p", "t", "positive", estimands=("att[A]", "att[B]"))
    lens = freq_lens(ev, positive, "m", "x", "evidence")
    assert lens.status == "holds" and lens.value == pytest.approx(2.0)  # min est / se
    weak = Claim("p", "t", "positive", estimands=("att[A]", "att[C]"))
    assert freq_lens(ev, weak, "m", "x", "evidence").status == "weak"
    order = Claim("o", "t", "order", estimands=("att[A]", "att[B]", "att[C]"))
    lens = freq_lens(ev, order, "m", "x", "evidence")
    # differences 0.03 and 0.01, each with SE sqrt(2) x 0.01
    assert lens.value == pytest.approx(0.01 / np.sqrt(2 * 0.01**2))
    assert lens.status == "weak"  # the second difference is not significant
    reverse = Claim("o", "t", "order", estimands=("att[C]", "att[A]"))
    assert freq_lens(ev, reverse, "m", "x", "evidence").status == "reversed"
    missing = Claim("p", "t", "positive", estimands=("att[D]",))
    lens = freq_lens(ev, missing, "m", "x", "evidence")
    assert lens.status == "unavailable" and "att[D]" in lens.detail


def test_the_posterior_lens_is_the_joint_probability_of_the_whole_statement():
    rng = np.random.default_rng(1)
    a, b, c = rng.normal(0.05, 0.01, 40000), rng.normal(0.03, 0.01, 40000), \
        rng.normal(0.0, 0.01, 40000)
    ev = Evidence(estimates=_est([]), model="hetero_region",
                  sample={"att[A]": a, "att[B]": b, "att[C]": c})
    order = Claim("o", "t", "order", estimands=("att[A]", "att[B]", "att[C]"))
    lens = bayes_lens(ev, order, population=False)
    assert lens.value == pytest.approx(np.mean((a > b) & (b > c)))
    assert lens.status == "weak"  # P about 0.90: the means agree, not with 97.5%
    strong = Claim("p", "t", "positive", estimands=("att[A]",))
    assert bayes_lens(ev, strong, population=False).status == "holds"
    against = Claim("p", "t", "order", estimands=("att[C]", "att[A]"))
    assert bayes_lens(ev, against, population=False).status == "reversed"
    other_model = Claim("p", "t", "positive", estimands=("att[A]",), bayes=("iv",))
    assert bayes_lens(ev, other_model, population=False) is None


def _verdicts(panel, **freq) -> dict[str, str]:
    res = br.frequentist(panel, freq="full", **{**FREQ, **freq})
    table = br.assess_claims(res)
    return dict(zip(table.loc[table["lens"] == "verdict", "claim"],
                    table.loc[table["lens"] == "verdict", "verdict"], strict=True)), table


def test_verdicts_where_the_answer_is_known_by_construction():
    # default design: a large, growing effect, earliest batches strongest
    found, table = _verdicts(br.simulate_panel())
    assert found["baseline_positive"] == "supported"
    assert found["batch_order"] == "supported"
    assert list(found) == [c for c in CBEC_IDS]
    assert found["mechanisms"] == "not_assessed"  # no mediation block: no lens
    truth = table[table["lens"] == "truth"].set_index("claim")["value"]
    assert truth["baseline_positive"] == 1 and truth["region_order"] == 1
    # no effect at all: the effect claim is not supported, the simulated truth says false
    found, table = _verdicts(br.simulate_panel(effect_scale=0.0))
    assert found["baseline_positive"] in ("not_supported", "contradicted")
    assert found["batch_order"] != "supported"
    assert table.query("claim == 'baseline_positive' and lens == 'truth'")["value"].iloc[0] == 0
    # the regional ordering reversed (Centre strongest, East weakest): contradicted
    found, table = _verdicts(br.simulate_panel(
        region_mult={"East": 0.4, "Central": 1.6, "West": 1.0}))
    assert found["region_order"] == "contradicted"
    assert table.query("claim == 'region_order' and lens == 'truth'")["value"].iloc[0] == 0


USER_CLAIMS = textwrap.dedent("""\
    format: bayes_resil.claims/1
    study: firms
    claims:
      - id: sales_up
        text: The programme raises sales
        test: positive
        estimands: [att]
        methods: [twfe]
      - id: through_m1
        text: It works through m1
        test: positive
        estimands: [att]
        outcomes: [m1]
        methods: [mediation_a]
        robust: false
      - id: through_m2
        text: It works through m2
        test: positive
        estimands: [att]
        outcomes: [m2]
        methods: [mediation_a]
        robust: false
    """)


def _firm_panel(seed: int = 3) -> pd.DataFrame:
    """A non-CBEC panel: sales rise with the programme; mediator m1 responds, m2 does not."""
    rng = np.random.default_rng(seed)
    n, years = 150, np.arange(2001, 2011)
    cohort = rng.choice([2004, 2007, 0], size=n, p=[0.3, 0.3, 0.4])
    a, g = rng.normal(0, 1, n), rng.normal(0, 0.3, len(years))
    rows = []
    for i in range(n):
        for j, yr in enumerate(years):
            d = cohort[i] > 0 and yr >= cohort[i]
            rows.append(dict(firm=f"f{i}", year=yr, first=cohort[i],
                             sales=a[i] + g[j] + 0.5 * d + rng.normal(0, 0.5),
                             m1=0.3 * a[i] + 0.8 * d + rng.normal(0, 0.5),
                             m2=0.3 * a[i] + rng.normal(0, 0.5)))
    return pd.DataFrame(rows)


def test_a_user_claims_file_on_a_user_panel_through_the_command_line(tmp_path):
    _firm_panel().to_csv(tmp_path / "firms.csv", index=False)
    (tmp_path / "claims.yaml").write_text(USER_CLAIMS)
    out = tmp_path / "run"
    proc = cli(f"hydra.run.dir={out}", "model=none", "data=file",
               f"data.path={tmp_path / 'firms.csv'}", "data.columns.unit=firm",
               "data.columns.time=year", "data.columns.cohort=first",
               "data.columns.outcome=sales", "data.columns.controls=[]",
               "freq.blocks=[baseline,imputation,mediation]",
               "freq.mediation.mediators=[m1,m2]", "freq.mediation.bootstrap=49",
               f"claims.file={tmp_path / 'claims.yaml'}")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out / "claims.csv")
    found = verdicts(table).set_index("claim")["verdict"]
    assert found["sales_up"] == "supported"      # imputation 0.5, known by construction
    assert found["through_m1"] == "supported"    # a-path 0.8
    assert found["through_m2"] in ("not_supported", "fragile", "contradicted")
    assert found["through_m2"] != "supported"
    assert "simulated_truth" in table.columns and table["simulated_truth"].isna().all()
    report = (out / "report.md").read_text()
    assert report.index("The paper's claims under every lens") < report.index("What was run")
    assert "through_m1" in (out / "summary.txt").read_text()


def test_a_broken_claims_file_stops_the_run_before_any_estimation(tmp_path):
    (tmp_path / "claims.yaml").write_text("claims: [{id: a, text: t, test: sign}]")
    proc = cli(f"hydra.run.dir={tmp_path / 'run'}", "model=none", "freq=baseline",
               f"claims.file={tmp_path / 'claims.yaml'}")
    assert proc.returncode == 2
    assert "test 'sign' is not known" in proc.stderr
    assert not (tmp_path / "run" / "estimates.csv").exists()


def test_claims_can_be_switched_off(tmp_path):
    proc = cli(f"hydra.run.dir={tmp_path / 'run'}", "model=none", "freq=baseline",
               "claims.enabled=false")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "run" / "claims.csv").exists()
    with pytest.raises(InputError, match="no claims"):
        br.assess_claims(br.frequentist(br.load_panel(_firm_panel(), unit="firm", time="year",
                                                      cohort="first", outcome="sales")))


def test_assess_from_files_needs_no_draws(tmp_path):
    from bayes_resil.claims import from_directory

    panel = br.simulate_panel()
    res = br.frequentist(panel, freq="full", **FREQ)
    out = res.save(tmp_path / "run")
    table = assess(load_claims(study="cbec"), from_directory(out))
    direct = br.assess_claims(res)
    keep = ~table["lens"].str.startswith("bayes")
    pd.testing.assert_series_equal(
        table.loc[keep & (table["lens"] == "verdict"), "verdict"].reset_index(drop=True),
        direct.loc[direct["lens"] == "verdict", "verdict"].reset_index(drop=True))
