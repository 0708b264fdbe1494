"""Hierarchical Bayesian DID models: data, priors, model builders, sampling, diagnostics."""
