"""Simulation-based calibration (SBC) of the Bayesian models (Talts et al. 2018; Modrák et al.
2023).

For each model: draw ``S`` parameter sets and outcome vectors from the model's own prior
predictive on the study's design (the first replication's panel: its units, periods, adoption
times, controls and missing rows; the outcome is replaced), fit the model to each simulated
outcome, and take the rank of each drawn parameter among ``L`` thinned posterior draws. When the
model code and the sampler are right, every rank is uniform on 0..L. The priors are scaled once,
to the design panel's outcome, and kept for every fit (rescaling to each simulated outcome would
change the prior and break the check).

Speed: the model is compiled once per worker (nutpie) and refitted to each simulated outcome
through its ``y_observed`` data container. Uniformity: the rank PIT ``(rank + u) / (L + 1)``, u
uniform, tested with ``arviz_stats``' pointwise order test with Cauchy combination (``pot_c``,
Tesso et al. 2026); a parameter's verdict is ``not uniform`` when p < 0.01 / (number of
parameters of the model), a Bonferroni bound. The joint models (``iv``, ``mediation``) feed one
observed variable into the other equation's mean, so their prior predictive is not the model's
generative process: SBC refuses them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from .. import __version__
from ..bayes.models import BuiltModel
from ..errors import InputError
from ..outputs import write_csv
from ..resume import code_hash
from ..schema import SamplerConfig, typed
from ..study import StudyData, load_study
from .replication import data_config, keyed_files, quiet_workers

log = logging.getLogger("bayes_resil")

SBC_DIR = "sbc"
JOINT = ("iv", "mediation")
MAX_PLOTTED = 16


def check_sbc_models(models: dict) -> None:
    joint = [m for m in models if m in JOINT]
    if joint:
        raise InputError(f"calibration.sbc.simulations > 0 with model(s) {joint}: SBC needs "
                         "single-equation models (their prior predictive is their generative "
                         "process); leave the joint models out or set calibration.sbc."
                         "simulations=0")
    if not models:
        raise InputError("calibration.sbc.simulations > 0 but the study has no Bayesian model "
                         "(model=none); pick one, e.g. model=twfe")
    from ..bayes.sampling import uses_marginal

    if any(uses_marginal(c.sampler) for c in models.values()):
        raise InputError("calibration.sbc.simulations > 0 with sampler.engine=marginal: SBC "
                         "refits the full model (compiled once, the outcome swapped); set "
                         "sampler.engine=full for SBC")
    from ..bayes.models import design_of

    robust = [m for m, c in models.items() if m not in JOINT and design_of(c.model) == "robust"]
    if robust:
        raise InputError(f"calibration.sbc.simulations > 0 with model(s) {robust} in the robust "
                         "design: its effects have flat priors and its predictive is one step "
                         "ahead within each city, so prior draws are not its generative "
                         "process; add model.design=twfe for SBC (the robust design is "
                         "calibrated by coverage over replications)")


def scalar_names(prior: dict[str, np.ndarray], dims: dict[str, list], names: list[str]
                 ) -> list[tuple[str, str, tuple]]:
    """(label, variable, index) of every scalar element of ``names``."""
    out = []
    for v in names:
        if v not in prior:
            continue
        shape = prior[v].shape[1:]
        coords = dims.get(v, [])
        for idx in np.ndindex(*shape) if shape else [()]:
            where = ",".join(str(c[i]) for c, i in zip(coords, idx, strict=True))
            lab = f"{v}[{where}]" if idx else v
            out.append((lab, v, idx))
    return out


def ranks(post: np.ndarray, true: float, rank_draws: int) -> int:
    """Rank of ``true`` among ``rank_draws`` equally spaced (thinned) posterior draws."""
    flat = post.reshape(-1)
    idx = np.linspace(0, flat.size - 1, rank_draws).round().astype(int)
    return int((flat[idx] < true).sum())


def _model_cfg(mcfg: DictConfig) -> dict:
    c = OmegaConf.to_container(mcfg, resolve=True)
    return {k: c[k] for k in ("data", "index", "model", "prior", "sampler") if k in c}


def sim_key(payload: dict, model: str, sim: int, seed: int, rank_draws: int) -> str:
    sampler = {k: v for k, v in payload["sampler"].items() if k not in ("progress", "cores")}
    body = {**payload, "sampler": sampler, "model_name": model, "sim": sim, "seed": seed,
            "rank_draws": rank_draws, "version": __version__, "code": code_hash()}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class PriorDraws:
    """Parameters and outcomes drawn from a model's prior predictive."""

    labels: list[tuple[str, str, tuple]]  # (label, variable, index) of each ranked scalar
    truths: np.ndarray  # (simulations, parameters)
    y: np.ndarray  # (simulations, observations)


def simulate_prior(built: BuiltModel, simulations: int, seed: int) -> PriorDraws:
    """``simulations`` draws of the effect and hyper parameters and of the outcome."""
    import pymc as pm

    with built.model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = pm.sample_prior_predictive(draws=simulations, random_seed=seed)
    group = prior["prior"]
    values = {v: np.asarray(group[v])[0] for v in group.data_vars}
    dims = {v: [group[v].coords[d].values.tolist() for d in group[v].dims[2:]]
            for v in group.data_vars}
    labels = scalar_names(values, dims, [*built.effect_vars, *built.hyper_vars])
    truths = np.array([[values[v][(s, *idx)] for _, v, idx in labels]
                       for s in range(simulations)], dtype=float).reshape(simulations, -1)
    # constants (a reference period fixed at 0) have no distribution to rank against
    varies = truths.std(axis=0) > 0 if simulations > 1 else np.ones(len(labels), bool)
    labels = [lab for lab, v in zip(labels, varies, strict=True) if v]
    y = np.asarray(prior["prior_predictive"][built.observed[0]])[0]
    return PriorDraws(labels, truths[:, varies], y)


def fit_ranks(built: BuiltModel, draws: PriorDraws, sims: list[int], sampler_cfg, *,
              rank_draws: int, seed: int, model: str = "",
              on_done: Callable[[int, pd.DataFrame], None] | None = None) -> pd.DataFrame:
    """Fit ``built`` (compiled once with nutpie) to the outcome of each simulation in ``sims``
    and rank the drawn parameters among ``rank_draws`` thinned posterior draws.

    ``built`` may use other priors than the model that made ``draws``: then the ranks show the
    mismatch (that is how a mis-specified prior is caught). ``on_done(sim, rows)`` is called
    after each fit (the study writes each simulation's file there)."""
    import nutpie

    from ..bayes.diagnostics import diagnose

    sampler_cfg = typed(SamplerConfig, sampler_cfg)
    compiled = nutpie.compile_pymc_model(built.model)
    out = []
    for sim in sims:
        t0 = time.perf_counter()
        trace = nutpie.sample(
            compiled.with_data(y_observed=draws.y[sim]), chains=int(sampler_cfg.chains),
            draws=int(sampler_cfg.draws), tune=int(sampler_cfg.tune),
            cores=1, seed=seed + sim, progress_bar=False,
            target_accept=float(sampler_cfg.target_accept))
        diag = diagnose(trace, built, sampler_cfg.checks, sensitivity=False)
        post = trace["posterior"]
        rng = np.random.default_rng([seed, sim])
        rows = []
        for (label, var, idx), true in zip(draws.labels, draws.truths[sim], strict=True):
            d = np.asarray(post[var])[(slice(None), slice(None), *idx)]
            r = ranks(d, true, rank_draws)
            rows.append({"model": model, "simulation": sim, "parameter": label,
                         "true_value": float(true), "posterior_mean": float(d.mean()),
                         "posterior_sd": float(d.std()), "rank": r, "rank_draws": rank_draws,
                         "pit": (r + rng.uniform()) / (rank_draws + 1),
                         "diagnostics_ok": diag.passed,
                         "seconds": time.perf_counter() - t0})
        frame = pd.DataFrame(rows)
        if on_done is not None:
            on_done(sim, frame)
        out.append(frame)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def sbc_chunk(payload: dict, model: str, sims: list[int], draws: PriorDraws, rank_draws: int,
              seed: int, keys: dict[int, str], out_dir: str) -> list[int]:
    """Worker: rebuild the model on the study's design, fit ``sims`` and write each
    simulation's ranks to ``sbc/<model>/s<sim>-<key>.csv``; returns the simulations done."""
    from ..bayes.fit import prepare

    quiet_workers()
    cfg = OmegaConf.create(payload)
    folder = Path(out_dir) / SBC_DIR / model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_study(cfg.data, cfg.get("index"))
        _, _, built = prepare(data, cfg)
        fit_ranks(built, draws, sims, cfg.sampler, rank_draws=rank_draws, seed=seed,
                  model=model, on_done=lambda sim, rows: write_csv(
                      rows, folder / f"s{sim:05d}-{keys[sim]}.csv"))
    return sims


def uniformity(pit: np.ndarray) -> float:
    """p-value of the PIT uniformity test (arviz_stats, ``pot_c``)."""
    from arviz_stats.base import array_stats

    p, _, _ = array_stats.uniformity_test(np.asarray(pit, dtype=float), method="pot_c")
    return float(p)


def sbc_table(ranks_frame: pd.DataFrame) -> pd.DataFrame:
    """``sbc.csv``: per model x parameter the uniformity p-value and verdict."""
    records = []
    for model, g in ranks_frame.groupby("model", sort=False):
        n_par = g["parameter"].nunique()
        for par, h in g.groupby("parameter", sort=False):
            p = uniformity(h["pit"].to_numpy())
            records.append({
                "model": model, "parameter": par, "simulations": len(h), "p_value": p,
                "verdict": "uniform" if p >= 0.01 / n_par else "not uniform",
                "bonferroni_threshold": 0.01 / n_par,
                "failed": int((~h["diagnostics_ok"].astype(bool)).sum()),
                "mean_pit": float(h["pit"].mean())})
    return pd.DataFrame.from_records(records)


def run_sbc_study(cfg: DictConfig, models: dict[str, DictConfig], data0: StudyData, out: Path,
                  *, jobs: int, roots: list[Path]) -> tuple[pd.DataFrame, list[str]]:
    """SBC of every model of the study; writes ``sbc.csv``, ``sbc_ranks.csv`` and
    ``figures/sbc_<model>.png``. Simulations already fitted (found by key under ``roots``) are
    linked, not refitted."""
    from ..bayes.fit import prepare
    from ..plots import save_figure
    from ..plots.calibration import plot_sbc_ecdf
    from ..resume import link_or_copy
    from .runner import execute

    scfg = cfg.calibration.sbc
    n_sims, rank_draws, seed = int(scfg.simulations), int(scfg.get("rank_draws", 99)), int(
        scfg.get("seed", 2025))
    frames, files = [], []
    for model, mcfg in models.items():
        payload = _model_cfg(mcfg)
        payload["data"] = data_config(mcfg, int(cfg.calibration.get("seed", 1000)))
        _, _, built = prepare(data0, mcfg)
        draws = simulate_prior(built, n_sims, seed)
        keys = {s: sim_key(payload, model, s, seed, rank_draws) for s in range(n_sims)}
        folder = out / SBC_DIR / model
        found = {} if cfg.get("force", False) else sbc_keys_in(roots)
        todo = []
        for s in range(n_sims):
            target = folder / f"s{s:05d}-{keys[s]}.csv"
            if keys[s] in found and not target.exists():
                link_or_copy(found[keys[s]], target)
            elif not target.exists() or cfg.get("force", False):
                todo.append(s)
        # chunks of about a quarter of a worker's share: each compiles the model once, and the
        # progress line comes after every chunk
        size = max(5, -(-len(todo) // (4 * jobs)))
        chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
        log.info("SBC %s: %d simulation(s), %d to fit on %d worker(s), %d parameter(s)",
                 model, n_sims, len(todo), min(jobs, len(chunks)), len(draws.labels))
        calls = [(payload, model, ch, draws, rank_draws, seed, keys, str(out)) for ch in chunks]
        t0, fitted = time.perf_counter(), 0
        for done in execute(sbc_chunk, calls, min(jobs, len(chunks))):
            fitted += len(done)
            elapsed = time.perf_counter() - t0
            log.info("SBC %s: %d/%d simulations fitted | %.0f s | ETA %.0f s", model, fitted,
                     len(todo), elapsed, elapsed / fitted * (len(todo) - fitted))
        frames.append(pd.concat([pd.read_csv(folder / f"s{s:05d}-{keys[s]}.csv")
                                 for s in range(n_sims)], ignore_index=True))
    ranks_frame = pd.concat(frames, ignore_index=True)
    table = sbc_table(ranks_frame)
    write_csv(ranks_frame, out / "sbc_ranks.csv")
    write_csv(table, out / "sbc.csv")
    files += ["sbc.csv", "sbc_ranks.csv"]
    for model, g in table.groupby("model", sort=False):
        shown = g.head(MAX_PLOTTED)
        pit = {p: ranks_frame.loc[(ranks_frame["model"] == model)
                                  & (ranks_frame["parameter"] == p), "pit"].to_numpy()
               for p in shown["parameter"]}
        save_figure(plot_sbc_ecdf(pit, dict(zip(shown["parameter"], shown["p_value"],
                                                strict=True)), model=model),
                    out / "figures" / f"sbc_{model}")
        files.append(f"figures/sbc_{model}.png|svg")
    return table, files


def sbc_keys_in(roots: list[Path]) -> dict[str, Path]:
    """Key -> file of every finished SBC simulation under ``roots``."""
    return keyed_files(roots, f"{SBC_DIR}/*/s*-*.csv")
