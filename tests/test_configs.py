"""Every config group option composes (lightning-hydra-template habit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayes_resil.app import compose

CONF = Path(__file__).resolve().parents[1] / "conf"
OPTIONS = sorted((g.name, f.stem) for g in CONF.iterdir() if g.is_dir()
                 for f in g.glob("*.yaml"))


def test_required_groups_exist():
    assert {"data", "index", "model", "prior", "sampler", "freq"} <= {g for g, _ in OPTIONS}


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_option_composes(group, option):
    cfg = compose([f"{group}={option}"])
    assert cfg[group] is not None


def test_defaults():
    cfg = compose([])
    assert cfg.data.source == "simulated" and cfg.freq.vcov == "cluster"
    assert cfg.model.name == "hetero_region" and cfg.freq.name == "paper"
    assert cfg.sampler.name == "nutpie" and cfg.prior.name == "weakly_informative"
    assert cfg.ci_level == 0.95
