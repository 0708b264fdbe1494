"""Fixed-effects algebra in plain NumPy: factor codes and the multi-way within transformation.

:func:`demean` removes any number of fixed effects from many columns at once by alternating
projections (exact after one sweep on a balanced two-way panel; iterated to tolerance otherwise).
It is the shared core of the OLS/IV estimators and of the vectorised placebo.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse


def codes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes 0..G-1 for the levels of ``values`` (order of first appearance)."""
    c, _ = pd.factorize(pd.Series(values), sort=False)
    if (c < 0).any():
        raise ValueError("fixed-effect or cluster variable has missing values")
    return c.astype(np.int64)


def demean(
    m: np.ndarray,
    fe_codes: list[np.ndarray],
    *,
    tol: float = 1e-12,
    max_iter: int = 10_000,
) -> np.ndarray:
    """Project the columns of ``m`` off the fixed effects given by ``fe_codes``.

    Parameters
    ----------
    m : (n,) or (n, p) array.
    fe_codes : list of (n,) integer code arrays, one per fixed effect.
    tol : convergence tolerance on the largest change, relative to the column scale.

    Returns
    -------
    Array of the same shape as ``m`` with every fixed effect's group means zero.
    """
    x = np.array(m, dtype=float, copy=True)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[:, None]
    if not fe_codes or x.shape[1] == 0 or x.shape[0] == 0:
        return x[:, 0] if squeeze else x
    n_obs = x.shape[0]
    groups = []
    for c in fe_codes:
        n_levels = int(c.max()) + 1
        indicator = sparse.csr_matrix(
            (np.ones(n_obs), (np.arange(n_obs), c)), shape=(n_obs, n_levels)
        )
        groups.append((c, indicator.T.tocsr(), np.bincount(c, minlength=n_levels)[:, None]))
    scale = np.maximum(np.abs(x).max(axis=0), 1.0)

    def sweep(a: np.ndarray) -> np.ndarray:
        for c, summer, counts in groups:
            a -= (summer @ a / counts)[c]
        return a

    if len(fe_codes) == 1:
        x = sweep(x)
        return x[:, 0] if squeeze else x
    for _ in range(max_iter):
        before = x.copy()
        x = sweep(x)
        if (np.abs(x - before).max(axis=0) / scale).max() < tol:
            break
    else:  # pragma: no cover - pathological designs only
        raise RuntimeError("fixed-effect demeaning did not converge")
    return x[:, 0] if squeeze else x


def is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True if every level of ``inner`` lies within a single level of ``outer``."""
    pairs = pd.DataFrame({"i": inner, "o": outer}).drop_duplicates()
    return not pairs["i"].duplicated().any()


def fe_dof(fe_codes: list[np.ndarray]) -> int:
    """Number of free fixed-effect parameters: sum of levels less one per extra FE.

    Exact for one or two fixed effects on a connected design (the fixest / reghdfe count for
    two-way panels); more complex designs may have further redundancies.
    """
    if not fe_codes:
        return 0
    return int(sum(int(c.max()) + 1 for c in fe_codes) - (len(fe_codes) - 1))
