"""The command-line app: ``python -m bayes_resil [overrides]`` (a Hydra application).

Each run writes into its own Hydra run directory (``outputs/<date>/<time-with-microseconds>``):
``panel.csv``, ``truth.csv`` (simulated data), ``index_weights.csv`` (index built),
``estimates.csv``, ``summary.txt`` and the resolved config in ``.hydra/``. A mistake in the user's
data or config ends the run with a one-paragraph message and exit status 2, not a traceback.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from . import __version__, resume
from .bayes.status import saved_status
from .design import published_tables
from .errors import DiagnosticsFailed, InputError, StepError, StepsFailed
from .estimates import to_frame
from .freq.suite import FreqResults, run_freq
from .outputs import write_csv, write_text
from .parallel import register_resolvers
from .plots import plot_event_study, plot_placebo, save_figure
from .plots.bacon import plot_bacon
from .plots.bayes import plot_event_overlay
from .plots.sensitivity import plot_sensitivity
from .preflight import check_run
from .report import write_run_report
from .steps import isolated, not_ok, write_steps
from .study import StudyData, load_study
from .summary import design_lines, render_summary
from .tables import event_time_markdown, event_time_table, write_tables

log = logging.getLogger("bayes_resil")
register_resolvers()

CONVENTION = {
    "cluster": "SE clustered by {cluster}, CR1 small-sample factor as R fixest / Stata reghdfe",
    "hc1": "heteroskedasticity-robust HC1 SE, as Stata ', robust'",
    "iid": "iid (classical) SE",
}


def run_bayes(data: StudyData, cfg: DictConfig, est, out: Path, *, level: float):
    """The Bayesian step (:func:`bayes_resil.bayes.run.run_bayes`), imported only when a model
    is asked for: PyMC, PyTensor and ArviZ take 2-3 s to import, which a ``model=none`` run
    does not need."""
    from .bayes.run import run_bayes as _run_bayes

    return _run_bayes(data, cfg, est, out, level=level)


def _tagged(frame, data: StudyData):
    """``frame`` with a ``data_source=simulated`` column when the data are simulated."""
    return frame.assign(data_source="simulated") if data.simulated else frame


def _write_data_outputs(data: StudyData, out: Path) -> list[str]:
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


def _write_freq_extras(data: StudyData, freq: FreqResults, est, out: Path) -> list[str]:
    """Placebo draws, paper-style tables and figures of the frequentist step."""
    files = []
    fig_dir = out / "figures"
    if freq.placebo_draws is not None:
        write_csv(_tagged(freq.placebo_draws, data), out / "placebo_draws.csv")
        files.append("placebo_draws.csv")
    if freq.bacon is not None:
        write_csv(_tagged(freq.bacon, data), out / "bacon.csv")
        write_csv(_tagged(freq.twfe_weights, data), out / "twfe_weights.csv")
        att = est.query("method == 'bacon' and estimand == 'att'")["estimate"].iloc[0]
        save_figure(plot_bacon(freq.bacon, twfe=float(att), simulated=data.simulated),
                    fig_dir / "bacon")
        files += ["bacon.csv", "twfe_weights.csv", "figures/bacon.png|svg"]
    if freq.sensitivity is not None and len(freq.sensitivity):
        write_csv(_tagged(freq.sensitivity, data), out / "honest_did.csv")
        fig = plot_sensitivity(freq.sensitivity, est[est["method"] == "honest_did"],
                               simulated=data.simulated)
        save_figure(fig, fig_dir / "honest_did")
        files += ["honest_did.csv", "figures/honest_did.png|svg"]
    if est["method"].isin(["imputation", "sun_abraham", "callaway_santanna"]).any():
        table = event_time_table(est, data.truth)
        write_csv(table, out / "tables" / "event_time_estimators.csv")
        note = "SIMULATED DATA." if data.simulated else ""
        write_text(event_time_markdown(table, note=note),
                   out / "tables" / "event_time_estimators.md")
        files.append("tables/event_time_estimators.md|csv")
        fig = plot_event_overlay(est, truth=data.truth, simulated=data.simulated)
        save_figure(fig, fig_dir / "event_estimators")
        files.append("figures/event_estimators.png|svg")
    published = published_tables() if data.study == "cbec" else None
    note = "SIMULATED DATA (real design, simulated outcomes)." if data.simulated else ""
    tables = write_tables(est, out / "tables", published, note=note)
    files += [f"tables/{t}" for t in tables if t == "tables.md"] + (
        ["tables/*.md|tex|csv"] if tables else [])
    if (est["method"] == "event_study").any():
        fig = plot_event_study(est, truth=data.truth, simulated=data.simulated)
        save_figure(fig, fig_dir / "event_study")
        files.append("figures/event_study.png|svg")
    placebo_row = est[est["method"] == "placebo"]
    if len(placebo_row):
        r = placebo_row.iloc[0]
        fig = plot_placebo(freq.placebo_draws["estimate"].to_numpy(), float(r["actual_estimate"]),
                           p_value=float(r["p_value"]), simulated=data.simulated)
        save_figure(fig, fig_dir / "placebo")
        files.append("figures/placebo.png|svg")
    return files


def run(cfg: DictConfig, out_dir: str | Path, *, launch_dir: Path | None = None,
        sweep_dir: Path | None = None, overrides: list[str] | None = None) -> Path:
    """Run the configured pipeline, writing every result into ``out_dir``.

    A finished run of the same config and panel (see :mod:`bayes_resil.resume`) under the
    ``reuse.search`` folders of ``launch_dir`` or in ``sweep_dir`` is reused unless ``force``;
    without ``launch_dir`` (a call from Python) nothing is searched and the run is computed.
    """
    out = Path(out_dir)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log.info("[1/3] loading the panel (data=%s)", cfg.data.source)
        data = load_study(cfg.data, cfg.get("index"))
    for w in caught:
        log.warning("%s", w.message)
    key = resume.run_key(cfg, data.panel)
    if resume.prepare_dir(out, key["key"]):
        log.info("reused: %s already holds this run (key %s)", out, key["key"][:12])
        return _finish_reused(cfg, out, out)
    if launch_dir is not None and not cfg.get("force", False):
        src = resume.find_finished(key["key"], resume.search_roots(cfg, launch_dir, sweep_dir))
        if src is not None:
            resume.reuse(src, out)
            log.info("reused: same config and panel as %s (key %s); force=true recomputes",
                     src, key["key"][:12])
            return _finish_reused(cfg, out, src)
    check_run(data, cfg)  # fail fast: the config's requirements on these data
    files = _write_data_outputs(data, out)
    log.info("[2/3] frequentist estimates (freq=%s)", cfg.freq.name)
    level = float(cfg.get("ci_level", 0.95))
    freq = run_freq(data, cfg.freq, level=level)
    est = to_frame(freq.rows)
    write_csv(est, out / "estimates.csv")
    files.append("estimates.csv")
    files += _write_freq_extras(data, freq, est, out)
    bayes = None
    steps = list(freq.steps)
    if cfg.model.name == "none":
        log.info("[3/3] Bayesian step skipped (model=none)")
    else:
        log.info("[3/3] Bayesian model=%s prior=%s sampler=%s", cfg.model.name, cfg.prior.name,
                 cfg.sampler.name)
        with isolated(f"model={cfg.model.name}", "bayes", steps):
            bayes = run_bayes(data, cfg, est, out, level=level)
        if bayes is not None:
            est = to_frame(freq.rows + bayes.ols_rows + bayes.rows)
            write_csv(est, out / "estimates.csv")
            files += bayes.files
    files += write_steps(steps, out)
    failed = not_ok(steps)
    convention = CONVENTION[cfg.freq.vcov].format(cluster=cfg.freq.get("cluster", "unit"))
    files += write_run_report(
        out, info=_run_info(cfg, data, out, key, overrides), panel_lines=design_lines(data),
        convention=convention, simulated=data.simulated,
        notes=[*(f"Skipped: {s}" for s in freq.skipped), *freq.notes], steps=steps)
    text = render_summary(data, est, out, [*files, "summary.txt", ".hydra/"], convention,
                          skipped=freq.skipped, notes=freq.notes, bayes=bayes, failed=failed)
    text += f"Finished in {time.perf_counter() - t0:.1f} s.\n"
    if not any(s.status == "error" for s in failed):
        resume.write_key(key, out)  # a run with a bug in it is never reused
    write_text(text, out / "summary.txt")
    print(text, end="")
    _check_steps(cfg, failed)
    if bayes is not None and not bayes.diagnostics.passed:
        _check_strict(cfg, bayes.diagnostics.failures)
    return out


def _check_steps(cfg: DictConfig, failed: list) -> None:
    """Exit status for steps that did not end ok (everything is written by now): 1 for a bug,
    4 for a data failure under ``strict=true``; otherwise a warning only."""
    bugs = [s for s in failed if s.status == "error"]
    if bugs:
        raise StepError("; ".join(s.line() for s in bugs))
    if failed and cfg.get("strict", False):
        raise StepsFailed("strict=true and some steps failed on the data: "
                          + "; ".join(s.line() for s in failed))


def _run_info(cfg: DictConfig, data: StudyData, out: Path, key: dict[str, str],
              overrides: list[str] | None) -> list[tuple[str, str]]:
    """The "what was run" rows of the report."""
    return [
        ("run directory", str(out.resolve())),
        ("data", data.source),
        ("simulated", "yes (known true effects)" if data.simulated else "no"),
        ("config groups", f"model={cfg.model.name} prior={cfg.prior.name} "
                          f"sampler={cfg.sampler.name} freq={cfg.freq.name}"),
        ("command-line overrides", " ".join(overrides) if overrides else "(none)"
         if overrides is not None else "(called from Python)"),
        ("interval level", f"{float(cfg.get('ci_level', 0.95)):.2f}"),
        ("bayes_resil version", __version__),
        ("run key (config, panel and code hash)", key["key"][:16]),
        ("finished", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
    ]


def _check_strict(cfg: DictConfig, failures: list[str]) -> None:
    if cfg.sampler.get("strict", False):
        raise DiagnosticsFailed("sampler.strict=true and the diagnostics failed: "
                                + "; ".join(failures))


def _finish_reused(cfg: DictConfig, out: Path, src: Path) -> Path:
    """Print a reused run's summary and apply ``sampler.strict`` to its diagnostics."""
    note = f"Reused the finished run {src} (same config and panel; force=true recomputes).\n"
    print(note + (out / "summary.txt").read_text(encoding="utf-8"), end="")
    if (out / "diagnostics.csv").exists():
        passed, failures = saved_status(pd.read_csv(out / "diagnostics.csv"))
        if not passed:
            _check_strict(cfg, failures)
    return out


@hydra.main(config_path="pkg://bayes_resil.conf", config_name="config", version_base="1.3")
def _entry(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    sweep_dir = Path(hc.sweep.dir) if hc.mode == RunMode.MULTIRUN else None
    try:
        run(cfg, out_dir, launch_dir=Path(hc.runtime.cwd), sweep_dir=sweep_dir,
            overrides=list(hc.overrides.task))
    except (InputError, DiagnosticsFailed, StepsFailed, StepError) as exc:
        print(f"\nbayes_resil: error: {exc}\n(run directory: {out_dir})", file=sys.stderr)
        if hc.mode == RunMode.MULTIRUN:
            # one failed job must not end the sweep: record it for the sweep comparison
            write_text(f"{exc}\n", Path(out_dir) / "error.txt")
            return
        sys.exit(exc.exit_code)


def main() -> None:
    """Console entry point."""
    _entry()


def compose(overrides: list[str] | None = None) -> DictConfig:
    """The resolved config for ``overrides`` without running (for notebooks and tests)."""
    from hydra import compose as _compose
    from hydra import initialize_config_module

    with initialize_config_module(config_module="bayes_resil.conf", version_base="1.3"):
        cfg = _compose(config_name="config", overrides=overrides or [])
    OmegaConf.resolve(cfg)
    return cfg
