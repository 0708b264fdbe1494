"""The claims table: the first section of a run report (and a sweep's verdicts by run).

One row per claim: its verdict, then one cell per group of lenses (the paper, our replication,
the robust estimators, the posterior for these units and for the population, sensitivity, the
simulated truth), coloured by status and linked to the figure or table behind it. The full
``claims.csv`` follows, then the verdict rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..claims.verdict import RULES
from .document import Block, Bullets, Cell, Heading, Paragraph, Table

#: report column -> lens-name prefixes
GROUPS = {
    "paper": ("paper",),
    "replication (paper's estimator)": ("replication:",),
    "robust estimators": ("robust:",),
    "posterior: these units": ("bayes:",),
    "posterior: population": ("bayes_population:",),
    "conditions": ("first_stage", "placebo_centre"),
    "sensitivity": ("parallel_trends", "agreement", "also:", "design", "prior"),
    "simulated truth": ("truth",),
}
SEVERITY = {"reversed": 4, "fails": 3, "weak": 2, "holds": 1, "unavailable": 0}
SHORT = {"callaway_santanna": "CS", "sun_abraham": "SA", "imputation": "BJS",
         "relative_magnitudes": "RM"}


def _value(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v):
        return ""
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def _name(lens: str) -> str:
    tail = lens.split(":", 1)[1] if ":" in lens else lens
    return SHORT.get(tail, tail)


def _cell(rows: pd.DataFrame, out: Path | None) -> Cell:
    rows = rows[rows["status"] != "unavailable"] if (rows["status"] != "unavailable").any() \
        else rows
    worst = max(rows["status"], key=lambda s: SEVERITY.get(s, 0))
    parts = []
    for r in rows.itertuples():
        label = "" if len(rows) == 1 else f"{_name(r.lens)} "
        parts.append(f"{label}{r.status} {_value(r.value)}".strip())
    link = next((str(r) for r in rows["link"] if isinstance(r, str) and r
                 and (out is None or (out / str(r)).is_file())), None)
    return Cell("; ".join(parts), {"status": worst}, href=link, css=f"s-{worst}")


def claims_blocks(claims: pd.DataFrame | None, out: Path | None = None) -> list[Block]:
    """The report's claims section from ``claims.csv`` (nothing when there is none); a lens
    cell links to its figure or table when that file is in the run directory ``out``."""
    if claims is None or claims.empty:
        return []
    header = ["claim", "verdict", *GROUPS]
    body = []
    for cid, rows in claims.groupby("claim", sort=False):
        verdict = rows[rows["lens"] == "verdict"]["verdict"].iloc[0]
        first = rows.iloc[0]
        line: list[str | Cell] = [
            Cell(f"{cid}: {first['text']} ({first['source']})", {"claim": cid}),
            Cell(str(verdict), {"claim": cid, "verdict": str(verdict)}, css=f"v-{verdict}")]
        for prefixes in GROUPS.values():
            hit = rows[rows["lens"].map(lambda name, p=prefixes: name.startswith(p))]
            line.append(_cell(hit, out) if len(hit) else "")
        body.append(line)
    detail = claims[["claim", "lens", "role", "status", "value", "detail"]].copy()
    detail["value"] = detail["value"].map(_value)
    return [
        Heading("The paper's claims under every lens"),
        Paragraph("Each claim of the paper as a statement about estimands, read through every "
                  "lens the run computed; the verdict follows from the rule below, never by "
                  "hand (claims.csv). Cell: status and value (an estimate, a probability, a "
                  "p-value or a breakdown value; claims.csv says which), linked to its figure "
                  "or table."),
        Table(header, body, "Claims and verdicts", "claims"),
        Bullets([f"Verdict rule {i + 1}: {r}" for i, r in enumerate(RULES)]
                + ["Statuses: holds (with confidence), weak (point estimates agree only), "
                   "fails, reversed (confidently the other way), unavailable. Evidence: the "
                   "heterogeneity-robust estimators and the posterior for these units (the "
                   "paper's estimator only where nothing robust applies); conditions: what the "
                   "claim presupposes (IV first stage, placebo centre); sensitivity: the "
                   "population-level posterior, HonestDiD breakdown (>= 1), extra lenses."]),
        Table(list(detail.columns), [[str(v) for v in r] for r in detail.itertuples(index=False)],
              "Every lens (claims.csv)", "claims_lenses"),
    ]


def sweep_verdicts(sweep_dir, jobs: pd.DataFrame) -> pd.DataFrame:
    """Every job's verdicts (``<job>/claims.csv``): one row per (job, claim)."""
    frames = []
    for r in jobs.itertuples():
        path = sweep_dir / str(r.job) / "claims.csv"
        if path.is_file():
            c = pd.read_csv(path)
            c = c[c["lens"] == "verdict"][["claim", "verdict"]]
            frames.append(c.assign(job=str(r.job), overrides=r.overrides))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def sweep_claims_blocks(verdicts: pd.DataFrame) -> list[Block]:
    """Claims x jobs: which verdicts change with the prior, the model or the data."""
    if verdicts.empty:
        return []
    jobs = verdicts.drop_duplicates("job")[["job", "overrides"]]
    wide = verdicts.pivot(index="claim", columns="job", values="verdict")
    order = list(dict.fromkeys(verdicts["claim"]))
    body = []
    for claim in order:
        row = wide.loc[claim]
        values = [v for v in row if isinstance(v, str)]
        changes = "yes" if len(set(values)) > 1 else "no"
        body.append([claim, Cell(changes, css="s-weak" if changes == "yes" else None),
                     *[Cell(str(row.get(j, "")), {"job": str(j), "claim": claim},
                            css=f"v-{row.get(j)}" if isinstance(row.get(j), str) else None)
                       for j in jobs["job"]]])
    return [Heading("The paper's claims across the sweep"),
            Paragraph("Verdict of each claim in each job (claims.csv of the job): a claim whose "
                      "verdict changes with the prior, the model or the data is marked. Jobs: "
                      + "; ".join(f"{r.job}: {r.overrides}" for r in jobs.itertuples())),
            Table(["claim", "changes", *[str(j) for j in jobs["job"]]], body,
                  "Verdicts by job", "sweep_claims")]
