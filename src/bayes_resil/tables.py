"""Paper-style regression tables (Markdown, LaTeX, CSV), one per table of the paper.

Built from the tidy ``estimates.csv`` rows: coefficient with stars and the standard error in
parentheses beneath, n, R², and rows saying whether controls and fixed effects are in. For the
CBEC study the published numbers (``published_tables.yaml``) stand beside ours, labelled
*published*. Stars: *** p < 0.01, ** p < 0.05, * p < 0.1 (ours from our p-values; published
ones from |coef / se| with the normal approximation, since the paper prints no p-values).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .estimand import events, kinds


@dataclass(frozen=True)
class Column:
    """One regression column: which estimate fills it, and its published counterpart."""

    title: str
    method: str
    estimand: str | None = "att"  # None: the method's first row for the outcome
    outcome: str = "y"
    main_row: str = "Treat × Post"
    published: str | None = None  # key in the published table
    published_coef: str = "treat_post"
    controls: bool = True


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    published_table: str | None
    columns: tuple[Column, ...]
    extra_rows: tuple[str, ...] = ()  # coefficient rows beyond the main one (coef[<term>])
    notes: tuple[str, ...] = field(default_factory=tuple)


CONTROLS_ROWS = ("lngdp", "lnincome", "population", "fiscal", "consumption", "fdi")

PAPER_TABLES: tuple[TableSpec, ...] = (
    TableSpec("table2_baseline", "Table 2. Baseline TWFE DID", "table2_baseline", (
        Column("no controls", "twfe", published="col1_no_controls", controls=False),
        Column("controls", "twfe_controls", published="col2_controls"),
    ), extra_rows=CONTROLS_ROWS),
    TableSpec("table3_robustness", "Table 3. Robustness", "table3_robustness", (
        Column("drop capitals & municipalities", "robust_drop_capitals",
               published="col1_drop_capitals_and_municipalities"),
        Column("winsorised 1%", "robust_winsorize", published="col2_winsorize_1pct"),
        Column("concurrent policies", "robust_policies", published="col3_concurrent_policies"),
    ), extra_rows=("bdcpz", "bci", "cftz")),
    TableSpec("table4_iv", "Table 4. Instrumental variables (2SLS)", "table4_iv", (
        Column("first stage (d)", "iv_first_stage", estimand=None, outcome="d",
               main_row="Light × Post", published="first_stage",
               published_coef="light_x_post"),
        Column("second stage", "iv_2sls", main_row="DID (instrumented)",
               published="second_stage", published_coef="did"),
    )),
    TableSpec("table5_heterogeneity", "Table 5. Heterogeneity (subsamples)",
              "table5_heterogeneity", (
                  Column("East", "twfe_subsample", estimand="att[East]", published="east"),
                  Column("Central", "twfe_subsample", estimand="att[Central]",
                         published="central"),
                  Column("West", "twfe_subsample", estimand="att[West]", published="west"),
                  Column("batches 1-2", "twfe_subsample", estimand="att[batches=1-2]",
                         published="batches_1_2"),
                  Column("batches 3-4", "twfe_subsample", estimand="att[batches=3-4]",
                         published="batches_3_4"),
              )),
    TableSpec("table6_mechanisms", "Table 6. Mechanisms (DID effect on the mediators)",
              "table6_mechanisms", (
                  Column("patents (ln)", "mediation_a", outcome="ln_patents",
                         published="patents_granted"),
                  Column("sci-tech level", "mediation_a", outcome="sci_tech_level",
                         published="science_tech_level"),
                  Column("IT employees (ln)", "mediation_a", outcome="ln_it_employees",
                         published="it_employees"),
                  Column("employment (ln)", "mediation_a", outcome="ln_employment",
                         published="wage_or_employment"),
              ), notes=("Paper's column 4 is headed 工资水平 (wage level); its text calls it "
                        "employment.",)),
)


def stars(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _published_p(coef: float, se: float) -> float:
    return float(2 * stats.norm.sf(abs(coef / se))) if se else np.nan


def tidy_table(spec: TableSpec, est: pd.DataFrame, published: dict | None) -> pd.DataFrame:
    """Long table: one row per (column, row label, source) with estimate, se, stars, n, r2."""
    records = []
    pub_table = (published or {}).get(spec.published_table or "", {}) if published else {}
    for j, col in enumerate(spec.columns, start=1):
        sel = est[(est["method"] == col.method) & (est["outcome"] == col.outcome)]
        main = sel if col.estimand is None else sel[sel["estimand"] == col.estimand]
        if main.empty:
            continue
        m = main.iloc[0]
        label = f"({j})"
        base = dict(table=spec.name, column=label, column_title=col.title, source="ours")
        records.append({**base, "row": col.main_row, "estimate": m["estimate"],
                        "std_error": m["std_error"], "stars": stars(m["p_value"]),
                        "n_obs": m["n_obs"], "r2": m["r2"]})
        for term in spec.extra_rows:
            r = sel[sel["estimand"] == f"coef[{term}]"]
            if len(r):
                records.append({**base, "row": term.upper(), "estimate": r["estimate"].iloc[0],
                                "std_error": r["std_error"].iloc[0],
                                "stars": stars(r["p_value"].iloc[0])})
        pub = pub_table.get(col.published) if col.published else None
        if pub:
            pbase = {**base, "source": "published"}
            coef, se = pub.get(col.published_coef), pub.get("se")
            records.append({**pbase, "row": col.main_row, "estimate": coef, "std_error": se,
                            "stars": stars(_published_p(coef, se)), "n_obs": pub.get("n_obs"),
                            "r2": pub.get("r2", np.nan)})
            extra = {**pub.get("controls", {}), **{k: v for k, v in pub.items()
                                                   if isinstance(v, list) and len(v) == 2}}
            for term in spec.extra_rows:
                if term in extra:
                    c, s = extra[term]
                    records.append({**pbase, "row": term.upper(), "estimate": c,
                                    "std_error": s, "stars": stars(_published_p(c, s))})
        for src in ("ours", "published") if pub else ("ours",):
            records.append({**base, "source": src, "row": "Controls",
                            "text": "YES" if col.controls else "NO"})
            records.append({**base, "source": src, "row": "Unit & time FE", "text": "YES"})
    return pd.DataFrame.from_records(records)


def cell_rows(tidy: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]]]:
    """Header and body (list of rows) for the text renderers."""
    keys = list(dict.fromkeys(zip(tidy["column"], tidy["column_title"], tidy["source"],
                                  strict=True)))
    header = [""] + [f"{c} {t}" + (" [published]" if s == "published" else "")
                     for c, t, s in keys]
    coef_rows = [r for r in dict.fromkeys(tidy["row"]) if r not in ("Controls",
                                                                    "Unit & time FE")]
    body = []
    fmt = f"{{:.{digits}f}}"
    for row in coef_rows:
        line, se_line = [row], [""]
        for c, _, s in keys:
            hit = tidy[(tidy["column"] == c) & (tidy["source"] == s) & (tidy["row"] == row)]
            if hit.empty or pd.isna(hit["estimate"].iloc[0]):
                line.append("")
                se_line.append("")
            else:
                h = hit.iloc[0]
                line.append(fmt.format(h["estimate"]) + (h["stars"] or ""))
                se_line.append(f"({fmt.format(h['std_error'])})")
        body += [line, se_line]
    for label, col, f in (("Observations", "n_obs", "{:.0f}"), ("R²", "r2", "{:.4f}")):
        line = [label]
        for c, _, s in keys:
            hit = tidy[(tidy["column"] == c) & (tidy["source"] == s) & tidy[col].notna()]
            line.append(f.format(hit[col].iloc[0]) if len(hit) else "")
        body.append(line)
    for label in ("Controls", "Unit & time FE"):
        line = [label]
        for c, _, s in keys:
            hit = tidy[(tidy["column"] == c) & (tidy["source"] == s) & (tidy["row"] == label)]
            line.append(hit["text"].iloc[0] if len(hit) else "")
        body.append(line)
    return header, body


def to_markdown(spec: TableSpec, tidy: pd.DataFrame, *, digits: int = 4,
                note: str = "") -> str:
    header, body = cell_rows(tidy, digits)
    lines = [f"### {spec.title}", "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    notes = [*spec.notes, note] if note else list(spec.notes)
    lines += ["", *[f"_{n}_" for n in notes if n]]
    return "\n".join(lines) + "\n"


def _tex(s: str) -> str:
    return (s.replace("\\", r"\textbackslash{}").replace("&", r"\&").replace("%", r"\%")
            .replace("_", r"\_").replace("#", r"\#").replace("×", r"$\times$")
            .replace("²", r"$^2$").replace("≤", r"$\leq$").replace("≥", r"$\geq$"))


def to_latex(spec: TableSpec, tidy: pd.DataFrame, *, digits: int = 4, note: str = "") -> str:
    header, body = cell_rows(tidy, digits)
    cols = "l" + "c" * (len(header) - 1)
    lines = [r"\begin{table}[htbp]", r"\centering", rf"\caption{{{_tex(spec.title)}}}",
             rf"\begin{{tabular}}{{{cols}}}", r"\hline",
             " & ".join(_tex(h) for h in header) + r" \\", r"\hline"]
    for r in body:
        cells = [_tex(c).replace("***", "$^{***}$") if "***" in c else
                 _tex(c).replace("**", "$^{**}$") if "**" in c else
                 _tex(c).replace("*", "$^{*}$") for c in r]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    notes = [*spec.notes, note] if note else list(spec.notes)
    for n in notes:
        if n:
            lines.append(rf"\par\footnotesize {_tex(n)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def write_tables(est: pd.DataFrame, out_dir, published: dict | None, *, note: str = "",
                 digits: int = 4) -> list[str]:
    """Write every paper table that has estimates as ``<name>.md/.tex/.csv`` under
    ``out_dir`` and all Markdown tables together in ``tables.md``; returns the file names."""
    from pathlib import Path

    from .outputs import write_csv, write_text

    out = Path(out_dir)
    written, combined = [], []
    for spec in PAPER_TABLES:
        tidy = tidy_table(spec, est, published)
        if tidy.empty:
            continue
        md = to_markdown(spec, tidy, digits=digits, note=note)
        write_csv(tidy, out / f"{spec.name}.csv")
        write_text(md, out / f"{spec.name}.md")
        write_text(to_latex(spec, tidy, digits=digits, note=note), out / f"{spec.name}.tex")
        written += [f"{spec.name}.{ext}" for ext in ("csv", "md", "tex")]
        combined.append(md)
    if combined:
        write_text("\n".join(combined), out / "tables.md")
        written.append("tables.md")
    return written


EVENT_METHODS = ("event_study", "sun_abraham", "callaway_santanna", "imputation")


def event_time_table(est: pd.DataFrame, truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Event-time estimates of every estimator present, side by side (estimate and SE), with
    the true effect on simulated data: the staggered-adoption comparison in one table."""
    sel = est[est["method"].isin(EVENT_METHODS) & (kinds(est["estimand"]) == "event")
              & (est["outcome"] == "y")].copy()
    if sel.empty:
        return pd.DataFrame()
    sel["event_time"] = events(sel["estimand"]).astype(int)
    wide = sel.pivot_table(index="event_time", columns="method",
                           values=["estimate", "std_error"], aggfunc="first")
    wide.columns = [f"{m}_{stat}" for stat, m in wide.columns]
    order = [f"{m}_{s}" for m in EVENT_METHODS for s in ("estimate", "std_error")
             if f"{m}_{s}" in wide.columns]
    wide = wide[order].reset_index()
    if truth is not None:
        t = truth[(truth["outcome"] == "y") & (truth["aggregation"] == "event_time")]
        wide = wide.merge(t[["event_time", "true_effect"]].astype({"event_time": int}),
                          on="event_time", how="left")
    return wide


def event_time_markdown(table: pd.DataFrame, *, note: str = "", digits: int = 4) -> str:
    cols = list(table.columns)
    lines = ["### Event-time effects by estimator", "", "| " + " | ".join(cols) + " |",
             "|" + "---|" * len(cols)]
    for r in table.itertuples(index=False):
        cells = [str(int(v)) if c == "event_time" else ("" if pd.isna(v) else f"{v:.{digits}f}")
                 for c, v in zip(cols, r, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    if note:
        lines += ["", f"_{note}_"]
    return "\n".join(lines) + "\n"
