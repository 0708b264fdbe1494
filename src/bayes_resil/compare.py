"""Sweep comparison: one tidy table of every job's estimates, from a multirun directory.

``python -m bayes_resil.compare <multirun dir>`` rebuilds ``sweep_comparison.csv`` and
``sweep_comparison.png`` from whatever jobs finished (an interrupted sweep can be summarised),
and ``loo_comparison.csv`` / ``loo_influential.csv`` (PSIS-LOO of the Bayesian jobs and the
observations it cannot handle, :mod:`bayes_resil.loo`);
:class:`SweepCompareCallback` does the same automatically at the end of a Hydra multirun.

Columns: ``job`` (the job's directory name), ``overrides``, ``status`` (``finished``,
``failed: <message>`` or ``incomplete``), the estimate contract (``method``, ``estimand``,
``outcome``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``n_obs``) and
``diagnostics_ok`` for Bayesian rows (from the job's ``diagnostics.csv``) and ``reused_from`` (the
finished run a job reused, see :mod:`bayes_resil.resume`; empty when computed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hydra.experimental.callback import Callback
from matplotlib.figure import Figure
from omegaconf import DictConfig

from .bayes.population import POPULATION
from .bayes.status import saved_status
from .outputs import write_csv
from .report import write_sweep_report

ROW_COLUMNS = ["method", "estimand", "outcome", "estimate", "std_error", "ci_lower",
               "ci_upper", "n_obs", "data_source"]


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Job directories of a multirun: subfolders holding a ``.hydra`` folder."""
    return sorted((p for p in sweep_dir.iterdir() if (p / ".hydra").is_dir()),
                  key=lambda p: (len(p.name), p.name))


def job_rows(job: Path) -> pd.DataFrame:
    """One job's estimates with its identity, status and diagnostics flag."""
    overrides_file = job / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.exists() else []
    ident = {"job": job.name, "overrides": " ".join(overrides or [])}
    if (job / "error.txt").exists():
        msg = (job / "error.txt").read_text(encoding="utf-8").strip().splitlines()[0]
        return pd.DataFrame([{**ident, "status": f"failed: {msg}"}])
    if not (job / "summary.txt").exists() or not (job / "estimates.csv").exists():
        return pd.DataFrame([{**ident, "status": "incomplete"}])
    est = pd.read_csv(job / "estimates.csv")
    out = est[[c for c in ROW_COLUMNS if c in est.columns]].copy()
    ok = pd.NA
    if (job / "diagnostics.csv").exists():
        ok, _ = saved_status(pd.read_csv(job / "diagnostics.csv"))
    out["diagnostics_ok"] = pd.array([ok if m.startswith("bayes_") else pd.NA
                                      for m in out["method"]], dtype="boolean")
    reused = job / "reused_from.txt"
    ident["reused_from"] = reused.read_text(encoding="utf-8").strip() if reused.exists() else ""
    for key, value in reversed(list({**ident, "status": "finished"}.items())):
        out.insert(0, key, value)
    return out


def sweep_table(sweep_dir: str | Path) -> pd.DataFrame:
    jobs = job_dirs(Path(sweep_dir))
    if not jobs:
        raise FileNotFoundError(f"no Hydra job directories under {sweep_dir}")
    return pd.concat([job_rows(j) for j in jobs], ignore_index=True)


def plot_sweep(table: pd.DataFrame, *, estimand: str = "att") -> Figure:
    """The headline effect across jobs: Bayesian intervals per job, OLS TWFE as reference."""
    done = table[table["status"] == "finished"]
    bayes = done[done["method"].str.startswith("bayes_")
                 & ~done["method"].str.endswith(POPULATION) & (done["estimand"] == estimand)]
    labels = [f"{j}: {o}" for j, o in zip(bayes["job"], bayes["overrides"], strict=True)]
    fig = Figure(figsize=(8, 1.4 + 0.45 * max(1, len(bayes))))
    ax = fig.subplots()
    y = np.arange(len(bayes))[::-1]
    ax.hlines(y, bayes["ci_lower"], bayes["ci_upper"], color="C0", lw=3)
    colors = ["C0" if ok is True else "C3" for ok in bayes["diagnostics_ok"].astype(object)]
    ax.scatter(bayes["estimate"], y, color=colors, zorder=3, label="posterior (red: "
               "diagnostics failed)")
    ols = done[(done["method"].isin(["twfe_controls", "twfe"])) & (done["estimand"] == "att")]
    if len(ols):
        ref = ols.sort_values("method", ascending=False).iloc[0]
        ax.axvline(ref["estimate"], color="C1", ls="--", label=f"OLS {ref['method']}")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(estimand)
    ax.set_title(f"Sweep: {estimand} across jobs")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def write_sweep(sweep_dir: str | Path) -> tuple[Path, pd.DataFrame]:
    """Write the sweep files (comparison CSV / PNG, LOO, report) into ``sweep_dir``; return the
    comparison CSV's path and table."""
    from .plots import save_figure

    sweep_dir = Path(sweep_dir)
    table = sweep_table(sweep_dir)
    path = write_csv(table, sweep_dir / "sweep_comparison.csv")
    if "method" in table.columns:
        save_figure(plot_sweep(table), sweep_dir / "sweep_comparison", formats=("png",))
    finished = table[table["status"] == "finished"].drop_duplicates("job")
    posteriors = [(str(r.job), r.overrides, sweep_dir / str(r.job) / "posterior.nc")
                  for r in finished.itertuples()
                  if (sweep_dir / str(r.job) / "posterior.nc").is_file()]
    loo = None
    if posteriors:
        from .loo import loo_table  # arviz-stats only when there are posteriors to compare

        loo, influential = loo_table(posteriors)
        write_csv(loo, sweep_dir / "loo_comparison.csv")
        write_csv(influential, sweep_dir / "loo_influential.csv")
    write_sweep_report(sweep_dir, table, loo)
    return path, table


def closing_line(table: pd.DataFrame) -> str:
    """``sweep: N job(s), K reused from earlier runs (jobs ...); failed F``."""
    jobs = table.drop_duplicates("job")
    reused = jobs.loc[jobs["reused_from"].fillna("") != "", "job"].astype(str).tolist() \
        if "reused_from" in jobs else []
    return (f"sweep: {len(jobs)} job(s), {len(reused)} reused from earlier runs"
            + (f" (jobs {', '.join(reused)})" if reused else "")
            + f"; failed {int(jobs['status'].str.startswith('failed').sum())}")


class SweepCompareCallback(Callback):
    """Hydra callback: the sweep comparison at the end of every multirun."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        path, table = write_sweep(config.hydra.sweep.dir)
        print(closing_line(table))
        print(f"sweep comparison: {path}\nsweep report: {path.parent / 'sweep_report.html'}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bayes_resil.compare <multirun directory>", file=sys.stderr)
        return 2
    try:
        path, _ = write_sweep(args[0])
    except FileNotFoundError as exc:
        print(f"bayes_resil.compare: error: {exc}", file=sys.stderr)
        return 2
    print(f"sweep comparison: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
