"""Isolated steps, fail-fast config checks and progress lines (issue 12).

A block that raises is either a data failure (reported, exit 0) or a bug (traceback logged,
exit 1); either way every other block's results are written. The references here are the
blocks' own results on the same panel without the failure (pyfixest-checked elsewhere)."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pandas as pd
import pytest

from bayes_resil.app import compose, run
from bayes_resil.bayes.progress import _Throttle, progress_line
from bayes_resil.errors import StepError
from bayes_resil.freq import suite
from conftest import cli, make_user_panel


def test_a_bug_in_one_block_is_logged_with_its_traceback_and_the_rest_is_written(
        tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("an invented bug")

    monkeypatch.setattr(suite, "placebo", broken)
    cfg = compose(["model=none", "freq=paper", "freq.placebo.permutations=20",
                   "freq.blocks=[baseline,event_study,placebo,heterogeneity]"])
    out = tmp_path / "run"
    with caplog.at_level(logging.ERROR, logger="bayes_resil"), pytest.raises(StepError):
        run(cfg, out)
    steps = pd.read_csv(out / "steps.csv").set_index("step")
    assert steps.loc["placebo", "status"] == "error"
    assert "RuntimeError: an invented bug" in steps.loc["placebo", "reason"]
    assert (steps.drop("placebo")["status"] == "ok").all()
    assert pd.read_csv(out / "skipped.csv")["step"].tolist() == ["placebo"]
    est = pd.read_csv(out / "estimates.csv")
    assert {"twfe", "event_study", "twfe_interaction"} <= set(est["method"])
    assert "placebo" not in set(est["method"])
    record = next(r for r in caplog.records if "placebo" in r.getMessage())
    assert record.exc_info is not None  # the traceback goes to the log (app.log)
    report = (out / "report.md").read_text()
    assert "ERROR (a bug)" in report and "traceback in app.log" in report
    assert not (out / "run_key.json").exists()  # never reused
    assert "1 STEP(S) NOT COMPUTED" in (out / "summary.txt").read_text()


def test_a_missing_region_column_fails_before_the_frequentist_step(tmp_path):
    path = tmp_path / "p.csv"
    make_user_panel().to_csv(path, index=False)
    t0 = time.perf_counter()
    proc = cli(f"hydra.run.dir={tmp_path / 'r'}", "data=file", f"data.path={path}",
               "data.columns.unit=firm", "data.columns.time=year",
               "data.columns.cohort=first_treat", "data.columns.outcome=sales",
               "model=hetero_region", "freq.cluster=province")
    assert proc.returncode == 2
    err = proc.stderr
    assert "model=hetero_region needs a region column" in err and "model=hetero_batch" in err
    assert "freq.cluster='province' is not a column" in err  # every problem at once
    assert "freq block" not in proc.stdout + err  # nothing estimated first
    assert not (tmp_path / "r" / "estimates.csv").exists()
    assert time.perf_counter() - t0 < 30  # the process, imports included (check itself 0.1 s)


def test_progress_line_counts_draws_divergences_and_time_left():
    chain = SimpleNamespace
    progress = [chain(finished_draws=300, total_draws=1000, divergences=1, tuning=False),
                chain(finished_draws=100, total_draws=1000, divergences=2, tuning=True)]
    line = progress_line(progress, elapsed=50.0, rate=20.0)
    assert line == ("sampling: 400/2000 draws (20%, warm-up), 3 divergences, 50 s elapsed, "
                    "about 80 s left")
    assert progress_line(progress, 5.0, None).endswith("starting")
    assert "2.5 min left" in progress_line(progress, 200.0, rate=1600 / 150)


def test_throttle_logs_at_most_every_interval(caplog):
    throttle = _Throttle(every=3600)
    progress = [SimpleNamespace(finished_draws=1, total_draws=10, divergences=0, tuning=True)]
    with caplog.at_level(logging.INFO, logger="bayes_resil"):
        for _ in range(5):
            throttle(progress)
    assert sum("sampling: " in r.getMessage() for r in caplog.records) == 1


def test_a_bayesian_step_that_fails_on_the_data_leaves_the_frequentist_results(
        tmp_path, monkeypatch):
    import numpy as np

    import bayes_resil.app as app

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Matrix is not positive definite")

    monkeypatch.setattr(app, "fit_model", singular)
    cfg = compose(["model=twfe", "freq=baseline"])
    out = run(cfg, tmp_path / "run")  # no exception: exit 0 with a warning
    steps = pd.read_csv(out / "steps.csv").set_index("step")
    assert steps.loc["model=twfe", "status"] == "failed"
    assert "LinAlgError: Matrix is not positive definite" in steps.loc["model=twfe", "reason"]
    assert steps.loc["baseline", "status"] == "ok"
    assert "twfe" in set(pd.read_csv(out / "estimates.csv")["method"])
    summary = (out / "summary.txt").read_text()
    assert "bayes step model=twfe FAILED on the data" in summary
    assert "FAILED on the data" in (out / "report.md").read_text()
