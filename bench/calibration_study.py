"""The calibration studies behind the README's "Calibration" tables: wall time, peak memory and
the headline coverage / bias / SE ratio of every estimator, on the default design and a null.

    .venv/bin/python bench/calibration_study.py [--studies freq500,bayes,null,...]
        [--root /some/dir]   # studies are kept there (default: calibration/bench under the
                             # current directory) and reused by key when run again

Studies (all through ``python -m bayes_resil.calibrate``, one process each):

* ``freq500``   model=none freq=staggered, 500 replications (the 5-minute target)
* ``freqhet``   the TWFE region / batch-group regressions (Table 5), 200 replications
* ``bayes``     twfe, hetero_region, hetero_batch, event_study, staggered, 50 replications
* ``null``      the same five models and freq=staggered under effect_scale=0, 50 replications
* ``freqnull``  freq=staggered under effect_scale=0, 200 replications
* ``sbc``       SBC of the five models (``model.design=twfe``), 100 prior draws each
  (these three at the sampler they were measured with, ``THIN_BEFORE``)
* ``robust``, ``robust_rho09``, ``robust_region2``, ``robust_null``: the robust design
  (``model=staggered``, which reports every aggregation) with ``freq=staggered`` on the default
  design (100 replications), with within-city autocorrelation 0.9, with the regional effect
  differences doubled, and under no effect (50 each); 4 x 300 draws after 300 tuning steps
  at target_accept 0.9
* ``default100`` the default study, ``python -m bayes_resil.calibrate calibration.replications=100``
  (``model=hetero_region``, ``freq=staggered``, ``sampler=thin``)

``--pool DIR [DIR ...]`` summarises the replication files of several study folders together
(deduplicated by seed), e.g. one study interrupted and continued from a later
``calibration.seed``.

Peak memory is the largest resident set of the study's processes (``ru_maxrss`` of the waited
children: the study and its workers).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

MODELS = "[twfe,hetero_region,hetero_batch,event_study,staggered]"
#: the sampler the studies below were measured with (``sampler=thin`` before it became 4 x 400
#: after 400 at target_accept 0.8), kept so they reproduce the README's tables
THIN_BEFORE = ["sampler.draws=600", "sampler.tune=600", "sampler.target_accept=0.9"]
STUDIES = {
    "freq500": ["model=none", "freq=staggered", "calibration.replications=500"],
    "freqhet": ["model=none", "freq=paper", "freq.blocks=[baseline,heterogeneity]",
                "calibration.replications=200"],
    "bayes": [f"calibration.models={MODELS}", "freq=staggered",
              "calibration.replications=50", *THIN_BEFORE],
    "null": [f"calibration.models={MODELS}", "freq=staggered", "calibration.replications=50",
             "data.simulation.effect_scale=0", *THIN_BEFORE],
    "freqnull": ["model=none", "freq=staggered", "calibration.replications=200",
                 "data.simulation.effect_scale=0"],
    "sbc": [f"calibration.models={MODELS}", "freq=baseline", "calibration.replications=0",
            "calibration.sbc.simulations=100", "model.design=twfe", *THIN_BEFORE],
    # the default study (model=hetero_region, sampler=thin): the 20-minute target of issue 14
    "default100": ["calibration.replications=100"],
}
ROBUST = ["model=staggered", "freq=staggered", "sampler.draws=300", "sampler.tune=300",
          "sampler.target_accept=0.9"]
STUDIES |= {
    "robust": [*ROBUST, "calibration.replications=100"],
    "robust_rho09": [*ROBUST, "calibration.replications=50", "data.simulation.noise_rho=0.9"],
    "robust_region2": [*ROBUST, "calibration.replications=50",
                       "data.simulation.region_mult={East:1.3,Central:0.5,West:1.0}"],
    "robust_null": [*ROBUST, "calibration.replications=50", "data.simulation.effect_scale=0"],
}
HEAD_METHODS = ("twfe", "twfe_controls", "twfe_subsample", "twfe_interaction", "imputation",
                "callaway_santanna", "sun_abraham", "bayes_twfe", "bayes_hetero_region",
                "bayes_hetero_batch", "bayes_event_study", "bayes_staggered")


def headline(table: pd.DataFrame) -> pd.DataFrame:
    from bayes_resil.calibration.summary import headline as pick

    t = pick(table)
    return t[t["method"].isin(HEAD_METHODS)]


def run(name: str, root: Path) -> dict:
    out = root / name
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bayes_resil.calibrate",
                           f"hydra.run.dir={out}", "calibration.progress_every=60",
                           *STUDIES[name]], cwd=root.parent, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"study {name} failed ({proc.returncode})")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"study": name, "wall_s": wall,
            "peak_rss_gib": max(peak, before) / 2**20, "dir": str(out)}


def pool(dirs: list[str]) -> pd.DataFrame:
    """The calibration table of the replications of several study folders (one row per seed x
    method x estimand: the first folder wins)."""
    from bayes_resil.calibration.metrics import calibration_table

    files = [f for d in dirs for f in sorted((Path(d) / "replications").glob("r*.csv"))]
    rows = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    rows = rows[rows["error"].isna()] if "error" in rows.columns else rows
    rows = rows.drop_duplicates(["seed", "method", "estimand", "outcome"])
    return calibration_table(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--studies", default=",".join(STUDIES))
    ap.add_argument("--root", default="calibration/bench")
    ap.add_argument("--pool", nargs="+", help="study folders to summarise together")
    args = ap.parse_args()
    if args.pool:
        pd.set_option("display.width", 200)
        print(headline(pool(args.pool))[["method", "estimand", "replications", "coverage",
                                         "bias", "emp_sd", "mean_se", "se_ratio",
                                         "reject_zero", "failed"]].to_string(
            index=False, float_format=lambda v: f"{v:.4f}"))
        return
    root = Path(args.root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    runs = [run(name, root) for name in args.studies.split(",")]
    pd.set_option("display.width", 200)
    print("\nTime and memory (peak: largest process of the studies so far):")
    print(pd.DataFrame(runs).to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    cols = ["method", "estimand", "replications", "coverage", "coverage_mcse", "coverage_flag",
            "bias", "bias_mcse", "se_ratio", "reject_zero", "failed", "coverage_population"]
    for r in runs:
        table = Path(r["dir"]) / "calibration.csv"
        if table.is_file():
            print(f"\n{r['study']} ({' '.join(STUDIES[r['study']])}):")
            print(headline(pd.read_csv(table))[cols].to_string(
                index=False, float_format=lambda v: f"{v:.4f}"))
        sbc = Path(r["dir"]) / "sbc.csv"
        if sbc.is_file():
            s = pd.read_csv(sbc)
            print(f"\n{r['study']}: SBC verdicts")
            print(s.groupby("model").agg(parameters=("parameter", "size"),
                                         not_uniform=("verdict", lambda v: (v != "uniform")
                                                      .sum()),
                                         min_p=("p_value", "min"),
                                         failed_fits=("failed", "max")).to_string())


if __name__ == "__main__":
    main()
