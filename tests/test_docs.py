"""The docs' walkthroughs run (docs/examples; fast settings: twfe design, smoke sampler)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pandas as pd

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def test_quickstart_runs_and_writes_a_run_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BAYES_RESIL_EXAMPLE_FAST", "1")
    monkeypatch.setattr("sys.argv", ["quickstart.py", str(tmp_path / "run")])
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "SIMULATED" in out and "written:" in out
    est = pd.read_csv(tmp_path / "run" / "estimates.csv")
    assert {"twfe", "event_study", "imputation", "bayes_hetero_region"} <= set(est["method"])
    assert (tmp_path / "run" / "report.html").is_file()


def test_extending_a_prior_runs_and_refuses_an_unscalable_family(monkeypatch, capsys):
    monkeypatch.setenv("BAYES_RESIL_EXAMPLE_FAST", "1")
    runpy.run_path(str(EXAMPLES / "extending_a_prior.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "laplace + student-t regions" in out
    assert "refused:" in out and "fixed support" in out
