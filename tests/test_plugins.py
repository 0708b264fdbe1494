"""Models as plugins: a model defined outside the package (docs/examples/plugin, one module
and one YAML) is found through its entry point and runs through the command line and the API,
with its own options, prior and required columns; without the entry point it is unknown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bayes_resil.errors import InputError
from bayes_resil.options import build_config
from conftest import cli

PLUGIN = Path(__file__).resolve().parents[1] / "docs" / "examples" / "plugin"
COLUMNS = ["data.columns.unit=firm", "data.columns.time=year",
           "data.columns.cohort=first_treat", "data.columns.outcome=sales"]


def installed(site: Path) -> dict:
    """The example plugin as an installed distribution: its package on the path and a
    dist-info with the entry point (what ``pip install`` of docs/examples/plugin writes)."""
    info = site / "br_demo_plugin-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: br-demo-plugin\n"
                                   "Version: 0.1.0\n")
    (info / "entry_points.txt").write_text("[bayes_resil.models]\n"
                                           "pooled_did = br_demo_plugin:ENTRY\n")
    return {"PYTHONPATH": os.pathsep.join([str(site), str(PLUGIN)])}


def test_a_model_from_outside_the_package_runs_through_the_cli_and_the_api(tmp_path,
                                                                           user_panel):
    env = installed(tmp_path / "site")
    path = tmp_path / "panel.csv"
    user_panel.to_csv(path, index=False)
    out = tmp_path / "cli"
    proc = cli(f"hydra.run.dir={out}", "data=file", f"data.path={path}", *COLUMNS,
               "model=pooled_did", "prior.demo_unit_sd.sigma=0.5", "freq=baseline",
               "sampler=smoke", "sampler.backend=pymc", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    est = pd.read_csv(out / "estimates.csv").set_index(["method", "estimand"])
    comp = pd.read_csv(out / "comparison.csv")
    assert comp["ols_method"].tolist() == ["twfe"]  # its declared comparator
    assert (out / "posterior.nc").is_file() and (out / "figures" / "forest.png").is_file()
    cfg = (out / ".hydra" / "config.yaml").read_text()
    assert "unit_effects: true" in cfg and "demo_unit_sd" in cfg

    code = (
        "import json, pandas as pd, bayes_resil as br\n"
        f"p = br.load_panel(pd.read_csv({str(path)!r}), unit='firm', time='year', "
        "cohort='first_treat', outcome='sales')\n"
        "f = br.fit(p, model='pooled_did', sampler={'name': 'smoke', 'backend': 'pymc'}, "
        "demo_unit_sd={'sigma': 0.5})\n"
        "print(json.dumps(f.estimates().set_index('estimand')['estimate'].to_dict()))\n")
    api = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, cwd=tmp_path, timeout=300)
    assert api.returncode == 0, api.stderr[-3000:]
    estimates = json.loads(api.stdout.strip().splitlines()[-1])
    # one code path: the same posterior (same seed) through both
    assert estimates["att"] == pytest.approx(est.loc[("bayes_pooled_did", "att"), "estimate"],
                                             rel=1e-12)


def test_a_plugin_option_is_typed_and_an_unknown_model_lists_the_known_ones(tmp_path):
    env = installed(tmp_path / "site")
    proc = cli("model=pooled_did", "model.unit_effects=maybe", "model=pooled_did",
               env=env)
    assert proc.returncode != 0 and "unit_effects" in proc.stderr
    # without the plugin installed (this process): the model does not exist
    with pytest.raises(InputError, match=r"model='pooled_did' is not an option.*staggered"):
        build_config({"model": "pooled_did"}, options={}, scope=("model",))
