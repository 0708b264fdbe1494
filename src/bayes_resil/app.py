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
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from .errors import InputError
from .estimates import to_frame
from .freq import baseline_twfe
from .outputs import write_csv, write_text
from .study import StudyData, load_study
from .summary import render_summary

log = logging.getLogger("bayes_resil")

CONVENTION = {
    "cluster": "SE clustered by {cluster}, CR1 small-sample factor as R fixest / Stata reghdfe",
    "hc1": "heteroskedasticity-robust HC1 SE, as Stata ', robust'",
    "iid": "iid (classical) SE",
}


def _write_data_outputs(data: StudyData, out: Path) -> list[str]:
    files = []
    write_csv(data.panel, out / "panel.csv")
    files.append("panel.csv")
    if data.truth is not None:
        write_csv(data.truth.assign(data_source="simulated"), out / "truth.csv")
        write_csv(data.truth_cells.assign(data_source="simulated"), out / "truth_cells.csv")
        files += ["truth.csv", "truth_cells.csv"]
    if data.weights is not None:
        weights = data.weights.assign(data_source="simulated") if data.simulated else data.weights
        write_csv(weights, out / "index_weights.csv")
        files.append("index_weights.csv")
    return files


def run(cfg: DictConfig, out_dir: str | Path) -> Path:
    """Run the configured pipeline, writing every result into ``out_dir``."""
    out = Path(out_dir)
    if (out / "estimates.csv").exists():
        raise InputError(f"{out} already holds a finished run; refusing to overwrite it")
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log.info("[1/3] loading the panel (data=%s)", cfg.data.source)
        data = load_study(cfg.data, cfg.get("index"))
    for w in caught:
        log.warning("%s", w.message)
    files = _write_data_outputs(data, out)
    log.info("[2/3] frequentist estimates (freq=%s)", cfg.freq.name)
    level = float(cfg.get("ci_level", 0.95))
    rows = baseline_twfe(data, cfg.freq, level=level)
    est = to_frame(rows)
    write_csv(est, out / "estimates.csv")
    files.append("estimates.csv")
    log.info("[3/3] Bayesian step: model=%s (none: skipped)", cfg.model.name)
    convention = CONVENTION[cfg.freq.vcov].format(cluster=cfg.freq.get("cluster", "unit"))
    text = render_summary(data, est, out, [*files, "summary.txt", ".hydra/"], convention)
    text += f"Finished in {time.perf_counter() - t0:.1f} s.\n"
    write_text(text, out / "summary.txt")
    print(text, end="")
    return out


@hydra.main(config_path="pkg://bayes_resil.conf", config_name="config", version_base="1.3")
def _entry(cfg: DictConfig) -> None:
    out_dir = HydraConfig.get().runtime.output_dir
    try:
        run(cfg, out_dir)
    except InputError as exc:
        print(f"\nbayes_resil: error: {exc}\n(run directory: {out_dir})", file=sys.stderr)
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
