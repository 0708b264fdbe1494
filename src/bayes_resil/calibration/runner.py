"""A calibration study from start to end: plan, reuse, compute in parallel, score, write.

1. **Check** before any work: ``calibration.replications`` >= 1, every simulation knob known,
   every model of the study built on the first replication's panel.
2. **Plan**: replication ``r`` simulates with ``data.simulation.seed = calibration.seed + r``;
   each replication has the units of work ``freq`` and ``bayes_<model>``
   (:mod:`.replication`), each with a key.
3. **Reuse**: a unit whose key is already in a ``replications/`` folder under
   ``reuse.search`` (or in this study's own folder) is linked, not recomputed (``force=true``
   recomputes). A killed study run again therefore computes only what is missing.
4. **Compute** the missing replications on ``calibration.jobs`` workers (default: the cores,
   divided by the cores one sampler uses, as the sweep launchers plan them:
   :func:`bayes_resil.parallel.parallel_jobs`), with a progress line (done / failing diagnostics
   / errors / time per replication / ETA) at most every ``calibration.progress_every`` seconds.
5. **Score** (:mod:`.metrics`) and write ``calibration_rows.csv``, ``calibration.csv``, the
   figures and ``calibration_report.html`` / ``.md``; SBC (:mod:`.sbc`) when
   ``calibration.sbc.simulations`` > 0.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from .. import __version__
from ..errors import InputError
from ..options import compose
from ..outputs import write_csv, write_text
from ..parallel import available_cores, blas_share, cap_blas_threads, parallel_jobs
from ..resume import link_or_copy
from ..schema import check_keys
from .metrics import calibration_table
from .replication import (
    REP_DIR,
    check_units,
    data_config,
    file_name,
    keyed_files,
    run_replication,
    unit_config,
    unit_key,
)

log = logging.getLogger("bayes_resil")

STUDY_KEY = "study_key.json"


def compose_model(name: str, overrides: list[str] | None) -> DictConfig:
    """The study's config with ``model=name`` (every other override kept)."""
    keep = [o for o in overrides or [] if not o.lstrip("+~").startswith(("model=",
                                                                         "calibration.models"))]
    try:
        return compose([*keep, f"model={name}"], config_name="calibrate")
    except Exception as exc:  # noqa: BLE001 - Hydra's own message says what is wrong
        raise InputError(f"calibration.models: cannot compose model={name}: {exc}") from None


def resolve_models(cfg: DictConfig, overrides: list[str] | None) -> dict[str, DictConfig]:
    """Bayesian models of the study: ``calibration.models``, else the ``model`` group's choice
    (none for ``model=none``); each with the full config it runs under."""
    names = cfg.calibration.get("models")
    if names is None:
        name = str(cfg.model.name)
        return {} if name == "none" else {name: cfg}
    if isinstance(names, str):
        names = [names]
    out = {}
    for name in [str(n) for n in names]:
        if name == "none":
            continue
        out[name] = cfg if name == str(cfg.model.name) else compose_model(name, overrides)
    return out


def finished_index(roots: list[Path]) -> dict[str, Path]:
    """Key -> file of every finished replication unit under ``roots``."""
    return keyed_files(roots, f"{REP_DIR}/r*-*.csv")


def _study_roots(cfg: DictConfig, launch_dir: Path | None, out: Path) -> list[Path]:
    roots = [out]
    if launch_dir is not None:
        roots += [Path(p) if Path(p).is_absolute() else launch_dir / p
                  for p in cfg.get("reuse", {}).get("search", ["calibration"])]
    return roots


def _fmt_seconds(s: float) -> str:
    if not np.isfinite(s):
        return "?"
    return f"{s / 60:.0f} min {s % 60:.0f} s" if s >= 60 else f"{s:.0f} s"


class Progress:
    """Replications done / failing / errors / time per replication / ETA, at most every
    ``every`` seconds (and at the end), to the log (terminal and ``calibrate.log``)."""

    def __init__(self, total: int, jobs: int, every: float):
        self.total, self.jobs, self.every = total, jobs, every
        self.done = self.failing = self.errors = 0
        self.t0 = self.last = time.perf_counter()
        self.seconds: list[float] = []
        self.messages: set[str] = set()

    def update(self, status: dict) -> None:
        self.done += 1
        self.failing += bool(status["failed"])
        self.errors += bool(status["errors"])
        self.seconds.append(status["seconds"])
        for tb in status.get("tracebacks", []):
            head = tb.strip().splitlines()[-1]
            if head not in self.messages:  # each distinct failure once, with its traceback
                self.messages.add(head)
                log.warning("replication %s: a unit failed (recorded, the study goes on):\n%s",
                            status["replication"], tb)
        now = time.perf_counter()
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            log.info("%s", self.line())

    def line(self) -> str:
        elapsed = time.perf_counter() - self.t0
        rate = elapsed / self.done if self.done else float("nan")
        eta = rate * (self.total - self.done)
        per = float(np.mean(self.seconds)) if self.seconds else float("nan")
        share = 100 * self.done / max(1, self.total)
        return (f"calibration: {self.done}/{self.total} replications ({share:.0f}%)"
                f" | {self.failing} with failed diagnostics | {self.errors} with errors | "
                f"{per:.1f} s per replication on one worker, {self.jobs} worker(s) | "
                f"ETA {_fmt_seconds(eta)}")


def execute(fn: Callable, calls: list[tuple], jobs: int) -> Iterator:
    """``fn(*call)`` for every call, on ``jobs`` joblib (loky) workers, results as they finish
    (in this process, in order, when ``jobs`` is 1). Each worker's BLAS uses its share of the
    cores (:func:`blas_share`)."""
    if jobs <= 1 or len(calls) <= 1:
        for c in calls:
            yield fn(*c)
        return
    from joblib import Parallel, delayed

    threads = blas_share(jobs)
    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
        delayed(_with_blas_threads)(threads, fn, *c) for c in calls)


def _with_blas_threads(threads: int, fn: Callable, *args):
    """``fn(*args)`` in a worker with ``threads`` BLAS threads (:func:`cap_blas_threads`)."""
    with cap_blas_threads(threads):
        return fn(*args)


def workers(cfg: DictConfig, bayes: bool) -> int:
    """``calibration.jobs``, else the cores divided by what one replication's sampler uses."""
    jobs = cfg.calibration.get("jobs")
    if jobs is not None:
        return max(1, int(jobs))
    if bayes:
        return parallel_jobs(int(cfg.sampler.get("chains", 4)), cfg.sampler.get("cores"))
    return available_cores()


def scaled_rows(rows: pd.DataFrame, se_scale: dict) -> pd.DataFrame:
    """Extra rows ``<method> (se x<f>)``: the method's SE and interval half-widths times ``f``
    (what its coverage would be with an SE ``f`` times as large)."""
    extra = []
    for method, f in (se_scale or {}).items():
        f = float(f)
        r = rows[rows["method"] == method].copy()
        if r.empty:
            continue
        est = r["estimate"]
        r["ci_lower"] = est - f * (est - r["ci_lower"])
        r["ci_upper"] = est + f * (r["ci_upper"] - est)
        r["std_error"] = f * r["std_error"]
        r["covers"] = (r["ci_lower"] <= r["true_effect"]) & (r["true_effect"] <= r["ci_upper"])
        r["method"] = f"{method} (se x{f:g})"
        extra.append(r)
    return pd.concat([rows, *extra], ignore_index=True) if extra else rows


def _check(cfg: DictConfig) -> tuple[int, int]:
    c = cfg.calibration
    reps, sims = c.get("replications"), c.get("sbc", {}).get("simulations", 0) or 0
    try:
        reps, sims = int(reps), int(sims)
    except (TypeError, ValueError):
        raise InputError(f"calibration.replications={reps!r} and calibration.sbc.simulations="
                         f"{sims!r} must be whole numbers") from None
    if reps < 0 or sims < 0 or (reps == 0 and sims == 0):
        raise InputError(f"calibration.replications={reps}: a study needs at least one "
                         "replication (or calibration.replications=0 with "
                         "calibration.sbc.simulations > 0 for an SBC-only study)")
    if cfg.data.get("source") not in ("simulated", "linear"):
        raise InputError("a calibration study needs simulated data with known effects "
                         f"(data=simulated or data=linear), not data={cfg.data.get('source')}")
    return reps, sims


def run_calibration(cfg: DictConfig, out: str | Path, *, launch_dir: Path | None = None,
                    overrides: list[str] | None = None) -> Path:
    """Run the study configured by ``cfg`` (``conf/calibrate.yaml``) into ``out``."""
    from ..report.calibration_report import write_calibration_report
    from .summary import summary_text

    check_keys(cfg)  # keys added with + that no schema has
    out = Path(out)
    t0 = time.perf_counter()
    reps, sims = _check(cfg)
    models = resolve_models(cfg, overrides)
    if sims:
        from .sbc import check_sbc_models

        check_sbc_models(models)
    seed0 = int(cfg.calibration.get("seed", 1000))
    data0 = check_units(cfg, models, seed0)
    units = ([("freq", unit_config(cfg, "freq"))] if list(cfg.freq.get("blocks") or []) else [])
    units += [(f"bayes_{m}", unit_config(mcfg, f"bayes_{m}")) for m, mcfg in models.items()]
    if reps and not units:
        raise InputError("nothing to calibrate: freq.blocks is empty and model=none; choose "
                         "a freq option or a model (or calibration.models=[...])")
    index_cfg = OmegaConf.to_container(cfg.index, resolve=True) if cfg.get("index") else None
    plan = []
    for r in range(reps):
        dcfg = data_config(cfg, seed0 + r)
        plan += [(r, seed0 + r, name, unit_key(dcfg, index_cfg, ucfg), ucfg)
                 for name, ucfg in units]
    _claim(out, plan, cfg)

    rep_dir = out / REP_DIR
    found = {} if cfg.get("force", False) else finished_index(_study_roots(cfg, launch_dir, out))
    missing: dict[int, list] = {}
    reused = 0
    for r, _, name, key, ucfg in plan:
        target = rep_dir / file_name(r, name, key)
        if target.exists() and not cfg.get("force", False):
            continue
        if key in found and found[key].resolve() != target.resolve():
            link_or_copy(found[key], target)
            reused += 1
            continue
        missing.setdefault(r, []).append((name, key, ucfg))
    jobs = min(workers(cfg, bayes=bool(models)), max(1, len(missing)))
    log.info("calibration: %d replication(s) x %d unit(s) (%s); %d unit(s) reused from earlier "
             "studies, %d replication(s) to compute on %d worker(s)", reps, len(units),
             ", ".join(n for n, _ in units), reused, len(missing), jobs)
    container = OmegaConf.to_container(cfg, resolve=True)
    tasks = [(container, r, seed0 + r, u, str(out)) for r, u in sorted(missing.items())]
    progress = Progress(len(tasks), jobs, float(cfg.calibration.get("progress_every", 10)))
    for status in execute(run_replication, tasks, jobs):
        progress.update(status)

    frames = [pd.read_csv(rep_dir / file_name(r, name, key)) for r, _, name, key, _ in plan]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["method", "error"])
    rows = scaled_rows(rows, dict(cfg.calibration.get("se_scale") or {}))
    failed_units = rows[rows["error"].notna()]
    table = calibration_table(rows[rows["error"].isna()], errors=failed_units,
                              flag_alpha=float(cfg.calibration.get("flag_alpha", 0.01)))
    write_csv(rows, out / "calibration_rows.csv")
    write_csv(table, out / "calibration.csv")
    files = ["calibration_rows.csv", "calibration.csv"]
    sbc_table = None
    if sims:
        from .sbc import run_sbc_study

        sbc_table, sbc_files = run_sbc_study(cfg, models, data0, out, jobs=workers(cfg, True),
                                             roots=_study_roots(cfg, launch_dir, out))
        files += sbc_files
    files += write_calibration_report(
        cfg, out, table, rows, sbc_table, info=_study_info(cfg, models, reps, reused,
                                                           len(tasks), overrides, t0))
    text = summary_text(table, sbc_table, out, files, time.perf_counter() - t0)
    write_text(text, out / "summary.txt")
    print(text, end="")
    return out


def _study_info(cfg: DictConfig, models: dict, reps: int, reused: int, computed: int,
                overrides: list[str] | None, t0: float) -> list[tuple[str, str]]:
    """The "what was run" rows of the report."""
    c = cfg.calibration
    return [
        ("data", f"data={cfg.data.source}, seeds {c.seed} to {int(c.seed) + reps - 1}"
                 if reps else f"data={cfg.data.source}"),
        ("replications", f"{reps} ({reused} unit(s) reused from earlier studies, "
                         f"{computed} replication(s) computed)"),
        ("frequentist", f"freq={cfg.freq.name}: {', '.join(cfg.freq.get('blocks') or []) or '-'}"),
        ("Bayesian models", ", ".join(models) or "none"),
        ("prior / sampler", f"prior={cfg.prior.name}, sampler={cfg.sampler.name} "
                            f"({cfg.sampler.chains} chains x {cfg.sampler.draws} draws after "
                            f"{cfg.sampler.tune} tuning steps)" if models else "-"),
        ("interval level", f"{float(cfg.get('ci_level', 0.95)):.2f}"),
        ("command-line overrides", " ".join(overrides) if overrides else "(none)"
         if overrides is not None else "(called from Python)"),
        ("bayes_resil version", __version__),
        ("wall time", _fmt_seconds(time.perf_counter() - t0)),
    ]


def _claim(out: Path, plan: list, cfg: DictConfig) -> None:
    """Refuse to write a study into a folder that holds a different study's results."""
    study = hashlib.sha256(json.dumps(
        {"units": sorted(k for *_, k, _ in plan),
         "calibration": OmegaConf.to_container(cfg.calibration, resolve=True)},
        sort_keys=True, default=str).encode()).hexdigest()
    f = out / STUDY_KEY
    if f.exists() and (out / "calibration.csv").exists():
        own = json.loads(f.read_text(encoding="utf-8")).get("key")
        if own != study:
            raise InputError(f"{out} already holds a different calibration study; refusing to "
                             "overwrite it (choose another hydra.run.dir)")
    write_text(json.dumps({"key": study}) + "\n", f)
