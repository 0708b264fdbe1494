"""Isolated steps: one estimator that fails on the data never sinks a run.

Each frequentist block and the Bayesian step run through :func:`isolated`. Its outcome is a
:class:`StepStatus`:

* ``ok`` - the step ran; its results are written;
* ``failed`` - the step could not be computed on these data (an :class:`InputError` raised by
  the estimator - singular design, too few units, no comparison group - or a numerical failure:
  a singular matrix, a floating-point error, a sampler that cannot start). Its reason is
  reported on the terminal, in ``summary.txt``, in the report and in ``steps.csv``; every
  other step's results are still written and the run exits 0 with a warning (``strict=true``:
  exit status 4 once everything is written);
* ``error`` - anything else: a bug, not a data problem. The traceback goes to ``app.log``,
  the other steps still run and are written, and the run exits with status 1.

``steps.csv`` has one row per step (``step``, ``kind``, ``status``, ``seconds``, ``reason``);
``skipped.csv`` the rows whose status is not ``ok``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .outputs import write_csv

log = logging.getLogger("bayes_resil")

def data_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "these data do not allow this step" rather than a bug."""
    errors: list[type[BaseException]] = [InputError, np.linalg.LinAlgError, FloatingPointError,
                                         ZeroDivisionError]
    # the sampler's "the model cannot start / evaluate at the initial point"; only when PyMC is
    # loaded (otherwise nothing can have raised it, and a model=none run need not import it)
    pymc_errors = sys.modules.get("pymc.exceptions")
    if pymc_errors is not None:
        errors.append(pymc_errors.SamplingError)
    return tuple(errors)


@dataclass
class StepStatus:
    """How one step ended."""

    step: str
    kind: str  # "freq" or "bayes"
    status: str = "ok"
    seconds: float = 0.0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        """One line for the terminal, ``summary.txt`` and the report."""
        what = "FAILED on the data" if self.status == "failed" else "ERROR (a bug)"
        hint = "" if self.status == "failed" else " - traceback in app.log"
        return f"{self.kind} step {self.step} {what}: {self.reason}{hint}"


@contextmanager
def isolated(step: str, kind: str, statuses: list[StepStatus]) -> Iterator[StepStatus]:
    """Run the ``with`` body as one step; its outcome is appended to ``statuses``. The body's
    exceptions are caught (see the module docstring), so the caller carries on."""
    status = StepStatus(step=step, kind=kind)
    statuses.append(status)
    t0 = time.perf_counter()
    try:
        yield status
    except data_errors() as exc:
        status.status, status.reason = "failed", _reason(exc)
        log.warning("%s", status.line())
    except Exception as exc:  # noqa: BLE001 - isolation is the point; the traceback is logged
        status.status, status.reason = "error", f"{type(exc).__name__}: {exc}"
        log.exception("%s step %s raised an unexpected error (a bug, not a data problem; "
                      "please report it with this traceback)", kind, step)
    finally:
        status.seconds = time.perf_counter() - t0


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if isinstance(exc, InputError) else f"{type(exc).__name__}: {text}"


def steps_table(statuses: list[StepStatus]) -> pd.DataFrame:
    """One row per step: ``step``, ``kind``, ``status``, ``seconds``, ``reason``."""
    cols = ["step", "kind", "status", "seconds", "reason"]
    return pd.DataFrame([asdict(s) for s in statuses], columns=cols)


def write_steps(statuses: list[StepStatus], out: Path) -> list[str]:
    """``steps.csv`` (every step) and ``skipped.csv`` (those not ok); the file names."""
    table = steps_table(statuses)
    write_csv(table, out / "steps.csv")
    write_csv(table[table["status"] != "ok"], out / "skipped.csv")
    return ["steps.csv", "skipped.csv"]


def not_ok(statuses: list[StepStatus]) -> list[StepStatus]:
    return [s for s in statuses if not s.ok]
