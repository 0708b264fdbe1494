"""Extending a prior (docs/extending_a_prior.md); the test suite runs it.

    python docs/examples/extending_a_prior.py

``BAYES_RESIL_EXAMPLE_FAST=1`` (the tests) uses the smoke sampler on PyMC's own NUTS.
"""

from __future__ import annotations

import os

import bayes_resil as br
from bayes_resil.bayes.prior_families import FAMILIES

FAST = os.environ.get("BAYES_RESIL_EXAMPLE_FAST") == "1"
sampler = {"name": "smoke", "backend": "pymc"} if FAST else "nutpie"
panel = br.simulate_panel(seed=2)

# Every family in FAMILIES scales to the outcome's units by its parameters' roles
print({family: roles for family, roles in FAMILIES.items() if family in ("Laplace", "Gamma")})

# 1. Another family for the effect's prior: a Laplace with scale 0.5 outcome sd (no "+":
#    every parameter is in the schema; unset the Normal's sigma)
laplace = {"dist": "Laplace", "mu": 0.0, "b": 0.5, "sigma": None}
# 2. Heavy-tailed region effects: the hierarchical layer's family (the model gives the
#    location and scale, the prior the family and its shape)
student = {"dist": "StudentT", "nu": 4.0}

fits = {}
for label, prior in [("default", {}), ("laplace + student-t regions",
                                        {"effect": laplace, "group_effect": student})]:
    fits[label] = br.fit(panel, model="hetero_region", design="twfe", sampler=sampler,
                         prior={"name": "weakly_informative", **prior})
    fig = fits[label].plot_prior_predictive()  # what the prior implies, before the data

for label, fit in fits.items():
    rows = fit.estimates().set_index("estimand")
    print(f"{label:30s} att {rows.loc['att', 'estimate']:.4f} "
          f"[{rows.loc['att', 'ci_lower']:.4f}, {rows.loc['att', 'ci_upper']:.4f}]")

# 3. A family that cannot be put in the outcome's units is refused, saying what to use
try:
    br.fit(panel, model="twfe", design="twfe", sampler=sampler,
           effect={"dist": "Beta", "alpha": 2.0, "beta": 2.0, "mu": None, "sigma": None})
except br.InputError as exc:
    print("refused:", exc)
