"""Figures: data first, options keyword-only, each returns its matplotlib Figure (never shows).

:func:`save_figure` writes PNG and SVG atomically.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from ..outputs import write_atomic  # noqa: E402
from .event_study import plot_event_study  # noqa: E402
from .placebo import plot_placebo  # noqa: E402


def save_figure(fig: Figure, stem: str | Path, formats: tuple[str, ...] = ("png", "svg"),
                dpi: int = 200) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.svg`` (atomic writes); return the paths."""
    paths = []
    for ext in formats:
        path = Path(f"{stem}.{ext}")
        write_atomic(path, lambda p, ext=ext: fig.savefig(p, format=ext, dpi=dpi,
                                                          bbox_inches="tight"))
        paths.append(path)
    return paths


__all__ = ["plot_event_study", "plot_placebo", "save_figure"]
