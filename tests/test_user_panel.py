"""A user's own panel: column map, formats, and a clear error for each bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from bayes_resil.errors import InputError
from bayes_resil.study import load_study
from conftest import make_user_panel

COLUMNS = {"unit": "firm", "time": "year", "cohort": "first_treat", "outcome": "sales",
           "controls": ["x1", "x2"]}


def cfg_for(path, **columns):
    cols = {**COLUMNS, **columns}
    return OmegaConf.create({"source": "file", "path": str(path), "never_treated": [0],
                             "columns": cols})


def load(path, **columns):
    return load_study(cfg_for(path, **columns), None)


def write(df: pd.DataFrame, tmp_path, name="panel.csv"):
    path = tmp_path / name
    if name.endswith(".csv"):
        df.to_csv(path, index=False)
    elif name.endswith(".parquet"):
        df.to_parquet(path)
    elif name.endswith(".xlsx"):
        df.to_excel(path, index=False)
    elif name.endswith(".dta"):
        df.to_stata(path, write_index=False)
    return path


def test_column_map_gives_the_canonical_panel(tmp_path, user_panel):
    data = load(write(user_panel, tmp_path))
    p = data.panel
    assert list(p.columns[:5]) == ["unit", "time", "cohort", "d", "y"]
    assert {"x1", "x2"} <= set(p.columns) and "first_treat" not in p.columns  # now cohort
    assert len(p) == len(user_panel)
    # d is 1 exactly from the first treated year on; cohort 0 means never treated
    raw = user_panel.set_index(["firm", "year"])
    expect = ((raw["first_treat"] > 0) & (raw.index.get_level_values("year")
                                          >= raw["first_treat"])).astype(int)
    got = p.set_index(["unit", "time"])["d"]
    assert (got.loc[expect.index].to_numpy() == expect.to_numpy()).all()
    assert p.loc[p["cohort"].isna(), "unit"].nunique() == (
        user_panel.groupby("firm")["first_treat"].first() == 0).sum()
    assert data.missing["x2"] == user_panel["x2"].isna().sum()
    assert not data.simulated and data.truth is None and data.weights is None


@pytest.mark.parametrize("name", ["panel.parquet", "panel.xlsx", "panel.dta"])
def test_other_formats_read_the_same_panel(tmp_path, user_panel, name):
    ref = load(write(user_panel, tmp_path)).panel
    other = load(write(user_panel, tmp_path, name)).panel
    np.testing.assert_allclose(other["y"], ref["y"], rtol=1e-12)
    assert other["unit"].tolist() == ref["unit"].tolist()
    assert other["d"].tolist() == ref["d"].tolist()


def test_empty_cohort_cells_mean_never_treated(tmp_path, user_panel):
    df = user_panel.astype({"first_treat": "float"})
    df.loc[df["first_treat"] == 0, "first_treat"] = np.nan
    a = load(write(df, tmp_path)).panel
    b = load(write(user_panel, tmp_path, "b.csv")).panel
    assert a["cohort"].isna().sum() == b["cohort"].isna().sum() > 0


def test_index_built_from_indicator_columns_when_no_outcome(tmp_path):
    rng = np.random.default_rng(3)
    df = make_user_panel(unbalanced=False).drop(columns="sales")
    df["good"] = rng.lognormal(0, 1, len(df))
    df["bad"] = rng.lognormal(0, 0.5, len(df))
    index_cfg = OmegaConf.create({"indicators": [
        {"name": "good", "dimension": "a", "direction": "positive"},
        {"name": "bad", "dimension": "a", "direction": "negative"}]})
    cfg = cfg_for(write(df, tmp_path), outcome=None)
    data = load_study(cfg, index_cfg)
    assert data.weights is not None and data.panel["y"].between(0, 1).all()


# --- bad input: one clear InputError each -------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load(tmp_path / "nope.csv")


def test_unknown_format(tmp_path):
    path = tmp_path / "panel.sav"
    path.write_text("x")
    with pytest.raises(InputError, match=r"cannot tell the format.*\.sav"):
        load(path)


def test_mapped_column_absent_names_it_and_lists_the_file(tmp_path, user_panel):
    with pytest.raises(InputError) as err:
        load(write(user_panel, tmp_path), unit="city")
    msg = str(err.value)
    assert "data.columns.unit = 'city'" in msg and "'firm'" in msg and "'sales'" in msg


def test_duplicate_rows_are_counted_and_shown(tmp_path, user_panel):
    df = pd.concat([user_panel, user_panel.iloc[[3, 10]]], ignore_index=True)
    with pytest.raises(InputError) as err:
        load(write(df, tmp_path))
    msg = str(err.value)
    assert "4 rows share a (unit, time) pair" in msg and "2 duplicated pair(s)" in msg
    assert user_panel.loc[3, "firm"] in msg


def test_non_numeric_value_in_numeric_column(tmp_path, user_panel):
    df = user_panel.astype({"x1": "object"})
    df.loc[5, "x1"] = "n/a (see notes)"
    with pytest.raises(InputError) as err:
        load(write(df, tmp_path))
    msg = str(err.value)
    assert "column 'x1'" in msg and "data row 6" in msg and "n/a (see notes)" in msg


def test_cohort_changing_within_a_unit(tmp_path, user_panel):
    df = user_panel.copy()
    unit = df["firm"].iloc[0]
    df.loc[df.index[df["firm"] == unit][:2], "first_treat"] = [2004, 2006]
    with pytest.raises(InputError, match=f"(?s)changes within 1 unit.*{unit}.*2004.*2006"):
        load(write(df, tmp_path))


def test_treatment_before_the_panel_starts(tmp_path, user_panel):
    df = user_panel.copy()
    df.loc[df["firm"] == df["firm"].iloc[0], "first_treat"] = 1995
    with pytest.raises(InputError, match="before the panel starts in 2001"):
        load(write(df, tmp_path))


def test_no_comparison_units(tmp_path, user_panel):
    df = user_panel.assign(first_treat=2005)
    with pytest.raises(InputError, match="no never-treated or not-yet-treated"):
        load(write(df, tmp_path))


def test_fewer_than_two_periods(tmp_path, user_panel):
    df = user_panel[user_panel["year"] == 2003]
    with pytest.raises(InputError, match="1 period"):
        load(write(df, tmp_path))


def test_cohort_after_the_panel_becomes_never_treated_with_a_note(tmp_path, user_panel):
    df = user_panel.copy()
    df.loc[df["firm"] == df["firm"].iloc[0], "first_treat"] = 2030
    data = load(write(df, tmp_path))
    assert any("after the panel ends" in n for n in data.notes)
    assert data.panel.loc[data.panel["unit"] == df["firm"].iloc[0], "cohort"].isna().all()
