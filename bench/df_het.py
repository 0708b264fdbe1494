"""An external panel with known truth: pyfixest's ``df_het`` (issue 11's target).

1,500 units x 31 years (1990-2020), cohorts 2000 / 2010 / never, effects that vary by cohort and
grow with exposure (columns ``te`` + ``te_dynamic``). The true ATT over the treated observations
is their mean (2.2202); TWFE gives 1.98. Fits the default model design (robust, within-city
errors, city scales) as ``model=twfe`` and prints the posterior of ``att`` beside the truth,
the imputation estimator and TWFE, the population-level posterior beside the
imputation estimator's clustered SE, with time and peak memory.

    .venv/bin/python bench/df_het.py [--draws 300] [--chains 2] [model.trend_mean=false ...]
"""

from __future__ import annotations

import argparse
import resource
import time
from importlib import resources

import numpy as np
import pandas as pd


def main() -> None:
    from bayes_resil.app import compose
    from bayes_resil.bayes.fit import prepare
    from bayes_resil.bayes.sampling import sample
    from bayes_resil.bayes.summarise import estimand_draws, population_draws
    from bayes_resil.estimates import to_frame
    from bayes_resil.freq.imputation import imputation
    from bayes_resil.ols import fe_ols
    from bayes_resil.study import StudyData

    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("overrides", nargs="*", help="config overrides, e.g. model.trend_mean=false")
    args = ap.parse_args()
    path = resources.files("pyfixest") / "did" / "data" / "df_het.csv"
    df = pd.read_csv(path).rename(columns={"year": "time", "dep_var": "y"})
    df["unit"] = df["unit"].astype(str)
    df["cohort"] = df["g"].where(df["g"] > 0).astype("Int64")
    df["d"] = df["treat"].astype(int)
    truth = float((df["te"] + df["te_dynamic"])[df["d"] == 1].mean())
    data = StudyData(panel=df, source="df_het", simulated=False, study=None, controls=[],
                     outcome_label="y")
    ols = fe_ols(df, "y", ["d"], ["unit", "time"])["d"][0]
    imp = to_frame(imputation(data, {"pretrend_leads": 0}, [], level=0.95, vcov="cluster",
                              cluster="unit", drop_singletons=True, tag="df_het")[0])
    imp = imp.set_index("estimand").loc["att"]
    cfg = compose(["model=twfe", "model.controls=false", f"sampler.draws={args.draws}",
                   f"sampler.tune={args.draws}", f"sampler.chains={args.chains}",
                   "sampler.progress=false", *args.overrides])
    t0 = time.perf_counter()
    _, _, built = prepare(data, cfg)
    idata, timings = sample(built, cfg.sampler, extras=False)
    att = np.asarray(estimand_draws(idata, built)["att"]).ravel()
    seconds = time.perf_counter() - t0
    lo, hi = np.quantile(att, [0.025, 0.975])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"df_het: true ATT {truth:.4f}; TWFE {ols:.4f}; imputation {imp['estimate']:.4f} "
          f"(se {imp['std_error']:.4f})")
    print(f"robust design posterior att {att.mean():.4f} (sd {att.std():.4f}) "
          f"95% [{lo:.4f}, {hi:.4f}] covers the truth: {lo <= truth <= hi}")
    pop = np.asarray(population_draws(idata, built)["att"]).ravel()
    plo, phi = np.quantile(pop, [0.025, 0.975])
    print(f"population-level att {pop.mean():.4f} (sd {pop.std():.4f}) 95% [{plo:.4f}, "
          f"{phi:.4f}] (imputation's clustered SE {imp['std_error']:.4f})")
    print(f"{args.chains} chains x {args.draws} draws: {seconds:.0f} s (sampling "
          f"{timings['sampling_wall']:.0f} s), peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
