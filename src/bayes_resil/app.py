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
from omegaconf import DictConfig

from . import resume
from .api import frequentist_from_config
from .bayes.status import saved_status
from .errors import DiagnosticsFailed, InputError, StepError, StepsFailed
from .options import compose
from .outputs import write_csv, write_text
from .parallel import register_resolvers
from .preflight import check_run
from .run_files import (
    estimates_frame,
    finish_run,
    run_claims,
    run_info,
    write_data_outputs,
    write_freq_files,
)
from .schema import check_keys
from .steps import isolated, not_ok
from .study import StudyData, load_study

__all__ = ["compose", "main", "run"]

log = logging.getLogger("bayes_resil")
register_resolvers()


def fit_model(data: StudyData, cfg: DictConfig, *, level: float):
    """The Bayesian fit (:func:`bayes_resil.bayes.result.fit_model`), imported only when a
    model is asked for: PyMC, PyTensor and ArviZ take 2-3 s to import, which a ``model=none``
    run does not need."""
    from .bayes.result import fit_model as _fit_model

    return _fit_model(data, cfg, level=level)


def run(cfg: DictConfig, out_dir: str | Path, *, launch_dir: Path | None = None,
        sweep_dir: Path | None = None, overrides: list[str] | None = None) -> Path:
    """Run the configured pipeline, writing every result into ``out_dir``.

    The same steps as the API (:mod:`bayes_resil.api`: load, frequentist, fit, save) through
    the same writers (:mod:`bayes_resil.run_files`), plus what only a command-line run does:
    a finished run of the same config and panel (see :mod:`bayes_resil.resume`) under the
    ``reuse.search`` folders of ``launch_dir`` or in ``sweep_dir`` is reused unless ``force``
    (without ``launch_dir`` nothing is searched), the config is checked against the panel
    before any estimation, and each step is isolated (:mod:`bayes_resil.steps`).
    """
    check_keys(cfg)  # keys added with + that no schema has
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
    run_claims(cfg, data)  # and a bad claims file
    files = write_data_outputs(data, out)
    log.info("[2/3] frequentist estimates (freq=%s)", cfg.freq.name)
    level = float(cfg.get("ci_level", 0.95))
    freq = frequentist_from_config(data, cfg)
    rows = list(freq.results.rows)
    write_csv(estimates_frame(rows), out / "estimates.csv")
    files.append("estimates.csv")
    files += write_freq_files(freq, out)
    fit = None
    steps = list(freq.results.steps)
    if cfg.model.name == "none":
        log.info("[3/3] Bayesian step skipped (model=none)")
    else:
        log.info("[3/3] Bayesian model=%s prior=%s sampler=%s", cfg.model.name, cfg.prior.name,
                 cfg.sampler.name)
        with isolated(f"model={cfg.model.name}", "bayes", steps):
            from .bayes.run import write_bayes

            fitted = fit_model(data, cfg, level=level)
            written = write_bayes(fitted, out, freq)
            rows += written.ols_rows + fitted.rows
            files += written.files
            fit = fitted  # only a fit whose files are written is reported
    est = estimates_frame(rows)
    write_csv(est, out / "estimates.csv")
    text = finish_run(out, data, cfg, est=est, files=files, steps=steps, freq=freq,
                      fit=fit,
                      info=run_info(cfg, data, out, key["key"], overrides))
    text += f"Finished in {time.perf_counter() - t0:.1f} s.\n"
    failed = not_ok(steps)
    if not any(s.status == "error" for s in failed):
        resume.write_key(key, out)  # a run with a bug in it is never reused
    write_text(text, out / "summary.txt")
    print(text, end="")
    _check_steps(cfg, failed)
    if fit is not None and not fit.passed:
        _check_strict(cfg, fit.checks.failures)
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
