"""Launcher presets: the joblib default never oversubscribes the cores, the SLURM preset turns
config into the sbatch header submitit writes, and submitit_local runs a sweep end to end."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from bayes_resil.parallel import (
    available_cores,
    cluster_cores,
    job_cores,
    parallel_jobs,
    register_resolvers,
)


def launcher_config(*overrides: str) -> dict:
    register_resolvers()
    with initialize_config_module(config_module="bayes_resil.conf", version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides),
                      return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    return OmegaConf.to_container(cfg.hydra.launcher, resolve=True)


@pytest.mark.parametrize(("chains", "cores", "available", "per_job", "jobs"), [
    (4, None, 2, 2, 1),    # default nutpie run on this 2-core machine: one job at a time
    (4, None, 16, 4, 4),   # 16 cores: four 4-chain jobs
    (4, 1, 16, 1, 16),     # one core per job: chains run in turn, 16 jobs at once
    (2, None, 2, 2, 1),
    (2, 1, 2, 1, 2),
    (4, 8, 32, 4, 8),      # asking for more cores than chains uses one per chain
])
def test_jobs_times_cores_never_exceed_the_machine(chains, cores, available, per_job, jobs):
    assert job_cores(chains, cores, available=available) == per_job
    assert parallel_jobs(chains, cores, available=available) == jobs
    assert jobs * per_job <= available


def test_joblib_preset_resolves_from_the_sampler():
    n = available_cores()
    assert launcher_config("hydra/launcher=joblib")["n_jobs"] == max(1, n // min(4, n))
    assert launcher_config("hydra/launcher=joblib", "sampler.cores=1")["n_jobs"] == n
    assert launcher_config("hydra/launcher=joblib", "hydra.launcher.n_jobs=3")["n_jobs"] == 3


def test_slurm_preset_gives_the_sbatch_header(tmp_path, monkeypatch):
    # submitit refuses to build a SLURM executor without srun on PATH; a stub stands in (the
    # job is never submitted), and submitit itself writes the sbatch file text
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "srun").write_text("#!/bin/sh\nexit 1\n")
    (stub / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub}{os.pathsep}{os.environ['PATH']}")
    import submitit
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    params = launcher_config("hydra/launcher=submitit_slurm", "hydra.launcher.partition=short",
                             "hydra.launcher.timeout_min=90", "hydra.launcher.account=econ",
                             "sampler.chains=6")
    assert params["_target_"].endswith("SlurmLauncher")
    assert params["cpus_per_task"] == cluster_cores(6) == 6  # not capped by this machine
    # the plugin's own mapping of config keys to executor parameters (SlurmLauncher.launch)
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor = submitit.AutoExecutor(folder=tmp_path / "subm", cluster="slurm")
    executor.update_parameters(**{k if k in base else f"slurm_{k}": v for k, v in params.items()
                                  if k not in {"_target_", "submitit_folder", "max_num_timeout"}})
    text = executor._executor._make_submission_file_text("python -m bayes_resil", "uid")
    for line in ("--partition=short", "--time=90", "--cpus-per-task=6", "--account=econ",
                 "--mem=8GB", "--job-name=bayes_resil"):
        assert f"#SBATCH {line}" in text, text


def test_submitit_local_runs_a_sweep(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bayes_resil", "-m", "hydra/launcher=submitit_local",
         "model=none", "freq=baseline", "ci_level=0.9,0.95",
         f"hydra.sweep.dir={tmp_path / 'multi'}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    multi = tmp_path / "multi"
    assert "Submitit 'local' sweep output dir" in proc.stdout + proc.stderr
    assert list((multi / ".submitit").iterdir())  # submitit's own job folders and logs
    table = pd.read_csv(multi / "sweep_comparison.csv")
    assert (table.drop_duplicates("job")["status"] == "finished").all()
    twfe = table[table["method"] == "twfe"].set_index("job")
    # the two jobs differ only in the interval level: same estimate, nested intervals
    assert twfe.loc[0, "estimate"] == twfe.loc[1, "estimate"]
    assert twfe.loc[0, "ci_upper"] < twfe.loc[1, "ci_upper"]
