"""The text a calibration study prints at the end (and writes to ``summary.txt``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..estimand import parse

HEADLINE_KINDS = ("att", "region", "cohort")
HEADLINE_EVENTS = (0, 1, 2, 3)


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The rows worth a first look: att, region and cohort ATTs, event[0..3] of the outcome."""
    def keep(name: str) -> bool:
        e = parse(name)
        return e.kind in HEADLINE_KINDS or (e.kind == "event" and e.event in HEADLINE_EVENTS)

    if table.empty:
        return table
    return table[(table["outcome"] == "y") & table["estimand"].map(keep).astype(bool)]


def _f(v, digits: int = 4) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{digits}f}"


def _s(v) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else str(v)


def summary_text(table: pd.DataFrame, sbc: pd.DataFrame | None, out: Path,
                 files: list[str], seconds: float) -> str:
    lines = ["SIMULATED DATA: a calibration study on simulated panels (known true effects).", ""]
    head = headline(table)
    if len(head):
        w = max(26, int(head["method"].str.len().max()) + 2)
        lines.append(f"{'method':<{w}}{'estimand':<18}{'n':>5}{'coverage':>10}{'flag':>14}"
                     f"{'bias':>9}{'se_ratio':>9}{'reject0':>8}{'failed':>7}{'cov_pop':>8}")
        for r in head.itertuples():
            failed = "" if pd.isna(r.failed) else str(int(r.failed))
            lines.append(f"{r.method:<{w}}{r.estimand:<18}{r.replications:>5}"
                         f"{_f(r.coverage, 3):>10}{_s(r.coverage_flag):>14}"
                         f"{_f(r.bias):>9}{_f(r.se_ratio, 2):>9}{_f(r.reject_zero, 2):>8}"
                         f"{failed:>7}{_f(getattr(r, 'coverage_population', None), 2):>8}")
        lines.append("coverage against the effect on the treated city-years of each estimator's "
                     "sample; flag: exact binomial test of coverage = ci_level; cov_pop: "
                     "coverage of the expected effect over replications (the population-level "
                     "quantity that clustered SEs and the bayes_*_population rows aim at)")
    under = table[table["coverage_flag"] == "under-covers"]
    if len(under):
        lines += ["", f"UNDER-COVERAGE: {len(under)} method x estimand(s), e.g. "
                  + ", ".join(f"{m} {e} ({c:.2f})" for m, e, c in
                              under[["method", "estimand", "coverage"]].head(6).itertuples(
                                  index=False))]
    failed = table[table["failed"].fillna(0) > 0]
    if len(failed):
        lines += ["", "MCMC diagnostics failed in some replications: "
                  + ", ".join(f"{m}: {int(n)}" for m, n in
                              failed.groupby("method")["failed"].max().items())]
    if sbc is not None and len(sbc):
        lines += ["", "Simulation-based calibration (rank uniformity, PIT test):"]
        for r in sbc.itertuples():
            lines.append(f"  {r.model:<16}{r.parameter:<28}p = {r.p_value:.3f}  {r.verdict}")
    lines += ["", f"Study directory: {out.resolve()}", "Files: " + ", ".join(files),
              f"Finished in {seconds:.1f} s.", ""]
    return "\n".join(lines)
