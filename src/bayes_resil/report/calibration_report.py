"""``calibration_report.html`` / ``.md`` of a calibration study, and its figures.

Order: under-covering estimators and failed diagnostics first (red), the simulated-data notice,
what was run, the headline table (att, region and cohort ATTs, event[0..3]), the figures, the
SBC verdicts, failed units, then every row of ``calibration.csv``. Cells carry the
full-precision value in ``data-value``, as in the run report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from ..calibration.summary import headline
from ..estimand import parse
from ..outputs import write_text
from ..plots import save_figure
from ..plots.calibration import plot_coverage, plot_width_coverage
from .document import Alert, Block, Cell, Figure, Heading, Paragraph, Table, to_html
from .document import to_markdown as render_markdown
from .run_report import fmt

TABLE_COLUMNS = [("replications", 0), ("coverage", 3), ("coverage_mcse", 3),
                 ("coverage_flag", None), ("bias", 4), ("bias_mcse", 4), ("rmse", 4),
                 ("emp_sd", 4), ("mean_se", 4), ("se_ratio", 2), ("mean_width", 4),
                 ("reject_zero", 3), ("failed", 0), ("errors", 0),
                 ("coverage_population", 3)]


def _cell(value, digits, key: dict) -> Cell | str:
    if digits is None:
        return "" if pd.isna(value) else str(value)
    if pd.isna(value):
        return ""
    text = fmt(value, digits) if digits else str(int(value))
    return Cell(text, {**key, "value": repr(float(value))})


def calibration_blocks_table(table: pd.DataFrame, caption: str, name: str) -> Table:
    header = ["method", "estimand", "outcome", *[c for c, _ in TABLE_COLUMNS]]
    rows = []
    for r in table.itertuples(index=False):
        key = {"method": r.method, "estimand": r.estimand, "outcome": r.outcome}
        rows.append([r.method, r.estimand, r.outcome,
                     *[_cell(getattr(r, c), d, {**key, "field": c}) for c, d in TABLE_COLUMNS]])
    return Table(header, rows, caption=caption, name=name)


def figures(out: Path, table: pd.DataFrame) -> list[tuple[str, str]]:
    """Write the coverage and width figures; (file stem, caption) of each."""
    done: list[tuple[str, str]] = []
    if table.empty:
        return done
    head = headline(table)
    if head["coverage"].notna().any():
        save_figure(plot_coverage(head, title="Coverage of the headline estimands"),
                    out / "figures" / "coverage")
        done.append(("coverage", "Coverage with +-2 Monte-Carlo SE against the nominal level "
                                 "(att, region and cohort ATTs, event[0..3])"))
    no_cells = table[table["estimand"].map(lambda e: parse(e).kind != "cell").astype(bool)]
    if no_cells["coverage"].notna().any():
        save_figure(plot_coverage(no_cells, title="Coverage of every estimand"),
                    out / "figures" / "coverage_all")
        done.append(("coverage_all", "Coverage of every method x estimand but the single "
                                     "cohort x period cells (those are in calibration.csv)"))
    if table["se_ratio"].notna().any():
        save_figure(plot_width_coverage(table), out / "figures" / "width_coverage")
        done.append(("width_coverage", "Interval width and SE ratio against coverage"))
    return done


def calibration_blocks(out: Path, table: pd.DataFrame, rows: pd.DataFrame,
                       sbc: pd.DataFrame | None, *, info: Sequence[tuple[str, str]],
                       figs: list[tuple[str, str]]) -> list[Block]:
    blocks: list[Block] = []
    under = table[table["coverage_flag"] == "under-covers"]
    if len(under):
        blocks.append(Alert(
            f"{len(under)} method x estimand(s) under-cover (exact binomial test of coverage "
            "= nominal level)", [f"{r.method} {r.estimand} ({r.outcome}): coverage "
                                 f"{r.coverage:.3f} +- {r.coverage_mcse:.3f}"
                                 for r in under.itertuples()]))
    failed = table[table["failed"].fillna(0) > 0]
    if len(failed):
        blocks.append(Alert("MCMC diagnostics failed in some replications (counted here, not "
                            "dropped)", [f"{m}: {int(n)} replication(s)" for m, n in
                                         failed.groupby("method")["failed"].max().items()]))
    errors = rows[rows["error"].notna()] if "error" in rows else rows.iloc[:0]
    if len(errors):
        blocks.append(Alert(f"{len(errors)} unit(s) of work failed (recorded, the study went on)",
                            [f"replication {r.replication}, {r.method}: {r.error}"
                             for r in errors.head(20).itertuples()], "warning"))
    if sbc is not None and (sbc["verdict"] != "uniform").any():
        bad = sbc[sbc["verdict"] != "uniform"]
        blocks.append(Alert("SBC: ranks not uniform for some parameters",
                            [f"{r.model} {r.parameter}: p = {r.p_value:.4f}"
                             for r in bad.itertuples()]))
    blocks.append(Alert("SIMULATED DATA: every panel of this study is simulated with known "
                        "true effects.", kind="warning"))
    blocks += [Heading("What was run"), Table(["", ""], [list(i) for i in info], name="info"),
               Paragraph("Truth: the average true effect over the treated city-years in each "
                         "estimator's own estimation sample (coverage); coverage_population "
                         "scores the same intervals against the mean over replications of the "
                         "effect on every treated city-year (the expected effect for these "
                         "cities, what a clustered SE aims at). se_ratio = mean SE or "
                         "posterior sd / sd of (estimate - truth); reject_zero = share of "
                         "intervals excluding 0 (under a null: the false-positive rate). "
                         "Monte-Carlo SEs as Morris, White & Crowther (2019).")]
    head = headline(table)
    if len(head):
        blocks += [Heading("Headline estimands"),
                   calibration_blocks_table(head, "att, region and cohort ATTs, event[0..3]",
                                            "headline")]
    for stem, caption in figs:
        blocks.append(Figure(out / "figures" / f"{stem}.png", f"figures/{stem}.png", caption))
    if sbc is not None and len(sbc):
        blocks += [Heading("Simulation-based calibration"),
                   Paragraph("Parameters drawn from each model's prior, data from the model on "
                             "the study's design, the model fitted to each data set; the rank of "
                             "the drawn value among thinned posterior draws is uniform when the "
                             "model code and the sampler are right (PIT uniformity test: "
                             "arviz_stats pot_c; verdict at 0.01 / number of parameters)."),
                   Table(["model", "parameter", "simulations", "p_value", "verdict",
                          "failed diagnostics"],
                         [[r.model, r.parameter, str(r.simulations), fmt(r.p_value, 4),
                           r.verdict, str(r.failed)] for r in sbc.itertuples()], name="sbc")]
        for stem in sorted({f"sbc_{m}" for m in sbc["model"]}):
            png = out / "figures" / f"{stem}.png"
            if png.is_file():
                blocks.append(Figure(png, f"figures/{stem}.png", f"SBC rank ECDFs: {stem[4:]}"))
    blocks += [Heading("Every method x estimand"),
               calibration_blocks_table(table, "calibration.csv", "calibration"),
               Paragraph("Machine-readable: calibration.csv (this table, with MC SEs and the "
                         "truth's mean and spread), calibration_rows.csv (one row per "
                         "replication x method x estimand), sbc.csv, replications/ (each "
                         "unit of work, reused by later studies through its key).")]
    return blocks


def write_calibration_report(cfg: DictConfig, out: Path, table: pd.DataFrame,
                             rows: pd.DataFrame, sbc: pd.DataFrame | None, *,
                             info: Sequence[tuple[str, str]]) -> list[str]:
    """Figures plus ``calibration_report.md`` / ``.html``; returns the files written."""
    figs = figures(out, table)
    blocks = calibration_blocks(out, table, rows, sbc, info=info, figs=figs)
    title = f"bayes_resil calibration study: {out.name}"
    write_text(render_markdown(title, blocks), out / "calibration_report.md")
    write_text(to_html(title, blocks), out / "calibration_report.html")
    return [*(f"figures/{s}.png|svg" for s, _ in figs), "calibration_report.html|md"]
