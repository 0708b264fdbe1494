"""``report.md`` and ``report.html`` of one run, built from the files the run wrote.

Order: failed diagnostics (red) and the simulated-data notice at the top; the paper's claims
and their verdicts (:mod:`.claims_section`); what was run; the
panel; the index weights; the headline frequentist estimates; the paper's tables beside the
published numbers; event-time estimators; the Bayesian effects; posterior vs OLS; diagnostics;
every figure; then all rows of ``estimates.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..bayes.status import saved_status
from ..outputs import write_text
from ..steps import not_ok
from ..tables import PAPER_TABLES, cell_rows
from .claims_section import claims_blocks
from .document import Alert, Block, Bullets, Cell, Figure, Heading, Paragraph, Table, to_html
from .document import to_markdown as render_markdown

FIGURE_CAPTIONS = {
    "event_study": "TWFE event study (binned leads and lags, reference period -1)",
    "event_estimators": "Event-time effects by estimator (TWFE, Sun-Abraham, "
                        "Callaway-Sant'Anna, imputation)",
    "placebo": "Placebo: distribution of permuted-treatment estimates",
    "bacon": "Goodman-Bacon decomposition of the TWFE estimate",
    "honest_did": "Sensitivity of the post-period effect to violations of parallel trends",
    "prior_predictive": "Prior predictive check",
    "forest": "Posterior effects beside the OLS estimates",
    "densities": "Posterior densities of the effects",
    "shrinkage": "Shrinkage of group effects toward the pooled mean",
    "event_overlay": "Bayesian event-time effects beside OLS",
    "trace": "Trace plot (MCMC)",
    "rank": "Rank plot (MCMC mixing)",
    "energy": "Energy plot (BFMI)",
}
FIRST_FIGURES = ("forest", "densities", "shrinkage", "event_overlay", "event_study",
                 "event_estimators", "placebo", "bacon", "honest_did", "prior_predictive")


def fmt(x, digits: int = 4) -> str:
    """A number for a table cell: ``digits`` decimals, blank when missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "" if x is None else str(x)
    if not np.isfinite(v):
        return ""
    return f"{v:.{digits}f}"


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def estimate_table(est: pd.DataFrame, caption: str, name: str) -> Table:
    """Estimate rows with ``data-*`` attributes holding the full-precision values."""
    header = ["method", "estimand", "outcome", "estimate", "SE / sd", "CI lower", "CI upper",
              "p", "n"]
    rows = []
    for r in est.itertuples():
        ident = {"method": r.method, "estimand": r.estimand, "outcome": r.outcome}

        def num(field: str, value, digits: int = 4, ident=ident) -> Cell:
            return Cell(fmt(value, digits), {**ident, "field": field, "value": repr(value)})

        rows.append([r.method, r.estimand, str(r.outcome), num("estimate", r.estimate),
                     num("std_error", r.std_error), num("ci_lower", r.ci_lower),
                     num("ci_upper", r.ci_upper), fmt(getattr(r, "p_value", np.nan), 3),
                     fmt(r.n_obs, 0)])
    return Table(header, rows, caption, name)


def frame_table(frame: pd.DataFrame, caption: str = "", *, digits: int = 4,
                columns: Sequence[str] | None = None, name: str = "") -> Table:
    frame = frame[[c for c in (columns or frame.columns) if c in frame.columns]]
    rows = [[fmt(v, digits) if isinstance(v, float | np.floating) else str(v) for v in row]
            for row in frame.itertuples(index=False)]
    return Table(list(frame.columns), rows, caption, name)


def _paper_tables(out: Path) -> list[Block]:
    blocks: list[Block] = []
    for spec in PAPER_TABLES:
        tidy = _read(out / "tables" / f"{spec.name}.csv")
        if tidy is None or tidy.empty:
            continue
        tidy["stars"] = tidy["stars"].fillna("")
        tidy["text"] = tidy["text"].fillna("") if "text" in tidy else ""
        header, body = cell_rows(tidy, 4)
        blocks.append(Table(header, body, spec.title, spec.name))
    return blocks


def _figures(out: Path) -> list[Block]:
    pngs = {p.stem: p for p in sorted((out / "figures").glob("*.png"))}
    order = [n for n in FIRST_FIGURES if n in pngs] + [n for n in pngs if n not in FIRST_FIGURES]
    return [Figure(pngs[n], f"figures/{n}.png", FIGURE_CAPTIONS.get(n, n)) for n in order]


def _diagnostic_blocks(diag: pd.DataFrame | None) -> tuple[list[Block], list[Block]]:
    """(alert for the top, section body) from ``diagnostics.csv``."""
    if diag is None:
        return [], []
    ok, failures = saved_status(diag)
    top: list[Block] = [] if ok else [Alert(
        "MCMC DIAGNOSTICS FAILED: do not trust the posterior summaries below",
        failures or ["see the diagnostics table"], "error")]
    thresholds = {c.removeprefix("threshold_"): diag[c].iloc[0] for c in diag.columns
                  if c.startswith("threshold_")}
    body: list[Block] = [
        Paragraph(f"Diagnostics {'passed' if ok else 'FAILED'}: divergences "
                  f"{int(diag['divergences'].iloc[0])}, "
                  f"min BFMI {fmt(diag['bfmi_min'].iloc[0], 2)}."
                  " Thresholds: " + ", ".join(f"{k} {v}" for k, v in thresholds.items()) + "."),
        frame_table(diag, columns=["parameter", "is_effect", "r_hat", "ess_bulk", "ess_tail",
                                   "mcse_mean"], digits=3, name="diagnostics"),
    ]
    return top, body


def run_blocks(out: Path, *, info: Sequence[tuple[str, str]], panel_lines: Sequence[str],
               convention: str, simulated: bool, notes: Sequence[str] = (),
               steps: Sequence = ()) -> list[Block]:
    """The blocks of a run report, from the files in ``out`` and the run's context
    (``steps``: every step's :class:`~bayes_resil.steps.StepStatus`)."""
    est = pd.read_csv(out / "estimates.csv")
    diag = _read(out / "diagnostics.csv")
    top, diag_body = _diagnostic_blocks(diag)
    failed = not_ok(steps)
    blocks: list[Block] = [Alert(
        f"{len(failed)} step(s) not computed; the other results below are complete",
        [s.line() for s in failed],
        "error" if any(s.status == "error" for s in failed) else "warning")] if failed else []
    blocks += top
    if simulated:
        blocks.append(Alert("SIMULATED DATA: the real design with simulated outcomes and known "
                            "true effects; not the paper's data.", kind="warning"))
    blocks += claims_blocks(_read(out / "claims.csv"), out)
    blocks += [Heading("What was run"), Table(["", ""], [list(kv) for kv in info], name="run")]
    blocks += [Heading("Panel"), Bullets(list(panel_lines))]
    if steps:
        blocks += [Heading("Steps"), Table(
            ["step", "kind", "status", "seconds", "reason"],
            [[s.step, s.kind, s.status, f"{s.seconds:.2f}", s.reason] for s in steps],
            name="steps")]
    weights = _read(out / "index_weights.csv")
    if weights is not None:
        blocks += [Heading("Index weights"), frame_table(
            weights.sort_values("weight", ascending=False),
            columns=["indicator", "label", "dimension", "direction", "weight",
                     "published_weight"], name="index_weights")]
    freq = est[~est["method"].str.startswith("bayes_")]
    # overall and per-group effects; not event times, calendar times or single (g, t) cells
    head = freq[(freq["outcome"] == "y")
                & freq["estimand"].str.match(r"^(att|indirect)(\[(?!time=)[^,\]]*\])?$")]
    blocks += [Heading("Frequentist estimates"), Paragraph(f"Convention: {convention}."),
               estimate_table(head, "Headline estimates (outcome y)", "headline")]
    truth = _read(out / "truth.csv")
    if truth is not None:
        att = truth.query("estimand == 'att' and outcome == 'y'")["true_effect"]
        if len(att):
            blocks.append(Paragraph(f"True ATT of the simulation: {fmt(att.iloc[0])}."))
    if notes:
        blocks.append(Bullets(list(notes)))
    paper = _paper_tables(out)
    if paper:
        blocks += [Heading("Paper tables (ours beside the published numbers)"), *paper]
    event = _read(out / "tables" / "event_time_estimators.csv")
    if event is not None:
        blocks += [Heading("Event-time estimators"), frame_table(event, name="event_time")]
    bayes = est[est["method"].str.startswith("bayes_")]
    if len(bayes):
        blocks += [Heading("Bayesian effects"),
                   estimate_table(bayes, "Posterior mean, sd and credible interval",
                                  "bayes")]
        comparison = _read(out / "comparison.csv")
        if comparison is not None:
            blocks += [Heading("Posterior vs OLS"), frame_table(comparison, columns=[
                "estimand", "posterior_mean", "posterior_sd", "ols_method", "ols_estimate",
                "ols_se", "diff_in_ols_se", "width_ratio", "shrinkage_factor",
                "true_effect", "posterior_covers_truth", "ols_covers_truth"],
                name="comparison")]
        blocks += [Heading("MCMC diagnostics"), *diag_body]
    figures = _figures(out)
    if figures:
        blocks += [Heading("Figures"), *figures]
    blocks += [Heading("All estimates (estimates.csv)"),
               estimate_table(est, "", "all_estimates")]
    return blocks


def write_run_report(out: Path, **context) -> list[str]:
    """Write ``report.md`` and ``report.html`` into ``out``; return their names."""
    blocks = run_blocks(out, **context)
    title = f"bayes_resil run report: {out.name}"
    write_text(render_markdown(title, blocks), out / "report.md")
    write_text(to_html(title, blocks), out / "report.html")
    return ["report.md", "report.html"]
