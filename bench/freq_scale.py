"""How the frequentist suite scales with the panel: time and peak memory per preset and block.

A staggered panel of N units x T periods (outcome only, no controls: cohorts spread over the
middle periods and a never-treated third, unit and period effects, an effect growing with
exposure, noise) is written to Parquet and loaded as a user's panel (``data=file``); each
(N, preset) runs in its own process, so its peak RSS is its own.

    .venv/bin/python bench/freq_scale.py [--units 283 2000 20000] [--periods 20]
                                         [--presets staggered paper]

Prints one row per (units, preset): total seconds, peak RSS (GiB) and the slowest blocks.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_panel(n_units: int, n_periods: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = np.arange(2001, 2001 + n_periods)
    starts = periods[n_periods // 4: 3 * n_periods // 4]
    cohort = np.where(rng.random(n_units) < 1 / 3, 0, rng.choice(starts, n_units))
    unit = np.repeat(np.arange(n_units), n_periods)
    time_ = np.tile(periods, n_units)
    c = cohort[unit]
    exposure = np.where((c > 0) & (time_ >= c), time_ - c + 1, 0)
    y = (rng.normal(0, 1, n_units)[unit] + rng.normal(0, 0.5, n_periods)[time_ - 2001]
         + 0.1 * exposure + rng.normal(0, 0.5, unit.size))
    return pd.DataFrame({"unit": unit, "time": time_, "cohort": c, "y": y})


def one(n_units: int, n_periods: int, preset: str) -> dict:
    """Run ``freq=<preset>`` on a panel of this size in this process; timings and peak RSS."""
    from omegaconf import OmegaConf

    from bayes_resil.app import compose
    from bayes_resil.freq.suite import run_freq
    from bayes_resil.study import load_study

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.parquet"
        make_panel(n_units, n_periods).to_parquet(path)
        t0 = time.perf_counter()
        data = load_study(OmegaConf.create({
            "source": "file", "path": str(path), "never_treated": [0],
            "columns": {"unit": "unit", "time": "time", "cohort": "cohort", "outcome": "y"}}),
            None)
        load_s = time.perf_counter() - t0
    cfg = compose([f"freq={preset}"])
    t0 = time.perf_counter()
    res = run_freq(data, cfg.freq)
    total = time.perf_counter() - t0
    return {"units": n_units, "periods": n_periods, "rows": len(data.panel), "preset": preset,
            "load_s": load_s, "freq_s": total, "blocks": res.seconds,
            "failed": [s.step for s in res.steps if not s.ok],
            "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, nargs="+", default=[283, 2000, 20000])
    ap.add_argument("--periods", type=int, default=20)
    ap.add_argument("--presets", nargs="+", default=["staggered", "paper"])
    ap.add_argument("--one", nargs=2, metavar=("UNITS", "PRESET"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.periods, args.one[1])))
        return
    rows = []
    for n in args.units:
        for preset in args.presets:
            proc = subprocess.run([sys.executable, __file__, "--periods", str(args.periods),
                                   "--one", str(n), preset], capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            slow = sorted(r["blocks"].items(), key=lambda kv: -kv[1])[:3]
            rows.append({"units": n, "rows": r["rows"], "preset": preset,
                         "freq seconds": round(r["freq_s"], 1),
                         "peak GiB": round(r["peak_gib"], 2),
                         "slowest blocks": ", ".join(f"{k} {v:.1f} s" for k, v in slow),
                         "not computed": ", ".join(r["failed"]) or "-"})
            print(rows[-1], flush=True)
    print()
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
