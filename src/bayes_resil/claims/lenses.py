"""Every lens on a claim: one row per (claim, lens) with a status, then the verdict row.

Lenses (``lens`` column): ``paper`` (the published number), ``replication:<method>`` (our
estimate with the paper's estimator), ``robust:<method>`` (imputation, Callaway-Sant'Anna,
Sun-Abraham where they report the estimands), ``bayes:<model>`` (posterior probability of the
statement for the treated units of this panel) and ``bayes_population:<model>`` (for units
like them), ``parallel_trends`` (HonestDiD breakdown value), ``first_stage`` and
``agreement`` (IV claims), ``also:<method>`` (a claim's extra lenses), ``design`` (TWFE vs
robust conclusion), ``prior`` (prior sensitivity, ``psense``), ``truth`` (simulated data) and
``verdict``. Statuses and the verdict rule: :mod:`.verdict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..estimand import parse
from .evidence import Evidence
from .spec import Claim, ClaimSet
from .verdict import FAILS, HOLDS, REVERSED, UNAVAILABLE, WEAK, combine, verdict_of

ROBUST_METHODS = ("imputation", "callaway_santanna", "sun_abraham")
#: a relative-magnitudes breakdown value at least this large: the effect survives post-period
#: trend violations as large as the largest pre-period one (Rambachan & Roth 2023)
BREAKDOWN_OK = 1.0
#: a weak-instrument threshold on the first-stage F (Staiger & Stock 1997)
F_OK = 10.0
#: leads must rule out pre-trends this fraction of the effect to "hold"
PRETREND_PRECISION = 0.5
#: a detected pre-trend at least this fraction of the effect contradicts "no pre-trends"
PRETREND_LARGE = 0.1
#: placebo distribution: |mean| <= this x sd is centred; > PLACEBO_OFF x sd is off centre
PLACEBO_CENTRED, PLACEBO_OFF = 0.25, 1.0

LINKS = {"twfe_controls": "tables/table2_baseline.md", "twfe": "tables/table2_baseline.md",
         "event_study": "figures/event_study.png", "placebo": "figures/placebo.png",
         "robust_drop_capitals": "tables/table3_robustness.md",
         "robust_winsorize": "tables/table3_robustness.md",
         "robust_policies": "tables/table3_robustness.md",
         "iv_2sls": "tables/table4_iv.md", "iv_first_stage": "tables/table4_iv.md",
         "twfe_subsample": "tables/table5_heterogeneity.md",
         "mediation_a": "tables/table6_mechanisms.md",
         "mediation_indirect": "tables/table6_mechanisms.md",
         "imputation": "figures/event_estimators.png",
         "callaway_santanna": "figures/event_estimators.png",
         "sun_abraham": "figures/event_estimators.png",
         "bayes": "figures/forest.png", "honest_did": "figures/honest_did.png",
         "prior": "psense.csv", "truth": "truth.csv"}

COLUMNS = ["claim", "lens", "role", "statement", "value", "status", "verdict", "detail",
           "method", "link", "simulated_truth", "text", "source"]


@dataclass
class Lens:
    claim: str
    lens: str
    role: str
    statement: str
    value: float = np.nan
    status: str = UNAVAILABLE
    detail: str = ""
    method: str = ""
    link: str = ""
    verdict: str = ""


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _components(claim: Claim) -> list[tuple[str, str]]:
    if claim.test == "order":
        return [(e, claim.outcomes[0]) for e in claim.estimands]
    return [(e, o) for e in claim.estimands for o in claim.outcomes]


def _label(estimand: str, outcome: str) -> str:
    return estimand if outcome == "y" else f"{estimand} on {outcome}"


def statement(claim: Claim) -> str:
    comps = [_label(e, o) for e, o in _components(claim)]
    if claim.test == "positive":
        return " and ".join(f"{c} > 0" for c in comps)
    if claim.test == "order":
        return " > ".join(comps)
    if claim.test == "no_pretrends":
        return "pre-adoption effects = 0"
    return "placebo estimates centre on 0; actual estimate outside them"


def _fmt(x: float, d: int = 4) -> str:
    return f"{x:.{d}f}" if np.isfinite(x) else "nan"


# --- frequentist lenses -----------------------------------------------------------------

def freq_lens(ev: Evidence, claim: Claim, method: str, name: str, role: str,
              comps: list[tuple[str, str]] | None = None) -> Lens:
    """A claim's statement read from ``method``'s rows (confidence intervals)."""
    comps = comps or _components(claim)
    test = "order" if claim.test == "order" else "positive"
    lens = Lens(claim.id, name, role, statement(claim) if comps == _components(claim) else
                " and ".join(f"{_label(e, o)} > 0" for e, o in comps), method=method,
                link=LINKS.get(method, "estimates.csv"))
    rows = [ev.rows(method, e, o) for e, o in comps]
    missing = [_label(e, o) for (e, o), r in zip(comps, rows, strict=True) if r is None]
    if missing:
        lens.detail = f"{method} has no row for {', '.join(missing)}"
        return lens
    est = np.array([float(r["estimate"]) for r in rows])
    se = np.array([float(r["std_error"]) for r in rows])
    z = _z(ev.level)
    if test == "positive":
        lo = np.array([float(r["ci_lower"]) for r in rows])
        hi = np.array([float(r["ci_upper"]) for r in rows])
        parts = [(lo_ > 0, e > 0, hi_ < 0) for e, lo_, hi_ in zip(est, lo, hi, strict=True)]
        lens.value = float(est[0]) if len(est) == 1 else float(np.min(est / se))
        lens.detail = "; ".join(f"{_label(e, o)} {_fmt(v)} [{_fmt(a)}, {_fmt(b)}]"
                                for (e, o), v, a, b in zip(comps, est, lo, hi, strict=True))
        if len(est) > 1:
            lens.detail += " (value: smallest estimate / SE)"
    else:
        d = est[:-1] - est[1:]
        s = np.sqrt(se[:-1] ** 2 + se[1:] ** 2)
        parts = [(di - z * si > 0, di > 0, di + z * si < 0) for di, si in zip(d, s, strict=True)]
        # a confidently reversed pair further apart contradicts the ordering too
        parts += [(True, True, est[i] - est[j] + z * np.hypot(se[i], se[j]) < 0)
                  for i in range(len(est)) for j in range(i + 2, len(est))]
        lens.value = float(np.min(d / s))
        lens.detail = (", ".join(f"{_label(e, o)} {_fmt(v)} ({_fmt(s_)})" for (e, o), v, s_ in
                                 zip(comps, est, se, strict=True))
                       + "; value: smallest difference / SE (SEs combined as independent)")
    if not np.all(np.isfinite(se)):
        lens.detail += "; some SE missing"
        parts = [(False, p, False) for _, p, _ in parts]
    lens.status = combine(parts)
    return lens


def _bayes_name(estimand: str, outcome: str) -> str | None:
    if outcome == "y":
        return estimand
    if estimand == "att":
        return f"a_path[{outcome}]"
    return None


def _draws(ev: Evidence, claim: Claim, estimand: str, outcome: str, population: bool):
    src = ev.population if population else ev.sample
    name = _bayes_name(estimand, outcome)
    if name in src:
        return src[name]
    group = claim.group_of(estimand)
    if outcome == "y" and group is not None:
        return ev.group_draws(*group, population)
    return None


def bayes_lens(ev: Evidence, claim: Claim, population: bool) -> Lens | None:
    """Posterior probability of the whole statement (joint over its parts)."""
    if ev.model is None or ev.model not in claim.models():
        return None
    kind = "bayes_population" if population else "bayes"
    lens = Lens(claim.id, f"{kind}:{ev.model}", "sensitivity" if population else "evidence",
                "P(" + statement(claim) + ")", method=f"bayes_{ev.model}", link=LINKS["bayes"])
    comps = _components(claim)
    draws = [_draws(ev, claim, e, o, population) for e, o in comps]
    missing = [_label(e, o) for (e, o), d in zip(comps, draws, strict=True) if d is None]
    if missing:
        lens.detail = (f"model={ev.model} has no {'population-level ' if population else ''}"
                       f"draws of {', '.join(missing)}")
        return lens
    d = np.column_stack(draws)
    hi = 0.5 + ev.level / 2
    against = None
    if claim.test == "order":
        k = d.shape[1]
        against = np.array([np.mean(d[:, i] < d[:, j]) for i in range(k)
                            for j in range(i + 1, k)])  # every pair, adjacent or not
        d = d[:, :-1] - d[:, 1:]
    prob = float(np.mean(np.all(d > 0, axis=1)))
    if against is None:
        against = np.mean(d < 0, axis=0)
    means = d.mean(axis=0)
    lens.value = prob
    lens.status = (REVERSED if np.any(against >= hi) else HOLDS if prob >= hi
                   else WEAK if np.all(means > 0) else FAILS)
    target = ("units like the treated ones (Bayesian bootstrap)" if population
              else "the treated units of this panel")
    lens.detail = (f"for {target}; posterior means " + ", ".join(_fmt(m) for m in means)
                   + f"; {len(d)} draws")
    return lens


# --- pre-trends and placebo -------------------------------------------------------------

def _reference_effect(ev: Evidence) -> float | None:
    for method in ("imputation", "twfe_controls", "twfe"):
        r = ev.rows(method, "att")
        if r is not None and np.isfinite(r["estimate"]):
            return abs(float(r["estimate"]))
    return None


def _pretrend_size(ev: Evidence, method: str) -> tuple[float, str] | None:
    """Largest |pre-adoption estimate| of ``method``, else of the robust lead estimators."""
    for m in (method, "sun_abraham", "callaway_santanna"):
        rows = [ev.rows(m, n) for n in _lead_names(ev, m)]
        vals = [abs(float(r["estimate"])) for r in rows if r is not None
                and np.isfinite(r["std_error"]) and r["std_error"] > 0]
        if vals:
            return max(vals), m
    return None


def _rejected_status(ev: Evidence, size: float | None) -> tuple[str, str]:
    """A detected pre-trend is ``reversed`` when it is at least PRETREND_LARGE of the effect
    (or its size is unknown), else ``weak`` (detectable but small)."""
    ref = _reference_effect(ev)
    if size is None or ref is None or size >= PRETREND_LARGE * ref:
        return REVERSED, ""
    return WEAK, f"; detected but small: {_fmt(size / ref, 2)} of the effect"


def wald_lens(ev: Evidence, claim: Claim, method: str, name: str, role: str) -> Lens:
    lens = Lens(claim.id, name, role, "joint pre-trend test does not reject", method=method,
                link=LINKS.get(method, "estimates.csv"))
    r = ev.rows(method, "pretrend_wald")
    if r is None or not np.isfinite(r["p_value"]):
        lens.detail = f"{method} has no pre-trend test"
        return lens
    alpha = 1 - ev.level
    lens.value = float(r["p_value"])
    lens.detail = f"Wald statistic {_fmt(float(r['estimate']), 3)}, p = {_fmt(lens.value, 4)}"
    if lens.value >= alpha:
        lens.status = HOLDS
    else:
        size = _pretrend_size(ev, method)
        lens.status, note = _rejected_status(ev, None if size is None else size[0])
        lens.detail += note + (f" (size from {size[1]}'s leads)" if size and note else "")
    return lens


def _is_lead(name: str) -> bool:
    """A pre-adoption event time, ``event[k]`` with k < 0."""
    e = parse(name)
    return e.kind == "event" and e.event < 0


def _lead_names(ev: Evidence, method: str) -> list[str]:
    e = ev.estimates
    names = e.loc[(e["method"] == method) & (e["outcome"].astype(str) == "y"), "estimand"]
    return [n for n in names if _is_lead(n)]


def leads_lens(ev: Evidence, claim: Claim, method: str, name: str, role: str) -> Lens:
    """Every pre-adoption estimate of ``method`` inside a Bonferroni band around 0, and the
    band narrow enough to rule out pre-trends half the size of the effect."""
    lens = Lens(claim.id, name, role, "every pre-adoption estimate = 0 (Bonferroni)",
                method=method, link=LINKS.get(method, "estimates.csv"))
    rows = [ev.rows(method, n) for n in _lead_names(ev, method)]
    rows = [r for r in rows if r is not None and np.isfinite(r["std_error"])
            and r["std_error"] > 0]
    if not rows:
        lens.detail = f"{method} has no pre-adoption estimates"
        return lens
    k = len(rows)
    zb = float(stats.norm.ppf(1 - (1 - ev.level) / (2 * k)))
    est = np.array([float(r["estimate"]) for r in rows])
    se = np.array([float(r["std_error"]) for r in rows])
    zs = np.abs(est) / se
    bound = float(np.max(np.abs(est) + zb * se))
    ref = _reference_effect(ev)
    lens.value = float(zs.max())
    precise = ref is None or bound <= PRETREND_PRECISION * ref
    note = ""
    if np.any(zs > zb):
        lens.status, note = _rejected_status(ev, float(np.max(np.abs(est[zs > zb]))))
    else:
        lens.status = HOLDS if precise else WEAK
    lens.detail = (f"{k} leads, largest |estimate| / SE {_fmt(lens.value, 2)} (Bonferroni "
                   f"critical value {_fmt(zb, 2)}); band rules out pre-trends above "
                   f"{_fmt(bound)}" + (f" ({_fmt(bound / ref, 2)} of the effect {_fmt(ref)})"
                                       if ref else "")) + note
    return lens


def bayes_leads_lens(ev: Evidence, claim: Claim) -> Lens | None:
    if ev.model is None or ev.model not in claim.models():
        return None
    names = [n for n in ev.sample if _is_lead(n)]
    lens = Lens(claim.id, f"bayes:{ev.model}", "evidence",
                "every pre-adoption effect's interval (Bonferroni) includes 0",
                method=f"bayes_{ev.model}", link=LINKS["bayes"])
    if not names:
        lens.detail = f"model={ev.model} has no pre-adoption effects (model=event_study has)"
        return lens
    d = np.column_stack([ev.sample[n] for n in names])
    a = (1 - ev.level) / len(names)
    lo, hi = np.quantile(d, a / 2, axis=0), np.quantile(d, 1 - a / 2, axis=0)
    outside = (lo > 0) | (hi < 0)
    ref = _reference_effect(ev)
    bound = float(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    lens.value = float(np.max(np.minimum(np.mean(d > 0, 0), np.mean(d < 0, 0))))
    note = ""
    if outside.any():
        lens.status, note = _rejected_status(ev, float(np.max(np.abs(d.mean(0)[outside]))))
    else:
        lens.status = HOLDS if ref is None or bound <= PRETREND_PRECISION * ref else WEAK
    lens.detail = (f"{len(names)} leads; {int(outside.sum())} Bonferroni interval(s) exclude 0;"
                   f" value: smallest tail probability of a lead" + note)
    return lens


def placebo_lenses(ev: Evidence, claim: Claim, method: str) -> list[Lens]:
    centre = Lens(claim.id, "placebo_centre", "condition",
                  "placebo estimates centre on 0", method=method, link=LINKS["placebo"])
    actual = Lens(claim.id, f"replication:{method}", "evidence",
                  "actual estimate outside the placebo distribution", method=method,
                  link=LINKS["placebo"])
    if ev.placebo is not None and len(ev.placebo) > 1:
        m, s = float(np.mean(ev.placebo)), float(np.std(ev.placebo, ddof=1))
        centre.value = m / s if s > 0 else np.nan
        r = abs(centre.value)
        centre.status = HOLDS if r <= PLACEBO_CENTRED else WEAK if r <= PLACEBO_OFF else REVERSED
        centre.detail = (f"{len(ev.placebo)} permutations: mean {_fmt(m, 5)}, sd {_fmt(s, 5)}; "
                         "value: mean / sd")
    else:
        centre.detail = "no placebo draws (freq.blocks without placebo)"
    r = ev.rows(method, "att")
    if r is not None and np.isfinite(r.get("p_value", np.nan)):
        actual.value = float(r["p_value"])
        actual.status = HOLDS if actual.value < 1 - ev.level else FAILS
        actual.detail = (f"actual {_fmt(float(r['actual_estimate']))}, permutation p = "
                         f"{_fmt(actual.value, 4)}")
    else:
        actual.detail = "no placebo row"
    return [centre, actual]


# --- sensitivity and context ------------------------------------------------------------

def breakdown_lens(ev: Evidence, claim: Claim) -> Lens:
    lens = Lens(claim.id, "parallel_trends", "sensitivity",
                f"breakdown value Mbar >= {BREAKDOWN_OK:g} (HonestDiD relative magnitudes)",
                method="honest_did", link=LINKS["honest_did"])
    e = ev.estimates
    rows = e[(e["method"] == "honest_did")
             & e["estimand"].str.startswith("breakdown[relative_magnitudes")]
    if rows.empty:
        lens.detail = "no HonestDiD breakdown values (freq.blocks without honest_did)"
        return lens
    lens.value = float(rows["estimate"].min())
    if not np.isfinite(lens.value):
        lens.detail = "the breakdown value could not be computed"
        return lens
    lens.status = (HOLDS if lens.value >= BREAKDOWN_OK else WEAK if lens.value > 0 else FAILS)
    targets = rows["estimand"].str.extract(r",(event\[-?\d+\])\]$")[0]
    lens.detail = ("smallest over " + ", ".join(targets.astype(str))
                   + ": the effect stays significant until post-period trend changes reach "
                   f"{_fmt(lens.value, 2)} x the largest pre-period one")
    return lens


def first_stage_lens(ev: Evidence, claim: Claim, method: str) -> Lens:
    lens = Lens(claim.id, "first_stage", "condition", f"first-stage F >= {F_OK:g}",
                method=claim.first_stage or "", link=LINKS.get(method, "estimates.csv"))
    r = ev.rows(method, "att")
    f = float(r["first_stage_F"]) if r is not None and "first_stage_F" in r else np.nan
    if not np.isfinite(f):
        lens.detail = "no first-stage F"
        return lens
    lens.value, lens.status = f, HOLDS if f >= F_OK else WEAK
    lens.detail = f"first-stage F = {_fmt(f, 1)}"
    return lens


def agreement_lens(ev: Evidence, claim: Claim, method: str) -> Lens:
    lens = Lens(claim.id, "agreement", "sensitivity",
                "IV estimate within the sampling error of the baseline effect", method=method,
                link=LINKS.get(method, "estimates.csv"))
    iv = ev.rows(method, "att")
    base, base_method = None, ""
    for m in ("imputation", "twfe_controls"):
        base, base_method = ev.rows(m, "att"), m
        if base is not None:
            break
    if iv is None or base is None:
        lens.detail = "needs the IV and a baseline estimate of att"
        return lens
    d = float(iv["estimate"]) - float(base["estimate"])
    s = float(np.hypot(iv["std_error"], base["std_error"]))
    lens.value = d / s
    lens.status = HOLDS if abs(lens.value) <= _z(ev.level) else WEAK
    lens.detail = (f"IV {_fmt(float(iv['estimate']))} vs {base_method} "
                   f"{_fmt(float(base['estimate']))}: difference {_fmt(d)} = "
                   f"{_fmt(lens.value, 2)} SE (combined as independent)")
    return lens


def paper_lens(claim: Claim, level: float) -> Lens:
    pub = claim.published
    lens = Lens(claim.id, "paper", "context", statement(claim),
                detail=str(pub.get("text", "")), link="tables/tables.md")
    comps = _components(claim)
    keys = [e for e, _ in comps] if claim.test == "order" else list(claim.methods)
    values = [pub.get(k) for k in keys]
    if not values or any(not isinstance(v, int | float) for v in values):
        if claim.test in ("no_pretrends", "placebo") and pub.get("text"):
            lens.status = HOLDS  # as the paper reports it (no numbers printed)
        return lens
    v = np.array(values, float)
    lens.value = float(v[0])
    if claim.test == "order":
        lens.status = WEAK if np.all(np.diff(v) < 0) else FAILS  # no SE of the differences
    elif "se" in pub and len(v) == 1:
        z = v[0] / float(pub["se"])
        lens.status = HOLDS if z > _z(level) else WEAK if z > 0 else FAILS
    else:
        lens.status = WEAK if np.all(v > 0) else FAILS
    return lens


def prior_lens(ev: Evidence, claim: Claim) -> Lens | None:
    if (ev.model is None or ev.psense is None or ev.model not in claim.models()
            or claim.test not in ("positive", "order")):
        return None
    lens = Lens(claim.id, "prior", "context",
                "effects not driven by the prior (power-scaling sensitivity)", method="psense",
                link=LINKS["prior"])
    ps = ev.psense
    if "diagnosis" not in ps.columns:
        lens.detail = "psense could not be computed"
        return lens
    strong = ps[ps["diagnosis"].astype(str).str.contains("strong prior")]
    conflict = ps[ps["diagnosis"].astype(str).str.contains("conflict")]
    lens.value = float(ps["prior"].max()) if "prior" in ps else np.nan
    lens.status = WEAK if len(strong) else HOLDS
    lens.detail = (f"{len(strong)} parameter(s) with a strong prior / weak likelihood, "
                   f"{len(conflict)} with a potential prior-data conflict; value: largest "
                   "prior sensitivity; across priors: sweep prior=... (sweep_report.html)")
    return lens


def design_lens(claim: Claim, replication: list[Lens], robust: list[Lens]) -> Lens | None:
    rep = [x for x in replication if x.status != UNAVAILABLE]
    rob = [x for x in robust if x.status != UNAVAILABLE]
    if not rep or not rob:
        return None
    same = all(r.status == rep[0].status for r in rob)
    return Lens(claim.id, "design", "context",
                "the paper's TWFE-type estimator and the robust estimators agree",
                status=HOLDS if same else WEAK, method=rep[0].method,
                detail=f"{rep[0].lens}: {rep[0].status}; "
                       + ", ".join(f"{r.lens}: {r.status}" for r in rob))


def truth_lens(ev: Evidence, claim: Claim) -> Lens | None:
    if not ev.simulated:
        return None
    lens = Lens(claim.id, "truth", "truth", statement(claim), link=LINKS["truth"])
    if claim.test == "placebo":
        att = ev.true_effect("att")
        if att is None:
            lens.detail = "the simulation has no truth for att"
            return lens
        lens.value = float(att > 0)
        lens.status = HOLDS if att > 0 else FAILS
        lens.detail = ("permuted treatments have no effect by construction; the actual "
                       f"estimate belongs outside them when the true att ({_fmt(att)}) > 0")
        return lens
    if claim.test == "no_pretrends":
        lens.detail = ("no exact truth: the simulation sets no pre-trend knob, and the "
                       "differential trend of its untreated outcomes is itself estimated")
        return lens
    comps = _components(claim)
    vals = []
    for e, o in comps:
        group = claim.group_of(e)
        vals.append(ev.true_effect(e, o) if group is None else ev.true_group(group[1], o))
    if any(v is None for v in vals):
        lens.detail = "the simulation has no truth for " + ", ".join(
            _label(e, o) for (e, o), v in zip(comps, vals, strict=True) if v is None)
        return lens
    v = np.array(vals, float)
    true = bool(np.all(np.diff(v) < 0)) if claim.test == "order" else bool(np.all(v > 0))
    lens.value, lens.status = float(true), HOLDS if true else FAILS
    lens.detail = "true effects " + ", ".join(
        f"{_label(e, o)} {_fmt(x)}" for (e, o), x in zip(comps, v, strict=True))
    return lens


# --- one claim, every lens --------------------------------------------------------------

def _effect_lenses(ev: Evidence, claim: Claim) -> tuple[list, list, list]:
    """(replication, robust / posterior, sensitivity) lenses of a positive or order claim."""
    replication = [freq_lens(ev, claim, m, f"replication:{m}", "replication")
                   for m in claim.methods]
    effect = all(parse(e).is_effect or claim.group_of(e) is not None
                 for e, _ in _components(claim)) and claim.outcomes == ("y",)
    robust, sensitivity = [], []
    if claim.robust and effect:
        robust = [freq_lens(ev, claim, m, f"robust:{m}", "evidence") for m in ROBUST_METHODS]
        # a robust estimator the run computed but without these estimands stays, to say so
        robust = [x for x in robust if x.status != UNAVAILABLE or m_has(ev, x.method)]
        if claim.test == "positive":
            sensitivity.append(breakdown_lens(ev, claim))
    robust += [b for b in (bayes_lens(ev, claim, False),) if b is not None]
    sensitivity[:0] = [b for b in (bayes_lens(ev, claim, True),) if b is not None]
    if claim.first_stage:
        sensitivity += [first_stage_lens(ev, claim, m) for m in claim.methods[:1]]
        sensitivity += [agreement_lens(ev, claim, m) for m in claim.methods[:1]]
    sensitivity += [freq_lens(ev, claim, x.method, f"also:{x.method}", x.role,
                              [(e, x.outcome) for e in x.estimands]) for x in claim.also]
    return replication, robust, sensitivity


def _pretrend_lenses(ev: Evidence, claim: Claim) -> tuple[list, list, list]:
    replication = []
    for m in claim.methods:
        wald = wald_lens(ev, claim, m, f"replication:{m}", "replication")
        replication.append(wald if wald.status != UNAVAILABLE
                           else leads_lens(ev, claim, m, f"replication:{m}", "replication"))
    robust = [wald_lens(ev, claim, "imputation", "robust:imputation", "evidence")]
    robust += [leads_lens(ev, claim, m, f"robust:{m}", "evidence")
               for m in ("callaway_santanna", "sun_abraham")]
    robust.append(bayes_leads_lens(ev, claim))
    return replication, [x for x in robust if x is not None and x.status != UNAVAILABLE], []


def _placebo(ev: Evidence, claim: Claim) -> tuple[list, list, list]:
    return [x for m in claim.methods for x in placebo_lenses(ev, claim, m)], [], []


LENSES_OF = {"positive": _effect_lenses, "order": _effect_lenses,
             "no_pretrends": _pretrend_lenses, "placebo": _placebo}


def claim_lenses(ev: Evidence, claim: Claim) -> list[Lens]:
    """Every lens of ``claim`` and its verdict row (last). The paper's own estimator is
    evidence only where no robust estimator or posterior speaks to the claim."""
    replication, robust, sensitivity = LENSES_OF[claim.test](ev, claim)
    has_robust = any(x.status != UNAVAILABLE for x in robust)
    for x in replication:
        if x.role == "replication":
            x.role = "context" if has_robust else "evidence"
    design = design_lens(claim, [x for x in replication if x.lens.startswith("replication:")],
                         [x for x in robust if x.lens.startswith("robust:")])
    lenses = [paper_lens(claim, ev.level), *replication, *robust, *sensitivity]
    lenses += [x for x in (design, prior_lens(ev, claim), truth_lens(ev, claim))
               if x is not None]
    result, rule = verdict_of([x.role for x in lenses], [x.status for x in lenses])
    counted = [x.lens for x in lenses if x.role == "evidence" and x.status != UNAVAILABLE]
    lenses.append(Lens(claim.id, "verdict", "verdict", statement(claim), status=result,
                       verdict=result,
                       detail=f"rule: {rule}; evidence: {', '.join(counted) or 'none'}"))
    return lenses


def m_has(ev: Evidence, method: str) -> bool:
    """Whether the run computed ``method`` at all."""
    return bool((ev.estimates["method"] == method).any())


def assess(claims: ClaimSet, ev: Evidence) -> pd.DataFrame:
    """``claims.csv``: one row per claim x lens (columns :data:`COLUMNS`), the verdict row
    last for each claim."""
    records = []
    for claim in claims.claims:
        lenses = claim_lenses(ev, claim)
        truth = next((x for x in lenses if x.lens == "truth"), None)
        sim = (bool(truth.value) if truth is not None and np.isfinite(truth.value) else None)
        for x in lenses:
            rec = asdict(x)
            rec.update(text=claim.text, source=claim.source,
                       simulated_truth=pd.NA if sim is None else sim)
            records.append(rec)
    frame = pd.DataFrame(records)
    return frame[COLUMNS] if len(frame) else pd.DataFrame(columns=COLUMNS)


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: its verdict (and the simulated truth when known)."""
    v = table[table["lens"] == "verdict"]
    return v[["claim", "verdict", "simulated_truth", "text", "detail"]].reset_index(drop=True)


__all__ = ["COLUMNS", "Lens", "assess", "claim_lenses", "verdicts"]
