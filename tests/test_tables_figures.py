"""Paper-style tables carry our numbers beside the published ones; figures are real images."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from bayes_resil.design import published_tables
from bayes_resil.estimates import to_frame
from bayes_resil.freq.suite import run_freq
from bayes_resil.plots import plot_event_study, plot_placebo, save_figure
from bayes_resil.tables import PAPER_TABLES, tidy_table, to_latex, to_markdown, write_tables


@pytest.fixture(scope="module")
def paper_run(study, default_cfg):
    cfg = default_cfg.freq.copy()
    cfg.placebo.permutations = 100
    cfg.mediation.bootstrap = 20
    res = run_freq(study, cfg)
    return res, to_frame(res.rows)


def test_every_paper_table_has_ours_and_published(paper_run):
    _, est = paper_run
    pub = published_tables()
    for spec in PAPER_TABLES:
        tidy = tidy_table(spec, est, pub)
        assert set(tidy["source"]) == {"ours", "published"}, spec.name
        assert tidy["column"].nunique() == len(spec.columns), spec.name


def test_table2_numbers(paper_run):
    _, est = paper_run
    spec = PAPER_TABLES[0]
    tidy = tidy_table(spec, est, published_tables())
    md = to_markdown(spec, tidy)
    # published Table 2 column 1: 0.0355*** (0.0049), n 3677, R2 0.9158
    assert "0.0355***" in md and "(0.0049)" in md and "0.9158" in md
    ours = est.query("method == 'twfe' and estimand == 'att'").iloc[0]
    assert f"{ours['estimate']:.4f}" in md and f"({ours['std_error']:.4f})" in md
    tex = to_latex(spec, tidy)
    assert tex.count(r"\\") >= 10 and r"\begin{tabular}" in tex and "0.0355$^{***}$" in tex


def test_stars_follow_p_values(paper_run):
    _, est = paper_run
    tidy = tidy_table(PAPER_TABLES[0], est, None)
    row = tidy[(tidy["row"] == "Treat × Post") & (tidy["column"] == "(1)")].iloc[0]
    p = est.query("method == 'twfe' and estimand == 'att'")["p_value"].iloc[0]
    assert row["stars"] == ("***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else "")


def test_write_tables_and_figures(paper_run, study, tmp_path):
    res, est = paper_run
    files = write_tables(est, tmp_path, published_tables())
    assert "tables.md" in files and (tmp_path / "table6_mechanisms.tex").exists()
    back = pd.read_csv(tmp_path / "table2_baseline.csv")
    assert {"table", "column", "row", "source", "estimate", "std_error"} <= set(back.columns)
    fig = plot_event_study(est, truth=study.truth, simulated=True)
    png, svg = save_figure(fig, tmp_path / "es")
    img = mpimg.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 500 and img[..., :3].std() > 0.05
    assert svg.read_text().lstrip().startswith("<?xml")
    row = est.query("method == 'placebo'").iloc[0]
    fig = plot_placebo(res.placebo_draws["estimate"].to_numpy(), row["actual_estimate"],
                       p_value=row["p_value"])
    png, _ = save_figure(fig, tmp_path / "pl")
    assert mpimg.imread(png).shape[0] > 300
    # the event-study axis shows every event time in the window
    ax = plot_event_study(est).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "≤-5"
    assert np.isclose(ax.get_xticks(), np.arange(-5, 6)).all()
