"""Shared fixtures: the default simulated study (built once per session), small panels, the
default CLI run (smoke sampler) and a headless Chromium driven through Selenium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_resil.app import compose
from bayes_resil.study import load_study

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one BLAS thread per pytest-xdist worker and per command-line run it starts: ``-n auto``
    # already puts one worker on each core, and OpenBLAS threads of one worker spinning against
    # the other worker's made BLAS-heavy tests 15-25x slower than alone (the marginal engine's
    # gradient check: 65 s in the suite, 2.6 s alone)
    from bayes_resil.parallel import cap_blas_threads

    cap_blas_threads(1)

#: modules that share a costly session fixture run on the same xdist worker (default_run)
SHARED_GROUP = {"test_report": "test_app"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test``: ``-n auto --dist loadgroup``) each test module stays
    on one worker, so its module fixtures are built once; modules sharing the default run
    share a worker, so it is computed once. ``tryfirst``: before xdist's hook of the same
    name, which reads the marker."""
    for item in items:
        name = item.module.__name__.rpartition(".")[2]
        item.add_marker(pytest.mark.xdist_group(SHARED_GROUP.get(name, name)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """Under ``--dist loadgroup`` xdist marks each grouped test by appending ``@group`` to the
    node id a worker reports; where that does not take (pytest 9.2 with pytest-xdist 3.8,
    pytest-xdist#1386) every test is scheduled on its own, module fixtures are built on every
    worker and the suite runs minutes longer with no test failing: stop instead."""
    if node.config.getoption("dist") != "loadgroup" or not ids:
        return
    lost = [nodeid for nodeid in ids if "@" not in nodeid]
    if lost:
        pytest.exit(f"--dist loadgroup is not grouping tests ({len(lost)} of {len(ids)}, e.g. "
                    f"{lost[0]}): pytest {pytest.__version__} with this pytest-xdist does not "
                    "(pytest-xdist#1386); install the dev extra's pins: pip install -e '.[dev]'",
                    returncode=4)


@pytest.fixture(scope="session")
def default_cfg():
    return compose([])


@pytest.fixture(scope="session")
def study(default_cfg):
    """The default simulated CBEC panel with its index and truth."""
    return load_study(default_cfg.data, default_cfg.index)


def make_user_panel(seed: int = 7, n_units: int = 60, years=(2001, 2009),
                    unbalanced: bool = True) -> pd.DataFrame:
    """A panel that is not the CBEC study: other units, other years, no region column.

    Cohorts 2004, 2006 and never (coded 0), a heterogeneous effect that grows with exposure,
    two controls, a few missing control values and (optionally) dropped rows.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(years[0], years[1] + 1)
    units = [f"firm_{i:03d}" for i in range(n_units)]
    cohort = rng.choice([2004, 2006, 0], size=n_units, p=[0.3, 0.3, 0.4])
    rows = []
    a = rng.normal(0, 1, n_units)
    gamma = rng.normal(0, 0.5, t.size)
    for i, u in enumerate(units):
        for j, yr in enumerate(t):
            x1 = rng.normal(0.3 * a[i], 1)
            x2 = rng.normal(0, 1)
            treated = cohort[i] > 0 and yr >= cohort[i]
            eff = (0.5 + 0.2 * (yr - cohort[i])) if treated else 0.0
            y = a[i] + gamma[j] + 0.4 * x1 - 0.2 * x2 + eff + rng.normal(0, 0.7)
            rows.append((u, yr, cohort[i], y, x1, x2))
    df = pd.DataFrame(rows, columns=["firm", "year", "first_treat", "sales", "x1", "x2"])
    if unbalanced:
        df = df.drop(index=rng.choice(len(df), size=len(df) // 15, replace=False))
        df.loc[df.sample(frac=0.05, random_state=seed).index, "x2"] = np.nan
    return df.reset_index(drop=True)


@pytest.fixture
def user_panel():
    return make_user_panel()


def cli(*args: str, cwd: Path | None = None, env: dict | None = None,
        module: str = "bayes_resil", timeout: float = 300):
    """``python -m <module> *args`` in a subprocess (captured output). Without ``cwd`` it runs
    in a fresh empty directory, so no earlier run (say in the checkout's ``outputs/``) can be
    reused: every test computes what it checks."""
    if cwd is None:
        cwd = Path(tempfile.mkdtemp(prefix="bayes_resil_cli_"))
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def calibrate(*args: str, cwd: Path | None = None, timeout: float = 300):
    """``python -m bayes_resil.calibrate *args`` (see :func:`cli`)."""
    return cli(*args, cwd=cwd, module="bayes_resil.calibrate", timeout=timeout)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "default"
    # the default run (model=hetero_region, freq=full) with the smoke sampler, for speed;
    # progress lines every second (no terminal here), as a cluster job would log them
    proc = cli(f"hydra.run.dir={out}", "sampler=smoke", "sampler.log_every=1")
    assert proc.returncode == 0, proc.stderr
    return out, proc


CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,2000")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Debian's headless Chromium via its ChromeDriver (installed by scripts/ensure_chromium.sh,
    which ``make test`` runs). Missing browser: the test fails, unless BAYES_RESIL_NO_BROWSER=1
    asks to skip it (reported as skipped)."""
    if os.environ.get("BAYES_RESIL_NO_BROWSER") == "1":
        pytest.skip("BAYES_RESIL_NO_BROWSER=1: headless-Chromium report checks skipped")
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_bin):
        pytest.fail("headless Chromium is missing: run `sh scripts/ensure_chromium.sh` (Debian "
                    "packages chromium and chromium-driver) or set BAYES_RESIL_NO_BROWSER=1")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_bin), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
