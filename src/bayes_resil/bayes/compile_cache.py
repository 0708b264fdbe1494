"""Reuse a nutpie-compiled model for another model with the same graph (a calibration study's
next panel).

Compiling a robust model with nutpie's numba backend takes 25-40 s, longer than sampling it
(4 x 300 draws: ~20 s). The panels of a calibration study share the design, so their models
have the same graph and differ only in the values of their data containers (the outcome, the
controls, the masks of the fitted cells, and the outcome's sd and mean that scale the priors,
which a calibration study passes as data: ``PriorSet(..., as_data=True)``; a single run keeps
them as constants, whose graph compiles and samples ~20% faster). :func:`compiled_model`
keeps the last compiled models of the process and hands one back, with the new data, when the
new model is the same computation (``sampling.sample(reuse_compiled=True)``, which
``fit_summary(priors_as_data=True)`` of a calibration replication asks for):

* the same free variables, deterministics and observed variables (names, order);
* the same coordinates of every dimension a sampled or deterministic variable has;
* the same shapes of every stored variable (nutpie's trace layout);
* the same shared variables read (data containers, dimension lengths: names and types);
* :func:`pytensor.graph.basic.equal_computations` of the log density and the deterministics
  with the value variables and shared variables paired by name (constants compared by value).

The reused model gets the new model's shared values (``CompiledPyMCModel.with_data``) and its
initial-point function; the earlier model is not touched. Measured on the default design
(``model=hetero_region``, 4 x 300 draws, one core): 49 s for the first fit, 28 s for each
further one; a 16-panel study of ``model=staggered`` took 270 s instead of 528 s.

Anything else compiles afresh, so a reused model samples exactly what a fresh compilation
would (``tests/test_compile_cache.py`` checks the draws are identical).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import replace
from functools import cached_property

import pymc as pm
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import equal_computations
from pytensor.graph.traversal import graph_inputs

log = logging.getLogger("bayes_resil")

#: compiled models kept per process (a calibration worker alternates few models)
CACHE_SIZE = 3


class _Graph:
    """A model with what the comparison needs, each computed once when first asked for."""

    def __init__(self, model: pm.Model):
        self.model = model

    @cached_property
    def shapes(self) -> dict | None:
        return stored_shapes(self.model)

    @cached_property
    def outputs(self) -> list:
        """The log density and the deterministics, as functions of the value variables."""
        return [self.model.logp(), *self.model.replace_rvs_by_values(self.model.deterministics)]

    @cached_property
    def shared(self) -> dict:
        """The shared variables the outputs read (data containers, dimension lengths), by
        name; empty if two share a name."""
        shared = [v for v in graph_inputs(self.outputs) if isinstance(v, SharedVariable)]
        named = {v.name: v for v in shared}
        return named if len(named) == len(shared) and None not in named else {}


_CACHE: OrderedDict[int, tuple[_Graph, object, tuple]] = OrderedDict()


def clear() -> None:
    """Forget every compiled model."""
    _CACHE.clear()


def compiled_model(model: pm.Model, compile_fn=None, **kwargs):
    """``(compiled, reused)``: a nutpie-compiled model for ``model``, reused when an earlier one
    is the same computation (module docstring). ``compile_fn`` compiles afresh (default
    ``nutpie.compile_pymc_model``; ``kwargs`` go to it and must be the same for a reuse)."""
    import nutpie

    compile_fn = compile_fn or nutpie.compile_pymc_model
    options = tuple(sorted((k, repr(v)) for k, v in kwargs.items()))
    new = _Graph(model)
    for key, (old, compiled, old_options) in list(_CACHE.items()):
        if old_options != options or not same_computation(old, new):
            continue
        _CACHE.move_to_end(key)
        names = {var.name for var in compiled.shared_var_keys}
        compiled = compiled.with_data(**{k: v.get_value() for k, v in new.shared.items()
                                         if k in names})
        log.debug("compiled model reused (same graph as an earlier fit of this process)")
        # nutpie's initial points come from a function of the first model's containers:
        # one of this model's instead (the first model is left as it is)
        return replace(compiled, initial_point_func=initial_points(model, new.shapes)), True
    compiled = compile_fn(model, **kwargs)
    _CACHE[id(compiled)] = (new, compiled, options)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled, False


@contextmanager
def reusing_compiled_models():
    """While active, PyMC's ``pm.sample(nuts_sampler="nutpie")`` gets its compiled model from
    :func:`compiled_model` (everything else of ``pm.sample`` is unchanged: seeds, progress,
    the returned DataTree)."""
    import nutpie

    base = nutpie.compile_pymc_model

    def compile_or_reuse(model, **kwargs):
        return compiled_model(model, base, **kwargs)[0]

    nutpie.compile_pymc_model = compile_or_reuse
    try:
        yield
    finally:
        nutpie.compile_pymc_model = base


def _names(vars_) -> list[str]:
    return [v.name for v in vars_]


def initial_points(model: pm.Model, shapes: dict):
    """nutpie's initial-point function of ``model``, as ``compile_pymc_model`` makes it
    (support points, jittered; on the unconstrained scale, flattened)."""
    from nutpie.compile_pymc import _rv_dict_to_flat_array_wrapper, _wrap_with_lock
    from pymc.initial_point import make_initial_point_fn

    fn = make_initial_point_fn(model=model, default_strategy="support_point",
                               jitter_rvs=set(model.free_RVs), return_transformed=True)
    names = [model.rvs_to_values[v].name for v in model.free_RVs]
    return _rv_dict_to_flat_array_wrapper(_wrap_with_lock(fn), names=names,
                                          shapes=[shapes[n] for n in names])


def stored_shapes(model: pm.Model) -> dict | None:
    """The shapes of the variables nutpie stores (None: this nutpie cannot say)."""
    try:  # nutpie's private helpers (also used by initial_points)
        from nutpie.compile_pymc import (  # noqa: F401
            _compute_shapes,
            _rv_dict_to_flat_array_wrapper,
            _wrap_with_lock,
        )
    except ImportError:  # a nutpie without them: always compile afresh
        return None
    return {k: tuple(int(n) for n in v) for k, v in _compute_shapes(model).items()}


def _same_names(old: pm.Model, new: pm.Model) -> bool:
    """The same variables (names) in the same order."""
    return all(_names(getattr(old, attr)) == _names(getattr(new, attr)) for attr in (
        "value_vars", "free_RVs", "deterministics", "observed_RVs", "potentials"))


def same_computation(old: _Graph, new: _Graph) -> bool:
    """Whether ``new`` computes what ``old`` does, up to the values of the shared variables
    it reads (data containers, dimension lengths): the checks of the module docstring, the
    cheap ones first."""
    if old.model is new.model:
        return True
    if not _same_names(old.model, new.model):
        return False
    stored = [*new.model.free_RVs, *new.model.deterministics]
    dims = {d for v in stored for d in (new.model.named_vars_to_dims.get(v.name) or ())}
    if any(tuple(old.model.coords.get(d) or ()) != tuple(new.model.coords.get(d) or ())
           for d in dims):
        return False
    if new.shapes is None or new.shapes != old.shapes:
        return False
    if not old.shared or old.shared.keys() != new.shared.keys() or any(
            old.shared[k].type != new.shared[k].type for k in old.shared):
        return False
    names = sorted(old.shared)
    return equal_computations(
        old.outputs, new.outputs,
        in_xs=[*old.model.value_vars, *(old.shared[k] for k in names)],
        in_ys=[*new.model.value_vars, *(new.shared[k] for k in names)])
