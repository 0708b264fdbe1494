"""The reanalysis verdict: each of a paper's claims under every lens (``claims.csv``).

:mod:`.spec` reads a claims file (the CBEC paper's ship with the package), :mod:`.evidence`
gathers what a run knows, :mod:`.lenses` reads each claim through every lens and
:mod:`.verdict` states the rule that turns the lenses into a verdict.
"""

from .evidence import Evidence, from_directory, from_run
from .lenses import COLUMNS, assess, verdicts
from .spec import Claim, ClaimSet, load_claims, parse_claims
from .verdict import RULES, STATUSES, VERDICTS

__all__ = ["COLUMNS", "RULES", "STATUSES", "VERDICTS", "Claim", "ClaimSet", "Evidence",
           "assess", "from_directory", "from_run", "load_claims", "parse_claims", "verdicts"]
