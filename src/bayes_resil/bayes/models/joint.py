"""Joint models: ``iv`` (first stage and outcome with correlated errors) and ``mediation``.

``iv``: ``d = fs(unit, time, controls) + pi z + v`` and ``y = skeleton + beta d + e`` with
``(e, v)`` bivariate normal, correlation ``rho``; written as ``d ~ N(mu_d, s_d)`` and
``y | d ~ N(mu_y + rho s_y / s_d (d - mu_d), s_y sqrt(1 - rho^2))``. ``rho`` is the endogeneity
the IV corrects for. Both equations have their own unit and time effects (skeleton).

``mediation``: ``m = skeleton_m + a d`` and ``y = skeleton_y + c' d + b m`` for one mediator
(``model.mediator``); indirect ``a b``, direct ``c'``, total ``c' + a b``. Causal reading needs
sequential ignorability, as for the frequentist version.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ...errors import InputError
from ..data import ModelData
from ..priors import PriorSet
from ..skeleton import panel_mean, require_normal
from .base import BuiltModel

#: families on (0, 1), for prior.correlation (the IV error correlation as (rho + 1) / 2)
UNIT_INTERVAL = ("Beta", "Kumaraswamy", "LogitNormal")


def correlation(priors: PriorSet):
    """``(rho + 1) / 2`` with the prior ``prior.correlation`` (default Beta(2, 2)): a family on
    (0, 1), or a Uniform inside it."""
    dist, params = priors.params("correlation")
    inside = dist == "Uniform" and 0 <= params.get("lower", 0) < params.get("upper", 1) <= 1
    if dist not in UNIT_INTERVAL and not inside:
        raise InputError(f"prior.correlation.dist={dist}: (rho + 1) / 2 lives on (0, 1); use "
                         f"one of {list(UNIT_INTERVAL)} or a Uniform inside (0, 1)")
    return priors("correlation", "rho_raw")


def _standardise(v: np.ndarray) -> tuple[np.ndarray, float, float]:
    m, s = float(v.mean()), float(v.std())
    s = s if s > 0 else 1.0
    return (v - m) / s, m, s


def build_iv(md: ModelData, priors: PriorSet, cfg: Mapping) -> BuiltModel:
    require_normal(cfg, "iv")
    inst = cfg.get("instrument", "light")
    if inst not in md.frame.columns:
        raise InputError(f"model=iv needs the instrument column {inst!r} in the panel")
    post = md.d if cfg.get("post", "own") == "own" else (
        md.frame["time"].to_numpy() >= (cfg.get("common_year")
                                        or md.frame["cohort"].min())).astype(float)
    z_raw = md.frame[inst].to_numpy(float) * post
    z, _, z_sd = _standardise(z_raw)
    term = f"coef[{inst}_x_post]"
    fs_priors = PriorSet(priors.cfg, outcome_sd=md.d.std(), outcome_mean=md.d.mean())
    with pm.Model(coords=md.coords) as model:
        pi_std = fs_priors("first_stage", "first_stage_std")
        pm.Deterministic("first_stage", pi_std / z_sd)
        mu_d = panel_mean(md, fs_priors, pt.stack([pi_std]), z[:, None], prefix="fs_")
        s_d = fs_priors("noise_sd", "fs_sigma")
        pm.Normal("d_obs", mu_d, s_d, observed=md.d, dims="obs")
        beta = priors("effect", "att")
        mu_y = panel_mean(md, priors, pt.stack([beta]), md.d[:, None])
        s_y = priors("noise_sd", "sigma")
        rho = pm.Deterministic("rho", 2 * correlation(priors) - 1)
        mean = mu_y + rho * s_y / s_d * (md.d - mu_d)
        pm.Normal("y", mean, s_y * pt.sqrt(1 - rho**2), observed=md.y, dims="obs")

    def estimands(post_ds):
        return {"att": post_ds["att"], term: post_ds["first_stage"]}

    comp = {"att": ("iv_2sls", "att", "y"), term: ("iv_first_stage", term, "d")}
    return BuiltModel("iv", model, md, ["att", "first_stage"], ["rho", "sigma", "fs_sigma"],
                      estimands, comparators=comp, observed=["y", "d_obs"],
                      notes=[f"instrument {inst} x post ({cfg.get('post', 'own')})"])


def build_mediation(md: ModelData, priors: PriorSet, cfg: Mapping) -> BuiltModel:
    require_normal(cfg, "mediation")
    m_name = cfg.get("mediator", "ln_patents")
    if m_name not in md.frame.columns:
        raise InputError(f"model=mediation needs the mediator column {m_name!r}")
    m_raw = md.frame[m_name].to_numpy(float)
    m_std, _, m_sd = _standardise(m_raw)
    m_priors = PriorSet(priors.cfg, outcome_sd=m_raw.std(), outcome_mean=m_raw.mean())
    with pm.Model(coords=md.coords) as model:
        a = m_priors("mediator_path", "a_path")
        mu_m = panel_mean(md, m_priors, pt.stack([a]), md.d[:, None], prefix="m_")
        pm.Normal("m_obs", mu_m, m_priors("noise_sd", "m_sigma"), observed=m_raw, dims="obs")
        direct = priors("effect", "direct")
        b_std = priors("outcome_path", "b_path_std")
        b = pm.Deterministic("b_path", b_std / m_sd)
        mu_y = panel_mean(md, priors, pt.stack([direct, b_std]),
                          np.column_stack([md.d, m_std]))
        pm.Normal("y", mu_y, priors("noise_sd", "sigma"), observed=md.y, dims="obs")
        pm.Deterministic("indirect", a * b)
        pm.Deterministic("total", direct + a * b)

    def estimands(post_ds):
        return {f"indirect[{m_name}]": post_ds["indirect"], f"direct[{m_name}]":
                post_ds["direct"], f"total[{m_name}]": post_ds["total"],
                f"a_path[{m_name}]": post_ds["a_path"], f"coef[{m_name}]": post_ds["b_path"]}

    comp = {f"indirect[{m_name}]": ("mediation_indirect", f"indirect[{m_name}]", "y"),
            f"direct[{m_name}]": ("mediation_b", f"direct[{m_name}]", "y"),
            f"a_path[{m_name}]": ("mediation_a", "att", m_name),
            f"coef[{m_name}]": ("mediation_b", f"coef[{m_name}]", "y")}
    return BuiltModel("mediation", model, md, ["indirect", "direct", "a_path", "b_path"],
                      ["sigma", "m_sigma"], estimands, comparators=comp,
                      observed=["y", "m_obs"], notes=[f"mediator {m_name}; indirect effect "
                                                      "needs sequential ignorability"])
