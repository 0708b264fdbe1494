"""Quick start of the Python API (docs/quickstart.md); the test suite runs it.

    python docs/examples/quickstart.py [output_dir]

``BAYES_RESIL_EXAMPLE_FAST=1`` (the tests) uses the twfe design and the smoke sampler on
PyMC's own NUTS (its compiled code is cached between runs), which take seconds; the numbers are
then not to be read.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import bayes_resil as br

FAST = os.environ.get("BAYES_RESIL_EXAMPLE_FAST") == "1"

# 1. A panel: the simulated study panel (real design, known true effects) ...
panel = br.simulate_panel(seed=1)
# ... or your own: br.load_panel("panel.csv", unit="city", time="year",
#                                cohort="first_treated", outcome="resil", region="region")
print(panel.source)

# 2. Frequentist estimators (the freq group's blocks and options)
freq = br.frequentist(panel, blocks=["baseline", "event_study", "imputation"])
est = freq.estimates()
print(est.query("estimand == 'att'")[["method", "estimate", "std_error", "ci_lower",
                                      "ci_upper"]])

# 3. A Bayesian model (the model, prior and sampler groups; any of their options as keywords)
fit = br.fit(panel, model="hetero_region",
             sampler={"name": "smoke", "backend": "pymc"} if FAST else "nutpie",
             **({"design": "twfe"} if FAST else {}))
print(fit.estimates()[["method", "estimand", "estimate", "ci_lower", "ci_upper",
                       "prob_positive"]])
print("diagnostics passed:", fit.passed)

# 4. Posterior beside the frequentist estimate of the same estimand, and the truth
print(fit.compare(freq)[["estimand", "posterior_mean", "ols_method", "ols_estimate",
                         "true_effect"]])

# 5. Figures are returned (matplotlib), files only when asked for
fig = fit.plot_forest(freq)
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "run"
fit.save(out, freq=freq)  # estimates.csv, posterior.nc, figures, report.html, ...
print("written:", out)
