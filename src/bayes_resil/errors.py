"""User-facing errors: a mistake in the user's input or config, reported without a traceback."""

from __future__ import annotations


class InputError(Exception):
    """A problem with the user's data or configuration.

    The message says what is wrong, where (file, row, column) and what to do. The command-line
    app prints it and exits with status 2 instead of showing a Python traceback.
    """

    exit_code = 2


class DiagnosticsFailed(Exception):
    """MCMC diagnostics failed their thresholds and ``sampler.strict=true`` was asked for.

    Everything has been written already; the app exits with status 3.
    """

    exit_code = 3


class StepsFailed(Exception):
    """Some steps could not be computed on the data and ``strict=true`` was asked for.

    Everything else has been written already; the app exits with status 4.
    """

    exit_code = 4


class StepError(Exception):
    """A step raised an unexpected error (a bug, not a data problem); its traceback is in
    ``app.log``. Everything else has been written already; the app exits with status 1."""

    exit_code = 1
