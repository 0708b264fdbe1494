"""bayes_resil: Bayesian reanalysis of staggered difference-in-differences panel studies.

The Python API (:mod:`bayes_resil.api`)::

    import bayes_resil as br

    panel = br.load_panel(df, unit="city", time="year", cohort="first_treated", outcome="y")
    freq = br.frequentist(panel, blocks=["baseline", "imputation"])
    fit = br.fit(panel, model="staggered")
    fit.compare(freq)

The command line (``python -m bayes_resil``) runs through the same functions. Names are
imported on first use, so ``import bayes_resil`` does not load PyMC.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import InputError

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "load_panel": "api", "simulate_panel": "api", "frequentist": "api", "fit": "api",
    "assess_claims": "api",
    "compose": "options", "StudyData": "study", "FrequentistResult": "freq.result",
    "BayesianFit": "bayes.result",
}

__all__ = ["BayesianFit", "FrequentistResult", "InputError", "StudyData", "__version__",
           "assess_claims", "compose", "fit", "frequentist", "load_panel", "simulate_panel"]

if TYPE_CHECKING:
    from .api import assess_claims, fit, frequentist, load_panel, simulate_panel
    from .bayes.result import BayesianFit
    from .freq.result import FrequentistResult
    from .options import compose
    from .study import StudyData


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
