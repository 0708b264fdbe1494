"""The exact-marginal engine (``sampler=marginal``): sample the hyperparameters, draw the rest.

The robust design's untreated outcomes are Gaussian given a handful of hyperparameters
``psi`` (the error sds of :mod:`.within_city` and the city error scales)::

    y_i = X_i theta + u_i,   u_i ~ N(0, s_i^2 Sigma_p(i)(psi)),   theta ~ N(m0, D^2)

with ``theta`` every linear coefficient of the untreated mean (:func:`.untreated_mean.
mean_terms`: intercept, year effects, control slopes, the city-level and trend means,
covariate-specific years; their priors must be Normal, or ZeroSumNormal for the year effects)
and ``Sigma_p`` the within-city covariance restricted to the unit's fitted (untreated) periods
``p`` (its *pattern*; units with the same pattern and trend group share one Cholesky factor).
Integrating ``theta`` out gives the marginal likelihood of ``psi`` in closed form
(Woodbury / block elimination)::

    log p(y | psi) = -1/2 [ N log 2 pi + log|V| + r' V^-1 r - b~' H~^-1 b~ + log|H~| ]
    r = y - X m0,  A = X' V^-1 X,  b = X' V^-1 r,  H~ = I + D A D,  b~ = D b

``A`` and ``b`` are sums over units; the mean's city x period terms have the form
``F_i C V'`` (city features times period bases), so their part of ``A`` is
``K' [sum_p G_p (x) S_p] K`` with ``G_p`` the scale-weighted Gram matrix of the features of
the units of pattern ``p``, ``S_p = Sigma_p^-1`` and ``K`` a fixed map from the coefficients to
(feature, period) cells: the work per evaluation grows with the number of patterns, not of
units, except for the control slopes (one T x T product per unit). The graph is PyTensor
(the per-pattern inverses one Op with a closed-form gradient, :mod:`.restricted`), so nutpie /
PyMC differentiate it and NUTS samples only ``psi``: 6-7 error parameters plus one scale per
city.

After sampling, every draw of ``psi`` gets an exact draw of ``theta`` from its Gaussian
conditional ``N(m0 + D H~^-1 b~, D H~^-1 D)`` (:meth:`MarginalModel.draw_linear`); the posterior
holds every variable of the full model, and the full model computes its deterministics, the
effects (:func:`.models.robust.add_effects`), the log-likelihood and the posterior predictive
from it exactly as after a full NUTS run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..errors import InputError
from .grid import CityGrid
from .priors import PriorSet
from .restricted import restricted_inverse
from .untreated_mean import MeanTerm, mean_terms
from .within_city import city_log_scale, city_trend, error_sds

#: name of the potential holding the marginal log-likelihood in the marginal model
POTENTIAL = "y_marginal"


def _zero_sum_basis(n: int) -> np.ndarray:
    """(n, n - 1): an orthonormal basis of the vectors summing to zero."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(n), np.eye(n)[:, : n - 1]]))
    return q[:, 1:]


@dataclass
class _Block:
    """Where a term's coefficients sit in ``theta`` and how they map back to its variable."""

    term: MeanTerm
    start: int
    stop: int
    to_coef: np.ndarray | None  # (n_free, n_value): value = free @ to_coef (ZeroSumNormal)


@dataclass
class LinearPart:
    """The linear coefficients of the untreated mean, stacked as ``theta`` (p,)."""

    blocks: list[_Block]
    m0: np.ndarray  # (p,) prior means
    sd: np.ndarray  # (p,) prior sds
    features: np.ndarray  # (U, Q) distinct city features of the city x period terms
    k_map: np.ndarray  # (Q * T, p_F): theta's city x period part -> (feature, period) cells
    cells: np.ndarray  # (U, T, k) regressors of the cell terms (k may be 0)
    n_f: int  # coefficients of the city x period terms (they come first in theta)

    @property
    def size(self) -> int:
        return self.m0.size

    def mean(self, theta: np.ndarray) -> np.ndarray:
        """``X theta`` on the grid, (U, T)."""
        n_t = self.k_map.shape[0] // self.features.shape[1]
        gamma = (self.k_map @ theta[: self.n_f]).reshape(self.features.shape[1], n_t)
        out = self.features @ gamma
        if self.cells.shape[2]:
            out = out + self.cells @ theta[self.n_f:]
        return out

    def values(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """The full model's variable values of ``theta`` draws (D, p): name -> (D, *shape)."""
        out = {}
        for b in self.blocks:
            free = theta[:, b.start:b.stop]
            coef = free if b.to_coef is None else free @ b.to_coef
            out[b.term.rv] = coef.reshape(len(theta), *b.term.shape)
        return out


def linear_part(terms: list[MeanTerm], priors: PriorSet, n_times: int) -> LinearPart:
    """Stack the terms' coefficients; refuses priors that are not Gaussian."""
    feats: list[np.ndarray] = []

    def feature_index(column: np.ndarray) -> int:
        for j, f in enumerate(feats):
            if np.array_equal(f, column):
                return j
        feats.append(column)
        return len(feats) - 1

    city = [t for t in terms if t.cells is None]
    cell = [t for t in terms if t.cells is not None]
    blocks, m0, sd, k_cols = [], [], [], []
    start = 0
    for term in city + cell:
        dist, params = priors.params(term.prior)
        n_value = int(np.prod(term.shape)) if term.shape else 1
        to_coef = None
        if dist == "Normal":
            mu, sigma = params.get("mu", 0.0), params.get("sigma", 1.0)
            n_free = n_value
        elif dist == "ZeroSumNormal" and len(term.shape) == 1:
            mu, sigma = 0.0, params.get("sigma", 1.0)
            to_coef = _zero_sum_basis(n_value).T  # (n - 1, n)
            n_free = n_value - 1
        else:
            raise InputError(
                f"sampler.engine=marginal integrates the linear coefficients of the untreated "
                f"mean out exactly, which needs Gaussian priors: prior.{term.prior}.dist={dist} "
                f"(for {term.rv}); set prior.{term.prior}.dist=Normal or use sampler.engine=full")
        if term.cells is None:
            basis = term.basis if to_coef is None else term.basis @ to_coef.T  # (T, m_free)
            q, m = term.features.shape[1], basis.shape[1]
            idx = [feature_index(term.features[:, a]) for a in range(q)]
            for a in range(q):
                for b in range(m):
                    k_cols.append((idx[a], basis[:, b]))
        blocks.append(_Block(term, start, start + n_free, to_coef))
        m0 += [mu] * n_free
        sd += [sigma] * n_free
        start += n_free
    features = np.column_stack(feats)
    k_map = np.zeros((features.shape[1] * n_times, len(k_cols)))
    for j, (f, col) in enumerate(k_cols):
        k_map[f * n_times:(f + 1) * n_times, j] = col
    n_u = features.shape[0]
    cells = (np.concatenate([t.cells for t in cell], axis=2) if cell
             else np.zeros((n_u, n_times, 0)))
    return LinearPart(blocks, np.asarray(m0, float), np.asarray(sd, float), features, k_map,
                      cells, len(k_cols))


def patterns(fit: np.ndarray, group: np.ndarray | None) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Units by (trend group, fitted periods): each unit's pattern (U,), the patterns' masks
    (P, T) and trend groups (P,)."""
    group = np.zeros(len(fit), int) if group is None else np.asarray(group, int)
    keys = np.column_stack([group, fit.astype(int)])
    unique, index = np.unique(keys, axis=0, return_inverse=True)
    return index.ravel(), unique[:, 1:].astype(bool), unique[:, 0]


def marginal_terms(lin: LinearPart, g: CityGrid, fit: np.ndarray, cov, log_scale,
                   group: np.ndarray | None) -> dict:
    """The PyTensor graph of the marginal likelihood's pieces for the error covariance ``cov``
    ((G, T, T), one per trend group) and the log city scales ``log_scale`` ((U,) or None):
    ``loglik``, ``precision`` (``H~``) and ``score`` (``b~``)."""
    n_u, n_t = fit.shape
    pat, masks, pat_group = patterns(fit, group)
    n_p = len(masks)
    r = np.where(fit, g.y - lin.mean(lin.m0), 0.0)
    feats = lin.features
    n_q = feats.shape[1]
    data = {  # data containers, not constants: numba compiles constants into the code
        "pattern": pat, "masks": masks.astype(float), "pattern_group": pat_group,
        "rr": (r[:, :, None] * r[:, None, :]).reshape(n_u, -1),
        "rg": (r[:, :, None] * feats[:, None, :]).reshape(n_u, -1),
        "gg": (feats[:, :, None] * feats[:, None, :]).reshape(n_u, -1),
        "k_map": lin.k_map, "features": feats, "resid": r,
        "cells": np.where(fit[:, :, None], lin.cells, 0.0)}
    d = {k: pm.Data(f"marginal_{k}", v) for k, v in data.items()}
    n_fit = fit.sum(axis=1).astype(float)
    if log_scale is None:
        w = pt.ones(n_u)
        log_w_sum = pt.constant(0.0)
    else:
        w = pt.exp(-2.0 * log_scale)
        log_w_sum = pt.sum(-2.0 * log_scale * n_fit)
    s_inv, logdet = restricted_inverse(cov, d["masks"], d["pattern_group"])  # (P, T, T), (P,)

    def by_pattern(per_unit):  # sum of w_i * row_i over the units of each pattern: (P, n)
        out = pt.zeros((n_p, per_unit.shape[1]))
        return pt.inc_subtensor(out[d["pattern"]], per_unit * w[:, None])

    quad_r = pt.sum(s_inv * by_pattern(d["rr"]).reshape((n_p, n_t, n_t)))
    z = by_pattern(d["rg"]).reshape((n_p, n_t, n_q))
    b_f = pt.dot(d["k_map"].T, pt.sum(s_inv @ z, axis=0).T.reshape((-1,)))
    gram = by_pattern(d["gg"]).reshape((n_p, n_q, n_q))
    # sum_p G_p (x) S_p over (feature, period) cells, then onto the coefficients
    big = pt.tensordot(gram, s_inv, axes=[[0], [0]])  # (Q, Q, T, T) = (f, g, t, s)
    big = big.transpose(0, 2, 1, 3).reshape((n_q * n_t, n_q * n_t))
    a_ff = pt.dot(d["k_map"].T, pt.dot(big, d["k_map"]))
    n_k = lin.cells.shape[2]
    if n_k:
        sc = s_inv[d["pattern"]] @ d["cells"]  # (U, T, k)
        wc = d["cells"] * w[:, None, None]
        a_cc = pt.dot(wc.reshape((-1, n_k)).T, sc.reshape((-1, n_k)))
        a_fc = pt.dot(d["k_map"].T, pt.dot((d["features"] * w[:, None]).T,
                                           sc.reshape((n_u, -1))).reshape((n_q * n_t, n_k)))
        b_c = pt.sum(sc * (d["resid"] * w[:, None])[:, :, None], axis=(0, 1))
        a = pt.concatenate([pt.concatenate([a_ff, a_fc], axis=1),
                            pt.concatenate([a_fc.T, a_cc], axis=1)], axis=0)
        b = pt.concatenate([b_f, b_c])
    else:
        a, b = a_ff, b_f
    sd = lin.sd
    precision = np.eye(lin.size) + a * np.outer(sd, sd)
    score = b * sd
    chol_h = pt.linalg.cholesky(precision)
    half = pt.linalg.solve_triangular(chol_h, score, lower=True)
    logdet_h = 2.0 * pt.sum(pt.log(pt.diagonal(chol_h)))
    counts = np.bincount(pat, minlength=n_p).astype(float)
    log_det_v = pt.sum(counts * logdet) - log_w_sum
    loglik = -0.5 * (fit.sum() * np.log(2 * np.pi) + log_det_v + quad_r - pt.sum(half ** 2)
                     + logdet_h)
    return {"loglik": loglik, "precision": precision, "score": score}


@dataclass
class MarginalModel:
    """The hyperparameters' model (``model``: the error structure's priors plus the marginal
    likelihood as a potential), the linear part, and the graph of its conditional."""

    model: pm.Model
    lin: LinearPart
    precision: object  # PyTensor variables in ``model``
    score: object

    def draw_linear(self, posterior: xr.Dataset, rng: np.random.Generator
                    ) -> dict[str, np.ndarray]:
        """Exact draws of ``theta`` given each posterior draw of the hyperparameters:
        name -> (chain, draw, *shape) in the full model's variables."""
        fn = self.model.compile_fn(inputs=self.model.free_RVs,
                                   outs=[self.precision, self.score],
                                   on_unused_input="ignore", point_fn=False)
        names = [v.name for v in self.model.free_RVs]
        n_c, n_d = posterior.sizes["chain"], posterior.sizes["draw"]
        flat = {n: posterior[n].to_numpy().reshape(n_c * n_d, *posterior[n].shape[2:])
                for n in names}
        theta = np.empty((n_c * n_d, self.lin.size))
        z = rng.standard_normal(theta.shape)
        for i in range(n_c * n_d):
            h, s = fn(*[flat[n][i] for n in names])
            chol = np.linalg.cholesky(h)
            mean = np.linalg.solve(chol.T, np.linalg.solve(chol, s))
            theta[i] = mean + np.linalg.solve(chol.T, z[i])
        theta = self.lin.m0 + theta * self.lin.sd
        return {k: v.reshape(n_c, n_d, *v.shape[1:]) for k, v in self.lin.values(theta).items()}


def marginal_model(priors: PriorSet, cfg: Mapping, g: CityGrid, fit: np.ndarray,
                   coords: dict, group: np.ndarray | None) -> MarginalModel:
    """The hyperparameters' model of a robust-design model (same priors, same names)."""
    n_t = g.shape[1]
    lin = linear_part(mean_terms(cfg, g, city_trend(n_t)), priors, n_t)
    with pm.Model(coords=coords) as model:
        error_sds(priors, cfg, n_t, groups=group is not None)
        cov = model["error_cov"]
        cov = cov[None] if cov.ndim == 2 else cov
        log_scale = city_log_scale(priors, cfg)
        parts = marginal_terms(lin, g, fit, cov, log_scale, group)
        pm.Potential(POTENTIAL, parts["loglik"])
    return MarginalModel(model, lin, parts["precision"], parts["score"])
