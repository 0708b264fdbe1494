"""bayes_resil: Bayesian reanalysis of staggered difference-in-differences panel studies."""

from .errors import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "__version__"]
