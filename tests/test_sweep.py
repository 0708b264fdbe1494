"""A Hydra multirun: every job in its own directory, a failed job does not end the sweep, and
the sweep comparison is written at the end and can be rebuilt from the directory."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from bayes_resil.compare import main as compare_main
from bayes_resil.compare import sweep_table


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    proc = subprocess.run(
        [sys.executable, "-m", "bayes_resil", "-m", "model=twfe", "sampler=smoke",
         "freq=baseline", "prior=weakly_informative,skeptical", "data.roster=paper283,bogus",
         f"hydra.sweep.dir={root / 'multi'}"],
        capture_output=True, text=True, timeout=600, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root / "multi", proc


def test_sweep_writes_one_dir_per_job_and_the_comparison(sweep):
    multi, proc = sweep
    assert sorted(p.name for p in multi.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    table = pd.read_csv(multi / "sweep_comparison.csv")
    status = table.drop_duplicates("job").set_index("job")["status"]
    assert (status.loc[[0, 2]] == "finished").all()
    assert status.loc[[1, 3]].str.startswith("failed: data.roster='bogus'").all()
    bayes = table[table["method"] == "bayes_twfe"]
    assert len(bayes) == 2 and set(bayes["overrides"].str.extract(r"prior=(\w+)")[0]) == {
        "weakly_informative", "skeptical"}
    # each job's numbers are the ones in its own estimates.csv
    for job in (0, 2):
        est = pd.read_csv(multi / str(job) / "estimates.csv")
        mine = table[(table["job"] == job) & (table["method"] == "bayes_twfe")]
        assert mine["estimate"].iloc[0] == pytest.approx(
            est.query("method == 'bayes_twfe'")["estimate"].iloc[0], rel=1e-12)
    # the skeptical prior pulls the effect toward zero relative to the weakly informative one
    by_prior = bayes.set_index(bayes["overrides"].str.extract(r"prior=(\w+)")[0])["estimate"]
    assert by_prior["skeptical"] < by_prior["weakly_informative"]
    assert (multi / "sweep_comparison.png").is_file()


def test_comparison_can_be_rebuilt_and_sees_unfinished_jobs(sweep, tmp_path):
    multi, _ = sweep
    before = pd.read_csv(multi / "sweep_comparison.csv")
    (multi / "sweep_comparison.csv").unlink()
    assert compare_main([str(multi)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(multi / "sweep_comparison.csv"), before)
    (multi / "2" / "summary.txt").rename(multi / "2" / "summary.bak")
    try:
        status = sweep_table(multi).drop_duplicates("job").set_index("job")["status"]
        assert status.loc["2"] == "incomplete"
    finally:
        (multi / "2" / "summary.bak").rename(multi / "2" / "summary.txt")
    assert compare_main([str(tmp_path)]) == 2
