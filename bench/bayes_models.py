"""Wall time, sampling time, min ESS over the effect parameters and ESS per second, for every
Bayesian model, with nutpie and PyMC's own NUTS side by side (default panel, default priors).

    .venv/bin/python bench/bayes_models.py [--models twfe,hetero_region] [--samplers nutpie,pymc]
        [--draws 1000] [--tune 1000]
"""

from __future__ import annotations

import argparse
import logging
import time

import pandas as pd

from bayes_resil.app import compose
from bayes_resil.bayes.data import model_data
from bayes_resil.bayes.diagnostics import diagnose
from bayes_resil.bayes.models import BUILDERS
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.sampling import sample
from bayes_resil.study import load_study

ALL = ["twfe", "hetero_region", "hetero_batch", "event_study", "staggered", "iv", "mediation"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(ALL))
    ap.add_argument("--samplers", default="nutpie,pymc")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    args = ap.parse_args()
    logging.getLogger("pymc").setLevel(logging.ERROR)
    rows = []
    for model in args.models.split(","):
        for sampler in args.samplers.split(","):
            cfg = compose([f"model={model}", f"sampler={sampler}", "sampler.progress=false",
                           f"sampler.draws={args.draws}", f"sampler.tune={args.tune}",
                           "sampler.posterior_predictive=false"])
            data = load_study(cfg.data, cfg.index)
            m = cfg.model
            controls = list(data.controls) if m.get("controls", True) else []
            extra = [c for c in (m.get("instrument"), m.get("mediator")) if c]
            t0 = time.perf_counter()
            md = model_data(data, controls, extra=extra)
            built = BUILDERS[model](md, PriorSet(cfg.prior, md.y_sd, md.y.mean()), m)
            idata, timings = sample(built, cfg.sampler)
            wall = time.perf_counter() - t0
            diag = diagnose(idata, built, cfg.sampler.checks)
            eff = diag.table[diag.table["is_effect"]]
            samp = timings.get("sampling_only", timings["sampling_wall"])
            rows.append({"model": model, "sampler": sampler, "wall_s": wall,
                         "sampling_s": samp, "min_ess_bulk_effects": eff["ess_bulk"].min(),
                         "ess_per_s": eff["ess_bulk"].min() / samp,
                         "max_rhat_effects": eff["r_hat"].max(),
                         "max_rhat_all": diag.table["r_hat"].max(),
                         "divergences": diag.divergences, "bfmi_min": diag.bfmi_min,
                         "passed": diag.passed})
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1,
                                                     float_format=lambda v: f"{v:.3f}"),
                  flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
