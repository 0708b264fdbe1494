"""The run summary: a short text for ``summary.txt`` and the terminal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .bayes.population import POPULATION
from .estimand import parse
from .study import StudyData

RULE = "=" * 78


def _fmt(x: float, digits: int = 4) -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def design_lines(data: StudyData) -> list[str]:
    p = data.panel
    units = p.drop_duplicates("unit")
    cohorts = units["cohort"].dropna().astype(int).value_counts().sort_index()
    first, last = data.periods
    lines = [
        f"Panel: {data.n_units} units x {p['time'].nunique()} periods ({first}-{last}), "
        f"{len(p)} rows; {int(cohorts.sum())} treated units in {len(cohorts)} cohort(s) "
        f"({', '.join(f'{k}: {v}' for k, v in cohorts.items())}); "
        f"{int(units['cohort'].isna().sum())} never treated.",
        f"Outcome y: {data.outcome_label}; mean {_fmt(p['y'].mean())}, "
        f"sd {_fmt(p['y'].std())}, {int(p['y'].notna().sum())} non-missing.",
    ]
    if data.weights is not None:
        top = data.weights.sort_values("weight", ascending=False).head(3)
        lines.append("Heaviest index weights: " + ", ".join(
            f"{r.indicator} {r.weight:.3f}" for r in top.itertuples()))
    miss = data.missing
    if len(miss):
        lines.append("Missing values (listwise deletion per estimate): " + ", ".join(
            f"{k} {v}" for k, v in miss.items()))
    lines += [f"Note: {n}" for n in data.notes]
    return lines


def estimates_lines(est: pd.DataFrame) -> list[str]:
    """Headline rows: effects on the outcome, indirect effects, and the tests."""
    cells = est["estimand"].map(lambda n: parse(n).kind in ("cell", "time"))
    keep = (((est["outcome"] == "y") & est["estimand"].str.match(r"(att|indirect)") & ~cells)
            | (est["method"] == "iv_first_stage")) & ~est["method"].str.startswith("bayes_")
    lines = []
    if cells.any():
        lines.append(f"  ({int(cells.sum())} cohort x period and calendar-period rows in "
                     "estimates.csv)")
    for r in est[keep].itertuples():
        level = int(round(100 * r.ci_level))
        extra = ""
        if r.method == "placebo":
            extra = f"  permutation p={_fmt(r.p_value, 3)} (actual {_fmt(r.actual_estimate)})"
        elif r.method.startswith("iv_"):
            extra = f"  first-stage F={r.first_stage_F:.1f}"
        lines.append(
            f"  {r.method:<20} {r.estimand:<26} {_fmt(r.estimate)} (se {_fmt(r.std_error)})  "
            f"{level}% CI [{_fmt(r.ci_lower)}, {_fmt(r.ci_upper)}]  n={r.n_obs}{extra}"
        )
    for r in est[est["estimand"] == "pretrend_wald"].itertuples():
        lines.append(f"  pre-trend test ({r.method}): F({int(r.df1)}, {int(r.df2)}) = "
                     f"{_fmt(r.statistic, 2)}, p = {_fmt(r.p_value, 3)}")
    return lines


def claims_lines(path: Path) -> list[str]:
    """The paper's claims and their verdicts (``claims.csv``), one line each."""
    if not path.is_file():
        return []
    table = pd.read_csv(path)
    rows = table[table["lens"] == "verdict"]
    lines = ["", "The paper's claims (claims.csv; rules in the report):"]
    for r in rows.itertuples():
        truth = ""
        known = str(getattr(r, "simulated_truth", "")) in ("True", "False")
        if known:
            truth = f"  [simulated truth: {str(r.simulated_truth).lower()}]"
        lines.append(f"  {r.claim:<20} {r.verdict:<14}{truth}".rstrip())
    return lines


def bayes_lines(bayes) -> list[str]:
    """The Bayesian block, with a failed-diagnostics banner nobody can miss."""
    diag = bayes.checks
    name = bayes.built.name
    lines = []
    if not diag.passed:
        lines += ["!" * 78, f"!!! MCMC DIAGNOSTICS FAILED for model={name}: do not trust these "
                  "posterior summaries", *[f"!!!   - {f}" for f in diag.failures], "!" * 78]
    lines.append(f"Bayesian model {name} ({'; '.join(bayes.built.notes)}): sampling "
                 f"{bayes.timings.get('sampling_wall', float('nan')):.1f} s, divergences "
                 f"{diag.divergences}, min BFMI {diag.bfmi_min:.2f}, diagnostics "
                 f"{'passed' if diag.passed else 'FAILED'}")
    eff = diag.table[diag.table["is_effect"]]
    if len(eff):
        lines.append(f"  effect parameters: max R-hat {eff['r_hat'].max():.3f}, min bulk ESS "
                     f"{eff['ess_bulk'].min():.0f}, min tail ESS {eff['ess_tail'].min():.0f}")
    sample = [r for r in bayes.rows if not r.method.endswith(POPULATION)]
    # the sample rows first; of the population-level rows, the overall effect
    shown = sample[:12] + [r for r in bayes.rows if r.method.endswith(POPULATION)
                           and r.estimand == "att"]
    width = max((len(r.method) for r in shown), default=20)
    for r in shown:
        level = int(round(100 * r.ci_level))
        lines.append(f"  {r.method:<{width}} {r.estimand:<26} {_fmt(r.estimate)} (sd "
                     f"{_fmt(r.std_error)})  {level}% CrI [{_fmt(r.ci_lower)}, "
                     f"{_fmt(r.ci_upper)}]  P(>0)={r.extra['prob_positive']:.3f}")
    if len(shown) < len(bayes.rows):
        lines.append(f"  ... {len(bayes.rows) - len(shown)} more rows in estimates.csv")
    if len(shown) > len(sample[:12]):
        lines.append(f"  bayes_{bayes.built.name}: effects on this panel's treated city-years;"
                     f" bayes_{bayes.built.name}{POPULATION}: on cities like them (wider: the "
                     "effect varies across cities)")
    return lines


def render_summary(data: StudyData, est: pd.DataFrame, out_dir: Path, files: list[str],
                   convention: str, skipped: list[str] | None = None,
                   notes: list[str] | None = None, bayes=None, failed=()) -> str:
    """Plain-text summary of one run; ``failed``: the steps that did not end ok
    (:class:`~bayes_resil.steps.StepStatus`)."""
    lines = [RULE, f"bayes_resil run: {out_dir}", RULE]
    if failed:
        lines += [f"!!! {len(failed)} STEP(S) NOT COMPUTED (the other results are complete; "
                  "steps.csv / skipped.csv):", *[f"!!!   - {s.line()}" for s in failed]]
    if bayes is not None and not bayes.checks.passed:
        lines += [f"!!! WARNING: MCMC diagnostics FAILED ({len(bayes.checks.failures)} "
                  "check(s)); details below !!!"]
    if data.simulated:
        lines += ["*** THESE DATA ARE SIMULATED (real design, simulated outcomes with known "
                  "true effects). ***"]
    lines += [f"Data: {data.source}", *design_lines(data), "",
              f"Estimates ({convention}):", *estimates_lines(est)]
    if data.truth is not None:
        att = data.truth.query("estimand == 'att' and outcome == 'y'")["true_effect"].iloc[0]
        lines += [f"  {'true ATT (simulation)':<47} {_fmt(att)}"]
    lines += [f"Skipped: {s}" for s in skipped or []]
    lines += [f"Note: {n}" for n in notes or []]
    if bayes is not None:
        lines += ["", *bayes_lines(bayes)]
    lines += claims_lines(out_dir / "claims.csv")
    lines += ["", "Files: " + ", ".join(files), RULE]
    return "\n".join(lines) + "\n"
