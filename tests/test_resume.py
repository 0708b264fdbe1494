"""Resume: a run whose config and panel were already analysed is reused, not recomputed (unless
force=true); an interrupted sweep run again finishes only what is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from bayes_resil import resume
from bayes_resil.app import compose
from bayes_resil.errors import InputError
from conftest import cli

# four jobs (the prior enters the run key even without a Bayesian model); model=none keeps each
# job to a second or two, the resume logic is the same for every model
SWEEP = ["model=none", "freq=baseline", "prior=weakly_informative,skeptical", "ci_level=0.9,0.95"]


def test_key_ignores_what_does_not_change_results_and_sees_what_does(study):
    base = compose(["model=twfe"])
    key = resume.run_key(base, study.panel)["key"]
    for same in (["force=true"], ["sampler.progress=false"], ["reuse.search=[elsewhere]"],
                 ["sampler.cores=1"]):
        assert resume.run_key(compose(["model=twfe", *same]), study.panel)["key"] == key
    # a file's path is not in the key (its content is)
    keys = {resume.run_key(compose(["data=file", f"data.path={p}"]), study.panel)["key"]
            for p in ("/some/where.csv", "/else/where.csv")}
    assert len(keys) == 1
    for other in (["prior=skeptical"], ["ci_level=0.9"], ["sampler.draws=999"]):
        assert resume.run_key(compose(["model=twfe", *other]), study.panel)["key"] != key
    panel = study.panel.copy()
    panel.loc[panel.index[100], "y"] += 1e-12  # one value of the panel, in the 12th digit
    assert resume.panel_hash(panel) != resume.panel_hash(study.panel)
    assert resume.run_key(base, panel)["key"] != key


def test_a_partial_run_is_moved_aside_and_a_finished_one_is_never_overwritten(tmp_path):
    out = tmp_path / "run"
    (out / ".hydra").mkdir(parents=True)
    (out / "estimates.csv").write_text("partial")
    (out / "figures").mkdir()
    assert resume.prepare_dir(out, "k1") is False
    aside = [p for p in out.iterdir() if p.name.startswith("interrupted-")]
    assert len(aside) == 1 and (aside[0] / "estimates.csv").read_text() == "partial"
    assert (out / ".hydra").is_dir() and not (out / "estimates.csv").exists()
    (out / "summary.txt").write_text("done")
    resume.write_key({"key": "k1"}, out)
    assert resume.prepare_dir(out, "k1") is True
    with pytest.raises(InputError, match="finished run of another config"):
        resume.prepare_dir(out, "k2")


def test_a_repeated_run_is_reused_and_force_recomputes(tmp_path):
    first = cli("model=none", "freq=baseline", cwd=tmp_path)
    second = cli("model=none", "freq=baseline", cwd=tmp_path)
    forced = cli("model=none", "freq=baseline", "force=true", cwd=tmp_path)
    assert first.returncode == second.returncode == forced.returncode == 0, second.stderr
    runs = sorted(p.parent for p in tmp_path.glob("outputs/*/*/summary.txt"))
    assert len(runs) == 3 and len(set(runs)) == 3
    assert "reused" in second.stdout + second.stderr
    assert (runs[1] / "reused_from.txt").read_text().strip() == str(runs[0].resolve())
    assert not (runs[2] / "reused_from.txt").exists()
    pd.testing.assert_frame_equal(pd.read_csv(runs[1] / "estimates.csv"),
                                  pd.read_csv(runs[0] / "estimates.csv"))
    # the forced run recomputed the same numbers (deterministic given the seed)
    pd.testing.assert_frame_equal(pd.read_csv(runs[2] / "estimates.csv"),
                                  pd.read_csv(runs[0] / "estimates.csv"))


def test_same_seed_same_draws_whatever_the_cores(study):
    """Two fits with the same seed give the same draws, on 1 or on 2 cores: why the seed makes
    a run reproducible and why sampler.cores is left out of the run key."""
    from bayes_resil.bayes.fit import prepare
    from bayes_resil.bayes.sampling import sample

    draws = []
    for cores in (1, 2):
        cfg = compose(["model=twfe", "model.design=twfe", "model.controls=false",
                       "sampler=smoke", f"sampler.cores={cores}"])
        _, _, built = prepare(study, cfg)
        idata, _ = sample(built, cfg.sampler, extras=False)
        draws.append(idata["posterior"]["att"].to_numpy())
    np.testing.assert_array_equal(draws[0], draws[1])


def _finished(sweep_dir):
    return {p.parent.name for p in sweep_dir.glob("*/summary.txt")}


def test_an_interrupted_sweep_finishes_only_what_is_missing(tmp_path):
    cmd = [sys.executable, "-m", "bayes_resil", "-m", *SWEEP]
    proc = subprocess.Popen(cmd, cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    try:
        while time.time() < deadline and not list(tmp_path.glob("multirun/*/*/1/summary.txt")):
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no clean-up, as a power cut or scancel -9
        proc.wait()
    (killed,) = tmp_path.glob("multirun/*/*")
    done_before = _finished(killed)
    assert {"0", "1"} <= done_before and "3" not in done_before, done_before
    assert not (killed / "sweep_comparison.csv").exists()

    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    log = again.stdout + again.stderr
    resumed = next(p for p in tmp_path.glob("multirun/*/*") if p != killed)
    table = pd.read_csv(resumed / "sweep_comparison.csv", keep_default_na=False)
    jobs = table.drop_duplicates("job").set_index("job")
    assert (jobs["status"] == "finished").all() and len(jobs) == 4
    reused = {str(j) for j in jobs.index[jobs["reused_from"] != ""]}
    assert reused == done_before
    assert log.count("reused: same config and panel as") == len(done_before)
    assert (f"sweep: 4 job(s), {len(done_before)} reused from earlier runs (jobs "
            f"{', '.join(sorted(done_before))})") in log
    for job in done_before:
        assert jobs.loc[int(job), "reused_from"] == str((killed / job).resolve())
        pd.testing.assert_frame_equal(pd.read_csv(resumed / job / "estimates.csv"),
                                      pd.read_csv(killed / job / "estimates.csv"))

    # running into the killed sweep's own directory: its finished jobs stay, the partial one
    # is moved aside, and what the second sweep computed is reused
    third = subprocess.run([*cmd, f"hydra.sweep.dir={killed}"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600)
    assert third.returncode == 0, third.stderr
    assert _finished(killed) == {"0", "1", "2", "3"}
    assert (third.stdout + third.stderr).count("already holds this run") == len(done_before)
    for job in {"0", "1", "2", "3"} - done_before:
        assert (killed / job / "reused_from.txt").read_text().strip() == str(
            (resumed / job).resolve())

    forced = subprocess.run([*cmd, "force=true"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    log = forced.stdout + forced.stderr
    assert forced.returncode == 0 and "reused: same config" not in log
    assert "sweep: 4 job(s), 0 reused from earlier runs; failed 0" in log
