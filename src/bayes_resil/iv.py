"""Two-stage least squares with absorbed fixed effects (the paper's Table 4).

Both stages on the within-transformed data; the second-stage covariance is the sandwich of the
projected regressors with the structural residuals (``y - X b``, the actual endogenous
regressor), with the same small-sample conventions as :mod:`.ols` (R fixest / Stata
``reghdfe``/``ivreghdfe``-style CR1). The first-stage F is the cluster-robust Wald F of the
excluded instruments (for one endogenous regressor this is the Kleibergen-Paap rk Wald F up to
the small-sample factor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError
from .fe import demean
from .ols import FEOLSResult, VcovType, covariance, estimation_sample, fe_ols_arrays


@dataclass(frozen=True)
class IVResult:
    """First stage, second stage and the first-stage strength of an FE-2SLS fit."""

    first_stage: FEOLSResult
    second_stage: FEOLSResult
    first_stage_f: float
    instruments: list[str]


def fe_iv(data: pd.DataFrame, y: str, endog: str, instruments: list[str], exog: list[str],
          fe: list[str], *, cluster: str | None = "unit", vcov: VcovType = "cluster",
          drop_singleton_fe: bool = True) -> IVResult:
    """2SLS of ``y`` on ``endog`` (instrumented by ``instruments``) and ``exog``, with FE."""
    s = estimation_sample(data, [y, endog, *instruments, *exog], fe, cluster=cluster,
                          vcov=vcov, drop_singleton_fe=drop_singleton_fe)
    f = s.frame
    z_names = [*instruments, *exog]
    first = fe_ols_arrays(f[endog].to_numpy(float), f[z_names].to_numpy(float), s.fe_codes,
                          cluster=s.cluster, vcov=vcov, names=z_names)
    f_stat = first.wald(instruments)["statistic"]
    yv = f[y].to_numpy(float)
    yd = demean(yv, s.fe_codes)
    xd = demean(f[[endog, *exog]].to_numpy(float), s.fe_codes)
    zd = demean(f[z_names].to_numpy(float), s.fe_codes)
    coef_z, *_ = np.linalg.lstsq(zd, xd, rcond=None)
    xhat = zd @ coef_z
    xtx = xhat.T @ xhat
    if np.linalg.matrix_rank(xtx) < xhat.shape[1]:
        raise InputError("the instruments do not identify the endogenous regressor (rank "
                         "deficient first stage)")
    bread = np.linalg.inv(xtx)
    beta = bread @ (xhat.T @ yd)
    u = yd - xd @ beta
    v, df_t, dof_k, n_cl = covariance(xhat, u, bread, s.fe_codes, cluster=s.cluster, vcov=vcov)
    rss = float(u @ u)
    second = FEOLSResult(
        names=[endog, *exog], coef=beta, vcov=v, n_obs=len(f), df_t=df_t,
        r2=1 - rss / float(((yv - yv.mean()) ** 2).sum()),
        r2_within=1 - rss / float(yd @ yd), vcov_type=vcov, n_clusters=n_cl, dof_k=dof_k,
        n_singletons_dropped=s.n_singletons_dropped,
    )
    return IVResult(first, second, float(f_stat), list(instruments))
