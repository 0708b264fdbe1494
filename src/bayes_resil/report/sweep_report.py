"""``sweep_report.html`` (and ``sweep_report.md``) of a multirun directory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..outputs import write_csv, write_text
from .claims_section import sweep_claims_blocks, sweep_verdicts
from .document import Alert, Block, Cell, Figure, Heading, Paragraph, Table, to_html
from .document import to_markdown as render_markdown
from .run_report import fmt, frame_table


def sweep_blocks(sweep_dir: Path, table: pd.DataFrame, loo: pd.DataFrame | None,
                 *, estimand: str = "att") -> list[Block]:
    jobs = table.drop_duplicates("job")
    failed = jobs[jobs["status"].str.startswith("failed")]
    unfinished = jobs[jobs["status"] == "incomplete"]
    blocks: list[Block] = []
    if len(failed):
        blocks.append(Alert(f"{len(failed)} job(s) failed", [
            f"job {r.job} ({r.overrides}): {r.status.removeprefix('failed: ')}"
            for r in failed.itertuples()]))
    done = table[table["status"] == "finished"]
    if "diagnostics_ok" in done:
        bad = done[done["diagnostics_ok"].astype("boolean").eq(False).fillna(False)]
        if len(bad):
            blocks.append(Alert(f"MCMC diagnostics failed in {bad['job'].nunique()} job(s): "
                                "do not trust their posterior summaries",
                                [f"job {j}" for j in bad["job"].unique()]))
    if len(unfinished):
        blocks.append(Alert(f"{len(unfinished)} job(s) did not finish", [
            f"job {r.job} ({r.overrides})" for r in unfinished.itertuples()], "warning"))
    if "data_source" in done and (done["data_source"] == "simulated").any():
        blocks.append(Alert("SIMULATED DATA in this sweep (known true effects).", kind="warning"))
    rows = []
    for r in jobs.itertuples():
        job_dir = sweep_dir / str(r.job)
        link = f"{r.job}/report.html" if (job_dir / "report.html").is_file() else None
        reused = getattr(r, "reused_from", "")
        rows.append([Cell(str(r.job), href=link), r.overrides, r.status,
                     "" if pd.isna(reused) else str(reused)])
    blocks += [Paragraph(f"Sweep directory: {sweep_dir.resolve()}"), Heading("Jobs"),
               Table(["job", "overrides", "status", "reused from"], rows, name="jobs")]
    if "method" in done:
        head = done[(done["estimand"] == estimand) & (done["outcome"] == "y")
                    & done["method"].str.match(r"^(bayes_|twfe)")]
        cells = [[str(r.job), r.overrides, r.method,
                  Cell(fmt(r.estimate), {"job": str(r.job), "method": r.method,
                                         "field": "estimate", "value": repr(r.estimate)}),
                  fmt(r.std_error), fmt(r.ci_lower), fmt(r.ci_upper),
                  "" if pd.isna(r.diagnostics_ok) else str(bool(r.diagnostics_ok))]
                 for r in head.itertuples()]
        blocks += [Heading(f"Headline effect ({estimand}) by job"),
                   Table(["job", "overrides", "method", "estimate", "SE / sd", "lower",
                          "upper", "diagnostics ok"], cells, name="headline")]
    verdicts = sweep_verdicts(sweep_dir, jobs)
    if len(verdicts):
        write_csv(verdicts, sweep_dir / "sweep_claims.csv")
    blocks += sweep_claims_blocks(verdicts)
    png = sweep_dir / "sweep_comparison.png"
    if png.is_file():
        blocks.append(Figure(png, "sweep_comparison.png",
                             f"{estimand} across jobs (OLS TWFE dashed)"))
    if loo is not None and len(loo):
        blocks += [Heading("PSIS-LOO model comparison (same observations only)"),
                   Paragraph("Ranked by expected log predictive density within each group of "
                             "jobs fitted to the same outcome values; weights by stacking.")]
        warn = loo[loo["n_k_bad"] > 0]
        if len(warn):
            blocks.append(Alert("Pareto k warnings: PSIS-LOO is unreliable for some "
                                "observations", [f"job {r.job}: {r.warning}"
                                                 for r in warn.itertuples()], "warning"))
        blocks.append(frame_table(loo, columns=["group", "job", "rank", "elpd_loo", "se",
                                                "p_loo", "elpd_diff", "dse", "weight",
                                                "pareto_k_max", "n_k_bad"], digits=2,
                                  name="loo"))
    blocks.append(Paragraph("Machine-readable: sweep_comparison.csv, sweep_claims.csv, "
                            "loo_comparison.csv, "
                            "loo_influential.csv (the city-years PSIS-LOO flags); every job's "
                            "own report.html is linked from the jobs table."))
    return blocks


def write_sweep_report(sweep_dir: Path, table: pd.DataFrame,
                       loo: pd.DataFrame | None = None) -> list[str]:
    blocks = sweep_blocks(sweep_dir, table, loo)
    title = f"bayes_resil sweep report: {sweep_dir.name}"
    write_text(render_markdown(title, blocks), sweep_dir / "sweep_report.md")
    write_text(to_html(title, blocks), sweep_dir / "sweep_report.html")
    return ["sweep_report.md", "sweep_report.html"]
