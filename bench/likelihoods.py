"""Normal vs Student-t errors on the default panel: effect, noise parameters, diagnostics, time
and PSIS-LOO (elpd, Pareto-k problems), through a real sweep of the CLI (nutpie 4 x 1000).

    .venv/bin/python bench/likelihoods.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import xarray as xr


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "bayes_resil", "-m", "model=twfe,hetero_region",
             "model.likelihood=normal,student_t", "freq=baseline", "sampler.progress=false",
             f"hydra.sweep.dir={tmp}/multi"], capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        wall = time.perf_counter() - t0
        multi = Path(tmp) / "multi"
        table = pd.read_csv(multi / "sweep_comparison.csv", dtype={"job": str})
        loo = pd.read_csv(multi / "loo_comparison.csv", dtype={"job": str}).set_index("job")
        rows = []
        for job, g in table.groupby("job"):
            att = g[g["method"].str.startswith("bayes_") & (g["estimand"] == "att")].iloc[0]
            ols = g[(g["method"] == "twfe_controls") & (g["estimand"] == "att")].iloc[0]
            tree = xr.open_datatree(multi / job / "posterior.nc", engine="h5netcdf")
            post = tree["posterior"].to_dataset()
            nu = float(post["nu"].mean()) if "nu" in post else float("nan")
            sigma = float(post["sigma"].mean())
            tree.close()
            rows.append({"job": g["overrides"].iloc[0].replace(" freq=baseline", "")
                         .replace(" sampler.progress=False", ""),
                         "att": round(att["estimate"], 4), "sd": round(att["std_error"], 4),
                         "ols_att": round(ols["estimate"], 4), "nu": round(nu, 2),
                         "sigma": round(sigma, 4), "diag_ok": att["diagnostics_ok"],
                         "elpd_loo": round(loo.loc[job, "elpd_loo"], 1),
                         "loo_rank": loo.loc[job, "rank"], "k>0.7": loo.loc[job, "n_k_bad"],
                         "max_k": round(loo.loc[job, "pareto_k_max"], 2)})
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"\nwhole sweep (4 jobs, basic launcher): {wall:.0f} s")


if __name__ == "__main__":
    main()
