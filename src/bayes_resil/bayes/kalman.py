"""A Kalman filter as one PyTensor Op (with its gradient), for the robust design's likelihood.

The city error model of :mod:`.within_city` is a two-state model: the local level
``c_t = level + walk_t`` (a random walk whose start has the level's variance) and the trend
slope ``b``; the error in period ``t`` is ``c_t + b h_t + noise_t`` with ``h`` the trend
regressor. :class:`KalmanFilter` maps standardised residuals ``r (U, T)``, a mask of the cells
to fit ``f (U, T)``, ``h (T,)`` and each unit's variances ``v (U, 4)``: ``(level^2, trend^2,
walk^2, noise^2)``, to the one-step-ahead mean and variance of every cell given the unit's
earlier fitted cells (cells with ``f = 0`` are predicted but not used). The product of the
fitted cells' Normal conditionals is their exact joint density.

Why an Op: the same recursion unrolled over 13 periods as elementwise PyTensor operations was
correct but took 40-180 s to compile with numba (graph rewriting and one huge fused loop), on
every fit; as one Op with a hand-written reverse pass (:class:`KalmanFilterGrad`, checked
against finite differences in the tests) the model compiles like the TWFE design. Both Ops run
the same numba-compiled kernels in every PyTensor backend.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op


@numba.njit(cache=True, inline="always")
def _predict(pcc, pcb, pbb, mc, mb, ht, noise):  # pragma: no cover - compiled
    """One period's prediction from the state entering it: the covariances of the observation
    with the level and the slope, its variance ``F`` and its mean."""
    phc = pcc + ht * pcb
    phb = pcb + ht * pbb
    return phc, phb, phc + ht * phb + noise, mc + ht * mb


@numba.njit(cache=True, inline="always")
def _update(pcc, pcb, pbb, mc, mb, phc, phb, big_f, mu, r, f):  # pragma: no cover
    """The state after observing ``r`` (no change where ``f = 0``)."""
    a = f * (r - mu) / big_f
    s = f / big_f
    return (pcc - s * phc * phc, pcb - s * phc * phb, pbb - s * phb * phb,
            mc + a * phc, mb + a * phb)


@numba.njit(cache=True)
def _forward(r, f, h, v):  # pragma: no cover - compiled
    n_u, n_t = r.shape
    mean = np.empty((n_u, n_t))
    var = np.empty((n_u, n_t))
    for i in range(n_u):
        pcc, pcb, pbb, mc, mb = v[i, 0], 0.0, v[i, 1], 0.0, 0.0
        for t in range(n_t):
            if t > 0:
                pcc += v[i, 2]
            phc, phb, big_f, mu = _predict(pcc, pcb, pbb, mc, mb, h[t], v[i, 3])
            mean[i, t] = mu
            var[i, t] = big_f
            pcc, pcb, pbb, mc, mb = _update(pcc, pcb, pbb, mc, mb, phc, phb, big_f, mu,
                                            r[i, t], f[i, t])
    return mean, var


@numba.njit(cache=True)
def _backward(r, f, h, v, g_mean, g_var):  # pragma: no cover - compiled
    """Reverse pass: gradients of sum(g_mean * mean + g_var * var) w.r.t. r and v."""
    n_u, n_t = r.shape
    g_r = np.zeros((n_u, n_t))
    g_v = np.zeros((n_u, 4))
    keep = np.empty((n_t, 5))
    for i in range(n_u):
        # forward again, keeping the state entering each period (after the walk step)
        pcc, pcb, pbb, mc, mb = v[i, 0], 0.0, v[i, 1], 0.0, 0.0
        for t in range(n_t):
            if t > 0:
                pcc += v[i, 2]
            keep[t, 0], keep[t, 1], keep[t, 2], keep[t, 3], keep[t, 4] = pcc, pcb, pbb, mc, mb
            phc, phb, big_f, mu = _predict(pcc, pcb, pbb, mc, mb, h[t], v[i, 3])
            pcc, pcb, pbb, mc, mb = _update(pcc, pcb, pbb, mc, mb, phc, phb, big_f, mu,
                                            r[i, t], f[i, t])
        # adjoints of the state leaving the current period
        a_cc = a_cb = a_bb = a_mc = a_mb = 0.0
        for t in range(n_t - 1, -1, -1):
            pcc, pcb, pbb, mc, mb = keep[t, 0], keep[t, 1], keep[t, 2], keep[t, 3], keep[t, 4]
            ht, ft = h[t], f[i, t]
            phc, phb, big_f, mu = _predict(pcc, pcb, pbb, mc, mb, ht, v[i, 3])
            res = r[i, t] - mu
            a = ft * res / big_f
            s = ft / big_f
            # state updates
            d_mc, d_mb = a_mc, a_mb
            d_a = a_mc * phc + a_mb * phb
            d_phc = a_mc * a - a_cc * 2.0 * s * phc - a_cb * s * phb
            d_phb = a_mb * a - a_cb * s * phc - a_bb * 2.0 * s * phb
            d_s = -a_cc * phc * phc - a_cb * phc * phb - a_bb * phb * phb
            d_pcc, d_pcb, d_pbb = a_cc, a_cb, a_bb
            # a = f res / F, s = f / F
            d_res = d_a * ft / big_f
            d_f = -d_a * ft * res / (big_f * big_f) - d_s * ft / (big_f * big_f)
            # outputs
            d_mu = -d_res + g_mean[i, t]
            d_f += g_var[i, t]
            g_r[i, t] = d_res
            # mu = mc + h mb; F = phc + h phb + noise
            d_mc += d_mu
            d_mb += ht * d_mu
            d_phc += d_f
            d_phb += ht * d_f
            g_v[i, 3] += d_f
            # phc = pcc + h pcb; phb = pcb + h pbb
            d_pcc += d_phc
            d_pcb += ht * d_phc + d_phb
            d_pbb += ht * d_phb
            if t > 0:
                g_v[i, 2] += d_pcc
            a_cc, a_cb, a_bb, a_mc, a_mb = d_pcc, d_pcb, d_pbb, d_mc, d_mb
        g_v[i, 0] += a_cc
        g_v[i, 1] += a_bb
    return g_r, g_v


class KalmanFilter(Op):
    """``(r, f, h, v) -> (mean, var)``; see the module docstring."""

    __props__ = ()

    def make_node(self, r, f, h, v):
        r, f, h, v = (pt.as_tensor_variable(x).astype("float64") for x in (r, f, h, v))
        return Apply(self, [r, f, h, v], [pt.matrix(dtype="float64"),
                                          pt.matrix(dtype="float64")])

    def perform(self, node, inputs, outputs):
        mean, var = _forward(*(np.ascontiguousarray(x, dtype=float) for x in inputs))
        outputs[0][0], outputs[1][0] = mean, var

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0]]

    def pullback(self, inputs, outputs, output_grads):
        r, f, h, v = inputs
        g_mean, g_var = (pt.zeros_like(r) if _disconnected(g) else g for g in output_grads)
        g_r, g_v = KalmanFilterGrad()(r, f, h, v, g_mean, g_var)
        return [g_r, pt.zeros_like(f), pt.zeros_like(h), g_v]


class KalmanFilterGrad(Op):
    """Reverse pass of :class:`KalmanFilter`: ``(r, f, h, v, g_mean, g_var) -> (g_r, g_v)``."""

    __props__ = ()

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(x).astype("float64") for x in inputs]
        return Apply(self, inputs, [pt.matrix(dtype="float64"), pt.matrix(dtype="float64")])

    def perform(self, node, inputs, outputs):
        g_r, g_v = _backward(*(np.ascontiguousarray(x, dtype=float) for x in inputs))
        outputs[0][0], outputs[1][0] = g_r, g_v

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[3]]


def _disconnected(g) -> bool:
    from pytensor.gradient import DisconnectedType

    return isinstance(g.type, DisconnectedType)


def kalman_filter(r, f, h, v):
    """One-step-ahead (mean, var) of every cell; see :class:`KalmanFilter` (``v``: each unit's
    four variances, (U, 4))."""
    return KalmanFilter()(r, f, h, v)


def _register_numba() -> None:
    from pytensor.link.numba.dispatch import basic as numba_basic

    @numba_basic.register_funcify_default_op_cache_key(KalmanFilter)
    def _funcify_filter(op, node, **kwargs):
        @numba_basic.numba_njit
        def kalman(r, f, h, v):
            return _forward(r, f, h, v)

        return kalman

    @numba_basic.register_funcify_default_op_cache_key(KalmanFilterGrad)
    def _funcify_grad(op, node, **kwargs):
        @numba_basic.numba_njit
        def kalman_grad(r, f, h, v, g_mean, g_var):
            return _backward(r, f, h, v, g_mean, g_var)

        return kalman_grad


_register_numba()
