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


def compose_calibrate(overrides):
    from hydra import compose as _compose
    from hydra import initialize_config_module

    with initialize_config_module(config_module="bayes_resil.conf", version_base="1.3"):
        return _compose(config_name="calibrate", overrides=overrides)


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_option_composes(group, option):
    """In the main app's config and in the calibration app's (which adds ``calibration``)."""
    if group != "calibration":
        cfg = compose([f"{group}={option}"])
        assert cfg[group] is not None
    cal = compose_calibrate([f"{group}={option}"])
    assert cal[group] is not None and cal.calibration.replications >= 1


def test_calibration_defaults():
    cal = compose_calibrate([])
    assert cal.sampler.name == "thin" and cal.freq.name == "staggered"
    assert cal.model.name == "hetero_region" and cal.calibration.models is None
    assert cal.data.source == "simulated" and cal.reuse.search == ["calibration"]


def test_defaults():
    cfg = compose([])
    assert cfg.data.source == "simulated" and cfg.freq.vcov == "cluster"
    assert cfg.model.name == "hetero_region" and cfg.freq.name == "full"
    assert cfg.sampler.name == "nutpie" and cfg.prior.name == "weakly_informative"
    assert cfg.ci_level == 0.95
