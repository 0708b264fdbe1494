"""Frequentist estimators of the paper, computed for parity with the Bayesian models."""

from .baseline import baseline_twfe

__all__ = ["baseline_twfe"]
