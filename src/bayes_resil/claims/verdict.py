"""Lens statuses and the verdict rule (stated here, in the README and in every report).

A lens reads one kind of evidence on a claim and gives a *status*:

* ``holds`` - the statement holds with confidence: every confidence interval excludes the null
  on the claimed side (frequentist), the posterior probability of the whole statement is at
  least 1 - alpha/2 (Bayesian; 0.975 for 95% intervals), a null test does not reject (and, for
  pre-period estimates, rules out pre-trends half the size of the effect);
* ``weak`` - the point estimates agree with the statement but not with confidence;
* ``fails`` - some point estimate disagrees, without confidence;
* ``reversed`` - some part is confidently the other way (an interval on the wrong side, a
  posterior probability of the opposite of at least 1 - alpha/2, a null test that rejects);
* ``unavailable`` - the run did not compute what the lens needs (the detail says what).

Each lens has a *role*: ``evidence`` (the heterogeneity-robust estimators and the Bayesian
posterior of the treated units; the paper's own estimator only where nothing robust speaks to
the claim), ``condition`` (a precondition of the claim that is no evidence for it by itself:
the IV first stage, the placebo distribution's centre), ``sensitivity`` (the population-level
posterior, the HonestDiD breakdown value, indirect effects, IV agreement) or ``context``
(the paper's number, the TWFE replication when robust evidence exists, the design comparison,
the prior sensitivity), and ``truth`` on simulated data.

**The verdict rule** over the available lenses:

1. no evidence lens available: ``not_assessed``;
2. any evidence lens ``reversed``: ``contradicted``;
3. every evidence lens ``holds``: ``supported`` if no sensitivity lens and no condition is
   ``weak``, ``fails`` or ``reversed``, else ``fragile``;
4. some evidence lens ``holds``: ``fragile``;
5. otherwise: ``not_supported``.
"""

from __future__ import annotations

from collections.abc import Sequence

HOLDS, WEAK, FAILS, REVERSED, UNAVAILABLE = "holds", "weak", "fails", "reversed", "unavailable"
STATUSES = (HOLDS, WEAK, FAILS, REVERSED, UNAVAILABLE)
SUPPORTED, FRAGILE, NOT_SUPPORTED, CONTRADICTED, NOT_ASSESSED = (
    "supported", "fragile", "not_supported", "contradicted", "not_assessed")
VERDICTS = (SUPPORTED, FRAGILE, NOT_SUPPORTED, CONTRADICTED, NOT_ASSESSED)

RULES = [
    "no evidence lens available -> not_assessed",
    "any evidence lens reversed -> contradicted",
    "every evidence lens holds -> supported, unless a sensitivity lens or a condition is weak, "
    "fails or reversed -> fragile",
    "some evidence lens holds -> fragile",
    "otherwise -> not_supported",
]


def combine(parts: Sequence[tuple[bool, bool, bool]]) -> str:
    """Status of a statement made of components, each (confident hold, point hold, confident
    reversal)."""
    if not parts:
        return UNAVAILABLE
    if any(rev for _, _, rev in parts):
        return REVERSED
    if all(conf for conf, _, _ in parts):
        return HOLDS
    if all(point for _, point, _ in parts):
        return WEAK
    return FAILS


def verdict(evidence: Sequence[str], sensitivity: Sequence[str],
            conditions: Sequence[str] = ()) -> tuple[str, str]:
    """(verdict, the rule that gave it) from the statuses of the evidence and sensitivity
    lenses and the conditions (``unavailable`` ones are ignored)."""
    ev = [s for s in evidence if s != UNAVAILABLE]
    sens = [s for s in [*sensitivity, *conditions] if s != UNAVAILABLE]
    if not ev:
        return NOT_ASSESSED, RULES[0]
    if REVERSED in ev:
        return CONTRADICTED, RULES[1]
    if all(s == HOLDS for s in ev):
        if any(s in (WEAK, FAILS, REVERSED) for s in sens):
            return FRAGILE, RULES[2]
        return SUPPORTED, RULES[2]
    if HOLDS in ev:
        return FRAGILE, RULES[3]
    return NOT_SUPPORTED, RULES[4]


def verdict_of(roles: Sequence[str], statuses: Sequence[str]) -> tuple[str, str]:
    """The verdict of one claim from its lens rows (``role``, ``status`` of ``claims.csv``)."""
    pairs = list(zip(roles, statuses, strict=True))
    return verdict([s for r, s in pairs if r == "evidence"],
                   [s for r, s in pairs if r == "sensitivity"],
                   [s for r, s in pairs if r == "condition"])
