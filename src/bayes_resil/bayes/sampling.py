"""Run the configured sampler (config group ``sampler``) and complete the DataTree.

Backends: ``nutpie`` (default; Rust NUTS on a numba-compiled model), ``pymc`` (PyMC's own
NUTS), ``numpyro`` (JAX; optional extra ``pip install bayes_resil[numpyro]``). The ``smoke``
preset is a tiny nutpie run for tests. The same seed gives the same draws. After sampling the
log-likelihood (for LOO), the log-prior (for power-scaling sensitivity) and, unless disabled,
the posterior predictive are added.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from contextlib import nullcontext

import numpy as np
import pymc as pm
import xarray as xr
from threadpoolctl import threadpool_limits

from ..errors import InputError
from ..parallel import job_cores
from ..schema import Backend, SamplerConfig, typed, values
from .compile_cache import reusing_compiled_models
from .models import BuiltModel
from .progress import logged_progress

log = logging.getLogger("bayes_resil")

BACKENDS = values(Backend)


def check_backend(cfg: Mapping) -> str:
    """``sampler.backend``, checked: known and installed."""
    backend = str(typed(SamplerConfig, cfg).backend)
    if backend not in BACKENDS:
        raise InputError(f"sampler.backend={backend!r}; use one of {list(BACKENDS)}")
    if backend == "numpyro":
        try:
            import jax  # noqa: F401
            import numpyro  # noqa: F401
        except ImportError:
            raise InputError("sampler=numpyro needs the optional extra: "
                             "pip install 'bayes_resil[numpyro]'") from None
    return backend


def sample(built: BuiltModel, cfg: Mapping, *, extras: bool = True,
           reuse_compiled: bool = False) -> tuple[xr.DataTree, dict]:
    """Sample ``built.model``; returns the DataTree and timings (seconds).

    ``extras=False`` skips the log-likelihood, log-prior and posterior predictive (a fit whose
    only use is its posterior summaries, as in a calibration study). ``reuse_compiled``: with
    nutpie, reuse a compiled model of the same computation from earlier in the process
    (:mod:`.compile_cache`; a calibration study, whose priors are built as data). Off for a
    single run: there the check would only cost time (1-4 s per fit)."""
    backend = check_backend(cfg)
    cfg = typed(SamplerConfig, cfg)  # the options' defaults are the schema's
    chains = int(cfg.chains)
    cores = job_cores(chains, cfg.cores)  # the same count the sweep launchers plan with
    seed = int(cfg.seed)
    timings = {}
    t0 = time.perf_counter()
    every = float(cfg.log_every)
    marginal = marginal_of(built) if uses_marginal(cfg) else None
    # one BLAS thread: the chains already run on the cores, so BLAS threads inside them only
    # contend (the marginal likelihood: 3x slower with two OpenBLAS threads on 2 cores), and
    # the draws of a seed then do not depend on the BLAS threads of the process (a single run
    # and a calibration worker, whose BLAS gets its share of the cores, draw the same)
    blas = threadpool_limits(1)
    # a model with the graph of an earlier fit in this process (a calibration study's next
    # panel) reuses its compiled code
    reuse = (reusing_compiled_models() if reuse_compiled and backend == "nutpie"
             and marginal is None else nullcontext())
    with built.model, warnings.catch_warnings(), blas, reuse:
        warnings.filterwarnings("ignore", message=".*log_likelihood.*")
        with logged_progress(every if backend == "nutpie" else 0.0):
            idata = pm.sample(
                draws=int(cfg.draws), tune=int(cfg.tune),
                chains=chains, cores=int(cores), random_seed=seed, nuts_sampler=backend,
                target_accept=float(cfg.target_accept),
                progressbar=bool(cfg.progress), compute_convergence_checks=False,
                model=marginal.model if marginal is not None else built.model,
            )
        timings["sampling_wall"] = time.perf_counter() - t0
        if marginal is not None:
            t1 = time.perf_counter()
            complete_marginal(idata, marginal, built, seed)
            timings["linear_draws"] = time.perf_counter() - t1
        if built.complete is not None:
            t1 = time.perf_counter()
            built.complete(idata, seed)
            timings["exact_draws"] = time.perf_counter() - t1
        if extras:
            t1 = time.perf_counter()
            pm.stats.compute_log_likelihood(idata, var_names=built.observed[:1],
                                            progressbar=False)
            pm.stats.compute_log_prior(idata, progressbar=False)
            if cfg.posterior_predictive:
                pm.sample_posterior_predictive(idata, extend_inferencedata=True,
                                               random_seed=seed, progressbar=False)
            timings["post_processing"] = time.perf_counter() - t1
    stats = idata["sample_stats"]
    sampling_time = stats.attrs.get("sampling_time")
    if sampling_time is not None:
        timings["sampling_only"] = float(sampling_time)
    return idata, timings


def uses_marginal(cfg: Mapping) -> bool:
    """Whether the sampler config asks for the exact-marginal engine (``sampler.engine``)."""
    return str(typed(SamplerConfig, cfg).engine) == "marginal"


def check_engine(built: BuiltModel, cfg: Mapping) -> None:
    """Fail fast: with ``sampler.engine=marginal``, build the engine's model (an InputError
    if the model is not covered or a linear coefficient's prior is not Gaussian)."""
    if uses_marginal(cfg):
        marginal_of(built)


def marginal_of(built: BuiltModel):
    """The hyperparameters' model of ``sampler.engine=marginal``, or a message saying why the
    model has none."""
    if built.marginal is None:
        raise InputError(
            f"sampler.engine=marginal (sampler=marginal) covers the robust design of twfe, "
            f"hetero_region, hetero_batch, event_study and staggered (Gaussian within-city "
            f"errors); model={built.name} here is not one of them (model.design=twfe, IV and "
            f"mediation keep parameters that are not Gaussian given the hyperparameters). "
            f"Use sampler=nutpie")
    return built.marginal()


def complete_marginal(idata: xr.DataTree, marginal, built: BuiltModel, seed: int) -> None:
    """Turn the hyperparameters' posterior into the full model's: exact draws of the linear
    coefficients, the full model's deterministics, its observed data."""
    post = idata["posterior"].to_dataset()
    rng = np.random.default_rng([seed, 14])
    dims = built.model.named_vars_to_dims
    new = {}
    for name, draws in marginal.draw_linear(post, rng).items():
        extra = dims.get(name) or tuple(f"{name}_dim_{i}" for i in range(draws.ndim - 2))
        new[name] = xr.DataArray(draws, dims=("chain", "draw", *extra),
                                 coords={d: list(built.model.coords[d]) for d in extra
                                         if d in built.model.coords})
    post = post.assign(new)
    det = pm.compute_deterministics(post, model=built.model, progressbar=False)
    post = post.assign({k: det[k] for k in det.data_vars})
    idata["posterior"] = xr.DataTree(post)
    y_obs = built.model["y_observed"].get_value()  # the observed variable's data container
    obs = xr.DataArray(y_obs, dims=("obs",), coords={"obs": list(built.model.coords["obs"])})
    idata["observed_data"] = xr.DataTree(xr.Dataset({"y": obs}))


def prior_predictive(built: BuiltModel, draws: int, seed: int) -> xr.DataTree:
    """Prior predictive draws of the model's observed variables and effects."""
    with built.model:
        return pm.sample_prior_predictive(draws=draws, random_seed=seed)
