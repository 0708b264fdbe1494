"""Wall time of the issue's 6-job sweep (model=twfe,hetero_region,hetero_batch x
prior=weakly_informative,skeptical; nutpie 4 x 1000; freq=baseline) with the basic launcher, the
joblib launcher (one core per job), and the same sweep run again (every job reused).

    .venv/bin/python bench/sweep_speed.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SWEEP = ["model=twfe,hetero_region,hetero_batch", "prior=weakly_informative,skeptical",
         "freq=baseline", "sampler.progress=false"]


def timed(cwd: Path, *args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bayes_resil", "-m", *SWEEP, *args], cwd=cwd,
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return time.perf_counter() - t0, proc.stdout + proc.stderr


def latest_sweep(cwd: Path) -> Path:
    return max(cwd.glob("multirun/*/*"), key=lambda p: p.stat().st_mtime)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (("basic (sequential)", []),
                             ("joblib, sampler.cores=1", ["hydra/launcher=joblib",
                                                          "sampler.cores=1"])):
            cwd = Path(tmp) / label.split()[0]
            cwd.mkdir()
            wall, log = timed(cwd, *extra)
            sweep = latest_sweep(cwd)
            table = pd.read_csv(sweep / "sweep_comparison.csv")
            bayes = table[table["method"].str.startswith("bayes_") & (table["estimand"] == "att")]
            loo = pd.read_csv(sweep / "loo_comparison.csv")
            rows.append({"launcher": label, "wall_s": round(wall, 1), "jobs": len(bayes),
                         "diagnostics_ok": int(bayes["diagnostics_ok"].sum()),
                         "reused": int(log.count("reused: same config")),
                         "loo_best": loo.loc[loo["rank"] == 0, "overrides"].iloc[0],
                         "max_pareto_k": round(loo["pareto_k_max"].max(), 2)})
            if label.startswith("basic"):
                wall, log = timed(cwd, *extra)
                rows.append({"launcher": "basic, run again (resume)", "wall_s": round(wall, 1),
                             "jobs": len(bayes), "diagnostics_ok": rows[-1]["diagnostics_ok"],
                             "reused": int(log.count("reused: same config")),
                             "loo_best": rows[-1]["loo_best"],
                             "max_pareto_k": rows[-1]["max_pareto_k"]})
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
