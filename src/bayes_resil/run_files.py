"""A run directory, written from results: the one writer of the command line and the API.

``python -m bayes_resil`` (:func:`bayes_resil.app.run`) and ``FrequentistResult.save`` /
``BayesianFit.save`` write the same files through the functions here: the panel and its truth,
``estimates.csv`` (frequentist rows, the comparators estimated for the posterior comparison,
the posterior rows; ``(method, estimand, outcome)`` is a key), the paper-style tables and
figures, the Bayesian files (:func:`bayes_resil.bayes.run.write_bayes`), ``steps.csv``,
``claims.csv`` (the paper's claims under every lens, :mod:`bayes_resil.claims`), ``summary.txt``
and ``report.md`` / ``report.html``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import DictConfig

from . import __version__
from .design import published_tables
from .errors import InputError
from .estimates import Estimate, to_frame
from .outputs import write_csv, write_text
from .report import write_run_report
from .steps import StepStatus, isolated, not_ok, write_steps
from .study import StudyData
from .summary import design_lines, render_summary
from .tables import event_time_markdown, event_time_table, write_tables

if TYPE_CHECKING:
    from .bayes.result import BayesianFit
    from .freq.result import FrequentistResult

CONVENTION = {
    "cluster": "SE clustered by {cluster}, CR1 small-sample factor as R fixest / Stata reghdfe",
    "hc1": "heteroskedasticity-robust HC1 SE, as Stata ', robust'",
    "iid": "iid (classical) SE",
}

KEY = ["method", "estimand", "outcome"]


def _tagged(frame, data: StudyData):
    """``frame`` with a ``data_source=simulated`` column when the data are simulated."""
    return frame.assign(data_source="simulated") if data.simulated else frame


def estimates_frame(rows: Sequence[Estimate]) -> pd.DataFrame:
    """``estimates.csv``; a repeated ``(method, estimand, outcome)`` is a bug (two
    specifications under one name), not something to write."""
    est = to_frame(list(rows))
    dup = est.duplicated(KEY, keep=False)
    if dup.any():
        raise RuntimeError("estimates.csv would repeat (method, estimand, outcome): "
                           + est.loc[dup, KEY].drop_duplicates().head(5).to_string(index=False))
    return est


def write_data_outputs(data: StudyData, out: Path) -> list[str]:
    """``panel.csv``, the truth (simulated data) and the index weights (index built)."""
    files = []
    write_csv(data.panel, out / "panel.csv")
    files.append("panel.csv")
    if data.truth is not None:
        write_csv(_tagged(data.truth, data), out / "truth.csv")
        write_csv(_tagged(data.truth_cells, data), out / "truth_cells.csv")
        files += ["truth.csv", "truth_cells.csv"]
    if data.weights is not None:
        write_csv(_tagged(data.weights, data), out / "index_weights.csv")
        files.append("index_weights.csv")
    return files


def write_freq_files(freq: FrequentistResult, out: Path) -> list[str]:
    """Placebo draws, decompositions, paper-style tables and figures of the frequentist
    step."""
    from .plots import save_figure

    data, res, est = freq.data, freq.results, freq.estimates()
    files = []
    fig_dir = out / "figures"
    if res.placebo_draws is not None:
        write_csv(_tagged(res.placebo_draws, data), out / "placebo_draws.csv")
        files.append("placebo_draws.csv")
    if res.bacon is not None:
        write_csv(_tagged(res.bacon, data), out / "bacon.csv")
        write_csv(_tagged(res.twfe_weights, data), out / "twfe_weights.csv")
        save_figure(freq.plot_bacon(), fig_dir / "bacon")
        files += ["bacon.csv", "twfe_weights.csv", "figures/bacon.png|svg"]
    if res.sensitivity is not None and len(res.sensitivity):
        write_csv(_tagged(res.sensitivity, data), out / "honest_did.csv")
        save_figure(freq.plot_sensitivity(), fig_dir / "honest_did")
        files += ["honest_did.csv", "figures/honest_did.png|svg"]
    if est["method"].isin(["imputation", "sun_abraham", "callaway_santanna"]).any():
        table = event_time_table(est, data.truth)
        write_csv(table, out / "tables" / "event_time_estimators.csv")
        note = "SIMULATED DATA." if data.simulated else ""
        write_text(event_time_markdown(table, note=note),
                   out / "tables" / "event_time_estimators.md")
        files.append("tables/event_time_estimators.md|csv")
        save_figure(freq.plot_event_estimators(), fig_dir / "event_estimators")
        files.append("figures/event_estimators.png|svg")
    published = published_tables() if data.study == "cbec" else None
    note = "SIMULATED DATA (real design, simulated outcomes)." if data.simulated else ""
    tables = write_tables(est, out / "tables", published, note=note)
    files += [f"tables/{t}" for t in tables if t == "tables.md"] + (
        ["tables/*.md|tex|csv"] if tables else [])
    if (est["method"] == "event_study").any():
        save_figure(freq.plot_event_study(), fig_dir / "event_study")
        files.append("figures/event_study.png|svg")
    if (est["method"] == "placebo").any():
        save_figure(freq.plot_placebo(), fig_dir / "placebo")
        files.append("figures/placebo.png|svg")
    import matplotlib.pyplot as plt

    plt.close("all")
    return files


def run_info(cfg: DictConfig, data: StudyData, out: Path, key: str | None,
             overrides: list[str] | None) -> list[tuple[str, str]]:
    """The "what was run" rows of the report."""
    rows = [
        ("run directory", str(out.resolve())),
        ("data", data.source),
        ("simulated", "yes (known true effects)" if data.simulated else "no"),
        ("config groups", f"model={cfg.model.name} prior={cfg.prior.name} "
                          f"sampler={cfg.sampler.name} freq={cfg.freq.name}"),
        ("command-line overrides", " ".join(overrides) if overrides else "(none)"
         if overrides is not None else "(called from Python)"),
        ("interval level", f"{float(cfg.get('ci_level', 0.95)):.2f}"),
        ("bayes_resil version", __version__),
    ]
    if key:
        rows.append(("run key (config, panel and code hash)", key[:16]))
    return rows + [("finished", time.strftime("%Y-%m-%d %H:%M:%S %Z"))]


def run_claims(cfg: DictConfig, data: StudyData):
    """The claims a run checks (``claims.file``, else the study's shipped ones), or None; a bad
    claims file is an :class:`InputError` (raised before any estimation)."""
    from .claims import load_claims

    ccfg = cfg.get("claims") or {}
    if not ccfg.get("enabled", True):
        return None
    return load_claims(ccfg.get("file"), data.study)


def write_claims(out: Path, data: StudyData, cfg: DictConfig, est: pd.DataFrame,
                 freq: FrequentistResult | None, fit: BayesianFit | None, claims) -> list[str]:
    """``claims.csv``: every claim of ``claims`` under every lens, with its verdict."""
    from .claims import assess, from_run

    level = float(cfg.get("ci_level", 0.95))
    table = assess(claims, from_run(data, est, freq=freq, fit=fit, level=level))
    write_csv(_tagged(table, data), out / "claims.csv")
    return ["claims.csv"]


def finish_run(out: Path, data: StudyData, cfg: DictConfig, *, est: pd.DataFrame,
               files: list[str], steps: list[StepStatus], freq: FrequentistResult | None,
               fit: BayesianFit | None, info: list[tuple[str, str]]) -> str:
    """``claims.csv``, ``steps.csv``, the report and ``summary.txt``; returns the summary
    text."""
    claims = run_claims(cfg, data)
    if claims is not None:  # a step only where the study has claims
        with isolated("claims", "claims", steps):
            files = files + write_claims(out, data, cfg, est, freq, fit, claims)
    files = files + write_steps(steps, out)
    fcfg = cfg["freq"]
    convention = CONVENTION[str(fcfg.get("vcov", "cluster"))].format(
        cluster=fcfg.get("cluster", "unit"))
    skipped = list(freq.results.skipped) if freq is not None else []
    notes = list(freq.results.notes) if freq is not None else []
    files += write_run_report(
        out, info=info, panel_lines=design_lines(data), convention=convention,
        simulated=data.simulated, notes=[*(f"Skipped: {s}" for s in skipped), *notes],
        steps=steps)
    return render_summary(data, est, out, [*files, "summary.txt", ".hydra/"], convention,
                          skipped=skipped, notes=notes, bayes=fit, failed=not_ok(steps))


def save_run(directory: str | Path, data: StudyData, cfg: DictConfig, *,
             freq: FrequentistResult | None = None, fit: BayesianFit | None = None) -> Path:
    """Write the run directory of API results (the command line's files); the directory must
    be new or empty (nothing is overwritten). Returns it."""
    from .bayes.run import write_bayes

    if freq is not None and fit is not None:  # the fit's model, prior, sampler; freq's freq
        cfg = cfg.copy()
        cfg["freq"] = freq.config["freq"]
    out = Path(directory)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} is not empty; save into a new directory (nothing is "
                         "overwritten)")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    files = write_data_outputs(data, out)
    rows = list(freq.results.rows) if freq is not None else []
    steps = list(freq.results.steps) if freq is not None else []
    if freq is not None:
        files += write_freq_files(freq, out)
    if fit is not None:
        written = write_bayes(fit, out, freq)
        rows += written.ols_rows + fit.rows
        files += written.files
    est = estimates_frame(rows)
    write_csv(est, out / "estimates.csv")
    files.append("estimates.csv")
    text = finish_run(out, data, cfg, est=est, files=files, steps=steps, freq=freq, fit=fit,
                      info=run_info(cfg, data, out, None, None))
    text += f"Written in {time.perf_counter() - t0:.1f} s.\n"
    write_text(text, out / "summary.txt")
    return out
