"""Reports: ``report.md`` / ``report.html`` per run and ``sweep_report.html`` per sweep."""

from .run_report import write_run_report
from .sweep_report import write_sweep_report

__all__ = ["write_run_report", "write_sweep_report"]
