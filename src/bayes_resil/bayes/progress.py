"""Sampling progress in the log, for runs without a terminal (a cluster job, ``nohup``, CI).

nutpie reports each chain's progress to a callback (``nutpie.ChainProgress``: draws done,
total, divergences, tuning); PyMC routes that callback to its progress bar,
``NutpieProgressBarManager.update``, which draws nothing without a terminal. While
:func:`logged_progress` is active, PyMC's manager is a subclass whose ``update`` also writes
one line to the ``bayes_resil`` log every ``every`` seconds::

    sampling: 2400/4800 draws (50%, warm-up), 0 divergences, 41 s elapsed, about 41 s left

(the log goes to ``app.log`` in the run directory). With PyMC's own NUTS sampler, which has
no such callback, the log gets the start and the end only.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("bayes_resil")


def draws_done(progress) -> int:
    return sum(int(p.finished_draws) for p in progress)


def progress_line(progress, elapsed: float, rate: float | None = None) -> str:
    """The log line for a list of ``ChainProgress``-like objects (``finished_draws``,
    ``total_draws``, ``divergences``, ``tuning``); ``rate``: draws per second so far (None:
    not known yet)."""
    done = draws_done(progress)
    total = sum(int(p.total_draws) for p in progress) or 1
    divergences = sum(int(p.divergences) for p in progress)
    phase = "warm-up" if any(bool(p.tuning) for p in progress) else "sampling"
    eta = f"about {_seconds((total - done) / rate)} left" if rate else "starting"
    return (f"sampling: {done}/{total} draws ({100 * done / total:.0f}%, {phase}), "
            f"{divergences} divergences, {_seconds(elapsed)} elapsed, {eta}")


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


class _Throttle:
    """Logs :func:`progress_line` at most every ``every`` seconds (thread-safe); the rate of
    draws is measured from the first report, i.e. after the model has compiled."""

    def __init__(self, every: float):
        self.every, self.t0, self.last = every, time.perf_counter(), -float("inf")
        self.first: tuple[float, int] | None = None  # (time, draws) at the first report
        self.lock = threading.Lock()

    def __call__(self, progress) -> None:
        now = time.perf_counter()
        done = draws_done(progress)
        with self.lock:
            if self.first is None:  # the model has compiled: draws start now
                self.first = (now, done)
            if now - self.last < self.every:
                return
            self.last = now
            t1, d1 = self.first
        rate = (done - d1) / (now - t1) if done > d1 and now > t1 else None
        log.info("%s", progress_line(progress, now - self.t0, rate))


@contextmanager
def logged_progress(every: float) -> Iterator[None]:
    """Log nutpie's progress every ``every`` seconds while sampling, when stderr is not a
    terminal (there the progress bar shows it); ``every <= 0`` turns it off."""
    if every <= 0 or sys.stderr.isatty():
        yield
        return
    try:
        from pymc.sampling import mcmc
        base = mcmc.NutpieProgressBarManager
    except (ImportError, AttributeError):  # pragma: no cover - a PyMC without the hook
        log.info("sampling (no progress lines: this PyMC has no nutpie progress hook)")
        yield
        return
    throttle = _Throttle(every)

    class Logged(base):
        def update(self, chain_progresses) -> None:
            throttle(chain_progresses)
            super().update(chain_progresses)

    mcmc.NutpieProgressBarManager = Logged
    try:
        yield
    finally:
        mcmc.NutpieProgressBarManager = base
        log.info("sampling finished after %s", _seconds(time.perf_counter() - throttle.t0))
