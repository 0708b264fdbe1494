"""Speed of the frequentist suite on the default panel (2-core machine targets in the issues).

(a) the vectorised placebo (all permutations projected at once) against a loop of
    linearmodels ``PanelOLS`` fits on the same permutations (timed on a subset, extrapolated);
(b) the whole ``freq=paper`` step, block by block;
(c) the whole ``freq=staggered`` step (Bacon, weights, imputation, Sun-Abraham,
    Callaway-Sant'Anna with its multiplier bootstrap, sensitivity).

    .venv/bin/python bench/freq_speed.py [--loop 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from linearmodels.panel import PanelOLS

from bayes_resil.app import compose
from bayes_resil.freq.placebo import placebo_draws
from bayes_resil.freq.suite import run_freq
from bayes_resil.study import load_study


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", type=int, default=40, help="PanelOLS fits to time")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cfg = compose([])
    data = load_study(cfg.data, cfg.index)
    ctrl = list(data.controls)
    n_perm = int(cfg.freq.placebo.permutations)

    vec = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        placebo_draws(data, ctrl, n_perm, seed=1)
        vec.append(time.perf_counter() - t0)

    sub = data.panel.dropna(subset=["y", *ctrl])
    units = sub["unit"].unique()
    cohort = sub.drop_duplicates("unit").set_index("unit")["cohort"].reindex(units)
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _ in range(args.loop):
        new = pd.Series(cohort.to_numpy()[rng.permutation(len(units))], index=units)
        frame = sub.assign(dp=(sub["time"] >= sub["unit"].map(new).astype(float)).astype(float))
        frame = frame.set_index(["unit", "time"])
        PanelOLS(frame["y"], frame[["dp", *ctrl]], entity_effects=True,
                 time_effects=True).fit(cov_type="clustered", cluster_entity=True)
    loop = (time.perf_counter() - t0) / args.loop

    rows = [
        ("placebo, vectorised", n_perm, min(vec), min(vec) / n_perm * 1e3),
        ("placebo, loop of PanelOLS fits", n_perm, loop * n_perm, loop * 1e3),
    ]
    for preset in ("paper", "staggered"):
        t0 = time.perf_counter()
        res = run_freq(data, compose([f"freq={preset}"]).freq)
        total = time.perf_counter() - t0
        for name, secs in res.seconds.items():
            rows.append((f"freq={preset} block {name}", "", secs, np.nan))
        rows.append((f"freq={preset} total", "", total, np.nan))
    table = pd.DataFrame(rows, columns=["task", "permutations", "seconds", "ms_per_fit"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nplacebo speed-up: {loop * n_perm / min(vec):.0f}x "
          f"(loop extrapolated from {args.loop} fits)")


if __name__ == "__main__":
    main()
