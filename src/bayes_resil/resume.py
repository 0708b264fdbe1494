"""Reuse of finished runs: a run whose config and panel were already analysed is not recomputed.

Every finished run writes ``run_key.json``: a SHA-256 of the resolved config (without the keys
that do not change results: ``force``, ``reuse``, ``sampler.progress``, ``sampler.cores`` and
``data.path``, whose *content* is hashed instead), of the loaded panel (every value, column name
and dtype), of the package version and of the package's source files (so an edited install never
reuses results of older code). Before computing, a run looks for a finished run with the same
key under ``reuse.search`` (relative to the launch directory; default ``outputs`` and
``multirun``) and in its own sweep directory. If one exists and ``force`` is false, its files
are linked (hard links, else copies) into the new run directory, ``reused_from.txt`` names the
source and the log says so. An interrupted sweep run again therefore finishes only the jobs that
are missing.

A run directory that already holds a *partial* run (killed part-way; no ``summary.txt``) has
its files moved into ``interrupted-<time>/`` before the run starts again there; a directory
holding a *finished* run of a different config is never written into.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from . import __version__
from .errors import InputError
from .outputs import write_text

KEY_FILE = "run_key.json"
REUSED_FILE = "reused_from.txt"
DONE_FILE = "summary.txt"
# keys that do not change results; sampler.cores only sets how many chains run at once (the
# draws are the same for 1 or 2 cores with nutpie and with PyMC: checked, and tested below)
IGNORED_KEYS = ("force", "reuse", "sampler.progress", "sampler.cores", "data.path")
# files of a run directory that belong to that run only (Hydra's config copy and log)
OWN_FILES = (".hydra", ".submitit")


def panel_hash(panel: pd.DataFrame) -> str:
    """SHA-256 of every value, column name and dtype of ``panel`` (row order matters)."""
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in panel.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(panel, index=False).to_numpy().tobytes())
    return h.hexdigest()


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of the resolved config without the keys that do not change results."""
    container = OmegaConf.to_container(cfg, resolve=True)
    container.pop("hydra", None)
    for dotted in IGNORED_KEYS:
        *parents, leaf = dotted.split(".")
        node = container
        for p in parents:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(leaf, None)
    return hashlib.sha256(json.dumps(container, sort_keys=True, default=str).encode()).hexdigest()


@functools.cache
def code_hash() -> str:
    """SHA-256 of the package's source files and bundled data: a code change (a new release or
    an edit of an editable install) means earlier results are not reused."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted([*root.rglob("*.py"), *root.rglob("*.yaml")]):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def run_key(cfg: DictConfig, panel: pd.DataFrame) -> dict[str, str]:
    parts = {"config": config_hash(cfg), "panel": panel_hash(panel), "version": __version__,
             "code": code_hash()}
    key = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return {"key": key, **parts}


def read_key(run_dir: Path) -> str | None:
    """The key of the finished run in ``run_dir`` (None when unfinished or unreadable)."""
    f = run_dir / KEY_FILE
    if not (f.is_file() and (run_dir / DONE_FILE).is_file()):
        return None
    try:
        return json.loads(f.read_text(encoding="utf-8"))["key"]
    except (OSError, ValueError, KeyError):
        return None


def find_finished(key: str, roots: list[Path]) -> Path | None:
    """The most recent finished run with ``key`` under ``roots`` (None if there is none)."""
    hits = []
    for root in roots:
        if not root.is_dir():
            continue
        for f in root.rglob(KEY_FILE):
            if read_key(f.parent) == key:
                hits.append(f.parent)
    return max(hits, key=lambda p: (p / DONE_FILE).stat().st_mtime) if hits else None


def prepare_dir(out: Path, key: str) -> bool:
    """Make ``out`` ready for a run with ``key``; True when it already holds that run.

    A finished run of another config raises :class:`InputError`; a partial run is moved aside.
    """
    if (out / DONE_FILE).exists() or (out / "estimates.csv").exists():
        own = read_key(out)
        if own == key:
            return True
        if (out / DONE_FILE).exists():
            raise InputError(f"{out} already holds a finished run of another config; "
                             "refusing to overwrite it (choose another hydra.run.dir)")
    leftovers = [p for p in out.iterdir() if p.name not in OWN_FILES
                 and not p.name.startswith("interrupted-") and not p.name.endswith(".log")] \
        if out.is_dir() else []
    if leftovers:
        aside = out / f"interrupted-{time.strftime('%Y%m%d-%H%M%S')}"
        aside.mkdir()
        for p in leftovers:
            p.rename(aside / p.name)
    return False


def link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def reuse(src: Path, out: Path) -> list[Path]:
    """Link the result files of the finished run ``src`` into ``out``; return them."""
    files = []
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if (not p.is_file() or rel.parts[0] in OWN_FILES or rel.parts[0].startswith("interrupted-")
                or p.suffix == ".log" or rel.name == REUSED_FILE):
            continue
        link_or_copy(p, out / rel)
        files.append(rel)
    write_text(f"{src.resolve()}\n", out / REUSED_FILE)
    return files


def search_roots(cfg: DictConfig, launch_dir: Path, sweep_dir: Path | None) -> list[Path]:
    roots = [Path(p) if Path(p).is_absolute() else launch_dir / p
             for p in cfg.get("reuse", {}).get("search", ["outputs", "multirun"])]
    if sweep_dir is not None:
        roots.append(sweep_dir if sweep_dir.is_absolute() else launch_dir / sweep_dir)
    # a root inside another is searched once
    roots = sorted({r.resolve() for r in roots}, key=lambda r: len(r.parts))
    return [r for i, r in enumerate(roots) if not any(r.is_relative_to(q) for q in roots[:i])]


def write_key(key: dict[str, str], out: Path) -> None:
    write_text(json.dumps(key, indent=2) + "\n", out / KEY_FILE)
