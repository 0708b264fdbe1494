"""Atomic file writing: a temp file in the target folder, then an atomic rename.

An interrupted run never leaves a half-written file under its final name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` then rename the temp file to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results follow the user's umask
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (UTF-8, no index) atomically."""
    return write_atomic(path, lambda p: frame.to_csv(p, index=False, encoding="utf-8"))


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` atomically."""
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))
