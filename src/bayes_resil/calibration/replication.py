"""One replication of a calibration study: simulate a panel, estimate, score against the truth.

A replication is split into *units of work*: ``freq`` (the frequentist blocks of ``freq.blocks``,
each run on its own so one failing block does not hide the others) and ``bayes_<model>`` for each
Bayesian model of the study. Each unit's rows are written to
``replications/r<replication>-<unit>-<key>.csv`` the moment it is done (atomically), where
``key`` is a SHA-256 of everything its numbers depend on: the data config with the replication's
seed, the index, the unit's own config (``freq``, or ``model`` + ``prior`` + ``sampler`` without
``progress`` / ``cores``), the interval level, the package version and source (the same code hash
as run keys, :mod:`bayes_resil.resume`). The simulated panel is a pure function of these (same
seed, same panel, bit for bit), so the key needs no hash of the panel itself. A study that is
killed, or a later study that repeats some of the same work, finds these files by their key and
does not recompute them.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import logging
import time
import traceback
import warnings
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from .. import __version__
from ..errors import InputError
from ..estimates import to_frame
from ..outputs import write_csv
from ..resume import code_hash
from ..steps import not_ok
from ..study import StudyData, load_study
from .truth import attach_truth, freq_samples, sample_name, unit_time_keys

log = logging.getLogger("bayes_resil")

REP_DIR = "replications"
#: sampler keys that do not change the draws (as for run keys)
SAMPLER_IGNORED = ("progress", "cores")
ROW_COLUMNS = ["replication", "seed", "unit", "method", "estimand", "outcome", "estimate",
               "std_error", "ci_lower", "ci_upper", "ci_level", "true_effect",
               "true_effect_panel", "covers", "truth_sample", "truth_cells", "n_obs",
               "diagnostics_ok", "diagnostics_failures", "note", "error", "seconds"]


def data_config(cfg: DictConfig | dict, seed: int) -> dict:
    """The ``data`` config of the replication with ``seed``."""
    data = copy.deepcopy(OmegaConf.to_container(cfg["data"], resolve=True)
                         if isinstance(cfg, DictConfig) else cfg["data"])
    data.setdefault("simulation", {})["seed"] = int(seed)
    return data


def unit_config(cfg: DictConfig, unit: str) -> dict:
    """The part of the config a unit's numbers depend on (besides the data)."""
    c = OmegaConf.to_container(cfg, resolve=True)
    if unit == "freq":
        return {"freq": c["freq"], "ci_level": c.get("ci_level", 0.95)}
    sampler = {k: v for k, v in c["sampler"].items() if k not in SAMPLER_IGNORED}
    return {"model": c["model"], "prior": c["prior"], "sampler": sampler,
            "ci_level": c.get("ci_level", 0.95)}


def unit_key(data_cfg: dict, index_cfg: dict | None, unit_cfg: dict) -> str:
    payload = {"data": data_cfg, "index": index_cfg, "unit": unit_cfg, "version": __version__,
               "code": code_hash()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def file_name(replication: int, unit: str, key: str) -> str:
    return f"r{replication:05d}-{unit}-{key}.csv"


def key_of(path: Path) -> str:
    """The key in a replication file's name."""
    return path.stem.rsplit("-", 1)[-1]


def keyed_files(roots: list[Path], pattern: str) -> dict[str, Path]:
    """Key -> file of every finished unit matching ``pattern`` (a glob) under ``roots``; the
    first found wins."""
    found: dict[str, Path] = {}
    for root in roots:
        if root.is_dir():
            for f in root.rglob(pattern):
                found.setdefault(key_of(f), f)
    return found


def _finish(rows: pd.DataFrame, replication: int, seed: int, unit: str) -> pd.DataFrame:
    rows = rows.assign(replication=replication, seed=seed, unit=unit)
    if "true_effect" in rows.columns:
        covers = ((rows["ci_lower"] <= rows["true_effect"])
                  & (rows["true_effect"] <= rows["ci_upper"])).astype("boolean")
        covers[rows["ci_lower"].isna() | rows["ci_upper"].isna()] = pd.NA
        rows["covers"] = covers
    for c in ROW_COLUMNS:
        if c not in rows.columns:
            rows[c] = pd.NA
    return rows[ROW_COLUMNS]


def _error_row(block: str, exc: BaseException) -> pd.DataFrame:
    """The row of a unit (or block) that raised: its message; the traceback goes to the log."""
    msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
    return pd.DataFrame([{"method": block, "error": msg, "traceback": traceback.format_exc()}])


def freq_rows(data: StudyData, freq_cfg, level: float) -> pd.DataFrame:
    """Every block of ``freq.blocks`` on its own; a failing block leaves an error row."""
    from ..freq.suite import run_freq

    samples = freq_samples(data, freq_cfg)
    parts = []
    for block in list(freq_cfg.get("blocks", ["baseline"])):
        t0 = time.perf_counter()
        try:
            res = run_freq(data, {**freq_cfg, "blocks": [block]}, level=level)
        except Exception as exc:  # noqa: BLE001 - recorded as this block's error, the rest go on
            parts.append(_error_row(block, exc))
            continue
        failed = not_ok(res.steps)  # run_freq isolates each block
        if failed:
            # (a bug's traceback was logged by the step itself)
            parts.append(pd.DataFrame([{"method": block, "error": failed[0].reason[:500],
                                        "traceback": None}]))
            continue
        est = to_frame(res.rows)
        if est.empty:
            continue
        which = est["method"].map(lambda m: sample_name(m, freq_cfg, data))
        scored = attach_truth(est, data, samples, which)
        if len(scored):
            parts.append(scored.assign(seconds=time.perf_counter() - t0))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def bayes_rows(data: StudyData, cfg: DictConfig, level: float) -> pd.DataFrame:
    """The model's posterior rows, with the diagnostics verdict on every row."""
    from ..bayes.fit import fit_summary

    name = f"bayes_{cfg.model.name}"
    try:
        # the priors' outcome scale as data: every panel's model is then one graph, compiled
        # once per worker (bayes/compile_cache.py)
        fit = fit_summary(data, cfg, level=level, priors_as_data=True)
    except Exception as exc:  # noqa: BLE001 - recorded; the study goes on
        return _error_row(name, exc)
    est = to_frame(fit.rows)
    samples = {"model": unit_time_keys(fit.built.md.frame)}
    scored = attach_truth(est, data, samples, pd.Series("model", index=est.index))
    if scored.empty:
        return scored
    return scored.assign(diagnostics_ok=fit.diagnostics.passed,
                         diagnostics_failures="; ".join(fit.diagnostics.failures),
                         seconds=fit.timings["total"])


def run_replication(cfg_container: dict, replication: int, seed: int,
                    units: list[tuple[str, str, dict]], out_dir: str) -> dict:
    """Compute the missing ``units`` ``(name, key, config)`` of one replication and write each
    unit's rows; returns a small status record (the runner's progress line)."""
    t0 = time.perf_counter()
    cfg = OmegaConf.create(cfg_container)
    level = float(cfg.get("ci_level", 0.95))
    status = {"replication": replication, "units": 0, "failed": [], "errors": [],
              "tracebacks": []}
    quiet_workers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_study(data_config(cfg, seed), cfg.get("index"))
        for name, key, ucfg in units:
            if name == "freq":
                rows = freq_rows(data, cfg.freq, level)
            else:
                rows = bayes_rows(data, OmegaConf.merge(cfg, ucfg), level)
            if "traceback" in rows.columns:
                status["tracebacks"] += rows["traceback"].dropna().tolist()
            rows = _finish(rows, replication, seed, name)
            write_csv(rows, Path(out_dir) / REP_DIR / file_name(replication, name, key))
            status["units"] += 1
            status["errors"] += [f"{m}: {e}" for m, e in zip(rows["method"], rows["error"],
                                                              strict=True) if isinstance(e, str)]
            if name != "freq":
                if (rows["diagnostics_ok"] == False).any():  # noqa: E712
                    status["failed"].append(name)
                gc.collect()  # a fitted PyMC model holds large graphs; free them now
    status["seconds"] = time.perf_counter() - t0
    return status


def quiet_workers() -> None:
    """PyMC's and nutpie's per-fit log lines would repeat for every replication: only their
    warnings are kept (diagnostics are in the rows)."""
    for name in ("pymc", "pytensor", "nutpie", "arviz"):
        logging.getLogger(name).setLevel(logging.WARNING)


def check_units(cfg: DictConfig, models: dict[str, DictConfig], seed: int) -> StudyData:
    """Fail before any work: simulate the first replication's panel and build every model on it
    (no sampling), so a model that cannot run on the design stops the study at once."""
    from ..bayes.fit import prepare

    data = load_study(data_config(cfg, seed), cfg.get("index"))
    if data.truth_cells is None:
        raise InputError("a calibration study needs simulated data with known effects "
                         "(data=simulated or data=linear), not data=file")
    from ..bayes.sampling import check_engine

    for name, mcfg in models.items():
        try:
            _, _, built = prepare(data, mcfg)
            check_engine(built, mcfg.sampler)
        except InputError as exc:
            raise InputError(f"calibration: model {name} cannot run on this design: {exc}"
                             ) from None
    return data
